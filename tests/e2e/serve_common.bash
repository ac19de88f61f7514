# Helpers for the `kazu serve` e2e tests (sourced, not a test itself).
# start_server ARGS...: starts `kazu serve --port 0 ARGS` in the background;
# sets SRV_PID, PORT, BASE, SRV_LOG.
set -u
KAZU=${KAZU:?}
TMP=$(mktemp -d /tmp/kazu-serve-test.XXXXXX)
fail() { echo "FAIL: $*"; [ -n "${SRV_LOG:-}" ] && tail -20 "$SRV_LOG"; exit 1; }
start_server() {
    SRV_LOG=$TMP/server.$RANDOM.log
    "$KAZU" serve --port 0 "$@" 2>"$SRV_LOG" &
    SRV_PID=$!
    for _ in $(seq 1 100); do
        PORT=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$SRV_LOG" | head -1)
        [ -n "$PORT" ] && break
        kill -0 $SRV_PID 2>/dev/null || fail "server exited at start: $(cat "$SRV_LOG")"
        sleep 0.1
    done
    [ -n "$PORT" ] || fail "server did not start"
    BASE=http://127.0.0.1:$PORT
}
stop_server() {
    kill -TERM $SRV_PID 2>/dev/null
    wait $SRV_PID
    local rc=$?
    [ $rc = 0 ] || fail "server exit status $rc after SIGTERM"
}
cleanup() { [ -n "${SRV_PID:-}" ] && kill -KILL $SRV_PID 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT
# status CODE of a request: st ARGS... (curl args)
st() { curl -s -o "$TMP/body" -D "$TMP/headers" -w '%{http_code}' "$@"; }
body() { cat "$TMP/body"; }
header() { grep -i "^$1:" "$TMP/headers" | head -1 | sed 's/^[^:]*: *//; s/\r$//'; }
