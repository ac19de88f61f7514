#!/bin/bash
# e2e: exactly-once output of `kazu run` across SIGKILLs. The whole run (its
# process group: supervisor and workers) is killed at random moments, at
# least 5 times, then the same command is rerun until it finishes. The outputs
# must be byte-identical to an uninterrupted run, with every shard recorded
# done exactly once and no temporary file left. A torn manifest line (a kill
# in the middle of an append) is tolerated.
set -u
KAZU=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/run_common.bash"

gen_corpus "$T/in" 16 500
# One poison document too: its quarantine must also survive the kills.
export KAZU_FAULT_INJECT="crash:s3d111"
ARGS=(-q -w 2 -b 2 -o "$T/out" "$T/in")
t0=$(date +%s%N)
"$KAZU" run -q -w 2 -b 2 -o "$T/ref" "$T/in" 2>/dev/null
[ $? = 1 ] || fail "reference run should exit 1 (one quarantined document)"
ref_ms=$((($(date +%s%N) - t0) / 1000000))
[ $ref_ms -ge 100 ] || ref_ms=100

kills=0 runs=0 midway=0
while :; do
    runs=$((runs + 1))
    [ $runs -gt 60 ] && fail "no completion after 60 runs"
    setsid "$KAZU" run "${ARGS[@]}" 2>>"$T/log" &
    pid=$!
    if [ $kills -lt 5 ] || [ $midway -lt 1 ]; then
        [ $kills -ge 15 ] && fail "15 kills and none landed between shards"
        # a random moment: 5..40 % of an uninterrupted run's time
        ms=$((ref_ms * 5 / 100 + RANDOM % (ref_ms * 35 / 100 + 1)))
        sleep "$((ms / 1000)).$(printf '%03d' $((ms % 1000)))"
        if kill -0 $pid 2>/dev/null; then
            kill -KILL -- -$pid 2>/dev/null && kills=$((kills + 1))
            wait $pid 2>/dev/null
            d=$(grep -c '"event":"done"' "$T/out/kazu-run.manifest.jsonl" 2>/dev/null)
            [ "${d:-0}" -gt 0 ] && [ "${d:-0}" -lt 16 ] && midway=$((midway + 1))
            # Once, tear the manifest's last line as a kill mid-append would.
            [ $kills = 3 ] && printf '{"event":"done","shard":"%s/shard7.js' "$T/in" >>"$T/out/kazu-run.manifest.jsonl"
            continue
        fi
    fi
    wait $pid
    rc=$?
    [ $rc = 1 ] || fail "run $runs exited $rc"
    [ $kills -ge 5 ] && [ $midway -ge 1 ] && break
    # Finished before enough kills: start over from nothing.
    rm -rf "$T/out"
done
echo "uninterrupted: $ref_ms ms; killed $kills times over $runs runs ($midway with some but not all shards done)"
same_outputs "$T/ref" "$T/out"
cmp -s "$T/ref/failures.jsonl" "$T/out/failures.jsonl" || fail "failures.jsonl differs"
for k in $(seq 0 15); do
    n=$(grep -c "\"event\":\"done\",\"shard\":\"$T/in/shard$k.jsonl\"" "$T/out/kazu-run.manifest.jsonl")
    [ "$n" = 1 ] || fail "shard $k recorded done $n times"
done
# No document lost or duplicated: 16 x 500 minus the quarantined one, each id once.
[ "$(cat "$T"/out/shard*.jsonl | grep -o '"idx": "s[0-9]*d[0-9]*"' | sort -u | wc -l)" = 7999 ] || fail "ids lost"
[ "$(cat "$T"/out/shard*.jsonl | wc -l)" = 7999 ] || fail "documents duplicated"
ls -a "$T/out" | grep -q '\.part$' && fail "temporary files left behind"
echo "run_kill_resume: ok"
