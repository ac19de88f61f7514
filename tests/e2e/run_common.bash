# Helpers shared by the tests/e2e/run_*.sh tests of `kazu run` (sourced; not a test itself).
fail() { echo "FAIL: $*"; exit 1; }

# gen_corpus DIR SHARDS DOCS: SHARDS JSONL files of DOCS abstracts each, ids s<k>d<i>.
gen_corpus() {
    local dir=$1 shards=$2 docs=$3 k i
    local -a w1=(BRCA1 EGFR TP53 KRAS ALK HER2 PTEN MYC) w2=("breast cancer" "lung adenocarcinoma" "type 2 diabetes"
        "Parkinson disease" "asthma" "melanoma") w3=(tamoxifen osimertinib metformin levodopa aspirin cisplatin)
    mkdir -p "$dir"
    for ((k = 0; k < shards; k++)); do
        for ((i = 0; i < docs; i++)); do
            local a=${w1[$(((i + k) % 8))]} b=${w2[$(((i * 7 + k) % 6))]} c=${w3[$(((i * 5 + 3 * k) % 6))]}
            printf '{"id":"s%dd%d","text":"Role of %s in %s (study %d.%d). Patients with %s received %s; %d of them responded. Mutations in %s were seen in mice and humans. No adverse events were reported in cohort %d."}\n' \
                "$k" "$i" "$a" "$b" "$k" "$i" "$b" "$c" $((i % 97)) "$a" $((i % 13))
        done >"$dir/shard$k.jsonl"
    done
}

# same_outputs A B: the shard outputs (not the manifest) of two output directories are byte-identical.
same_outputs() {
    local a=$1 b=$2 f n=0
    for f in "$a"/*.jsonl; do
        local base=${f##*/}
        [ "$base" = kazu-run.manifest.jsonl ] && continue
        cmp -s "$f" "$b/$base" || fail "$b/$base differs from $f"
        n=$((n + 1))
    done
    [ "$n" -gt 0 ] || fail "no outputs in $a"
    [ "$(ls "$a" | grep -vc manifest)" = "$(ls "$b" | grep -vc manifest)" ] || fail "$a and $b hold different files"
}
