#!/usr/bin/env bash
# Side by side: kazu-c's matching automaton (bench_match) and pyahocorasick (bench/peer_match.py, Debian
# python3-ahocorasick via /usr/bin/python3) on the same terms (every resource of a kb pack, else 1 M
# synthetic terms) and the same PubTator titles/abstracts.
# usage: bench/match_vs_python.sh [build-dir] [pack]
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
pack=${2:-}
if [ -z "$pack" ]; then
  for p in "$here/../build/kb/full.kzkb" "$here/../build/kb/default.kzkb"; do
    if [ -f "$p" ]; then pack=$p; break; fi
  done
fi
data=${KZ_SHARED_DATA:-$here/../../shared/data}/benchmarks
text=("$data/bc5cdr_pubtator/CDR_TrainingSet.PubTator.txt" "$data/biored_pubtator/Train.PubTator")
tmp=$(mktemp -d /tmp/kz_match_bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
if [ -n "$pack" ]; then src=(--kb "$pack"); else src=(--synthetic 1000000); fi
args=(); for t in "${text[@]}"; do args+=(--text "$t"); done
echo "== kazu-c: build + scan"
/usr/bin/time -f "build process: %e s wall, max RSS %M KiB" \
  "$build/bench_match" "${src[@]}" "${args[@]}" --terms-out "$tmp/terms.txt" --blob-out "$tmp/ac.blob"
echo "== kazu-c: scan only (mmap the saved blob)"
"$build/bench_match" --blob "$tmp/ac.blob" "${args[@]}"
echo "== pyahocorasick (Kazu's matcher)"
/usr/bin/time -f "peer process: %e s wall, max RSS %M KiB" \
  /usr/bin/python3 "$here/peer_match.py" "$tmp/terms.txt" "${text[@]}"
