/* Text algorithms shared by pipeline steps: rule-based sentence splitting
 * that knows biomedical abbreviations and notation. */
#ifndef KAZU_TEXT_H
#define KAZU_TEXT_H

#include "doc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Split UTF-8 text into sentences (byte spans, in order, non-overlapping,
 * trimmed of surrounding ASCII whitespace; whitespace-only text has none).
 *
 * A sentence ends at . ! ? or … (and runs of them) plus any closing quotes,
 * brackets and a bracketed citation ("[3,4]") that follow, when whitespace and
 * a plausible sentence start come next: an upper-case letter, a digit, an
 * opening bracket/quote, a Greek letter, or a lower-case token holding an
 * upper-case letter or digit ("p53", "mTOR", "siRNA"). A blank line always
 * ends a sentence. A period does not end a sentence after the abbreviations
 * e.g., i.e., vs., cf., ca., approx., Fig./Figs., Eq., Ref., No., Dr., incl.,
 * resp., p./pp. (and the others listed in sentences.c), upper-case initials
 * ("E.", "J. R."), or dotted letter groups ("U.S."); after "et al.", "etc.", "sp."
 * and "spp." it does only if an upper-case letter follows. Periods inside
 * tokens (2.5, p<0.05, p.R123H, e.g.,) never split.
 *
 * Writes min(total, cap) spans to out (out may be NULL when cap is 0) and
 * returns the total number of sentences, so a caller can size a buffer and
 * call again. Invalid UTF-8 bytes are treated as ordinary characters.
 * Reentrant; no allocation. */
KZ_API size_t kz_sentences_split(const char *text, size_t len, kz_span *out, size_t cap);

/* Kazu's word tokenizer for token-boundary decisions (its spaCy
 * `kazu_custom_en` tokenizer: spaCy's English prefix/suffix/infix rules with
 * Kazu's changes: no alpha-hyphen infix, so "ALK-Abello" is one token; '(' and
 * '/' are infixes; no "a."-"z." exceptions; "A." splits after one capital).
 * Used by dictionary NER (a hit must start at a token start and end at a token
 * end), the abbreviation finder and the rules-based filter.
 * Writes min(total, cap) token byte spans (in order, non-overlapping, never
 * whitespace) to out and returns the total, like kz_sentences_split.
 * Invalid UTF-8 bytes are treated as ordinary characters. Reentrant; no
 * allocation. */
KZ_API size_t kz_word_tokenize(const char *text, size_t len, kz_span *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
