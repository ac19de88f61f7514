#!/usr/bin/env bash
# Side-by-side MEDLINE .xml.gz -> JSONL: kazu-c (bench_medline) and the plain-Python peer on the same
# generated file, three runs each; prints every run so medians and ratios can be read off.
# usage: bench/medline_vs_python.sh [size-mb] [build-dir]
set -euo pipefail
size=${1:-50}; build=${2:-build}
gen=/tmp/kz_bench_medline_${size}.xml.gz
"$build/bench_medline" --size-mb "$size" --gen "$gen" --keep | grep -E 'generated|input:'
for i in 1 2 3; do
  "$build/bench_medline" --input "$gen" | grep -E 'convert:|peak RSS'
  /usr/bin/python3 "$(dirname "$0")/peer_medline.py" "$gen"
done
rm -f "$gen"
