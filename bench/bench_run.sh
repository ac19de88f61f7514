#!/usr/bin/env bash
# `kazu run` at corpus scale: generates a synthetic PubMed-like baseline (.xml.gz shards; abstracts drawn from the
# staged BC5CDR text by bench_medline's generator; one generated shard copied N times) into /tmp, then runs it
# with 1 and 2 workers and with 3 MPI ranks (rank 0 coordinates, 2 work), and optionally a dictionary-NER pipeline
# over a smaller corpus. Prints docs/s, sentences/s, MB/s, peak RSS per worker (total and private) and hours
# extrapolated for 36 M abstracts on this machine.
# usage: bench/bench_run.sh [corpus MB of XML, decompressed (default 1000)] [build-dir (default build)]
# env:   SHARD_MB=24 (compressed MB per shard)  DICT=1 (also the dictionary pipeline)  KEEP=1 (keep /tmp files)
set -euo pipefail
mb_target=${1:-1000}; build=${2:-build}
kazu=$build/kazu
W=/tmp/kz_bench_run
SHARD_MB=${SHARD_MB:-24}
rm -rf "$W"; mkdir -p "$W/in"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$W"' EXIT

"$build/bench_medline" --size-mb "$SHARD_MB" --gen "$W/seed.xml.gz" --keep | grep generated
dec=$(zcat "$W/seed.xml.gz" | wc -c)
n=$(( (mb_target * 1000000 + dec - 1) / dec ))
for ((i = 1; i <= n; i++)); do cp "$W/seed.xml.gz" "$(printf '%s/in/pubmed_%04d.xml.gz' "$W" $i)"; done
rm "$W/seed.xml.gz"
echo "corpus: $n shards, $(du -sh "$W/in" | cut -f1) compressed, $(( n * dec / 1000000 )) MB of XML"

# run NAME CMD...: one timed run; prints one result line.
run() {
    local name=$1; shift
    rm -rf "$W/out" "$W/rss"
    local t0 t1
    t0=$(date +%s.%N)
    KAZU_RUN_RSS_LOG="$W/rss" "$@" -o "$W/out" "$W/in" 2>"$W/err" || { cat "$W/err"; exit 1; }
    grep -q "shards done now" "$W/err" || { cat "$W/err"; exit 1; }
    t1=$(date +%s.%N)
    local sum; sum=$(grep "shards done now" "$W/err")
    local docs sents proc hwm priv
    docs=$(sed -E 's/.* ([0-9]+) documents read.*/\1/' <<<"$sum")
    sents=$(sed -E 's/.* ([0-9]+) sentences;.*/\1/' <<<"$sum")
    proc=$(sed -E 's/.*; ([0-9.]+) s processing.*/\1/' <<<"$sum")
    hwm=$(sed -E 's/.*peak worker RSS ([0-9.]+) MB.*/\1/' <<<"$sum")
    priv=$(sed -E 's/.*\(private ([0-9.]+) MB\).*/\1/' <<<"$sum")
    local pfirst pmax
    touch "$W/rss"
    pfirst=$(awk -F'\t' 'NR==1{print $3}' "$W/rss")
    pmax=$(cut -f3 "$W/rss" | sort -n | tail -1)
    awk -v name="$name" -v docs="$docs" -v sents="$sents" -v proc="$proc" -v wall="$(echo "$t1 - $t0" | bc)" \
        -v hwm="$hwm" -v priv="$priv" -v pf="${pfirst:-0}" -v pm="${pmax:-0}" -v mb=$(( n * dec / 1000000 )) 'BEGIN {
        printf "%-26s docs %8d  wall %7.1f s  processing %7.1f s  %8.0f docs/s  %9.0f sentences/s  %6.1f MB/s  " \
               "peak worker RSS %6.1f MB (private %5.1f MB; private samples first %.1f max %.1f MB)  " \
               "36M abstracts: %.1f h\n", name, docs, wall, proc, docs / proc, sents / proc, mb / proc, hwm, priv,
               pf / 1024, pm / 1024, 36e6 / (docs / proc) / 3600 }'
}

echo "== default pipeline ($("$kazu" steps | grep -cE '^  [0-9]+\.') steps: sentence splitting, merge) =="
run "1 worker" "$kazu" run -w 1
run "2 workers" "$kazu" run -w 2
if command -v mpirun >/dev/null && [ -f "$build/kazu_run_mpi.so" ]; then
    run "MPI 3 ranks (2 working)" mpirun --oversubscribe --allow-run-as-root -np 3 "$kazu" run --mpi -w 1
fi

kb=$build/kb/default.kzkb
[ -f "$kb" ] || kb=$(dirname "$0")/../build/kb/default.kzkb
if [ "${DICT:-1}" = 1 ] && [ -f "$kb" ] && "$kazu" steps | grep -q MemoryEfficientStringMatchingStep; then
    cat >"$W/dict.yaml" <<YAML
pipeline:
  batch_size: 16
  steps:
    - type: SentenceSplitter
    - type: MemoryEfficientStringMatchingStep
      params: {kb: $(realpath "$kb")}
    - type: MergeOverlappingEntsStep
YAML
    rm -rf "$W/in"; mkdir -p "$W/in"
    "$build/bench_medline" --size-mb 1 --gen "$W/seed.xml.gz" --keep | grep generated
    dec=$(zcat "$W/seed.xml.gz" | wc -c); n=4
    for i in 1 2 3 4; do cp "$W/seed.xml.gz" "$W/in/pubmed_000$i.xml.gz"; done
    echo "== dictionary NER pipeline (default KB $(du -h "$kb" | cut -f1), mmapped and shared): $n shards, $(( n * dec / 1000000 )) MB of XML =="
    run "dict, 1 worker" "$kazu" run -w 1 -c "$W/dict.yaml"
    run "dict, 2 workers" "$kazu" run -w 2 -c "$W/dict.yaml"
fi
