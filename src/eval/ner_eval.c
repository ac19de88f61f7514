/* seqeval-exact entity-level NER scores with the multi-label protocol
 * (docs/eval.md). */
#include <stdlib.h>
#include <string.h>
#include "eval_int.h"

void kz__ner_eval_init(kz__ner_eval *ev) { memset(ev, 0, sizeof *ev); }

void kz__ner_eval_free(kz__ner_eval *ev) {
    if (!ev) return;
    for (uint32_t i = 0; i < ev->n_corpora; i++) free(ev->corpora[i]);
    for (uint32_t i = 0; i < ev->n_classes; i++) free(ev->classes[i]);
    free(ev->corpora);
    free(ev->classes);
    free(ev->c);
    free(ev->scored);
    memset(ev, 0, sizeof *ev);
}

/* Reshape the count tables to new capacities. */
static int reshape(kz__ner_eval *ev, uint32_t cap_corpora, uint32_t cap_classes) {
    size_t n = (size_t)cap_corpora * cap_classes;
    kz__prf_counts *c = calloc(n ? n : 1, sizeof *c);
    uint8_t *s = calloc(n ? n : 1, 1);
    if (!c || !s) {
        free(c);
        free(s);
        return -1;
    }
    for (uint32_t i = 0; i < ev->n_corpora; i++)
        for (uint32_t j = 0; j < ev->n_classes; j++) {
            c[(size_t)i * cap_classes + j] = ev->c[(size_t)i * ev->cap_classes + j];
            s[(size_t)i * cap_classes + j] = ev->scored[(size_t)i * ev->cap_classes + j];
        }
    free(ev->c);
    free(ev->scored);
    ev->c = c;
    ev->scored = s;
    ev->cap_classes = cap_classes;
    return 0;
}

int kz__ner_eval_corpus(kz__ner_eval *ev, const char *name) {
    for (uint32_t i = 0; i < ev->n_corpora; i++)
        if (!strcmp(ev->corpora[i], name)) return (int)i;
    if (ev->n_corpora == ev->cap_corpora) {
        uint32_t cap = ev->cap_corpora ? ev->cap_corpora * 2 : 8;
        char **v = realloc(ev->corpora, cap * sizeof *v);
        if (!v) return -1;
        ev->corpora = v;
        uint32_t cc = ev->cap_classes ? ev->cap_classes : 16;
        /* keep the row stride: rows are indexed by corpus */
        kz__prf_counts *c = realloc(ev->c, (size_t)cap * cc * sizeof *c);
        if (!c) return -1;
        ev->c = c;
        uint8_t *s = realloc(ev->scored, (size_t)cap * cc);
        if (!s) return -1;
        ev->scored = s;
        memset(ev->c + (size_t)ev->cap_corpora * cc, 0, (size_t)(cap - ev->cap_corpora) * cc * sizeof *c);
        memset(ev->scored + (size_t)ev->cap_corpora * cc, 0, (size_t)(cap - ev->cap_corpora) * cc);
        ev->cap_classes = cc;
        ev->cap_corpora = cap;
    }
    char *s = strdup(name);
    if (!s) return -1;
    ev->corpora[ev->n_corpora] = s;
    return (int)ev->n_corpora++;
}

int kz__ner_eval_class(kz__ner_eval *ev, const char *name, size_t len) {
    for (uint32_t i = 0; i < ev->n_classes; i++)
        if (strlen(ev->classes[i]) == len && !memcmp(ev->classes[i], name, len)) return (int)i;
    if (ev->n_classes == ev->cap_classes || !ev->c) {
        uint32_t cap = ev->cap_classes ? ev->cap_classes * 2 : 16;
        if (!ev->cap_corpora) {
            ev->cap_corpora = 8;
            ev->corpora = calloc(8, sizeof *ev->corpora);
            if (!ev->corpora) return -1;
        }
        if (reshape(ev, ev->cap_corpora, cap)) return -1;
    }
    char **v = realloc(ev->classes, ev->cap_classes * sizeof *v);
    if (!v) return -1;
    ev->classes = v;
    char *s = strndup(name, len);
    if (!s) return -1;
    ev->classes[ev->n_classes] = s;
    return (int)ev->n_classes++;
}

static int span_cmp(const void *a, const void *b) {
    const kz_span *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

/* A cut chunk ends before the whitespace that precedes the cutting span, as
 * the tokens of a tagged sequence do. */
static int64_t trim_ws(const char *text, size_t text_len, int64_t start, int64_t end) {
    while (text && end > start && (size_t)end <= text_len &&
           (text[end - 1] == ' ' || text[end - 1] == '\t' || text[end - 1] == '\n' || text[end - 1] == '\r'))
        end--;
    return end;
}

size_t kz__ner_chunks(kz_span *s, size_t n, kz_span *out, const char *text, size_t text_len) {
    if (!n) return 0;
    qsort(s, n, sizeof *s, span_cmp);
    /* Sweep in start order: a new start cuts the open chunk (B inside a
     * chunk); a start after the chunk's coverage ended begins a new one. The
     * coverage end of the open chunk is the max end of spans seen in it, and
     * a cut chunk ends where the cutting span starts. */
    size_t k = 0;
    int64_t cs = s[0].start, ce = s[0].end;
    for (size_t i = 1; i < n; i++) {
        if (s[i].start == cs) { /* same B position: one chunk, coverage grows */
            if (s[i].end > ce) ce = s[i].end;
            continue;
        }
        if (s[i].start < ce) {
            /* starts inside: the chunk so far is [cs, start); the new one
             * takes the rest of the coverage */
            out[k++] = (kz_span){cs, trim_ws(text, text_len, cs, s[i].start)};
            cs = s[i].start;
            if (s[i].end > ce) ce = s[i].end;
            continue;
        }
        out[k++] = (kz_span){cs, ce};
        cs = s[i].start;
        ce = s[i].end;
    }
    out[k++] = (kz_span){cs, ce};
    return k;
}

int kz__ner_score_class(const kz_span *gold, size_t n_gold, const kz_span *pred, size_t n_pred,
                        const char *text, size_t text_len, kz__prf_counts *out) {
    size_t n = n_gold + n_pred;
    kz_span *buf = malloc((2 * n + 1) * sizeof *buf);
    if (!buf) return KZ_ENOMEM;
    kz_span *g = buf, *p = buf + n_gold, *gc = buf + n, *pc = gc + n_gold;
    if (n_gold) memcpy(g, gold, n_gold * sizeof *g);
    if (n_pred) memcpy(p, pred, n_pred * sizeof *p);
    size_t ng = kz__ner_chunks(g, n_gold, gc, text, text_len);
    size_t np = kz__ner_chunks(p, n_pred, pc, text, text_len);
    /* both chunk lists are sorted and unique: merge */
    size_t i = 0, j = 0, tp = 0;
    while (i < ng && j < np) {
        int c = span_cmp(&gc[i], &pc[j]);
        if (c == 0)
            tp++, i++, j++;
        else if (c < 0)
            i++;
        else
            j++;
    }
    out->tp += tp;
    out->fp += np - tp;
    out->fn += ng - tp;
    free(buf);
    return 0;
}

static bool in_list(const char *const *classes, size_t n, kz_str cls) {
    for (size_t i = 0; i < n; i++)
        if (kz_str_eq_c(cls, classes[i])) return true;
    return false;
}

static size_t collect(const kz_section *sec, kz_str cls, kz_span *out) {
    size_t k = 0;
    for (uint32_t i = 0; sec && i < sec->n_entities; i++)
        if (kz_str_eq(sec->entities[i]->entity_class, cls))
            out[k++] = (kz_span){sec->entities[i]->start, sec->entities[i]->end};
    return k;
}

int kz__ner_eval_section(kz__ner_eval *ev, uint32_t corpus, const kz_section *gold, const kz_section *pred,
                         const char *const *classes, size_t n_classes) {
    if (gold && pred && !kz_str_eq(gold->text, pred->text)) return KZ_EINVAL;
    size_t ng = gold ? gold->n_entities : 0, np = pred ? pred->n_entities : 0;
    kz_span *buf = malloc((ng + np + 1) * sizeof *buf);
    if (!buf) return KZ_ENOMEM;
    int rc = 0;
    /* the classes to score: the given list, or every class seen */
    for (size_t i = 0; !rc && i < n_classes; i++) {
        int c = kz__ner_eval_class(ev, classes[i], strlen(classes[i]));
        if (c < 0)
            rc = KZ_ENOMEM;
        else
            ev->scored[(size_t)corpus * ev->cap_classes + (size_t)c] = 1;
    }
    for (int side = 0; !rc && side < 2; side++) {
        const kz_section *sec = side ? pred : gold;
        for (uint32_t i = 0; !rc && sec && i < sec->n_entities; i++) {
            kz_str cls = sec->entities[i]->entity_class;
            if (n_classes && !in_list(classes, n_classes, cls)) continue;
            /* score each class once: at its first entity in gold order, then pred order */
            bool seen = false;
            for (uint32_t j = 0; j < i && !seen; j++) seen = kz_str_eq(sec->entities[j]->entity_class, cls);
            for (uint32_t j = 0; side && gold && j < gold->n_entities && !seen; j++)
                seen = kz_str_eq(gold->entities[j]->entity_class, cls);
            if (seen) continue;
            int c = kz__ner_eval_class(ev, cls.ptr, cls.len);
            if (c < 0) {
                rc = KZ_ENOMEM;
                break;
            }
            size_t a = collect(gold, cls, buf);
            size_t b = collect(pred, cls, buf + a);
            size_t cell = (size_t)corpus * ev->cap_classes + (size_t)c;
            ev->scored[cell] = 1;
            const kz_section *ts = gold ? gold : pred;
            rc = kz__ner_score_class(buf, a, buf + a, b, ts->text.ptr, ts->text.len, &ev->c[cell]);
        }
    }
    free(buf);
    return rc;
}

int kz__ner_eval_doc(kz__ner_eval *ev, uint32_t corpus, const kz_doc *gold, const kz_doc *pred,
                     const char *const *classes, size_t n_classes, kz_error *err) {
    if (gold->n_sections != pred->n_sections)
        return kz_error_set(err, KZ_EINVAL, "document '%s': %u gold sections, %u predicted", gold->idx.ptr,
                            gold->n_sections, pred->n_sections);
    for (uint32_t s = 0; s < gold->n_sections; s++) {
        int rc = kz__ner_eval_section(ev, corpus, gold->sections[s], pred->sections[s], classes, n_classes);
        if (rc == KZ_EINVAL)
            return kz_error_set(err, rc, "document '%s': section %u text differs between gold and prediction",
                                gold->idx.ptr, s);
        if (rc) return kz_error_set(err, rc, "out of memory");
    }
    return 0;
}

kz__prf kz__prf_of(kz__prf_counts c) {
    kz__prf r = {0, 0, 0};
    if (c.tp + c.fp) r.p = (double)c.tp / (double)(c.tp + c.fp);
    if (c.tp + c.fn) r.r = (double)c.tp / (double)(c.tp + c.fn);
    if (r.p + r.r > 0) r.f1 = 2 * r.p * r.r / (r.p + r.r);
    return r;
}

kz__prf_counts kz__ner_eval_micro(const kz__ner_eval *ev, int corpus) {
    kz__prf_counts t = {0, 0, 0};
    for (uint32_t k = 0; k < ev->n_corpora; k++) {
        if (corpus >= 0 && (uint32_t)corpus != k) continue;
        for (uint32_t c = 0; c < ev->n_classes; c++) {
            size_t cell = (size_t)k * ev->cap_classes + c;
            if (!ev->scored[cell]) continue;
            t.tp += ev->c[cell].tp;
            t.fp += ev->c[cell].fp;
            t.fn += ev->c[cell].fn;
        }
    }
    return t;
}

kz__prf_counts kz__ner_eval_class_total(const kz__ner_eval *ev, uint32_t cls) {
    kz__prf_counts t = {0, 0, 0};
    for (uint32_t k = 0; k < ev->n_corpora; k++) {
        size_t cell = (size_t)k * ev->cap_classes + cls;
        if (!ev->scored[cell]) continue;
        t.tp += ev->c[cell].tp;
        t.fp += ev->c[cell].fp;
        t.fn += ev->c[cell].fn;
    }
    return t;
}

kz__prf kz__ner_eval_macro(const kz__ner_eval *ev, int corpus) {
    kz__prf m = {0, 0, 0};
    size_t n = 0;
    for (uint32_t c = 0; c < ev->n_classes; c++) {
        kz__prf_counts t;
        bool any = false;
        if (corpus >= 0) {
            size_t cell = (size_t)corpus * ev->cap_classes + c;
            any = ev->scored[cell];
            t = ev->c[cell];
        } else {
            for (uint32_t k = 0; k < ev->n_corpora; k++) any |= ev->scored[(size_t)k * ev->cap_classes + c];
            t = kz__ner_eval_class_total(ev, c);
        }
        if (!any) continue;
        kz__prf p = kz__prf_of(t);
        m.p += p.p;
        m.r += p.r;
        m.f1 += p.f1;
        n++;
    }
    if (n) m.p /= (double)n, m.r /= (double)n, m.f1 /= (double)n;
    return m;
}
