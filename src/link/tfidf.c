/* Char-bigram TF-IDF index with Kazu's DictionaryIndex scores (sklearn
 * TfidfVectorizer: raw tf, smooth idf, l2 rows, cosine) and an exact top-k: a
 * quantised upper bound of every document's score (bitmaps for common bigrams,
 * postings for rare ones, saturating u8 sums) flags the few documents that can
 * reach the k-th best score; only those are scored exactly (forward index). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "kazu/utf8.h"
#include "tfidf_int.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define KZ_TFIDF_AVX2 1
#include <immintrin.h>
#endif

/* ---- blob layout (little-endian, offsets from the blob start) ---------------- */
typedef struct tf_header {
    char magic[8];
    uint32_t version;
    uint32_t n_indexes;
    uint64_t total_bytes;
    uint64_t reserved[5];
} tf_header;

typedef struct tf_entry {
    uint32_t parser, n_docs, n_terms, n_dense;
    uint64_t first_candidate;
    uint64_t n_postings, n_forward;
    uint64_t off_keys;      /* u64[n_terms]: bigram (cp1 << 32 | cp2), strictly ascending */
    uint64_t off_terms;     /* tf_term[n_terms + 1] (last: sentinel, post_start = n_postings) */
    uint64_t off_postings;  /* u32[n_postings]: doc | tf << 27 (tf beyond the term's bitmap levels) */
    uint64_t off_bitmaps;   /* u8[n_dense][n_groups][32]: group g, byte i, bit j = doc 256g + 32j + i */
    uint64_t off_tau;       /* u8[n_groups * 256]: a document's bound threshold (doc_tau) */
    uint64_t off_fwd_start; /* u32[n_docs + 1] */
    uint64_t off_fwd;       /* u32[n_forward]: term | tf << 22, ascending term */
    uint64_t off_invnorm;   /* float[n_docs]: 1 / ||doc|| rounded up, non-increasing (empty: 0, last) */
    uint64_t off_perm;      /* u32[n_docs]: internal document -> document (candidate - first) */
    uint64_t off_prefix;    /* {u64 key, u32 doc, u32 0}[n_docs]: first 8 bytes (big-endian) of each
                               document with its internal id, by key then id: seeds (seed_prefix) */
    uint64_t reserved;
} tf_entry;

typedef struct tf_prefix {
    uint64_t key;
    uint32_t doc, reserved;
} tf_prefix;

typedef struct tf_term {
    uint64_t post_start;
    double idf;
    uint32_t dense;  /* first bitmap slot + 1 (0: none) */
    uint32_t levels; /* bitmap dense - 1 + j - 1 holds the documents with tf >= j + 1, j < levels */
    uint32_t maxtf;  /* max tf of the term in any document */
    uint32_t reserved;
} tf_term;

_Static_assert(sizeof(tf_header) == 64, "header layout");
_Static_assert(sizeof(tf_entry) == 128, "entry layout");
_Static_assert(sizeof(tf_term) == 32, "term layout");
_Static_assert(sizeof(tf_prefix) == 16, "prefix layout");

#define ALIGN64(x) (((x) + 63u) & ~(uint64_t)63u)
#define GROUP      256u /* documents per group: one 32-byte bitmap vector per term */
/* The bound's scale: in a group, a document as long as the group's longest
 * reaches theta when its quantised sum reaches ACC_T0; 255 saturates, so
 * documents up to 255 / ACC_T0 times theta keep a finite bound. */
#define ACC_T0 128u
/* Groups ahead whose bitmaps the pass prefetches; most groups a side takes in
 * a row (sharing one weight scale and one sweep of the postings). */
#define PREFETCH_GROUPS 4
#define RUN             8u
/* At most this many documents on each side of the query's place in prefix
 * order are scored first (2k when fewer). */
#define SEED_SIDE 40u
/* Pending candidates scored after each run (the rest at the end); at most
 * PEND_CAP wait (half are scored when they reach it). */
#define DRAIN    8u
#define PEND_CAP 65536u

typedef struct tf_index {
    const tf_entry *e;
    const uint64_t *keys;
    const tf_term *terms;
    const uint32_t *postings;
    const uint8_t *bitmaps;
    const uint8_t *tau;
    const uint32_t *fwd_start;
    const uint32_t *fwd;
    const float *invnorm;
    const uint32_t *perm;
    const tf_prefix *prefix;
    uint32_t n_groups;
} tf_index;

struct kz_tfidf {
    uint32_t n;
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

/* First 8 bytes of s, big-endian, zero-padded: orders like the bytes. */
static uint64_t prefix_key(const char *s, size_t len) {
    uint64_t k = 0;
    for (size_t i = 0; i < 8; i++) k = k << 8 | (i < len ? (uint8_t)s[i] : 0);
    return k;
}

static int cmp_prefix(const void *a, const void *b) {
    const tf_prefix *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return (x->doc > y->doc) - (x->doc < y->doc);
}

/* ---- builder --------------------------------------------------------------- */

typedef struct built {
    tf_entry e;
    uint64_t *keys;
    tf_term *terms;
    uint32_t *postings, *fwd_start, *fwd;
    uint8_t *bitmaps, *tau;
    float *invnorm;
    uint32_t *perm;
    tf_prefix *prefix;
} built;

static void built_free(built *b) {
    free(b->keys);
    free(b->terms);
    free(b->postings);
    free(b->bitmaps);
    free(b->tau);
    free(b->fwd_start);
    free(b->fwd);
    free(b->invnorm);
    free(b->perm);
    free(b->prefix);
}

static float float_up(double v) {
    float f = (float)v;
    if ((double)f < v) f = nextafterf(f, INFINITY);
    return f;
}

static uint32_t n_groups_of(uint32_t n_docs) { return (uint32_t)(((uint64_t)n_docs + GROUP - 1) / GROUP); }

/* invnorm of the group's longest document with terms, 0 if none. */
static double group_inv_min(const float *invnorm, uint32_t n_docs, uint32_t g) {
    uint32_t a = g * GROUP, e = a + GROUP < n_docs ? a + GROUP : n_docs;
    while (e > a && !((double)invnorm[e - 1] > 0)) e--;
    return e > a ? (double)invnorm[e - 1] : 0;
}

/* A document's threshold: floor(ACC_T0 * ||d|| / N) with ||d|| = 1 / invnorm
 * (a lower bound: invnorm is rounded up) and N = the group's longest norm, in
 * [1, ACC_T0]; 255 for empty documents. With acc unit theta * N / ACC_T0, a
 * document whose acc stays below it scores below theta (docs/linking-search.md). */
static uint8_t doc_tau(double inv, double inv_min) {
    if (!(inv > 0) || !(inv_min > 0)) return 255;
    double t = floor(ACC_T0 * inv_min / inv * (1.0 - 1e-6));
    return (uint8_t)(t < 1 ? 1 : t > ACC_T0 ? ACC_T0 : t);
}

/* qsort has no context argument; the build is single-threaded per call but
 * callers may build in parallel, so the norms pointer is thread-local. */
static _Thread_local const double *g_sort_norms;
/* Norm ascending (empty documents, norm 0, last), then document. */
static int cmp_by_norm(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    double nx = g_sort_norms[x], ny = g_sort_norms[y];
    if (nx != ny) {
        if (nx == 0) return 1;
        if (ny == 0) return -1;
        return nx < ny ? -1 : 1;
    }
    return (x > y) - (x < y);
}

/* Postings entries a document's tf of a term takes (the tf beyond the term's bitmap levels). */
static uint32_t post_entries(uint32_t tf, uint32_t levels) {
    uint32_t r = tf > levels ? tf - levels : 0;
    return (r + KZ_TFIDF_POST_TF_MAX - 1) / KZ_TFIDF_POST_TF_MAX;
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
    uint32_t *tids = NULL, *df = NULL, *dfl = NULL;
    double *dn = NULL;
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
    dfl = calloc((nt + 1) * KZ_TFIDF_MAX_LEVELS, sizeof *dfl); /* documents with tf >= j + 1 */
    b->fwd_start = malloc(((size_t)nd + 1) * sizeof *b->fwd_start);
    b->invnorm = malloc((nd ? nd : 1) * sizeof *b->invnorm);
    b->terms = calloc(nt + 1, sizeof *b->terms);
    if (!tids || !df || !dfl || !b->fwd_start || !b->invnorm || !b->terms) goto done;
    uint64_t n_fwd = 0;
    for (uint32_t d = 0; d < nd; d++) {
        uint32_t a = doc_off[d], e = doc_off[d + 1];
        for (uint32_t i = a; i < e; i++) tids[i] = (uint32_t)key_find(vocab, (uint32_t)nt, all[i]);
        qsort(tids + a, e - a, sizeof *tids, cmp_u32);
        for (uint32_t i = a; i < e;) {
            uint32_t j = i;
            while (j < e && tids[j] == tids[i]) j++;
            df[tids[i]]++;
            for (uint32_t l = 0; l < j - i && l < KZ_TFIDF_MAX_LEVELS; l++)
                dfl[(size_t)tids[i] * KZ_TFIDF_MAX_LEVELS + l]++;
            n_fwd += (j - i + KZ_TFIDF_FWD_TF_MAX - 1) / KZ_TFIDF_FWD_TF_MAX;
            i = j;
        }
    }
    free(all);
    all = NULL;
    n_fwd += 2 * (uint64_t)nd; /* each document's norm (a double) ahead of its entries */
    if (n_fwd >= UINT32_MAX) {
        rc = kz_error_set(err, KZ_ELIMIT, "tfidf: parser %u has too many forward entries", in->parser);
        goto done;
    }
    /* idf; common terms get bitmaps: one per tf level held by n_docs / DENSE_DIV documents */
    uint32_t n_dense = 0;
    for (size_t t = 0; t < nt; t++) {
        tf_term *tt = &b->terms[t];
        tt->idf = idf_of(nd, df[t]);
        while (tt->levels < KZ_TFIDF_MAX_LEVELS &&
               (uint64_t)dfl[t * KZ_TFIDF_MAX_LEVELS + tt->levels] * KZ_TFIDF_DENSE_DIV >= nd)
            tt->levels++;
        if (tt->levels) {
            tt->dense = n_dense + 1;
            n_dense += tt->levels;
        }
    }
    /* postings entries per term (reusing df), then starts */
    memset(df, 0, (nt + 1) * sizeof *df);
    for (uint32_t d = 0; d < nd; d++)
        for (uint32_t i = doc_off[d], e = doc_off[d + 1]; i < e;) {
            uint32_t j = i;
            while (j < e && tids[j] == tids[i]) j++;
            df[tids[i]] += post_entries(j - i, b->terms[tids[i]].levels);
            i = j;
        }
    uint64_t n_post = 0;
    for (size_t t = 0; t < nt; t++) {
        b->terms[t].post_start = n_post;
        n_post += df[t];
        df[t] = 0; /* fill cursor */
    }
    b->terms[nt].post_start = n_post;
    uint32_t ng = n_groups_of(nd);
    b->fwd = malloc((n_fwd ? n_fwd : 1) * sizeof *b->fwd);
    b->postings = malloc((n_post ? n_post : 1) * sizeof *b->postings);
    b->bitmaps = calloc((size_t)n_dense * ng * 32 + 1, 1);
    /* 4. norms; internal order = norm ascending (invnorm non-increasing), then document */
    dn = malloc((nd ? nd : 1) * sizeof *dn);
    b->perm = malloc((nd ? nd : 1) * sizeof *b->perm);
    if (!b->fwd || !b->postings || !b->bitmaps || !dn || !b->perm) goto done;
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
    /* 5. forward entries, postings (internal ids ascending), bitmaps */
    uint64_t f = 0;
    for (uint32_t in_d = 0; in_d < nd; in_d++) {
        uint32_t d = b->perm[in_d];
        b->fwd_start[in_d] = (uint32_t)f;
        memcpy(&b->fwd[f], &dn[d], sizeof dn[d]);
        f += 2;
        uint32_t a = doc_off[d], e = doc_off[d + 1];
        b->invnorm[in_d] = dn[d] > 0 ? float_up(1.0 / dn[d]) : 0.0f;
        uint32_t r = in_d % GROUP;
        size_t bit_byte = (size_t)(in_d / GROUP) * 32 + r % 32;
        for (uint32_t i = a; i < e;) {
            uint32_t t = tids[i], j = i;
            while (j < e && tids[j] == t) j++;
            uint32_t tf = j - i;
            tf_term *tt = &b->terms[t];
            if (tf > tt->maxtf) tt->maxtf = tf;
            for (uint32_t rem = tf; rem > 0;) {
                uint32_t part = rem > KZ_TFIDF_FWD_TF_MAX ? KZ_TFIDF_FWD_TF_MAX : rem;
                b->fwd[f++] = t | part << 22;
                rem -= part;
            }
            for (uint32_t l = 0; l < tt->levels && l < tf; l++)
                b->bitmaps[(size_t)(tt->dense - 1 + l) * ng * 32 + bit_byte] |= (uint8_t)(1u << (r / 32));
            uint32_t rem = tf > tt->levels ? tf - tt->levels : 0;
            while (rem > 0) {
                uint32_t part = rem > KZ_TFIDF_POST_TF_MAX ? KZ_TFIDF_POST_TF_MAX : rem;
                b->postings[tt->post_start + df[t]++] = in_d | part << 27;
                rem -= part;
            }
            i = j;
        }
    }
    b->fwd_start[nd] = (uint32_t)f;
    b->prefix = calloc(nd ? nd : 1, sizeof *b->prefix);
    if (!b->prefix) goto done;
    for (uint32_t in_d = 0; in_d < nd; in_d++) {
        const kz_str *ds = &in->docs[b->perm[in_d]];
        b->prefix[in_d].key = prefix_key(ds->ptr, ds->ptr ? ds->len : 0);
        b->prefix[in_d].doc = in_d;
    }
    qsort(b->prefix, nd, sizeof *b->prefix, cmp_prefix);
    b->tau = malloc((size_t)ng * GROUP + 1);
    if (!b->tau) goto done;
    memset(b->tau, 255, (size_t)ng * GROUP + 1);
    for (uint32_t g = 0; g < ng; g++) {
        double inv_min = group_inv_min(b->invnorm, nd, g);
        for (uint32_t d = g * GROUP; d < nd && d < (g + 1) * GROUP; d++)
            b->tau[d] = doc_tau(b->invnorm[d], inv_min);
    }
    b->e.parser = in->parser;
    b->e.n_docs = nd;
    b->e.n_terms = (uint32_t)nt;
    b->e.n_dense = n_dense;
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
    free(dfl);
    free(dn);
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
            e->off_bitmaps = off;
            off = ALIGN64(off + (uint64_t)e->n_dense * n_groups_of(e->n_docs) * 32);
            e->off_tau = off;
            off = ALIGN64(off + (uint64_t)n_groups_of(e->n_docs) * GROUP);
            e->off_fwd_start = off;
            off = ALIGN64(off + ((uint64_t)e->n_docs + 1) * 4);
            e->off_fwd = off;
            off = ALIGN64(off + e->n_forward * 4);
            e->off_invnorm = off;
            off = ALIGN64(off + (uint64_t)e->n_docs * 4);
            e->off_perm = off;
            off = ALIGN64(off + (uint64_t)e->n_docs * 4);
            e->off_prefix = off;
            off = ALIGN64(off + (uint64_t)e->n_docs * sizeof(tf_prefix));
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
                memcpy(out + e->off_bitmaps, b[i].bitmaps, (size_t)e->n_dense * n_groups_of(e->n_docs) * 32);
                memcpy(out + e->off_tau, b[i].tau, (size_t)n_groups_of(e->n_docs) * GROUP);
                memcpy(out + e->off_fwd_start, b[i].fwd_start, ((size_t)e->n_docs + 1) * 4);
                memcpy(out + e->off_fwd, b[i].fwd, e->n_forward * 4);
                memcpy(out + e->off_invnorm, b[i].invnorm, (size_t)e->n_docs * 4);
                memcpy(out + e->off_perm, b[i].perm, (size_t)e->n_docs * 4);
                memcpy(out + e->off_prefix, b[i].prefix, (size_t)e->n_docs * sizeof(tf_prefix));
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
        x->n_groups = n_groups_of(e->n_docs);
        if (e->n_docs >= KZ_TFIDF_MAX_DOCS || e->n_terms >= KZ_TFIDF_MAX_TERMS ||
            (uint64_t)e->n_dense > (uint64_t)e->n_terms * KZ_TFIDF_MAX_LEVELS ||
            !range_ok(e->off_keys, e->n_terms, 8, len, 8) ||
            !range_ok(e->off_terms, (uint64_t)e->n_terms + 1, sizeof(tf_term), len, 8) ||
            !range_ok(e->off_postings, e->n_postings, 4, len, 4) ||
            !range_ok(e->off_bitmaps, (uint64_t)e->n_dense * x->n_groups, 32, len, 32) ||
            !range_ok(e->off_tau, x->n_groups, GROUP, len, 8) ||
            !range_ok(e->off_fwd_start, (uint64_t)e->n_docs + 1, 4, len, 4) ||
            !range_ok(e->off_fwd, e->n_forward, 4, len, 4) ||
            !range_ok(e->off_invnorm, e->n_docs, 4, len, 4) || !range_ok(e->off_perm, e->n_docs, 4, len, 4) ||
            !range_ok(e->off_prefix, e->n_docs, sizeof(tf_prefix), len, 8)) {
            rc = kz_error_set(err, KZ_EPARSE, "tfidf: index %u: array out of range", i);
            break;
        }
        x->keys = (const uint64_t *)(p + e->off_keys);
        x->terms = (const tf_term *)(p + e->off_terms);
        x->postings = (const uint32_t *)(p + e->off_postings);
        x->bitmaps = p + e->off_bitmaps;
        x->tau = p + e->off_tau;
        x->fwd_start = (const uint32_t *)(p + e->off_fwd_start);
        x->fwd = (const uint32_t *)(p + e->off_fwd);
        x->invnorm = (const float *)(p + e->off_invnorm);
        x->perm = (const uint32_t *)(p + e->off_perm);
        x->prefix = (const tf_prefix *)(p + e->off_prefix);
        for (uint32_t t = 0; t <= e->n_terms; t++) {
            const tf_term *tt = &x->terms[t];
            uint64_t next = t < e->n_terms ? x->terms[t + 1].post_start : e->n_postings;
            bool ok = tt->post_start <= next && next <= e->n_postings;
            if (t < e->n_terms)
                ok = ok && (t == 0 || x->keys[t - 1] < x->keys[t]) && isfinite(tt->idf) && tt->idf > 0 &&
                     tt->idf < 1e6 && tt->levels <= KZ_TFIDF_MAX_LEVELS &&
                     (tt->levels == 0 ||
                      (tt->dense > 0 && (uint64_t)tt->dense - 1 + tt->levels <= e->n_dense));
            else
                ok = ok && tt->post_start == e->n_postings;
            if (!ok) {
                rc = kz_error_set(err, KZ_EPARSE, "tfidf: index %u: term %u is corrupt", i, t);
                break;
            }
        }
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
    out->n_dense = e->n_dense;
    out->first_candidate = e->first_candidate;
    out->n_postings = e->n_postings;
    out->n_forward = e->n_forward;
    return 0;
}

/* ---- search ---------------------------------------------------------------- */

/* A query term during a search. */
typedef struct qterm {
    double c;        /* q_t * idf_t: a document's score is sum(c * tf) / ||d|| */
    uint64_t a, b;   /* postings: the tf beyond the term's bitmap levels */
    uint64_t cur[2]; /* next posting right of the groups done (side 0), and left of them (side 1) */
    uint8_t cq[3];   /* c quantised per side (2: seeding) */
} qterm;

typedef struct pend {
    double est; /* upper bound of the score */
    uint32_t doc;
} pend;

typedef struct cand {
    uint32_t doc; /* internal */
    uint32_t acc;
    double est; /* upper bound of the score (seeding) */
} cand;

struct kz_tfidf_scratch {
    uint64_t *keys;
    size_t cap_keys;
    uint32_t *qt; /* distinct known query terms, ascending */
    double *qv;   /* their normalised weights */
    double *qidf; /* and idf */
    qterm *q;
    uint32_t *pord; /* terms with postings */
    size_t cap_q;
    uint32_t *dterm;     /* bitmap entries (term, level) by c descending: their term, */
    const uint8_t **dbm; /* bitmap (group 0) */
    uint8_t *dcq[3];     /* and quantised weight per side */
    double f[3];         /* per side: cq = ceil(c * f) */
    size_t cap_d;
    kz_tfidf_hit *heap;
    uint32_t n_heap;
    kz_tfidf_stats stats;
    double q_norm; /* ||q|| before normalisation */
    uint32_t q_maxtf;
    bool portable;
    pend *pend; /* flagged, not yet scored: max-heap by bound */
    size_t n_pend, cap_pend;
    bool oom;
    uint32_t seed[2 * SEED_SIDE]; /* internal documents scored by seed_prefix, ascending */
    uint32_t n_seed;
    uint8_t acc[RUN * GROUP], acc_seed[GROUP];
    uint64_t done[GROUP / 64]; /* documents of the group already scored (seeding) */
    uint32_t cidx[GROUP];
    cand cands[GROUP];
};

kz_tfidf_scratch *kz__tfidf_scratch_new(void) { return calloc(1, sizeof(kz_tfidf_scratch)); }

void kz__tfidf_scratch_free(kz_tfidf_scratch *s) {
    if (!s) return;
    free(s->keys);
    free(s->qt);
    free(s->qv);
    free(s->qidf);
    free(s->q);
    free(s->pord);
    free(s->dterm);
    free(s->dbm);
    for (int i = 0; i < 3; i++) free(s->dcq[i]);
    free(s->heap);
    free(s->pend);
    free(s);
}

void kz__tfidf_scratch_set_portable(kz_tfidf_scratch *s, bool portable) {
    if (s) s->portable = portable;
}

void kz__tfidf_last_stats(const kz_tfidf_scratch *s, kz_tfidf_stats *out) { *out = s->stats; }

#define GROW(field, cap)                                                                                     \
    do {                                                                                                     \
        void *p_ = realloc(s->field, (cap) * sizeof *s->field);                                              \
        if (!p_) return KZ_ENOMEM;                                                                           \
        s->field = p_;                                                                                       \
    } while (0)

static int scratch_q(kz_tfidf_scratch *s, size_t n) {
    if (n <= s->cap_q) return 0;
    size_t c = n < 64 ? 64 : n;
    GROW(qt, c);
    GROW(qv, c);
    GROW(qidf, c);
    GROW(q, c);
    GROW(pord, c);
    s->cap_q = c;
    return 0;
}

static int scratch_d(kz_tfidf_scratch *s, size_t n) {
    if (n <= s->cap_d) return 0;
    size_t c = n < 64 ? 64 : n;
    GROW(dterm, c);
    GROW(dbm, c);
    GROW(dcq[0], c);
    GROW(dcq[1], c);
    GROW(dcq[2], c);
    s->cap_d = c;
    return 0;
}
#undef GROW

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
        s->qidf[nq] = x->terms[s->qt[i]].idf;
        s->qv[nq] = (double)(j - i) * s->qidf[nq];
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
 * dn = sqrt(sum over d's terms ascending of (tf*idf)^2), stored ahead of d's
 * forward entries by the build, then the sum over shared terms ascending of
 * qv * (tf*idf / dn). qidf: the query terms' idf. */
static double exact_score(const tf_index *x, uint32_t d, const uint32_t *qt, const double *qv,
                          const double *qidf, uint32_t nq) {
    uint32_t a = x->fwd_start[d], b = x->fwd_start[d + 1];
    if (a > b || b - a < 2 || b > x->e->n_forward) return 0;
    double dn, dot = 0;
    memcpy(&dn, &x->fwd[a], sizeof dn);
    if (!(dn > 0)) return 0;
    uint32_t j = 0;
    for (uint32_t i = a + 2; i < b && j < nq;) {
        uint32_t t = x->fwd[i] & (KZ_TFIDF_MAX_TERMS - 1), tf = 0;
        while (i < b && (x->fwd[i] & (KZ_TFIDF_MAX_TERMS - 1)) == t) tf += x->fwd[i++] >> 22;
        while (j < nq && qt[j] < t) j++;
        if (j < nq && qt[j] == t) dot += qv[j] * (((double)tf * qidf[j]) / dn);
    }
    return dot;
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
    s->n_heap = 0;
    s->n_seed = 0;
    s->n_pend = 0;
    s->oom = false;
    memset(&s->stats, 0, sizeof s->stats);
    return 0;
}

static void finish(kz_tfidf_scratch *s, kz_tfidf_hit *out, uint32_t *n_out) {
    qsort(s->heap, s->n_heap, sizeof *s->heap, cmp_hit);
    memcpy(out, s->heap, s->n_heap * sizeof *out);
    *n_out = s->n_heap;
}

/* Offer internal document d's exact score (documents a corrupt perm maps out of range are dropped). */
static void rescore(const tf_index *x, kz_tfidf_scratch *s, uint32_t k, uint32_t nq, uint32_t d) {
    s->stats.docs_rescored++;
    double score = exact_score(x, d, s->qt, s->qv, s->qidf, nq);
    if (!(score > 0) || (s->n_heap == k && score < s->heap[0].score)) return; /* perm[d] not needed */
    uint32_t ext = x->perm[d];
    if (ext < x->e->n_docs) heap_offer(s, k, ext, score);
}

int kz__tfidf_search_brute(const kz_tfidf *ix, uint32_t slot, const char *q, size_t qlen, uint32_t k,
                           kz_tfidf_scratch *s, kz_tfidf_hit *out, uint32_t *n_out, kz_error *err) {
    int rc = search_setup(ix, slot, k, s, n_out, err);
    if (rc) return rc;
    const tf_index *x = &ix->idx[slot];
    int64_t nq = query_vector(x, q, qlen, s);
    if (nq < 0) return kz_error_set(err, KZ_ENOMEM, "tfidf: out of memory");
    if (nq == 0 || k == 0) return 0;
    for (uint32_t d = 0; d < x->e->n_docs; d++) rescore(x, s, k, (uint32_t)nq, d);
    finish(s, out, n_out);
    return 0;
}

/* ---- the bound pass ---------------------------------------------------------- */

/* One group's bitmaps: acc[256] (pre-loaded with the postings part) gets the
 * saturating sum of cq[j] over the bitmaps j that hold the document; the
 * documents with acc >= tau (per document; NULL: 1) go to cidx, in order,
 * and their count is returned. Before bitmap h, the group is left (0) when no
 * document can reach min_tau even with rest_h more. */
typedef struct pass_args {
    const uint8_t *const *bm;
    const uint8_t *cq;
    const uint8_t *tau;
    uint32_t n_bm, g, min_tau, h, rest_h;
    int64_t prefetch; /* group whose bitmaps to prefetch, -1: none */
} pass_args;

static uint32_t pass_portable(const pass_args *pa, uint8_t *acc, uint32_t *cidx, uint64_t *cut) {
    (void)cut; /* the cut only saves time: the flagged documents are the same without it */
    size_t go = (size_t)pa->g * 32;
    for (uint32_t j = 0; j < pa->n_bm; j++) {
        const uint8_t *w = pa->bm[j] + go;
        uint32_t c = pa->cq[j];
        for (uint32_t i = 0; i < 32; i++)
            for (uint32_t bits = w[i]; bits; bits &= bits - 1) {
                uint32_t at = 32u * (uint32_t)__builtin_ctz(bits) + i, v = acc[at] + c;
                acc[at] = (uint8_t)(v > 255 ? 255 : v);
            }
    }
    uint32_t nc = 0;
    for (uint32_t i = 0; i < GROUP; i++)
        if (acc[i] >= (pa->tau ? pa->tau[i] : 1)) cidx[nc++] = i;
    return nc;
}

#ifdef KZ_TFIDF_AVX2
/* Bit j of every byte of v to the sign bit (a 16-bit shift moves both bytes'
 * bits alike), then add c where it is set. */
#define ACC_BM(a, sh) a = _mm256_adds_epu8(a, _mm256_blendv_epi8(zero, c, _mm256_slli_epi16(v, sh)))
__attribute__((target("avx2"))) static uint32_t pass_avx2(const pass_args *pa, uint8_t *acc, uint32_t *cidx,
                                                          uint64_t *cut) {
    const __m256i zero = _mm256_setzero_si256();
    uint32_t rest = pa->rest_h; /* sum of cq[j..] while j >= h */
    size_t go = (size_t)pa->g * 32;
    if (pa->prefetch >= 0) /* the bitmaps are one stream per term and side: too many for the hardware */
        for (uint32_t j = 0; j < pa->n_bm; j++)
            _mm_prefetch((const char *)(pa->bm[j] + (size_t)pa->prefetch * 32), _MM_HINT_T0);
    __m256i a0 = _mm256_loadu_si256((const __m256i *)(acc + 0));
    __m256i a1 = _mm256_loadu_si256((const __m256i *)(acc + 32));
    __m256i a2 = _mm256_loadu_si256((const __m256i *)(acc + 64));
    __m256i a3 = _mm256_loadu_si256((const __m256i *)(acc + 96));
    __m256i a4 = _mm256_loadu_si256((const __m256i *)(acc + 128));
    __m256i a5 = _mm256_loadu_si256((const __m256i *)(acc + 160));
    __m256i a6 = _mm256_loadu_si256((const __m256i *)(acc + 192));
    __m256i a7 = _mm256_loadu_si256((const __m256i *)(acc + 224));
    for (uint32_t j = 0; j < pa->n_bm; j++) {
        if (j >= pa->h) { /* from bitmap h on: can any document still reach min_tau? */
            {
                __m256i m =
                    _mm256_max_epu8(_mm256_max_epu8(_mm256_max_epu8(a0, a1), _mm256_max_epu8(a2, a3)),
                                    _mm256_max_epu8(_mm256_max_epu8(a4, a5), _mm256_max_epu8(a6, a7)));
                __m256i tcut = _mm256_set1_epi8((char)(pa->min_tau - rest));
                if (!_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_max_epu8(m, tcut), m))) {
                    (*cut)++;
                    return 0;
                }
            }
            rest -= pa->cq[j];
        }
        __m256i v = _mm256_loadu_si256((const __m256i *)(pa->bm[j] + go));
        __m256i c = _mm256_set1_epi8((char)pa->cq[j]);
        ACC_BM(a7, 0);
        ACC_BM(a6, 1);
        ACC_BM(a5, 2);
        ACC_BM(a4, 3);
        ACC_BM(a3, 4);
        ACC_BM(a2, 5);
        ACC_BM(a1, 6);
        ACC_BM(a0, 7);
    }
    __m256i av[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
    const __m256i one = _mm256_set1_epi8(1);
    uint32_t nc = 0;
    for (uint32_t r = 0; r < 8; r++) {
        _mm256_storeu_si256((__m256i *)(acc + 32 * r), av[r]);
        __m256i t = pa->tau ? _mm256_loadu_si256((const __m256i *)(pa->tau + 32 * r)) : one;
        uint32_t m = (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_max_epu8(av[r], t), av[r]));
        for (; m; m &= m - 1) cidx[nc++] = 32 * r + (uint32_t)__builtin_ctz(m);
    }
    return nc;
}
#undef ACC_BM
#endif

/* ---- pruned search ------------------------------------------------------------ */

/* At least ceil(x) and 1, capped at 255 (NaN from a corrupt index: 255). */
static uint8_t quantise(double x) {
    if (!(x < 254)) return 255;
    return (uint8_t)((uint32_t)(x > 0 ? x : 0) + 1);
}

/* Side's weights for factor f: cq = ceil(c * f) or a bit more. */
static void quantise_side(kz_tfidf_scratch *s, uint32_t nq, uint32_t n_bm, int side, double f) {
    s->f[side] = f;
    for (uint32_t j = 0; j < nq; j++) s->q[j].cq[side] = quantise(s->q[j].c * f);
    for (uint32_t j = 0; j < n_bm; j++) s->dcq[side][j] = s->q[s->dterm[j]].cq[side];
}

/* First internal document with invnorm < v (invnorm is non-increasing). */
static uint32_t docs_above(const tf_index *x, double v) {
    uint32_t lo = 0, hi = x->e->n_docs;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if ((double)x->invnorm[mid] >= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* First posting of [a, b) whose document is >= d. */
static uint64_t postings_from(const tf_index *x, uint64_t a, uint64_t b, uint32_t d) {
    while (a < b) {
        uint64_t mid = a + (b - a) / 2;
        if ((x->postings[mid] & (KZ_TFIDF_MAX_DOCS - 1)) < d)
            a = mid + 1;
        else
            b = mid;
    }
    return a;
}

static bool cand_before(const cand *a, const cand *b) {
    return a->est > b->est || (a->est == b->est && a->doc < b->doc);
}

/* Reorder c so that c[0, m) are its m first by est descending (quickselect, 3-way). */
static void select_best(cand *c, uint32_t n, uint32_t m) {
    uint32_t lo = 0, hi = n; /* c[0, lo) are among the m first, which all lie in c[0, hi) */
    while (lo < m && hi - lo > 1) {
        cand pv = c[lo + (hi - lo) / 2], t;
        uint32_t lt = lo, i = lo, gt = hi;
        while (i < gt) {
            if (cand_before(&c[i], &pv)) {
                t = c[lt], c[lt++] = c[i], c[i++] = t;
            } else if (cand_before(&pv, &c[i])) {
                t = c[--gt], c[gt] = c[i], c[i] = t;
            } else {
                i++;
            }
        }
        if (m <= lt)
            hi = lt;
        else if (m <= gt)
            return;
        else
            lo = gt;
    }
}

/* From each postings term's cursor on side, the postings of documents in
 * [A0, A1) (the next ones in that direction), weights cq[wside], added to acc
 * (acc[0] = document A0); the cursors move past them when advance is set. */
static void add_postings(const tf_index *x, kz_tfidf_scratch *s, uint32_t np, int side, int wside,
                         uint32_t A0, uint32_t A1, uint8_t *acc, bool advance) {
    for (uint32_t pi = 0; pi < np; pi++) {
        qterm *qt = &s->q[s->pord[pi]];
        uint32_t c = qt->cq[wside];
        uint64_t p = qt->cur[side], p0 = p;
        for (;;) {
            if (side == 0 ? p >= qt->b : p <= qt->a) break;
            uint32_t v = x->postings[side == 0 ? p : p - 1], d = v & (KZ_TFIDF_MAX_DOCS - 1);
            if (side == 0 ? d >= A1 : d < A0) break;
            p = side == 0 ? p + 1 : p - 1;
            if (!acc || d < A0 || d >= A1) continue; /* out of order only in a corrupt index */
            uint32_t sum = acc[d - A0] + c * (v >> 27);
            acc[d - A0] = (uint8_t)(sum > 255 ? 255 : sum);
        }
        if (advance) {
            qt->cur[side] = p;
            s->stats.postings_read += side == 0 ? p - p0 : p0 - p;
            /* the next run's postings: one stream per term and side is too many for the hardware */
            if (side == 0 ? p + 16 < qt->b : p > qt->a + 16)
                __builtin_prefetch(&x->postings[side == 0 ? p + 16 : p - 16]);
        }
    }
}

/* The bound pass over group g, acc pre-loaded with its postings part. */
static uint32_t group_pass(const tf_index *x, kz_tfidf_scratch *s, uint32_t n_bm, uint32_t g, int side,
                           int dir, uint8_t *acc, const uint8_t *tau, bool avx2) {
    const uint8_t *cq = s->dcq[side];
    uint32_t min_tau = tau ? tau[0] : 1, h = n_bm, rest = 0;
    if (tau) /* the first bitmap from which the rest sums below the group's smallest threshold */
        while (h > 0 && rest + cq[h - 1] < min_tau) rest += cq[--h];
    int64_t pf = (int64_t)g + dir * PREFETCH_GROUPS;
    pass_args pa = {s->dbm, cq, tau, n_bm, g, min_tau, h, rest, pf >= 0 && pf < x->n_groups ? pf : -1};
    s->stats.groups_scanned++;
#ifdef KZ_TFIDF_AVX2
    if (avx2) return pass_avx2(&pa, acc, s->cidx, &s->stats.groups_cut);
#else
    (void)avx2;
#endif
    return pass_portable(&pa, acc, s->cidx, &s->stats.groups_cut);
}

/* Fetch the forward data of documents d[0, n) ahead of scoring them (a
 * dependent pair of cache misses each, overlapped across the batch). */
static void prefetch_docs(const tf_index *x, const uint32_t *d, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) __builtin_prefetch(&x->fwd_start[d[i]]);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t a = x->fwd_start[d[i]];
        if (a < x->e->n_forward) __builtin_prefetch(&x->fwd[a]);
    }
}

static bool in_seed(const kz_tfidf_scratch *s, uint32_t d) {
    uint32_t lo = 0, hi = s->n_seed;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (s->seed[mid] < d)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n_seed && s->seed[lo] == d;
}

/* A first theta: the best match is usually a small edit of the query, and
 * its neighbours in byte order share its start; score up to SEED_SIDE
 * documents on each side of the query's place in the prefix order. */
static void seed_prefix(const tf_index *x, kz_tfidf_scratch *s, uint32_t k, uint32_t nq, const char *q,
                        size_t qlen) {
    uint32_t n = x->e->n_docs, lo = 0, hi = n, m = 2 * k < SEED_SIDE ? 2 * k : SEED_SIDE;
    uint64_t key = prefix_key(q, q ? qlen : 0);
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (x->prefix[mid].key < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint32_t a = lo > m ? lo - m : 0, b = n - lo > m ? lo + m : n;
    s->n_seed = 0;
    for (uint32_t i = a; i < b; i++) {
        uint32_t d = x->prefix[i].doc, p = s->n_seed;
        if (d >= n) continue; /* only in a corrupt index */
        while (p > 0 && s->seed[p - 1] > d) p--;
        if (p > 0 && s->seed[p - 1] == d) continue;
        memmove(s->seed + p + 1, s->seed + p, (s->n_seed - p) * sizeof *s->seed);
        s->seed[p] = d;
        s->n_seed++;
    }
    prefetch_docs(x, s->seed, s->n_seed);
    for (uint32_t i = 0; i < s->n_seed; i++) rescore(x, s, k, nq, s->seed[i]);
    s->stats.docs_seeded += s->n_seed;
}

/* Seeding group g while fewer than k are known: weights for theta = 1, every
 * document with a shared term flagged, the best by bound acc * invnorm / f
 * scored to fill the heap (marked in done). False if the heap is still not
 * full: then every flagged document was scored. */
static bool seed_group(const tf_index *x, kz_tfidf_scratch *s, uint32_t k, uint32_t nq, uint32_t n_bm,
                       uint32_t np, int side, uint32_t g, double inv_min, bool avx2) {
    const uint32_t G0 = g * GROUP, G1 = G0 + GROUP < x->e->n_docs ? G0 + GROUP : x->e->n_docs;
    double f = ACC_T0 * inv_min * (1 + 1e-9);
    quantise_side(s, nq, n_bm, 2, f);
    memset(s->acc_seed, 0, GROUP);
    add_postings(x, s, np, side, 2, G0, G1, s->acc_seed, false);
    uint32_t nc = group_pass(x, s, n_bm, g, 2, 0, s->acc_seed, NULL, avx2), n = 0;
    cand *cs = s->cands;
    for (uint32_t i = 0; i < nc; i++) {
        uint32_t o = s->cidx[i], a = s->acc_seed[o];
        if (G0 + o >= G1 || in_seed(s, G0 + o)) continue;
        double est = a < 255 ? a * (double)x->invnorm[G0 + o] / f * (1 + 1e-9) : INFINITY;
        cs[n++] = (cand){G0 + o, a, est};
    }
    uint32_t m = k - s->n_heap;
    if (m < n)
        select_best(cs, n, m);
    else
        m = n;
    memset(s->done, 0, sizeof s->done);
    s->stats.docs_seeded += m;
    for (uint32_t i = 0; i < m; i++) {
        rescore(x, s, k, nq, cs[i].doc);
        s->done[(cs[i].doc - G0) / 64] |= 1ull << ((cs[i].doc - G0) % 64);
    }
    return s->n_heap == k;
}

/* Pending candidates: a max-heap by bound. Scoring them best first makes
 * theta rise as fast as it can, so that fewer are scored at all. */
static bool pend_push(kz_tfidf_scratch *s, double est, uint32_t doc) {
    if (s->n_pend == s->cap_pend) {
        size_t c = s->cap_pend ? 2 * s->cap_pend : 256;
        pend *p = realloc(s->pend, c * sizeof *p);
        if (!p) {
            s->oom = true;
            return true;
        }
        s->pend = p;
        s->cap_pend = c;
    }
    pend v = {est, doc}, *h = s->pend;
    size_t i = s->n_pend++;
    while (i > 0 && h[(i - 1) / 2].est < est) {
        h[i] = h[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h[i] = v;
    return false;
}

static pend pend_pop(kz_tfidf_scratch *s) {
    pend *h = s->pend, top = h[0], last = h[--s->n_pend];
    size_t i = 0, n = s->n_pend;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && h[c + 1].est > h[c].est) c++;
        if (!(h[c].est > last.est)) break;
        h[i] = h[c];
        i = c;
    }
    if (n) h[i] = last;
    return top;
}

/* Score up to limit pending candidates, best bound first, while their bound
 * reaches theta (taken in batches whose data is fetched together; a bound
 * is checked again against theta just before its document is scored). */
static void drain(const tf_index *x, kz_tfidf_scratch *s, uint32_t k, uint32_t nq, uint64_t limit) {
    while (limit > 0 && s->n_pend > 0) {
        pend batch[8];
        uint32_t docs[8], n = 0;
        while (n < 8 && n < limit && s->n_pend > 0 && (s->n_heap < k || s->pend[0].est >= s->heap[0].score)) {
            batch[n] = pend_pop(s);
            docs[n] = batch[n].doc;
            n++;
        }
        if (n == 0) {
            if (s->n_heap == k) s->n_pend = 0; /* the best bound left is below theta: so are all */
            break;
        }
        prefetch_docs(x, docs, n);
        for (uint32_t i = 0; i < n; i++)
            if (s->n_heap < k || batch[i].est >= s->heap[0].score) rescore(x, s, k, nq, docs[i]);
        limit -= n;
    }
}

/* A run of up to RUN groups on one side, from group g0 outwards. With theta
 * the k-th best exact score and N the norm of a group's longest document,
 * weights cq >= c * f with f >= ACC_T0 / (theta N) (so acc / f >= sum c * tf)
 * make every document that can reach theta reach its threshold tau (doc_tau);
 * those whose own bound acc * invnorm / f reaches theta wait as pending
 * candidates (drain), scored exactly best bound first. One f serves the run (that of its
 * shortest group; theta only rises), and a side keeps its weights while f
 * stays within 3% below them. A side stops at the length window: a document
 * scores at most S * invnorm (S = sum of c * maxtf) and at most
 * Tq / (||q|| invnorm) (Tq = the query's largest tf). Returns false when the
 * side is done. */
static bool process_run(const tf_index *x, kz_tfidf_scratch *s, uint32_t k, uint32_t nq, uint32_t n_bm,
                        uint32_t np, double S, int side, uint32_t g0, uint32_t n_run, bool avx2) {
    const uint32_t n_docs = x->e->n_docs;
    uint32_t gl = side == 0 ? g0 : g0 + 1 - n_run; /* lowest group of the run */
    uint32_t R0 = gl * GROUP, R1 = (gl + n_run) * GROUP < n_docs ? (gl + n_run) * GROUP : n_docs;
    bool added = false;
    for (uint32_t i = 0; i < n_run; i++) {
        uint32_t g = side == 0 ? g0 + i : g0 - i, G0 = g * GROUP,
                 G1 = G0 + GROUP < n_docs ? G0 + GROUP : n_docs;
        if (s->n_heap == k) {
            double theta = s->heap[0].score * (1.0 - 1e-6); /* margin: invnorm is rounded up */
            /* right: invnorm falls with g (largest: invnorm[G0]); left: it rises (smallest: invnorm[G1 - 1])
             */
            if (side == 0 ? (double)x->invnorm[G0] * S < theta
                          : (double)s->q_maxtf < theta * s->q_norm * (double)x->invnorm[G1 - 1])
                return false;
        }
        double inv_min = group_inv_min(x->invnorm, n_docs, g);
        if (!(inv_min > 0) || !(inv_min < INFINITY)) continue; /* no document with terms (or corrupt norms) */
        bool seeded = false;
        if (s->n_heap < k) {
            if (!seed_group(x, s, k, nq, n_bm, np, side, g, inv_min, avx2)) continue;
            seeded = true;
        }
        if (!added) {
            double inv_run = group_inv_min(x->invnorm, n_docs, gl);
            double f = ACC_T0 * (inv_run > inv_min ? inv_run : inv_min) / s->heap[0].score * (1 + 1e-9);
            if (!(f <= s->f[side] && f >= 0.97 * s->f[side])) quantise_side(s, nq, n_bm, side, f * 1.01);
            memset(s->acc, 0, (size_t)n_run * GROUP);
            add_postings(x, s, np, side, side, R0, R1, s->acc, true);
            added = true;
        }
        double f = s->f[side];
        uint8_t *acc = s->acc + (size_t)(g - gl) * GROUP;
        uint32_t nc =
            group_pass(x, s, n_bm, g, side, side == 0 ? 1 : -1, acc, x->tau + (size_t)g * GROUP, avx2);
        for (uint32_t j = 0; j < nc; j++) {
            uint32_t o = s->cidx[j];
            if (G0 + o >= G1 || (seeded && (s->done[o / 64] >> (o % 64) & 1)) || in_seed(s, G0 + o)) continue;
            s->stats.docs_flagged++;
            double est = acc[o] < 255 ? acc[o] * (double)x->invnorm[G0 + o] / f * (1.0 + 1e-9) : INFINITY;
            if (est < s->heap[0].score) continue;
            __builtin_prefetch(&x->fwd_start[G0 + o]); /* read when it is scored (drain) */
            if (pend_push(s, est, G0 + o)) return false;
            if (s->n_pend >= PEND_CAP) drain(x, s, k, nq, PEND_CAP / 2); /* memory stays bounded */
        }
    }
    if (!added) add_postings(x, s, np, side, side, R0, R1, NULL, true); /* the cursors past the run */
    drain(x, s, k, nq, DRAIN);
    return true;
}

/* Groups from g0 (direction dir, at most max) whose longest documents' norms
 * stay within 5%: one weight scale serves them with little loss. */
static uint32_t run_length(const tf_index *x, uint32_t g0, uint32_t max, int dir) {
    double inv0 = group_inv_min(x->invnorm, x->e->n_docs, g0);
    uint32_t n = 1;
    while (n < max) {
        double inv = group_inv_min(x->invnorm, x->e->n_docs, dir > 0 ? g0 + n : g0 - n);
        if (dir > 0 ? !(inv >= 0.95 * inv0) : !(inv * 0.95 <= inv0)) break;
        n++;
    }
    return n;
}

/* Group order: the group of the query's own norm first, then outwards on
 * both sides (the best matches have norms near the query's), so theta rises
 * early. A side stops at the length window: a document scores at most
 * S * invnorm (S = sum of c * maxtf) and at most Tq / (||q|| invnorm) (Tq =
 * the query's largest tf), so invnorm must lie in [theta / S, Tq / (theta ||q||)]. */
int kz__tfidf_search(const kz_tfidf *ix, uint32_t slot, const char *q, size_t qlen, uint32_t k,
                     kz_tfidf_scratch *s, kz_tfidf_hit *out, uint32_t *n_out, kz_error *err) {
    int rc = search_setup(ix, slot, k, s, n_out, err);
    if (rc) return rc;
    const tf_index *x = &ix->idx[slot];
    int64_t nq64 = query_vector(x, q, qlen, s);
    if (nq64 < 0) return kz_error_set(err, KZ_ENOMEM, "tfidf: out of memory");
    uint32_t nq = (uint32_t)nq64, n_docs = x->e->n_docs, n_groups = x->n_groups;
    s->stats.terms_total = nq;
    s->stats.groups_total = n_groups;
    if (nq == 0 || k == 0 || n_docs == 0) return 0;
    uint32_t center = docs_above(x, 1.0 / s->q_norm) / GROUP;
    if (center >= n_groups) center = n_groups - 1;
    uint32_t n_bm = 0, np = 0;
    double S = 0;
    for (uint32_t j = 0; j < nq; j++) {
        const tf_term *tt = &x->terms[s->qt[j]];
        qterm *qt = &s->q[j];
        qt->c = s->qv[j] * tt->idf;
        S += qt->c * (double)tt->maxtf;
        n_bm += tt->levels;
        qt->a = tt->post_start;
        qt->b = tt[1].post_start;
        if (qt->b > qt->a) {
            s->pord[np++] = j;
            qt->cur[0] = qt->cur[1] = postings_from(x, qt->a, qt->b, center * GROUP);
        }
    }
    if (scratch_d(s, n_bm + 1)) return kz_error_set(err, KZ_ENOMEM, "tfidf: out of memory");
    n_bm = 0;
    for (uint32_t j = 0; j < nq; j++) { /* bitmaps by c descending: the pass's cut comes early */
        const tf_term *tt = &x->terms[s->qt[j]];
        for (uint32_t l = 0; l < tt->levels; l++) {
            uint32_t p = n_bm++;
            while (p > 0 && s->q[s->dterm[p - 1]].c < s->q[j].c) {
                s->dterm[p] = s->dterm[p - 1];
                s->dbm[p] = s->dbm[p - 1];
                p--;
            }
            s->dterm[p] = j;
            s->dbm[p] = x->bitmaps + (size_t)(tt->dense - 1 + l) * n_groups * 32;
        }
    }
    s->stats.terms_dense = n_bm;
    s->f[0] = s->f[1] = -1; /* no weights yet */
    seed_prefix(x, s, k, nq, q, qlen);
    bool avx2 = false;
#ifdef KZ_TFIDF_AVX2
    avx2 = !s->portable && __builtin_cpu_supports("avx2");
#endif
    uint32_t r = center, l = center; /* next group right: r; left: l - 1 */
    bool open[2] = {true, center > 0};
    while (open[0] || open[1]) {
        if (open[0]) {
            uint32_t n = run_length(x, r, n_groups - r < RUN ? n_groups - r : RUN, 1);
            open[0] = process_run(x, s, k, nq, n_bm, np, S, 0, r, n, avx2) && (r += n) < n_groups;
        }
        if (open[1]) {
            uint32_t n = run_length(x, l - 1, l < RUN ? l : RUN, -1);
            open[1] = process_run(x, s, k, nq, n_bm, np, S, 1, l - 1, n, avx2) && (l -= n) > 0;
        }
    }
    if (s->oom) return kz_error_set(err, KZ_ENOMEM, "tfidf: out of memory");
    drain(x, s, k, nq, UINT64_MAX);
    finish(s, out, n_out);
    return 0;
}
