/* `kazu train`: train a BERT token-classification NER model (multi-label) on the
 * corpora of a corpus list (kz_train_data_load) and save it as a .kzm. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "kazu/train.h"
#include "../../src/train/train_int.h"

const char cli_train_help[] =
    "Usage: kazu train --corpora CORPORA.yaml --vocab VOCAB.txt -o MODEL.kzm [options]\n"
    "Train a multi-label BERT token classifier (one sigmoid per B-/I- class label) from\n"
    "the train split of the corpus list (docs/train.md) and save it as a .kzm file.\n"
    "\n"
    "Model (a new, randomly initialised model unless --init is given):\n"
    "  --vocab FILE          WordPiece vocab.txt (uncased BERT normalisation)\n"
    "  --init MODEL          start from this model (HF directory or .kzm) instead; its\n"
    "                        labels must be the data's labels, in order\n"
    "  --layers N            encoder layers (default 4)\n"
    "  --hidden N            hidden size (default 312)\n"
    "  --heads N             attention heads (default 12)\n"
    "  --intermediate N      FFN size (default 1200)\n"
    "  --max-len N           window length in tokens incl. [CLS]/[SEP] (default 128)\n"
    "Training:\n"
    "  --epochs N (3)  --batch N (16)  --grad-accum N (1)  --lr X (5e-5)\n"
    "  --warmup X (0.1, fraction of the steps)  --weight-decay X (0.01)\n"
    "  --dropout X (0.1)  --clip X (1.0, global gradient norm; 0 = off)\n"
    "  --seed N (42)  --threads N (1)\n"
    "  --checkpoint FILE     write the training state there (atomically)\n"
    "  --checkpoint-every N  optimizer steps between checkpoints (default 500)\n"
    "  --resume              continue from --checkpoint when it exists\n"
    "  --split NAME          corpus split to train on (default train)\n"
    "  --precision P         storage of the saved model: fp32 (default), fp16, bf16, int8\n"
    "  --stop-after N        stop after N optimizer steps of this run, leaving the checkpoint\n"
    "                        and no model (what a kill does; for testing --resume)\n"
    "  -q, --quiet           no progress lines\n"
    "\n"
    "Exit status: 0 trained and saved, 2 usage error, 3 failure.\n";

static int parse_u32(const char *opt, const char *s, uint32_t lo, uint32_t hi, uint32_t *out) {
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return cli_usage("train", "%s: expected an integer in [%u, %u], got '%s'", opt, lo, hi, s);
    *out = (uint32_t)v;
    return 0;
}

static int parse_dbl(const char *opt, const char *s, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return cli_usage("train", "%s: expected a number in [%g, %g], got '%s'", opt, lo, hi, s);
    *out = v;
    return 0;
}

static void train_log(kz_log_level level, const char *msg, void *user) {
    (void)user;
    fprintf(stderr, "kazu train: %s%s\n",
            level >= KZ_LOG_ERROR  ? "error: "
            : level >= KZ_LOG_WARN ? "warning: "
                                   : "",
            msg);
}

int cmd_train(int argc, char **argv) {
    enum {
        O_CORPORA = 300,
        O_VOCAB,
        O_INIT,
        O_LAYERS,
        O_HIDDEN,
        O_HEADS,
        O_INTER,
        O_MAXLEN,
        O_EPOCHS,
        O_BATCH,
        O_ACCUM,
        O_LR,
        O_WARMUP,
        O_WD,
        O_DROPOUT,
        O_CLIP,
        O_SEED,
        O_THREADS,
        O_CKPT,
        O_CKPT_EVERY,
        O_RESUME,
        O_SPLIT,
        O_PREC,
        O_STOP
    };
    static const struct option longopts[] = {{"corpora", required_argument, NULL, O_CORPORA},
                                             {"vocab", required_argument, NULL, O_VOCAB},
                                             {"init", required_argument, NULL, O_INIT},
                                             {"layers", required_argument, NULL, O_LAYERS},
                                             {"hidden", required_argument, NULL, O_HIDDEN},
                                             {"heads", required_argument, NULL, O_HEADS},
                                             {"intermediate", required_argument, NULL, O_INTER},
                                             {"max-len", required_argument, NULL, O_MAXLEN},
                                             {"epochs", required_argument, NULL, O_EPOCHS},
                                             {"batch", required_argument, NULL, O_BATCH},
                                             {"grad-accum", required_argument, NULL, O_ACCUM},
                                             {"lr", required_argument, NULL, O_LR},
                                             {"warmup", required_argument, NULL, O_WARMUP},
                                             {"weight-decay", required_argument, NULL, O_WD},
                                             {"dropout", required_argument, NULL, O_DROPOUT},
                                             {"clip", required_argument, NULL, O_CLIP},
                                             {"seed", required_argument, NULL, O_SEED},
                                             {"threads", required_argument, NULL, O_THREADS},
                                             {"checkpoint", required_argument, NULL, O_CKPT},
                                             {"checkpoint-every", required_argument, NULL, O_CKPT_EVERY},
                                             {"resume", no_argument, NULL, O_RESUME},
                                             {"split", required_argument, NULL, O_SPLIT},
                                             {"precision", required_argument, NULL, O_PREC},
                                             {"stop-after", required_argument, NULL, O_STOP},
                                             {"out", required_argument, NULL, 'o'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *corpora = NULL, *vocab = NULL, *init = NULL, *out = NULL, *split = "train";
    uint32_t layers = 4, hidden = 312, heads = 12, inter = 1200, max_len = 128, seed32 = 42;
    kz_precision prec = KZ_PREC_FP32;
    kz_train_opts o = kz_train_default_opts();
    int c, rc = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case O_CORPORA: corpora = optarg; break;
        case O_VOCAB: vocab = optarg; break;
        case O_INIT: init = optarg; break;
        case O_LAYERS: rc = parse_u32("--layers", optarg, 1, 64, &layers); break;
        case O_HIDDEN: rc = parse_u32("--hidden", optarg, 1, 8192, &hidden); break;
        case O_HEADS: rc = parse_u32("--heads", optarg, 1, 256, &heads); break;
        case O_INTER: rc = parse_u32("--intermediate", optarg, 1, 65536, &inter); break;
        case O_MAXLEN: rc = parse_u32("--max-len", optarg, 8, 4096, &max_len); break;
        case O_EPOCHS: rc = parse_u32("--epochs", optarg, 1, 100000, &o.epochs); break;
        case O_BATCH: rc = parse_u32("--batch", optarg, 1, 65536, &o.batch_size); break;
        case O_ACCUM: rc = parse_u32("--grad-accum", optarg, 1, 65536, &o.grad_accum); break;
        case O_LR: rc = parse_dbl("--lr", optarg, 0, 10, &o.lr); break;
        case O_WARMUP: rc = parse_dbl("--warmup", optarg, 0, 1, &o.warmup_frac); break;
        case O_WD: rc = parse_dbl("--weight-decay", optarg, 0, 10, &o.weight_decay); break;
        case O_DROPOUT: rc = parse_dbl("--dropout", optarg, 0, 0.95, &o.dropout); break;
        case O_CLIP: rc = parse_dbl("--clip", optarg, 0, 1e9, &o.clip_norm); break;
        case O_SEED: rc = parse_u32("--seed", optarg, 0, UINT32_MAX, &seed32); break;
        case O_THREADS: rc = parse_u32("--threads", optarg, 1, 1024, &o.threads); break;
        case O_CKPT: o.checkpoint_path = optarg; break;
        case O_CKPT_EVERY:
            rc = parse_u32("--checkpoint-every", optarg, 0, UINT32_MAX, &o.checkpoint_every);
            break;
        case O_RESUME: o.resume = true; break;
        case O_SPLIT: split = optarg; break;
        case O_STOP: rc = parse_u32("--stop-after", optarg, 1, UINT32_MAX, &o.stop_after); break;
        case O_PREC:
            if (kz_precision_parse(optarg, &prec))
                rc = cli_usage("train", "--precision: unknown '%s'", optarg);
            break;
        case 'o': out = optarg; break;
        case 'q': o.verbose = 0; break;
        case 'h': fputs(cli_train_help, stdout); return CLI_OK;
        default: return cli_bad_option("train", argv);
        }
        if (rc) return rc;
    }
    if (optind < argc) return cli_usage("train", "unexpected argument '%s'", argv[optind]);
    if (!corpora) return cli_usage("train", "--corpora is required");
    if (!out) return cli_usage("train", "-o MODEL.kzm is required");
    if (!vocab && !init) return cli_usage("train", "--vocab (or --init MODEL) is required");
    if (o.resume && !o.checkpoint_path) return cli_usage("train", "--resume needs --checkpoint");
    if (o.stop_after && !o.checkpoint_path) return cli_usage("train", "--stop-after needs --checkpoint");
    if (hidden % heads)
        return cli_usage("train", "--hidden %u is not a multiple of --heads %u", hidden, heads);
    o.seed = seed32;
    kz_log_set_sink(train_log, NULL, o.verbose ? KZ_LOG_INFO : KZ_LOG_WARN);

    kz_error err;
    memset(&err, 0, sizeof err);
    kz_wordpiece *wp = NULL;
    kz_bert *model = NULL;
    kz_train_data data;
    memset(&data, 0, sizeof data);
    int code = CLI_FATAL;
    if (init) {
        if (kz_bert_load(init, &model, &err)) goto fail;
        if (!kz_bert_tokenizer(model)) {
            fprintf(stderr, "kazu train: %s has no vocabulary\n", init);
            goto done;
        }
        if (kz_bert_get_config(model)->max_positions < max_len)
            max_len = kz_bert_get_config(model)->max_positions;
    } else if (kz_wordpiece_load(vocab, NULL, &wp, &err)) {
        goto fail;
    }
    const kz_wordpiece *tok = init ? kz_bert_tokenizer(model) : wp;
    if (kz_train_data_load(corpora, split, tok, max_len, &data, &err)) goto fail;
    if (!data.n || !data.n_labels) {
        fprintf(stderr, "kazu train: %s has no %s examples\n", corpora, split);
        goto done;
    }
    if (init) {
        const kz_bert_config *mc = kz_bert_get_config(model);
        bool same = mc->num_labels == data.n_labels;
        for (uint32_t i = 0; same && i < data.n_labels; i++)
            same = strcmp(mc->id2label[i], data.labels[i]) == 0;
        if (!same) {
            fprintf(stderr, "kazu train: the labels of %s differ from the data's (%u labels)\n", init,
                    data.n_labels);
            goto done;
        }
    } else {
        kz_bert_config cfg;
        memset(&cfg, 0, sizeof cfg);
        cfg.hidden = hidden, cfg.layers = layers, cfg.heads = heads, cfg.intermediate = inter;
        cfg.max_positions = max_len, cfg.type_vocab = 2, cfg.layer_norm_eps = 1e-12f, cfg.act = KZ_ACT_GELU;
        cfg.head = KZ_HEAD_TOKEN_CLS, cfg.num_labels = data.n_labels, cfg.multilabel = true;
        cfg.id2label = data.labels;
        kz_wordpiece_special sp = kz_wordpiece_specials(wp);
        cfg.pad_token_id = sp.pad >= 0 ? sp.pad : 0;
        if (kz_bert_new_random(&cfg, wp, o.seed, &model, &err)) goto fail;
    }
    size_t tokens = 0;
    for (size_t i = 0; i < data.n; i++) tokens += data.ex[i].n_tokens;
    if (o.verbose)
        fprintf(stderr,
                "kazu train: %zu windows, %zu tokens, %u labels, %u corpora; %u epochs, batch %u x %u\n",
                data.n, tokens, data.n_labels, data.n_corpora, o.epochs, o.batch_size, o.grad_accum);
    if (kz_train_ner(model, &data, &o, &err)) goto fail;
    if (o.stop_after) {
        kz_train_ckpt_hdr ci;
        if (!kz__train_ckpt_peek(o.checkpoint_path, &ci, &err) && ci.step < ci.total_steps) {
            fprintf(stderr, "kazu train: stopped at step %llu of %llu; continue with --resume\n",
                    (unsigned long long)ci.step, (unsigned long long)ci.total_steps);
            code = CLI_OK;
            goto done;
        }
    }
    if (kz_bert_save(model, out, prec, &err)) goto fail;
    if (o.verbose) fprintf(stderr, "kazu train: wrote %s (%s)\n", out, kz_precision_name(prec));
    code = CLI_OK;
    goto done;
fail:
    cli_report(&err);
done:
    if (data.arena || data.ex) kz_train_data_free(&data);
    kz_bert_free(model);
    kz_wordpiece_free(wp);
    return code;
}
