#!/bin/bash
# e2e: `kazu ner MODEL INPUT...` on the tiny token-classification model of
# tests/golden/nn_load/tiny_tc (labels permuted in a copy so that the random
# weights yield entities): entities in Kazu JSON with code-point offsets that
# match their text, other writer formats, usage and fatal errors.
set -u
KAZU=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
M=tests/golden/nn_load/tiny_tc

"$KAZU" ner --help | grep -q "Usage: kazu ner" || fail "help"
mkdir "$T/model"
cp "$M/pytorch_model.bin" "$M/vocab.txt" "$M/tokenizer_config.json" "$T/model/"
/usr/bin/python3 - "$M/config.json" "$T/model/config.json" <<'PY' || fail "config copy"
import json, sys
c = json.load(open(sys.argv[1]))
c["id2label"] = {"0": "O", "1": "I-gene", "2": "B-gene"}
c["label2id"] = {"O": 0, "I-gene": 1, "B-gene": 2}
json.dump(c, open(sys.argv[2], "w"))
PY
printf 'égfr mutations in lung cancer patients and brca1 protein\nthe gene egfr is a drug target ( egfr ) ; lung cancer\n' >"$T/in.txt"

"$KAZU" ner -q --lines --max-len 8 --stride 2 "$T/model" "$T/in.txt" >"$T/out.json" || fail "ner exit $?"
/usr/bin/python3 - "$T/out.json" <<'PY' || fail "entities"
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
assert len(docs) == 2, docs
n = 0
for d in docs:
    for s in d["sections"]:
        for e in s.get("entities", []):
            n += 1
            assert e["namespace"] == "TransformersModelForTokenClassificationNerStep", e
            assert e["entity_class"] == "gene", e
            sp = e["spans"][0]
            assert 0 <= sp["start"] < sp["end"] <= len(s["text"]), e
            if len(e["spans"]) == 1:
                assert s["text"][sp["start"]:sp["end"]] == e["match"], (e, s["text"])
            assert not e["match"].endswith(" ") or "split_rule" in e.get("metadata", {}), e
assert n > 0, "no entities"
PY

# the same with one window per section and with int8 weights: still valid documents
"$KAZU" ner -q --lines --max-len 16 --stride 0 --precision int8 "$T/model" "$T/in.txt" >"$T/out8.json" ||
    fail "int8 exit $?"
[ "$(wc -l <"$T/out8.json")" -eq 2 ] || fail "int8 output"
for f in pubtator bioc-json conll; do
    "$KAZU" ner -q --lines --max-len 8 --stride 2 -f "$f" -o "$T/out.$f" "$T/model" "$T/in.txt" ||
        fail "-> $f exit $?"
    [ -s "$T/out.$f" ] || fail "-> $f wrote nothing"
done

"$KAZU" ner -q --stride 3 "$T/model" "$T/in.txt" >/dev/null 2>&1
[ $? -eq 2 ] || fail "odd stride must be a usage error"
"$KAZU" ner -q "$T/model" >/dev/null 2>&1
[ $? -eq 2 ] || fail "missing input must be a usage error"
"$KAZU" ner -q "$T/nonexistent" "$T/in.txt" >/dev/null 2>"$T/err"
[ $? -eq 3 ] || fail "missing model must be fatal"
[ -s "$T/err" ] || fail "missing model: no message"
"$KAZU" ner -q --max-len 64 "$T/model" "$T/in.txt" >/dev/null 2>&1
[ $? -eq 3 ] || fail "max-len beyond the model's positions must be fatal"
echo "ok"
