#!/usr/bin/env bash
# What protecting one restricted table costs, per table size, on a release build (benches/suppression.rs).
# Appends the figures to bench/results/suppression.md. Rerun with: bench/suppression.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -q --bench suppression --no-run 2>/dev/null
out=$(cargo bench -q --bench suppression 2>/dev/null | tee /dev/stderr)
{
  echo
  echo "## $(date -u +%Y-%m-%d) · $(git rev-parse --short HEAD 2>/dev/null || echo -) · $(nproc) cores"
  echo
  echo "$out"
} >> bench/results/suppression.md
echo "$out"
