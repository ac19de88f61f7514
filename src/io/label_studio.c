/* Label Studio tasks: a JSON array with one task per section, entities as
 * pre-annotation regions shaped like Kazu's KazuToLabelStudioConverter output. */
#include <stdlib.h>
#include "json_int.h"

typedef struct ls_tax {
    kz_str source, label; /* label = "default_label|idx" */
} ls_tax;

static int put_str(kz_writer *w, kz_str s) {
    size_t bad;
    if (s.ptr && !kz_utf8_valid(s.ptr, s.len, &bad)) return KZ_EUTF8;
    return kz__json_put_string(&w->out, s.ptr, s.len, w->p.ascii_only);
}

static kz_str none_if_null(kz_str s) { return s.ptr ? s : kz_str_c("None"); }

static int cmp_tax(const void *a, const void *b) {
    const ls_tax *x = a, *y = b;
    int c = kz_str_cmp(x->source, y->source);
    return c ? c : kz_str_cmp(x->label, y->label);
}

/* Kazu: sorted(set((source, f"{default_label}|{idx}"))), or the "unmapped" marker. */
static int put_taxonomy(kz_writer *w, const kz_entity *e, kz_arena *tmp) {
    kz_buf *b = &w->out;
    if (!e->n_mappings) return kz__buf_puts(b, "[[\"None\", \"unmapped|unmapped\"]]");
    ls_tax *t = kz_arena_alloc(tmp, e->n_mappings * sizeof *t);
    if (!t) return KZ_ENOMEM;
    for (uint32_t i = 0; i < e->n_mappings; i++) {
        kz_str l = none_if_null(e->mappings[i].default_label), x = none_if_null(e->mappings[i].idx);
        char *s = kz_arena_alloc(tmp, l.len + x.len + 2);
        if (!s) return KZ_ENOMEM;
        memcpy(s, l.ptr, l.len);
        s[l.len] = '|';
        memcpy(s + l.len + 1, x.ptr, x.len);
        t[i] = (ls_tax){none_if_null(e->mappings[i].source), {s, l.len + x.len + 1}};
    }
    qsort(t, e->n_mappings, sizeof *t, cmp_tax);
    TRY(kz__buf_putc(b, '['));
    for (uint32_t i = 0, k = 0; i < e->n_mappings; i++) {
        if (i && cmp_tax(&t[i], &t[i - 1]) == 0) continue;
        TRY(kz__buf_puts(b, k++ ? ", [" : "["));
        TRY(put_str(w, t[i].source));
        TRY(kz__buf_puts(b, ", "));
        TRY(put_str(w, t[i].label));
        TRY(kz__buf_putc(b, ']'));
    }
    return kz__buf_putc(b, ']');
}

/* The "start", "end" and "text" of a region value. */
static int put_region_value(kz_writer *w, const kz_section *s, const kz_offset_map *m, kz_span sp) {
    TRY(kz__buf_printf(&w->out, "\"value\": {\"start\": %lld, \"end\": %lld, \"text\": ",
                       (long long)kz_offset_map_to_cp(m, sp.start),
                       (long long)kz_offset_map_to_cp(m, sp.end)));
    return put_str(w, (kz_str){s->text.ptr + sp.start, (size_t)(sp.end - sp.start)});
}

/* Per span: a "labels" region and a "taxonomy" region sharing one id, and for
 * non-contiguous entities a relation from each span's region to the next. */
static int put_results(kz_writer *w, const kz_section *s, const kz_offset_map *m, kz_arena *tmp) {
    kz_buf *b = &w->out;
    bool first = true;
    for (uint32_t i = 0; i < s->n_entities; i++) {
        const kz_entity *e = s->entities[i];
        for (uint32_t k = 0; k < e->n_spans; k++) {
            TRY(kz__buf_puts(b, first ? "{" : ", {"));
            first = false;
            TRY(kz__buf_printf(
                b,
                "\"id\": \"e%u-s%u\", \"from_name\": \"ner\", \"to_name\": \"text\", \"type\": \"labels\", ",
                i, k));
            TRY(put_region_value(w, s, m, e->spans[k]));
            TRY(kz__buf_puts(b, ", \"labels\": ["));
            TRY(put_str(w, e->entity_class));
            TRY(kz__buf_printf(
                b,
                "]}}, {\"id\": \"e%u-s%u\", \"from_name\": \"taxonomy\", \"to_name\": \"text\", "
                "\"type\": \"taxonomy\", ",
                i, k));
            TRY(put_region_value(w, s, m, e->spans[k]));
            TRY(kz__buf_puts(b, ", \"taxonomy\": "));
            TRY(put_taxonomy(w, e, tmp));
            TRY(kz__buf_puts(b, "}}"));
            if (k)
                TRY(kz__buf_printf(
                    b,
                    ", {\"from_id\": \"e%u-s%u\", \"to_id\": \"e%u-s%u\", \"type\": \"relation\", "
                    "\"direction\": \"right\", \"labels\": [\"non-contig\"]}",
                    i, k - 1, i, k));
        }
    }
    return 0;
}

static int put_task(kz_writer *w, const kz_doc *doc, uint32_t si, kz_arena *tmp) {
    kz_buf *b = &w->out;
    const kz_section *s = doc->sections[si];
    kz_offset_map *m = kz_offset_map_new(tmp, s->text.ptr, s->text.len);
    if (!m) return KZ_ENOMEM;
    /* Kazu's task id "<doc>_<section>_<index>", which its LSToKazuConversion splits. */
    size_t idl = doc->idx.len + s->name.len + 16;
    char *id = kz_arena_alloc(tmp, idl);
    if (!id) return KZ_ENOMEM;
    int n =
        snprintf(id, idl, "%.*s_%.*s_%u", (int)doc->idx.len, doc->idx.ptr, (int)s->name.len, s->name.ptr, si);
    TRY(kz__buf_puts(b, "{\"data\": {\"text\": "));
    TRY(put_str(w, s->text));
    TRY(kz__buf_puts(b, ", \"id\": "));
    TRY(put_str(w, (kz_str){id, (size_t)n}));
    TRY(kz__buf_puts(b, ", \"doc_id\": "));
    TRY(put_str(w, doc->idx));
    TRY(kz__buf_puts(b, ", \"section\": "));
    TRY(put_str(w, s->name));
    TRY(kz__buf_puts(b, "}, \"predictions\": [{\"model_version\": \"kazu-c\", \"result\": ["));
    TRY(put_results(w, s, m, tmp));
    return kz__buf_puts(b, "]}]}");
}

typedef struct ls_state {
    kz_arena *tmp;
    int64_t ntasks;
} ls_state;

static int ls_begin(kz_writer *w, kz_error *err) {
    int rc = kz__buf_putc(&w->out, '[');
    return rc ? kz_error_set(err, rc, "out of memory") : kz__writer_flush(w, err);
}

static int ls_write(kz_writer *w, const kz_doc *doc, kz_error *err) {
    ls_state *st = w->state;
    kz_arena_reset(st->tmp);
    int rc = 0;
    for (uint32_t i = 0; !rc && i < doc->n_sections; i++) {
        rc = kz__buf_puts(&w->out, st->ntasks + i ? ",\n" : "\n");
        if (!rc) rc = put_task(w, doc, i, st->tmp);
    }
    if (rc == KZ_EUTF8) return kz_error_set(err, rc, "a string of the document is not valid UTF-8");
    if (rc) return kz_error_set(err, rc, "cannot serialise the document: %s", kz_strerror(rc));
    st->ntasks += doc->n_sections;
    return 0;
}

static int ls_finish(kz_writer *w, kz_error *err) {
    ls_state *st = w->state;
    int rc = kz__buf_puts(&w->out, st->ntasks ? "\n]\n" : "]\n");
    return rc ? kz_error_set(err, rc, "out of memory") : 0;
}

static void ls_close(kz_writer *w) {
    ls_state *st = w->state;
    if (!st) return;
    kz_arena_free(st->tmp);
    free(st);
}

static const kz_writer_vt k_ls_vt = {ls_begin, ls_write, ls_finish, ls_close};

int kz__writer_init_label_studio(kz_writer *w, kz_error *err) {
    ls_state *st = calloc(1, sizeof *st);
    if (!st) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    w->state = st;
    w->vt = &k_ls_vt;
    if (!(st->tmp = kz_arena_new(0))) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    return 0;
}
