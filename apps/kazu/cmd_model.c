/* `kazu model`: describe a BERT model (Hugging Face directory, weights file or
 * .kzm) and convert one to a .kzm with a chosen weight storage. */
#include <string.h>
#include <time.h>
#include "cli.h"
#include "kazu/nn.h"

const char cli_model_help[] =
    "Usage: kazu model info PATH [--verify] [--labels]\n"
    "       kazu model convert SRC -o OUT.kzm [--storage fp32|fp16|bf16|int8]\n"
    "\n"
    "PATH / SRC is a Hugging Face model directory (config.json, vocab.txt,\n"
    "tokenizer_config.json, model.safetensors or pytorch_model.bin), one of those\n"
    "weights files, or a .kzm file written by 'kazu model convert'.\n"
    "\n"
    "info     print the configuration, tensor count, parameters, dtypes, file size and\n"
    "         how long loading took\n"
    "  --verify   (.kzm) also check the checksum of the weights\n"
    "  --labels   list every label of a token-classification head\n"
    "convert  write a .kzm (memory-mapped at load, no parsing of the weights)\n"
    "  -o, --out FILE     output file (written to a temporary name, then renamed)\n"
    "  -s, --storage P    fp32 (default, exact), fp16 or bf16 (dense and embedding\n"
    "                     matrices), int8 (dense matrices, per-row symmetric scales)\n"
    "\n"
    "Exit status: 0 ok, 2 usage error, 3 the model could not be read or written.\n";

static double ms_since(const struct timespec *t0) {
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static void model_log(kz_log_level level, const char *msg, void *user) {
    (void)user;
    fprintf(stderr, "kazu model: %s: %s\n",
            level >= KZ_LOG_ERROR  ? "error"
            : level >= KZ_LOG_WARN ? "warning"
                                   : "note",
            msg);
}

/* 1234567 -> "1,234,567" */
static const char *grouped(uint64_t v, char *buf, size_t cap) {
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v), o = 0;
    for (int i = 0; i < n && (size_t)o + 2 < cap; i++) {
        if (i && (n - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = 0;
    return buf;
}

static kz_bert *load(const char *cmd, const char *path, double *ms) {
    kz_error err;
    kz_error_clear(&err);
    kz_bert *m = NULL;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = kz_bert_load(path, &m, &err);
    *ms = ms_since(&t0);
    if (rc) {
        fprintf(stderr, "kazu %s: ", cmd);
        cli_report(&err);
        return NULL;
    }
    return m;
}

static const char *act_name(kz_bert_act a) {
    return a == KZ_ACT_GELU ? "gelu" : a == KZ_ACT_GELU_TANH ? "gelu_new (tanh)" : "relu";
}

static int model_info(int argc, char **argv) {
    static const struct option longopts[] = {{"verify", no_argument, NULL, 'v'},
                                             {"labels", no_argument, NULL, 'l'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *cmd = "model info";
    bool verify = false, labels = false;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "vlh", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(cli_model_help, stdout);
            return CLI_OK;
        }
        if (c == 'v')
            verify = true;
        else if (c == 'l')
            labels = true;
        else
            return cli_bad_option(cmd, argv);
    }
    if (optind != argc - 1) return cli_usage(cmd, "expected one model PATH");
    const char *path = argv[optind];
    double ms;
    kz_bert *m = load(cmd, path, &ms);
    if (!m) return CLI_FATAL;
    const kz_bert_config *cfg = kz_bert_get_config(m);
    kz_bert_stats s;
    kz_bert_get_stats(m, &s);
    char a[32], b[32], d[32];
    static const char *const dt[5] = {"F32", "F16", "BF16", "I8", "I64"};
    printf("model:          %s\n", path);
    printf("file:           %s (%s, %s bytes)\n", s.file[0] ? s.file : "-", s.format,
           grouped(s.file_bytes, a, sizeof a));
    if (cfg->head == KZ_HEAD_TOKEN_CLS)
        printf("head:           token classification, %u labels, %s\n", cfg->num_labels,
               cfg->multilabel ? "multi-label (sigmoid)" : "single-label (softmax)");
    else
        printf("head:           none (encoder only)\n");
    printf("encoder:        %u layers, hidden %u, %u heads, intermediate %u, %s\n", cfg->layers, cfg->hidden,
           cfg->heads, cfg->intermediate, act_name(cfg->act));
    printf("embeddings:     vocab %u, max positions %u, token types %u, layer-norm eps %g, pad id %d\n",
           cfg->vocab_size, cfg->max_positions, cfg->type_vocab, (double)cfg->layer_norm_eps,
           cfg->pad_token_id);
    printf("tensors:        %u in the file (", s.n_tensors);
    for (int i = 0, first = 1; i < 5; i++)
        if (s.n_by_dtype[i]) {
            printf("%s%s %u", first ? "" : ", ", dt[i], s.n_by_dtype[i]);
            first = 0;
        }
    printf("), %u not used (pooler, position_ids, pretraining heads)\n", s.n_ignored);
    printf("parameters:     %s in the file, %s used\n", grouped(s.n_params, b, sizeof b),
           grouped(s.n_params_used, d, sizeof d));
    printf("storage:        %s\n", kz_precision_name(s.stored));
    const kz_wordpiece *wp = kz_bert_tokenizer(m);
    if (wp)
        printf("tokenizer:      WordPiece, %u tokens, lowercase %s, strip accents %s, split CJK %s\n",
               kz_wordpiece_vocab_size(wp), s.lowercase ? "yes" : "no",
               s.strip_accents < 0 ? "(as lowercase)"
               : s.strip_accents   ? "yes"
                                   : "no",
               s.tokenize_chinese_chars ? "yes" : "no");
    else
        printf("tokenizer:      none (no vocab.txt)\n");
    if (cfg->head == KZ_HEAD_TOKEN_CLS) {
        printf("labels:        ");
        uint32_t show = labels || cfg->num_labels < 8 ? cfg->num_labels : 8;
        for (uint32_t i = 0; i < show; i++) printf("%s %u=%s", i ? "," : "", i, cfg->id2label[i]);
        if (show < cfg->num_labels) printf(", ... (--labels for all %u)", cfg->num_labels);
        printf("\n");
    }
    printf("load time:      %.2f ms\n", ms);
    int rc = CLI_OK;
    if (verify) {
        kz_error err;
        kz_error_clear(&err);
        if (strcmp(s.format, "kzm") != 0) {
            printf("verify:         only .kzm files carry a checksum\n");
        } else if (kz_bert_verify_file(path, &err)) {
            fprintf(stderr, "kazu %s: ", cmd);
            cli_report(&err);
            rc = CLI_FATAL;
        } else {
            printf("verify:         data checksum ok\n");
        }
    }
    kz_bert_free(m);
    return rc;
}

static int model_convert(int argc, char **argv) {
    static const struct option longopts[] = {{"out", required_argument, NULL, 'o'},
                                             {"storage", required_argument, NULL, 's'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *cmd = "model convert", *out = NULL;
    kz_precision storage = KZ_PREC_FP32;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "o:s:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(cli_model_help, stdout);
            return CLI_OK;
        }
        if (c == 'o')
            out = optarg;
        else if (c == 's') {
            if (kz_precision_parse(optarg, &storage) != 0)
                return cli_usage(cmd, "--storage: expected fp32, fp16, bf16 or int8, got '%s'", optarg);
        } else
            return cli_bad_option(cmd, argv);
    }
    if (optind != argc - 1) return cli_usage(cmd, "expected one source model SRC");
    if (!out) return cli_usage(cmd, "missing -o OUT.kzm");
    double ms;
    kz_bert *m = load(cmd, argv[optind], &ms);
    if (!m) return CLI_FATAL;
    kz_error err;
    kz_error_clear(&err);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = kz_bert_save(m, out, storage, &err);
    double wms = ms_since(&t0);
    kz_bert_free(m);
    if (rc) {
        fprintf(stderr, "kazu %s: ", cmd);
        cli_report(&err);
        return CLI_FATAL;
    }
    FILE *f = fopen(out, "rb");
    long size = -1;
    if (f && fseek(f, 0, SEEK_END) == 0) size = ftell(f);
    if (f) fclose(f);
    char a[32];
    fprintf(stderr, "kazu %s: wrote %s (%s bytes, storage %s; load %.1f ms, write %.1f ms)\n", cmd, out,
            grouped(size < 0 ? 0 : (uint64_t)size, a, sizeof a), kz_precision_name(storage), ms, wms);
    return CLI_OK;
}

int cmd_model(int argc, char **argv) {
    kz_log_set_sink(model_log, NULL, KZ_LOG_WARN);
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        fputs(cli_model_help, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_USAGE : CLI_OK;
    }
    if (strcmp(argv[1], "info") == 0) return model_info(argc - 1, argv + 1);
    if (strcmp(argv[1], "convert") == 0) return model_convert(argc - 1, argv + 1);
    return cli_usage("model", "unknown subcommand '%s' (info, convert)", argv[1]);
}
