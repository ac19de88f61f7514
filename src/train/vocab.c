/* WordPiece vocabulary training (docs/train-data.md): BERT-uncased
 * pre-tokenisation, then Hugging Face's WordPieceTrainer algorithm (BPE
 * merges by pair frequency with the "##" continuation prefix), with merges
 * taken in small batches per counting pass. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "../core/core_int.h"
#include "../io/io_int.h"
#include "data_int.h"
#include "kazu/utf8.h"

#define MAX_WORD_BYTES  200  /* longer words are skipped (HF: max_input_chars_per_word 100) */
#define LIMIT_ALPHABET  1000 /* HF BertWordPieceTokenizer default */
#define MIN_FREQUENCY   2
#define MERGES_PER_PASS 32

static const char k_specials[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";

/* ---- string interning (symbols and words) ---------------------------------- */
typedef struct strtab {
    char **s;
    size_t *len;
    uint64_t *cnt;
    uint32_t n, cap;
    uint32_t *h; /* open addressing: id + 1 */
    uint32_t hcap;
} strtab;

static uint64_t fnv(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

static int st_rehash(strtab *t, uint32_t hcap) {
    uint32_t *h = calloc(hcap, sizeof *h);
    if (!h) return KZ_ENOMEM;
    for (uint32_t i = 0; i < t->n; i++) {
        uint32_t k = (uint32_t)fnv(t->s[i], t->len[i]) & (hcap - 1);
        while (h[k]) k = (k + 1) & (hcap - 1);
        h[k] = i + 1;
    }
    free(t->h);
    t->h = h;
    t->hcap = hcap;
    return 0;
}

/* Id of s (added with count 0 if new), or -1 on OOM. */
static int64_t st_intern(strtab *t, const char *s, size_t n) {
    if (!t->hcap && st_rehash(t, 1024)) return -1;
    uint32_t k = (uint32_t)fnv(s, n) & (t->hcap - 1);
    while (t->h[k]) {
        uint32_t id = t->h[k] - 1;
        if (t->len[id] == n && !memcmp(t->s[id], s, n)) return id;
        k = (k + 1) & (t->hcap - 1);
    }
    if (t->n == UINT32_MAX - 1) return -1;
    if (t->n == t->cap) {
        uint32_t cap = t->cap ? t->cap * 2 : 1024;
        char **a = realloc(t->s, cap * sizeof *a);
        if (!a) return -1;
        t->s = a;
        size_t *b = realloc(t->len, cap * sizeof *b);
        if (!b) return -1;
        t->len = b;
        uint64_t *c = realloc(t->cnt, cap * sizeof *c);
        if (!c) return -1;
        t->cnt = c;
        t->cap = cap;
    }
    char *x = malloc(n + 1);
    if (!x) return -1;
    memcpy(x, s, n);
    x[n] = 0;
    uint32_t id = t->n++;
    t->s[id] = x;
    t->len[id] = n;
    t->cnt[id] = 0;
    t->h[k] = id + 1;
    if ((uint64_t)t->n * 2 > t->hcap && st_rehash(t, t->hcap * 2)) return -1;
    return id;
}

static void st_free(strtab *t) {
    for (uint32_t i = 0; i < t->n; i++) free(t->s[i]);
    free(t->s);
    free(t->len);
    free(t->cnt);
    free(t->h);
    memset(t, 0, sizeof *t);
}

/* ---- pre-tokenisation: BERT uncased ------------------------------------------ */

/* HF BertPreTokenizer punctuation: ASCII punctuation or a Unicode P* category. */
static bool is_punct(int32_t cp) {
    if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
        (cp >= 123 && cp <= 126))
        return true;
    utf8proc_category_t c = utf8proc_category(cp);
    return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}
static bool is_space(int32_t cp) {
    if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r') return true;
    return utf8proc_category(cp) == UTF8PROC_CATEGORY_ZS;
}
static bool is_control(int32_t cp) {
    if (cp == '\t' || cp == '\n' || cp == '\r') return false;
    utf8proc_category_t c = utf8proc_category(cp);
    return c == UTF8PROC_CATEGORY_CC || c == UTF8PROC_CATEGORY_CF || c == UTF8PROC_CATEGORY_CN ||
           c == UTF8PROC_CATEGORY_CO;
}
static bool is_cjk(int32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
           (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

typedef struct wcount {
    strtab words;
    kz_buf cur;
    int err;
} wcount;

static void word_end(wcount *w) {
    if (!w->cur.len) return;
    if (w->cur.len <= MAX_WORD_BYTES) {
        int64_t id = st_intern(&w->words, w->cur.data, w->cur.len);
        if (id < 0)
            w->err = KZ_ENOMEM;
        else
            w->words.cnt[id]++;
    }
    kz__buf_clear(&w->cur);
}

static void word_put(wcount *w, int32_t cp) {
    char u[4];
    size_t k = kz_utf8_encode((uint32_t)cp, u);
    if (k && kz__buf_append(&w->cur, u, k)) w->err = KZ_ENOMEM;
}

/* Lowercase, NFD, drop Mn, split on whitespace and punctuation (punctuation
 * and CJK characters are words of their own), drop controls. */
static void count_text(wcount *w, const char *s, size_t len) {
    size_t i = 0;
    while (i < len && !w->err) {
        int32_t cp = kz_utf8_decode(s, len, &i);
        if (cp < 0) {
            i++;
            continue;
        }
        if (cp == 0 || cp == 0xFFFD || is_control(cp)) continue;
        if (is_space(cp)) {
            word_end(w);
            continue;
        }
        utf8proc_int32_t dec[16];
        int last = 0;
        utf8proc_ssize_t nd =
            cp == 0x130 ? 1 : utf8proc_decompose_char(cp, dec, 16, UTF8PROC_DECOMPOSE, &last);
        if (cp == 0x130) dec[0] = 'I';
        for (utf8proc_ssize_t k = 0; k < nd && k < 16; k++) {
            int32_t c = dec[k];
            if (utf8proc_category(c) == UTF8PROC_CATEGORY_MN) continue;
            c = utf8proc_tolower(c);
            if (is_punct(c) || is_cjk(c)) {
                word_end(w);
                word_put(w, c);
                word_end(w);
            } else {
                word_put(w, c);
            }
        }
    }
    word_end(w);
}

static int corpus_text_doc(kz_doc *doc, void *user) {
    wcount *w = user;
    for (uint32_t s = 0; s < doc->n_sections; s++)
        count_text(w, doc->sections[s]->text.ptr, doc->sections[s]->text.len);
    kz_doc_free(doc);
    return w->err;
}

static int count_file(wcount *w, const char *path, kz_error *err) {
    size_t n = strlen(path);
    if (n > 5 && (!strcmp(path + n - 5, ".yaml") || !strcmp(path + n - 4, ".yml"))) {
        /* a corpus list: the texts of its enabled train entries */
        kz__corpus_list list;
        int rc = kz__corpora_load(path, &list, err);
        for (size_t i = 0; !rc && i < list.n; i++)
            if (list.v[i].enabled && !strcmp(list.v[i].split, "train"))
                rc = kz__corpus_read(&list.v[i], corpus_text_doc, w, NULL, err);
        kz__corpora_free(&list);
        return rc ? rc : w->err;
    }
    kz_input in;
    int rc = kz__input_open_path(&in, path, err);
    if (rc) return rc;
    kz_buf line;
    kz__buf_init(&line, 0);
    for (;;) {
        int k = kz__input_getline(&in, &line, KZ_TRAIN_MAX_LINE);
        if (k == 0) break;
        if (k == KZ_ELIMIT) continue;
        if (k < 0) {
            rc = kz_error_set(err, KZ_EIO, "%s: read error", path);
            break;
        }
        count_text(w, line.data, line.len);
        if (w->err) break;
    }
    kz__buf_free(&line);
    kz__input_close(&in);
    if (!rc && w->err) rc = kz_error_set(err, w->err, "out of memory");
    return rc;
}

/* ---- BPE with "##" ------------------------------------------------------------ */

typedef struct pair_ent {
    uint64_t key; /* a << 32 | b, + 1 so 0 is empty */
    uint64_t cnt;
    int32_t rank; /* merge rank in the current pass, -1 if none */
    uint32_t merged;
} pair_ent;

typedef struct pairmap {
    pair_ent *e;
    size_t cap, n;
} pairmap;

static pair_ent *pm_get(pairmap *m, uint64_t key, bool add) {
    size_t k = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & (m->cap - 1);
    while (m->e[k].key) {
        if (m->e[k].key == key + 1) return &m->e[k];
        k = (k + 1) & (m->cap - 1);
    }
    if (!add) return NULL;
    m->e[k].key = key + 1;
    m->e[k].cnt = 0;
    m->e[k].rank = -1;
    m->n++;
    return &m->e[k];
}

static int pm_reset(pairmap *m, size_t want) {
    size_t cap = 1024;
    while (cap < want * 2) cap *= 2;
    if (cap != m->cap) {
        free(m->e);
        m->e = calloc(cap, sizeof *m->e);
        if (!m->e) return KZ_ENOMEM;
        m->cap = cap;
    } else {
        memset(m->e, 0, cap * sizeof *m->e);
    }
    m->n = 0;
    return 0;
}

typedef struct cand {
    uint32_t a, b;
    uint64_t cnt;
} cand;

static const strtab *g_sym; /* for the comparator (single-threaded use) */
static int cand_cmp(const void *x, const void *y) {
    const cand *p = x, *q = y;
    if (p->cnt != q->cnt) return p->cnt > q->cnt ? -1 : 1;
    int c = strcmp(g_sym->s[p->a], g_sym->s[q->a]);
    return c ? c : strcmp(g_sym->s[p->b], g_sym->s[q->b]);
}

static int str_cmp(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

int kz_wordpiece_train(const char *const *text_paths, size_t n_paths, uint32_t vocab_size,
                       const char *out_vocab_path, kz_error *err) {
    if (!text_paths || !n_paths || !out_vocab_path) return kz_error_set(err, KZ_EINVAL, "no input or output");
    if (vocab_size < 64 || vocab_size > (1u << 22))
        return kz_error_set(err, KZ_EINVAL, "vocab_size %u", vocab_size);
    wcount w = {0};
    kz__buf_init(&w.cur, 0);
    strtab sym = {0};
    pairmap pm = {0};
    uint32_t **wsym = NULL; /* per word: its symbols */
    uint32_t *wlen = NULL;
    char **alpha = NULL;
    cand *cands = NULL;
    FILE *f = NULL;
    int rc = 0;
    for (size_t i = 0; !rc && i < n_paths; i++) rc = count_file(&w, text_paths[i], err);
    if (rc) goto done;
    uint32_t nw = w.words.n;
    /* alphabet: the LIMIT_ALPHABET most frequent characters */
    strtab chars = {0};
    for (uint32_t i = 0; i < nw && !rc; i++) {
        const char *s = w.words.s[i];
        size_t n = w.words.len[i], p = 0;
        while (p < n) {
            size_t q = p;
            kz_utf8_decode(s, n, &q);
            if (q <= p) q = p + 1;
            int64_t id = st_intern(&chars, s + p, q - p);
            if (id < 0) {
                rc = KZ_ENOMEM;
                break;
            }
            chars.cnt[id] += w.words.cnt[i];
            p = q;
        }
    }
    uint64_t min_char = 0;
    if (!rc && chars.n > LIMIT_ALPHABET) {
        uint64_t *c = malloc(chars.n * sizeof *c);
        if (!c)
            rc = KZ_ENOMEM;
        else {
            memcpy(c, chars.cnt, chars.n * sizeof *c);
            /* the LIMIT_ALPHABET-th largest count */
            for (uint32_t i = 0; i < LIMIT_ALPHABET; i++)
                for (uint32_t j = i + 1; j < chars.n; j++)
                    if (c[j] > c[i]) {
                        uint64_t t = c[i];
                        c[i] = c[j];
                        c[j] = t;
                    }
            min_char = c[LIMIT_ALPHABET - 1];
            free(c);
        }
    }
    /* words -> symbol sequences ("x", "##y", ...); words with a rare character are left out */
    wsym = calloc(nw ? nw : 1, sizeof *wsym);
    wlen = calloc(nw ? nw : 1, sizeof *wlen);
    if (!wsym || !wlen) rc = KZ_ENOMEM;
    char tmp[MAX_WORD_BYTES + 8];
    for (uint32_t i = 0; !rc && i < nw; i++) {
        const char *s = w.words.s[i];
        size_t n = w.words.len[i], p = 0;
        uint32_t *v = malloc(n * sizeof *v), k = 0;
        if (!v) {
            rc = KZ_ENOMEM;
            break;
        }
        bool ok = true;
        for (size_t r = 0; r < n && ok;) { /* a rare character leaves the word out */
            size_t q = r;
            kz_utf8_decode(s, n, &q);
            if (q <= r) q = r + 1;
            int64_t cid = st_intern(&chars, s + r, q - r);
            ok = cid >= 0 && chars.cnt[cid] >= min_char;
            r = q;
        }
        while (p < n && ok) {
            size_t q = p;
            kz_utf8_decode(s, n, &q);
            if (q <= p) q = p + 1;
            size_t tl = 0;
            if (p) memcpy(tmp, "##", 2), tl = 2;
            memcpy(tmp + tl, s + p, q - p);
            int64_t id = st_intern(&sym, tmp, tl + q - p);
            if (id < 0) {
                rc = KZ_ENOMEM;
                break;
            }
            v[k++] = (uint32_t)id;
            p = q;
        }
        if (!ok) k = 0;
        wsym[i] = v;
        wlen[i] = k;
    }
    st_free(&chars);
    if (rc) goto done;
    /* vocabulary so far: the alphabet (all symbols now) */
    uint32_t n_alpha = sym.n;
    const uint32_t n_special = 5;
    uint32_t target = vocab_size > n_special + n_alpha ? vocab_size - n_special : n_alpha;
    uint32_t *merged_order = malloc((target + 1) * sizeof *merged_order);
    uint32_t n_merged = 0;
    if (!merged_order) {
        rc = KZ_ENOMEM;
        goto done;
    }
    while (sym.n < target) {
        /* count pairs */
        if ((rc = pm_reset(&pm, 1u << 20))) break;
        for (uint32_t i = 0; i < nw && !rc; i++) {
            uint64_t c = w.words.cnt[i];
            for (uint32_t k = 1; k < wlen[i]; k++) {
                if (pm.n * 2 >= pm.cap) { /* grow: rebuild */
                    pairmap big = {0};
                    if (pm_reset(&big, pm.cap)) {
                        rc = KZ_ENOMEM;
                        break;
                    }
                    for (size_t e = 0; e < pm.cap; e++)
                        if (pm.e[e].key) *pm_get(&big, pm.e[e].key - 1, true) = pm.e[e];
                    free(pm.e);
                    pm = big;
                }
                pm_get(&pm, (uint64_t)wsym[i][k - 1] << 32 | wsym[i][k], true)->cnt += c;
            }
        }
        if (rc) break;
        size_t nc = 0;
        free(cands);
        cands = malloc((pm.n + 1) * sizeof *cands);
        if (!cands) {
            rc = KZ_ENOMEM;
            break;
        }
        for (size_t e = 0; e < pm.cap; e++)
            if (pm.e[e].key && pm.e[e].cnt >= MIN_FREQUENCY)
                cands[nc++] =
                    (cand){(uint32_t)((pm.e[e].key - 1) >> 32), (uint32_t)(pm.e[e].key - 1), pm.e[e].cnt};
        if (!nc) break;
        g_sym = &sym;
        /* the top pairs: partial selection then sort */
        size_t take = KZ_MIN((size_t)MERGES_PER_PASS, (size_t)(target - sym.n));
        take = KZ_MIN(take, nc);
        qsort(cands, nc, sizeof *cands, cand_cmp);
        int32_t rank = 0;
        for (size_t t = 0; t < take && !rc; t++) {
            const char *a = sym.s[cands[t].a], *b = sym.s[cands[t].b];
            size_t bl = sym.len[cands[t].b];
            if (bl >= 2 && b[0] == '#' && b[1] == '#') b += 2, bl -= 2;
            char m[2 * MAX_WORD_BYTES + 8];
            size_t al = sym.len[cands[t].a];
            memcpy(m, a, al);
            memcpy(m + al, b, bl);
            uint32_t before = sym.n;
            int64_t id = st_intern(&sym, m, al + bl);
            if (id < 0) {
                rc = KZ_ENOMEM;
                break;
            }
            pair_ent *pe = pm_get(&pm, (uint64_t)cands[t].a << 32 | cands[t].b, false);
            pe->rank = rank++;
            pe->merged = (uint32_t)id;
            if (sym.n > before) merged_order[n_merged++] = (uint32_t)id;
        }
        if (rc) break;
        /* apply this pass's merges to every word, lowest rank first */
        for (uint32_t i = 0; i < nw; i++) {
            for (;;) {
                int32_t best = -1;
                uint32_t at = 0, to = 0;
                for (uint32_t k = 1; k < wlen[i]; k++) {
                    pair_ent *pe = pm_get(&pm, (uint64_t)wsym[i][k - 1] << 32 | wsym[i][k], false);
                    if (pe && pe->rank >= 0 && (best < 0 || pe->rank < best))
                        best = pe->rank, at = k, to = pe->merged;
                }
                if (best < 0) break;
                wsym[i][at - 1] = to;
                memmove(&wsym[i][at], &wsym[i][at + 1], (wlen[i] - at - 1) * sizeof **wsym);
                wlen[i]--;
            }
        }
    }
    if (rc) {
        free(merged_order);
        goto done;
    }
    /* write: specials, the alphabet sorted, then the merges in order */
    alpha = malloc((n_alpha + 1) * sizeof *alpha);
    if (!alpha) {
        free(merged_order);
        rc = KZ_ENOMEM;
        goto done;
    }
    for (uint32_t i = 0; i < n_alpha; i++) alpha[i] = sym.s[i];
    qsort(alpha, n_alpha, sizeof *alpha, str_cmp);
    char tmp_path[4200];
    snprintf(tmp_path, sizeof tmp_path, "%s.tmp", out_vocab_path);
    f = fopen(tmp_path, "w");
    if (!f) {
        free(merged_order);
        rc = kz_error_set(err, KZ_EIO, "%s: cannot write", tmp_path);
        goto done;
    }
    fputs(k_specials, f);
    for (uint32_t i = 0; i < n_alpha; i++) fprintf(f, "%s\n", alpha[i]);
    for (uint32_t i = 0; i < n_merged; i++) fprintf(f, "%s\n", sym.s[merged_order[i]]);
    free(merged_order);
    bool bad = ferror(f) != 0;
    if (fclose(f)) bad = true;
    f = NULL;
    if (bad || rename(tmp_path, out_vocab_path)) {
        remove(tmp_path);
        rc = kz_error_set(err, KZ_EIO, "%s: write failed", out_vocab_path);
        goto done;
    }
    kz_log(KZ_LOG_INFO, "wordpiece: %u words, alphabet %u, %u merges -> %u tokens", nw, n_alpha, n_merged,
           n_special + n_alpha + n_merged);
done:
    if (rc == KZ_ENOMEM && err && !err->code) kz_error_set(err, rc, "out of memory");
    for (uint32_t i = 0; wsym && i < w.words.n; i++) free(wsym[i]);
    free(wsym);
    free(wlen);
    free(alpha);
    free(cands);
    free(pm.e);
    st_free(&sym);
    st_free(&w.words);
    kz__buf_free(&w.cur);
    return rc;
}
