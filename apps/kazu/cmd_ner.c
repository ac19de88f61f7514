/* `kazu ner`: run the transformer NER step alone (a one-step pipeline built
 * from inline YAML) over documents and write them in any output format. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"

const char cli_ner_help[] =
    "Usage: kazu ner [options] MODEL INPUT...\n"
    "\n"
    "Run TransformersModelForTokenClassificationNerStep (Kazu's transformer NER) with the\n"
    "token-classification MODEL (a Hugging Face directory or a .kzm file) over the\n"
    "documents of each INPUT and write them with their entities, in input order.\n"
    "An INPUT is a file (gzip is detected), a glob, a directory, or - for stdin.\n"
    "\n"
    "Model:\n"
    "      --precision P      fp32 (default), int8 or bf16\n"
    "      --max-len N        max_sequence_length, even (default 128)\n"
    "      --stride N         tokens shared by consecutive windows, even (default 16)\n"
    "      --threads N        threads per forward pass (default 1)\n"
    "      --frames N         windows per forward pass (the step's batch_size, default 4)\n"
    "Input and output:\n"
    "  -i, --in-format FMT    input format (default: guessed per input)\n"
    "  -f, --out-format FMT   output format (default: kazu-json, one document per line)\n"
    "  -o, --out PATH         output file, or directory for brat (default: stdout)\n"
    "      --lines            text input: each non-empty line is a document\n"
    "      --no-ascii         write UTF-8 instead of \\uXXXX escapes\n"
    "  -b, --batch-size N     documents per step call (default 16)\n"
    "  -q, --quiet            no summary line on stderr\n"
    "  -h, --help             this help\n"
    "\n"
    "The step's other options (labels, strip_re, entity_class_map, use_multilabel, ...)\n"
    "are set with `kazu annotate --config` (see docs/ner.md).\n"
    "\n" CLI_EXIT_HELP;

/* Append s as a YAML double-quoted scalar. */
static void yaml_quote(char *out, size_t cap, const char *s) {
    size_t o = strlen(out);
    if (o + 1 < cap) out[o++] = '"';
    for (; *s && o + 3 < cap; s++) {
        if (*s == '"' || *s == '\\') out[o++] = '\\';
        out[o++] = *s;
    }
    if (o + 1 < cap) out[o++] = '"';
    out[o] = 0;
}

static int parse_uint(const char *cmd, const char *opt, const char *arg, long max, long *out) {
    char *end;
    long v = strtol(arg, &end, 10);
    if (!*arg || *end || v < 0 || v > max)
        return cli_usage(cmd, "%s needs an integer in [0, %ld], got '%s'", opt, max, arg);
    *out = v;
    return 0;
}

int cmd_ner(int argc, char **argv) {
    static const struct option longopts[] = {CLI_IO_LONGOPTS,
                                             {"precision", required_argument, NULL, 300},
                                             {"max-len", required_argument, NULL, 301},
                                             {"stride", required_argument, NULL, 302},
                                             {"threads", required_argument, NULL, 303},
                                             {"frames", required_argument, NULL, 304},
                                             {NULL, 0, NULL, 0}};
    const char *cmd = "ner", *precision = "fp32";
    long max_len = 128, stride = 16, threads = 1, frames = 4;
    cli_io o;
    cli_io_init(&o);
    opterr = 0;
    optind = 1;
    int c, rc;
    while ((c = getopt_long(argc, argv, CLI_IO_SHORTOPTS, longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(cli_ner_help, stdout);
            return CLI_OK;
        }
        rc = cli_io_option(cmd, c, optarg, &o);
        if (rc == 0) continue;
        if (rc != 1) return rc;
        switch (c) {
        case 300: precision = optarg; break;
        case 301:
            if ((rc = parse_uint(cmd, "--max-len", optarg, 65536, &max_len))) return rc;
            break;
        case 302:
            if ((rc = parse_uint(cmd, "--stride", optarg, 65536, &stride))) return rc;
            break;
        case 303:
            if ((rc = parse_uint(cmd, "--threads", optarg, 256, &threads))) return rc;
            break;
        case 304:
            if ((rc = parse_uint(cmd, "--frames", optarg, 4096, &frames))) return rc;
            break;
        default: return cli_bad_option(cmd, argv);
        }
    }
    if (optind >= argc) return cli_usage(cmd, "no model given");
    const char *model = argv[optind++];
    if (optind >= argc) return cli_usage(cmd, "no input given (use - for stdin)");
    if (max_len % 2 || stride % 2) return cli_usage(cmd, "--max-len and --stride must be even");
    if (threads < 1 || frames < 1) return cli_usage(cmd, "--threads and --frames must be >= 1");

    char yaml[8192];
    snprintf(
        yaml, sizeof yaml,
        "pipeline:\n  batch_size: 16\n  steps:\n    - type: TransformersModelForTokenClassificationNerStep\n"
        "      params:\n        model_path: ");
    yaml_quote(yaml, sizeof yaml, model);
    size_t n = strlen(yaml);
    snprintf(yaml + n, sizeof yaml - n,
             "\n        max_sequence_length: %ld\n        stride: %ld\n        threads: %ld\n"
             "        batch_size: %ld\n        precision: ",
             max_len, stride, threads, frames);
    yaml_quote(yaml, sizeof yaml, precision);
    n = strlen(yaml);
    snprintf(yaml + n, sizeof yaml - n, "\n");

    kz_config *cfg = NULL;
    kz_error err;
    kz_error_clear(&err);
    if (kz_config_load_string(&cfg, yaml, strlen(yaml), "kazu ner", NULL, &err)) {
        cli_report(&err);
        return CLI_FATAL;
    }
    kz_pipeline *p = NULL;
    rc = kz_pipeline_new(kz_config_root(cfg), &p, &err);
    kz_config_free(cfg);
    if (rc) {
        cli_report(&err);
        return CLI_FATAL;
    }
    kz_pipeline_run_params rp = kz_pipeline_run_default_params();
    int code = cli_process(cmd, &o, argv + optind, argc - optind, p, &rp);
    kz_pipeline_free(p);
    return code;
}
