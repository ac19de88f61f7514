/* Fuzz target for the .kzm reader. Each input is tried as is (fixed header,
 * checksum) and again with its fixed header made consistent and the header
 * checksum recomputed, so mutations reach the JSON, directory and data checks. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "../../src/nn/load_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(kz_log_level l, const char *m, void *u) {
    (void)l;
    (void)m;
    (void)u;
}

static uint64_t rd(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}
static void wr(uint8_t *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++, v >>= 8) p[i] = (uint8_t)v;
}

static void try_read(const uint8_t *d, size_t n) {
    kz_bert *m = NULL;
    kz_error err;
    kz_error_clear(&err);
    int rc = kz__kzm_read_mem(d, n, &m, &err);
    if (rc == 0) {
        const kz_bert_config *c = kz_bert_get_config(m);
        if (!m->word_emb || !m->layers || !c->layers) abort();
        /* touch every weight the engine would read */
        volatile float acc = 0;
        for (uint32_t l = 0; l < c->layers; l++)
            acc += m->layers[l].ffn_out.w[(size_t)c->hidden * c->intermediate - 1];
        acc += m->word_emb[(size_t)c->vocab_size * c->hidden - 1];
        (void)acc;
        kz_bert_free(m);
    } else if (m || err.code != rc) {
        abort();
    }
    kz__kzm_verify_mem(d, n, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    kz_log_set_sink(sink, NULL, KZ_LOG_DEBUG);
    try_read(data, size);
    if (size < KZM_FIXED) return 0;
    uint8_t *b = malloc(size);
    if (!b) return 0;
    memcpy(b, data, size);
    /* Canonical offsets from the (capped) lengths, as the writer computes them. */
    uint64_t jl = rd(b + 24, 4) % (KZM_MAX_HEADER + 1), nt = rd(b + 28, 4) % (KZ_NN_MAX_TENSORS + 1);
    uint64_t vl = rd(b + 32, 8) % (KZ_NN_MAX_VOCAB_BYTES + 1), nl = rd(b + 40, 8) % (KZM_MAX_NAMES + 1);
    uint64_t dir = (KZM_FIXED + jl + vl + nl + 7) / 8 * 8;
    uint64_t doff = (dir + nt * KZM_DIR_ENTRY + KZM_ALIGN - 1) / KZM_ALIGN * KZM_ALIGN;
    wr(b + 16, size, 8);
    wr(b + 24, jl, 4);
    wr(b + 28, nt, 4);
    wr(b + 32, vl, 8);
    wr(b + 40, nl, 8);
    wr(b + 48, dir, 8);
    wr(b + 56, doff, 8);
    wr(b + 64, doff <= size ? size - doff : 0, 8);
    uint8_t sha[32];
    kz__kzm_header_hash(b, size, sha);
    memcpy(b + 96, sha, 32);
    try_read(b, size);
    free(b);
    return 0;
}
