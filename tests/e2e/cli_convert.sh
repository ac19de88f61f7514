#!/bin/bash
# e2e: `kazu convert` between formats (no pipeline): round trips through Kazu
# JSON, and every writable format produces output.
set -u
KAZU=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$KAZU" convert -q examples/abstracts.jsonl >"$T/a.json" || fail "jsonl -> kazu-json exit $?"
/usr/bin/python3 -c '
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert [d["idx"] for d in docs] == ["ex-001", "ex-002", "ex-003", "ex-004"], docs
assert [s["name"] for s in docs[1]["sections"]] == ["title", "abstract"]
assert all("sentence_spans" not in s for d in docs for s in d["sections"]), "convert must not run steps"
' "$T/a.json" || fail "converted Kazu JSON"
# Kazu JSON -> Kazu JSON is the identity; the format is guessed from content.
"$KAZU" convert -q "$T/a.json" >"$T/b.json" || fail "kazu-json -> kazu-json exit $?"
cmp -s "$T/a.json" "$T/b.json" || fail "kazu-json round trip changed the documents"
# Annotated documents survive a round trip too (sentence spans included).
"$KAZU" annotate -q examples/abstracts.jsonl >"$T/ann.json" || fail "annotate"
"$KAZU" convert -q --in-format kazu-json - <"$T/ann.json" >"$T/ann2.json" || fail "stdin kazu-json"
cmp -s "$T/ann.json" "$T/ann2.json" || fail "annotated round trip changed the documents"

for f in pubtator bioc-xml bioc-json conll label-studio jsonl; do
    "$KAZU" convert -q -f "$f" -o "$T/out.$f" examples/abstracts.jsonl || fail "-> $f exit $?"
    [ -s "$T/out.$f" ] || fail "-> $f wrote nothing"
done
grep -q "ex-001" "$T/out.bioc-xml" || fail "bioc-xml lacks the document id"
"$KAZU" convert -q -f brat -o "$T/brat" examples/abstracts.jsonl || fail "-> brat exit $?"
[ "$(ls "$T/brat" | wc -l)" -ge 8 ] || fail "brat: .txt + .ann per document"
# Text to Kazu JSON keeps the whole file as one section.
"$KAZU" convert -q examples/abstract.txt >"$T/t.json" || fail "text exit $?"
/usr/bin/python3 -c '
import json, sys
d = json.loads(open(sys.argv[1], encoding="utf-8").read())
assert d["sections"][0]["text"].startswith("Imatinib in chronic myeloid leukaemia"), d
' "$T/t.json" || fail "text conversion"
echo "ok"
