#!/usr/bin/env bash
# kazu eval link on a self-contained KB and PubTator gold: accuracy@1 on gold
# mentions through the linking steps, end-to-end strict P/R/F1 through the
# whole pipeline, the MESH: prefix rule, errors file, usage errors; --equiv
# xrefs, abbreviations in the gold-mention steps, --write-curations.
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
[ "$(awk -F'\t' '{print NF}' "$T/err.tsv" | sort -u)" = 11 ] || fail "errors TSV must have 11 columns"

# --equiv xrefs: gold OMIM:100 is an xref of MESH:D000100, which the linker predicts.
printf 'id\tlabel\tsyns\txrefs\nMESH:D000100\tFoo Syndrome\tfoo disease\tOMIM:100|DO:DOID:1\nMESH:D000200\tBar Neoplasms\tbar tumour\t\n' > "$T/x.tsv"
xkb() { # recipe for x.tsv; $1: extra source lines
cat <<Y
kb:
  name: tiny-xrefs
  sources:
    - name: CTD_MEDIC
      entity_class: disease
      format: tabular
      path: $T/x.tsv
      source: MEDIC
      delimiter: "\t"
      id_col: id
      label_col: label
      syn_cols: [syns]
      xref_cols: [xrefs]
      list_sep: "|"
$1
Y
}
xkb "" > "$T/x.yaml"
"$KAZU" kb build "$T/x.yaml" -o "$T/x.kzkb" > /dev/null 2>&1 || fail "kb build (xrefs)"
printf '2|t|Foo syndrome and Bar neoplasm (BN) with BN.\n2|a|\n2\t0\t12\tFoo syndrome\tDisease\tOMIM:100\n2\t17\t29\tBar neoplasm\tDisease\tD000200\n2\t31\t33\tBN\tDisease\tD000200\n2\t40\t42\tBN\tDisease\tD000200\n\n' > "$T/g2.txt"
cat > "$T/p2.yaml" <<'Y'
pipeline:
  steps:
    - DictionaryEntityLinkingStep
    - type: MappingStep
      params:
        variant_keys: {v: {}}
        strategies:
          non_symbolic:
            HIGHLY_LIKELY:
              default:
                - {type: ExactMatch, disambiguation: default}
                - {type: VariantMatch, key: v, disambiguation: default}
    - type: AbbreviationFinderStep
      params: {keep_unlinked_short_forms: true}
Y
"$KAZU" eval link -c "$T/p2.yaml" --kb "$T/x.kzkb" --no-e2e --json "$T/g2.txt" > "$T/o2.json" || fail "eval link (none)"
"$KAZU" eval link -c "$T/p2.yaml" --kb "$T/x.kzkb" --no-e2e --json --equiv xrefs "$T/g2.txt" > "$T/o3.json" || fail "eval link (xrefs)"
python3 - "$T/o2.json" "$T/o3.json" <<'P' || fail "equiv: $(cat "$T/o2.json" "$T/o3.json")"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
# Bar neoplasm: VariantMatch (plural "Neoplasms"); both BN: the abbreviation finder copies its mapping
assert a["equiv"] == "none" and a["classes"]["disease"]["acc_at_1"] == 0.75, a
assert b["equiv"] == "xrefs" and b["classes"]["disease"]["acc_at_1"] == 1.0, b
assert b["mentions_correct_via_xref"] == 1, b
P
# without the abbreviation finder in the steps, BN maps to nothing
"$KAZU" eval link -c "$T/p2.yaml" --kb "$T/x.kzkb" --no-e2e --json --equiv xrefs --link-steps DictionaryEntityLinkingStep,MappingStep "$T/g2.txt" > "$T/o4.json" || fail "eval link (steps)"
grep -q '"acc_at_1":0.5000' "$T/o4.json" || fail "link steps without abbreviations: $(cat "$T/o4.json")"
"$KAZU" eval link -c "$T/p2.yaml" --kb "$T/x.kzkb" --equiv all "$T/g2.txt" > /dev/null 2>&1; [ $? -eq 2 ] || fail "--equiv all must be a usage error"

# --write-curations: the gold mentions as Kazu curations; a pack built with them links "foo"
printf '3|t|Foo is common; foo again; Bar neoplasm.\n3|a|\n3\t0\t3\tFoo\tDisease\tOMIM:100\n3\t15\t18\tfoo\tDisease\tOMIM:100\n3\t26\t38\tBar neoplasm\tDisease\tD000200\n\n' > "$T/g3.txt"
"$KAZU" eval link -c "$T/p2.yaml" --kb "$T/x.kzkb" --no-e2e --write-curations "$T/cur.jsonl" "$T/g3.txt" > "$T/o5.txt" 2>/dev/null || fail "write curations"
[ "$(wc -l < "$T/cur.jsonl")" = 2 ] || fail "two curations expected: $(cat "$T/cur.jsonl")"
grep -q '"text":"Foo".*"text":"foo".*\["MESH:D000100","MEDIC"\]' "$T/cur.jsonl" || fail "curation for foo: $(cat "$T/cur.jsonl")"
grep -q '"ADD_FOR_NER_AND_LINKING"' "$T/cur.jsonl" || fail "curation behaviour"
grep -q "0.3333" "$T/o5.txt" || fail "before curations: $(cat "$T/o5.txt")"
xkb "      curations: $T/cur.jsonl" > "$T/c.yaml"
"$KAZU" kb build "$T/c.yaml" -o "$T/c.kzkb" > /dev/null 2>&1 || fail "kb build (curations)"
"$KAZU" eval link -c "$T/p2.yaml" --kb "$T/c.kzkb" --no-e2e --equiv xrefs "$T/g3.txt" > "$T/o6.txt" 2>/dev/null || fail "eval (curations)"
grep -q "^ALL .* 1.0000" "$T/o6.txt" || fail "after curations: $(cat "$T/o6.txt")"
echo "eval_link ok"
