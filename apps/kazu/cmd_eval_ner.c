/* `kazu eval ner`: entity-level strict P/R/F1 (seqeval, multi-label protocol)
 * of the transformer NER step over gold corpora, or of one annotated file
 * against another (docs/eval.md). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "../../src/eval/eval_int.h"
#include "../../src/train/data_int.h"
#include "cli.h"

const char cli_eval_ner_help[] =
    "Usage: kazu eval ner --model MODEL --corpora LIST [--split devel] [--corpus NAME] [options]\n"
    "       kazu eval ner --gold FILE --pred FILE [options]\n"
    "\n"
    "Entity-level strict precision, recall and F1 as seqeval computes them, with the Kazu\n"
    "paper's multi-label protocol: each class is scored on its own B/I/O sequence, so a\n"
    "prediction counts only when its class, start and end all match a gold entity.\n"
    "\n"
    "Model mode: run TransformersModelForTokenClassificationNerStep with MODEL (.kzm or a\n"
    "Hugging Face directory) over the gold documents of every enabled entry of the corpus\n"
    "LIST (train/corpora.yaml) for the split, scoring only the classes each corpus\n"
    "annotates (its label map).\n"
    "      --model PATH       the token-classification model\n"
    "      --corpora PATH     corpus list YAML (docs/train-data.md)\n"
    "      --split S          devel (default) or train\n"
    "      --corpus NAME      only this corpus (repeatable)\n"
    "      --limit N          at most N documents per corpus (0 = all)\n"
    "      --precision P      fp32 (default), int8, bf16\n"
    "      --max-len N        max_sequence_length (default 128)\n"
    "      --stride N         window overlap (default 16)\n"
    "      --threads N        threads per forward pass (default 1)\n"
    "      --threshold P      multi-label decision threshold on the sigmoid (default 0.5)\n"
    "File mode: compare two annotated files of any readable format (documents in the same\n"
    "order with the same texts); every class seen is scored unless --classes is given.\n"
    "      --gold PATH, --pred PATH\n"
    "      --gold-format F, --pred-format F   (default: guessed)\n"
    "      --classes a,b,...  only these classes\n"
    "Output:\n"
    "      --json             one JSON object instead of the table\n"
    "  -h, --help             this help\n"
    "\n"
    "Exit status: 0 done, 2 usage error, 3 fatal (unreadable input, model, mismatched files).\n";

#define CMD        "eval ner"
#define NER_STEP   "TransformersModelForTokenClassificationNerStep"
#define MAX_CORPUS 64
#define MAX_CLS    64
#define BATCH      32

typedef struct opts {
    const char *model, *corpora, *split, *gold, *pred, *precision;
    const char *only[MAX_CORPUS];
    size_t n_only;
    kz_format gold_fmt, pred_fmt;
    char *classes[MAX_CLS];
    size_t n_classes;
    long limit, max_len, stride, threads;
    double threshold;
    bool json;
} opts;

/* ---- output ---------------------------------------------------------------- */

static void put_counts_json(kz__prf_counts c) {
    kz__prf p = kz__prf_of(c);
    printf("{\"precision\": %.6f, \"recall\": %.6f, \"f1\": %.6f, \"support\": %llu, \"tp\": %llu, \"fp\": "
           "%llu, "
           "\"fn\": %llu}",
           p.p, p.r, p.f1, (unsigned long long)(c.tp + c.fn), (unsigned long long)c.tp,
           (unsigned long long)c.fp, (unsigned long long)c.fn);
}

static void put_json_str(const char *s) {
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') putchar('\\');
        if ((unsigned char)*s < 0x20)
            printf("\\u%04x", *s);
        else
            putchar(*s);
    }
    putchar('"');
}

static void print_json(const kz__ner_eval *ev) {
    printf("{\"corpora\": {");
    for (uint32_t k = 0; k < ev->n_corpora; k++) {
        printf("%s", k ? ", " : "");
        put_json_str(ev->corpora[k]);
        printf(": {\"classes\": {");
        bool first = true;
        for (uint32_t c = 0; c < ev->n_classes; c++) {
            size_t cell = (size_t)k * ev->cap_classes + c;
            if (!ev->scored[cell]) continue;
            printf("%s", first ? "" : ", ");
            first = false;
            put_json_str(ev->classes[c]);
            printf(": ");
            put_counts_json(ev->c[cell]);
        }
        printf("}, \"micro\": ");
        put_counts_json(kz__ner_eval_micro(ev, (int)k));
        kz__prf m = kz__ner_eval_macro(ev, (int)k);
        printf(", \"macro\": {\"precision\": %.6f, \"recall\": %.6f, \"f1\": %.6f}}", m.p, m.r, m.f1);
    }
    printf("}, \"classes\": {");
    for (uint32_t c = 0; c < ev->n_classes; c++) {
        printf("%s", c ? ", " : "");
        put_json_str(ev->classes[c]);
        printf(": ");
        put_counts_json(kz__ner_eval_class_total(ev, c));
    }
    printf("}, \"micro\": ");
    put_counts_json(kz__ner_eval_micro(ev, -1));
    kz__prf m = kz__ner_eval_macro(ev, -1);
    printf(", \"macro\": {\"precision\": %.6f, \"recall\": %.6f, \"f1\": %.6f}}\n", m.p, m.r, m.f1);
}

static void row(const char *corpus, const char *cls, kz__prf_counts c) {
    kz__prf p = kz__prf_of(c);
    printf("%-16s %-12s %7.2f %7.2f %7.2f %8llu %8llu %8llu %8llu\n", corpus, cls, 100 * p.p, 100 * p.r,
           100 * p.f1, (unsigned long long)(c.tp + c.fn), (unsigned long long)c.tp, (unsigned long long)c.fp,
           (unsigned long long)c.fn);
}

static void print_table(const kz__ner_eval *ev) {
    printf("%-16s %-12s %7s %7s %7s %8s %8s %8s %8s\n", "corpus", "class", "P", "R", "F1", "support", "tp",
           "fp", "fn");
    for (uint32_t k = 0; k < ev->n_corpora; k++) {
        uint32_t n = 0;
        for (uint32_t c = 0; c < ev->n_classes; c++) {
            size_t cell = (size_t)k * ev->cap_classes + c;
            if (!ev->scored[cell]) continue;
            row(ev->corpora[k], ev->classes[c], ev->c[cell]);
            n++;
        }
        if (n > 1) {
            row(ev->corpora[k], "(micro)", kz__ner_eval_micro(ev, (int)k));
            kz__prf m = kz__ner_eval_macro(ev, (int)k);
            printf("%-16s %-12s %7.2f %7.2f %7.2f\n", ev->corpora[k], "(macro)", 100 * m.p, 100 * m.r,
                   100 * m.f1);
        }
    }
    if (ev->n_corpora > 1) {
        for (uint32_t c = 0; c < ev->n_classes; c++)
            row("(all)", ev->classes[c], kz__ner_eval_class_total(ev, c));
        row("(all)", "(micro)", kz__ner_eval_micro(ev, -1));
        kz__prf m = kz__ner_eval_macro(ev, -1);
        printf("%-16s %-12s %7.2f %7.2f %7.2f\n", "(all)", "(macro)", 100 * m.p, 100 * m.r, 100 * m.f1);
    }
}

/* ---- file mode ----------------------------------------------------------------- */

static int eval_files(const opts *o, kz__ner_eval *ev) {
    kz_error err;
    kz_error_clear(&err);
    kz_reader *g = NULL, *p = NULL;
    int rc = kz_reader_open_path(&g, o->gold, o->gold_fmt, NULL, &err);
    if (!rc) rc = kz_reader_open_path(&p, o->pred, o->pred_fmt, NULL, &err);
    int corpus = rc ? -1 : kz__ner_eval_corpus(ev, "gold");
    if (!rc && corpus < 0) rc = kz_error_set(&err, KZ_ENOMEM, "out of memory");
    size_t n_docs = 0;
    while (!rc) {
        kz_doc *gd = NULL, *pd = NULL;
        int a = kz_reader_next(g, &gd, &err);
        if (a < 0) {
            rc = a;
            break;
        }
        int b = kz_reader_next(p, &pd, &err);
        if (b < 0) {
            kz_doc_free(gd);
            rc = b;
            break;
        }
        if (a == 0 || b == 0) {
            if (a != b)
                rc = kz_error_set(&err, KZ_EINVAL, "%s has more documents than %s (after %zu)",
                                  a ? o->gold : o->pred, a ? o->pred : o->gold, n_docs);
            kz_doc_free(gd);
            kz_doc_free(pd);
            break;
        }
        if (!kz_str_eq(gd->idx, pd->idx))
            rc = kz_error_set(&err, KZ_EINVAL, "document %zu: gold id '%s' but predicted id '%s'", n_docs + 1,
                              gd->idx.ptr, pd->idx.ptr);
        if (!rc)
            rc = kz__ner_eval_doc(ev, (uint32_t)corpus, gd, pd, (const char *const *)o->classes, o->n_classes,
                                  &err);
        kz_doc_free(gd);
        kz_doc_free(pd);
        n_docs++;
    }
    kz_reader_close(g);
    kz_reader_close(p);
    if (rc) {
        cli_report(&err);
        return CLI_FATAL;
    }
    if (!o->json) fprintf(stderr, "kazu eval ner: %zu documents compared\n", n_docs);
    return CLI_OK;
}

/* ---- model mode ----------------------------------------------------------------- */

typedef struct run_ctx {
    const kz_step_type *type;
    void *state;
    kz__ner_eval *ev;
    uint32_t corpus;
    const char *classes[KZ_TRAIN_N_CLASSES];
    size_t n_classes;
    kz_doc *gold[BATCH], *pred[BATCH];
    size_t n, n_docs, failed;
    long limit;
    kz_error *err;
} run_ctx;

static int flush(run_ctx *r) {
    int rc = 0;
    if (r->n) {
        kz_step_ctx ctx = {NER_STEP, NULL, NULL};
        rc = r->type->process(r->state, r->pred, r->n, &ctx, r->err);
    }
    for (size_t i = 0; i < r->n; i++) {
        if (!rc && kz_doc_failed(r->pred[i])) {
            r->failed++;
            kz_str m = kz_meta_get(&r->pred[i]->metadata, KZ_PROCESSING_EXCEPTION);
            fprintf(stderr, "kazu eval ner: document %s failed: %.*s\n", r->pred[i]->idx.ptr,
                    (int)(m.len < 300 ? m.len : 300), m.ptr ? m.ptr : "");
        }
        if (!rc)
            rc = kz__ner_eval_doc(r->ev, r->corpus, r->gold[i], r->pred[i], r->classes, r->n_classes, r->err);
        kz_doc_free(r->gold[i]);
        kz_doc_free(r->pred[i]);
    }
    r->n = 0;
    return rc;
}

#define STOP_LIMIT 1

static int on_gold(kz_doc *doc, void *user) {
    run_ctx *r = user;
    if (r->limit > 0 && (long)r->n_docs >= r->limit) {
        kz_doc_free(doc);
        return STOP_LIMIT;
    }
    kz_doc *p = kz_doc_new(doc->idx.ptr, doc->idx.len);
    int rc = p ? 0 : kz_error_set(r->err, KZ_ENOMEM, "out of memory");
    for (uint32_t s = 0; !rc && s < doc->n_sections; s++)
        rc = kz_doc_add_section(p, doc->sections[s]->name.ptr, doc->sections[s]->name.len,
                                doc->sections[s]->text.ptr, doc->sections[s]->text.len, NULL, r->err);
    if (rc) {
        kz_doc_free(doc);
        kz_doc_free(p);
        return rc;
    }
    r->gold[r->n] = doc;
    r->pred[r->n++] = p;
    r->n_docs++;
    return r->n == BATCH ? flush(r) : 0;
}

static int yaml_str(char *out, size_t cap, const char *key, const char *v) {
    size_t o = strlen(out);
    int k = snprintf(out + o, cap - o, "%s: \"", key);
    if (k < 0 || (size_t)k >= cap - o) return -1;
    o += (size_t)k;
    for (; *v; v++) {
        if (o + 4 >= cap) return -1;
        if (*v == '"' || *v == '\\') out[o++] = '\\';
        out[o++] = *v;
    }
    if (o + 3 >= cap) return -1;
    out[o++] = '"';
    out[o++] = '\n';
    out[o] = 0;
    return 0;
}

static int eval_model(const opts *o, kz__ner_eval *ev) {
    kz_error err;
    kz_error_clear(&err);
    char y[8192] = "";
    if (yaml_str(y, sizeof y, "model_path", o->model) || yaml_str(y, sizeof y, "precision", o->precision))
        return cli_usage(CMD, "model path too long");
    size_t l = strlen(y);
    snprintf(y + l, sizeof y - l,
             "max_sequence_length: %ld\nstride: %ld\nthreads: %ld\nbatch_size: 8\nthreshold: %.9g\n",
             o->max_len, o->stride, o->threads, o->threshold);
    const kz_step_type *type = kz_step_find(NER_STEP);
    if (!type) {
        fprintf(stderr, "kazu eval ner: step %s is not registered\n", NER_STEP);
        return CLI_FATAL;
    }
    kz_config *cfg = NULL;
    void *state = NULL;
    kz__corpus_list list = {0};
    int rc = kz_config_load_string(&cfg, y, strlen(y), "<eval ner>", NULL, &err);
    if (!rc) rc = kz__corpora_load(o->corpora, &list, &err);
    if (!rc) rc = type->init ? type->init(&state, kz_config_root(cfg), &err) : 0;
    size_t n_run = 0;
    for (size_t i = 0; !rc && i < list.n; i++) {
        const kz__corpus_spec *c = &list.v[i];
        if (!c->enabled || strcmp(c->split, o->split)) continue;
        bool want = o->n_only == 0;
        for (size_t k = 0; k < o->n_only; k++) want |= !strcmp(o->only[k], c->name);
        if (!want) continue;
        run_ctx r = {.type = type, .state = state, .ev = ev, .limit = o->limit, .err = &err};
        int ci = kz__ner_eval_corpus(ev, c->name);
        if (ci < 0) {
            rc = kz_error_set(&err, KZ_ENOMEM, "out of memory");
            break;
        }
        r.corpus = (uint32_t)ci;
        for (int k = 0; k < KZ_TRAIN_N_CLASSES; k++)
            if (c->classes & (1u << k)) r.classes[r.n_classes++] = kz__train_classes[k];
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        kz__read_stats st = {0};
        rc = kz__corpus_read(c, on_gold, &r, &st, &err);
        if (rc == STOP_LIMIT) rc = 0;
        if (!rc) rc = flush(&r);
        for (size_t k = 0; k < r.n; k++) kz_doc_free(r.gold[k]), kz_doc_free(r.pred[k]);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (!rc)
            fprintf(stderr, "kazu eval ner: %s (%s): %zu documents in %.1f s%s\n", c->name, c->split,
                    r.n_docs, (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec),
                    r.failed ? " (some failed)" : "");
        n_run++;
    }
    if (state && type->free) type->free(state);
    kz_config_free(cfg);
    kz__corpora_free(&list);
    if (rc) {
        cli_report(&err);
        return CLI_FATAL;
    }
    if (!n_run) {
        fprintf(stderr, "kazu eval ner: no enabled corpus of split '%s'%s in %s\n", o->split,
                o->n_only ? " with that name" : "", o->corpora);
        return CLI_FATAL;
    }
    return CLI_OK;
}

static int parse_long(const char *opt, const char *arg, long min, long max, long *out) {
    char *end;
    long v = strtol(arg, &end, 10);
    if (!*arg || *end || v < min || v > max)
        return cli_usage(CMD, "%s needs an integer in [%ld, %ld], got '%s'", opt, min, max, arg);
    *out = v;
    return 0;
}

int cmd_eval_ner(int argc, char **argv) {
    static const struct option longopts[] = {{"model", required_argument, NULL, 'm'},
                                             {"corpora", required_argument, NULL, 'c'},
                                             {"split", required_argument, NULL, 's'},
                                             {"corpus", required_argument, NULL, 'C'},
                                             {"gold", required_argument, NULL, 'g'},
                                             {"pred", required_argument, NULL, 'p'},
                                             {"gold-format", required_argument, NULL, 1},
                                             {"pred-format", required_argument, NULL, 2},
                                             {"classes", required_argument, NULL, 3},
                                             {"json", no_argument, NULL, 'j'},
                                             {"limit", required_argument, NULL, 4},
                                             {"precision", required_argument, NULL, 5},
                                             {"max-len", required_argument, NULL, 6},
                                             {"stride", required_argument, NULL, 7},
                                             {"threads", required_argument, NULL, 8},
                                             {"threshold", required_argument, NULL, 9},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    opts o = {
        .split = "devel", .precision = "fp32", .max_len = 128, .stride = 16, .threads = 1, .threshold = 0.5};
    char *classes_arg = NULL;
    int c, rc = 0;
    optind = 1;
    opterr = 0;
    while (!rc && (c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': o.model = optarg; break;
        case 'c': o.corpora = optarg; break;
        case 's': o.split = optarg; break;
        case 'C':
            if (o.n_only == MAX_CORPUS) return cli_usage(CMD, "too many --corpus");
            o.only[o.n_only++] = optarg;
            break;
        case 'g': o.gold = optarg; break;
        case 'p': o.pred = optarg; break;
        case 1:
        case 2: {
            kz_format f = kz_format_parse(optarg);
            if (f == KZ_FORMAT_UNKNOWN || !kz_format_can_read(f))
                return cli_usage(CMD, "unknown input format '%s'", optarg);
            if (c == 1)
                o.gold_fmt = f;
            else
                o.pred_fmt = f;
            break;
        }
        case 3: classes_arg = optarg; break;
        case 'j': o.json = true; break;
        case 4: rc = parse_long("--limit", optarg, 0, 1L << 40, &o.limit); break;
        case 5: o.precision = optarg; break;
        case 6: rc = parse_long("--max-len", optarg, 8, 65536, &o.max_len); break;
        case 7: rc = parse_long("--stride", optarg, 0, 65536, &o.stride); break;
        case 8: rc = parse_long("--threads", optarg, 1, 256, &o.threads); break;
        case 9: {
            char *end = NULL;
            o.threshold = strtod(optarg, &end);
            if (!end || end == optarg || *end || !(o.threshold > 0 && o.threshold < 1))
                return cli_usage(CMD, "--threshold must be a number in (0, 1), got '%s'", optarg);
            break;
        }
        case 'h': fputs(cli_eval_ner_help, stdout); return CLI_OK;
        default: return cli_bad_option(CMD, argv);
        }
    }
    if (rc) return rc;
    if (optind < argc) return cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
    bool model_mode = o.model || o.corpora, file_mode = o.gold || o.pred;
    if (model_mode == file_mode) return cli_usage(CMD, "give --model and --corpora, or --gold and --pred");
    if (model_mode && (!o.model || !o.corpora))
        return cli_usage(CMD, "model mode needs both --model and --corpora");
    if (file_mode && (!o.gold || !o.pred)) return cli_usage(CMD, "file mode needs both --gold and --pred");
    if (strcmp(o.split, "devel") && strcmp(o.split, "train"))
        return cli_usage(CMD, "--split must be devel or train");
    char *classes_copy = NULL;
    if (classes_arg) {
        classes_copy = strdup(classes_arg);
        if (!classes_copy) return CLI_FATAL;
        for (char *save = NULL, *t = strtok_r(classes_copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (o.n_classes == MAX_CLS) {
                free(classes_copy);
                return cli_usage(CMD, "more than %d classes", MAX_CLS);
            }
            o.classes[o.n_classes++] = t;
        }
    }
    kz__ner_eval ev;
    kz__ner_eval_init(&ev);
    rc = model_mode ? eval_model(&o, &ev) : eval_files(&o, &ev);
    if (rc == CLI_OK) {
        if (o.json)
            print_json(&ev);
        else
            print_table(&ev);
    }
    kz__ner_eval_free(&ev);
    free(classes_copy);
    return rc;
}
