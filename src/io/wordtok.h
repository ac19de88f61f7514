/* A small word tokenizer for the token-based writers (CoNLL): whitespace
 * separates, every punctuation or symbol character is a token of its own. */
#ifndef KZ_WORDTOK_H
#define KZ_WORDTOK_H

#include "kazu/doc.h"

/* Next token of valid UTF-8 text s[0..len) at or after byte *pos. Words are
 * maximal runs of letters, digits, marks and other non-separators; each
 * Unicode punctuation (P*) or symbol (S*) code point is one token; spaces
 * (Z*) and control characters separate. On success *tok holds the token's
 * byte span, *pos moves past it and true is returned; false at the end. */
bool kz__wordtok_next(const char *s, size_t len, size_t *pos, kz_span *tok);

/* True if the code point starting at byte off is an uppercase letter (Lu/Lt);
 * sentence rules look at it. */
bool kz__wordtok_is_upper(const char *s, size_t len, size_t off);

#endif
