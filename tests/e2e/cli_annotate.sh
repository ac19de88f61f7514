#!/bin/bash
# e2e: `kazu annotate` over the examples -> valid Kazu JSON; stdin, globs,
# directories, --lines, --no-ascii, --quiet, --steps/--step-group, --config.
set -u
KAZU=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
PY=/usr/bin/python3

# Kazu JSON, one document per line: count docs, check fields; prints "ndocs nsentences".
check_json() {
    $PY -c '
import json, sys
n = s = 0
for line in open(sys.argv[1], encoding="utf-8"):
    d = json.loads(line)
    assert isinstance(d["idx"], str) and d["sections"], d
    for sec in d["sections"]:
        assert isinstance(sec["text"], str)
        for sp in sec.get("sentence_spans", []):
            assert 0 <= sp["start"] < sp["end"] <= len(sec["text"]), sp
            s += 1
    n += 1
print(n, s)' "$1"
}

"$KAZU" annotate examples/abstracts.jsonl >"$T/out.json" 2>"$T/err" || fail "annotate exit $?"
read -r n s < <(check_json "$T/out.json") || fail "invalid Kazu JSON"
[ "$n" = 4 ] || fail "expected 4 docs, got $n"
[ "$s" = 20 ] || fail "expected 20 sentences, got $s"
grep -q "4 documents read, 4 written, 0 failed processing, 0 records rejected" "$T/err" || fail "summary: $(cat "$T/err")"
grep -q '\\u03b2-catenin' "$T/out.json" || fail "default output should escape non-ASCII"
# Spans count code points: the title of ex-002 starts with a 2-byte character.
$PY - "$T/out.json" <<'PYEOF' || fail "code-point offsets"
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
sec = docs[1]["sections"][1]
sents = [sec["text"][s["start"]:s["end"]] for s in sec["sentence_spans"]]
assert sents[2] == "Nuclear β-catenin was elevated approx. 2.5-fold in patients (Fig. 2A).", sents
PYEOF

# stdin, --no-ascii, --quiet
"$KAZU" annotate --no-ascii --quiet - <examples/abstracts.jsonl >"$T/utf8.json" 2>"$T/err" || fail "stdin exit $?"
[ -s "$T/err" ] && fail "--quiet printed: $(cat "$T/err")"
grep -q 'β-catenin' "$T/utf8.json" || fail "--no-ascii should write UTF-8"
[ "$(check_json "$T/utf8.json")" = "4 20" ] || fail "stdin output differs"

# text input, whole file and --lines
"$KAZU" annotate -q examples/abstract.txt >"$T/txt.json" || fail "text exit $?"
[ "$(check_json "$T/txt.json" | cut -d' ' -f1)" = 1 ] || fail "text: one document"
printf 'EGFR is mutated. It matters.\n\nBRAF too.\nKRAS is third.\n' >"$T/lines.txt"
"$KAZU" annotate -q --lines "$T/lines.txt" >"$T/lines.json" || fail "--lines exit $?"
[ "$(check_json "$T/lines.json")" = "3 4" ] || fail "--lines: $(check_json "$T/lines.json")"

# globs and directories, in sorted order, batches crossing inputs
mkdir "$T/dir"
head -n 2 examples/abstracts.jsonl >"$T/dir/a.jsonl"
tail -n 2 examples/abstracts.jsonl >"$T/dir/b.jsonl"
"$KAZU" annotate -q -b 3 "$T/dir/*.jsonl" >"$T/glob.json" || fail "glob exit $?"
cmp -s "$T/glob.json" "$T/out.json" || fail "glob output differs from the single-file run"
"$KAZU" annotate -q --batch-size 1 "$T/dir" >"$T/dirout.json" || fail "dir exit $?"
cmp -s "$T/dirout.json" "$T/out.json" || fail "directory output differs"

# --out file
"$KAZU" annotate -q -o "$T/o.json" examples/abstracts.jsonl || fail "--out exit $?"
cmp -s "$T/o.json" "$T/out.json" || fail "--out differs"

# step selection
"$KAZU" annotate -q --steps MergeOverlappingEntsStep examples/abstracts.jsonl >"$T/m.json" || fail "--steps exit $?"
[ "$(check_json "$T/m.json")" = "4 0" ] || fail "--steps MergeOverlappingEntsStep must not split sentences"
"$KAZU" annotate -q --step-group sentences_only examples/abstracts.jsonl >"$T/g.json" || fail "--step-group exit $?"
[ "$(check_json "$T/g.json")" = "4 20" ] || fail "--step-group sentences_only"

# --config: a tiny skip_doc_len marks long documents failed (still written, exit 1)
cat >"$T/cfg.yaml" <<'YAML'
pipeline:
  skip_doc_len: 480
  steps: [SentenceSplitter]
YAML
"$KAZU" annotate --config "$T/cfg.yaml" examples/abstracts.jsonl >"$T/c.json" 2>"$T/err"
rc=$?
[ $rc = 1 ] || fail "long documents: expected exit 1, got $rc"
[ "$(check_json "$T/c.json" | cut -d' ' -f1)" = 4 ] || fail "all documents must still be written"
grep -q 'examples/abstracts.jsonl: document ex-001: Pipeline: document too long: 487. max:480' "$T/err" ||
    fail "failure report: $(cat "$T/err")"
grep -q '1 failed processing' "$T/err" || fail "summary counts the failure"
grep -q 'PROCESSING_EXCEPTION' "$T/c.json" || fail "failure recorded in metadata"
echo "ok"
