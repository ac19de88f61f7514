/* Word tokenizer shared by token-based writers; character classes come from
 * utf8proc so Greek, accented and CJK text split the same way as ASCII. */
#include <utf8proc.h>
#include "kazu/utf8.h"
#include "wordtok.h"

enum { CH_SPACE, CH_PUNCT, CH_WORD };

static int char_class(int32_t cp) {
    if (cp < 0) return CH_SPACE; /* cannot happen on valid text; never make a token of it */
    if (cp < 0x80) {
        if (cp <= ' ' || cp == 0x7f) return CH_SPACE;
        if ((cp >= '0' && cp <= '9') || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z')) return CH_WORD;
        return CH_PUNCT;
    }
    switch (utf8proc_category(cp)) {
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_CC: return CH_SPACE;
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
    case UTF8PROC_CATEGORY_SM:
    case UTF8PROC_CATEGORY_SC:
    case UTF8PROC_CATEGORY_SK:
    case UTF8PROC_CATEGORY_SO: return CH_PUNCT;
    default: return CH_WORD;
    }
}

bool kz__wordtok_next(const char *s, size_t len, size_t *pos, kz_span *tok) {
    size_t i = *pos;
    while (i < len) {
        size_t start = i;
        int c = char_class(kz_utf8_decode(s, len, &i));
        if (c == CH_SPACE) continue;
        if (c == CH_WORD) {
            while (i < len) {
                size_t j = i;
                if (char_class(kz_utf8_decode(s, len, &j)) != CH_WORD) break;
                i = j;
            }
        }
        *tok = (kz_span){(int64_t)start, (int64_t)i};
        *pos = i;
        return true;
    }
    *pos = len;
    return false;
}

bool kz__wordtok_is_upper(const char *s, size_t len, size_t off) {
    if (off >= len) return false;
    int32_t cp = kz_utf8_decode(s, len, &off);
    if (cp < 0) return false;
    utf8proc_category_t cat = utf8proc_category(cp);
    return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LT;
}
