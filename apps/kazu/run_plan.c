/* `kazu run`: shard planning (inputs -> shards -> output names), the
 * append-only manifest and the failures file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "run_int.h"

/* ---- index lists ---------------------------------------------------------------- */
int run_idx_add(run_idx *l, uint32_t x) {
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (l->v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < l->n && l->v[lo] == x) return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        uint32_t *v = realloc(l->v, cap * sizeof *v);
        if (!v) return -1;
        l->v = v;
        l->cap = cap;
    }
    memmove(l->v + lo + 1, l->v + lo, (l->n - lo) * sizeof *l->v);
    l->v[lo] = x;
    l->n++;
    return 0;
}

bool run_idx_has(const run_idx *l, uint32_t x) {
    size_t lo = 0, hi = l->n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (l->v[mid] == x) return true;
        if (l->v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

void run_idx_free(run_idx *l) {
    free(l->v);
    memset(l, 0, sizeof *l);
}

/* ---- planning ------------------------------------------------------------------- */
const char *run_out_ext(kz_format f) {
    switch (f) {
    case KZ_FORMAT_PUBTATOR: return ".pubtator";
    case KZ_FORMAT_BIOC_XML: return ".bioc.xml";
    case KZ_FORMAT_BIOC_JSON: return ".bioc.json";
    case KZ_FORMAT_CONLL: return ".conll";
    case KZ_FORMAT_LABEL_STUDIO: return ".json";
    default: return ".jsonl";
    }
}

static int plan_add(run_plan *p, size_t *cap, const char *path) {
    if (p->n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        run_shard *v = realloc(p->v, c * sizeof *v);
        if (!v) return -1;
        p->v = v;
        *cap = c;
    }
    run_shard *s = &p->v[p->n];
    memset(s, 0, sizeof *s);
    if (!(s->in = strdup(path))) return -1;
    p->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int add_dir(run_plan *p, size_t *cap, const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    char **names = NULL;
    size_t n = 0, c = 0;
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        struct stat st;
        size_t dl = strlen(dir);
        while (dl > 1 && dir[dl - 1] == '/') dl--;
        snprintf(path, sizeof path, "%.*s/%s", (int)dl, dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (n == c) {
            c = c ? 2 * c : 64;
            char **v = realloc(names, c * sizeof *v);
            if (!v) {
                rc = -1;
                break;
            }
            names = v;
        }
        if (!(names[n] = strdup(path)))
            rc = -1;
        else
            n++;
    }
    closedir(d);
    if (n) qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n; i++) {
        if (!rc) rc = plan_add(p, cap, names[i]);
        free(names[i]);
    }
    free(names);
    return rc;
}

/* Output stem: the base name without .gz and one format extension. */
static char *stem_of(const char *path) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    char *s = strdup(b);
    if (!s) return NULL;
    size_t n = strlen(s);
    if (n > 3 && !strcmp(s + n - 3, ".gz")) s[n -= 3] = 0;
    static const char *const exts[] = {".xml", ".jsonl", ".json", ".txt", ".pubtator", ".PubTator", ".tsv"};
    for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
        size_t k = strlen(exts[i]);
        if (n > k && !strcmp(s + n - k, exts[i])) {
            s[n - k] = 0;
            break;
        }
    }
    return s;
}

int run_plan_build(run_plan *p, char **inputs, int n, const run_opts *o) {
    memset(p, 0, sizeof *p);
    size_t cap = 0;
    for (int i = 0; i < n; i++) {
        const char *arg = inputs[i];
        struct stat st;
        int rc = 0;
        if (stat(arg, &st) == 0) {
            rc = S_ISDIR(st.st_mode) ? add_dir(p, &cap, arg) : plan_add(p, &cap, arg);
        } else if (strpbrk(arg, "*?[")) {
            glob_t g;
            int grc = glob(arg, 0, NULL, &g);
            if (grc == GLOB_NOMATCH) {
                fprintf(stderr, "kazu run: %s: no file matches\n", arg);
                return CLI_FATAL;
            }
            if (grc) return CLI_FATAL;
            for (size_t k = 0; k < g.gl_pathc && !rc; k++)
                if (stat(g.gl_pathv[k], &st) == 0 && S_ISREG(st.st_mode))
                    rc = plan_add(p, &cap, g.gl_pathv[k]);
            globfree(&g);
        } else {
            fprintf(stderr, "kazu run: %s: %s\n", arg, strerror(errno));
            return CLI_FATAL;
        }
        if (rc) {
            fprintf(stderr, "kazu run: %s: cannot list (%s)\n", arg, strerror(errno));
            return CLI_FATAL;
        }
    }
    if (!p->n) {
        fprintf(stderr, "kazu run: no input files\n");
        return CLI_USAGE;
    }
    const char *ext = run_out_ext(o->out_fmt);
    for (size_t i = 0; i < p->n; i++) {
        run_shard *s = &p->v[i];
        if (strpbrk(s->in, "\t\n\r")) {
            fprintf(stderr, "kazu run: %s: tabs and newlines in input paths are not supported\n", s->in);
            return CLI_USAGE;
        }
        for (size_t j = 0; j < i; j++)
            if (!strcmp(p->v[j].in, s->in)) {
                fprintf(stderr, "kazu run: %s: given twice\n", s->in);
                return CLI_USAGE;
            }
        struct stat st;
        s->size = stat(s->in, &st) == 0 ? (int64_t)st.st_size : 0;
        p->total_bytes += s->size;
    }
    /* Names: stem + ext; stems shared by several inputs get "-<shard number>". */
    char **stems = calloc(p->n, sizeof *stems);
    if (!stems) return CLI_FATAL;
    int rc = 0;
    for (size_t i = 0; i < p->n && !rc; i++)
        if (!(stems[i] = stem_of(p->v[i].in))) rc = CLI_FATAL;
    for (size_t i = 0; i < p->n && !rc; i++) {
        bool dup = false;
        for (size_t j = 0; j < p->n && !dup; j++) dup = j != i && !strcmp(stems[i], stems[j]);
        size_t len = strlen(stems[i]) + strlen(ext) + 24;
        if (!(p->v[i].name = malloc(len))) {
            rc = CLI_FATAL;
            break;
        }
        if (dup)
            snprintf(p->v[i].name, len, "%s-%zu%s", stems[i], i, ext);
        else
            snprintf(p->v[i].name, len, "%s%s", stems[i], ext);
        if (!strcmp(p->v[i].name, "kazu-run.manifest.jsonl") || !strcmp(p->v[i].name, "failures.jsonl"))
            snprintf(p->v[i].name, len, "%s-%zu%s", stems[i], i, ext);
    }
    for (size_t i = 0; i < p->n; i++) free(stems[i]);
    free(stems);
    return rc;
}

void run_plan_free(run_plan *p) {
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].in);
        free(p->v[i].name);
        run_idx_free(&p->v[i].skip);
        run_idx_free(&p->v[i].solo);
    }
    free(p->v);
    memset(p, 0, sizeof *p);
}

run_shard *run_plan_find(run_plan *p, const char *in) {
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->v[i].in, in)) return &p->v[i];
    return NULL;
}

/* ---- manifest ------------------------------------------------------------------- */
static char *read_all(int fd, size_t *len) {
    struct stat st;
    if (fstat(fd, &st) != 0) return NULL;
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (!buf) return NULL;
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(fd, buf + got, n - got, (off_t)got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    buf[got] = 0;
    *len = got;
    return buf;
}

static int fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int run_manifest_append(run_manifest *m, const char *json) {
    size_t n = strlen(json);
    char *line = malloc(n + 2);
    if (!line) return -1;
    memcpy(line, json, n);
    line[n++] = '\n';
    size_t off = 0;
    int rc = 0;
    while (off < n) {
        ssize_t w = write(m->fd, line + off, n - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
            rc = -1;
            break;
        }
        off += (size_t)w;
    }
    free(line);
    if (!rc) rc = fdatasync(m->fd);
    return rc;
}

/* Apply the records of a manifest's text (NUL-terminated, whole lines) to
 * the plan. Lines that are not records are reported and skipped. */
int run_manifest_apply(run_plan *p, const run_opts *o, char *buf, const char *name, bool *have_start) {
    int rc = 0;
    size_t lineno = 0;
    for (char *line = buf; *line && !rc;) {
        char *nl = strchr(line, '\n');
        if (!nl) break; /* a torn last line */
        *nl = 0;
        lineno++;
        json_t *v = json_loads(line, 0, NULL);
        const char *ev = json_string_value(json_object_get(v, "event"));
        if (!v || !ev) {
            fprintf(stderr, "kazu run: %s:%zu: not a manifest record; ignored\n", name, lineno);
        } else if (!strcmp(ev, "start")) {
            *have_start = true;
            const char *f = json_string_value(json_object_get(v, "out_format"));
            if (!f || strcmp(f, kz_format_name(o->out_fmt))) {
                fprintf(
                    stderr,
                    "kazu run: %s was written by a run with --out-format %s; resume with the same options or "
                    "use another --out directory\n",
                    name, f ? f : "?");
                rc = CLI_USAGE;
            }
        } else {
            const char *in = json_string_value(json_object_get(v, "shard"));
            run_shard *s = in ? run_plan_find(p, in) : NULL;
            if (s && !strcmp(ev, "done")) s->done = true;
            if (s && !strcmp(ev, "quarantine")) {
                json_int_t d = json_integer_value(json_object_get(v, "doc"));
                if (d >= 0 && d <= UINT32_MAX && run_idx_add(&s->skip, (uint32_t)d)) rc = CLI_FATAL;
            }
        }
        json_decref(v);
        line = nl + 1;
    }
    return rc;
}

int run_manifest_open(run_manifest *m, run_plan *p, const run_opts *o) {
    memset(m, 0, sizeof *m);
    m->fd = -1;
    if (mkdir(o->outdir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "kazu run: %s: cannot create (%s)\n", o->outdir, strerror(errno));
        return CLI_FATAL;
    }
    size_t len = strlen(o->outdir) + 32;
    if (!(m->path = malloc(len))) return CLI_FATAL;
    snprintf(m->path, len, "%s/kazu-run.manifest.jsonl", o->outdir);
    m->fd = open(m->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (m->fd < 0) {
        fprintf(stderr, "kazu run: %s: %s\n", m->path, strerror(errno));
        return CLI_FATAL;
    }
    /* Workers of a killed run may take a moment to die (they hold the lock). */
    int locked = -1;
    for (int i = 0; i < 100 && locked != 0; i++) {
        locked = flock(m->fd, LOCK_EX | LOCK_NB);
        if (locked != 0) usleep(100000);
    }
    if (locked != 0) {
        fprintf(stderr, "kazu run: %s: another kazu run is using this output directory\n", m->path);
        return CLI_FATAL;
    }
    size_t n = 0;
    char *buf = read_all(m->fd, &n);
    if (!buf) {
        fprintf(stderr, "kazu run: %s: cannot read (%s)\n", m->path, strerror(errno));
        return CLI_FATAL;
    }
    /* A torn last line (killed mid-append) is dropped. */
    size_t keep = n;
    while (keep > 0 && buf[keep - 1] != '\n') keep--;
    if (keep != n) {
        if (ftruncate(m->fd, (off_t)keep) != 0 || fsync(m->fd) != 0) {
            fprintf(stderr, "kazu run: %s: cannot drop a torn record (%s)\n", m->path, strerror(errno));
            free(buf);
            return CLI_FATAL;
        }
        buf[keep] = 0;
    }
    bool have_start = false;
    int rc = run_manifest_apply(p, o, buf, m->path, &have_start);
    free(buf);
    if (rc) return rc;
    if (!have_start) {
        json_t *v =
            json_pack("{s:i,s:s,s:s,s:s?,s:I}", "kazu_run", 1, "event", "start", "out_format",
                      kz_format_name(o->out_fmt), "config", o->config, "time", (json_int_t)time(NULL));
        char *s = v ? json_dumps(v, JSON_COMPACT) : NULL;
        json_decref(v);
        int arc = s ? run_manifest_append(m, s) : -1;
        free(s);
        if (arc || fsync_dir(o->outdir)) {
            fprintf(stderr, "kazu run: %s: cannot write (%s)\n", m->path, strerror(errno));
            return CLI_FATAL;
        }
    }
    return 0;
}

void run_manifest_close(run_manifest *m) {
    if (m->fd >= 0) close(m->fd);
    free(m->path);
    memset(m, 0, sizeof *m);
    m->fd = -1;
}

/* ---- failures file ------------------------------------------------------------ */
typedef struct qrec {
    size_t shard;
    json_int_t doc;
    json_t *v;
} qrec;

static int cmp_qrec(const void *a, const void *b) {
    const qrec *x = a, *y = b;
    if (x->shard != y->shard) return x->shard < y->shard ? -1 : 1;
    return x->doc < y->doc ? -1 : x->doc > y->doc;
}

int run_write_failures(const run_manifest *m, const run_plan *p, const run_opts *o) {
    size_t n = 0;
    char *buf = read_all(m->fd, &n);
    if (!buf) return -1;
    qrec *q = NULL;
    size_t nq = 0, cq = 0;
    int rc = 0;
    for (char *line = buf; *line && !rc;) {
        char *nl = strchr(line, '\n');
        if (!nl) break;
        *nl = 0;
        json_t *v = json_loads(line, 0, NULL);
        const char *ev = json_string_value(json_object_get(v, "event"));
        const char *in = json_string_value(json_object_get(v, "shard"));
        run_shard *s = in ? run_plan_find((run_plan *)p, in) : NULL;
        bool dup = false;
        json_int_t d = json_integer_value(json_object_get(v, "doc"));
        for (size_t i = 0; s && i < nq && !dup; i++) dup = q[i].shard == (size_t)(s - p->v) && q[i].doc == d;
        if (ev && s && !strcmp(ev, "quarantine") && !dup) {
            if (nq == cq) {
                cq = cq ? 2 * cq : 16;
                qrec *nqv = realloc(q, cq * sizeof *q);
                if (!nqv) {
                    rc = -1;
                    json_decref(v);
                    break;
                }
                q = nqv;
            }
            json_object_del(v, "event");
            q[nq++] = (qrec){(size_t)(s - p->v), d, v};
        } else {
            json_decref(v);
        }
        line = nl + 1;
    }
    free(buf);
    if (nq) qsort(q, nq, sizeof *q, cmp_qrec);
    char path[4096], tmp[4200];
    snprintf(path, sizeof path, "%s/failures.jsonl", o->outdir);
    snprintf(tmp, sizeof tmp, "%s/.failures.jsonl.part", o->outdir);
    FILE *f = rc ? NULL : fopen(tmp, "w");
    if (!f) rc = -1;
    for (size_t i = 0; i < nq; i++) {
        if (f && json_dumpf(q[i].v, f, JSON_COMPACT | JSON_PRESERVE_ORDER) == 0) fputc('\n', f);
        json_decref(q[i].v);
    }
    free(q);
    if (f) {
        if (fflush(f) || fsync(fileno(f))) rc = -1;
        if (fclose(f)) rc = -1;
        if (!rc && rename(tmp, path)) rc = -1;
        if (!rc) fsync_dir(o->outdir);
    }
    return rc;
}
