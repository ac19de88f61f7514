#!/bin/bash
# e2e: `mpirun -np 3 kazu run --mpi`: rank 0 hands out shards, ranks 1-2 work.
# The outputs equal a one-machine run (a poison document included); a rank
# killed mid-run makes mpirun name it, and rerunning the same command resumes
# from the manifest to the same outputs. Skipped without mpirun or the module.
set -u
KAZU=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$(dirname "$0")/run_common.bash"
command -v mpirun >/dev/null || { echo "SKIP: no mpirun"; exit 0; }
[ -f "$(dirname "$KAZU")/kazu_run_mpi.so" ] || { echo "SKIP: kazu_run_mpi.so not built"; exit 0; }
MPI=(mpirun --oversubscribe --allow-run-as-root -np 3)
export OMPI_MCA_btl=self,vader OMPI_MCA_plm_rsh_agent=false

gen_corpus "$T/in" 6 200
export KAZU_FAULT_INJECT="crash:s4d50"
"$KAZU" run -q -w 2 -o "$T/ref" "$T/in"
[ $? = 1 ] || fail "reference run should exit 1 (one quarantined document)"

timeout 120 "${MPI[@]}" "$KAZU" run --mpi -w 1 -o "$T/mpi" "$T/in" 2>"$T/err"
rc=$?
[ $rc = 1 ] || { cat "$T/err"; fail "mpirun exit $rc, expected 1"; }
grep -q "MPI with 3 ranks (2 working)" "$T/err" || { cat "$T/err"; fail "rank 0 did not coordinate 2 ranks"; }
same_outputs "$T/ref" "$T/mpi"
cmp -s "$T/ref/failures.jsonl" "$T/mpi/failures.jsonl" || fail "failures.jsonl differs under MPI"

# Kill rank 2 while a hanging document keeps the run going: mpirun must name it.
KAZU_FAULT_INJECT="hang:s0d10,hang:s1d10,crash:s4d50" timeout 120 "${MPI[@]}" "$KAZU" run --mpi -w 1 \
    --doc-timeout 100 -o "$T/kill" "$T/in" 2>"$T/err2" &
mp=$!
victim=
for _ in $(seq 1 300); do
    sleep 0.1
    for c in $(pgrep -f -- "-o $T/kill"); do
        [ "$(ps -o comm= -p "$(ps -o ppid= -p $c | tr -d ' ')")" = mpirun ] || continue # a rank, not its worker
        grep -qz '^OMPI_COMM_WORLD_RANK=2$' /proc/$c/environ 2>/dev/null && victim=$c
    done
    [ -n "$victim" ] && break
done
[ -n "$victim" ] || fail "rank 2 not found"
sleep 1
kill -KILL "$victim"
wait $mp
rc=$?
[ $rc != 0 ] || fail "mpirun exit 0 after a rank was killed"
grep -qi "rank 2" "$T/err2" || { cat "$T/err2"; fail "the failed rank is not named"; }
# Resume: same command (no hang now) finishes and matches.
timeout 120 "${MPI[@]}" "$KAZU" run --mpi -w 1 -o "$T/kill" "$T/in" 2>"$T/err3"
rc=$?
[ $rc = 1 ] || { cat "$T/err3"; fail "resumed mpirun exit $rc, expected 1"; }
same_outputs "$T/ref" "$T/kill"
for k in 0 1 2 3 4 5; do
    n=$(grep -c "\"event\":\"done\",\"shard\":\"$T/in/shard$k.jsonl\"" "$T/kill/kazu-run.manifest.jsonl")
    [ "$n" = 1 ] || fail "shard $k recorded done $n times"
done
grep -i "rank 2" "$T/err2" | head -2
echo "run_mpi: ok"
