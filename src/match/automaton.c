/* Dictionary matching automaton: a path-compressed trie over case-folded UTF-8
 * keys, laid out depth-first in one flat blob, walked from given starts. The
 * full Aho-Corasick scan over the same blob is in ac_scan.c. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "core/core_int.h"
#include "kazu/utf8.h"
#include "match/match_int.h"

#define MAX_PATTERNS 0x7fffffffu

/* ---- case folding -------------------------------------------------------- */

uint32_t kz_match_fold(uint32_t cp) {
    if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    if (cp > 0x10ffff) return cp;
    return (uint32_t)utf8proc_tolower(utf8proc_toupper((utf8proc_int32_t)cp));
}

/* ---- builder ------------------------------------------------------------- */

typedef struct pat {
    uint64_t fold_off, orig_off; /* into the builder pool */
    uint32_t fold_len, orig_len;
    uint32_t payload;
    uint32_t cs;
} pat;

struct kz_match_builder {
    pat *pats;
    size_t n, cap;
    char *pool;
    size_t pool_len, pool_cap;
};

int kz_match_builder_new(kz_match_builder **out) {
    if (!out) return KZ_EINVAL;
    *out = calloc(1, sizeof **out);
    return *out ? 0 : KZ_ENOMEM;
}

void kz_match_builder_free(kz_match_builder *b) {
    if (!b) return;
    free(b->pats);
    free(b->pool);
    free(b);
}

uint64_t kz_match_builder_count(const kz_match_builder *b) { return b ? b->n : 0; }

static int pool_reserve(kz_match_builder *b, size_t extra) {
    if (b->pool_cap - b->pool_len >= extra) return 0;
    size_t cap = b->pool_cap ? b->pool_cap : 4096;
    while (cap - b->pool_len < extra) cap *= 2;
    char *p = realloc(b->pool, cap);
    if (!p) return KZ_ENOMEM;
    b->pool = p;
    b->pool_cap = cap;
    return 0;
}

int kz_match_builder_add(kz_match_builder *b, const char *s, size_t len, uint32_t payload,
                         bool case_sensitive) {
    if (!b || !s || len == 0) return KZ_EINVAL;
    if (len > KZ_MATCH_MAX_PATTERN || b->n >= MAX_PATTERNS) return KZ_ELIMIT;
    if (!kz_utf8_valid(s, len, NULL)) return KZ_EUTF8;
    /* folded form: at most 4 bytes per code point */
    if (pool_reserve(b, len * 4 + len)) return KZ_ENOMEM;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 1024;
        pat *p = realloc(b->pats, cap * sizeof *p);
        if (!p) return KZ_ENOMEM;
        b->pats = p;
        b->cap = cap;
    }
    pat *p = &b->pats[b->n];
    p->fold_off = b->pool_len;
    size_t w = b->pool_len;
    for (size_t i = 0; i < len;) {
        int32_t cp = kz_utf8_decode(s, len, &i);
        w += kz_utf8_encode(kz_match_fold((uint32_t)cp), b->pool + w);
    }
    if (w - b->pool_len > KZ_MATCH_MAX_PATTERN) return KZ_ELIMIT;
    p->fold_len = (uint32_t)(w - b->pool_len);
    p->payload = payload;
    p->cs = case_sensitive;
    p->orig_off = w;
    p->orig_len = case_sensitive ? (uint32_t)len : 0;
    if (case_sensitive) memcpy(b->pool + w, s, len), w += len;
    b->pool_len = w;
    b->n++;
    return 0;
}

static _Thread_local const char *g_pool;

static int cmp_bytes(const char *a, size_t al, const char *b, size_t bl) {
    int c = memcmp(a, b, KZ_MIN(al, bl));
    return c ? c : (al < bl ? -1 : al > bl);
}

static int cmp_pat(const void *x, const void *y) {
    const pat *a = x, *b = y;
    int c = cmp_bytes(g_pool + a->fold_off, a->fold_len, g_pool + b->fold_off, b->fold_len);
    if (c) return c;
    if (a->payload != b->payload) return a->payload < b->payload ? -1 : 1;
    if (a->cs != b->cs) return a->cs < b->cs ? -1 : 1;
    return cmp_bytes(g_pool + a->orig_off, a->orig_len, g_pool + b->orig_off, b->orig_len);
}

static size_t align64(size_t x) { return (x + 63) & ~(size_t)63; }

static inline uint32_t k_fold_ascii_c(uint32_t c) { return c - 'A' < 26u ? c + 32 : c; }

/* The folded key bytes as the trie sees them: 0x00 becomes 0xff (see match_int.h). */
static inline uint8_t key_byte(const char *s, size_t i) {
    uint8_t c = (uint8_t)s[i];
    return c ? c : 0xff;
}

typedef struct keyset {
    const char *pool;
    const pat *pats;
    const uint32_t *first; /* key k = pats[first[k]] */
} keyset;

#define KEYS(ks, k)    ((ks)->pool + (ks)->pats[(ks)->first[k]].fold_off)
#define KEYL(ks, k)    ((ks)->pats[(ks)->first[k]].fold_len)
#define KEYB(ks, k, d) key_byte(KEYS(ks, k), d)

/* ---- double-array construction ----------------------------------------------
 * Units come in blocks of 256; a node's children (and its key marker, label 0)
 * take the units base ^ label, all inside one block. Bases are searched among
 * the free units of the last OPEN_BLOCKS blocks only (older blocks are closed),
 * which bounds the search and keeps nodes built one after another close. */
#define OPEN_BLOCKS 16u
/* Tries this large get the 128 KiB two-byte entry table. */
#define ROOT2_MIN_UNITS 65536u
#define MAX_UNITS       (KZ__U_BASE + 1u)

typedef struct dat {
    kz__ac_unit *u;
    uint64_t *used; /* bit per unit */
    uint32_t n, cap, open;
    uint8_t *tail;
    size_t tlen, tcap;
} dat;

static int dat_grow(dat *d, uint64_t need) {
    if (need > MAX_UNITS) return KZ_ELIMIT;
    while (d->n < need) {
        if (d->n == d->cap) {
            uint32_t cap = d->cap ? d->cap * 2 : 1u << 16;
            kz__ac_unit *u = realloc(d->u, (size_t)cap * sizeof *u);
            if (!u) return KZ_ENOMEM;
            d->u = u;
            uint64_t *used = realloc(d->used, (size_t)cap / 8);
            if (!used) return KZ_ENOMEM;
            d->used = used;
            d->cap = cap;
        }
        for (uint32_t i = d->n; i < d->n + 256; i++) d->u[i] = (kz__ac_unit){0, KZ__U_EMPTY};
        memset(d->used + d->n / 64, 0, 256 / 8);
        d->n += 256;
    }
    if (d->n > OPEN_BLOCKS * 256 && d->open < d->n - OPEN_BLOCKS * 256) d->open = d->n - OPEN_BLOCKS * 256;
    return 0;
}

static inline bool dat_used(const dat *d, uint32_t t) {
    return t < d->n && ((d->used[t / 64] >> (t % 64)) & 1);
}

/* A base whose units base ^ labels[k] are all free (and not the root). */
static uint32_t dat_find_base(const dat *d, const uint8_t *labels, uint32_t nl) {
    for (uint32_t w = d->open / 64; w < d->n / 64; w++) {
        for (uint64_t fr = ~d->used[w]; fr; fr &= fr - 1) {
            uint32_t e = w * 64 + (uint32_t)__builtin_ctzll(fr);
            uint32_t b = e ^ labels[0], k = 1;
            if (e == 0) continue;
            for (; k < nl; k++) {
                uint32_t t = b ^ labels[k];
                if (t == 0 || dat_used(d, t)) break;
            }
            if (k == nl) return b;
        }
    }
    return d->n; /* a fresh block */
}

static int tail_put(dat *d, const char *s, uint32_t from, uint32_t to, uint32_t key, uint64_t *off) {
    uint32_t l = to - from;
    if (d->tcap - d->tlen < l + 7) {
        size_t cap = d->tcap ? d->tcap * 2 : 1u << 16;
        while (cap - d->tlen < l + 7) cap *= 2;
        uint8_t *t = realloc(d->tail, cap);
        if (!t) return KZ_ENOMEM;
        d->tail = t, d->tcap = cap;
    }
    if (d->tlen >= KZ__U_BASE) return KZ_ELIMIT;
    *off = d->tlen;
    uint8_t *p = d->tail + d->tlen;
    if (l >= 255)
        *p++ = 255, *p++ = (uint8_t)l, *p++ = (uint8_t)(l >> 8);
    else
        *p++ = (uint8_t)l;
    for (uint32_t i = from; i < to; i++) *p++ = key_byte(s, i);
    p[0] = (uint8_t)key, p[1] = (uint8_t)(key >> 8), p[2] = (uint8_t)(key >> 16), p[3] = (uint8_t)(key >> 24);
    d->tlen = (size_t)(p + 4 - d->tail);
    return 0;
}

/* Units of depth < BFS_DEPTH are placed breadth-first: nearly every walk visits
 * them, and packed together they share cache lines and pages. */
#define BFS_DEPTH 4

typedef struct dframe {
    uint32_t lo, hi, depth, s;
} dframe;

/* Over the sorted distinct keys: a node with one key below becomes a tail
 * leaf, any other gets a base for its children. */
static int dat_build(dat *d, const keyset *ks, uint32_t n_keys) {
    int rc = dat_grow(d, 256);
    if (rc) return rc;
    d->used[0] |= 1; /* the root */
    size_t cap = 2 * (size_t)n_keys + 2, sp = 0;
    dframe *stack = malloc(cap * sizeof *stack);
    if (!stack) return KZ_ENOMEM;
    uint8_t labels[257];
    uint32_t glo[257];
    /* nodes of depth < BFS_DEPTH - 1 through a FIFO (the stack array), so their
     * children's units are placed breadth-first; below, depth-first per subtree */
    size_t qh = 0, qt = 0; /* FIFO [qh, qt) */
    stack[qt++] = (dframe){0, n_keys, 0, 0};
    dframe *dfs = NULL;
    size_t dcap = 0;
    while (qh < qt || sp) {
        dframe f;
        if (sp)
            f = dfs[--sp];
        else
            f = stack[qh++];
        if (f.s && f.hi - f.lo == 1) {
            uint64_t off;
            if ((rc = tail_put(d, KEYS(ks, f.lo), f.depth, KEYL(ks, f.lo), ks->first[f.lo], &off))) break;
            d->u[f.s].base = KZ__U_TAIL | (uint32_t)off;
            continue;
        }
        uint32_t nl = 0, k = f.lo;
        bool has_key = k < f.hi && KEYL(ks, k) == f.depth;
        if (has_key) labels[nl] = 0, glo[nl++] = k++;
        while (k < f.hi) { /* children: groups of keys by byte `depth` */
            uint8_t c = KEYB(ks, k, f.depth);
            glo[nl] = k;
            labels[nl++] = c;
            uint32_t lo = k + 1, hi = f.hi;
            while (lo < hi) {
                uint32_t mid = lo + (hi - lo) / 2;
                if (KEYB(ks, mid, f.depth) == c)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            k = lo;
        }
        glo[nl] = f.hi;
        uint32_t base = 0;
        if (nl) {
            base = dat_find_base(d, labels, nl);
            uint32_t top = 0;
            for (uint32_t j = 0; j < nl; j++) top = KZ_MAX(top, base ^ labels[j]);
            if ((rc = dat_grow(d, (uint64_t)top + 1))) break;
            for (uint32_t j = 0; j < nl; j++) {
                uint32_t t = base ^ labels[j];
                d->used[t / 64] |= 1ull << (t % 64);
                d->u[t].check = f.s;
            }
            if (has_key) d->u[base].base = ks->first[f.lo]; /* the key marker: its first record */
        }
        d->u[f.s].base = base | (has_key ? KZ__U_KEY : 0);
        if (f.depth + 1 < BFS_DEPTH) {
            for (uint32_t j = has_key ? 1u : 0u; j < nl; j++)
                stack[qt++] = (dframe){glo[j], glo[j + 1], f.depth + 1, base ^ labels[j]};
            continue;
        }
        if (sp + nl > dcap) {
            size_t nc = dcap ? dcap * 2 : 1024;
            while (nc < sp + nl) nc *= 2;
            dframe *t = realloc(dfs, nc * sizeof *t);
            if (!t) {
                rc = KZ_ENOMEM;
                break;
            }
            dfs = t, dcap = nc;
        }
        for (uint32_t j = nl; j-- > (has_key ? 1u : 0u);) /* last first: the first child is built next */
            dfs[sp++] = (dframe){glo[j], glo[j + 1], f.depth + 1, base ^ labels[j]};
    }
    free(stack), free(dfs);
    return rc;
}

int kz_match_builder_finish(kz_match_builder *b, void **blob_out, size_t *len_out, kz_error *err) {
    if (!b || !blob_out || !len_out) return kz_error_set(err, KZ_EINVAL, "match: NULL argument");
    *blob_out = NULL;
    *len_out = 0;
    g_pool = b->pool;
    if (b->n) qsort(b->pats, b->n, sizeof *b->pats, cmp_pat);
    /* drop exact duplicates */
    size_t n = 0;
    for (size_t i = 0; i < b->n; i++)
        if (n == 0 || cmp_pat(&b->pats[n - 1], &b->pats[i]) != 0) b->pats[n++] = b->pats[i];
    b->n = n;

    /* distinct keys (first record index) and the byte-trie state count */
    uint32_t *key_first = malloc((n + 1) * sizeof *key_first);
    if (!key_first) return kz_error_set(err, KZ_ENOMEM, "match: out of memory");
    uint32_t n_keys = 0, max_key = 0;
    uint64_t n_states = 1, pool_bytes = 0;
    for (size_t i = 0; i < n; i++) {
        const pat *p = &b->pats[i];
        if (p->cs) pool_bytes += 2 + p->orig_len;
        if (i && cmp_bytes(b->pool + b->pats[i - 1].fold_off, b->pats[i - 1].fold_len, b->pool + p->fold_off,
                           p->fold_len) == 0)
            continue;
        size_t lcp = 0;
        if (n_keys) {
            const pat *q = &b->pats[key_first[n_keys - 1]];
            size_t m = KZ_MIN(q->fold_len, p->fold_len);
            while (lcp < m && b->pool[q->fold_off + lcp] == b->pool[p->fold_off + lcp]) lcp++;
        }
        n_states += p->fold_len - lcp;
        max_key = KZ_MAX(max_key, p->fold_len);
        key_first[n_keys++] = (uint32_t)i;
    }
    key_first[n_keys] = (uint32_t)n;
    if (n_states >= 0xffffffffu || pool_bytes >= 0x7fffffffu || n_keys > KZ__U_BASE) {
        free(key_first);
        return kz_error_set(err, KZ_ELIMIT, "match: %llu states / %llu pool bytes exceed the format's limits",
                            (unsigned long long)n_states, (unsigned long long)pool_bytes);
    }
    keyset ks = {b->pool, b->pats, key_first};
    dat d = {0};
    int rc = dat_build(&d, &ks, n_keys);
    if (rc) {
        free(d.u), free(d.used), free(d.tail), free(key_first);
        return kz_error_set(err, rc,
                            rc == KZ_ENOMEM ? "match: out of memory" : "match: the trie exceeds 2^30 units");
    }
    uint64_t tail_bytes = d.tlen + KZ__AC_TAIL_PAD;

    kz__ac_header h;
    memset(&h, 0, sizeof h);
    h.magic = KZ_MATCH_MAGIC;
    h.version = KZ_MATCH_FORMAT_VERSION;
    h.byte_order = KZ__AC_BYTE_ORDER;
    h.header_bytes = KZ__AC_HEADER_BYTES;
    h.n_keys = n_keys;
    h.n_recs = (uint32_t)n;
    h.max_key_bytes = max_key;
    h.n_states = (uint32_t)n_states;
    h.n_units = d.n;
    h.tail_bytes = tail_bytes;
    h.pool_bytes = pool_bytes;
    size_t off = align64(sizeof h);
    h.off_units = off, off = align64(off + (size_t)d.n * sizeof(kz__ac_unit));
    h.off_tail = off, off = align64(off + tail_bytes);
    h.off_recs = off, off = align64(off + n * sizeof(kz__ac_rec));
    h.off_pool = off, off = align64(off + pool_bytes);
    if (d.n >= ROOT2_MIN_UNITS) h.off_root2 = off, off = align64(off + 128 * 128 * sizeof(kz__ac_root2));
    h.total_bytes = off;
    uint8_t *blob = aligned_alloc(64, off);
    if (!blob) {
        free(d.u), free(d.used), free(d.tail), free(key_first);
        return kz_error_set(err, KZ_ENOMEM, "match: out of memory for a %zu-byte automaton", off);
    }
    memset(blob, 0, off);
    memcpy(blob, &h, sizeof h);
    d.u[0].check = KZ__U_EMPTY;
    memcpy(blob + h.off_units, d.u, (size_t)d.n * sizeof(kz__ac_unit));
    if (d.tlen) memcpy(blob + h.off_tail, d.tail, d.tlen);
    /* the two-byte entry table (after unit 0's check is final) */
    kz__ac_root2 *r2 = (kz__ac_root2 *)(blob + h.off_root2);
    const kz__ac_unit *du = (const kz__ac_unit *)(blob + h.off_units);
    uint32_t rb = du[0].base & KZ__U_BASE;
    for (uint32_t c0 = 1; c0 < 128 && h.off_root2; c0++) {
        uint32_t t1 = rb ^ k_fold_ascii_c(c0);
        if (c0 != k_fold_ascii_c(c0) || t1 >= d.n || t1 == 0 || du[t1].check != 0) continue;
        uint32_t b1 = du[t1].base;
        for (uint32_t c1 = 1; c1 < 128; c1++) {
            if (c1 != k_fold_ascii_c(c1)) continue;
            kz__ac_root2 *e = &r2[c0 | c1 << 7];
            e->t1 = t1 | ((b1 & KZ__U_KEY) ? KZ__R2_KEY : 0);
            if (b1 & KZ__U_TAIL) {
                e->t2 = KZ__R2_SLOW;
                continue;
            }
            uint32_t t2 = (b1 & KZ__U_BASE) ^ c1;
            e->t2 = (t2 < d.n && du[t2].check == t1) ? t2 : 0;
        }
    }
    free(d.u), free(d.used), free(d.tail);
    kz__ac_rec *recs = (kz__ac_rec *)(blob + h.off_recs);
    uint8_t *pool = blob + h.off_pool;
    uint64_t pw = 0;
    for (size_t i = 0; i < n; i++) {
        const pat *p = &b->pats[i];
        recs[i].payload = p->payload;
        recs[i].cs = 0;
        if (p->cs) {
            recs[i].cs = (uint32_t)(1 + pw);
            uint16_t l = (uint16_t)p->orig_len;
            memcpy(pool + pw, &l, 2);
            memcpy(pool + pw + 2, b->pool + p->orig_off, p->orig_len);
            pw += 2 + p->orig_len;
        }
    }
    for (uint32_t k = 0; k < n_keys; k++) recs[key_first[k + 1] - 1].cs |= KZ__REC_LAST;
    free(key_first);
    *blob_out = blob;
    *len_out = off;
    return 0;
}

/* ---- matcher ------------------------------------------------------------- */

static bool span_ok(uint64_t off, uint64_t count, uint64_t size, size_t len) {
    if (off % 64 || off < KZ__AC_HEADER_BYTES || off > len) return false;
    if (count && size > (len - off) / count) return false;
    return count * size <= len - off;
}

int kz_matcher_open(const void *blob, size_t len, kz_matcher **out, kz_error *err) {
    if (!out) return kz_error_set(err, KZ_EINVAL, "match: NULL out");
    *out = NULL;
    if (!blob || ((uintptr_t)blob & 7))
        return kz_error_set(err, KZ_EINVAL, "match: blob NULL or not 8-byte aligned");
    if (len < KZ__AC_HEADER_BYTES)
        return kz_error_set(err, KZ_EPARSE, "match: blob of %zu bytes is truncated", len);
    kz__ac_header h;
    memcpy(&h, blob, sizeof h);
    if (h.magic != KZ_MATCH_MAGIC)
        return kz_error_set(err, KZ_EFORMAT, "match: not a matcher blob (bad magic)");
    if (h.version != KZ_MATCH_FORMAT_VERSION)
        return kz_error_set(err, KZ_EFORMAT, "match: blob format version %u, this library reads %u",
                            h.version, KZ_MATCH_FORMAT_VERSION);
    if (h.byte_order != KZ__AC_BYTE_ORDER)
        return kz_error_set(err, KZ_EFORMAT, "match: blob of another byte order");
    if (h.header_bytes != KZ__AC_HEADER_BYTES) return kz_error_set(err, KZ_EPARSE, "match: bad header_bytes");
    if (h.total_bytes > len)
        return kz_error_set(err, KZ_EPARSE, "match: blob truncated (%zu of %llu bytes)", len,
                            (unsigned long long)h.total_bytes);
    if (h.n_units < 256 || h.n_units % 256 || h.n_units > MAX_UNITS)
        return kz_error_set(err, KZ_EPARSE, "match: bad n_units");
    if (h.n_keys > KZ__U_BASE || h.n_recs > MAX_PATTERNS)
        return kz_error_set(err, KZ_EPARSE, "match: bad key or record count");
    if (h.tail_bytes < KZ__AC_TAIL_PAD || h.tail_bytes - KZ__AC_TAIL_PAD > KZ__U_BASE)
        return kz_error_set(err, KZ_EPARSE, "match: bad tail_bytes");
    if (h.max_key_bytes > KZ_MATCH_MAX_PATTERN)
        return kz_error_set(err, KZ_EPARSE, "match: bad max_key_bytes");
    if (h.pool_bytes >= 0x7fffffffu) return kz_error_set(err, KZ_EPARSE, "match: bad pool_bytes");
    size_t L = (size_t)h.total_bytes;
    struct {
        const char *name;
        uint64_t off, count, size;
    } arr[] = {{"units", h.off_units, h.n_units, sizeof(kz__ac_unit)},
               {"tail", h.off_tail, h.tail_bytes, 1},
               {"recs", h.off_recs, h.n_recs, sizeof(kz__ac_rec)},
               {"pool", h.off_pool, h.pool_bytes, 1},
               {"root2", h.off_root2, 128 * 128, sizeof(kz__ac_root2)}};
    for (size_t i = 0; i < sizeof arr / sizeof arr[0]; i++)
        if (i != 4 || h.off_root2) /* the two-byte table is optional */
            if (!span_ok(arr[i].off, arr[i].count, arr[i].size, L))
                return kz_error_set(err, KZ_EPARSE,
                                    "match: array %s (offset %llu, %llu x %llu bytes) outside the blob",
                                    arr[i].name, (unsigned long long)arr[i].off,
                                    (unsigned long long)arr[i].count, (unsigned long long)arr[i].size);
    const uint8_t *p = blob;
    for (uint32_t i = 0; i < KZ__AC_TAIL_PAD; i++)
        if (p[h.off_tail + h.tail_bytes - 1 - i])
            return kz_error_set(err, KZ_EPARSE, "match: tail area not zero-padded");
    kz_matcher *m = calloc(1, sizeof *m);
    if (!m) return kz_error_set(err, KZ_ENOMEM, "match: out of memory");
    if (pthread_mutex_init(&m->lock, NULL)) {
        free(m);
        return kz_error_set(err, KZ_ENOMEM, "match: cannot create a mutex");
    }
    m->units = (const kz__ac_unit *)(p + h.off_units);
    m->root2 = h.off_root2 ? (const kz__ac_root2 *)(p + h.off_root2) : NULL;
    m->tail = p + h.off_tail;
    m->recs = (const kz__ac_rec *)(p + h.off_recs);
    m->pool = p + h.off_pool;
    m->tail_end = h.tail_bytes - KZ__AC_TAIL_PAD;
    m->pool_bytes = h.pool_bytes;
    m->total = h.total_bytes;
    m->n_keys = h.n_keys;
    m->n_recs = h.n_recs;
    m->max_key = h.max_key_bytes;
    m->n_states = h.n_states;
    m->n_units = h.n_units;
    *out = m;
    return 0;
}

void kz_matcher_close(kz_matcher *m) {
    if (!m) return;
    kz__ac_free(m->ac);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

void kz_matcher_get_info(const kz_matcher *m, kz_matcher_info *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    if (!m) return;
    out->n_states = m->n_states;
    out->n_keys = m->n_keys;
    out->n_patterns = m->n_recs;
    out->blob_bytes = m->total;
    out->n_units = m->n_units;
}

int kz__match_report(const kz_matcher *m, uint32_t rec, const char *text, size_t start, size_t end,
                     kz_match_fn fn, void *user) {
    for (uint32_t r = rec; r < m->n_recs; r++) {
        const kz__ac_rec *x = &m->recs[r];
        uint32_t cs = x->cs & ~KZ__REC_LAST;
        bool ok = true;
        if (cs) {
            uint64_t o = cs - 1ull;
            uint16_t pl = 0;
            if (o + 2 <= m->pool_bytes) memcpy(&pl, m->pool + o, 2);
            ok = o + 2 + pl <= m->pool_bytes && pl == end - start &&
                 memcmp(text + start, m->pool + o + 2, pl) == 0;
        }
        if (ok) {
            kz_match_hit hit;
            memset(&hit, 0, sizeof hit); /* no stray padding bytes for callers that compare hits bytewise */
            hit.start = start, hit.end = end, hit.payload = x->payload, hit.case_sensitive = cs != 0;
            int rc = fn(user, &hit);
            if (rc) return rc;
        }
        if (x->cs & KZ__REC_LAST) break;
    }
    return 0;
}

/* ---- anchored walks ------------------------------------------------------ */

/* ASCII folding as the trie sees it: A-Z to a-z, 0x00 to 0xff. */
static const uint8_t k_fold_ascii[128] = {
    0xff, 1,   2,   3,   4,   5,   6,   7,   8,   9,   10,  11,  12,  13,  14,  15,  16,  17,  18,
    19,   20,  21,  22,  23,  24,  25,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,
    38,   39,  40,  41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51,  52,  53,  54,  55,  56,
    57,   58,  59,  60,  61,  62,  63,  64,  97,  98,  99,  100, 101, 102, 103, 104, 105, 106, 107,
    108,  109, 110, 111, 112, 113, 114, 115, 116, 117, 118, 119, 120, 121, 122, 91,  92,  93,  94,
    95,   96,  97,  98,  99,  100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110, 111, 112, 113,
    114,  115, 116, 117, 118, 119, 120, 121, 122, 123, 124, 125, 126, 127};

/* The folded UTF-8 bytes of the text from a start, one at a time. The text
 * comes with fb: its ASCII bytes already folded, every other byte (and the
 * padding after the text) >= 0x80, which sends the reader to the slow path. */
typedef struct fold_src {
    size_t i;       /* next text byte */
    uint8_t buf[4]; /* folded encoding of the current non-ASCII code point */
    uint8_t bi, bl; /* buf[bi .. bl) still to deliver */
} fold_src;

static int fold_next_slow(const char *text, size_t len, fold_src *s) {
    if (s->bi < s->bl) return s->buf[s->bi++];
    if (s->i >= len) return -1;
    unsigned char x = (unsigned char)text[s->i];
    if (x < 0x80) {
        s->i++;
        return k_fold_ascii[x];
    }
    size_t j = s->i;
    int32_t cp = kz_utf8_decode(text, len, &j);
    if (cp < 0) return -1; /* an invalid byte never matches */
    s->i = j;
    s->bl = (uint8_t)kz_utf8_encode(kz_match_fold((uint32_t)cp), (char *)s->buf);
    s->bi = 1;
    return s->buf[0];
}

static inline int fold_next(const char *text, const uint8_t *fb, size_t len, fold_src *s) {
    uint8_t c = fb[s->i];
    if (__builtin_expect(s->bi == s->bl && c < 0x80, 1)) {
        s->i++;
        return c;
    }
    return fold_next_slow(text, len, s);
}

/* Fold 8 ASCII bytes at once: 'A'..'Z' get bit 5 set (0x00 is not handled). */
static inline uint64_t fold8(uint64_t x) {
    uint64_t ge_a = x + 0x3f3f3f3f3f3f3f3full; /* byte >= 'A' sets its bit 7 */
    uint64_t gt_z = x + 0x2525252525252525ull; /* byte >  'Z' sets its bit 7 */
    return x | ((ge_a & ~gt_z & 0x8080808080808080ull) >> 2);
}

#define FOLD_PAD 16 /* bytes of 0x80 after the folded text */

/* fb[0 .. len + FOLD_PAD): see fold_src. */
static void fold_text(const char *text, size_t len, uint8_t *fb) {
    const uint64_t hi = 0x8080808080808080ull, lo = 0x0101010101010101ull;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t x = kz__rd64((const uint8_t *)text + i);
        if (!(x & hi) && !((x - lo) & ~x & hi)) { /* ASCII, no NUL */
            uint64_t y = fold8(x);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
            y = __builtin_bswap64(y);
#endif
            memcpy(fb + i, &y, 8);
            continue;
        }
        for (size_t k = i; k < i + 8; k++) {
            uint8_t c = (uint8_t)text[k];
            fb[k] = c < 0x80 ? k_fold_ascii[c] : c;
        }
    }
    for (; i < len; i++) {
        uint8_t c = (uint8_t)text[i];
        fb[i] = c < 0x80 ? k_fold_ascii[c] : c;
    }
    memset(fb + len, 0x80, FOLD_PAD);
}

/* Does the text continue with the tail bytes t[0..tl)? Advances f past them. */
static inline bool tail_matches(const char *text, const uint8_t *fb, size_t len, fold_src *f,
                                const uint8_t *t, uint32_t tl) {
    for (uint32_t k = 0; k < tl;) {
        if (f->bi == f->bl) { /* 8 folded bytes at once while they are ASCII (fb is padded) */
            uint64_t x = kz__rd64(fb + f->i);
            uint32_t n = tl - k < 8 ? tl - k : 8;
            uint64_t mask = n == 8 ? ~0ull : (1ull << (8 * n)) - 1;
            if (!(x & mask & 0x8080808080808080ull)) {
                if ((x ^ kz__rd64(t + k)) & mask) return false;
                f->i += n, k += n;
                continue;
            }
        }
        if (fold_next(text, fb, len, f) != t[k]) return false;
        k++;
    }
    return true;
}

/* Finish a walk whose next unit is t (child of s) with the general reader:
 * f is positioned after the byte that led to t. Returns a nonzero callback
 * value, else 0. */
static int walk_from(const kz_matcher *m, const char *text, const uint8_t *fb, size_t len, size_t start,
                     fold_src f, uint32_t s, uint32_t t, const uint8_t *end_ok, kz_match_fn fn, void *user) {
    const kz__ac_unit *u = m->units;
    const uint32_t n = m->n_units;
    for (;;) {
        if (t >= n) return 0;
        kz__ac_unit x = u[t];
        if (x.check != s) return 0;
        uint32_t b = x.base;
        if (b & KZ__U_TAIL) {
            const uint8_t *tb;
            uint32_t tl, key;
            if (kz__tail_at(m, b & ~KZ__U_TAIL, &tb, &tl, &key) && tail_matches(text, fb, len, &f, tb, tl) &&
                f.bi == f.bl && (!end_ok || end_ok[f.i]))
                return kz__match_report(m, key, text, start, f.i, fn, user);
            return 0;
        }
        if (b & KZ__U_KEY) {
            uint32_t k = b & KZ__U_BASE;
            if (f.bi == f.bl && (!end_ok || end_ok[f.i]) && k < n && u[k].check == t) {
                int rc = kz__match_report(m, u[k].base, text, start, f.i, fn, user);
                if (rc) return rc;
            }
        }
        int c = fold_next(text, fb, len, &f);
        if (c < 0) return 0;
        s = t;
        t = (b & KZ__U_BASE) ^ (uint32_t)c;
    }
}

/* Walks advance in batches, one unit per walk per round, with their state in
 * small arrays: the unit loads of a round are independent, so their cache
 * misses overlap (each is also prefetched one round ahead). A walk that meets
 * a non-ASCII byte, a tail or the end of the text is finished by walk_from. */
#define BATCH 32

int kz_matcher_scan_anchored(const kz_matcher *m, const char *text, size_t len, const size_t *starts,
                             size_t n_starts, const uint8_t *end_ok, kz_match_fn fn, void *user) {
    if (!m || (!text && len) || (!starts && n_starts) || !fn) return KZ_EINVAL;
    uint8_t local[4096];
    uint8_t *fb = len + FOLD_PAD <= sizeof local ? local : malloc(len + FOLD_PAD);
    if (!fb) return KZ_ENOMEM;
    fold_text(text, len, fb);
    const kz__ac_unit *u = m->units;
    const uint32_t n = m->n_units, root_base = u[0].base & KZ__U_BASE;
    uint32_t bt[BATCH], bs[BATCH];
    size_t bi[BATCH], bst[BATCH];
    /* per round: pending tails and reports */
    uint32_t pt_t[BATCH], pr_rec[2 * BATCH];
    size_t pt_i[BATCH], pt_st[BATCH], pr_st[2 * BATCH], pr_end[2 * BATCH];
    size_t nb = 0, next = 0, npt = 0, npr = 0;
    int rc = 0;
    while (nb || next < n_starts) {
        /* fill the batch: the root step of new walks */
        while (nb < BATCH && next < n_starts) {
            size_t st = starts[next++];
            if (st >= len) continue;
            uint8_t c = fb[st], c1 = fb[st + 1];
            if (m->root2 && (c | c1) < 0x80) { /* two ASCII bytes in one step */
                kz__ac_root2 e = m->root2[c | c1 << 7];
                uint32_t t1 = e.t1 & ~KZ__R2_KEY;
                if (!t1 || t1 >= n) continue;
                if (e.t1 & KZ__R2_KEY) {
                    uint32_t kk = u[t1].base & KZ__U_BASE;
                    if ((!end_ok || end_ok[st + 1]) && kk < n && u[kk].check == t1 &&
                        (rc = kz__match_report(m, u[kk].base, text, st, st + 1, fn, user)))
                        goto out;
                }
                if (e.t2 == KZ__R2_SLOW) {
                    fold_src f = {st + 1, {0}, 0, 0};
                    if ((rc = walk_from(m, text, fb, len, st, f, 0, t1, end_ok, fn, user))) goto out;
                    continue;
                }
                if (!e.t2 || e.t2 >= n) continue;
                __builtin_prefetch(&u[e.t2]);
                bt[nb] = e.t2, bs[nb] = t1, bi[nb] = st + 2, bst[nb] = st;
                nb++;
                continue;
            }
            if (c >= 0x80) { /* non-ASCII first byte (or a continuation byte: no walk) */
                if (((unsigned char)text[st] & 0xc0) == 0x80) continue;
                fold_src f = {st, {0}, 0, 0};
                int c2 = fold_next(text, fb, len, &f);
                if (c2 >= 0 &&
                    (rc = walk_from(m, text, fb, len, st, f, 0, root_base ^ (uint32_t)c2, end_ok, fn, user)))
                    goto out;
                continue;
            }
            uint32_t t = root_base ^ c;
            if (t >= n) continue;
            __builtin_prefetch(&u[t]);
            bt[nb] = t, bs[nb] = 0, bi[nb] = st + 1, bst[nb] = st;
            nb++;
        }
        /* one round: every walk visits its unit and aims at the next */
        size_t keep = 0;
        for (size_t k = 0; k < nb; k++) {
            uint32_t t = bt[k];
            kz__ac_unit x = u[t];
            if (x.check != bs[k]) continue;
            uint32_t b = x.base;
            size_t i = bi[k];
            if (__builtin_expect((b & (KZ__U_TAIL | KZ__U_KEY)) != 0, 0)) {
                /* tails and records are elsewhere: prefetch now, use after the round */
                if (b & KZ__U_TAIL) {
                    uint32_t off = b & ~KZ__U_TAIL;
                    if (off < m->tail_end) __builtin_prefetch(m->tail + off);
                    pt_t[npt] = t, pt_i[npt] = i, pt_st[npt] = bst[k];
                    npt++;
                    continue;
                }
                uint32_t kk = b & KZ__U_BASE;
                if ((!end_ok || end_ok[i]) && kk < n && u[kk].check == t) {
                    uint32_t r = u[kk].base;
                    if (r < m->n_recs) __builtin_prefetch(&m->recs[r]);
                    pr_rec[npr] = r, pr_st[npr] = bst[k], pr_end[npr] = i;
                    npr++;
                }
            }
            uint8_t c = fb[i];
            uint32_t nt = (b & KZ__U_BASE) ^ c;
            if (__builtin_expect(c >= 0x80, 0)) { /* non-ASCII, NUL or the end of the text */
                fold_src f = {i, {0}, 0, 0};
                int c2 = fold_next(text, fb, len, &f);
                if (c2 >= 0 && (rc = walk_from(m, text, fb, len, bst[k], f, t,
                                               (b & KZ__U_BASE) ^ (uint32_t)c2, end_ok, fn, user)))
                    goto out;
                continue;
            }
            if (nt >= n) continue;
            __builtin_prefetch(&u[nt]);
            bt[keep] = nt, bs[keep] = t, bi[keep] = i + 1, bst[keep] = bst[k];
            keep++;
        }
        nb = keep;
        /* tails that the text continues with become reports too (records prefetched
         * while the round's key reports run) */
        for (size_t k = 0; k < npt; k++) {
            const uint8_t *tb;
            uint32_t tl, r, t = pt_t[k];
            fold_src f = {pt_i[k], {0}, 0, 0};
            if (!kz__tail_at(m, u[t].base & ~KZ__U_TAIL, &tb, &tl, &r) ||
                !tail_matches(text, fb, len, &f, tb, tl) || f.bi != f.bl || (end_ok && !end_ok[f.i]))
                continue;
            if (r < m->n_recs) __builtin_prefetch(&m->recs[r]);
            pr_rec[npr] = r, pr_st[npr] = pt_st[k], pr_end[npr] = f.i;
            npr++;
        }
        for (size_t k = 0; k < npr; k++)
            if ((rc = kz__match_report(m, pr_rec[k], text, pr_st[k], pr_end[k], fn, user))) goto out;
        npr = npt = 0;
    }
out:
    if (fb != local) free(fb);
    return rc;
}
