/* Fuzz target for the training-checkpoint reader (kz__trainer_ckpt_parse). Each
 * input is tried as is and again with its trailer checksum recomputed, so that
 * mutations reach the header, size and shape checks; both without a trainer and
 * against a tiny model's trainer (shape match -> weights and moments copied). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../src/train/train_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(kz_log_level l, const char *m, void *u) {
    (void)l;
    (void)m;
    (void)u;
}

/* The seed corpus's model: hidden 4, 1 layer, 2 heads, FFN 4, 4 positions, vocab 6, 2 labels. */
static kz_trainer *tiny(void) {
    static kz_trainer *t;
    static kz_bert *m;
    if (t) return t;
    kz_log_set_sink(sink, NULL, KZ_LOG_DEBUG);
    static char a[] = "B-x", b[] = "I-x";
    char *names[2] = {a, b};
    kz_bert_config c;
    memset(&c, 0, sizeof c);
    c.vocab_size = 6, c.hidden = 4, c.layers = 1, c.heads = 2, c.intermediate = 4, c.max_positions = 4;
    c.type_vocab = 2, c.layer_norm_eps = 1e-12f, c.act = KZ_ACT_GELU, c.num_labels = 2, c.multilabel = true;
    c.id2label = names;
    kz_error err;
    if (kz_bert_new_random(&c, NULL, 1, &m, &err) || kz__trainer_new(m, NULL, &t, &err)) abort();
    return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    kz_trainer *t = tiny();
    kz_train_ckpt_hdr h;
    kz_error err;
    kz__trainer_ckpt_parse(NULL, data, size, &h, &err);
    kz__trainer_ckpt_parse(t, data, size, &h, &err);
    if (size < 16 || size > (1u << 20)) return 0;
    uint8_t *c = malloc(size);
    if (!c) return 0;
    memcpy(c, data, size);
    uint64_t s = kz__train_ckpt_checksum(c, size - 8);
    for (int i = 0; i < 8; i++) c[size - 8 + i] = (uint8_t)(s >> (8 * i));
    kz__trainer_ckpt_parse(NULL, c, size, &h, &err);
    kz__trainer_ckpt_parse(t, c, size, &h, &err);
    free(c);
    return 0;
}
