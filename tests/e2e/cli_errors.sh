#!/bin/bash
# e2e: exit codes and messages of `kazu` for usage errors (2), partial
# failures (1: bad records among good ones) and fatal errors (3).
set -u
KAZU=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect() { # expect CODE DESCRIPTION -- command...
    local want=$1 what=$2
    shift 3
    "$@" >"$T/out" 2>"$T/err"
    local got=$?
    [ "$got" = "$want" ] || fail "$what: exit $got, expected $want; stderr: $(cat "$T/err")"
}

expect 2 "no command" -- "$KAZU"
expect 2 "unknown command" -- "$KAZU" frobnicate
grep -q "unknown command 'frobnicate'" "$T/err" || fail "unknown command message"
expect 2 "no input" -- "$KAZU" annotate
expect 2 "unknown option" -- "$KAZU" annotate --frob examples/abstracts.jsonl
grep -q -- "--frob" "$T/err" || fail "unknown option named"
expect 2 "bad --in-format" -- "$KAZU" annotate --in-format yaml examples/abstracts.jsonl
expect 2 "unwritable --out-format" -- "$KAZU" convert --out-format pubmed-xml examples/abstracts.jsonl
expect 2 "bad --batch-size" -- "$KAZU" annotate --batch-size 0 examples/abstracts.jsonl
expect 2 "unknown step" -- "$KAZU" annotate --steps Nope examples/abstracts.jsonl
grep -q "unknown step 'Nope' (configured: SentenceSplitter, .*MergeOverlappingEntsStep)" "$T/err" || fail "step message"
expect 2 "unknown group" -- "$KAZU" annotate --step-group nope examples/abstracts.jsonl
expect 2 "steps and group" -- "$KAZU" annotate --steps SentenceSplitter --step-group sentences_only examples/abstracts.jsonl
expect 2 "brat without --out" -- "$KAZU" convert -f brat examples/abstracts.jsonl
[ -s "$T/out" ] && fail "usage errors must not write output"

# A bad record among good ones: good documents written, exit 1, file:line reported.
{ sed -n 1p examples/abstracts.jsonl; echo '{"id": "broken", "text": '; sed -n 3,4p examples/abstracts.jsonl; } >"$T/mixed.jsonl"
expect 1 "bad record" -- "$KAZU" annotate "$T/mixed.jsonl"
[ "$(wc -l <"$T/out")" = 3 ] || fail "three good documents expected"
grep -q "^$T/mixed.jsonl:2" "$T/err" || fail "bad record must be reported as file:line: $(cat "$T/err")"
grep -q "3 documents read, 3 written, 0 failed processing, 1 records rejected" "$T/err" || fail "summary"

# Missing input: reported, the other inputs still written, exit 3.
expect 3 "missing input" -- "$KAZU" annotate "$T/missing.jsonl" examples/abstracts.jsonl
grep -q "$T/missing.jsonl" "$T/err" || fail "missing input named"
[ "$(wc -l <"$T/out")" = 4 ] || fail "the good input must still be written"
expect 3 "glob without match" -- "$KAZU" annotate "$T/*.nothing"

# Bad configuration: path:line:col and reason, exit 3.
printf 'pipeline:\n  steps:\n    - type: NoSuchStep\n' >"$T/bad.yaml"
expect 3 "bad config" -- "$KAZU" annotate --config "$T/bad.yaml" examples/abstracts.jsonl
grep -q "^$T/bad.yaml:3:7: unknown step type 'NoSuchStep'" "$T/err" || fail "config error place: $(cat "$T/err")"
printf 'pipeline:\n  batch_size: [\n' >"$T/syntax.yaml"
expect 3 "config syntax" -- "$KAZU" steps --config "$T/syntax.yaml"
grep -q "^$T/syntax.yaml:3" "$T/err" || fail "syntax error place: $(cat "$T/err")"
expect 3 "missing config" -- "$KAZU" annotate --config "$T/none.yaml" examples/abstracts.jsonl

# Output that cannot be opened or written.
expect 3 "unopenable output" -- "$KAZU" annotate -o "$T/no/such/dir/out.json" examples/abstracts.jsonl
if [ -w /dev/full ]; then
    expect 3 "write failure" -- "$KAZU" annotate -o /dev/full examples/abstracts.jsonl
fi
echo "ok"
