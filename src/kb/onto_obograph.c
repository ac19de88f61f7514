/* OBO Graphs JSON parser (mondo.json shape). The document is streamed, never
 * loaded whole: a small scanner walks graphs[].nodes[] / edges[] and hands
 * each element, alone, to jansson. Two passes: is_a edges first (kept in a
 * hash map), then nodes, so memory is the parent map plus the largest node. */
#include <jansson.h>
#include <stdlib.h>
#include "kb/onto_obo_int.h"
#include "io/io_int.h"

#define OG_CHUNK     (256 * 1024)
#define OG_MAX_DEPTH 1024
#define OG_MAX_EDGES (64u << 20) /* is_a edges kept; more are a warning */

/* ---- byte scanner over kz_input with optional capture ---------------------- */
typedef struct jscan {
    kz_input in;
    unsigned char *buf;
    size_t len, pos;
    bool eof;
    int err; /* sticky I/O or memory error */
    int64_t line;
    kz_buf *cap; /* capture target (NULL: none) */
    size_t cap_from, cap_limit;
    bool cap_over;
} jscan;

static void js_flush(jscan *j, size_t upto) {
    if (!j->cap) return;
    size_t n = upto - j->cap_from;
    if (!j->cap_over && n) {
        if (j->cap->len + n > j->cap_limit)
            j->cap_over = true;
        else if (kz__buf_append(j->cap, j->buf + j->cap_from, n))
            j->err = KZ_ENOMEM;
    }
    j->cap_from = upto;
}

static bool js_fill(jscan *j) {
    if (j->eof || j->err) return false;
    js_flush(j, j->len);
    ptrdiff_t n = kz__input_read(&j->in, j->buf, OG_CHUNK);
    j->pos = j->len = 0;
    j->cap_from = 0;
    if (n < 0) j->err = KZ_EIO;
    if (n <= 0) {
        j->eof = true;
        return false;
    }
    j->len = (size_t)n;
    return true;
}

static inline int js_peek(jscan *j) {
    if (j->pos == j->len && !js_fill(j)) return -1;
    return j->buf[j->pos];
}

static inline int js_get(jscan *j) {
    if (j->pos == j->len && !js_fill(j)) return -1;
    int c = j->buf[j->pos++];
    if (c == '\n') j->line++;
    return c;
}

static int js_ws(jscan *j) {
    for (;;) {
        int c = js_peek(j);
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return c;
        js_get(j);
    }
}

/* ---- state ------------------------------------------------------------------ */
typedef struct og_parent {
    const char *id;
    uint32_t len, next; /* next: index + 1 in parents, 0 = end */
} og_parent;

typedef struct og_slot {
    const char *key;
    uint32_t klen, head, tail; /* head/tail: index + 1 in parents */
} og_slot;

typedef struct og_state {
    kz_onto_ctx c;
    jscan j;
    const char *data; /* memory input, or NULL for spec->path */
    size_t data_len;
    int pass; /* 1: edges, 2: nodes */
    kz_buf elem, curie, curie2;
    int64_t elem_line;
    char why[200]; /* reason of a structural error */
    /* is_a map: sub CURIE -> parents */
    kz_arena *map_arena;
    og_slot *slots;
    size_t n_slots, n_used;
    og_parent *parents;
    size_t n_parents, cap_parents;
    bool edges_capped;
} og_state;

static uint64_t hash_str(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static og_slot *map_find(og_state *s, const char *k, size_t n) {
    if (!s->n_slots) return NULL;
    size_t m = s->n_slots - 1;
    for (size_t i = hash_str(k, n) & m;; i = (i + 1) & m) {
        og_slot *sl = &s->slots[i];
        if (!sl->key) return sl;
        if (sl->klen == n && !memcmp(sl->key, k, n)) return sl;
    }
}

static int map_grow(og_state *s) {
    size_t nn = s->n_slots ? s->n_slots * 2 : 1024;
    og_slot *old = s->slots;
    size_t on = s->n_slots;
    s->slots = calloc(nn, sizeof *s->slots);
    if (!s->slots) {
        s->slots = old;
        return KZ_ENOMEM;
    }
    s->n_slots = nn;
    for (size_t i = 0; i < on; i++)
        if (old[i].key) *map_find(s, old[i].key, old[i].klen) = old[i];
    free(old);
    return 0;
}

static int map_add(og_state *s, const char *sub, size_t sn, const char *obj, size_t on) {
    if (sn > UINT32_MAX / 2 || on > UINT32_MAX / 2) return 0;
    if (s->n_parents >= OG_MAX_EDGES) {
        if (!s->edges_capped)
            kz__onto_warn(&s->c, KZ_ELIMIT, s->elem_line, "more than %u is_a edges; the rest are ignored",
                          OG_MAX_EDGES);
        s->edges_capped = true;
        return 0;
    }
    if ((s->n_used + 1) * 2 > s->n_slots) {
        int rc = map_grow(s);
        if (rc) return rc;
    }
    og_slot *sl = map_find(s, sub, sn);
    for (uint32_t p = sl->key ? sl->head : 0; p; p = s->parents[p - 1].next)
        if (s->parents[p - 1].len == on && !memcmp(s->parents[p - 1].id, obj, on)) return 0;
    if (s->n_parents == s->cap_parents) {
        size_t nc = s->cap_parents ? s->cap_parents * 2 : 1024;
        og_parent *np = realloc(s->parents, nc * sizeof *np);
        if (!np) return KZ_ENOMEM;
        s->parents = np;
        s->cap_parents = nc;
    }
    kz_str o = kz_arena_strdup(s->map_arena, obj, on);
    if (!o.ptr) return KZ_ENOMEM;
    if (!sl->key) {
        kz_str k = kz_arena_strdup(s->map_arena, sub, sn);
        if (!k.ptr) return KZ_ENOMEM;
        sl->key = k.ptr;
        sl->klen = (uint32_t)sn;
        s->n_used++;
    }
    s->parents[s->n_parents] = (og_parent){o.ptr, (uint32_t)on, 0};
    uint32_t idx = (uint32_t)++s->n_parents;
    if (sl->tail)
        s->parents[sl->tail - 1].next = idx;
    else
        sl->head = idx;
    sl->tail = idx;
    return 0;
}

/* ---- structure walk -------------------------------------------------------- */
static int syntax(og_state *s, const char *what) {
    if (s->j.err) return s->j.err;
    snprintf(s->why, sizeof s->why, "%s", what);
    return KZ_EPARSE;
}

/* Bytes that end a run the scanner may skip in bulk (newlines are counted). */
static const unsigned char k_in_container[256] = {
    ['"'] = 1, ['{'] = 1, ['}'] = 1, ['['] = 1, [']'] = 1, ['\n'] = 1};
static const unsigned char k_in_string[256] = {['"'] = 1, ['\\'] = 1, ['\n'] = 1};

/* Advance over bytes of the current chunk that are not special. */
static inline void skip_plain(jscan *j, const unsigned char *special) {
    const unsigned char *p = j->buf + j->pos, *e = j->buf + j->len;
    while (p < e && !special[*p]) p++;
    j->pos = (size_t)(p - j->buf);
}

/* Consume one JSON value (capturing it when j->cap is set). Containers are
 * checked for balance; their content is left to jansson (or skipped). */
static int js_value(og_state *s) {
    jscan *j = &s->j;
    char stack[OG_MAX_DEPTH];
    int depth = 0;
    int c = js_ws(j);
    if (c < 0) return syntax(s, "unexpected end of input");
    if (c == ',' || c == ']' || c == '}' || c == ':') return syntax(s, "expected a value");
    for (;;) {
        if (depth > 0) skip_plain(j, k_in_container);
        c = js_get(j);
        if (c < 0) return syntax(s, "unexpected end of input");
        if (c == '"') {
            for (;;) {
                skip_plain(j, k_in_string);
                c = js_get(j);
                if (c < 0) return syntax(s, "unterminated string");
                if (c == '\\') {
                    if (js_get(j) < 0) return syntax(s, "unterminated string");
                } else if (c == '"') {
                    break;
                }
            }
        } else if (c == '{' || c == '[') {
            if (depth == OG_MAX_DEPTH) {
                snprintf(s->why, sizeof s->why, "nesting deeper than %d", OG_MAX_DEPTH);
                return KZ_ELIMIT;
            }
            stack[depth++] = (char)c;
        } else if (c == '}' || c == ']') {
            if (!depth || stack[depth - 1] != (c == '}' ? '{' : '[')) return syntax(s, "unbalanced brackets");
            depth--;
        } else if (depth == 0) { /* a scalar: up to the next delimiter */
            for (;;) {
                int p = js_peek(j);
                if (p < 0 || p == ',' || p == ']' || p == '}' || p == ' ' || p == '\t' || p == '\n' ||
                    p == '\r')
                    break;
                js_get(j);
            }
        }
        if (depth == 0) return j->err;
    }
}

/* Read a member name (raw bytes, at most cap-1 kept) and the ':' after it. */
static int js_key(og_state *s, char *key, size_t cap) {
    jscan *j = &s->j;
    if (js_ws(j) != '"') return syntax(s, "expected a member name");
    js_get(j);
    size_t n = 0;
    bool longer = false;
    for (;;) {
        int c = js_get(j);
        if (c < 0) return syntax(s, "unterminated string");
        if (c == '"') break;
        if (c == '\\') {
            c = js_get(j);
            if (c < 0) return syntax(s, "unterminated string");
            longer = true; /* escaped names never match ours */
        }
        if (n + 1 < cap)
            key[n++] = (char)c;
        else
            longer = true;
    }
    key[n] = 0;
    if (longer) key[0] = 0;
    if (js_ws(j) != ':') return syntax(s, "expected ':'");
    js_get(j);
    return 0;
}

/* After a member or element: ',' (more) -> 1, the closer -> 0, else error. */
static int js_next(og_state *s, int closer) {
    int c = js_ws(&s->j);
    if (c == ',') {
        js_get(&s->j);
        return 1;
    }
    if (c == closer) {
        js_get(&s->j);
        return 0;
    }
    return syntax(s, closer == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
}

static bool pred_is(const char *pred, const char *name) {
    size_t pl = strlen(pred), nl = strlen(name);
    if (pl < nl || strcmp(pred + pl - nl, name) != 0) return false;
    return pl == nl || pred[pl - nl - 1] == '#' || pred[pl - nl - 1] == ':' || pred[pl - nl - 1] == '/';
}

static const char *str_of(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int curie(og_state *s, kz_buf *b, json_t *v) {
    return kz__onto_iri_to_curie(json_string_value(v), json_string_length(v), b);
}

static int do_edge(og_state *s, json_t *e) {
    const char *pred = str_of(e, "pred");
    json_t *sub = json_object_get(e, "sub"), *obj = json_object_get(e, "obj");
    if (!pred || !json_is_string(sub) || !json_is_string(obj)) return 0;
    if (strcmp(pred, "is_a") != 0 && strcmp(pred, "http://www.w3.org/2000/01/rdf-schema#subClassOf") != 0)
        return 0;
    int rc = curie(s, &s->curie, sub);
    if (!rc) rc = curie(s, &s->curie2, obj);
    if (rc) return rc;
    return map_add(s, s->curie.data, s->curie.len, s->curie2.data, s->curie2.len);
}

static const char *scope_of(const char *pred) {
    if (pred_is(pred, "hasExactSynonym")) return "EXACT";
    if (pred_is(pred, "hasRelatedSynonym")) return "RELATED";
    if (pred_is(pred, "hasNarrowSynonym")) return "NARROW";
    if (pred_is(pred, "hasBroadSynonym")) return "BROAD";
    return pred;
}

static int do_node(og_state *s, json_t *n) {
    kz_onto_ctx *c = &s->c;
    json_t *id = json_object_get(n, "id");
    if (!json_is_string(id) || !json_string_length(id)) {
        kz__onto_warn(c, KZ_EPARSE, s->elem_line, "node without a string \"id\"; skipped");
        return 0;
    }
    const char *type = str_of(n, "type");
    json_t *lbl = json_object_get(n, "lbl");
    if (type ? strcmp(type, "CLASS") != 0 : !lbl) return 0; /* properties, individuals, bare references */
    kz__onto_rec_begin(c, s->elem_line);
    int rc = curie(s, &s->curie, id);
    if (!rc) rc = kz__onto_rec_str(c, KZ_OF_ID, s->curie.data, s->curie.len);
    if (rc) return rc;
    if (lbl) {
        if (!json_is_string(lbl)) {
            kz__onto_rec_warn(c, KZ_EPARSE, s->elem_line, "node %.100s: \"lbl\" is not a string; skipped",
                              json_string_value(id));
            return kz__onto_rec_end(c);
        }
        rc = kz__onto_rec_str(c, KZ_OF_LABEL, json_string_value(lbl), json_string_length(lbl));
    }
    json_t *meta = json_object_get(n, "meta");
    if (!rc && json_is_object(meta)) {
        if (json_is_true(json_object_get(meta, "deprecated"))) c->t.obsolete = true;
        size_t i;
        json_t *x;
        json_array_foreach(json_object_get(meta, "synonyms"), i, x) {
            const char *pred = str_of(x, "pred");
            json_t *val = json_object_get(x, "val");
            if (!json_is_string(val)) continue;
            const char *scope = pred ? scope_of(pred) : NULL;
            rc = kz__onto_rec_syn(c, json_string_value(val), json_string_length(val), scope,
                                  scope ? strlen(scope) : 0);
            if (rc) return rc;
        }
        json_array_foreach(json_object_get(meta, "xrefs"), i, x) {
            json_t *val = json_object_get(x, "val");
            if (json_is_string(val) &&
                (rc = kz__onto_rec_str(c, KZ_OF_XREF, json_string_value(val), json_string_length(val))))
                return rc;
        }
        json_array_foreach(json_object_get(meta, "basicPropertyValues"), i, x) {
            const char *pred = str_of(x, "pred");
            json_t *val = json_object_get(x, "val");
            if (!pred || !json_is_string(val)) continue;
            if (pred_is(pred, "hasOBONamespace"))
                rc = kz__onto_rec_str(c, KZ_OF_NS, json_string_value(val), json_string_length(val));
            else if (pred_is(pred, "hasAlternativeId") && !(rc = curie(s, &s->curie2, val)))
                rc = kz__onto_rec_str(c, KZ_OF_ALT_ID, s->curie2.data, s->curie2.len);
            if (rc) return rc;
        }
    }
    og_slot *sl = rc ? NULL : map_find(s, s->curie.data, s->curie.len);
    if (sl && sl->key)
        for (uint32_t p = sl->head; p && !rc; p = s->parents[p - 1].next)
            rc = kz__onto_rec_str(c, KZ_OF_PARENT, s->parents[p - 1].id, s->parents[p - 1].len);
    if (rc) return rc;
    return kz__onto_rec_end(c);
}

/* One element of nodes[] or edges[]: captured and parsed when this pass wants it. */
static int og_element(og_state *s, bool nodes) {
    bool want = nodes ? s->pass == 2 : s->pass == 1;
    if (!want) return js_value(s);
    jscan *j = &s->j;
    js_ws(j);
    s->elem_line = j->line;
    kz__buf_clear(&s->elem);
    j->cap = &s->elem;
    j->cap_from = j->pos;
    j->cap_limit = KZ_ONTO_MAX_RECORD;
    j->cap_over = false;
    int rc = js_value(s);
    js_flush(j, j->pos);
    j->cap = NULL;
    if (rc) return rc;
    if (j->cap_over) {
        kz__onto_warn(&s->c, KZ_ELIMIT, s->elem_line, "%s larger than %u bytes; skipped",
                      nodes ? "node" : "edge", KZ_ONTO_MAX_RECORD);
        return 0;
    }
    json_error_t je;
    json_t *v = json_loadb(s->elem.data ? s->elem.data : "", s->elem.len, 0, &je);
    if (!v) {
        kz__onto_warn(&s->c, KZ_EPARSE, s->elem_line + (je.line > 0 ? je.line - 1 : 0),
                      "malformed %s: %s; skipped", nodes ? "node" : "edge", je.text);
        return 0;
    }
    if (!json_is_object(v)) {
        kz__onto_warn(&s->c, KZ_EPARSE, s->elem_line, "%s is not an object; skipped",
                      nodes ? "node" : "edge");
        rc = 0;
    } else {
        rc = nodes ? do_node(s, v) : do_edge(s, v);
    }
    json_decref(v);
    return rc;
}

static int og_array(og_state *s, bool nodes) {
    jscan *j = &s->j;
    if (js_ws(j) != '[') return js_value(s); /* not a list: ignored */
    js_get(j);
    if (js_ws(j) == ']') {
        js_get(j);
        return 0;
    }
    for (;;) {
        int rc = og_element(s, nodes);
        if (rc) return rc;
        rc = js_next(s, ']');
        if (rc <= 0) return rc;
    }
}

static int og_graph(og_state *s) {
    jscan *j = &s->j;
    if (js_ws(j) != '{') return js_value(s);
    js_get(j);
    if (js_ws(j) == '}') {
        js_get(j);
        return 0;
    }
    for (;;) {
        char key[16];
        int rc = js_key(s, key, sizeof key);
        if (rc) return rc;
        if (!strcmp(key, "nodes"))
            rc = og_array(s, true);
        else if (!strcmp(key, "edges"))
            rc = og_array(s, false);
        else
            rc = js_value(s);
        if (rc) return rc;
        rc = js_next(s, '}');
        if (rc <= 0) return rc;
    }
}

static int og_graphs(og_state *s) {
    jscan *j = &s->j;
    if (js_ws(j) != '[') return syntax(s, "\"graphs\" is not a list");
    js_get(j);
    if (js_ws(j) == ']') {
        js_get(j);
        return 0;
    }
    for (;;) {
        int rc = og_graph(s);
        if (rc) return rc;
        rc = js_next(s, ']');
        if (rc <= 0) return rc;
    }
}

/* One pass over the document. */
static int og_pass(og_state *s, kz_error *err) {
    jscan *j = &s->j;
    kz_onto_ctx *c = &s->c;
    kz__input_close(&j->in);
    j->pos = j->len = 0;
    j->eof = false;
    j->err = 0;
    j->line = 1;
    j->cap = NULL;
    int rc = s->data ? kz__input_open_mem(&j->in, s->data, s->data_len)
                     : kz__input_open_path(&j->in, c->spec->path, err);
    if (rc) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err && err->msg[0] ? err->msg : "cannot open input");
        return kz__onto_fail(c, err, rc, 0, "%s", why);
    }
    s->why[0] = 0;
    int first = js_ws(j);
    if (first != '{') {
        if (j->err)
            return kz__onto_fail(c, err, KZ_EIO, j->line, "%s",
                                 j->in.errmsg[0] ? j->in.errmsg : "read error");
        return kz__onto_fail(c, err, KZ_EFORMAT, j->line, "not OBO Graphs JSON (no top-level object)");
    }
    js_get(j);
    bool graphs = false;
    if (js_ws(j) == '}')
        js_get(j);
    else
        for (;;) {
            char key[16];
            rc = js_key(s, key, sizeof key);
            if (!rc && !strcmp(key, "graphs")) {
                graphs = true;
                rc = og_graphs(s);
            } else if (!rc) {
                rc = js_value(s);
            }
            if (!rc) rc = js_next(s, '}');
            if (rc <= 0) break;
        }
    if (!rc && js_ws(j) >= 0) rc = syntax(s, "data after the top-level object");
    if (!rc && j->err) rc = j->err;
    if (rc) {
        if (s->why[0]) return kz__onto_fail(c, err, rc, j->line, "malformed JSON: %s", s->why);
        if (rc == KZ_EIO)
            return kz__onto_fail(c, err, KZ_EIO, j->line, "%s",
                                 j->in.errmsg[0] ? j->in.errmsg : "read error");
        if (rc == KZ_ENOMEM) return kz__onto_fail(c, err, rc, j->line, "out of memory");
        return kz__onto_fail(c, err, rc, j->line, "parse aborted by the consumer");
    }
    if (!graphs) return kz__onto_fail(c, err, KZ_EFORMAT, 1, "not OBO Graphs JSON (no \"graphs\" list)");
    return 0;
}

static int og_parse(const char *data, size_t len, const kz_onto_spec *spec, kz_onto_emit_fn emit,
                    kz_onto_warn_fn warn, void *user, uint64_t *n_warnings, kz_error *err) {
    if (n_warnings) *n_warnings = 0;
    if (err) kz_error_clear(err);
    if (!spec || !emit || (!data && !spec->path))
        return kz_error_set(err, KZ_EINVAL, "OBO Graphs parse: missing spec, input or emit");
    if (!data && !strcmp(spec->path, "-"))
        return kz_error_set(err, KZ_EINVAL, "OBO Graphs JSON is read twice; standard input is not supported");
    og_state *s = calloc(1, sizeof *s);
    if (!s) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    int rc = kz__onto_ctx_init(&s->c, spec, NULL, emit, warn, user, err);
    if (rc) {
        free(s);
        return rc;
    }
    s->data = data;
    s->data_len = len;
    s->j.in.fd = -1;
    kz__buf_init(&s->elem, 0);
    kz__buf_init(&s->curie, 0);
    kz__buf_init(&s->curie2, 0);
    s->j.buf = malloc(OG_CHUNK);
    s->map_arena = kz_arena_new(256 * 1024);
    if (!s->j.buf || !s->map_arena) rc = kz__onto_fail(&s->c, err, KZ_ENOMEM, 0, "out of memory");
    for (s->pass = 1; !rc && s->pass <= 2; s->pass++) rc = og_pass(s, err);
    if (n_warnings) *n_warnings = s->c.n_warnings;
    kz__input_close(&s->j.in);
    free(s->j.buf);
    kz__buf_free(&s->elem);
    kz__buf_free(&s->curie);
    kz__buf_free(&s->curie2);
    kz_arena_free(s->map_arena);
    free(s->slots);
    free(s->parents);
    kz__onto_ctx_free(&s->c);
    free(s);
    return rc;
}

int kz__onto_parse_obograph(const kz_onto_spec *spec, kz_onto_emit_fn emit, kz_onto_warn_fn warn, void *user,
                            uint64_t *n_warnings, kz_error *err) {
    return og_parse(NULL, 0, spec, emit, warn, user, n_warnings, err);
}

int kz__onto_parse_obograph_mem(const char *data, size_t len, const kz_onto_spec *spec, kz_onto_emit_fn emit,
                                kz_onto_warn_fn warn, void *user, uint64_t *n_warnings, kz_error *err) {
    if (!data && len) return kz_error_set(err, KZ_EINVAL, "OBO Graphs parse: NULL data");
    return og_parse(data ? data : "", len, spec, emit, warn, user, n_warnings, err);
}
