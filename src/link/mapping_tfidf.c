/* Kazu's TfIdfScorer for TfIdfDisambiguationStrategy: per parser, document
 * frequencies of word 1-2-grams + char 2-3-grams over every synonym norm,
 * built lazily on first use, plus an id -> candidates index (get_syns_for_id). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "mapping_int.h"

/* Features are hashed to 64 bits (FNV-1a + a finaliser); two features collide
 * with probability ~n^2/2^64, negligible for the few million of a parser. */
static uint64_t feat_hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    h ^= h >> 31;
    h *= 0x7fb5d329728ea185ull;
    h ^= h >> 27;
    h *= 0x81dadef4bc2dd44dull;
    h ^= h >> 33;
    return h ? h : 1;
}

size_t kz__tfidf_features(const char *s, size_t len, uint64_t *out, size_t cap) {
    size_t k = 0;
#define PUT(p, n)                                                                                            \
    do {                                                                                                     \
        if (k < cap) out[k] = feat_hash((p), (n));                                                           \
        k++;                                                                                                 \
    } while (0)
    /* word unigrams and bigrams: s.split(" ") (empty words included) */
    size_t prev_start = 0;
    bool have_prev = false;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == ' ') {
            PUT(s + start, i - start);
            start = i + 1;
        }
    }
    start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || s[i] == ' ') {
            if (have_prev) PUT(s + prev_start, i - prev_start);
            prev_start = start;
            have_prev = true;
            start = i + 1;
        }
    }
    /* char 2-grams then 3-grams over code points */
    for (int n = 2; n <= 3; n++) {
        size_t i = 0;
        while (i < len) {
            size_t j = i;
            int got = 0;
            while (j < len && got < n) {
                j++;
                while (j < len && ((unsigned char)s[j] & 0xC0) == 0x80) j++;
                got++;
            }
            if (got < n) break;
            PUT(s + i, j - i);
            i++;
            while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80) i++;
        }
    }
#undef PUT
    return k;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* ---- a uint64 -> uint32 open-addressing table ------------------------------- */
typedef struct u64map {
    uint64_t *keys;
    uint32_t *vals;
    size_t cap, n; /* cap: power of two */
} u64map;

static int u64map_grow(u64map *m) {
    size_t nc = m->cap ? m->cap * 2 : 1024;
    uint64_t *k = calloc(nc, sizeof *k);
    uint32_t *v = calloc(nc, sizeof *v);
    if (!k || !v) {
        free(k), free(v);
        return KZ_ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++)
        if (m->keys[i]) {
            size_t j = m->keys[i] & (nc - 1);
            while (k[j]) j = (j + 1) & (nc - 1);
            k[j] = m->keys[i];
            v[j] = m->vals[i];
        }
    free(m->keys), free(m->vals);
    m->keys = k, m->vals = v, m->cap = nc;
    return 0;
}

static uint32_t *u64map_slot(u64map *m, uint64_t key, bool insert) {
    if (insert && (m->n + 1) * 4 > m->cap * 3 && u64map_grow(m)) return NULL;
    if (!m->cap) return NULL;
    size_t j = key & (m->cap - 1);
    while (m->keys[j]) {
        if (m->keys[j] == key) return &m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    if (!insert) return NULL;
    m->keys[j] = key;
    m->vals[j] = 0;
    m->n++;
    return &m->vals[j];
}

static uint32_t u64map_get(const u64map *m, uint64_t key) {
    if (!m->cap) return 0;
    size_t j = key & (m->cap - 1);
    while (m->keys[j]) {
        if (m->keys[j] == key) return m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    return 0;
}

static void u64map_free(u64map *m) {
    free(m->keys), free(m->vals);
    memset(m, 0, sizeof *m);
}

/* ---- per-parser model ---------------------------------------------------------- */
enum { TF_UNBUILT = 0, TF_READY = 1, TF_NONE = 2 };

typedef struct tf_parser {
    pthread_mutex_t lock;
    int state; /* atomic */
    uint64_t n_syn, cand_lo;
    u64map df;
    uint64_t id_lo, n_ids;
    uint32_t *id_off;   /* n_ids + 1 */
    uint32_t *id_cands; /* candidate index - cand_lo */
} tf_parser;

struct kz__tfidf_model {
    const kz_kb *kb;
    uint64_t max_syn;
    uint32_t n_parsers;
    tf_parser *p;
};

kz__tfidf_model *kz__tfidf_model_new(const kz_kb *kb, uint64_t max_synonyms) {
    kz__tfidf_model *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    t->kb = kb;
    t->max_syn = max_synonyms;
    t->n_parsers = kz_kb_n_parsers(kb);
    t->p = calloc(t->n_parsers ? t->n_parsers : 1, sizeof *t->p);
    if (!t->p) {
        free(t);
        return NULL;
    }
    for (uint32_t i = 0; i < t->n_parsers; i++) pthread_mutex_init(&t->p[i].lock, NULL);
    return t;
}

void kz__tfidf_model_free(kz__tfidf_model *t) {
    if (!t) return;
    for (uint32_t i = 0; i < t->n_parsers; i++) {
        u64map_free(&t->p[i].df);
        free(t->p[i].id_off);
        free(t->p[i].id_cands);
        pthread_mutex_destroy(&t->p[i].lock);
    }
    free(t->p);
    free(t);
}

/* First candidate index whose parser is >= p. */
static uint64_t cand_lower(const kz_kb *kb, uint32_t p) {
    uint64_t lo = 0, hi = kz_kb_n_candidates(kb);
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (kz_kb_candidate_parser(kb, mid) < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static uint64_t id_lower(const kz_kb *kb, uint32_t p, kz_arena *a) {
    uint64_t lo = 0, hi = kz_kb_n_ids(kb);
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        kz_kb_id id;
        kz_arena_reset(a);
        if (kz_kb_id_at(kb, mid, a, &id) == 0 && id.parser < p)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

typedef struct pair32 {
    uint32_t id, cand;
} pair32;

static int cmp_pair(const void *a, const void *b) {
    const pair32 *x = a, *y = b;
    if (x->id != y->id) return x->id < y->id ? -1 : 1;
    return x->cand < y->cand ? -1 : x->cand > y->cand;
}

static int build_parser(kz__tfidf_model *t, uint32_t p, tf_parser *tp) {
    const kz_kb *kb = t->kb;
    uint64_t lo = cand_lower(kb, p), hi = cand_lower(kb, p + 1);
    tp->cand_lo = lo;
    tp->n_syn = hi - lo;
    if (tp->n_syn == 0 || tp->n_syn > t->max_syn || tp->n_syn > UINT32_MAX) {
        if (tp->n_syn > t->max_syn)
            kz_log(KZ_LOG_WARN,
                   "MappingStep: parser %u has %llu synonyms (> tfidf_max_synonyms %llu): "
                   "TfIdfDisambiguationStrategy is off for it",
                   p, (unsigned long long)tp->n_syn, (unsigned long long)t->max_syn);
        return TF_NONE;
    }
    kz_arena *a = kz_arena_new(0);
    if (!a) return -1;
    tp->id_lo = id_lower(kb, p, a);
    tp->n_ids = id_lower(kb, p + 1, a) - tp->id_lo;
    pair32 *pairs = NULL;
    size_t np = 0, cp = 0;
    uint64_t *feats = NULL;
    size_t cap_f = 0;
    int rc = 0;
    for (uint64_t i = lo; i < hi && !rc; i++) {
        kz_candidate c;
        kz_arena_reset(a);
        if (kz_kb_candidate_at(kb, i, a, &c)) continue;
        size_t need = kz__tfidf_features(c.synonym_norm.ptr, c.synonym_norm.len, feats, cap_f);
        if (need > cap_f) {
            uint64_t *nf = realloc(feats, need * sizeof *nf);
            if (!nf) {
                rc = -1;
                break;
            }
            feats = nf, cap_f = need;
            kz__tfidf_features(c.synonym_norm.ptr, c.synonym_norm.len, feats, cap_f);
        }
        qsort(feats, need, sizeof *feats, cmp_u64);
        for (size_t k = 0; k < need; k++) {
            if (k && feats[k] == feats[k - 1]) continue;
            uint32_t *v = u64map_slot(&tp->df, feats[k], true);
            if (!v) {
                rc = -1;
                break;
            }
            (*v)++;
        }
        for (uint32_t s = 0; s < c.n_id_sets && !rc; s++)
            for (uint32_t j = 0; j < c.id_sets[s].n_ids; j++) {
                int64_t g = kz_kb_id_find(kb, p, c.id_sets[s].ids[j].idx);
                if (g < 0 || (uint64_t)g < tp->id_lo || (uint64_t)g >= tp->id_lo + tp->n_ids) continue;
                if (np == cp) {
                    size_t nc = cp ? cp * 2 : 1024;
                    pair32 *npairs = realloc(pairs, nc * sizeof *npairs);
                    if (!npairs) {
                        rc = -1;
                        break;
                    }
                    pairs = npairs, cp = nc;
                }
                pairs[np++] = (pair32){(uint32_t)((uint64_t)g - tp->id_lo), (uint32_t)(i - lo)};
            }
    }
    free(feats);
    kz_arena_free(a);
    if (!rc && np) qsort(pairs, np, sizeof *pairs, cmp_pair);
    if (!rc) {
        tp->id_off = calloc(tp->n_ids + 1, sizeof *tp->id_off);
        tp->id_cands = malloc((np ? np : 1) * sizeof *tp->id_cands);
        if (!tp->id_off || !tp->id_cands) rc = -1;
    }
    if (!rc) {
        size_t w = 0;
        for (size_t k = 0; k < np; k++) {
            if (k && pairs[k].id == pairs[k - 1].id && pairs[k].cand == pairs[k - 1].cand) continue;
            tp->id_off[pairs[k].id + 1]++;
            tp->id_cands[w++] = pairs[k].cand;
        }
        for (uint64_t k = 0; k < tp->n_ids; k++) tp->id_off[k + 1] += tp->id_off[k];
    }
    free(pairs);
    if (rc) {
        u64map_free(&tp->df);
        free(tp->id_off), free(tp->id_cands);
        tp->id_off = NULL, tp->id_cands = NULL;
        return -1;
    }
    return TF_READY;
}

/* The model of parser p, built on first use; NULL when it has none. */
static tf_parser *get_parser(const kz__mapper *m, uint32_t p, int *rc) {
    kz__tfidf_model *t = m->tfidf;
    *rc = 0;
    if (!t || p >= t->n_parsers) {
        *rc = KZ_ENOTFOUND;
        return NULL;
    }
    tf_parser *tp = &t->p[p];
    int st = __atomic_load_n(&tp->state, __ATOMIC_ACQUIRE);
    if (st == TF_UNBUILT) {
        pthread_mutex_lock(&tp->lock);
        st = __atomic_load_n(&tp->state, __ATOMIC_ACQUIRE);
        if (st == TF_UNBUILT) {
            int r = build_parser(t, p, tp);
            if (r < 0) {
                pthread_mutex_unlock(&tp->lock);
                *rc = KZ_ENOMEM;
                return NULL;
            }
            st = r;
            __atomic_store_n(&tp->state, st, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&tp->lock);
    }
    if (st != TF_READY) {
        *rc = KZ_ENOTFOUND;
        return NULL;
    }
    return tp;
}

int kz__tfidf_syns_for_id(const kz__mapper *m, uint32_t parser, kz_str idx, uint32_t agg_mask,
                          kz_arena *scratch, kz_str **out, size_t *n_out, size_t *cap_out) {
    int rc;
    tf_parser *tp = get_parser(m, parser, &rc);
    if (!tp) return rc;
    int64_t g = kz_kb_id_find(m->kb, parser, idx);
    if (g < 0 || (uint64_t)g < tp->id_lo || (uint64_t)g >= tp->id_lo + tp->n_ids) return 0;
    uint64_t l = (uint64_t)g - tp->id_lo;
    for (uint32_t k = tp->id_off[l]; k < tp->id_off[l + 1]; k++) {
        kz_candidate c;
        if (kz_kb_candidate_at(m->kb, tp->cand_lo + tp->id_cands[k], scratch, &c)) continue;
        if (c.aggregated_by < 0 || c.aggregated_by >= 32 || !(agg_mask & (1u << c.aggregated_by))) continue;
        if (*n_out == *cap_out) {
            size_t nc = *cap_out ? *cap_out * 2 : 16;
            kz_str *no = realloc(*out, nc * sizeof *no);
            if (!no) return KZ_ENOMEM;
            *out = no, *cap_out = nc;
        }
        (*out)[(*n_out)++] = c.synonym_norm;
    }
    return 0;
}

/* ---- document side ---------------------------------------------------------------- */
#define TF_DOC_PARSER_CACHE 16
struct kz__tfidf_doc {
    u64map counts; /* feature -> count in the document string */
    uint32_t cached_parser[TF_DOC_PARSER_CACHE];
    double cached_norm[TF_DOC_PARSER_CACHE];
    uint32_t n_cached;
};

kz__tfidf_doc *kz__tfidf_doc_new(const kz_doc *doc) {
    kz__tfidf_doc *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    size_t len = 0;
    bool first = true;
    for (uint32_t s = 0; s < doc->n_sections; s++)
        for (uint32_t e = 0; e < doc->sections[s]->n_entities; e++) {
            len += doc->sections[s]->entities[e]->match_norm.len + (first ? 0 : 1);
            first = false;
        }
    char *buf = malloc(len + 1);
    uint64_t *feats = malloc((4 * len + 2) * sizeof *feats);
    if (!buf || !feats) goto oom;
    size_t w = 0;
    first = true;
    for (uint32_t s = 0; s < doc->n_sections; s++)
        for (uint32_t e = 0; e < doc->sections[s]->n_entities; e++) {
            kz_str mn = doc->sections[s]->entities[e]->match_norm;
            if (!first) buf[w++] = ' ';
            first = false;
            if (mn.len) memcpy(buf + w, mn.ptr, mn.len);
            w += mn.len;
        }
    size_t nf = kz__tfidf_features(buf, w, feats, 4 * len + 2);
    for (size_t k = 0; k < nf; k++) {
        uint32_t *v = u64map_slot(&d->counts, feats[k], true);
        if (!v) goto oom;
        (*v)++;
    }
    free(buf);
    free(feats);
    return d;
oom:
    free(buf);
    free(feats);
    kz__tfidf_doc_free(d);
    return NULL;
}

void kz__tfidf_doc_free(kz__tfidf_doc *d) {
    if (!d) return;
    u64map_free(&d->counts);
    free(d);
}

static double idf(const tf_parser *tp, uint32_t df) {
    return log((1.0 + (double)tp->n_syn) / (1.0 + df)) + 1.0;
}

static double doc_norm(kz__tfidf_doc *d, uint32_t p, const tf_parser *tp) {
    for (uint32_t i = 0; i < d->n_cached; i++)
        if (d->cached_parser[i] == p) return d->cached_norm[i];
    double s = 0;
    for (size_t i = 0; i < d->counts.cap; i++) {
        if (!d->counts.keys[i]) continue;
        uint32_t df = u64map_get(&tp->df, d->counts.keys[i]);
        if (!df) continue;
        double w = d->counts.vals[i] * idf(tp, df);
        s += w * w;
    }
    s = sqrt(s);
    if (d->n_cached < TF_DOC_PARSER_CACHE) {
        d->cached_parser[d->n_cached] = p;
        d->cached_norm[d->n_cached++] = s;
    }
    return s;
}

int kz__tfidf_score(const kz__mapper *m, kz__tfidf_doc *d, uint32_t parser, const kz_str *syns, size_t n,
                    double *scores) {
    int rc;
    tf_parser *tp = get_parser(m, parser, &rc);
    if (!tp) return rc;
    if (n == 1) {
        scores[0] = 100.0;
        return 0;
    }
    double dn = doc_norm(d, parser, tp);
    uint64_t *feats = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < n; i++) {
        size_t need = kz__tfidf_features(syns[i].ptr, syns[i].len, feats, cap);
        if (need > cap) {
            uint64_t *nf = realloc(feats, need * sizeof *nf);
            if (!nf) {
                free(feats);
                return KZ_ENOMEM;
            }
            feats = nf, cap = need;
            kz__tfidf_features(syns[i].ptr, syns[i].len, feats, cap);
        }
        qsort(feats, need, sizeof *feats, cmp_u64);
        double qn = 0, dot = 0;
        for (size_t k = 0; k < need;) {
            size_t e = k + 1;
            while (e < need && feats[e] == feats[k]) e++;
            uint32_t df = u64map_get(&tp->df, feats[k]);
            if (df) {
                double f_idf = idf(tp, df);
                double w = (double)(e - k) * f_idf;
                qn += w * w;
                uint32_t dc = u64map_get(&d->counts, feats[k]);
                if (dc) dot += w * (double)dc * f_idf;
            }
            k = e;
        }
        scores[i] = (qn > 0 && dn > 0) ? dot / (sqrt(qn) * dn) : 0.0;
    }
    free(feats);
    return 0;
}
