#!/usr/bin/env bash
# Fetches the pinned GraphiQL packages from the npm registry, checks each tarball against the integrity in
# assets/vendor/packages.lock, and copies the files the binary serves (with their licences) into
# assets/vendor/, then records their SHA-256 in assets/vendor/SHA256SUMS.
#
#   scripts/vendor-assets.sh           fetch and copy (to update: edit packages.lock, run, commit)
#   scripts/vendor-assets.sh --check   only verify the committed files against SHA256SUMS (no network)
set -euo pipefail
cd "$(dirname "$0")/../assets/vendor"

if [ "${1:-}" = "--check" ]; then
  sha256sum --check --quiet SHA256SUMS
  echo "assets/vendor matches SHA256SUMS"
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
grep -v '^#' packages.lock | while read -r name version integrity; do
  [ -n "$name" ] || continue
  (cd "$work" && npm pack --silent "$name@$version" >/dev/null)
  tarball="$work/$name-$version.tgz"
  actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  if [ "$actual" != "$integrity" ]; then
    echo "$name@$version: integrity $actual does not match packages.lock ($integrity)" >&2
    exit 1
  fi
  mkdir -p "$work/$name" && tar xzf "$tarball" -C "$work/$name"
  cp "$work/$name/package/LICENSE" "LICENSE.$name"
done
cp "$work/graphiql/package/graphiql.min.js" "$work/graphiql/package/graphiql.min.css" .
cp "$work/react/package/umd/react.production.min.js" .
cp "$work/react-dom/package/umd/react-dom.production.min.js" .
sha256sum graphiql.min.js graphiql.min.css react.production.min.js react-dom.production.min.js \
  LICENSE.graphiql LICENSE.react LICENSE.react-dom > SHA256SUMS
echo "assets/vendor updated; review and commit"
