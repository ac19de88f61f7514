/* Every entry of train/corpora.yaml loads from ../shared/data: documents,
 * sentences, tokens and entities per class, checked against counts taken
 * from the files with grep (B- tags of the CoNLL files, T lines of the brat
 * archive), and the examples built from them respect the contract of
 * include/kazu/train.h. Prints the table of corpus sizes. */
#include <unistd.h>
#include "kazu/kazu.h"
#include "kazu/nn.h"
#include "kz_test.h"
#include "train/data_int.h"

#define VOCAB KZ_SHARED_DATA "/models/vocabs/scibert_scivocab_uncased_vocab.txt"
#define LIST  KZ_SOURCE_DIR "/train/corpora.yaml"

/* Gold entity counts per class, from the files:
 *   cut -f2 <file> | grep -c '^B-<type>'  (MTL CoNLL; I- after O never occurs there) */
typedef struct expect {
    const char *name, *split;
    int cls;
    size_t n;
} expect;
static const expect k_expect[] = {
    {"BC2GM", "train", 0, 15197},
    {"NCBI-disease", "train", 1, 5134},
    {"BC5CDR", "train", 2, 5203},
    {"BC5CDR", "train", 1, 4182},
    {"AnatEM", "train", 6, 6946},
    {"LINNAEUS", "train", 3, 2119},
    {"JNLPBA", "devel", 0, 2466 + 1052 + 107},
    {"JNLPBA", "devel", 4, 400},
    {"JNLPBA", "devel", 5, 526},
    {"BioNLP13PC", "train", 0, 5468 + 729},
    {"CRAFT", "train", 5, 2894},
};

static const char *cls_name(int c) { return kz__train_classes[c]; }

KZ_TEST(test_every_corpus_loads) {
    if (!kz_test_have_shared_data()) return;
    kz_error err;
    kz_error_clear(&err);
    kz_wordpiece *wp = NULL;
    KZ_CHECK_INT(kz_wordpiece_load(VOCAB, NULL, &wp, &err), 0);
    kz__corpus_list list;
    KZ_CHECK_INT(kz__corpora_load(LIST, &list, &err), 0);
    KZ_CHECK(list.n >= 30);
    printf("%-14s %-5s %-3s %6s %7s %8s %7s  entities per class\n", "corpus", "split", "on", "docs", "sents",
           "tokens", "windows");
    size_t n_train_enabled = 0;
    for (size_t i = 0; i < list.n; i++) {
        kz__corpus_spec *c = &list.v[i];
        /* load this entry alone (even a disabled one) */
        bool en = c->enabled;
        kz__corpus_list one = {c, 1};
        c->enabled = true;
        kz_train_data d;
        kz__corpus_counts *cnt = NULL;
        int rc = kz__train_data_build(&one, c->split, wp, 128, 16, NULL, &d, &cnt, &err);
        c->enabled = en;
        if (rc) {
            char b[800];
            kz_test_fail(__FILE__, __LINE__, "%s %s: %s", c->name, c->split,
                         kz_error_format(&err, b, sizeof b));
            break;
        }
        if (en && !strcmp(c->split, "train")) n_train_enabled++;
        KZ_CHECK_INT(d.n_corpora, 1);
        KZ_CHECK_STR(d.corpora[0], c->name);
        KZ_CHECK_INT(d.n_labels, 16);
        KZ_CHECK(cnt[0].docs > 0 && cnt[0].tokens > 1000 && d.n > 0);
        KZ_CHECK(cnt[0].skipped_records == 0);
        printf("%-14s %-5s %-3s %6zu %7zu %8zu %7zu ", c->name, c->split, en ? "yes" : "no", cnt[0].docs,
               cnt[0].sentences, cnt[0].tokens, d.n);
        for (int k = 0; k < KZ_TRAIN_N_CLASSES; k++) {
            bool sup = c->classes & (1u << k);
            /* a supervised class has entities; an unsupervised one has none */
            if (sup != (cnt[0].entities[k] > 0)) {
                kz_test_fail(__FILE__, __LINE__, "%s %s: class %s supervised %d but %zu entities", c->name,
                             c->split, cls_name(k), sup, cnt[0].entities[k]);
                return;
            }
            if (sup) printf(" %s=%zu", cls_name(k), cnt[0].entities[k]);
            KZ_CHECK_INT(d.ex[0].label_mask[2 * k], sup);
            KZ_CHECK_INT(d.ex[0].label_mask[2 * k + 1], sup);
        }
        if (cnt[0].excluded_docs) printf(" (excluded %zu docs)", cnt[0].excluded_docs);
        printf("\n");
        for (size_t e = 0; e < sizeof k_expect / sizeof *k_expect; e++)
            if (!strcmp(k_expect[e].name, c->name) && !strcmp(k_expect[e].split, c->split) && en) {
                if (cnt[0].entities[k_expect[e].cls] != k_expect[e].n)
                    kz_test_fail(__FILE__, __LINE__, "%s %s %s: %zu entities, expected %zu", c->name,
                                 c->split, cls_name(k_expect[e].cls), cnt[0].entities[k_expect[e].cls],
                                 k_expect[e].n);
            }
        /* window contract: [CLS] ... [SEP], <= 128 tokens, targets only on masked-in rows */
        kz_wordpiece_special sp = kz_wordpiece_specials(wp);
        size_t n_b = 0;
        for (size_t x = 0; x < d.n; x++) {
            const kz_train_example *ex = &d.ex[x];
            KZ_CHECK(ex->n_tokens >= 3 && ex->n_tokens <= 128);
            KZ_CHECK_INT(ex->input_ids[0], sp.cls);
            KZ_CHECK_INT(ex->input_ids[ex->n_tokens - 1], sp.sep);
            KZ_CHECK_INT(ex->token_mask[0], 0);
            for (uint32_t t = 0; t < ex->n_tokens; t++)
                for (uint32_t l = 0; l < 16; l++) {
                    float v = ex->targets[t * 16 + l];
                    if (v != 0.0f) KZ_CHECK(ex->token_mask[t] && ex->label_mask[l]);
                    if (v != 0.0f && l % 2 == 0) n_b++;
                }
        }
        /* nearly every entity gives one B row (an entity starting inside a word it shares with another
         * entity of its class, or a CoNLL entity cut by a sentence split, may not) */
        size_t n_ent = 0;
        for (int k = 0; k < KZ_TRAIN_N_CLASSES; k++) n_ent += cnt[0].entities[k];
        KZ_CHECK(n_b <= n_ent + n_ent / 50);
        KZ_CHECK(n_b >= n_ent - n_ent / 20);
        free(cnt);
        kz_train_data_free(&d);
    }
    KZ_CHECK_INT(n_train_enabled, 15);
    kz__corpora_free(&list);
    kz_wordpiece_free(wp);
}

KZ_TEST(test_public_loader_train_split) {
    if (!kz_test_have_shared_data()) return;
    kz_error err;
    kz_error_clear(&err);
    kz_wordpiece *wp = NULL;
    KZ_CHECK_INT(kz_wordpiece_load(VOCAB, NULL, &wp, &err), 0);
    kz_train_data d;
    KZ_CHECK_INT(kz_train_data_load(LIST, "train", wp, 128, &d, &err), 0);
    KZ_CHECK_INT(d.n_corpora, 15);
    KZ_CHECK_STR(d.labels[0], "B-gene");
    KZ_CHECK_STR(d.labels[15], "I-mutation");
    KZ_CHECK(d.n > 50000);
    /* deterministic: the same load gives the same first and last windows */
    kz_train_data e;
    KZ_CHECK_INT(kz_train_data_load(LIST, "train", wp, 128, &e, &err), 0);
    KZ_CHECK_INT(e.n, d.n);
    for (size_t i = 0; i < d.n; i += d.n / 7 + 1) {
        KZ_CHECK_INT(e.ex[i].n_tokens, d.ex[i].n_tokens);
        KZ_CHECK(!memcmp(e.ex[i].input_ids, d.ex[i].input_ids, d.ex[i].n_tokens * 4));
        KZ_CHECK(!memcmp(e.ex[i].targets, d.ex[i].targets, d.ex[i].n_tokens * 16 * 4));
    }
    kz_train_data_free(&e);
    kz_train_data_free(&d);
    kz_wordpiece_free(wp);
}

/* Tokens per word over the devel split with a vocabulary. */
static double fertility(const char *vocab, size_t *unk) {
    kz_error err;
    kz_error_clear(&err);
    kz_wordpiece *wp = NULL;
    if (kz_wordpiece_load(vocab, NULL, &wp, &err)) return -1;
    kz_train_data d;
    kz__corpus_counts *c = NULL;
    if (kz__train_data_load_ex(LIST, "devel", wp, 128, 16, NULL, &d, &c, &err)) {
        kz_wordpiece_free(wp);
        return -1;
    }
    size_t w = 0, t = 0;
    *unk = 0;
    kz_wordpiece_special sp = kz_wordpiece_specials(wp);
    for (uint32_t i = 0; i < d.n_corpora; i++) w += c[i].words, t += c[i].tokens;
    for (size_t i = 0; i < d.n; i++)
        for (uint32_t k = 0; k < d.ex[i].n_tokens; k++) *unk += d.ex[i].input_ids[k] == sp.unk;
    printf("%s: %u tokens, devel %zu words -> %zu tokens (%.4f per word), %zu [UNK]\n", vocab,
           kz_wordpiece_vocab_size(wp), w, t, (double)t / (double)w, *unk);
    free(c);
    kz_train_data_free(&d);
    kz_wordpiece_free(wp);
    return (double)t / (double)w;
}

KZ_TEST(test_shipped_vocab_reproduces_and_fits) {
    /* train/vocab.txt is kz_wordpiece_train(train/corpora.yaml, 16000), byte for byte */
    if (!kz_test_have_shared_data()) return;
    char out[] = "/tmp/kz_vocab_XXXXXX";
    int fd = mkstemp(out);
    KZ_CHECK(fd >= 0);
    close(fd);
    const char *in[] = {LIST};
    kz_error err;
    kz_error_clear(&err);
    KZ_CHECK_INT(kz_wordpiece_train(in, 1, 16000, out, &err), 0);
    size_t la = 0, lb = 0;
    char *a = kz_test_read_file(out, &la), *b = kz_test_read_file(KZ_SOURCE_DIR "/train/vocab.txt", &lb);
    remove(out);
    KZ_CHECK(a && b);
    KZ_CHECK_INT(la, lb);
    KZ_CHECK(!memcmp(a, b, la));
    free(a);
    free(b);
    /* fewer tokens per devel word than SciBERT's 31k uncased vocabulary */
    size_t u1, u2;
    double ours = fertility(KZ_SOURCE_DIR "/train/vocab.txt", &u1);
    double sci = fertility(KZ_SHARED_DATA "/models/vocabs/scibert_scivocab_uncased_vocab.txt", &u2);
    KZ_CHECK(ours > 1.0 && sci > 1.0);
    KZ_CHECK(ours < sci);
}
