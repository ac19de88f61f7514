/* Training examples from small self-contained fixtures (CoNLL, PubTator,
 * brat directory, brat tar): exact token ids, B-/I- targets on first
 * sub-tokens, token masks, per-corpus label masks, windows and strides. */
#include <sys/stat.h>
#include <unistd.h>
#include "kazu/kazu.h"
#include "kazu/nn.h"
#include "kz_test.h"
#include "train/data_int.h"

static const char k_vocab[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n"
                              "il\n-\n2\ngene\nexpression\nin\nt\ncell\n##s\n.\n"
                              "brca\n##1\ncauses\ncancer\nmice\nlack\nit\na\nb\nc\nd\ne\nf\ng\nh\n";
/* ids: 5 il, 6 -, 7 2, 8 gene, 9 expression, 10 in, 11 t, 12 cell, 13 ##s, 14 .,
 *      15 brca, 16 ##1, 17 causes, 18 cancer, 19 mice, 20 lack, 21 it, 22 a .. 29 h */

static char g_dir[256];

static const char *fixture(const char *name, const char *text, size_t len) {
    static char path[512];
    if (!g_dir[0]) {
        snprintf(g_dir, sizeof g_dir, "/tmp/kz_train_data_XXXXXX");
        if (!mkdtemp(g_dir)) return NULL;
    }
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return NULL;
    fwrite(text, 1, len, f);
    fclose(f);
    return path;
}

static kz_wordpiece *vocab(void) {
    kz_wordpiece *wp = NULL;
    kz_wordpiece_from_buffer(k_vocab, sizeof k_vocab - 1, NULL, &wp, NULL);
    return wp;
}

/* Build from a one-corpus YAML whose path is the fixture. */
static int build(const char *yaml_fmt, const char *path, uint32_t max_len, uint32_t stride, kz_train_data *d,
                 kz__corpus_counts **cnt) {
    char yaml[2048];
    snprintf(yaml, sizeof yaml, yaml_fmt, path);
    kz__corpus_list l;
    kz_error err;
    kz_error_clear(&err);
    int rc = kz__corpora_parse(yaml, strlen(yaml), "test.yaml", "/", &l, &err);
    if (rc) {
        fprintf(stderr, "yaml: %s\n", err.msg);
        return rc;
    }
    kz_wordpiece *wp = vocab();
    rc = kz__train_data_build(&l, "train", wp, max_len, stride, NULL, d, cnt, &err);
    if (rc) fprintf(stderr, "build: %s\n", err.msg);
    kz_wordpiece_free(wp);
    kz__corpora_free(&l);
    return rc;
}

/* Label bits of row t: bit l set when targets[t][l] == 1. */
static unsigned row_bits(const kz_train_example *ex, uint32_t t) {
    unsigned b = 0;
    for (int l = 0; l < 16; l++)
        if (ex->targets[t * 16 + l] == 1.0f) b |= 1u << l;
    return b;
}
#define B_(c) (1u << (2 * (c)))
#define I_(c) (1u << (2 * (c) + 1))
enum { GENE = 0, DISEASE = 1, DRUG = 2, SPECIES = 3, CELL_LINE = 4, CELL_TYPE = 5, ANATOMY = 6 };

static const char k_conll[] =
    "-DOCSTART-\tO\n\n"
    "IL-2\tB-GENE\ngene\tI-GENE\nexpression\tO\nin\tO\nT\tB-Cell\ncells\tI-Cell\n.\tO\n\n"
    "gene\tI-GENE\nbad line without tag\n\n";

KZ_TEST(test_conll_targets_and_masks) {
    const char *p = fixture("a.tsv", k_conll, sizeof k_conll - 1);
    KZ_CHECK(p);
    kz_train_data d;
    kz__corpus_counts *cnt;
    KZ_CHECK_INT(build("corpora:\n  - {name: C, format: conll, path: \"%s\", labels: {GENE: gene}}\n", p, 128,
                       16, &d, &cnt),
                 0);
    KZ_CHECK_INT(d.n, 2);
    KZ_CHECK_INT(d.n_corpora, 1);
    KZ_CHECK_STR(d.corpora[0], "C");
    KZ_CHECK_INT(cnt[0].docs, 2);
    KZ_CHECK_INT(cnt[0].skipped_records, 1);  /* the line without a tag */
    KZ_CHECK_INT(cnt[0].dropped_entities, 1); /* Cell is not mapped */
    KZ_CHECK_INT(cnt[0].entities[GENE], 2);   /* the orphan I- starts an entity, as seqeval reads it */
    const kz_train_example *ex = &d.ex[0];
    /* "IL-2 gene expression in T cells ." -> il - 2 gene expression in t cell ##s . */
    static const int32_t ids[] = {2, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 3};
    KZ_CHECK_INT(ex->n_tokens, 12);
    for (int i = 0; i < 12; i++) KZ_CHECK_INT(ex->input_ids[i], ids[i]);
    static const uint8_t tm[] = {0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0};
    for (int i = 0; i < 12; i++) KZ_CHECK_INT(ex->token_mask[i], tm[i]);
    KZ_CHECK_INT(row_bits(ex, 1), B_(GENE));
    KZ_CHECK_INT(row_bits(ex, 2), I_(GENE));
    KZ_CHECK_INT(row_bits(ex, 3), I_(GENE));
    KZ_CHECK_INT(row_bits(ex, 4), I_(GENE));
    for (int i = 5; i < 12; i++) KZ_CHECK_INT(row_bits(ex, (uint32_t)i), 0);
    for (int l = 0; l < 16; l++) KZ_CHECK_INT(ex->label_mask[l], l < 2);
    /* second sentence: a lone I-GENE is a B row */
    KZ_CHECK_INT(d.ex[1].n_tokens, 3);
    KZ_CHECK_INT(row_bits(&d.ex[1], 1), B_(GENE));
    free(cnt);
    kz_train_data_free(&d);
}

KZ_TEST(test_multi_class_map) {
    const char *p = fixture("b.tsv", k_conll, sizeof k_conll - 1);
    kz_train_data d;
    kz__corpus_counts *cnt;
    KZ_CHECK_INT(
        build("corpora:\n  - {name: C, format: conll, path: \"%s\", labels: {Cell: [cell_type, anatomy]}}\n",
              p, 128, 16, &d, &cnt),
        0);
    const kz_train_example *ex = &d.ex[0];
    KZ_CHECK_INT(row_bits(ex, 1), 0); /* GENE is not mapped now */
    KZ_CHECK_INT(row_bits(ex, 7), B_(CELL_TYPE) | B_(ANATOMY));
    KZ_CHECK_INT(row_bits(ex, 8), I_(CELL_TYPE) | I_(ANATOMY));
    KZ_CHECK_INT(ex->token_mask[9], 0); /* ##s */
    KZ_CHECK_INT(cnt[0].entities[CELL_TYPE], 1);
    KZ_CHECK_INT(cnt[0].entities[ANATOMY], 1);
    for (int l = 0; l < 16; l++) KZ_CHECK_INT(ex->label_mask[l], l / 2 == CELL_TYPE || l / 2 == ANATOMY);
    free(cnt);
    kz_train_data_free(&d);
}

static const char k_pubtator[] = "1|t|BRCA1 causes cancer.\n"
                                 "1|a|Mice lack it. A b c. D e f g h.\n"
                                 "1\t0\t5\tBRCA1\tGene\t672\n"
                                 "1\t13\t19\tcancer\tDisease\tD009369\n"
                                 "1\t21\t25\tMice\tSpecies\t10090\n"
                                 "1\t35\t38\tA b\tDisease\tX\n"
                                 "\n";

KZ_TEST(test_pubtator_sections_sentences_windows) {
    const char *p = fixture("c.pubtator", k_pubtator, sizeof k_pubtator - 1);
    kz_train_data d;
    kz__corpus_counts *cnt;
    KZ_CHECK_INT(
        build("corpora:\n  - {name: P, format: pubtator, path: \"%s\", labels: {Gene: gene, Disease: "
              "disease}}\n",
              p, 12, 2, &d, &cnt),
        0);
    /* title: one window; abstract (12 tokens, max 10 per window): sentences
     * [mice lack it .] [a b c .] packed, then [d e f g h .] */
    KZ_CHECK_INT(cnt[0].sections, 2);
    KZ_CHECK_INT(cnt[0].sentences, 4);
    KZ_CHECK_INT(cnt[0].entities[GENE], 1);
    KZ_CHECK_INT(cnt[0].entities[DISEASE], 2);
    KZ_CHECK_INT(cnt[0].entities[SPECIES], 0);
    KZ_CHECK_INT(d.n, 3);
    const kz_train_example *t = &d.ex[0];
    static const int32_t ids0[] = {2, 15, 16, 17, 18, 14, 3};
    KZ_CHECK_INT(t->n_tokens, 7);
    for (int i = 0; i < 7; i++) KZ_CHECK_INT(t->input_ids[i], ids0[i]);
    KZ_CHECK_INT(row_bits(t, 1), B_(GENE));
    KZ_CHECK_INT(t->token_mask[2], 0); /* ##1 */
    KZ_CHECK_INT(row_bits(t, 4), B_(DISEASE));
    const kz_train_example *a = &d.ex[1];
    KZ_CHECK_INT(a->n_tokens, 10); /* [CLS] mice lack it . a b c . [SEP] */
    KZ_CHECK_INT(a->input_ids[1], 19);
    KZ_CHECK_INT(row_bits(a, 1), 0); /* Species: not supervised */
    KZ_CHECK_INT(row_bits(a, 5), B_(DISEASE));
    KZ_CHECK_INT(row_bits(a, 6), I_(DISEASE));
    KZ_CHECK_INT(row_bits(a, 7), 0);
    KZ_CHECK_INT(d.ex[2].n_tokens, 8);
    KZ_CHECK_INT(d.ex[2].input_ids[1], 25);
    for (int l = 0; l < 16; l++) KZ_CHECK_INT(a->label_mask[l], l < 4);
    free(cnt);
    kz_train_data_free(&d);
}

static const char k_long[] = "a\tB-X\nb\tI-X\nc\tO\nd\tO\ne\tO\nf\tB-X\ng\tO\nh\tO\na\tO\nb\tB-X\n\n";

KZ_TEST(test_long_sentence_stride) {
    const char *p = fixture("d.tsv", k_long, sizeof k_long - 1);
    kz_train_data d;
    kz__corpus_counts *cnt;
    /* 10 tokens, max_len 8 (6 content tokens), stride 2: frames [0,6) keep [0,5)
     * and [4,10) keep [5,10): every token is trained exactly once */
    KZ_CHECK_INT(build("corpora:\n  - {name: L, format: conll, path: \"%s\", labels: {X: species}}\n", p, 8,
                       2, &d, &cnt),
                 0);
    KZ_CHECK_INT(d.n, 2);
    KZ_CHECK_INT(d.ex[0].n_tokens, 8);
    KZ_CHECK_INT(d.ex[1].n_tokens, 8);
    static const uint8_t m0[] = {0, 1, 1, 1, 1, 1, 0, 0}, m1[] = {0, 0, 1, 1, 1, 1, 1, 0};
    for (int i = 0; i < 8; i++) {
        KZ_CHECK_INT(d.ex[0].token_mask[i], m0[i]);
        KZ_CHECK_INT(d.ex[1].token_mask[i], m1[i]);
    }
    KZ_CHECK_INT(d.ex[0].input_ids[1], 22); /* a */
    KZ_CHECK_INT(d.ex[1].input_ids[1], 26); /* e */
    KZ_CHECK_INT(row_bits(&d.ex[0], 1), B_(SPECIES));
    KZ_CHECK_INT(row_bits(&d.ex[0], 2), I_(SPECIES));
    KZ_CHECK_INT(row_bits(&d.ex[1], 2), B_(SPECIES)); /* f */
    KZ_CHECK_INT(row_bits(&d.ex[1], 6), B_(SPECIES)); /* b */
    KZ_CHECK_INT(row_bits(&d.ex[0], 6), 0);           /* f, but outside the kept range: not trained here */
    free(cnt);
    kz_train_data_free(&d);
}

/* ---- brat ---------------------------------------------------------------------- */
static const char k_txt[] = "Mice lack BRCA1 in T cells.";
static const char k_ann[] = "T1\tprotein 10 15\tBRCA1\n"
                            "T2\tcell_type 19 26\tT cells\n" /* "T cells" is [19,26) */
                            "T3\tprotein 99 120\tout of range\n"
                            "R1\tRel Arg1:T1 Arg2:T2\n"
                            "T4\tcell_type 0 4;10 15\tMice BRCA1\n";

static void tar_add(char *buf, size_t *pos, const char *name, const char *data, size_t len) {
    char *h = buf + *pos;
    memset(h, 0, 512);
    snprintf(h, 100, "%s", name);
    memcpy(h + 100, "0000644", 7);
    snprintf(h + 124, 12, "%011zo", len);
    h[156] = '0';
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    *pos += 512;
    memcpy(buf + *pos, data, len);
    *pos += (len + 511) & ~(size_t)511;
}

KZ_TEST(test_brat_tar) {
    static char tar[8192];
    size_t n = 0;
    memset(tar, 0, sizeof tar);
    tar_add(tar, &n, "x/train/2.ann", k_ann, sizeof k_ann - 1); /* .ann before its .txt */
    tar_add(tar, &n, "x/LICENSE", "free", 4);
    tar_add(tar, &n, "x/train/1.txt", "BRCA1", 5); /* no .ann: no entities */
    tar_add(tar, &n, "x/train/2.txt", k_txt, sizeof k_txt - 1);
    n += 1024;
    const char *p = fixture("e.tar", tar, n);
    kz_train_data d;
    kz__corpus_counts *cnt;
    KZ_CHECK_INT(
        build("corpora:\n  - {name: J, format: brat-tar, path: \"%s\", labels: {protein: gene, cell_type: "
              "cell_type}}\n",
              p, 128, 16, &d, &cnt),
        0);
    KZ_CHECK_INT(cnt[0].docs, 2);
    KZ_CHECK_INT(cnt[0].skipped_records, 1); /* T3 */
    KZ_CHECK_INT(cnt[0].entities[GENE], 1);
    KZ_CHECK_INT(cnt[0].entities[CELL_TYPE], 2);
    KZ_CHECK_INT(d.n, 2);
    /* doc "1" first (name order): brca ##1, no targets */
    KZ_CHECK_INT(d.ex[0].n_tokens, 4);
    KZ_CHECK_INT(row_bits(&d.ex[0], 1), 0);
    /* doc "2": mice lack brca ##1 in t cell ##s . */
    const kz_train_example *ex = &d.ex[1];
    KZ_CHECK_INT(ex->n_tokens, 11);
    KZ_CHECK_INT(row_bits(ex, 1), B_(CELL_TYPE)); /* T4 starts at "Mice" (covering span [0,15)) */
    KZ_CHECK_INT(row_bits(ex, 2), I_(CELL_TYPE));
    KZ_CHECK_INT(row_bits(ex, 3), B_(GENE) | I_(CELL_TYPE));
    KZ_CHECK_INT(row_bits(ex, 5), 0);
    KZ_CHECK_INT(row_bits(ex, 6), B_(CELL_TYPE));
    KZ_CHECK_INT(row_bits(ex, 7), I_(CELL_TYPE));
    KZ_CHECK_INT(ex->token_mask[8], 0);
    free(cnt);
    kz_train_data_free(&d);
}

KZ_TEST(test_brat_directory_and_errors) {
    if (!g_dir[0]) fixture("z", "", 0);
    char dir[400];
    snprintf(dir, sizeof dir, "%s/bratdir", g_dir);
    mkdir(dir, 0700);
    char f1[500], f2[500];
    snprintf(f1, sizeof f1, "%s/2.txt", dir);
    snprintf(f2, sizeof f2, "%s/2.ann", dir);
    FILE *f = fopen(f1, "w");
    fputs(k_txt, f);
    fclose(f);
    f = fopen(f2, "w");
    fputs(k_ann, f);
    fclose(f);
    kz_train_data d;
    kz__corpus_counts *cnt;
    KZ_CHECK_INT(build("corpora:\n  - {name: J, format: brat, path: \"%s\", labels: {protein: gene}}\n", dir,
                       128, 16, &d, &cnt),
                 0);
    KZ_CHECK_INT(d.n, 1);
    KZ_CHECK_INT(row_bits(&d.ex[0], 3), B_(GENE));
    free(cnt);
    kz_train_data_free(&d);
    /* configuration errors */
    KZ_CHECK(build("corpora:\n  - {name: J, format: brat, path: \"%s\", labels: {protein: protein}}\n", dir,
                   128, 16, &d, &cnt) == KZ_ECONFIG);
    KZ_CHECK(build("corpora:\n  - {name: J, format: xml, path: \"%s\", labels: {protein: gene}}\n", dir, 128,
                   16, &d, &cnt) == KZ_ECONFIG);
    KZ_CHECK(build("corpora:\n  - {name: J, format: conll, path: \"%s/none.tsv\", labels: {p: gene}}\n", dir,
                   128, 16, &d, &cnt) == KZ_EIO);
}

KZ_TEST(test_env_expansion) {
    setenv("KZ_TEST_X", "abc", 1);
    char *s = kz__expand_env("${KZ_TEST_X}/${KZ_TEST_UNSET_Y:-def}/${KZ_TEST_UNSET_Y}/z");
    KZ_CHECK_STR(s, "abc/def//z");
    free(s);
    KZ_CHECK(kz__expand_env("${unterminated") == NULL);
}

KZ_TEST(test_wordpiece_train_small) {
    static const char text[] = "the gene and the genes; the gene's gene\nGÈNE genetic generation\n";
    const char *p = fixture("t.txt", text, sizeof text - 1);
    char out[600];
    snprintf(out, sizeof out, "%s/vocab.txt", g_dir);
    const char *paths[] = {p};
    kz_error err;
    kz_error_clear(&err);
    KZ_CHECK_INT(kz_wordpiece_train(paths, 1, 64, out, &err), 0);
    kz_wordpiece *wp = NULL;
    KZ_CHECK_INT(kz_wordpiece_load(out, NULL, &wp, &err), 0);
    kz_wordpiece_special sp = kz_wordpiece_specials(wp);
    KZ_CHECK_INT(sp.pad, 0);
    KZ_CHECK_INT(sp.unk, 1);
    KZ_CHECK_INT(sp.cls, 2);
    KZ_CHECK_INT(sp.sep, 3);
    KZ_CHECK_INT(sp.mask, 4);
    /* "gene" (6 times, accent stripped and lower-cased) is merged into one token */
    KZ_CHECK(kz_wordpiece_token_id(wp, kz_str_c("gene")) > 4);
    KZ_CHECK(kz_wordpiece_token_id(wp, kz_str_c("##s")) > 4);
    KZ_CHECK(kz_wordpiece_token_id(wp, kz_str_c("è")) < 0);
    kz_wp_token *toks = NULL;
    size_t n = 0, cap = 0;
    KZ_CHECK_INT(kz_wordpiece_encode(wp, "Genes", 5, &toks, &n, &cap, &err), 0);
    KZ_CHECK_INT(n, 2);
    KZ_CHECK_INT(toks[0].id, kz_wordpiece_token_id(wp, kz_str_c("gene")));
    KZ_CHECK_INT(toks[1].id, kz_wordpiece_token_id(wp, kz_str_c("##s")));
    free(toks);
    KZ_CHECK(kz_wordpiece_vocab_size(wp) <= 64);
    kz_wordpiece_free(wp);
}
