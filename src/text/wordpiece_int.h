/* WordPiece internals shared with the tests: a work counter that lets a test
 * prove encoding is linear in the input (by operation counts, not wall clock). */
#ifndef KZ_WORDPIECE_INT_H
#define KZ_WORDPIECE_INT_H

#include "kazu/nn.h"

typedef struct kz__wp_stats {
    uint64_t trie_steps;   /* trie transitions tried by the greedy longest match */
    uint64_t norm_chars;   /* characters that went through the general (non-ASCII) path */
    uint64_t sorted_marks; /* combining marks sorted by canonical reordering */
} kz__wp_stats;

/* kz_wordpiece_encode that also adds its work counts to *st (st may be NULL). */
int kz__wordpiece_encode_stats(const kz_wordpiece *wp, const char *text, size_t len, kz_wp_token **toks,
                               size_t *n, size_t *cap, kz__wp_stats *st, kz_error *err);

/* Length in bytes of the longest vocabulary token (the trie depth). */
size_t kz__wordpiece_max_token_len(const kz_wordpiece *wp);

#endif
