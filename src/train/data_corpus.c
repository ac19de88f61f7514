/* The corpus list (train/corpora.yaml): entries with name, split, format,
 * path and a label map from corpus types to the default classes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/core_int.h"
#include "data_int.h"
#include "kazu/config.h"

const char *const kz__train_classes[KZ_TRAIN_N_CLASSES] = {"gene",      "disease",   "drug",    "species",
                                                           "cell_line", "cell_type", "anatomy", "mutation"};

int kz__train_class_index(const char *name, size_t len) {
    for (int i = 0; i < KZ_TRAIN_N_CLASSES; i++)
        if (strlen(kz__train_classes[i]) == len && memcmp(kz__train_classes[i], name, len) == 0) return i;
    return -1;
}

char *kz__expand_env(const char *s) {
    kz_buf b;
    kz__buf_init(&b, 1 << 16);
    int rc = kz__buf_append(&b, "", 0);
    for (const char *p = s; !rc && *p;) {
        if (p[0] == '$' && p[1] == '{') {
            const char *close = strchr(p + 2, '}');
            if (!close) {
                rc = KZ_EPARSE;
                break;
            }
            const char *dflt = NULL;
            size_t nlen = (size_t)(close - (p + 2));
            const char *sep = memmem(p + 2, nlen, ":-", 2);
            if (sep) {
                dflt = sep + 2;
                nlen = (size_t)(sep - (p + 2));
            }
            char name[256];
            if (nlen == 0 || nlen >= sizeof name) {
                rc = KZ_EPARSE;
                break;
            }
            memcpy(name, p + 2, nlen);
            name[nlen] = 0;
            const char *v = getenv(name);
            if (v && *v)
                rc = kz__buf_puts(&b, v);
            else if (dflt)
                rc = kz__buf_append(&b, dflt, (size_t)(close - dflt));
            p = close + 1;
        } else {
            rc = kz__buf_putc(&b, *p++);
        }
    }
    if (rc) {
        kz__buf_free(&b);
        return NULL;
    }
    return b.data;
}

static void spec_free(kz__corpus_spec *c) {
    free(c->name);
    free(c->split);
    free(c->format);
    free(c->path);
    free(c->exclude_overlap);
    for (uint32_t i = 0; i < c->n_map; i++) free(c->map[i].type);
    free(c->map);
}

void kz__corpora_free(kz__corpus_list *l) {
    if (!l) return;
    for (size_t i = 0; i < l->n; i++) spec_free(&l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static int node_fail(const kz_config_node *n, kz_error *err, int code, const char *msg, const char *arg) {
    kz_error_set(err, code, msg, arg ? arg : "");
    kz_config_locate(n, err);
    return code;
}

/* A path from the YAML: env-expanded, relative to base_dir unless absolute. */
static char *resolve_path(const char *p, const char *base_dir) {
    char *x = kz__expand_env(p);
    if (!x || x[0] == '/' || !base_dir || !base_dir[0]) return x;
    size_t n = strlen(base_dir) + strlen(x) + 2;
    char *r = malloc(n);
    if (r) snprintf(r, n, "%s/%s", base_dir, x);
    free(x);
    return r;
}

static int parse_map(const kz_config_node *m, kz__corpus_spec *c, kz_error *err) {
    if (kz_config_node_type(m) != KZ_CONFIG_MAP || kz_config_node_len(m) == 0)
        return node_fail(m, err, KZ_ECONFIG, "corpus '%s': labels must be a non-empty map type -> class(es)",
                         c->name);
    size_t n = kz_config_node_len(m);
    if (n > KZ_TRAIN_MAX_MAP) return node_fail(m, err, KZ_ELIMIT, "corpus '%s': too many labels", c->name);
    c->map = calloc(n, sizeof *c->map);
    if (!c->map) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const kz_config_node *v = kz_config_node_at(m, i);
        kz__label_map_entry *e = &c->map[c->n_map++];
        e->type = strdup(kz_config_node_key_at(m, i).ptr);
        if (!e->type) return kz_error_set(err, KZ_ENOMEM, "out of memory");
        size_t nv = kz_config_node_type(v) == KZ_CONFIG_SEQ ? kz_config_node_len(v) : 1;
        for (size_t k = 0; k < nv; k++) {
            const kz_config_node *x = kz_config_node_type(v) == KZ_CONFIG_SEQ ? kz_config_node_at(v, k) : v;
            kz_str s = kz_config_node_scalar(x);
            int ci = kz_config_node_type(x) == KZ_CONFIG_SCALAR ? kz__train_class_index(s.ptr, s.len) : -1;
            if (ci < 0)
                return node_fail(x, err, KZ_ECONFIG,
                                 "label map value '%s' is not a default class (gene disease drug species "
                                 "cell_line cell_type anatomy mutation)",
                                 s.ptr ? s.ptr : "");
            e->classes |= 1u << ci;
        }
        c->classes |= e->classes;
    }
    return 0;
}

static int parse_entry(const kz_config_node *n, const char *base_dir, kz__corpus_spec *c, kz_error *err) {
    static const char *const keys[] = {"name",   "split",   "format",         "path",
                                       "labels", "enabled", "exclude_overlap"};
    int rc = kz_config_check_keys(n, keys, sizeof keys / sizeof *keys, err);
    if (rc) return rc;
    const char *name, *split, *format, *path, *excl;
    c->line = kz_config_node_line(n);
    if ((rc = kz_config_get_string(n, "name", NULL, &name, err))) return rc;
    if ((rc = kz_config_get_string(n, "split", "train", &split, err))) return rc;
    if ((rc = kz_config_get_string(n, "format", NULL, &format, err))) return rc;
    if ((rc = kz_config_get_string(n, "path", NULL, &path, err))) return rc;
    if ((rc = kz_config_get_string(n, "exclude_overlap", NULL, &excl, err))) return rc;
    if ((rc = kz_config_get_bool(n, "enabled", true, &c->enabled, err))) return rc;
    if (!name || !name[0]) return node_fail(n, err, KZ_ECONFIG, "corpus entry needs a name%s", NULL);
    if (!path) return node_fail(n, err, KZ_ECONFIG, "corpus '%s' needs a path", name);
    if (!format || (strcmp(format, "conll") && strcmp(format, "pubtator") && strcmp(format, "brat") &&
                    strcmp(format, "brat-tar")))
        return node_fail(kz_config_get(n, "format"), err, KZ_ECONFIG,
                         "corpus '%s': format must be conll, pubtator, brat or brat-tar", name);
    if (strcmp(split, "train") && strcmp(split, "devel"))
        return node_fail(kz_config_get(n, "split"), err, KZ_ECONFIG,
                         "corpus '%s': split must be train or devel", name);
    c->name = strdup(name);
    c->split = strdup(split);
    c->format = strdup(format);
    c->path = resolve_path(path, base_dir);
    if (excl) c->exclude_overlap = resolve_path(excl, base_dir);
    if (!c->name || !c->split || !c->format || !c->path || (excl && !c->exclude_overlap))
        return node_fail(n, err, KZ_ECONFIG, "corpus '%s': out of memory or bad ${VAR} in a path", name);
    const kz_config_node *m = kz_config_get(n, "labels");
    return parse_map(m ? m : n, c, err);
}

static int parse_root(const kz_config *cfg, const char *base_dir, kz__corpus_list *out, kz_error *err) {
    const kz_config_node *root = kz_config_root(cfg);
    const kz_config_node *seq = kz_config_get(root, "corpora");
    if (kz_config_node_type(seq) != KZ_CONFIG_SEQ)
        return node_fail(root, err, KZ_ECONFIG, "the corpus list needs a top-level 'corpora:' sequence%s",
                         NULL);
    size_t n = kz_config_node_len(seq);
    if (n > KZ_TRAIN_MAX_CORPORA) return node_fail(seq, err, KZ_ELIMIT, "more than 256 corpora%s", NULL);
    out->v = calloc(n ? n : 1, sizeof *out->v);
    if (!out->v) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const kz_config_node *e = kz_config_node_at(seq, i);
        out->n++;
        if (kz_config_node_type(e) != KZ_CONFIG_MAP)
            return node_fail(e, err, KZ_ECONFIG, "corpus entry %s is not a map", NULL);
        int rc = parse_entry(e, base_dir, &out->v[i], err);
        if (rc) return rc;
    }
    return 0;
}

int kz__corpora_parse(const char *text, size_t len, const char *name, const char *base_dir,
                      kz__corpus_list *out, kz_error *err) {
    memset(out, 0, sizeof *out);
    kz_config *cfg;
    int rc = kz_config_load_string(&cfg, text, len, name, NULL, err);
    if (rc) return rc;
    rc = parse_root(cfg, base_dir, out, err);
    kz_config_free(cfg);
    if (rc) kz__corpora_free(out);
    return rc;
}

int kz__corpora_load(const char *yaml_path, kz__corpus_list *out, kz_error *err) {
    memset(out, 0, sizeof *out);
    kz_config *cfg;
    int rc = kz_config_load_file(&cfg, yaml_path, NULL, err);
    if (rc) return rc;
    char *dir = strdup(yaml_path);
    if (!dir) {
        kz_config_free(cfg);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        strcpy(dir, ".");
    rc = parse_root(cfg, dir, out, err);
    free(dir);
    kz_config_free(cfg);
    if (rc) kz__corpora_free(out);
    return rc;
}
