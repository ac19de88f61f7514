/* Hugging Face-exact WordPiece: the pipeline of BertTokenizerFast (tokenizers'
 * BertNormalizer, BertPreTokenizer, WordPiece model, special tokens from its
 * AddedVocabulary) with byte offsets into the original text (docs/wordpiece.md).
 *
 * One pass over the text. ASCII words take a fast path (no copy: the trie is
 * walked over the original bytes through a lowercase table, offsets are the
 * identity); anything else goes through a streaming normaliser that keeps the
 * original span of every normalised character exactly as tokenizers'
 * NormalizedString alignments do. The greedy longest-match-first search walks
 * a double-array trie, so a word costs O(length x trie depth). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "../core/core_int.h"
#include "kazu/utf8.h"
#include "wordpiece_int.h"

#define WP_MAX_VOCAB_BYTES ((size_t)256 << 20)
#define WP_MAX_TOKENS      (1u << 24)
#define WP_MAX_NEVER_SPLIT 65536u
#define WP_DEFAULT_MAXCH   100u

/* Byte classes for the ASCII fast path (bytes >= 0x80 are C_HIGH). C_SPECIAL
 * is or-ed in for bytes that may start a special token. */
enum { C_WORD = 0, C_WS = 1, C_DROP = 2, C_PUNCT = 3, C_HIGH = 4, C_SPECIAL = 8 };
enum { M_NONE = 0, M_FAST = 1, M_GENERAL = 2 };
enum { U_OTHER = 0, U_DROP = 1, U_WS = 2, U_CJK = 3 };

/* A double-array trie node: child(n, c) = (base & WP_BASE) + c when
 * check[child] == n; the top bit of base marks a terminal node (its token id
 * is in value[]). 8 bytes, so the hot upper levels stay in cache. */
typedef struct wp_node {
    uint32_t base;
    int32_t check; /* parent index, -1 = free */
} wp_node;
#define WP_TERM 0x80000000u
#define WP_BASE 0x7fffffffu

typedef struct wp_special {
    const char *s;
    uint32_t len;
    int32_t id;
} wp_special;

struct kz_wordpiece {
    char *blob;    /* every token, NUL-terminated */
    uint32_t *off; /* n_tokens + 1 offsets into blob */
    uint32_t n_tokens;
    size_t max_tok_len;
    wp_node *da; /* double-array trie over token bytes; root = 0 */
    int32_t *value;
    uint32_t da_size;
    int32_t cont_root; /* node reached by "##", -1 if none */
    int32_t unk_id;
    kz_wordpiece_special sp;
    wp_special specials[5];
    int n_specials;
    kz_str *never; /* sorted, unique */
    size_t n_never, never_maxlen;
    char *never_blob;
    char *unk_str;
    uint8_t cls[256];
    uint8_t map[256]; /* ASCII lowercase (or identity) */
    int32_t punct_id[128];
    bool lower, strip, chinese;
    uint32_t max_chars;
};

static const uint8_t k_identity[256] = {
#define R16(b)                                                                                               \
    b + 0, b + 1, b + 2, b + 3, b + 4, b + 5, b + 6, b + 7, b + 8, b + 9, b + 10, b + 11, b + 12, b + 13,    \
        b + 14, b + 15
    R16(0),   R16(16),  R16(32),  R16(48),  R16(64),  R16(80),  R16(96),  R16(112),
    R16(128), R16(144), R16(160), R16(176), R16(192), R16(208), R16(224), R16(240),
#undef R16
};

/* ---- character classes (each rule names its source in tokenizers) ------------ */

/* BertPreTokenizer's is_bert_punc: char::is_ascii_punctuation || unicode_categories is_punctuation (P*). */
static bool is_punct(int32_t cp) {
    if (cp < 0x80)
        return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
               (cp >= 123 && cp <= 126);
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO: return true;
    default: return false;
    }
}

/* BertNormalizer::is_chinese_char: the CJK blocks, with tokenizers' 0x2B920
 * lower bound for the fifth range (the slow Python tokenizer says 0x2B820). */
static bool is_cjk(int32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
           (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B920 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

/* A non-ASCII character as do_clean_text sees it: dropped when it is U+FFFD or
 * unicode_categories' is_other (Cc, Cf, Co; unassigned code points are kept);
 * else a space when Rust's char::is_whitespace says so. */
static int uclass(const kz_wordpiece *wp, int32_t cp) {
    if (cp == 0xFFFD) return U_DROP;
    utf8proc_category_t cat = utf8proc_category(cp);
    if (cat == UTF8PROC_CATEGORY_CC || cat == UTF8PROC_CATEGORY_CF || cat == UTF8PROC_CATEGORY_CO)
        return U_DROP;
    if (cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
        cp == 0x202F || cp == 0x205F || cp == 0x3000)
        return U_WS;
    if (wp->chinese && is_cjk(cp)) return U_CJK;
    return U_OTHER;
}

/* ---- vocabulary: double-array trie ------------------------------------------ */

typedef struct da_job {
    int32_t node;
    uint32_t lo, hi, depth;
} da_job;

static inline size_t tok_len(const kz_wordpiece *wp, uint32_t id) {
    return wp->off[id + 1] - wp->off[id] - 1;
}
static inline const uint8_t *tok_ptr(const kz_wordpiece *wp, uint32_t id) {
    return (const uint8_t *)wp->blob + wp->off[id];
}

static int cmp_tok(const void *a, const void *b, void *ctx) {
    const kz_wordpiece *wp = ctx;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    size_t lx = tok_len(wp, x), ly = tok_len(wp, y);
    int c = memcmp(tok_ptr(wp, x), tok_ptr(wp, y), KZ_MIN(lx, ly));
    if (c) return c;
    if (lx != ly) return lx < ly ? -1 : 1;
    return x < y ? -1 : x > y;
}

/* Trie builder state: a doubly linked list of free slots, so that finding a
 * base for a node skips occupied regions in O(1) per slot. */
typedef struct da_builder {
    kz_wordpiece *wp;
    int32_t *nf, *pf; /* next/prev free slot; -1 = end; pf -2 = not in the list */
    int32_t head, tail;
} da_builder;

static int da_reserve(da_builder *b, size_t need) {
    kz_wordpiece *wp = b->wp;
    if (need <= wp->da_size) return 0;
    if (need > (size_t)INT32_MAX) return KZ_ELIMIT;
    size_t nc = wp->da_size ? wp->da_size : 1024;
    while (nc < need) nc *= 2;
    if (nc > (size_t)INT32_MAX) nc = (size_t)INT32_MAX;
    wp_node *p = realloc(wp->da, nc * sizeof *p);
    if (!p) return KZ_ENOMEM;
    wp->da = p;
    int32_t *v = realloc(wp->value, nc * sizeof *v);
    if (!v) return KZ_ENOMEM;
    wp->value = v;
    int32_t *nf = realloc(b->nf, nc * sizeof *nf);
    if (!nf) return KZ_ENOMEM;
    b->nf = nf;
    int32_t *pf = realloc(b->pf, nc * sizeof *pf);
    if (!pf) return KZ_ENOMEM;
    b->pf = pf;
    for (size_t k = wp->da_size; k < nc; k++) {
        p[k] = (wp_node){0, -1};
        v[k] = -1;
        int32_t i = (int32_t)k;
        b->pf[i] = b->tail;
        b->nf[i] = -1;
        if (b->tail >= 0)
            b->nf[b->tail] = i;
        else
            b->head = i;
        b->tail = i;
    }
    wp->da_size = (uint32_t)nc;
    return 0;
}

static void da_take(da_builder *b, int32_t i, int32_t parent) {
    b->wp->da[i].check = parent;
    if (b->pf[i] == -2) return;
    if (b->pf[i] >= 0)
        b->nf[b->pf[i]] = b->nf[i];
    else
        b->head = b->nf[i];
    if (b->nf[i] >= 0)
        b->pf[b->nf[i]] = b->pf[i];
    else
        b->tail = b->pf[i];
    b->pf[i] = -2;
}

/* Builds the trie from the tokens sorted bytewise (order[]). Every lookup
 * base + byte stays below da_size (da_size >= max base + 257), so the hot loop
 * needs no bounds check. */
static int da_build(kz_wordpiece *wp, const uint32_t *order, uint32_t n) {
    da_builder bld = {wp, NULL, NULL, -1, -1};
    /* Breadth-first, so that the nodes near the root (the ones every lookup
     * visits) are placed close together. */
    size_t qh = 0, qt = 0, cap = 64;
    da_job *st = malloc(cap * sizeof *st);
    int rc = st ? da_reserve(&bld, 1024) : KZ_ENOMEM;
    if (rc) goto out;
    da_take(&bld, 0, -2);
    st[qt++] = (da_job){0, 0, n, 0};
    uint8_t labels[256];
    uint32_t starts[257];
    while (qh < qt) {
        da_job j = st[qh++];
        uint32_t lo = j.lo;
        if (lo < j.hi && tok_len(wp, order[lo]) == j.depth) {
            wp->value[j.node] = (int32_t)order[lo++];
            wp->da[j.node].base |= WP_TERM;
        }
        if (lo == j.hi) continue;
        int nl = 0;
        for (uint32_t k = lo; k < j.hi; k++) {
            uint8_t c = tok_ptr(wp, order[k])[j.depth];
            if (nl == 0 || labels[nl - 1] != c) {
                labels[nl] = c;
                starts[nl++] = k;
            }
        }
        starts[nl] = j.hi;
        /* Try each free slot as the home of the first label. */
        size_t b = 0;
        for (int32_t p = bld.head;;) {
            if (p < 0) { /* no free slot fits: grow, the new slots join the list */
                int32_t old = (int32_t)wp->da_size;
                if ((rc = da_reserve(&bld, (size_t)wp->da_size * 2)) != 0) goto out;
                p = old;
                continue;
            }
            if ((size_t)p > labels[0]) {
                b = (size_t)p - labels[0];
                if ((rc = da_reserve(&bld, b + 257)) != 0) goto out;
                int ok = 1;
                for (int l = 1; l < nl && ok; l++) ok = wp->da[b + labels[l]].check == -1;
                if (ok) break;
            }
            p = bld.nf[p];
        }
        if (b > WP_BASE - 256) {
            rc = KZ_ELIMIT;
            goto out;
        }
        wp->da[j.node].base |= (uint32_t)b;
        if (qh > 4096 && qh > qt - qh) {
            memmove(st, st + qh, (qt - qh) * sizeof *st);
            qt -= qh;
            qh = 0;
        }
        if (qt + (size_t)nl > cap) {
            cap = (qt + (size_t)nl) * 2;
            da_job *q = realloc(st, cap * sizeof *st);
            if (!q) {
                rc = KZ_ENOMEM;
                goto out;
            }
            st = q;
        }
        for (int l = 0; l < nl; l++) {
            int32_t child = (int32_t)(b + labels[l]);
            da_take(&bld, child, j.node);
            st[qt++] = (da_job){child, starts[l], starts[l + 1], j.depth + 1};
        }
    }
out:
    free(st);
    free(bld.nf);
    free(bld.pf);
    return rc;
}

/* Exact lookup of s from node (returns the terminal value or -1). */
static int32_t da_find(const kz_wordpiece *wp, int32_t node, const uint8_t *s, size_t len) {
    if (node < 0) return -1;
    for (size_t k = 0; k < len; k++) {
        int32_t nx = (int32_t)(wp->da[node].base & WP_BASE) + s[k];
        if (wp->da[nx].check != node) return -1;
        node = nx;
    }
    return wp->value[node];
}

static int32_t da_node(const kz_wordpiece *wp, const char *s) {
    int32_t node = 0;
    for (const uint8_t *p = (const uint8_t *)s; *p; p++) {
        int32_t nx = (int32_t)(wp->da[node].base & WP_BASE) + *p;
        if (wp->da[nx].check != node) return -1;
        node = nx;
    }
    return node;
}

static int cmp_kstr(const void *a, const void *b) {
    const kz_str *x = a, *y = b;
    int c = memcmp(x->ptr, y->ptr, KZ_MIN(x->len, y->len));
    if (c) return c;
    return x->len < y->len ? -1 : x->len > y->len;
}

kz_wordpiece_opts kz_wordpiece_default_opts(bool lowercase) {
    kz_wordpiece_opts o;
    memset(&o, 0, sizeof o);
    o.lowercase = lowercase;
    o.strip_accents = -1;
    o.tokenize_chinese_chars = true;
    return o;
}

static int setup_options(kz_wordpiece *wp, const kz_wordpiece_opts *opts, kz_error *err) {
    kz_wordpiece_opts o = opts ? *opts : kz_wordpiece_default_opts(true);
    wp->lower = o.lowercase;
    wp->strip = o.strip_accents < 0 ? o.lowercase : o.strip_accents != 0;
    wp->chinese = o.tokenize_chinese_chars;
    wp->max_chars = o.max_input_chars_per_word ? o.max_input_chars_per_word : WP_DEFAULT_MAXCH;
    const char *unk = o.unk_token ? o.unk_token : "[UNK]";
    if (!*unk || !kz_utf8_valid(unk, strlen(unk), NULL))
        return kz_error_set(err, KZ_EINVAL, "wordpiece: unk_token must be non-empty valid UTF-8");
    if (!(wp->unk_str = strdup(unk))) return KZ_ENOMEM;
    wp->unk_id = da_find(wp, 0, (const uint8_t *)unk, strlen(unk));

    if (o.n_never_split && !o.never_split)
        return kz_error_set(err, KZ_EINVAL, "wordpiece: never_split is NULL");
    if (o.n_never_split > WP_MAX_NEVER_SPLIT)
        return kz_error_set(err, KZ_ELIMIT, "wordpiece: more than %u never_split tokens", WP_MAX_NEVER_SPLIT);
    size_t total = 0;
    for (size_t k = 0; k < o.n_never_split; k++) {
        const char *s = o.never_split[k];
        if (!s) return kz_error_set(err, KZ_EINVAL, "wordpiece: never_split[%zu] is NULL", k);
        size_t l = strlen(s);
        if (!kz_utf8_valid(s, l, NULL))
            return kz_error_set(err, KZ_EINVAL, "wordpiece: never_split[%zu] is not valid UTF-8", k);
        total += l + 1;
    }
    if (o.n_never_split) {
        wp->never_blob = malloc(total);
        wp->never = malloc(o.n_never_split * sizeof *wp->never);
        if (!wp->never_blob || !wp->never) return KZ_ENOMEM;
        char *p = wp->never_blob;
        size_t m = 0;
        for (size_t k = 0; k < o.n_never_split; k++) {
            size_t l = strlen(o.never_split[k]);
            if (!l) continue; /* an empty entry can never equal a word */
            memcpy(p, o.never_split[k], l + 1);
            wp->never[m++] = (kz_str){p, l};
            p += l + 1;
        }
        qsort(wp->never, m, sizeof *wp->never, cmp_kstr);
        size_t u = 0;
        for (size_t k = 0; k < m; k++)
            if (!u || cmp_kstr(&wp->never[u - 1], &wp->never[k])) wp->never[u++] = wp->never[k];
        wp->n_never = u;
        for (size_t k = 0; k < u; k++) wp->never_maxlen = KZ_MAX(wp->never_maxlen, wp->never[k].len);
    }

    /* Special tokens: BertTokenizerFast registers them as added tokens
     * (normalized=false, lstrip/rstrip/single_word false), found in the raw
     * text before normalisation, leftmost-longest. Only those the vocabulary
     * has are recognised (HF would give a missing one a new id). */
    const char *names[5] = {"[CLS]", "[SEP]", "[PAD]", wp->unk_str, "[MASK]"};
    int32_t ids[5];
    for (int k = 0; k < 5; k++) ids[k] = da_find(wp, 0, (const uint8_t *)names[k], strlen(names[k]));
    wp->sp = (kz_wordpiece_special){ids[0], ids[1], ids[2], ids[3], ids[4]};
    for (int k = 0; k < 5; k++) {
        if (ids[k] < 0) continue;
        bool dup = false;
        for (int q = 0; q < wp->n_specials; q++) dup |= strcmp(wp->specials[q].s, names[k]) == 0;
        if (dup) continue;
        wp->specials[wp->n_specials++] = (wp_special){names[k], (uint32_t)strlen(names[k]), ids[k]};
    }

    for (int b = 0; b < 256; b++) {
        uint8_t k;
        if (b >= 0x80)
            k = C_HIGH;
        else if (b == 9 || b == 10 || b == 13 || b == 32)
            k = C_WS; /* is_whitespace: \t \n \r and White_Space */
        else if (b < 32 || b == 127)
            k = C_DROP; /* is_control (Cc) runs before the whitespace map, so \v \f are dropped */
        else if (is_punct(b))
            k = C_PUNCT;
        else
            k = C_WORD;
        wp->cls[b] = k;
        wp->map[b] = (uint8_t)(wp->lower && b >= 'A' && b <= 'Z' ? b + 32 : b);
    }
    for (int k = 0; k < wp->n_specials; k++) wp->cls[(uint8_t)wp->specials[k].s[0]] |= C_SPECIAL;
    for (int b = 0; b < 128; b++) {
        uint8_t ch = (uint8_t)b;
        wp->punct_id[b] = (wp->cls[b] & ~C_SPECIAL) == C_PUNCT ? da_find(wp, 0, &ch, 1) : -1;
        if (wp->punct_id[b] < 0) wp->punct_id[b] = wp->unk_id;
    }
    return 0;
}

static int wp_build(const char *vocab, size_t len, const char *name, const kz_wordpiece_opts *opts,
                    kz_wordpiece **out, kz_error *err) {
    if (!out) return kz_error_set(err, KZ_EINVAL, "wordpiece: out is NULL");
    *out = NULL;
    if (!vocab && len) return kz_error_set(err, KZ_EINVAL, "wordpiece: vocab is NULL");
    if (len > WP_MAX_VOCAB_BYTES)
        return kz_error_set(err, KZ_ELIMIT, "%s: vocabulary larger than %zu bytes", name, WP_MAX_VOCAB_BYTES);
    kz_wordpiece *wp = calloc(1, sizeof *wp);
    if (!wp) return KZ_ENOMEM;
    int rc = 0;
    uint32_t *order = NULL;
    size_t nlines = 0;
    for (size_t k = 0; k < len; k++) nlines += vocab[k] == '\n';
    if (len && vocab[len - 1] != '\n') nlines++;
    if (nlines > WP_MAX_TOKENS) {
        rc = kz_error_set(err, KZ_ELIMIT, "%s: more than %u tokens", name, WP_MAX_TOKENS);
        goto fail;
    }
    wp->blob = malloc(len + 1);
    wp->off = malloc((nlines + 1) * sizeof *wp->off);
    order = malloc((nlines ? nlines : 1) * sizeof *order);
    if (!wp->blob || !wp->off || !order) {
        rc = KZ_ENOMEM;
        goto fail;
    }
    size_t pos = 0, bp = 0;
    uint32_t n = 0;
    while (pos < len) {
        const char *nl = memchr(vocab + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - vocab) : len, l = end - pos;
        if (l && vocab[pos + l - 1] == '\r') l--;
        size_t bad;
        if (!kz_utf8_valid(vocab + pos, l, &bad)) {
            if (err) {
                snprintf(err->path, sizeof err->path, "%s", name);
                err->line = n + 1;
                err->column = (int64_t)bad + 1;
            }
            rc = kz_error_set(err, KZ_EPARSE, "%s:%u: vocabulary token is not valid UTF-8", name, n + 1);
            goto fail;
        }
        wp->off[n] = (uint32_t)bp;
        memcpy(wp->blob + bp, vocab + pos, l);
        bp += l;
        wp->blob[bp++] = 0;
        wp->max_tok_len = KZ_MAX(wp->max_tok_len, l);
        order[n] = n;
        n++;
        pos = end + 1;
    }
    wp->off[n] = (uint32_t)bp;
    wp->n_tokens = n;
    qsort_r(order, n, sizeof *order, cmp_tok, wp);
    for (uint32_t k = 1; k < n; k++) {
        uint32_t a = order[k - 1], b = order[k];
        if (tok_len(wp, a) == tok_len(wp, b) && !memcmp(tok_ptr(wp, a), tok_ptr(wp, b), tok_len(wp, a))) {
            if (err) {
                snprintf(err->path, sizeof err->path, "%s", name);
                err->line = (int64_t)b + 1;
            }
            rc = kz_error_set(err, KZ_EPARSE, "%s:%u: duplicate vocabulary token \"%.*s\" (first on line %u)",
                              name, b + 1, (int)KZ_MIN(tok_len(wp, b), 64), (const char *)tok_ptr(wp, b),
                              a + 1);
            goto fail;
        }
    }
    if ((rc = da_build(wp, order, n)) != 0) {
        if (rc == KZ_ELIMIT) kz_error_set(err, rc, "%s: vocabulary trie too large", name);
        goto fail;
    }
    wp->cont_root = da_node(wp, "##");
    if ((rc = setup_options(wp, opts, err)) != 0) goto fail;
    free(order);
    *out = wp;
    return 0;
fail:
    free(order);
    kz_wordpiece_free(wp);
    return rc;
}

int kz_wordpiece_from_buffer(const char *vocab, size_t len, const kz_wordpiece_opts *opts, kz_wordpiece **out,
                             kz_error *err) {
    return wp_build(vocab, len, "<vocab>", opts, out, err);
}

int kz_wordpiece_load(const char *vocab_path, const kz_wordpiece_opts *opts, kz_wordpiece **out,
                      kz_error *err) {
    if (out) *out = NULL;
    if (!vocab_path) return kz_error_set(err, KZ_EINVAL, "wordpiece: vocab_path is NULL");
    FILE *f = fopen(vocab_path, "rb");
    if (!f) return kz_error_set(err, KZ_EIO, "%s: cannot open vocabulary", vocab_path);
    kz_buf b;
    kz__buf_init(&b, WP_MAX_VOCAB_BYTES);
    char chunk[65536];
    size_t got;
    int rc = 0;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        if ((rc = kz__buf_append(&b, chunk, got)) != 0) break;
    bool ioerr = ferror(f);
    fclose(f);
    if (rc == KZ_ELIMIT)
        rc = kz_error_set(err, rc, "%s: vocabulary larger than %zu bytes", vocab_path, WP_MAX_VOCAB_BYTES);
    else if (!rc && ioerr)
        rc = kz_error_set(err, KZ_EIO, "%s: read error", vocab_path);
    if (!rc) rc = wp_build(b.data, b.len, vocab_path, opts, out, err);
    kz__buf_free(&b);
    return rc;
}

void kz_wordpiece_free(kz_wordpiece *wp) {
    if (!wp) return;
    free(wp->blob);
    free(wp->off);
    free(wp->da);
    free(wp->value);
    free(wp->never);
    free(wp->never_blob);
    free(wp->unk_str);
    free(wp);
}

uint32_t kz_wordpiece_vocab_size(const kz_wordpiece *wp) { return wp ? wp->n_tokens : 0; }

int32_t kz_wordpiece_token_id(const kz_wordpiece *wp, kz_str token) {
    if (!wp || (!token.ptr && token.len)) return -1;
    return da_find(wp, 0, (const uint8_t *)token.ptr, token.len);
}

kz_str kz_wordpiece_token(const kz_wordpiece *wp, int32_t id) {
    if (!wp || id < 0 || (uint32_t)id >= wp->n_tokens) return KZ_STR_NULL;
    return (kz_str){(const char *)tok_ptr(wp, (uint32_t)id), tok_len(wp, (uint32_t)id)};
}

kz_wordpiece_special kz_wordpiece_specials(const kz_wordpiece *wp) {
    if (!wp) return (kz_wordpiece_special){-1, -1, -1, -1, -1};
    return wp->sp;
}

size_t kz__wordpiece_max_token_len(const kz_wordpiece *wp) { return wp ? wp->max_tok_len : 0; }

/* ---- encoding ------------------------------------------------------------------ */

typedef struct wp_span {
    int64_t s, e;
} wp_span;

typedef struct wp_pend {
    int32_t cp;
    uint8_t ccc, change; /* change: 0 = replaces an original char, 1 = inserted (tokenizers' transform) */
} wp_pend;

typedef struct wp_run {
    const kz_wordpiece *wp;
    const char *text;
    size_t len;
    kz_wp_token **toks;
    size_t *n, *cap;
    kz_error *err;
    int64_t word;
    int mode;
    size_t fstart, fend; /* M_FAST word = text[fstart, fend) */
    uint8_t *wb;         /* M_GENERAL word: normalised bytes */
    uint32_t *wci;       /* per byte: index of its character */
    size_t wblen, wbcap;
    wp_span *wal; /* per character: original span */
    size_t wchars, walcap;
    wp_pend *pend, *ptmp; /* canonical-reordering buffer (NFD) */
    size_t npend, pcap;
    wp_span *fifo; /* spans of original chars fed to NFD, not yet consumed */
    size_t fhead, fn, fcap;
    wp_span last; /* span of the last consumed original char */
    bool at_boundary;
    kz__wp_stats st;
} wp_run;

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 16;
    while (nc < need) {
        if (nc > SIZE_MAX / 2 / elem) return KZ_ENOMEM;
        nc *= 2;
    }
    void *q = realloc(*p, nc * elem);
    if (!q) return KZ_ENOMEM;
    *p = q;
    *cap = nc;
    return 0;
}

static inline int out_push(wp_run *r, int32_t id, int64_t s, int64_t e) {
    if (*r->n == *r->cap) {
        int rc = grow((void **)r->toks, r->cap, *r->n + 1, sizeof **r->toks);
        if (rc) return rc;
    }
    (*r->toks)[(*r->n)++] = (kz_wp_token){id, (int32_t)r->word, s, e};
    return 0;
}

static int next_word(wp_run *r) {
    if (++r->word > INT32_MAX) return kz_error_set(r->err, KZ_ELIMIT, "wordpiece: more than 2^31 words");
    return 0;
}

static int no_unk(wp_run *r) {
    return kz_error_set(r->err, KZ_ENOTFOUND, "wordpiece: the vocabulary has no unk token \"%s\"",
                        r->wp->unk_str);
}

/* WordPiece::tokenize on one pre-tokenised word w[0, n) (bytes read through
 * map): [UNK] when longer than max_input_chars_per_word characters or when some
 * position has no vocabulary match; else greedy longest match, "##" after the
 * first piece. general: offsets come from the per-character spans, else they
 * are base + byte offsets. */
static int wp_word(wp_run *r, const uint8_t *w, size_t n, const uint8_t *map, size_t nchars, bool general,
                   size_t base) {
    const kz_wordpiece *wp = r->wp;
    const wp_node *da = wp->da;
    size_t first = *r->n;
    int rc;
    if (nchars <= wp->max_chars) {
        size_t pos = 0;
        while (pos < n) {
            int32_t node = pos ? wp->cont_root : 0, hit = -1;
            if (node < 0) goto unk;
            size_t j = pos, bend = pos;
            while (j < n) {
                int32_t nx = (int32_t)(da[node].base & WP_BASE) + map[w[j]];
                if (da[nx].check != node) break;
                node = nx;
                j++;
                if (da[node].base & WP_TERM) {
                    hit = node;
                    bend = j;
                }
            }
            r->st.trie_steps += j - pos + 1;
            if (hit < 0) goto unk;
            int64_t s = general ? r->wal[r->wci[pos]].s : (int64_t)(base + pos);
            int64_t e = general ? r->wal[r->wci[bend - 1]].e : (int64_t)(base + bend);
            if ((rc = out_push(r, wp->value[hit], s, e)) != 0) return rc;
            pos = bend;
        }
        return next_word(r);
    }
unk:
    *r->n = first;
    if (wp->unk_id < 0) return no_unk(r);
    if ((rc = out_push(r, wp->unk_id, general ? r->wal[0].s : (int64_t)base,
                       general ? r->wal[r->wchars - 1].e : (int64_t)(base + n))) != 0)
        return rc;
    return next_word(r);
}

static int finish_word(wp_run *r) {
    int rc = 0;
    if (r->mode == M_FAST)
        rc = wp_word(r, (const uint8_t *)r->text + r->fstart, r->fend - r->fstart, r->wp->map,
                     r->fend - r->fstart, false, r->fstart);
    else if (r->mode == M_GENERAL && r->wchars)
        rc = wp_word(r, r->wb, r->wblen, k_identity, r->wchars, true, 0);
    r->mode = M_NONE;
    r->wblen = r->wchars = 0;
    return rc;
}

/* Appends one normalised character to the general word buffer. */
static int word_append(wp_run *r, int32_t cp, wp_span sp) {
    char u[4];
    size_t k = kz_utf8_encode((uint32_t)cp, u);
    if (!k) return 0; /* cannot happen for valid input */
    int rc;
    if (r->wblen + 4 > r->wbcap) {
        size_t c1 = r->wbcap, c2 = r->wbcap;
        if ((rc = grow((void **)&r->wb, &c1, r->wblen + 4, 1)) != 0) return rc;
        if ((rc = grow((void **)&r->wci, &c2, r->wblen + 4, sizeof *r->wci)) != 0) return rc;
        r->wbcap = KZ_MIN(c1, c2);
    }
    if ((rc = grow((void **)&r->wal, &r->walcap, r->wchars + 1, sizeof *r->wal)) != 0) return rc;
    r->mode = M_GENERAL;
    for (size_t q = 0; q < k; q++) {
        r->wb[r->wblen] = (uint8_t)u[q];
        r->wci[r->wblen++] = (uint32_t)r->wchars;
    }
    r->wal[r->wchars++] = sp;
    r->st.norm_chars++;
    return 0;
}

/* The current ASCII word stops being an identity slice of the text (a dropped
 * control character or a non-ASCII character follows): copy it over. */
static int to_general(wp_run *r) {
    if (r->mode != M_FAST) return 0;
    size_t s = r->fstart, e = r->fend;
    r->mode = M_NONE;
    r->wblen = r->wchars = 0;
    for (size_t k = s; k < e; k++) {
        int rc = word_append(r, r->wp->map[(uint8_t)r->text[k]], (wp_span){(int64_t)k, (int64_t)k + 1});
        if (rc) return rc;
    }
    return 0;
}

/* A character after normalisation (BertPreTokenizer): punctuation is a word
 * of its own, anything else extends the current word. */
static int assemble(wp_run *r, int32_t cp, wp_span sp) {
    int rc;
    if (is_punct(cp)) {
        if ((rc = finish_word(r)) != 0) return rc;
        if ((rc = word_append(r, cp, sp)) != 0) return rc;
        return finish_word(r);
    }
    return word_append(r, cp, sp);
}

/* After NFD: drop Mn when stripping accents, then lowercase (Rust
 * char::to_lowercase: the full mapping, i.e. the simple one except U+0130). */
static int post_nfd(wp_run *r, int32_t cp, wp_span sp) {
    if (r->wp->strip && utf8proc_category(cp) == UTF8PROC_CATEGORY_MN) return 0;
    if (r->wp->lower) {
        if (cp == 0x130) {
            int rc = assemble(r, 'i', sp);
            return rc ? rc : assemble(r, 0x307, sp);
        }
        cp = utf8proc_tolower(cp);
    }
    return assemble(r, cp, sp);
}

/* Emits the reordering buffer: a stable sort by combining class, then each
 * character takes an original span by position, as NormalizedString::transform
 * does with unicode-normalization-alignments' (char, change) pairs: change 0
 * consumes the next original character, change 1 shares the previous one's. */
static int nfd_flush(wp_run *r) {
    size_t m = r->npend;
    if (!m) return 0;
    r->npend = 0;
    wp_pend *p = r->pend;
    if (m > 1) {
        r->st.sorted_marks += m;
        if (m <= 16) {
            for (size_t a = 1; a < m; a++) {
                wp_pend x = p[a];
                size_t b = a;
                while (b > 0 && p[b - 1].ccc > x.ccc) {
                    p[b] = p[b - 1];
                    b--;
                }
                p[b] = x;
            }
        } else { /* counting sort: stable and linear for long runs of marks */
            size_t cnt[257] = {0};
            for (size_t a = 0; a < m; a++) cnt[p[a].ccc + 1]++;
            for (int c = 1; c < 257; c++) cnt[c] += cnt[c - 1];
            for (size_t a = 0; a < m; a++) r->ptmp[cnt[p[a].ccc]++] = p[a];
            p = r->ptmp;
        }
    }
    for (size_t a = 0; a < m; a++) {
        wp_span sp = r->last;
        if (p[a].change == 0 && r->fhead < r->fn) sp = r->last = r->fifo[r->fhead++];
        int rc = post_nfd(r, p[a].cp, sp);
        if (rc) return rc;
    }
    size_t left = r->fn - r->fhead;
    if (left) memmove(r->fifo, r->fifo + r->fhead, left * sizeof *r->fifo);
    r->fhead = 0;
    r->fn = left;
    return 0;
}

/* A kept, non-space original character enters normalisation. */
static int feed(wp_run *r, int32_t cp, size_t s, size_t e) {
    wp_span sp = {(int64_t)s, (int64_t)e};
    if (!r->wp->strip) return post_nfd(r, cp, sp);
    int rc;
    if ((rc = grow((void **)&r->fifo, &r->fcap, r->fn + 1, sizeof *r->fifo)) != 0) return rc;
    r->fifo[r->fn++] = sp;
    utf8proc_int32_t d[32];
    utf8proc_ssize_t k = 1;
    d[0] = cp;
    if (cp >= 0xC0) {
        int lb = 0;
        k = utf8proc_decompose_char(cp, d, 32, UTF8PROC_DECOMPOSE, &lb);
        if (k < 1 || k > 32) {
            d[0] = cp;
            k = 1;
        }
    }
    for (utf8proc_ssize_t t = 0; t < k; t++) {
        uint8_t ccc = (uint8_t)utf8proc_get_property(d[t])->combining_class;
        if (ccc == 0 && (rc = nfd_flush(r)) != 0) return rc;
        if (r->npend == r->pcap) {
            size_t oc = r->pcap;
            if ((rc = grow((void **)&r->pend, &r->pcap, r->npend + 1, sizeof *r->pend)) != 0) return rc;
            size_t tc = oc;
            if ((rc = grow((void **)&r->ptmp, &tc, r->pcap, sizeof *r->ptmp)) != 0) return rc;
        }
        r->pend[r->npend++] = (wp_pend){d[t], ccc, (uint8_t)(t > 0)};
    }
    return 0;
}

static int boundary(wp_run *r) {
    int rc = nfd_flush(r);
    return rc ? rc : finish_word(r);
}

static const wp_special *match_special(const kz_wordpiece *wp, const char *s, size_t left) {
    const wp_special *best = NULL;
    for (int k = 0; k < wp->n_specials; k++) {
        const wp_special *sp = &wp->specials[k];
        if (sp->len <= left && !memcmp(s, sp->s, sp->len) && (!best || sp->len > best->len)) best = sp;
    }
    return best;
}

/* never_split (slow BasicTokenizer semantics): a whitespace-delimited chunk of
 * the cleaned text (control characters removed; CJK characters and special
 * tokens delimit too) equal to an entry is one token, looked up whole. */
static int never_try(wp_run *r, size_t i, size_t *next, bool *hit) {
    const kz_wordpiece *wp = r->wp;
    char buf[256], *tmp = buf;
    size_t tl = 0, j = i, cap = sizeof buf;
    int64_t fs = -1, le = -1;
    int rc = 0;
    *hit = false;
    if (wp->never_maxlen + 4 > cap) {
        cap = wp->never_maxlen + 4;
        if (!(tmp = malloc(cap))) return KZ_ENOMEM;
    }
    while (j < r->len) {
        uint8_t c = (uint8_t)r->text[j];
        if ((wp->cls[c] & C_SPECIAL) && match_special(wp, r->text + j, r->len - j)) break;
        size_t nj = j;
        int32_t cp = kz_utf8_decode(r->text, r->len, &nj);
        if (cp < 0) goto done; /* the main loop reports it */
        int u = cp < 0x80 ? ((wp->cls[c] & ~C_SPECIAL) == C_DROP ? U_DROP
                             : (wp->cls[c] & ~C_SPECIAL) == C_WS ? U_WS
                                                                 : U_OTHER)
                          : uclass(wp, cp);
        if (u == U_DROP) {
            j = nj;
            continue;
        }
        if (u == U_WS) break;
        if (u == U_CJK && tl) break;
        if (tl + (nj - j) > wp->never_maxlen) goto done;
        memcpy(tmp + tl, r->text + j, nj - j);
        tl += nj - j;
        if (fs < 0) fs = (int64_t)j;
        le = (int64_t)nj;
        j = nj;
        if (u == U_CJK) break;
    }
    if (!tl) goto done;
    kz_str key = {tmp, tl};
    if (!bsearch(&key, wp->never, wp->n_never, sizeof *wp->never, cmp_kstr)) goto done;
    int32_t id = da_find(wp, 0, (const uint8_t *)tmp, tl);
    if (id < 0) id = wp->unk_id;
    if (id < 0) {
        rc = no_unk(r);
        goto done;
    }
    if ((rc = out_push(r, id, fs, le)) == 0) rc = next_word(r);
    *hit = true;
    *next = j;
done:
    if (tmp != buf) free(tmp);
    return rc;
}

static int encode_run(wp_run *r) {
    const kz_wordpiece *wp = r->wp;
    const char *text = r->text;
    const size_t len = r->len;
    size_t i = 0;
    int rc = 0;
    r->at_boundary = true;
    while (i < len) {
        uint8_t c = (uint8_t)text[i];
        uint8_t k = wp->cls[c];
        if (k & C_SPECIAL) {
            const wp_special *sp = match_special(wp, text + i, len - i);
            if (sp) {
                if ((rc = boundary(r)) != 0) return rc;
                if ((rc = out_push(r, sp->id, (int64_t)i, (int64_t)(i + sp->len))) != 0) return rc;
                if ((rc = next_word(r)) != 0) return rc;
                i += sp->len;
                r->at_boundary = true;
                continue;
            }
            k &= (uint8_t)~C_SPECIAL;
        }
        if (k == C_HIGH) {
            size_t j = i;
            int32_t cp = kz_utf8_decode(text, len, &j);
            if (cp < 0) {
                if (r->err) r->err->offset = (int64_t)i;
                return kz_error_set(r->err, KZ_EUTF8, "wordpiece: invalid UTF-8 at byte %zu", i);
            }
            int u = uclass(wp, cp);
            if (u == U_DROP) {
                if ((rc = to_general(r)) != 0) return rc;
            } else if (u == U_WS) {
                if ((rc = boundary(r)) != 0) return rc;
                r->at_boundary = true;
            } else {
                if (wp->n_never && (r->at_boundary || u == U_CJK)) {
                    bool hit;
                    size_t nx;
                    if (u == U_CJK && (rc = boundary(r)) != 0) return rc;
                    if ((rc = never_try(r, i, &nx, &hit)) != 0) return rc;
                    if (hit) {
                        if ((rc = boundary(r)) != 0) return rc;
                        i = nx;
                        r->at_boundary = true;
                        continue;
                    }
                }
                r->at_boundary = false;
                if (u == U_CJK) {
                    if ((rc = boundary(r)) != 0) return rc;
                    if ((rc = feed(r, cp, i, j)) != 0) return rc;
                    if ((rc = boundary(r)) != 0) return rc;
                    r->at_boundary = true;
                } else {
                    if ((rc = to_general(r)) != 0) return rc;
                    if ((rc = feed(r, cp, i, j)) != 0) return rc;
                }
            }
            i = j;
            continue;
        }
        if (k == C_DROP) {
            if ((rc = to_general(r)) != 0) return rc;
            i++;
            continue;
        }
        if (k == C_WS) {
            if ((rc = boundary(r)) != 0) return rc;
            r->at_boundary = true;
            i++;
            continue;
        }
        if (r->at_boundary && wp->n_never) {
            bool hit;
            size_t nx;
            if ((rc = boundary(r)) != 0) return rc;
            if ((rc = never_try(r, i, &nx, &hit)) != 0) return rc;
            if (hit) {
                i = nx;
                continue;
            }
        }
        r->at_boundary = false;
        if (r->npend && (rc = nfd_flush(r)) != 0) return rc; /* every ASCII character is a starter */
        if (k == C_PUNCT) {
            if ((rc = finish_word(r)) != 0) return rc;
            if (wp->punct_id[c] < 0) return no_unk(r);
            if ((rc = out_push(r, wp->punct_id[c], (int64_t)i, (int64_t)i + 1)) != 0) return rc;
            if ((rc = next_word(r)) != 0) return rc;
            i++;
            continue;
        }
        /* C_WORD */
        if (r->mode == M_GENERAL) {
            if ((rc = word_append(r, wp->map[c], (wp_span){(int64_t)i, (int64_t)i + 1})) != 0) return rc;
            i++;
            continue;
        }
        if (r->mode == M_NONE) {
            r->mode = M_FAST;
            r->fstart = i;
        }
        size_t j = i + 1;
        while (j < len && wp->cls[(uint8_t)text[j]] == C_WORD) j++;
        r->fend = j;
        i = j;
    }
    return boundary(r);
}

int kz__wordpiece_encode_stats(const kz_wordpiece *wp, const char *text, size_t len, kz_wp_token **toks,
                               size_t *n, size_t *cap, kz__wp_stats *st, kz_error *err) {
    if (!wp || !toks || !n || !cap || (!text && len))
        return kz_error_set(err, KZ_EINVAL, "wordpiece: NULL argument to encode");
    if (*n > *cap || (*cap && !*toks))
        return kz_error_set(err, KZ_EINVAL, "wordpiece: inconsistent token array");
    wp_run r;
    memset(&r, 0, sizeof r);
    r.wp = wp;
    r.text = text;
    r.len = len;
    r.toks = toks;
    r.n = n;
    r.cap = cap;
    r.err = err;
    size_t n0 = *n;
    int rc = encode_run(&r);
    if (rc) {
        *n = n0;
        if (rc == KZ_ENOMEM && err && !err->code) kz_error_set(err, rc, "wordpiece: out of memory");
    }
    if (st) {
        st->trie_steps += r.st.trie_steps;
        st->norm_chars += r.st.norm_chars;
        st->sorted_marks += r.st.sorted_marks;
    }
    free(r.wb);
    free(r.wci);
    free(r.wal);
    free(r.pend);
    free(r.ptmp);
    free(r.fifo);
    return rc;
}

int kz_wordpiece_encode(const kz_wordpiece *wp, const char *text, size_t len, kz_wp_token **toks, size_t *n,
                        size_t *cap, kz_error *err) {
    return kz__wordpiece_encode_stats(wp, text, len, toks, n, cap, NULL, err);
}
