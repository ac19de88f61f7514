/* Benchmark: knowledge-base pack build, size, open and lookup latency, on a
 * recipe (default kb/full.yaml) and on a synthetic model of 1.5 M synonyms. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "bench_util.h"
#include "kazu/kazu.h"
#include "kazu/kb.h"
#include "../src/kb/kb_int.h"

static void usage(void) {
    fprintf(
        stderr,
        "usage: bench_kb [RECIPE] [--no-recipe] [--no-synthetic] [--synonyms N] [--lookups N] [--dir DIR]\n"
        "                [--keep]\n"
        "  RECIPE          KB recipe to build and measure (default kb/full.yaml)\n"
        "  --synonyms N    synonyms in the synthetic model (default 1500000)\n"
        "  --lookups N     lookups per latency figure (default 100000)\n"
        "  --dir DIR       where packs are written (default /tmp; removed at the end unless --keep)\n");
    exit(2);
}

static double pct(const double *sorted, size_t n, double p) {
    return n ? sorted[(size_t)((double)(n - 1) * p)] : 0;
}

static bool g_keep;
static uint64_t g_rng = 0x2545F4914F6CDD1Dull;
static uint64_t rnd(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}

/* Figures of one pack, filled by forked children (shared memory). */
typedef struct figures {
    char label[64];
    bool ok;
    double build_s, build2_s, build_cpu_s;
    double build_rss_mb;
    uint64_t pack_bytes, n_ids, n_resources, n_candidates, n_keys, n_parsers;
    bool deterministic;
    double open_cold_ms, open_warm_ms, verify_ms;
    double norm_hit_ns, norm_hit_p99_ns, norm_miss_ns, lookup_hit_ns, lookup_hit_p99_ns, lookup_miss_ns;
    double norm_hit_mean_ns, normalise_ns;
    uint64_t hits_found, lookups;
    double query_rss_mb;
} figures;

/* ---- synthetic model ------------------------------------------------------------ */
static const char *const k_classes[] = {"disease", "gene", "drug", "anatomy", "cell_line", "species"};

static kz_str norm(kz_arena *a, const char *s, size_t len, const char *cls) {
    char *n = NULL;
    size_t nl = 0;
    if (kz_normalise(s, len, cls, &n, &nl, NULL)) die("normalise failed");
    kz_str r = kz_arena_strdup(a, n, nl);
    free(n);
    return r;
}

/* A pseudo-word vocabulary: biomedical-looking syllables. */
static char g_vocab[8192][16];
static void make_vocab(void) {
    static const char *const syl[] = {"car", "dio", "my",   "path", "neu",  "ro",  "gen", "ic",
                                      "hep", "at",  "itis", "on",   "col",  "lag", "en",  "ase",
                                      "kin", "tox", "in",   "ly",   "mph",  "oma", "sar", "co",
                                      "glu", "cos", "ide",  "pro",  "tein", "re",  "cep", "tor"};
    for (int i = 0; i < 8192; i++) {
        g_vocab[i][0] = 0;
        int k = 2 + (int)(rnd() % 3);
        for (int j = 0; j < k; j++) strcat(g_vocab[i], syl[rnd() % 32]);
    }
}

/* ~n_syn synonyms over ids with ~3 synonyms each, 8 parsers over 6 classes; 4% of
 * synonyms are shared by two ids (ambiguous candidates); ids carry xrefs and
 * metadata like real parsers. */
static void make_model(kz_arena *a, kz_kb_model *m, uint64_t n_syn) {
    memset(m, 0, sizeof *m);
    m->arena = a;
    m->name = kz_str_c("synthetic");
    enum { NP = 8 };
    m->n_parsers = NP;
    m->parsers = kz_arena_calloc(a, NP, sizeof *m->parsers);
    static const char *const names[NP] = {"MONDO",       "HGNC",     "CHEMBL", "UBERON",
                                          "CELLOSAURUS", "TAXONOMY", "OT_DIS", "DRUGBANK"};
    for (int p = 0; p < NP; p++)
        m->parsers[p] = (kz_kbm_parser){kz_str_c(names[p]), kz_str_c(k_classes[p % 6]), kz_str_c(names[p]),
                                        kz_str_c("2024-10-01")};
    uint64_t n_ids = n_syn / 3;
    m->n_ids = n_ids;
    m->ids = kz_arena_calloc(a, n_ids, sizeof *m->ids);
    m->n_id_sets = n_ids;
    m->id_sets = kz_arena_calloc(a, n_ids, sizeof *m->id_sets);
    m->candidates = kz_arena_calloc(a, n_syn, sizeof *m->candidates);
    m->resources = kz_arena_calloc(a, n_syn, sizeof *m->resources);
    static const char *const mts[] = {"EXACT", "RELATED", "symbol", "alias"};
    char buf[256];
    uint64_t s = 0;
    for (uint64_t i = 0; i < n_ids; i++) {
        uint32_t p = (uint32_t)(i % NP);
        int len = snprintf(buf, sizeof buf, "%s:%07llu", names[p], (unsigned long long)i);
        kz_str idx = kz_arena_strdup(a, buf, (size_t)len);
        kz_str *xr = kz_arena_calloc(a, 2, sizeof *xr);
        len = snprintf(buf, sizeof buf, "MESH:D%06llu", (unsigned long long)(rnd() % 1000000));
        xr[0] = kz_arena_strdup(a, buf, (size_t)len);
        len = snprintf(buf, sizeof buf, "UMLS:C%07llu", (unsigned long long)(rnd() % 10000000));
        xr[1] = kz_arena_strdup(a, buf, (size_t)len);
        kz_id_source *pair = kz_arena_calloc(a, 1, sizeof *pair);
        *pair = (kz_id_source){idx, m->parsers[p].source};
        m->id_sets[i] = (kz_kbm_id_set){pair, 1};
        kz_str label = KZ_STR_NULL;
        int k_syn = i + 1 == n_ids ? (int)(n_syn - s) : 3;
        for (int k = 0; k < k_syn && s < n_syn; k++) {
            const char *cls = k_classes[p % 6];
            if (k == 2 && p == 1) /* gene symbols */
                len = snprintf(buf, sizeof buf, "%c%c%c%llu", 'A' + (int)(rnd() % 26),
                               'A' + (int)(rnd() % 26), 'A' + (int)(rnd() % 26), (unsigned long long)i);
            else
                len = snprintf(buf, sizeof buf, "%s %s %s %llu", g_vocab[rnd() % 8192], g_vocab[rnd() % 8192],
                               k ? g_vocab[rnd() % 8192] : "type", (unsigned long long)(i * 3 + (uint64_t)k));
            kz_str raw = kz_arena_strdup(a, buf, (size_t)len);
            if (!k) label = raw;
            kz_str *raws = kz_arena_calloc(a, 1, sizeof *raws);
            raws[0] = raw;
            kz_str *mt = kz_arena_calloc(a, 1, sizeof *mt);
            mt[0] = kz_str_c(mts[rnd() % 4]);
            uint32_t *sets = kz_arena_calloc(a, 2, sizeof *sets);
            sets[0] = (uint32_t)i;
            uint32_t n_sets = 1;
            if (i > 0 && rnd() % 25 == 0) sets[n_sets++] = (uint32_t)(i - NP); /* ambiguous, same parser */
            if (i < NP) n_sets = 1;
            m->candidates[s] =
                (kz_kbm_candidate){p,     norm(a, raw.ptr, raw.len, cls),
                                   raws,  1,
                                   mt,    1,
                                   false, n_sets > 1 ? KZ_AGG_SYNONYM_IS_AMBIGUOUS : KZ_AGG_UNAMBIGUOUS,
                                   sets,  n_sets};
            m->resources[s] = (kz_kbm_resource){
                raw, (uint32_t)s, false, KZ_MENTION_PROBABLE, KZ_KB_ADD_FOR_NER_AND_LINKING, false};
            s++;
        }
        m->ids[i] = (kz_kbm_id){p,
                                idx,
                                label,
                                m->parsers[p].source,
                                xr,
                                2,
                                (i & 3) ? KZ_STR_NULL : kz_str_c("{\"annotation_score\":5}")};
    }
    m->n_candidates = s;
    m->n_resources = s;
}

/* ---- measurements on a pack ----------------------------------------------------- */
static void drop_cache(const char *path) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return;
    fdatasync(fd);
    posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
}

static void measure_open(const char *path, figures *f) {
    double cold[20], warm[20];
    kz_error err;
    for (int i = 0; i < 20; i++) {
        drop_cache(path);
        kz_kb *kb;
        double t = wall_s();
        if (kz_kb_open(path, &kb, &err)) die("open %s: %s", path, err.msg);
        cold[i] = (wall_s() - t) * 1e3;
        kz_kb_close(kb);
    }
    for (int i = 0; i < 20; i++) {
        kz_kb *kb;
        double t = wall_s();
        if (kz_kb_open(path, &kb, &err)) die("open %s: %s", path, err.msg);
        warm[i] = (wall_s() - t) * 1e3;
        kz_kb_close(kb);
    }
    f->open_cold_ms = median(cold, 20);
    f->open_warm_ms = median(warm, 20);
}

typedef struct probe {
    kz_str cls, key;  /* for lookup_norm */
    const char *text; /* for kz_kb_lookup: a resource's surface text */
    size_t text_len;
    const char *text_cls; /* NUL-terminated class */
} probe;

static void measure_lookups(const char *path, figures *f, size_t n_look) {
    kz_kb *kb;
    kz_error err;
    if (kz_kb_open(path, &kb, &err)) die("open %s: %s", path, err.msg);
    uint64_t nc = kz_kb_n_candidates(kb), nr = kz_kb_n_resources(kb);
    if (!nc || !nr) {
        kz_kb_close(kb);
        return;
    }
    kz_arena *a = kz_arena_new(1 << 20);
    uint32_t np = kz_kb_n_parsers(kb);
    kz_kb_parser *ps = calloc(np, sizeof *ps);
    for (uint32_t i = 0; i < np; i++) kz_kb_parser_at(kb, i, &ps[i]);
    probe *hit = calloc(n_look, sizeof *hit), *miss = calloc(n_look, sizeof *miss);
    char **miss_text = calloc(n_look, sizeof *miss_text);
    for (size_t i = 0; i < n_look; i++) {
        kz_candidate c;
        uint64_t ci = rnd() % nc;
        if (kz_kb_candidate_at(kb, ci, a, &c)) die("candidate %llu", (unsigned long long)ci);
        kz_str cls = ps[kz_kb_candidate_parser(kb, ci)].entity_class;
        hit[i].cls = cls;
        hit[i].key = c.synonym_norm;
        kz_kb_resource r;
        uint64_t ri = rnd() % nr;
        if (kz_kb_resource_at(kb, ri, &r)) die("resource");
        hit[i].text = r.text.ptr;
        hit[i].text_len = r.text.len;
        hit[i].text_cls = ps[kz_kb_candidate_parser(kb, r.candidate)].entity_class.ptr;
        /* a miss: the key with a character changed in the middle */
        char *mk = kz_arena_alloc(a, c.synonym_norm.len + 2);
        memcpy(mk, c.synonym_norm.ptr, c.synonym_norm.len);
        mk[c.synonym_norm.len] = '#';
        mk[c.synonym_norm.len + 1] = 0;
        miss[i] = hit[i];
        miss[i].key = (kz_str){mk, c.synonym_norm.len + 1};
        size_t tl = r.text.len + 3;
        miss_text[i] = kz_arena_alloc(a, tl + 1);
        snprintf(miss_text[i], tl + 1, "%.*s qz", (int)r.text.len, r.text.ptr);
        miss[i].text = miss_text[i];
        miss[i].text_len = tl;
    }
    double *lat = calloc(n_look, sizeof *lat);
    const uint32_t *ids;
    size_t n;
    uint64_t found = 0;
    double t0 = wall_s();
    for (size_t i = 0; i < n_look; i++) {
        double a0 = wall_s();
        kz_kb_lookup_norm(kb, hit[i].cls, hit[i].key, &ids, &n);
        lat[i] = (wall_s() - a0) * 1e9;
        found += n > 0;
    }
    f->norm_hit_mean_ns = (wall_s() - t0) * 1e9 / (double)n_look;
    f->norm_hit_ns = median(lat, n_look);
    f->norm_hit_p99_ns = pct(lat, n_look, 0.99);
    f->hits_found = found;
    f->lookups = n_look;
    for (size_t i = 0; i < n_look; i++) {
        double a0 = wall_s();
        kz_kb_lookup_norm(kb, miss[i].cls, miss[i].key, &ids, &n);
        lat[i] = (wall_s() - a0) * 1e9;
        if (n) die("a miss was found");
    }
    f->norm_miss_ns = median(lat, n_look);
    kz_arena *la = kz_arena_new(1 << 16);
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n_look; i++) {
            const probe *q = pass ? &miss[i] : &hit[i];
            kz_kb_hit *hits = NULL;
            size_t nh = 0;
            kz_arena_reset(la);
            double a0 = wall_s();
            if (kz_kb_lookup(kb, q->text, q->text_len, q->text_cls, la, &hits, &nh, &err))
                die("lookup: %s", err.msg);
            lat[i] = (wall_s() - a0) * 1e9;
        }
        if (pass)
            f->lookup_miss_ns = median(lat, n_look);
        else {
            f->lookup_hit_ns = median(lat, n_look);
            f->lookup_hit_p99_ns = pct(lat, n_look, 0.99);
        }
    }
    /* the normaliser's share of kz_kb_lookup */
    for (size_t i = 0; i < n_look; i++) {
        char *nm = NULL;
        double a0 = wall_s();
        kz_normalise(hit[i].text, hit[i].text_len, hit[i].text_cls, &nm, NULL, NULL);
        lat[i] = (wall_s() - a0) * 1e9;
        free(nm);
    }
    f->normalise_ns = median(lat, n_look);
    kz_arena_free(la);
    free(lat);
    free(hit);
    free(miss);
    free(miss_text);
    free(ps);
    kz_arena_free(a);
    kz_kb_close(kb);
}

static void pack_counts(const char *path, figures *f) {
    kz_kb *kb;
    kz_error err;
    if (kz_kb_open(path, &kb, &err)) die("open %s: %s", path, err.msg);
    kz_kb_info info;
    kz_kb_get_info(kb, &info);
    f->pack_bytes = info.file_bytes;
    f->n_ids = info.n_ids;
    f->n_resources = info.n_resources;
    f->n_candidates = info.n_candidates;
    f->n_keys = info.n_keys;
    f->n_parsers = info.n_parsers;
    kz_kb_close(kb);
}

static bool same_sha(const char *a, const char *b) {
    uint8_t x[32], y[32];
    kz_error err;
    if (kz__sha256_file(a, x, &err) || kz__sha256_file(b, y, &err)) die("%s", err.msg);
    return memcmp(x, y, 32) == 0;
}

static double child_rss_mb(pid_t pid) {
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return -1;
    return (double)ru.ru_maxrss / 1024.0;
}

/* Query phase in a fresh child, so its peak RSS is the reader's alone. */
static void query_phase(const char *path, figures *f, size_t n_look) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        measure_open(path, f);
        measure_lookups(path, f, n_look);
        _exit(0);
    }
    f->query_rss_mb = child_rss_mb(pid);
    if (f->query_rss_mb < 0) die("query phase failed for %s", path);
    /* verify reads every page, so it runs after (and outside) the query process */
    kz_kb *kb;
    kz_error err;
    if (kz_kb_open(path, &kb, &err)) die("open %s: %s", path, err.msg);
    double t = wall_s();
    if (kz_kb_verify(kb, &err)) die("verify %s: %s", path, err.msg);
    f->verify_ms = (wall_s() - t) * 1e3;
    kz_kb_close(kb);
}

static double cpu_s(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
           ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) * 1e-6;
}

static void run_synthetic(figures *f, uint64_t n_syn, const char *dir, size_t n_look) {
    char p1[512], p2[512];
    snprintf(p1, sizeof p1, "%s/kz_bench_kb_syn1.kzkb", dir);
    snprintf(p2, sizeof p2, "%s/kz_bench_kb_syn2.kzkb", dir);
    snprintf(f->label, sizeof f->label, "synthetic %.2f M synonyms", (double)n_syn / 1e6);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        kz_arena *a = kz_arena_new(1 << 24);
        kz_kb_model m;
        double t = wall_s();
        make_model(a, &m, n_syn);
        fprintf(stderr, "bench_kb: synthetic model generated in %.1f s\n", wall_s() - t);
        uint8_t h[32] = {0};
        kz_error err;
        t = wall_s();
        double c = cpu_s();
        if (kz__kb_pack_write(&m, h, NULL, 0, p1, &err)) die("write: %s", err.msg);
        f->build_s = wall_s() - t;
        f->build_cpu_s = cpu_s() - c;
        t = wall_s();
        if (kz__kb_pack_write(&m, h, NULL, 0, p2, &err)) die("write: %s", err.msg);
        f->build2_s = wall_s() - t;
        kz_arena_free(a);
        _exit(0);
    }
    f->build_rss_mb = child_rss_mb(pid);
    if (f->build_rss_mb < 0) {
        fprintf(stderr, "bench_kb: synthetic build failed\n");
        unlink(p1);
        unlink(p2);
        return;
    }
    f->deterministic = same_sha(p1, p2);
    unlink(p2);
    pack_counts(p1, f);
    query_phase(p1, f, n_look);
    if (g_keep)
        fprintf(stderr, "bench_kb: kept %s\n", p1);
    else
        unlink(p1);
    f->ok = true;
}

static void run_recipe(figures *f, const char *recipe, const char *dir, size_t n_look) {
    char p1[512], p2[512];
    snprintf(p1, sizeof p1, "%s/kz_bench_kb_r1.kzkb", dir);
    snprintf(p2, sizeof p2, "%s/kz_bench_kb_r2.kzkb", dir);
    snprintf(f->label, sizeof f->label, "%s", recipe);
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        kz_kb_build_opts o = {.force = true, .allow_conflicts = true};
        kz_kb_build_report rep;
        kz_error err;
        kz_error_clear(&err);
        double t = wall_s(), c = cpu_s();
        if (kz_kb_build(recipe, p1, &o, &rep, &err)) {
            char buf[1400];
            fprintf(stderr, "bench_kb: build of %s failed: %s\n", recipe,
                    kz_error_format(&err, buf, sizeof buf));
            _exit(1);
        }
        f->build_s = wall_s() - t;
        f->build_cpu_s = cpu_s() - c;
        t = wall_s();
        if (kz_kb_build(recipe, p2, &o, &rep, &err)) _exit(1);
        f->build2_s = wall_s() - t;
        _exit(0);
    }
    f->build_rss_mb = child_rss_mb(pid);
    if (f->build_rss_mb < 0) {
        unlink(p1);
        unlink(p2);
        return;
    }
    f->deterministic = same_sha(p1, p2);
    unlink(p2);
    pack_counts(p1, f);
    query_phase(p1, f, n_look);
    if (g_keep)
        fprintf(stderr, "bench_kb: kept %s\n", p1);
    else
        unlink(p1);
    f->ok = true;
}

static void print_table(figures *fs, int n) {
    printf("\n%-38s", "");
    for (int i = 0; i < n; i++) printf(" | %-28s", fs[i].label);
    printf("\n");
#define ROW(name, fmt, ...)                                                                                  \
    do {                                                                                                     \
        printf("%-38s", name);                                                                               \
        for (int i = 0; i < n; i++) {                                                                        \
            const figures *f = &fs[i];                                                                       \
            char cell[64];                                                                                   \
            if (f->ok)                                                                                       \
                snprintf(cell, sizeof cell, fmt, __VA_ARGS__);                                               \
            else                                                                                             \
                snprintf(cell, sizeof cell, "(failed)");                                                     \
            printf(" | %-28s", cell);                                                                        \
        }                                                                                                    \
        printf("\n");                                                                                        \
    } while (0)
    ROW("parsers", "%llu", (unsigned long long)f->n_parsers);
    ROW("ids", "%llu", (unsigned long long)f->n_ids);
    ROW("synonyms (resources)", "%llu", (unsigned long long)f->n_resources);
    ROW("candidates", "%llu", (unsigned long long)f->n_candidates);
    ROW("keys (class, norm)", "%llu", (unsigned long long)f->n_keys);
    ROW("build wall time (s), 1st / 2nd", "%.2f / %.2f", f->build_s, f->build2_s);
    ROW("1st build CPU time (s)", "%.2f", f->build_cpu_s);
    ROW("build peak RSS (MiB)", "%.0f", f->build_rss_mb);
    ROW("pack size (MiB)", "%.1f", (double)f->pack_bytes / 1048576.0);
    ROW("bytes per synonym", "%.1f", f->n_resources ? (double)f->pack_bytes / (double)f->n_resources : 0.0);
    ROW("deterministic (2 builds, SHA-256)", "%s", f->deterministic ? "yes" : "NO");
    ROW("open+validate cold-ish (ms, med 20)", "%.3f", f->open_cold_ms);
    ROW("open+validate warm (ms, med 20)", "%.3f", f->open_warm_ms);
    ROW("verify body SHA-256 (ms)", "%.1f", f->verify_ms);
    ROW("lookup_norm hit (ns, median)", "%.0f", f->norm_hit_ns);
    ROW("lookup_norm hit (ns, p99 / mean)", "%.0f / %.0f", f->norm_hit_p99_ns, f->norm_hit_mean_ns);
    ROW("lookup_norm miss (ns, median)", "%.0f", f->norm_miss_ns);
    ROW("kz_kb_lookup hit (ns, median)", "%.0f", f->lookup_hit_ns);
    ROW("kz_kb_lookup hit (ns, p99)", "%.0f", f->lookup_hit_p99_ns);
    ROW("kz_kb_lookup miss (ns, median)", "%.0f", f->lookup_miss_ns);
    ROW("  of which kz_normalise (ns, median)", "%.0f", f->normalise_ns);
    ROW("hits found / lookups", "%llu / %llu", (unsigned long long)f->hits_found,
        (unsigned long long)f->lookups);
    ROW("query process peak RSS (MiB)", "%.0f", f->query_rss_mb); /* open + 400k lookups, no verify */
#undef ROW
}

int main(int argc, char **argv) {
    const char *recipe = "kb/full.yaml", *dir = "/tmp";
    bool do_recipe = true, do_syn = true;
    uint64_t n_syn = 1500000;
    size_t n_look = 100000;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--no-recipe"))
            do_recipe = false;
        else if (!strcmp(argv[i], "--keep"))
            g_keep = true;
        else if (!strcmp(argv[i], "--no-synthetic"))
            do_syn = false;
        else if (!strcmp(argv[i], "--synonyms") && i + 1 < argc)
            n_syn = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--lookups") && i + 1 < argc)
            n_look = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
            dir = argv[++i];
        else if (argv[i][0] == '-')
            usage();
        else
            recipe = argv[i];
    }
    if (n_syn < 100 || n_look < 1) usage();
    figures *fs = mmap(NULL, 2 * sizeof *fs, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (fs == MAP_FAILED) die("mmap");
    memset(fs, 0, 2 * sizeof *fs);
    int n = 0;
    make_vocab();
    if (do_recipe) {
        if (access(recipe, R_OK) != 0) {
            fprintf(stderr, "bench_kb: recipe %s not readable: %s (skipped)\n", recipe, strerror(errno));
            snprintf(fs[n].label, sizeof fs[n].label, "%s", recipe);
        } else {
            run_recipe(&fs[n], recipe, dir, n_look);
        }
        n++;
    }
    if (do_syn) run_synthetic(&fs[n++], n_syn, dir, n_look);
    print_table(fs, n);
    return 0;
}
