/* PLACEHOLDER (replaced wholesale by its owner): kz_word_tokenize splits at
 * whitespace and makes every ASCII punctuation character its own token. */
#include <ctype.h>
#include "kazu/text.h"

size_t kz_word_tokenize(const char *text, size_t len, kz_span *out, size_t cap) {
    size_t n = 0, i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)text[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            i++;
            continue;
        }
        size_t s = i;
        if (c < 0x80 && ispunct(c))
            i++;
        else
            while (i < len) {
                unsigned char d = (unsigned char)text[i];
                if (d == ' ' || d == '\t' || d == '\n' || d == '\r' || (d < 0x80 && ispunct(d))) break;
                i++;
            }
        if (n < cap) out[n] = (kz_span){(int64_t)s, (int64_t)i};
        n++;
    }
    return n;
}
