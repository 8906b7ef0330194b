#!/usr/bin/env bash
# The workspace's pages as their users see them, for docs/screenshots/: taken by the browser tests while
# they click through the pages (CHILDHUB_SCREENSHOTS names the folder) — the Reporting page as a health
# clerk, the Review page as a statistics-bureau approver, the mid-term report, the dashboard (top and
# township view). Needs what the browser tests need (Debian's chromium, `npm ci --prefix tests/browser`,
# python3 with openpyxl) and a CJK font so the Chinese shows (Debian: fonts-wqy-zenhei). Rerun with: docs/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out="$PWD/docs/screenshots"
mkdir -p "$out"
if ! fc-list 2>/dev/null | grep -i -e wqy -e "noto sans cjk" >/dev/null; then
  echo "no CJK font: the Chinese would show as boxes (apt-get install fonts-wqy-zenhei)" >&2
  exit 1
fi
CHILDHUB_SCREENSHOTS="$out" cargo test -q --test integration -- \
  reporting::a_clerk_downloads_the_template_fixes_a_cell_and_submits_in_the_browser \
  review::a_coordinator_reviews_rejects_with_a_remark_and_approves_in_the_browser
ls -1 "$out"
