/* The full Aho-Corasick scan (kz_matcher_scan: every hit at every position):
 * its byte automaton with failure links is built in memory from the blob's
 * trie on first use, since the dictionary step needs only anchored walks. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "core/core_int.h"
#include "kazu/utf8.h"
#include "match/match_int.h"

#define RING 2048u /* > KZ_MATCH_MAX_PATTERN + 1 code points of history */

typedef struct ac_state {
    uint32_t kids; /* children of s are states kids .. st[s + 1].kids - 1 (BFS order) */
    uint32_t fail; /* failure link, < s for every s > 0 */
    uint32_t out;  /* 1 + longest key ending here or on the failure chain, 0 none */
} ac_state;

typedef struct ac_key {
    uint32_t id;     /* key id in the blob (its records) */
    uint32_t cp_len; /* code points of the key */
    uint32_t next;   /* 1 + next shorter key on the failure chain, 0 none */
} ac_key;

struct kz__ac {
    uint32_t root[256]; /* child of the root per byte, 0 none */
    ac_state *st;       /* n_states + 1 */
    uint8_t *label;
    ac_key *keys;
    uint32_t n_states, n_keys;
};

void kz__ac_free(kz__ac *a) {
    if (!a) return;
    free(a->st), free(a->label), free(a->keys);
    free(a);
}

/* A byte-trie state as a place in the double array: unit s, and for a tail
 * leaf t of its tail bytes consumed. */
typedef struct cursor {
    uint32_t s, t, cps;
} cursor;

static uint32_t child_of(const ac_state *st, const uint8_t *label, uint32_t s, uint8_t c) {
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

static int push(cursor **v, size_t *n, size_t *cap, cursor c) {
    if (*n == *cap) {
        size_t nc = *cap * 2;
        cursor *t = realloc(*v, nc * sizeof *t);
        if (!t) return KZ_ENOMEM;
        *v = t, *cap = nc;
    }
    (*v)[(*n)++] = c;
    return 0;
}

/* Expand the double array level by level into BFS-numbered byte states
 * (children of a state consecutive, sorted by label), then add failure links.
 * Every unit has one parent (its check) and unit 0 is never a child, so the
 * expansion is a tree walk; the state count is capped by the header's, itself
 * at most units + tail bytes. */
static int ac_build(const kz_matcher *m, kz__ac **out) {
    *out = NULL;
    uint64_t cap = (uint64_t)m->n_states;
    if (cap == 0 || cap > (uint64_t)m->n_units + m->tail_end + 1 || cap >= 0xffffffffu) return KZ_EPARSE;
    const kz__ac_unit *u = m->units;
    const uint32_t nu = m->n_units;
    kz__ac *a = calloc(1, sizeof *a);
    size_t cur_cap = 1024, nxt_cap = 1024;
    cursor *cur = malloc(cur_cap * sizeof *cur), *nxt = malloc(nxt_cap * sizeof *nxt);
    int rc = 0;
    if (!a || !cur || !nxt) {
        rc = KZ_ENOMEM;
        goto done;
    }
    a->st = calloc(cap + 1, sizeof *a->st);
    a->label = calloc(cap, 1);
    a->keys = malloc(((size_t)m->n_keys + 1) * sizeof *a->keys);
    if (!a->st || !a->label || !a->keys) {
        rc = KZ_ENOMEM;
        goto done;
    }
    size_t n_cur = 1;
    cur[0] = (cursor){0, 0, 0};
    uint32_t base = 0, next_id = 1, nkeys = 0;
    for (uint32_t depth = 0; n_cur; depth++) {
        if (depth > m->max_key) {
            rc = KZ_EPARSE;
            goto done;
        }
        size_t n_nxt = 0;
        for (size_t j = 0; j < n_cur; j++) {
            uint32_t id = base + (uint32_t)j, s = cur[j].s;
            a->st[id].kids = next_id;
            uint32_t v = u[s].base, key = 0;
            bool has_key = false;
            cursor kid[256];
            uint8_t lab[256];
            uint32_t nk = 0;
            if (v & KZ__U_TAIL) {
                const uint8_t *tb;
                uint32_t tl;
                if (!kz__tail_at(m, v & ~KZ__U_TAIL, &tb, &tl, &key)) continue;
                if (cur[j].t < tl) {
                    lab[0] = tb[cur[j].t];
                    kid[nk++] = (cursor){s, cur[j].t + 1, cur[j].cps + ((lab[0] & 0xc0) != 0x80)};
                } else {
                    has_key = true;
                }
            } else {
                uint32_t b = v & KZ__U_BASE;
                if ((v & KZ__U_KEY) && b < nu && u[b].check == s) has_key = true, key = u[b].base;
                uint32_t blk = b & ~255u;
                if (blk < nu)
                    for (uint32_t c = 1; c < 256; c++) {
                        uint32_t t = b ^ c;
                        if (t != 0 && u[t].check == s) {
                            lab[nk] = (uint8_t)c;
                            kid[nk++] = (cursor){t, 0, cur[j].cps + ((c & 0xc0) != 0x80)};
                        }
                    }
            }
            if (has_key && depth) {
                if (nkeys >= m->n_keys) {
                    rc = KZ_EPARSE;
                    goto done;
                }
                a->keys[nkeys] = (ac_key){key, cur[j].cps, 0};
                a->st[id].out = ++nkeys; /* terminal marker for now */
            }
            if (next_id + (uint64_t)nk > cap) {
                rc = KZ_EPARSE;
                goto done;
            }
            for (uint32_t k = 0; k < nk; k++) {
                a->label[next_id++] = lab[k];
                if ((rc = push(&nxt, &n_nxt, &nxt_cap, kid[k]))) goto done;
            }
        }
        base += (uint32_t)n_cur;
        cursor *t = cur;
        size_t tc = cur_cap;
        cur = nxt, cur_cap = nxt_cap;
        nxt = t, nxt_cap = tc;
        n_cur = n_nxt;
    }
    uint32_t ns = next_id;
    a->st[ns].kids = ns;
    a->n_states = ns;
    a->n_keys = nkeys;
    for (uint32_t c = a->st[0].kids; c < a->st[1].kids; c++) a->root[a->label[c]] = c;
    /* failure links and output chains, in BFS order (fail[s] < s is already final) */
    ac_state *st = a->st;
    for (uint32_t s = 0; s < ns; s++) {
        if (s) {
            uint32_t t = st[s].out;
            uint32_t chain = st[st[s].fail].out;
            if (t)
                a->keys[t - 1].next = chain;
            else
                st[s].out = chain;
        }
        for (uint32_t c = st[s].kids; c < st[s + 1].kids; c++) {
            uint32_t g = 0;
            if (s) {
                uint32_t f = st[s].fail;
                for (;;) {
                    g = child_of(st, a->label, f, a->label[c]);
                    if (g || f == 0) break;
                    f = st[f].fail;
                }
            }
            st[c].fail = g;
        }
    }
done:
    free(cur), free(nxt);
    if (rc) {
        kz__ac_free(a);
        return rc;
    }
    *out = a;
    return 0;
}

int kz_matcher_prepare_scan(const kz_matcher *cm, kz_error *err) {
    if (!cm) return kz_error_set(err, KZ_EINVAL, "match: NULL matcher");
    /* the automaton is a cache behind the lock: the matcher stays logically immutable */
    kz_matcher *m = (kz_matcher *)cm;
    if (__atomic_load_n(&m->ac, __ATOMIC_ACQUIRE)) return 0;
    pthread_mutex_lock(&m->lock);
    int rc = m->ac_rc;
    if (!rc && !m->ac) {
        kz__ac *a;
        rc = ac_build(m, &a);
        if (rc == KZ_EPARSE)
            m->ac_rc = rc; /* a corrupt blob stays corrupt; out of memory may pass */
        else if (!rc)
            __atomic_store_n(&m->ac, a, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&m->lock);
    if (rc == KZ_EPARSE) return kz_error_set(err, rc, "match: the automaton's trie is inconsistent");
    if (rc) return kz_error_set(err, rc, "match: out of memory for the full-scan automaton");
    return 0;
}

/* ---- scan ------------------------------------------------------------------ */

static bool is_word_cp(int32_t cp) {
    if (cp < 0) return false;
    if (cp < 0x80) return (cp >= '0' && cp <= '9') || ((cp | 32) >= 'a' && (cp | 32) <= 'z');
    utf8proc_category_t c = utf8proc_category(cp);
    return c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_NO; /* L*, M*, N* */
}

static inline bool ascii_word(unsigned char c) {
    return ((unsigned)(c - '0') < 10u) || ((unsigned)((c | 32) - 'a') < 26u);
}

static bool next_is_word(const char *text, size_t len, size_t i) {
    if (i >= len) return false;
    unsigned char c = (unsigned char)text[i];
    if (c < 0x80) return ascii_word(c);
    return is_word_cp(kz_utf8_decode(text, len, &i));
}

/* One goto step with failure links. */
static inline uint32_t step(const kz__ac *a, uint32_t s, uint8_t c) {
    const ac_state *st = a->st;
    const uint8_t *label = a->label;
    for (;;) {
        if (s == 0) return a->root[c];
        uint32_t lo = st[s].kids, hi = st[s + 1].kids;
        if (hi - lo <= 8) {
            for (uint32_t i = lo; i < hi; i++)
                if (label[i] == c) return i;
        } else {
            uint32_t x = lo, y = hi;
            while (x < y) {
                uint32_t mid = x + (y - x) / 2;
                if (label[mid] < c)
                    x = mid + 1;
                else
                    y = mid;
            }
            if (x < hi && label[x] == c) return x;
        }
        s = st[s].fail;
    }
}

int kz_matcher_scan(const kz_matcher *m, const char *text, size_t len, unsigned flags, kz_match_fn fn,
                    void *user) {
    if (!m || (!text && len) || !fn) return KZ_EINVAL;
    int rc = kz_matcher_prepare_scan(m, NULL);
    if (rc) return rc;
    const kz__ac *a = m->ac;
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
            word = ascii_word(c0);
            s = step(a, s, c0 == 0 ? 0xff : (uint8_t)(((unsigned)(c0 - 'A') < 26u) ? c0 + 32 : c0));
        } else {
            int32_t cp = kz_utf8_decode(text, len, &i);
            word = is_word_cp(cp);
            if (cp < 0) {
                s = 0; /* never part of a key */
            } else {
                char enc[4];
                size_t el = kz_utf8_encode(kz_match_fold((uint32_t)cp), enc);
                for (size_t e = 0; e < el; e++) s = step(a, s, (uint8_t)enc[e]);
            }
        }
        ring_off[k & (RING - 1)] = cs;
        ring_word[k & (RING - 1)] = word;
        k++;
        uint32_t o = a->st[s].out;
        if (!o) continue;
        int right = -1; /* lazily: is the next code point a word char? */
        for (; o; o = a->keys[o - 1].next) {
            const ac_key *key = &a->keys[o - 1];
            uint64_t L = key->cp_len;
            if (L == 0 || L > k || L > KZ_MATCH_MAX_PATTERN) continue;
            size_t start = ring_off[(k - L) & (RING - 1)];
            if (wb) {
                if (k > L && ring_word[(k - L - 1) & (RING - 1)]) continue;
                if (right < 0) right = next_is_word(text, len, i);
                if (right) continue;
            }
            if ((rc = kz__match_report(m, key->id, text, start, i, fn, user))) return rc;
        }
    }
    return 0;
}
