/* Kazu's SimpleSpanFinder (BIO, argmax per sub-token) and MultilabelSpanFinder
 * (independent classes, activation > 0), turning words into class spans; plus
 * multi-label BIO decoding for models whose sigmoid labels are "B-<class>" /
 * "I-<class>" (the models `kazu train` makes: include/kazu/train.h). */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "kazu/utf8.h"
#include "ner_int.h"

void kz__ner_labels_free(kz_ner_labels *l) {
    if (!l) return;
    for (uint32_t i = 0; i < l->n_classes; i++) free(l->classes[i]);
    free(l->classes);
    free(l->bio);
    free(l->cls);
    memset(l, 0, sizeof *l);
}

static int32_t class_index(kz_ner_labels *l, const char *name, size_t len) {
    for (uint32_t i = 0; i < l->n_classes; i++)
        if (strlen(l->classes[i]) == len && memcmp(l->classes[i], name, len) == 0) return (int32_t)i;
    char *s = strndup(name, len);
    if (!s) return -1;
    l->classes[l->n_classes] = s;
    return (int32_t)l->n_classes++;
}

int kz__ner_labels_init(kz_ner_labels *l, const char *const *labels, size_t n, bool multilabel,
                        kz_error *err) {
    memset(l, 0, sizeof *l);
    if (n == 0 || n > (1u << 20)) return kz_error_set(err, KZ_EINVAL, "%zu labels", n);
    l->n_labels = (uint32_t)n;
    l->multilabel = multilabel;
    l->bio = calloc(n, 1);
    l->cls = calloc(n, sizeof *l->cls);
    l->classes = calloc(n, sizeof *l->classes);
    if (!l->bio || !l->cls || !l->classes) goto oom;
    /* Multi-label BIO: every label but "O" is "B-<class>" or "I-<class>". */
    bool ml_bio = multilabel;
    for (size_t i = 0; ml_bio && i < n; i++) {
        const char *s = labels[i];
        if (s && strcmp(s, "O") != 0) ml_bio = (s[0] == 'B' || s[0] == 'I') && s[1] == '-' && s[2] != 0;
    }
    for (size_t i = 0; i < n; i++) {
        const char *s = labels[i];
        if (!s || !s[0]) {
            kz__ner_labels_free(l);
            return kz_error_set(err, KZ_EINVAL, "label %zu is empty", i);
        }
        if (strcmp(s, "O") == 0) {
            l->bio[i] = KZ_NER_BIO_O;
            l->cls[i] = -1;
            continue;
        }
        const char *name = s;
        size_t len = strlen(s);
        l->bio[i] = KZ_NER_BIO_OTHER;
        if (multilabel && ml_bio) {
            if (s[0] == 'B') l->bio[i] = KZ_NER_BIO_B;
            name = s + 2;
            len = strlen(name);
        } else if (!multilabel) {
            const char *dash = strchr(s, '-');
            if (!dash || dash == s || !dash[1]) {
                kz__ner_labels_free(l);
                return kz_error_set(err, KZ_EINVAL, "label '%s' is neither O nor <B|I>-<class>", s);
            }
            if (dash - s == 1 && s[0] == 'B') l->bio[i] = KZ_NER_BIO_B;
            name = dash + 1;
            len = strlen(name);
        }
        int32_t c = class_index(l, name, len);
        if (c < 0) goto oom;
        l->cls[i] = c;
    }
    return 0;
oom:
    kz__ner_labels_free(l);
    return kz_error_set(err, KZ_ENOMEM, "out of memory");
}

typedef struct span_list {
    kz_ner_span **v;
    size_t *n, *cap;
} span_list;

static int push(span_list *o, kz_ner_span s) {
    if (*o->n == *o->cap) {
        size_t cap = *o->cap ? *o->cap * 2 : 16;
        kz_ner_span *v = realloc(*o->v, cap * sizeof *v);
        if (!v) return KZ_ENOMEM;
        *o->v = v;
        *o->cap = cap;
    }
    (*o->v)[(*o->n)++] = s;
    return 0;
}

/* Kazu: self.text[word.word_char_start - 1] in {"(", ")", ";"}. The breaking
 * characters are ASCII, so the byte before the word decides. A word at 0
 * never reaches this test in either finder. */
static bool prev_char_breaks(const char *text, size_t text_len, int64_t start) {
    if (start <= 0 || (size_t)start > text_len) return false;
    char c = text[start - 1];
    return c == '(' || c == ')' || c == ';';
}

static void extend(kz_ner_span *s, const kz_ner_word *w) {
    if (w->start < s->start) s->start = w->start;
    if (w->end > s->end) s->end = w->end;
}

/* Per-word label set, as flags per class. */
typedef struct word_labels {
    bool has_o;
    uint8_t *any; /* class appears (any BIO prefix) */
    uint8_t *b;   /* class appears with "B" */
} word_labels;

static void simple_labels(const kz_ner_labels *l, const kz_ner_word *w, const float *act, word_labels *wl) {
    wl->has_o = false;
    memset(wl->any, 0, l->n_classes);
    memset(wl->b, 0, l->n_classes);
    for (uint32_t t = 0; t < w->n_tok; t++) {
        const float *row = act + (size_t)(w->tok0 + t) * l->n_labels;
        uint32_t best = 0; /* torch.argmax: the first maximum */
        for (uint32_t j = 1; j < l->n_labels; j++)
            if (row[j] > row[best]) best = j;
        if (l->cls[best] < 0) {
            wl->has_o = true;
            continue;
        }
        wl->any[l->cls[best]] = 1;
        if (l->bio[best] == KZ_NER_BIO_B) wl->b[l->cls[best]] = 1;
    }
}

static int simple_find(const kz_ner_labels *l, const char *text, size_t text_len, const kz_ner_word *words,
                       size_t n_words, const float *act, span_list *out) {
    int rc = KZ_ENOMEM;
    kz_ner_span *active = malloc((size_t)l->n_classes * sizeof *active);
    uint8_t *flags = calloc(2, l->n_classes ? l->n_classes : 1);
    size_t n_active = 0;
    if (!active || !flags) goto done;
    word_labels wl = {false, flags, flags + l->n_classes};
    for (size_t i = 0; i < n_words; i++) {
        const kz_ner_word *w = &words[i];
        simple_labels(l, w, act, &wl);
        bool start = (i == 0 || n_active == 0);
        if (!start) {
            if (!wl.has_o && !prev_char_breaks(text, text_len, w->start)) {
                /* Extend every active span of a class the word carries; a B of
                 * that class first closes a copy (nested result). Kazu's order of
                 * copy vs. extension follows Python set iteration; the copy is
                 * taken before the word is added here. */
                for (size_t k = 0; k < n_active; k++) {
                    uint32_t c = active[k].cls;
                    if (wl.b[c] && push(out, active[k])) goto done;
                    if (wl.any[c]) extend(&active[k], w);
                }
                continue;
            }
            for (size_t k = 0; k < n_active; k++)
                if (push(out, active[k])) goto done;
            n_active = 0;
        }
        /* start a span for every B-class of the word (orphan I- ignored) */
        for (uint32_t c = 0; c < l->n_classes; c++)
            if (wl.b[c]) active[n_active++] = (kz_ner_span){c, w->start, w->end};
    }
    for (size_t k = 0; k < n_active; k++)
        if (push(out, active[k])) goto done;
    rc = 0;
done:
    free(active);
    free(flags);
    return rc;
}

static int multilabel_find(const kz_ner_labels *l, const char *text, size_t text_len,
                           const kz_ner_word *words, size_t n_words, const float *act, span_list *out) {
    int rc = KZ_ENOMEM;
    uint32_t nc = l->n_classes;
    kz_ner_span *span = malloc((size_t)(nc ? nc : 1) * sizeof *span); /* the open span of each class */
    uint8_t *flags = calloc(3, nc ? nc : 1);
    if (!span || !flags) goto done;
    uint8_t *active = flags, *cur = flags + nc, *fresh = flags + 2 * nc;
    for (size_t i = 0; i < n_words; i++) {
        const kz_ner_word *w = &words[i];
        memset(cur, 0, nc);
        for (uint32_t t = 0; t < w->n_tok; t++) {
            const float *row = act + (size_t)(w->tok0 + t) * l->n_labels;
            for (uint32_t j = 0; j < l->n_labels; j++)
                if (l->cls[j] >= 0 && row[j] > l->logit_threshold) cur[l->cls[j]] = 1;
        }
        /* new labels start spans; labels that disappeared close theirs */
        for (uint32_t c = 0; c < nc; c++) {
            fresh[c] = cur[c] && !active[c];
            if (fresh[c]) {
                span[c] = (kz_ner_span){c, w->start, w->end};
                active[c] = 1;
            }
        }
        bool any_cont = false;
        for (uint32_t c = 0; c < nc; c++) {
            if (active[c] && !cur[c]) {
                if (push(out, span[c])) goto done;
                active[c] = 0;
            } else if (active[c] && !fresh[c]) {
                any_cont = true;
            }
        }
        /* continuing labels extend unless the word follows ( ) ; (the span
         * then stays open without this word) */
        if (any_cont && !prev_char_breaks(text, text_len, w->start))
            for (uint32_t c = 0; c < nc; c++)
                if (active[c] && !fresh[c]) extend(&span[c], w);
    }
    for (uint32_t c = 0; c < nc; c++)
        if (active[c] && push(out, span[c])) goto done;
    rc = 0;
done:
    free(span);
    free(flags);
    return rc;
}

/* Multi-label BIO: per class, on the first sub-token of each word (the one
 * trained), B > 0 starts a span (closing the open one of that class), I > 0
 * continues the open span (an I without one is ignored, as in
 * SimpleSpanFinder), neither closes it. A word after ( ) ; cannot continue:
 * it closes the open spans first (Kazu's BIO rule). */
static int multilabel_bio_find(const kz_ner_labels *l, const char *text, size_t text_len,
                               const kz_ner_word *words, size_t n_words, const float *act, span_list *out) {
    int rc = KZ_ENOMEM;
    uint32_t nc = l->n_classes;
    kz_ner_span *span = malloc((size_t)(nc ? nc : 1) * sizeof *span);
    uint8_t *flags = calloc(3, nc ? nc : 1);
    if (!span || !flags) goto done;
    uint8_t *open = flags, *b = flags + nc, *in = flags + 2 * nc;
    for (size_t i = 0; i < n_words; i++) {
        const kz_ner_word *w = &words[i];
        memset(b, 0, 2 * (size_t)nc);
        const float *row = act + (size_t)w->tok0 * l->n_labels;
        for (uint32_t j = 0; j < l->n_labels; j++) {
            if (l->cls[j] < 0 || !(row[j] > l->logit_threshold)) continue;
            if (l->bio[j] == KZ_NER_BIO_B)
                b[l->cls[j]] = 1;
            else
                in[l->cls[j]] = 1;
        }
        bool brk = prev_char_breaks(text, text_len, w->start);
        for (uint32_t c = 0; c < nc; c++) {
            if (open[c] && (b[c] || !in[c] || brk)) {
                if (push(out, span[c])) goto done;
                open[c] = 0;
            }
            if (b[c]) {
                span[c] = (kz_ner_span){c, w->start, w->end};
                open[c] = 1;
            } else if (in[c] && open[c]) {
                extend(&span[c], w);
            }
        }
    }
    for (uint32_t c = 0; c < nc; c++)
        if (open[c] && push(out, span[c])) goto done;
    rc = 0;
done:
    free(span);
    free(flags);
    return rc;
}

int kz__ner_find_spans(const kz_ner_labels *l, const char *text, size_t text_len, const kz_ner_word *words,
                       size_t n_words, const float *act, kz_ner_span **spans, size_t *n, size_t *cap) {
    span_list out = {spans, n, cap};
    if (l->multilabel)
        for (uint32_t j = 0; j < l->n_labels; j++)
            if (l->bio[j] == KZ_NER_BIO_B)
                return multilabel_bio_find(l, text, text_len, words, n_words, act, &out);
    if (l->multilabel) return multilabel_find(l, text, text_len, words, n_words, act, &out);
    return simple_find(l, text, text_len, words, n_words, act, &out);
}

int64_t kz__ner_trim_end(const char *text, int64_t start, int64_t end) {
    /* len(match) > 1 and match[-1] == " ": two bytes ending in a space are
     * always two characters. */
    if (end - start < 2 || text[end - 1] != ' ') return end;
    size_t i = (size_t)start;
    while (i < (size_t)end) {
        int32_t cp = kz_utf8_decode(text, (size_t)end, &i);
        if (cp < 0) break;
        utf8proc_category_t cat = utf8proc_category(cp);
        if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT ||
            cat == UTF8PROC_CATEGORY_LM || cat == UTF8PROC_CATEGORY_LO)
            return end - 1;
    }
    return end;
}
