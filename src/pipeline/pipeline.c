/* The pipeline runner: builds steps from the `pipeline:` config, runs them over
 * batches with Kazu's prefilter, failure isolation, groups, handlers and timing. */
#include <errno.h>
#include <stdarg.h>
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "core/core_int.h"
#include "kazu/io.h"
#include "pipeline_int.h"

#define PIPE_STEP "Pipeline" /* names the pipeline itself in PROCESSING_EXCEPTION */

typedef struct step_inst {
    const kz_step_type *type;
    void *state;
    _Atomic uint64_t calls, docs, failures, total_ns;
} step_inst;

typedef struct step_group {
    const char *name;
    const char **steps; /* names, borrowed from the step types */
    size_t *idx;        /* indices into kz_pipeline.steps */
    size_t n;
} step_group;

struct kz_pipeline {
    kz_arena *arena; /* group arrays and strings */
    step_inst *steps;
    size_t n_steps;
    step_group *groups;
    size_t n_groups;
    int64_t skip_doc_len;
    size_t batch_size;
    const char *failure_dir; /* NULL = no file handler */
    _Atomic uint64_t skipped;
    /* Optional steps whose init failed: left out, with the reason. */
    const char **disabled, **disabled_why;
    size_t n_disabled;
};

/* ---- construction ---------------------------------------------------------- */
static int config_error(const kz_config_node *n, kz_error *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int config_error(const kz_config_node *n, kz_error *err, const char *fmt, ...) {
    if (!err) return KZ_ECONFIG;
    kz_config_locate(n, err);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = KZ_ECONFIG;
    return KZ_ECONFIG;
}

static void list_types(kz_buf *b) {
    for (size_t i = 0, n = kz_step_type_count(); i < n; i++)
        kz__buf_printf(b, "%s%s", i ? ", " : "", kz_step_type_at(i)->name);
}

static ptrdiff_t step_index(const kz_pipeline *p, const char *name) {
    for (size_t i = 0; i < p->n_steps; i++)
        if (strcmp(p->steps[i].type->name, name) == 0) return (ptrdiff_t)i;
    return -1;
}

static bool is_disabled(const kz_pipeline *p, const char *name) {
    for (size_t i = 0; name && i < p->n_disabled; i++)
        if (strcmp(p->disabled[i], name) == 0) return true;
    return false;
}

/* An optional step whose init failed: keep its name and the reason, log it. */
static int disable_step(kz_pipeline *p, const char *name, const kz_error *why) {
    char msg[600];
    kz_error_format(why, msg, sizeof msg);
    const char *n = kz_arena_strdup(p->arena, name, strlen(name)).ptr;
    const char *w = kz_arena_strdup(p->arena, msg, strlen(msg)).ptr;
    const char **v = kz_arena_calloc(p->arena, p->n_disabled + 1, sizeof *v);
    const char **vw = kz_arena_calloc(p->arena, p->n_disabled + 1, sizeof *vw);
    if (!n || !w || !v || !vw) return KZ_ENOMEM;
    if (p->n_disabled) {
        memcpy(v, p->disabled, p->n_disabled * sizeof *v);
        memcpy(vw, p->disabled_why, p->n_disabled * sizeof *vw);
    }
    v[p->n_disabled] = n;
    vw[p->n_disabled] = w;
    p->disabled = v;
    p->disabled_why = vw;
    p->n_disabled++;
    kz_log(KZ_LOG_WARN, "optional step %s is disabled: %s", name, msg);
    return 0;
}

static int add_step(kz_pipeline *p, const kz_config_node *item, kz_error *err) {
    static const char *const keys[] = {"type", "params", "optional"};
    const kz_config_node *params = NULL;
    const char *type_name = NULL;
    bool optional = false;
    int rc = 0;
    if (kz_config_node_type(item) == KZ_CONFIG_SCALAR) { /* shorthand: "- SentenceSplitter" */
        type_name = kz_config_node_scalar(item).ptr;
    } else if (kz_config_node_type(item) == KZ_CONFIG_MAP) {
        if ((rc = kz_config_check_keys(item, keys, 3, err))) return rc;
        if ((rc = kz_config_get_bool(item, "optional", false, &optional, err))) return rc;
        if ((rc = kz_config_get_string(item, "type", NULL, &type_name, err))) return rc;
        if (!type_name) return config_error(item, err, "a step needs a 'type'");
        params = kz_config_get(item, "params");
        kz_config_type pt = kz_config_node_type(params);
        if (pt == KZ_CONFIG_NULL)
            params = NULL;
        else if (pt != KZ_CONFIG_MAP)
            return config_error(params, err, "'params' of %s must be a map", type_name);
    } else {
        return config_error(item, err, "a step must be a step type name or a map with 'type' and 'params'");
    }
    const kz_step_type *t = kz_step_find(type_name);
    if (!t) {
        kz_buf known;
        kz__buf_init(&known, 2000);
        list_types(&known);
        rc = config_error(item, err, "unknown step type '%.100s' (registered: %s)", type_name,
                          known.data ? known.data : "none");
        kz__buf_free(&known);
        return rc;
    }
    if (step_index(p, t->name) >= 0)
        return config_error(item, err, "step '%s' is configured twice (the type is the step's namespace)",
                            t->name);
    step_inst *s = &p->steps[p->n_steps];
    memset(s, 0, sizeof *s);
    s->type = t;
    if (t->init) {
        kz_error_clear(err);
        rc = t->init(&s->state, params, err);
        if (rc) {
            /* Steps that report without a place get the step's own. */
            if (err && !err->path[0]) kz_config_locate(params ? params : item, err);
            if (err && strncmp(err->msg, t->name, strlen(t->name)) != 0) {
                char msg[sizeof err->msg];
                snprintf(msg, sizeof msg, "%.100s: %.400s", t->name,
                         err->msg[0] ? err->msg : kz_strerror(rc));
                memcpy(err->msg, msg, sizeof msg);
            }
            if (optional && rc != KZ_ENOMEM) {
                s->state = NULL;
                rc = disable_step(p, t->name, err);
                if (rc == 0) kz_error_clear(err);
                return rc;
            }
            return rc;
        }
    }
    p->n_steps++;
    return 0;
}

static int add_groups(kz_pipeline *p, const kz_config_node *groups, kz_error *err) {
    kz_config_type gt = kz_config_node_type(groups);
    if (gt == KZ_CONFIG_NULL) return 0;
    if (gt != KZ_CONFIG_MAP) return config_error(groups, err, "'step_groups' must be a map of name: [steps]");
    size_t ng = kz_config_node_len(groups);
    p->groups = kz_arena_calloc(p->arena, ng ? ng : 1, sizeof *p->groups);
    if (!p->groups) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    for (size_t g = 0; g < ng; g++) {
        const kz_config_node *list = kz_config_node_at(groups, g);
        kz_str gname = kz_config_node_key_at(groups, g);
        if (kz_config_node_type(list) != KZ_CONFIG_SEQ)
            return config_error(list, err, "step group '%.100s' must be a list of step names", gname.ptr);
        step_group *G = &p->groups[g];
        G->name = kz_arena_strdup(p->arena, gname.ptr, gname.len).ptr;
        size_t n_items = kz_config_node_len(list);
        G->n = 0;
        G->steps = kz_arena_calloc(p->arena, n_items ? n_items : 1, sizeof *G->steps);
        G->idx = kz_arena_calloc(p->arena, n_items ? n_items : 1, sizeof *G->idx);
        if (!G->name || !G->steps || !G->idx) return kz_error_set(err, KZ_ENOMEM, "out of memory");
        for (size_t j = 0; j < n_items; j++) {
            const kz_config_node *item = kz_config_node_at(list, j);
            bool scalar = kz_config_node_type(item) == KZ_CONFIG_SCALAR;
            const char *name = kz_config_node_scalar(item).ptr;
            ptrdiff_t k = scalar ? step_index(p, name) : -1;
            if (k < 0 && scalar && is_disabled(p, name))
                continue; /* a disabled optional step leaves its groups */
            if (k < 0)
                return config_error(item, err,
                                    "step group '%.100s' names '%.100s', which is not a configured step",
                                    G->name, name ? name : "(not a name)");
            G->idx[G->n] = (size_t)k;
            G->steps[G->n++] = p->steps[k].type->name;
        }
        p->n_groups++;
    }
    return 0;
}

static int configure(kz_pipeline *p, const kz_config_node *root, kz_error *err) {
    static const char *const keys[] = {"skip_doc_len", "batch_size", "steps", "step_groups", "failure_dir"};
    const kz_config_node *pc = kz_config_get(root, "pipeline");
    if (kz_config_node_type(pc) != KZ_CONFIG_MAP) {
        kz_config_locate(pc ? pc : root, err);
        return kz_error_set(err, KZ_ECONFIG, "the configuration needs a 'pipeline:' map");
    }
    int64_t skip, batch;
    const char *fdir;
    int rc = kz_config_check_keys(pc, keys, sizeof keys / sizeof *keys, err);
    if (!rc) rc = kz_config_get_int(pc, "skip_doc_len", 200000, 0, INT64_MAX, &skip, err);
    if (!rc) rc = kz_config_get_int(pc, "batch_size", 16, 1, 1 << 20, &batch, err);
    if (!rc) rc = kz_config_get_string(pc, "failure_dir", NULL, &fdir, err);
    if (rc) return rc;
    p->skip_doc_len = skip;
    p->batch_size = (size_t)batch;
    if (fdir && !(p->failure_dir = kz_arena_strdup(p->arena, fdir, strlen(fdir)).ptr))
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    const kz_config_node *steps = kz_config_get(pc, "steps");
    kz_config_type st = kz_config_node_type(steps);
    if (st != KZ_CONFIG_SEQ && st != KZ_CONFIG_NULL)
        return config_error(steps, err, "'steps' must be a list");
    size_t n = kz_config_node_len(steps);
    p->steps = calloc(n ? n : 1, sizeof *p->steps);
    if (!p->steps) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++)
        if ((rc = add_step(p, kz_config_node_at(steps, i), err))) return rc;
    return add_groups(p, kz_config_get(pc, "step_groups"), err);
}

int kz_pipeline_new(const kz_config_node *root, kz_pipeline **out, kz_error *err) {
    *out = NULL;
    kz_error_clear(err);
    kz_pipeline *p = calloc(1, sizeof *p);
    if (!p || !(p->arena = kz_arena_new(0))) {
        free(p);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    int rc = configure(p, root, err);
    if (rc) {
        kz_pipeline_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

int kz_pipeline_new_default(kz_pipeline **out, kz_error *err) {
    kz_config *cfg;
    const char *text = kz_pipeline_default_config();
    int rc = kz_config_load_string(&cfg, text, strlen(text), "<default config>", NULL, err);
    if (rc) {
        *out = NULL;
        return rc;
    }
    rc = kz_pipeline_new(kz_config_root(cfg), out, err);
    kz_config_free(cfg);
    return rc;
}

void kz_pipeline_free(kz_pipeline *p) {
    if (!p) return;
    for (size_t i = 0; i < p->n_steps; i++)
        if (p->steps[i].type->free) p->steps[i].type->free(p->steps[i].state);
    free(p->steps);
    kz_arena_free(p->arena);
    free(p);
}

/* ---- selection --------------------------------------------------------------- */
kz_pipeline_run_params kz_pipeline_run_default_params(void) {
    kz_pipeline_run_params r = {0};
    return r;
}

static void list_names(kz_buf *b, const kz_pipeline *p, bool groups) {
    size_t n = groups ? p->n_groups : p->n_steps;
    for (size_t i = 0; i < n; i++)
        kz__buf_printf(b, "%s%s", i ? ", " : "", groups ? p->groups[i].name : p->steps[i].type->name);
    if (!n) kz__buf_puts(b, "none");
}

static int unknown_name(const kz_pipeline *p, bool group, const char *name, kz_error *err) {
    kz_buf b;
    kz__buf_init(&b, 2000);
    list_names(&b, p, group);
    kz_error_set(err, KZ_ECONFIG, "unknown step%s '%.100s' (configured: %s)", group ? " group" : "", name,
                 b.data ? b.data : "");
    kz__buf_free(&b);
    return KZ_ECONFIG;
}

/* Resolve the selection into step indices (*sel malloc'd, caller frees). */
static int select_steps(const kz_pipeline *p, const kz_pipeline_run_params *rp, size_t **sel, size_t *n_sel,
                        kz_error *err) {
    *sel = NULL;
    *n_sel = 0;
    bool by_steps = rp && rp->steps && rp->n_steps, by_group = rp && rp->step_group;
    if (by_steps && by_group)
        return kz_error_set(err, KZ_ECONFIG, "give either a list of steps or a step group, not both");
    const step_group *G = NULL;
    if (by_group) {
        for (size_t g = 0; g < p->n_groups && !G; g++)
            if (strcmp(p->groups[g].name, rp->step_group) == 0) G = &p->groups[g];
        if (!G) return unknown_name(p, true, rp->step_group, err);
    }
    size_t n = by_steps ? rp->n_steps : G ? G->n : p->n_steps;
    size_t *v = malloc((n ? n : 1) * sizeof *v);
    if (!v) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (by_steps) {
            ptrdiff_t k = rp->steps[i] ? step_index(p, rp->steps[i]) : -1;
            if (k < 0) {
                free(v);
                return unknown_name(p, false, rp->steps[i] ? rp->steps[i] : "(null)", err);
            }
            v[i] = (size_t)k;
        } else {
            v[i] = G ? G->idx[i] : i;
        }
    }
    *sel = v;
    *n_sel = n;
    return 0;
}

int kz_pipeline_check_run_params(const kz_pipeline *p, const kz_pipeline_run_params *params, kz_error *err) {
    kz_error_clear(err);
    if (!p) return kz_error_set(err, KZ_EINVAL, "no pipeline");
    size_t *sel, n;
    int rc = select_steps(p, params, &sel, &n, err);
    free(sel);
    return rc;
}

/* ---- failure handling ------------------------------------------------------- */
typedef struct failure {
    size_t step; /* index into kz_pipeline.steps */
    const kz_doc *doc;
} failure;

typedef struct failure_list {
    failure *v;
    size_t n, cap;
} failure_list;

static int failure_add(failure_list *f, size_t step, const kz_doc *doc) {
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 16;
        failure *v = realloc(f->v, cap * sizeof *v);
        if (!v) return KZ_ENOMEM;
        f->v = v;
        f->cap = cap;
    }
    f->v[f->n++] = (failure){step, doc};
    return 0;
}

/* The PROCESSING_EXCEPTION text (decoded from its JSON string) into b. */
static void failure_text(const kz_doc *doc, kz_buf *b) {
    kz_str raw = kz_meta_get(&doc->metadata, KZ_PROCESSING_EXCEPTION);
    json_t *v = raw.ptr ? json_loadb(raw.ptr, raw.len, JSON_DECODE_ANY, NULL) : NULL;
    if (v && json_is_string(v))
        kz__buf_append(b, json_string_value(v), json_string_length(v));
    else
        kz__buf_puts(b, "No error message found in doc metadata");
    json_decref(v);
}

/* Document ids come from outside: keep them to one safe path component. */
static void safe_name(kz_str id, char *out, size_t cap) {
    size_t n = 0;
    for (size_t i = 0; i < id.len && n + 1 < cap && n < 200; i++) {
        char c = id.ptr[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '_' || (c == '.' && n > 0);
        out[n++] = ok ? c : '_';
    }
    if (n == 0) out[n++] = '_';
    out[n] = 0;
}

static int mkdirs(char *path) {
    for (char *s = path + 1; *s; s++) {
        if (*s != '/') continue;
        *s = 0;
        int rc = mkdir(path, 0777);
        *s = '/';
        if (rc && errno != EEXIST) return -1;
    }
    return mkdir(path, 0777) && errno != EEXIST ? -1 : 0;
}

static int write_file(const char *path, const char *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = fwrite(data, 1, len, f);
    return fclose(f) != 0 || w != len ? -1 : 0;
}

/* Kazu's FailedDocsFileHandler: <dir>/<step>/<id>.json and <id>_error.txt. */
static void write_failure_files(const char *dir, const char *step, const kz_doc *doc, const char *text) {
    char path[4096], name[256];
    safe_name(doc->idx, name, sizeof name);
    snprintf(path, sizeof path, "%s/%s", dir, step);
    if (mkdirs(path)) {
        kz_log(KZ_LOG_ERROR, "failure handler: cannot create %s: %s", path, strerror(errno));
        return;
    }
    char *json = NULL;
    size_t len = 0;
    int rc = kz_doc_to_kazu_json(doc, NULL, &json, &len);
    snprintf(path, sizeof path, "%s/%s/%s.json", dir, step, name);
    if (rc)
        kz_log(KZ_LOG_ERROR, "failure handler: cannot serialise document %s: %s", name, kz_strerror(rc));
    else if (write_file(path, json, len))
        kz_log(KZ_LOG_ERROR, "failure handler: cannot write %s: %s", path, strerror(errno));
    free(json);
    snprintf(path, sizeof path, "%s/%s/%s_error.txt", dir, step, name);
    if (write_file(path, text, strlen(text)))
        kz_log(KZ_LOG_ERROR, "failure handler: cannot write %s: %s", path, strerror(errno));
}

static void handle_failures(const kz_pipeline *p, const failure_list *f) {
    kz_buf text;
    kz__buf_init(&text, 0);
    for (size_t i = 0; i < f->n; i++) {
        const char *step = p->steps[f->v[i].step].type->name;
        const kz_doc *doc = f->v[i].doc;
        kz__buf_clear(&text);
        failure_text(doc, &text);
        const char *t = text.data ? text.data : "";
        kz_log(KZ_LOG_WARN, "processing failed for step %s, doc: %.*s, %s", step, (int)doc->idx.len,
               doc->idx.ptr, t);
        if (p->failure_dir) write_failure_files(p->failure_dir, step, doc, t);
    }
    kz__buf_free(&text);
}

/* ---- running ----------------------------------------------------------------------- */
static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Kazu's message: "batch failed: affected ids: ['a', 'b']" + the reason. */
static void mark_batch_failed(kz_doc **docs, size_t n, const char *step, const kz_error *e) {
    kz_buf b;
    kz__buf_init(&b, 0);
    kz__buf_puts(&b, "batch failed: affected ids: [");
    for (size_t i = 0; i < n; i++) {
        if (b.len > 4000) {
            kz__buf_puts(&b, ", ...");
            break;
        }
        kz__buf_printf(&b, "%s'%.*s'", i ? ", " : "", (int)docs[i]->idx.len, docs[i]->idx.ptr);
    }
    char reason[800];
    kz__buf_printf(&b, "]\n%s", kz_error_format(e, reason, sizeof reason));
    for (size_t i = 0; i < n; i++) kz_doc_set_failure(docs[i], step, b.data ? b.data : "batch failed");
    kz__buf_free(&b);
}

int kz_pipeline_run(const kz_pipeline *cp, kz_doc **docs, size_t n, const kz_pipeline_run_params *rp,
                    kz_error *err) {
    kz_error_clear(err);
    kz_pipeline *p = (kz_pipeline *)cp; /* only the atomic counters change */
    if (!p || (n && !docs)) return kz_error_set(err, KZ_EINVAL, "no pipeline or no documents");
    size_t *sel, n_sel;
    int rc = select_steps(p, rp, &sel, &n_sel, err);
    if (rc) return rc;
    kz_doc **active = malloc((n ? n : 1) * sizeof *active);
    kz_str *before = malloc((n ? n : 1) * sizeof *before);
    if (!active || !before) {
        free(sel);
        free(active);
        free(before);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t len = p->skip_doc_len ? kz_doc_char_len(docs[i]) : 0;
        if (p->skip_doc_len && len >= p->skip_doc_len) {
            char msg[96];
            snprintf(msg, sizeof msg, "document too long: %lld. max:%lld", (long long)len,
                     (long long)p->skip_doc_len);
            kz_doc_set_failure(docs[i], PIPE_STEP, msg);
            kz_log(KZ_LOG_WARN, "skipping doc: %.*s: reason: too long", (int)docs[i]->idx.len,
                   docs[i]->idx.ptr);
            atomic_fetch_add_explicit(&p->skipped, 1, memory_order_relaxed);
        } else {
            active[m++] = docs[i];
        }
    }
    failure_list fails = {0};
    for (size_t s = 0; s < n_sel && m; s++) {
        step_inst *st = &p->steps[sel[s]];
        kz_step_ctx ctx = {st->type->name, rp ? rp->cancel : NULL, rp ? rp->cancel_user : NULL};
        if (kz_step_cancelled(&ctx)) {
            rc = KZ_ECANCELLED;
        } else {
            for (size_t i = 0; i < m; i++)
                before[i] = kz_meta_get(&active[i]->metadata, KZ_PROCESSING_EXCEPTION);
            kz_error serr;
            kz_error_clear(&serr);
            uint64_t t0 = now_ns();
            int src = st->type->process(st->state, active, m, &ctx, &serr);
            atomic_fetch_add_explicit(&st->total_ns, now_ns() - t0, memory_order_relaxed);
            atomic_fetch_add_explicit(&st->calls, 1, memory_order_relaxed);
            atomic_fetch_add_explicit(&st->docs, m, memory_order_relaxed);
            if (src == KZ_ECANCELLED) {
                rc = KZ_ECANCELLED;
            } else {
                if (src < 0) {
                    if (!serr.code) serr.code = src;
                    mark_batch_failed(active, m, st->type->name, &serr);
                }
                uint64_t nf = 0;
                for (size_t i = 0; i < m; i++) {
                    kz_str after = kz_meta_get(&active[i]->metadata, KZ_PROCESSING_EXCEPTION);
                    if (!after.ptr || (after.ptr == before[i].ptr && after.len == before[i].len)) continue;
                    nf++;
                    if (failure_add(&fails, sel[s], active[i]))
                        kz_log(KZ_LOG_ERROR, "out of memory recording a failure of step %s", st->type->name);
                }
                atomic_fetch_add_explicit(&st->failures, nf, memory_order_relaxed);
            }
        }
        if (rc == KZ_ECANCELLED) {
            char msg[160];
            snprintf(msg, sizeof msg, "cancelled before step %s finished", st->type->name);
            for (size_t i = 0; i < m; i++) kz_doc_set_failure(active[i], PIPE_STEP, msg);
            kz_error_set(err, KZ_ECANCELLED, "%s", msg);
            break;
        }
    }
    handle_failures(p, &fails);
    free(fails.v);
    free(sel);
    free(active);
    free(before);
    return rc;
}

/* ---- introspection ----------------------------------------------------------------- */
size_t kz_pipeline_n_steps(const kz_pipeline *p) { return p ? p->n_steps : 0; }

const char *kz_pipeline_step_name(const kz_pipeline *p, size_t i) {
    return p && i < p->n_steps ? p->steps[i].type->name : NULL;
}

size_t kz_pipeline_n_disabled(const kz_pipeline *p) { return p ? p->n_disabled : 0; }

const char *kz_pipeline_disabled_step(const kz_pipeline *p, size_t i, const char **why) {
    if (!p || i >= p->n_disabled) return NULL;
    if (why) *why = p->disabled_why[i];
    return p->disabled[i];
}

size_t kz_pipeline_n_groups(const kz_pipeline *p) { return p ? p->n_groups : 0; }

const char *kz_pipeline_group_name(const kz_pipeline *p, size_t i) {
    return p && i < p->n_groups ? p->groups[i].name : NULL;
}

const char *const *kz_pipeline_group_steps(const kz_pipeline *p, size_t i, size_t *n) {
    if (!p || i >= p->n_groups) {
        if (n) *n = 0;
        return NULL;
    }
    if (n) *n = p->groups[i].n;
    return p->groups[i].steps;
}

size_t kz_pipeline_batch_size(const kz_pipeline *p) { return p ? p->batch_size : 0; }
int64_t kz_pipeline_skip_doc_len(const kz_pipeline *p) { return p ? p->skip_doc_len : 0; }

int kz_pipeline_stats(const kz_pipeline *p, size_t i, kz_step_stats *out) {
    if (!p || i >= p->n_steps || !out) return KZ_ERANGE;
    step_inst *s = &((kz_pipeline *)p)->steps[i];
    out->name = s->type->name;
    out->calls = atomic_load_explicit(&s->calls, memory_order_relaxed);
    out->docs = atomic_load_explicit(&s->docs, memory_order_relaxed);
    out->failures = atomic_load_explicit(&s->failures, memory_order_relaxed);
    out->total_ns = atomic_load_explicit(&s->total_ns, memory_order_relaxed);
    return 0;
}

uint64_t kz_pipeline_skipped_docs(const kz_pipeline *p) {
    return p ? atomic_load_explicit(&((kz_pipeline *)p)->skipped, memory_order_relaxed) : 0;
}

void kz_pipeline_stats_reset(kz_pipeline *p) {
    if (!p) return;
    for (size_t i = 0; i < p->n_steps; i++) {
        atomic_store(&p->steps[i].calls, 0);
        atomic_store(&p->steps[i].docs, 0);
        atomic_store(&p->steps[i].failures, 0);
        atomic_store(&p->steps[i].total_ns, 0);
    }
    atomic_store(&p->skipped, 0);
}
