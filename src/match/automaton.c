/* Dictionary matching automaton: builds a BFS-ordered byte trie over case-folded
 * UTF-8 keys with failure links into one flat blob, and scans text with it. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "core/core_int.h"
#include "kazu/utf8.h"
#include "match/match_int.h"

#define MAX_PATTERNS 0x7fffffffu
#define RING         2048u /* > KZ_MATCH_MAX_PATTERN + 1 code points of history */

/* ---- case folding and word characters ----------------------------------- */

uint32_t kz_match_fold(uint32_t cp) {
    if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    if (cp > 0x10ffff) return cp;
    return (uint32_t)utf8proc_tolower(utf8proc_toupper((utf8proc_int32_t)cp));
}

static bool is_word_cp(int32_t cp) {
    if (cp < 0) return false;
    if (cp < 0x80) return (cp >= '0' && cp <= '9') || ((cp | 32) >= 'a' && (cp | 32) <= 'z');
    utf8proc_category_t c = utf8proc_category(cp);
    return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_NO; /* L*, M*, N* */
}

/* ---- builder ------------------------------------------------------------- */

typedef struct pat {
    uint64_t fold_off, orig_off; /* into the builder pool */
    uint32_t fold_len, orig_len;
    uint32_t payload, cp_len;
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
    uint32_t cps = 0;
    size_t w = b->pool_len;
    for (size_t i = 0; i < len;) {
        int32_t cp = kz_utf8_decode(s, len, &i);
        w += kz_utf8_encode(kz_match_fold((uint32_t)cp), b->pool + w);
        cps++;
    }
    if (w - b->pool_len > KZ_MATCH_MAX_PATTERN) return KZ_ELIMIT;
    p->fold_len = (uint32_t)(w - b->pool_len);
    p->cp_len = cps;
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

typedef struct range {
    uint32_t lo, hi; /* keys [lo, hi) sharing this state's prefix */
} range;

/* Child of s labelled c in a built automaton, or 0. */
static uint32_t child_of(const kz__ac_state *st, const uint8_t *label, uint32_t s, uint8_t c) {
    uint32_t lo = st[s].kids, hi = st[s + 1].kids;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (label[mid] < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (lo < st[s + 1].kids && label[lo] == c) ? lo : 0;
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

    /* distinct keys (first record index) and the exact state count */
    uint32_t *key_first = malloc((n + 1) * sizeof *key_first);
    if (!key_first) return kz_error_set(err, KZ_ENOMEM, "match: out of memory");
    uint32_t n_keys = 0, max_key = 0;
    uint64_t n_states = 1, pool_bytes = 0;
    for (size_t i = 0; i < n; i++) {
        const pat *p = &b->pats[i];
        if (p->cs) pool_bytes += p->orig_len;
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
    if (n_states >= 0xffffffffu || pool_bytes >= 0xffffffffu) {
        free(key_first);
        return kz_error_set(err, KZ_ELIMIT, "match: %llu states / %llu pool bytes exceed 2^32",
                            (unsigned long long)n_states, (unsigned long long)pool_bytes);
    }
    uint32_t ns = (uint32_t)n_states;

    /* layout */
    kz__ac_header h;
    memset(&h, 0, sizeof h);
    h.magic = KZ_MATCH_MAGIC;
    h.version = KZ_MATCH_FORMAT_VERSION;
    h.byte_order = KZ__AC_BYTE_ORDER;
    h.header_bytes = KZ__AC_HEADER_BYTES;
    h.n_states = ns;
    h.n_keys = n_keys;
    h.n_recs = (uint32_t)n;
    h.max_key_bytes = max_key;
    h.pool_bytes = pool_bytes;
    size_t off = align64(sizeof h);
    h.off_root = off, off = align64(off + 256 * 4);
    h.off_states = off, off = align64(off + ((size_t)ns + 1) * sizeof(kz__ac_state));
    h.off_label = off, off = align64(off + (size_t)ns);
    h.off_keys = off, off = align64(off + (size_t)n_keys * sizeof(kz__ac_key));
    h.off_recs = off, off = align64(off + n * sizeof(kz__ac_rec));
    h.off_pool = off, off = align64(off + pool_bytes);
    h.total_bytes = off;
    uint8_t *blob = aligned_alloc(64, off);
    range *cur = malloc(((size_t)n_keys + 1) * sizeof *cur),
          *nxt = malloc(((size_t)n_keys + 1) * sizeof *nxt);
    if (!blob || !cur || !nxt) {
        free(blob), free(cur), free(nxt), free(key_first);
        return kz_error_set(err, KZ_ENOMEM, "match: out of memory for a %zu-byte automaton", off);
    }
    memset(blob, 0, off);
    memcpy(blob, &h, sizeof h);
    uint32_t *root = (uint32_t *)(blob + h.off_root);
    kz__ac_state *st = (kz__ac_state *)(blob + h.off_states);
    uint8_t *label = blob + h.off_label;
    kz__ac_key *keys = (kz__ac_key *)(blob + h.off_keys);
    kz__ac_rec *recs = (kz__ac_rec *)(blob + h.off_recs);
    uint8_t *pool = blob + h.off_pool;

#define KEYB(k) ((const uint8_t *)b->pool + b->pats[key_first[k]].fold_off)
#define KEYL(k) (b->pats[key_first[k]].fold_len)
    /* level-by-level BFS: the keys below a state form one sorted range, and its
     * children are the sub-ranges by the next byte, so ids come out in BFS order
     * with every node's children consecutive and sorted by label */
    size_t n_cur = 0, n_nxt;
    cur[n_cur++] = (range){0, n_keys};
    uint32_t base = 0, next_id = 1;
    for (uint32_t depth = 0; n_cur; depth++) {
        n_nxt = 0;
        for (size_t j = 0; j < n_cur; j++) {
            uint32_t id = base + (uint32_t)j;
            st[id].kids = next_id;
            uint32_t k = cur[j].lo;
            if (k < cur[j].hi && KEYL(k) == depth) k++; /* the key ending here */
            while (k < cur[j].hi) {
                uint8_t c = KEYB(k)[depth];
                uint32_t e = k + 1;
                while (e < cur[j].hi && KEYB(e)[depth] == c) e++;
                label[next_id] = c;
                st[next_id].out = KEYL(k) == depth + 1 ? k + 1 : 0; /* terminal marker for now */
                nxt[n_nxt++] = (range){k, e};
                next_id++;
                k = e;
            }
        }
        base += (uint32_t)n_cur;
        range *t = cur;
        cur = nxt, nxt = t;
        n_cur = n_nxt;
    }
    st[ns].kids = ns;
#undef KEYB
#undef KEYL
    for (uint32_t c = st[0].kids; c < st[1].kids; c++) root[label[c]] = c;

    /* failure links and output chains, in BFS order (fail[s] < s is already final) */
    for (uint32_t s = 0; s < ns; s++) {
        if (s) {
            uint32_t t = st[s].out;
            uint32_t chain = st[st[s].fail].out & KZ__AC_OUT_KEY;
            if (t) {
                keys[t - 1].next = chain;
                st[s].out = t | KZ__AC_OUT_HERE;
            } else {
                st[s].out = chain;
            }
        }
        for (uint32_t c = st[s].kids; c < st[s + 1].kids; c++) {
            uint32_t g = 0;
            if (s) {
                uint32_t f = st[s].fail;
                for (;;) {
                    g = child_of(st, label, f, label[c]);
                    if (g || f == 0) break;
                    f = st[f].fail;
                }
            }
            st[c].fail = g;
        }
    }
    /* keys and records */
    uint64_t pw = 0;
    for (uint32_t k = 0; k < n_keys; k++) {
        keys[k].rec_start = key_first[k];
        keys[k].rec_count = key_first[k + 1] - key_first[k];
        keys[k].cp_len = b->pats[key_first[k]].cp_len;
    }
    for (size_t i = 0; i < n; i++) {
        const pat *p = &b->pats[i];
        recs[i].payload = p->payload;
        recs[i].case_sensitive = p->cs;
        recs[i].pool_off = (uint32_t)pw;
        recs[i].pool_len = p->orig_len;
        if (p->cs) memcpy(pool + pw, b->pool + p->orig_off, p->orig_len), pw += p->orig_len;
    }
    free(cur), free(nxt), free(key_first);
    *blob_out = blob;
    *len_out = off;
    return 0;
}

/* ---- matcher ------------------------------------------------------------- */

struct kz_matcher {
    const uint32_t *root;
    const kz__ac_state *st;
    const uint8_t *label, *pool;
    const kz__ac_key *keys;
    const kz__ac_rec *recs;
    uint32_t n_states, n_keys, n_recs, max_key;
    uint64_t pool_bytes, total;
};

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
    if (h.n_states == 0 || h.n_states == 0xffffffffu)
        return kz_error_set(err, KZ_EPARSE, "match: bad n_states");
    if (h.max_key_bytes > KZ_MATCH_MAX_PATTERN)
        return kz_error_set(err, KZ_EPARSE, "match: bad max_key_bytes");
    if (h.pool_bytes >= 0xffffffffu) return kz_error_set(err, KZ_EPARSE, "match: bad pool_bytes");
    size_t L = (size_t)h.total_bytes;
    struct {
        const char *name;
        uint64_t off, count, size;
    } arr[] = {{"root", h.off_root, 256, 4},
               {"states", h.off_states, (uint64_t)h.n_states + 1, sizeof(kz__ac_state)},
               {"label", h.off_label, h.n_states, 1},
               {"keys", h.off_keys, h.n_keys, sizeof(kz__ac_key)},
               {"recs", h.off_recs, h.n_recs, sizeof(kz__ac_rec)},
               {"pool", h.off_pool, h.pool_bytes, 1}};
    for (size_t i = 0; i < sizeof arr / sizeof arr[0]; i++)
        if (!span_ok(arr[i].off, arr[i].count, arr[i].size, L))
            return kz_error_set(err, KZ_EPARSE,
                                "match: array %s (offset %llu, %llu x %llu bytes) outside the blob",
                                arr[i].name, (unsigned long long)arr[i].off, (unsigned long long)arr[i].count,
                                (unsigned long long)arr[i].size);
    kz_matcher *m = calloc(1, sizeof *m);
    if (!m) return kz_error_set(err, KZ_ENOMEM, "match: out of memory");
    const uint8_t *p = blob;
    m->root = (const uint32_t *)(p + h.off_root);
    m->st = (const kz__ac_state *)(p + h.off_states);
    m->label = p + h.off_label;
    m->keys = (const kz__ac_key *)(p + h.off_keys);
    m->recs = (const kz__ac_rec *)(p + h.off_recs);
    m->pool = p + h.off_pool;
    m->n_states = h.n_states;
    m->n_keys = h.n_keys;
    m->n_recs = h.n_recs;
    m->max_key = h.max_key_bytes;
    m->pool_bytes = h.pool_bytes;
    m->total = h.total_bytes;
    *out = m;
    return 0;
}

void kz_matcher_close(kz_matcher *m) { free(m); }

void kz_matcher_get_info(const kz_matcher *m, kz_matcher_info *out) {
    if (!out) return;
    memset(out, 0, sizeof *out);
    if (!m) return;
    out->n_states = m->n_states;
    out->n_keys = m->n_keys;
    out->n_patterns = m->n_recs;
    out->blob_bytes = m->total;
}

/* One goto step. Every index read from the blob is checked; failure links that
 * do not go to a smaller state are treated as the root, so the loop ends. */
static inline uint32_t step(const kz_matcher *m, uint32_t s, uint8_t c) {
    const uint32_t n = m->n_states;
    for (;;) {
        if (s == 0) {
            uint32_t r = m->root[c];
            return r < n ? r : 0;
        }
        uint32_t lo = m->st[s].kids, hi = m->st[s + 1].kids;
        if (lo <= hi && hi <= n) {
            if (hi - lo <= 8) {
                for (uint32_t i = lo; i < hi; i++)
                    if (m->label[i] == c) return i;
            } else {
                uint32_t a = lo, bnd = hi;
                while (a < bnd) {
                    uint32_t mid = a + (bnd - a) / 2;
                    if (m->label[mid] < c)
                        a = mid + 1;
                    else
                        bnd = mid;
                }
                if (a < hi && m->label[a] == c) return a;
            }
        }
        uint32_t f = m->st[s].fail;
        s = f < s ? f : 0;
    }
}

static uint8_t g_fold_ascii[128];
static bool g_word_ascii[128];
static void init_ascii(void) {
    for (int i = 0; i < 128; i++) {
        g_fold_ascii[i] = (uint8_t)kz_match_fold((uint32_t)i);
        g_word_ascii[i] = is_word_cp(i);
    }
}

static bool next_is_word(const char *text, size_t len, size_t i) {
    if (i >= len) return false;
    unsigned char c = (unsigned char)text[i];
    if (c < 0x80) return g_word_ascii[c];
    return is_word_cp(kz_utf8_decode(text, len, &i));
}

int kz_matcher_scan(const kz_matcher *m, const char *text, size_t len, unsigned flags, kz_match_fn fn,
                    void *user) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_ascii);
    if (!m || (!text && len) || !fn) return KZ_EINVAL;
    size_t ring_off[RING];
    uint8_t ring_word[RING];
    uint64_t k = 0; /* code points consumed */
    uint32_t s = 0;
    const bool wb = flags & KZ_MATCH_WORD_BOUNDARY;
    for (size_t i = 0; i < len;) {
        size_t cs = i;
        unsigned char c0 = (unsigned char)text[i];
        bool word;
        if (c0 < 0x80) {
            i++;
            word = g_word_ascii[c0];
            s = step(m, s, g_fold_ascii[c0]);
        } else {
            int32_t cp = kz_utf8_decode(text, len, &i);
            word = is_word_cp(cp);
            if (cp < 0) {
                s = 0; /* never part of a key */
            } else {
                char enc[4];
                size_t el = kz_utf8_encode(kz_match_fold((uint32_t)cp), enc);
                for (size_t e = 0; e < el; e++) s = step(m, s, (uint8_t)enc[e]);
            }
        }
        ring_off[k & (RING - 1)] = cs;
        ring_word[k & (RING - 1)] = word;
        k++;
        uint32_t o = m->st[s].out & KZ__AC_OUT_KEY;
        if (!o) continue;
        int right = -1; /* lazily: is the next code point a word char? */
        for (uint32_t guard = 0; o && o <= m->n_keys && guard <= m->max_key; guard++) {
            const kz__ac_key *key = &m->keys[o - 1];
            o = key->next;
            uint64_t L = key->cp_len;
            if (L == 0 || L > k || L > KZ_MATCH_MAX_PATTERN) continue;
            if ((uint64_t)key->rec_start + key->rec_count > m->n_recs) continue;
            size_t start = ring_off[(k - L) & (RING - 1)];
            if (wb) {
                if (k > L && ring_word[(k - L - 1) & (RING - 1)]) continue;
                if (right < 0) right = next_is_word(text, len, i);
                if (right) continue;
            }
            for (uint32_t r = key->rec_start; r < key->rec_start + key->rec_count; r++) {
                const kz__ac_rec *rec = &m->recs[r];
                if (rec->case_sensitive) {
                    if (rec->pool_len != i - start ||
                        (uint64_t)rec->pool_off + rec->pool_len > m->pool_bytes ||
                        memcmp(text + start, m->pool + rec->pool_off, rec->pool_len) != 0)
                        continue;
                }
                kz_match_hit hit = {start, i, rec->payload, rec->case_sensitive != 0};
                int rc = fn(user, &hit);
                if (rc) return rc;
            }
        }
    }
    return 0;
}

/* Child of s labelled c, or 0 (bounds-checked like step(), without failure links). */
static inline uint32_t goto_child(const kz_matcher *m, uint32_t s, uint8_t c) {
    const uint32_t n = m->n_states;
    if (s == 0) {
        uint32_t r = m->root[c];
        return r < n ? r : 0;
    }
    uint32_t lo = m->st[s].kids, hi = m->st[s + 1].kids;
    if (lo > hi || hi > n) return 0;
    if (hi - lo <= 8) {
        for (uint32_t i = lo; i < hi; i++)
            if (m->label[i] == c) return i;
        return 0;
    }
    uint32_t a = lo, b = hi;
    while (a < b) {
        uint32_t mid = a + (b - a) / 2;
        if (m->label[mid] < c)
            a = mid + 1;
        else
            b = mid;
    }
    return (a < hi && m->label[a] == c) ? a : 0;
}

/* The anchored walks are independent, so WALKERS of them run interleaved: each
 * round does one step of every walker and prefetches what its next step reads,
 * turning a chain of cache misses per walk into misses that overlap. */
#define WALKERS 32

typedef struct walker {
    size_t start, i;
    uint32_t s, cps, depth;
    bool have_state; /* st[s] was prefetched last round: check its output first */
} walker;

/* Report the records of the key ending exactly at w->s, if any. */
static int walker_out(const kz_matcher *m, const char *text, const walker *w, const uint8_t *end_ok,
                      kz_match_fn fn, void *user) {
    uint32_t o = m->st[w->s].out;
    if (!(o & KZ__AC_OUT_HERE)) return 0; /* no key ends exactly here: skip the key load */
    if (end_ok && !end_ok[w->i]) return 0;
    o &= KZ__AC_OUT_KEY;
    if (!o || o > m->n_keys) return 0;
    const kz__ac_key *key = &m->keys[o - 1];
    if (key->cp_len != w->cps) return 0; /* a corrupt blob */
    if ((uint64_t)key->rec_start + key->rec_count > m->n_recs) return 0;
    for (uint32_t r = key->rec_start; r < key->rec_start + key->rec_count; r++) {
        const kz__ac_rec *rec = &m->recs[r];
        if (rec->case_sensitive &&
            (rec->pool_len != w->i - w->start || (uint64_t)rec->pool_off + rec->pool_len > m->pool_bytes ||
             memcmp(text + w->start, m->pool + rec->pool_off, rec->pool_len) != 0))
            continue;
        kz_match_hit hit = {w->start, w->i, rec->payload, rec->case_sensitive != 0};
        int rc = fn(user, &hit);
        if (rc) return rc;
    }
    return 0;
}

/* One code point of walker w: false when the walk is over. */
static bool walker_step(const kz_matcher *m, const char *text, size_t len, walker *w) {
    if (w->i >= len || w->depth > m->max_key) return false;
    unsigned char c0 = (unsigned char)text[w->i];
    uint32_t s;
    if (c0 < 0x80) {
        w->i++, w->depth++;
        s = goto_child(m, w->s, g_fold_ascii[c0]);
    } else {
        int32_t cp = kz_utf8_decode(text, len, &w->i);
        if (cp < 0) return false;
        char enc[4];
        size_t el = kz_utf8_encode(kz_match_fold((uint32_t)cp), enc);
        s = w->s;
        for (size_t e = 0; e < el; e++)
            if (!(s = goto_child(m, s, (uint8_t)enc[e]))) break;
        w->depth += (uint32_t)el;
    }
    if (!s) return false;
    w->s = s;
    w->cps++;
    return true;
}

int kz_matcher_scan_anchored(const kz_matcher *m, const char *text, size_t len, const size_t *starts,
                             size_t n_starts, const uint8_t *end_ok, kz_match_fn fn, void *user) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, init_ascii);
    if (!m || (!text && len) || (!starts && n_starts) || !fn) return KZ_EINVAL;
    walker w[WALKERS];
    size_t nw = 0, next = 0;
    for (;;) {
        while (nw < WALKERS && next < n_starts) {
            size_t st = starts[next++];
            if (st >= len || ((unsigned char)text[st] & 0xc0) == 0x80) continue;
            w[nw++] = (walker){st, st, 0, 0, 0, false};
        }
        if (!nw) return 0;
        for (size_t k = 0; k < nw;) {
            walker *x = &w[k];
            if (x->have_state) { /* st[s] is (being) loaded: outputs, then fetch the child labels */
                int rc = walker_out(m, text, x, end_ok, fn, user);
                if (rc) return rc;
                x->have_state = false;
                uint32_t kids = m->st[x->s].kids;
                if (kids < m->n_states) __builtin_prefetch(&m->label[kids]);
                k++;
                continue;
            }
            if (!walker_step(m, text, len, x)) {
                w[k] = w[--nw];
                continue;
            }
            x->have_state = true;
            __builtin_prefetch(&m->st[x->s]);
            __builtin_prefetch(&m->st[x->s + 1]); /* kids of s + 1 closes the child range */
            k++;
        }
    }
}
