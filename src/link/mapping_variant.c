/* VariantMatch for MappingStep: a looser key for normalised strings (spelling,
 * plurals, roman numerals, stop words, word order, configured word maps), an
 * index of every candidate of a parser under that key, and the split of
 * composite mentions ("breast and ovarian cancer") into their conjuncts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mapping_int.h"

/* ---- a small set of words (ASCII lower case) with an optional replacement ------ */
typedef struct wordmap {
    char **from, **to; /* to[i] NULL: the word is dropped */
    size_t *from_len, *to_len;
    uint32_t *slot; /* open addressing: index + 1, 0 = empty */
    size_t n, cap;  /* cap: power of two, >= 2 n */
} wordmap;

static uint64_t fnv(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static void wordmap_free(wordmap *w) {
    for (size_t i = 0; i < w->n; i++) free(w->from[i]), free(w->to[i]);
    free(w->from), free(w->to), free(w->slot), free(w->from_len), free(w->to_len);
    memset(w, 0, sizeof *w);
}

static char *lower_dup(const char *s) {
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (!d) return NULL;
    for (size_t i = 0; i <= n; i++) d[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
    return d;
}

/* Words and replacements are lower-cased; a later entry for the same word
 * replaces an earlier one. */
static int wordmap_build(wordmap *w, const char *const *from, const char *const *to, size_t n) {
    memset(w, 0, sizeof *w);
    if (!n) return 0;
    w->cap = 16;
    while (w->cap < 2 * n) w->cap *= 2;
    w->from = calloc(n, sizeof *w->from);
    w->to = calloc(n, sizeof *w->to);
    w->slot = calloc(w->cap, sizeof *w->slot);
    w->from_len = calloc(n, sizeof *w->from_len);
    w->to_len = calloc(n, sizeof *w->to_len);
    if (!w->from || !w->to || !w->slot || !w->from_len || !w->to_len) goto oom;
    for (size_t i = 0; i < n; i++) {
        char *f = lower_dup(from[i]);
        char *t = to && to[i] ? lower_dup(to[i]) : NULL;
        if (!f || (to && to[i] && !t)) {
            free(f), free(t);
            goto oom;
        }
        size_t fl = strlen(f), j = fnv(f, fl) & (w->cap - 1);
        while (w->slot[j] && strcmp(w->from[w->slot[j] - 1], f) != 0) j = (j + 1) & (w->cap - 1);
        if (w->slot[j]) { /* repeated word: the later entry wins */
            size_t k = w->slot[j] - 1;
            free(f);
            free(w->to[k]);
            w->to[k] = t;
            w->to_len[k] = t ? strlen(t) : 0;
            continue;
        }
        w->from[w->n] = f;
        w->to[w->n] = t;
        w->from_len[w->n] = fl;
        w->to_len[w->n] = t ? strlen(t) : 0;
        w->slot[j] = (uint32_t)++w->n;
    }
    return 0;
oom:
    wordmap_free(w);
    return KZ_ENOMEM;
}

/* NULL when absent; else the entry index + 1 in *idx. */
static bool wordmap_get(const wordmap *w, const char *s, size_t n, size_t *idx) {
    if (!w->n) return false;
    size_t j = fnv(s, n) & (w->cap - 1);
    while (w->slot[j]) {
        size_t k = w->slot[j] - 1;
        if (w->from_len[k] == n && !memcmp(w->from[k], s, n)) {
            *idx = k;
            return true;
        }
        j = (j + 1) & (w->cap - 1);
    }
    return false;
}

/* ---- per-parser index ------------------------------------------------------------ */
enum { VX_UNBUILT = 0, VX_READY = 1, VX_NONE = 2 };

typedef struct vx_entry {
    uint64_t h;    /* hash of the key */
    uint32_t cand; /* candidate index - lo */
} vx_entry;

typedef struct vx_parser {
    pthread_mutex_t lock;
    int state; /* atomic */
    uint64_t lo;
    vx_entry *e; /* sorted by (h, cand) */
    size_t n;
} vx_parser;

struct kz__variant {
    char name[KZ__CLASS_NAME_MAX];
    const kz_kb *kb;
    bool spelling, singular, roman, word_order, drop_parens, split_conj, drop_one;
    wordmap words;             /* stop words (to NULL) and word_map, both sides */
    wordmap mention;           /* mention_drop_words */
    char **suf_from, **suf_to; /* suffix_alternatives: n_suf pairs, lower case */
    size_t *suf_from_len, *suf_to_len;
    size_t n_suf;
    const kz__variant *index_of; /* the variant whose index this one shares (same synonym side) */
    uint32_t n_parsers;
    vx_parser *p;
};

kz__variant_opts kz__variant_default_opts(void) {
    static const char *const stop[] = {"of",   "the", "a",   "an", "in",  "on",
                                       "with", "to",  "for", "by", "and", "or"};
    kz__variant_opts o;
    memset(&o, 0, sizeof o);
    o.spelling = o.singular = o.roman = o.word_order = true;
    o.stop_words = stop;
    o.n_stop = sizeof stop / sizeof *stop;
    return o;
}

kz__variant *kz__variant_new(const kz_kb *kb, const char *name, const kz__variant_opts *o) {
    kz__variant *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    snprintf(v->name, sizeof v->name, "%s", name ? name : "");
    v->kb = kb;
    v->spelling = o->spelling;
    v->singular = o->singular;
    v->roman = o->roman;
    v->word_order = o->word_order;
    v->drop_parens = o->drop_parenthesised;
    v->split_conj = o->split_conjunctions;
    v->drop_one = o->drop_one_word;
    /* stop words first, so that a word_map entry for the same word wins */
    size_t n = o->n_stop + o->n_map;
    const char **from = calloc(n ? n : 1, sizeof *from), **to = calloc(n ? n : 1, sizeof *to);
    int rc = from && to ? 0 : KZ_ENOMEM;
    for (size_t i = 0; !rc && i < o->n_stop; i++) from[i] = o->stop_words[i];
    for (size_t i = 0; !rc && i < o->n_map; i++) {
        from[o->n_stop + i] = o->map_from[i];
        to[o->n_stop + i] = o->map_to[i] && *o->map_to[i] ? o->map_to[i] : NULL;
    }
    if (!rc) rc = wordmap_build(&v->words, from, to, n);
    if (!rc) rc = wordmap_build(&v->mention, o->mention_drop, NULL, o->n_mention_drop);
    if (!rc && o->n_suffix) {
        v->suf_from = calloc(o->n_suffix, sizeof *v->suf_from);
        v->suf_to = calloc(o->n_suffix, sizeof *v->suf_to);
        v->suf_from_len = calloc(o->n_suffix, sizeof *v->suf_from_len);
        v->suf_to_len = calloc(o->n_suffix, sizeof *v->suf_to_len);
        if (!v->suf_from || !v->suf_to || !v->suf_from_len || !v->suf_to_len) rc = KZ_ENOMEM;
        for (size_t i = 0; !rc && i < o->n_suffix; i++, v->n_suf++) {
            v->suf_from[i] = lower_dup(o->suffix_from[i]);
            v->suf_to[i] = lower_dup(o->suffix_to[i]);
            if (!v->suf_from[i] || !v->suf_to[i])
                rc = KZ_ENOMEM;
            else
                v->suf_from_len[i] = strlen(v->suf_from[i]), v->suf_to_len[i] = strlen(v->suf_to[i]);
        }
    }
    free(from), free(to);
    v->n_parsers = kb ? kz_kb_n_parsers(kb) : 0;
    v->p = calloc(v->n_parsers ? v->n_parsers : 1, sizeof *v->p);
    if (rc || !v->p) {
        free(v->p);
        v->p = NULL;
        v->n_parsers = 0;
        kz__variant_free(v);
        return NULL;
    }
    for (uint32_t i = 0; i < v->n_parsers; i++) pthread_mutex_init(&v->p[i].lock, NULL);
    return v;
}

void kz__variant_free(kz__variant *v) {
    if (!v) return;
    for (uint32_t i = 0; i < v->n_parsers; i++) {
        free(v->p[i].e);
        pthread_mutex_destroy(&v->p[i].lock);
    }
    free(v->p);
    wordmap_free(&v->words);
    wordmap_free(&v->mention);
    for (size_t i = 0; i < v->n_suf; i++) free(v->suf_from[i]), free(v->suf_to[i]);
    free(v->suf_from), free(v->suf_to), free(v->suf_from_len), free(v->suf_to_len);
    free(v);
}

const char *kz__variant_name(const kz__variant *v) { return v ? v->name : ""; }

size_t kz__variant_alternative(const kz__variant *v, kz_str norm, size_t k, char *out, size_t cap) {
    /* the k-th (word, rule) pair in word order, then rule order */
    size_t seen = 0;
    for (size_t i = 0; v && v->n_suf && i < norm.len;) {
        while (i < norm.len && norm.ptr[i] == ' ') i++;
        size_t j = i;
        while (j < norm.len && norm.ptr[j] != ' ') j++;
        for (size_t r = 0; r < v->n_suf && j > i; r++) {
            size_t fl = v->suf_from_len[r], wl = j - i;
            if (wl <= fl + 2) continue; /* keep a stem of at least 3 bytes */
            bool match = true;
            for (size_t c = 0; c < fl && match; c++) {
                unsigned char ch = (unsigned char)norm.ptr[j - fl + c];
                match = (ch >= 'A' && ch <= 'Z' ? ch + 32 : ch) == (unsigned char)v->suf_from[r][c];
            }
            if (!match || seen++ != k) continue;
            size_t tl = v->suf_to_len[r], len = norm.len - fl + tl;
            if (len + 1 > cap) return 0;
            memcpy(out, norm.ptr, j - fl);
            for (size_t c = 0; c < tl; c++) {
                char ch = v->suf_to[r][c];
                out[j - fl + c] = (char)(ch >= 'a' && ch <= 'z' ? ch - 32 : ch);
            }
            memcpy(out + j - fl + tl, norm.ptr + j, norm.len - j);
            out[len] = 0;
            return len;
        }
        i = j;
    }
    return 0;
}
bool kz__variant_splits(const kz__variant *v) { return v && v->split_conj; }

/* Same words with the same replacements (order aside). */
static bool wordmap_same(const wordmap *a, const wordmap *b) {
    if (a->n != b->n) return false;
    for (size_t i = 0; i < a->n; i++) {
        size_t k;
        if (!wordmap_get(b, a->from[i], a->from_len[i], &k)) return false;
        if ((a->to[i] == NULL) != (b->to[k] == NULL) || (a->to[i] && strcmp(a->to[i], b->to[k])))
            return false;
    }
    return true;
}

bool kz__variant_share_index(kz__variant *v, const kz__variant *other) {
    if (!v || !other || v == other || v->kb != other->kb || other->index_of) return false;
    if (v->spelling != other->spelling || v->singular != other->singular || v->roman != other->roman ||
        v->word_order != other->word_order || v->drop_parens != other->drop_parens ||
        !wordmap_same(&v->words, &other->words))
        return false;
    v->index_of = other;
    return true;
}
bool kz__variant_drops_one(const kz__variant *v) { return v && v->drop_one; }

/* ---- the key ---------------------------------------------------------------------- */
#define VX_MAX_TOKENS 128
#define VX_TOK_MAX    96 /* bytes of one token after rewriting */

static bool is_word_byte(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}
static bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

static bool ends_with(const char *t, size_t n, const char *suf) {
    size_t l = strlen(suf);
    return n >= l && !memcmp(t + n - l, suf, l);
}

static const char *const k_roman[] = {"i",   "ii",   "iii", "iv", "v",  "vi",
                                      "vii", "viii", "ix",  "x",  "xi", "xii"};
static const char *const k_arabic[] = {"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"};

/* Rewrite token t[0..*n) in place (capacity VX_TOK_MAX). */
static void rewrite(const kz__variant *v, char *t, size_t *n) {
    size_t l = *n;
    if (v->roman)
        for (size_t i = 0; i < sizeof k_roman / sizeof *k_roman; i++)
            if (strlen(k_roman[i]) == l && !memcmp(t, k_roman[i], l)) {
                l = strlen(k_arabic[i]);
                memcpy(t, k_arabic[i], l);
                *n = l;
                return;
            }
    if (v->spelling && l >= 4) {
        /* British -> American: ae/oe -> e (haemolysis, oedema, diarrhoea), -our -> -or
         * (tumour), -isation -> -ization, -tre -> -ter (centre) */
        size_t w = 0;
        for (size_t i = 0; i < l; i++) {
            if ((t[i] == 'a' || t[i] == 'o') && i + 1 < l && t[i + 1] == 'e' && i > 0) {
                t[w++] = 'e';
                i++;
                continue;
            }
            t[w++] = t[i];
        }
        l = w;
        if (l >= 5 && ends_with(t, l, "our")) t[l - 2] = 'r', l--;
        if (l >= 7 && ends_with(t, l, "isation")) t[l - 5] = 'z';
        if (l >= 5 && ends_with(t, l, "tre")) t[l - 2] = 'e', t[l - 1] = 'r';
    }
    if (v->singular && l > 3 && t[l - 1] == 's' && !is_digit((unsigned char)t[0])) {
        if (l > 4 && ends_with(t, l, "ies"))
            t[l - 3] = 'y', l -= 2;
        else if (!ends_with(t, l, "ss") && !ends_with(t, l, "us") && !ends_with(t, l, "is"))
            l--;
    }
    *n = l;
}

typedef struct tok {
    const char *p;
    size_t n;
} tok;

static int cmp_tok(const void *a, const void *b) {
    const tok *x = a, *y = b;
    size_t m = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->p, y->p, m);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

size_t kz__variant_key(const kz__variant *v, kz_str norm, bool mention, char *out) {
    return kz__variant_key_drop(v, norm, mention, SIZE_MAX, out);
}

size_t kz__variant_key_drop(const kz__variant *v, kz_str norm, bool mention, size_t skip, char *out) {
    out[0] = 0; /* also when there is no key */
    /* tokens live in buf; at most VX_MAX_TOKENS of at most VX_TOK_MAX bytes */
    static const size_t cap = KZ__VARIANT_KEY_MAX;
    char buf[VX_MAX_TOKENS * VX_TOK_MAX];
    tok toks[VX_MAX_TOKENS];
    size_t nt = 0, depth = 0, kept = 0;
    for (size_t i = 0; i < norm.len;) {
        unsigned char c = (unsigned char)norm.ptr[i];
        if (c == '(' || c == ')') {
            if (c == '(')
                depth++;
            else if (depth)
                depth--;
            i++;
            continue;
        }
        if (!is_word_byte(c)) {
            i++;
            continue;
        }
        /* a run of word bytes, cut where letters meet digits */
        size_t j = i + 1;
        bool dig = is_digit(c);
        while (j < norm.len && is_word_byte((unsigned char)norm.ptr[j]) &&
               is_digit((unsigned char)norm.ptr[j]) == dig)
            j++;
        size_t n = j - i;
        const char *src = norm.ptr + i;
        i = j;
        if (depth && v->drop_parens) continue;
        if (n >= VX_TOK_MAX || nt == VX_MAX_TOKENS) return 0; /* no key for pathological strings */
        char *t = buf + nt * VX_TOK_MAX;
        for (size_t k = 0; k < n; k++) t[k] = (char)(src[k] >= 'A' && src[k] <= 'Z' ? src[k] + 32 : src[k]);
        rewrite(v, t, &n);
        size_t idx;
        if (wordmap_get(&v->words, t, n, &idx)) {
            const char *to = v->words.to[idx];
            if (!to) continue;
            n = v->words.to_len[idx];
            if (n >= VX_TOK_MAX) return 0;
            memcpy(t, to, n);
        }
        if (mention && wordmap_get(&v->mention, t, n, &idx)) continue;
        if (kept++ == skip) continue;
        toks[nt++] = (tok){t, n};
    }
    if (!nt || (skip != SIZE_MAX && skip >= kept)) return 0;
    if (v->word_order) qsort(toks, nt, sizeof *toks, cmp_tok);
    size_t len = 0;
    for (size_t k = 0; k < nt; k++) {
        if (v->word_order && k && cmp_tok(&toks[k], &toks[k - 1]) == 0) continue; /* a bag: no repeats */
        if (len + toks[k].n + 1 >= cap) return 0;
        if (len) out[len++] = ' ';
        memcpy(out + len, toks[k].p, toks[k].n);
        len += toks[k].n;
    }
    out[len] = 0;
    return len;
}

static uint64_t key_hash(const char *s, size_t n) {
    uint64_t h = fnv(s, n);
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return h;
}

/* ---- building an index -------------------------------------------------------------- */
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

static int cmp_entry(const void *a, const void *b) {
    const vx_entry *x = a, *y = b;
    if (x->h != y->h) return x->h < y->h ? -1 : 1;
    return x->cand < y->cand ? -1 : x->cand > y->cand;
}

static int build_parser(const kz__variant *v, uint32_t p, vx_parser *vp) {
    uint64_t lo = cand_lower(v->kb, p), hi = cand_lower(v->kb, p + 1);
    vp->lo = lo;
    if (hi <= lo || hi - lo > UINT32_MAX) return VX_NONE;
    vp->e = malloc((size_t)(hi - lo) * sizeof *vp->e);
    kz_arena *a = kz_arena_new(0);
    char key[KZ__VARIANT_KEY_MAX];
    if (!vp->e || !a) {
        free(vp->e), vp->e = NULL;
        kz_arena_free(a);
        return -1;
    }
    size_t n = 0;
    for (uint64_t i = lo; i < hi; i++) {
        kz_candidate c;
        kz_arena_reset(a);
        if (kz_kb_candidate_at(v->kb, i, a, &c)) continue;
        size_t kl = kz__variant_key(v, c.synonym_norm, false, key);
        if (kl) vp->e[n++] = (vx_entry){key_hash(key, kl), (uint32_t)(i - lo)};
    }
    kz_arena_free(a);
    qsort(vp->e, n, sizeof *vp->e, cmp_entry);
    vp->n = n;
    return VX_READY;
}

int kz__variant_lookup(const kz__variant *v, uint32_t parser, const char *key, size_t len, uint64_t *cands,
                       size_t cap, size_t *n) {
    *n = 0;
    if (v && v->index_of) v = v->index_of; /* same keys on the synonym side */
    if (!v || parser >= v->n_parsers || !len) return 0;
    vx_parser *vp = &v->p[parser];
    int st = __atomic_load_n(&vp->state, __ATOMIC_ACQUIRE);
    if (st == VX_UNBUILT) {
        pthread_mutex_lock(&vp->lock);
        st = __atomic_load_n(&vp->state, __ATOMIC_ACQUIRE);
        if (st == VX_UNBUILT) {
            int r = build_parser(v, parser, vp);
            if (r < 0) {
                pthread_mutex_unlock(&vp->lock);
                return KZ_ENOMEM;
            }
            st = r;
            __atomic_store_n(&vp->state, st, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&vp->lock);
    }
    if (st != VX_READY) return 0;
    uint64_t h = key_hash(key, len);
    size_t lo = 0, hi = vp->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (vp->e[mid].h < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo; i < vp->n && vp->e[i].h == h; i++) {
        if (*n < cap) cands[*n] = vp->lo + vp->e[i].cand;
        (*n)++;
    }
    return 0;
}

/* ---- composite mentions ------------------------------------------------------------- */
static bool word_is(kz_str w, const char *s) {
    size_t n = strlen(s);
    if (w.len != n) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)w.ptr[i];
        if ((c >= 'A' && c <= 'Z' ? c + 32 : c) != (unsigned char)s[i]) return false;
    }
    return true;
}

static bool is_alpha(unsigned char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

#define CJ_MAX_WORDS 64
#define CJ_MAX_CONJ  16

static int put_alt(kz_buf *b, kz__conjunct_alt *alts, size_t cap, size_t *n, uint32_t conj, const kz_str *w,
                   size_t n_w, const kz_str *tail, size_t n_tail) {
    if (*n >= cap) return 0;
    size_t start = b->len;
    for (size_t i = 0; i < n_w + n_tail; i++) {
        kz_str x = i < n_w ? w[i] : tail[i - n_w];
        if ((i && kz__buf_putc(b, ' ')) || kz__buf_append(b, x.ptr, x.len)) return KZ_ENOMEM;
    }
    if (kz__buf_putc(b, '\0')) return KZ_ENOMEM;
    alts[*n].conjunct = conj;
    alts[*n].off = start;
    alts[*n].len = b->len - 1 - start;
    (*n)++;
    return 0;
}

int kz__variant_conjuncts(kz_str match, kz_buf *b, kz__conjunct_alt *alts, size_t cap, size_t *n_alts,
                          uint32_t *n_conj) {
    *n_alts = 0;
    *n_conj = 0;
    kz__buf_clear(b);
    /* words; a separator is a conjunction word, a trailing ',' or ';', or a '/'
     * between letters inside a word ("breast/ovarian") */
    kz_str w[CJ_MAX_WORDS];
    bool sep_after[CJ_MAX_WORDS];
    size_t nw = 0;
    bool any_sep = false;
    for (size_t i = 0; i < match.len;) {
        while (i < match.len && (match.ptr[i] == ' ' || match.ptr[i] == '\t' || match.ptr[i] == '\n')) i++;
        if (i >= match.len) break;
        size_t j = i;
        while (j < match.len && match.ptr[j] != ' ' && match.ptr[j] != '\t' && match.ptr[j] != '\n') j++;
        kz_str x = {match.ptr + i, j - i};
        i = j;
        bool trailing = false;
        while (x.len && (x.ptr[x.len - 1] == ',' || x.ptr[x.len - 1] == ';')) x.len--, trailing = true;
        if (word_is(x, "and") || word_is(x, "or") || word_is(x, "nor") || word_is(x, "and/or") ||
            word_is(x, "&")) {
            if (nw) sep_after[nw - 1] = true, any_sep = true;
            continue;
        }
        /* "a/b" with letters around the slash: two words and a separator */
        const char *sl = x.len ? memchr(x.ptr, '/', x.len) : NULL;
        while (sl && sl > x.ptr && sl + 1 < x.ptr + x.len && is_alpha((unsigned char)sl[-1]) &&
               is_alpha((unsigned char)sl[1])) {
            if (nw >= CJ_MAX_WORDS) return 0;
            w[nw] = (kz_str){x.ptr, (size_t)(sl - x.ptr)};
            sep_after[nw++] = true;
            any_sep = true;
            x = (kz_str){sl + 1, x.len - (size_t)(sl + 1 - x.ptr)};
            sl = memchr(x.ptr, '/', x.len);
        }
        if (!x.len) continue;
        if (nw >= CJ_MAX_WORDS) return 0;
        w[nw] = x;
        sep_after[nw++] = trailing;
        any_sep |= trailing;
    }
    if (!any_sep || nw < 2) return 0;
    sep_after[nw - 1] = false;
    /* conjuncts: [start, end) word ranges */
    size_t cs[CJ_MAX_CONJ], ce[CJ_MAX_CONJ], k = 0, st = 0;
    if (word_is(w[0], "both") || word_is(w[0], "either") || word_is(w[0], "neither")) st = 1;
    for (size_t i = st; i < nw; i++)
        if (sep_after[i] || i == nw - 1) {
            if (k == CJ_MAX_CONJ || i + 1 <= st) return 0;
            cs[k] = st, ce[k] = i + 1, k++;
            st = i + 1;
        }
    if (k < 2) return 0;
    for (size_t c = 0; c < k; c++)
        if (ce[c] <= cs[c]) return 0;
    size_t m = ce[k - 1] - cs[k - 1];
    const kz_str *last = w + cs[k - 1];
    int rc = 0;
    for (size_t c = 0; c + 1 < k && !rc; c++) {
        /* C_i + the last conjunct's tail, longest tail first, then C_i alone */
        for (size_t j = 1; j < m && !rc; j++)
            rc = put_alt(b, alts, cap, n_alts, (uint32_t)c, w + cs[c], ce[c] - cs[c], last + j, m - j);
        if (!rc) rc = put_alt(b, alts, cap, n_alts, (uint32_t)c, w + cs[c], ce[c] - cs[c], NULL, 0);
    }
    /* the last conjunct alone, then with the first conjunct's leading words
     * ("hereditary breast and ovarian cancer" -> "hereditary ovarian cancer") */
    if (!rc) rc = put_alt(b, alts, cap, n_alts, (uint32_t)(k - 1), last, m, NULL, 0);
    if (!rc && ce[0] - cs[0] > 1)
        rc = put_alt(b, alts, cap, n_alts, (uint32_t)(k - 1), w + cs[0], ce[0] - cs[0] - 1, last, m);
    if (rc) return rc;
    *n_conj = (uint32_t)k;
    return 0;
}
