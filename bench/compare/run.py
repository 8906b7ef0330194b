#!/usr/bin/env python3
"""childhub against PostGraphile v5 on one PostgreSQL database, shape by shape.

For each data size (the demo, and the demo grown to ~1M published observations by grow.sql) it builds a
database, starts the childhub release binary and PostGraphile on it, checks that both answer each shape
with the same number of rows, then runs wrk (16 connections) against each server in interleaved rounds,
alternating which goes first. Per shape it records req/s, p50 and p99 (medians over rounds), server CPU
per request (utime + stime of the server process over the runs), database CPU per request (all postgres
processes), the server's peak RSS, and SQL statements per request (a separate pass through pgcount.py,
a wire proxy that counts Query/Execute messages). childhub runs with authorization and suppression on;
PostGraphile has neither. Writes the table to bench/results/compare.md.

    bench/compare/run.sh                      # both sizes, 3 rounds of 10 s
    python3 bench/compare/run.py --sizes demo --rounds 1 --duration 3   # a quick look
"""
import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BIN = ROOT / "target" / "release" / "childhub"
NODE = HERE / "node_modules" / ".bin" / "node"
PGL = HERE / "node_modules" / ".bin" / "postgraphile"
PG = os.environ.get("PG", "postgres://postgres@127.0.0.1:5432")
SECRET = "bench-secret-0123456789abcdef0123456789"
HUB_PORT, PGL_PORT, PROXY_PORT = 18180, 18181, 18182
CLK_TCK = os.sysconf("SC_CLK_TCK")
LATEST_CODES = ["HEA-06", "HEA-07", "EDU-01", "EDU-02", "WEL-02"]
# The analysts' shapes (issue 23), against PostGraphile with @graphile/pg-aggregates. PostGraphile's
# `condition` filters by equality on the observation's own columns only, so both sides aggregate every
# region's all-totals values of HEA-06 (city, townships, villages) rather than the townships alone.
AGGREGATE_SHAPES = ("sum per year", "average by year × residence", "top 5 by value")


def hub_shapes():
    page = ('{ observations(filter: { indicators: ["%s"] }, first: 100) { totalCount nodes { year value sex '
            'ageGroup residence region { code nameZh } } pageInfo { endCursor hasNextPage } } }')
    codes = ", ".join(f'"{c}"' for c in LATEST_CODES)
    return {
        "catalogue": ("statistics", "{ indicators { code nameZh nameEn unit targets { kind value baselineYear "
                                    "targetYear } } }"),
        "page of 100": ("statistics", page % "HEA-06"),
        "townships latest": ("statistics", "{ regions(filter: { level: TOWNSHIP }) { code nameZh latest(indicators: "
                                           f"[{codes}]) {{ year value indicator {{ code }} }} }} }}"),
        "restricted page": ("education", page % "LAW-02"),
        "dashboard": ("statistics", "{ summary { counts { status count } } progress { indicator { code } status "
                                    "latest { year value } targetValue projection } earlyWarnings { kind message } }"),
        "sum per year": ("statistics", '{ observations(filter: { indicators: ["HEA-06"], sex: "_T", ageGroup: "_T", '
                                       'residence: "_T" }) { groupedAggregates(groupBy: [YEAR]) { keys { year } '
                                       "sum { value numerator } } } }"),
        "average by year × residence": ("statistics", '{ observations(filter: { indicators: ["HEA-06"] }) { '
                                                      "groupedAggregates(groupBy: [YEAR, RESIDENCE]) { keys { year "
                                                      "residence } average { value } } } }"),
        "top 5 by value": ("statistics", '{ observations(filter: { indicators: ["HEA-06"], years: { from: 2025, '
                                         'to: 2025 }, sex: "_T", ageGroup: "_T", residence: "_T" }, orderBy: '
                                         "[VALUE_DESC], first: 5) { nodes { value region { code nameZh } } } }"),
    }


def pgl_shapes(ids):
    page = ("{ observations(condition: { indicatorId: %d, isPublished: true }, first: 100, orderBy: PRIMARY_KEY_ASC) "
            "{ totalCount nodes { year value sex ageGroup residence region { code nameZh } } "
            "pageInfo { endCursor hasNextPage } } }")
    latest = " ".join(
        f'l{n}: observations(condition: {{ indicatorId: {ids[c]}, isPublished: true, sex: "_T", ageGroup: "_T", '
        f'residence: "_T" }}, orderBy: YEAR_DESC, first: 1) {{ nodes {{ year value }} }}'
        for n, c in enumerate(LATEST_CODES))
    return {
        "catalogue": "{ indicators(orderBy: CODE_ASC) { nodes { code nameZh nameEn unit targets { nodes { kind value "
                     "baselineYear targetYear } } } } }",
        "page of 100": page % ids["HEA-06"],
        "townships latest": '{ regions(condition: { level: "township" }, orderBy: CODE_ASC) { nodes { code nameZh '
                            + latest + " } } }",
        "restricted page": page % ids["LAW-02"],
        "sum per year": ('{ observations(condition: { indicatorId: %d, isPublished: true, sex: "_T", ageGroup: "_T", '
                         'residence: "_T" }) { groupedAggregates(groupBy: [YEAR]) { keys sum { value numerator } } } }'
                         % ids["HEA-06"]),
        "average by year × residence": ("{ observations(condition: { indicatorId: %d, isPublished: true }) { "
                                        "groupedAggregates(groupBy: [YEAR, RESIDENCE]) { keys average { value } } } }"
                                        % ids["HEA-06"]),
        "top 5 by value": ('{ observations(condition: { indicatorId: %d, isPublished: true, year: 2025, sex: "_T", '
                           'ageGroup: "_T", residence: "_T" }, orderBy: VALUE_DESC, first: 5) { nodes { value '
                           "region { code nameZh } } } }" % ids["HEA-06"]),
    }


def rows(shape, data):
    """How many values an answer carries, counted the same way for both servers."""
    data = data["data"]
    if shape == "catalogue":
        items = data["indicators"]
        items = items.get("nodes", items) if isinstance(items, dict) else items
        return len(items)
    if shape in ("page of 100", "restricted page"):
        return len(data["observations"]["nodes"])
    if shape == "townships latest":
        regions = data["regions"]
        regions = regions["nodes"] if isinstance(regions, dict) else regions
        total = 0
        for r in regions:
            if "latest" in r:
                total += len(r["latest"])
            else:
                total += sum(len(v["nodes"]) for k, v in r.items() if k.startswith("l"))
        return total
    if shape == "dashboard":
        return len(data["progress"])
    if shape in ("sum per year", "average by year × residence"):
        return len(data["observations"]["groupedAggregates"])
    if shape == "top 5 by value":
        return len(data["observations"]["nodes"])
    raise KeyError(shape)


def sh(*args, env=None, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, env={**os.environ, **(env or {})}, **kw)


def psql(db, sql):
    return sh("psql", f"{PG}/{db}", "-qAt", "-v", "ON_ERROR_STOP=1", "-c", sql).stdout.strip()


def prepare(size):
    db = f"childhub_compare_{size}"
    hub_env = {"CHILDHUB_DATABASE_URL": f"{PG}/{db}", "CHILDHUB_JWT_SECRET": SECRET}
    want = 1_000_000 if size == "1m" else 1
    exists = psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{db}'") == "1"
    if exists and int(psql(db, "SELECT count(*) FROM observation WHERE is_published") or 0) >= want:
        print(f"[{size}] reusing database {db}", flush=True)
    else:
        print(f"[{size}] building database {db}", flush=True)
        psql("postgres", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
        psql("postgres", f"CREATE DATABASE {db}")
        sh(str(BIN), "migrate", env=hub_env)
        sh(str(BIN), "seed", "--demo", env=hub_env)
        if size == "1m":
            sh("psql", f"{PG}/{db}", "-q", "-v", "ON_ERROR_STOP=1", "-f", str(HERE / "grow.sql"))
    psql(db, "VACUUM ANALYZE")
    published = int(psql(db, "SELECT count(*) FROM observation WHERE is_published"))
    ids = dict(line.split("|")[::-1] for line in psql(db, "SELECT id, code FROM indicator").splitlines())
    return db, hub_env, published, {k: int(v) for k, v in ids.items()}


class Server:
    def __init__(self, name, args, env, port, ready):
        self.name, self.port = name, port
        self.log = tempfile.NamedTemporaryFile(prefix=f"{name}-", suffix=".log", delete=False)
        self.proc = subprocess.Popen(args, env={**os.environ, **env}, stdout=self.log, stderr=subprocess.STDOUT,
                                     cwd=tempfile.gettempdir(), start_new_session=True)
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}{ready}", timeout=1)
                return
            except Exception as e:  # not up yet; 4xx/405 means it is
                if isinstance(e, urllib.error.HTTPError):
                    return
                if self.proc.poll() is not None:
                    raise SystemExit(f"{name} exited: see {self.log.name}")
                time.sleep(0.1)
        raise SystemExit(f"{name} did not start: see {self.log.name}")

    def pids(self):
        """The server process and its children (node may fork helpers)."""
        if self.proc.poll() is not None:
            return []
        # ps exits 1 when there are no children.
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True,
                             text=True).stdout.split()
        return [self.proc.pid] + [int(p) for p in out]

    def cpu_seconds(self):
        return sum(proc_cpu(pid) for pid in self.pids())

    def peak_rss_mib(self):
        return sum(status_kib(pid, "VmHWM") for pid in self.pids()) / 1024

    def stop(self):
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(10)
        except Exception:
            os.killpg(self.proc.pid, signal.SIGKILL)


def proc_cpu(pid):
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK
    except (FileNotFoundError, ProcessLookupError):
        return 0.0


def status_kib(pid, key):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def postgres_cpu():
    """CPU seconds of PostgreSQL: every live server process, plus what the postmaster's exited children
    used (its cutime + cstime), so a backend that ends during a run still counts."""
    total = 0.0
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            if (p / "comm").read_text().strip() != "postgres":
                continue
            fields = (p / "stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / CLK_TCK
            parent = Path(f"/proc/{fields[1]}/comm")
            if not parent.exists() or parent.read_text().strip() != "postgres":  # the postmaster
                total += (int(fields[13]) + int(fields[14])) / CLK_TCK
        except (FileNotFoundError, ProcessLookupError, IndexError):
            pass
    return total


def start_hub(env, port, db_url=None):
    # wrk sends thousands of requests a second with one token: the per-caller limit would measure itself.
    env = {**env, "CHILDHUB_LOG": "warn", "CHILDHUB_EVENTS__WORKERS": "false",
           "CHILDHUB_CONNECTORS__SCHEDULER": "false", "CHILDHUB_LIMITS__REQUESTS_PER_MINUTE": "0"}
    if db_url:
        env["CHILDHUB_DATABASE_URL"] = db_url
    return Server("childhub", [str(BIN), "serve", "--bind", f"127.0.0.1:{port}"], env, port, "/readyz")


def start_pgl(db_url, port):
    return Server("postgraphile", [str(NODE), str(PGL), "-C", str(HERE / PGL_CONFIG)],
                  {"DATABASE_URL": db_url, "PORT": str(port), "NODE_ENV": "production"}, port, "/graphql")


def post(port, query, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", json.dumps({"query": query}).encode(),
                                     headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.loads(response.read())
    if body.get("errors"):
        raise SystemExit(f"port {port}: {body['errors']}\nquery: {query}")
    return body


def wrk(port, query, token, duration, connections):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"query": query}, f)
    env = {"BODY_FILE": f.name, "TOKEN": token or ""}
    out = sh("wrk", f"-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(HERE / "post.lua"),
             f"http://127.0.0.1:{port}/graphql", env=env).stdout
    os.unlink(f.name)
    if "Non-2xx" in out:
        raise SystemExit(f"wrk saw failed responses on port {port}:\n{out}")

    def ms(label):
        m = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\b", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    requests = int(re.search(r"(\d+) requests in", out).group(1))
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), "p50": ms("50"),
            "p99": ms("99"), "requests": requests}


def statements(port, query, token, n=20):
    """SQL statements per request, read from the counting proxy the server was started behind."""
    post(port, query, token)  # warm: caches filled, as under load
    before = int(Path(COUNT_FILE).read_text() or 0)
    for _ in range(n):
        post(port, query, token)
    time.sleep(0.2)
    return (int(Path(COUNT_FILE).read_text() or 0) - before) / n


NOTES = "## Notes"
PGL_CONFIG = "graphile.config.mjs"
COUNT_FILE = os.path.join(tempfile.gettempdir(), "childhub-compare-count")


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2


def measure(size, args):
    db, hub_env, published, ids = prepare(size)
    db_url = f"{PG}/{db}"
    tokens = {dept: sh(str(BIN), "token", "--dept", dept, "--role", "viewer", env=hub_env).stdout.strip()
              for dept in ("statistics", "education")}
    wanted = set(args.shapes.split(",")) if args.shapes else None
    hub_q = {k: v for k, v in hub_shapes().items() if wanted is None or k in wanted}
    pgl_q = {k: v for k, v in pgl_shapes(ids).items() if k in hub_q}
    results = {}

    # Statements per request: both servers behind the counting proxy, one at a time.
    Path(COUNT_FILE).write_text("0")
    proxy = subprocess.Popen([sys.executable, str(HERE / "pgcount.py"), "--listen", str(PROXY_PORT), "--upstream",
                              "127.0.0.1:5432", "--count-file", COUNT_FILE])
    time.sleep(0.5)
    # The counting proxy reads plain protocol messages, so the proxied connections do not use TLS.
    proxied = db_url.replace("127.0.0.1:5432", f"127.0.0.1:{PROXY_PORT}") + "?sslmode=disable"
    try:
        hub = start_hub(hub_env, HUB_PORT, proxied)
        for shape, (dept, q) in hub_q.items():
            results.setdefault(shape, {})["hub_stmts"] = statements(HUB_PORT, q, tokens[dept])
        hub.stop()
        pgl = start_pgl(proxied, PGL_PORT)
        for shape, q in pgl_q.items():
            results[shape]["pgl_stmts"] = statements(PGL_PORT, q, None)
        pgl.stop()
    finally:
        proxy.terminate()

    hub, pgl = start_hub(hub_env, HUB_PORT), start_pgl(db_url, PGL_PORT)
    try:
        for shape, (dept, q) in hub_q.items():
            results[shape]["hub_rows"] = rows(shape, post(HUB_PORT, q, tokens[dept]))
            if shape in pgl_q:
                results[shape]["pgl_rows"] = rows(shape, post(PGL_PORT, pgl_q[shape]))
        runs = {}
        for r in range(args.rounds):
            order = [("hub", hub), ("pgl", pgl)] if r % 2 == 0 else [("pgl", pgl), ("hub", hub)]
            for shape, (dept, q) in hub_q.items():
                for who, server in order:
                    if who == "pgl" and shape not in pgl_q:
                        continue
                    query, token = (q, tokens[dept]) if who == "hub" else (pgl_q[shape], None)
                    cpu0, db0 = server.cpu_seconds(), postgres_cpu()
                    result = wrk(server.port, query, token, args.duration, args.connections)
                    result["cpu"], result["db"] = server.cpu_seconds() - cpu0, postgres_cpu() - db0
                    runs.setdefault((shape, who), []).append(result)
                    print(f"[{size}] round {r + 1} {shape:<17} {who}: {result['rps']:8.0f} req/s "
                          f"p50 {result['p50']:.2f} ms p99 {result['p99']:.2f} ms", flush=True)
        for (shape, who), rs in runs.items():
            total = sum(x["requests"] for x in rs)
            results[shape][who] = {
                "rps": median([x["rps"] for x in rs]), "p50": median([x["p50"] for x in rs]),
                "p99": median([x["p99"] for x in rs]), "cpu_ms": 1000 * sum(x["cpu"] for x in rs) / total,
                "db_ms": 1000 * sum(x["db"] for x in rs) / total}
        rss = {"hub": hub.peak_rss_mib(), "pgl": pgl.peak_rss_mib()}
    finally:
        hub.stop()
        pgl.stop()
    return published, results, rss


def table(size, published, results, rss, args):
    lines = [f"### {size}: {published:,} published observations", "",
             "| shape | rows (hub / v5) | childhub req/s | v5 req/s | **ratio** | p50 ms (hub / v5) | p99 ms (hub / v5) "
             "| server CPU ms/req (hub / v5) | DB CPU ms/req (hub / v5) | SQL statements/req (hub / v5) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for shape, r in results.items():
        h, p = r["hub"], r.get("pgl")
        if p:
            lines.append(
                f"| {shape} | {r['hub_rows']} / {r['pgl_rows']} | {h['rps']:.0f} | {p['rps']:.0f} | "
                f"**{h['rps'] / p['rps']:.2f}×** | {h['p50']:.2f} / {p['p50']:.2f} | {h['p99']:.2f} / {p['p99']:.2f} | "
                f"{h['cpu_ms']:.2f} / {p['cpu_ms']:.2f} | {h['db_ms']:.2f} / {p['db_ms']:.2f} | "
                f"{r['hub_stmts']:.1f} / {r['pgl_stmts']:.1f} |")
        else:
            town = results.get("townships latest", {}).get("hub", {}).get("rps", h["rps"])
            lines.append(
                f"| {shape} (childhub only) | {r['hub_rows']} | {h['rps']:.0f} | — | {h['rps'] / town:.2f}× townships | "
                f"{h['p50']:.2f} | {h['p99']:.2f} | {h['cpu_ms']:.2f} | {h['db_ms']:.2f} | {r['hub_stmts']:.1f} |")
    lines += ["", f"Peak resident memory after the runs: childhub {rss['hub']:.0f} MiB, PostGraphile "
                  f"{rss['pgl']:.0f} MiB.", ""]
    return lines


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="demo,1m")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "compare.md"))
    parser.add_argument("--shapes", default="", help="comma-separated shapes (default: all but the aggregates)")
    parser.add_argument("--aggregates", action="store_true",
                        help="the analysts' shapes against PostGraphile with @graphile/pg-aggregates, "
                             "into bench/results/aggregates.md")
    args = parser.parse_args()
    global PGL_CONFIG
    if args.aggregates:
        PGL_CONFIG = "graphile.aggregates.config.mjs"
        args.shapes = args.shapes or ",".join(AGGREGATE_SHAPES)
        if args.out.endswith("compare.md"):
            args.out = str(ROOT / "bench" / "results" / "aggregates.md")
    elif not args.shapes:
        args.shapes = ",".join(k for k in hub_shapes() if k not in AGGREGATE_SHAPES)
    commit = sh("git", "-C", str(ROOT), "rev-parse", "--short", "HEAD").stdout.strip()
    node = sh(str(NODE), "--version").stdout.strip()
    pgl_version = json.loads((HERE / "node_modules" / "postgraphile" / "package.json").read_text())["version"]
    if args.aggregates:
        aggregates = HERE / "node_modules" / "@graphile" / "pg-aggregates" / "package.json"
        pgl_version += f" with @graphile/pg-aggregates {json.loads(aggregates.read_text())['version']}"
    pg_version = psql("postgres", "SHOW server_version")
    title = ("# Analysts' aggregates: childhub against PostGraphile v5 with @graphile/pg-aggregates "
             "(bench/compare/run.sh --aggregates)" if args.aggregates
             else "# childhub against PostGraphile v5 (bench/compare/run.sh)")
    out = [title, "",
           f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} at commit {commit} on {os.cpu_count()} cores; "
           f"PostgreSQL {pg_version}; PostGraphile {pgl_version} (amber preset, simplified inflection) on Node {node}; "
           f"childhub release build (fat LTO). wrk with 2 threads and {args.connections} connections, "
           f"{args.rounds} interleaved rounds of {args.duration} s per shape and server (the order alternates); "
           "req/s, p50 and p99 are medians over rounds, CPU is summed over all rounds and divided by requests.",
           "",
           *(["Both servers aggregate every region's all-totals values of HEA-06 (PostGraphile's `condition` "
              "filters by equality on the observation's own columns, so neither narrows to townships): Σ value and "
              "Σ numerator per year, the average by year × residence, and the five highest values of 2025. "
              "childhub computes them over the values the coordinator's scope releases; pg-aggregates over the "
              "raw rows.", ""] if args.aggregates else []),
           "childhub answers as the department would be answered — token checked, policy applied, small counts "
           "suppressed; PostGraphile answers the same rows with no authorization at all. The restricted page is "
           "LAW-02 (a restricted indicator) read by the education department: childhub suppresses cells, "
           "PostGraphile returns the raw rows. Server and database CPU share the same 2 cores as wrk.", ""]
    for size in args.sizes.split(","):
        published, results, rss = measure(size, args)
        out += table(size, published, results, rss, args)
    # Hand-written notes below the tables (profiles, what was tried) survive a rerun.
    notes = ""
    if Path(args.out).exists():
        previous = Path(args.out).read_text()
        if NOTES in previous:
            notes = previous[previous.index(NOTES):]
    Path(args.out).write_text("\n".join(out) + ("\n" + notes if notes else ""))
    print("\n".join(out))


if __name__ == "__main__":
    main()
