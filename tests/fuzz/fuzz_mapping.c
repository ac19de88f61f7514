/* Fuzz target: MappingStep. Input starting with 'Y' is a YAML params map for the
 * step (strategy-table overrides; the pack comes from $KAZU_KB); input starting
 * with 'V' is a string for VariantMatch (keys, suffix alternatives, one word
 * left out, conjuncts, index lookups); any other
 * input is a document description: lines of "<ctl><match>\t<surface>\t..."
 * whose surfaces are looked up in a tiny pack (plus made-up candidates with
 * ids the pack lacks), and the runner maps them. Mappings must name a parser
 * of the entity's candidates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "kazu/kazu.h"
#include "../../src/link/link_int.h"
#include "../../src/link/mapping_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static kz_kb *g_kb;
static kz__mapper *g_map;
static kz__variant *g_var;

static void write_file(const char *dir, const char *name, const char *text) {
    char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f) abort();
    fputs(text, f);
    fclose(f);
}

static double toy_embed(void *user, kz_str a, kz_str b) {
    (void)user;
    return (a.len && b.len && (a.ptr[0] | 0x20) == (b.ptr[0] | 0x20)) ? 0.9 : 0.1;
}

static char g_dir[128];

static void teardown(void) {
    kz__variant_free(g_var);
    kz__mapper_free(g_map);
    kz_kb_close(g_kb);
    static const char *const files[] = {"d.tsv", "g.tsv", "r.yaml", "t.kzkb"};
    char p[256];
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        snprintf(p, sizeof p, "%s/%s", g_dir, files[i]);
        unlink(p);
    }
    rmdir(g_dir);
}

static void setup(void) {
    if (g_map) return;
    char *dir = g_dir, recipe[192], pack[192];
    snprintf(g_dir, sizeof g_dir, "/tmp/kz_fuzz_mapping_%d", (int)getpid());
    mkdir(dir, 0700);
    write_file(dir, "d.tsv",
               "id\tname\tsynonyms\tdefinition\nD:1\tLung Cancer\tlung carcinoma|LC\tx\n"
               "D:2\tLymphocytic Choriomeningitis\tLC\ty\nD:3\tHeck's disease\tHeck disease\tz\n");
    write_file(dir, "g.tsv",
               "symbol\tname\talias\tannotation_score\nEGFR\tepidermal growth factor receptor\tERBB1\t10\n"
               "ERBB2\terb-b2 receptor tyrosine kinase 2\tERBB1|HER2\t5\nKIT\tKIT proto-oncogene\t\t1\n");
    write_file(dir, "r.yaml",
               "kb:\n  name: fuzz\n  sources:\n"
               "  - {name: TEST_DISEASE, entity_class: disease, format: tabular, path: d.tsv, id_col: id,\n"
               "     label_col: name, syn_cols: [synonyms], meta_cols: [definition], list_sep: \"|\",\n"
               "     synonym_generation: none, autocurator: none, id_grouping: per_id}\n"
               "  - {name: TEST_GENE, entity_class: gene, format: tabular, path: g.tsv, id_col: symbol,\n"
               "     label_col: symbol, syn_cols: [name, alias], meta_cols: [annotation_score],\n"
               "     list_sep: \"|\", synonym_generation: none, autocurator: none}\n");
    snprintf(recipe, sizeof recipe, "%s/r.yaml", dir);
    snprintf(pack, sizeof pack, "%s/t.kzkb", dir);
    kz_kb_build_opts opts = {.force = true, .allow_conflicts = true};
    kz_kb_build_report rep;
    kz_error err;
    if (kz_kb_build(recipe, pack, &opts, &rep, &err) || kz_kb_open(pack, &g_kb, &err)) abort();
    setenv("KAZU_KB", pack, 1);
    g_map = kz__mapper_new(g_kb);
    if (!g_map) abort();
    g_map->embed = toy_embed;
    kz__variant_opts o = kz__variant_default_opts();
    static const char *const from[] = {"ic", "ic", "ed"}, *const to[] = {"ia", "", "ion"};
    static const char *const wf[] = {"deficient", "tumour"}, *const wt[] = {"deficiency", ""};
    static const char *const md[] = {"severe"};
    o.suffix_from = from, o.suffix_to = to, o.n_suffix = 3;
    o.map_from = wf, o.map_to = wt, o.n_map = 2;
    o.mention_drop = md, o.n_mention_drop = 1;
    o.drop_parenthesised = true;
    if (!(g_var = kz__variant_new(g_kb, "fuzz", &o))) abort();
    atexit(teardown);
}

static const char *const k_classes[4] = {"disease", "gene", "drug", "cell_line"};
static const int k_conf[4] = {KZ_MENTION_IGNORE, KZ_MENTION_POSSIBLE, KZ_MENTION_PROBABLE,
                              KZ_MENTION_HIGHLY_LIKELY};

static void run_yaml(const uint8_t *data, size_t size) {
    kz_config *cfg;
    kz_error err;
    if (kz_config_load_string(&cfg, (const char *)data, size, "fuzz", NULL, &err)) return;
    void *state = NULL;
    int rc = kz__step_mapping.init(&state, kz_config_root(cfg), &err);
    if (rc == 0) {
        kz_doc *d = kz_doc_new("f", 1);
        kz_section *s;
        kz_doc_add_section(d, "na", 2, "LC x", 4, &s, NULL);
        kz_span sp = {0, 2};
        kz_entity_init in = {.spans = &sp,
                             .n_spans = 1,
                             .entity_class = kz_str_c("disease"),
                             .namespace_ = kz_str_c("f"),
                             .mention_confidence = KZ_MENTION_HIGHLY_LIKELY};
        kz_entity *e;
        if (kz_section_add_entity(d, s, &in, &e, NULL)) abort();
        kz_arena *a = kz_arena_new(0);
        kz_kb_hit *hits;
        size_t nh = 0;
        if (kz_kb_lookup(g_kb, "LC", 2, "disease", a, &hits, &nh, NULL) == 0)
            for (size_t i = 0; i < nh; i++) {
                kz_candidate *c = kz_arena_alloc(d->arena, sizeof *c);
                kz_metrics m = {
                    .present = KZ_METRIC_EXACT | KZ_METRIC_SEARCH, .exact_match = true, .search_score = 95};
                if (c && !kz_kb_candidate_at(g_kb, hits[i].candidate, d->arena, c))
                    kz_entity_add_candidate(d, e, c, &m);
            }
        kz_arena_free(a);
        kz_step_ctx ctx = {.step_name = "MappingStep"};
        kz__step_mapping.process(state, &d, 1, &ctx, &err);
        kz_doc_free(d);
        kz__step_mapping.free(state);
    } else if (rc != KZ_ECONFIG && rc != KZ_ENOMEM && rc != KZ_EIO && rc != KZ_EFORMAT && rc != KZ_EPARSE) {
        abort();
    }
    kz_config_free(cfg);
}

/* A key: no leading, trailing or double spaces; tokens sorted and distinct. */
static void check_key(const char *k, size_t n) {
    if (n >= KZ__VARIANT_KEY_MAX || k[n] != 0 || strlen(k) != n) abort();
    if (!n) return;
    if (k[0] == ' ' || k[n - 1] == ' ' || strstr(k, "  ")) abort();
    const char *prev = NULL;
    size_t prev_len = 0;
    for (const char *p = k; p < k + n;) {
        const char *e = memchr(p, ' ', (size_t)(k + n - p));
        size_t l = e ? (size_t)(e - p) : (size_t)(k + n - p);
        if (prev) {
            size_t m = prev_len < l ? prev_len : l;
            int c = memcmp(prev, p, m);
            if (c > 0 || (c == 0 && prev_len >= l)) abort();
        }
        prev = p, prev_len = l;
        p += l + 1;
    }
}

static void run_variant(const uint8_t *data, size_t size) {
    kz_str s = {(const char *)data, size};
    char key[KZ__VARIANT_KEY_MAX], alt[KZ__VARIANT_KEY_MAX];
    for (int mention = 0; mention < 2; mention++) check_key(key, kz__variant_key(g_var, s, mention, key));
    size_t kl = kz__variant_key(g_var, s, true, key);
    uint64_t ids[8];
    size_t n = 0;
    if (kz__variant_lookup(g_var, 0, key, kl, ids, 8, &n) == 0)
        for (size_t i = 0; i < n && i < 8; i++)
            if (ids[i] >= kz_kb_n_candidates(g_kb)) abort();
    for (size_t k = 0; k < 64; k++) {
        size_t al = kz__variant_alternative(g_var, s, k, alt, sizeof alt);
        if (!al) break;
        if (al >= sizeof alt || alt[al] != 0) abort();
        check_key(key, kz__variant_key(g_var, (kz_str){alt, al}, true, key));
    }
    for (size_t k = 0; k < 200; k++) {
        size_t dl = kz__variant_key_drop(g_var, s, true, k, key);
        if (!dl) break;
        check_key(key, dl);
    }
    kz_buf b;
    kz__buf_init(&b, 1 << 20);
    kz__conjunct_alt a[16];
    uint32_t nc = 0;
    if (kz__variant_conjuncts(s, &b, a, 16, &n, &nc) == 0 && nc) {
        if (n > 16 || nc < 2) abort();
        for (size_t i = 0; i < n; i++)
            if (a[i].conjunct >= nc || a[i].off + a[i].len >= b.len + 1 || b.data[a[i].off + a[i].len] != 0)
                abort();
    }
    kz__buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    setup();
    if (size > 4096) return 0;
    if (size && data[0] == 'V') {
        run_variant(data + 1, size - 1);
        return 0;
    }
    if (size && data[0] == 'Y') {
        run_yaml(data + 1, size - 1);
        return 0;
    }
    /* the section text: every line's match, separated by spaces */
    char *text = malloc(size + 1);
    if (!text) return 0;
    size_t tl = 0;
    size_t pos = 0;
    while (pos < size) {
        size_t e = pos;
        while (e < size && data[e] != '\n') e++;
        if (e > pos) {
            size_t m = pos + 1;
            while (m < e && data[m] != '\t') m++;
            if (tl) text[tl++] = ' ';
            memcpy(text + tl, data + pos + 1, m - pos - 1);
            tl += m - pos - 1;
        }
        pos = e + 1;
    }
    kz_doc *d = kz_doc_new("f", 1);
    kz_section *s;
    if (kz_doc_add_section(d, "na", 2, text, tl, &s, NULL)) {
        kz_doc_free(d);
        free(text);
        return 0; /* not UTF-8 */
    }
    kz_arena *a = kz_arena_new(0);
    size_t off = 0;
    pos = 0;
    while (pos < size) {
        size_t e = pos;
        while (e < size && data[e] != '\n') e++;
        if (e == pos) {
            pos = e + 1;
            continue;
        }
        uint8_t ctl = data[pos];
        size_t m = pos + 1;
        while (m < e && data[m] != '\t') m++;
        size_t ml = m - pos - 1;
        if (off) off++; /* the separating space, as the text was built */
        kz_entity *ent = NULL;
        if (ml) {
            kz_span sp = {(int64_t)off, (int64_t)(off + ml)};
            kz_entity_init in = {.spans = &sp,
                                 .n_spans = 1,
                                 .entity_class = kz_str_c(k_classes[ctl & 3]),
                                 .namespace_ = kz_str_c("f"),
                                 .mention_confidence = k_conf[(ctl >> 2) & 3]};
            kz_section_add_entity(d, s, &in, &ent, NULL); /* may refuse a span off a char boundary */
        }
        off += ml;
        /* candidate surfaces */
        size_t f = m;
        while (ent && f < e) {
            size_t g = f + 1;
            while (g < e && data[g] != '\t') g++;
            const char *surf = (const char *)data + f + 1;
            size_t sl = g - f - 1;
            kz_metrics met = {0};
            if (ctl & 0x10) met.present |= KZ_METRIC_EXACT, met.exact_match = true;
            if (ctl & 0x20) met.present |= KZ_METRIC_SEARCH, met.search_score = 60 + (double)(sl % 41);
            kz_kb_hit *hits = NULL;
            size_t nh = 0;
            kz_arena_reset(a);
            if (kz_kb_lookup(g_kb, surf, sl, NULL, a, &hits, &nh, NULL) == 0)
                for (size_t i = 0; i < nh; i++) {
                    kz_candidate *c = kz_arena_alloc(d->arena, sizeof *c);
                    if (c && !kz_kb_candidate_at(g_kb, hits[i].candidate, d->arena, c))
                        kz_entity_add_candidate(d, ent, c, &met);
                }
            if (ctl & 0x40) {
                /* a made-up candidate: surface as synonym_norm and as an id the pack lacks */
                kz_id_source *ids = kz_arena_alloc(d->arena, sizeof *ids);
                kz_equiv_id_set *set = kz_arena_alloc(d->arena, sizeof *set);
                kz_candidate *c = kz_arena_calloc(d->arena, 1, sizeof *c);
                kz_str sn = kz_arena_strdup(d->arena, surf, sl);
                if (ids && set && c && sn.ptr) {
                    ids->idx = sn;
                    ids->source = kz_str_c("FUZZ");
                    set->ids = ids;
                    set->n_ids = 1;
                    c->raw_synonyms = &ids->idx;
                    c->n_raw_synonyms = 1;
                    c->synonym_norm = sn;
                    c->parser_name = kz_str_c((ctl & 0x80) ? "TEST_GENE" : "NO_SUCH_PARSER");
                    c->is_symbolic = sl & 1;
                    c->id_sets = set;
                    c->n_id_sets = 1;
                    c->aggregated_by = KZ_AGG_CUSTOM;
                    kz_entity_add_candidate(d, ent, c, &met);
                }
            }
            f = g;
        }
        pos = e + 1;
    }
    kz_arena_free(a);
    if (kz__mapper_run(g_map, d, NULL) == 0 && kz__mapper_run(g_map, d, NULL) != 0) abort();
    for (uint32_t i = 0; i < s->n_entities; i++) {
        const kz_entity *en = s->entities[i];
        for (uint32_t j = 0; j < en->n_mappings; j++) {
            bool known = false;
            for (uint32_t k = 0; k < en->n_candidates && !known; k++)
                known = kz_str_eq(en->candidates[k].candidate->parser_name, en->mappings[j].parser_name);
            if (!known || !en->mappings[j].idx.ptr || !en->mappings[j].string_match_strategy.ptr) abort();
        }
    }
    kz_doc_free(d);
    free(text);
    return 0;
}
