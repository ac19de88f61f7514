/* Raw text for masked-LM pre-training (kz_mlm_data_load): text files (a line
 * is text, a blank line ends a document) and the texts of a corpus list,
 * tokenised and packed sentence by sentence into windows of max_len tokens. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/core_int.h"
#include "../io/io_int.h"
#include "data_int.h"
#include "kazu/text.h"
#include "train/train_int.h"

#define MB_FULL         1                   /* internal: the token cap was reached, stop reading */
#define MLM_DEFAULT_MAX ((uint64_t)1 << 26) /* window tokens held in memory by default */
#define MLM_HARD_MAX    ((uint64_t)1 << 32)

typedef struct mb {
    const kz_wordpiece *tok;
    kz_wordpiece_special sp;
    uint32_t W; /* body tokens of a window (max_len - 2) */
    uint64_t max_tokens;
    kz_mlm_data *d;
    /* all windows' tokens, [CLS] body [SEP] after each other */
    int32_t *ids;
    uint8_t *word;
    size_t n, cap;
    size_t *woff;
    size_t nw, capw;
    bool open;      /* a window is being filled */
    size_t open_at; /* its [CLS] */
    /* per-text scratch */
    kz_wp_token *toks;
    size_t ntok, captok;
    uint8_t *fl;
    size_t capfl;
    kz_span *sents;
    size_t capsent;
    kz_error *err;
} mb;

static int grow_to(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 1024;
    while (c < need) c *= 2;
    void *v = realloc(*p, c * elem);
    if (!v) return KZ_ENOMEM;
    *p = v;
    *cap = c;
    return 0;
}

static int reserve_tokens(mb *b, size_t extra) {
    size_t c1 = b->cap, c2 = b->cap;
    if (grow_to((void **)&b->ids, &c1, b->n + extra, sizeof *b->ids) ||
        grow_to((void **)&b->word, &c2, b->n + extra, 1))
        return kz_error_set(b->err, KZ_ENOMEM, "out of memory (%zu tokens)", b->n + extra);
    b->cap = KZ_MIN(c1, c2);
    return 0;
}

/* End the open window ([SEP]); an empty one is dropped. */
static int win_close(mb *b) {
    if (!b->open) return 0;
    b->open = false;
    if (b->n == b->open_at + 1) {
        b->n = b->open_at;
        return 0;
    }
    if (reserve_tokens(b, 1)) return KZ_ENOMEM;
    b->ids[b->n] = b->sp.sep;
    b->word[b->n++] = 0;
    if (grow_to((void **)&b->woff, &b->capw, b->nw + 1, sizeof *b->woff))
        return kz_error_set(b->err, KZ_ENOMEM, "out of memory");
    b->woff[b->nw++] = b->open_at;
    return 0;
}

static size_t body(const mb *b) { return b->open ? b->n - b->open_at - 1 : 0; }

/* Append tokens [a, e) of the current text to the open window (opened if needed). */
static int append(mb *b, size_t a, size_t e) {
    size_t need = (e - a) + (b->open ? 0 : 1) + 1; /* + [CLS] + the closing [SEP] */
    if ((uint64_t)(b->n + need) > b->max_tokens) {
        b->d->truncated = true;
        return MB_FULL;
    }
    if (reserve_tokens(b, need)) return KZ_ENOMEM;
    if (!b->open) {
        b->open = true;
        b->open_at = b->n;
        b->ids[b->n] = b->sp.cls;
        b->word[b->n++] = 0;
    }
    for (size_t i = a; i < e; i++) {
        b->ids[b->n] = b->toks[i].id;
        uint8_t f = b->fl[i];
        if (f == 2 && b->n == b->open_at + 1) f = 1; /* a cut word: its first piece here starts it */
        b->word[b->n++] = f;
    }
    return 0;
}

/* Tokenise one text and pack its sentences (spans: given, or kz_sentences_split). */
static int add_text(mb *b, const char *text, size_t len, const kz_span *spans, size_t n_spans) {
    b->ntok = 0;
    int rc = kz_wordpiece_encode(b->tok, text, len, &b->toks, &b->ntok, &b->captok, b->err);
    if (rc) return rc;
    const size_t n = b->ntok;
    if (!n) return 0;
    if (grow_to((void **)&b->fl, &b->capfl, n, 1)) return kz_error_set(b->err, KZ_ENOMEM, "out of memory");
    const kz_wordpiece_special *sp = &b->sp;
    for (size_t i = 0; i < n; i++) {
        int32_t id = b->toks[i].id;
        bool special = id == sp->cls || id == sp->sep || id == sp->pad || id == sp->unk || id == sp->mask;
        b->fl[i] = special ? 0 : (i > 0 && b->toks[i].word == b->toks[i - 1].word && b->fl[i - 1]) ? 2 : 1;
    }
    if (!spans) {
        n_spans = kz_sentences_split(text, len, NULL, 0);
        if (grow_to((void **)&b->sents, &b->capsent, n_spans ? n_spans : 1, sizeof *b->sents))
            return kz_error_set(b->err, KZ_ENOMEM, "out of memory");
        kz_sentences_split(text, len, b->sents, n_spans);
        spans = b->sents;
    }
    b->d->n_sentences += n_spans ? n_spans : 1;
    const size_t W = b->W;
    size_t t = 0, k = 0;
    while (t < n) {
        /* the sentence of token t, never cutting a word */
        while (k + 1 < n_spans && spans[k + 1].start <= b->toks[t].start) k++;
        size_t u = t + 1;
        int64_t nx = k + 1 < n_spans ? spans[k + 1].start : INT64_MAX;
        while (u < n && b->toks[u].start < nx) u++;
        while (u < n && b->toks[u].word == b->toks[u - 1].word) u++;
        if (u - t > W) {
            /* too long for a window: chunks of W tokens cut before a word where possible */
            if ((rc = win_close(b))) return rc;
            while (u - t > W) {
                size_t c = t + W;
                while (c > t && b->toks[c].word == b->toks[c - 1].word) c--;
                if (c == t) c = t + W; /* one word longer than a window */
                if ((rc = append(b, t, c)) || (rc = win_close(b))) return rc;
                t = c;
            }
        } else if (body(b) + (u - t) > W) {
            if ((rc = win_close(b))) return rc;
        }
        if ((rc = append(b, t, u))) return rc;
        t = u;
    }
    return 0;
}

static bool blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\f' && s[i] != '\v') return false;
    return true;
}

/* A text stream: lines are text, blank lines end documents. */
static int read_text(mb *b, kz_input *in, const char *name) {
    kz_buf line;
    kz__buf_init(&line, 0);
    int rc = 0;
    bool in_doc = false;
    for (;;) {
        int g = kz__input_getline(in, &line, KZ_TRAIN_MAX_LINE);
        if (g == 0) break;
        if (g == KZ_ELIMIT) {
            kz_log(KZ_LOG_WARN, "%s:%lld: line over %zu bytes skipped", name, (long long)in->line,
                   (size_t)KZ_TRAIN_MAX_LINE);
            b->d->n_skipped++;
            continue;
        }
        if (g < 0) {
            rc = kz_error_set(b->err, KZ_EIO, "%s: read error: %s", name, in->errmsg);
            break;
        }
        if (blank(line.data, line.len)) {
            if (in_doc) b->d->n_docs++;
            in_doc = false;
            if ((rc = win_close(b))) break;
            continue;
        }
        in_doc = true;
        rc = add_text(b, line.data, line.len, NULL, 0);
        if (rc == KZ_EUTF8) {
            kz_log(KZ_LOG_WARN, "%s:%lld: invalid UTF-8, line skipped", name, (long long)in->line);
            b->d->n_skipped++;
            rc = 0;
            continue;
        }
        if (rc) break;
    }
    if (in_doc && rc >= 0) b->d->n_docs++;
    kz__buf_free(&line);
    if (rc == 0) rc = win_close(b);
    return rc;
}

typedef struct corpus_ctx {
    mb *b;
    bool conll; /* the sentences of a CoNLL file are one document */
} corpus_ctx;

static int on_doc(kz_doc *doc, void *user) {
    corpus_ctx *c = user;
    mb *b = c->b;
    int rc = 0;
    for (uint32_t s = 0; !rc && s < doc->n_sections; s++) {
        const kz_section *sec = doc->sections[s];
        rc = add_text(b, sec->text.ptr, sec->text.len, sec->sentence_spans, sec->n_sentence_spans);
        if (rc == KZ_EUTF8) {
            kz_log(KZ_LOG_WARN, "%.*s: invalid UTF-8 in a section, skipped", (int)doc->idx.len, doc->idx.ptr);
            b->d->n_skipped++;
            rc = 0;
        }
    }
    if (!c->conll) {
        b->d->n_docs++;
        if (!rc) rc = win_close(b);
    }
    kz_doc_free(doc);
    return rc;
}

void kz_mlm_data_free(kz_mlm_data *d) {
    if (!d) return;
    free(d->w);
    free(d->ids_store);
    free(d->word_store);
    memset(d, 0, sizeof *d);
}

static int begin(mb *b, const kz_wordpiece *tok, uint32_t max_len, uint64_t max_tokens, kz_mlm_data *out,
                 kz_error *err) {
    memset(out, 0, sizeof *out);
    memset(b, 0, sizeof *b);
    if (!tok) return kz_error_set(err, KZ_EINVAL, "no tokenizer");
    if (max_len < 8 || max_len > 65536)
        return kz_error_set(err, KZ_EINVAL, "max_len %u not in [8, 65536]", max_len);
    b->sp = kz_wordpiece_specials(tok);
    if (b->sp.cls < 0 || b->sp.sep < 0 || b->sp.mask < 0)
        return kz_error_set(err, KZ_EINVAL, "the vocabulary lacks [CLS], [SEP] or [MASK]");
    b->tok = tok;
    b->W = (max_len & ~1u) - 2;
    b->max_tokens = max_tokens ? KZ_MIN(max_tokens, MLM_HARD_MAX) : MLM_DEFAULT_MAX;
    b->d = out;
    b->err = err;
    out->special = b->sp;
    out->vocab_size = kz_wordpiece_vocab_size(tok);
    return 0;
}

/* Windows from the token store (rc: the reading's result; MB_FULL is not an error). */
static int finish(mb *b, int rc) {
    kz_mlm_data *d = b->d;
    if (rc == MB_FULL) {
        rc = win_close(b);
        kz_log(KZ_LOG_WARN, "masked-LM text: stopped at the cap of %llu tokens (the rest is not used)",
               (unsigned long long)b->max_tokens);
    }
    if (!rc && !(d->w = malloc((b->nw ? b->nw : 1) * sizeof *d->w)))
        rc = kz_error_set(b->err, KZ_ENOMEM, "out of memory");
    free(b->toks);
    free(b->fl);
    free(b->sents);
    if (rc) {
        free(b->ids);
        free(b->word);
        free(b->woff);
        kz_mlm_data_free(d);
        return rc;
    }
    d->ids_store = b->ids;
    d->word_store = b->word;
    for (size_t i = 0; i < b->nw; i++) {
        size_t a = b->woff[i], e = i + 1 < b->nw ? b->woff[i + 1] : b->n;
        d->w[i] = (kz_mlm_window){(uint32_t)(e - a), b->ids + a, b->word + a};
    }
    d->n = b->nw;
    d->n_tokens = b->n;
    free(b->woff);
    return 0;
}

int kz__mlm_data_from_mem(const void *data, size_t len, const kz_wordpiece *tok, uint32_t max_len,
                          uint64_t max_tokens, kz_mlm_data *out, kz_error *err) {
    mb b;
    int rc = begin(&b, tok, max_len, max_tokens, out, err);
    if (rc) return rc;
    kz_input in;
    if (kz__input_open_mem(&in, data, len)) return finish(&b, kz_error_set(err, KZ_ENOMEM, "out of memory"));
    rc = read_text(&b, &in, "<memory>");
    kz__input_close(&in);
    return finish(&b, rc);
}

int kz_mlm_data_load(const char *const *text_paths, size_t n_paths, const char *corpora_yaml,
                     const char *split, const kz_wordpiece *tok, uint32_t max_len, uint64_t max_tokens,
                     kz_mlm_data *out, kz_error *err) {
    mb b;
    int rc = begin(&b, tok, max_len, max_tokens, out, err);
    if (rc) return rc;
    if (n_paths && !text_paths) return kz_error_set(err, KZ_EINVAL, "kz_mlm_data_load: NULL text_paths");
    if (corpora_yaml && (!split || (strcmp(split, "train") && strcmp(split, "devel"))))
        return kz_error_set(err, KZ_EINVAL, "split must be train or devel");
    for (size_t i = 0; !rc && i < n_paths; i++) {
        kz_input in;
        if ((rc = kz__input_open_path(&in, text_paths[i], err))) {
            if (err) snprintf(err->path, sizeof err->path, "%s", text_paths[i]);
            break;
        }
        uint64_t t0 = b.n;
        rc = read_text(&b, &in, text_paths[i]);
        kz__input_close(&in);
        if (rc < 0 && err && !err->path[0]) snprintf(err->path, sizeof err->path, "%s", text_paths[i]);
        if (rc >= 0)
            kz_log(KZ_LOG_INFO, "masked-LM text %s: %llu tokens", text_paths[i],
                   (unsigned long long)(b.n - t0));
    }
    if (!rc && corpora_yaml) {
        kz__corpus_list list;
        if ((rc = kz__corpora_load(corpora_yaml, &list, err))) return finish(&b, rc);
        for (size_t i = 0; !rc && i < list.n; i++) {
            const kz__corpus_spec *c = &list.v[i];
            if (!c->enabled || strcmp(c->split, split)) continue;
            corpus_ctx cx = {&b, strcmp(c->format, "conll") == 0};
            uint64_t t0 = b.n;
            kz__read_stats st = {0};
            rc = kz__corpus_read(c, on_doc, &cx, &st, err);
            if (cx.conll) b.d->n_docs++;
            if (rc >= 0) {
                int r2 = win_close(&b);
                if (!rc) rc = r2;
            }
            if (rc < 0 && err && !err->path[0]) snprintf(err->path, sizeof err->path, "%s", c->path);
            if (rc >= 0)
                kz_log(KZ_LOG_INFO, "masked-LM text %s (%s): %llu tokens", c->name, c->split,
                       (unsigned long long)(b.n - t0));
        }
        kz__corpora_free(&list);
    }
    return finish(&b, rc);
}
