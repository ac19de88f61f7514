#!/bin/bash
# e2e: no leaks in `kazu run`'s supervisor and worker on a small corpus.
# Under an ASan build (KZ_SANITIZE) LeakSanitizer checks both processes at exit
# (workers end with exit(), not _exit()); otherwise valgrind memcheck does.
# Also checks the worker's private memory stays flat over many batches.
set -u
KAZU=$1
asan=0
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/run_common.bash"

gen_corpus "$T/in" 2 150
if nm "$KAZU" 2>/dev/null | grep -q __asan_init || ldd "$KAZU" | grep -q libasan; then
    ASAN_OPTIONS=detect_leaks=1:exitcode=23 "$KAZU" run -q -w 1 -b 4 -o "$T/out" "$T/in" 2>"$T/err"
    rc=$?
    [ $rc = 0 ] || { cat "$T/err"; fail "ASan/LSan run exit $rc"; }
    grep -q "LeakSanitizer" "$T/err" && { cat "$T/err"; fail "LeakSanitizer reported leaks"; }
    echo "checked with LeakSanitizer"
    asan=1
elif command -v valgrind >/dev/null; then
    valgrind -q --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
        --error-exitcode=23 --log-file="$T/vg.%p" "$KAZU" run -q -w 1 -b 4 -o "$T/out" "$T/in"
    rc=$?
    [ $rc = 0 ] || { cat "$T"/vg.*; fail "valgrind run exit $rc"; }
    [ "$(ls "$T"/vg.* | wc -l)" -ge 2 ] || fail "valgrind did not follow the worker"
    for f in "$T"/vg.*; do
        [ -s "$f" ] && { cat "$f"; fail "valgrind reported errors ($f)"; }
    done
    echo "checked supervisor and worker with valgrind"
else
    echo "SKIP: neither an ASan build nor valgrind"
    exit 0
fi
[ "$(cat "$T"/out/shard*.jsonl | wc -l)" = 300 ] || fail "not every document written"

# Flat memory: one worker over 40 shards (~10 k batches); the sampled private
# memory stays within 8 MB of the first sample. (Not under ASan: its quarantine
# of freed blocks grows private memory up to 256 MB by design.)
[ $asan = 1 ] && { echo "run_leak: ok"; exit 0; }
rm -rf "$T/in" "$T/out"
gen_corpus "$T/in" 40 250
KAZU_RUN_RSS_LOG="$T/rss" "$KAZU" run -q -w 1 -b 1 -o "$T/out" "$T/in" || fail "flat-memory run exit $?"
n=$(wc -l <"$T/rss")
[ "$n" -ge 2 ] || { echo "run too short for memory samples ($n)"; echo "run_leak: ok"; exit 0; }
first=$(head -1 "$T/rss" | cut -f3)
max=$(cut -f3 "$T/rss" | sort -n | tail -1)
echo "worker private memory: first sample ${first} kB, max ${max} kB over $n samples"
[ $((max - first)) -lt 8192 ] || fail "worker private memory grew from $first to $max kB"
echo "run_leak: ok"
