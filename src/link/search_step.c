/* DictionaryEntityLinkingStep: Kazu's candidate search. Per parser of the
 * entity's class: the normalised exact key, else the TF-IDF top_n filtered by
 * score > 0 and the class's boolean scorers; results cached per (match, class). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kazu/normalise.h"
#include "kb/kb_int.h"
#include "link_int.h"
#include "tfidf_int.h"

#define STEP_NAME "DictionaryEntityLinkingStep"
#define POOL_MAX  64

typedef struct res {
    uint64_t cand;
    kz_metrics m;
} res;

typedef struct cache_slot {
    char *key; /* class NUL match (key_len bytes) */
    size_t key_len;
    res *v;
    uint32_t n;
} cache_slot;

typedef struct parser_info {
    kz_str entity_class;
    int32_t slot; /* TF-IDF index slot, -1 when the parser has no candidates */
} parser_info;

typedef struct search_state {
    kz_kb *kb;
    kz_tfidf *ix;
    void *own_blob; /* built at init when the pack has no KZTF section */
    parser_info *parsers;
    uint32_t n_parsers;
    uint32_t top_n;
    pthread_mutex_t lock; /* guards pool and cache */
    kz_tfidf_scratch *pool[POOL_MAX];
    uint32_t n_pool;
    cache_slot *cache;
    size_t n_cache;
} search_state;

static void search_free(void *p) {
    search_state *st = p;
    if (!st) return;
    kz__tfidf_close(st->ix);
    free(st->own_blob);
    free(st->parsers);
    for (uint32_t i = 0; i < st->n_pool; i++) kz__tfidf_scratch_free(st->pool[i]);
    for (size_t i = 0; i < st->n_cache; i++) {
        free(st->cache[i].key);
        free(st->cache[i].v);
    }
    free(st->cache);
    pthread_mutex_destroy(&st->lock);
    kz_kb_release(st->kb);
    free(st);
}

static int search_init(void **state, const kz_config_node *params, kz_error *err) {
    *state = NULL;
    static const char *const keys[] = {"kb", "top_n", "lookup_cache_size"};
    int rc = kz_config_check_keys(params, keys, 3, err);
    if (rc) return rc;
    int64_t top_n = 20, cache_size = 50000;
    if ((rc = kz_config_get_int(params, "top_n", 20, 1, KZ_TFIDF_MAX_K, &top_n, err))) return rc;
    if ((rc = kz_config_get_int(params, "lookup_cache_size", 50000, 0, 1 << 24, &cache_size, err))) return rc;
    search_state *st = calloc(1, sizeof *st);
    if (!st) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    pthread_mutex_init(&st->lock, NULL);
    st->top_n = (uint32_t)top_n;
    if ((rc = kz_kb_from_step_params(params, STEP_NAME, &st->kb, err))) goto fail;
    const void *blob = NULL;
    size_t len = 0;
    const char *why = "the pack has no TF-IDF section";
    if (kz_kb_section(st->kb, KZ_KB_TAG('K', 'Z', 'T', 'F'), &blob, &len) == 0) {
        rc = kz__tfidf_open(blob, len, &st->ix, err);
        if (rc && rc != KZ_EFORMAT) goto fail;
        if (rc) { /* another section version (a pack from an older build): as if missing */
            kz_error_clear(err);
            why = "the pack's TF-IDF section has another format version";
        }
    }
    if (!st->ix) {
        kz_log(KZ_LOG_INFO, "%s: %s; building the index", STEP_NAME, why);
        rc = kz__tfidf_build_section(st->kb, &st->own_blob, &len, err);
        if (rc == KZ_ENOTFOUND) { /* no candidates at all: an empty index */
            kz_error_clear(err);
            rc = kz__tfidf_blob_build(NULL, 0, &st->own_blob, &len, err);
        }
        if (rc) goto fail;
        if ((rc = kz__tfidf_open(st->own_blob, len, &st->ix, err))) goto fail;
    }
    st->n_parsers = kz_kb_n_parsers(st->kb);
    st->parsers = calloc(st->n_parsers ? st->n_parsers : 1, sizeof *st->parsers);
    if (!st->parsers) {
        rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
        goto fail;
    }
    for (uint32_t i = 0; i < st->n_parsers; i++) {
        kz_kb_parser p;
        if ((rc = kz_kb_parser_at(st->kb, i, &p))) goto fail;
        st->parsers[i].entity_class = p.entity_class;
        st->parsers[i].slot = kz__tfidf_find_parser(st->ix, i);
        kz_tfidf_index_info info;
        if (st->parsers[i].slot >= 0 &&
            kz__tfidf_index_info(st->ix, (uint32_t)st->parsers[i].slot, &info) == 0 &&
            info.first_candidate + info.n_docs > kz_kb_n_candidates(st->kb)) {
            rc = kz_error_set(err, KZ_EPARSE, "%s: TF-IDF index of parser %u does not match the pack",
                              STEP_NAME, i);
            goto fail;
        }
    }
    if (cache_size > 0) {
        st->cache = calloc((size_t)cache_size, sizeof *st->cache);
        if (!st->cache) {
            rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
            goto fail;
        }
        st->n_cache = (size_t)cache_size;
    }
    *state = st;
    return 0;
fail:
    search_free(st);
    return rc;
}

/* ---- scratch pool and cache ---------------------------------------------------- */

static kz_tfidf_scratch *pool_get(search_state *st) {
    kz_tfidf_scratch *s = NULL;
    pthread_mutex_lock(&st->lock);
    if (st->n_pool) s = st->pool[--st->n_pool];
    pthread_mutex_unlock(&st->lock);
    return s ? s : kz__tfidf_scratch_new();
}

static void pool_put(search_state *st, kz_tfidf_scratch *s) {
    if (!s) return;
    pthread_mutex_lock(&st->lock);
    if (st->n_pool < POOL_MAX) {
        st->pool[st->n_pool++] = s;
        s = NULL;
    }
    pthread_mutex_unlock(&st->lock);
    kz__tfidf_scratch_free(s);
}

static uint64_t hash_bytes(const char *p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

/* Copy of the cached results for key into *out (malloc'd); false on a miss. */
static bool cache_get(search_state *st, const char *key, size_t key_len, res **out, uint32_t *n) {
    if (!st->n_cache) return false;
    cache_slot *c = &st->cache[hash_bytes(key, key_len) % st->n_cache];
    bool hit = false;
    pthread_mutex_lock(&st->lock);
    if (c->key && c->key_len == key_len && memcmp(c->key, key, key_len) == 0) {
        res *v = malloc((c->n ? c->n : 1) * sizeof *v);
        if (v) {
            memcpy(v, c->v, c->n * sizeof *v);
            *out = v;
            *n = c->n;
            hit = true;
        }
    }
    pthread_mutex_unlock(&st->lock);
    return hit;
}

/* Direct-mapped: a new key replaces the slot's previous one. */
static void cache_put(search_state *st, const char *key, size_t key_len, const res *v, uint32_t n) {
    if (!st->n_cache) return;
    char *k = malloc(key_len);
    res *copy = malloc((n ? n : 1) * sizeof *copy);
    if (!k || !copy) {
        free(k);
        free(copy);
        return;
    }
    memcpy(k, key, key_len);
    if (n) memcpy(copy, v, n * sizeof *copy);
    cache_slot *c = &st->cache[hash_bytes(key, key_len) % st->n_cache];
    pthread_mutex_lock(&st->lock);
    char *old_k = c->key;
    res *old_v = c->v;
    c->key = k;
    c->key_len = key_len;
    c->v = copy;
    c->n = n;
    pthread_mutex_unlock(&st->lock);
    free(old_k);
    free(old_v);
}

/* ---- search ------------------------------------------------------------------- */

typedef struct res_vec {
    res *v;
    uint32_t n, cap;
} res_vec;

static int res_push(res_vec *r, uint64_t cand, const kz_metrics *m) {
    if (r->n == r->cap) {
        uint32_t nc = r->cap ? r->cap * 2 : 32;
        res *v = realloc(r->v, nc * sizeof *v);
        if (!v) return KZ_ENOMEM;
        r->v = v;
        r->cap = nc;
    }
    r->v[r->n].cand = cand;
    r->v[r->n].m = *m;
    r->n++;
    return 0;
}

static bool str_eq(kz_str a, kz_str b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

/* Kazu's DictionaryIndex.search over every parser of the class. */
static int run_search(search_state *st, kz_str match, kz_str cls, const char *cls_z, res_vec *out,
                      kz_error *err) {
    char *norm = NULL;
    size_t norm_len = 0;
    int rc = kz_normalise(match.ptr, match.len, cls_z, &norm, &norm_len, err);
    if (rc) return rc;
    const uint32_t *exact = NULL;
    size_t n_exact = 0;
    rc = kz_kb_lookup_norm(st->kb, cls, (kz_str){norm, norm_len}, &exact, &n_exact);
    if (rc) {
        free(norm);
        return kz_error_set(err, rc, "%s: key lookup failed", STEP_NAME);
    }
    kz_tfidf_scratch *s = NULL;
    kz_tfidf_hit *hits = NULL;
    kz_arena *a = NULL;
    for (uint32_t p = 0; p < st->n_parsers && rc == 0; p++) {
        if (!str_eq(st->parsers[p].entity_class, cls)) continue;
        bool found = false;
        for (size_t i = 0; i < n_exact && rc == 0; i++)
            if (kz_kb_candidate_parser(st->kb, exact[i]) == p) {
                kz_metrics m = {.present = KZ_METRIC_EXACT, .exact_match = true};
                rc = res_push(out, exact[i], &m);
                found = true;
            }
        if (found || rc || st->parsers[p].slot < 0) continue;
        if (!s && !(s = pool_get(st))) rc = KZ_ENOMEM;
        if (!hits && !(hits = malloc(st->top_n * sizeof *hits))) rc = KZ_ENOMEM;
        if (!a && !(a = kz_arena_new(0))) rc = KZ_ENOMEM;
        if (rc) break;
        uint32_t nh = 0;
        uint32_t slot = (uint32_t)st->parsers[p].slot;
        if ((rc = kz__tfidf_search(st->ix, slot, norm, norm_len, st->top_n, s, hits, &nh, err))) break;
        kz_tfidf_index_info info;
        kz__tfidf_index_info(st->ix, slot, &info);
        for (uint32_t i = 0; i < nh && rc == 0; i++) {
            double score = 100.0 * hits[i].score;
            if (!(score > 0)) continue;
            uint64_t cand = info.first_candidate + hits[i].doc;
            kz_candidate c;
            kz_arena_reset(a);
            if (kz_kb_candidate_at(st->kb, cand, a, &c) != 0) continue;
            if (!kz__scorers_pass(cls, (kz_str){norm, norm_len}, c.synonym_norm)) continue;
            kz_metrics m = {.present =
                                KZ_METRIC_SEARCH | KZ_METRIC_BOOL | KZ_METRIC_BOOL_IS_BOOL | KZ_METRIC_EXACT,
                            .search_score = score,
                            .bool_score = 1.0,
                            .exact_match = false};
            rc = res_push(out, cand, &m);
        }
    }
    if (rc == KZ_ENOMEM) kz_error_set(err, KZ_ENOMEM, "out of memory");
    pool_put(st, s);
    free(hits);
    kz_arena_free(a);
    free(norm);
    return rc;
}

/* Results for (match, class), from the cache or a search. *out is malloc'd. */
static int lookup(search_state *st, kz_str match, kz_str cls, res **out, uint32_t *n, kz_error *err) {
    size_t key_len = cls.len + 1 + match.len;
    char stack_key[512];
    char *key = key_len <= sizeof stack_key ? stack_key : malloc(key_len);
    if (!key) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    if (cls.len) memcpy(key, cls.ptr, cls.len);
    key[cls.len] = '\0';
    if (match.len) memcpy(key + cls.len + 1, match.ptr, match.len);
    int rc = 0;
    if (!cache_get(st, key, key_len, out, n)) {
        res_vec r = {0};
        rc = run_search(st, match, cls, key, &r, err);
        if (rc == 0) {
            cache_put(st, key, key_len, r.v, r.n);
            *out = r.v;
            *n = r.n;
        } else {
            free(r.v);
        }
    }
    if (key != stack_key) free(key);
    return rc;
}

/* ---- the step ------------------------------------------------------------------ */

static bool skipped_namespace(kz_str ns) {
    return str_eq(ns, kz_str_c("MemoryEfficientStringMatchingStep")) ||
           str_eq(ns, kz_str_c("ExplosionStringMatchingStep"));
}

static int cmp_kstr(kz_str a, kz_str b) {
    size_t m = a.len < b.len ? a.len : b.len;
    int c = m ? memcmp(a.ptr, b.ptr, m) : 0;
    return c ? c : (a.len > b.len) - (a.len < b.len);
}

static int cmp_ent(const void *x, const void *y) {
    const kz_entity *a = *(kz_entity *const *)x, *b = *(kz_entity *const *)y;
    int c = cmp_kstr(a->entity_class, b->entity_class);
    return c ? c : cmp_kstr(a->match, b->match);
}

static int process_doc(search_state *st, kz_doc *doc, kz_error *err) {
    size_t n = 0;
    for (uint32_t s = 0; s < doc->n_sections; s++)
        for (uint32_t i = 0; i < doc->sections[s]->n_entities; i++)
            n += !skipped_namespace(doc->sections[s]->entities[i]->namespace_);
    if (n == 0) return 0;
    kz_entity **ents = malloc(n * sizeof *ents);
    if (!ents) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    n = 0;
    for (uint32_t s = 0; s < doc->n_sections; s++)
        for (uint32_t i = 0; i < doc->sections[s]->n_entities; i++) {
            kz_entity *e = doc->sections[s]->entities[i];
            if (!skipped_namespace(e->namespace_)) ents[n++] = e;
        }
    qsort(ents, n, sizeof *ents, cmp_ent);
    int rc = 0;
    for (size_t g = 0; g < n && rc == 0;) {
        size_t h = g + 1;
        while (h < n && cmp_ent(&ents[g], &ents[h]) == 0) h++;
        res *v = NULL;
        uint32_t nv = 0;
        rc = lookup(st, ents[g]->match, ents[g]->entity_class, &v, &nv, err);
        for (uint32_t i = 0; i < nv && rc == 0; i++) {
            kz_candidate *c = kz_arena_alloc(doc->arena, sizeof *c);
            if (!c) {
                rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
                break;
            }
            if ((rc = kz_kb_candidate_at(st->kb, v[i].cand, doc->arena, c))) {
                kz_error_set(err, rc, "candidate %llu unreadable", (unsigned long long)v[i].cand);
                break;
            }
            for (size_t e = g; e < h && rc == 0; e++) {
                rc = kz_entity_add_candidate(doc, ents[e], c, &v[i].m);
                if (rc) kz_error_set(err, rc, "cannot attach a candidate");
            }
        }
        free(v);
        g = h;
    }
    free(ents);
    return rc;
}

static int search_process(void *state, kz_doc **docs, size_t n, const kz_step_ctx *ctx, kz_error *err) {
    (void)err;
    search_state *st = state;
    for (size_t d = 0; d < n; d++) {
        if (kz_step_cancelled(ctx)) return KZ_ECANCELLED;
        kz_error e;
        kz_error_clear(&e);
        if (process_doc(st, docs[d], &e)) {
            char reason[600];
            kz_doc_set_failure(docs[d], ctx->step_name, kz_error_format(&e, reason, sizeof reason));
        }
    }
    return 0;
}

const kz_step_type kz__step_dictionary_linking = {
    .name = STEP_NAME,
    .description =
        "candidate search: normalised exact key, else char-bigram TF-IDF top_n with Kazu's boolean scorers",
    .init = search_init,
    .process = search_process,
    .free = search_free,
};
