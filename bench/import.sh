#!/usr/bin/env bash
# Import benchmark: ROWS observations (default 1,000,000) into a fresh PostgreSQL database through
# `childhub import observations`, one transaction for the whole file. Appends the figures to
# bench/results/import.md. Rerun with: bench/import.sh   (needs PostgreSQL on 127.0.0.1:5432, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-1000000}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
DB="childhub_bench_$$"
WORK=$(mktemp -d)
trap 'psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null; rm -rf "$WORK"' EXIT

cargo build --release -q --bin childhub
BIN=target/release/childhub
psql "$PG/postgres" -qc "CREATE DATABASE $DB"
export CHILDHUB_DATABASE_URL="$PG/$DB" CHILDHUB_JWT_SECRET="bench-secret-0123456789abcdef0123456789" CHILDHUB_LOG=warn

"$BIN" seed --demo >/dev/null
PYTHONHASHSEED=0 python3 bench/generate_import.py --rows "$ROWS" --dir "$WORK"
"$BIN" import-regions "$WORK/regions.csv" >/dev/null

/usr/bin/time -v "$BIN" import observations "$WORK/observations.csv" --as health >"$WORK/out.txt" 2>"$WORK/time.txt"
seconds=$(grep "Elapsed (wall clock)" "$WORK/time.txt" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
peak_kb=$(grep "Maximum resident set size" "$WORK/time.txt" | awk '{print $NF}')
stored=$(psql "$CHILDHUB_DATABASE_URL" -Atc "select count(*) from observation where submission_id is not null")
summary=$(grep "rows:" "$WORK/out.txt")

# Re-importing the same file: every row is compared and found unchanged.
/usr/bin/time -v "$BIN" import observations "$WORK/observations.csv" --as health >"$WORK/out2.txt" 2>"$WORK/time2.txt"
seconds2=$(grep "Elapsed (wall clock)" "$WORK/time2.txt" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')

line="| $(date -u +%Y-%m-%d) | $(git rev-parse --short HEAD 2>/dev/null || echo -) | $(nproc) cores | $ROWS | ${seconds} s | $(awk -v r="$ROWS" -v s="$seconds" 'BEGIN{printf "%d", r/s}') rows/s | $((peak_kb / 1024)) MiB | $stored stored | ${seconds2} s (all unchanged) |"
echo "$summary"
echo "$line"
if [ ! -f bench/results/import.md ]; then
  {
    echo "# Import benchmark (bench/import.sh)"
    echo
    echo "One file, one transaction, PostgreSQL 15 on the same machine, release build."
    echo
    echo "| date | commit | machine | rows | wall time | throughput | peak RSS | rows stored | re-import |"
    echo "|---|---|---|---|---|---|---|---|---|"
  } > bench/results/import.md
fi
echo "$line" >> bench/results/import.md
