/* kz_word_tokenize: Kazu's kazu_custom_en spaCy tokenizer boundaries
 * (expected tokens are spaCy 3.7's output for the same rules). */
#include "kz_test.h"
#include "kazu/text.h"

/* Tokens of s joined by '|' into buf. */
static const char *toks(const char *s, char *buf, size_t cap) {
    kz_span sp[128];
    size_t n = kz_word_tokenize(s, strlen(s), sp, 128);
    size_t w = 0;
    buf[0] = 0;
    for (size_t i = 0; i < n && i < 128; i++) {
        int l = (int)(sp[i].end - sp[i].start);
        w += (size_t)snprintf(buf + w, cap - w, "%s%.*s", i ? "|" : "", l, s + sp[i].start);
        if (w >= cap) break;
    }
    return buf;
}

#define TOK(in, want)                                                                                        \
    do {                                                                                                     \
        char tb_[512];                                                                                       \
        KZ_CHECK_STR(toks(in, tb_, sizeof tb_), want);                                                       \
    } while (0)

KZ_TEST(tokenize_kazu_changes) {
    TOK("ALK-Abello", "ALK-Abello");          /* no alpha-hyphen infix */
    TOK("IL-6(ALK)", "IL-6|(|ALK|)");         /* '(' is an infix */
    TOK("p53/MDM2", "p53|/|MDM2");            /* '/' is an infix */
    TOK("Haemophilia A.", "Haemophilia|A|."); /* "A." splits after one capital */
    TOK("vitamin a.", "vitamin|a|.");         /* no "a." exception */
    TOK("and/or", "and|/|or");
}

KZ_TEST(tokenize_spacy_english) {
    TOK("The cells were lysed.", "The|cells|were|lysed|.");
    TOK("(EGFR)", "(|EGFR|)");
    TOK("BRCA1, TP53; and KRAS:", "BRCA1|,|TP53|;|and|KRAS|:");
    TOK("5mg of 10mg.", "5|mg|of|10|mg|.");
    TOK("e.g. mice", "e.g.|mice");
    TOK("Crohn's disease", "Crohn|'s|disease");
    TOK("don't", "do|n't");
    TOK("2-3 and 4+5", "2|-|3|and|4|+|5");
    TOK("\"quoted\"", "\"|quoted|\"");
    TOK("U.S.A. and USA.", "U.S.A|.|and|USA|."); /* Kazu: (?<=\b[A-Z])\. */
    TOK("hello,world", "hello|,|world");
    TOK("lower.Upper", "lower|.|Upper");
    TOK("wait...", "wait|...");
    TOK("$100", "$|100");
    TOK("see http://example.org/a(b) now", "see|http://example.org/a(b|)|now");
}

KZ_TEST(tokenize_whitespace_and_utf8) {
    TOK("  a\tb\n\nc  ", "a|b|c");
    TOK("", "");
    TOK("İstanbul α-thalassaemia", "İstanbul|α-thalassaemia");
    TOK("x\xc2\xa0y z", "x|y|z"); /* U+00A0 no-break space is whitespace */
    kz_span sp[4];
    KZ_CHECK_INT(kz_word_tokenize("a b c", 5, NULL, 0), 3);
    KZ_CHECK_INT(kz_word_tokenize("a b c", 5, sp, 2), 3);
    KZ_CHECK_INT(sp[1].start, 2);
    KZ_CHECK_INT(sp[1].end, 3);
    /* token spans are ordered, non-overlapping and never whitespace */
    const char *s = "Mutations in BRCA1/2 (and TP53) raise risk ~2-fold [3].";
    kz_span t[64];
    size_t n = kz_word_tokenize(s, strlen(s), t, 64);
    KZ_CHECK(n > 10 && n < 64);
    for (size_t i = 0; i < n; i++) {
        KZ_CHECK(t[i].start < t[i].end);
        KZ_CHECK(i == 0 || t[i].start >= t[i - 1].end);
        KZ_CHECK(s[t[i].start] != ' ' && s[t[i].end - 1] != ' ');
    }
}
