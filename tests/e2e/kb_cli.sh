#!/bin/bash
# e2e: `kazu kb build|info|lookup|diff|verify` on packs built from a two-source
# tabular recipe: caching by input hash, determinism, lookups, upgrade report,
# corruption and usage errors with their exit codes.
set -u
KAZU=$1
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail() {
    echo "FAIL: $*"
    exit 1
}
expect_rc() { # expect_rc WANT GOT WHAT
    [ "$2" -eq "$1" ] || fail "$3: exit $2, expected $1"
}

cd "$T" || exit 1
printf 'id\tlabel\tsynonyms\tdbxrefs\nTOY:0001\ttype 2 diabetes mellitus\tT2DM|type II diabetes|NIDDM\tMESH:D003924\nTOY:0002\tSjögren syndrome\tSjogren syndrome|sicca syndrome\t\nTOY:0003\tasthma\tbronchial asthma\tMESH:D001249\n' >diseases.tsv
printf 'id\tsymbol\tname\talias\nHGNC:6553\tSNCA\tsynuclein alpha\tPARK1|NACP\nHGNC:1100\tBRCA1\tBRCA1 DNA repair associated\tRNF53\n' >genes.tsv
cat >recipe.yaml <<'EOF'
kb:
  name: e2e-kb
  sources:
    - name: TOYDIS
      entity_class: disease
      format: tabular
      path: diseases.tsv
      source: TOY
      data_origin: "v1"
      id_col: id
      label_col: label
      syn_cols: [synonyms]
      xref_cols: [dbxrefs]
      list_sep: "|"
    - name: TOYGENE
      entity_class: gene
      format: tabular
      path: genes.tsv
      source: HGNC
      data_origin: "2024-01"
      id_col: id
      label_col: symbol
      syn_cols: [name, alias]
      list_sep: "|"
EOF

# ---- build, cache, determinism ----
out=$("$KAZU" kb build recipe.yaml -o toy.kzkb 2>&1)
expect_rc 0 $? "build ($out)"
[ -s toy.kzkb ] || fail "no pack written"
echo "$out" | grep -q "wrote toy.kzkb: 2 parsers, 5 ids" || fail "build summary: $out"
ls toy.kzkb.tmp.* >/dev/null 2>&1 && fail "temporary file left behind"
out=$("$KAZU" kb build recipe.yaml -o toy.kzkb 2>&1)
expect_rc 0 $? "second build"
echo "$out" | grep -q "up to date" || fail "second build did not use the input hash: $out"
cp toy.kzkb first.kzkb
out=$("$KAZU" kb build recipe.yaml -o toy.kzkb --force 2>&1)
expect_rc 0 $? "forced build"
echo "$out" | grep -q "wrote" || fail "--force did not rebuild: $out"
cmp -s toy.kzkb first.kzkb || fail "two builds of the same recipe differ"

# ---- info ----
out=$("$KAZU" kb info toy.kzkb --verify)
expect_rc 0 $? "info"
for want in "name          e2e-kb" "format        version 1" "(verified)" "2 parsers, 5 ids" "STRS" "KEYS"; do
    echo "$out" | grep -qF "$want" || fail "info lacks '$want': $out"
done
echo "$out" | grep -Eq "^TOYDIS +disease +TOY +v1 +3 +9 +9$" || fail "info parser row: $out"
out=$("$KAZU" kb info toy.kzkb --json)
expect_rc 0 $? "info --json"
if command -v python3 >/dev/null; then
    echo "$out" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["name"] == "e2e-kb" and j["format_version"] == 1, j
assert j["counts"]["parsers"] == 2 and j["counts"]["ids"] == 5, j["counts"]
assert [p["name"] for p in j["parsers"]] == ["TOYDIS", "TOYGENE"]
assert j["parsers"][1]["ids"] == 2 and j["parsers"][1]["entity_class"] == "gene"
assert sum(p["synonyms"] for p in j["parsers"]) == j["counts"]["synonyms"]
assert len(j["input_hash"]) == 64 and j["verified"] is None
' || fail "info --json content: $out"
fi

# ---- lookup ----
out=$("$KAZU" kb lookup toy.kzkb "Type II  Diabetes")
expect_rc 0 $? "lookup"
echo "$out" | grep -q 'disease: key "TYPE 2 DIABETE": 1 candidate' || fail "lookup key: $out"
echo "$out" | grep -q 'TOY:0001  (source TOY)  "type 2 diabetes mellitus"' || fail "lookup ids: $out"
echo "$out" | grep -q "UNAMBIGUOUS" || fail "lookup aggregation: $out"
out=$("$KAZU" kb lookup toy.kzkb SNCA --class gene --json)
expect_rc 0 $? "lookup --class --json"
if command -v python3 >/dev/null; then
    echo "$out" | python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["n_candidates"] == 1 and len(j["classes"]) == 1
c = j["classes"][0]["candidates"][0]
assert c["parser"] == "TOYGENE" and c["id_sets"][0][0]["idx"] == "HGNC:6553", c
assert c["id_sets"][0][0]["default_label"] == "SNCA" and c["id_sets"][0][0]["source"] == "HGNC"
' || fail "lookup --json content: $out"
fi
"$KAZU" kb lookup toy.kzkb "no such thing" >/dev/null
expect_rc 1 $? "lookup miss"
"$KAZU" kb lookup toy.kzkb asthma --class gene >/dev/null
expect_rc 1 $? "lookup in the wrong class"

# ---- diff: an upgraded ontology ----
printf 'id\tlabel\tsynonyms\tdbxrefs\nTOY:0001\ttype 2 diabetes mellitus\tT2DM|type II diabetes|adult-onset diabetes\tMESH:D003924\nTOY:0003\tasthma\tbronchial asthma\tMESH:D001249\nTOY:0004\tgout\tpodagra\t\n' >diseases.tsv
out=$("$KAZU" kb build recipe.yaml -o new.kzkb 2>&1)
expect_rc 0 $? "build of the upgrade ($out)"
"$KAZU" kb build recipe.yaml -o toy.kzkb 2>&1 | grep -q "wrote" || fail "a changed input did not trigger a rebuild"
cmp -s toy.kzkb new.kzkb || fail "rebuild differs from a fresh build"
out=$("$KAZU" kb diff first.kzkb new.kzkb)
expect_rc 1 $? "diff of different packs"
echo "$out" | grep -q "^TOYDIS: changed; ids 3 -> 3 (+1 -1)" || fail "diff counts: $out"
echo "$out" | grep -q '+ id TOY:0004  "gout"' || fail "diff added id: $out"
echo "$out" | grep -q '\- id TOY:0002  "Sjögren syndrome"' || fail "diff removed id: $out"
echo "$out" | grep -q "+ synonym adult-onset diabetes" || fail "diff added synonym: $out"
echo "$out" | grep -q "\- synonym NIDDM" || fail "diff removed synonym: $out"
echo "$out" | grep -q "^TOYGENE: same" || fail "diff unchanged parser: $out"
out=$("$KAZU" kb diff first.kzkb new.kzkb --limit 1)
[ "$(echo "$out" | grep -c '^    [+-] synonym')" -eq 2 ] || fail "--limit 1 lists: $out"
echo "$out" | grep -q "more (--limit)" || fail "--limit note: $out"
out=$("$KAZU" kb diff first.kzkb new.kzkb --json --limit all)
if command -v python3 >/dev/null; then
    echo "$out" | python3 -c '
import json, sys
j = json.load(sys.stdin)
p = {x["name"]: x for x in j["parsers"]}
assert p["TOYDIS"]["status"] == "changed" and p["TOYGENE"]["status"] == "same"
assert p["TOYDIS"]["ids"]["added_list"] == [{"idx": "TOY:0004", "default_label": "gout"}], p["TOYDIS"]["ids"]
assert j["totals"]["ids_added"] == 1 and j["totals"]["ids_removed"] == 1
' || fail "diff --json content: $out"
fi
"$KAZU" kb diff first.kzkb first.kzkb >/dev/null
expect_rc 0 $? "diff of a pack with itself"

# ---- verify and corruption ----
out=$("$KAZU" kb verify toy.kzkb)
expect_rc 0 $? "verify"
echo "$out" | grep -q ": ok (format 1" || fail "verify output: $out"
cp toy.kzkb bad.kzkb
size=$(stat -c %s bad.kzkb)
printf 'X' | dd of=bad.kzkb bs=1 seek=$((size - 700)) conv=notrunc 2>/dev/null
out=$("$KAZU" kb verify bad.kzkb 2>&1)
expect_rc 3 $? "verify of a corrupt body"
echo "$out" | grep -q "SHA-256" || fail "verify message: $out"
"$KAZU" kb info bad.kzkb --verify >/dev/null 2>&1
expect_rc 3 $? "info --verify of a corrupt body"
head -c 2000 toy.kzkb >cut.kzkb
out=$("$KAZU" kb info cut.kzkb 2>&1)
expect_rc 3 $? "info of a truncated pack"
echo "$out" | grep -q "truncated" || fail "truncation message: $out"
echo "not a pack" >text.kzkb
out=$("$KAZU" kb lookup text.kzkb x 2>&1)
expect_rc 3 $? "lookup in a non-pack"
echo "$out" | grep -q "not a kazu-c knowledge-base pack" || fail "bad magic message: $out"
"$KAZU" kb info missing.kzkb >/dev/null 2>&1
expect_rc 3 $? "info of a missing pack"

# ---- build failures leave no pack ----
sed 's/diseases.tsv/nothere.tsv/' recipe.yaml >broken.yaml
"$KAZU" kb build broken.yaml -o broken.kzkb >/dev/null 2>&1
expect_rc 3 $? "build with a missing input"
[ -e broken.kzkb ] && fail "failed build left a pack"
ls broken.kzkb.tmp.* >/dev/null 2>&1 && fail "failed build left a temporary file"

echo "my notes" >notes.txt
out=$("$KAZU" kb build recipe.yaml -o notes.txt 2>&1)
expect_rc 3 $? "build over a file that is not a pack"
echo "$out" | grep -q "not a kazu-c pack; not overwriting" || fail "overwrite message: $out"
[ "$(cat notes.txt)" = "my notes" ] || fail "a non-pack file was overwritten"
"$KAZU" kb build recipe.yaml -o bad.kzkb >/dev/null 2>&1
expect_rc 0 $? "rebuild over a corrupt pack"
"$KAZU" kb verify bad.kzkb >/dev/null || fail "rebuilt pack does not verify"

# ---- usage ----
"$KAZU" kb >/dev/null 2>&1
expect_rc 2 $? "kb without subcommand"
"$KAZU" kb frobnicate >/dev/null 2>&1
expect_rc 2 $? "unknown subcommand"
"$KAZU" kb build recipe.yaml >/dev/null 2>&1
expect_rc 2 $? "build without -o"
"$KAZU" kb info toy.kzkb extra >/dev/null 2>&1
expect_rc 2 $? "info with two packs"
"$KAZU" kb info toy.kzkb --class gene >/dev/null 2>&1
expect_rc 2 $? "info with a lookup option"
"$KAZU" kb diff a.kzkb --limit x >/dev/null 2>&1
expect_rc 2 $? "bad --limit"
"$KAZU" kb --help | grep -q "kazu kb lookup PACK TEXT" || fail "kb --help"
"$KAZU" help kb | grep -q "kazu kb diff OLD NEW" || fail "help kb"
"$KAZU" kb download --help | grep -q "MANIFEST" || fail "kb download is not forwarded"
echo "kb_cli: ok"
