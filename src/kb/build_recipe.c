/* The kb build recipe (YAML, docs/kb.md): sources with their parser specs
 * and curation options, ${VAR} expansion, paths relative to the recipe, and
 * the input hash that decides whether a pack is up to date. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "kazu/config.h"
#include "kb/build_int.h"

#define MAX_LIST    256
#define MAX_SOURCES 4096

/* Put "where: " in front of the message already in err. */
static int prefix_err(kz_error *err, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int prefix_err(kz_error *err, int rc, const char *fmt, ...) {
    if (!err) return rc;
    char pre[256], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t pl = strlen(pre), ol = strnlen(old, sizeof old - 1);
    if (pl > sizeof err->msg - 3) pl = sizeof err->msg - 3;
    memcpy(err->msg, pre, pl);
    memcpy(err->msg + pl, ": ", 2);
    size_t room = sizeof err->msg - pl - 3;
    if (ol > room) ol = room;
    memcpy(err->msg + pl + 2, old, ol);
    err->msg[pl + 2 + ol] = 0;
    err->code = rc;
    return rc;
}

/* Error located at a node: "path:line:col: msg". */
static int node_err(const kz_config_node *n, kz_error *err, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int node_err(const kz_config_node *n, kz_error *err, int rc, const char *fmt, ...) {
    if (!err) return rc;
    kz_config_locate(n, err);
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return kz_error_set(err, rc, "%s", msg);
}

int kz__recipe_expand(kz_arena *a, const char *in, const char **out, kz_error *err) {
    kz_buf b;
    kz__buf_init(&b, 1 << 20);
    int rc = 0;
    const char *p = in;
    while (*p && !rc) {
        if (p[0] != '$' || p[1] != '{') {
            rc = kz__buf_putc(&b, *p++);
            continue;
        }
        const char *end = strchr(p + 2, '}');
        if (!end) {
            rc = kz_error_set(err, KZ_ECONFIG, "unterminated ${ in \"%.200s\"", in);
            break;
        }
        const char *name = p + 2, *sep = NULL;
        for (const char *q = name; q < end; q++)
            if (q[0] == ':' && q + 1 < end && q[1] == '-') {
                sep = q;
                break;
            }
        size_t nl = (size_t)((sep ? sep : end) - name);
        char var[256];
        if (nl == 0 || nl >= sizeof var) {
            rc = kz_error_set(err, KZ_ECONFIG, "bad variable name in \"%.200s\"", in);
            break;
        }
        for (size_t i = 0; i < nl; i++) {
            char c = name[i];
            if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                  (i && c >= '0' && c <= '9'))) {
                rc = kz_error_set(err, KZ_ECONFIG, "bad variable name in \"%.200s\"", in);
                break;
            }
        }
        if (rc) break;
        memcpy(var, name, nl);
        var[nl] = 0;
        const char *val = getenv(var);
        if (sep && (!val || !*val))
            rc = kz__buf_append(&b, sep + 2, (size_t)(end - sep - 2));
        else if (val)
            rc = kz__buf_puts(&b, val);
        else
            rc = kz_error_set(err, KZ_ECONFIG, "environment variable %s is not set (use ${%s:-default})", var,
                              var);
        p = end + 1;
    }
    if (rc == KZ_ELIMIT || rc == KZ_ENOMEM) rc = kz_error_set(err, rc, "expanded value too long");
    if (!rc) {
        kz_str s = kz_arena_strdup(a, b.data ? b.data : "", b.len);
        if (!s.ptr) rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
        *out = s.ptr;
    }
    kz__buf_free(&b);
    return rc;
}

/* Expand and resolve relative to the recipe's directory. */
static int resolve_path(kz_recipe *r, const kz_config_node *map, const char *key, const char *dir,
                        const char **out, kz_error *err) {
    const char *raw = NULL;
    int rc = kz_config_get_string(map, key, NULL, &raw, err);
    if (rc) return rc;
    *out = NULL;
    if (!raw) return 0;
    const kz_config_node *n = kz_config_get(map, key);
    const char *exp;
    rc = kz__recipe_expand(r->arena, raw, &exp, err);
    if (rc) return node_err(n, err, rc, "'%s': %s", key, err->msg);
    if (!*exp) return node_err(n, err, KZ_ECONFIG, "'%s': empty path", key);
    if (exp[0] == '/' || !dir[0]) {
        *out = exp;
        return 0;
    }
    size_t n1 = strlen(dir), n2 = strlen(exp);
    char *p = kz_arena_alloc(r->arena, n1 + n2 + 2);
    if (!p) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    memcpy(p, dir, n1);
    if (dir[n1 - 1] != '/') p[n1++] = '/';
    memcpy(p + n1, exp, n2 + 1);
    *out = p;
    return 0;
}

static bool is_file(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int get_list(kz_recipe *r, const kz_config_node *map, const char *key, const char *const **out,
                    size_t *n, kz_error *err) {
    const char *tmp[MAX_LIST];
    int rc = kz_config_get_strings(map, key, NULL, 0, tmp, MAX_LIST, n, err);
    if (rc) return rc;
    *out = NULL;
    if (!*n) return 0;
    const char **v = kz_arena_calloc(r->arena, *n, sizeof *v);
    if (!v) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    memcpy(v, tmp, *n * sizeof *v);
    *out = v;
    return 0;
}

/* A one-character option: "\t" (a tab or the two characters \ t), ",", ... */
static int get_char(const kz_config_node *map, const char *key, char *out, bool allow_empty, kz_error *err) {
    const char *s = NULL;
    int rc = kz_config_get_string(map, key, NULL, &s, err);
    if (rc || !s) return rc;
    if (strcmp(s, "\\t") == 0 || strcmp(s, "tab") == 0)
        *out = '\t';
    else if (!s[0] && allow_empty)
        *out = 0;
    else if (strlen(s) == 1 && (unsigned char)s[0] < 0x80)
        *out = s[0];
    else
        return node_err(kz_config_get(map, key), err, KZ_ECONFIG, "'%s': expected one ASCII character", key);
    return 0;
}

static const char *const root_keys[] = {"kb"};
static const char *const kb_keys[] = {"name", "sources", "global_actions"};
static const char *const src_keys[] = {
    "name",           "entity_class", "format",           "path",
    "source",         "data_origin",  "required",         "id_regex",
    "namespaces",     "syn_scopes",   "include_obsolete", "id_prefix",
    "delimiter",      "quote",        "no_header",        "skip_lines",
    "comment",        "id_col",       "label_col",        "syn_cols",
    "xref_cols",      "meta_cols",    "list_sep",         "query",
    "syn_predicates", "rda_object",   "row_filters",      "synonym_generation",
    "autocurator",    "id_grouping",  "curations",
};
#define NK(a) (sizeof(a) / sizeof((a)[0]))

static int parse_source(kz_recipe *r, const kz_config_node *n, size_t idx, const char *dir,
                        kz_recipe_source *s, kz_error *err) {
    if (kz_config_node_type(n) != KZ_CONFIG_MAP)
        return node_err(n, err, KZ_ECONFIG, "kb.sources[%zu]: expected a map", idx);
    int rc = kz_config_check_keys(n, src_keys, NK(src_keys), err);
    if (rc) return prefix_err(err, rc, "kb.sources[%zu]", idx);
    s->line = kz_config_node_line(n);
    const char *fmt = NULL, *sg = NULL, *ac = NULL, *ig = NULL;
    kz_onto_spec *sp = &s->spec;
    int64_t skip = 0;
#define TRYK(x)                                                                                              \
    do {                                                                                                     \
        if ((rc = (x)) != 0) return prefix_err(err, rc, "kb.sources[%zu]", idx);                             \
    } while (0)
    TRYK(kz_config_get_string(n, "name", NULL, &s->name, err));
    TRYK(kz_config_get_string(n, "entity_class", NULL, &s->entity_class, err));
    TRYK(kz_config_get_string(n, "format", NULL, &fmt, err));
    const char *keys_required[] = {"name", "entity_class", "format", "path"};
    for (size_t i = 0; i < 4; i++)
        if (!kz_config_get(n, keys_required[i]) ||
            kz_config_node_type(kz_config_get(n, keys_required[i])) == KZ_CONFIG_NULL)
            return node_err(n, err, KZ_ECONFIG, "kb.sources[%zu]: missing required key '%s'", idx,
                            keys_required[i]);
    if (!s->name[0])
        return node_err(kz_config_get(n, "name"), err, KZ_ECONFIG, "kb.sources[%zu]: 'name' is empty", idx);
    if (!s->entity_class[0])
        return node_err(kz_config_get(n, "entity_class"), err, KZ_ECONFIG,
                        "source %s: 'entity_class' is empty", s->name);
    sp->format = kz__onto_format_parse(fmt);
    if (sp->format == KZ_ONTO_UNKNOWN)
        return node_err(
            kz_config_get(n, "format"), err, KZ_ECONFIG,
            "source %s: 'format': unknown format '%.60s' (obo, obograph-json, owl, tabular, sqlite, "
            "cellosaurus, hgnc-tsv, hgnc-json, mesh-xml, drugbank-csv, ctd-tsv, ncbi-taxonomy, "
            "rda-table)",
            s->name, fmt);
    sp->name = s->name;
    TRYK(resolve_path(r, n, "path", dir, &sp->path, err));
    TRYK(kz_config_get_string(n, "source", s->name, &s->source, err));
    TRYK(kz_config_get_string(n, "data_origin", "", &s->data_origin, err));
    TRYK(kz_config_get_bool(n, "required", true, &s->required, err));
    TRYK(kz_config_get_string(n, "id_regex", NULL, &sp->id_regex, err));
    TRYK(get_list(r, n, "namespaces", &sp->namespaces, &sp->n_namespaces, err));
    TRYK(get_list(r, n, "syn_scopes", &sp->syn_scopes, &sp->n_syn_scopes, err));
    TRYK(kz_config_get_bool(n, "include_obsolete", false, &sp->include_obsolete, err));
    TRYK(kz_config_get_string(n, "id_prefix", NULL, &sp->id_prefix, err));
    TRYK(get_char(n, "delimiter", &sp->delimiter, false, err));
    TRYK(get_char(n, "quote", &sp->quote, true, err));
    TRYK(kz_config_get_bool(n, "no_header", false, &sp->no_header, err));
    TRYK(kz_config_get_int(n, "skip_lines", 0, 0, 1000000, &skip, err));
    sp->skip_lines = (int)skip;
    TRYK(get_char(n, "comment", &sp->comment, true, err));
    TRYK(kz_config_get_string(n, "id_col", NULL, &sp->id_col, err));
    TRYK(kz_config_get_string(n, "label_col", NULL, &sp->label_col, err));
    TRYK(get_list(r, n, "syn_cols", &sp->syn_cols, &sp->n_syn_cols, err));
    TRYK(get_list(r, n, "xref_cols", &sp->xref_cols, &sp->n_xref_cols, err));
    TRYK(get_list(r, n, "meta_cols", &sp->meta_cols, &sp->n_meta_cols, err));
    TRYK(kz_config_get_string(n, "list_sep", NULL, &sp->list_sep, err));
    TRYK(kz_config_get_string(n, "query", NULL, &sp->query, err));
    TRYK(get_list(r, n, "syn_predicates", &sp->syn_predicates, &sp->n_syn_predicates, err));
    TRYK(kz_config_get_string(n, "rda_object", NULL, &sp->rda_object, err));
    TRYK(get_list(r, n, "row_filters", &sp->row_filters, &sp->n_row_filters, err));
    TRYK(kz_config_get_string(n, "synonym_generation", "none", &sg, err));
    TRYK(kz_config_get_string(n, "autocurator", "basic", &ac, err));
    TRYK(kz_config_get_string(n, "id_grouping", "default", &ig, err));
    TRYK(resolve_path(r, n, "curations", dir, &s->curations, err));
#undef TRYK
    if (kz__syngen_config_parse(sg, &s->synonym_generation))
        return node_err(
            kz_config_get(n, "synonym_generation"), err, KZ_ECONFIG,
            "source %s: 'synonym_generation': expected default, gene, chemical, disease or none, got '%.60s'",
            s->name, sg);
    if (kz__curator_parse(ac, &s->autocurator))
        return node_err(
            kz_config_get(n, "autocurator"), err, KZ_ECONFIG,
            "source %s: 'autocurator': expected basic, gene, chembl, cell_line_or_type or none, got "
            "'%.60s'",
            s->name, ac);
    if (sp->n_row_filters) {
        kz_onto_format f = sp->format;
        bool rows = f == KZ_ONTO_TABULAR || f == KZ_ONTO_SQLITE || f == KZ_ONTO_RDA_TABLE ||
                    f == KZ_ONTO_CTD_TSV || f == KZ_ONTO_HGNC_TSV || f == KZ_ONTO_DRUGBANK_CSV ||
                    f == KZ_ONTO_NCBI_TAXONOMY;
        if (!rows)
            return node_err(
                kz_config_get(n, "row_filters"), err, KZ_ECONFIG,
                "source %s: 'row_filters' applies to row formats only (tabular, sqlite, rda-table, "
                "ctd-tsv, hgnc-tsv, drugbank-csv, ncbi-taxonomy), not %s",
                s->name, kz__onto_format_name(f));
    }
    if (strcmp(ig, "default") == 0)
        s->id_grouping = KZ_IDGROUP_DEFAULT;
    else if (strcmp(ig, "xref") == 0)
        s->id_grouping = KZ_IDGROUP_XREF;
    else if (strcmp(ig, "per_id") == 0)
        s->id_grouping = KZ_IDGROUP_PER_ID;
    else
        return node_err(kz_config_get(n, "id_grouping"), err, KZ_ECONFIG,
                        "source %s: 'id_grouping': expected default, xref or per_id, got '%.60s'", s->name,
                        ig);
    if (!is_file(sp->path)) {
        if (s->required)
            return node_err(kz_config_get(n, "path"), err, KZ_ENOTFOUND,
                            "source %s: 'path': input file not found: %s (set required: false to skip it)",
                            s->name, sp->path);
        s->skipped = true; /* the builder logs it (once, not in hash-only mode) */
    }
    if (s->curations && !s->skipped && !is_file(s->curations))
        return node_err(kz_config_get(n, "curations"), err, KZ_ENOTFOUND,
                        "source %s: 'curations': file not found: %s", s->name, s->curations);
    return 0;
}

int kz__recipe_parse(const char *text, size_t len, const char *path, kz_recipe *out, kz_error *err) {
    memset(out, 0, sizeof *out);
    kz_error_clear(err);
    out->arena = kz_arena_new(0);
    if (!out->arena) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    if (!path) path = "<recipe>";
    out->path = kz_arena_strdup(out->arena, path, strlen(path)).ptr;
    kz_config *cfg = NULL;
    int rc = kz_config_load_string(&cfg, text, len, path, NULL, err);
    if (rc) return rc;
    /* the directory of the recipe, for relative paths */
    const char *slash = strrchr(path, '/');
    char *dir = kz_arena_alloc(out->arena, slash ? (size_t)(slash - path) + 2 : 2);
    if (!dir || !out->path) {
        kz_config_free(cfg);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    if (slash == path)
        strcpy(dir, "/");
    else if (slash) {
        memcpy(dir, path, (size_t)(slash - path));
        dir[slash - path] = 0;
    } else
        dir[0] = 0;

    const kz_config_node *root = kz_config_root(cfg);
    const kz_config_node *kb = kz_config_get(root, "kb");
    if (kz_config_node_type(root) != KZ_CONFIG_MAP || kz_config_node_type(kb) != KZ_CONFIG_MAP) {
        rc = node_err(kb ? kb : root, err, KZ_ECONFIG, "expected a map with the key 'kb'");
        goto done;
    }
    if ((rc = kz_config_check_keys(root, root_keys, NK(root_keys), err))) goto done;
    if ((rc = kz_config_check_keys(kb, kb_keys, NK(kb_keys), err))) {
        prefix_err(err, rc, "kb");
        goto done;
    }
    const char *name = NULL;
    if ((rc = kz_config_get_string(kb, "name", "kazu-c", &name, err))) goto done;
    out->name = kz_arena_strdup(out->arena, name, strlen(name)).ptr;
    const kz_config_node *srcs = kz_config_get(kb, "sources");
    size_t n = kz_config_node_len(srcs);
    if (kz_config_node_type(srcs) != KZ_CONFIG_SEQ || n == 0) {
        rc = node_err(srcs ? srcs : kb, err, KZ_ECONFIG, "kb.sources: expected a non-empty list of sources");
        goto done;
    }
    if (n > MAX_SOURCES) {
        rc = node_err(srcs, err, KZ_ELIMIT, "kb.sources: more than %d sources", MAX_SOURCES);
        goto done;
    }
    out->sources = kz_arena_calloc(out->arena, n, sizeof *out->sources);
    if (!out->sources || !out->name) {
        rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        const kz_config_node *sn = kz_config_node_at(srcs, i);
        if ((rc = parse_source(out, sn, i, dir, &out->sources[i], err))) goto done;
        for (size_t j = 0; j < i; j++)
            if (strcmp(out->sources[j].name, out->sources[i].name) == 0) {
                rc = node_err(kz_config_get(sn, "name"), err, KZ_ECONFIG,
                              "kb.sources[%zu]: duplicate source name '%s'", i, out->sources[i].name);
                goto done;
            }
        out->n_sources++;
    }
    if ((rc = resolve_path(out, kb, "global_actions", dir, &out->global_actions, err))) {
        prefix_err(err, rc, "kb");
        goto done;
    }
    if (out->global_actions && !is_file(out->global_actions))
        rc = node_err(kz_config_get(kb, "global_actions"), err, KZ_ENOTFOUND,
                      "kb: 'global_actions': file not found: %s", out->global_actions);
    /* copy every borrowed config string into the arena before the tree goes */
    for (size_t i = 0; i < out->n_sources && !rc; i++) {
        kz_recipe_source *s = &out->sources[i];
        const char **fields[] = {&s->name,        &s->entity_class,   &s->source,
                                 &s->data_origin, &s->spec.id_regex,  &s->spec.id_prefix,
                                 &s->spec.id_col, &s->spec.label_col, &s->spec.list_sep,
                                 &s->spec.query,  &s->spec.rda_object};
        for (size_t f = 0; f < NK(fields) && !rc; f++)
            if (*fields[f]) {
                const char *c = kz_arena_strdup(out->arena, *fields[f], strlen(*fields[f])).ptr;
                if (!c) rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
                *fields[f] = c;
            }
        s->spec.name = s->name;
        const char *const **lists[] = {&s->spec.namespaces, &s->spec.syn_scopes, &s->spec.syn_cols,
                                       &s->spec.xref_cols,  &s->spec.meta_cols,  &s->spec.syn_predicates,
                                       &s->spec.row_filters};
        size_t counts[] = {s->spec.n_namespaces, s->spec.n_syn_scopes, s->spec.n_syn_cols,
                           s->spec.n_xref_cols,  s->spec.n_meta_cols,  s->spec.n_syn_predicates,
                           s->spec.n_row_filters};
        for (size_t l = 0; l < NK(lists) && !rc; l++)
            for (size_t k = 0; k < counts[l] && !rc; k++) {
                const char **v = (const char **)*lists[l];
                v[k] = kz_arena_strdup(out->arena, v[k], strlen(v[k])).ptr;
                if (!v[k]) rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
            }
    }
done:
    kz_config_free(cfg);
    return rc;
}

void kz__recipe_free(kz_recipe *r) {
    if (!r) return;
    kz_arena_free(r->arena);
    memset(r, 0, sizeof *r);
}

int kz__recipe_load(const char *path, kz_recipe *out, char **text, size_t *text_len, kz_error *err) {
    memset(out, 0, sizeof *out);
    *text = NULL;
    *text_len = 0;
    kz_error_clear(err);
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (err) snprintf(err->path, sizeof err->path, "%s", path);
        return kz_error_set(err, errno == ENOENT ? KZ_ENOTFOUND : KZ_EIO, "cannot open recipe: %s",
                            strerror(errno));
    }
    kz_buf b;
    kz__buf_init(&b, 4u << 20);
    char chunk[65536];
    size_t got;
    int rc = 0;
    while (!rc && (got = fread(chunk, 1, sizeof chunk, f)) > 0) rc = kz__buf_append(&b, chunk, got);
    if (!rc && ferror(f)) rc = KZ_EIO;
    fclose(f);
    if (rc) {
        kz__buf_free(&b);
        if (err) snprintf(err->path, sizeof err->path, "%s", path);
        return kz_error_set(err, rc, rc == KZ_EIO ? "cannot read recipe" : "recipe larger than 4 MiB");
    }
    rc = kz__recipe_parse(b.data ? b.data : "", b.len, path, out, err);
    if (rc) {
        kz__recipe_free(out);
        kz__buf_free(&b);
        return rc;
    }
    *text = b.data ? b.data : calloc(1, 1);
    *text_len = b.len;
    if (!*text) {
        kz__recipe_free(out);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    return 0;
}

static int hash_file(kz_sha256 *h, const char *path, kz_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return kz_error_set(err, KZ_EIO, "cannot open %s: %s", path, strerror(errno));
    static __thread unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) kz__sha256_update(h, buf, n);
    int bad = ferror(f);
    fclose(f);
    return bad ? kz_error_set(err, KZ_EIO, "read error on %s", path) : 0;
}

int kz__recipe_hash(const kz_recipe *r, const char *text, size_t len, uint8_t out[32], kz_error *err) {
    kz_sha256 *h = kz__sha256_new();
    if (!h) return kz_error_set(err, KZ_ENOMEM, "sha256 context");
    kz__sha256_update(h, text, len);
    int rc = 0;
    for (size_t i = 0; i < r->n_sources && !rc; i++) {
        const kz_recipe_source *s = &r->sources[i];
        if (s->skipped) continue;
        rc = hash_file(h, s->spec.path, err);
        if (!rc && s->curations) rc = hash_file(h, s->curations, err);
    }
    if (!rc && r->global_actions) rc = hash_file(h, r->global_actions, err);
    uint32_t v = KZ_KB_FORMAT_VERSION;
    uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    kz__sha256_update(h, le, 4);
    kz__sha256_final(h, out);
    return rc;
}
