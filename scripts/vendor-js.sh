#!/usr/bin/env bash
# Refresh the console's vendored JavaScript from the npm registry. The files are
# committed so that nothing is fetched when the console runs or is tested.
set -euo pipefail
cd "$(dirname "$0")/.."
ECHARTS=${ECHARTS:-6.1.0}
HTMX=${HTMX:-2.0.11}
VENDOR=src/shopops/console/static/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "echarts@$ECHARTS" "htmx.org@$HTMX" >/dev/null)
mkdir -p "$work/e" "$work/h" "$VENDOR/echarts" "$VENDOR/htmx"
tar xzf "$work/echarts-$ECHARTS.tgz" -C "$work/e"
tar xzf "$work/htmx.org-$HTMX.tgz" -C "$work/h"
cp "$work/e/package/dist/echarts.min.js" "$work/e/package/LICENSE" "$work/e/package/NOTICE" "$VENDOR/echarts/"
cp "$work/h/package/dist/htmx.min.js" "$work/h/package/LICENSE" "$VENDOR/htmx/"
printf 'echarts %s\nhtmx.org %s\n' "$ECHARTS" "$HTMX" > "$VENDOR/VERSIONS"
echo "vendored echarts $ECHARTS and htmx.org $HTMX into $VENDOR"
