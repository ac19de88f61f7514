#!/usr/bin/env bash
# Training throughput side by side: kazu-c's trainer (bench_train) and PyTorch 1.13 (peer_train.py)
# on the same architecture and batch (default TinyBERN2 shape: 4 layers, 312 hidden, 12 heads,
# 1200 FFN, 30522 vocab, 13 labels; 16 windows of 128 tokens), same thread count, dropout 0 in both
# (the peer's plain BERT has no dropout modules). Median tokens/s of RUNS runs of STEPS steps.
# usage: bench/train_vs_torch.sh [build-dir]     (env: RUNS=3 STEPS=4 THREADS=1)
set -euo pipefail
build=${1:-build}
runs=${RUNS:-3}; steps=${STEPS:-4}; threads=${THREADS:-1}
here=$(cd "$(dirname "$0")" && pwd)
args="--runs $runs --steps $steps --threads $threads"
echo "# machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg)"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
OMP_WAIT_POLICY=passive "$build/bench_train" $args --dropout 0 >"$tmp/c"; cat "$tmp/c"
/usr/bin/python3 "$here/peer_train.py" $args >"$tmp/t"; cat "$tmp/t"
# median wall-clock tokens/s, and tokens per CPU-second (less sensitive to other load on the machine)
awk 'FNR == NR && /^median/ { t = $3; tc = $5; next }
  /^median/ { printf "threads '"$threads"': kazu-c %.1f tokens/s (%.1f per CPU-s), PyTorch %.1f tokens/s (%.1f per CPU-s), ratio %.2fx (%.2fx)\n", $3, $5, t, tc, $3 / t, $5 / tc }' "$tmp/t" "$tmp/c"
