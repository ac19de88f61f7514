/* Kazu's StrategyRunner + ConfidenceLevelStrategyExecution, its mapping
 * strategies (exact, symbol, substring, strong, embedding-confirmed) and
 * disambiguation strategies, turning entity candidates into Mappings. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kazu/normalise.h"
#include "mapping_int.h"

static const char *const k_ms_names[KZ__MS_COUNT] = {
    "ExactMatchMappingStrategy",
    "SymbolMatchMappingStrategy",
    "SynNormIsSubStringMappingStrategy",
    "StrongMatchMappingStrategy",
    "StrongMatchWithEmbeddingConfirmationStringMatchingStrategy",
    "VariantMatchMappingStrategy"};
static const char *const k_ds_names[KZ__DS_COUNT] = {"DefinedElsewhereInDocumentDisambiguationStrategy",
                                                     "TfIdfDisambiguationStrategy",
                                                     "GildaTfIdfDisambiguationStrategy",
                                                     "AnnotationLevelDisambiguationStrategy",
                                                     "PreferDefaultLabelMatchDisambiguationStrategy",
                                                     "BestSearchScoreDisambiguationStrategy"};
static const char k_not_required[] = "disambiguation_not_required";

const char *kz__map_strategy_name(int kind) {
    return kind >= 0 && kind < KZ__MS_COUNT ? k_ms_names[kind] : NULL;
}
const char *kz__dis_strategy_name(int kind) {
    return kind >= 0 && kind < KZ__DS_COUNT ? k_ds_names[kind] : NULL;
}

int kz__level_index(int mc) {
    switch (mc) {
    case KZ_MENTION_HIGHLY_LIKELY: return 0;
    case KZ_MENTION_PROBABLE: return 1;
    case KZ_MENTION_POSSIBLE: return 2;
    default: return -1;
    }
}

/* ---- the default table ------------------------------------------------------------ */
kz__strategy kz__strategy_make(int kind, int confidence) {
    kz__strategy s;
    memset(&s, 0, sizeof s);
    s.kind = kind;
    s.confidence = confidence;
    s.search_threshold = 80.0;
    s.differential = 2.0;
    s.min_len = 3;
    s.embed_threshold = 0.60;
    s.variant = -1;
    return s;
}

static int add_dis(kz__strategy *s, int kind, int conf, uint32_t agg_mask) {
    if (s->n_dis >= KZ__DIS_MAX) return KZ_EINVAL;
    kz__dis *d = &s->dis[s->n_dis++];
    d->kind = kind;
    d->confidence = conf;
    d->threshold = 0.7;
    d->agg_mask = agg_mask;
    return 0;
}

#define AGG(x) (1u << (x))
int kz__strategy_add_dis_list(kz__strategy *s, const char *name) {
    int rc = 0;
    if (!strcmp(name, "default")) {
        rc = add_dis(s, KZ__DS_DEFINED_ELSEWHERE, KZ_DC_HIGHLY_LIKELY, 0);
        if (!rc)
            rc = add_dis(s, KZ__DS_TFIDF, KZ_DC_PROBABLE,
                         AGG(KZ_AGG_UNAMBIGUOUS) | AGG(KZ_AGG_RESOLVED_BY_SIMILARITY) |
                             AGG(KZ_AGG_MERGED_AS_NON_SYMBOLIC));
    } else if (!strcmp(name, "gene")) {
        rc = add_dis(s, KZ__DS_DEFINED_ELSEWHERE, KZ_DC_HIGHLY_LIKELY, 0);
        if (!rc) rc = add_dis(s, KZ__DS_GILDA, KZ_DC_PROBABLE, 0);
        if (!rc) rc = add_dis(s, KZ__DS_ANNOTATION, KZ_DC_POSSIBLE, 0);
    } else if (!strcmp(name, "cell_line")) {
        rc = add_dis(s, KZ__DS_DEFINED_ELSEWHERE, KZ_DC_HIGHLY_LIKELY, 0);
        if (!rc) rc = add_dis(s, KZ__DS_TFIDF, KZ_DC_PROBABLE, AGG(KZ_AGG_CUSTOM));
    } else if (!strcmp(name, "prefer_default_label")) {
        rc = add_dis(s, KZ__DS_PREFER_DEFAULT, KZ_DC_HIGHLY_LIKELY, 0);
    } else if (!strcmp(name, "defined_elsewhere")) {
        rc = add_dis(s, KZ__DS_DEFINED_ELSEWHERE, KZ_DC_HIGHLY_LIKELY, 0);
    } else if (strcmp(name, "none") != 0) {
        rc = KZ_EINVAL;
    }
    return rc;
}

static void push(kz__strategy_list *l, int kind, int conf, const char *dis, bool essential) {
    if (l->n >= KZ__STRAT_MAX) return;
    kz__strategy s = kz__strategy_make(kind, conf);
    (void)kz__strategy_add_dis_list(&s, dis);
    s.essential = essential;
    l->s[l->n++] = s;
}

static kz__strategy_list *add_class(kz__level *lv, const char *cls) {
    kz__strategy_list *l = &lv->classes[lv->n_classes++];
    memset(l, 0, sizeof *l);
    snprintf(l->cls, sizeof l->cls, "%s", cls);
    return l;
}

enum { HL = KZ_SMC_HIGHLY_LIKELY, PR = KZ_SMC_PROBABLE, PO = KZ_SMC_POSSIBLE };
enum {
    E = KZ__MS_EXACT,
    SY = KZ__MS_SYMBOL,
    SUB = KZ__MS_SUBSTRING,
    ST = KZ__MS_STRONG,
    STE = KZ__MS_STRONG_EMBED
};

static void possible_level(kz__level *lv) {
    lv->present = true;
    lv->stop_on_success = true;
    push(&lv->defaults, E, HL, "defined_elsewhere", true);
}

void kz__mapper_default_table(kz__mapper *m) {
    memset(m->symbolic, 0, sizeof m->symbolic);
    memset(m->non_symbolic, 0, sizeof m->non_symbolic);
    kz__strategy_list *l;
    /* symbolic, HIGHLY_LIKELY */
    kz__level *lv = &m->symbolic[0];
    lv->present = lv->stop_on_success = true;
    push(&lv->defaults, E, HL, "default", false);
    push(&lv->defaults, SY, PR, "default", false);
    push(&lv->defaults, SUB, PR, "default", false);
    push(&lv->defaults, ST, PO, "default", false);
    lv->defaults.s[3].symbolic_only = true;
    l = add_class(lv, "gene");
    push(l, E, HL, "prefer_default_label", true);
    push(l, E, HL, "gene", false);
    push(l, SY, PR, "gene", false);
    push(l, SUB, PR, "gene", false);
    push(l, ST, PO, "gene", false);
    l->s[4].symbolic_only = true;
    l->s[4].search_threshold = 90.0;
    l = add_class(lv, "disease");
    push(l, E, HL, "default", false);
    push(l, SY, PR, "default", false);
    push(l, SUB, PR, "default", false);
    push(l, ST, PO, "default", false);
    l->s[3].symbolic_only = true;
    l = add_class(lv, "drug");
    push(l, E, HL, "default", false);
    l = add_class(lv, "cell_line");
    push(l, E, HL, "cell_line", false);
    push(l, SY, PR, "cell_line", false);
    push(l, SUB, PR, "cell_line", false);
    /* symbolic, PROBABLE */
    lv = &m->symbolic[1];
    lv->present = lv->stop_on_success = true;
    push(&lv->defaults, E, HL, "default", false);
    l = add_class(lv, "gene");
    push(l, E, HL, "prefer_default_label", true);
    push(l, E, HL, "gene", false);
    /* symbolic, POSSIBLE */
    possible_level(&m->symbolic[2]);

    /* non-symbolic, HIGHLY_LIKELY */
    lv = &m->non_symbolic[0];
    lv->present = lv->stop_on_success = true;
    push(&lv->defaults, E, HL, "prefer_default_label", true);
    push(&lv->defaults, E, HL, "default", false);
    push(&lv->defaults, ST, PO, "default", false);
    l = add_class(lv, "drug");
    push(l, E, HL, "prefer_default_label", true);
    push(l, E, HL, "default", false);
    l = add_class(lv, "gene");
    push(l, E, HL, "prefer_default_label", true);
    push(l, E, HL, "gene", false);
    push(l, SUB, PR, "gene", false);
    push(l, ST, PR, "gene", false);
    l = add_class(lv, "disease");
    push(l, E, HL, "prefer_default_label", true);
    push(l, E, HL, "default", false);
    push(l, STE, PO, "default", false);
    l = add_class(lv, "cell_line");
    push(l, E, HL, "prefer_default_label", true);
    push(l, E, HL, "cell_line", false);
    push(l, SY, PR, "cell_line", false);
    push(l, SUB, PR, "cell_line", false);
    /* non-symbolic, PROBABLE */
    lv = &m->non_symbolic[1];
    lv->present = lv->stop_on_success = true;
    push(&lv->defaults, E, HL, "prefer_default_label", true);
    push(&lv->defaults, E, HL, "default", false);
    l = add_class(lv, "gene");
    push(l, E, HL, "prefer_default_label", true);
    push(l, E, HL, "gene", false);
    /* non-symbolic, POSSIBLE */
    possible_level(&m->non_symbolic[2]);
}

kz__mapper *kz__mapper_new(kz_kb *kb) {
    kz__mapper *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->kb = kb;
    m->tfidf_max_synonyms = 4000000;
    kz__mapper_default_table(m);
    if (!(m->tfidf = kz__tfidf_model_new(kb, m->tfidf_max_synonyms))) {
        free(m);
        return NULL;
    }
    return m;
}

void kz__mapper_free(kz__mapper *m) {
    if (!m) return;
    kz__tfidf_model_free(m->tfidf);
    for (uint32_t i = 0; i < m->n_variants; i++) kz__variant_free(m->variants[i]);
    if (m->kb_owned) kz_kb_release(m->kb);
    free(m);
}

/* ---- run state ------------------------------------------------------------------- */
typedef struct ent_info {
    kz_entity *e;
    uint32_t order;
    bool symbolic;
    uint32_t *cand; /* indices into e->candidates sorted by (parser_name, synonym_norm) */
} ent_info;

typedef struct mapped_key {
    uint64_t h;
    kz_str parser, source, idx;
} mapped_key;

typedef struct run {
    const kz__mapper *m;
    kz_doc *doc;
    kz_arena *scratch; /* reset per strategy call */
    kz__tfidf_doc *tfdoc;
    bool tfdoc_failed;
    mapped_key *mk; /* (parser, source, idx) of every mapping in the doc */
    size_t mk_cap, mk_n;
} run;

static uint64_t str_hash(uint64_t h, kz_str s) {
    for (size_t i = 0; i < s.len; i++) h = (h ^ (unsigned char)s.ptr[i]) * 1099511628211ull;
    return (h ^ 0x1f) * 1099511628211ull;
}

static uint64_t triple_hash(kz_str p, kz_str s, kz_str i) {
    uint64_t h = str_hash(str_hash(str_hash(1469598103934665603ull, p), s), i);
    return h ? h : 1;
}

static bool mk_has(const run *r, kz_str p, kz_str s, kz_str i) {
    if (!r->mk_cap) return false;
    uint64_t h = triple_hash(p, s, i);
    for (size_t j = h & (r->mk_cap - 1); r->mk[j].h; j = (j + 1) & (r->mk_cap - 1))
        if (r->mk[j].h == h && kz_str_eq(r->mk[j].parser, p) && kz_str_eq(r->mk[j].source, s) &&
            kz_str_eq(r->mk[j].idx, i))
            return true;
    return false;
}

static int mk_add(run *r, kz_str p, kz_str s, kz_str i) {
    if (mk_has(r, p, s, i)) return 0;
    if ((r->mk_n + 1) * 2 > r->mk_cap) {
        size_t nc = r->mk_cap ? r->mk_cap * 2 : 256;
        mapped_key *n = calloc(nc, sizeof *n);
        if (!n) return KZ_ENOMEM;
        for (size_t j = 0; j < r->mk_cap; j++)
            if (r->mk[j].h) {
                size_t k = r->mk[j].h & (nc - 1);
                while (n[k].h) k = (k + 1) & (nc - 1);
                n[k] = r->mk[j];
            }
        free(r->mk);
        r->mk = n, r->mk_cap = nc;
    }
    uint64_t h = triple_hash(p, s, i);
    size_t k = h & (r->mk_cap - 1);
    while (r->mk[k].h) k = (k + 1) & (r->mk_cap - 1);
    r->mk[k] = (mapped_key){h, p, s, i};
    r->mk_n++;
    return 0;
}

/* ---- id sets ------------------------------------------------------------------------ */
static bool ids_contains(const kz_equiv_id_set *s, kz_str idx, kz_str src) {
    for (uint32_t i = 0; i < s->n_ids; i++)
        if (kz_str_eq(s->ids[i].idx, idx) && kz_str_eq(s->ids[i].source, src)) return true;
    return false;
}

/* frozenset equality of two EquivalentIdSets (sets of (idx, source)). */
static bool idset_eq(const kz_equiv_id_set *a, const kz_equiv_id_set *b) {
    if (a->n_ids != b->n_ids) return false;
    for (uint32_t i = 0; i < a->n_ids; i++)
        if (!ids_contains(b, a->ids[i].idx, a->ids[i].source)) return false;
    return true;
}

typedef struct idsets {
    kz_equiv_id_set *v;
    uint32_t n, cap;
} idsets;

static int idsets_add(kz_arena *a, idsets *s, const kz_equiv_id_set *x) {
    for (uint32_t i = 0; i < s->n; i++)
        if (idset_eq(&s->v[i], x)) return 0;
    if (s->n == s->cap) {
        uint32_t nc = s->cap ? s->cap * 2 : 8;
        kz_equiv_id_set *nv = kz_arena_alloc(a, nc * sizeof *nv);
        if (!nv) return KZ_ENOMEM;
        if (s->n) memcpy(nv, s->v, s->n * sizeof *nv);
        s->v = nv, s->cap = nc;
    }
    s->v[s->n++] = *x;
    return 0;
}

static int cmp_id_source(const void *a, const void *b) {
    const kz_id_source *x = a, *y = b;
    int c = kz_str_cmp(x->idx, y->idx);
    return c ? c : kz_str_cmp(x->source, y->source);
}

/* ---- kb helpers ----------------------------------------------------------------------- */
static bool kb_id(const run *r, uint32_t parser, kz_str idx, kz_kb_id *out) {
    int64_t i = kz_kb_id_find(r->m->kb, parser, idx);
    return i >= 0 && kz_kb_id_at(r->m->kb, (uint64_t)i, r->scratch, out) == 0;
}

/* ---- disambiguation strategies ------------------------------------------------------ */
typedef const kz_candidate_metrics *cm_ptr;

typedef struct dis_ctx {
    run *r;
    int32_t parser; /* index in the kb, -1 if unknown */
    kz_str parser_name;
    kz_str ent_match, ent_match_norm;
    const cm_ptr *kept; /* the candidates the mapping strategy kept */
    size_t n_kept;
} dis_ctx;

/* The id sets (of in) of the kept candidates with the best search score. */
static int dis_best_score(dis_ctx *c, const idsets *in, idsets *out) {
    double best = -INFINITY;
    for (size_t i = 0; i < c->n_kept; i++)
        if ((c->kept[i]->metrics.present & KZ_METRIC_SEARCH) && c->kept[i]->metrics.search_score > best)
            best = c->kept[i]->metrics.search_score;
    if (best == -INFINITY) return 0;
    for (size_t i = 0; i < c->n_kept; i++) {
        const kz_candidate_metrics *k = c->kept[i];
        if (!(k->metrics.present & KZ_METRIC_SEARCH) || k->metrics.search_score != best) continue;
        for (uint32_t j = 0; j < k->candidate->n_id_sets; j++)
            for (uint32_t t = 0; t < in->n; t++)
                if (idset_eq(&in->v[t], &k->candidate->id_sets[j]) &&
                    idsets_add(c->r->scratch, out, &in->v[t]))
                    return KZ_ENOMEM;
    }
    return 0;
}

static int dis_defined_elsewhere(dis_ctx *c, const idsets *in, idsets *out) {
    kz_arena *a = c->r->scratch;
    for (uint32_t i = 0; i < in->n; i++) {
        const kz_equiv_id_set *s = &in->v[i];
        kz_id_source *keep = kz_arena_alloc(a, (s->n_ids ? s->n_ids : 1) * sizeof *keep);
        if (!keep) return KZ_ENOMEM;
        uint32_t n = 0;
        for (uint32_t j = 0; j < s->n_ids; j++)
            if (mk_has(c->r, c->parser_name, s->ids[j].source, s->ids[j].idx) &&
                !ids_contains(&(kz_equiv_id_set){keep, n}, s->ids[j].idx, s->ids[j].source))
                keep[n++] = s->ids[j];
        if (n) {
            qsort(keep, n, sizeof *keep, cmp_id_source);
            if (idsets_add(a, out, &(kz_equiv_id_set){keep, n})) return KZ_ENOMEM;
        }
    }
    return 0;
}

static int dis_prefer_default_label(dis_ctx *c, const idsets *in, idsets *out) {
    if (c->parser < 0) return 0;
    kz_kb_parser p;
    if (kz_kb_parser_at(c->r->m->kb, (uint32_t)c->parser, &p)) return 0;
    kz_arena *a = c->r->scratch;
    size_t total = 0;
    for (uint32_t i = 0; i < in->n; i++) total += in->v[i].n_ids;
    kz_id_source *keep = kz_arena_alloc(a, (total ? total : 1) * sizeof *keep);
    if (!keep) return KZ_ENOMEM;
    uint32_t n = 0;
    for (uint32_t i = 0; i < in->n; i++)
        for (uint32_t j = 0; j < in->v[i].n_ids; j++) {
            const kz_id_source *ids = &in->v[i].ids[j];
            kz_kb_id id;
            if (!kb_id(c->r, (uint32_t)c->parser, ids->idx, &id)) continue;
            char *norm = NULL;
            size_t nl = 0;
            int rc = kz_normalise(id.default_label.ptr, id.default_label.len, p.entity_class.ptr, &norm, &nl,
                                  NULL);
            if (rc == KZ_ENOMEM) return rc;
            bool eq = !rc && nl == c->ent_match_norm.len && !memcmp(norm, c->ent_match_norm.ptr, nl);
            free(norm);
            if (eq && !ids_contains(&(kz_equiv_id_set){keep, n}, ids->idx, ids->source)) keep[n++] = *ids;
        }
    if (n) {
        qsort(keep, n, sizeof *keep, cmp_id_source);
        return idsets_add(a, out, &(kz_equiv_id_set){keep, n});
    }
    return 0;
}

/* int(metadata.get("annotation_score", 0)) */
static long long annotation_score(kz_str meta_json) {
    if (!meta_json.ptr) return 0;
    json_t *j = json_loadb(meta_json.ptr, meta_json.len, 0, NULL);
    if (!j) return 0;
    long long v = 0;
    json_t *x = json_object_get(j, "annotation_score");
    if (json_is_integer(x))
        v = json_integer_value(x);
    else if (json_is_real(x) && isfinite(json_real_value(x)) && fabs(json_real_value(x)) < 9e18)
        v = (long long)json_real_value(x);
    else if (json_is_string(x))
        v = strtoll(json_string_value(x), NULL, 10);
    else if (json_is_true(x))
        v = 1;
    json_decref(j);
    return v;
}

static int dis_annotation(dis_ctx *c, const idsets *in, idsets *out) {
    long long best = 0;
    out->n = 0;
    for (uint32_t i = 0; i < in->n; i++)
        for (uint32_t j = 0; j < in->v[i].n_ids; j++) {
            long long score = 0;
            kz_kb_id id;
            if (c->parser >= 0 && kb_id(c->r, (uint32_t)c->parser, in->v[i].ids[j].idx, &id))
                score = annotation_score(id.metadata_json);
            if (score > best) {
                best = score;
                out->n = 0;
                if (idsets_add(c->r->scratch, out, &in->v[i])) return KZ_ENOMEM;
            } else if (score == best) {
                if (idsets_add(c->r->scratch, out, &in->v[i])) return KZ_ENOMEM;
            }
        }
    return 0;
}

typedef struct syn_set {
    kz_str syn;
    uint32_t set;
} syn_set;

static int cmp_syn_set(const void *a, const void *b) {
    const syn_set *x = a, *y = b;
    int c = kz_str_cmp(x->syn, y->syn);
    return c ? c : (x->set < y->set ? -1 : x->set > y->set);
}

typedef struct scored {
    double score;
    uint32_t i;
} scored;

static int cmp_scored(const void *a, const void *b) {
    const scored *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static int dis_tfidf(dis_ctx *c, const kz__dis *d, const idsets *in, idsets *out) {
    run *r = c->r;
    if (c->parser < 0) return 0;
    if (!r->tfdoc && !r->tfdoc_failed) {
        r->tfdoc = kz__tfidf_doc_new(r->doc);
        if (!r->tfdoc) return KZ_ENOMEM;
    }
    kz_str *syns = NULL;
    size_t n_syn = 0, cap_syn = 0;
    syn_set *pairs = NULL;
    size_t np = 0, cp = 0;
    int rc = 0;
    for (uint32_t i = 0; i < in->n && !rc; i++)
        for (uint32_t j = 0; j < in->v[i].n_ids && !rc; j++) {
            n_syn = 0;
            rc = kz__tfidf_syns_for_id(r->m, (uint32_t)c->parser, in->v[i].ids[j].idx, d->agg_mask,
                                       r->scratch, &syns, &n_syn, &cap_syn);
            for (size_t k = 0; k < n_syn && !rc; k++) {
                if (np == cp) {
                    size_t nc = cp ? cp * 2 : 32;
                    syn_set *npairs = realloc(pairs, nc * sizeof *npairs);
                    if (!npairs) {
                        rc = KZ_ENOMEM;
                        break;
                    }
                    pairs = npairs, cp = nc;
                }
                pairs[np++] = (syn_set){syns[k], i};
            }
        }
    free(syns);
    if (rc == KZ_ENOTFOUND) rc = 0, np = 0; /* no model for this parser: Kazu returns set() */
    if (rc || np == 0) {
        free(pairs);
        return rc;
    }
    qsort(pairs, np, sizeof *pairs, cmp_syn_set);
    /* distinct synonyms, each with its distinct id sets */
    size_t nu = 0;
    kz_str *ustr = malloc(np * sizeof *ustr);
    uint32_t *first = malloc((np + 1) * sizeof *first);
    double *scores = malloc(np * sizeof *scores);
    scored *order = malloc(np * sizeof *order);
    if (!ustr || !first || !scores || !order) rc = KZ_ENOMEM;
    size_t w = 0;
    for (size_t k = 0; k < np && !rc; k++) {
        if (k && kz_str_eq(pairs[k].syn, pairs[k - 1].syn) && pairs[k].set == pairs[k - 1].set) continue;
        if (!w || !kz_str_eq(pairs[k].syn, pairs[w - 1].syn)) {
            first[nu] = (uint32_t)w;
            ustr[nu++] = pairs[k].syn;
        }
        pairs[w++] = pairs[k];
    }
    if (!rc) {
        first[nu] = (uint32_t)w;
        rc = kz__tfidf_score(r->m, r->tfdoc, (uint32_t)c->parser, ustr, nu, scores);
        if (rc == KZ_ENOTFOUND) rc = 0, nu = 0;
    }
    if (!rc) {
        for (size_t k = 0; k < nu; k++) order[k] = (scored){scores[k], (uint32_t)k};
        qsort(order, nu, sizeof *order, cmp_scored);
        for (size_t k = 0; k < nu; k++) {
            uint32_t u = order[k].i;
            if (order[k].score >= d->threshold && first[u + 1] - first[u] == 1) {
                rc = idsets_add(r->scratch, out, &in->v[pairs[first[u]].set]);
                break;
            }
        }
    }
    free(ustr), free(first), free(scores), free(order), free(pairs);
    return rc;
}

static int run_dis(dis_ctx *c, const kz__dis *d, const idsets *in, idsets *out) {
    out->n = 0;
    switch (d->kind) {
    case KZ__DS_DEFINED_ELSEWHERE: return dis_defined_elsewhere(c, in, out);
    case KZ__DS_TFIDF: return dis_tfidf(c, d, in, out);
    case KZ__DS_ANNOTATION: return dis_annotation(c, in, out);
    case KZ__DS_PREFER_DEFAULT: return dis_prefer_default_label(c, in, out);
    case KZ__DS_BEST_SCORE: return dis_best_score(c, in, out);
    case KZ__DS_GILDA: /* needs Kazu's Wikipedia contexts + tfidf.pkl: never disambiguates */
    default: return 0;
    }
}

/* ---- mapping strategies: filter_candidates ------------------------------------------ */

static size_t cp_len(kz_str s) {
    size_t n = 0;
    for (size_t i = 0; i < s.len; i++) n += ((unsigned char)s.ptr[i] & 0xC0) != 0x80;
    return n;
}

static const char *find_bytes(const char *h, size_t hl, const char *n, size_t nl) {
    if (nl == 0) return h;
    if (nl > hl) return NULL;
    for (size_t i = 0; i + nl <= hl; i++)
        if (h[i] == n[0] && !memcmp(h + i, n, nl)) return h + i;
    return NULL;
}

static bool is_py_space(unsigned char ch) {
    return ch == ' ' || (ch >= 0x09 && ch <= 0x0d) || (ch >= 0x1c && ch <= 0x1f);
}

/* Kazu's SymbolMatchMappingStrategy.match_symbols(s1, s2). */
static bool match_symbols(kz_str s1, kz_str s2) {
    size_t t1 = 1, t2 = 1;
    for (size_t i = 0; i < s1.len; i++) t1 += s1.ptr[i] == ' ';
    for (size_t i = 0; i < s2.len; i++) t2 += s2.ptr[i] == ' ';
    kz_str longest, shortest;
    if (t1 > t2)
        longest = s1, shortest = s2;
    else
        longest = s2, shortest = s1;
    char stackbuf[256];
    char *buf = shortest.len < sizeof stackbuf ? stackbuf : malloc(shortest.len + 1);
    if (!buf) return false;
    if (shortest.len) memcpy(buf, shortest.ptr, shortest.len);
    size_t bl = shortest.len;
    bool ok = true;
    size_t start = 0;
    for (size_t i = 0; i <= longest.len && ok; i++) {
        if (i < longest.len && longest.ptr[i] != ' ') continue;
        const char *tok = longest.ptr + start;
        size_t tl = i - start;
        start = i + 1;
        const char *hit = find_bytes(buf, bl, tok, tl);
        if (!hit) {
            ok = false;
            break;
        }
        size_t off = (size_t)(hit - buf);
        memmove(buf + off, buf + off + tl, bl - off - tl);
        bl -= tl;
    }
    if (ok)
        for (size_t i = 0; i < bl; i++)
            if (!is_py_space((unsigned char)buf[i])) {
                ok = false;
                break;
            }
    if (buf != stackbuf) free(buf);
    return ok;
}

static bool token_of(kz_str norm, kz_str syn) {
    size_t start = 0;
    for (size_t i = 0; i <= norm.len; i++) {
        if (i < norm.len && norm.ptr[i] != ' ') continue;
        if (i - start == syn.len && !memcmp(norm.ptr + start, syn.ptr, syn.len)) return true;
        start = i + 1;
    }
    return false;
}

static bool same_assoc(const kz_candidate *a, const kz_candidate *b) {
    if (a->n_id_sets != b->n_id_sets) return false;
    for (uint32_t i = 0; i < a->n_id_sets; i++) {
        bool found = false;
        for (uint32_t j = 0; j < b->n_id_sets && !found; j++)
            found = idset_eq(&a->id_sets[i], &b->id_sets[j]);
        if (!found) return false;
    }
    return true;
}

static int cmp_search_desc(const void *a, const void *b) {
    const cm_ptr *x = a, *y = b;
    double sx = (*x)->metrics.search_score, sy = (*y)->metrics.search_score;
    if (sx != sy) return sx > sy ? -1 : 1;
    return *x < *y ? -1 : *x > *y; /* pointer order = candidate order on the entity */
}

/* Filter in[0..n) into out; returns the count kept. */
static size_t filter(const kz__mapper *m, const kz__strategy *s, kz_str match, kz_str norm, cm_ptr *in,
                     size_t n, cm_ptr *out) {
    size_t k = 0;
    switch (s->kind) {
    case KZ__MS_EXACT:
        for (size_t i = 0; i < n; i++)
            if ((in[i]->metrics.present & KZ_METRIC_EXACT) && in[i]->metrics.exact_match) out[k++] = in[i];
        return k;
    case KZ__MS_SYMBOL:
        for (size_t i = 0; i < n; i++)
            if (match_symbols(norm, in[i]->candidate->synonym_norm)) out[k++] = in[i];
        return k;
    case KZ__MS_SUBSTRING: {
        /* longest synonym_norm that is a whole token; a tie at one length falls
         * through to the next length */
        size_t cur_len = SIZE_MAX;
        for (;;) {
            size_t next_len = 0, count = 0;
            cm_ptr pick = NULL;
            for (size_t i = 0; i < n; i++) {
                kz_str sn = in[i]->candidate->synonym_norm;
                size_t l = cp_len(sn);
                if (l < s->min_len || l >= cur_len || !token_of(norm, sn)) continue;
                if (l > next_len) next_len = l, count = 0, pick = NULL;
                if (l == next_len) {
                    count++;
                    if (!pick) pick = in[i];
                }
            }
            if (!next_len) return 0;
            if (count == 1) {
                out[0] = pick;
                return 1;
            }
            cur_len = next_len;
        }
    }
    case KZ__MS_STRONG:
    case KZ__MS_STRONG_EMBED: {
        double best = -INFINITY;
        bool any = false;
        for (size_t i = 0; i < n; i++) {
            if (!(in[i]->metrics.present & KZ_METRIC_SEARCH)) continue;
            if (s->symbolic_only && !in[i]->candidate->is_symbolic) continue;
            any = true;
            if (in[i]->metrics.search_score > best) best = in[i]->metrics.search_score;
        }
        if (!any) return 0;
        for (size_t i = 0; i < n; i++) {
            if (!(in[i]->metrics.present & KZ_METRIC_SEARCH)) continue;
            if (s->symbolic_only && !in[i]->candidate->is_symbolic) continue;
            double sc = in[i]->metrics.search_score;
            if (sc >= s->search_threshold && best - sc <= s->differential) out[k++] = in[i];
        }
        if (s->kind == KZ__MS_STRONG) return k;
        if (!m->embed) return 0; /* the seam: no embedding scorer configured */
        qsort(out, k, sizeof *out, cmp_search_desc);
        cm_ptr *sorted = malloc((k ? k : 1) * sizeof *sorted);
        if (!sorted) return 0;
        memcpy(sorted, out, k * sizeof *sorted);
        size_t w = 0;
        for (size_t i = 0; i < k; i++) {
            /* one candidate per distinct associated_id_sets, best score first */
            bool seen = false;
            for (size_t j = 0; j < i && !seen; j++)
                seen = same_assoc(sorted[j]->candidate, sorted[i]->candidate);
            if (seen) continue;
            const kz_candidate *c = sorted[i]->candidate;
            bool ok = false;
            for (uint32_t j = 0; j < c->n_raw_synonyms && !ok; j++) {
                double sim = m->embed(m->embed_user, match, c->raw_synonyms[j]);
                ok = !isnan(sim) && sim >= s->embed_threshold;
            }
            if (ok) out[w++] = sorted[i];
        }
        free(sorted);
        return w;
    }
    default: return 0;
    }
}

/* ---- mappings --------------------------------------------------------------------------- */
/* Split the pack's compact metadata object into kz_meta entries (scratch arena). */
static int meta_from_json(kz_arena *a, kz_str js, kz_meta *out) {
    memset(out, 0, sizeof *out);
    if (!js.ptr || !js.len) return 0;
    json_t *j = json_loadb(js.ptr, js.len, 0, NULL);
    if (!j) return 0;
    if (!json_is_object(j)) {
        json_decref(j);
        return 0;
    }
    size_t n = json_object_size(j);
    out->items = kz_arena_calloc(a, n ? n : 1, sizeof *out->items);
    int rc = out->items ? 0 : KZ_ENOMEM;
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v) {
        if (rc || out->n >= n) break;
        char *txt = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!txt) {
            rc = KZ_ENOMEM;
            break;
        }
        kz_meta_entry *e = &out->items[out->n];
        e->key = kz_arena_strdup(a, key, strlen(key));
        e->value = kz_arena_strdup(a, txt, strlen(txt));
        free(txt);
        if (!e->key.ptr || !e->value.ptr) {
            rc = KZ_ENOMEM;
            break;
        }
        out->n++;
    }
    out->cap = out->n;
    json_decref(j);
    return rc;
}

/* Kazu's Mapping equality: every field but metadata. */
static bool mapping_eq(const kz_mapping *a, const kz_mapping *b) {
    return kz_str_eq(a->idx, b->idx) && kz_str_eq(a->source, b->source) &&
           kz_str_eq(a->parser_name, b->parser_name) && kz_str_eq(a->default_label, b->default_label) &&
           kz_str_eq(a->string_match_strategy, b->string_match_strategy) &&
           a->string_match_confidence == b->string_match_confidence &&
           a->disambiguation_confidence == b->disambiguation_confidence &&
           kz_str_eq(a->disambiguation_strategy, b->disambiguation_strategy) &&
           kz_str_eq(a->xref_source_parser_name, b->xref_source_parser_name);
}

typedef struct group {
    ent_info **mem;
    uint32_t n;
    kz_str *parsers;  /* distinct parser names of the reference entity's candidates, sorted */
    uint32_t *pstart; /* n_parsers + 1 offsets into the reference's sorted candidates */
    bool *resolved;
    uint32_t n_parsers;
    bool mapped;
} group;

static int add_mapping(run *r, group *g, const kz_mapping *mp) {
    for (uint32_t k = 0; k < g->n; k++) {
        kz_entity *e = g->mem[k]->e;
        bool dup = false;
        for (uint32_t j = 0; j < e->n_mappings && !dup; j++) dup = mapping_eq(&e->mappings[j], mp);
        if (dup) continue;
        int rc = kz_entity_add_mapping(r->doc, e, mp);
        if (rc) return rc;
    }
    return mk_add(r, mp->parser_name, mp->source, mp->idx);
}

/* disambiguate_if_required: which of all's sets become mappings. *chosen is
 * NULL when nothing is to be mapped (essential disambiguation failed). */
static int decide(dis_ctx *dc, const kz__strategy *s, const idsets *all, idsets *res, const idsets **chosen,
                  const char **dstrat, int *dconf) {
    *chosen = all;
    *dstrat = NULL;
    *dconf = KZ_DC_NONE;
    if (!s->essential && all->n == 1) {
        *dstrat = k_not_required;
        return 0;
    }
    if (!s->essential && s->n_dis == 0) {
        *dconf = KZ_DC_AMBIGUOUS;
        return 0;
    }
    for (uint32_t k = 0; k < s->n_dis; k++) {
        int rc = run_dis(dc, &s->dis[k], all, res);
        if (rc) return rc;
        if (res->n == 1) {
            *chosen = res;
            *dstrat = kz__dis_strategy_name(s->dis[k].kind);
            *dconf = s->dis[k].confidence;
            return 0;
        }
    }
    if (s->essential)
        *chosen = NULL;
    else
        *dconf = KZ_DC_AMBIGUOUS;
    return 0;
}

/* One Mapping per (idx, source) of the chosen sets, added to every entity of g. */
static int emit(run *r, const kz__strategy *s, group *g, dis_ctx *dc, const idsets *chosen,
                const char *dstrat, int dconf, bool *produced) {
    for (uint32_t i = 0; i < chosen->n; i++)
        for (uint32_t j = 0; j < chosen->v[i].n_ids; j++) {
            const kz_id_source *ids = &chosen->v[i].ids[j];
            kz_mapping mp;
            memset(&mp, 0, sizeof mp);
            mp.idx = ids->idx;
            mp.source = ids->source;
            mp.parser_name = dc->parser_name;
            mp.string_match_strategy = kz_str_c(kz__map_strategy_name(s->kind));
            mp.string_match_confidence = s->confidence;
            mp.disambiguation_confidence = dconf;
            mp.disambiguation_strategy = dstrat ? kz_str_c(dstrat) : KZ_STR_NULL;
            kz_kb_id id;
            if (dc->parser >= 0 && kb_id(r, (uint32_t)dc->parser, ids->idx, &id)) {
                mp.default_label = id.default_label;
                int rc = meta_from_json(r->scratch, id.metadata_json, &mp.metadata);
                if (rc) return rc;
            } else {
                /* Kazu raises KeyError here; we keep the id as its own label */
                kz_log(KZ_LOG_WARN, "MappingStep: id %.*s of parser %.*s is not in the knowledge base",
                       (int)ids->idx.len, ids->idx.ptr, (int)dc->parser_name.len, dc->parser_name.ptr);
                mp.default_label = ids->idx;
            }
            int rc = add_mapping(r, g, &mp);
            if (rc) return rc;
            *produced = true;
        }
    return 0;
}

static int add_sets_of(kz_arena *a, idsets *all, const cm_ptr *kept, size_t nk) {
    for (size_t i = 0; i < nk; i++)
        for (uint32_t j = 0; j < kept[i]->candidate->n_id_sets; j++)
            if (idsets_add(a, all, &kept[i]->candidate->id_sets[j])) return KZ_ENOMEM;
    return 0;
}

/* ---- VariantMatch ------------------------------------------------------------------ */
#define VARIANT_MAX_HITS 256
#define VARIANT_MAX_ALTS 64

/* The pack candidates of parser whose variant key equals norm's (mention side),
 * as candidate views in the scratch arena. */
static int variant_hits(run *r, const kz__variant *v, int32_t parser, kz_str norm, cm_ptr **out, size_t *n) {
    *n = 0;
    *out = NULL;
    if (parser < 0) return 0;
    char key[KZ__VARIANT_KEY_MAX], alt[KZ__VARIANT_KEY_MAX];
    uint64_t ids[VARIANT_MAX_HITS];
    size_t nh = 0;
    int rc = 0;
    /* the mention's key, then its suffix alternatives in order: the first with hits */
    for (size_t k = 0; !rc && !nh && k <= VARIANT_MAX_ALTS; k++) {
        kz_str s = norm;
        if (k) {
            size_t al = kz__variant_alternative(v, norm, k - 1, alt, sizeof alt);
            if (!al) break;
            s = (kz_str){alt, al};
        }
        size_t kl = kz__variant_key(v, s, true, key);
        if (kl) rc = kz__variant_lookup(v, (uint32_t)parser, key, kl, ids, VARIANT_MAX_HITS, &nh);
    }
    /* drop_one_word: the mention less one word, leading (modifier) words first */
    for (size_t k = 0; !rc && !nh && kz__variant_drops_one(v) && k < VARIANT_MAX_ALTS; k++) {
        size_t kl = kz__variant_key_drop(v, norm, true, k, key);
        if (!kl) break; /* past the last word, or nothing left */
        rc = kz__variant_lookup(v, (uint32_t)parser, key, kl, ids, VARIANT_MAX_HITS, &nh);
    }
    if (rc || !nh) return rc;
    if (nh > VARIANT_MAX_HITS) nh = VARIANT_MAX_HITS;
    kz_candidate_metrics *cm = kz_arena_calloc(r->scratch, nh, sizeof *cm);
    cm_ptr *v_out = kz_arena_alloc(r->scratch, nh * sizeof *v_out);
    if (!cm || !v_out) return KZ_ENOMEM;
    for (size_t i = 0; i < nh; i++) {
        kz_candidate *c = kz_arena_alloc(r->scratch, sizeof *c);
        if (!c) return KZ_ENOMEM;
        if (kz_kb_candidate_at(r->m->kb, ids[i], r->scratch, c)) continue;
        cm[*n].candidate = c;
        cm[*n].metrics.present = KZ_METRIC_EXACT;
        cm[*n].metrics.exact_match = false;
        v_out[*n] = &cm[*n];
        (*n)++;
    }
    *out = v_out;
    return 0;
}

/* Composite mention: each conjunct maps on its own (its first alternative
 * with variant hits, disambiguated as the strategy says); the mappings of all
 * conjuncts that resolved are made. */
static int variant_composite(run *r, const kz__strategy *s, group *g, dis_ctx *dc, bool *produced) {
    const kz__variant *v = r->m->variants[s->variant];
    kz_entity *ref = g->mem[0]->e;
    kz_buf b;
    kz__buf_init(&b, 1 << 16);
    kz__conjunct_alt alts[64];
    size_t na = 0;
    uint32_t nc = 0;
    int rc = kz__variant_conjuncts(ref->match, &b, alts, 64, &na, &nc);
    /* resolve every conjunct first: mappings only when at least one resolved */
    idsets per[16];
    const char *pstrat[16];
    int pconf[16];
    bool ok[16] = {false};
    for (uint32_t c = 0; c < nc && c < 16 && !rc; c++) {
        for (size_t k = 0; k < na && !rc && !ok[c]; k++) {
            if (alts[k].conjunct != c) continue;
            char *norm = NULL;
            size_t nl = 0;
            int nr = kz_normalise(b.data + alts[k].off, alts[k].len, ref->entity_class.ptr, &norm, &nl, NULL);
            if (nr == KZ_ENOMEM) rc = nr;
            if (nr) continue;
            cm_ptr *hits = NULL;
            size_t nh = 0;
            rc = variant_hits(r, v, dc->parser, (kz_str){norm, nl}, &hits, &nh);
            free(norm);
            if (rc || !nh) continue;
            idsets all = {0}, res = {0};
            const idsets *chosen = NULL;
            dc->kept = hits;
            dc->n_kept = nh;
            if ((rc = add_sets_of(r->scratch, &all, hits, nh))) break;
            if ((rc = decide(dc, s, &all, &res, &chosen, &pstrat[c], &pconf[c]))) break;
            /* an ambiguous conjunct is left out rather than mapped to every reading */
            if (!chosen || pconf[c] == KZ_DC_AMBIGUOUS) continue;
            per[c] = *chosen;
            ok[c] = true;
        }
    }
    kz__buf_free(&b);
    for (uint32_t c = 0; c < nc && c < 16 && !rc; c++)
        if (ok[c]) rc = emit(r, s, g, dc, &per[c], pstrat[c], pconf[c], produced);
    return rc;
}

/* MappingStrategy.__call__ for the candidates of one parser. *produced is set
 * when at least one mapping came out. */
static int call_strategy(run *r, const kz__strategy *s, group *g, kz_str parser_name, cm_ptr *cands, size_t n,
                         bool *produced) {
    kz_entity *ref = g->mem[0]->e;
    kz_arena *a = r->scratch;
    kz_arena_reset(a);
    dis_ctx dc = {r, kz_kb_parser_find(r->m->kb, parser_name), parser_name, ref->match, ref->match_norm, NULL,
                  0};
    cm_ptr *kept = NULL;
    size_t nk = 0;
    if (s->kind == KZ__MS_VARIANT) {
        if (s->variant < 0 || (uint32_t)s->variant >= r->m->n_variants) return 0;
        int rc = variant_hits(r, r->m->variants[s->variant], dc.parser, ref->match_norm, &kept, &nk);
        if (rc) return rc;
        if (!nk && kz__variant_splits(r->m->variants[s->variant]))
            return variant_composite(r, s, g, &dc, produced);
    } else {
        kept = kz_arena_alloc(a, (n ? n : 1) * sizeof *kept);
        if (!kept) return KZ_ENOMEM;
        nk = filter(r->m, s, ref->match, ref->match_norm, cands, n, kept);
    }
    if (!nk) return 0;
    dc.kept = kept;
    dc.n_kept = nk;
    idsets all = {0}, res = {0};
    if (add_sets_of(a, &all, kept, nk)) return KZ_ENOMEM;
    const idsets *chosen = NULL;
    const char *dstrat = NULL;
    int dconf = KZ_DC_NONE;
    int rc = decide(&dc, s, &all, &res, &chosen, &dstrat, &dconf);
    if (rc || !chosen) return rc;
    return emit(r, s, g, &dc, chosen, dstrat, dconf, produced);
}

/* ---- entity keys ---------------------------------------------------------------------- */
static int cmp_cand_id(const kz_candidate *a, const kz_candidate *b) {
    int c = kz_str_cmp(a->parser_name, b->parser_name);
    return c ? c : kz_str_cmp(a->synonym_norm, b->synonym_norm);
}

static int cmp_cand_idx(const void *a, const void *b, void *user) {
    const kz_entity *e = user;
    return cmp_cand_id(e->candidates[*(const uint32_t *)a].candidate,
                       e->candidates[*(const uint32_t *)b].candidate);
}

/* Kazu EntityKey = (match, match_norm, entity_class, frozenset(candidates)). */
/* Ordered as Kazu ends up ordering groups: sorted by the key, then re-sorted
 * (stably) by (match, entity_class) when split by symbolism. */
static int key_cmp(const ent_info *x, const ent_info *y) {
    int c = kz_str_cmp(x->e->match, y->e->match);
    if (!c) c = kz_str_cmp(x->e->entity_class, y->e->entity_class);
    if (!c) c = kz_str_cmp(x->e->match_norm, y->e->match_norm);
    if (c) return c;
    if (x->e->n_candidates != y->e->n_candidates) return x->e->n_candidates < y->e->n_candidates ? -1 : 1;
    for (uint32_t i = 0; i < x->e->n_candidates; i++) {
        c = cmp_cand_id(x->e->candidates[x->cand[i]].candidate, y->e->candidates[y->cand[i]].candidate);
        if (c) return c;
    }
    return 0;
}

static int cmp_info(const void *a, const void *b) {
    const ent_info *x = *(ent_info *const *)a, *y = *(ent_info *const *)b;
    if (x->e->mention_confidence != y->e->mention_confidence)
        return x->e->mention_confidence > y->e->mention_confidence ? -1 : 1;
    int c = key_cmp(x, y);
    if (c) return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static const kz__strategy_list *strategies_for(const kz__level *lv, kz_str cls) {
    for (uint32_t i = 0; i < lv->n_classes; i++)
        if (kz_str_eq_c(cls, lv->classes[i].cls)) return &lv->classes[i];
    return &lv->defaults;
}

static bool has_variant(const kz__strategy_list *l) {
    for (uint32_t i = 0; i < l->n; i++)
        if (l->s[i].kind == KZ__MS_VARIANT) return true;
    return false;
}

/* ConfidenceLevelStrategyExecution over ents[0..n), already in key order. */
static int execute(run *r, const kz__level *lv, ent_info **ents, size_t n) {
    if (!n) return 0;
    group *groups = calloc(n, sizeof *groups);
    if (!groups) return KZ_ENOMEM;
    size_t ng = 0;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        if (ng && key_cmp(groups[ng - 1].mem[0], ents[i]) == 0) {
            groups[ng - 1].n++;
            continue;
        }
        group *g = &groups[ng++];
        g->mem = &ents[i];
        g->n = 1;
        kz_entity *e = ents[i]->e;
        uint32_t nc = e->n_candidates;
        /* VariantMatch finds its own candidates: every parser of the entity's
         * class takes part, also those the entity has no candidate of */
        bool variant = has_variant(strategies_for(lv, e->entity_class));
        uint32_t extra = variant ? kz_kb_n_parsers(r->m->kb) : 0;
        g->parsers = calloc(nc + extra ? nc + extra : 1, sizeof *g->parsers);
        g->pstart = calloc(nc + extra + 1, sizeof *g->pstart);
        g->resolved = calloc(nc + extra ? nc + extra : 1, sizeof *g->resolved);
        if (!g->parsers || !g->pstart || !g->resolved) {
            rc = KZ_ENOMEM;
            break;
        }
        for (uint32_t k = 0; k < nc; k++) {
            kz_str pn = e->candidates[ents[i]->cand[k]].candidate->parser_name;
            if (!g->n_parsers || !kz_str_eq(g->parsers[g->n_parsers - 1], pn)) {
                g->pstart[g->n_parsers] = k;
                g->parsers[g->n_parsers++] = pn;
            }
        }
        g->pstart[g->n_parsers] = nc;
        for (uint32_t p = 0; p < extra; p++) {
            kz_kb_parser kp;
            if (kz_kb_parser_at(r->m->kb, p, &kp) || !kz_str_eq(kp.entity_class, e->entity_class)) continue;
            /* sorted insert by name; an added parser has no candidates (empty range) */
            uint32_t at = 0;
            while (at < g->n_parsers && kz_str_cmp(g->parsers[at], kp.name) < 0) at++;
            if (at < g->n_parsers && kz_str_eq(g->parsers[at], kp.name)) continue;
            memmove(g->parsers + at + 1, g->parsers + at, (g->n_parsers - at) * sizeof *g->parsers);
            memmove(g->pstart + at + 1, g->pstart + at, (g->n_parsers + 1 - at) * sizeof *g->pstart);
            g->parsers[at] = kp.name;
            g->pstart[at] = g->pstart[at + 1];
            g->n_parsers++;
        }
    }
    uint32_t max = lv->defaults.n;
    for (uint32_t i = 0; i < lv->n_classes; i++)
        if (lv->classes[i].n > max) max = lv->classes[i].n;
    cm_ptr *buf = malloc(sizeof *buf);
    size_t buf_cap = 1;
    if (!buf) rc = KZ_ENOMEM;
    for (uint32_t si = 0; si < max && !rc; si++)
        for (size_t gi = 0; gi < ng && !rc; gi++) {
            group *g = &groups[gi];
            const kz__strategy_list *list = strategies_for(lv, g->mem[0]->e->entity_class);
            if (si >= list->n) continue;
            bool any_unresolved = false;
            for (uint32_t p = 0; p < g->n_parsers; p++) any_unresolved |= !g->resolved[p];
            if (!any_unresolved) continue;
            if (lv->stop_on_success && g->mapped) continue;
            /* snapshot of the unresolved parsers (Kazu sorts them before the loop) */
            bool *snap = calloc(g->n_parsers ? g->n_parsers : 1, sizeof *snap);
            if (!snap) {
                rc = KZ_ENOMEM;
                break;
            }
            for (uint32_t p = 0; p < g->n_parsers; p++) snap[p] = !g->resolved[p];
            kz_entity *ref = g->mem[0]->e;
            for (uint32_t p = 0; p < g->n_parsers && !rc; p++) {
                if (!snap[p]) continue;
                size_t cnt = g->pstart[p + 1] - g->pstart[p];
                if (cnt > buf_cap) {
                    cm_ptr *nb = realloc(buf, cnt * sizeof *nb);
                    if (!nb) {
                        rc = KZ_ENOMEM;
                        break;
                    }
                    buf = nb, buf_cap = cnt;
                }
                /* candidates of this parser, in the entity's own order */
                size_t w = 0;
                for (uint32_t k = 0; k < ref->n_candidates; k++)
                    if (kz_str_eq(ref->candidates[k].candidate->parser_name, g->parsers[p]))
                        buf[w++] = &ref->candidates[k];
                bool produced = false;
                rc = call_strategy(r, &list->s[si], g, g->parsers[p], buf, w, &produced);
                if (produced) g->resolved[p] = true, g->mapped = true;
            }
            free(snap);
        }
    free(buf);
    for (size_t i = 0; i < ng; i++) free(groups[i].parsers), free(groups[i].pstart), free(groups[i].resolved);
    free(groups);
    return rc;
}

int kz__mapper_run(const kz__mapper *m, kz_doc *doc, kz_error *err) {
    size_t n = kz_doc_n_entities(doc);
    if (!n) return 0;
    run r = {.m = m, .doc = doc};
    ent_info *infos = calloc(n, sizeof *infos);
    ent_info **order = calloc(n, sizeof *order);
    r.scratch = kz_arena_new(0);
    int rc = (!infos || !order || !r.scratch) ? KZ_ENOMEM : 0;
    size_t k = 0;
    for (uint32_t s = 0; s < doc->n_sections && !rc; s++)
        for (uint32_t i = 0; i < doc->sections[s]->n_entities && !rc; i++) {
            kz_entity *e = doc->sections[s]->entities[i];
            ent_info *x = &infos[k];
            x->e = e;
            x->order = (uint32_t)k;
            order[k++] = x;
            if (!e->match_norm.ptr) {
                char *norm = NULL;
                size_t nl = 0;
                rc = kz_normalise(e->match.ptr, e->match.len, e->entity_class.ptr, &norm, &nl, NULL);
                /* a match the normaliser refuses (over its size cap) keeps its own text */
                if (rc && rc != KZ_ENOMEM) norm = NULL, nl = 0, rc = 0;
                if (!rc) rc = kz_entity_set_match_norm(doc, e, norm ? (kz_str){norm, nl} : e->match);
                free(norm);
                if (rc) break;
            }
            rc =
                kz_normalise_is_symbolic(e->match.ptr, e->match.len, e->entity_class.ptr, &x->symbolic, NULL);
            if (rc == KZ_ENOMEM) break;
            if (rc) x->symbolic = false, rc = 0;
            x->cand = malloc((e->n_candidates ? e->n_candidates : 1) * sizeof *x->cand);
            if (!x->cand) {
                rc = KZ_ENOMEM;
                break;
            }
            for (uint32_t c = 0; c < e->n_candidates; c++) x->cand[c] = c;
            qsort_r(x->cand, e->n_candidates, sizeof *x->cand, cmp_cand_idx, e);
            /* mappings already on the document count for DefinedElsewhere */
            for (uint32_t j = 0; j < e->n_mappings && !rc; j++)
                rc = mk_add(&r, e->mappings[j].parser_name, e->mappings[j].source, e->mappings[j].idx);
        }
    if (!rc) qsort(order, n, sizeof *order, cmp_info);
    ent_info **part = rc ? NULL : malloc(n * sizeof *part);
    if (!rc && !part) rc = KZ_ENOMEM;
    for (size_t i = 0; i < n && !rc;) {
        size_t j = i;
        int mc = order[i]->e->mention_confidence;
        while (j < n && order[j]->e->mention_confidence == mc) j++;
        int li = kz__level_index(mc);
        /* non-symbolic first, then symbolic; each keeps the key order */
        for (int sym = 0; sym <= 1 && !rc; sym++) {
            const kz__level *lv = li < 0 ? NULL : sym ? &m->symbolic[li] : &m->non_symbolic[li];
            if (!lv || !lv->present) {
                kz_log(KZ_LOG_DEBUG, "MappingStep: no strategies configured for mention confidence %d", mc);
                continue;
            }
            size_t np = 0;
            for (size_t t = i; t < j; t++)
                if (order[t]->symbolic == (sym == 1)) part[np++] = order[t];
            rc = execute(&r, lv, part, np);
        }
        i = j;
    }
    if (rc) kz_error_set(err, rc, "MappingStep: %s", kz_strerror(rc));
    free(part);
    for (size_t i = 0; i < k; i++) free(infos[i].cand);
    free(infos);
    free(order);
    free(r.mk);
    kz__tfidf_doc_free(r.tfdoc);
    kz_arena_free(r.scratch);
    return rc;
}
