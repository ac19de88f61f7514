/* The knowledge-base model builder: runs every source's parser, builds Kazu's
 * linking candidates and string resources per parser (normalise, group ids,
 * generate synonyms, auto-curate, resolve conflicts, apply curations and global
 * actions) and gathers the result into a kz_kb_model for the pack writer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "io/json_int.h"
#include "kazu/normalise.h"
#include "kazu/utf8.h"
#include "kb/build_int.h"

/* ---- shared helpers ----------------------------------------------------------- */

uint64_t kz__kbb_hash(const void *p, size_t n) {
    /* FNV-1a over 8-byte words with a final mix: fast and good enough for keys */
    const unsigned char *s = p;
    uint64_t h = 0xcbf29ce484222325ull ^ (n * 0x9E3779B97F4A7C15ull);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
    }
    for (; i < n; i++) h = (h ^ s[i]) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h;
}

void kz__strmap_free(kz_strmap *m) {
    if (!m) return;
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static size_t strmap_find(const kz_strmap *m, kz_str key, uint64_t h) {
    size_t mask = m->cap - 1, i = (size_t)h & mask;
    for (;;) {
        const kz_str *k = &m->keys[i];
        if (!k->ptr) return i;
        if (k->len == key.len && memcmp(k->ptr, key.ptr, key.len) == 0) return i;
        i = (i + 1) & mask;
    }
}

static const char empty_key[1] = "";

uint32_t *kz__strmap_get(const kz_strmap *m, kz_str key) {
    if (!m || !m->cap) return NULL;
    if (!key.ptr) key.ptr = empty_key;
    size_t i = strmap_find(m, key, kz__kbb_hash(key.ptr, key.len));
    return m->keys[i].ptr ? &m->vals[i] : NULL;
}

static int strmap_grow(kz_strmap *m) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    kz_str *keys = calloc(cap, sizeof *keys);
    uint32_t *vals = malloc(cap * sizeof *vals);
    if (!keys || !vals) {
        free(keys);
        free(vals);
        return KZ_ENOMEM;
    }
    kz_strmap n = {keys, vals, cap, m->n};
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i].ptr) {
            size_t j = strmap_find(&n, m->keys[i], kz__kbb_hash(m->keys[i].ptr, m->keys[i].len));
            n.keys[j] = m->keys[i];
            n.vals[j] = m->vals[i];
        }
    free(m->keys);
    free(m->vals);
    *m = n;
    return 0;
}

int kz__strmap_put(kz_strmap *m, kz_str key, uint32_t val, uint32_t **slot) {
    if (!key.ptr) key.ptr = empty_key;
    if ((m->n + 1) * 4 >= m->cap * 3 && strmap_grow(m)) return KZ_ENOMEM;
    size_t i = strmap_find(m, key, kz__kbb_hash(key.ptr, key.len));
    if (m->keys[i].ptr) {
        if (slot) *slot = &m->vals[i];
        return 0;
    }
    m->keys[i] = key;
    m->vals[i] = val;
    m->n++;
    if (slot) *slot = &m->vals[i];
    return 1;
}

#define VEC_PUSH(vec, x)                                                                                     \
    do {                                                                                                     \
        if ((vec)->n == (vec)->cap) {                                                                        \
            size_t cap_ = (vec)->cap ? (vec)->cap * 2 : 16;                                                  \
            void *v_ = realloc((vec)->v, cap_ * sizeof *(vec)->v);                                           \
            if (!v_) return KZ_ENOMEM;                                                                       \
            (vec)->v = v_;                                                                                   \
            (vec)->cap = cap_;                                                                               \
        }                                                                                                    \
        (vec)->v[(vec)->n++] = (x);                                                                          \
        return 0;                                                                                            \
    } while (0)

int kz__strvec_push(kz_strvec *s, kz_str x) { VEC_PUSH(s, x); }
void kz__strvec_free(kz_strvec *s) {
    free(s->v);
    memset(s, 0, sizeof *s);
}
int kz__resvec_push(kz_resvec *r, const kz_kbb_res *x) { VEC_PUSH(r, *x); }
void kz__resvec_free(kz_resvec *r) {
    free(r->v);
    memset(r, 0, sizeof *r);
}
int kz__candvec_push(kz_candvec *c, const kz_kbb_cand *x) { VEC_PUSH(c, *x); }
void kz__candvec_free(kz_candvec *c) {
    free(c->v);
    memset(c, 0, sizeof *c);
}

int kz__kbb_str_cmp(const void *a, const void *b) {
    return kz_str_cmp(*(const kz_str *)a, *(const kz_str *)b);
}

static int syn_cmp(const kz_kbb_syn *x, const kz_kbb_syn *y) {
    int c = kz_str_cmp(x->text, y->text);
    if (c) return c;
    if (x->case_sensitive != y->case_sensitive) return x->case_sensitive ? 1 : -1;
    return (x->mention_confidence > y->mention_confidence) - (x->mention_confidence < y->mention_confidence);
}
static int syn_qcmp(const void *a, const void *b) { return syn_cmp(a, b); }

uint32_t kz__kbb_syns_normalise(kz_kbb_syn *s, uint32_t n) {
    if (n < 2) return n;
    qsort(s, n, sizeof *s, syn_qcmp);
    uint32_t m = 1;
    for (uint32_t i = 1; i < n; i++)
        if (syn_cmp(&s[m - 1], &s[i])) s[m++] = s[i];
    return m;
}

static int ids_cmp(const void *a, const void *b) {
    const kz_id_source *x = a, *y = b;
    int c = kz_str_cmp(x->idx, y->idx);
    return c ? c : kz_str_cmp(x->source, y->source);
}

int kz__kbb_idset_cmp(const kz_kbb_idset *a, const kz_kbb_idset *b) {
    for (uint32_t i = 0; i < a->n && i < b->n; i++) {
        int c = ids_cmp(&a->ids[i], &b->ids[i]);
        if (c) return c;
    }
    return (a->n > b->n) - (a->n < b->n);
}
static int idset_qcmp(const void *a, const void *b) { return kz__kbb_idset_cmp(a, b); }

uint32_t kz__kbb_idsets_normalise(kz_kbb_idset *s, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        if (s[i].n < 2) continue;
        qsort(s[i].ids, s[i].n, sizeof *s[i].ids, ids_cmp);
        uint32_t m = 1;
        for (uint32_t k = 1; k < s[i].n; k++)
            if (ids_cmp(&s[i].ids[m - 1], &s[i].ids[k])) s[i].ids[m++] = s[i].ids[k];
        s[i].n = m;
    }
    if (n < 2) return n;
    qsort(s, n, sizeof *s, idset_qcmp);
    uint32_t m = 1;
    for (uint32_t i = 1; i < n; i++)
        if (kz__kbb_idset_cmp(&s[m - 1], &s[i])) s[m++] = s[i];
    return m;
}

static int syns_cmp(const kz_kbb_syn *a, uint32_t na, const kz_kbb_syn *b, uint32_t nb) {
    for (uint32_t i = 0; i < na && i < nb; i++) {
        int c = syn_cmp(&a[i], &b[i]);
        if (c) return c;
    }
    return (na > nb) - (na < nb);
}

int kz__kbb_res_cmp(const kz_kbb_res *a, const kz_kbb_res *b) {
    int c = syns_cmp(a->orig, a->n_orig, b->orig, b->n_orig);
    if (c) return c;
    if (a->behaviour != b->behaviour) return a->behaviour - b->behaviour;
    c = syns_cmp(a->alt, a->n_alt, b->alt, b->n_alt);
    if (c) return c;
    if (a->has_id_sets != b->has_id_sets) return a->has_id_sets ? 1 : -1;
    for (uint32_t i = 0; i < a->n_id_sets && i < b->n_id_sets; i++)
        if ((c = kz__kbb_idset_cmp(&a->id_sets[i], &b->id_sets[i]))) return c;
    return (a->n_id_sets > b->n_id_sets) - (a->n_id_sets < b->n_id_sets);
}

/* ---- normaliser cache ------------------------------------------------------------ */

typedef struct {
    kz_str norm;
    int8_t symbolic; /* -1 unknown */
} ncache_entry;

struct kz_ncache {
    char *cls;
    kz_arena *arena;
    kz_strmap map;
    ncache_entry *e;
    size_t n, cap;
};

kz_ncache *kz__ncache_new(const char *entity_class) {
    kz_ncache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->arena = kz_arena_new(1 << 20);
    c->cls = entity_class ? strdup(entity_class) : NULL;
    if (!c->arena || (entity_class && !c->cls)) {
        kz__ncache_free(c);
        return NULL;
    }
    return c;
}

void kz__ncache_free(kz_ncache *c) {
    if (!c) return;
    kz__strmap_free(&c->map);
    free(c->e);
    free(c->cls);
    kz_arena_free(c->arena);
    free(c);
}

const char *kz__ncache_class(const kz_ncache *c) { return c ? c->cls : NULL; }

static int ncache_entry_for(kz_ncache *c, kz_str s, ncache_entry **out) {
    uint32_t *hit = kz__strmap_get(&c->map, s);
    if (hit) {
        *out = &c->e[*hit];
        return 0;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 1024;
        ncache_entry *e = realloc(c->e, cap * sizeof *e);
        if (!e) return KZ_ENOMEM;
        c->e = e;
        c->cap = cap;
    }
    kz_str key = kz_arena_strdup(c->arena, s.ptr ? s.ptr : "", s.len);
    if (!key.ptr || kz__strmap_put(&c->map, key, (uint32_t)c->n, NULL) < 0) return KZ_ENOMEM;
    c->e[c->n] = (ncache_entry){KZ_STR_NULL, -1};
    *out = &c->e[c->n++];
    return 0;
}

int kz__ncache_norm(kz_ncache *c, kz_str s, kz_str *norm, kz_error *err) {
    ncache_entry *e;
    if (ncache_entry_for(c, s, &e)) return kz_error_set(err, KZ_ENOMEM, "normaliser cache: out of memory");
    if (!e->norm.ptr) {
        char *out = NULL;
        size_t len = 0;
        int rc = kz_normalise(s.ptr ? s.ptr : "", s.len, c->cls, &out, &len, err);
        if (rc) return rc;
        e->norm = kz_arena_strdup(c->arena, out, len);
        free(out);
        if (!e->norm.ptr) return kz_error_set(err, KZ_ENOMEM, "normaliser cache: out of memory");
    }
    *norm = e->norm;
    return 0;
}

int kz__ncache_symbolic(kz_ncache *c, kz_str s, bool *symbolic, kz_error *err) {
    ncache_entry *e;
    if (ncache_entry_for(c, s, &e)) return kz_error_set(err, KZ_ENOMEM, "normaliser cache: out of memory");
    if (e->symbolic < 0) {
        bool sym = false;
        int rc = kz_normalise_is_symbolic(s.ptr ? s.ptr : "", s.len, c->cls, &sym, err);
        if (rc) return rc;
        e->symbolic = sym;
    }
    *symbolic = e->symbolic != 0;
    return 0;
}

kz_ncache *kz__kbb_ctx_cache(kz_kbb_ctx *ctx, const char *entity_class) {
    if (ctx->norm && entity_class && kz__ncache_class(ctx->norm) &&
        strcmp(kz__ncache_class(ctx->norm), entity_class) == 0)
        return ctx->norm;
    size_t i = 0;
    for (; i < 4 && ctx->aux[i]; i++)
        if (strcmp(kz__ncache_class(ctx->aux[i]), entity_class) == 0) return ctx->aux[i];
    if (i == 4) return NULL;
    ctx->aux[i] = kz__ncache_new(entity_class);
    return ctx->aux[i];
}

int kz__kbb_res_syn_norm(kz_kbb_ctx *ctx, kz_kbb_res *r, kz_error *err) {
    kz_str first = KZ_STR_NULL;
    for (uint32_t i = 0; i < r->n_orig; i++) {
        kz_str n;
        int rc = kz__ncache_norm(ctx->norm, r->orig[i].text, &n, err);
        if (rc) return rc;
        if (!i)
            first = n;
        else if (!kz_str_eq(first, n))
            return kz_error_set(
                err, KZ_ECONFIG,
                "multiple synonym norms produced (\"%.80s\" -> \"%.80s\", \"%.80s\" -> \"%.80s\"); "
                "split the resource",
                r->orig[0].text.ptr, first.ptr, r->orig[i].text.ptr, n.ptr);
    }
    if (!r->n_orig) return kz_error_set(err, KZ_ECONFIG, "resource without original synonyms");
    r->syn_norm = first;
    return 0;
}

/* ---- collecting parser records ---------------------------------------------------- */

typedef struct term_rec {
    struct term_rec *next;
    kz_str label, ns;
    kz_onto_syn *syns;
    kz_str *xrefs, *alt_ids, *parents;
    kz_onto_kv *meta;
    uint32_t n_syns, n_xrefs, n_alt_ids, n_parents, n_meta;
} term_rec;

typedef struct {
    kz_str id;
    term_rec *first, *last;
    kz_str *xref_set; /* sorted unique xrefs (+ id with '_' -> ':'), built on demand */
    uint32_t n_xref_set;
    bool xrefs_built;
} term;

typedef struct {
    kz_arena *arena;
    kz_strmap by_id;
    term *v;
    size_t n, cap;
    uint64_t n_records, n_warnings;
    const char *source_name;
    int64_t max_terms;
} collector;

static kz_str cp(kz_arena *a, kz_str s, bool *oom) {
    if (!s.ptr) return KZ_STR_NULL;
    kz_str c = kz_arena_strdup(a, s.ptr, s.len);
    if (!c.ptr) *oom = true;
    return c;
}

static kz_str *cp_strs(kz_arena *a, const kz_str *s, uint32_t n, bool *oom) {
    if (!n) return NULL;
    kz_str *o = kz_arena_calloc(a, n, sizeof *o);
    if (!o) {
        *oom = true;
        return NULL;
    }
    for (uint32_t i = 0; i < n; i++) o[i] = cp(a, s[i], oom);
    return o;
}

static int collect(void *user, const kz_onto_term *t) {
    collector *c = user;
    c->n_records++;
    if (!t->id.ptr || !t->id.len) {
        c->n_warnings++;
        return 0;
    }
    bool oom = false;
    term_rec *r = kz_arena_calloc(c->arena, 1, sizeof *r);
    if (!r) return KZ_ENOMEM;
    r->label = cp(c->arena, t->label, &oom);
    r->ns = cp(c->arena, t->ns, &oom);
    if (t->n_syns) {
        r->syns = kz_arena_calloc(c->arena, t->n_syns, sizeof *r->syns);
        if (!r->syns) return KZ_ENOMEM;
        for (uint32_t i = 0; i < t->n_syns; i++) {
            r->syns[i].text = cp(c->arena, t->syns[i].text, &oom);
            r->syns[i].scope = cp(c->arena, t->syns[i].scope, &oom);
        }
        r->n_syns = t->n_syns;
    }
    r->xrefs = cp_strs(c->arena, t->xrefs, t->n_xrefs, &oom);
    r->n_xrefs = t->n_xrefs;
    r->alt_ids = cp_strs(c->arena, t->alt_ids, t->n_alt_ids, &oom);
    r->n_alt_ids = t->n_alt_ids;
    r->parents = cp_strs(c->arena, t->parents, t->n_parents, &oom);
    r->n_parents = t->n_parents;
    if (t->n_meta) {
        r->meta = kz_arena_calloc(c->arena, t->n_meta, sizeof *r->meta);
        if (!r->meta) return KZ_ENOMEM;
        for (uint32_t i = 0; i < t->n_meta; i++) {
            r->meta[i].key = cp(c->arena, t->meta[i].key, &oom);
            r->meta[i].value = cp(c->arena, t->meta[i].value, &oom);
        }
        r->n_meta = t->n_meta;
    }
    if (oom) return KZ_ENOMEM;
    uint32_t *slot;
    kz_str id = kz_arena_strdup(c->arena, t->id.ptr, t->id.len);
    if (!id.ptr) return KZ_ENOMEM;
    int ins = kz__strmap_put(&c->by_id, id, (uint32_t)c->n, &slot);
    if (ins < 0) return ins;
    if (!ins) { /* a record of an id seen before: merge */
        term *x = &c->v[*slot];
        x->last->next = r;
        x->last = r;
        return 0;
    }
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4096;
        term *v = realloc(c->v, cap * sizeof *v);
        if (!v) return KZ_ENOMEM;
        c->v = v;
        c->cap = cap;
    }
    c->v[c->n++] = (term){.id = id, .first = r, .last = r};
    return 0;
}

static void warn_cb(void *user, const kz_error *w) {
    collector *c = user;
    char buf[1024];
    kz_log(KZ_LOG_WARN, "kb build: %s: %s", c->source_name, kz_error_format(w, buf, sizeof buf));
}

static kz_str term_label(const term *t) {
    for (const term_rec *r = t->first; r; r = r->next)
        if (r->label.ptr) return r->label;
    return KZ_STR_NULL;
}

/* The xref set Kazu's OT disease parser compares: dbXRefs plus the id with
 * '_' turned into ':'. */
static int term_xref_set(kz_arena *a, term *t) {
    if (t->xrefs_built) return 0;
    uint32_t n = 1;
    for (const term_rec *r = t->first; r; r = r->next) n += r->n_xrefs;
    kz_str *v = kz_arena_calloc(a, n, sizeof *v);
    char *id = kz_arena_alloc(a, t->id.len + 1);
    if (!v || !id) return KZ_ENOMEM;
    for (size_t i = 0; i < t->id.len; i++) id[i] = t->id.ptr[i] == '_' ? ':' : t->id.ptr[i];
    id[t->id.len] = 0;
    uint32_t m = 0;
    v[m++] = (kz_str){id, t->id.len};
    for (const term_rec *r = t->first; r; r = r->next)
        for (uint32_t i = 0; i < r->n_xrefs; i++) v[m++] = r->xrefs[i];
    qsort(v, m, sizeof *v, kz__kbb_str_cmp);
    uint32_t u = 0;
    for (uint32_t i = 0; i < m; i++)
        if (!u || !kz_str_eq(v[u - 1], v[i])) v[u++] = v[i];
    t->xref_set = v;
    t->n_xref_set = u;
    t->xrefs_built = true;
    return 0;
}

/* ---- candidates -------------------------------------------------------------------- */

typedef struct {
    uint32_t cand, text, mtype, term;
} row;

static int row_cmp(const void *a, const void *b) {
    const row *x = a, *y = b;
    if (x->cand != y->cand) return x->cand < y->cand ? -1 : 1;
    if (x->text != y->text) return x->text < y->text ? -1 : 1;
    if (x->mtype != y->mtype) return x->mtype < y->mtype ? -1 : 1;
    return (x->term > y->term) - (x->term < y->term);
}

typedef struct {
    kz_strmap map;
    kz_strvec v;
} interner;

static int intern(interner *in, kz_str s, uint32_t *id) {
    uint32_t *slot;
    int ins = kz__strmap_put(&in->map, s, (uint32_t)in->v.n, &slot);
    if (ins < 0) return ins;
    if (ins && kz__strvec_push(&in->v, s)) return KZ_ENOMEM;
    *id = *slot;
    return 0;
}

static void interner_free(interner *in) {
    kz__strmap_free(&in->map);
    kz__strvec_free(&in->v);
}

typedef struct {
    const kz_recipe_source *src;
    collector *col;
    kz_kbb_ctx *ctx;
    kz_str source; /* the ids' kb source */
} parser_job;

static int term_id_cmp_ctx(const void *a, const void *b, void *c) {
    const term *t = c;
    return kz_str_cmp(t[*(const uint32_t *)a].id, t[*(const uint32_t *)b].id);
}

/* One EquivalentIdSet from term indices. */
static int make_set(parser_job *j, const uint32_t *terms, size_t n, kz_kbb_idset *out) {
    kz_id_source *ids = kz_arena_calloc(j->ctx->arena, n, sizeof *ids);
    if (!ids) return KZ_ENOMEM;
    for (size_t i = 0; i < n; i++) ids[i] = (kz_id_source){j->col->v[terms[i]].id, j->source};
    *out = (kz_kbb_idset){ids, (uint32_t)n};
    kz__kbb_idsets_normalise(out, 1);
    return 0;
}

static int group_default(parser_job *j, kz_kbb_cand *c, const uint32_t *terms, size_t n) {
    if (n == 1 || !c->is_symbolic) {
        c->sets = kz_arena_calloc(j->ctx->arena, 1, sizeof *c->sets);
        if (!c->sets || make_set(j, terms, n, c->sets)) return KZ_ENOMEM;
        c->n_sets = 1;
        c->aggregated_by = n == 1 ? KZ_AGG_UNAMBIGUOUS : KZ_AGG_MERGED_AS_NON_SYMBOLIC;
        return 0;
    }
    c->sets = kz_arena_calloc(j->ctx->arena, n, sizeof *c->sets);
    if (!c->sets) return KZ_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (make_set(j, &terms[i], 1, &c->sets[i])) return KZ_ENOMEM;
    c->n_sets = kz__kbb_idsets_normalise(c->sets, (uint32_t)n);
    c->aggregated_by = KZ_AGG_SYNONYM_IS_AMBIGUOUS;
    return 0;
}

#define XREF_MAX_IDS 256

/* OpenTargetsDiseaseOntologyParser.score_and_group_ids: pairs of ids whose
 * xref sets intersect are grouped by that intersection; overlapping groups
 * fall back to the default grouping; the rest stay alone. */
static int group_xref(parser_job *j, kz_kbb_cand *c, const uint32_t *terms, size_t n) {
    if (n == 1 || n > XREF_MAX_IDS) return group_default(j, c, terms, n);
    kz_arena *a = j->ctx->arena;
    for (size_t i = 0; i < n; i++)
        if (term_xref_set(a, &j->col->v[terms[i]])) return KZ_ENOMEM;
    kz_strmap groups = {0};
    int32_t *group_of = malloc(n * sizeof *group_of);
    uint32_t n_groups = 0;
    int rc = group_of ? 0 : KZ_ENOMEM;
    bool overlap = false;
    kz_buf key;
    kz__buf_init(&key, 0);
    for (size_t i = 0; i < n && !rc; i++) group_of[i] = -1;
    for (size_t x = 0; x < n && !rc && !overlap; x++)
        for (size_t y = x + 1; y < n && !rc && !overlap; y++) {
            const term *tx = &j->col->v[terms[x]], *ty = &j->col->v[terms[y]];
            kz__buf_clear(&key);
            uint32_t p = 0, q = 0, common = 0;
            while (p < tx->n_xref_set && q < ty->n_xref_set) {
                int cmp = kz_str_cmp(tx->xref_set[p], ty->xref_set[q]);
                if (cmp < 0)
                    p++;
                else if (cmp > 0)
                    q++;
                else {
                    if (kz__buf_append(&key, tx->xref_set[p].ptr, tx->xref_set[p].len) ||
                        kz__buf_putc(&key, 0x1f))
                        rc = KZ_ENOMEM;
                    common++;
                    p++;
                    q++;
                }
            }
            if (!common || rc) continue;
            kz_str k = kz_arena_strdup(a, key.data, key.len);
            uint32_t *slot;
            int ins = k.ptr ? kz__strmap_put(&groups, k, n_groups, &slot) : KZ_ENOMEM;
            if (ins < 0) {
                rc = ins;
                break;
            }
            if (ins) n_groups++;
            int32_t g = (int32_t)*slot;
            /* an id already in a different group: groups overlap */
            if ((group_of[x] >= 0 && group_of[x] != g) || (group_of[y] >= 0 && group_of[y] != g))
                overlap = true;
            group_of[x] = group_of[y] = g;
        }
    kz__buf_free(&key);
    kz__strmap_free(&groups);
    if (!rc && overlap) {
        free(group_of);
        return group_default(j, c, terms, n);
    }
    if (!rc) {
        size_t n_sets = n_groups;
        for (size_t i = 0; i < n; i++)
            if (group_of[i] < 0) n_sets++;
        c->sets = kz_arena_calloc(a, n_sets, sizeof *c->sets);
        uint32_t *members = malloc(n * sizeof *members);
        if (!c->sets || !members) rc = KZ_ENOMEM;
        uint32_t m = 0;
        for (uint32_t g = 0; g < n_groups && !rc; g++) {
            size_t k = 0;
            for (size_t i = 0; i < n; i++)
                if (group_of[i] == (int32_t)g) members[k++] = terms[i];
            rc = make_set(j, members, k, &c->sets[m++]);
        }
        for (size_t i = 0; i < n && !rc; i++)
            if (group_of[i] < 0) rc = make_set(j, &terms[i], 1, &c->sets[m++]);
        free(members);
        if (!rc) {
            c->n_sets = kz__kbb_idsets_normalise(c->sets, m);
            c->aggregated_by = KZ_AGG_RESOLVED_BY_XREF;
        }
    }
    free(group_of);
    return rc;
}

static int group_per_id(parser_job *j, kz_kbb_cand *c, const uint32_t *terms, size_t n) {
    c->sets = kz_arena_calloc(j->ctx->arena, n, sizeof *c->sets);
    if (!c->sets) return KZ_ENOMEM;
    for (size_t i = 0; i < n; i++)
        if (make_set(j, &terms[i], 1, &c->sets[i])) return KZ_ENOMEM;
    c->n_sets = kz__kbb_idsets_normalise(c->sets, (uint32_t)n);
    c->aggregated_by = KZ_AGG_CUSTOM;
    return 0;
}

static const kz_str label_scope = {"label", 5};

/* _resolve_candidates: one candidate per syn_norm of the parser. */
static int build_candidates(parser_job *j, kz_candvec *out, uint64_t *n_skipped, kz_error *err) {
    collector *col = j->col;
    kz_kbb_ctx *ctx = j->ctx;
    interner norms = {0}, texts = {0}, mtypes = {0};
    row *rows = NULL;
    size_t n_rows = 0, cap_rows = 0;
    int rc = 0;
    for (size_t t = 0; t < col->n && !rc; t++) {
        for (const term_rec *r = col->v[t].first; r && !rc; r = r->next) {
            for (uint32_t s = 0; s <= r->n_syns && !rc; s++) {
                kz_str text = s == 0 ? r->label : r->syns[s - 1].text;
                kz_str scope = s == 0 ? label_scope : r->syns[s - 1].scope;
                if (!text.ptr) continue;
                text = kz__py_strip(text);
                if (!text.len) continue;
                if (!scope.ptr) scope = (kz_str){"", 0};
                kz_str norm;
                kz_error e2;
                kz_error_clear(&e2);
                int r2 = kz__ncache_norm(ctx->norm, text, &norm, &e2);
                if (r2 == KZ_ENOMEM) {
                    rc = kz_error_set(err, r2, "normaliser: out of memory");
                    break;
                }
                if (r2) {
                    (*n_skipped)++;
                    kz_log(KZ_LOG_WARN, "kb build: %s: %.*s: synonym skipped: %s", ctx->parser,
                           (int)col->v[t].id.len, col->v[t].id.ptr, e2.msg);
                    continue;
                }
                row x = {0, 0, 0, (uint32_t)t};
                if (intern(&norms, norm, &x.cand) || intern(&texts, text, &x.text) ||
                    intern(&mtypes, scope, &x.mtype)) {
                    rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
                    break;
                }
                if (n_rows == cap_rows) {
                    size_t cap = cap_rows ? cap_rows * 2 : 4096;
                    row *v = realloc(rows, cap * sizeof *v);
                    if (!v) {
                        rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
                        break;
                    }
                    rows = v;
                    cap_rows = cap;
                }
                rows[n_rows++] = x;
            }
        }
    }
    if (rc) goto done;
    if (n_rows > 1) qsort(rows, n_rows, sizeof *rows, row_cmp);
    uint32_t *terms = malloc((n_rows ? n_rows : 1) * sizeof *terms);
    if (!terms) {
        rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
        goto done;
    }
    size_t i = 0;
    while (i < n_rows && !rc) {
        size_t e = i;
        while (e < n_rows && rows[e].cand == rows[i].cand) e++;
        kz_kbb_cand c = {0};
        c.syn_norm = norms.v.v[rows[i].cand];
        size_t nt = 0, nm = 0, ni = 0;
        c.raw = kz_arena_calloc(ctx->arena, e - i, sizeof *c.raw);
        c.mtypes = kz_arena_calloc(ctx->arena, e - i, sizeof *c.mtypes);
        if (!c.raw || !c.mtypes) {
            rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
            break;
        }
        for (size_t k = i; k < e; k++) {
            if (k == i || rows[k].text != rows[k - 1].text) c.raw[nt++] = texts.v.v[rows[k].text];
            c.mtypes[nm++] = mtypes.v.v[rows[k].mtype];
            terms[ni++] = rows[k].term;
        }
        qsort(c.raw, nt, sizeof *c.raw, kz__kbb_str_cmp);
        c.n_raw = (uint32_t)nt;
        qsort(c.mtypes, nm, sizeof *c.mtypes, kz__kbb_str_cmp);
        uint32_t u = 0;
        for (size_t k = 0; k < nm; k++)
            if (!u || !kz_str_eq(c.mtypes[u - 1], c.mtypes[k])) c.mtypes[u++] = c.mtypes[k];
        c.n_mtypes = u;
        /* unique terms, ordered by id */
        qsort_r(terms, ni, sizeof *terms, term_id_cmp_ctx, col->v);
        u = 0;
        for (size_t k = 0; k < ni; k++)
            if (!u || terms[u - 1] != terms[k]) terms[u++] = terms[k];
        c.is_symbolic = true;
        for (uint32_t k = 0; k < c.n_raw && !rc; k++) {
            bool sym = false;
            rc = kz__ncache_symbolic(ctx->norm, c.raw[k], &sym, err);
            c.is_symbolic &= sym;
        }
        if (rc) break;
        switch (j->src->id_grouping) {
        case KZ_IDGROUP_XREF: rc = group_xref(j, &c, terms, u); break;
        case KZ_IDGROUP_PER_ID: rc = group_per_id(j, &c, terms, u); break;
        default: rc = group_default(j, &c, terms, u); break;
        }
        if (rc) {
            rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
            break;
        }
        if (kz__candvec_push(out, &c)) rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
        i = e;
    }
    free(terms);
done:
    free(rows);
    interner_free(&norms);
    interner_free(&texts);
    interner_free(&mtypes);
    return rc;
}

/* ---- the per-parser pipeline ------------------------------------------------------------ */

static double now_s(void);
#define PHASE(name)                                                                                          \
    do {                                                                                                     \
        double t_ = now_s();                                                                                 \
        kz_log(KZ_LOG_DEBUG, "kb build: %s: %s %.3f s", ctx->parser, name, t_ - t_phase);                    \
        t_phase = t_;                                                                                        \
    } while (0)

static int resources_for_parser(parser_job *j, const kz_kbb_gactions *ga, kz_candvec *cands, kz_resvec *kept,
                                kz_error *err) {
    double t_phase = now_s();
    kz_kbb_ctx *ctx = j->ctx;
    const kz_recipe_source *s = j->src;
    kz_resvec defaults = {0}, auto_clean = {0}, human = {0}, human_clean = {0}, effective = {0}, final = {0};
    int rc = kz__default_resources(ctx, cands, &defaults, err);
    if (!rc && s->synonym_generation != KZ_SYNGEN_NONE) {
        kz_syngen *g = kz__syngen_new_config(s->synonym_generation);
        uint64_t capped = 0;
        if (!g)
            rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
        else
            rc = kz__syngen_run(g, defaults.v, defaults.n, ctx->arena, &capped, err);
        kz__syngen_free(g);
        if (capped)
            kz_log(KZ_LOG_INFO, "kb build: %s: synonym generation capped for %llu resources", ctx->parser,
                   (unsigned long long)capped);
    }
    PHASE("synonym generation");
    for (size_t i = 0; i < defaults.n && !rc; i++)
        rc = kz__autocurate(ctx, s->autocurator, &defaults.v[i], err);
    PHASE("autocuration");
    if (!rc)
        rc = kz__conflicts_verify(ctx, defaults.v, defaults.n, KZ_AUTOFIX_OPTIMISTIC, "defaults", &auto_clean,
                                  err);
    PHASE("conflict analysis");
    kz__resvec_free(&defaults);
    if (!rc && s->curations) {
        rc = kz__curations_load(ctx, s->curations, &human, err);
        if (!rc)
            rc = kz__conflicts_verify(ctx, human.v, human.n, KZ_AUTOFIX_NONE, "curations", &human_clean, err);
        uint64_t obsolete = 0;
        if (!rc)
            rc = kz__curations_merge(ctx, human_clean.v, human_clean.n, auto_clean.v, auto_clean.n,
                                     &effective, &obsolete, err);
        if (!rc && obsolete)
            kz_log(KZ_LOG_WARN,
                   "kb build: %s: %llu obsolete human curations (no matching synonym in the source)",
                   ctx->parser, (unsigned long long)obsolete);
        if (!rc)
            rc =
                kz__conflicts_verify(ctx, effective.v, effective.n, KZ_AUTOFIX_NONE, "combined", &final, err);
    } else if (!rc) {
        final = auto_clean;
        auto_clean = (kz_resvec){0};
    }
    PHASE("curations");
    if (!rc) rc = kz__process_resources(ctx, ga, cands, &final, kept, err);
    PHASE("resource processor");
    kz__resvec_free(&auto_clean);
    kz__resvec_free(&human);
    kz__resvec_free(&human_clean);
    kz__resvec_free(&effective);
    kz__resvec_free(&final);
    return rc;
}

/* ---- the model ------------------------------------------------------------------------ */

typedef struct {
    kz_kbm_id *v;
    size_t n, cap;
} idvec;
typedef struct {
    kz_kbm_candidate *v;
    size_t n, cap;
} mcandvec;
typedef struct {
    kz_kbm_resource *v;
    size_t n, cap;
} mresvec;
typedef struct {
    kz_kbm_id_set *v;
    size_t n, cap;
} msetvec;
static int idvec_push(idvec *v, kz_kbm_id x) { VEC_PUSH(v, x); }
static int mcand_push(mcandvec *v, kz_kbm_candidate x) { VEC_PUSH(v, x); }
static int mres_push(mresvec *v, kz_kbm_resource x) { VEC_PUSH(v, x); }
static int mset_push(msetvec *v, kz_kbm_id_set x) { VEC_PUSH(v, x); }

typedef struct {
    kz_kb_model *m;
    kz_arena *keys; /* id-set keys */
    kz_strmap set_index;
    idvec ids;
    mcandvec cands;
    mresvec res;
    msetvec sets;
    kz_buf tmp;
} model_builder;

static kz_str mstr(model_builder *b, kz_str s, bool *oom) {
    if (!s.ptr) return KZ_STR_NULL;
    kz_str c = kz_arena_strdup(b->m->arena, s.ptr, s.len);
    if (!c.ptr) *oom = true;
    return c;
}

static int id_set_index(model_builder *b, const kz_kbb_idset *s, uint32_t *out) {
    kz__buf_clear(&b->tmp);
    for (uint32_t i = 0; i < s->n; i++) {
        if (kz__buf_append(&b->tmp, s->ids[i].idx.ptr, s->ids[i].idx.len) || kz__buf_putc(&b->tmp, 0x1f) ||
            kz__buf_append(&b->tmp, s->ids[i].source.ptr, s->ids[i].source.len) ||
            kz__buf_putc(&b->tmp, 0x1e))
            return KZ_ENOMEM;
    }
    uint32_t *hit = kz__strmap_get(&b->set_index, (kz_str){b->tmp.data, b->tmp.len});
    if (hit) {
        *out = *hit;
        return 0;
    }
    kz_str key = kz_arena_strdup(b->keys, b->tmp.data, b->tmp.len);
    if (!key.ptr) return KZ_ENOMEM;
    bool oom = false;
    kz_id_source *ids = kz_arena_calloc(b->m->arena, s->n, sizeof *ids);
    if (!ids) return KZ_ENOMEM;
    for (uint32_t i = 0; i < s->n; i++) {
        ids[i].idx = mstr(b, s->ids[i].idx, &oom);
        ids[i].source = mstr(b, s->ids[i].source, &oom);
    }
    if (oom) return KZ_ENOMEM;
    *out = (uint32_t)b->sets.n;
    if (kz__strmap_put(&b->set_index, key, *out, NULL) < 0) return KZ_ENOMEM;
    return mset_push(&b->sets, (kz_kbm_id_set){ids, s->n});
}

/* Compact JSON metadata of one id: data_origin, namespace, parents, alt_ids,
 * then the parser's extra fields (repeated keys become lists). */
static int metadata_json(model_builder *b, const kz_recipe_source *src, const term *t, kz_str *out) {
    kz_buf *j = &b->tmp;
    kz__buf_clear(j);
    int rc = kz__buf_puts(j, "{\"data_origin\":");
    if (!rc) rc = kz__json_put_string(j, src->data_origin, strlen(src->data_origin), false);
    kz_str ns = KZ_STR_NULL;
    for (const term_rec *r = t->first; r && !ns.ptr; r = r->next) ns = r->ns;
    if (!rc && ns.ptr) {
        rc = kz__buf_puts(j, ",\"namespace\":");
        if (!rc) rc = kz__json_put_string(j, ns.ptr, ns.len, false);
    }
    for (int pass = 0; pass < 2 && !rc; pass++) {
        bool any = false;
        for (const term_rec *r = t->first; r && !rc; r = r->next) {
            const kz_str *v = pass ? r->alt_ids : r->parents;
            uint32_t n = pass ? r->n_alt_ids : r->n_parents;
            for (uint32_t i = 0; i < n && !rc; i++) {
                rc = kz__buf_puts(j, any ? "," : pass ? ",\"alt_ids\":[" : ",\"parents\":[");
                if (!rc) rc = kz__json_put_string(j, v[i].ptr, v[i].len, false);
                any = true;
            }
        }
        if (!rc && any) rc = kz__buf_putc(j, ']');
    }
    /* extra fields: keys in first-seen order */
    static const char *const reserved[] = {"data_origin", "namespace", "parents", "alt_ids"};
    for (const term_rec *r = t->first; r && !rc; r = r->next)
        for (uint32_t i = 0; i < r->n_meta && !rc; i++) {
            kz_str key = r->meta[i].key;
            if (!key.ptr) continue;
            bool skip = false;
            for (size_t k = 0; k < 4 && !skip; k++) skip = kz_str_eq_c(key, reserved[k]);
            /* seen before? */
            for (const term_rec *q = t->first; q && !skip; q = q->next)
                for (uint32_t k = 0; k < q->n_meta && !skip; k++) {
                    if (q == r && k == i) goto first_seen;
                    skip = kz_str_eq(q->meta[k].key, key);
                }
        first_seen:
            if (skip) continue;
            size_t count = 0;
            for (const term_rec *q = r; q; q = q->next)
                for (uint32_t k = (q == r ? i : 0); k < q->n_meta; k++)
                    if (kz_str_eq(q->meta[k].key, key) && q->meta[k].value.ptr) count++;
            if (!count) continue;
            rc = kz__buf_putc(j, ',');
            if (!rc) rc = kz__json_put_string(j, key.ptr, key.len, false);
            if (!rc) rc = kz__buf_puts(j, count > 1 ? ":[" : ":");
            bool first = true;
            for (const term_rec *q = r; q && !rc; q = q->next)
                for (uint32_t k = (q == r ? i : 0); k < q->n_meta && !rc; k++)
                    if (kz_str_eq(q->meta[k].key, key) && q->meta[k].value.ptr) {
                        if (!first) rc = kz__buf_putc(j, ',');
                        if (!rc)
                            rc = kz__json_put_string(j, q->meta[k].value.ptr, q->meta[k].value.len, false);
                        first = false;
                    }
            if (!rc && count > 1) rc = kz__buf_putc(j, ']');
        }
    if (!rc) rc = kz__buf_putc(j, '}');
    if (rc) return KZ_ENOMEM;
    *out = kz_arena_strdup(b->m->arena, j->data, j->len);
    return out->ptr ? 0 : KZ_ENOMEM;
}

static int add_ids(model_builder *b, uint32_t parser, const kz_recipe_source *src, collector *col) {
    bool oom = false;
    kz_str source = kz_str_c(src->source);
    kz_str msource = mstr(b, source, &oom);
    for (size_t t = 0; t < col->n && !oom; t++) {
        term *x = &col->v[t];
        kz_kbm_id id = {0};
        id.parser = parser;
        id.idx = mstr(b, x->id, &oom);
        kz_str label = term_label(x);
        id.default_label = label.ptr ? mstr(b, label, &oom) : id.idx;
        id.source = msource;
        uint32_t nx = 0;
        for (const term_rec *r = x->first; r; r = r->next) nx += r->n_xrefs;
        if (nx) {
            kz_str *xr = kz_arena_calloc(b->m->arena, nx, sizeof *xr);
            if (!xr) return KZ_ENOMEM;
            uint32_t m = 0;
            for (const term_rec *r = x->first; r; r = r->next)
                for (uint32_t i = 0; i < r->n_xrefs; i++) xr[m++] = r->xrefs[i];
            qsort(xr, m, sizeof *xr, kz__kbb_str_cmp);
            uint32_t u = 0;
            for (uint32_t i = 0; i < m; i++)
                if (!u || !kz_str_eq(xr[u - 1], xr[i])) xr[u++] = xr[i];
            for (uint32_t i = 0; i < u; i++) xr[i] = mstr(b, xr[i], &oom);
            id.xrefs = xr;
            id.n_xrefs = u;
        }
        if (metadata_json(b, src, x, &id.metadata_json)) return KZ_ENOMEM;
        if (oom || idvec_push(&b->ids, id)) return KZ_ENOMEM;
    }
    return oom ? KZ_ENOMEM : 0;
}

typedef struct {
    kz_str text;
    uint32_t cand;
    bool cs, generated;
    int conf, behaviour;
} pres;

static int pres_cmp(const void *a, const void *b) {
    const pres *x = a, *y = b;
    int c = kz_str_cmp(x->text, y->text);
    if (c) return c;
    return (x->cand > y->cand) - (x->cand < y->cand);
}

static int add_parser_output(model_builder *b, uint32_t parser, const kz_candvec *cands,
                             const kz_resvec *kept) {
    bool oom = false;
    kz_strmap by_norm = {0};
    uint32_t base = (uint32_t)b->cands.n;
    int rc = 0;
    for (size_t i = 0; i < cands->n && !rc; i++) {
        const kz_kbb_cand *c = &cands->v[i];
        kz_kbm_candidate mc = {0};
        mc.parser = parser;
        mc.synonym_norm = mstr(b, c->syn_norm, &oom);
        kz_str *raw = kz_arena_calloc(b->m->arena, c->n_raw ? c->n_raw : 1, sizeof *raw);
        kz_str *mt = kz_arena_calloc(b->m->arena, c->n_mtypes ? c->n_mtypes : 1, sizeof *mt);
        uint32_t *sets = kz_arena_calloc(b->m->arena, c->n_sets ? c->n_sets : 1, sizeof *sets);
        if (!raw || !mt || !sets) return KZ_ENOMEM;
        for (uint32_t k = 0; k < c->n_raw; k++) raw[k] = mstr(b, c->raw[k], &oom);
        for (uint32_t k = 0; k < c->n_mtypes; k++) mt[k] = mstr(b, c->mtypes[k], &oom);
        for (uint32_t k = 0; k < c->n_sets && !rc; k++) rc = id_set_index(b, &c->sets[k], &sets[k]);
        if (rc) return rc;
        /* sorted unique set indices */
        for (uint32_t a = 1; a < c->n_sets; a++)
            for (uint32_t z = a; z > 0 && sets[z - 1] > sets[z]; z--) {
                uint32_t t = sets[z];
                sets[z] = sets[z - 1];
                sets[z - 1] = t;
            }
        mc.raw_synonyms = raw;
        mc.n_raw_synonyms = c->n_raw;
        mc.mapping_types = mt;
        mc.n_mapping_types = c->n_mtypes;
        mc.is_symbolic = c->is_symbolic;
        mc.aggregated_by = c->aggregated_by;
        mc.id_sets = sets;
        mc.n_id_sets = c->n_sets;
        if (oom || mcand_push(&b->cands, mc)) return KZ_ENOMEM;
        if (kz__strmap_put(&by_norm, c->syn_norm, base + (uint32_t)i, NULL) < 0) return KZ_ENOMEM;
    }
    /* every synonym of every kept resource */
    size_t total = 0;
    for (size_t i = 0; i < kept->n; i++) total += kept->v[i].n_orig + kept->v[i].n_alt;
    pres *p = malloc((total ? total : 1) * sizeof *p);
    if (!p) {
        kz__strmap_free(&by_norm);
        return KZ_ENOMEM;
    }
    size_t n = 0;
    for (size_t i = 0; i < kept->n; i++) {
        const kz_kbb_res *r = &kept->v[i];
        uint32_t *ci = kz__strmap_get(&by_norm, r->syn_norm);
        if (!ci) continue;
        for (uint32_t k = 0; k < r->n_orig + r->n_alt; k++) {
            const kz_kbb_syn *s = k < r->n_orig ? &r->orig[k] : &r->alt[k - r->n_orig];
            p[n++] =
                (pres){s->text, *ci, s->case_sensitive, k >= r->n_orig, s->mention_confidence, r->behaviour};
        }
    }
    qsort(p, n, sizeof *p, pres_cmp);
    /* one entry per (text, candidate): duplicates come from resources Kazu keeps
     * twice (a resource autofixed in two conflict groups); merge optimistically */
    size_t i = 0;
    while (i < n && !rc) {
        size_t e = i + 1;
        pres m = p[i];
        for (; e < n && kz_str_eq(p[e].text, m.text) && p[e].cand == m.cand; e++) {
            m.cs = m.cs && p[e].cs;
            m.conf = KZ_MAX(m.conf, p[e].conf);
            m.behaviour = KZ_MIN(m.behaviour, p[e].behaviour);
            m.generated = m.generated && p[e].generated;
        }
        kz_kbm_resource mr = {mstr(b, m.text, &oom), m.cand, m.cs, m.conf, m.behaviour, m.generated};
        if (oom || mres_push(&b->res, mr)) rc = KZ_ENOMEM;
        i = e;
    }
    free(p);
    kz__strmap_free(&by_norm);
    return rc;
}

#define COPY_OUT(field, nfield, vec)                                                                         \
    do {                                                                                                     \
        m->field = NULL;                                                                                     \
        m->nfield = (vec).n;                                                                                 \
        if ((vec).n) {                                                                                       \
            m->field = kz_arena_alloc(m->arena, (vec).n * sizeof *(vec).v);                                  \
            if (!m->field) return KZ_ENOMEM;                                                                 \
            memcpy(m->field, (vec).v, (vec).n * sizeof *(vec).v);                                            \
        }                                                                                                    \
    } while (0)

static int finish_model(model_builder *b) {
    kz_kb_model *m = b->m;
    COPY_OUT(ids, n_ids, b->ids);
    COPY_OUT(candidates, n_candidates, b->cands);
    COPY_OUT(resources, n_resources, b->res);
    COPY_OUT(id_sets, n_id_sets, b->sets);
    return 0;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int write_report(const char *path, const kz_buf *b, kz_error *err) {
    FILE *f = fopen(path, "wb");
    if (!f) return kz_error_set(err, KZ_EIO, "cannot write conflict report %s", path);
    size_t n = b->len ? fwrite(b->data, 1, b->len, f) : 0;
    int bad = n != b->len;
    if (fclose(f)) bad = 1;
    return bad ? kz_error_set(err, KZ_EIO, "cannot write conflict report %s", path) : 0;
}

void kz__kb_model_free(kz_kb_model *m) {
    if (!m) return;
    kz_arena_free(m->arena);
    memset(m, 0, sizeof *m);
}

int kz__kb_model_build(const char *recipe_path, const kz_kb_build_opts *opts, bool hash_only,
                       uint8_t input_hash[32], kz_kb_model *out, kz_error *err) {
    kz_error_clear(err);
    if (out) memset(out, 0, sizeof *out);
    if (!recipe_path || (!hash_only && !out))
        return kz_error_set(err, KZ_EINVAL, "kb build: missing recipe path or output model");
    kz_kb_build_opts dflt = {0};
    if (!opts) opts = &dflt;
    kz_recipe recipe;
    char *text = NULL;
    size_t text_len = 0;
    int rc = kz__recipe_load(recipe_path, &recipe, &text, &text_len, err);
    if (rc) return rc;
    uint8_t hash[32];
    rc = kz__recipe_hash(&recipe, text, text_len, hash, err);
    free(text);
    if (rc) {
        kz__recipe_free(&recipe);
        return rc;
    }
    if (input_hash) memcpy(input_hash, hash, 32);
    if (hash_only) {
        kz__recipe_free(&recipe);
        return 0;
    }

    double t0 = now_s();
    kz_kb_model *m = out;
    model_builder b = {.m = m};
    kz_buf report;
    kz__buf_init(&report, 0);
    kz_kbb_gactions ga = {0};
    kz_arena *ga_arena = kz_arena_new(0);
    m->arena = kz_arena_new(1 << 22);
    b.keys = kz_arena_new(1 << 20);
    kz__buf_init(&b.tmp, 0);
    if (!m->arena || !b.keys || !ga_arena) {
        rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
        goto done;
    }
    if (recipe.global_actions && (rc = kz__global_actions_load(ga_arena, recipe.global_actions, &ga, err)))
        goto done;
    bool oom = false;
    m->name = mstr(&b, kz_str_c(recipe.name), &oom);
    m->parsers = kz_arena_calloc(m->arena, recipe.n_sources, sizeof *m->parsers);
    if (oom || !m->parsers) {
        rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t si = 0; si < recipe.n_sources && !rc; si++) {
        const kz_recipe_source *src = &recipe.sources[si];
        if (src->skipped) {
            kz_log(KZ_LOG_WARN, "%s:%lld: source %s skipped: input file not found: %s", recipe.path,
                   (long long)src->line, src->name, src->spec.path);
            continue;
        }
        double ts = now_s();
        uint32_t pi = m->n_parsers;
        kz_kbm_parser *mp = &m->parsers[pi];
        mp->name = mstr(&b, kz_str_c(src->name), &oom);
        mp->entity_class = mstr(&b, kz_str_c(src->entity_class), &oom);
        mp->source = mstr(&b, kz_str_c(src->source), &oom);
        mp->data_origin = mstr(&b, kz_str_c(src->data_origin), &oom);
        if (oom) {
            rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
            break;
        }
        m->n_parsers++;
        collector col = {.arena = kz_arena_new(1 << 22), .source_name = src->name};
        kz_kbb_ctx ctx = {.arena = kz_arena_new(1 << 22),
                          .parser = src->name,
                          .entity_class = src->entity_class,
                          .norm = kz__ncache_new(src->entity_class),
                          .report = &report};
        kz_candvec cands = {0};
        kz_resvec kept = {0};
        uint64_t n_warn = 0, n_skipped = 0;
        if (!col.arena || !ctx.arena || !ctx.norm) rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
        if (!rc) {
            rc = kz__onto_parse(&src->spec, collect, warn_cb, &col, &n_warn, err);
            if (rc == KZ_ENOMEM) kz_error_set(err, rc, "%s: out of memory while parsing", src->name);
        }
        m->n_terms_parsed += col.n_records;
        m->n_warnings += n_warn + col.n_warnings;
        parser_job job = {src, &col, &ctx, kz_str_c(src->source)};
        if (!rc) kz_log(KZ_LOG_DEBUG, "kb build: %s: parse %.3f s", src->name, now_s() - ts);
        if (!rc) rc = build_candidates(&job, &cands, &n_skipped, err);
        if (!rc) kz_log(KZ_LOG_DEBUG, "kb build: %s: candidates %.3f s", src->name, now_s() - ts);
        m->n_warnings += n_skipped;
        if (!rc) rc = resources_for_parser(&job, &ga, &cands, &kept, err);
        if (!rc) rc = add_ids(&b, pi, src, &col) ? kz_error_set(err, KZ_ENOMEM, "out of memory") : 0;
        if (!rc)
            rc = add_parser_output(&b, pi, &cands, &kept) ? kz_error_set(err, KZ_ENOMEM, "out of memory") : 0;
        m->n_conflicts += ctx.n_conflicts;
        if (!rc && opts->verbose)
            kz_log(KZ_LOG_INFO, "kb build: %s: %llu records, %zu ids, %zu candidates, %zu resources, %.2f s",
                   src->name, (unsigned long long)col.n_records, col.n, cands.n, kept.n, now_s() - ts);
        if (rc && !err->path[0]) {
            kz_error e2 = *err;
            snprintf(err->path, sizeof err->path, "%s", src->spec.path);
            (void)e2;
        }
        kz__candvec_free(&cands);
        kz__resvec_free(&kept);
        kz__strmap_free(&col.by_id);
        free(col.v);
        kz_arena_free(col.arena);
        kz__ncache_free(ctx.norm);
        for (int a = 0; a < 4; a++) kz__ncache_free(ctx.aux[a]);
        kz_arena_free(ctx.arena);
    }
    if (!rc && finish_model(&b)) rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
    if (!rc && opts->report_path) rc = write_report(opts->report_path, &report, err);
    if (!rc && opts->verbose)
        kz_log(KZ_LOG_INFO,
               "kb build: %u parsers, %llu ids, %llu candidates, %llu resources, %llu conflicts, %.2f s",
               m->n_parsers, (unsigned long long)m->n_ids, (unsigned long long)m->n_candidates,
               (unsigned long long)m->n_resources, (unsigned long long)m->n_conflicts, now_s() - t0);
done:
    kz__buf_free(&report);
    kz__buf_free(&b.tmp);
    kz__strmap_free(&b.set_index);
    kz_arena_free(b.keys);
    kz_arena_free(ga_arena);
    free(b.ids.v);
    free(b.cands.v);
    free(b.res.v);
    free(b.sets.v);
    kz__recipe_free(&recipe);
    if (rc) kz__kb_model_free(m);
    return rc;
}
