#!/usr/bin/env bash
# Load test of `kazu serve` with wrk on loopback: abstract-sized documents
# (BC5CDR title + abstract from ../shared/data, rotated), 64 connections,
# 60 s by default. Prints docs/s, latency percentiles, errors and the server's
# RSS before, during (every 10 s) and after.
# usage: bench/serve_wrk.sh [build-dir] [seconds] [connections] [server args...]
set -euo pipefail
build=${1:-build}; secs=${2:-60}; conns=${3:-64}; shift $(( $# >= 3 ? 3 : $# ))
root=$(cd "$(dirname "$0")/.." && pwd)
kazu=$build/kazu
src=${KZ_SHARED_DATA:-$root/../shared/data}/benchmarks/bc5cdr_pubtator/CDR_DevelopmentSet.PubTator.txt
command -v wrk >/dev/null || { echo "wrk missing (scripts/deps.sh)"; exit 1; }
tmp=$(mktemp -d /tmp/kazu-wrk.XXXXXX)
srv=
trap '[ -n "$srv" ] && kill -KILL $srv 2>/dev/null; rm -rf "$tmp"' EXIT

# One JSON body per line: {"sections": {"title": ..., "abstract": ...}}.
awk -F'|' '$2 == "t" { t = substr($0, length($1) + 4) } $2 == "a" { print t "\t" substr($0, length($1) + 4); if (++n == 200) exit }' "$src" |
  jq -R -c 'split("\t") | {sections: {title: .[0], abstract: .[1]}}' > "$tmp/bodies.jsonl"
n=$(wc -l < "$tmp/bodies.jsonl")
avg=$(jq -r '.sections.title + " " + .sections.abstract | length' "$tmp/bodies.jsonl" | awk '{s += $1} END {printf "%d", s / NR}')
echo "documents: $n BC5CDR abstracts (title + abstract), mean $avg characters"
cat > "$tmp/post.lua" <<LUA
local bodies = {}
for line in io.lines("$tmp/bodies.jsonl") do bodies[#bodies + 1] = line end
local i = 0
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  i = i % #bodies + 1
  return wrk.format(nil, "/api/kazu/ner_and_linking", nil, bodies[i])
end
LUA

"$kazu" serve --port 0 --host 127.0.0.1 --quiet "$@" 2> "$tmp/server.log" &
srv=$!
port=
for _ in $(seq 1 300); do
  port=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$tmp/server.log" | head -1)
  [ -n "$port" ] && break; sleep 0.1
done
[ -n "$port" ] || { cat "$tmp/server.log"; exit 1; }
head -1 "$tmp/server.log"
rss() { awk '/VmRSS/ {print $2 " kB"}' /proc/$srv/status; }
curl -s -o /dev/null -d "$(head -1 "$tmp/bodies.jsonl")" "http://127.0.0.1:$port/api/kazu/ner_and_linking"
echo "RSS before: $(rss)"
( for t in $(seq 10 10 "$secs"); do sleep 10; kill -0 $srv 2>/dev/null && echo "RSS at ${t}s: $(rss)"; done ) &
mon=$!
wrk -t2 -c"$conns" -d"${secs}s" --timeout 30s --latency -s "$tmp/post.lua" "http://127.0.0.1:$port" | tee "$tmp/wrk.out"
wait $mon 2>/dev/null || true
echo "RSS after: $(rss)"
curl -s "http://127.0.0.1:$port/metrics" | grep -E '^kazu_(documents_total|documents_failed_total|rejected_total|timeouts_total)|code="(4|5)' || true
kill -TERM $srv; wait $srv; rc=$?; srv=
echo "server exit status after SIGTERM: $rc"
rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.out")
non2xx=$(awk '/Non-2xx/ {print $NF}' "$tmp/wrk.out"); sockerr=$(grep -c 'Socket errors' "$tmp/wrk.out" || true)
echo "summary: ${rps} docs/s, p50 $(awk '$1 == "50%" {print $2}' "$tmp/wrk.out"), p99 $(awk '$1 == "99%" {print $2}' "$tmp/wrk.out"), non-2xx ${non2xx:-0}, socket-error lines ${sockerr}"
