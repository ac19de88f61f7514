/* Char-bigram TF-IDF index with Kazu's DictionaryIndex scores (sklearn
 * TfidfVectorizer: raw tf, smooth idf, l2 rows, cosine) and an exact pruned
 * top-k: term-at-a-time over the heaviest query terms, Cauchy-Schwarz bounds
 * for the rest, exact rescoring from a forward index. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kazu/utf8.h"
#include "tfidf_int.h"

/* ---- blob layout (little-endian, offsets from the blob start) ---------------- */
typedef struct tf_header {
    char magic[8];
    uint32_t version;
    uint32_t n_indexes;
    uint64_t total_bytes;
    uint64_t reserved[5];
} tf_header;

typedef struct tf_entry {
    uint32_t parser, n_docs, n_terms, reserved0;
    uint64_t first_candidate;
    uint64_t n_postings, n_forward;
    uint64_t off_keys;      /* u64[n_terms]: bigram (cp1 << 32 | cp2), strictly ascending */
    uint64_t off_terms;     /* tf_term[n_terms + 1] (last: sentinel, post_start = n_postings) */
    uint64_t off_postings;  /* u32[n_postings]: doc | tf << 27 */
    uint64_t off_fwd_start; /* u32[n_docs + 1] */
    uint64_t off_fwd;       /* u32[n_forward]: term | tf << 22, ascending term */
    uint64_t off_invnorm;   /* float[n_docs]: 1 / ||doc|| rounded up (0 for empty documents), descending */
    uint64_t off_perm;      /* u32[n_docs]: internal document -> document (candidate - first) */
    uint64_t reserved[4];
} tf_entry;

typedef struct tf_term {
    uint64_t post_start;
    double idf;
    float maxw;     /* max normalised weight of the term in any document (rounded up) */
    uint32_t maxtf; /* max tf of the term in any document */
} tf_term;

_Static_assert(sizeof(tf_header) == 64, "header layout");
_Static_assert(sizeof(tf_entry) == 128, "entry layout");
_Static_assert(sizeof(tf_term) == 24, "term layout");

#define ALIGN64(x) (((x) + 63u) & ~(uint64_t)63u)
/* Slack added to every upper bound: covers float rounding of stored weights. */
#define BOUND_EPS 1e-5

typedef struct tf_index {
    const tf_entry *e;
    const uint64_t *keys;
    const tf_term *terms;
    const uint32_t *postings;
    const uint32_t *fwd_start;
    const uint32_t *fwd;
    const float *invnorm;
    const uint32_t *perm;
} tf_index;

struct kz_tfidf {
    uint32_t n;
    uint32_t max_docs;
    tf_index *idx;
};

/* ---- bigrams --------------------------------------------------------------- */

/* Bigram keys of s (Kazu's create_char_ngrams(s, 2) over code points). *keys is
 * grown as needed; returns the count or -1 on OOM. */
static int64_t bigrams(const char *s, size_t len, uint64_t **keys, size_t *cap) {
    size_t n = 0;
    int64_t prev = -1;
    for (size_t i = 0; i < len;) {
        int32_t c = kz_utf8_decode(s, len, &i);
        if (c < 0) c = 0xFFFD;
        if (prev >= 0) {
            if (n == *cap) {
                size_t nc = *cap ? *cap * 2 : 64;
                uint64_t *k = realloc(*keys, nc * sizeof *k);
                if (!k) return -1;
                *keys = k;
                *cap = nc;
            }
            (*keys)[n++] = (uint64_t)prev << 32 | (uint32_t)c;
        }
        prev = c;
    }
    return (int64_t)n;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}
static int cmp_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static int64_t key_find(const uint64_t *keys, uint32_t n, uint64_t key) {
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (keys[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && keys[lo] == key ? (int64_t)lo : -1;
}

static double idf_of(uint32_t n_docs, uint32_t df) { return log((1.0 + n_docs) / (1.0 + df)) + 1.0; }

/* ---- builder --------------------------------------------------------------- */

typedef struct built {
    tf_entry e;
    uint64_t *keys;
    tf_term *terms;
    uint32_t *postings, *fwd_start, *fwd;
    float *invnorm;
    uint32_t *perm;
} built;

static void built_free(built *b) {
    free(b->keys);
    free(b->terms);
    free(b->postings);
    free(b->fwd_start);
    free(b->fwd);
    free(b->invnorm);
    free(b->perm);
}

static float float_up(double v) {
    float f = (float)v;
    if ((double)f < v) f = nextafterf(f, INFINITY);
    return f;
}

/* qsort has no context argument; the build is single-threaded per call but
 * callers may build in parallel, so the norms pointer is thread-local. */
static _Thread_local const double *g_sort_norms;
static int cmp_by_norm(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    double nx = g_sort_norms[x], ny = g_sort_norms[y];
    if (nx != ny) return nx < ny ? -1 : 1;
    return (x > y) - (x < y);
}

static int build_one(const kz_tfidf_input *in, built *b, kz_error *err) {
    memset(b, 0, sizeof *b);
    uint32_t nd = in->n_docs;
    if (nd >= KZ_TFIDF_MAX_DOCS)
        return kz_error_set(err, KZ_ELIMIT, "tfidf: parser %u has %u documents (limit %u)", in->parser, nd,
                            KZ_TFIDF_MAX_DOCS - 1);
    int rc = KZ_ENOMEM;
    uint64_t *all = NULL, *tmp = NULL;
    size_t n_all = 0, cap_all = 0, tcap = 0;
    uint32_t *doc_off = malloc(((size_t)nd + 1) * sizeof *doc_off);
    uint32_t *tids = NULL, *df = NULL;
    if (!doc_off) goto done;
    /* 1. every document's bigram keys, concatenated */
    for (uint32_t d = 0; d < nd; d++) {
        doc_off[d] = (uint32_t)n_all;
        int64_t k = bigrams(in->docs[d].ptr, in->docs[d].ptr ? in->docs[d].len : 0, &tmp, &tcap);
        if (k < 0) goto done;
        if (n_all + (size_t)k >= UINT32_MAX) {
            rc = kz_error_set(err, KZ_ELIMIT, "tfidf: parser %u has too many bigrams", in->parser);
            goto done;
        }
        if (n_all + (size_t)k > cap_all) {
            size_t nc = cap_all ? cap_all : 1024;
            while (nc < n_all + (size_t)k) nc *= 2;
            uint64_t *a = realloc(all, nc * sizeof *a);
            if (!a) goto done;
            all = a;
            cap_all = nc;
        }
        if (k) memcpy(all + n_all, tmp, (size_t)k * sizeof *tmp);
        n_all += (size_t)k;
    }
    doc_off[nd] = (uint32_t)n_all;
    /* 2. vocabulary: sorted distinct keys */
    uint64_t *vocab = malloc((n_all ? n_all : 1) * sizeof *vocab);
    if (!vocab) goto done;
    if (n_all) memcpy(vocab, all, n_all * sizeof *vocab);
    qsort(vocab, n_all, sizeof *vocab, cmp_u64);
    size_t nt = 0;
    for (size_t i = 0; i < n_all; i++)
        if (nt == 0 || vocab[nt - 1] != vocab[i]) vocab[nt++] = vocab[i];
    b->keys = vocab;
    if (nt >= KZ_TFIDF_MAX_TERMS) {
        rc = kz_error_set(err, KZ_ELIMIT, "tfidf: parser %u has %zu distinct bigrams (limit %u)", in->parser,
                          nt, KZ_TFIDF_MAX_TERMS - 1);
        goto done;
    }
    /* 3. term ids per document, sorted; document frequencies */
    tids = malloc((n_all ? n_all : 1) * sizeof *tids);
    df = calloc(nt + 1, sizeof *df);
    b->fwd_start = malloc(((size_t)nd + 1) * sizeof *b->fwd_start);
    b->invnorm = malloc((nd ? nd : 1) * sizeof *b->invnorm);
    b->terms = calloc(nt + 1, sizeof *b->terms);
    if (!tids || !df || !b->fwd_start || !b->invnorm || !b->terms) goto done;
    uint64_t n_fwd = 0, n_post = 0;
    for (uint32_t d = 0; d < nd; d++) {
        uint32_t a = doc_off[d], e = doc_off[d + 1];
        for (uint32_t i = a; i < e; i++) tids[i] = (uint32_t)key_find(vocab, (uint32_t)nt, all[i]);
        qsort(tids + a, e - a, sizeof *tids, cmp_u32);
        for (uint32_t i = a; i < e;) {
            uint32_t j = i;
            while (j < e && tids[j] == tids[i]) j++;
            uint32_t tf = j - i;
            df[tids[i]]++;
            n_fwd += (tf + KZ_TFIDF_FWD_TF_MAX - 1) / KZ_TFIDF_FWD_TF_MAX;
            n_post += (tf + KZ_TFIDF_POST_TF_MAX - 1) / KZ_TFIDF_POST_TF_MAX;
            i = j;
        }
    }
    free(all);
    all = NULL;
    if (n_fwd >= UINT32_MAX) {
        rc = kz_error_set(err, KZ_ELIMIT, "tfidf: parser %u has too many forward entries", in->parser);
        goto done;
    }
    for (size_t t = 0; t < nt; t++) b->terms[t].idf = idf_of(nd, df[t]);
    /* postings start per term: counting pass */
    b->fwd = malloc((n_fwd ? n_fwd : 1) * sizeof *b->fwd);
    b->postings = malloc((n_post ? n_post : 1) * sizeof *b->postings);
    if (!b->fwd || !b->postings) goto done;
    memset(df, 0, (nt + 1) * sizeof *df); /* reused: postings entries per term */
    for (uint32_t d = 0; d < nd; d++)
        for (uint32_t i = doc_off[d], e = doc_off[d + 1]; i < e;) {
            uint32_t j = i;
            while (j < e && tids[j] == tids[i]) j++;
            df[tids[i]] += (j - i + KZ_TFIDF_POST_TF_MAX - 1) / KZ_TFIDF_POST_TF_MAX;
            i = j;
        }
    uint64_t acc = 0;
    for (size_t t = 0; t < nt; t++) {
        b->terms[t].post_start = acc;
        acc += df[t];
        df[t] = 0; /* fill cursor */
    }
    b->terms[nt].post_start = acc;
    /* 4. norms; internal order = norm ascending (invnorm descending), then document */
    double *dn = malloc((nd ? nd : 1) * sizeof *dn);
    b->perm = malloc((nd ? nd : 1) * sizeof *b->perm);
    if (!dn || !b->perm) {
        free(dn);
        goto done;
    }
    for (uint32_t d = 0; d < nd; d++) {
        uint32_t a = doc_off[d], e = doc_off[d + 1];
        double ss = 0;
        for (uint32_t i = a; i < e;) {
            uint32_t j = i;
            while (j < e && tids[j] == tids[i]) j++;
            double x = (double)(j - i) * b->terms[tids[i]].idf;
            ss += x * x;
            i = j;
        }
        dn[d] = sqrt(ss);
        b->perm[d] = d;
    }
    g_sort_norms = dn;
    qsort(b->perm, nd, sizeof *b->perm, cmp_by_norm);
    /* 5. forward entries, postings (internal ids ascending), max weights */
    uint64_t f = 0;
    for (uint32_t in_d = 0; in_d < nd; in_d++) {
        uint32_t d = b->perm[in_d];
        b->fwd_start[in_d] = (uint32_t)f;
        uint32_t a = doc_off[d], e = doc_off[d + 1];
        b->invnorm[in_d] = dn[d] > 0 ? float_up(1.0 / dn[d]) : 0.0f;
        for (uint32_t i = a; i < e;) {
            uint32_t t = tids[i], j = i;
            while (j < e && tids[j] == t) j++;
            uint32_t tf = j - i;
            float up = float_up((double)tf * b->terms[t].idf / dn[d]);
            if (up > b->terms[t].maxw) b->terms[t].maxw = up;
            if (tf > b->terms[t].maxtf) b->terms[t].maxtf = tf;
            for (uint32_t r = tf; r > 0;) {
                uint32_t part = r > KZ_TFIDF_FWD_TF_MAX ? KZ_TFIDF_FWD_TF_MAX : r;
                b->fwd[f++] = t | part << 22;
                r -= part;
            }
            for (uint32_t r = tf; r > 0;) {
                uint32_t part = r > KZ_TFIDF_POST_TF_MAX ? KZ_TFIDF_POST_TF_MAX : r;
                b->postings[b->terms[t].post_start + df[t]++] = in_d | part << 27;
                r -= part;
            }
            i = j;
        }
    }
    free(dn);
    b->fwd_start[nd] = (uint32_t)f;
    b->e.parser = in->parser;
    b->e.n_docs = nd;
    b->e.n_terms = (uint32_t)nt;
    b->e.first_candidate = in->first_candidate;
    b->e.n_postings = n_post;
    b->e.n_forward = n_fwd;
    rc = 0;
done:
    if (rc == KZ_ENOMEM) kz_error_set(err, KZ_ENOMEM, "tfidf: out of memory");
    free(all);
    free(tmp);
    free(doc_off);
    free(tids);
    free(df);
    if (rc) built_free(b);
    return rc;
}

int kz__tfidf_blob_build(const kz_tfidf_input *in, uint32_t n, void **blob, size_t *len, kz_error *err) {
    *blob = NULL;
    *len = 0;
    built *b = calloc(n ? n : 1, sizeof *b);
    if (!b) return kz_error_set(err, KZ_ENOMEM, "tfidf: out of memory");
    int rc = 0;
    uint32_t done = 0;
    for (; done < n; done++)
        if ((rc = build_one(&in[done], &b[done], err))) break;
    uint64_t off = ALIGN64(sizeof(tf_header) + (uint64_t)n * sizeof(tf_entry));
    if (rc == 0) {
        for (uint32_t i = 0; i < n; i++) {
            tf_entry *e = &b[i].e;
            e->off_keys = off;
            off = ALIGN64(off + (uint64_t)e->n_terms * 8);
            e->off_terms = off;
            off = ALIGN64(off + ((uint64_t)e->n_terms + 1) * sizeof(tf_term));
            e->off_postings = off;
            off = ALIGN64(off + e->n_postings * 4);
            e->off_fwd_start = off;
            off = ALIGN64(off + ((uint64_t)e->n_docs + 1) * 4);
            e->off_fwd = off;
            off = ALIGN64(off + e->n_forward * 4);
            e->off_invnorm = off;
            off = ALIGN64(off + (uint64_t)e->n_docs * 4);
            e->off_perm = off;
            off = ALIGN64(off + (uint64_t)e->n_docs * 4);
        }
        uint8_t *out = calloc(1, off);
        if (!out) {
            rc = kz_error_set(err, KZ_ENOMEM, "tfidf: out of memory (%llu-byte index)",
                              (unsigned long long)off);
        } else {
            tf_header h = {0};
            memcpy(h.magic, KZ_TFIDF_MAGIC, 8);
            h.version = KZ_TFIDF_VERSION;
            h.n_indexes = n;
            h.total_bytes = off;
            memcpy(out, &h, sizeof h);
            for (uint32_t i = 0; i < n; i++) {
                tf_entry *e = &b[i].e;
                memcpy(out + sizeof h + (size_t)i * sizeof *e, e, sizeof *e);
                memcpy(out + e->off_keys, b[i].keys, (size_t)e->n_terms * 8);
                memcpy(out + e->off_terms, b[i].terms, ((size_t)e->n_terms + 1) * sizeof(tf_term));
                memcpy(out + e->off_postings, b[i].postings, e->n_postings * 4);
                memcpy(out + e->off_fwd_start, b[i].fwd_start, ((size_t)e->n_docs + 1) * 4);
                memcpy(out + e->off_fwd, b[i].fwd, e->n_forward * 4);
                memcpy(out + e->off_invnorm, b[i].invnorm, (size_t)e->n_docs * 4);
                memcpy(out + e->off_perm, b[i].perm, (size_t)e->n_docs * 4);
            }
            *blob = out;
            *len = off;
        }
    }
    for (uint32_t i = 0; i < (rc ? done : n); i++) built_free(&b[i]);
    free(b);
    return rc;
}

/* ---- open ------------------------------------------------------------------ */

static bool range_ok(uint64_t off, uint64_t count, uint64_t size, size_t len, uint64_t align) {
    if (off % align) return false;
    if (count > (UINT64_MAX / 2) / size) return false;
    return off <= len && count * size <= len - off;
}

int kz__tfidf_open(const void *blob, size_t len, kz_tfidf **out, kz_error *err) {
    *out = NULL;
    if (!blob || ((uintptr_t)blob % 8) != 0)
        return kz_error_set(err, KZ_EINVAL, "tfidf: index blob missing or not 8-byte aligned");
    const uint8_t *p = blob;
    tf_header h;
    if (len < sizeof h) return kz_error_set(err, KZ_EPARSE, "tfidf: index truncated (%zu bytes)", len);
    memcpy(&h, p, sizeof h);
    if (memcmp(h.magic, KZ_TFIDF_MAGIC, 8) != 0)
        return kz_error_set(err, KZ_EFORMAT, "tfidf: not a KZTF index");
    if (h.version != KZ_TFIDF_VERSION)
        return kz_error_set(err, KZ_EFORMAT, "tfidf: index version %u (this build reads %u)", h.version,
                            KZ_TFIDF_VERSION);
    if (h.total_bytes > len || h.n_indexes > 0xFFFEu ||
        !range_ok(sizeof h, h.n_indexes, sizeof(tf_entry), len, 8))
        return kz_error_set(err, KZ_EPARSE,
                            "tfidf: index header out of range (%u indexes, %llu bytes, have %zu)",
                            h.n_indexes, (unsigned long long)h.total_bytes, len);
    kz_tfidf *ix = calloc(1, sizeof *ix);
    tf_index *idx = calloc(h.n_indexes ? h.n_indexes : 1, sizeof *idx);
    if (!ix || !idx) {
        free(ix);
        free(idx);
        return kz_error_set(err, KZ_ENOMEM, "tfidf: out of memory");
    }
    ix->n = h.n_indexes;
    ix->idx = idx;
    int rc = 0;
    for (uint32_t i = 0; i < h.n_indexes && rc == 0; i++) {
        const tf_entry *e = (const tf_entry *)(p + sizeof h + (size_t)i * sizeof *e);
        tf_index *x = &idx[i];
        x->e = e;
        if (e->n_docs >= KZ_TFIDF_MAX_DOCS || e->n_terms >= KZ_TFIDF_MAX_TERMS ||
            !range_ok(e->off_keys, e->n_terms, 8, len, 8) ||
            !range_ok(e->off_terms, (uint64_t)e->n_terms + 1, sizeof(tf_term), len, 8) ||
            !range_ok(e->off_postings, e->n_postings, 4, len, 4) ||
            !range_ok(e->off_fwd_start, (uint64_t)e->n_docs + 1, 4, len, 4) ||
            !range_ok(e->off_fwd, e->n_forward, 4, len, 4) ||
            !range_ok(e->off_invnorm, e->n_docs, 4, len, 4) || !range_ok(e->off_perm, e->n_docs, 4, len, 4)) {
            rc = kz_error_set(err, KZ_EPARSE, "tfidf: index %u: array out of range", i);
            break;
        }
        x->keys = (const uint64_t *)(p + e->off_keys);
        x->terms = (const tf_term *)(p + e->off_terms);
        x->postings = (const uint32_t *)(p + e->off_postings);
        x->fwd_start = (const uint32_t *)(p + e->off_fwd_start);
        x->fwd = (const uint32_t *)(p + e->off_fwd);
        x->invnorm = (const float *)(p + e->off_invnorm);
        x->perm = (const uint32_t *)(p + e->off_perm);
        for (uint32_t t = 0; t <= e->n_terms; t++) {
            const tf_term *tt = &x->terms[t];
            uint64_t next = t < e->n_terms ? x->terms[t + 1].post_start : e->n_postings;
            bool ok = tt->post_start <= next && next <= e->n_postings;
            if (t < e->n_terms)
                ok = ok && (t == 0 || x->keys[t - 1] < x->keys[t]) && isfinite(tt->idf) && tt->idf > 0 &&
                     tt->idf < 1e6 && isfinite(tt->maxw) && tt->maxw >= 0 && tt->maxw <= 1.001f;
            else
                ok = ok && tt->post_start == e->n_postings;
            if (!ok) {
                rc = kz_error_set(err, KZ_EPARSE, "tfidf: index %u: term %u is corrupt", i, t);
                break;
            }
        }
        if (e->n_docs > ix->max_docs) ix->max_docs = e->n_docs;
    }
    if (rc) {
        kz__tfidf_close(ix);
        return rc;
    }
    *out = ix;
    return 0;
}

void kz__tfidf_close(kz_tfidf *ix) {
    if (!ix) return;
    free(ix->idx);
    free(ix);
}

uint32_t kz__tfidf_n_indexes(const kz_tfidf *ix) { return ix ? ix->n : 0; }

int32_t kz__tfidf_find_parser(const kz_tfidf *ix, uint32_t parser) {
    for (uint32_t i = 0; ix && i < ix->n; i++)
        if (ix->idx[i].e->parser == parser) return (int32_t)i;
    return -1;
}

int kz__tfidf_index_info(const kz_tfidf *ix, uint32_t slot, kz_tfidf_index_info *out) {
    if (!ix || slot >= ix->n) return KZ_ERANGE;
    const tf_entry *e = ix->idx[slot].e;
    out->parser = e->parser;
    out->n_docs = e->n_docs;
    out->n_terms = e->n_terms;
    out->first_candidate = e->first_candidate;
    out->n_postings = e->n_postings;
    out->n_forward = e->n_forward;
    return 0;
}

/* ---- search ---------------------------------------------------------------- */

typedef struct cand {
    float bound;
    uint32_t doc;
} cand;

typedef struct doc_acc {
    float acc, acc2; /* partial score and partial squared weight (bounds only) */
    uint32_t mark;   /* == epoch: touched by this query */
    uint32_t scored; /* == epoch: exact score already offered to the heap */
} doc_acc;

struct kz_tfidf_scratch {
    doc_acc *docs;
    uint64_t *bits; /* touched documents of the current query (cleared after it) */
    uint32_t cap_docs, epoch;
    uint32_t *touched;
    uint32_t n_touched, cap_touched;
    cand *cand;
    uint64_t *keys;
    size_t cap_keys;
    uint32_t *qt, *order;
    double *qv, *rem_ub, *rem_sq, *rem_r;
    size_t cap_q;
    kz_tfidf_hit *heap;
    uint32_t n_heap;
    kz_tfidf_stats stats;
    double q_norm; /* ||q|| before normalisation */
    uint32_t q_maxtf;
};

kz_tfidf_scratch *kz__tfidf_scratch_new(void) { return calloc(1, sizeof(kz_tfidf_scratch)); }

void kz__tfidf_scratch_free(kz_tfidf_scratch *s) {
    if (!s) return;
    free(s->docs);
    free(s->bits);
    free(s->touched);
    free(s->cand);
    free(s->keys);
    free(s->qt);
    free(s->order);
    free(s->qv);
    free(s->rem_ub);
    free(s->rem_sq);
    free(s->rem_r);
    free(s->heap);
    free(s);
}

void kz__tfidf_last_stats(const kz_tfidf_scratch *s, kz_tfidf_stats *out) { *out = s->stats; }

static int scratch_docs(kz_tfidf_scratch *s, uint32_t n) {
    if (n <= s->cap_docs) return 0;
    doc_acc *d = calloc(n, sizeof *d);
    uint32_t *t = malloc((size_t)n * sizeof *t);
    uint64_t *bits = calloc(((size_t)n + 63) / 64, sizeof *bits);
    cand *c = malloc((size_t)n * sizeof *c);
    if (!d || !t || !bits || !c) {
        free(d);
        free(t);
        free(bits);
        free(c);
        return KZ_ENOMEM;
    }
    free(s->docs);
    free(s->touched);
    free(s->bits);
    free(s->cand);
    s->cand = c;
    s->bits = bits;
    s->docs = d;
    s->touched = t;
    s->cap_docs = s->cap_touched = n;
    s->epoch = 0;
    return 0;
}

static int scratch_q(kz_tfidf_scratch *s, size_t n) {
    if (n <= s->cap_q) return 0;
    size_t c = n < 64 ? 64 : n;
    uint32_t *qt = realloc(s->qt, c * sizeof *qt);
    if (qt) s->qt = qt;
    uint32_t *order = realloc(s->order, c * sizeof *order);
    if (order) s->order = order;
    double *qv = realloc(s->qv, c * sizeof *qv);
    if (qv) s->qv = qv;
    double *ru = realloc(s->rem_ub, (c + 1) * sizeof *ru);
    if (ru) s->rem_ub = ru;
    double *rs = realloc(s->rem_sq, (c + 1) * sizeof *rs);
    if (rs) s->rem_sq = rs;
    double *rr = realloc(s->rem_r, (c + 1) * sizeof *rr);
    if (rr) s->rem_r = rr;
    if (!qt || !order || !qv || !ru || !rs || !rr) return KZ_ENOMEM;
    s->cap_q = c;
    return 0;
}

/* The query vector: known terms ascending with their l2-normalised weights
 * (tf * idf / ||q||, sklearn's transform). Returns the term count or < 0. */
static int64_t query_vector(const tf_index *x, const char *q, size_t qlen, kz_tfidf_scratch *s) {
    int64_t nk = bigrams(q, q ? qlen : 0, &s->keys, &s->cap_keys);
    if (nk < 0) return KZ_ENOMEM;
    if (scratch_q(s, (size_t)nk + 1)) return KZ_ENOMEM;
    size_t m = 0;
    for (int64_t i = 0; i < nk; i++) {
        int64_t t = key_find(x->keys, x->e->n_terms, s->keys[i]);
        if (t >= 0) s->qt[m++] = (uint32_t)t;
    }
    qsort(s->qt, m, sizeof *s->qt, cmp_u32);
    size_t nq = 0;
    s->q_maxtf = 0;
    for (size_t i = 0; i < m;) {
        size_t j = i;
        while (j < m && s->qt[j] == s->qt[i]) j++;
        if (j - i > s->q_maxtf) s->q_maxtf = (uint32_t)(j - i);
        s->qt[nq] = s->qt[i];
        s->qv[nq] = (double)(j - i) * x->terms[s->qt[i]].idf;
        nq++;
        i = j;
    }
    double ss = 0;
    for (size_t i = 0; i < nq; i++) ss += s->qv[i] * s->qv[i];
    double qn = sqrt(ss);
    for (size_t i = 0; i < nq; i++) s->qv[i] = s->qv[i] / qn;
    s->q_norm = qn;
    return (int64_t)nq;
}

/* Exact score of document d (the canonical formula every caller shares):
 * dn = sqrt(sum over d's terms ascending of (tf*idf)^2), then the sum over
 * shared terms ascending of qv * (tf*idf / dn). */
static double exact_score(const tf_index *x, uint32_t d, const uint32_t *qt, const double *qv, uint32_t nq) {
    uint32_t a = x->fwd_start[d], b = x->fwd_start[d + 1];
    if (a > b || b > x->e->n_forward) return 0;
    double ss = 0;
    double mw[64];
    uint32_t mj[64], nm = 0;
    uint32_t j = 0;
    double dot_part = 0;
    bool overflow = false;
    for (uint32_t i = a; i < b;) {
        uint32_t t = x->fwd[i] & (KZ_TFIDF_MAX_TERMS - 1);
        uint32_t tf = 0;
        while (i < b && (x->fwd[i] & (KZ_TFIDF_MAX_TERMS - 1)) == t) tf += x->fwd[i++] >> 22;
        if (t >= x->e->n_terms) continue;
        double wt = (double)tf * x->terms[t].idf;
        ss += wt * wt;
        while (j < nq && qt[j] < t) j++;
        if (j < nq && qt[j] == t) {
            if (nm < 64) {
                mw[nm] = wt;
                mj[nm++] = j;
            } else {
                overflow = true;
            }
        }
    }
    double dn = sqrt(ss);
    if (!(dn > 0)) return 0;
    if (!overflow) {
        for (uint32_t m = 0; m < nm; m++) dot_part += qv[mj[m]] * (mw[m] / dn);
        return dot_part;
    }
    /* rare: more than 64 shared terms; second pass in the same order */
    j = 0;
    for (uint32_t i = a; i < b;) {
        uint32_t t = x->fwd[i] & (KZ_TFIDF_MAX_TERMS - 1);
        uint32_t tf = 0;
        while (i < b && (x->fwd[i] & (KZ_TFIDF_MAX_TERMS - 1)) == t) tf += x->fwd[i++] >> 22;
        if (t >= x->e->n_terms) continue;
        while (j < nq && qt[j] < t) j++;
        if (j < nq && qt[j] == t) dot_part += qv[j] * (((double)tf * x->terms[t].idf) / dn);
    }
    return dot_part;
}

/* Heap of the k best: root = worst (lowest score, then highest doc). */
static bool worse(const kz_tfidf_hit *a, const kz_tfidf_hit *b) {
    return a->score < b->score || (a->score == b->score && a->doc > b->doc);
}

/* doc: the external document id (ties rank by it). */
static void heap_offer(kz_tfidf_scratch *s, uint32_t k, uint32_t doc, double score) {
    if (!(score > 0)) return;
    kz_tfidf_hit h = {doc, score};
    kz_tfidf_hit *v = s->heap;
    uint32_t i;
    if (s->n_heap < k) {
        i = s->n_heap++;
        while (i > 0) {
            uint32_t p = (i - 1) / 2;
            if (!worse(&h, &v[p])) break;
            v[i] = v[p];
            i = p;
        }
        v[i] = h;
        return;
    }
    if (!worse(&v[0], &h)) return;
    i = 0;
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        const kz_tfidf_hit *cur = &h;
        if (l < k && worse(&v[l], cur)) m = l, cur = &v[l];
        if (r < k && worse(&v[r], cur)) m = r;
        if (m == i) break;
        v[i] = v[m];
        i = m;
    }
    v[i] = h;
}

static int cmp_hit(const void *a, const void *b) {
    const kz_tfidf_hit *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->doc > y->doc) - (x->doc < y->doc);
}

static int search_setup(const kz_tfidf *ix, uint32_t slot, uint32_t k, kz_tfidf_scratch *s, uint32_t *n_out,
                        kz_error *err) {
    *n_out = 0;
    if (!ix || !s || slot >= ix->n) return kz_error_set(err, KZ_EINVAL, "tfidf: no index %u", slot);
    if (k > KZ_TFIDF_MAX_K)
        return kz_error_set(err, KZ_EINVAL, "tfidf: top-k %u exceeds %u", k, KZ_TFIDF_MAX_K);
    if (!s->heap) {
        s->heap = malloc(KZ_TFIDF_MAX_K * sizeof *s->heap);
        if (!s->heap) return kz_error_set(err, KZ_ENOMEM, "tfidf: out of memory");
    }
    if (scratch_docs(s, ix->idx[slot].e->n_docs)) return kz_error_set(err, KZ_ENOMEM, "tfidf: out of memory");
    if (++s->epoch == 0) {
        memset(s->docs, 0, (size_t)s->cap_docs * sizeof *s->docs);
        s->epoch = 1;
    }
    s->n_heap = 0;
    s->n_touched = 0;
    memset(&s->stats, 0, sizeof s->stats);
    return 0;
}

static void finish(kz_tfidf_scratch *s, kz_tfidf_hit *out, uint32_t *n_out) {
    qsort(s->heap, s->n_heap, sizeof *s->heap, cmp_hit);
    memcpy(out, s->heap, s->n_heap * sizeof *out);
    *n_out = s->n_heap;
}

int kz__tfidf_search_brute(const kz_tfidf *ix, uint32_t slot, const char *q, size_t qlen, uint32_t k,
                           kz_tfidf_scratch *s, kz_tfidf_hit *out, uint32_t *n_out, kz_error *err) {
    int rc = search_setup(ix, slot, k, s, n_out, err);
    if (rc) return rc;
    const tf_index *x = &ix->idx[slot];
    int64_t nq = query_vector(x, q, qlen, s);
    if (nq < 0) return kz_error_set(err, KZ_ENOMEM, "tfidf: out of memory");
    if (nq == 0 || k == 0) return 0;
    for (uint32_t d = 0; d < x->e->n_docs; d++)
        heap_offer(s, k, x->perm[d], exact_score(x, d, s->qt, s->qv, (uint32_t)nq));
    finish(s, out, n_out);
    return 0;
}

static void rescore(const tf_index *x, kz_tfidf_scratch *s, uint32_t k, uint32_t nq, uint32_t d) {
    s->docs[d].scored = s->epoch;
    s->stats.docs_rescored++;
    heap_offer(s, k, x->perm[d], exact_score(x, d, s->qt, s->qv, nq));
}

/* Exact-score the (up to k) touched documents with the best partial scores. */
static void refresh(const tf_index *x, kz_tfidf_scratch *s, uint32_t k, uint32_t nq) {
    kz_tfidf_hit best[64];
    uint32_t nb = 0, kk = k < 64 ? k : 64;
    for (uint32_t i = 0; i < s->n_touched; i++) {
        uint32_t d = s->touched[i];
        float a = s->docs[d].acc;
        if (nb == kk && a <= best[nb - 1].score) continue;
        uint32_t p = nb < kk ? nb++ : nb - 1;
        while (p > 0 && best[p - 1].score < a) {
            best[p] = best[p - 1];
            p--;
        }
        best[p].doc = d;
        best[p].score = a;
    }
    for (uint32_t i = 0; i < nb; i++)
        if (s->docs[best[i].doc].scored != s->epoch) rescore(x, s, k, nq, best[i].doc);
}

/* Query terms by weight descending, then term ascending (insertion sort: queries are short). */
static void sort_order(kz_tfidf_scratch *s, uint32_t nq) {
    for (uint32_t i = 0; i < nq; i++) {
        uint32_t v = i, p = i;
        while (p > 0 && s->qv[s->order[p - 1]] < s->qv[v]) {
            s->order[p] = s->order[p - 1];
            p--;
        }
        s->order[p] = v;
    }
}

static void accumulate(const tf_index *x, kz_tfidf_scratch *s, uint32_t j, uint64_t a, uint64_t b,
                       bool and_mode) {
    const uint32_t n_docs = x->e->n_docs, epoch = s->epoch;
    const tf_term *tt = &x->terms[s->qt[j]];
    float qf = (float)(s->qv[j] * tt->idf), idf = (float)tt->idf;
    doc_acc *docs = s->docs;
    uint64_t *bits = s->bits;
    s->stats.postings_read += b - a;
    for (uint64_t p = a; p < b; p++) {
        uint32_t v = x->postings[p], d = v & (KZ_TFIDF_MAX_DOCS - 1);
        if (d >= n_docs) continue;
        /* the bitmap (n/8 bytes, cache-resident) answers "touched?" before the accumulator is loaded */
        if (and_mode && !(bits[d >> 6] >> (d & 63) & 1)) continue;
        float tfn = (float)(v >> 27) * x->invnorm[d];
        doc_acc *da = &docs[d];
        if (da->mark != epoch) {
            if (and_mode) continue;
            bits[d >> 6] |= 1ull << (d & 63);
            da->mark = epoch;
            da->acc = 0;
            da->acc2 = 0;
            s->touched[s->n_touched++] = d;
        }
        da->acc += qf * tfn;
        float wd = idf * tfn;
        da->acc2 += wd * wd;
    }
}

/* First posting of term t (within [lo, hi)) whose document's invnorm is
 * below cut (internal ids run by invnorm descending). */
static uint64_t postings_below(const tf_index *x, uint64_t lo, uint64_t hi, double cut, bool strict) {
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        uint32_t d = x->postings[mid] & (KZ_TFIDF_MAX_DOCS - 1);
        double v = d < x->e->n_docs ? (double)x->invnorm[d] : 0;
        if (strict ? v > cut : v >= cut)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The length window: with theta known, a document can score >= theta only if
 * theta / S <= invnorm <= Tq / (theta * ||q||), S = sum of q * idf * maxtf over
 * the query (its dot with the unnormalised document is at most S) and Tq the
 * query's largest tf (q_t <= Tq * d_t * ||d|| / ||q||). Stored invnorms are
 * rounded up; the margins keep the window a superset. */
static void length_window(const kz_tfidf_scratch *s, double theta, double S, double *lo, double *hi) {
    if (!(theta > 0)) {
        *lo = 0;
        *hi = INFINITY;
        return;
    }
    *lo = theta / S;
    *hi = (double)s->q_maxtf / (theta * s->q_norm) * (1 + 1e-6);
}

/* Exact top-k, prefix filtering with verification (see docs/linking-search.md). */

static int cmp_cand(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->bound != y->bound) return x->bound > y->bound ? -1 : 1;
    return (x->doc > y->doc) - (x->doc < y->doc);
}

int kz__tfidf_search(const kz_tfidf *ix, uint32_t slot, const char *q, size_t qlen, uint32_t k,
                     kz_tfidf_scratch *s, kz_tfidf_hit *out, uint32_t *n_out, kz_error *err) {
    int rc = search_setup(ix, slot, k, s, n_out, err);
    if (rc) return rc;
    const tf_index *x = &ix->idx[slot];
    int64_t nq64 = query_vector(x, q, qlen, s);
    if (nq64 < 0) return kz_error_set(err, KZ_ENOMEM, "tfidf: out of memory");
    uint32_t nq = (uint32_t)nq64;
    s->stats.terms_total = nq;
    if (nq == 0 || k == 0) return 0;
    sort_order(s, nq);
    s->rem_ub[nq] = s->rem_sq[nq] = s->rem_r[nq] = 0;
    for (uint32_t i = nq; i-- > 0;) {
        uint32_t j = s->order[i];
        const tf_term *tt = &x->terms[s->qt[j]];
        double qw = s->qv[j];
        s->rem_ub[i] = s->rem_ub[i + 1] + qw * tt->maxw;
        s->rem_sq[i] = s->rem_sq[i + 1] + qw * qw;
        s->rem_r[i] = s->rem_r[i + 1] + qw * tt->idf * (double)tt->maxtf;
    }
    const double S = s->rem_r[0];
    uint32_t refreshed_at = 0, i = 0;
    double wlo = 0, whi = INFINITY;
    for (; i < nq; i++) {
        bool full = s->n_heap == k;
        if (full) {
            double theta = s->heap[0].score - BOUND_EPS;
            length_window(s, theta, S, &wlo, &whi);
            double nb = fmin(fmin(s->rem_ub[i], sqrt(s->rem_sq[i])), whi * s->rem_r[i]);
            if (nb < theta) break; /* no untouched document can reach theta */
        }
        uint32_t t = s->qt[s->order[i]];
        uint64_t a = x->terms[t].post_start, b = x->terms[t + 1].post_start;
        if (full) {
            a = postings_below(x, a, b, whi, true);
            b = postings_below(x, a, b, wlo, false);
        }
        accumulate(x, s, s->order[i], a, b, false);
        s->stats.terms_processed++;
        if (i + 1 < nq && (!full || s->n_touched >= 2 * refreshed_at)) {
            refresh(x, s, k, nq);
            refreshed_at = s->n_touched;
        }
    }
    /* verification: every touched document whose bound reaches theta, best bound first */
    cand *cs = s->cand;
    uint32_t nc = 0;
    bool full = s->n_heap == k;
    double theta = full ? s->heap[0].score : 0;
    if (full) length_window(s, theta - BOUND_EPS, S, &wlo, &whi);
    double rub = s->rem_ub[i], rsq = s->rem_sq[i], rr = s->rem_r[i];
    for (uint32_t m = 0; m < s->n_touched; m++) {
        uint32_t d = s->touched[m];
        doc_acc *da = &s->docs[d];
        if (da->scored == s->epoch) continue;
        double inv = (double)x->invnorm[d];
        if (full && (inv > whi || inv < wlo)) continue;
        double rest = fmin(fmin(rub, inv * rr), sqrt(rsq * fmax(0, 1.0 - (double)da->acc2 + 1e-5)));
        double bnd = (double)da->acc + rest + BOUND_EPS;
        if (full && bnd < theta) continue;
        cs[nc].bound = (float)bnd;
        cs[nc++].doc = d;
    }
    qsort(cs, nc, sizeof *cs, cmp_cand);
    for (uint32_t m = 0; m < nc; m++) {
        if (s->n_heap == k && (double)cs[m].bound * (1 + 1e-6) < s->heap[0].score) break;
        rescore(x, s, k, nq, cs[m].doc);
    }
    for (uint32_t m = 0; m < s->n_touched; m++) s->bits[s->touched[m] >> 6] = 0;
    finish(s, out, n_out);
    return 0;
}
