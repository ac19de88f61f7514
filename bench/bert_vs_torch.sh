#!/usr/bin/env bash
# Side-by-side BERT throughput: kazu-c (bench_bert) and PyTorch 1.13 (peer_bert_torch.py, the same
# plain BERT module, one thread per process) on the TinyBERN2 shape (4 layers, 312 hidden, 1200 FFN,
# 12 heads, 30522 vocab, 13 labels), 26-token sentences, batch 1 and 32, in 1 process and in
# 2 independent worker processes. Medians of RUNS runs of SECS seconds; prints both tables and a
# summary with ratios. torch dynamic int8 is the peer for int8 (and for bf16, which torch 1.13 has
# no fast CPU path for, the fp32 peer is shown).
# usage: bench/bert_vs_torch.sh [build-dir]      (env: RUNS=5 SECS=1 WORKERS="1 2")
set -euo pipefail
build=${1:-build}
runs=${RUNS:-5}; secs=${SECS:-1}; workers_list=${WORKERS:-"1 2"}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "# machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs;" \
     "AVX-512: $(grep -qw avx512f /proc/cpuinfo && echo yes || echo no), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for w in $workers_list; do
  echo "## kazu-c, $w worker(s)"
  lat=0; [ "$w" = 1 ] && lat=1   # load -> first forward once
  "$build/bench_bert" --prec fp32,int8,bf16 --batch 1,32 --workers "$w" --runs "$runs" --seconds "$secs" \
    --latency "$lat" | tee "$tmp/c$w"
  echo "## PyTorch, $w worker(s)"
  /usr/bin/python3 "$here/peer_bert_torch.py" --prec fp32,int8 --batch 1,32 --workers "$w" --runs "$runs" \
    --seconds "$secs" | tee "$tmp/t$w"
done
echo
echo "## summary: median sentences/s (and per CPU-second), 26-token sentences"
printf '%-5s %5s %7s | %12s %12s | %12s %12s | %7s %7s\n' prec batch workers kazu-c "(CPU-s)" torch "(CPU-s)" ratio "(CPU-s)"
for w in $workers_list; do
  awk -v w="$w" 'FNR == NR && $1 ~ /^(fp32|int8)$/ { t[$1 " " $2] = $6; tc[$1 " " $2] = $10; next }
    $1 ~ /^(fp32|int8|bf16)$/ {
      peer = ($1 == "bf16") ? "fp32" : $1; k = peer " " $2
      printf "%-5s %5s %7s | %12.1f %12.1f | %12.1f %12.1f | %6.2fx %6.2fx\n", $1, $2, w, $6, $10, t[k], tc[k],
             (t[k] > 0 ? $6 / t[k] : 0), (tc[k] > 0 ? $10 / tc[k] : 0) }' "$tmp/t$w" "$tmp/c$w"
done
