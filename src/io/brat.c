/* brat standoff writer: per document <dir>/<id>.txt (sections joined by "\n")
 * and <id>.ann with T (entity) and N (normalization) lines in code points. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include "io_int.h"

#define BRAT_MAX_NAME 200

typedef struct brat_writer {
    kz_arena *tmp;
    kz_buf txt, ann, name;
    char **used; /* open-addressing set of file names handed out */
    size_t cap_used, n_used;
} brat_writer;

/* ---- file names ------------------------------------------------------------ */
static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static bool name_used(const brat_writer *st, const char *s) {
    if (!st->cap_used) return false;
    for (size_t i = hash_str(s) & (st->cap_used - 1);; i = (i + 1) & (st->cap_used - 1)) {
        if (!st->used[i]) return false;
        if (strcmp(st->used[i], s) == 0) return true;
    }
}

static void set_put(char **tab, size_t cap, char *s) {
    size_t i = hash_str(s) & (cap - 1);
    while (tab[i]) i = (i + 1) & (cap - 1);
    tab[i] = s;
}

static int name_add(brat_writer *st, const char *s) {
    if (2 * (st->n_used + 1) > st->cap_used) {
        size_t nc = st->cap_used ? st->cap_used * 2 : 64;
        char **tab = calloc(nc, sizeof *tab);
        if (!tab) return KZ_ENOMEM;
        for (size_t i = 0; i < st->cap_used; i++)
            if (st->used[i]) set_put(tab, nc, st->used[i]);
        free(st->used);
        st->used = tab;
        st->cap_used = nc;
    }
    char *copy = strdup(s);
    if (!copy) return KZ_ENOMEM;
    set_put(st->used, st->cap_used, copy);
    st->n_used++;
    return 0;
}

/* A file-system-safe, unique base name for a document id: '/', '\', control
 * bytes and invalid UTF-8 become '_', a leading '.' too; at most
 * BRAT_MAX_NAME bytes (cut on a character boundary); "-2", "-3", ... on collision. */
static int safe_name(brat_writer *st, kz_str id) {
    kz_buf *b = &st->name;
    kz__buf_clear(b);
    int rc = 0;
    size_t i = 0;
    while (!rc && i < id.len) {
        size_t start = i;
        int32_t cp = kz_utf8_decode(id.ptr, id.len, &i);
        if (b->len + (i - start) > BRAT_MAX_NAME) break;
        bool bad = cp < 0x20 || cp == 0x7f || cp == '/' || cp == '\\' || (cp == '.' && start == 0);
        rc = bad ? kz__buf_putc(b, '_') : kz__buf_append(b, id.ptr + start, i - start);
    }
    if (!rc && b->len == 0) rc = kz__buf_puts(b, "doc");
    size_t base_len = b->len;
    for (int k = 2; !rc && name_used(st, b->data); k++) {
        b->len = base_len;
        rc = kz__buf_printf(b, "-%d", k);
    }
    return rc ? rc : name_add(st, b->data);
}

/* Write data to dir/name via a temporary file and rename, so a reader never
 * sees half a file. */
static int write_file(const char *dir, const char *name, const char *ext, const kz_buf *data, kz_error *err) {
    char final[4096], tmp[4096];
    snprintf(final, sizeof final, "%s/%s%s", dir, name, ext);
    snprintf(tmp, sizeof tmp, "%s/.%s%s.XXXXXX", dir, name, ext);
    int fd = mkstemp(tmp);
    if (fd < 0) return kz_error_set(err, KZ_EIO, "cannot create %s: %s", tmp, strerror(errno));
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        int e = errno;
        close(fd);
        unlink(tmp);
        return kz_error_set(err, KZ_EIO, "cannot write %s: %s", tmp, strerror(e));
    }
    bool ok = fwrite(data->data ? data->data : "", 1, data->len, f) == data->len;
    int e = errno;
    if (fclose(f) != 0 && ok) {
        ok = false;
        e = errno;
    }
    if (ok && rename(tmp, final) != 0) {
        ok = false;
        e = errno;
    }
    if (!ok) {
        unlink(tmp);
        return kz_error_set(err, KZ_EIO, "cannot write %s: %s", final, strerror(e));
    }
    return 0;
}

/* ---- .ann content ------------------------------------------------------------ */
/* Copy s, turning bytes in `from` into repl (brat fields cannot hold them). */
static int put_clean(kz_buf *b, const char *s, size_t len, const char *from, char repl) {
    int rc = kz__buf_reserve(b, len);
    for (size_t i = 0; !rc && i < len; i++) b->data[b->len++] = s[i] && strchr(from, s[i]) ? repl : s[i];
    if (!rc) b->data[b->len] = 0;
    return rc;
}

typedef struct brat_ent {
    const kz_entity *e;
    const kz_section *sec;
    const kz_offset_map *map;
    int64_t base; /* code point where the section starts in the .txt */
    int64_t start, end;
    size_t seq; /* section order, for ties */
} brat_ent;

static int ent_cmp(const void *a, const void *b) {
    const brat_ent *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static int put_entity(kz_buf *b, const brat_ent *be, size_t t) {
    const kz_entity *e = be->e;
    int rc = kz__buf_printf(b, "T%zu\t", t);
    if (!rc)
        rc = e->entity_class.len ? put_clean(b, e->entity_class.ptr, e->entity_class.len, " \t\n\r", '_')
                                 : kz__buf_putc(b, '_');
    for (uint32_t k = 0; !rc && k < e->n_spans; k++)
        rc = kz__buf_printf(b, "%s%lld %lld", k ? ";" : " ",
                            (long long)(be->base + kz_offset_map_to_cp(be->map, e->spans[k].start)),
                            (long long)(be->base + kz_offset_map_to_cp(be->map, e->spans[k].end)));
    if (!rc) rc = kz__buf_putc(b, '\t');
    for (uint32_t k = 0; !rc && k < e->n_spans; k++) {
        if (k) rc = kz__buf_putc(b, ' ');
        if (!rc)
            rc = put_clean(b, be->sec->text.ptr + e->spans[k].start,
                           (size_t)(e->spans[k].end - e->spans[k].start), "\t\n\r", ' ');
    }
    return rc ? rc : kz__buf_putc(b, '\n');
}

static bool same_ref(const kz_mapping *a, const kz_mapping *b) {
    return kz_str_eq(a->idx, b->idx) && kz_str_eq(a->source, b->source);
}

/* "N<n>\tReference T<t> <source>:<idx>\t<label>", once per (source, idx); an
 * idx already prefixed with "<source>:" is not prefixed again. */
static int put_norms(kz_buf *b, const kz_entity *e, size_t t, size_t *n_norm) {
    int rc = 0;
    for (uint32_t i = 0; !rc && i < e->n_mappings; i++) {
        const kz_mapping *m = &e->mappings[i];
        if (!m->idx.ptr || !m->idx.len) continue;
        bool dup = false;
        for (uint32_t k = 0; k < i && !dup; k++) dup = same_ref(&e->mappings[k], m);
        if (dup) continue;
        kz_str src = m->source.ptr && m->source.len ? m->source : kz_str_c("unknown");
        bool prefixed =
            m->idx.len > src.len && m->idx.ptr[src.len] == ':' && memcmp(m->idx.ptr, src.ptr, src.len) == 0;
        rc = kz__buf_printf(b, "N%zu\tReference T%zu ", ++*n_norm, t);
        if (!rc && !prefixed) rc = put_clean(b, src.ptr, src.len, " \t\n\r:", '_');
        if (!rc && !prefixed) rc = kz__buf_putc(b, ':');
        if (!rc) rc = put_clean(b, m->idx.ptr, m->idx.len, " \t\n\r", '_');
        if (!rc) rc = kz__buf_putc(b, '\t');
        if (!rc && m->default_label.ptr)
            rc = put_clean(b, m->default_label.ptr, m->default_label.len, "\t\n\r", ' ');
        if (!rc) rc = kz__buf_putc(b, '\n');
    }
    return rc;
}

static int build_files(brat_writer *st, const kz_doc *doc) {
    kz_arena_reset(st->tmp);
    kz__buf_clear(&st->txt);
    kz__buf_clear(&st->ann);
    size_t n = kz_doc_n_entities(doc), k = 0;
    brat_ent *ents = kz_arena_calloc(st->tmp, n ? n : 1, sizeof *ents);
    if (!ents) return KZ_ENOMEM;
    int64_t base = 0;
    int rc = 0;
    for (uint32_t s = 0; !rc && s < doc->n_sections; s++) {
        const kz_section *sec = doc->sections[s];
        kz_offset_map *map = kz_offset_map_new(st->tmp, sec->text.ptr, sec->text.len);
        if (!map) return KZ_ENOMEM;
        if (s) rc = kz__buf_putc(&st->txt, '\n');
        if (!rc) rc = kz__buf_append(&st->txt, sec->text.ptr, sec->text.len);
        for (uint32_t i = 0; i < sec->n_entities; i++) {
            const kz_entity *e = sec->entities[i];
            ents[k] = (brat_ent){e,
                                 sec,
                                 map,
                                 base,
                                 base + kz_offset_map_to_cp(map, e->start),
                                 base + kz_offset_map_to_cp(map, e->end),
                                 k};
            k++;
        }
        base += kz_offset_map_cp_len(map) + 1;
    }
    qsort(ents, k, sizeof *ents, ent_cmp);
    size_t n_norm = 0;
    for (size_t i = 0; !rc && i < k; i++) {
        rc = put_entity(&st->ann, &ents[i], i + 1);
        if (!rc) rc = put_norms(&st->ann, ents[i].e, i + 1, &n_norm);
    }
    return rc;
}

static int brat_write(kz_writer *w, const kz_doc *doc, kz_error *err) {
    brat_writer *st = w->state;
    int rc = build_files(st, doc);
    if (!rc) rc = safe_name(st, doc->idx);
    if (rc) return kz_error_set(err, rc, "cannot format brat output: %s", kz_strerror(rc));
    rc = write_file(w->name, st->name.data, ".txt", &st->txt, err);
    if (!rc) rc = write_file(w->name, st->name.data, ".ann", &st->ann, err);
    return rc;
}

static void brat_close(kz_writer *w) {
    brat_writer *st = w->state;
    if (!st) return;
    for (size_t i = 0; i < st->cap_used; i++) free(st->used[i]);
    free(st->used);
    kz__buf_free(&st->txt);
    kz__buf_free(&st->ann);
    kz__buf_free(&st->name);
    kz_arena_free(st->tmp);
    free(st);
    w->state = NULL;
}

static const kz_writer_vt k_brat_vt = {NULL, brat_write, NULL, brat_close};

int kz__writer_init_brat(kz_writer *w, kz_error *err) {
    if (w->f) return kz_error_set(err, KZ_EINVAL, "brat output needs a directory path");
    brat_writer *st = calloc(1, sizeof *st);
    if (st) st->tmp = kz_arena_new(0);
    if (!st || !st->tmp) {
        free(st);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    kz__buf_init(&st->txt, 0);
    kz__buf_init(&st->ann, 0);
    kz__buf_init(&st->name, 0);
    w->state = st;
    w->vt = &k_brat_vt;
    return 0;
}
