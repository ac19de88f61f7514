/* `kazu kb`: build a knowledge-base pack from a recipe, describe, query,
 * compare and verify packs; `kazu kb download` lives in cmd_kb_download.c. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "kazu/kb.h"

const char cli_kb_help[] =
    "Usage: kazu kb <subcommand> [options]\n"
    "\n"
    "Knowledge-base packs: one memory-mapped file with every parser's ids, linking\n"
    "candidates and dictionary strings (docs/kb-pack.md), built from a recipe (docs/kb.md).\n"
    "\n"
    "  kazu kb build RECIPE -o PACK [--force] [--allow-conflicts] [--report FILE] [-v]\n"
    "      Build PACK from the recipe. Skipped when PACK already records the same input\n"
    "      hash (recipe bytes + every input file + format version) unless --force.\n"
    "      Unresolved curation conflicts stop the build (exit 3) unless --allow-conflicts;\n"
    "      --report FILE writes them as JSON lines. -v logs per-source progress; without\n"
    "      it only the first 20 warnings (skipped records) are printed.\n"
    "  kazu kb info PACK [--verify] [--json]\n"
    "      Name, format, hashes, counts, section sizes and per-parser counts. --verify\n"
    "      also checks the body SHA-256.\n"
    "  kazu kb lookup PACK TEXT [--class C] [--json]\n"
    "      Normalise TEXT per entity class (or for C only) as Kazu's StringNormalizer\n"
    "      does, look the key up and print the candidates with their ids, default\n"
    "      labels, sources and aggregation strategy, and the time the lookup took.\n"
    "  kazu kb diff OLD NEW [--json] [--limit N|all]\n"
    "      Ontology upgrade report: per parser (matched by name), ids and synonyms\n"
    "      (dictionary strings) added and removed; counts, then up to N entries of\n"
    "      each list (default 20).\n"
    "  kazu kb verify PACK\n"
    "      Open the pack and check its body SHA-256.\n"
    "  kazu kb download MANIFEST [options]\n"
    "      Fetch the ontology files a manifest lists (see 'kazu kb download --help').\n"
    "\n"
    "Exit status:\n"
    "  0  success (lookup: something was found; diff: the packs have the same content)\n"
    "  1  build: pack written but records were skipped or conflicts allowed;\n"
    "     lookup: nothing found; diff: the packs differ\n"
    "  2  usage error\n"
    "  3  fatal: unreadable or corrupt pack, bad recipe, conflicts, write failure\n";

/* ---- shared helpers ---------------------------------------------------------- */
static atomic_int g_warnings_shown;
static int g_verbose;

static void kb_log(kz_log_level level, const char *msg, void *user) {
    (void)user;
    if (level >= KZ_LOG_WARN && !g_verbose) {
        int n = atomic_fetch_add(&g_warnings_shown, 1);
        if (n == 20) fprintf(stderr, "kazu kb: (more warnings not shown; -v shows all)\n");
        if (n >= 20) return;
    }
    fprintf(stderr, "%s%s\n", level >= KZ_LOG_WARN ? "warning: " : "", msg);
}

#define KZ_MIN_INT(a, b) ((size_t)(a) < (size_t)(b) ? (int)(a) : (int)(b))

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static kz_kb *open_pack(const char *path) {
    kz_kb *kb = NULL;
    kz_error err;
    kz_error_clear(&err);
    if (kz_kb_open(path, &kb, &err)) {
        cli_report(&err);
        return NULL;
    }
    return kb;
}

static void hex32(const uint8_t *h, char out[65]) {
    static const char d[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = d[h[i] >> 4];
        out[2 * i + 1] = d[h[i] & 15];
    }
    out[64] = 0;
}

static json_t *jstr(kz_str s) { return s.ptr ? json_stringn(s.ptr, s.len) : json_null(); }

static int print_json(json_t *j) {
    int rc = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    fputc('\n', stdout);
    json_decref(j);
    return rc ? CLI_FATAL : CLI_OK;
}

/* Subcommand option parsing: getopt over argv (argv[0] = the subcommand). */
typedef struct kb_opts {
    const char *out, *report, *cls;
    bool force, allow_conflicts, verify, json;
    long long limit;
} kb_opts;

static int parse_opts(const char *cmd, int argc, char **argv, const char *allowed, kb_opts *o,
                      int *first_arg) {
    static const struct option longopts[] = {{"out", required_argument, NULL, 'o'},
                                             {"force", no_argument, NULL, 256},
                                             {"allow-conflicts", no_argument, NULL, 257},
                                             {"report", required_argument, NULL, 258},
                                             {"verbose", no_argument, NULL, 'v'},
                                             {"verify", no_argument, NULL, 259},
                                             {"json", no_argument, NULL, 260},
                                             {"class", required_argument, NULL, 'c'},
                                             {"limit", required_argument, NULL, 261},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof *o);
    o->limit = 20;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "o:vc:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(cli_kb_help, stdout);
            return -1;
        }
        if (c == '?' || c == ':') return cli_bad_option(cmd, argv);
        /* each subcommand lists the option letters/codes it takes */
        char key[16], list[64];
        if (c < 256)
            snprintf(key, sizeof key, ",%c,", c);
        else
            snprintf(key, sizeof key, ",%d,", c);
        snprintf(list, sizeof list, ",%s", allowed);
        if (!strstr(list, key)) return cli_usage(cmd, "option '%s' does not apply here", argv[optind - 1]);
        switch (c) {
        case 'o': o->out = optarg; break;
        case 256: o->force = true; break;
        case 257: o->allow_conflicts = true; break;
        case 258: o->report = optarg; break;
        case 'v': g_verbose = 1; break;
        case 259: o->verify = true; break;
        case 260: o->json = true; break;
        case 'c': o->cls = optarg; break;
        case 261:
            if (strcmp(optarg, "all") == 0) {
                o->limit = -1;
            } else {
                char *end;
                errno = 0;
                o->limit = strtoll(optarg, &end, 10);
                if (!*optarg || *end || errno || o->limit < 0)
                    return cli_usage(cmd, "--limit: expected a number >= 0 or 'all', got '%s'", optarg);
            }
            break;
        default: return cli_bad_option(cmd, argv);
        }
    }
    *first_arg = optind;
    return 0;
}

/* Reject the wrong number of positional arguments. */
static int want_args(const char *cmd, int argc, char **argv, int first, int n, const char *names) {
    if (argc - first < n) return cli_usage(cmd, "expected %s", names);
    if (argc - first > n) return cli_usage(cmd, "unexpected argument '%s'", argv[first + n]);
    return 0;
}

/* ---- build --------------------------------------------------------------------- */
static int kb_build(int argc, char **argv) {
    const char *cmd = "kb build";
    kb_opts o;
    int first, rc = parse_opts(cmd, argc, argv, "o,256,257,258,v,", &o, &first);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if ((rc = want_args(cmd, argc, argv, first, 1, "RECIPE"))) return rc;
    if (!o.out) return cli_usage(cmd, "no output pack given (-o PACK)");
    kz_log_set_sink(kb_log, NULL, g_verbose ? KZ_LOG_INFO : KZ_LOG_WARN);
    kz_kb_build_opts bo = {.force = o.force,
                           .allow_conflicts = o.allow_conflicts,
                           .report_path = o.report,
                           .verbose = g_verbose};
    kz_kb_build_report rep;
    kz_error err;
    kz_error_clear(&err);
    int brc = kz_kb_build(argv[first], o.out, &bo, &rep, &err);
    kz_log_set_sink(NULL, NULL, KZ_LOG_ERROR);
    if (brc) {
        cli_report(&err);
        if (brc == KZ_ECONFIG && rep.n_conflicts)
            fprintf(stderr, "kazu kb build: %" PRIu64 " unresolved conflicts%s%s\n", rep.n_conflicts,
                    o.report ? "; see " : " (use --report FILE to list them)", o.report ? o.report : "");
        return CLI_FATAL;
    }
    if (rep.up_to_date) {
        fprintf(stderr, "kazu kb build: %s is up to date (same input hash; --force rebuilds)\n", o.out);
        return CLI_OK;
    }
    kz_kb *kb = open_pack(o.out);
    if (!kb) return CLI_FATAL;
    kz_kb_info info;
    kz_kb_get_info(kb, &info);
    fprintf(stderr,
            "kazu kb build: wrote %s: %u parsers, %" PRIu64 " ids, %" PRIu64 " candidates, %" PRIu64
            " synonyms, %" PRIu64 " bytes, %.2f s (%" PRIu64 " terms parsed, %" PRIu64 " warnings, %" PRIu64
            " conflicts)\n",
            o.out, info.n_parsers, info.n_ids, info.n_candidates, info.n_resources, info.file_bytes,
            rep.seconds, rep.n_terms_parsed, rep.n_warnings, rep.n_conflicts);
    kz_kb_close(kb);
    return rep.n_warnings || rep.n_conflicts ? CLI_PARTIAL : CLI_OK;
}

/* ---- info ------------------------------------------------------------------------ */
/* The section table, read from the file as docs/kb-pack.md lays it out (the
 * public API has no enumerator for it); the pack was validated by kz_kb_open. */
typedef struct sec_row {
    char tag[5];
    uint64_t offset, size, count;
} sec_row;

static int read_sections(const char *path, sec_row *rows, int max) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    uint8_t head[512];
    uint32_t n = 0;
    if (fread(head, 1, sizeof head, f) == sizeof head) memcpy(&n, head + 40, 4);
    int got = 0;
    for (uint32_t i = 0; i < n && got < max; i++) {
        uint8_t e[32];
        if (fread(e, 1, 32, f) != 32) break;
        for (int k = 0; k < 4; k++) rows[got].tag[k] = e[k] >= 0x20 && e[k] < 0x7f ? (char)e[k] : '?';
        rows[got].tag[4] = 0;
        memcpy(&rows[got].offset, e + 8, 8);
        memcpy(&rows[got].size, e + 16, 8);
        memcpy(&rows[got].count, e + 24, 8);
        got++;
    }
    fclose(f);
    return got;
}

/* [lo, hi) of the ids of parser p (ids are sorted by parser). */
static void id_range(const kz_kb *kb, uint32_t p, kz_arena *a, uint64_t *lo, uint64_t *hi) {
    uint64_t n = kz_kb_n_ids(kb);
    for (int side = 0; side < 2; side++) {
        uint64_t l = 0, h = n;
        while (l < h) {
            uint64_t mid = l + (h - l) / 2;
            kz_kb_id id;
            kz_arena_reset(a);
            uint32_t q = kz_kb_id_at(kb, mid, a, &id) == 0 ? id.parser : UINT32_MAX;
            if (side == 0 ? q < p : q <= p)
                l = mid + 1;
            else
                h = mid;
        }
        *(side ? hi : lo) = l;
    }
}

static void cand_range(const kz_kb *kb, uint32_t p, uint64_t *lo, uint64_t *hi) {
    uint64_t n = kz_kb_n_candidates(kb);
    for (int side = 0; side < 2; side++) {
        uint64_t l = 0, h = n;
        while (l < h) {
            uint64_t mid = l + (h - l) / 2;
            uint32_t q = kz_kb_candidate_parser(kb, mid);
            if (side == 0 ? q < p : q <= p)
                l = mid + 1;
            else
                h = mid;
        }
        *(side ? hi : lo) = l;
    }
}

static int kb_info(int argc, char **argv) {
    const char *cmd = "kb info";
    kb_opts o;
    int first, rc = parse_opts(cmd, argc, argv, "259,260,", &o, &first);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if ((rc = want_args(cmd, argc, argv, first, 1, "PACK"))) return rc;
    const char *path = argv[first];
    kz_kb *kb = open_pack(path);
    if (!kb) return CLI_FATAL;
    kz_kb_info info;
    kz_kb_get_info(kb, &info);
    int verified = -1;
    kz_error verr;
    kz_error_clear(&verr);
    double vt = 0;
    if (o.verify) {
        double t = now_s();
        verified = kz_kb_verify(kb, &verr) == 0;
        vt = now_s() - t;
    }
    sec_row secs[64];
    int n_secs = read_sections(path, secs, 64);
    uint32_t np = kz_kb_n_parsers(kb);
    uint64_t *res_per = calloc(np + 1, sizeof *res_per);
    for (uint64_t i = 0, n = kz_kb_n_resources(kb); i < n && res_per; i++) {
        kz_kb_resource r;
        if (kz_kb_resource_at(kb, i, &r) == 0) {
            uint32_t p = kz_kb_candidate_parser(kb, r.candidate);
            res_per[p < np ? p : np]++;
        }
    }
    kz_arena *a = kz_arena_new(0);
    char ih[65], bh[65];
    hex32(info.input_hash, ih);
    hex32(info.body_hash, bh);
    if (o.json) {
        json_t *j = json_object();
        json_object_set_new(j, "path", json_string(path));
        json_object_set_new(j, "name", jstr(info.name));
        json_object_set_new(j, "format_version", json_integer(info.format_version));
        json_object_set_new(j, "built_by", jstr(info.built_by));
        json_object_set_new(j, "file_bytes", json_integer((json_int_t)info.file_bytes));
        json_object_set_new(j, "input_hash", json_string(ih));
        json_object_set_new(j, "body_hash", json_string(bh));
        json_object_set_new(j, "verified", verified < 0 ? json_null() : json_boolean(verified));
        json_t *c = json_object();
        json_object_set_new(c, "parsers", json_integer(info.n_parsers));
        json_object_set_new(c, "ids", json_integer((json_int_t)info.n_ids));
        json_object_set_new(c, "id_sets", json_integer((json_int_t)info.n_id_sets));
        json_object_set_new(c, "candidates", json_integer((json_int_t)info.n_candidates));
        json_object_set_new(c, "synonyms", json_integer((json_int_t)info.n_resources));
        json_object_set_new(c, "keys", json_integer((json_int_t)info.n_keys));
        json_object_set_new(j, "counts", c);
        json_t *sa = json_array();
        for (int i = 0; i < n_secs; i++) {
            json_t *s = json_object();
            json_object_set_new(s, "tag", json_string(secs[i].tag));
            json_object_set_new(s, "offset", json_integer((json_int_t)secs[i].offset));
            json_object_set_new(s, "bytes", json_integer((json_int_t)secs[i].size));
            json_object_set_new(s, "count", json_integer((json_int_t)secs[i].count));
            json_array_append_new(sa, s);
        }
        json_object_set_new(j, "sections", sa);
        json_t *pa = json_array();
        for (uint32_t p = 0; p < np; p++) {
            kz_kb_parser kp;
            if (kz_kb_parser_at(kb, p, &kp)) continue;
            uint64_t il, ihh, cl, ch;
            id_range(kb, p, a, &il, &ihh);
            cand_range(kb, p, &cl, &ch);
            json_t *e = json_object();
            json_object_set_new(e, "name", jstr(kp.name));
            json_object_set_new(e, "entity_class", jstr(kp.entity_class));
            json_object_set_new(e, "source", jstr(kp.source));
            json_object_set_new(e, "data_origin", jstr(kp.data_origin));
            json_object_set_new(e, "ids", json_integer((json_int_t)(ihh - il)));
            json_object_set_new(e, "candidates", json_integer((json_int_t)(ch - cl)));
            json_object_set_new(e, "synonyms", json_integer(res_per ? (json_int_t)res_per[p] : -1));
            json_array_append_new(pa, e);
        }
        json_object_set_new(j, "parsers", pa);
        rc = print_json(j);
    } else {
        printf("pack          %s\n", path);
        printf("name          %.*s\n", (int)info.name.len, info.name.ptr);
        printf("format        version %u, built by %.*s\n", info.format_version, (int)info.built_by.len,
               info.built_by.ptr);
        printf("size          %" PRIu64 " bytes (%.1f MiB; %.1f bytes per synonym)\n", info.file_bytes,
               (double)info.file_bytes / 1048576.0,
               info.n_resources ? (double)info.file_bytes / (double)info.n_resources : 0.0);
        printf("input hash    %s\n", ih);
        printf("body hash     %s%s\n", bh,
               verified < 0 ? ""
               : verified   ? "  (verified)"
                            : "  (MISMATCH: the pack is corrupt)");
        if (verified >= 0) printf("verify time   %.1f ms\n", vt * 1e3);
        printf("counts        %u parsers, %" PRIu64 " ids, %" PRIu64 " id sets, %" PRIu64
               " candidates, %" PRIu64 " synonyms, %" PRIu64 " keys\n",
               info.n_parsers, info.n_ids, info.n_id_sets, info.n_candidates, info.n_resources, info.n_keys);
        printf("\nsections      %-6s %12s %14s %12s\n", "tag", "offset", "bytes", "count");
        for (int i = 0; i < n_secs; i++)
            printf("              %-6s %12" PRIu64 " %14" PRIu64 " %12" PRIu64 "\n", secs[i].tag,
                   secs[i].offset, secs[i].size, secs[i].count);
        int w[4] = {6, 5, 6, 11}; /* column widths: the longest value, at most 48 */
        for (uint32_t p = 0; p < np; p++) {
            kz_kb_parser kp;
            if (kz_kb_parser_at(kb, p, &kp)) continue;
            kz_str f[4] = {kp.name, kp.entity_class, kp.source, kp.data_origin};
            for (int k = 0; k < 4; k++)
                if ((int)f[k].len > w[k]) w[k] = f[k].len > 48 ? 48 : (int)f[k].len;
        }
        printf("\n%-*s  %-*s  %-*s  %-*s %10s %11s %10s\n", w[0], "parser", w[1], "class", w[2], "source",
               w[3], "data_origin", "ids", "candidates", "synonyms");
        for (uint32_t p = 0; p < np; p++) {
            kz_kb_parser kp;
            if (kz_kb_parser_at(kb, p, &kp)) {
                printf("(parser %u unreadable)\n", p);
                continue;
            }
            uint64_t il, ihh, cl, ch;
            id_range(kb, p, a, &il, &ihh);
            cand_range(kb, p, &cl, &ch);
            kz_str f[4] = {kp.name, kp.entity_class, kp.source, kp.data_origin};
            for (int k = 0; k < 4; k++)
                printf("%-*.*s%s", w[k], f[k].ptr ? (int)KZ_MIN_INT(f[k].len, 48) : 1,
                       f[k].ptr ? f[k].ptr : "-", k < 3 ? "  " : " ");
            printf("%10" PRIu64 " %11" PRIu64 " %10" PRIu64 "\n", ihh - il, ch - cl,
                   res_per ? res_per[p] : 0);
        }
        rc = CLI_OK;
    }
    if (verified == 0) {
        cli_report(&verr);
        rc = CLI_FATAL;
    }
    kz_arena_free(a);
    free(res_per);
    kz_kb_close(kb);
    return rc;
}

/* ---- lookup ---------------------------------------------------------------------- */
static json_t *candidate_json(const kz_kb *kb, const kz_candidate *c, uint32_t parser, kz_arena *a) {
    json_t *j = json_object();
    json_object_set_new(j, "parser", jstr(c->parser_name));
    json_object_set_new(j, "synonym_norm", jstr(c->synonym_norm));
    json_t *raw = json_array();
    for (uint32_t i = 0; i < c->n_raw_synonyms; i++) json_array_append_new(raw, jstr(c->raw_synonyms[i]));
    json_object_set_new(j, "raw_synonyms", raw);
    json_t *mt = json_array();
    for (uint32_t i = 0; i < c->n_mapping_types; i++) json_array_append_new(mt, jstr(c->mapping_types[i]));
    json_object_set_new(j, "mapping_types", mt);
    json_object_set_new(j, "is_symbolic", json_boolean(c->is_symbolic));
    const char *agg = kz_aggregation_name(c->aggregated_by);
    json_object_set_new(j, "aggregated_by", agg ? json_string(agg) : json_null());
    json_t *sets = json_array();
    for (uint32_t s = 0; s < c->n_id_sets; s++) {
        json_t *set = json_array();
        for (uint32_t k = 0; k < c->id_sets[s].n_ids; k++) {
            const kz_id_source *ids = &c->id_sets[s].ids[k];
            json_t *e = json_object();
            json_object_set_new(e, "idx", jstr(ids->idx));
            json_object_set_new(e, "source", jstr(ids->source));
            int64_t at = kz_kb_id_find(kb, parser, ids->idx);
            kz_kb_id id;
            if (at >= 0 && kz_kb_id_at(kb, (uint64_t)at, a, &id) == 0)
                json_object_set_new(e, "default_label", jstr(id.default_label));
            else
                json_object_set_new(e, "default_label", json_null());
            json_array_append_new(set, e);
        }
        json_array_append_new(sets, set);
    }
    json_object_set_new(j, "id_sets", sets);
    return j;
}

static void print_strs(const char *label, const kz_str *v, uint32_t n) {
    printf("      %s", label);
    for (uint32_t i = 0; i < n; i++) printf("%s%.*s", i ? " | " : "", (int)v[i].len, v[i].ptr);
    printf("%s\n", n ? "" : "(none)");
}

static void candidate_text(const kz_kb *kb, const kz_candidate *c, uint32_t parser, kz_arena *a) {
    const char *agg = kz_aggregation_name(c->aggregated_by);
    printf("    %.*s  \"%.*s\"  %s%s, %u id set%s\n", (int)c->parser_name.len, c->parser_name.ptr,
           (int)c->synonym_norm.len, c->synonym_norm.ptr, agg ? agg : "?", c->is_symbolic ? ", symbolic" : "",
           c->n_id_sets, c->n_id_sets == 1 ? "" : "s");
    print_strs("raw synonyms:  ", c->raw_synonyms, c->n_raw_synonyms);
    print_strs("mapping types: ", c->mapping_types, c->n_mapping_types);
    for (uint32_t s = 0; s < c->n_id_sets; s++) {
        printf("      set %u:\n", s + 1);
        for (uint32_t k = 0; k < c->id_sets[s].n_ids; k++) {
            const kz_id_source *ids = &c->id_sets[s].ids[k];
            int64_t at = kz_kb_id_find(kb, parser, ids->idx);
            kz_kb_id id;
            kz_str label = KZ_STR_NULL;
            if (at >= 0 && kz_kb_id_at(kb, (uint64_t)at, a, &id) == 0) label = id.default_label;
            printf("        %.*s  (source %.*s)  %s%.*s%s\n", (int)ids->idx.len, ids->idx.ptr,
                   (int)ids->source.len, ids->source.ptr ? ids->source.ptr : "-", label.ptr ? "\"" : "",
                   (int)label.len, label.ptr ? label.ptr : "(no label)", label.ptr ? "\"" : "");
        }
    }
}

static int kb_lookup(int argc, char **argv) {
    const char *cmd = "kb lookup";
    kb_opts o;
    int first, rc = parse_opts(cmd, argc, argv, "c,260,", &o, &first);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if ((rc = want_args(cmd, argc, argv, first, 2, "PACK TEXT"))) return rc;
    kz_kb *kb = open_pack(argv[first]);
    if (!kb) return CLI_FATAL;
    const char *text = argv[first + 1];
    size_t len = strlen(text);
    /* the classes to try: --class, or every class of the pack in parser order */
    uint32_t np = kz_kb_n_parsers(kb);
    kz_str *classes = calloc(np + 1, sizeof *classes);
    uint32_t nc = 0;
    if (o.cls) {
        classes[nc++] = kz_str_c(o.cls);
    } else {
        for (uint32_t p = 0; p < np; p++) {
            kz_kb_parser kp;
            if (kz_kb_parser_at(kb, p, &kp)) continue;
            bool seen = false;
            for (uint32_t k = 0; k < nc; k++) seen |= kz_str_eq(classes[k], kp.entity_class);
            if (!seen) classes[nc++] = kp.entity_class;
        }
    }
    kz_arena *a = kz_arena_new(0);
    kz_error err;
    kz_error_clear(&err);
    json_t *out = o.json ? json_object() : NULL, *jcl = o.json ? json_array() : NULL;
    uint64_t total = 0;
    double total_us = 0;
    rc = CLI_OK;
    for (uint32_t k = 0; k < nc && rc == CLI_OK; k++) {
        char cls[256];
        snprintf(cls, sizeof cls, "%.*s", (int)classes[k].len, classes[k].ptr);
        char *norm = NULL;
        size_t norm_len = 0;
        if (kz_normalise(text, len, cls, &norm, &norm_len, &err)) {
            cli_report(&err);
            rc = CLI_FATAL;
            break;
        }
        kz_kb_hit *hits = NULL;
        size_t nh = 0;
        double t = now_s();
        int lrc = kz_kb_lookup(kb, text, len, cls, a, &hits, &nh, &err);
        double us = (now_s() - t) * 1e6;
        total_us += us;
        if (lrc) {
            free(norm);
            cli_report(&err);
            rc = CLI_FATAL;
            break;
        }
        total += nh;
        if (o.json) {
            json_t *e = json_object(), *cands = json_array();
            json_object_set_new(e, "entity_class", json_string(cls));
            json_object_set_new(e, "key", json_stringn(norm, norm_len));
            json_object_set_new(e, "time_us", json_real(us));
            for (size_t h = 0; h < nh; h++) {
                kz_candidate c;
                if (kz_kb_candidate_at(kb, hits[h].candidate, a, &c) == 0)
                    json_array_append_new(
                        cands, candidate_json(kb, &c, kz_kb_candidate_parser(kb, hits[h].candidate), a));
            }
            json_object_set_new(e, "candidates", cands);
            json_array_append_new(jcl, e);
        } else {
            printf("%s: key \"%.*s\": %zu candidate%s (%.1f us)\n", cls, (int)norm_len, norm, nh,
                   nh == 1 ? "" : "s", us);
            for (size_t h = 0; h < nh; h++) {
                kz_candidate c;
                if (kz_kb_candidate_at(kb, hits[h].candidate, a, &c) == 0)
                    candidate_text(kb, &c, kz_kb_candidate_parser(kb, hits[h].candidate), a);
                else
                    printf("    (candidate %" PRIu64 " unreadable: corrupt pack)\n", hits[h].candidate);
            }
        }
        free(norm);
    }
    if (o.json && rc == CLI_OK) {
        json_object_set_new(out, "text", json_string(text));
        json_object_set_new(out, "classes", jcl);
        json_object_set_new(out, "n_candidates", json_integer((json_int_t)total));
        json_object_set_new(out, "time_us", json_real(total_us));
        rc = print_json(out);
    } else if (o.json) {
        json_decref(out);
        json_decref(jcl);
    } else if (rc == CLI_OK) {
        printf("total: %" PRIu64 " candidate%s over %u class%s in %.1f us\n", total, total == 1 ? "" : "s",
               nc, nc == 1 ? "" : "es", total_us);
    }
    free(classes);
    kz_arena_free(a);
    kz_kb_close(kb);
    if (rc == CLI_OK && total == 0) rc = CLI_PARTIAL;
    return rc;
}

/* ---- diff -------------------------------------------------------------------------- */
/* Per parser: resource indices in text order (resources are sorted by text). */
typedef struct res_lists {
    uint32_t **v;
    uint64_t *n;
} res_lists;

static int res_lists_build(const kz_kb *kb, res_lists *r) {
    uint32_t np = kz_kb_n_parsers(kb);
    r->v = calloc(np + 1, sizeof *r->v);
    r->n = calloc(np + 1, sizeof *r->n);
    uint64_t nr = kz_kb_n_resources(kb);
    uint32_t *parser_of = malloc((nr ? nr : 1) * sizeof *parser_of);
    if (!r->v || !r->n || !parser_of) {
        free(parser_of);
        return -1;
    }
    for (uint64_t i = 0; i < nr; i++) {
        kz_kb_resource x;
        uint32_t p = kz_kb_resource_at(kb, i, &x) == 0 ? kz_kb_candidate_parser(kb, x.candidate) : UINT32_MAX;
        parser_of[i] = p < np ? p : np;
        r->n[parser_of[i]]++;
    }
    for (uint32_t p = 0; p <= np; p++) {
        r->v[p] = malloc((r->n[p] ? r->n[p] : 1) * sizeof **r->v);
        if (!r->v[p]) {
            free(parser_of);
            return -1;
        }
        r->n[p] = 0;
    }
    for (uint64_t i = 0; i < nr; i++) r->v[parser_of[i]][r->n[parser_of[i]]++] = (uint32_t)i;
    free(parser_of);
    return 0;
}

static void res_lists_free(res_lists *r, uint32_t np) {
    for (uint32_t p = 0; r->v && p <= np; p++) free(r->v[p]);
    free(r->v);
    free(r->n);
}

static kz_str res_text(const kz_kb *kb, uint32_t i) {
    kz_kb_resource x;
    return kz_kb_resource_at(kb, i, &x) == 0 ? x.text : (kz_str){"", 0};
}

static kz_str id_idx(const kz_kb *kb, uint64_t i, kz_arena *a, kz_str *label) {
    kz_kb_id id;
    kz_arena_reset(a);
    if (kz_kb_id_at(kb, i, a, &id)) {
        *label = KZ_STR_NULL;
        return (kz_str){"", 0};
    }
    *label = id.default_label;
    return id.idx;
}

typedef struct diff_side {
    const kz_kb *kb;
    int32_t parser; /* -1: absent */
    uint64_t id_lo, id_hi;
    const uint32_t *res;
    uint64_t n_res;
} diff_side;

typedef struct diff_counts {
    uint64_t ids_old, ids_new, ids_added, ids_removed;
    uint64_t syn_old, syn_new, syn_added, syn_removed;
} diff_counts;

typedef struct diff_out {
    bool json;
    long long limit;
    json_t *added, *removed; /* JSON lists being filled */
    long long shown_added, shown_removed;
} diff_out;

static void emit(diff_out *d, bool added, const char *kind, kz_str s, kz_str label) {
    long long *shown = added ? &d->shown_added : &d->shown_removed;
    if (d->limit >= 0 && *shown >= d->limit) return;
    (*shown)++;
    if (d->json) {
        if (label.ptr) {
            json_t *e = json_object();
            json_object_set_new(e, "idx", jstr(s));
            json_object_set_new(e, "default_label", jstr(label));
            json_array_append_new(added ? d->added : d->removed, e);
        } else {
            json_array_append_new(added ? d->added : d->removed, jstr(s));
        }
        return;
    }
    printf("    %c %s %.*s", added ? '+' : '-', kind, (int)s.len, s.ptr);
    if (label.ptr) printf("  \"%.*s\"", (int)label.len, label.ptr);
    printf("\n");
}

/* Merge-walk the sorted ids of one parser in both packs; counts and lists. */
static void diff_ids(const diff_side *o, const diff_side *n, kz_arena *ao, kz_arena *an, diff_out *d,
                     diff_counts *c, bool list) {
    uint64_t i = o->id_lo, j = n->id_lo;
    while (i < o->id_hi || j < n->id_hi) {
        kz_str lo_label = KZ_STR_NULL, ln_label = KZ_STR_NULL;
        kz_str a = i < o->id_hi ? id_idx(o->kb, i, ao, &lo_label) : KZ_STR_NULL;
        kz_str b = j < n->id_hi ? id_idx(n->kb, j, an, &ln_label) : KZ_STR_NULL;
        int cmp = !a.ptr ? 1 : !b.ptr ? -1 : kz_str_cmp(a, b);
        if (cmp == 0) {
            i++, j++;
        } else if (cmp < 0) {
            c->ids_removed++;
            if (list) emit(d, false, "id", a, lo_label.ptr ? lo_label : (kz_str){"", 0});
            i++;
        } else {
            c->ids_added++;
            if (list) emit(d, true, "id", b, ln_label.ptr ? ln_label : (kz_str){"", 0});
            j++;
        }
    }
}

static void diff_syns(const diff_side *o, const diff_side *n, diff_out *d, diff_counts *c, bool list) {
    uint64_t i = 0, j = 0;
    kz_str prev_a = KZ_STR_NULL, prev_b = KZ_STR_NULL;
    while (i < o->n_res || j < n->n_res) {
        kz_str a = i < o->n_res ? res_text(o->kb, o->res[i]) : KZ_STR_NULL;
        kz_str b = j < n->n_res ? res_text(n->kb, n->res[j]) : KZ_STR_NULL;
        /* one entry per distinct text */
        if (a.ptr && prev_a.ptr && kz_str_eq(a, prev_a)) {
            i++;
            continue;
        }
        if (b.ptr && prev_b.ptr && kz_str_eq(b, prev_b)) {
            j++;
            continue;
        }
        int cmp = !a.ptr ? 1 : !b.ptr ? -1 : kz_str_cmp(a, b);
        if (cmp <= 0) prev_a = a, i++, c->syn_old++;
        if (cmp >= 0) prev_b = b, j++, c->syn_new++;
        if (cmp < 0) {
            c->syn_removed++;
            if (list) emit(d, false, "synonym", a, KZ_STR_NULL);
        } else if (cmp > 0) {
            c->syn_added++;
            if (list) emit(d, true, "synonym", b, KZ_STR_NULL);
        }
    }
}

static int kb_diff(int argc, char **argv) {
    const char *cmd = "kb diff";
    kb_opts o;
    int first, rc = parse_opts(cmd, argc, argv, "260,261,", &o, &first);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if ((rc = want_args(cmd, argc, argv, first, 2, "OLD NEW"))) return rc;
    kz_kb *kb_old = open_pack(argv[first]), *kb_new = kb_old ? open_pack(argv[first + 1]) : NULL;
    if (!kb_old || !kb_new) {
        kz_kb_close(kb_old);
        return CLI_FATAL;
    }
    uint32_t npo = kz_kb_n_parsers(kb_old), npn = kz_kb_n_parsers(kb_new);
    res_lists ro = {0}, rn = {0};
    if (res_lists_build(kb_old, &ro) || res_lists_build(kb_new, &rn)) {
        fprintf(stderr, "kazu kb diff: out of memory\n");
        res_lists_free(&ro, npo);
        res_lists_free(&rn, npn);
        kz_kb_close(kb_old);
        kz_kb_close(kb_new);
        return CLI_FATAL;
    }
    /* parser names: OLD's order, then those only in NEW */
    kz_str *names = calloc(npo + npn + 1, sizeof *names);
    uint32_t nn = 0;
    for (int side = 0; side < 2; side++) {
        const kz_kb *kb = side ? kb_new : kb_old;
        for (uint32_t p = 0; p < kz_kb_n_parsers(kb); p++) {
            kz_kb_parser kp;
            if (kz_kb_parser_at(kb, p, &kp)) continue;
            if (side && kz_kb_parser_find(kb_old, kp.name) >= 0) continue;
            names[nn++] = kp.name;
        }
    }
    kz_arena *ao = kz_arena_new(0), *an = kz_arena_new(0);
    json_t *jout = o.json ? json_object() : NULL, *jpars = o.json ? json_array() : NULL;
    diff_counts tot = {0};
    bool differ = false;
    for (uint32_t k = 0; k < nn; k++) {
        diff_side so = {kb_old, kz_kb_parser_find(kb_old, names[k]), 0, 0, NULL, 0};
        diff_side sn = {kb_new, kz_kb_parser_find(kb_new, names[k]), 0, 0, NULL, 0};
        if (so.parser >= 0) {
            id_range(kb_old, (uint32_t)so.parser, ao, &so.id_lo, &so.id_hi);
            so.res = ro.v[so.parser];
            so.n_res = ro.n[so.parser];
        }
        if (sn.parser >= 0) {
            id_range(kb_new, (uint32_t)sn.parser, an, &sn.id_lo, &sn.id_hi);
            sn.res = rn.v[sn.parser];
            sn.n_res = rn.n[sn.parser];
        }
        diff_counts c = {0};
        c.ids_old = so.id_hi - so.id_lo;
        c.ids_new = sn.id_hi - sn.id_lo;
        diff_out d = {o.json, o.limit, NULL, NULL, 0, 0};
        /* counting pass */
        diff_ids(&so, &sn, ao, an, &d, &c, false);
        diff_syns(&so, &sn, &d, &c, false);
        const char *status = so.parser < 0                                                    ? "added"
                             : sn.parser < 0                                                  ? "removed"
                             : (c.ids_added || c.ids_removed || c.syn_added || c.syn_removed) ? "changed"
                                                                                              : "same";
        if (strcmp(status, "same") != 0) differ = true;
        tot.ids_added += c.ids_added, tot.ids_removed += c.ids_removed;
        tot.syn_added += c.syn_added, tot.syn_removed += c.syn_removed;
        if (o.json) {
            json_t *e = json_object();
            json_object_set_new(e, "name", jstr(names[k]));
            json_object_set_new(e, "status", json_string(status));
            for (int what = 0; what < 2; what++) {
                json_t *w = json_object();
                json_object_set_new(w, "old", json_integer((json_int_t)(what ? c.syn_old : c.ids_old)));
                json_object_set_new(w, "new", json_integer((json_int_t)(what ? c.syn_new : c.ids_new)));
                json_object_set_new(w, "added", json_integer((json_int_t)(what ? c.syn_added : c.ids_added)));
                json_object_set_new(w, "removed",
                                    json_integer((json_int_t)(what ? c.syn_removed : c.ids_removed)));
                diff_out dl = {true, o.limit, json_array(), json_array(), 0, 0};
                diff_counts scratch = {0};
                if (what)
                    diff_syns(&so, &sn, &dl, &scratch, true);
                else
                    diff_ids(&so, &sn, ao, an, &dl, &scratch, true);
                json_object_set_new(w, "added_list", dl.added);
                json_object_set_new(w, "removed_list", dl.removed);
                json_object_set_new(e, what ? "synonyms" : "ids", w);
            }
            json_array_append_new(jpars, e);
        } else {
            printf("%.*s: %s; ids %" PRIu64 " -> %" PRIu64 " (+%" PRIu64 " -%" PRIu64 "), synonyms %" PRIu64
                   " -> %" PRIu64 " (+%" PRIu64 " -%" PRIu64 ")\n",
                   (int)names[k].len, names[k].ptr, status, c.ids_old, c.ids_new, c.ids_added, c.ids_removed,
                   c.syn_old, c.syn_new, c.syn_added, c.syn_removed);
            if (o.limit != 0 && strcmp(status, "same") != 0) {
                diff_out dl = {false, o.limit, NULL, NULL, 0, 0};
                diff_counts scratch = {0};
                diff_ids(&so, &sn, ao, an, &dl, &scratch, true);
                diff_out dl2 = {false, o.limit, NULL, NULL, 0, 0};
                diff_syns(&so, &sn, &dl2, &scratch, true);
                uint64_t hidden = 0;
                if (o.limit >= 0) {
                    uint64_t lim = (uint64_t)o.limit;
                    hidden += c.ids_added > lim ? c.ids_added - lim : 0;
                    hidden += c.ids_removed > lim ? c.ids_removed - lim : 0;
                    hidden += c.syn_added > lim ? c.syn_added - lim : 0;
                    hidden += c.syn_removed > lim ? c.syn_removed - lim : 0;
                }
                if (hidden) printf("    ... %" PRIu64 " more (--limit)\n", hidden);
            }
        }
    }
    if (o.json) {
        json_object_set_new(jout, "old", json_string(argv[first]));
        json_object_set_new(jout, "new", json_string(argv[first + 1]));
        json_object_set_new(jout, "parsers", jpars);
        json_t *t = json_object();
        json_object_set_new(t, "ids_added", json_integer((json_int_t)tot.ids_added));
        json_object_set_new(t, "ids_removed", json_integer((json_int_t)tot.ids_removed));
        json_object_set_new(t, "synonyms_added", json_integer((json_int_t)tot.syn_added));
        json_object_set_new(t, "synonyms_removed", json_integer((json_int_t)tot.syn_removed));
        json_object_set_new(jout, "totals", t);
        rc = print_json(jout);
    } else {
        printf("total: ids +%" PRIu64 " -%" PRIu64 ", synonyms +%" PRIu64 " -%" PRIu64 "\n", tot.ids_added,
               tot.ids_removed, tot.syn_added, tot.syn_removed);
        rc = CLI_OK;
    }
    free(names);
    kz_arena_free(ao);
    kz_arena_free(an);
    res_lists_free(&ro, npo);
    res_lists_free(&rn, npn);
    kz_kb_close(kb_old);
    kz_kb_close(kb_new);
    if (rc == CLI_OK && differ) rc = CLI_PARTIAL;
    return rc;
}

/* ---- verify ------------------------------------------------------------------------ */
static int kb_verify(int argc, char **argv) {
    const char *cmd = "kb verify";
    kb_opts o;
    int first, rc = parse_opts(cmd, argc, argv, "", &o, &first);
    if (rc) return rc < 0 ? CLI_OK : rc;
    if ((rc = want_args(cmd, argc, argv, first, 1, "PACK"))) return rc;
    kz_kb *kb = open_pack(argv[first]);
    if (!kb) return CLI_FATAL;
    kz_error err;
    kz_error_clear(&err);
    double t = now_s();
    int vrc = kz_kb_verify(kb, &err);
    double ms = (now_s() - t) * 1e3;
    kz_kb_info info;
    kz_kb_get_info(kb, &info);
    kz_kb_close(kb);
    if (vrc) {
        snprintf(err.path, sizeof err.path, "%s", argv[first]);
        cli_report(&err);
        return CLI_FATAL;
    }
    char bh[65];
    hex32(info.body_hash, bh);
    printf("%s: ok (format %u, %" PRIu64 " bytes, body SHA-256 %s, %.1f ms)\n", argv[first],
           info.format_version, info.file_bytes, bh, ms);
    return CLI_OK;
}

int cmd_kb(int argc, char **argv) {
    if (argc < 2) {
        fputs(cli_kb_help, stderr);
        return CLI_USAGE;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) {
        fputs(cli_kb_help, stdout);
        return CLI_OK;
    }
    if (!strcmp(sub, "build")) return kb_build(argc - 1, argv + 1);
    if (!strcmp(sub, "info")) return kb_info(argc - 1, argv + 1);
    if (!strcmp(sub, "lookup")) return kb_lookup(argc - 1, argv + 1);
    if (!strcmp(sub, "diff")) return kb_diff(argc - 1, argv + 1);
    if (!strcmp(sub, "verify")) return kb_verify(argc - 1, argv + 1);
    if (!strcmp(sub, "download")) return cmd_kb_download(argc - 1, argv + 1);
    return cli_usage("kb", "unknown subcommand '%s' (build, info, lookup, diff, verify, download)", sub);
}
