/* Fuzz target for the masked-LM text reader (kz__mlm_data_from_mem: lines,
 * blank-line documents, sentence packing, cuts, the token cap; gzip input) and
 * the BERT masking of every window it yields. The first byte picks the window
 * length, the cap and whole-word masking; every window and mask must be consistent. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../src/train/train_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(kz_log_level l, const char *m, void *u) {
    (void)l;
    (void)m;
    (void)u;
}

/* [PAD] [UNK] [CLS] [SEP] [MASK], a..z, ##a..##z, ".", ",". */
static kz_wordpiece *vocab(void) {
    static kz_wordpiece *wp;
    if (wp) return wp;
    kz_log_set_sink(sink, NULL, KZ_LOG_DEBUG);
    char buf[512];
    size_t o = (size_t)snprintf(buf, sizeof buf, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n.\n,\n");
    for (char c = 'a'; c <= 'z'; c++) o += (size_t)snprintf(buf + o, sizeof buf - o, "%c\n##%c\n", c, c);
    kz_error err;
    if (kz_wordpiece_from_buffer(buf, o, NULL, &wp, &err)) abort();
    return wp;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const kz_wordpiece *wp = vocab();
    const uint32_t max_len = 8 + (data[0] & 15) * 2;
    const uint64_t cap = (data[0] & 16) ? 64 : 0;
    const bool ww = (data[0] & 32) != 0;
    kz_mlm_data d;
    kz_error err;
    if (kz__mlm_data_from_mem(data + 1, size - 1, wp, max_len, cap, &d, &err)) {
        if (d.n || d.w) abort(); /* an error leaves nothing behind */
        return 0;
    }
    uint64_t tot = 0;
    int32_t ids[64], lab[64];
    for (size_t i = 0; i < d.n; i++) {
        const kz_mlm_window *w = &d.w[i];
        if (w->n_tokens < 3 || w->n_tokens > max_len) abort();
        if (w->input_ids[0] != d.special.cls || w->input_ids[w->n_tokens - 1] != d.special.sep) abort();
        if (w->word[0] || w->word[w->n_tokens - 1] || w->word[1] == 2) abort();
        for (uint32_t k = 0; k < w->n_tokens; k++)
            if (w->input_ids[k] < 0 || (uint32_t)w->input_ids[k] >= d.vocab_size || w->word[k] > 2) abort();
        tot += w->n_tokens;
        uint32_t n = kz__mlm_mask(w, data[0], 1, i, 0.15, ww, d.vocab_size, &d.special, ids, lab);
        uint32_t got = 0;
        for (uint32_t k = 0; k < w->n_tokens; k++) {
            if (lab[k] < 0) {
                if (lab[k] != -1 || ids[k] != w->input_ids[k]) abort();
                continue;
            }
            got++;
            if (!w->word[k] || lab[k] != w->input_ids[k] || ids[k] < 0 || (uint32_t)ids[k] >= d.vocab_size)
                abort();
        }
        if (got != n) abort();
    }
    if (tot != d.n_tokens || (cap && tot > cap)) abort();
    kz_mlm_data_free(&d);
    return 0;
}
