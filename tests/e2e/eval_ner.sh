#!/bin/bash
# e2e: `kazu eval ner` file mode on hand-computed PubTator cases (table and
# JSON), usage errors, mismatched documents; model mode when a trained model is
# given in $KZ_EVAL_MODEL (skipped otherwise).
set -u
KAZU=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# "BRCA1 causes breast cancer and lung cancer." (0 BRCA1 5, 13 breast 19, 20 cancer 26, 31 lung 35, 36 cancer 42)
printf '1|t|BRCA1 causes breast cancer and lung cancer.\n1|a|Mice.\n1\t0\t5\tBRCA1\tGene\t672\n1\t13\t26\tbreast cancer\tDisease\tD1\n1\t31\t42\tlung cancer\tDisease\tD2\n1\t44\t48\tMice\tSpecies\t10090\n\n' > "$T/gold.txt"
# pred: gene ok; "cancer" boundary error; "lung cancer" ok; "Mice" as a gene (type error)
printf '1|t|BRCA1 causes breast cancer and lung cancer.\n1|a|Mice.\n1\t0\t5\tBRCA1\tGene\t672\n1\t20\t26\tcancer\tDisease\tD1\n1\t31\t42\tlung cancer\tDisease\tD2\n1\t44\t48\tMice\tGene\t1\n\n' > "$T/pred.txt"

"$KAZU" eval ner --gold "$T/gold.txt" --pred "$T/pred.txt" --gold-format pubtator --pred-format pubtator > "$T/out" 2> "$T/err" || fail "file mode exit $?"
# gene: tp 1 fp 1 fn 0 -> P 50 R 100 F1 66.67; disease: tp 1 fp 1 fn 1 -> 50/50/50; species: fn 1
grep -Eq '^gold +gene +50\.00 +100\.00 +66\.67 +1 +1 +1 +0$' "$T/out" || { cat "$T/out"; fail "gene row"; }
grep -Eq '^gold +disease +50\.00 +50\.00 +50\.00 +2 +1 +1 +1$' "$T/out" || { cat "$T/out"; fail "disease row"; }
grep -Eq '^gold +species +0\.00 +0\.00 +0\.00 +1 +0 +0 +1$' "$T/out" || { cat "$T/out"; fail "species row"; }
# micro: tp 2 fp 2 fn 2 -> 50/50/50; macro: P (50+50+0)/3, R (100+50+0)/3, F1 (66.67+50+0)/3
grep -Eq '^gold +\(micro\) +50\.00 +50\.00 +50\.00 +4 +2 +2 +2$' "$T/out" || { cat "$T/out"; fail "micro row"; }
grep -Eq '^gold +\(macro\) +33\.33 +50\.00 +38\.89$' "$T/out" || { cat "$T/out"; fail "macro row"; }

"$KAZU" eval ner --gold "$T/gold.txt" --pred "$T/pred.txt" --gold-format pubtator --pred-format pubtator \
    --classes disease --json > "$T/json" || fail "json exit"
grep -q '"disease": {"precision": 0.500000, "recall": 0.500000, "f1": 0.500000, "support": 2, "tp": 1, "fp": 1, "fn": 1}' "$T/json" || { cat "$T/json"; fail "json disease"; }
grep -q '"gene"' "$T/json" && fail "--classes disease still scored gene"

# usage errors and a mismatch
"$KAZU" eval ner --gold "$T/gold.txt" > /dev/null 2>&1; [ $? -eq 2 ] || fail "missing --pred not a usage error"
"$KAZU" eval ner --model x --gold y > /dev/null 2>&1; [ $? -eq 2 ] || fail "both modes not a usage error"
sed 's/^1/2/' "$T/pred.txt" > "$T/other.txt"
"$KAZU" eval ner --gold "$T/gold.txt" --pred "$T/other.txt" --gold-format pubtator --pred-format pubtator > /dev/null 2> "$T/err"
[ $? -eq 3 ] || fail "id mismatch not fatal"
grep -q "gold id '1' but predicted id '2'" "$T/err" || { cat "$T/err"; fail "mismatch message"; }

if [ -n "${KZ_EVAL_MODEL:-}" ] && [ -d "${KZ_SHARED_DATA:-/nonexistent}" ]; then
    "$KAZU" eval ner --model "$KZ_EVAL_MODEL" --corpora "$(dirname "$0")/../../train/corpora.yaml" --corpus NCBI-disease \
        --limit 20 --json > "$T/m.json" || fail "model mode"
    grep -q '"NCBI-disease"' "$T/m.json" || fail "model mode output"
fi
echo "eval_ner: ok"
