/* cellosaurus.txt parser: "XX   value" line records ended by "//" ->
 * kz_onto_term (AC = id, ID = label, SY = synonyms, DR = xrefs, HI = parents,
 * OX/CA/SX as metadata). cellosaurus.obo goes through the OBO parser. */
#include <stdlib.h>
#include "kb/onto_obo_int.h"
#include "io/io_int.h"
#include "kazu/utf8.h"

typedef struct cello_state {
    kz_onto_ctx c;
    kz_input in;
    kz_buf line, taxids, species;
    bool in_rec;
    bool saw_record, saw_text;
} cello_state;

static kz_str trim(const char *s, size_t n) {
    while (n && (*s == ' ' || *s == '\t')) s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == ';')) n--;
    return (kz_str){s, n};
}

/* Append v to a '|'-joined list (bounded by the buffer's limit: extra values are dropped). */
static int join(kz_buf *b, kz_str v) {
    if (!v.len) return 0;
    int rc = b->len ? kz__buf_putc(b, '|') : 0;
    if (!rc) rc = kz__buf_append(b, v.ptr, v.len);
    return rc == KZ_ELIMIT ? 0 : rc;
}

static int cello_end(cello_state *s) {
    kz_onto_ctx *c = &s->c;
    int rc = 0;
    if (s->taxids.len) rc = kz__onto_rec_meta(c, "ncbi_taxid", s->taxids.data, s->taxids.len);
    if (!rc && s->species.len) rc = kz__onto_rec_meta(c, "species", s->species.data, s->species.len);
    s->in_rec = false;
    return rc ? rc : kz__onto_rec_end(c);
}

/* Call fn on each ';'-separated item of v. */
static int each_item(cello_state *s, kz_str v, int (*fn)(cello_state *, kz_str)) {
    while (v.len) {
        const char *semi = memchr(v.ptr, ';', v.len);
        size_t n = semi ? (size_t)(semi - v.ptr) : v.len;
        kz_str item = trim(v.ptr, n);
        if (item.len) {
            int rc = fn(s, item);
            if (rc) return rc;
        }
        if (!semi) break;
        v.ptr += n + 1;
        v.len -= n + 1;
    }
    return 0;
}

static int add_syn(cello_state *s, kz_str v) { return kz__onto_rec_syn(&s->c, v.ptr, v.len, "RELATED", 7); }
static int add_alt(cello_state *s, kz_str v) { return kz__onto_rec_str(&s->c, KZ_OF_ALT_ID, v.ptr, v.len); }

static int cello_field(cello_state *s, int64_t ln, const char *code, kz_str v) {
    kz_onto_ctx *c = &s->c;
    if (!memcmp(code, "ID", 2)) return kz__onto_rec_str(c, KZ_OF_LABEL, v.ptr, v.len);
    if (!memcmp(code, "AC", 2)) {
        if (c->t.id.ptr) {
            kz__onto_warn(c, KZ_EPARSE, ln, "second AC line ignored");
            return 0;
        }
        return kz__onto_rec_str(c, KZ_OF_ID, v.ptr, v.len);
    }
    if (!memcmp(code, "AS", 2)) return each_item(s, v, add_alt);
    if (!memcmp(code, "SY", 2)) return each_item(s, v, add_syn);
    if (!memcmp(code, "DR", 2)) { /* "ATCC; CCL-2" -> ATCC:CCL-2 */
        const char *semi = memchr(v.ptr, ';', v.len);
        if (!semi) {
            kz__onto_warn(c, KZ_EPARSE, ln, "DR line without \"database; id\"; line skipped");
            return 0;
        }
        kz_str db = trim(v.ptr, (size_t)(semi - v.ptr));
        kz_str rest = trim(semi + 1, v.len - (size_t)(semi - v.ptr) - 1);
        const char *semi2 = memchr(rest.ptr, ';', rest.len);
        kz_str id = semi2 ? trim(rest.ptr, (size_t)(semi2 - rest.ptr)) : rest;
        if (!db.len || !id.len) return 0;
        kz_buf x;
        kz__buf_init(&x, 0);
        int rc = kz__buf_append(&x, db.ptr, db.len);
        if (!rc) rc = kz__buf_putc(&x, ':');
        if (!rc) rc = kz__buf_append(&x, id.ptr, id.len);
        if (!rc) rc = kz__onto_rec_str(c, KZ_OF_XREF, x.data, x.len);
        kz__buf_free(&x);
        return rc;
    }
    if (!memcmp(code, "HI", 2)) { /* "CVCL_0030 ! HeLa" */
        size_t n = 0;
        while (n < v.len && v.ptr[n] != ' ' && v.ptr[n] != '!') n++;
        return kz__onto_rec_str(c, KZ_OF_PARENT, v.ptr, n);
    }
    if (!memcmp(code, "OX", 2)) { /* "NCBI_TaxID=9606; ! Homo sapiens (Human)" */
        const char *eq = memchr(v.ptr, '=', v.len), *bang = memchr(v.ptr, '!', v.len);
        if (eq && (!bang || eq < bang)) {
            size_t n = 0;
            const char *t = eq + 1;
            while (t + n < v.ptr + v.len && t[n] >= '0' && t[n] <= '9') n++;
            int rc = join(&s->taxids, (kz_str){t, n});
            if (rc) return rc;
        }
        if (bang) return join(&s->species, trim(bang + 1, v.len - (size_t)(bang + 1 - v.ptr)));
        return 0;
    }
    if (!memcmp(code, "CA", 2)) return kz__onto_rec_meta(c, "category", v.ptr, v.len);
    if (!memcmp(code, "SX", 2)) return kz__onto_rec_meta(c, "sex", v.ptr, v.len);
    return 0; /* RX, WW, CC, ST, DI, OI, AG, DT, ... */
}

static bool is_code(const char *l, size_t n) {
    return n >= 5 && l[0] >= 'A' && l[0] <= 'Z' &&
           ((l[1] >= 'A' && l[1] <= 'Z') || (l[1] >= '0' && l[1] <= '9')) && l[2] == ' ' && l[3] == ' ' &&
           l[4] == ' ';
}

static int cello_line(cello_state *s, int64_t ln, kz_error *err) {
    kz_onto_ctx *c = &s->c;
    const char *l = s->line.data;
    size_t n = s->line.len;
    bool id_line = n >= 5 && !memcmp(l, "ID   ", 5);
    if (!s->in_rec && !id_line) { /* the file's header, or junk between records */
        if (s->saw_record && n && !(n == 2 && !memcmp(l, "//", 2)))
            kz__onto_warn(c, KZ_EPARSE, ln, "line outside a record; skipped");
        if (n) s->saw_text = true;
        return 0;
    }
    if (id_line && s->in_rec) {
        kz__onto_rec_warn(c, KZ_EPARSE, c->t.line, "record not terminated by \"//\"; skipped");
        kz__onto_rec_end(c);
        s->in_rec = false;
    }
    if (id_line) {
        s->in_rec = s->saw_record = true;
        kz__onto_rec_begin(c, ln);
        kz__buf_clear(&s->taxids);
        kz__buf_clear(&s->species);
    }
    if (n >= 2 && !memcmp(l, "//", 2) && trim(l + 2, n - 2).len == 0) return cello_end(s);
    bool key_line = id_line || (n >= 5 && !memcmp(l, "AC   ", 5));
    if (!kz_utf8_valid(l, n, NULL) || memchr(l, 0, n)) {
        if (key_line)
            kz__onto_rec_warn(c, KZ_EUTF8, ln, "invalid UTF-8 in the %.2s line; record skipped", l);
        else
            kz__onto_warn(c, KZ_EUTF8, ln, "invalid UTF-8; line skipped");
        return 0;
    }
    if (!is_code(l, n)) {
        if (n) kz__onto_warn(c, KZ_EPARSE, ln, "not a \"XX   value\" line; line skipped");
        return 0;
    }
    (void)err;
    return cello_field(s, ln, l, trim(l + 5, n - 5));
}

static int cello_parse(const char *data, size_t len, const kz_onto_spec *spec, kz_onto_emit_fn emit,
                       kz_onto_warn_fn warn, void *user, uint64_t *n_warnings, kz_error *err) {
    if (n_warnings) *n_warnings = 0;
    if (err) kz_error_clear(err);
    if (!spec || !emit || (!data && !spec->path))
        return kz_error_set(err, KZ_EINVAL, "Cellosaurus parse: missing spec, input or emit");
    cello_state *s = calloc(1, sizeof *s);
    if (!s) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    int rc = kz__onto_ctx_init(&s->c, spec, NULL, emit, warn, user, err);
    if (rc) {
        free(s);
        return rc;
    }
    kz_onto_ctx *c = &s->c;
    kz__buf_init(&s->line, 0);
    kz__buf_init(&s->taxids, 64 * 1024);
    kz__buf_init(&s->species, 64 * 1024);
    s->in.fd = -1;
    rc = data ? kz__input_open_mem(&s->in, data, len) : kz__input_open_path(&s->in, spec->path, err);
    if (rc) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err && err->msg[0] ? err->msg : "cannot open input");
        kz__onto_fail(c, err, rc, 0, "%s", why);
    }
    while (!rc) {
        int g = kz__input_getline(&s->in, &s->line, KZ_ONTO_MAX_LINE);
        int64_t ln = s->in.line;
        if (g == 0) break;
        if (g == KZ_ELIMIT) {
            if (s->in_rec)
                kz__onto_warn(c, KZ_ELIMIT, ln, "line longer than %u bytes; skipped", KZ_ONTO_MAX_LINE);
            continue;
        }
        if (g < 0) {
            rc = kz__onto_fail(c, err, g == KZ_ENOMEM ? g : KZ_EIO, ln, "%s",
                               g == KZ_ENOMEM    ? "out of memory"
                               : s->in.errmsg[0] ? s->in.errmsg
                                                 : "read error");
            break;
        }
        rc = cello_line(s, ln, err);
        if (rc)
            kz__onto_fail(c, err, rc, ln, "%s",
                          rc == KZ_ENOMEM ? "out of memory" : "parse aborted by the consumer");
    }
    if (!rc && s->in_rec) {
        kz__onto_rec_warn(c, KZ_EPARSE, c->t.line, "last record not terminated by \"//\"; skipped");
        kz__onto_rec_end(c);
    }
    if (!rc && !s->saw_record && s->saw_text)
        rc = kz__onto_fail(c, err, KZ_EFORMAT, 0, "no \"ID   \" line: not a cellosaurus.txt file");
    if (n_warnings) *n_warnings = c->n_warnings;
    kz__input_close(&s->in);
    kz__buf_free(&s->line);
    kz__buf_free(&s->taxids);
    kz__buf_free(&s->species);
    kz__onto_ctx_free(c);
    free(s);
    return rc;
}

int kz__onto_parse_cellosaurus(const kz_onto_spec *spec, kz_onto_emit_fn emit, kz_onto_warn_fn warn,
                               void *user, uint64_t *n_warnings, kz_error *err) {
    return cello_parse(NULL, 0, spec, emit, warn, user, n_warnings, err);
}

int kz__onto_parse_cellosaurus_mem(const char *data, size_t len, const kz_onto_spec *spec,
                                   kz_onto_emit_fn emit, kz_onto_warn_fn warn, void *user,
                                   uint64_t *n_warnings, kz_error *err) {
    if (!data && len) return kz_error_set(err, KZ_EINVAL, "Cellosaurus parse: NULL data");
    return cello_parse(data ? data : "", len, spec, emit, warn, user, n_warnings, err);
}
