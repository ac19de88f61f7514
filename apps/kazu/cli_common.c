/* The CLI's shared machinery: I/O options, input expansion (globs, directories,
 * stdin), and the batched read -> pipeline -> write loop with its reports. */
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"

void cli_io_init(cli_io *o) {
    memset(o, 0, sizeof *o);
    o->out_fmt = KZ_FORMAT_KAZU_JSON;
}

int cli_usage(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "kazu %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\nRun 'kazu help %s' for usage.\n", cmd);
    va_end(ap);
    return CLI_USAGE;
}

int cli_bad_option(const char *cmd, char **argv) {
    const char *arg = argv[optind - 1];
    if (strncmp(arg, "--", 2) == 0) return cli_usage(cmd, "unknown option or missing value: '%s'", arg);
    return cli_usage(cmd, "unknown option or missing value: '-%c'", optopt);
}

void cli_report(const kz_error *err) {
    char buf[1400];
    fprintf(stderr, "%s\n", kz_error_format(err, buf, sizeof buf));
}

static int parse_format(const char *cmd, const char *opt, const char *arg, bool out, kz_format *f) {
    kz_format v = kz_format_parse(arg);
    if (v == KZ_FORMAT_UNKNOWN || (out ? !kz_format_can_write(v) : !kz_format_can_read(v)))
        return cli_usage(cmd, "%s: '%s' is not a format kazu can %s", opt, arg, out ? "write" : "read");
    *f = v;
    return 0;
}

int cli_io_option(const char *cmd, int c, const char *arg, cli_io *o) {
    switch (c) {
    case 'i': return parse_format(cmd, "--in-format", arg, false, &o->in_fmt);
    case 'f': return parse_format(cmd, "--out-format", arg, true, &o->out_fmt);
    case 'o': o->out = arg; return 0;
    case 256: o->lines = true; return 0;
    case 257: o->omit_candidates = true; return 0;
    case 258: o->no_ascii = true; return 0;
    case 'q': o->quiet = true; return 0;
    case 'b': {
        char *end;
        errno = 0;
        long long v = strtoll(arg, &end, 10);
        if (*arg == 0 || *end || errno || v < 1 || v > (1 << 20))
            return cli_usage(cmd, "--batch-size: expected a number from 1 to %d, got '%s'", 1 << 20, arg);
        o->batch_size = (size_t)v;
        return 0;
    }
    default: return 1;
    }
}

/* ---- inputs ---------------------------------------------------------------- */
typedef struct strlist {
    char **v;
    size_t n, cap;
} strlist;

static int strlist_add(strlist *l, const char *s) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v) return -1;
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(s))) return -1;
    l->n++;
    return 0;
}

static void strlist_free(strlist *l) {
    for (size_t i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The regular files of a directory, sorted, hidden ones skipped. */
static int add_dir(strlist *l, const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    size_t first = l->n;
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) rc = strlist_add(l, path);
    }
    closedir(d);
    qsort(l->v + first, l->n - first, sizeof *l->v, cmp_str);
    return rc;
}

/* Expand one argument; an argument that names nothing is kept so that
 * opening it reports the error in order. Returns -1 only on OOM. */
static int expand_input(strlist *l, const char *arg) {
    struct stat st;
    if (strcmp(arg, "-") != 0 && stat(arg, &st) == 0 && S_ISDIR(st.st_mode)) return add_dir(l, arg);
    if (strcmp(arg, "-") != 0 && strpbrk(arg, "*?[") && stat(arg, &st) != 0) {
        glob_t g;
        int rc = glob(arg, 0, NULL, &g);
        if (rc == 0) {
            for (size_t i = 0; i < g.gl_pathc && !rc; i++) rc = strlist_add(l, g.gl_pathv[i]);
            globfree(&g);
            return rc;
        }
        if (rc != GLOB_NOMATCH) return -1;
    }
    return strlist_add(l, arg);
}

/* ---- the loop ------------------------------------------------------------------- */
typedef struct run_state {
    const cli_io *o;
    const kz_pipeline *p;
    const kz_pipeline_run_params *rp;
    kz_writer *w;
    kz_doc **docs;
    const char **src; /* input path of each batched doc */
    kz_str *before;   /* PROCESSING_EXCEPTION before the pipeline */
    size_t n, cap;
    uint64_t read, written, failed, rejected, unreadable, unwritten;
    bool fatal;
} run_state;

/* One line naming the document and the failure the pipeline recorded. */
static void report_failed_doc(const char *path, const kz_doc *doc) {
    kz_error e;
    kz_error_clear(&e);
    e.code = KZ_ESTEP;
    snprintf(e.path, sizeof e.path, "%s", path);
    snprintf(e.doc_id, sizeof e.doc_id, "%.*s", (int)doc->idx.len, doc->idx.ptr);
    kz_str raw = kz_meta_get(&doc->metadata, KZ_PROCESSING_EXCEPTION);
    json_t *v = json_loadb(raw.ptr, raw.len, JSON_DECODE_ANY, NULL);
    snprintf(e.msg, sizeof e.msg, "%s", v && json_is_string(v) ? json_string_value(v) : "processing failed");
    json_decref(v);
    for (char *c = e.msg; *c; c++)
        if (*c == '\n') *c = ' ';
    cli_report(&e);
}

static void flush_batch(run_state *s) {
    kz_error err;
    if (s->p && s->n) {
        for (size_t i = 0; i < s->n; i++)
            s->before[i] = kz_meta_get(&s->docs[i]->metadata, KZ_PROCESSING_EXCEPTION);
        int rc = kz_pipeline_run(s->p, s->docs, s->n, s->rp, &err);
        if (rc) {
            cli_report(&err);
            s->fatal = true;
        }
        for (size_t i = 0; i < s->n; i++) {
            kz_str after = kz_meta_get(&s->docs[i]->metadata, KZ_PROCESSING_EXCEPTION);
            if (after.ptr && (after.ptr != s->before[i].ptr || after.len != s->before[i].len)) {
                s->failed++;
                report_failed_doc(s->src[i], s->docs[i]);
            }
        }
    }
    for (size_t i = 0; i < s->n; i++) {
        if (!s->fatal) {
            int rc = kz_writer_write(s->w, s->docs[i], &err);
            if (rc == KZ_EIO || rc == KZ_ENOMEM) {
                cli_report(&err);
                s->fatal = true;
            } else if (rc) {
                snprintf(err.doc_id, sizeof err.doc_id, "%.*s", (int)s->docs[i]->idx.len,
                         s->docs[i]->idx.ptr);
                cli_report(&err);
                s->unwritten++;
            } else {
                s->written++;
            }
        }
        kz_doc_free(s->docs[i]);
    }
    s->n = 0;
}

static void read_input(run_state *s, const char *path) {
    kz_reader_params rpar = kz_reader_default_params();
    rpar.text_one_per_line = s->o->lines;
    kz_reader *r;
    kz_error err;
    if (kz_reader_open_path(&r, path, s->o->in_fmt, &rpar, &err)) {
        cli_report(&err);
        s->unreadable++;
        return;
    }
    kz_doc *doc;
    int rc;
    while (!s->fatal && (rc = kz_reader_next(r, &doc, &err)) != 0) {
        if (rc < 0) {
            cli_report(&err);
            s->rejected++;
            continue;
        }
        s->read++;
        s->docs[s->n] = doc;
        s->src[s->n++] = path;
        if (s->n == s->cap) flush_batch(s);
    }
    kz_reader_close(r);
}

static void cli_log(kz_log_level level, const char *msg, void *user) {
    (void)user;
    fprintf(stderr, "kazu: %s: %s\n", level >= KZ_LOG_ERROR ? "error" : "warning", msg);
}

int cli_process(const char *cmd, const cli_io *o, char **inputs, int n_inputs, const kz_pipeline *p,
                const kz_pipeline_run_params *rp) {
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* The pipeline's own WARN lines would repeat the per-document reports below. */
    kz_log_set_sink(cli_log, NULL, KZ_LOG_ERROR);
    if (o->out_fmt == KZ_FORMAT_BRAT && !o->out) return cli_usage(cmd, "brat output needs --out DIRECTORY");
    strlist in = {0};
    for (int i = 0; i < n_inputs; i++)
        if (expand_input(&in, inputs[i])) {
            fprintf(stderr, "kazu %s: out of memory\n", cmd);
            strlist_free(&in);
            return CLI_FATAL;
        }
    run_state s = {0};
    s.o = o;
    s.p = p;
    s.rp = rp;
    s.cap = o->batch_size ? o->batch_size : p ? kz_pipeline_batch_size(p) : 64;
    s.docs = malloc(s.cap * sizeof *s.docs);
    s.src = malloc(s.cap * sizeof *s.src);
    s.before = malloc(s.cap * sizeof *s.before);
    kz_writer_params wp = kz_writer_default_params();
    wp.omit_linking_candidates = o->omit_candidates;
    wp.ascii_only = !o->no_ascii;
    kz_error err;
    int code = CLI_OK;
    if (!s.docs || !s.src || !s.before) {
        fprintf(stderr, "kazu %s: out of memory\n", cmd);
        code = CLI_FATAL;
    } else if (kz_writer_open_path(&s.w, o->out ? o->out : "-", o->out_fmt, &wp, &err)) {
        cli_report(&err);
        code = CLI_FATAL;
    } else {
        for (size_t i = 0; i < in.n && !s.fatal; i++) read_input(&s, in.v[i]);
        flush_batch(&s);
        if (kz_writer_close(s.w, &err)) {
            cli_report(&err);
            s.fatal = true;
        }
        if (s.fatal || s.unreadable)
            code = CLI_FATAL;
        else if (s.rejected || s.failed || s.unwritten)
            code = CLI_PARTIAL;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (!o->quiet) {
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        fprintf(stderr,
                "kazu %s: %llu documents read, %llu written, %llu failed processing, %llu records rejected, "
                "%llu inputs unreadable, %.2f s\n",
                cmd, (unsigned long long)s.read, (unsigned long long)s.written, (unsigned long long)s.failed,
                (unsigned long long)s.rejected, (unsigned long long)s.unreadable, secs);
    }
    free(s.docs);
    free(s.src);
    free(s.before);
    strlist_free(&in);
    return code;
}

/* Resources next to the executable, for configurations that name
 * ${KAZU_KB} / ${KAZU_MODEL}: the first existing candidate becomes the
 * variable's value unless the user set it. The build tree puts the packs in
 * build/kb/ beside build/kazu and the shipped model in models/ of the source
 * tree; an installed kazu looks in ../share/kazu-c/. */
static void default_resource(const char *var, const char *const *rel, size_t n) {
    if (getenv(var)) return;
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) return;
    exe[len] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash) return;
    *slash = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", exe, rel[i]);
        if (access(path, R_OK) == 0) {
            setenv(var, path, 0);
            return;
        }
    }
}

void cli_default_resources(void) {
    static const char *const kb[] = {"kb/full.kzkb", "kb/default.kzkb", "../share/kazu-c/kb/default.kzkb"};
    static const char *const model[] = {"../models/kazu-c-ner/model.kzm",
                                        "../share/kazu-c/models/kazu-c-ner/model.kzm"};
    default_resource("KAZU_KB", kb, sizeof kb / sizeof kb[0]);
    default_resource("KAZU_MODEL", model, sizeof model / sizeof model[0]);
}

kz_pipeline *cli_load_pipeline(const char *config_path) {
    kz_error err;
    cli_default_resources();
    kz_pipeline *p = NULL;
    int rc;
    if (config_path) {
        kz_config *cfg;
        rc = kz_config_load_file(&cfg, config_path, NULL, &err);
        if (!rc) {
            rc = kz_pipeline_new(kz_config_root(cfg), &p, &err);
            kz_config_free(cfg);
        }
    } else {
        rc = kz_pipeline_new_default(&p, &err);
    }
    if (rc) cli_report(&err);
    return rc ? NULL : p;
}

/* Split "A,B" into a malloc'd array of pointers into the (modified) string. */
const char **cli_split_commas(char *s, size_t *n) {
    size_t cap = 1;
    for (const char *c = s; *c; c++) cap += *c == ',';
    const char **v = malloc(cap * sizeof *v);
    if (!v) return NULL;
    *n = 0;
    for (char *tok = strtok(s, ","); tok; tok = strtok(NULL, ",")) v[(*n)++] = tok;
    return v;
}
