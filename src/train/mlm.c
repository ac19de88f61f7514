/* BERT masking for masked-LM pre-training: which tokens of a window are
 * predicted and what the model sees there (80 % [MASK], 10 % random, 10 % kept).
 * A pure function of (seed, epoch, window index): docs/train.md. */
#include <math.h>
#include <string.h>
#include "train/train_int.h"

static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static uint64_t next(uint64_t *st) { return mix64(*st += 0x9e3779b97f4a7c15ull); }
static uint32_t below(uint64_t *st, uint32_t n) { return (uint32_t)(next(st) % n); }

static bool is_special(const kz_wordpiece_special *sp, int32_t id) {
    return id == sp->cls || id == sp->sep || id == sp->pad || id == sp->unk || id == sp->mask;
}

/* Tokens of the unit starting at p: the token alone, or (whole words) it and the
 * continuation sub-tokens after it. */
static uint32_t unit_len(const kz_mlm_window *w, uint32_t p, bool whole_word) {
    uint32_t e = p + 1;
    if (whole_word)
        while (e < w->n_tokens && w->word[e] == 2) e++;
    return e - p;
}

uint32_t kz__mlm_mask(const kz_mlm_window *w, uint64_t seed, uint64_t epoch, uint64_t index, double prob,
                      bool whole_word, uint32_t vocab, const kz_wordpiece_special *sp, int32_t *ids,
                      int32_t *labels) {
    const uint32_t T = w->n_tokens;
    memcpy(ids, w->input_ids, (size_t)T * sizeof *ids);
    /* units (their first positions) into labels[0, nu) as scratch */
    uint32_t nu = 0, cand = 0;
    for (uint32_t i = 0; i < T; i++) {
        if (!w->word[i]) continue;
        cand++;
        bool start = !whole_word || w->word[i] == 1 || i == 0 || w->word[i - 1] == 0;
        if (start) labels[nu++] = (int32_t)i;
    }
    if (!cand) {
        for (uint32_t i = 0; i < T; i++) labels[i] = -1;
        return 0;
    }
    double want = floor(prob * (double)cand + 0.5);
    uint32_t k = want < 1 ? 1 : want > cand ? cand : (uint32_t)want;
    uint64_t st =
        mix64(seed ^ mix64(epoch * 0xd1b54a32d192ed03ull + index * 0x9e3779b97f4a7c15ull + 0x6d6c6dull));
    /* BERT's selection: units in random order, a unit that would overshoot k is
       skipped (the first one is always taken), until k tokens are chosen */
    uint32_t chosen = 0, s = 0;
    for (uint32_t j = 0; j < nu && chosen < k; j++) {
        uint32_t r = j + below(&st, nu - j);
        int32_t tmp = labels[j];
        labels[j] = labels[r];
        labels[r] = tmp;
        uint32_t len = unit_len(w, (uint32_t)labels[j], whole_word);
        if (chosen && chosen + len > k) continue;
        chosen += len;
        tmp = labels[s];
        labels[s] = labels[j];
        labels[j] = tmp;
        s++;
    }
    /* mark the chosen tokens in ids (original id v as -v - 2) */
    for (uint32_t u = 0; u < s; u++) {
        uint32_t p = (uint32_t)labels[u], len = unit_len(w, p, whole_word);
        for (uint32_t q = p; q < p + len; q++) ids[q] = -ids[q] - 2;
    }
    for (uint32_t q = 0; q < T; q++) {
        labels[q] = -1;
        if (ids[q] >= 0) continue;
        int32_t orig = -ids[q] - 2;
        labels[q] = orig;
        uint32_t r = (uint32_t)(next(&st) >> 40); /* 24 bits */
        int32_t v = orig;
        if (r < (uint32_t)(0.8 * 16777216.0)) {
            v = sp->mask;
        } else if (r < (uint32_t)(0.9 * 16777216.0) && vocab > 0) {
            for (int tries = 0; tries < 64; tries++) {
                int32_t c = (int32_t)below(&st, vocab);
                if (!is_special(sp, c)) {
                    v = c;
                    break;
                }
            }
        }
        ids[q] = v;
    }
    return chosen;
}
