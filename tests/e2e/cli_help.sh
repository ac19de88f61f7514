#!/bin/bash
# e2e: help texts, `kazu steps` and `kazu version`.
set -u
KAZU=$1
fail() { echo "FAIL: $*"; exit 1; }

out=$("$KAZU" help) || fail "help exit $?"
for w in annotate convert steps version "Exit status" "usage error" "kazu-json"; do
    grep -q -- "$w" <<<"$out" || fail "general help lacks '$w'"
done
[ "$("$KAZU" --help)" = "$out" ] || fail "--help differs from help"
out=$("$KAZU" annotate --help) || fail "annotate --help exit $?"
for w in "--in-format" "--out-format" "--config" "--steps" "--step-group" "--omit-candidates" "--lines" \
    "--batch-size" "--no-ascii" "--quiet" "Exit status"; do
    grep -q -- "$w" <<<"$out" || fail "annotate help lacks '$w'"
done
[ "$("$KAZU" help annotate)" = "$out" ] || fail "help annotate differs from annotate --help"
"$KAZU" convert -h | grep -q -- "--out-format" || fail "convert -h"
"$KAZU" help steps | grep -q -- "--config" || fail "help steps"
"$KAZU" help nope >/dev/null 2>&1
[ $? = 2 ] || fail "help of an unknown command must be a usage error"

out=$("$KAZU" steps) || fail "steps exit $?"
grep -q "SentenceSplitter" <<<"$out" || fail "steps lists SentenceSplitter"
grep -q "[0-9]. MergeOverlappingEntsStep" <<<"$out" || fail "steps lists the configured order"
grep -q "sentences_only: SentenceSplitter" <<<"$out" || fail "steps lists the groups"
"$KAZU" steps --config examples/pipeline.yaml | grep -q "examples/pipeline.yaml" || fail "steps --config"

out=$("$KAZU" version) || fail "version exit $?"
for w in "kazu-c 0.1.0" jansson libxml2 libyaml zlib utf8proc; do
    grep -q "^$w" <<<"$out" || fail "version lacks $w"
done
[ "$("$KAZU" --version)" = "$out" ] || fail "--version"
echo "ok"
