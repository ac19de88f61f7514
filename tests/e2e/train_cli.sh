#!/bin/bash
# e2e: `kazu train` on a tiny CoNLL corpus with the 30-token vocabulary of
# tests/golden/train: trains and saves a loadable .kzm; the same seed gives a
# byte-identical model; a run stopped twice (--stop-after, which leaves only the
# checkpoint, as a kill would) and resumed gives that same model; usage errors.
# Masked-LM pre-training on raw text (+ the corpus list's text): the same, and
# NER fine-tuning from the saved encoder (a new classifier head).
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

# ---- masked-LM pre-training ----
for i in $(seq 1 40); do
  echo "a b c g h d e f"
  [ $((i % 4)) = 0 ] && echo
done >"$T/raw.txt"
printf 'x y z\n\nk l m n\n' | gzip >"$T/more.txt.gz"
mlm=(--objective mlm --vocab "$V" --layers 1 --hidden 16 --heads 2 --intermediate 32 --max-len 16
     --epochs 2 --batch 4 --lr 3e-3 --seed 7 --mlm-corpora "$T/c.yaml" --mlm-text "$T/raw.txt")
"$KAZU" train "${mlm[@]}" "$T/more.txt.gz" -o "$T/enc.kzm" 2>"$T/mlog" || { cat "$T/mlog"; fail "mlm exit"; }
grep -q "masked LM on 66 windows" "$T/mlog" || { cat "$T/mlog"; fail "mlm windows"; }
grep -q "mlm: epoch 2/2 step 34/34 loss" "$T/mlog" || { cat "$T/mlog"; fail "mlm progress line"; }
"$KAZU" model info "$T/enc.kzm" 2>&1 | grep -q "head: *none" || fail "the encoder has a head"
"$KAZU" train "${mlm[@]}" "$T/more.txt.gz" -q -o "$T/enc2.kzm" || fail "mlm second run"
cmp -s "$T/enc.kzm" "$T/enc2.kzm" || fail "mlm: same seed, different encoder"
# (single-letter words here: whole-word masking selects exactly what token masking does)
"$KAZU" train "${mlm[@]}" "$T/more.txt.gz" -q --whole-word -o "$T/enc3.kzm" || fail "mlm whole words"
cmp -s "$T/enc.kzm" "$T/enc3.kzm" || fail "whole-word masking of one-token words changed the masks"
"$KAZU" train "${mlm[@]}" "$T/more.txt.gz" -q --mlm-prob 0.3 -o "$T/enc4.kzm" || fail "mlm prob 0.3"
cmp -s "$T/enc.kzm" "$T/enc4.kzm" && fail "--mlm-prob changed nothing"
mk=(--checkpoint "$T/m.ckpt" --checkpoint-every 7)
"$KAZU" train "${mlm[@]}" "$T/more.txt.gz" -q "${mk[@]}" --stop-after 9 -o "$T/encr.kzm" || fail "mlm stop 1"
[ -e "$T/encr.kzm" ] && fail "a stopped mlm run wrote a model"
"$KAZU" train "${mlm[@]}" "$T/more.txt.gz" -q "${mk[@]}" --resume --stop-after 8 -o "$T/encr.kzm" || fail "mlm stop 2"
"$KAZU" train "${mlm[@]}" "$T/more.txt.gz" -q "${mk[@]}" --resume -o "$T/encr.kzm" || fail "mlm resume"
cmp -s "$T/enc.kzm" "$T/encr.kzm" || fail "stopped + resumed encoder differs from the uninterrupted one"
"$KAZU" train "${mlm[@]}" "$T/more.txt.gz" -q "${mk[@]}" --resume --mlm-prob 0.2 -o "$T/x.kzm" 2>/dev/null &&
  fail "mlm resume with other masking"
# NER from the encoder: a new head, the data's labels
ft=(--corpora "$T/c.yaml" --init "$T/enc.kzm" --epochs 3 --batch 8 --lr 3e-3 --seed 7)
"$KAZU" train "${ft[@]}" -o "$T/ft.kzm" 2>"$T/flog" || { cat "$T/flog"; fail "fine-tune exit"; }
grep -q "new classifier for 16 labels" "$T/flog" || { cat "$T/flog"; fail "no new head"; }
"$KAZU" model info "$T/ft.kzm" 2>&1 | grep -q "B-gene" || fail "fine-tuned model lacks the labels"
"$KAZU" train "${ft[@]}" -q --init "$T/ft.kzm" -o "$T/ft2.kzm" || fail "fine-tune a fine-tuned model again"
"$KAZU" train --objective mlm --vocab "$V" -o "$T/x.kzm" 2>/dev/null; [ $? = 2 ] || fail "mlm without text"
"$KAZU" train --objective xyz --corpora "$T/c.yaml" --vocab "$V" -o "$T/x.kzm" 2>/dev/null; [ $? = 2 ] ||
  fail "unknown objective"
"$KAZU" train "${common[@]}" --mlm-text "$T/raw.txt" -o "$T/x.kzm" 2>/dev/null; [ $? = 2 ] || fail "--mlm-text for ner"
"$KAZU" train "${mlm[@]}" --corpora "$T/c.yaml" -o "$T/x.kzm" 2>/dev/null; [ $? = 2 ] || fail "--corpora for mlm"
"$KAZU" train "${mlm[@]}" --mlm-text "$T/missing.txt" -o "$T/x.kzm" 2>/dev/null; [ $? = 3 ] || fail "missing text"

"$KAZU" train --vocab "$V" -o "$T/x.kzm" 2>/dev/null; [ $? = 2 ] || fail "missing --corpora must be a usage error"
"$KAZU" train "${common[@]}" --resume -o "$T/x.kzm" 2>/dev/null; [ $? = 2 ] || fail "--resume without --checkpoint"
"$KAZU" train "${common[@]}" --hidden 15 -o "$T/x.kzm" 2>/dev/null; [ $? = 2 ] || fail "hidden % heads"
"$KAZU" train "${common[@]}" --corpora "$T/missing.yaml" -o "$T/x.kzm" 2>/dev/null; [ $? = 3 ] || fail "missing corpus list"
echo "ok"
