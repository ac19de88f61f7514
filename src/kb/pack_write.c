/* Deterministic pack writer: sorts and deduplicates a kz_kb_model, interns
 * strings and u32 lists, builds the key index and writes the file atomically. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/core_int.h"
#include "kb/pack_int.h"

/* ---- growable u32 vector ---------------------------------------------------- */
typedef struct u32vec {
    uint32_t *v;
    size_t n, cap;
} u32vec;

static int vec_reserve(u32vec *a, size_t extra) {
    if (a->n + extra <= a->cap) return 0;
    size_t cap = a->cap ? a->cap : 1024;
    while (cap < a->n + extra) cap *= 2;
    uint32_t *v = realloc(a->v, cap * sizeof *v);
    if (!v) return KZ_ENOMEM;
    a->v = v;
    a->cap = cap;
    return 0;
}

static int vec_push(u32vec *a, uint32_t x) {
    if (a->n == a->cap && vec_reserve(a, 1)) return KZ_ENOMEM;
    a->v[a->n++] = x;
    return 0;
}

static size_t pow2_at_least(size_t n) {
    size_t c = 16;
    while (c < n) c *= 2;
    return c;
}

/* ---- string pool: every distinct string once, NUL-terminated ------------------ */
typedef struct strslot {
    uint32_t off1, len, h32; /* off1 = byte offset + 1 (0 = empty slot); h32 = hash >> 32 */
} strslot;

typedef struct strpool {
    kz_buf bytes;
    strslot *slots;
    size_t cap, n;
    kz_error *err;
} strpool;

static kz_str pool_str(const strpool *p, uint32_t off) {
    return (kz_str){p->bytes.data + off, strlen(p->bytes.data + off)};
}

static int pool_grow(strpool *p) {
    size_t cap = p->cap ? p->cap * 2 : 1u << 16;
    strslot *s = calloc(cap, sizeof *s);
    if (!s) return KZ_ENOMEM;
    for (size_t j = 0; j < p->cap; j++) {
        if (!p->slots[j].off1) continue;
        size_t i = (p->slots[j].h32 * (uint64_t)0x9E3779B97F4A7C15ull >> 32) & (cap - 1);
        while (s[i].off1) i = (i + 1) & (cap - 1);
        s[i] = p->slots[j];
    }
    free(p->slots);
    p->slots = s;
    p->cap = cap;
    return 0;
}

/* String ref of s (KZ_PACK_NULL for an absent string), interned on first use. */
static int pool_intern(strpool *p, kz_str s, uint32_t *ref) {
    if (!s.ptr) {
        *ref = KZ_PACK_NULL;
        return 0;
    }
    if ((p->n + 1) * 2 > p->cap && pool_grow(p)) return KZ_ENOMEM;
    uint32_t h32 = (uint32_t)(kz__pack_hash64(s.ptr, s.len, 0) >> 32);
    size_t i = (h32 * (uint64_t)0x9E3779B97F4A7C15ull >> 32) & (p->cap - 1);
    for (; p->slots[i].off1; i = (i + 1) & (p->cap - 1)) {
        const strslot *t = &p->slots[i];
        if (t->h32 == h32 && t->len == s.len && memcmp(p->bytes.data + t->off1 - 1, s.ptr, s.len) == 0) {
            *ref = t->off1 - 1;
            return 0;
        }
    }
    if (memchr(s.ptr, 0, s.len))
        return kz_error_set(p->err, KZ_EINVAL, "kb model: string '%.*s...' holds a NUL byte",
                            (int)strnlen(s.ptr, KZ_MIN(s.len, 100)), s.ptr);
    if (p->bytes.len + s.len + 1 >= KZ_PACK_NULL)
        return kz_error_set(p->err, KZ_ELIMIT, "kb pack: more than 4 GiB of strings");
    if (kz__buf_reserve(&p->bytes, s.len + 1)) return KZ_ENOMEM;
    *ref = (uint32_t)p->bytes.len;
    memcpy(p->bytes.data + p->bytes.len, s.ptr, s.len);
    p->bytes.len += s.len + 1;
    p->bytes.data[p->bytes.len - 1] = 0;
    p->slots[i] = (strslot){*ref + 1, (uint32_t)s.len, h32};
    p->n++;
    return 0;
}

/* ---- list pool: length-prefixed u32 lists, identical lists stored once ------- */
typedef struct listslot {
    uint32_t off, n, h32; /* n == 0: empty slot */
} listslot;

typedef struct listpool {
    u32vec data; /* data.v[0] = 0: the empty list */
    listslot *slots;
    size_t cap, used;
    kz_error *err;
} listpool;

static uint64_t list_hash(const uint32_t *v, uint32_t n) { return kz__pack_hash64(v, (size_t)n * 4, n); }

static int lists_grow(listpool *l) {
    size_t cap = l->cap ? l->cap * 2 : 1u << 16;
    listslot *s = calloc(cap, sizeof *s);
    if (!s) return KZ_ENOMEM;
    for (size_t j = 0; j < l->cap; j++) {
        if (!l->slots[j].n) continue;
        size_t i = (l->slots[j].h32 * (uint64_t)0x9E3779B97F4A7C15ull >> 32) & (cap - 1);
        while (s[i].n) i = (i + 1) & (cap - 1);
        s[i] = l->slots[j];
    }
    free(l->slots);
    l->slots = s;
    l->cap = cap;
    return 0;
}

/* List ref of v[0..n) (0, the empty list, for n == 0). */
static int lists_intern(listpool *l, const uint32_t *v, size_t n, uint32_t *off) {
    *off = 0;
    if (n == 0) return 0;
    if (n >= 0xFFFFFFFFu || l->data.n + n + 1 >= 0xFFFFFFFFu)
        return kz_error_set(l->err, KZ_ELIMIT, "kb pack: more than 2^32 list entries");
    if ((l->used + 1) * 2 > l->cap && lists_grow(l)) return KZ_ENOMEM;
    uint32_t h32 = (uint32_t)(list_hash(v, (uint32_t)n) >> 32);
    size_t i = (h32 * (uint64_t)0x9E3779B97F4A7C15ull >> 32) & (l->cap - 1);
    for (; l->slots[i].n; i = (i + 1) & (l->cap - 1)) {
        if (l->slots[i].h32 == h32 && l->slots[i].n == n &&
            memcmp(l->data.v + l->slots[i].off + 1, v, n * 4) == 0) {
            *off = l->slots[i].off;
            return 0;
        }
    }
    if (vec_reserve(&l->data, n + 1)) return KZ_ENOMEM;
    *off = (uint32_t)l->data.n;
    l->data.v[l->data.n] = (uint32_t)n;
    memcpy(l->data.v + l->data.n + 1, v, n * 4);
    l->data.n += n + 1;
    l->slots[i] = (listslot){*off, (uint32_t)n, h32};
    l->used++;
    return 0;
}

/* ---- sorting helpers ---------------------------------------------------------- */
static int cmp_str_ptr(const void *a, const void *b) {
    return kz_str_cmp(**(const kz_str *const *)a, **(const kz_str *const *)b);
}

static int cmp_pair(const kz_id_source *a, const kz_id_source *b) {
    int c = kz_str_cmp(a->idx, b->idx);
    if (c) return c;
    if (!a->source.ptr || !b->source.ptr) return (a->source.ptr != NULL) - (b->source.ptr != NULL);
    return kz_str_cmp(a->source, b->source);
}

static int cmp_pair_ptr(const void *a, const void *b) {
    return cmp_pair(*(const kz_id_source *const *)a, *(const kz_id_source *const *)b);
}

/* The first 8 bytes of s, big-endian, zero-padded. Where two prefixes differ
 * they order the strings as kz_str_cmp does, so sorts compare these first and
 * touch the string bytes (a cache miss each) only on ties. */
static uint64_t prefix8(kz_str s) {
    uint64_t v = 0;
    for (size_t i = 0; i < 8; i++) v = v << 8 | (i < s.len ? (uint8_t)s.ptr[i] : 0u);
    return v;
}

/* Sort record for ids (by parser, idx) and candidates (by parser, norm). */
typedef struct skey {
    uint64_t pfx;
    uint32_t parser, idx; /* idx: position in the model */
    kz_str s;
} skey;

static int cmp_skey(const void *a, const void *b) {
    const skey *x = a, *y = b;
    if (x->parser != y->parser) return x->parser < y->parser ? -1 : 1;
    if (x->pfx != y->pfx) return x->pfx < y->pfx ? -1 : 1;
    return kz_str_cmp(x->s, y->s);
}

/* The model order sorted by (parser, string); NULL on OOM. */
static skey *sort_by_parser(uint64_t n, const void *base, size_t stride, size_t parser_off, size_t str_off) {
    skey *k = malloc((n ? n : 1) * sizeof *k);
    if (!k) return NULL;
    for (uint64_t i = 0; i < n; i++) {
        const char *r = (const char *)base + i * stride;
        uint32_t parser;
        kz_str str;
        memcpy(&parser, r + parser_off, sizeof parser);
        memcpy(&str, r + str_off, sizeof str);
        k[i] = (skey){prefix8(str), parser, (uint32_t)i, str};
    }
    qsort(k, n, sizeof *k, cmp_skey);
    return k;
}

/* An id set in canonical form: its pairs sorted and unique. */
typedef struct cset {
    const kz_id_source **pairs;
    uint32_t n;
} cset;

static int cmp_cset(const void *a, const void *b, void *ctx) {
    const cset *s = ctx, *x = &s[*(const uint32_t *)a], *y = &s[*(const uint32_t *)b];
    for (uint32_t i = 0; i < x->n && i < y->n; i++) {
        int c = cmp_pair(x->pairs[i], y->pairs[i]);
        if (c) return c;
    }
    return x->n < y->n ? -1 : x->n > y->n;
}

typedef struct wres {
    uint64_t pfx;
    kz_str text;
    uint32_t cand;
    uint8_t flags, conf, behaviour;
} wres;

static int cmp_res(const void *a, const void *b) {
    const wres *x = a, *y = b;
    if (x->pfx != y->pfx) return x->pfx < y->pfx ? -1 : 1;
    int c = kz_str_cmp(x->text, y->text);
    if (c) return c;
    if (x->cand != y->cand) return x->cand < y->cand ? -1 : 1;
    if (x->flags != y->flags) return x->flags < y->flags ? -1 : 1;
    if (x->conf != y->conf) return x->conf < y->conf ? -1 : 1;
    return (x->behaviour > y->behaviour) - (x->behaviour < y->behaviour);
}

typedef struct wkey {
    uint64_t pfx;
    kz_str norm;
    uint32_t class_idx, norm_sid, cand;
} wkey;

static int cmp_key_class(const void *a, const void *b) {
    const wkey *x = a, *y = b;
    if (x->class_idx != y->class_idx) return x->class_idx < y->class_idx ? -1 : 1;
    if (x->pfx != y->pfx) return x->pfx < y->pfx ? -1 : 1;
    int c = kz_str_cmp(x->norm, y->norm);
    if (c) return c;
    return (x->cand > y->cand) - (x->cand < y->cand);
}

static int cmp_key_norm(const void *a, const void *b) {
    const wkey *x = a, *y = b;
    if (x->pfx != y->pfx) return x->pfx < y->pfx ? -1 : 1;
    int c = kz_str_cmp(x->norm, y->norm);
    if (c) return c;
    return (x->cand > y->cand) - (x->cand < y->cand);
}

/* ---- the writer's state ---------------------------------------------------------- */
typedef struct writer {
    const kz_kb_model *m;
    kz_error *err;
    strpool sp;
    listpool lp;
    u32vec tmp; /* scratch list */
    u32vec classes;
    kz_pack_parser *pars;
    kz_pack_id *ids;
    uint32_t *isets;
    uint64_t n_isets;
    kz_pack_cand *cands;
    kz_pack_res *res;
    uint64_t n_res;
    kz_pack_key *keys;
    uint64_t key_cap, n_keys;
    uint32_t *set_new;  /* model id set -> pack id set */
    uint32_t *cand_new; /* model candidate -> pack candidate */
} writer;

static int bad_model(writer *w, const char *what, uint64_t i) {
    return kz_error_set(w->err, KZ_EINVAL, "kb model: %s (record %llu)", what, (unsigned long long)i);
}

static int validate(writer *w) {
    const kz_kb_model *m = w->m;
    if (m->n_parsers && !m->parsers) return bad_model(w, "parsers missing", 0);
    if ((m->n_ids && !m->ids) || (m->n_id_sets && !m->id_sets) || (m->n_candidates && !m->candidates) ||
        (m->n_resources && !m->resources))
        return bad_model(w, "array missing", 0);
    if (m->n_ids >= 0xFFFFFFFFu || m->n_id_sets >= 0xFFFFFFFFu || m->n_candidates >= 0xFFFFFFFFu ||
        m->n_resources >= 0xFFFFFFFFu || m->n_parsers > KZ_PACK_MAX_PARSERS)
        return kz_error_set(w->err, KZ_ELIMIT, "kb model: more than 2^32 records in one table");
    if (m->name.len >= KZ_PACK_NAME_BYTES)
        return kz_error_set(w->err, KZ_ELIMIT, "kb name longer than %u bytes", KZ_PACK_NAME_BYTES - 1);
    if (m->name.ptr && memchr(m->name.ptr, 0, m->name.len)) return bad_model(w, "kb name holds a NUL", 0);
    for (uint32_t i = 0; i < m->n_parsers; i++) {
        const kz_kbm_parser *p = &m->parsers[i];
        if (!p->name.ptr || !p->name.len || !p->entity_class.ptr)
            return bad_model(w, "parser without name or class", i);
        for (uint32_t j = 0; j < i; j++)
            if (kz_str_eq(m->parsers[j].name, p->name)) return bad_model(w, "duplicate parser name", i);
    }
    for (uint64_t i = 0; i < m->n_ids; i++) {
        const kz_kbm_id *d = &m->ids[i];
        if (d->parser >= m->n_parsers || !d->idx.ptr) return bad_model(w, "id with bad parser or no idx", i);
        if (d->n_xrefs && !d->xrefs) return bad_model(w, "id xrefs missing", i);
        for (uint32_t k = 0; k < d->n_xrefs; k++)
            if (!d->xrefs[k].ptr) return bad_model(w, "absent xref", i);
    }
    for (uint64_t i = 0; i < m->n_id_sets; i++) {
        const kz_kbm_id_set *s = &m->id_sets[i];
        if (s->n_ids && !s->ids) return bad_model(w, "id set pairs missing", i);
        for (uint32_t k = 0; k < s->n_ids; k++)
            if (!s->ids[k].idx.ptr) return bad_model(w, "id set pair without idx", i);
    }
    for (uint64_t i = 0; i < m->n_candidates; i++) {
        const kz_kbm_candidate *c = &m->candidates[i];
        if (c->parser >= m->n_parsers || !c->synonym_norm.ptr)
            return bad_model(w, "candidate with bad parser or no key", i);
        if (!kz_aggregation_name(c->aggregated_by))
            return bad_model(w, "candidate aggregation out of range", i);
        if ((c->n_raw_synonyms && !c->raw_synonyms) || (c->n_mapping_types && !c->mapping_types) ||
            (c->n_id_sets && !c->id_sets))
            return bad_model(w, "candidate list missing", i);
        for (uint32_t k = 0; k < c->n_raw_synonyms; k++)
            if (!c->raw_synonyms[k].ptr) return bad_model(w, "absent raw synonym", i);
        for (uint32_t k = 0; k < c->n_mapping_types; k++)
            if (!c->mapping_types[k].ptr) return bad_model(w, "absent mapping type", i);
        for (uint32_t k = 0; k < c->n_id_sets; k++)
            if (c->id_sets[k] >= m->n_id_sets) return bad_model(w, "candidate id set index out of range", i);
    }
    for (uint64_t i = 0; i < m->n_resources; i++) {
        const kz_kbm_resource *r = &m->resources[i];
        if (r->candidate >= m->n_candidates || !r->text.ptr)
            return bad_model(w, "resource with bad candidate or no text", i);
        if (!kz_mention_confidence_name(r->mention_confidence))
            return bad_model(w, "resource mention confidence", i);
        if (!kz_kb_behaviour_name(r->behaviour)) return bad_model(w, "resource behaviour", i);
    }
    return 0;
}

/* Intern a list of strings as string ids, sorted by bytes and unique. */
static int intern_str_list(writer *w, const kz_str *v, uint32_t n, uint32_t *off) {
    *off = 0;
    if (!n) return 0;
    const kz_str **p = malloc(n * sizeof *p);
    if (!p) return KZ_ENOMEM;
    for (uint32_t i = 0; i < n; i++) p[i] = &v[i];
    qsort(p, n, sizeof *p, cmp_str_ptr);
    w->tmp.n = 0;
    int rc = 0;
    for (uint32_t i = 0; i < n && !rc; i++) {
        if (i && kz_str_cmp(*p[i - 1], *p[i]) == 0) continue;
        uint32_t sid;
        rc = pool_intern(&w->sp, *p[i], &sid);
        if (!rc) rc = vec_push(&w->tmp, sid);
    }
    free(p);
    if (!rc) rc = lists_intern(&w->lp, w->tmp.v, w->tmp.n, off);
    return rc;
}

static int build_parsers(writer *w) {
    const kz_kb_model *m = w->m;
    w->pars = calloc(m->n_parsers ? m->n_parsers : 1, sizeof *w->pars);
    const kz_str **cls = malloc((m->n_parsers ? m->n_parsers : 1) * sizeof *cls);
    if (!w->pars || !cls) {
        free(cls);
        return KZ_ENOMEM;
    }
    for (uint32_t i = 0; i < m->n_parsers; i++) cls[i] = &m->parsers[i].entity_class;
    qsort(cls, m->n_parsers, sizeof *cls, cmp_str_ptr);
    int rc = 0;
    for (uint32_t i = 0; i < m->n_parsers && !rc; i++) {
        if (i && kz_str_cmp(*cls[i - 1], *cls[i]) == 0) continue;
        uint32_t sid;
        rc = pool_intern(&w->sp, *cls[i], &sid);
        if (!rc) rc = vec_push(&w->classes, sid);
    }
    free(cls);
    for (uint32_t i = 0; i < m->n_parsers && !rc; i++) {
        const kz_kbm_parser *p = &m->parsers[i];
        kz_pack_parser *o = &w->pars[i];
        if ((rc = pool_intern(&w->sp, p->name, &o->name)) ||
            (rc = pool_intern(&w->sp, p->entity_class, &o->entity_class)) ||
            (rc = pool_intern(&w->sp, p->source, &o->source)) ||
            (rc = pool_intern(&w->sp, p->data_origin, &o->data_origin)))
            break;
        for (uint32_t c = 0; c < w->classes.n; c++)
            if (w->classes.v[c] == o->entity_class) o->class_idx = c;
    }
    return rc;
}

static int build_ids(writer *w) {
    const kz_kb_model *m = w->m;
    uint64_t n = m->n_ids;
    skey *ord =
        sort_by_parser(n, m->ids, sizeof *m->ids, offsetof(kz_kbm_id, parser), offsetof(kz_kbm_id, idx));
    w->ids = calloc(n ? n : 1, sizeof *w->ids);
    if (!ord || !w->ids) {
        free(ord);
        return KZ_ENOMEM;
    }
    int rc = 0;
    for (uint64_t i = 0; i < n && !rc; i++) {
        const kz_kbm_id *d = &m->ids[ord[i].idx];
        if (i && cmp_skey(&ord[i - 1], &ord[i]) == 0) {
            rc = kz_error_set(w->err, KZ_EINVAL, "kb model: id '%.*s' twice in parser %u",
                              (int)KZ_MIN(d->idx.len, 200), d->idx.ptr, d->parser);
            break;
        }
        kz_pack_id *o = &w->ids[i];
        o->parser = d->parser;
        if ((rc = pool_intern(&w->sp, d->idx, &o->idx)) ||
            (rc = pool_intern(&w->sp, d->default_label, &o->default_label)) ||
            (rc = pool_intern(&w->sp, d->source, &o->source)) ||
            (rc = intern_str_list(w, d->xrefs, d->n_xrefs, &o->xrefs)) ||
            (rc = pool_intern(&w->sp, d->metadata_json, &o->metadata_json)))
            break;
    }
    free(ord);
    return rc;
}

static int build_id_sets(writer *w) {
    const kz_kb_model *m = w->m;
    uint64_t n = m->n_id_sets, total = 0;
    for (uint64_t i = 0; i < n; i++) total += m->id_sets[i].n_ids;
    cset *cs = calloc(n ? n : 1, sizeof *cs);
    const kz_id_source **pairs = malloc((total ? total : 1) * sizeof *pairs);
    uint32_t *ord = malloc((n ? n : 1) * sizeof *ord);
    w->set_new = malloc((n ? n : 1) * sizeof *w->set_new);
    w->isets = calloc(n ? n : 1, sizeof *w->isets);
    int rc = 0;
    if (!cs || !pairs || !ord || !w->set_new || !w->isets) {
        rc = KZ_ENOMEM;
        goto out;
    }
    uint64_t at = 0;
    for (uint64_t i = 0; i < n; i++) {
        const kz_kbm_id_set *s = &m->id_sets[i];
        cs[i].pairs = pairs + at;
        for (uint32_t k = 0; k < s->n_ids; k++) pairs[at + k] = &s->ids[k];
        qsort(pairs + at, s->n_ids, sizeof *pairs, cmp_pair_ptr);
        uint32_t u = 0;
        for (uint32_t k = 0; k < s->n_ids; k++)
            if (!u || cmp_pair(cs[i].pairs[u - 1], pairs[at + k])) cs[i].pairs[u++] = pairs[at + k];
        cs[i].n = u;
        at += s->n_ids;
        ord[i] = (uint32_t)i;
    }
    qsort_r(ord, n, sizeof *ord, cmp_cset, cs);
    for (uint64_t i = 0; i < n && !rc; i++) {
        if (i && cmp_cset(&ord[i - 1], &ord[i], cs) == 0) {
            w->set_new[ord[i]] = (uint32_t)(w->n_isets - 1);
            continue;
        }
        const cset *s = &cs[ord[i]];
        w->tmp.n = 0;
        for (uint32_t k = 0; k < s->n && !rc; k++) {
            uint32_t a, b;
            if (!(rc = pool_intern(&w->sp, s->pairs[k]->idx, &a)) &&
                !(rc = pool_intern(&w->sp, s->pairs[k]->source, &b)) && !(rc = vec_push(&w->tmp, a)))
                rc = vec_push(&w->tmp, b);
        }
        if (rc) break;
        rc = lists_intern(&w->lp, w->tmp.v, w->tmp.n, &w->isets[w->n_isets]);
        w->set_new[ord[i]] = (uint32_t)w->n_isets++;
    }
out:
    free(cs);
    free(pairs);
    free(ord);
    return rc;
}

static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int build_candidates(writer *w) {
    const kz_kb_model *m = w->m;
    uint64_t n = m->n_candidates;
    skey *ord = sort_by_parser(n, m->candidates, sizeof *m->candidates, offsetof(kz_kbm_candidate, parser),
                               offsetof(kz_kbm_candidate, synonym_norm));
    w->cand_new = malloc((n ? n : 1) * sizeof *w->cand_new);
    w->cands = calloc(n ? n : 1, sizeof *w->cands);
    if (!ord || !w->cand_new || !w->cands) {
        free(ord);
        return KZ_ENOMEM;
    }
    int rc = 0;
    u32vec sets = {0};
    for (uint64_t i = 0; i < n && !rc; i++) {
        const kz_kbm_candidate *c = &m->candidates[ord[i].idx];
        if (i && cmp_skey(&ord[i - 1], &ord[i]) == 0) {
            rc = kz_error_set(w->err, KZ_EINVAL, "kb model: candidate '%.*s' twice in parser %u",
                              (int)KZ_MIN(c->synonym_norm.len, 200), c->synonym_norm.ptr, c->parser);
            break;
        }
        w->cand_new[ord[i].idx] = (uint32_t)i;
        kz_pack_cand *o = &w->cands[i];
        o->parser = (uint16_t)c->parser;
        o->flags = c->is_symbolic ? KZ_PACK_CAND_SYMBOLIC : 0;
        o->aggregated_by = (uint8_t)c->aggregated_by;
        if ((rc = pool_intern(&w->sp, c->synonym_norm, &o->synonym_norm)) ||
            (rc = intern_str_list(w, c->raw_synonyms, c->n_raw_synonyms, &o->raw)) ||
            (rc = intern_str_list(w, c->mapping_types, c->n_mapping_types, &o->mapping_types)))
            break;
        sets.n = 0;
        for (uint32_t k = 0; k < c->n_id_sets && !rc; k++) rc = vec_push(&sets, w->set_new[c->id_sets[k]]);
        if (rc) break;
        if (sets.n > 1) qsort(sets.v, sets.n, sizeof *sets.v, cmp_u32);
        size_t u = 0;
        for (size_t k = 0; k < sets.n; k++)
            if (!u || sets.v[u - 1] != sets.v[k]) sets.v[u++] = sets.v[k];
        rc = lists_intern(&w->lp, sets.v, u, &o->id_sets);
    }
    free(sets.v);
    free(ord);
    return rc;
}

static int build_resources(writer *w) {
    const kz_kb_model *m = w->m;
    uint64_t n = m->n_resources;
    wres *r = malloc((n ? n : 1) * sizeof *r);
    w->res = calloc(n ? n : 1, sizeof *w->res);
    if (!r || !w->res) {
        free(r);
        return KZ_ENOMEM;
    }
    for (uint64_t i = 0; i < n; i++) {
        const kz_kbm_resource *s = &m->resources[i];
        r[i] = (wres){prefix8(s->text),
                      s->text,
                      w->cand_new[s->candidate],
                      (uint8_t)((s->case_sensitive ? KZ_PACK_RES_CASE_SENSITIVE : 0) |
                                (s->generated ? KZ_PACK_RES_GENERATED : 0)),
                      (uint8_t)s->mention_confidence,
                      (uint8_t)s->behaviour};
    }
    qsort(r, n, sizeof *r, cmp_res);
    int rc = 0;
    for (uint64_t i = 0; i < n && !rc; i++) {
        if (i && cmp_res(&r[i - 1], &r[i]) == 0) continue;
        kz_pack_res *o = &w->res[w->n_res++];
        rc = pool_intern(&w->sp, r[i].text, &o->text);
        o->candidate = r[i].cand;
        o->flags = r[i].flags;
        o->mention_confidence = r[i].conf;
        o->behaviour = r[i].behaviour;
    }
    free(r);
    return rc;
}

static void key_insert(writer *w, uint64_t hash, kz_pack_key k) {
    size_t mask = w->key_cap - 1, i = hash & mask;
    while (w->keys[i].synonym_norm != KZ_PACK_NULL) i = (i + 1) & mask;
    w->keys[i] = k;
}

/* One key entry for the candidates w->tmp (ascending): inline when single. */
static int key_add(writer *w, kz_str norm, uint32_t norm_ref, uint32_t class_idx) {
    uint64_t h = kz__pack_hash64(norm.ptr, norm.len, 0);
    kz_pack_key e = {(uint32_t)(h >> 32), norm_ref, w->tmp.v[0], (uint16_t)class_idx, (uint16_t)w->tmp.n};
    if (w->tmp.n > 1) {
        int rc = lists_intern(&w->lp, w->tmp.v, w->tmp.n, &e.cands);
        if (rc) return rc;
    }
    key_insert(w, h, e);
    return 0;
}

/* Key index: one entry per (class, synonym_norm) with the candidates of every
 * parser of that class, plus an every-class entry for keys found in several
 * classes (so lookup_norm with no class still returns one contiguous list).
 * Inserted in sorted order, so the table is deterministic. Each entry holds at
 * most one candidate per parser, so n fits 16 bits. */
static int build_keys(writer *w) {
    const kz_kb_model *m = w->m;
    uint64_t n = m->n_candidates;
    wkey *k = malloc((n ? n : 1) * sizeof *k);
    wkey *kn = malloc((n ? n : 1) * sizeof *kn);
    if (!k || !kn) {
        free(k);
        free(kn);
        return KZ_ENOMEM;
    }
    for (uint64_t i = 0; i < n; i++) {
        const kz_pack_cand *c = &w->cands[i];
        kz_str norm = pool_str(&w->sp, c->synonym_norm);
        k[i] = (wkey){prefix8(norm), norm, w->pars[c->parser].class_idx, c->synonym_norm, (uint32_t)i};
    }
    memcpy(kn, k, n * sizeof *k);
    qsort(k, n, sizeof *k, cmp_key_class);
    qsort(kn, n, sizeof *kn, cmp_key_norm);
    /* count entries to size the table: load factor <= 3/4 */
    uint64_t n_class = 0, n_any = 0;
    for (uint64_t i = 0; i < n; i++)
        if (!i || k[i].class_idx != k[i - 1].class_idx || kz_str_cmp(k[i].norm, k[i - 1].norm)) n_class++;
    for (uint64_t i = 0, j; i < n; i = j) {
        bool multi = false;
        for (j = i + 1; j < n && kz_str_cmp(kn[j].norm, kn[i].norm) == 0; j++)
            if (kn[j].class_idx != kn[i].class_idx) multi = true;
        n_any += multi;
    }
    w->n_keys = n_class;
    uint64_t total = n_class + n_any;
    w->key_cap = pow2_at_least(total + total / 3 + 1);
    w->keys = malloc(w->key_cap * sizeof *w->keys);
    int rc = w->keys ? 0 : KZ_ENOMEM;
    for (uint64_t i = 0; i < w->key_cap && !rc; i++) w->keys[i] = (kz_pack_key){0, KZ_PACK_NULL, 0, 0, 0};
    for (uint64_t i = 0, j; i < n && !rc; i = j) {
        w->tmp.n = 0;
        for (j = i; j < n && k[j].class_idx == k[i].class_idx && kz_str_cmp(k[j].norm, k[i].norm) == 0 && !rc;
             j++)
            rc = vec_push(&w->tmp, k[j].cand);
        if (!rc) rc = key_add(w, k[i].norm, k[i].norm_sid, k[i].class_idx);
    }
    for (uint64_t i = 0, j; i < n && !rc; i = j) {
        bool multi = false;
        w->tmp.n = 0;
        for (j = i; j < n && kz_str_cmp(kn[j].norm, kn[i].norm) == 0 && !rc; j++) {
            multi |= kn[j].class_idx != kn[i].class_idx;
            rc = vec_push(&w->tmp, kn[j].cand);
        }
        if (multi && !rc) rc = key_add(w, kn[i].norm, kn[i].norm_sid, KZ_PACK_ANY_CLASS);
    }
    free(k);
    free(kn);
    return rc;
}

/* ---- output ---------------------------------------------------------------------- */
typedef struct outsec {
    uint32_t tag, aux;
    const void *data;
    uint64_t size, count;
} outsec;

static const uint8_t k_zeros[KZ_PACK_ALIGN];

static int write_all(FILE *f, kz_sha256 *h, const void *p, size_t n) {
    if (!n) return 0;
    if (h) kz__sha256_update(h, p, n);
    return fwrite(p, 1, n, f) == n ? 0 : KZ_EIO;
}

static int write_file(writer *w, const uint8_t input_hash[32], const kz_kb_ext_section *ext, size_t n_ext,
                      const char *path) {
    const kz_kb_model *m = w->m;
    outsec s[KZ_PACK_MAX_SECTIONS];
    size_t ns = 0;
    s[ns++] = (outsec){KZ_SEC_STRS, 0, w->sp.bytes.data, w->sp.bytes.len, w->sp.n};
    s[ns++] = (outsec){KZ_SEC_LIST, 0, w->lp.data.v, w->lp.data.n * 4, w->lp.data.n};
    s[ns++] = (outsec){KZ_SEC_CLAS, 0, w->classes.v, w->classes.n * 4, w->classes.n};
    s[ns++] = (outsec){KZ_SEC_PARS, 0, w->pars, (uint64_t)m->n_parsers * sizeof *w->pars, m->n_parsers};
    s[ns++] = (outsec){KZ_SEC_IDS, 0, w->ids, m->n_ids * sizeof *w->ids, m->n_ids};
    s[ns++] = (outsec){KZ_SEC_ISET, 0, w->isets, w->n_isets * 4, w->n_isets};
    s[ns++] = (outsec){KZ_SEC_CAND, 0, w->cands, m->n_candidates * sizeof *w->cands, m->n_candidates};
    s[ns++] = (outsec){KZ_SEC_RSRC, 0, w->res, w->n_res * sizeof *w->res, w->n_res};
    s[ns++] = (outsec){KZ_SEC_KEYS, (uint32_t)w->n_keys, w->keys, w->key_cap * sizeof *w->keys, w->key_cap};
    size_t n_core = ns;
    if (n_ext > KZ_PACK_MAX_SECTIONS - n_core)
        return kz_error_set(w->err, KZ_ELIMIT, "too many extension sections (%zu, at most %zu)", n_ext,
                            (size_t)(KZ_PACK_MAX_SECTIONS - n_core));
    for (size_t i = 0; i < n_ext; i++) {
        if (!ext[i].tag || (ext[i].len && !ext[i].data))
            return kz_error_set(w->err, KZ_EINVAL, "extension section %zu: zero tag or no data", i);
        for (size_t j = 0; j < ns; j++)
            if (s[j].tag == ext[i].tag)
                return kz_error_set(w->err, KZ_EINVAL, "extension section %zu: tag 0x%08x already used", i,
                                    ext[i].tag);
        s[ns++] = (outsec){ext[i].tag, 0, ext[i].data, ext[i].len, ext[i].len};
    }
    /* layout */
    kz_pack_section table[KZ_PACK_MAX_SECTIONS];
    memset(table, 0, sizeof table);
    uint64_t at = KZ_PACK_HEADER_BYTES + ns * sizeof(kz_pack_section);
    for (size_t i = 0; i < ns; i++) {
        at = (at + KZ_PACK_ALIGN - 1) & ~(uint64_t)(KZ_PACK_ALIGN - 1);
        table[i] = (kz_pack_section){s[i].tag, s[i].aux, at, s[i].size, s[i].count};
        at += s[i].size;
    }
    uint64_t file_bytes = at;

    kz_pack_header hd;
    memset(&hd, 0, sizeof hd);
    memcpy(hd.magic, KZ_PACK_MAGIC, 8);
    hd.version = KZ_KB_FORMAT_VERSION;
    hd.header_bytes = KZ_PACK_HEADER_BYTES;
    hd.file_bytes = file_bytes;
    hd.n_sections = (uint32_t)ns;
    hd.section_entry_bytes = sizeof(kz_pack_section);
    hd.table_offset = KZ_PACK_HEADER_BYTES;
    memcpy(hd.input_hash, input_hash, 32);
    if (m->name.ptr) memcpy(hd.name, m->name.ptr, m->name.len);
    snprintf(hd.built_by, sizeof hd.built_by, "kazu-c %s", KZ_VERSION_STRING);

    /* temp file beside the target, so rename is atomic on the same file system */
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) return KZ_ENOMEM;
    snprintf(tmp, plen + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return kz_error_set(w->err, KZ_EIO, "cannot create a temporary file beside %s: %s", path,
                            strerror(e));
    }
    FILE *f = fdopen(fd, "wb");
    kz_sha256 *h = kz__sha256_new();
    char *vbuf = NULL;
    int rc = 0;
    if (!f || !h) {
        rc = kz_error_set(w->err, !f ? KZ_EIO : KZ_ENOMEM, "cannot write %s", tmp);
        if (!f) close(fd);
        goto fail;
    }
    vbuf = malloc(1 << 20);
    if (vbuf) setvbuf(f, vbuf, _IOFBF, 1 << 20);
    rc = write_all(f, NULL, &hd, sizeof hd); /* placeholder, rewritten once the body hash is known */
    if (!rc) rc = write_all(f, h, table, ns * sizeof *table);
    uint64_t pos = KZ_PACK_HEADER_BYTES + ns * sizeof *table;
    for (size_t i = 0; i < ns && !rc; i++) {
        rc = write_all(f, h, k_zeros, table[i].offset - pos);
        if (!rc) rc = write_all(f, h, s[i].data, s[i].size);
        pos = table[i].offset + s[i].size;
    }
    kz__sha256_final(h, hd.body_hash);
    h = NULL;
    if (!rc) {
        uint8_t *img = malloc(KZ_PACK_HEADER_BYTES + ns * sizeof *table);
        if (!img) {
            rc = KZ_ENOMEM;
        } else {
            memcpy(img, &hd, sizeof hd);
            memcpy(img + KZ_PACK_HEADER_BYTES, table, ns * sizeof *table);
            hd.header_sum = kz__pack_header_sum(img, (uint32_t)ns);
            free(img);
        }
    }
    if (!rc && fflush(f) != 0) rc = KZ_EIO;
    if (!rc && pwrite(fd, &hd, sizeof hd, 0) != (ssize_t)sizeof hd) rc = KZ_EIO;
    if (!rc && fchmod(fd, 0644) != 0) rc = KZ_EIO;
    if (!rc && fsync(fd) != 0) rc = KZ_EIO;
    if (fclose(f) != 0 && !rc) rc = KZ_EIO;
    f = NULL;
    if (rc) {
        if (rc == KZ_EIO) kz_error_set(w->err, KZ_EIO, "write error on %s: %s", tmp, strerror(errno));
        goto fail;
    }
    if (rename(tmp, path) != 0) {
        rc = kz_error_set(w->err, KZ_EIO, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        goto fail;
    }
    /* make the rename itself durable */
    char *dir = strdup(path);
    if (dir) {
        int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(dir);
    }
    free(tmp);
    free(vbuf);
    return 0;
fail:
    if (h) kz__sha256_final(h, hd.body_hash);
    if (f) fclose(f);
    unlink(tmp);
    free(tmp);
    free(vbuf);
    return rc;
}

int kz__kb_pack_write(const kz_kb_model *m, const uint8_t input_hash[32], const kz_kb_ext_section *ext,
                      size_t n_ext, const char *path, kz_error *err) {
    if (!m || !input_hash || !path || (n_ext && !ext))
        return kz_error_set(err, KZ_EINVAL, "kb pack write: bad arguments");
    kz_error_clear(err);
    writer w;
    memset(&w, 0, sizeof w);
    w.m = m;
    w.err = err;
    kz__buf_init(&w.sp.bytes, 0);
    w.sp.err = w.lp.err = err;
    int rc = validate(&w);
    uint32_t ref0;
    if (!rc) rc = pool_intern(&w.sp, (kz_str){"", 0}, &ref0); /* the pool is never empty */
    if (!rc) rc = vec_push(&w.lp.data, 0);                    /* LIST[0]: the empty list */
    if (!rc) rc = build_parsers(&w);
    if (!rc) rc = build_ids(&w);
    if (!rc) rc = build_id_sets(&w);
    if (!rc) rc = build_candidates(&w);
    if (!rc) rc = build_resources(&w);
    if (!rc) rc = build_keys(&w);
    if (!rc) rc = write_file(&w, input_hash, ext, n_ext, path);
    if (rc && err && !err->code) kz_error_set(err, rc, "cannot write kb pack %s: %s", path, kz_strerror(rc));
    kz__buf_free(&w.sp.bytes);
    free(w.sp.slots);
    free(w.lp.data.v);
    free(w.lp.slots);
    free(w.tmp.v);
    free(w.classes.v);
    free(w.pars);
    free(w.ids);
    free(w.isets);
    free(w.cands);
    free(w.res);
    free(w.keys);
    free(w.set_new);
    free(w.cand_new);
    return rc;
}
