#!/bin/bash
# e2e: the annotation page of `kazu serve` in headless Chromium (Debian
# `chromium`, DevTools protocol over a pipe, driven by tests/web/serve_page.js):
# paste + annotate, upload an annotated Kazu JSON, check the highlighted
# entities in the DOM, save a screenshot next to the kazu binary
# (<build>/serve-web/serve_web.png). Exit 77 (skip) only without chromium/node.
KAZU=$1
source "$(dirname "$0")/serve_common.bash"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1
    CHROMIUM=$(command -v chromium || true)
fi
[ -n "$CHROMIUM" ] || { echo "SKIP: chromium is not installed and cannot be installed here (scripts/deps.sh lists it)"; exit 77; }
command -v node >/dev/null || { echo "SKIP: node is not installed"; exit 77; }
OUT=$(cd "$(dirname "$KAZU")" && pwd)/serve-web
mkdir -p "$OUT"
start_server --threads 2
node "$ROOT/tests/web/serve_page.js" "$BASE" "$ROOT/tests/web/fixture_doc.json" "$OUT" "$CHROMIUM" || fail "page checks"
[ -s "$OUT/serve_web.png" ] || fail "no screenshot"
grep -q "GET /app.js 200" "$SRV_LOG" && grep -q "POST /api/kazu/ner_and_linking 200" "$SRV_LOG" || fail "page did not use the server"
stop_server
echo "serve_web: passed; screenshot $OUT/serve_web.png"
