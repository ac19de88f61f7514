#!/usr/bin/env bash
# Side by side: kazu-c's dictionary-NER automaton (bench_dict: the pack's KZAC section) and pyahocorasick
# (bench/peer_dict.py, Debian python3-ahocorasick via /usr/bin/python3, what Kazu uses) on the same NER
# synonyms and the same text: every corpus text of ../shared/data/benchmarks, one section a line.
# Times are CPU seconds of one thread ("per core"), medians of RUNS runs.
# usage: bench/dict_vs_python.sh [build-dir] [pack] [runs]
#   pack: default /tmp/dict/full.kzkb, else build/kb/full.kzkb (kazu kb build kb/full.yaml -o PACK)
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
pack=${2:-}
runs=${3:-3}
if [ -z "$pack" ]; then
  for p in /tmp/dict/full.kzkb "$here/../build/kb/full.kzkb"; do
    if [ -f "$p" ]; then pack=$p; break; fi
  done
fi
[ -n "$pack" ] || { echo "no pack: build one with kazu kb build kb/full.yaml -o PACK" >&2; exit 2; }
data=${KZ_SHARED_DATA:-$here/../../shared/data}
tmp=$(mktemp -d /tmp/kz_dict_bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$here/peer_dict.py" --corpus-out "$tmp/corpus.txt" --data "$data"
[ -s "$tmp/corpus.txt" ] || { echo "no corpus text under $data/benchmarks (set KZ_SHARED_DATA)" >&2; exit 2; }
echo "== kazu-c: bench_dict"
/usr/bin/time -f "bench_dict process: %e s wall, max RSS %M KiB" \
  "$build/bench_dict" --kb "$pack" --text "$tmp/corpus.txt" --terms-out "$tmp/terms.txt" --runs "$runs"
echo "== pyahocorasick (Kazu's matcher)"
/usr/bin/time -f "peer process: %e s wall, max RSS %M KiB" \
  /usr/bin/python3 "$here/peer_dict.py" "$tmp/terms.txt" "$tmp/corpus.txt" --runs "$runs"
