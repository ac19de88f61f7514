/* Token-classification examples from annotated corpora (kz_train_data_load):
 * gold documents -> WordPiece tokens -> sentence-aligned windows with
 * multi-label B-/I- targets on the first sub-token of every word. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/core_int.h"
#include "../ner/ner_int.h"
#include "data_int.h"
#include "kazu/text.h"

#define N_LABELS (2 * KZ_TRAIN_N_CLASSES)

typedef struct builder {
    kz_train_data *d;
    const kz_wordpiece *tok;
    kz_wordpiece_special sp;
    uint32_t max_len, stride;
    uint32_t corpus;
    const uint8_t *label_mask;
    kz__corpus_counts *cnt;
    kz_train_example *ex;
    size_t n_ex, cap_ex;
    kz_wp_token *toks;
    size_t n_toks, cap_toks;
    uint32_t *lb;   /* per token: label bits (bit 2c = B-c, 2c+1 = I-c); first sub-tokens only */
    uint8_t *first; /* per token: first sub-token of its word */
    kz_span *sents;
    size_t cap_sents, cap_lb;
    kz_error *err;
} builder;

static int emit(builder *b, size_t a, size_t e, size_t keep_a, size_t keep_e) {
    size_t n = e - a + 2;
    kz_arena *ar = b->d->arena;
    int32_t *ids = kz_arena_alloc(ar, n * sizeof *ids);
    float *tg = kz_arena_calloc(ar, n * N_LABELS, sizeof *tg);
    uint8_t *tm = kz_arena_calloc(ar, n, 1);
    if (!ids || !tg || !tm) return kz_error_set(b->err, KZ_ENOMEM, "out of memory");
    ids[0] = b->sp.cls;
    ids[n - 1] = b->sp.sep;
    for (size_t i = a; i < e; i++) {
        size_t r = i - a + 1;
        ids[r] = b->toks[i].id;
        if (!b->first[i] || i < keep_a || i >= keep_e) continue;
        tm[r] = 1;
        for (int l = 0; l < N_LABELS; l++)
            if (b->lb[i] & (1u << l)) tg[r * N_LABELS + (size_t)l] = 1.0f;
    }
    if (b->n_ex == b->cap_ex) {
        size_t cap = b->cap_ex ? b->cap_ex * 2 : 1024;
        kz_train_example *v = realloc(b->ex, cap * sizeof *v);
        if (!v) return kz_error_set(b->err, KZ_ENOMEM, "out of memory");
        b->ex = v;
        b->cap_ex = cap;
    }
    b->ex[b->n_ex++] = (kz_train_example){(uint32_t)n, ids, tg, tm, b->label_mask, b->corpus};
    b->cnt->examples++;
    return 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    void *v = realloc(*p, c * elem);
    if (!v) return KZ_ENOMEM;
    *p = v;
    *cap = c;
    return 0;
}

static int do_section(builder *b, const kz_section *sec) {
    b->n_toks = 0;
    int rc =
        kz_wordpiece_encode(b->tok, sec->text.ptr, sec->text.len, &b->toks, &b->n_toks, &b->cap_toks, b->err);
    if (rc) return rc;
    size_t n = b->n_toks;
    b->cnt->sections++;
    b->cnt->tokens += n;
    for (uint32_t i = 0; i < sec->n_entities; i++) {
        int c = kz__train_class_index(sec->entities[i]->entity_class.ptr, sec->entities[i]->entity_class.len);
        if (c >= 0) b->cnt->entities[c]++;
    }
    size_t cap_lb = b->cap_lb, cap_first = b->cap_lb;
    if (grow((void **)&b->lb, &cap_lb, n, sizeof *b->lb) || grow((void **)&b->first, &cap_first, n, 1))
        return kz_error_set(b->err, KZ_ENOMEM, "out of memory");
    b->cap_lb = KZ_MIN(cap_lb, cap_first);
    /* words and their labels */
    kz_ner_word *words = NULL;
    size_t n_words = 0;
    if (kz__ner_words(b->toks, n, &words, &n_words)) return kz_error_set(b->err, KZ_ENOMEM, "out of memory");
    memset(b->first, 0, n);
    b->cnt->words += n_words;
    for (size_t w = 0; w < n_words; w++) {
        const kz_ner_word *wd = &words[w];
        uint32_t bits = 0;
        for (uint32_t i = 0; i < sec->n_entities; i++) {
            const kz_entity *e = sec->entities[i];
            int c = kz__train_class_index(e->entity_class.ptr, e->entity_class.len);
            if (c < 0) continue;
            if (wd->start <= e->start && e->start < wd->end)
                bits |= 1u << (2 * c);
            else if (e->start < wd->start && wd->start < e->end)
                bits |= 1u << (2 * c + 1);
        }
        b->first[wd->tok0] = 1;
        b->lb[wd->tok0] = bits;
    }
    free(words);
    if (n == 0) return 0;
    /* sentence token ranges */
    size_t n_s;
    const kz_span *ss;
    if (sec->sentence_spans) {
        ss = sec->sentence_spans;
        n_s = sec->n_sentence_spans;
    } else {
        n_s = kz_sentences_split(sec->text.ptr, sec->text.len, NULL, 0);
        if (grow((void **)&b->sents, &b->cap_sents, n_s ? n_s : 1, sizeof *b->sents))
            return kz_error_set(b->err, KZ_ENOMEM, "out of memory");
        kz_sentences_split(sec->text.ptr, sec->text.len, b->sents, n_s);
        ss = b->sents;
    }
    b->cnt->sentences += n_s ? n_s : 1;
    size_t W = b->max_len - 2;
    size_t cur_a = 0, cur_e = 0; /* pending window [cur_a, cur_e) */
    size_t t = 0, k = 0;
    while (t < n) {
        /* the sentence of token t: up to the first token of the next sentence */
        while (k + 1 < n_s && ss[k + 1].start <= b->toks[t].start) k++;
        size_t u = t + 1;
        int64_t next = k + 1 < n_s ? ss[k + 1].start : INT64_MAX;
        while (u < n && b->toks[u].start < next) u++;
        /* never cut a word at a sentence boundary */
        while (u < n && b->toks[u].word == b->toks[u - 1].word) u++;
        size_t len = u - t;
        if (len > W) {
            if (cur_e > cur_a && (rc = emit(b, cur_a, cur_e, cur_a, cur_e))) return rc;
            size_t nf = kz__ner_n_frames(len, b->max_len, b->stride);
            for (size_t f = 0; f < nf; f++) {
                kz_ner_frame fr = kz__ner_frame_at(len, b->max_len, b->stride, f);
                if ((rc = emit(b, t + fr.start, t + fr.start + fr.len, t + fr.keep_start, t + fr.keep_end)))
                    return rc;
            }
            cur_a = cur_e = u;
        } else {
            if (cur_e > cur_a && u - cur_a > W) {
                if ((rc = emit(b, cur_a, cur_e, cur_a, cur_e))) return rc;
                cur_a = t;
            }
            if (cur_e == cur_a) cur_a = t;
            cur_e = u;
        }
        t = u;
    }
    if (cur_e > cur_a) rc = emit(b, cur_a, cur_e, cur_a, cur_e);
    return rc;
}

static int on_doc(kz_doc *doc, void *user) {
    builder *b = user;
    int rc = 0;
    b->cnt->docs++;
    for (uint32_t s = 0; !rc && s < doc->n_sections; s++) rc = do_section(b, doc->sections[s]);
    kz_doc_free(doc);
    return rc;
}

void kz_train_data_free(kz_train_data *d) {
    if (!d) return;
    kz_arena_free(d->arena);
    memset(d, 0, sizeof *d);
}

static char *arena_str(kz_arena *a, const char *s) { return (char *)kz_arena_strdup(a, s, strlen(s)).ptr; }

int kz__train_data_build(const kz__corpus_list *list, const char *split, const kz_wordpiece *tok,
                         uint32_t max_len, uint32_t stride, const char *only_corpus, kz_train_data *out,
                         kz__corpus_counts **counts, kz_error *err) {
    memset(out, 0, sizeof *out);
    if (counts) *counts = NULL;
    if (!tok) return kz_error_set(err, KZ_EINVAL, "no tokenizer");
    if (max_len < 8 || max_len > 65536)
        return kz_error_set(err, KZ_EINVAL, "max_len %u not in [8, 65536]", max_len);
    max_len &= ~1u;
    int rc = kz__ner_check_geometry(max_len, stride, err);
    if (rc) return rc;
    kz_wordpiece_special sp = kz_wordpiece_specials(tok);
    if (sp.cls < 0 || sp.sep < 0) return kz_error_set(err, KZ_EINVAL, "the vocabulary lacks [CLS] or [SEP]");
    out->arena = kz_arena_new(1 << 20);
    if (!out->arena) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    kz_arena *ar = out->arena;
    out->n_labels = N_LABELS;
    out->labels = kz_arena_calloc(ar, N_LABELS, sizeof *out->labels);
    out->corpora = kz_arena_calloc(ar, list->n ? list->n : 1, sizeof *out->corpora);
    uint8_t **masks = kz_arena_calloc(ar, list->n ? list->n : 1, sizeof *masks);
    kz__corpus_counts *cnt = calloc(list->n ? list->n : 1, sizeof *cnt);
    builder b = {.d = out, .tok = tok, .sp = sp, .max_len = max_len, .stride = stride, .err = err};
    if (!out->labels || !out->corpora || !masks || !cnt) {
        rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
        goto done;
    }
    char lab[64];
    for (int c = 0; c < KZ_TRAIN_N_CLASSES; c++)
        for (int k = 0; k < 2; k++) {
            snprintf(lab, sizeof lab, "%c-%s", k ? 'I' : 'B', kz__train_classes[c]);
            if (!(out->labels[2 * c + k] = arena_str(ar, lab))) rc = KZ_ENOMEM;
        }
    /* corpora of the split (entries with the same name form one corpus) */
    uint32_t *idx = kz_arena_calloc(ar, list->n ? list->n : 1, sizeof *idx);
    if (!idx || rc) {
        rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < list->n; i++) {
        const kz__corpus_spec *c = &list->v[i];
        idx[i] = UINT32_MAX;
        if (!c->enabled || strcmp(c->split, split) || (only_corpus && strcmp(only_corpus, c->name))) continue;
        uint32_t j = 0;
        while (j < out->n_corpora && strcmp(out->corpora[j], c->name)) j++;
        if (j == out->n_corpora) {
            out->corpora[j] = arena_str(ar, c->name);
            masks[j] = kz_arena_calloc(ar, N_LABELS, 1);
            if (!out->corpora[j] || !masks[j]) {
                rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
                goto done;
            }
            out->n_corpora++;
        }
        for (int k = 0; k < KZ_TRAIN_N_CLASSES; k++)
            if (c->classes & (1u << k)) masks[j][2 * k] = masks[j][2 * k + 1] = 1;
        idx[i] = j;
    }
    for (size_t i = 0; !rc && i < list->n; i++) {
        if (idx[i] == UINT32_MAX) continue;
        const kz__corpus_spec *c = &list->v[i];
        b.corpus = idx[i];
        b.label_mask = masks[idx[i]];
        b.cnt = &cnt[idx[i]];
        kz__read_stats st = {0};
        rc = kz__corpus_read(c, on_doc, &b, &st, err);
        b.cnt->skipped_records += st.skipped_records;
        b.cnt->excluded_docs += st.excluded_docs;
        b.cnt->dropped_entities += st.dropped_entities;
        if (rc && !err->path[0]) snprintf(err->path, sizeof err->path, "%s", c->path);
        if (!rc)
            kz_log(KZ_LOG_INFO, "%s (%s): %zu docs, %zu sentences, %zu tokens, %zu examples", c->name,
                   c->split, b.cnt->docs, b.cnt->sentences, b.cnt->tokens, b.cnt->examples);
    }
    if (rc) goto done;
    out->ex = kz_arena_alloc(ar, (b.n_ex ? b.n_ex : 1) * sizeof *out->ex);
    if (!out->ex) {
        rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
        goto done;
    }
    if (b.n_ex) memcpy(out->ex, b.ex, b.n_ex * sizeof *out->ex);
    out->n = b.n_ex;
done:
    free(b.ex);
    free(b.toks);
    free(b.lb);
    free(b.first);
    free(b.sents);
    if (rc) {
        free(cnt);
        kz_train_data_free(out);
        return rc;
    }
    if (counts)
        *counts = cnt;
    else
        free(cnt);
    return 0;
}

int kz__train_data_load_ex(const char *corpora_yaml, const char *split, const kz_wordpiece *tok,
                           uint32_t max_len, uint32_t stride, const char *only_corpus, kz_train_data *out,
                           kz__corpus_counts **counts, kz_error *err) {
    memset(out, 0, sizeof *out);
    if (!split || (strcmp(split, "train") && strcmp(split, "devel")))
        return kz_error_set(err, KZ_EINVAL, "split must be train or devel");
    kz__corpus_list list;
    int rc = kz__corpora_load(corpora_yaml, &list, err);
    if (rc) return rc;
    rc = kz__train_data_build(&list, split, tok, max_len, stride, only_corpus, out, counts, err);
    kz__corpora_free(&list);
    return rc;
}

int kz_train_data_load(const char *corpora_yaml, const char *split, const kz_wordpiece *tok, uint32_t max_len,
                       kz_train_data *out, kz_error *err) {
    uint32_t ml = max_len & ~1u;
    uint32_t stride = ml >= 36 ? 16 : (ml >= 8 ? ((ml - 4) / 2) & ~1u : 0);
    return kz__train_data_load_ex(corpora_yaml, split, tok, max_len, stride, NULL, out, NULL, err);
}
