#!/usr/bin/env bash
# kazu eval link on a self-contained KB and PubTator gold: accuracy@1 on gold
# mentions through the linking steps, end-to-end strict P/R/F1 through the
# whole pipeline, the MESH: prefix rule, errors file, usage errors.
set -u
KAZU="$1"
T=$(mktemp -d)
trap "rm -rf \"\$T\"" EXIT; [ -n "${KEEP:-}" ] && trap - EXIT && echo "$T"
fail() { echo "FAIL: $*"; exit 1; }

printf 'id\tlabel\tsyns\nMESH:D001943\tBreast Neoplasms\tbreast cancer|breast tumor\nMESH:D009369\tNeoplasms\ttumor|cancer\nOMIM:305900\tG6PD deficiency\tglucose-6-phosphate dehydrogenase deficiency\n' > "$T/dis.tsv"
cat > "$T/kb.yaml" <<Y
kb:
  name: tiny-medic
  sources:
    - name: CTD_MEDIC
      entity_class: disease
      format: tabular
      path: $T/dis.tsv
      source: MEDIC
      delimiter: "\t"
      id_col: id
      label_col: label
      syn_cols: [syns]
      list_sep: "|"
Y
"$KAZU" kb build "$T/kb.yaml" -o "$T/kb.kzkb" > /dev/null 2>&1 || fail "kb build"
printf '1|t|Breast cancer and G6PD deficiency.\n1|a|A tumor was found.\n1\t0\t13\tBreast cancer\tDisease\tD001943\n1\t18\t33\tG6PD deficiency\tDisease\tOMIM:305900\n1\t37\t42\ttumor\tDisease\tD009369\n\n' > "$T/gold.txt"
cat > "$T/p.yaml" <<'Y'
pipeline:
  steps:
    - MemoryEfficientStringMatchingStep
    - DictionaryEntityLinkingStep
    - MappingStep
    - MergeOverlappingEntsStep
Y
"$KAZU" eval link -c "$T/p.yaml" --kb "$T/kb.kzkb" --json --errors "$T/err.tsv" "$T/gold.txt" > "$T/out.json" || fail "eval link exit $?"
python3 - "$T/out.json" <<'P' || fail "results: $(cat "$T/out.json")"
import json, sys
r = json.load(open(sys.argv[1]))["classes"]["disease"]
assert r["gold_mentions"] == 3, r
assert r["acc_at_1"] == 1.0, r
assert r["e2e_recall"] == 1.0 and r["e2e_precision"] == 1.0, r
P
[ ! -s "$T/err.tsv" ] || fail "errors file not empty: $(cat "$T/err.tsv")"
# A wrong gold id shows up as a mention error with both ids.
sed -i 's/D009369$/D000001/' "$T/gold.txt"
"$KAZU" eval link -c "$T/p.yaml" --kb "$T/kb.kzkb" --errors "$T/err.tsv" "$T/gold.txt" > "$T/out.txt" || fail "eval link 2"
grep -q "mention-wrong.*tumor.*D000001.*MESH:D009369" "$T/err.tsv" || fail "wrong id not listed: $(cat "$T/err.tsv")"
grep -q "0.6667" "$T/out.txt" || fail "acc@1 2/3: $(cat "$T/out.txt")"
# Usage errors and a configuration without the linking steps.
"$KAZU" eval link > /dev/null 2>&1; [ $? -eq 2 ] || fail "no gold must be a usage error"
printf 'pipeline:\n  steps: [SentenceSplitter]\n' > "$T/s.yaml"
"$KAZU" eval link -c "$T/s.yaml" "$T/gold.txt" > /dev/null 2>&1; [ $? -eq 3 ] || fail "missing linking steps must be fatal"
echo "eval_link ok"
