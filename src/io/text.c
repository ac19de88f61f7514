/* Plain-text reader: the whole input is one document, or (text_one_per_line)
 * every non-blank line is one; ids come from the file name. */
#include <stdlib.h>
#include <strings.h>
#include "io_int.h"

typedef struct text_state {
    kz_buf buf;     /* whole stream, or the current line */
    char base[256]; /* id base: file name without directory, ".gz" and ".txt" */
} text_state;

static void strip_suffix(char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    if (a > b && strcasecmp(s + a - b, suf) == 0) s[a - b] = 0;
}

static void id_base(const char *name, char *out, size_t cap) {
    if (strcmp(name, "-") == 0) {
        snprintf(out, cap, "stdin");
        return;
    }
    const char *slash = strrchr(name, '/');
    snprintf(out, cap, "%s", slash ? slash + 1 : name);
    strip_suffix(out, ".gz");
    strip_suffix(out, ".txt");
    if (!out[0]) snprintf(out, cap, "doc");
}

static size_t bom_len(const char *s, size_t len) {
    return len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
}

/* Line and column (1-based) of byte off in text, for UTF-8 errors in one-doc mode. */
static void line_col(const char *s, size_t off, int64_t *line, int64_t *col) {
    int64_t ln = 1;
    size_t ls = 0;
    for (size_t i = 0; i < off; i++)
        if (s[i] == '\n') {
            ln++;
            ls = i + 1;
        }
    *line = ln;
    *col = (int64_t)(off - ls) + 1;
}

static int make_doc(kz_reader *r, const char *id, const char *text, size_t len, kz_doc **out, kz_error *err) {
    kz_doc *doc = kz_doc_new(id, strlen(id));
    if (!doc) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    int rc = kz_doc_add_section(doc, r->p.section_name, strlen(r->p.section_name), text, len, NULL, err);
    if (rc) {
        kz_doc_free(doc);
        return rc;
    }
    *out = doc;
    return 1;
}

static int next_whole(kz_reader *r, kz_doc **out, kz_error *err) {
    text_state *st = r->state;
    kz_buf *b = &st->buf;
    size_t cap = r->p.max_record_bytes;
    r->done = true; /* one document per input, whatever happens below */
    kz__buf_clear(b);
    for (;;) {
        /* Ask for one byte past the cap so an oversized input is detected. */
        size_t want = KZ_MIN((size_t)65536, cap + 1 - b->len);
        int rc = kz__buf_reserve(b, want);
        if (rc) return kz_error_set(err, rc, "out of memory reading text");
        ptrdiff_t got = kz__input_read(&r->in, b->data + b->len, want);
        if (got < 0) {
            kz__reader_locate(r, err, 0, r->in.offset);
            return kz_error_set(err, KZ_EIO, "%s", r->in.errmsg[0] ? r->in.errmsg : "read failed");
        }
        if (got == 0) break;
        b->len += (size_t)got;
        if (b->len > cap) {
            kz__reader_locate(r, err, 0, (int64_t)cap);
            return kz_error_set(err, KZ_ELIMIT,
                                "text input is larger than the %zu-byte record cap (max_record_bytes)", cap);
        }
    }
    /* b->data is allocated: the loop reserved space at least once. */
    size_t skip = bom_len(b->data, b->len), bad;
    const char *text = b->data + skip;
    size_t len = b->len - skip;
    if (!kz_utf8_valid(text, len, &bad)) {
        int64_t line, col;
        line_col(b->data, skip + bad, &line, &col);
        kz__reader_locate(r, err, line, (int64_t)(skip + bad));
        if (err) {
            err->column = col;
            snprintf(err->doc_id, sizeof err->doc_id, "%.120s", st->base);
        }
        return kz_error_set(err, KZ_EUTF8, "invalid UTF-8 at byte %zu (line %lld)", skip + bad,
                            (long long)line);
    }
    return make_doc(r, st->base, text, len, out, err);
}

static bool blank(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\v' && s[i] != '\f') return false;
    return true;
}

static int next_line(kz_reader *r, kz_doc **out, kz_error *err) {
    text_state *st = r->state;
    for (;;) {
        int64_t off = r->in.offset;
        int rc = kz__input_getline(&r->in, &st->buf, r->p.max_record_bytes);
        if (rc == 0) return 0;
        int64_t line = r->in.line;
        if (rc == KZ_ELIMIT) {
            kz__reader_locate(r, err, line, off);
            return kz_error_set(err, KZ_ELIMIT,
                                "line %lld is longer than the %zu-byte record cap (max_record_bytes)",
                                (long long)line, r->p.max_record_bytes);
        }
        if (rc < 0) {
            r->done = true;
            kz__reader_locate(r, err, line + 1, off);
            return kz_error_set(err, rc, "%s", r->in.errmsg[0] ? r->in.errmsg : "read failed");
        }
        /* A BOM may open any line: concatenated files each carry their own. */
        size_t skip = bom_len(st->buf.data, st->buf.len), bad;
        const char *text = st->buf.data + skip;
        size_t len = st->buf.len - skip;
        if (blank(text, len)) continue;
        char id[300];
        snprintf(id, sizeof id, "%s:%lld", st->base, (long long)line);
        if (!kz_utf8_valid(text, len, &bad)) {
            kz__reader_locate(r, err, line, off + (int64_t)(skip + bad));
            if (err) {
                err->column = (int64_t)(skip + bad) + 1;
                snprintf(err->doc_id, sizeof err->doc_id, "%.120s", id);
            }
            return kz_error_set(err, KZ_EUTF8, "invalid UTF-8 at byte %zu of line %lld", skip + bad,
                                (long long)line);
        }
        return make_doc(r, id, text, len, out, err);
    }
}

static void text_close(kz_reader *r) {
    text_state *st = r->state;
    if (!st) return;
    kz__buf_free(&st->buf);
    free(st);
    r->state = NULL;
}

static const kz_reader_vt k_whole_vt = {next_whole, text_close};
static const kz_reader_vt k_line_vt = {next_line, text_close};

int kz__reader_init_text(kz_reader *r, kz_error *err) {
    text_state *st = calloc(1, sizeof *st);
    if (!st) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    kz__buf_init(&st->buf, 0);
    id_base(r->name, st->base, sizeof st->base);
    r->state = st;
    r->vt = r->p.text_one_per_line ? &k_line_vt : &k_whole_vt;
    return 0;
}
