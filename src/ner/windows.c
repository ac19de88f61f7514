/* Frame geometry of the transformer NER step (HF overflowing-token windows and
 * the token slice Kazu keeps from each frame) and the grouping of tokens into words. */
#include <stdlib.h>
#include "ner_int.h"

int kz__ner_check_geometry(uint32_t max_len, uint32_t stride, kz_error *err) {
    if (max_len % 2 || stride % 2)
        return kz_error_set(err, KZ_EINVAL, "max_sequence_length (%u) and stride (%u) must be even", max_len,
                            stride);
    if (max_len < 4) return kz_error_set(err, KZ_EINVAL, "max_sequence_length %u < 4", max_len);
    if (stride > max_len - 4)
        return kz_error_set(err, KZ_EINVAL, "stride %u must be <= max_sequence_length - 4 (%u)", stride,
                            max_len - 4);
    return 0;
}

/* The HF tokenizers loop (Encoding::truncate with stride): frames start at
 * 0, step, 2*step, ... with step = w - stride, until one reaches the end. */
size_t kz__ner_n_frames(size_t n_tokens, uint32_t max_len, uint32_t stride) {
    size_t w = max_len - 2, step = w - stride;
    if (n_tokens <= w) return 1;
    return 1 + (n_tokens - w + step - 1) / step;
}

kz_ner_frame kz__ner_frame_at(size_t n_tokens, uint32_t max_len, uint32_t stride, size_t i) {
    size_t w = max_len - 2, step = w - stride, h = stride / 2;
    size_t nf = kz__ner_n_frames(n_tokens, max_len, stride);
    kz_ner_frame f;
    size_t start = i * step;
    size_t len = n_tokens - start < w ? n_tokens - start : w;
    f.start = (uint32_t)start;
    f.len = (uint32_t)len;
    /* Kazu slices the padded frame; in content coordinates: single [0, len),
     * first [0, w-h), middle [h, w-h), last [h, len). First and middle frames
     * are always full (len == w). */
    size_t ks = (nf == 1 || i == 0) ? 0 : h;
    size_t ke = (nf == 1 || i == nf - 1) ? len : w - h;
    f.keep_start = (uint32_t)(start + ks);
    f.keep_end = (uint32_t)(start + ke);
    return f;
}

int kz__ner_words(const kz_wp_token *toks, size_t n, kz_ner_word **words, size_t *n_words) {
    *words = NULL;
    *n_words = 0;
    if (!n) return 0;
    kz_ner_word *w = malloc(n * sizeof *w);
    if (!w) return KZ_ENOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && toks[i].word == toks[i - 1].word) {
            kz_ner_word *cur = &w[k - 1];
            cur->n_tok++;
            if (toks[i].start < cur->start) cur->start = toks[i].start;
            if (toks[i].end > cur->end) cur->end = toks[i].end;
            continue;
        }
        w[k].start = toks[i].start;
        w[k].end = toks[i].end;
        w[k].tok0 = (uint32_t)i;
        w[k].n_tok = 1;
        k++;
    }
    *words = w;
    *n_words = k;
    return 0;
}
