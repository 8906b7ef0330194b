#!/usr/bin/env python3
"""The hub's read shapes as the data grows, with and without a read replica.

For each size it builds a database (the demo grown with generated villages: 2,500 villages ≈ 10⁶ published
observations, 25,000 ≈ 10⁷), starts the childhub release binary on it and runs bench/compare's shapes with
wrk; then starts a hot standby of the server (pg_basebackup -R on a free port, as tests/standbys.rs does),
restarts the hub with `database.replica_urls` pointing at it, checks that reads are routed there, and runs
the shapes again. Appends the table to bench/results/scale.md.

    bench/scale/run.sh                                   # 1m and 10m, one round of 5 s per shape
    python3 bench/scale/run.py --sizes 1m --duration 3   # a quick look
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT / "bench" / "compare"))
import run as compare  # noqa: E402  (the shapes, wrk, servers and psql helpers)

PG = compare.PG
BIN = compare.BIN
PORT = 18190
VILLAGES = {"1m": 2_500, "10m": 25_000, "100m": 250_000}
# The shapes whose answer has a fixed size whatever the data: their latency should not grow with it.
FIXED = ("catalogue", "page of 100", "townships latest", "restricted page", "dashboard", "top 5 by value")
GROW = (ROOT / "bench" / "compare" / "grow.sql").read_text()


def prepare(size):
    villages = VILLAGES[size]
    db = f"childhub_scale_{size}"
    env = {"CHILDHUB_DATABASE_URL": f"{PG}/{db}", "CHILDHUB_JWT_SECRET": compare.SECRET}
    want = villages * 41 * 10
    exists = compare.psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{db}'") == "1"
    if exists and int(compare.psql(db, "SELECT count(*) FROM observation WHERE is_published") or 0) >= want:
        print(f"[{size}] reusing database {db} (migrating it first)", flush=True)
        compare.sh(str(BIN), "migrate", env=env)
        return db, env, None
    print(f"[{size}] building database {db} ({villages} villages)", flush=True)
    compare.psql("postgres", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
    compare.psql("postgres", f"CREATE DATABASE {db}")
    compare.sh(str(BIN), "migrate", env=env)
    compare.sh(str(BIN), "seed", "--demo", env=env)
    started = time.time()
    # Six-digit village codes: grow.sql's four would repeat past 9,999 villages.
    grow = GROW.replace("generate_series(1, 2500)", f"generate_series(1, {villages})").replace(
        "lpad(g::text, 4, '0')", "lpad(g::text, 6, '0')")
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(grow)
    compare.sh("psql", f"{PG}/{db}", "-q", "-v", "ON_ERROR_STOP=1", "-f", f.name)
    os.unlink(f.name)
    built = time.time() - started
    compare.psql(db, "VACUUM ANALYZE")
    return db, env, built


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Standby:
    """A hot standby of the local server, as plain processes (the postgres user runs them)."""

    def __init__(self):
        major = int(compare.psql("postgres", "SELECT current_setting('server_version_num')::int / 10000"))
        self.bin = Path(f"/usr/lib/postgresql/{major}/bin")
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="childhub-scale-standby-"))
        shutil.chown(self.dir, "postgres", "postgres")
        os.chmod(self.dir, 0o700)
        started = time.time()
        self.run("pg_basebackup", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-D", str(self.dir), "-R",
                 "-X", "stream", "-c", "fast")
        self.copied = time.time() - started
        (self.dir / "postgresql.conf").write_text(
            f"port = {self.port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{self.dir}'\n"
            "hot_standby = on\nmax_connections = 200\nshared_buffers = 128MB\n")
        (self.dir / "pg_hba.conf").write_text("local all all trust\nhost all all 127.0.0.1/32 trust\n")
        for name in ("postgresql.conf", "pg_hba.conf"):
            shutil.chown(self.dir / name, "postgres", "postgres")
        self.run("pg_ctl", "-D", str(self.dir), "-l", str(self.dir / "server.log"), "-w", "-t", "120", "start")

    def run(self, tool, *args):
        command = [str(self.bin / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True)

    def url(self, db):
        return f"postgres://postgres@127.0.0.1:{self.port}/{db}"

    def stop(self):
        try:
            self.run("pg_ctl", "-D", str(self.dir), "-m", "fast", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def readyz(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
        return r.read().decode()


def run_shapes(size, label, port, shapes, tokens, args):
    out = {}
    for shape, (dept, query) in shapes.items():
        body = compare.post(port, query, tokens[dept])  # warm, and check the answer
        rows = compare.rows(shape, body)
        result = compare.wrk(port, query, tokens[dept], args.duration, args.connections)
        result["rows"] = rows
        out[shape] = result
        print(f"[{size}] {label:<12} {shape:<28} {result['rps']:8.0f} req/s p50 {result['p50']:.2f} ms "
              f"p99 {result['p99']:.2f} ms ({rows} rows)", flush=True)
    return out


def measure(size, args):
    db, env, built = prepare(size)
    published = int(compare.psql(db, "SELECT count(*) FROM observation WHERE is_published"))
    # A partitioned table's own size is 0: its partitions hold the rows.
    bytes_ = int(compare.psql(db, "SELECT pg_total_relation_size('observation') + COALESCE((SELECT "
                                  "sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE "
                                  "inhparent = 'observation'::regclass), 0)"))
    partitions = int(compare.psql(db, "SELECT count(*) FROM pg_inherits WHERE inhparent = 'observation'::regclass"))
    tokens = {d: compare.sh(str(BIN), "token", "--dept", d, "--role", "viewer", env=env).stdout.strip()
              for d in ("statistics", "education")}
    wanted = set(args.shapes.split(",")) if args.shapes else None
    shapes = {k: v for k, v in compare.hub_shapes().items() if wanted is None or k in wanted}
    results = {}
    hub = compare.start_hub(env, PORT)
    try:
        results["primary"] = run_shapes(size, "primary", PORT, shapes, tokens, args)
    finally:
        hub.stop()
    standby = Standby()
    try:
        replica_env = {**env, "CHILDHUB_DATABASE__REPLICA_URLS": standby.url(db)}
        hub = compare.start_hub(replica_env, PORT)
        try:
            for _ in range(100):
                if "replica-1: healthy" in readyz(PORT):
                    break
                time.sleep(0.2)
            else:
                raise SystemExit(f"the standby never became healthy: {readyz(PORT)}")
            results["with replica"] = run_shapes(size, "with replica", PORT, shapes, tokens, args)
            served = readyz(PORT)
        finally:
            hub.stop()
    finally:
        standby.stop()
    return {"published": published, "bytes": bytes_, "partitions": partitions, "built": built, "copied": standby.copied,
            "served": served, "results": results}


def table(measured, args):
    sizes = list(measured)
    shapes = list(next(iter(measured.values()))["results"]["primary"])
    lines = [f"## {time.strftime('%Y-%m-%d')} — commit {compare.sh('git', 'rev-parse', '--short', 'HEAD', cwd=ROOT).stdout.strip()}, "
             f"{os.cpu_count()} cores, wrk {args.connections} connections × {args.duration} s per shape", ""]
    lines.append("| size | published observations | observation table | partitions | built in | standby copied in |")
    lines.append("|---|---|---|---|---|---|")
    for size, m in measured.items():
        built = f"{m['built']:.0f} s" if m["built"] is not None else "(reused)"
        lines.append(f"| {size} | {m['published']:,} | {m['bytes'] / 2**30:.2f} GiB | {m['partitions'] or 'none'} | {built} | {m['copied']:.0f} s |")
    lines += ["", "p50 / p99 latency in ms and requests per second, per shape and size; *fixed* marks shapes "
              "whose answer has the same size at every data size.", ""]
    header = "| shape | rows | " + " | ".join(f"{s} primary | {s} with replica" for s in sizes) + " |"
    lines += [header, "|" + "---|" * (2 + 2 * len(sizes))]
    for shape in shapes:
        first = measured[sizes[0]]["results"]["primary"][shape]
        cells = []
        for size in sizes:
            for label in ("primary", "with replica"):
                r = measured[size]["results"][label][shape]
                cells.append(f"{r['p50']:.2f} / {r['p99']:.2f} ms, {r['rps']:.0f}/s")
        fixed = " *fixed*" if shape in FIXED else ""
        lines.append(f"| {shape}{fixed} | {first['rows']} | " + " | ".join(cells) + " |")
    lines.append("")
    for size, m in measured.items():
        pools = "; ".join(l for l in m["served"].splitlines()[1:])
        lines.append(f"- {size}, pools after the replica runs: {pools}")
    lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1m,10m")
    parser.add_argument("--duration", type=int, default=5)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--shapes", default="")
    args = parser.parse_args()
    measured = {size: measure(size, args) for size in args.sizes.split(",")}
    text = table(measured, args)
    out = ROOT / "bench" / "results" / "scale.md"
    if not out.exists():
        out.write_text("# Scale benchmark (bench/scale/run.sh)\n\n" + __doc__.split("\n\n")[0].strip() + "\n\n")
    with out.open("a") as f:
        f.write(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
