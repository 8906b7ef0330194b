#!/usr/bin/env bash
# Source connector benchmark: a 100,000-row pull from a local JSON source (one page, served over HTTP)
# and from a local SQL table (SQLite), each into a fresh PostgreSQL database through `childhub sources run`
# (fetch, map, validate, land as one submission). Appends rows/s and peak memory to
# bench/results/sources.md, next to the import benchmark. Rerun with: bench/sources.sh
# (needs PostgreSQL on 127.0.0.1:5432 and python3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-100000}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
WORK=$(mktemp -d)
PORT=${PORT:-18765}
cleanup() {
  kill "${SERVER:-0}" 2>/dev/null || true
  for db in json sql; do psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS childhub_bench_src_${db}_$$ WITH (FORCE)" >/dev/null; done
  rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --release -q --bin childhub
BIN=$PWD/target/release/childhub
export CHILDHUB_JWT_SECRET="bench-secret-0123456789abcdef0123456789" CHILDHUB_LOG=warn
PYTHONHASHSEED=0 python3 bench/generate_import.py --rows "$ROWS" --dir "$WORK"

# The department's systems: the rows as one JSON array over HTTP, and as a table in its own database.
python3 - "$WORK" <<'PY'
import csv, json, sqlite3, sys
work = sys.argv[1]
rows = list(csv.DictReader(open(f"{work}/observations.csv")))
json.dump([{"ind": r["indicator"], "area": r["region"], "yr": int(r["year"]), "v": float(r["value"])} for r in rows],
          open(f"{work}/records.json", "w"))
db = sqlite3.connect(f"{work}/department.db")
db.execute("CREATE TABLE stats (ind TEXT, area TEXT, yr INTEGER, v REAL)")
db.executemany("INSERT INTO stats VALUES (?, ?, ?, ?)", [(r["indicator"], r["region"], int(r["year"]), float(r["value"])) for r in rows])
db.commit()
PY
(cd "$WORK" && exec python3 -m http.server "$PORT" --bind 127.0.0.1 >/dev/null 2>&1) &
SERVER=$!
export BENCH_DEPARTMENT_DB="sqlite://$WORK/department.db"
cat > "$WORK/childhub.toml" <<TOML
[[sources]]
name = "bench-json"
department = "health"
kind = "http_json"
url = "http://127.0.0.1:$PORT/records.json"
schedule = "1d"
[sources.mapping]
indicator = { field = "ind" }
region = { field = "area" }
year = { field = "yr" }
value = { field = "v" }

[[sources]]
name = "bench-sql"
department = "health"
kind = "sql"
database_url_env = "BENCH_DEPARTMENT_DB"
query = "SELECT ind, area, yr, v FROM stats"
schedule = "1d"
[sources.mapping]
indicator = { field = "ind" }
region = { field = "area" }
year = { field = "yr" }
value = { field = "v" }
TOML
sleep 1

line="| $(date -u +%Y-%m-%d) | $(git rev-parse --short HEAD 2>/dev/null || echo -) | $(nproc) cores | $ROWS |"
for kind in json sql; do
  db="childhub_bench_src_${kind}_$$"
  psql "$PG/postgres" -qc "CREATE DATABASE $db"
  export CHILDHUB_DATABASE_URL="$PG/$db"
  "$BIN" seed --demo >/dev/null
  "$BIN" import-regions "$WORK/regions.csv" >/dev/null
  /usr/bin/time -v "$BIN" sources run "bench-$kind" --as health --config "$WORK/childhub.toml" \
    >"$WORK/out-$kind.txt" 2>"$WORK/time-$kind.txt" || { cat "$WORK/out-$kind.txt" "$WORK/time-$kind.txt"; exit 1; }
  seconds=$(grep "Elapsed (wall clock)" "$WORK/time-$kind.txt" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  peak_kb=$(grep "Maximum resident set size" "$WORK/time-$kind.txt" | awk '{print $NF}')
  stored=$(psql "$CHILDHUB_DATABASE_URL" -Atc "select count(*) from observation where source_run_id is not null")
  cat "$WORK/out-$kind.txt"
  line="$line ${seconds} s, $(awk -v r="$ROWS" -v s="$seconds" 'BEGIN{printf "%d", r/s}') rows/s, $((peak_kb / 1024)) MiB, $stored stored |"
done
echo "$line"
if [ ! -f bench/results/sources.md ]; then
  {
    echo "# Source connector benchmark (bench/sources.sh)"
    echo
    echo "A pull of ROWS rows into a fresh PostgreSQL 15 database on the same machine, release build: fetch,"
    echo "map, validate with the submission checks, land as one pending submission (one transaction)."
    echo "Compare with bench/results/import.md (a CSV file through \`childhub import observations\`)."
    echo
    echo "| date | commit | machine | rows | JSON over HTTP (one page) | SQL table (SQLite, streamed) |"
    echo "|---|---|---|---|---|---|"
  } > bench/results/sources.md
fi
echo "$line" >> bench/results/sources.md
