/* Fuzz target for the safetensors reader, and for matching whatever it
 * accepts against a tiny BERT layout (names, shapes, dtype conversions). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../src/nn/load_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char CONFIG[] =
    "{\"hidden_size\": 8, \"num_hidden_layers\": 2, \"num_attention_heads\": 2, "
    "\"intermediate_size\": 16, \"max_position_embeddings\": 16, \"type_vocab_size\": 2, "
    "\"vocab_size\": 40, \"id2label\": {\"0\": \"O\", \"1\": \"B\", \"2\": \"I\"}}";

static void sink(kz_log_level l, const char *m, void *u) {
    (void)l;
    (void)m;
    (void)u;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    kz_log_set_sink(sink, NULL, KZ_LOG_DEBUG);
    kz_tensor_table tt;
    kz_error err;
    kz_error_clear(&err);
    if (kz__safetensors_read_mem(data, size, &tt, &err) != 0) {
        if (tt.n || tt.t || err.code == 0) abort(); /* failure leaves nothing behind and says why */
        return 0;
    }
    for (size_t i = 0; i < tt.n; i++) /* every accepted tensor lies inside the input */
        if (tt.t[i].nbytes && !tt.t[i].data) abort();
    kz_bert_config cfg;
    if (kz__bert_config_parse(CONFIG, sizeof CONFIG - 1, "fuzz", &cfg, &err) != 0) abort();
    kz_bert *m = NULL;
    if (kz__bert_from_tensors(&cfg, &tt, &m, &err) == 0) {
        if (!m->word_emb || !m->layers || m->cfg.vocab_size < 1) abort();
        kz_bert_free(m);
    }
    kz__bert_config_free(&cfg);
    kz__tensor_table_free(&tt);
    return 0;
}
