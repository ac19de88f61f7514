/* Generic TSV/CSV ontology parser (format "tabular") and the delimited-record machinery the other
 * tabular-family parsers share: reader with RFC-4180 quoting, term sink with filters, column map. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include "kb/onto_tab_int.h"

/* ---- reader ------------------------------------------------------------------------------------ */

static void locate(kz_error *err, const char *path, int64_t line) {
    if (!err) return;
    snprintf(err->path, sizeof err->path, "%s", path);
    err->line = line;
}

static void reader_init(kz_tab_reader *r, const char *name, char delim, char quote, char comment) {
    snprintf(r->path, sizeof r->path, "%s", name ? name : "<memory>");
    r->delim = delim ? delim : '\t';
    r->quote = quote;
    r->comment = comment;
    kz__buf_init(&r->raw, KZ_TAB_MAX_RECORD);
    kz__buf_init(&r->more, KZ_TAB_MAX_RECORD);
    kz__buf_init(&r->cells, KZ_TAB_MAX_RECORD);
}

int kz__tab_open(kz_tab_reader *r, const char *path, char delim, char quote, char comment, kz_error *err) {
    memset(r, 0, sizeof *r);
    int rc = kz__input_open_path(&r->in, path, err);
    reader_init(r, path, delim, quote, comment);
    if (rc) locate(err, r->path, 0);
    return rc;
}

int kz__tab_open_mem(kz_tab_reader *r, const void *data, size_t len, const char *name, char delim, char quote,
                     char comment, kz_error *err) {
    memset(r, 0, sizeof *r);
    int rc = kz__input_open_mem(&r->in, data, len);
    reader_init(r, name, delim, quote, comment);
    if (rc) {
        locate(err, r->path, 0);
        return kz_error_set(err, rc, "cannot open memory input");
    }
    return 0;
}

void kz__tab_close(kz_tab_reader *r) {
    kz__input_close(&r->in);
    kz__buf_free(&r->raw);
    kz__buf_free(&r->more);
    kz__buf_free(&r->cells);
    free(r->offs);
    free(r->fields);
    r->offs = NULL;
    r->fields = NULL;
    r->n_fields = r->cap_fields = 0;
}

size_t kz__tab_peek(kz_tab_reader *r, void *buf, size_t n) { return kz__input_peek(&r->in, buf, n); }

/* One physical line into b. 1, 0 at EOF, KZ_ELIMIT (line too long, skipped), other <0 fatal. */
static int read_line(kz_tab_reader *r, kz_buf *b, kz_error *err) {
    int rc = kz__input_getline(&r->in, b, KZ_TAB_MAX_RECORD);
    if (rc == 1 || rc == KZ_ELIMIT) {
        r->lines++;
        if (!r->bom_checked) {
            r->bom_checked = true;
            if (rc == 1 && b->len >= 3 && memcmp(b->data, "\xEF\xBB\xBF", 3) == 0) {
                memmove(b->data, b->data + 3, b->len - 3 + 1);
                b->len -= 3;
            }
        }
        if (rc == KZ_ELIMIT) {
            locate(err, r->path, r->lines);
            return kz_error_set(err, KZ_ELIMIT, "line longer than %u bytes", KZ_TAB_MAX_RECORD);
        }
        return 1;
    }
    if (rc == 0) {
        r->eof = true;
        if (r->in.gz) {
            int e = Z_OK;
            gzerror(r->in.gz, &e);
            if (e == Z_BUF_ERROR) {
                locate(err, r->path, r->lines);
                return kz_error_set(err, KZ_EIO, "truncated gzip stream (unexpected end of file)");
            }
        }
        if (r->in.error) {
            locate(err, r->path, r->lines);
            return kz_error_set(err, KZ_EIO, "%s", r->in.errmsg);
        }
        return 0;
    }
    locate(err, r->path, r->lines + 1);
    if (r->in.errmsg[0]) return kz_error_set(err, rc == KZ_ENOMEM ? rc : KZ_EIO, "%s", r->in.errmsg);
    return kz_error_set(err, rc, "read failed: %s", kz_strerror(rc));
}

int kz__tab_skip_line(kz_tab_reader *r, kz_error *err) {
    int rc = read_line(r, &r->raw, err);
    return rc == KZ_ELIMIT ? 1 : rc;
}

static int ensure_fields(kz_tab_reader *r, kz_error *err) {
    if (r->n_fields < r->cap_fields) return 0;
    if (r->n_fields >= KZ_TAB_MAX_FIELDS) {
        locate(err, r->path, r->line);
        return kz_error_set(err, KZ_ELIMIT, "more than %d fields", KZ_TAB_MAX_FIELDS);
    }
    size_t nc = r->cap_fields ? r->cap_fields * 2 : 32;
    if (nc > KZ_TAB_MAX_FIELDS) nc = KZ_TAB_MAX_FIELDS;
    size_t *o = realloc(r->offs, nc * 2 * sizeof *o);
    if (!o) return KZ_ENOMEM;
    r->offs = o;
    kz_str *f = realloc(r->fields, nc * sizeof *f);
    if (!f) return KZ_ENOMEM;
    r->fields = f;
    r->cap_fields = nc;
    return 0;
}

/* Unquoted split: fields point into raw. */
static int split_plain(kz_tab_reader *r, kz_error *err) {
    const char *s = r->raw.data;
    size_t n = r->raw.len, start = 0;
    for (;;) {
        const char *d = memchr(s + start, r->delim, n - start);
        size_t end = d ? (size_t)(d - s) : n;
        int rc = ensure_fields(r, err);
        if (rc) return rc;
        r->fields[r->n_fields++] = (kz_str){s + start, end - start};
        if (!d) break;
        start = end + 1;
    }
    return 1;
}

static int end_field(kz_tab_reader *r, size_t *fstart, kz_error *err) {
    int rc = ensure_fields(r, err);
    if (rc) return rc;
    r->offs[2 * r->n_fields] = *fstart;
    r->offs[2 * r->n_fields + 1] = r->cells.len - *fstart;
    r->n_fields++;
    *fstart = r->cells.len;
    return 0;
}

static int cell_append(kz_tab_reader *r, const char *p, size_t n, kz_error *err) {
    int rc = kz__buf_append(&r->cells, p, n);
    if (rc == KZ_ELIMIT) {
        locate(err, r->path, r->line);
        return kz_error_set(err, KZ_ELIMIT, "record longer than %u bytes", KZ_TAB_MAX_RECORD);
    }
    return rc;
}

/* Quote-aware split; a quoted field left open at the end of a line pulls in the next line. */
static int split_quoted(kz_tab_reader *r, kz_error *err) {
    enum { START, UNQ, QUOTED, AFTERQ } st = START;
    const char q = r->quote, d = r->delim;
    size_t pos = 0, fstart = 0;
    int rc;
    kz__buf_clear(&r->cells);
    if ((rc = kz__buf_reserve(&r->cells, 0))) return rc;
    r->cells.data[0] = 0;
    for (;;) {
        const char *s = r->raw.data;
        size_t n = r->raw.len;
        while (pos < n) {
            switch (st) {
            case START:
                if (s[pos] == q) {
                    st = QUOTED;
                    pos++;
                } else {
                    st = UNQ;
                }
                break;
            case UNQ: {
                const char *dp = memchr(s + pos, d, n - pos);
                size_t end = dp ? (size_t)(dp - s) : n;
                if ((rc = cell_append(r, s + pos, end - pos, err))) return rc;
                pos = end;
                if (dp) {
                    if ((rc = end_field(r, &fstart, err))) return rc;
                    st = START;
                    pos++;
                }
                break;
            }
            case QUOTED: {
                const char *qp = memchr(s + pos, q, n - pos);
                size_t end = qp ? (size_t)(qp - s) : n;
                if ((rc = cell_append(r, s + pos, end - pos, err))) return rc;
                pos = end;
                if (qp) {
                    if (pos + 1 < n && s[pos + 1] == q) {
                        if ((rc = cell_append(r, &q, 1, err))) return rc;
                        pos += 2;
                    } else {
                        st = AFTERQ;
                        pos++;
                    }
                }
                break;
            }
            case AFTERQ:
                if (s[pos] == d) {
                    if ((rc = end_field(r, &fstart, err))) return rc;
                    st = START;
                    pos++;
                } else {
                    st = UNQ; /* lenient: text after the closing quote is kept */
                }
                break;
            }
        }
        if (st != QUOTED) break;
        /* The quoted field goes on over the line break. */
        rc = read_line(r, &r->more, err);
        if (rc == 0) {
            locate(err, r->path, r->line);
            return kz_error_set(err, KZ_EPARSE, "unterminated quoted field (record starts at line %lld)",
                                (long long)r->line);
        }
        if (rc < 0) {
            if (rc == KZ_ELIMIT) locate(err, r->path, r->line);
            return rc;
        }
        /* The newline joins raw and is copied into the field by the QUOTED state. */
        if (kz__buf_putc(&r->raw, '\n') || kz__buf_append(&r->raw, r->more.data, r->more.len)) {
            locate(err, r->path, r->line);
            return kz_error_set(
                err, KZ_ELIMIT,
                "record longer than %u bytes (unterminated quoted field starting at line %lld?)",
                KZ_TAB_MAX_RECORD, (long long)r->line);
        }
    }
    if ((rc = end_field(r, &fstart, err))) return rc;
    for (size_t i = 0; i < r->n_fields; i++)
        r->fields[i] = (kz_str){r->cells.data + r->offs[2 * i], r->offs[2 * i + 1]};
    return 1;
}

int kz__tab_next(kz_tab_reader *r, kz_error *err) {
    for (;;) {
        r->n_fields = 0;
        int rc = read_line(r, &r->raw, err);
        r->line = r->lines;
        if (rc <= 0) return rc;
        if (r->raw.len == 0) continue;
        if (r->comment && r->raw.data[0] == r->comment) {
            if (r->return_comments) return 2;
            continue;
        }
        if (r->quote && memchr(r->raw.data, r->quote, r->raw.len)) return split_quoted(r, err);
        return split_plain(r, err);
    }
}

/* ---- sink -------------------------------------------------------------------------------------- */

kz_str kz__tab_trim(const char *p, size_t n) {
    while (n && (*p == ' ' || *p == '\t')) p++, n--;
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
    return (kz_str){p, n};
}

int kz__sink_init(kz_onto_sink *s, const kz_onto_spec *spec, const char *default_prefix, kz_onto_emit_fn emit,
                  kz_onto_warn_fn warn, void *user, kz_error *err) {
    memset(s, 0, sizeof *s);
    s->spec = spec;
    s->emit = emit;
    s->warn = warn;
    s->user = user;
    snprintf(s->path, sizeof s->path, "%s", spec->path ? spec->path : "<memory>");
    s->id_prefix = spec->id_prefix ? spec->id_prefix : default_prefix;
    if (s->id_prefix && !s->id_prefix[0]) s->id_prefix = NULL;
    s->id_item = s->label_item = SIZE_MAX;
    kz__buf_init(&s->pool, KZ_TERM_MAX_BYTES);
    kz__buf_init(&s->scratch, KZ_TAB_MAX_RECORD);
    if (spec->id_regex) {
        int rc = regcomp(&s->re, spec->id_regex, REG_EXTENDED | REG_NOSUB);
        if (rc) {
            char m[160];
            regerror(rc, &s->re, m, sizeof m);
            locate(err, s->path, 0);
            return kz_error_set(err, KZ_ECONFIG, "bad id_regex '%s': %s", spec->id_regex, m);
        }
        s->have_re = true;
    }
    return 0;
}

void kz__sink_free(kz_onto_sink *s) {
    if (s->have_re) regfree(&s->re);
    s->have_re = false;
    kz__buf_free(&s->pool);
    kz__buf_free(&s->scratch);
    free(s->items);
    free(s->syns);
    free(s->strs);
    free(s->kvs);
    free(s->hset);
    s->items = NULL;
    s->syns = NULL;
    s->strs = NULL;
    s->kvs = NULL;
    s->hset = NULL;
}

void kz__sink_warn(kz_onto_sink *s, int64_t line, int code, const char *fmt, ...) {
    s->n_warnings++;
    if (!s->warn) return;
    kz_error w;
    kz_error_clear(&w);
    w.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w.msg, sizeof w.msg, fmt, ap);
    va_end(ap);
    locate(&w, s->path, line);
    s->warn(s->user, &w);
}

int kz__sink_fail(const kz_onto_sink *s, kz_error *err, int64_t line, int code, const char *fmt, ...) {
    if (!err) return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    locate(err, s->path, line);
    return code;
}

int kz__sink_done(kz_onto_sink *s, int rc, uint64_t *n_warnings) {
    if (n_warnings) *n_warnings = s->n_warnings;
    kz__sink_free(s);
    return rc;
}

void kz__term_begin(kz_onto_sink *s, int64_t line) {
    s->open = true;
    s->obsolete = false;
    s->overflow = false;
    s->line = line;
    kz__buf_clear(&s->pool);
    s->n_items = 0;
    s->id_item = s->label_item = SIZE_MAX;
}

static kz_str item_text(const kz_onto_sink *s, const kz_term_item *it) {
    return (kz_str){s->pool.data + it->off, it->len};
}
static kz_str item_scope(const kz_onto_sink *s, const kz_term_item *it) {
    if (it->soff == SIZE_MAX) return KZ_STR_NULL;
    return (kz_str){s->pool.data + it->soff, it->slen};
}

static bool has_prefix(const char *p, size_t n, const char *pfx) {
    size_t k = strlen(pfx);
    return n >= k && memcmp(p, pfx, k) == 0;
}

static int push_item(kz_onto_sink *s, uint32_t kind, const char *pfx, kz_str t, const char *scope,
                     size_t scope_len) {
    if (s->n_items >= KZ_TERM_MAX_ITEMS) {
        s->overflow = true;
        return 0;
    }
    if (s->n_items == s->cap_items) {
        size_t nc = s->cap_items ? s->cap_items * 2 : 64;
        kz_term_item *ni = realloc(s->items, nc * sizeof *ni);
        if (!ni) return KZ_ENOMEM;
        s->items = ni;
        s->cap_items = nc;
    }
    kz_term_item it = {kind, s->pool.len, 0, SIZE_MAX, 0};
    int rc = 0;
    if (pfx && *pfx && !has_prefix(t.ptr, t.len, pfx)) rc = kz__buf_puts(&s->pool, pfx);
    if (!rc) rc = kz__buf_append(&s->pool, t.ptr, t.len);
    it.len = s->pool.len - it.off;
    if (!rc && scope) {
        it.soff = s->pool.len;
        it.slen = scope_len;
        rc = kz__buf_append(&s->pool, scope, scope_len);
    }
    if (rc == KZ_ELIMIT) {
        s->overflow = true;
        return 0;
    }
    if (rc) return rc;
    if (kind == KZ_TI_ID) s->id_item = s->n_items;
    if (kind == KZ_TI_LABEL) s->label_item = s->n_items;
    s->items[s->n_items++] = it;
    return 0;
}

int kz__term_set_id(kz_onto_sink *s, const char *p, size_t n) {
    kz_str t = kz__tab_trim(p, n);
    if (!s->open || s->id_item != SIZE_MAX || !t.len) return 0;
    return push_item(s, KZ_TI_ID, s->id_prefix, t, NULL, 0);
}

kz_str kz__term_id(const kz_onto_sink *s) {
    if (!s->open || s->id_item == SIZE_MAX) return KZ_STR_NULL;
    return item_text(s, &s->items[s->id_item]);
}

bool kz__term_id_is(const kz_onto_sink *s, const char *p, size_t n) {
    kz_str id = kz__term_id(s);
    if (!id.ptr) return false;
    kz_str t = kz__tab_trim(p, n);
    if (s->id_prefix && !has_prefix(t.ptr, t.len, s->id_prefix)) {
        size_t k = strlen(s->id_prefix);
        return id.len == k + t.len && memcmp(id.ptr, s->id_prefix, k) == 0 &&
               memcmp(id.ptr + k, t.ptr, t.len) == 0;
    }
    return id.len == t.len && memcmp(id.ptr, t.ptr, t.len) == 0;
}

int kz__term_add(kz_onto_sink *s, int kind, const char *p, size_t n, const char *scope, size_t scope_len,
                 const char *prefix) {
    if (!s->open || s->overflow) return 0;
    kz_str t = kz__tab_trim(p, n);
    if (!t.len) return 0;
    if (kind == KZ_TI_ID) return kz__term_set_id(s, p, n);
    if (kind == KZ_TI_LABEL && s->label_item != SIZE_MAX) {
        kz_str l = item_text(s, &s->items[s->label_item]);
        if (l.len == t.len && memcmp(l.ptr, t.ptr, t.len) == 0) return 0;
        kind = KZ_TI_SYN; /* a second label of a long-format term */
    }
    if (kind != KZ_TI_XREF && kind != KZ_TI_ALT && kind != KZ_TI_PARENT) prefix = NULL;
    if (kind != KZ_TI_SYN && kind != KZ_TI_META) scope = NULL;
    return push_item(s, (uint32_t)kind, prefix, t, scope, scope_len);
}

int kz__term_add_list(kz_onto_sink *s, int kind, const char *p, size_t n, const char *sep, const char *scope,
                      size_t scope_len, const char *prefix) {
    if (!sep || !*sep) return kz__term_add(s, kind, p, n, scope, scope_len, prefix);
    size_t k = strlen(sep);
    while (n) {
        const char *e = memmem(p, n, sep, k);
        size_t len = e ? (size_t)(e - p) : n;
        int rc = kz__term_add(s, kind, p, len, scope, scope_len, prefix);
        if (rc) return rc;
        if (!e) break;
        p += len + k;
        n -= len + k;
    }
    return 0;
}

static uint64_t hash_bytes(uint64_t h, const char *p, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

static bool str_same(kz_str a, kz_str b) {
    if (!a.ptr || !b.ptr) return a.ptr == b.ptr;
    return a.len == b.len && memcmp(a.ptr, b.ptr, a.len) == 0;
}

/* Insert item i into the dedup set; false if an equal item is already there. */
static bool dedup_insert(kz_onto_sink *s, size_t i) {
    const kz_term_item *it = &s->items[i];
    kz_str t = item_text(s, it), sc = item_scope(s, it);
    uint64_t h = hash_bytes(14695981039346656037ull ^ it->kind, t.ptr, t.len);
    if (sc.ptr) h = hash_bytes(h * 31 + 1, sc.ptr, sc.len);
    size_t mask = s->hmask;
    for (size_t j = (size_t)h & mask;; j = (j + 1) & mask) {
        uint32_t v = s->hset[j];
        if (!v) {
            s->hset[j] = (uint32_t)(i + 1);
            return true;
        }
        const kz_term_item *o = &s->items[v - 1];
        if (o->kind == it->kind && str_same(item_text(s, o), t) && str_same(item_scope(s, o), sc))
            return false;
    }
}

static bool in_list(kz_str v, const char *const *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (list[i] && strlen(list[i]) == v.len && memcmp(list[i], v.ptr, v.len) == 0) return true;
    return false;
}

static int grow(void **p, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 16;
    while (nc < need) nc *= 2;
    void *np = realloc(*p, nc * size);
    if (!np) return KZ_ENOMEM;
    *p = np;
    *cap = nc;
    return 0;
}

int kz__term_end(kz_onto_sink *s, kz_error *err) {
    if (!s->open) return 0;
    s->open = false;
    const kz_onto_spec *spec = s->spec;
    if (s->id_item == SIZE_MAX) return 0;
    kz_str id = item_text(s, &s->items[s->id_item]);
    if (s->overflow) {
        kz__sink_warn(s, s->line, KZ_ELIMIT,
                      "term %.*s is larger than the caps (%u items, %u bytes); skipped",
                      (int)KZ_MIN(id.len, 200), id.ptr, KZ_TERM_MAX_ITEMS, KZ_TERM_MAX_BYTES);
        return 0;
    }
    if (s->obsolete && !spec->include_obsolete) return 0;
    if (s->have_re) {
        regmatch_t m[1] = {{0, (regoff_t)id.len}};
        if (regexec(&s->re, id.ptr, 1, m, REG_STARTEND) != 0) return 0;
    }
    kz_onto_term t;
    memset(&t, 0, sizeof t);
    t.id = id;
    t.obsolete = s->obsolete;
    t.line = s->line;
    if (s->label_item != SIZE_MAX) t.label = item_text(s, &s->items[s->label_item]);
    for (size_t i = 0; i < s->n_items; i++)
        if (s->items[i].kind == KZ_TI_NS) {
            t.ns = item_text(s, &s->items[i]);
            break;
        }
    if (spec->n_namespaces && (!t.ns.ptr || !in_list(t.ns, spec->namespaces, spec->n_namespaces))) return 0;

    /* Count per kind, size the scratch arrays, then fill them deduplicated. */
    size_t n_syn = 0, n_str = 0, n_kv = 0;
    for (size_t i = 0; i < s->n_items; i++) {
        uint32_t k = s->items[i].kind;
        if (k == KZ_TI_SYN)
            n_syn++;
        else if (k == KZ_TI_XREF || k == KZ_TI_ALT || k == KZ_TI_PARENT)
            n_str++;
        else if (k == KZ_TI_META)
            n_kv++;
    }
    size_t hneed = 16;
    while (hneed < 2 * s->n_items) hneed *= 2;
    if (grow((void **)&s->syns, &s->cap_syns, n_syn, sizeof *s->syns) ||
        grow((void **)&s->strs, &s->cap_strs, n_str, sizeof *s->strs) ||
        grow((void **)&s->kvs, &s->cap_kvs, n_kv, sizeof *s->kvs) ||
        grow((void **)&s->hset, &s->cap_hset, hneed, sizeof *s->hset))
        return kz__sink_fail(s, err, s->line, KZ_ENOMEM, "out of memory");
    s->hmask = hneed - 1;
    memset(s->hset, 0, hneed * sizeof *s->hset);

    size_t ns = 0;
    for (size_t i = 0; i < s->n_items; i++) {
        const kz_term_item *it = &s->items[i];
        if (it->kind != KZ_TI_SYN) continue;
        kz_str txt = item_text(s, it), sc = item_scope(s, it);
        if (t.label.ptr && str_same(txt, t.label)) continue;
        if (spec->n_syn_scopes && (!sc.ptr || !in_list(sc, spec->syn_scopes, spec->n_syn_scopes))) continue;
        if (!dedup_insert(s, i)) continue;
        s->syns[ns++] = (kz_onto_syn){txt, sc};
    }
    t.syns = s->syns;
    t.n_syns = (uint32_t)ns;
    size_t nstr = 0;
    static const uint32_t str_kinds[3] = {KZ_TI_XREF, KZ_TI_ALT, KZ_TI_PARENT};
    for (int k = 0; k < 3; k++) {
        size_t start = nstr;
        for (size_t i = 0; i < s->n_items; i++)
            if (s->items[i].kind == str_kinds[k] && dedup_insert(s, i))
                s->strs[nstr++] = item_text(s, &s->items[i]);
        const kz_str *base = s->strs ? s->strs + start : NULL; /* NULL + 0 is undefined */
        uint32_t cnt = (uint32_t)(nstr - start);
        if (k == 0) t.xrefs = base, t.n_xrefs = cnt;
        if (k == 1) t.alt_ids = base, t.n_alt_ids = cnt;
        if (k == 2) t.parents = base, t.n_parents = cnt;
    }
    size_t nkv = 0;
    for (size_t i = 0; i < s->n_items; i++)
        if (s->items[i].kind == KZ_TI_META && dedup_insert(s, i))
            s->kvs[nkv++] = (kz_onto_kv){item_scope(s, &s->items[i]), item_text(s, &s->items[i])};
    t.meta = s->kvs;
    t.n_meta = (uint32_t)nkv;

    int rc = s->emit(s->user, &t);
    if (rc < 0) {
        if (err && err->code == 0)
            kz__sink_fail(s, err, s->line, rc, "parse stopped by the consumer at %.*s",
                          (int)KZ_MIN(id.len, 200), id.ptr);
        return rc;
    }
    s->n_emitted++;
    return 0;
}

/* ---- column map -------------------------------------------------------------------------------- */

int kz__tab_read_header(kz_tab_reader *r, const kz_onto_sink *s, kz_tab_map *m, kz_error *err) {
    kz_error rec;
    kz_error_clear(&rec);
    int rc = kz__tab_next(r, &rec);
    if (rc <= 0) {
        if (rc == 0) return kz__sink_fail(s, err, r->lines, KZ_EFORMAT, "no header line");
        if (kz__tab_record_error(rc))
            return kz__sink_fail(s, err, rec.line, KZ_EFORMAT, "bad header: %s", rec.msg);
        if (err) *err = rec;
        return rc;
    }
    if ((rc = kz__tab_map_init(m, r->fields, r->n_fields)))
        return kz__sink_fail(s, err, r->line, rc, "out of memory");
    return 0;
}

int kz__tab_map_init(kz_tab_map *m, const kz_str *header, size_t n) {
    memset(m, 0, sizeof *m);
    m->merge = true;
    m->n_fields = n;
    m->names = calloc(n ? n : 1, sizeof *m->names);
    if (!m->names) return KZ_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        kz_str t = kz__tab_trim(header[i].ptr ? header[i].ptr : "", header[i].len);
        m->names[i] = strndup(t.ptr, t.len);
        if (!m->names[i]) return KZ_ENOMEM;
    }
    return 0;
}

void kz__tab_map_free(kz_tab_map *m) {
    if (m->names)
        for (size_t i = 0; i < m->n_fields; i++) free(m->names[i]);
    free(m->names);
    free(m->cols);
    for (size_t i = 0; i < m->n_filters; i++) regfree(&m->filters[i].re);
    free(m->filters);
    memset(m, 0, sizeof *m);
}

int kz__tab_map_find(const kz_tab_map *m, const char *name) {
    for (size_t i = 0; i < m->n_fields; i++)
        if (strcmp(m->names[i], name) == 0) return (int)i;
    return -1;
}

static int find_n(const kz_tab_map *m, const char *p, size_t n) {
    for (size_t i = 0; i < m->n_fields; i++)
        if (strlen(m->names[i]) == n && memcmp(m->names[i], p, n) == 0) return (int)i;
    return -1;
}

/* Resolve "a+b+c" (or a plain name) into c->idx. */
static bool resolve_join(const kz_tab_map *m, const char *p, size_t n, kz_tab_col *c) {
    int i = find_n(m, p, n);
    if (i >= 0) {
        c->idx[0] = i;
        c->n_idx = 1;
        return true;
    }
    c->n_idx = 0;
    while (n) {
        const char *e = memchr(p, '+', n);
        size_t len = e ? (size_t)(e - p) : n;
        if (c->n_idx == KZ_TAB_MAX_JOIN || (i = find_n(m, p, len)) < 0) return false;
        c->idx[c->n_idx++] = i;
        if (!e) return true;
        p += len + 1;
        n -= len + 1;
        if (!n) return false; /* trailing '+' */
    }
    return c->n_idx > 0;
}

static void list_header(const kz_tab_map *m, char *out, size_t cap) {
    size_t k = 0;
    out[0] = 0;
    for (size_t i = 0; i < m->n_fields && k + 1 < cap; i++) {
        int w = snprintf(out + k, cap - k, "%s'%s'", i ? ", " : "", m->names[i]);
        if (w < 0) break;
        k += (size_t)w;
    }
    if (k >= cap && cap > 4) memcpy(out + cap - 4, "...", 4);
}

int kz__tab_map_add(kz_tab_map *m, kz_col_role role, const char *ref, const char *list_sep, const char *scope,
                    bool required, const kz_onto_sink *s, kz_error *err) {
    kz_tab_col c;
    memset(&c, 0, sizeof c);
    c.role = role;
    c.scope_idx = -1;
    if (!ref || !*ref) return kz__sink_fail(s, err, 0, KZ_ECONFIG, "empty column name");
    const char *name = ref;
    size_t nlen = strlen(ref);
    bool ok = resolve_join(m, name, nlen, &c);
    if (!ok && role == KZ_COL_SYN) {
        const char *at = strrchr(ref, '@');
        if (at && at > ref) {
            int si = kz__tab_map_find(m, at + 1);
            if (si >= 0 && resolve_join(m, ref, (size_t)(at - ref), &c)) {
                c.scope_idx = si;
                ok = true;
            }
        }
    }
    if (!ok && (role == KZ_COL_XREF || role == KZ_COL_ALT || role == KZ_COL_PARENT)) {
        const char *colon = strrchr(ref, ':');
        if (colon && colon[1] && (size_t)(colon + 1 - ref) < sizeof c.prefix &&
            resolve_join(m, colon + 1, strlen(colon + 1), &c)) {
            memcpy(c.prefix, ref, (size_t)(colon + 1 - ref));
            c.prefix[colon + 1 - ref] = 0;
            ok = true;
        }
    }
    if (!ok) {
        if (!required) return KZ_ENOTFOUND;
        char hdr[400];
        list_header(m, hdr, sizeof hdr);
        return kz__sink_fail(s, err, 0, KZ_ECONFIG, "column '%s' not found in the header (columns: %s)", ref,
                             hdr);
    }
    snprintf(c.scope, sizeof c.scope, "%s", scope ? scope : ref);
    if (list_sep) {
        if (strlen(list_sep) >= sizeof c.list_sep)
            return kz__sink_fail(s, err, 0, KZ_ECONFIG, "list_sep '%s' is too long", list_sep);
        snprintf(c.list_sep, sizeof c.list_sep, "%s", list_sep);
    }
    if (m->n_cols == m->cap_cols) {
        size_t nc = m->cap_cols ? m->cap_cols * 2 : 16;
        kz_tab_col *ncols = realloc(m->cols, nc * sizeof *ncols);
        if (!ncols) return KZ_ENOMEM;
        m->cols = ncols;
        m->cap_cols = nc;
    }
    m->cols[m->n_cols++] = c;
    return 0;
}

int kz__tab_map_add_extras(kz_tab_map *m, const kz_onto_spec *spec, const char *list_sep,
                           const kz_onto_sink *s, kz_error *err) {
    int rc;
    if (!list_sep) list_sep = spec->list_sep;
    for (size_t i = 0; i < spec->n_syn_cols; i++)
        if ((rc = kz__tab_map_add(m, KZ_COL_SYN, spec->syn_cols[i], list_sep, NULL, true, s, err))) return rc;
    for (size_t i = 0; i < spec->n_xref_cols; i++)
        if ((rc = kz__tab_map_add(m, KZ_COL_XREF, spec->xref_cols[i], list_sep, NULL, true, s, err)))
            return rc;
    for (size_t i = 0; i < spec->n_meta_cols; i++)
        if ((rc = kz__tab_map_add(m, KZ_COL_META, spec->meta_cols[i], NULL, NULL, true, s, err))) return rc;
    return kz__tab_map_add_filters(m, spec, s, err);
}

static int col_value(kz_onto_sink *s, const kz_tab_col *c, const kz_str *cells, kz_str *out);

int kz__tab_map_add_filters(kz_tab_map *m, const kz_onto_spec *spec, const kz_onto_sink *s, kz_error *err) {
    if (!spec->n_row_filters || m->filters) return 0;
    m->filters = calloc(spec->n_row_filters, sizeof *m->filters);
    if (!m->filters) return kz__sink_fail(s, err, 0, KZ_ENOMEM, "out of memory");
    for (size_t i = 0; i < spec->n_row_filters; i++) {
        const char *f = spec->row_filters[i] ? spec->row_filters[i] : "";
        /* The first "=~" or "!~" splits column and ERE: column names hold neither, EREs may. */
        const char *op = NULL;
        for (const char *p = f; *p && !op; p++)
            if ((p[0] == '=' || p[0] == '!') && p[1] == '~') op = p;
        if (!op)
            return kz__sink_fail(s, err, 0, KZ_ECONFIG,
                                 "row filter '%s': expected 'COLUMN =~ ERE' or 'COLUMN !~ ERE'", f);
        kz_str col = kz__tab_trim(f, (size_t)(op - f));
        kz_str ere = kz__tab_trim(op + 2, strlen(op + 2));
        if (!col.len || !ere.len)
            return kz__sink_fail(s, err, 0, KZ_ECONFIG, "row filter '%s': empty column or expression", f);
        kz_tab_filter *tf = &m->filters[m->n_filters];
        kz_tab_col c;
        memset(&c, 0, sizeof c);
        if (!resolve_join(m, col.ptr, col.len, &c)) {
            char hdr[400];
            list_header(m, hdr, sizeof hdr);
            return kz__sink_fail(s, err, 0, KZ_ECONFIG,
                                 "row filter '%s': column '%.*s' not found (columns: %s)", f, (int)col.len,
                                 col.ptr, hdr);
        }
        memcpy(tf->idx, c.idx, sizeof tf->idx);
        tf->n_idx = c.n_idx;
        tf->negate = op[0] == '!';
        char *pat = strndup(ere.ptr, ere.len);
        if (!pat) return kz__sink_fail(s, err, 0, KZ_ENOMEM, "out of memory");
        int rc = regcomp(&tf->re, pat, REG_EXTENDED | REG_NOSUB);
        free(pat);
        if (rc) {
            char msg[160];
            regerror(rc, &tf->re, msg, sizeof msg);
            return kz__sink_fail(s, err, 0, KZ_ECONFIG, "row filter '%s': bad ERE: %s", f, msg);
        }
        m->n_filters++;
    }
    return 0;
}

bool kz__tab_map_keep_row(const kz_tab_map *m, kz_onto_sink *s, const kz_str *cells) {
    for (size_t i = 0; i < m->n_filters; i++) {
        const kz_tab_filter *f = &m->filters[i];
        kz_tab_col c;
        memset(&c, 0, sizeof c);
        memcpy(c.idx, f->idx, sizeof c.idx);
        c.n_idx = f->n_idx;
        kz_str v;
        if (col_value(s, &c, cells, &v)) return false; /* joined value over the cap: not a name */
        regmatch_t rm[1] = {{0, (regoff_t)v.len}};
        bool match = regexec(&f->re, v.ptr ? v.ptr : "", 1, rm, REG_STARTEND) == 0;
        if (match == f->negate) {
            s->n_filtered++;
            return false;
        }
    }
    return true;
}

int kz__tab_map_add_spec(kz_tab_map *m, const kz_onto_spec *spec, const kz_onto_sink *s, kz_error *err) {
    int rc;
    if (m->n_fields == 0) return kz__sink_fail(s, err, 0, KZ_EFORMAT, "the header has no columns");
    const char *idc = spec->id_col ? spec->id_col : m->names[0];
    if ((rc = kz__tab_map_add(m, KZ_COL_ID, idc, NULL, NULL, true, s, err))) return rc;
    if (spec->label_col && (rc = kz__tab_map_add(m, KZ_COL_LABEL, spec->label_col, NULL, NULL, true, s, err)))
        return rc;
    return kz__tab_map_add_extras(m, spec, NULL, s, err);
}

size_t kz__tab_split(const char *p, size_t n, char delim, kz_str *out, size_t cap) {
    size_t k = 0;
    while (k < cap) {
        const char *d = memchr(p, delim, n);
        size_t len = d ? (size_t)(d - p) : n;
        out[k++] = (kz_str){p, len};
        if (!d) break;
        p += len + 1;
        n -= len + 1;
    }
    return k;
}

/* The value of a column in a row: one cell, or the non-empty cells joined by a space (in scratch). */
static int col_value(kz_onto_sink *s, const kz_tab_col *c, const kz_str *cells, kz_str *out) {
    if (c->n_idx == 1) {
        kz_str v = cells[c->idx[0]];
        *out = kz__tab_trim(v.ptr ? v.ptr : "", v.len);
        return 0;
    }
    kz__buf_clear(&s->scratch);
    for (int j = 0; j < c->n_idx; j++) {
        kz_str v = cells[c->idx[j]];
        v = kz__tab_trim(v.ptr ? v.ptr : "", v.len);
        if (!v.len) continue;
        int rc = 0;
        if (s->scratch.len) rc = kz__buf_putc(&s->scratch, ' ');
        if (!rc) rc = kz__buf_append(&s->scratch, v.ptr, v.len);
        if (rc) return rc;
    }
    *out = (kz_str){s->scratch.data ? s->scratch.data : "", s->scratch.len};
    return 0;
}

static bool contains_ci(kz_str v, const char *needle) {
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= v.len; i++)
        if (strncasecmp(v.ptr + i, needle, k) == 0) return true;
    return false;
}

int kz__tab_map_row(const kz_tab_map *m, kz_onto_sink *s, const kz_str *cells, size_t n, int64_t line,
                    kz_error *err) {
    s->n_rows++;
    if (n != m->n_fields) {
        kz__sink_warn(s, line, KZ_EPARSE, "expected %zu fields, got %zu; row skipped", m->n_fields, n);
        return 0;
    }
    for (size_t c = 0; c < m->n_cols; c++) {
        const kz_tab_col *col = &m->cols[c];
        for (int j = -1; j < col->n_idx; j++) {
            int i = j < 0 ? col->scope_idx : col->idx[j];
            if (i < 0) continue;
            size_t bad;
            if (cells[i].ptr && !kz_utf8_valid(cells[i].ptr, cells[i].len, &bad)) {
                kz__sink_warn(s, line, KZ_EUTF8, "invalid UTF-8 in column '%s' (byte %zu); row skipped",
                              m->names[i], bad);
                return 0;
            }
        }
    }
    if (m->n_filters && !kz__tab_map_keep_row(m, s, cells)) return 0;
    const kz_tab_col *idc = NULL;
    for (size_t c = 0; c < m->n_cols && !idc; c++)
        if (m->cols[c].role == KZ_COL_ID) idc = &m->cols[c];
    if (!idc) return kz__sink_fail(s, err, line, KZ_ECONFIG, "no id column");
    kz_str id;
    int rc = col_value(s, idc, cells, &id);
    if (rc) return kz__sink_fail(s, err, line, rc, "out of memory");
    if (!id.len) {
        kz__sink_warn(s, line, KZ_EPARSE, "empty id in column '%s'; row skipped", idc->scope);
        return 0;
    }
    if (!(m->merge && kz__term_id_is(s, id.ptr, id.len))) {
        if ((rc = kz__term_end(s, err))) return rc;
        kz__term_begin(s, line);
        if ((rc = kz__term_set_id(s, id.ptr, id.len)))
            return kz__sink_fail(s, err, line, rc, "out of memory");
    }
    for (size_t c = 0; c < m->n_cols; c++) {
        const kz_tab_col *col = &m->cols[c];
        if (col == idc) continue;
        kz_str v;
        if ((rc = col_value(s, col, cells, &v))) return kz__sink_fail(s, err, line, rc, "out of memory");
        if (!v.len) continue;
        const char *sep = col->list_sep[0] ? col->list_sep : NULL;
        switch (col->role) {
        case KZ_COL_ID: break;
        case KZ_COL_LABEL:
            rc = kz__term_add(s, KZ_TI_LABEL, v.ptr, v.len, col->scope, strlen(col->scope), NULL);
            break;
        case KZ_COL_SYN: {
            kz_str sc = {col->scope, strlen(col->scope)};
            if (col->scope_idx >= 0) {
                kz_str x = cells[col->scope_idx];
                sc = kz__tab_trim(x.ptr ? x.ptr : "", x.len);
            }
            rc = kz__term_add_list(s, KZ_TI_SYN, v.ptr, v.len, sep, sc.len ? sc.ptr : NULL, sc.len, NULL);
            break;
        }
        case KZ_COL_XREF:
            rc = kz__term_add_list(s, KZ_TI_XREF, v.ptr, v.len, sep, NULL, 0, col->prefix);
            break;
        case KZ_COL_ALT: rc = kz__term_add_list(s, KZ_TI_ALT, v.ptr, v.len, sep, NULL, 0, col->prefix); break;
        case KZ_COL_PARENT:
            rc = kz__term_add_list(s, KZ_TI_PARENT, v.ptr, v.len, sep, NULL, 0, col->prefix);
            break;
        case KZ_COL_NS: rc = kz__term_add(s, KZ_TI_NS, v.ptr, v.len, NULL, 0, NULL); break;
        case KZ_COL_META:
            rc = kz__term_add(s, KZ_TI_META, v.ptr, v.len, col->scope, strlen(col->scope), NULL);
            break;
        case KZ_COL_STATUS:
            if (contains_ci(v, "withdrawn") || contains_ci(v, "obsolete")) kz__term_set_obsolete(s, true);
            break;
        }
        if (rc) return kz__sink_fail(s, err, line, rc, "out of memory");
    }
    return 0;
}

int kz__tab_run(kz_tab_reader *r, const kz_tab_map *m, kz_onto_sink *s, kz_tab_fix_fn fix, void *ctx,
                kz_error *err) {
    kz_error rec; /* cleared only after use: it is 1 KiB, and records are many */
    kz_error_clear(&rec);
    for (;;) {
        int rc = kz__tab_next(r, &rec);
        if (rc == 0) break;
        if (rc == 2) continue;
        if (kz__tab_record_error(rc)) {
            kz__sink_warn(s, rec.line, rc, "%s; record skipped", rec.msg);
            kz_error_clear(&rec);
            continue;
        }
        if (rc < 0) {
            if (err) *err = rec;
            return rc;
        }
        if (r->n_fields != m->n_fields && fix) fix(r, m, ctx);
        if ((rc = kz__tab_map_row(m, s, r->fields, r->n_fields, r->line, err))) return rc;
    }
    return kz__term_end(s, err);
}

/* ---- the generic parser ------------------------------------------------------------------------ */

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static char default_delim(const kz_onto_spec *spec) {
    if (spec->delimiter) return spec->delimiter;
    const char *p = spec->path ? spec->path : "";
    return ends_with(p, ".csv") || ends_with(p, ".csv.gz") ? ',' : '\t';
}

int kz__tabular_run(kz_tab_reader *r, const kz_onto_spec *spec, kz_onto_emit_fn emit, kz_onto_warn_fn warn,
                    void *user, uint64_t *n_warnings, kz_error *err) {
    kz_onto_sink s;
    kz_tab_map m;
    memset(&m, 0, sizeof m);
    r->delim = default_delim(spec);
    r->quote = spec->quote;
    r->comment = spec->comment;
    int rc = kz__sink_init(&s, spec, NULL, emit, warn, user, err);
    if (rc) goto done;
    for (int i = 0; i < spec->skip_lines; i++) {
        rc = kz__tab_skip_line(r, err);
        if (rc < 0) goto done;
        if (rc == 0) break;
    }
    /* The header (or, with no_header, the first row, which is kept as data). */
    kz_error rec;
    for (;;) {
        kz_error_clear(&rec);
        rc = kz__tab_next(r, &rec);
        if (!kz__tab_record_error(rc)) break;
        if (!spec->no_header) break;
        kz__sink_warn(&s, rec.line, rc, "%s; record skipped", rec.msg);
    }
    if (rc == 0) {
        rc = kz__sink_fail(&s, err, r->lines, KZ_EFORMAT, spec->no_header ? "no rows" : "no header line");
        goto done;
    }
    if (rc < 0) {
        if (err) *err = rec;
        if (kz__tab_record_error(rc))
            rc = kz__sink_fail(&s, err, rec.line, KZ_EFORMAT, "bad header: %s", rec.msg);
        goto done;
    }
    if (spec->no_header) {
        size_t n = r->n_fields;
        kz_str *names = calloc(n, sizeof *names);
        char(*buf)[24] = calloc(n, sizeof *buf);
        if (!names || !buf) {
            free(names);
            free(buf);
            rc = kz__sink_fail(&s, err, 0, KZ_ENOMEM, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            snprintf(buf[i], sizeof buf[i], "%zu", i);
            names[i] = kz_str_c(buf[i]);
        }
        rc = kz__tab_map_init(&m, names, n);
        free(names);
        free(buf);
    } else {
        rc = kz__tab_map_init(&m, r->fields, r->n_fields);
    }
    if (rc) {
        rc = kz__sink_fail(&s, err, r->line, rc, "out of memory");
        goto done;
    }
    if ((rc = kz__tab_map_add_spec(&m, spec, &s, err))) goto done;
    if (spec->no_header && (rc = kz__tab_map_row(&m, &s, r->fields, r->n_fields, r->line, err))) goto done;
    rc = kz__tab_run(r, &m, &s, NULL, NULL, err);
done:
    kz__tab_map_free(&m);
    return kz__sink_done(&s, rc, n_warnings);
}

int kz__onto_parse_tabular(const kz_onto_spec *spec, kz_onto_emit_fn emit, kz_onto_warn_fn warn, void *user,
                           uint64_t *n_warnings, kz_error *err) {
    if (n_warnings) *n_warnings = 0;
    kz_tab_reader r;
    int rc = kz__tab_open(&r, spec->path, 0, 0, 0, err);
    if (!rc) rc = kz__tabular_run(&r, spec, emit, warn, user, n_warnings, err);
    kz__tab_close(&r);
    return rc;
}

int kz__onto_parse_tab_mem(kz_onto_format f, const char *data, size_t len, const kz_onto_spec *spec,
                           kz_onto_emit_fn emit, kz_onto_warn_fn warn, void *user, uint64_t *n_warnings,
                           kz_error *err) {
    if (n_warnings) *n_warnings = 0;
    kz_tab_run_fn run = f == KZ_ONTO_TABULAR         ? kz__tabular_run
                        : f == KZ_ONTO_CTD_TSV       ? kz__ctd_run
                        : f == KZ_ONTO_DRUGBANK_CSV  ? kz__drugbank_run
                        : f == KZ_ONTO_HGNC_TSV      ? kz__hgnc_tsv_run
                        : f == KZ_ONTO_NCBI_TAXONOMY ? kz__taxonomy_run
                                                     : NULL;
    if (!run)
        return kz_error_set(err, KZ_EINVAL, "format %s is not a delimited-text format",
                            kz__onto_format_name(f));
    kz_tab_reader r;
    int rc = kz__tab_open_mem(&r, data, len, spec->path, 0, 0, 0, err);
    if (!rc) rc = run(&r, spec, emit, warn, user, n_warnings, err);
    kz__tab_close(&r);
    return rc;
}

int kz__onto_parse_tabular_mem(const char *data, size_t len, const kz_onto_spec *spec, kz_onto_emit_fn emit,
                               kz_onto_warn_fn warn, void *user, uint64_t *n_warnings, kz_error *err) {
    return kz__onto_parse_tab_mem(KZ_ONTO_TABULAR, data, len, spec, emit, warn, user, n_warnings, err);
}
