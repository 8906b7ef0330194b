#!/usr/bin/env bash
# Read benchmark: the release binary serves the demo on SQLite (and on PostgreSQL when PG is reachable);
# bench/read.py sends the dashboard queries from 4 threads. Appends the figures to bench/results/read.md.
# Rerun with: bench/read.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PG=${PG:-postgres://postgres@127.0.0.1:5432}
WORK=$(mktemp -d)
DB="childhub_readbench_$$"
PID=""
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null || true
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
cargo build --release -q --bin childhub
BIN=$(pwd)/target/release/childhub
export CHILDHUB_JWT_SECRET="bench-secret-0123456789abcdef0123456789" CHILDHUB_LOG=warn CHILDHUB_LIMITS__REQUESTS_PER_MINUTE=0

DASHBOARD='{ summary { counts { status count } } progress { indicator { code } status latest { year value } targetValue projection } earlyWarnings { kind message } }'
TOWNSHIPS='{ regions(filter: { level: TOWNSHIP }) { code latest { year value indicator { code targets { kind value } } } } }'
PAGE='{ observations(first: 1000) { totalCount edges { node { year sex value region { code } indicator { code } } } } }'

run() { # backend url
  local backend=$1 url=$2
  (cd "$WORK" && CHILDHUB_DATABASE_URL="$url" CHILDHUB_SEED_IF_EMPTY=true exec "$BIN" serve --bind 127.0.0.1:18080 >"$WORK/serve.log" 2>&1) &
  PID=$!
  for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18080/readyz >/dev/null && break; sleep 0.2; done
  local token
  token=$(CHILDHUB_DATABASE_URL="$url" "$BIN" token --dept statistics --role viewer)
  for name in DASHBOARD TOWNSHIPS PAGE; do
    local result
    result=$(python3 bench/read.py --url http://127.0.0.1:18080/graphql --token "$token" --query "${!name}" --requests 200 --concurrency 4)
    local rss_kb
    rss_kb=$(grep VmHWM "/proc/$PID/status" | awk '{print $2}')
    echo "| $(date -u +%Y-%m-%d) | $(git rev-parse --short HEAD 2>/dev/null || echo -) | $(nproc) cores | $backend | $name | $result | $((rss_kb / 1024)) MiB |" | tee -a "$WORK/lines"
  done
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
}

run sqlite "sqlite://$WORK/bench.db?mode=rwc"
if psql "$PG/postgres" -qc "CREATE DATABASE $DB" 2>/dev/null; then
  CHILDHUB_DATABASE_URL="$PG/$DB" "$BIN" seed --demo >/dev/null
  run postgres "$PG/$DB"
fi

if [ ! -f bench/results/read.md ]; then
  {
    echo "# Read benchmark (bench/read.sh)"
    echo
    echo "Release build serving the demo data; bench/read.py sends 200 requests from 4 threads on the same machine."
    echo "DASHBOARD = summary + progress of all 41 targets + early warnings; TOWNSHIPS = every township's latest"
    echo "values with targets (the statement-count test's query); PAGE = one page of 1,000 observations. Peak RSS"
    echo "is the server's (VmHWM) after the run."
    echo
    echo "| date | commit | machine | backend | query | result | server peak RSS |"
    echo "|---|---|---|---|---|---|---|"
  } > bench/results/read.md
fi
cat "$WORK/lines" >> bench/results/read.md
