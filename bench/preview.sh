#!/usr/bin/env bash
# Preview benchmark (issue 21): how long the hub takes to read and check a clerk's file of ROWS values
# (default 200,000) before anything is written — the Reporting page's preview — and how much memory it
# takes, on a release build against the embedded SQLite database. Each file goes through
# `childhub import observations FILE --dry-run`, which runs the page's path (service::upload: read,
# names mapped, every batch check, the quality warnings) and writes nothing; the time includes starting
# the process and loading the catalogue. Two hostile files must be refused quickly: a zip bomb and a sheet
# of 10^6 empty rows. Appends the figures to bench/results/preview.md. Rerun with: bench/preview.sh
# (needs python3 with openpyxl).
set -euo pipefail
cd "$(dirname "$0")/.."
ROWS=${ROWS:-200000}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cargo build --release -q --bin childhub
BIN=target/release/childhub
export CHILDHUB_DATABASE_URL="sqlite://$WORK/hub.db?mode=rwc" CHILDHUB_JWT_SECRET="bench-secret-0123456789abcdef0123456789" CHILDHUB_LOG=warn

"$BIN" seed --demo >/dev/null
PYTHONHASHSEED=0 python3 bench/generate_import.py --rows "$ROWS" --dir "$WORK"
"$BIN" import-regions "$WORK/regions.csv" >/dev/null
python3 bench/preview_files.py --dir "$WORK"

seconds_of() { grep "Elapsed (wall clock)" "$1" | awk '{print $NF}' | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }'; }
lines=()
for file in long.xlsx notes.xlsx gbk.csv wide.xlsx bomb.xlsx empty.xlsx; do
  set +e
  /usr/bin/time -v "$BIN" import observations "$WORK/$file" --as health --dry-run >"$WORK/out.txt" 2>"$WORK/time.txt"
  status=$?
  set -e
  size=$(du -k "$WORK/$file" | cut -f1)
  peak_kb=$(grep "Maximum resident set size" "$WORK/time.txt" | awk '{print $NF}')
  if [ "$status" = 0 ]; then
    what=$(grep -o "read [^:]*: [^,]*, [^,]*, [0-9]* values" "$WORK/time.txt" | head -1 | sed 's/^read [^:]*: //')
  else
    what="refused: $(grep -o "expected .*" "$WORK/time.txt" | head -1 | cut -c1-90)"
  fi
  line="| $(date -u +%Y-%m-%d) | $(git rev-parse --short HEAD 2>/dev/null || echo -) | $(nproc) cores | $file | $((size / 1024)) MiB | $what | $(seconds_of "$WORK/time.txt") s | $((peak_kb / 1024)) MiB |"
  echo "$line"
  lines+=("$line")
done
if [ ! -f bench/results/preview.md ]; then
  {
    echo "# Preview benchmark (bench/preview.sh)"
    echo
    echo "A clerk's file read and checked without writing (\`childhub import observations FILE --dry-run\`, the"
    echo "Reporting page's path), release build, embedded SQLite, the demo catalogue with synthetic villages."
    echo "Time is wall clock for the whole process (start, catalogue, read, checks, warnings); memory is the"
    echo "process's peak resident set. Goal (issue 21): a 200,000-row file in under 5 s, memory bounded, hostile"
    echo "files refused quickly."
    echo
    echo "| date | commit | machine | file | size | read as | time | peak memory |"
    echo "|---|---|---|---|---|---|---|---|"
  } > bench/results/preview.md
fi
printf '%s\n' "${lines[@]}" >> bench/results/preview.md
