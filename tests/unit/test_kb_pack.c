/* Knowledge-base pack: round trip of hand-made models, determinism, lookups,
 * and every kind of corruption giving clean errors (never crashes). */
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>
#include "kz_test.h"
#include "kazu/kb.h"
#include "kazu/normalise.h"
#include "kb/pack_int.h"

static char g_dir[64];

static void cleanup(void) {
    if (getenv("KZ_KEEP")) return;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_dir);
}

static const char *tmp_path(const char *name) {
    static char buf[4][256];
    static int k;
    if (!g_dir[0]) {
        snprintf(g_dir, sizeof g_dir, "/tmp/kz_kb_pack_XXXXXX");
        if (!mkdtemp(g_dir)) abort();
        atexit(cleanup);
    }
    char *b = buf[k++ % 4];
    snprintf(b, 256, "%s/%s", g_dir, name);
    return b;
}

static kz_str S(kz_arena *a, const char *s) { return kz_arena_strdup(a, s, strlen(s)); }

static kz_str norm_of(kz_arena *a, const char *s, const char *cls) {
    char *n = NULL;
    size_t len = 0;
    if (kz_normalise(s, strlen(s), cls, &n, &len, NULL)) abort();
    kz_str r = kz_arena_strdup(a, n, len);
    free(n);
    return r;
}

static kz_str *strs(kz_arena *a, int n, ...) {
    kz_str *v = kz_arena_calloc(a, n ? (size_t)n : 1, sizeof *v);
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) v[i] = S(a, va_arg(ap, const char *));
    va_end(ap);
    return v;
}

static const uint8_t k_hash[32] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16,
                                   17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

/* A small model: 3 parsers over 2 classes, unicode, duplicates, unsorted input,
 * a key shared by two parsers of one class and by another class. reverse flips
 * the order of every array, which must not change the pack. */
static void make_model(kz_arena *a, kz_kb_model *m, bool reverse) {
    memset(m, 0, sizeof *m);
    m->arena = a;
    m->name = S(a, "test-kb");
    m->n_parsers = 3;
    m->parsers = kz_arena_calloc(a, 3, sizeof *m->parsers);
    m->parsers[0] = (kz_kbm_parser){S(a, "MONDO"), S(a, "disease"), S(a, "MONDO"), S(a, "2024-10-15")};
    m->parsers[1] = (kz_kbm_parser){S(a, "HGNC"), S(a, "gene"), S(a, "HGNC"), S(a, "")};
    m->parsers[2] = (kz_kbm_parser){S(a, "OT_DISEASE"), S(a, "disease"), S(a, "EFO"), KZ_STR_NULL};

    m->n_ids = 5;
    m->ids = kz_arena_calloc(a, 5, sizeof *m->ids);
    m->ids[0] = (kz_kbm_id){0,
                            S(a, "MONDO:0005148"),
                            S(a, "type 2 diabetes mellitus"),
                            S(a, "MONDO"),
                            strs(a, 3, "OMIM:125853", "DOID:9352", "OMIM:125853"),
                            3,
                            S(a, "{\"a\":1}")};
    m->ids[1] =
        (kz_kbm_id){0, S(a, "MONDO:0005015"), S(a, "diabetes mellitus"), S(a, "MONDO"), NULL, 0, KZ_STR_NULL};
    m->ids[2] = (kz_kbm_id){1,
                            S(a, "HGNC:6553"),
                            S(a, "α-synuclein \xe2\x80\x94 SNCA"),
                            S(a, "HGNC"),
                            strs(a, 1, "ENSEMBL:ENSG00000145335"),
                            1,
                            KZ_STR_NULL};
    m->ids[3] = (kz_kbm_id){2, S(a, "EFO_0000400"), KZ_STR_NULL, S(a, "EFO"), NULL, 0, S(a, "{}")};
    m->ids[4] =
        (kz_kbm_id){0, S(a, "MONDO:0007915"), S(a, "Sjögren syndrome"), S(a, "MONDO"), NULL, 0, KZ_STR_NULL};

    m->n_id_sets = 5;
    m->id_sets = kz_arena_calloc(a, 5, sizeof *m->id_sets);
    kz_id_source *p = kz_arena_calloc(a, 8, sizeof *p);
    p[0] = (kz_id_source){S(a, "MONDO:0005148"), S(a, "MONDO")};
    p[1] = (kz_id_source){S(a, "MONDO:0005015"), S(a, "MONDO")};
    p[2] = (kz_id_source){S(a, "MONDO:0005148"), S(a, "MONDO")}; /* set 1 = set 0 reordered */
    p[3] = (kz_id_source){S(a, "MONDO:0005015"), S(a, "MONDO")};
    p[4] = (kz_id_source){S(a, "HGNC:6553"), S(a, "HGNC")};
    p[5] = (kz_id_source){S(a, "EFO_0000400"), S(a, "EFO")};
    p[6] = (kz_id_source){S(a, "MONDO:0007915"), S(a, "MONDO")};
    p[7] = (kz_id_source){S(a, "MONDO:0007915"), S(a, "MONDO")}; /* duplicate pair */
    m->id_sets[0] = (kz_kbm_id_set){p + 0, 2};
    m->id_sets[1] = (kz_kbm_id_set){p + 2, 2};
    m->id_sets[2] = (kz_kbm_id_set){p + 4, 1};
    m->id_sets[3] = (kz_kbm_id_set){p + 5, 1};
    m->id_sets[4] = (kz_kbm_id_set){p + 6, 2};

    m->n_candidates = 6;
    m->candidates = kz_arena_calloc(a, 6, sizeof *m->candidates);
    uint32_t *sets = kz_arena_calloc(a, 8, sizeof *sets);
    sets[0] = 0, sets[1] = 1, sets[2] = 2, sets[3] = 3, sets[4] = 4, sets[5] = 2, sets[6] = 4;
    m->candidates[0] = (kz_kbm_candidate){0,
                                          norm_of(a, "diabetes", "disease"),
                                          strs(a, 2, "diabetes", "Diabetes"),
                                          2,
                                          strs(a, 1, "EXACT"),
                                          1,
                                          false,
                                          KZ_AGG_MERGED_AS_NON_SYMBOLIC,
                                          sets + 0,
                                          2};
    m->candidates[1] = (kz_kbm_candidate){2,
                                          norm_of(a, "diabetes", "disease"),
                                          strs(a, 1, "diabetes"),
                                          1,
                                          strs(a, 1, "EXACT"),
                                          1,
                                          false,
                                          KZ_AGG_UNAMBIGUOUS,
                                          sets + 3,
                                          1};
    m->candidates[2] = (kz_kbm_candidate){
        1,    norm_of(a, "SNCA", "gene"), strs(a, 1, "SNCA"), 1, strs(a, 2, "symbol", "alias"), 2,
        true, KZ_AGG_UNAMBIGUOUS,         sets + 2,           1};
    /* the same text in the gene class: a key in two classes */
    m->candidates[3] = (kz_kbm_candidate){1,
                                          norm_of(a, "diabetes", "disease"),
                                          strs(a, 1, "diabetes"),
                                          1,
                                          NULL,
                                          0,
                                          false,
                                          KZ_AGG_CUSTOM,
                                          sets + 5,
                                          2};
    m->candidates[4] = (kz_kbm_candidate){0,
                                          norm_of(a, "Sjögren syndrome", "disease"),
                                          strs(a, 2, "Sjögren syndrome", "Sjögren's syndrome"),
                                          2,
                                          NULL,
                                          0,
                                          false,
                                          KZ_AGG_UNAMBIGUOUS,
                                          sets + 4,
                                          1};
    /* empty lists everywhere */
    m->candidates[5] =
        (kz_kbm_candidate){0, S(a, "EMPTY"), NULL, 0, NULL, 0, true, KZ_AGG_NO_STRATEGY, NULL, 0};

    m->n_resources = 7;
    m->resources = kz_arena_calloc(a, 7, sizeof *m->resources);
    m->resources[0] = (kz_kbm_resource){S(a, "diabetes"), 0, false, KZ_MENTION_PROBABLE, 0, false};
    m->resources[1] = (kz_kbm_resource){S(a, "Diabetes"), 0, false, KZ_MENTION_PROBABLE, 0, true};
    m->resources[2] = (kz_kbm_resource){S(a, "SNCA"), 2, true, KZ_MENTION_HIGHLY_LIKELY, 0, false};
    m->resources[3] = (kz_kbm_resource){S(a, "diabetes"), 1, false, KZ_MENTION_POSSIBLE, 1, false};
    m->resources[4] = (kz_kbm_resource){S(a, "Sjögren syndrome"), 4, false, KZ_MENTION_PROBABLE, 0, false};
    m->resources[5] = (kz_kbm_resource){S(a, "SNCA"), 2, true, KZ_MENTION_HIGHLY_LIKELY, 0, false}; /* dup */
    m->resources[6] = (kz_kbm_resource){S(a, "diabetes"), 3, false, KZ_MENTION_IGNORE, 1, false};

    if (reverse) {
#define REV(arr, n)                                                                                          \
    for (uint64_t i_ = 0; i_ < (n) / 2; i_++) {                                                              \
        __typeof__(arr[0]) t_ = arr[i_];                                                                     \
        arr[i_] = arr[(n)-1 - i_];                                                                           \
        arr[(n)-1 - i_] = t_;                                                                                \
    }
        REV(m->ids, m->n_ids);
        /* reversing id sets and candidates needs their references remapped */
        REV(m->id_sets, m->n_id_sets);
        for (int i = 0; i < 7; i++) sets[i] = (uint32_t)(m->n_id_sets - 1 - sets[i]);
        REV(m->candidates, m->n_candidates);
        for (uint64_t i = 0; i < m->n_resources; i++)
            m->resources[i].candidate = (uint32_t)(m->n_candidates - 1 - m->resources[i].candidate);
        REV(m->resources, m->n_resources);
        for (uint64_t i = 0; i < m->n_ids; i++) {
            kz_str *x = (kz_str *)m->ids[i].xrefs;
            if (x) REV(x, m->ids[i].n_xrefs);
        }
#undef REV
    }
}

static uint8_t *slurp(const char *path, size_t *len) { return (uint8_t *)kz_test_read_file(path, len); }

static int write_bytes(const char *path, const uint8_t *b, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(b, 1, n, f);
    fclose(f);
    return w == n ? 0 : -1;
}

static const char *write_model(const char *name, bool reverse) {
    kz_arena *a = kz_arena_new(0);
    kz_kb_model m;
    make_model(a, &m, reverse);
    const char *path = tmp_path(name);
    kz_error err;
    int rc = kz__kb_pack_write(&m, k_hash, NULL, 0, path, &err);
    kz_arena_free(a);
    if (rc) {
        fprintf(stderr, "write: %s\n", err.msg);
        return NULL;
    }
    return path;
}

KZ_TEST(test_round_trip) {
    const char *path = write_model("rt.kzkb", false);
    KZ_CHECK(path != NULL);
    kz_kb *kb;
    kz_error err;
    KZ_CHECK_INT(kz_kb_open(path, &kb, &err), 0);
    kz_kb_info info;
    kz_kb_get_info(kb, &info);
    KZ_CHECK_INT(info.format_version, KZ_KB_FORMAT_VERSION);
    KZ_CHECK_KSTR(info.name, "test-kb");
    KZ_CHECK_KSTR(info.built_by, "kazu-c " KZ_VERSION_STRING);
    KZ_CHECK_INT(info.n_parsers, 3);
    KZ_CHECK_INT(info.n_ids, 5);
    KZ_CHECK_INT(info.n_id_sets, 4); /* sets 0 and 1 have the same content */
    KZ_CHECK_INT(info.n_candidates, 6);
    KZ_CHECK_INT(info.n_resources, 6); /* one exact duplicate dropped */
    KZ_CHECK_INT(info.n_keys, 5);      /* DIABETES/disease (2 parsers), DIABETES/gene, SNCA, SJOGREN, EMPTY */
    KZ_CHECK(memcmp(info.input_hash, k_hash, 32) == 0);
    struct stat st;
    stat(path, &st);
    KZ_CHECK_INT(info.file_bytes, st.st_size);
    KZ_CHECK_INT(kz_kb_verify(kb, &err), 0);

    /* parsers keep recipe order */
    kz_kb_parser p;
    KZ_CHECK_INT(kz_kb_n_parsers(kb), 3);
    KZ_CHECK_INT(kz_kb_parser_at(kb, 1, &p), 0);
    KZ_CHECK_KSTR(p.name, "HGNC");
    KZ_CHECK_KSTR(p.entity_class, "gene");
    KZ_CHECK_KSTR(p.data_origin, "");
    KZ_CHECK_INT(kz_kb_parser_at(kb, 2, &p), 0);
    KZ_CHECK(p.data_origin.ptr == NULL);
    KZ_CHECK_KSTR(p.source, "EFO");
    KZ_CHECK_INT(kz_kb_parser_at(kb, 3, &p), KZ_ERANGE);
    KZ_CHECK_INT(kz_kb_parser_find(kb, kz_str_c("OT_DISEASE")), 2);
    KZ_CHECK_INT(kz_kb_parser_find(kb, kz_str_c("NOPE")), -1);

    /* ids sorted by (parser, idx) */
    kz_arena *a = kz_arena_new(0);
    static const char *const want_ids[] = {"MONDO:0005015", "MONDO:0005148", "MONDO:0007915", "HGNC:6553",
                                           "EFO_0000400"};
    for (uint64_t i = 0; i < 5; i++) {
        kz_kb_id id;
        KZ_CHECK_INT(kz_kb_id_at(kb, i, a, &id), 0);
        KZ_CHECK_KSTR(id.idx, want_ids[i]);
        KZ_CHECK_INT(kz_kb_id_find(kb, id.parser, id.idx), (int64_t)i);
        KZ_CHECK(id.idx.ptr[id.idx.len] == 0);
    }
    kz_kb_id id;
    KZ_CHECK_INT(kz_kb_id_at(kb, 1, a, &id), 0);
    KZ_CHECK_KSTR(id.default_label, "type 2 diabetes mellitus");
    KZ_CHECK_KSTR(id.source, "MONDO");
    KZ_CHECK_INT(id.n_xrefs, 2); /* sorted and unique */
    KZ_CHECK_KSTR(id.xrefs[0], "DOID:9352");
    KZ_CHECK_KSTR(id.xrefs[1], "OMIM:125853");
    KZ_CHECK_KSTR(id.metadata_json, "{\"a\":1}");
    KZ_CHECK_INT(kz_kb_id_at(kb, 3, a, &id), 0);
    KZ_CHECK_KSTR(id.default_label, "α-synuclein \xe2\x80\x94 SNCA");
    KZ_CHECK(id.metadata_json.ptr == NULL);
    KZ_CHECK_INT(kz_kb_id_at(kb, 4, a, &id), 0);
    KZ_CHECK(id.default_label.ptr == NULL);
    KZ_CHECK_INT(id.n_xrefs, 0);
    KZ_CHECK_INT(kz_kb_id_at(kb, 5, a, &id), KZ_ERANGE);
    KZ_CHECK_INT(kz_kb_id_find(kb, 0, kz_str_c("MONDO:9999999")), -1);
    KZ_CHECK_INT(kz_kb_id_find(kb, 1, kz_str_c("MONDO:0005148")), -1);

    /* candidates sorted by (parser, norm) */
    uint32_t last_parser = 0;
    kz_str last = {"", 0};
    for (uint64_t i = 0; i < kz_kb_n_candidates(kb); i++) {
        kz_candidate c;
        KZ_CHECK_INT(kz_kb_candidate_at(kb, i, a, &c), 0);
        uint32_t pi = kz_kb_candidate_parser(kb, i);
        KZ_CHECK(pi >= last_parser);
        if (pi == last_parser) KZ_CHECK(kz_str_cmp(last, c.synonym_norm) <= 0);
        last_parser = pi;
        last = c.synonym_norm;
    }
    KZ_CHECK_INT(kz_kb_candidate_parser(kb, 99), UINT32_MAX);
    /* MONDO's DIABETES candidate: two raw synonyms, one merged id set of two ids */
    const uint32_t *ids;
    size_t n;
    kz_str diab = norm_of(a, "diabetes", "disease");
    KZ_CHECK_INT(kz_kb_lookup_norm(kb, kz_str_c("disease"), diab, &ids, &n), 0);
    KZ_CHECK_INT(n, 2);
    KZ_CHECK_INT(kz_kb_candidate_parser(kb, ids[0]), 0);
    KZ_CHECK_INT(kz_kb_candidate_parser(kb, ids[1]), 2);
    kz_candidate c;
    KZ_CHECK_INT(kz_kb_candidate_at(kb, ids[0], a, &c), 0);
    KZ_CHECK_KSTR(c.parser_name, "MONDO");
    KZ_CHECK(kz_str_eq(c.synonym_norm, diab));
    KZ_CHECK_INT(c.n_raw_synonyms, 2);
    KZ_CHECK_KSTR(c.raw_synonyms[0], "Diabetes");
    KZ_CHECK_KSTR(c.raw_synonyms[1], "diabetes");
    KZ_CHECK_INT(c.n_mapping_types, 1);
    KZ_CHECK_KSTR(c.mapping_types[0], "EXACT");
    KZ_CHECK_INT(c.aggregated_by, KZ_AGG_MERGED_AS_NON_SYMBOLIC);
    KZ_CHECK(!c.is_symbolic);
    KZ_CHECK_INT(c.n_id_sets, 1); /* sets 0 and 1 merged */
    KZ_CHECK_INT(c.id_sets[0].n_ids, 2);
    KZ_CHECK_KSTR(c.id_sets[0].ids[0].idx, "MONDO:0005015");
    KZ_CHECK_KSTR(c.id_sets[0].ids[1].idx, "MONDO:0005148");
    KZ_CHECK_KSTR(c.id_sets[0].ids[1].source, "MONDO");
    /* gene class has its own DIABETES; every-class lookup returns the union */
    KZ_CHECK_INT(kz_kb_lookup_norm(kb, kz_str_c("gene"), diab, &ids, &n), 0);
    KZ_CHECK_INT(n, 1);
    KZ_CHECK_INT(kz_kb_candidate_at(kb, ids[0], a, &c), 0);
    KZ_CHECK_KSTR(c.parser_name, "HGNC");
    KZ_CHECK_INT(c.n_mapping_types, 0);
    KZ_CHECK_INT(c.n_id_sets, 2);
    KZ_CHECK_INT(kz_kb_lookup_norm(kb, KZ_STR_NULL, diab, &ids, &n), 0);
    KZ_CHECK_INT(n, 3);
    KZ_CHECK(ids[0] < ids[1] && ids[1] < ids[2]);
    /* single-class key via the every-class lookup */
    kz_str snca = norm_of(a, "SNCA", "gene");
    KZ_CHECK_INT(kz_kb_lookup_norm(kb, KZ_STR_NULL, snca, &ids, &n), 0);
    KZ_CHECK_INT(n, 1);
    KZ_CHECK_INT(kz_kb_candidate_at(kb, ids[0], a, &c), 0);
    KZ_CHECK(c.is_symbolic);
    KZ_CHECK_INT(c.n_mapping_types, 2);
    KZ_CHECK_KSTR(c.mapping_types[0], "alias");
    /* misses */
    KZ_CHECK_INT(kz_kb_lookup_norm(kb, kz_str_c("disease"), snca, &ids, &n), 0);
    KZ_CHECK_INT(n, 0);
    KZ_CHECK_INT(kz_kb_lookup_norm(kb, kz_str_c("drug"), diab, &ids, &n), 0);
    KZ_CHECK_INT(n, 0);
    KZ_CHECK_INT(kz_kb_lookup_norm(kb, KZ_STR_NULL, kz_str_c(""), &ids, &n), 0);
    KZ_CHECK_INT(n, 0);
    /* empty candidate */
    KZ_CHECK_INT(kz_kb_lookup_norm(kb, kz_str_c("disease"), kz_str_c("EMPTY"), &ids, &n), 0);
    KZ_CHECK_INT(n, 1);
    KZ_CHECK_INT(kz_kb_candidate_at(kb, ids[0], a, &c), 0);
    KZ_CHECK_INT(c.n_raw_synonyms + c.n_mapping_types + c.n_id_sets, 0);
    KZ_CHECK_INT(c.aggregated_by, KZ_AGG_NO_STRATEGY);

    /* resources sorted by (text, candidate) */
    KZ_CHECK_INT(kz_kb_n_resources(kb), 6);
    kz_kb_resource r, prev = {0};
    for (uint64_t i = 0; i < 6; i++) {
        KZ_CHECK_INT(kz_kb_resource_at(kb, i, &r), 0);
        if (i)
            KZ_CHECK(kz_str_cmp(prev.text, r.text) < 0 ||
                     (kz_str_eq(prev.text, r.text) && prev.candidate < r.candidate));
        prev = r;
    }
    KZ_CHECK_INT(kz_kb_resource_at(kb, 0, &r), 0);
    KZ_CHECK_KSTR(r.text, "Diabetes");
    KZ_CHECK(r.generated);
    KZ_CHECK_INT(kz_kb_resource_at(kb, 1, &r), 0);
    KZ_CHECK_KSTR(r.text, "SNCA");
    KZ_CHECK(r.case_sensitive && !r.generated);
    KZ_CHECK_INT(r.mention_confidence, KZ_MENTION_HIGHLY_LIKELY);
    KZ_CHECK_INT(kz_kb_resource_at(kb, 2, &r), 0);
    KZ_CHECK_KSTR(r.text, "Sjögren syndrome");
    KZ_CHECK_INT(kz_kb_resource_at(kb, 5, &r), 0);
    KZ_CHECK_KSTR(r.text, "diabetes");
    KZ_CHECK_INT(r.behaviour, KZ_KB_ADD_FOR_LINKING_ONLY);
    KZ_CHECK_INT(kz_kb_candidate_parser(kb, r.candidate), 2);
    KZ_CHECK_INT(kz_kb_resource_at(kb, 6, &r), KZ_ERANGE);

    const void *data;
    size_t len;
    KZ_CHECK_INT(kz_kb_section(kb, KZ_KB_TAG('A', 'U', 'T', 'O'), &data, &len), KZ_ENOTFOUND);
    KZ_CHECK_INT(kz_kb_section(kb, KZ_SEC_STRS, &data, &len), 0);
    KZ_CHECK(((uintptr_t)data & 63) == 0);
    kz_arena_free(a);
    kz_kb_close(kb);
}

KZ_TEST(test_lookup_normalises) {
    const char *path = write_model("lk.kzkb", false);
    KZ_CHECK(path != NULL);
    kz_kb *kb;
    KZ_CHECK_INT(kz_kb_open(path, &kb, NULL), 0);
    kz_arena *a = kz_arena_new(0);
    kz_kb_hit *hits = NULL;
    size_t n = 0;
    kz_error err;
    KZ_CHECK_INT(kz_kb_lookup(kb, "Diabetes", 8, "disease", a, &hits, &n, &err), 0);
    KZ_CHECK_INT(n, 2);
    KZ_CHECK_KSTR(hits[0].entity_class, "disease");
    KZ_CHECK(kz_str_eq(hits[0].synonym_norm, norm_of(a, "diabetes", "disease")));
    /* appends; every class, each with its own normalisation: the gene rules keep
     * the final S of "diabetes", so the gene key DIABETE (made with the disease
     * rules in this model) is not hit, while SNCA is found in the gene class only */
    KZ_CHECK_INT(kz_kb_lookup(kb, "diabetes", 8, NULL, a, &hits, &n, &err), 0);
    KZ_CHECK_INT(n, 4);
    KZ_CHECK_KSTR(hits[3].entity_class, "disease");
    KZ_CHECK_INT(kz_kb_lookup(kb, "SNCA", 4, NULL, a, &hits, &n, &err), 0);
    KZ_CHECK_INT(n, 5);
    KZ_CHECK_KSTR(hits[4].entity_class, "gene");
    KZ_CHECK_KSTR(hits[4].synonym_norm, "SNCA");
    KZ_CHECK_INT(kz_kb_candidate_parser(kb, hits[4].candidate), 1);
    KZ_CHECK_INT(hits[0].candidate, hits[2].candidate); /* earlier hits kept */
    n = 0;
    KZ_CHECK_INT(
        kz_kb_lookup(kb, "Sjögren  syndrome", strlen("Sjögren  syndrome"), "disease", a, &hits, &n, &err), 0);
    KZ_CHECK_INT(n, 1);
    n = 0;
    KZ_CHECK_INT(kz_kb_lookup(kb, "diabetes", 8, "chemical", a, &hits, &n, &err), 0);
    KZ_CHECK_INT(n, 0);
    KZ_CHECK_INT(kz_kb_lookup(kb, "\xff", 1, NULL, a, &hits, &n, &err), KZ_EUTF8);
    kz_arena_free(a);
    kz_kb_close(kb);
}

KZ_TEST(test_determinism) {
    const char *p1 = write_model("d1.kzkb", false);
    const char *p2 = write_model("d2.kzkb", false);
    const char *p3 = write_model("d3.kzkb", true);
    KZ_CHECK(p1 && p2 && p3);
    size_t n1, n2, n3;
    uint8_t *b1 = slurp(p1, &n1), *b2 = slurp(p2, &n2), *b3 = slurp(p3, &n3);
    KZ_CHECK(b1 && b2 && b3);
    KZ_CHECK_INT(n1, n2);
    KZ_CHECK_INT(n1, n3);
    KZ_CHECK(memcmp(b1, b2, n1) == 0);
    KZ_CHECK(memcmp(b1, b3, n1) == 0); /* input order does not matter */
    KZ_CHECK(n1 < 64 * 1024);
    free(b1);
    free(b2);
    free(b3);
}

KZ_TEST(test_extension_sections) {
    kz_arena *a = kz_arena_new(0);
    kz_kb_model m;
    make_model(a, &m, false);
    static const char auto_data[] = "automaton bytes";
    uint8_t big[1000];
    for (int i = 0; i < 1000; i++) big[i] = (uint8_t)i;
    kz_kb_ext_section ext[3] = {{KZ_KB_TAG('A', 'U', 'T', 'O'), auto_data, sizeof auto_data},
                                {KZ_KB_TAG('T', 'F', 'I', 'D'), big, sizeof big},
                                {KZ_KB_TAG('E', 'M', 'P', 'T'), NULL, 0}};
    const char *path = tmp_path("ext.kzkb");
    kz_error err;
    KZ_CHECK_INT(kz__kb_pack_write(&m, k_hash, ext, 3, path, &err), 0);
    kz_kb *kb;
    KZ_CHECK_INT(kz_kb_open(path, &kb, &err), 0);
    const void *d;
    size_t len;
    KZ_CHECK_INT(kz_kb_section(kb, ext[0].tag, &d, &len), 0);
    KZ_CHECK_INT(len, sizeof auto_data);
    KZ_CHECK(memcmp(d, auto_data, len) == 0);
    KZ_CHECK(((uintptr_t)d & 63) == 0);
    KZ_CHECK_INT(kz_kb_section(kb, ext[1].tag, &d, &len), 0);
    KZ_CHECK_INT(len, 1000);
    KZ_CHECK(memcmp(d, big, len) == 0 && ((uintptr_t)d & 63) == 0);
    KZ_CHECK_INT(kz_kb_section(kb, ext[2].tag, &d, &len), 0);
    KZ_CHECK_INT(len, 0);
    KZ_CHECK_INT(kz_kb_verify(kb, &err), 0);
    kz_kb_close(kb);
    /* a tag used twice, or a core tag, is refused and leaves no file behind */
    kz_kb_ext_section dup[2] = {ext[0], ext[0]};
    const char *bad = tmp_path("bad.kzkb");
    KZ_CHECK_INT(kz__kb_pack_write(&m, k_hash, dup, 2, bad, &err), KZ_EINVAL);
    kz_kb_ext_section core = {KZ_SEC_KEYS, auto_data, 3};
    KZ_CHECK_INT(kz__kb_pack_write(&m, k_hash, &core, 1, bad, &err), KZ_EINVAL);
    KZ_CHECK(access(bad, F_OK) != 0);
    kz_arena_free(a);
}

KZ_TEST(test_bad_models) {
    kz_arena *a = kz_arena_new(0);
    kz_kb_model m;
    kz_error err;
    const char *path = tmp_path("badm.kzkb");
    make_model(a, &m, false);
    m.ids[1].idx = m.ids[0].idx; /* duplicate (parser, idx) */
    KZ_CHECK_INT(kz__kb_pack_write(&m, k_hash, NULL, 0, path, &err), KZ_EINVAL);
    KZ_CHECK(strstr(err.msg, "MONDO:0005148") != NULL);
    make_model(a, &m, false);
    m.candidates[1].parser = 0; /* duplicate (parser, norm) */
    KZ_CHECK_INT(kz__kb_pack_write(&m, k_hash, NULL, 0, path, &err), KZ_EINVAL);
    make_model(a, &m, false);
    m.resources[2].candidate = 6;
    KZ_CHECK_INT(kz__kb_pack_write(&m, k_hash, NULL, 0, path, &err), KZ_EINVAL);
    make_model(a, &m, false);
    ((uint32_t *)m.candidates[0].id_sets)[0] = 5;
    KZ_CHECK_INT(kz__kb_pack_write(&m, k_hash, NULL, 0, path, &err), KZ_EINVAL);
    make_model(a, &m, false);
    m.parsers[2].name = m.parsers[0].name;
    KZ_CHECK_INT(kz__kb_pack_write(&m, k_hash, NULL, 0, path, &err), KZ_EINVAL);
    make_model(a, &m, false);
    m.resources[0].behaviour = 7;
    KZ_CHECK_INT(kz__kb_pack_write(&m, k_hash, NULL, 0, path, &err), KZ_EINVAL);
    KZ_CHECK(access(path, F_OK) != 0);
    /* unwritable place: clean error, no temp file */
    make_model(a, &m, false);
    KZ_CHECK_INT(kz__kb_pack_write(&m, k_hash, NULL, 0, "/nonexistent-dir/x.kzkb", &err), KZ_EIO);
    kz_arena_free(a);
}

KZ_TEST(test_empty_model) {
    kz_kb_model m;
    memset(&m, 0, sizeof m);
    const char *path = tmp_path("empty.kzkb");
    kz_error err;
    KZ_CHECK_INT(kz__kb_pack_write(&m, k_hash, NULL, 0, path, &err), 0);
    kz_kb *kb;
    KZ_CHECK_INT(kz_kb_open(path, &kb, &err), 0);
    kz_kb_info info;
    kz_kb_get_info(kb, &info);
    KZ_CHECK_INT(info.n_parsers + info.n_ids + info.n_candidates + info.n_resources + info.n_keys, 0);
    KZ_CHECK_INT(info.name.len, 0);
    const uint32_t *ids;
    size_t n = 7;
    KZ_CHECK_INT(kz_kb_lookup_norm(kb, KZ_STR_NULL, kz_str_c("X"), &ids, &n), 0);
    KZ_CHECK_INT(n, 0);
    kz_arena *a = kz_arena_new(0);
    kz_kb_hit *hits = NULL;
    KZ_CHECK_INT(kz_kb_lookup(kb, "x", 1, NULL, a, &hits, &n, &err), 0);
    KZ_CHECK_INT(n, 0);
    KZ_CHECK_INT(kz_kb_verify(kb, &err), 0);
    kz_arena_free(a);
    kz_kb_close(kb);
}

/* Many parsers over a few classes all holding one key. */
KZ_TEST(test_shared_key_many_parsers) {
    kz_arena *a = kz_arena_new(0);
    kz_kb_model m;
    memset(&m, 0, sizeof m);
    static const char *const classes[] = {"disease", "gene", "drug", "anatomy", "cell_line"};
    m.n_parsers = 40;
    m.parsers = kz_arena_calloc(a, 40, sizeof *m.parsers);
    m.n_candidates = 40;
    m.candidates = kz_arena_calloc(a, 40, sizeof *m.candidates);
    char buf[32];
    for (int i = 0; i < 40; i++) {
        snprintf(buf, sizeof buf, "P%02d", 39 - i);
        m.parsers[i] = (kz_kbm_parser){S(a, buf), S(a, classes[i % 5]), S(a, buf), S(a, "v1")};
        m.candidates[i] = (kz_kbm_candidate){(uint32_t)i, S(a, "SHARED"), strs(a, 1, "shared"), 1,    NULL,
                                             0,           false,          KZ_AGG_UNAMBIGUOUS,   NULL, 0};
    }
    const char *path = tmp_path("shared.kzkb");
    kz_error err;
    KZ_CHECK_INT(kz__kb_pack_write(&m, k_hash, NULL, 0, path, &err), 0);
    kz_kb *kb;
    KZ_CHECK_INT(kz_kb_open(path, &kb, &err), 0);
    const uint32_t *ids;
    size_t n;
    for (int c = 0; c < 5; c++) {
        KZ_CHECK_INT(kz_kb_lookup_norm(kb, kz_str_c(classes[c]), kz_str_c("SHARED"), &ids, &n), 0);
        KZ_CHECK_INT(n, 8);
        for (size_t k = 0; k < n; k++) {
            kz_kb_parser p;
            KZ_CHECK_INT(kz_kb_parser_at(kb, kz_kb_candidate_parser(kb, ids[k]), &p), 0);
            KZ_CHECK_KSTR(p.entity_class, classes[c]);
        }
    }
    KZ_CHECK_INT(kz_kb_lookup_norm(kb, KZ_STR_NULL, kz_str_c("SHARED"), &ids, &n), 0);
    KZ_CHECK_INT(n, 40);
    for (size_t k = 0; k < n; k++) KZ_CHECK_INT(ids[k], k);
    kz_kb_info info;
    kz_kb_get_info(kb, &info);
    KZ_CHECK_INT(info.n_keys, 5);
    kz_kb_close(kb);
    kz_arena_free(a);
}

/* Thousands of random keys: every one is found, near misses are not. */
KZ_TEST(test_many_keys) {
    kz_arena *a = kz_arena_new(0);
    kz_kb_model m;
    memset(&m, 0, sizeof m);
    m.n_parsers = 2;
    m.parsers = kz_arena_calloc(a, 2, sizeof *m.parsers);
    m.parsers[0] = (kz_kbm_parser){S(a, "A"), S(a, "disease"), S(a, "A"), S(a, "")};
    m.parsers[1] = (kz_kbm_parser){S(a, "B"), S(a, "gene"), S(a, "B"), S(a, "")};
    enum { N = 20000 };
    m.n_candidates = N;
    m.candidates = kz_arena_calloc(a, N, sizeof *m.candidates);
    uint64_t x = 88172645463325252ull;
    char buf[64];
    for (int i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int len = snprintf(buf, sizeof buf, "KEY %llx %d", (unsigned long long)(x % 100000007ull), i);
        m.candidates[i] = (kz_kbm_candidate){(uint32_t)(i & 1),
                                             kz_arena_strdup(a, buf, (size_t)len),
                                             NULL,
                                             0,
                                             NULL,
                                             0,
                                             false,
                                             KZ_AGG_NO_STRATEGY,
                                             NULL,
                                             0};
    }
    const char *path = tmp_path("many.kzkb");
    kz_error err;
    KZ_CHECK_INT(kz__kb_pack_write(&m, k_hash, NULL, 0, path, &err), 0);
    kz_kb *kb;
    KZ_CHECK_INT(kz_kb_open(path, &kb, &err), 0);
    for (int i = 0; i < N; i++) {
        const uint32_t *ids;
        size_t n;
        const kz_kbm_candidate *c = &m.candidates[i];
        KZ_CHECK_INT(kz_kb_lookup_norm(kb, kz_str_c(i & 1 ? "gene" : "disease"), c->synonym_norm, &ids, &n),
                     0);
        KZ_CHECK_INT(n, 1);
        kz_candidate v;
        KZ_CHECK_INT(kz_kb_candidate_at(kb, ids[0], a, &v), 0);
        KZ_CHECK(kz_str_eq(v.synonym_norm, c->synonym_norm));
        KZ_CHECK_INT(kz_kb_lookup_norm(kb, kz_str_c(i & 1 ? "disease" : "gene"), c->synonym_norm, &ids, &n),
                     0);
        KZ_CHECK_INT(n, 0);
        kz_str miss = {c->synonym_norm.ptr, c->synonym_norm.len - 1};
        KZ_CHECK_INT(kz_kb_lookup_norm(kb, KZ_STR_NULL, miss, &ids, &n), 0);
        KZ_CHECK_INT(n, 0);
    }
    kz_kb_close(kb);
    kz_arena_free(a);
}

/* Touch every accessor over the whole pack; returns how many calls failed. */
static int exercise(kz_kb *kb) {
    int bad = 0;
    kz_arena *a = kz_arena_new(0);
    kz_kb_info info;
    kz_kb_get_info(kb, &info);
    for (uint32_t i = 0; i < kz_kb_n_parsers(kb) + 1; i++) {
        kz_kb_parser p;
        if (kz_kb_parser_at(kb, i, &p) == 0)
            kz_kb_parser_find(kb, p.name);
        else
            bad++;
    }
    for (uint64_t i = 0; i < kz_kb_n_ids(kb) + 1; i++) {
        kz_kb_id id;
        if (kz_kb_id_at(kb, i, a, &id) == 0)
            kz_kb_id_find(kb, id.parser, id.idx);
        else
            bad++;
    }
    for (uint64_t i = 0; i < kz_kb_n_candidates(kb) + 1; i++) {
        kz_candidate c;
        kz_kb_candidate_parser(kb, i);
        if (kz_kb_candidate_at(kb, i, a, &c) == 0) {
            const uint32_t *ids;
            size_t n;
            kz_kb_lookup_norm(kb, KZ_STR_NULL, c.synonym_norm, &ids, &n);
            for (size_t k = 0; k < n; k++) kz_kb_candidate_parser(kb, ids[k]);
        } else {
            bad++;
        }
    }
    for (uint64_t i = 0; i < kz_kb_n_resources(kb) + 1; i++) {
        kz_kb_resource r;
        if (kz_kb_resource_at(kb, i, &r) == 0) {
            kz_kb_hit *hits = NULL;
            size_t n = 0;
            if (kz_kb_lookup(kb, r.text.ptr, r.text.len, NULL, a, &hits, &n, NULL)) bad++;
        } else {
            bad++;
        }
    }
    kz_arena_free(a);
    return bad;
}

KZ_TEST(test_clean_pack_exercise) {
    const char *path = write_model("ex.kzkb", false);
    kz_kb *kb;
    KZ_CHECK_INT(kz_kb_open(path, &kb, NULL), 0);
    KZ_CHECK_INT(exercise(kb), 4); /* only the four one-past-the-end calls fail */
    kz_kb_close(kb);
}

KZ_TEST(test_truncated) {
    const char *path = write_model("tr.kzkb", false);
    size_t len;
    uint8_t *b = slurp(path, &len);
    KZ_CHECK(b != NULL);
    const char *cut = tmp_path("cut.kzkb");
    for (int k = 0; k < 64; k++) {
        size_t n = len * (size_t)k / 64;
        KZ_CHECK_INT(write_bytes(cut, b, n), 0);
        kz_kb *kb = NULL;
        kz_error err;
        int rc = kz_kb_open(cut, &kb, &err);
        KZ_CHECK(rc == KZ_EPARSE || rc == KZ_EFORMAT);
        KZ_CHECK(kb == NULL);
        KZ_CHECK(err.msg[0] != 0);
        if (n >= KZ_PACK_HEADER_BYTES) KZ_CHECK(strstr(err.msg, "truncated") != NULL);
        kz_kb *m = NULL;
        KZ_CHECK(kz__kb_open_mem(b, n, "mem", &m, NULL) != 0 && m == NULL);
    }
    /* one byte more is refused too */
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, b, len);
    longer[len] = 0;
    kz_kb *kb = NULL;
    KZ_CHECK_INT(kz__kb_open_mem(longer, len + 1, "mem", &kb, NULL), KZ_EPARSE);
    free(longer);
    free(b);
}

KZ_TEST(test_version_and_magic) {
    const char *path = write_model("vm.kzkb", false);
    size_t len;
    uint8_t *b = slurp(path, &len);
    KZ_CHECK(b != NULL);
    kz_error err;
    kz_kb *kb = NULL;
    uint32_t v = 2;
    memcpy(b + 8, &v, 4);
    kz__pack_fix_header_sum(b, len);
    KZ_CHECK_INT(kz__kb_open_mem(b, len, "v2.kzkb", &kb, &err), KZ_EFORMAT);
    KZ_CHECK(strstr(err.msg, "version 2") && strstr(err.msg, "version 1"));
    KZ_CHECK_STR(err.path, "v2.kzkb");
    v = 1;
    memcpy(b + 8, &v, 4);
    b[0] = 'X';
    KZ_CHECK_INT(kz__kb_open_mem(b, len, "m", &kb, &err), KZ_EFORMAT);
    KZ_CHECK(strstr(err.msg, "magic") != NULL);
    KZ_CHECK_INT(kz__kb_open_mem(b, 0, "m", &kb, &err), KZ_EFORMAT);
    b[0] = 'K';
    KZ_CHECK_INT(kz__kb_open_mem(b, len, "m", &kb, &err), KZ_EPARSE); /* stale header checksum */
    KZ_CHECK(strstr(err.msg, "checksum") != NULL);
    kz__pack_fix_header_sum(b, len);
    KZ_CHECK_INT(kz__kb_open_mem(b, len, "m", &kb, &err), 0);
    kz_kb_close(kb);
    /* not a pack at all */
    const char *txt = tmp_path("text.kzkb");
    KZ_CHECK_INT(write_bytes(txt, (const uint8_t *)"hello world\n", 12), 0);
    KZ_CHECK_INT(kz_kb_open(txt, &kb, &err), KZ_EFORMAT);
    KZ_CHECK_INT(kz_kb_open(tmp_path("missing.kzkb"), &kb, &err), KZ_EIO);
    KZ_CHECK_INT(kz_kb_open(g_dir, &kb, &err), KZ_EIO);
    free(b);
}

KZ_TEST(test_header_and_table_flips) {
    const char *path = write_model("fl.kzkb", false);
    size_t len;
    uint8_t *b = slurp(path, &len);
    KZ_CHECK(b != NULL);
    kz_pack_header h;
    memcpy(&h, b, sizeof h);
    size_t table_end = KZ_PACK_HEADER_BYTES + h.n_sections * sizeof(kz_pack_section);
    uint8_t *c = malloc(len);
    for (size_t i = 0; i < table_end; i++) {
        memcpy(c, b, len);
        c[i] ^= 0x5a;
        kz_kb *kb = NULL;
        kz_error err;
        int rc = kz__kb_open_mem(c, len, "m", &kb, &err);
        /* the header checksum (or magic/version) catches every flip */
        KZ_CHECK(rc == KZ_EPARSE || rc == KZ_EFORMAT);
        KZ_CHECK(kb == NULL);
        /* with the checksum recomputed, open validates the fields themselves:
         * either a clean error or a pack whose accessors never crash */
        kz__pack_fix_header_sum(c, len);
        rc = kz__kb_open_mem(c, len, "m", &kb, &err);
        if (rc == 0) {
            exercise(kb);
            kz_kb_close(kb);
        } else {
            KZ_CHECK(rc == KZ_EPARSE || rc == KZ_EFORMAT);
            KZ_CHECK(err.msg[0] != 0);
        }
    }
    free(c);
    free(b);
}

static void put_u64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

KZ_TEST(test_huge_counts) {
    const char *path = write_model("hc.kzkb", false);
    size_t len;
    uint8_t *b = slurp(path, &len);
    KZ_CHECK(b != NULL);
    kz_pack_header h;
    memcpy(&h, b, sizeof h);
    uint8_t *c = malloc(len);
    for (uint32_t s = 0; s < h.n_sections; s++) {
        size_t at = KZ_PACK_HEADER_BYTES + s * sizeof(kz_pack_section);
        static const uint64_t vals[] = {1ull << 40, UINT64_MAX, UINT64_MAX / 4 + 1, 0};
        for (int field = 0; field < 3; field++)
            for (int k = 0; k < 4; k++) {
                memcpy(c, b, len);
                put_u64(c + at + 8 + 8 * field, vals[k]); /* offset, size, count */
                kz__pack_fix_header_sum(c, len);
                kz_kb *kb = NULL;
                kz_error err;
                int rc = kz__kb_open_mem(c, len, "m", &kb, &err);
                if (rc == 0) {
                    /* only a zero count/size in a table nobody needs can pass */
                    exercise(kb);
                    kz_kb_close(kb);
                    KZ_CHECK_INT(vals[k], 0);
                } else {
                    KZ_CHECK_INT(rc, KZ_EPARSE);
                    KZ_CHECK(strstr(err.msg, "corrupt pack") != NULL);
                }
            }
    }
    /* the section count itself */
    memcpy(c, b, len);
    uint32_t ns = 1000;
    memcpy(c + 40, &ns, 4);
    kz_kb *kb = NULL;
    kz_error err;
    KZ_CHECK_INT(kz__kb_open_mem(c, len, "m", &kb, &err), KZ_EPARSE);
    free(c);
    free(b);
}

/* Body corruption: open may succeed, accessors must not crash, verify must fail. */
KZ_TEST(test_body_flips) {
    const char *path = write_model("bf.kzkb", false);
    size_t len;
    uint8_t *b = slurp(path, &len);
    KZ_CHECK(b != NULL);
    kz_pack_header h;
    memcpy(&h, b, sizeof h);
    size_t table_end = KZ_PACK_HEADER_BYTES + h.n_sections * sizeof(kz_pack_section);
    uint8_t *c = malloc(len);
    int opened = 0;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (size_t i = table_end; i < len; i++) {
        for (int variant = 0; variant < 3; variant++) {
            memcpy(c, b, len);
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            uint8_t v = variant == 0   ? (uint8_t)(c[i] ^ 0xff)
                        : variant == 1 ? (uint8_t)(c[i] + 1)
                                       : (uint8_t)x;
            if (v == c[i]) continue;
            c[i] = v;
            kz_kb *kb = NULL;
            kz_error err;
            int rc = kz__kb_open_mem(c, len, "m", &kb, &err);
            if (rc) {
                KZ_CHECK_INT(rc, KZ_EPARSE);
                continue;
            }
            opened++;
            exercise(kb);
            rc = kz_kb_verify(kb, &err);
            if (rc != KZ_EPARSE) {
                kz_test_fail(__FILE__, __LINE__, "verify missed a change at byte %zu", i);
                kz_kb_close(kb);
                free(c);
                free(b);
                return;
            }
            KZ_CHECK(strstr(err.msg, "SHA-256") != NULL);
            kz_kb_close(kb);
        }
    }
    KZ_CHECK(opened > 100);
    /* multi-byte garbage in the middle of every section */
    for (uint32_t s = 0; s < h.n_sections; s++) {
        kz_pack_section sec;
        memcpy(&sec, b + KZ_PACK_HEADER_BYTES + s * sizeof sec, sizeof sec);
        for (int rep = 0; rep < 20; rep++) {
            memcpy(c, b, len);
            for (uint64_t k = 0; k < sec.size; k++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                if ((x & 3) == 0) c[sec.offset + k] = (uint8_t)(x >> 8);
            }
            kz_kb *kb = NULL;
            if (kz__kb_open_mem(c, len, "m", &kb, NULL) == 0) {
                exercise(kb);
                kz_kb_close(kb);
            }
        }
    }
    free(c);
    free(b);
}

KZ_TEST(test_input_hash_and_behaviour) {
    const char *path = write_model("ih.kzkb", false);
    uint8_t got[32];
    kz_error err;
    KZ_CHECK_INT(kz__kb_pack_read_input_hash(path, got, &err), 0);
    KZ_CHECK(memcmp(got, k_hash, 32) == 0);
    KZ_CHECK_INT(kz__kb_pack_read_input_hash(tmp_path("nothing.kzkb"), got, &err), KZ_ENOTFOUND);
    const char *txt = tmp_path("t.txt");
    KZ_CHECK_INT(write_bytes(txt, (const uint8_t *)"x", 1), 0);
    KZ_CHECK_INT(kz__kb_pack_read_input_hash(txt, got, &err), KZ_EFORMAT);
    KZ_CHECK_STR(kz_kb_behaviour_name(KZ_KB_DROP_FOR_LINKING), "DROP_FOR_LINKING");
    KZ_CHECK(kz_kb_behaviour_name(3) == NULL && kz_kb_behaviour_name(-1) == NULL);
    int v = -1;
    KZ_CHECK_INT(kz_kb_behaviour_parse(kz_str_c("ADD_FOR_LINKING_ONLY"), &v), 0);
    KZ_CHECK_INT(v, KZ_KB_ADD_FOR_LINKING_ONLY);
    KZ_CHECK_INT(kz_kb_behaviour_parse(kz_str_c("add_for_linking_only"), &v), KZ_EPARSE);
    /* a pack is replaced atomically: rewriting over an open mapping leaves it intact */
    kz_kb *kb;
    KZ_CHECK_INT(kz_kb_open(path, &kb, &err), 0);
    kz_kb_model m;
    memset(&m, 0, sizeof m);
    KZ_CHECK_INT(kz__kb_pack_write(&m, k_hash, NULL, 0, path, &err), 0);
    KZ_CHECK_INT(kz_kb_n_candidates(kb), 6);
    KZ_CHECK_INT(kz_kb_verify(kb, &err), 0);
    kz_kb_close(kb);
}

/* The fuzz seeds in tests/fuzz/corpus/kb_pack/ are packs of this format:
 * KZ_KB_PACK_CORPUS=DIR regenerates them into DIR; otherwise every committed
 * valid_* seed must still open and verify (so a format change that forgets
 * them fails here). */
KZ_TEST(test_seed_corpus) {
    const char *gen = getenv("KZ_KB_PACK_CORPUS");
    if (gen) {
        char p[512];
        kz_arena *a = kz_arena_new(0);
        kz_kb_model m;
        kz_error err;
        make_model(a, &m, false);
        snprintf(p, sizeof p, "%s/valid_small.kzkb", gen);
        KZ_CHECK_INT(kz__kb_pack_write(&m, k_hash, NULL, 0, p, &err), 0);
        kz_kb_ext_section ext[2] = {{KZ_KB_TAG('A', 'U', 'T', 'O'), "abc", 3},
                                    {KZ_KB_TAG('T', 'F', 'I', 'D'), "", 0}};
        snprintf(p, sizeof p, "%s/valid_ext.kzkb", gen);
        KZ_CHECK_INT(kz__kb_pack_write(&m, k_hash, ext, 2, p, &err), 0);
        memset(&m, 0, sizeof m);
        snprintf(p, sizeof p, "%s/valid_empty.kzkb", gen);
        KZ_CHECK_INT(kz__kb_pack_write(&m, k_hash, NULL, 0, p, &err), 0);
        m.n_parsers = 6;
        m.parsers = kz_arena_calloc(a, 6, sizeof *m.parsers);
        m.n_candidates = 6;
        m.candidates = kz_arena_calloc(a, 6, sizeof *m.candidates);
        for (int i = 0; i < 6; i++) {
            char nm[8];
            snprintf(nm, sizeof nm, "P%d", i);
            m.parsers[i] = (kz_kbm_parser){S(a, nm), S(a, i % 2 ? "gene" : "disease"), S(a, nm), S(a, "")};
            m.candidates[i] =
                (kz_kbm_candidate){(uint32_t)i, S(a, "SHARED"), strs(a, 1, "shared"), 1,    NULL,
                                   0,           false,          KZ_AGG_UNAMBIGUOUS,   NULL, 0};
        }
        snprintf(p, sizeof p, "%s/valid_shared.kzkb", gen);
        KZ_CHECK_INT(kz__kb_pack_write(&m, k_hash, NULL, 0, p, &err), 0);
        kz_arena_free(a);
        return;
    }
    static const char *const seeds[] = {"valid_small.kzkb", "valid_ext.kzkb", "valid_empty.kzkb",
                                        "valid_shared.kzkb"};
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/tests/fuzz/corpus/kb_pack/%s", KZ_SOURCE_DIR, seeds[i]);
        kz_kb *kb;
        kz_error err;
        if (kz_kb_open(p, &kb, &err) != 0) {
            kz_test_fail(__FILE__, __LINE__, "seed %s: %s (regenerate: KZ_KB_PACK_CORPUS=DIR %s)", seeds[i],
                         err.msg, "test_kb_pack test_seed_corpus");
            return;
        }
        KZ_CHECK_INT(kz_kb_verify(kb, &err), 0);
        kz_kb_close(kb);
    }
}
