/* CoNLL writer: one token per line with one BIO column per entity class (the
 * multi-label protocol), blank lines between sentences, "-DOCSTART-" per document. */
#include <stdlib.h>
#include "io_int.h"
#include "wordtok.h"

enum { TAG_O = 0, TAG_B = 1, TAG_I = 2 };

typedef struct conll_writer {
    kz_arena *tmp; /* per-document tokens, tags and entity order */
} conll_writer;

typedef struct ent_ref {
    const kz_entity *e;
    size_t seq;
} ent_ref;

/* Earlier entities first and, at the same start, longer ones: where entities
 * of one class overlap, the first tags its tokens and later ones keep them. */
static int ent_cmp(const void *a, const void *b) {
    const ent_ref *x = a, *y = b;
    if (x->e->start != y->e->start) return x->e->start < y->e->start ? -1 : 1;
    if (x->e->end != y->e->end) return x->e->end > y->e->end ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int class_column(const kz_writer *w, kz_str cls) {
    for (size_t c = 0; c < w->p.n_conll_classes; c++)
        if (kz_str_eq_c(cls, w->p.conll_classes[c])) return (int)c;
    return -1;
}

/* First token whose end is after off (tokens are sorted and disjoint). */
static size_t first_token_after(const kz_span *tok, size_t n, int64_t off) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (tok[mid].end <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool is_sentence_end(const char *s, kz_span t) {
    return t.end - t.start == 1 && (s[t.start] == '.' || s[t.start] == '?' || s[t.start] == '!');
}

/* Sentence break before token i: by the section's sentence spans when set,
 * else after . ? ! followed by space and an uppercase letter, or at a newline. */
static bool breaks_before(const kz_section *sec, const kz_span *tok, size_t i, size_t *next_sent) {
    const char *s = sec->text.ptr;
    if (sec->sentence_spans) {
        bool brk = false;
        while (*next_sent < sec->n_sentence_spans && sec->sentence_spans[*next_sent].start <= tok[i].start) {
            brk = true;
            ++*next_sent;
        }
        return brk && i > 0;
    }
    if (i == 0) return false;
    if (memchr(s + tok[i - 1].end, '\n', (size_t)(tok[i].start - tok[i - 1].end))) return true;
    return is_sentence_end(s, tok[i - 1]) && tok[i].start > tok[i - 1].end &&
           kz__wordtok_is_upper(s, sec->text.len, (size_t)tok[i].start);
}

static int write_section(kz_writer *w, conll_writer *st, const kz_section *sec) {
    kz_buf *b = &w->out;
    size_t ncls = w->p.n_conll_classes, n = 0, cap = 256, pos = 0;
    kz_span *tok = kz_arena_alloc(st->tmp, cap * sizeof *tok), t;
    if (!tok) return KZ_ENOMEM;
    while (kz__wordtok_next(sec->text.ptr, sec->text.len, &pos, &t)) {
        if (n == cap) {
            kz_span *nt = kz_arena_alloc(st->tmp, 2 * cap * sizeof *nt);
            if (!nt) return KZ_ENOMEM;
            memcpy(nt, tok, n * sizeof *nt);
            tok = nt;
            cap *= 2;
        }
        tok[n++] = t;
    }
    if (n == 0) return 0;
    unsigned char *tags = kz_arena_calloc(st->tmp, n, ncls ? ncls : 1);
    ent_ref *ents = kz_arena_calloc(st->tmp, sec->n_entities ? sec->n_entities : 1, sizeof *ents);
    if (!tags || !ents) return KZ_ENOMEM;
    for (uint32_t i = 0; i < sec->n_entities; i++) ents[i] = (ent_ref){sec->entities[i], i};
    qsort(ents, sec->n_entities, sizeof *ents, ent_cmp);
    for (uint32_t i = 0; i < sec->n_entities; i++) {
        const kz_entity *e = ents[i].e;
        int c = class_column(w, e->entity_class);
        if (c < 0) continue;
        bool first = true;
        for (uint32_t k = 0; k < e->n_spans; k++) {
            /* A token partly inside a fragment counts as inside. */
            for (size_t j = first_token_after(tok, n, e->spans[k].start);
                 j < n && tok[j].start < e->spans[k].end; j++) {
                unsigned char *tag = &tags[j * ncls + (size_t)c];
                if (*tag == TAG_O) *tag = first ? TAG_B : TAG_I;
                first = false;
            }
        }
    }
    size_t next_sent = 0;
    int rc = 0;
    for (size_t i = 0; !rc && i < n; i++) {
        if (breaks_before(sec, tok, i, &next_sent)) rc = kz__buf_putc(b, '\n');
        if (!rc) rc = kz__buf_append(b, sec->text.ptr + tok[i].start, (size_t)(tok[i].end - tok[i].start));
        for (size_t c = 0; !rc && c < ncls; c++) {
            unsigned char tag = tags[i * ncls + c];
            rc = tag == TAG_O ? kz__buf_puts(b, "\tO")
                              : kz__buf_printf(b, "\t%c-%s", tag == TAG_B ? 'B' : 'I', w->p.conll_classes[c]);
        }
        if (!rc) rc = kz__buf_putc(b, '\n');
    }
    return rc ? rc : kz__buf_putc(b, '\n');
}

static int conll_begin(kz_writer *w, kz_error *err) {
    int rc = kz__buf_puts(&w->out, "# columns: token");
    for (size_t c = 0; !rc && c < w->p.n_conll_classes; c++)
        rc = kz__buf_printf(&w->out, " %s", w->p.conll_classes[c]);
    if (!rc) rc = kz__buf_puts(&w->out, "\n\n");
    if (rc) return kz_error_set(err, rc, "out of memory");
    return kz__writer_flush(w, err);
}

static int conll_write(kz_writer *w, const kz_doc *doc, kz_error *err) {
    conll_writer *st = w->state;
    kz_arena_reset(st->tmp);
    int rc = kz__buf_puts(&w->out, "-DOCSTART-");
    for (size_t c = 0; !rc && c < w->p.n_conll_classes; c++) rc = kz__buf_puts(&w->out, "\tO");
    if (!rc) rc = kz__buf_puts(&w->out, "\n\n");
    for (uint32_t s = 0; !rc && s < doc->n_sections; s++) rc = write_section(w, st, doc->sections[s]);
    if (rc) return kz_error_set(err, rc, "cannot format CoNLL output: %s", kz_strerror(rc));
    return 0;
}

static void conll_close(kz_writer *w) {
    conll_writer *st = w->state;
    if (!st) return;
    kz_arena_free(st->tmp);
    free(st);
    w->state = NULL;
}

static const kz_writer_vt k_conll_vt = {conll_begin, conll_write, NULL, conll_close};

int kz__writer_init_conll(kz_writer *w, kz_error *err) {
    for (size_t c = 0; c < w->p.n_conll_classes; c++)
        if (!w->p.conll_classes[c] || !w->p.conll_classes[c][0] || strpbrk(w->p.conll_classes[c], " \t\n\r"))
            return kz_error_set(err, KZ_EINVAL, "CoNLL class %zu is empty or contains whitespace", c);
    conll_writer *st = calloc(1, sizeof *st);
    if (st) st->tmp = kz_arena_new(0);
    if (!st || !st->tmp) {
        free(st);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    w->state = st;
    w->vt = &k_conll_vt;
    return 0;
}
