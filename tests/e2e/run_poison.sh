#!/bin/bash
# e2e: `kazu run` isolates poison documents. With the test-only fault hook, one
# document crashes its worker, one hangs it, one leaks past the memory limit;
# each is retried alone, then quarantined with its reason, and every other
# document is written exactly as an undisturbed run writes it.
set -u
KAZU=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/run_common.bash"

gen_corpus "$T/in" 4 40
"$KAZU" run -q -w 2 -o "$T/ref" "$T/in" || fail "reference run exit $?"
[ "$(cat "$T"/ref/shard*.jsonl | wc -l)" = 160 ] || fail "reference run did not write 160 documents"
[ -s "$T/ref/failures.jsonl" ] && fail "reference run quarantined something"

KAZU_FAULT_INJECT="crash:s0d7,hang:s1d30,leak:s2d0" KAZU_FAULT_LEAK_MB=300 \
    "$KAZU" run -w 2 -b 2 --doc-timeout 3 --rss-limit 120 --progress-every 1 -o "$T/out" "$T/in" 2>"$T/err"
rc=$?
[ "$rc" = 1 ] || { cat "$T/err"; fail "poisoned run: exit $rc, expected 1 (partial)"; }
[ "$(wc -l <"$T/out/failures.jsonl")" = 3 ] || { cat "$T/out/failures.jsonl"; fail "expected 3 quarantined documents"; }
grep -q '"id":"s0d7".*signal 11' "$T/out/failures.jsonl" || fail "crash not quarantined with its signal"
grep -q '"id":"s1d30".*timed out' "$T/out/failures.jsonl" || fail "hang not quarantined as a timeout"
grep -q '"id":"s2d0".*memory limit exceeded' "$T/out/failures.jsonl" ||
    { cat "$T/out/failures.jsonl" "$T/err"; fail "leak not quarantined as over the memory limit"; }
grep -q "retrying them one at a time" "$T/err" || fail "no retry-alone message"
# Every other document is written, byte for byte as in the reference run.
for k in 0 1 2 3; do
    grep -v -e '"idx": "s0d7"' -e '"idx": "s1d30"' -e '"idx": "s2d0"' "$T/ref/shard$k.jsonl" >"$T/expect$k"
    cmp -s "$T/expect$k" "$T/out/shard$k.jsonl" || fail "shard $k differs from the reference minus the poison documents"
done
[ "$(grep -c '"event":"done"' "$T/out/kazu-run.manifest.jsonl")" = 4 ] || fail "manifest lacks 4 done records"
ls -a "$T/out" | grep -q '\.part$' && fail "temporary files left behind"

# A rerun finds everything done: no work, the quarantine list unchanged, still exit 1.
KAZU_FAULT_INJECT="crash:s0d7,hang:s1d30,leak:s2d0" "$KAZU" run -w 2 -o "$T/out" "$T/in" 2>"$T/err2"
rc=$?
[ "$rc" = 1 ] || fail "rerun: exit $rc"
grep -q "0 shards done now, 4 before, 0 left" "$T/err2" || { cat "$T/err2"; fail "rerun redid work"; }
[ "$(wc -l <"$T/out/failures.jsonl")" = 3 ] || fail "rerun changed failures.jsonl"

# The hook is inert unless set: the same corpus without it is clean.
"$KAZU" run -q -w 1 -o "$T/clean" "$T/in" || fail "clean run exit $?"
same_outputs "$T/ref" "$T/clean"
echo "run_poison: ok"
