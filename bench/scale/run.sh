#!/usr/bin/env bash
# The hub's read shapes at 10⁶ and 10⁷ observations, with and without a hot standby as read replica.
# Builds the release binary, then runs run.py, which appends to bench/results/scale.md. Needs wrk, python3,
# PostgreSQL on 127.0.0.1:5432 with `host replication all 127.0.0.1/32 trust` (as .ci/run sets), and root
# or the postgres user (pg_basebackup and pg_ctl run as postgres).
# Rerun with: bench/scale/run.sh [--sizes 1m,10m] [--duration 5] [--shapes "page of 100,dashboard"]
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -q --bin childhub
exec python3 bench/scale/run.py "$@"
