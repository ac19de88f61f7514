/* OBO 1.2/1.4 flat-file parser ([Term] stanzas -> kz_onto_term), plus the
 * record builder, filters and warnings shared by the OBO-family parsers. */
#include <stdarg.h>
#include <stdlib.h>
#include <strings.h>
#include "kb/onto_obo_int.h"
#include "io/io_int.h"
#include "kazu/utf8.h"

/* ---- record builder shared by the OBO-family parsers ----------------------- */

static bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static void locate(kz_onto_ctx *c, kz_error *e, int64_t line) {
    snprintf(e->path, sizeof e->path, "%s", c->path);
    e->line = line;
    e->column = 0;
    e->offset = -1;
}

static void warn_v(kz_onto_ctx *c, int code, int64_t line, const char *fmt, va_list ap) {
    c->n_warnings++;
    if (!c->warn) return;
    kz_error e;
    kz_error_clear(&e);
    vsnprintf(e.msg, sizeof e.msg, fmt, ap);
    e.code = code;
    locate(c, &e, line);
    c->warn(c->user, &e);
}

void kz__onto_warn(kz_onto_ctx *c, int code, int64_t line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    warn_v(c, code, line, fmt, ap);
    va_end(ap);
}

void kz__onto_rec_warn(kz_onto_ctx *c, int code, int64_t line, const char *fmt, ...) {
    if (c->in_rec && c->rec_bad) return; /* one warning per skipped record */
    c->rec_bad = true;
    va_list ap;
    va_start(ap, fmt);
    warn_v(c, code, line, fmt, ap);
    va_end(ap);
}

void kz__onto_unexpanded_entity(kz_onto_ctx *c, int64_t line, bool in_record, const char *name) {
    if (in_record)
        kz__onto_rec_warn(c, KZ_EPARSE, line, "entity reference &%.80s; is not expanded; record skipped",
                          name);
    else
        kz__onto_warn(c, KZ_EPARSE, line, "entity reference &%.80s; is not expanded; dropped", name);
}

int kz__onto_fail(kz_onto_ctx *c, kz_error *err, int code, int64_t line, const char *fmt, ...) {
    if (!err) return code;
    kz_error_clear(err);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = code;
    locate(c, err, line);
    return code;
}

int kz__onto_ctx_init(kz_onto_ctx *c, const kz_onto_spec *spec, const char *path, kz_onto_emit_fn emit,
                      kz_onto_warn_fn warn, void *user, kz_error *err) {
    memset(c, 0, sizeof *c);
    c->spec = spec;
    c->emit = emit;
    c->warn = warn;
    c->user = user;
    c->id_prefix = spec->id_prefix;
    c->ns_verdict = -1;
    snprintf(c->path, sizeof c->path, "%s", path ? path : spec->path ? spec->path : "<memory>");
    if (spec->id_regex) {
        int rc = regcomp(&c->re, spec->id_regex, REG_EXTENDED | REG_NOSUB);
        if (rc) {
            char why[128];
            regerror(rc, &c->re, why, sizeof why);
            return kz__onto_fail(c, err, KZ_ECONFIG, 0, "%s: bad id_regex \"%.100s\": %s",
                                 spec->name ? spec->name : "ontology", spec->id_regex, why);
        }
        c->have_re = true;
    }
    c->arena = kz_arena_new(64 * 1024);
    if (!c->arena) {
        if (c->have_re) regfree(&c->re);
        c->have_re = false;
        return kz__onto_fail(c, err, KZ_ENOMEM, 0, "out of memory");
    }
    return 0;
}

void kz__onto_ctx_free(kz_onto_ctx *c) {
    if (c->have_re) regfree(&c->re);
    kz_arena_free(c->arena);
    free(c->syns.data);
    free(c->xrefs.data);
    free(c->alt_ids.data);
    free(c->parents.data);
    free(c->meta.data);
    memset(c, 0, sizeof *c);
}

void kz__onto_rec_begin(kz_onto_ctx *c, int64_t line) {
    kz_arena_reset(c->arena);
    c->rec_bytes = 0;
    c->in_rec = true;
    c->rec_bad = false;
    memset(&c->t, 0, sizeof c->t);
    c->t.line = line;
    c->syns.n = c->xrefs.n = c->alt_ids.n = c->parents.n = c->meta.n = 0;
    c->ns_verdict = -1;
}

/* Append one item; KZ_ELIMIT past the per-record cap. */
static int vec_push(kz_onto_vec *v, size_t size, const void *item) {
    if (v->n == v->cap) {
        if (v->cap >= KZ_ONTO_MAX_ITEMS) return KZ_ELIMIT;
        uint32_t nc = v->cap ? v->cap * 2 : 16;
        if (nc > KZ_ONTO_MAX_ITEMS) nc = KZ_ONTO_MAX_ITEMS;
        void *d = realloc(v->data, (size_t)nc * size);
        if (!d) return KZ_ENOMEM;
        v->data = d;
        v->cap = nc;
    }
    memcpy((char *)v->data + (size_t)v->n * size, item, size);
    v->n++;
    return 0;
}

/* Copy pre + s into the record's arena after validating it. ok=false: the
 * record was marked bad (warning given); the return value is 0 or KZ_ENOMEM. */
static int rec_copy(kz_onto_ctx *c, const char *pre, size_t plen, const char *s, size_t len, kz_str *out) {
    *out = KZ_STR_NULL;
    if (!kz_utf8_valid(s, len, NULL)) {
        kz__onto_rec_warn(c, KZ_EUTF8, c->t.line, "invalid UTF-8 in record; skipped");
        return 0;
    }
    if (memchr(s, 0, len)) {
        kz__onto_rec_warn(c, KZ_EPARSE, c->t.line, "NUL byte in record; skipped");
        return 0;
    }
    if (len > KZ_ONTO_MAX_RECORD || plen + len + 1 > KZ_ONTO_MAX_RECORD - c->rec_bytes) {
        kz__onto_rec_warn(c, KZ_ELIMIT, c->t.line, "record larger than %u bytes; skipped",
                          KZ_ONTO_MAX_RECORD);
        return 0;
    }
    char *p = kz_arena_alloc(c->arena, plen + len + 1);
    if (!p) return KZ_ENOMEM;
    if (plen) memcpy(p, pre, plen);
    if (len) memcpy(p + plen, s, len);
    p[plen + len] = 0;
    c->rec_bytes += plen + len + 1;
    *out = (kz_str){p, plen + len};
    return 0;
}

static int rec_push(kz_onto_ctx *c, kz_onto_vec *v, size_t size, const void *item) {
    int rc = vec_push(v, size, item);
    if (rc == KZ_ELIMIT) {
        kz__onto_rec_warn(c, KZ_ELIMIT, c->t.line, "more than %u values of one kind in a record; skipped",
                          KZ_ONTO_MAX_ITEMS);
        return 0;
    }
    return rc;
}

int kz__onto_rec_str(kz_onto_ctx *c, kz_onto_field f, const char *s, size_t len) {
    if (!c->in_rec || c->rec_bad || len == 0) return 0;
    if ((f == KZ_OF_LABEL && c->t.label.ptr) || (f == KZ_OF_NS && c->t.ns.ptr) ||
        (f == KZ_OF_ID && c->t.id.ptr))
        return 0; /* the first one wins */
    bool pre = (f == KZ_OF_ID || f == KZ_OF_ALT_ID || f == KZ_OF_PARENT) && c->id_prefix;
    kz_str v;
    int rc = rec_copy(c, pre ? c->id_prefix : NULL, pre ? strlen(c->id_prefix) : 0, s, len, &v);
    if (rc || !v.ptr) return rc;
    switch (f) {
    case KZ_OF_ID: c->t.id = v; return 0;
    case KZ_OF_LABEL: c->t.label = v; return 0;
    case KZ_OF_NS: c->t.ns = v; return 0;
    case KZ_OF_XREF: return rec_push(c, &c->xrefs, sizeof v, &v);
    case KZ_OF_ALT_ID: return rec_push(c, &c->alt_ids, sizeof v, &v);
    case KZ_OF_PARENT: return rec_push(c, &c->parents, sizeof v, &v);
    }
    return 0;
}

int kz__onto_rec_syn(kz_onto_ctx *c, const char *s, size_t len, const char *scope, size_t scope_len) {
    if (!c->in_rec || c->rec_bad || len == 0) return 0;
    kz_onto_syn syn = {KZ_STR_NULL, KZ_STR_NULL};
    int rc = rec_copy(c, NULL, 0, s, len, &syn.text);
    if (rc || !syn.text.ptr) return rc;
    if (scope) {
        rc = rec_copy(c, NULL, 0, scope, scope_len, &syn.scope);
        if (rc || !syn.scope.ptr) return rc;
    }
    return rec_push(c, &c->syns, sizeof syn, &syn);
}

int kz__onto_rec_meta(kz_onto_ctx *c, const char *key, const char *value, size_t len) {
    if (!c->in_rec || c->rec_bad) return 0;
    kz_onto_kv kv;
    int rc = rec_copy(c, NULL, 0, key, strlen(key), &kv.key);
    if (rc || !kv.key.ptr) return rc;
    rc = rec_copy(c, NULL, 0, value, len, &kv.value);
    if (rc || !kv.value.ptr) return rc;
    return rec_push(c, &c->meta, sizeof kv, &kv);
}

bool kz__onto_ns_wanted(const kz_onto_ctx *c, const char *ns, size_t len, bool prefix) {
    const kz_onto_spec *s = c->spec;
    if (!s->n_namespaces) return true;
    for (size_t i = 0; i < s->n_namespaces; i++) {
        const char *w = s->namespaces[i];
        if (!w) continue;
        size_t wl = strlen(w);
        if (wl == len ? memcmp(w, ns, len) == 0 : prefix && wl < len && memcmp(w, ns, wl) == 0) return true;
    }
    return false;
}

static bool scope_wanted(const kz_onto_spec *s, kz_str scope) {
    if (!s->n_syn_scopes) return true;
    if (!scope.ptr) return false;
    for (size_t i = 0; i < s->n_syn_scopes; i++) {
        const char *w = s->syn_scopes[i];
        if (w && strlen(w) == scope.len && strncasecmp(w, scope.ptr, scope.len) == 0) return true;
    }
    return false;
}

int kz__onto_rec_end(kz_onto_ctx *c) {
    if (!c->in_rec) return 0;
    c->in_rec = false;
    c->n_records++;
    if (c->rec_bad) return 0;
    kz_onto_term *t = &c->t;
    if (!t->id.ptr) {
        kz__onto_warn(c, KZ_EPARSE, t->line, "record without an id; skipped");
        return 0;
    }
    if (t->obsolete && !c->spec->include_obsolete) return 0;
    if (c->spec->n_namespaces) {
        bool keep = c->ns_verdict >= 0 ? c->ns_verdict == 1
                                       : t->ns.ptr && kz__onto_ns_wanted(c, t->ns.ptr, t->ns.len, false);
        if (!keep) return 0;
    }
    if (c->have_re && regexec(&c->re, t->id.ptr, 0, NULL, 0) != 0) return 0;
    kz_onto_syn *syns = c->syns.data;
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->syns.n; i++)
        if (scope_wanted(c->spec, syns[i].scope)) syns[n++] = syns[i];
    t->syns = syns;
    t->n_syns = n;
    t->xrefs = c->xrefs.data;
    t->n_xrefs = c->xrefs.n;
    t->alt_ids = c->alt_ids.data;
    t->n_alt_ids = c->alt_ids.n;
    t->parents = c->parents.data;
    t->n_parents = c->parents.n;
    t->meta = c->meta.data;
    t->n_meta = c->meta.n;
    int rc = c->emit(c->user, t);
    if (rc < 0) return rc;
    c->n_emitted++;
    return 0;
}

static bool has_prefix(const char *s, size_t len, const char *p, size_t *plen) {
    size_t n = strlen(p);
    if (len < n || memcmp(s, p, n) != 0) return false;
    *plen = n;
    return true;
}

int kz__onto_iri_to_curie(const char *iri, size_t len, kz_buf *out) {
    static const struct {
        const char *base;
        const char *fixed; /* CURIE prefix to use, or NULL: the part before '_' */
    } bases[] = {
        {"http://purl.obolibrary.org/obo/", NULL},
        {"https://purl.obolibrary.org/obo/", NULL},
        {"http://www.ebi.ac.uk/efo/", NULL},
        {"http://www.orpha.net/ORDO/", NULL},
    };
    kz__buf_clear(out);
    for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
        size_t bl;
        if (!has_prefix(iri, len, bases[i].base, &bl)) continue;
        const char *r = iri + bl;
        size_t rl = len - bl;
        const char *us = memchr(r, '_', rl);
        if (!us || us == r || us == r + rl - 1) break;
        bool ok = true; /* PREFIX_LOCAL with id-like characters only */
        for (size_t k = 0; k < rl && ok; k++) {
            char ch = r[k];
            ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                 ch == '_' || (r + k > us && (ch == '.' || ch == '-'));
        }
        if (!ok) break;
        int rc = kz__buf_append(out, r, (size_t)(us - r));
        if (!rc) rc = kz__buf_putc(out, ':');
        if (!rc) rc = kz__buf_append(out, us + 1, rl - (size_t)(us - r) - 1);
        return rc;
    }
    int rc = kz__buf_append(out, iri, len);
    if (!rc && !out->data) rc = kz__buf_reserve(out, 1);
    if (!rc) out->data[out->len] = 0;
    return rc;
}

/* ---- OBO flat files -------------------------------------------------------- */

typedef struct obo_state {
    kz_onto_ctx c;
    kz_input in;
    kz_buf line, tmp;
    kz_buf default_ns;
    bool in_term;      /* inside a [Term] stanza (others are skipped) */
    bool seen_content; /* a tag line or stanza header was seen */
    bool bad_id_line;  /* the stanza's id line was malformed */
} obo_state;

static kz_str trim(const char *s, size_t n) {
    while (n && is_space(*s)) s++, n--;
    while (n && is_space(s[n - 1])) n--;
    return (kz_str){s, n};
}

/* The end of a tag's value once a trailing "! comment" and "{qualifier=..}"
 * block are cut off. quoted: the value holds "..." strings whose content is
 * not scanned (synonym, def, xref descriptions). A '!' or '{' counts only
 * unescaped, outside quotes and after whitespace; a brace block only if it
 * is last and holds a '=' (so names like "foo {bar}" stay whole). */
static size_t value_end(const char *s, size_t n, bool quoted) {
    bool inq = false;
    int depth = 0;
    size_t end = n, bstart = SIZE_MAX, bend = SIZE_MAX;
    bool beq = false, cand = false;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '\\') {
            i++;
            if (depth == 0 && cand && bend != SIZE_MAX) cand = false;
            continue;
        }
        if (ch == '"' && (quoted || depth > 0)) {
            inq = !inq;
            if (depth == 0) cand = false;
            continue;
        }
        if (inq) continue;
        if (depth > 0) {
            if (ch == '{')
                depth++;
            else if (ch == '}' && --depth == 0)
                bend = i + 1;
            else if (ch == '=')
                beq = true;
            continue;
        }
        if (ch == '!' && (i == 0 || is_space(s[i - 1]))) {
            end = i;
            break;
        }
        if (ch == '{' && i > 0 && is_space(s[i - 1])) {
            depth = 1;
            bstart = i;
            bend = SIZE_MAX;
            beq = false;
            cand = true;
            continue;
        }
        if (!is_space(ch)) cand = false; /* something after a brace block: it was part of the value */
    }
    if (depth == 0 && cand && beq && bend != SIZE_MAX && bend <= end) end = bstart;
    return end;
}

/* Append s with OBO escapes resolved (\n \t \W and \<char> -> char). */
static int unescape(kz_buf *b, const char *s, size_t n) {
    kz__buf_clear(b);
    int rc = kz__buf_reserve(b, n + 1);
    if (rc) return rc;
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '\\' && i + 1 < n) {
            ch = s[++i];
            if (ch == 'n')
                ch = '\n';
            else if (ch == 't')
                ch = '\t';
            else if (ch == 'W')
                ch = ' ';
        }
        b->data[b->len++] = ch;
    }
    b->data[b->len] = 0;
    return 0;
}

/* The first whitespace-delimited token (escapes honoured), unescaped into b. */
static int first_token(kz_buf *b, const char *s, size_t n) {
    size_t i = 0;
    while (i < n && !is_space(s[i])) i += (s[i] == '\\' && i + 1 < n) ? 2 : 1;
    if (i > n) i = n;
    return unescape(b, s, i);
}

static bool tag_is(kz_str tag, const char *name) {
    return tag.len == strlen(name) && !memcmp(tag.ptr, name, tag.len);
}

/* A synonym value: "text" [SCOPE] [TYPE] [xrefs]. scope_from_tag for the
 * OBO 1.0 exact_synonym/... tags. */
static int obo_synonym(obo_state *s, int64_t ln, kz_str v, const char *scope_from_tag) {
    kz_onto_ctx *c = &s->c;
    v = trim(v.ptr, value_end(v.ptr, v.len, true));
    if (!v.len || v.ptr[0] != '"') {
        kz__onto_warn(c, KZ_EPARSE, ln, "synonym without a quoted text; line skipped");
        return 0;
    }
    size_t i = 1;
    while (i < v.len && v.ptr[i] != '"') i += v.ptr[i] == '\\' ? 2 : 1;
    if (i >= v.len) {
        kz__onto_warn(c, KZ_EPARSE, ln, "unterminated quote in synonym; line skipped");
        return 0;
    }
    int rc = unescape(&s->tmp, v.ptr + 1, i - 1);
    if (rc) return rc;
    kz_str rest = trim(v.ptr + i + 1, v.len - i - 1);
    const char *scope = scope_from_tag;
    if (!scope) {
        size_t w = 0;
        while (w < rest.len && !is_space(rest.ptr[w]) && rest.ptr[w] != '[') w++;
        kz_str word = {rest.ptr, w};
        static const char *const scopes[] = {"EXACT", "RELATED", "NARROW", "BROAD"};
        if (w == 0) scope = "RELATED"; /* OBO: no scope means RELATED */
        for (size_t k = 0; k < 4 && !scope; k++)
            if (tag_is(word, scopes[k])) scope = scopes[k];
        if (!scope) {
            kz__onto_warn(c, KZ_EPARSE, ln, "unknown synonym scope \"%.*s\"; line skipped",
                          (int)KZ_MIN(word.len, KZ_ONTO_MAX_WARNMSG), word.ptr);
            return 0;
        }
    }
    kz_str text = trim(s->tmp.data, s->tmp.len);
    return kz__onto_rec_syn(c, text.ptr, text.len, scope, strlen(scope));
}

/* One "tag: value" line inside a [Term] stanza. */
static int obo_term_tag(obo_state *s, int64_t ln, kz_str tag, kz_str v) {
    kz_onto_ctx *c = &s->c;
    int rc;
    if (tag_is(tag, "synonym")) return obo_synonym(s, ln, v, NULL);
    if (tag_is(tag, "exact_synonym")) return obo_synonym(s, ln, v, "EXACT");
    if (tag_is(tag, "related_synonym")) return obo_synonym(s, ln, v, "RELATED");
    if (tag_is(tag, "narrow_synonym")) return obo_synonym(s, ln, v, "NARROW");
    if (tag_is(tag, "broad_synonym")) return obo_synonym(s, ln, v, "BROAD");
    bool quoted = tag_is(tag, "xref") || tag_is(tag, "xref_analog") || tag_is(tag, "xref_unk");
    kz_onto_field f;
    if (tag_is(tag, "id"))
        f = KZ_OF_ID;
    else if (tag_is(tag, "name"))
        f = KZ_OF_LABEL;
    else if (tag_is(tag, "namespace"))
        f = KZ_OF_NS;
    else if (tag_is(tag, "alt_id"))
        f = KZ_OF_ALT_ID;
    else if (tag_is(tag, "is_a"))
        f = KZ_OF_PARENT;
    else if (quoted)
        f = KZ_OF_XREF;
    else if (tag_is(tag, "is_obsolete")) {
        kz_str b = trim(v.ptr, value_end(v.ptr, v.len, false));
        if (tag_is(b, "true")) c->t.obsolete = true;
        return 0;
    } else
        return 0; /* def, comment, relationship, ... are not kept */
    v = trim(v.ptr, value_end(v.ptr, v.len, quoted));
    if (f == KZ_OF_LABEL)
        rc = unescape(&s->tmp, v.ptr, v.len);
    else
        rc = first_token(&s->tmp, v.ptr, v.len);
    if (rc) return rc;
    kz_str val = trim(s->tmp.data, s->tmp.len);
    if (f == KZ_OF_ID) {
        if (!val.len) {
            kz__onto_rec_warn(c, KZ_EPARSE, ln, "empty id; stanza skipped");
            return 0;
        }
        if (c->t.id.ptr) {
            kz__onto_warn(c, KZ_EPARSE, ln, "second id in a stanza ignored");
            return 0;
        }
    }
    return kz__onto_rec_str(c, f, val.ptr, val.len);
}

static int obo_end_stanza(obo_state *s) {
    if (!s->in_term) return 0;
    s->in_term = false;
    kz_onto_ctx *c = &s->c;
    if (!c->t.ns.ptr && s->default_ns.len) {
        int rc = kz__onto_rec_str(c, KZ_OF_NS, s->default_ns.data, s->default_ns.len);
        if (rc) return rc;
    }
    return kz__onto_rec_end(c);
}

/* Split "tag: value"; false if the line is not of that shape. */
static bool split_tag(kz_str l, kz_str *tag, kz_str *val) {
    size_t i = 0;
    while (i < l.len && i <= 64) {
        char ch = l.ptr[i];
        if (ch == ':') break;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
              ch == '-' || ch == '.'))
            return false;
        i++;
    }
    if (i == 0 || i >= l.len || l.ptr[i] != ':') return false;
    *tag = (kz_str){l.ptr, i};
    *val = trim(l.ptr + i + 1, l.len - i - 1);
    return true;
}

static int obo_line(obo_state *s, int64_t ln, kz_error *err) {
    kz_onto_ctx *c = &s->c;
    kz_str l = trim(s->line.data, s->line.len);
    if (ln == 1 && l.len >= 3 && !memcmp(l.ptr, "\xef\xbb\xbf", 3)) l = trim(l.ptr + 3, l.len - 3); /* BOM */
    if (!l.len || l.ptr[0] == '!') return 0;
    if (l.ptr[0] == '[') {
        int rc = obo_end_stanza(s);
        if (rc) return rc;
        s->seen_content = true;
        const char *close = memchr(l.ptr, ']', l.len);
        kz_str name = close ? trim(l.ptr + 1, (size_t)(close - l.ptr) - 1) : KZ_STR_NULL;
        if (name.ptr && tag_is(name, "Term")) {
            s->in_term = true;
            kz__onto_rec_begin(c, ln);
        } else if (!close) {
            kz__onto_warn(c, KZ_EPARSE, ln, "malformed stanza header; stanza skipped");
        }
        return 0;
    }
    kz_str tag, val;
    bool is_tag = split_tag(l, &tag, &val);
    if (!s->seen_content && !is_tag)
        return kz__onto_fail(c, err, KZ_EFORMAT, ln,
                             "not an OBO file (expected \"tag: value\" or a [stanza])");
    s->seen_content = true;
    if (!is_tag) {
        kz__onto_warn(c, KZ_EPARSE, ln, "not a \"tag: value\" line; line skipped");
        return 0;
    }
    bool header = !s->in_term && tag_is(tag, "default-namespace");
    if (!s->in_term && !header) return 0; /* other header, [Typedef] and [Instance] lines */
    if (!kz_utf8_valid(l.ptr, l.len, NULL) || memchr(l.ptr, 0, l.len)) {
        if (s->in_term && tag_is(tag, "id"))
            kz__onto_rec_warn(c, KZ_EUTF8, ln, "invalid UTF-8 in the id line; stanza skipped");
        else
            kz__onto_warn(c, KZ_EUTF8, ln, "invalid UTF-8; line skipped");
        return 0;
    }
    if (header) {
        if (s->default_ns.len) return 0;
        kz_str v = trim(val.ptr, value_end(val.ptr, val.len, false));
        int rc = first_token(&s->tmp, v.ptr, v.len);
        if (!rc) rc = kz__buf_append(&s->default_ns, s->tmp.data, s->tmp.len);
        if (rc == KZ_ELIMIT) {
            kz__buf_clear(&s->default_ns);
            kz__onto_warn(c, KZ_ELIMIT, ln, "default-namespace too long; ignored");
            rc = 0;
        }
        return rc;
    }
    return obo_term_tag(s, ln, tag, val);
}

static int obo_run(obo_state *s, uint64_t *n_warnings, kz_error *err) {
    kz_onto_ctx *c = &s->c;
    int rc = 0;
    for (;;) {
        int g = kz__input_getline(&s->in, &s->line, KZ_ONTO_MAX_LINE);
        int64_t ln = s->in.line;
        if (g == 0) break;
        if (g == KZ_ELIMIT) {
            kz__onto_warn(c, KZ_ELIMIT, ln, "line longer than %u bytes; skipped", KZ_ONTO_MAX_LINE);
            continue;
        }
        if (g < 0) {
            rc = g == KZ_ENOMEM
                     ? kz__onto_fail(c, err, g, ln, "out of memory")
                     : kz__onto_fail(c, err, KZ_EIO, ln, "%s", s->in.errmsg[0] ? s->in.errmsg : "read error");
            break;
        }
        rc = obo_line(s, ln, err);
        if (rc) break;
    }
    if (!rc) rc = obo_end_stanza(s);
    if (rc && err && !err->code) {
        if (rc == KZ_ENOMEM)
            kz__onto_fail(c, err, rc, s->in.line, "out of memory");
        else
            kz__onto_fail(c, err, rc, s->in.line, "parse aborted by the consumer");
    }
    if (n_warnings) *n_warnings = c->n_warnings;
    return rc;
}

static void obo_free(obo_state *s) {
    kz__input_close(&s->in);
    kz__buf_free(&s->line);
    kz__buf_free(&s->tmp);
    kz__buf_free(&s->default_ns);
    kz__onto_ctx_free(&s->c);
}

static int obo_parse(const char *data, size_t len, const kz_onto_spec *spec, kz_onto_emit_fn emit,
                     kz_onto_warn_fn warn, void *user, uint64_t *n_warnings, kz_error *err) {
    if (n_warnings) *n_warnings = 0;
    if (err) kz_error_clear(err);
    if (!spec || !emit || (!data && !spec->path))
        return kz_error_set(err, KZ_EINVAL, "OBO parse: missing spec, input or emit");
    obo_state *s = calloc(1, sizeof *s);
    if (!s) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    kz__buf_init(&s->line, 0);
    kz__buf_init(&s->tmp, 0);
    kz__buf_init(&s->default_ns, 4096);
    int rc = kz__onto_ctx_init(&s->c, spec, NULL, emit, warn, user, err);
    if (rc) {
        free(s);
        return rc;
    }
    s->in.fd = -1;
    if (data)
        rc = kz__input_open_mem(&s->in, data, len);
    else
        rc = kz__input_open_path(&s->in, spec->path, err);
    if (rc) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err && err->msg[0] ? err->msg : "cannot open input");
        kz__onto_fail(&s->c, err, rc, 0, "%s", why);
    } else {
        rc = obo_run(s, n_warnings, err);
    }
    obo_free(s);
    free(s);
    return rc;
}

int kz__onto_parse_obo(const kz_onto_spec *spec, kz_onto_emit_fn emit, kz_onto_warn_fn warn, void *user,
                       uint64_t *n_warnings, kz_error *err) {
    return obo_parse(NULL, 0, spec, emit, warn, user, n_warnings, err);
}

int kz__onto_parse_obo_mem(const char *data, size_t len, const kz_onto_spec *spec, kz_onto_emit_fn emit,
                           kz_onto_warn_fn warn, void *user, uint64_t *n_warnings, kz_error *err) {
    if (!data && len) return kz_error_set(err, KZ_EINVAL, "OBO parse: NULL data");
    return obo_parse(data ? data : "", len, spec, emit, warn, user, n_warnings, err);
}
