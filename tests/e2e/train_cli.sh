#!/bin/bash
# e2e: `kazu train` on a tiny CoNLL corpus with the 30-token vocabulary of
# tests/golden/train: trains and saves a loadable .kzm; the same seed gives a
# byte-identical model; a run stopped twice (--stop-after, which leaves only the
# checkpoint, as a kill would) and resumed gives that same model; usage errors.
set -u
KAZU=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
V=tests/golden/train/model/vocab.txt

"$KAZU" train --help | grep -q "Usage: kazu train" || fail "help"
# 48 sentences of single-letter words; "g h" is a gene, "d" a disease
for i in $(seq 1 48); do
  for w in a b c; do printf '%s\tO\n' "$w"; done
  if [ $((i % 2)) = 0 ]; then printf 'g\tB-GENE\nh\tI-GENE\n'; else printf 'd\tB-DISEASE\n'; fi
  for w in e f; do printf '%s\tO\n' "$w"; done
  printf '\n'
done >"$T/train.tsv"
cat >"$T/c.yaml" <<YAML
corpora:
  - name: tiny
    split: train
    format: conll
    path: $T/train.tsv
    labels: {GENE: gene, DISEASE: disease}
YAML
common=(--corpora "$T/c.yaml" --vocab "$V" --layers 1 --hidden 16 --heads 2 --intermediate 32 --max-len 32
        --epochs 3 --batch 8 --lr 3e-3 --seed 7)
"$KAZU" train "${common[@]}" -o "$T/a.kzm" 2>"$T/log" || { cat "$T/log"; fail "train exit"; }
grep -q "train: epoch 3/3 step 18/18 loss" "$T/log" || { cat "$T/log"; fail "progress line"; }
"$KAZU" model info "$T/a.kzm" >/dev/null 2>&1 || fail "model not loadable"
"$KAZU" train "${common[@]}" -q -o "$T/b.kzm" || fail "second run"
cmp -s "$T/a.kzm" "$T/b.kzm" || fail "same seed, different model"
"$KAZU" train "${common[@]}" -q --seed 8 -o "$T/s8.kzm" || fail "seed 8 run"
cmp -s "$T/a.kzm" "$T/s8.kzm" && fail "another seed gave the same model"

ck=(--checkpoint "$T/c.ckpt" --checkpoint-every 4)
"$KAZU" train "${common[@]}" -q "${ck[@]}" --stop-after 5 -o "$T/c.kzm" || fail "stop 1"
[ -e "$T/c.kzm" ] && fail "a stopped run wrote a model"
[ -s "$T/c.ckpt" ] || fail "no checkpoint"
"$KAZU" train "${common[@]}" -q "${ck[@]}" --resume --stop-after 6 -o "$T/c.kzm" || fail "stop 2"
[ -e "$T/c.kzm" ] && fail "a stopped run wrote a model (2)"
"$KAZU" train "${common[@]}" -q "${ck[@]}" --resume -o "$T/c.kzm" || fail "resume"
cmp -s "$T/a.kzm" "$T/c.kzm" || fail "stopped + resumed model differs from the uninterrupted one"
# resuming with other settings is refused
"$KAZU" train "${common[@]}" -q "${ck[@]}" --resume --batch 4 -o "$T/d.kzm" 2>/dev/null && fail "resume with other batch"

"$KAZU" train --vocab "$V" -o "$T/x.kzm" 2>/dev/null; [ $? = 2 ] || fail "missing --corpora must be a usage error"
"$KAZU" train "${common[@]}" --resume -o "$T/x.kzm" 2>/dev/null; [ $? = 2 ] || fail "--resume without --checkpoint"
"$KAZU" train "${common[@]}" --hidden 15 -o "$T/x.kzm" 2>/dev/null; [ $? = 2 ] || fail "hidden % heads"
"$KAZU" train "${common[@]}" --corpora "$T/missing.yaml" -o "$T/x.kzm" 2>/dev/null; [ $? = 3 ] || fail "missing corpus list"
echo "ok"
