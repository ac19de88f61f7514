/* `kazu train`: train a BERT token-classification NER model (multi-label) on the
 * corpora of a corpus list (kz_train_data_load), or pre-train an encoder with
 * the masked-LM objective on raw text (kz_train_mlm), and save it as a .kzm. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "kazu/train.h"
#include "../../src/train/train_int.h"

const char cli_train_help[] =
    "Usage: kazu train --corpora CORPORA.yaml --vocab VOCAB.txt -o MODEL.kzm [options]\n"
    "       kazu train --objective mlm [--mlm-text FILE]... [--mlm-corpora CORPORA.yaml]\n"
    "                  --vocab VOCAB.txt -o ENCODER.kzm [options] [FILE...]\n"
    "Train a multi-label BERT token classifier (one sigmoid per B-/I- class label) from\n"
    "the train split of the corpus list (docs/train.md) and save it as a .kzm file; or\n"
    "pre-train an encoder with BERT's masked-LM objective on raw text and save the\n"
    "encoder (no head) for a later `kazu train --init ENCODER.kzm`.\n"
    "\n"
    "Model (a new, randomly initialised model unless --init is given):\n"
    "  --vocab FILE          WordPiece vocab.txt (uncased BERT normalisation)\n"
    "  --init MODEL          start from this model (HF directory or .kzm) instead; its\n"
    "                        labels must be the data's labels, in order; an encoder\n"
    "                        without a head gets a new classifier for the data's labels\n"
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
    "  --max-steps N         end the run after N optimizer steps (the schedule spans N)\n"
    "  -q, --quiet           no progress lines\n"
    "Masked-LM pre-training (--objective mlm; default ner):\n"
    "  --mlm-text FILE       raw text (repeatable; further FILE arguments count too): a\n"
    "                        line is text, a blank line ends a document; gzip ok\n"
    "  --mlm-corpora FILE    also the texts of the corpus list's --split entries\n"
    "  --mlm-prob X          fraction of the tokens predicted (0.15); 80/10/10 masking\n"
    "  --whole-word          mask whole words (all their sub-tokens)\n"
    "  --mlm-max-tokens N    keep at most N tokens of text in memory (default 67108864)\n"
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
        O_STOP,
        O_OBJECTIVE,
        O_MLM_TEXT,
        O_MLM_CORPORA,
        O_MLM_PROB,
        O_WHOLE_WORD,
        O_MLM_MAX,
        O_MAX_STEPS
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
                                             {"objective", required_argument, NULL, O_OBJECTIVE},
                                             {"mlm-text", required_argument, NULL, O_MLM_TEXT},
                                             {"mlm-corpora", required_argument, NULL, O_MLM_CORPORA},
                                             {"mlm-prob", required_argument, NULL, O_MLM_PROB},
                                             {"whole-word", no_argument, NULL, O_WHOLE_WORD},
                                             {"mlm-max-tokens", required_argument, NULL, O_MLM_MAX},
                                             {"max-steps", required_argument, NULL, O_MAX_STEPS},
                                             {"out", required_argument, NULL, 'o'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *corpora = NULL, *vocab = NULL, *init = NULL, *out = NULL, *split = "train";
    uint32_t layers = 4, hidden = 312, heads = 12, inter = 1200, max_len = 128, seed32 = 42;
    kz_precision prec = KZ_PREC_FP32;
    kz_train_opts o = kz_train_default_opts();
    bool mlm = false;
    const char *mlm_corpora = NULL;
    const char **texts = calloc((size_t)argc + 1, sizeof *texts); /* --mlm-text and FILE arguments */
    size_t n_texts = 0;
    uint32_t max_tok_m = 0, max_steps = 0; /* --mlm-max-tokens (0 = the library default) */
    if (!texts) {
        fprintf(stderr, "kazu train: out of memory\n");
        return CLI_FATAL;
    }
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
        case O_OBJECTIVE:
            if (!strcmp(optarg, "mlm"))
                mlm = true;
            else if (!strcmp(optarg, "ner"))
                mlm = false;
            else
                rc = cli_usage("train", "--objective: expected ner or mlm, got '%s'", optarg);
            break;
        case O_MLM_TEXT: texts[n_texts++] = optarg; break;
        case O_MLM_CORPORA: mlm_corpora = optarg; break;
        case O_MLM_PROB: rc = parse_dbl("--mlm-prob", optarg, 0.001, 1, &o.mlm_prob); break;
        case O_WHOLE_WORD: o.mlm_whole_word = true; break;
        case O_MLM_MAX: rc = parse_u32("--mlm-max-tokens", optarg, 64, UINT32_MAX, &max_tok_m); break;
        case O_MAX_STEPS: rc = parse_u32("--max-steps", optarg, 1, UINT32_MAX, &max_steps); break;
        case O_PREC:
            if (kz_precision_parse(optarg, &prec))
                rc = cli_usage("train", "--precision: unknown '%s'", optarg);
            break;
        case 'o': out = optarg; break;
        case 'q': o.verbose = 0; break;
        case 'h':
            free(texts);
            fputs(cli_train_help, stdout);
            return CLI_OK;
        default: free(texts); return cli_bad_option("train", argv);
        }
        if (rc) {
            free(texts);
            return rc;
        }
    }
    if (mlm)
        while (optind < argc) texts[n_texts++] = argv[optind++];
    if (optind < argc)
        rc = cli_usage("train", "unexpected argument '%s'", argv[optind]);
    else if (!mlm && !corpora)
        rc = cli_usage("train", "--corpora is required");
    else if (!mlm && (n_texts || mlm_corpora))
        rc = cli_usage("train", "--mlm-text / --mlm-corpora need --objective mlm");
    else if (mlm && corpora)
        rc = cli_usage("train", "--objective mlm reads --mlm-text / --mlm-corpora, not --corpora");
    else if (mlm && !n_texts && !mlm_corpora)
        rc = cli_usage("train", "--objective mlm needs --mlm-text FILE or --mlm-corpora LIST");
    else if (!out)
        rc = cli_usage("train", "-o MODEL.kzm is required");
    else if (!vocab && !init)
        rc = cli_usage("train", "--vocab (or --init MODEL) is required");
    else if (o.resume && !o.checkpoint_path)
        rc = cli_usage("train", "--resume needs --checkpoint");
    else if (o.stop_after && !o.checkpoint_path)
        rc = cli_usage("train", "--stop-after needs --checkpoint");
    else if (hidden % heads)
        rc = cli_usage("train", "--hidden %u is not a multiple of --heads %u", hidden, heads);
    if (rc) {
        free(texts);
        return rc;
    }
    o.seed = seed32;
    o.max_steps = max_steps;
    kz_log_set_sink(train_log, NULL, o.verbose ? KZ_LOG_INFO : KZ_LOG_WARN);

    kz_error err;
    memset(&err, 0, sizeof err);
    kz_wordpiece *wp = NULL;
    kz_bert *model = NULL;
    kz_train_data data;
    memset(&data, 0, sizeof data);
    kz_mlm_data md;
    memset(&md, 0, sizeof md);
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
    if (mlm) {
        if (kz_mlm_data_load(texts, n_texts, mlm_corpora, split, tok, max_len, max_tok_m, &md, &err))
            goto fail;
        if (!md.n) {
            fprintf(stderr, "kazu train: no text to pre-train on\n");
            goto done;
        }
        if (!init) {
            kz_bert_config cfg;
            memset(&cfg, 0, sizeof cfg);
            cfg.hidden = hidden, cfg.layers = layers, cfg.heads = heads, cfg.intermediate = inter;
            cfg.max_positions = max_len, cfg.type_vocab = 2, cfg.layer_norm_eps = 1e-12f,
            cfg.act = KZ_ACT_GELU;
            kz_wordpiece_special sp = kz_wordpiece_specials(wp);
            cfg.pad_token_id = sp.pad >= 0 ? sp.pad : 0;
            if (kz_bert_new_random(&cfg, wp, o.seed, &model, &err)) goto fail;
        }
        if (o.verbose)
            fprintf(stderr,
                    "kazu train: masked LM on %zu windows, %llu tokens (%llu documents, %llu sentences%s); "
                    "%u epochs, batch %u x %u, %.3g masked%s\n",
                    md.n, (unsigned long long)md.n_tokens, (unsigned long long)md.n_docs,
                    (unsigned long long)md.n_sentences, md.truncated ? ", truncated at the cap" : "",
                    o.epochs, o.batch_size, o.grad_accum, o.mlm_prob,
                    o.mlm_whole_word ? ", whole words" : "");
        if (kz_train_mlm(model, &md, &o, &err)) goto fail;
        goto trained;
    }
    if (kz_train_data_load(corpora, split, tok, max_len, &data, &err)) goto fail;
    if (!data.n || !data.n_labels) {
        fprintf(stderr, "kazu train: %s has no %s examples\n", corpora, split);
        goto done;
    }
    if (init && kz_bert_get_config(model)->head == KZ_HEAD_NONE) {
        if (kz_bert_add_token_head(model, (const char *const *)data.labels, data.n_labels, true, o.seed,
                                   &err))
            goto fail;
        if (o.verbose)
            fprintf(stderr, "kazu train: %s is an encoder without a head: new classifier for %u labels\n",
                    init, data.n_labels);
    } else if (init) {
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
trained:
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
    kz_mlm_data_free(&md);
    free(texts);
    kz_bert_free(model);
    kz_wordpiece_free(wp);
    return code;
}
