/* YAML configuration loader: libyaml events -> a read-only node tree in an
 * arena, with duplicate-key, alias, depth and size checks, and typed getters. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <yaml.h>
#include "core/core_int.h"
#include "kazu/config.h"

struct cfg_key {
    kz_str text;
    int64_t line, column;
};

struct kz_config_node {
    kz_config_type type;
    uint32_t n;
    int64_t line, column;
    kz_str text;                  /* scalar and null nodes */
    struct cfg_key *keys;         /* map */
    const kz_config_node **items; /* map values, sequence items */
    const kz_config *cfg;
};

struct kz_config {
    kz_arena *arena;
    const kz_config_node *root;
    char name[256];
};

/* Deeper recursion than this could exhaust the C stack whatever the caller asks. */
#define KZ_CONFIG_DEPTH_HARD_CAP 1024u

kz_config_params kz_config_default_params(void) {
    kz_config_params p = {0};
    p.max_bytes = 4u << 20;
    p.max_nodes = 100000;
    p.max_depth = 64;
    return p;
}

typedef struct loader {
    yaml_parser_t parser;
    kz_config *cfg;
    kz_config_params p;
    size_t nodes;
    kz_error *err;
    const char *text; /* for placing reader errors, which libyaml gives as an offset only */
    size_t len;
} loader;

/* Temporary growable pointer vector for the children of one node. */
typedef struct ptrvec {
    void **v;
    size_t n, cap;
} ptrvec;

static int ptrvec_push(ptrvec *pv, void *x) {
    if (pv->n == pv->cap) {
        size_t cap = pv->cap ? pv->cap * 2 : 8;
        void **v = realloc(pv->v, cap * sizeof *v);
        if (!v) return KZ_ENOMEM;
        pv->v = v;
        pv->cap = cap;
    }
    pv->v[pv->n++] = x;
    return 0;
}

static int fail_at(loader *L, yaml_mark_t m, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail_at(loader *L, yaml_mark_t m, int code, const char *fmt, ...) {
    if (!L->err) return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(L->err->msg, sizeof L->err->msg, fmt, ap);
    va_end(ap);
    L->err->code = code;
    snprintf(L->err->path, sizeof L->err->path, "%s", L->cfg->name);
    L->err->line = (int64_t)m.line + 1;
    L->err->column = (int64_t)m.column + 1;
    L->err->offset = (int64_t)m.index;
    return code;
}

static yaml_mark_t mark_of(int64_t line, int64_t column) {
    yaml_mark_t m = {0, (size_t)(line - 1), (size_t)(column - 1)};
    return m;
}

static int next_event(loader *L, yaml_event_t *ev) {
    if (yaml_parser_parse(&L->parser, ev)) return 0;
    const yaml_parser_t *p = &L->parser;
    if (p->error == YAML_MEMORY_ERROR) return fail_at(L, p->problem_mark, KZ_ENOMEM, "out of memory");
    if (p->error == YAML_READER_ERROR) {
        yaml_mark_t m = {KZ_MIN(p->problem_offset, L->len), 0, 0};
        for (size_t i = 0; i < m.index; i++) {
            bool nl = L->text[i] == '\n';
            m.line += nl;
            m.column = nl ? 0 : m.column + 1;
        }
        return fail_at(L, m, KZ_EPARSE, "%s", p->problem ? p->problem : "invalid input");
    }
    if (p->context)
        return fail_at(L, p->problem_mark, KZ_EPARSE, "YAML syntax: %s (%s at line %zu column %zu)",
                       p->problem ? p->problem : "error", p->context, p->context_mark.line + 1,
                       p->context_mark.column + 1);
    return fail_at(L, p->problem_mark, KZ_EPARSE, "YAML syntax: %s", p->problem ? p->problem : "error");
}

static kz_config_node *new_node(loader *L, kz_config_type t, yaml_mark_t m) {
    if (L->nodes >= L->p.max_nodes) {
        fail_at(L, m, KZ_ELIMIT, "more than %zu nodes", L->p.max_nodes);
        return NULL;
    }
    kz_config_node *n = kz_arena_calloc(L->cfg->arena, 1, sizeof *n);
    if (!n) {
        fail_at(L, m, KZ_ENOMEM, "out of memory");
        return NULL;
    }
    L->nodes++;
    n->type = t;
    n->line = (int64_t)m.line + 1;
    n->column = (int64_t)m.column + 1;
    n->cfg = L->cfg;
    return n;
}

static bool is_null_scalar(const yaml_event_t *ev) {
    const char *tag = (const char *)ev->data.scalar.tag;
    if (tag) return strcmp(tag, YAML_NULL_TAG) == 0;
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return false;
    const char *v = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
        if (len == strlen(nulls[i]) && memcmp(v, nulls[i], len) == 0) return true;
    return false;
}

typedef struct keyref {
    kz_str key;
    uint32_t idx;
} keyref;

static int keyref_cmp(const void *a, const void *b) {
    const keyref *x = a, *y = b;
    int c = kz_str_cmp(x->key, y->key);
    if (c) return c;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Sorting finds duplicates in O(n log n) so a hostile map with many keys stays cheap. */
static int check_duplicates(loader *L, kz_config_node *map) {
    if (map->n < 2) return 0;
    keyref *refs = malloc(map->n * sizeof *refs);
    if (!refs) return kz_error_set(L->err, KZ_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < map->n; i++) refs[i] = (keyref){map->keys[i].text, i};
    qsort(refs, map->n, sizeof *refs, keyref_cmp);
    uint32_t dup = UINT32_MAX, first = 0;
    for (uint32_t i = 1; i < map->n; i++)
        if (kz_str_eq(refs[i].key, refs[i - 1].key) && refs[i].idx < dup) {
            dup = refs[i].idx;
            first = refs[i - 1].idx;
        }
    free(refs);
    if (dup == UINT32_MAX) return 0;
    const struct cfg_key *a = &map->keys[first], *b = &map->keys[dup];
    int rc = fail_at(L, mark_of(b->line, b->column), KZ_EPARSE,
                     "duplicate key '%.100s' (first at line %lld column %lld)", b->text.ptr,
                     (long long)a->line, (long long)a->column);
    if (L->err) L->err->offset = -1;
    return rc;
}

static int parse_node(loader *L, yaml_event_t *ev, uint32_t depth, const kz_config_node **out);

static int parse_children(loader *L, kz_config_node *node, bool is_map, uint32_t depth) {
    ptrvec vals = {0}, keys = {0};
    int rc = 0;
    for (;;) {
        yaml_event_t ev;
        if ((rc = next_event(L, &ev))) break;
        if (ev.type == (is_map ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT)) {
            yaml_event_delete(&ev);
            break;
        }
        if (is_map) {
            if (ev.type != YAML_SCALAR_EVENT) {
                rc = fail_at(L, ev.start_mark, KZ_EPARSE,
                             ev.type == YAML_ALIAS_EVENT
                                 ? "aliases (*name) are not supported; write the value out"
                                 : "map keys must be scalars");
                yaml_event_delete(&ev);
                break;
            }
            struct cfg_key *kp = kz_arena_alloc(L->cfg->arena, sizeof *kp);
            if (kp) {
                kp->text =
                    kz_arena_strdup(L->cfg->arena, (const char *)ev.data.scalar.value, ev.data.scalar.length);
                kp->line = (int64_t)ev.start_mark.line + 1;
                kp->column = (int64_t)ev.start_mark.column + 1;
            }
            yaml_event_delete(&ev);
            if (!kp || !kp->text.ptr || ptrvec_push(&keys, kp)) {
                rc = kz_error_set(L->err, KZ_ENOMEM, "out of memory");
                break;
            }
            if ((rc = next_event(L, &ev))) break;
        }
        const kz_config_node *child = NULL;
        if ((rc = parse_node(L, &ev, depth + 1, &child))) break;
        if (ptrvec_push(&vals, (void *)child)) {
            rc = kz_error_set(L->err, KZ_ENOMEM, "out of memory");
            break;
        }
    }
    if (!rc && vals.n > UINT32_MAX) rc = kz_error_set(L->err, KZ_ELIMIT, "too many entries");
    if (!rc && vals.n) {
        node->n = (uint32_t)vals.n;
        node->items = kz_arena_alloc(L->cfg->arena, vals.n * sizeof *node->items);
        if (is_map) node->keys = kz_arena_alloc(L->cfg->arena, vals.n * sizeof *node->keys);
        if (!node->items || (is_map && !node->keys)) {
            rc = kz_error_set(L->err, KZ_ENOMEM, "out of memory");
        } else {
            for (size_t i = 0; i < vals.n; i++) {
                node->items[i] = vals.v[i];
                if (is_map) node->keys[i] = *(struct cfg_key *)keys.v[i];
            }
            if (is_map) rc = check_duplicates(L, node);
        }
    }
    free(vals.v);
    free(keys.v);
    return rc;
}

/* Consumes *ev (already fetched) and, for collections, the events up to their end. */
static int parse_node(loader *L, yaml_event_t *ev, uint32_t depth, const kz_config_node **out) {
    yaml_mark_t m = ev->start_mark;
    int rc = 0;
    kz_config_node *n = NULL;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        n = new_node(L, is_null_scalar(ev) ? KZ_CONFIG_NULL : KZ_CONFIG_SCALAR, m);
        if (n) {
            n->text =
                kz_arena_strdup(L->cfg->arena, (const char *)ev->data.scalar.value, ev->data.scalar.length);
            if (!n->text.ptr) rc = kz_error_set(L->err, KZ_ENOMEM, "out of memory");
        }
        break;
    case YAML_ALIAS_EVENT:
        rc = fail_at(L, m, KZ_EPARSE, "aliases (*%.60s) are not supported; write the value out",
                     (const char *)ev->data.alias.anchor);
        break;
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        if (depth >= L->p.max_depth) {
            rc = fail_at(L, m, KZ_ELIMIT, "nested deeper than %u levels", L->p.max_depth);
            break;
        }
        n = new_node(L, ev->type == YAML_MAPPING_START_EVENT ? KZ_CONFIG_MAP : KZ_CONFIG_SEQ, m);
        break;
    default: rc = fail_at(L, m, KZ_EPARSE, "unexpected YAML event"); break;
    }
    yaml_event_delete(ev);
    if (!rc && !n) rc = L->err ? L->err->code : KZ_ENOMEM;
    if (!rc && (n->type == KZ_CONFIG_MAP || n->type == KZ_CONFIG_SEQ))
        rc = parse_children(L, n, n->type == KZ_CONFIG_MAP, depth);
    if (!rc) *out = n;
    return rc;
}

static int parse_stream(loader *L) {
    yaml_event_t ev;
    int rc;
    int docs = 0;
    while (!(rc = next_event(L, &ev))) {
        yaml_event_type_t t = ev.type;
        yaml_mark_t m = ev.start_mark;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (t == YAML_DOCUMENT_START_EVENT) {
            yaml_event_delete(&ev);
            if (++docs > 1) return fail_at(L, m, KZ_EPARSE, "more than one YAML document (---)");
            if ((rc = next_event(L, &ev))) return rc;
            const kz_config_node *root = NULL;
            if ((rc = parse_node(L, &ev, 0, &root))) return rc;
            L->cfg->root = root;
            continue;
        }
        yaml_event_delete(&ev); /* stream start, document end */
    }
    if (rc) return rc;
    if (!L->cfg->root) {
        yaml_mark_t m = {0, 0, 0};
        kz_config_node *n = new_node(L, KZ_CONFIG_NULL, m);
        if (!n) return KZ_ENOMEM;
        n->text = kz_arena_strdup(L->cfg->arena, "", 0);
        L->cfg->root = n;
    }
    return 0;
}

int kz_config_load_string(kz_config **out, const char *text, size_t len, const char *name,
                          const kz_config_params *params, kz_error *err) {
    *out = NULL;
    kz_error_clear(err);
    loader L = {0};
    L.err = err;
    L.p = params ? *params : kz_config_default_params();
    if (L.p.max_depth > KZ_CONFIG_DEPTH_HARD_CAP) L.p.max_depth = KZ_CONFIG_DEPTH_HARD_CAP;
    if (err) snprintf(err->path, sizeof err->path, "%s", name ? name : "<string>");
    if (len > L.p.max_bytes)
        return kz_error_set(err, KZ_ELIMIT, "configuration larger than %zu bytes", L.p.max_bytes);
    kz_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg || !(cfg->arena = kz_arena_new(0))) {
        free(cfg);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    snprintf(cfg->name, sizeof cfg->name, "%s", name ? name : "<string>");
    L.cfg = cfg;
    L.text = text ? text : "";
    L.len = text ? len : 0;
    if (!yaml_parser_initialize(&L.parser)) {
        kz_config_free(cfg);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    yaml_parser_set_encoding(&L.parser, YAML_UTF8_ENCODING);
    yaml_parser_set_input_string(&L.parser, (const unsigned char *)(text ? text : ""), text ? len : 0);
    int rc = parse_stream(&L);
    yaml_parser_delete(&L.parser);
    if (rc) {
        kz_config_free(cfg);
        return rc;
    }
    *out = cfg;
    return 0;
}

int kz_config_load_file(kz_config **out, const char *path, const kz_config_params *params, kz_error *err) {
    *out = NULL;
    kz_error_clear(err);
    if (!path) return kz_error_set(err, KZ_EINVAL, "no configuration path");
    kz_config_params p = params ? *params : kz_config_default_params();
    if (err) snprintf(err->path, sizeof err->path, "%s", path);
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) return kz_error_set(err, KZ_EIO, "cannot open: %s", strerror(errno));
    kz_buf b;
    kz__buf_init(&b, p.max_bytes + 1); /* one more byte tells "too large" from "exactly at the cap" */
    char chunk[65536];
    size_t got;
    int rc = 0;
    while (!rc && (got = fread(chunk, 1, sizeof chunk, f)) > 0) rc = kz__buf_append(&b, chunk, got);
    if (!rc && ferror(f))
        rc = kz_error_set(err, KZ_EIO, "read failed: %s", strerror(errno));
    else if (rc == KZ_ELIMIT)
        rc = kz_error_set(err, KZ_ELIMIT, "configuration larger than %zu bytes", p.max_bytes);
    else if (rc)
        rc = kz_error_set(err, rc, "out of memory");
    if (!is_stdin) fclose(f);
    if (!rc) rc = kz_config_load_string(out, b.data, b.len, path, &p, err);
    kz__buf_free(&b);
    return rc;
}

void kz_config_free(kz_config *cfg) {
    if (!cfg) return;
    kz_arena_free(cfg->arena);
    free(cfg);
}

const kz_config_node *kz_config_root(const kz_config *cfg) { return cfg ? cfg->root : NULL; }

kz_config_type kz_config_node_type(const kz_config_node *n) { return n ? n->type : KZ_CONFIG_NULL; }

kz_str kz_config_node_scalar(const kz_config_node *n) {
    return n && (n->type == KZ_CONFIG_SCALAR || n->type == KZ_CONFIG_NULL) ? n->text : KZ_STR_NULL;
}

size_t kz_config_node_len(const kz_config_node *n) {
    return n && (n->type == KZ_CONFIG_MAP || n->type == KZ_CONFIG_SEQ) ? n->n : 0;
}

const kz_config_node *kz_config_node_at(const kz_config_node *n, size_t i) {
    return i < kz_config_node_len(n) ? n->items[i] : NULL;
}

kz_str kz_config_node_key_at(const kz_config_node *n, size_t i) {
    return n && n->type == KZ_CONFIG_MAP && i < n->n ? n->keys[i].text : KZ_STR_NULL;
}

int64_t kz_config_node_line(const kz_config_node *n) { return n ? n->line : 0; }
int64_t kz_config_node_column(const kz_config_node *n) { return n ? n->column : 0; }

void kz_config_locate(const kz_config_node *n, kz_error *err) {
    if (!n || !err) return;
    snprintf(err->path, sizeof err->path, "%s", n->cfg->name);
    err->line = n->line;
    err->column = n->column;
    err->offset = -1;
}

const kz_config_node *kz_config_get(const kz_config_node *map, const char *key) {
    if (!map || map->type != KZ_CONFIG_MAP || !key) return NULL;
    for (uint32_t i = 0; i < map->n; i++)
        if (kz_str_eq_c(map->keys[i].text, key)) return map->items[i];
    return NULL;
}

int kz_config_check_keys(const kz_config_node *map, const char *const *allowed, size_t n_allowed,
                         kz_error *err) {
    if (!map || map->type != KZ_CONFIG_MAP) return 0;
    for (uint32_t i = 0; i < map->n; i++) {
        bool ok = false;
        for (size_t j = 0; j < n_allowed && !ok; j++) ok = kz_str_eq_c(map->keys[i].text, allowed[j]);
        if (ok) continue;
        kz_buf list;
        kz__buf_init(&list, 400);
        kz__buf_puts(&list, n_allowed ? "expected one of: " : "no keys are accepted here");
        for (size_t j = 0; j < n_allowed; j++) kz__buf_printf(&list, "%s%s", j ? ", " : "", allowed[j]);
        kz_config_locate(map->items[i], err);
        if (err) {
            err->line = map->keys[i].line;
            err->column = map->keys[i].column;
        }
        kz_error_set(err, KZ_ECONFIG, "unknown key '%.100s' (%s)", map->keys[i].text.ptr,
                     list.data ? list.data : "");
        kz__buf_free(&list);
        return KZ_ECONFIG;
    }
    return 0;
}

/* ---- typed getters ------------------------------------------------------- */
static const char *type_word(kz_config_type t) {
    switch (t) {
    case KZ_CONFIG_MAP: return "a map";
    case KZ_CONFIG_SEQ: return "a list";
    case KZ_CONFIG_NULL: return "null";
    default: return "a scalar";
    }
}

/* Looks up key; *node NULL means "use the default". */
static const kz_config_node *lookup(const kz_config_node *map, const char *key) {
    const kz_config_node *n = kz_config_get(map, key);
    return n && n->type != KZ_CONFIG_NULL ? n : NULL;
}

static int wrong(const kz_config_node *n, const char *key, const char *expected, kz_error *err) {
    kz_config_locate(n, err);
    if (n->type == KZ_CONFIG_SCALAR)
        return kz_error_set(err, KZ_ECONFIG, "'%s': expected %s, got '%.60s'", key, expected, n->text.ptr);
    return kz_error_set(err, KZ_ECONFIG, "'%s': expected %s, got %s", key, expected, type_word(n->type));
}

/* Decimal integer; '_' allowed between digits as in YAML 1.1 (200_000). */
static bool parse_int(kz_str s, int64_t *out) {
    size_t i = 0;
    bool neg = false;
    if (i < s.len && (s.ptr[i] == '+' || s.ptr[i] == '-')) neg = s.ptr[i++] == '-';
    if (i >= s.len) return false;
    uint64_t v = 0, lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    bool digit_before = false;
    for (; i < s.len; i++) {
        char c = s.ptr[i];
        if (c == '_' && digit_before && i + 1 < s.len && s.ptr[i + 1] >= '0' && s.ptr[i + 1] <= '9') continue;
        if (c < '0' || c > '9') return false;
        unsigned d = (unsigned)(c - '0');
        if (v > (lim - d) / 10) return false;
        v = v * 10 + d;
        digit_before = true;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

int kz_config_get_int(const kz_config_node *map, const char *key, int64_t def, int64_t min, int64_t max,
                      int64_t *out, kz_error *err) {
    const kz_config_node *n = lookup(map, key);
    if (!n) {
        *out = def;
        return 0;
    }
    char expected[96];
    snprintf(expected, sizeof expected, "an integer in [%lld, %lld]", (long long)min, (long long)max);
    int64_t v;
    if (n->type != KZ_CONFIG_SCALAR || !parse_int(n->text, &v) || v < min || v > max)
        return wrong(n, key, expected, err);
    *out = v;
    return 0;
}

int kz_config_get_double(const kz_config_node *map, const char *key, double def, double min, double max,
                         double *out, kz_error *err) {
    const kz_config_node *n = lookup(map, key);
    if (!n) {
        *out = def;
        return 0;
    }
    char expected[96];
    snprintf(expected, sizeof expected, "a number in [%g, %g]", min, max);
    if (n->type != KZ_CONFIG_SCALAR || !n->text.len) return wrong(n, key, expected, err);
    char *end;
    errno = 0;
    double v = strtod(n->text.ptr, &end);
    if (end != n->text.ptr + n->text.len || errno == ERANGE || !isfinite(v) || v < min || v > max)
        return wrong(n, key, expected, err);
    *out = v;
    return 0;
}

int kz_config_get_bool(const kz_config_node *map, const char *key, bool def, bool *out, kz_error *err) {
    const kz_config_node *n = lookup(map, key);
    if (!n) {
        *out = def;
        return 0;
    }
    static const char *const t[] = {"true", "True", "TRUE"}, *const f[] = {"false", "False", "FALSE"};
    if (n->type == KZ_CONFIG_SCALAR)
        for (int i = 0; i < 3; i++) {
            if (kz_str_eq_c(n->text, t[i])) return *out = true, 0;
            if (kz_str_eq_c(n->text, f[i])) return *out = false, 0;
        }
    return wrong(n, key, "true or false", err);
}

static int as_string(const kz_config_node *n, const char *key, const char **out, kz_error *err) {
    if (n->type != KZ_CONFIG_SCALAR || memchr(n->text.ptr, 0, n->text.len))
        return wrong(n, key, "a string", err);
    *out = n->text.ptr;
    return 0;
}

int kz_config_get_string(const kz_config_node *map, const char *key, const char *def, const char **out,
                         kz_error *err) {
    const kz_config_node *n = lookup(map, key);
    if (!n) {
        *out = def;
        return 0;
    }
    return as_string(n, key, out, err);
}

int kz_config_get_strings(const kz_config_node *map, const char *key, const char *const *def, size_t n_def,
                          const char **out, size_t cap, size_t *n, kz_error *err) {
    const kz_config_node *s = lookup(map, key);
    if (!s) {
        if (n_def > cap) return kz_error_set(err, KZ_ECONFIG, "'%s': more than %zu default items", key, cap);
        for (size_t i = 0; i < n_def; i++) out[i] = def[i];
        *n = n_def;
        return 0;
    }
    if (s->type != KZ_CONFIG_SEQ) return wrong(s, key, "a list of strings", err);
    if (s->n > cap) {
        kz_config_locate(s, err);
        return kz_error_set(err, KZ_ECONFIG, "'%s': more than %zu items", key, cap);
    }
    const char *tmp;
    for (uint32_t i = 0; i < s->n; i++)
        if (as_string(s->items[i], key, &tmp, err)) return KZ_ECONFIG;
    for (uint32_t i = 0; i < s->n; i++) out[i] = s->items[i]->text.ptr;
    *n = s->n;
    return 0;
}
