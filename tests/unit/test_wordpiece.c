/* WordPiece tokenizer: golden fixtures made by tools/hf_tokenizer_reference.py
 * (hand-made vocab, hostile Unicode), expectations reasoned out by hand,
 * vocabulary loading errors, and linear time by operation counts. */
#include <jansson.h>
#include <time.h>
#include "kz_test.h"
#include "kazu/nn.h"
#include "text/wordpiece_int.h"

#define GOLDEN KZ_SOURCE_DIR "/tests/golden/wordpiece/"

static kz_wordpiece *load_golden_vocab(const kz_wordpiece_opts *o) {
    kz_wordpiece *wp = NULL;
    kz_error err;
    kz_error_clear(&err);
    int rc = kz_wordpiece_load(GOLDEN "vocab.txt", o, &wp, &err);
    if (rc) kz_test_fail(__FILE__, __LINE__, "load vocab: %s (%s)", err.msg, kz_strerror(rc));
    return wp;
}

/* ---- golden fixtures ---------------------------------------------------------- */

static kz_wordpiece_opts opts_from_json(json_t *o, const char **never, size_t *n_never) {
    kz_wordpiece_opts w = kz_wordpiece_default_opts(json_is_true(json_object_get(o, "lowercase")));
    json_t *sa = json_object_get(o, "strip_accents");
    w.strip_accents = !sa || json_is_null(sa) ? -1 : json_is_true(sa) ? 1 : 0;
    json_t *ch = json_object_get(o, "chinese");
    if (ch) w.tokenize_chinese_chars = json_is_true(ch);
    json_t *mc = json_object_get(o, "max_chars");
    if (mc) w.max_input_chars_per_word = (uint32_t)json_integer_value(mc);
    json_t *unk = json_object_get(o, "unk");
    if (unk) w.unk_token = json_string_value(unk);
    json_t *ns = json_object_get(o, "never_split");
    *n_never = 0;
    for (size_t k = 0; ns && k < json_array_size(ns) && k < 8; k++)
        never[(*n_never)++] = json_string_value(json_array_get(ns, k));
    w.never_split = never;
    w.n_never_split = *n_never;
    return w;
}

KZ_TEST(golden_fixtures_match_reference) {
    char *cases = kz_test_read_file(GOLDEN "cases.jsonl", NULL);
    char *expect = kz_test_read_file(GOLDEN "expected.jsonl", NULL);
    KZ_CHECK(cases && expect);
    char *cs = NULL, *es = NULL;
    int n = 0, bad = 0;
    for (char *cl = strtok_r(cases, "\n", &cs), *el = strtok_r(expect, "\n", &es); cl && el;
         cl = strtok_r(NULL, "\n", &cs), el = strtok_r(NULL, "\n", &es)) {
        json_t *c = json_loads(cl, JSON_ALLOW_NUL, NULL), *e = json_loads(el, JSON_ALLOW_NUL, NULL);
        if (!c || !e) {
            kz_test_fail(__FILE__, __LINE__, "bad JSON on fixture line %d", n + 1);
            json_decref(c);
            json_decref(e);
            break;
        }
        const char *name = json_string_value(json_object_get(c, "name"));
        json_t *jt = json_object_get(c, "text");
        const char *text = json_string_value(jt);
        size_t len = json_string_length(jt);
        const char *never[8];
        size_t n_never;
        kz_wordpiece_opts o = opts_from_json(json_object_get(c, "opts"), never, &n_never);
        kz_wordpiece *wp = load_golden_vocab(&o);
        kz_wp_token *t = NULL;
        size_t nt = 0, cap = 0;
        kz_error err;
        kz_error_clear(&err);
        int rc = wp ? kz_wordpiece_encode(wp, text, len, &t, &nt, &cap, &err) : -1;
        json_t *ids = json_object_get(e, "ids"), *words = json_object_get(e, "words"),
               *offs = json_object_get(e, "offsets_byte");
        bool ok = rc == 0 && nt == json_array_size(ids) &&
                  !strcmp(name, json_string_value(json_object_get(e, "name")));
        for (size_t k = 0; ok && k < nt; k++) {
            json_t *of = json_array_get(offs, k);
            ok = t[k].id == json_integer_value(json_array_get(ids, k)) &&
                 t[k].word == json_integer_value(json_array_get(words, k)) &&
                 t[k].start == json_integer_value(json_array_get(of, 0)) &&
                 t[k].end == json_integer_value(json_array_get(of, 1));
        }
        if (!ok) {
            bad++;
            char *exp = json_dumps(e, JSON_ENSURE_ASCII);
            kz_test_fail(__FILE__, __LINE__, "fixture %s: rc=%d (%s) n=%zu; expected %s", name, rc, err.msg,
                         nt, exp);
            for (size_t k = 0; k < nt; k++) {
                kz_str s = kz_wordpiece_token(wp, t[k].id);
                fprintf(stderr, "    got %d %.*s w%d [%lld,%lld)\n", t[k].id, (int)s.len, s.ptr, t[k].word,
                        (long long)t[k].start, (long long)t[k].end);
            }
            free(exp);
        }
        free(t);
        kz_wordpiece_free(wp);
        json_decref(c);
        json_decref(e);
        n++;
    }
    free(cases);
    free(expect);
    KZ_CHECK(n >= 50);
    KZ_CHECK_INT(bad, 0);
}

/* ---- expectations reasoned by hand ------------------------------------------------ */

typedef struct {
    const char *tok;
    int64_t s, e;
    int32_t w;
} exp_tok;

/* Encodes text with the golden vocab and the given options and compares with
 * the hand-written expectation (tokens by string). */
static void expect(const kz_wordpiece_opts *o, const char *text, size_t len, const exp_tok *x, size_t nx,
                   int line) {
    kz_wordpiece *wp = load_golden_vocab(o);
    if (!wp) return;
    kz_wp_token *t = NULL;
    size_t n = 0, cap = 0;
    int rc = kz_wordpiece_encode(wp, text, len, &t, &n, &cap, NULL);
    bool ok = rc == 0 && n == nx;
    for (size_t k = 0; ok && k < n; k++) {
        kz_str s = kz_wordpiece_token(wp, t[k].id);
        ok = s.len == strlen(x[k].tok) && !memcmp(s.ptr, x[k].tok, s.len) && t[k].start == x[k].s &&
             t[k].end == x[k].e && t[k].word == x[k].w;
    }
    if (!ok) {
        kz_test_fail(__FILE__, line, "\"%.*s\": rc=%d, %zu tokens (expected %zu)", (int)len, text, rc, n, nx);
        for (size_t k = 0; k < n; k++) {
            kz_str s = kz_wordpiece_token(wp, t[k].id);
            fprintf(stderr, "    got %.*s [%lld,%lld) w%d\n", (int)s.len, s.ptr, (long long)t[k].start,
                    (long long)t[k].end, t[k].word);
        }
    }
    free(t);
    kz_wordpiece_free(wp);
}
#define EXPECT(o, text, ...)                                                                                 \
    do {                                                                                                     \
        static const exp_tok x_[] = {__VA_ARGS__};                                                           \
        expect(o, text, sizeof(text) - 1, x_, sizeof x_ / sizeof x_[0], __LINE__);                           \
    } while (0)
#define EXPECT_NONE(o, text) expect(o, text, sizeof(text) - 1, NULL, 0, __LINE__)

KZ_TEST(hand_basic_greedy_and_punctuation) {
    kz_wordpiece_opts u = kz_wordpiece_default_opts(true), c = kz_wordpiece_default_opts(false);
    /* Longest match first: "un" (not "u"), then "##aff", "##able". */
    EXPECT(&u, "unaffable", {"un", 0, 2, 0}, {"##aff", 2, 5, 0}, {"##able", 5, 9, 0});
    /* Punctuation is a word of its own; the space disappears. */
    EXPECT(&u, "Hello, World!", {"hello", 0, 5, 0}, {",", 5, 6, 1}, {"world", 7, 12, 2}, {"!", 12, 13, 3});
    EXPECT(&c, "Hello, World!", {"Hello", 0, 5, 0}, {",", 5, 6, 1}, {"World", 7, 12, 2}, {"!", 12, 13, 3});
    /* '$' '+' '<' '^' '`' '|' '~' are punctuation by the ASCII rule although Unicode calls them symbols. */
    EXPECT(&u, "a$b+c", {"a", 0, 1, 0}, {"$", 1, 2, 1}, {"b", 2, 3, 2}, {"+", 3, 4, 3}, {"c", 4, 5, 4});
    /* '°' (So) and '−' (U+2212, Sm) are not punctuation: they stay inside words. */
    EXPECT(&u, "37\xc2\xb0", {"3", 0, 1, 0}, {"##7", 1, 2, 0}, {"##\xc2\xb0", 2, 4, 0});
    /* No segmentation ("##ç" is not in the vocabulary): the whole word is one [UNK]. */
    EXPECT(&c, "z\xc3\xa7", {"[UNK]", 0, 3, 0});
    EXPECT_NONE(&u, "");
    EXPECT_NONE(&u, " \t\r\n\xe3\x80\x80\xc2\xa0 ");
    EXPECT_NONE(&u, "\x01\xe2\x80\x8b\xef\xbf\xbd"); /* Cc, ZWSP (Cf), U+FFFD: all removed */
}

KZ_TEST(hand_accents_case_and_length_changes) {
    kz_wordpiece_opts u = kz_wordpiece_default_opts(true), c = kz_wordpiece_default_opts(false);
    kz_wordpiece_opts l = u;
    l.strip_accents = 0; /* lowercase only */
    /* é (2 bytes) -> e + U+0301 -> e: "cafe" covers the whole original word. */
    EXPECT(&u, "Caf\xc3\xa9", {"cafe", 0, 5, 0});
    /* Decomposed input: the removed mark's byte range is not part of the token (alignment of 'e' only). */
    EXPECT(&u, "cafe\xcc\x81", {"cafe", 0, 4, 0});
    /* İ -> I + U+0307 (NFD) -> I (mark stripped) -> i: one token over both bytes of İ. */
    EXPECT(&u, "\xc4\xb0stanbul", {"istanbul", 0, 9, 0});
    /* Lowercase without stripping: İ -> "i" + U+0307, two characters both aligned to İ. */
    EXPECT(&l, "\xc4\xb0stanbul", {"i", 0, 2, 0}, {"##\xcc\x87", 0, 2, 0}, {"##stanbul", 2, 9, 0});
    /* Cased: İ is not in the vocabulary in any form. */
    EXPECT(&c, "\xc4\xb0stanbul", {"[UNK]", 0, 9, 0});
    /* Per-character lowercase (no final-sigma rule): ΟΔΟΣ -> οδοσ, so "οδος" does not match. */
    EXPECT(&u, "\xce\x9f\xce\x94\xce\x9f\xce\xa3", {"\xce\xbf", 0, 2, 0}, {"##\xce\xb4", 2, 4, 0},
           {"##\xce\xbf", 4, 6, 0}, {"##\xcf\x83", 6, 8, 0});
    /* ß has no single-character lowercase change and no decomposition. */
    EXPECT(&u,
           "Stra\xc3\x9f"
           "e",
           {"stra\xc3\x9f"
            "e",
            0, 7, 0});
    /* Canonical reordering: x U+302E (ccc 224) U+1D165 (ccc 216) becomes x U+1D165 U+302E, and the
     * alignments stay with the positions: ##U+1D165 covers bytes 1-4 (where U+302E was). */
    EXPECT(&u, "x\xe3\x80\xae\xf0\x9d\x85\xa5", {"x", 0, 1, 0}, {"##\xf0\x9d\x85\xa5", 1, 4, 0},
           {"##\xe3\x80\xae", 4, 8, 0});
    EXPECT(&c, "x\xe3\x80\xae\xf0\x9d\x85\xa5", {"x", 0, 1, 0}, {"##\xe3\x80\xae", 1, 4, 0},
           {"##\xf0\x9d\x85\xa5", 4, 8, 0});
    /* Hangul syllable under NFD: three jamo, the two inserted ones share the syllable's span. */
    EXPECT(&u, "\xed\x95\x9c", {"\xe1\x84\x92", 0, 3, 0}, {"##\xe1\x85\xa1", 0, 3, 0},
           {"##\xe1\x86\xab", 0, 3, 0});
    /* max_input_chars_per_word counts normalised characters: 50 x İ -> 100 chars (ok), 51 -> 102 ([UNK]). */
    char buf[256];
    size_t n = 0;
    for (int k = 0; k < 51; k++) buf[n++] = '\xc4', buf[n++] = '\xb0';
    kz_wordpiece *wp = load_golden_vocab(&l);
    KZ_CHECK(wp);
    kz_wp_token *t = NULL;
    size_t nt = 0, cap = 0;
    KZ_CHECK_INT(kz_wordpiece_encode(wp, buf, 100, &t, &nt, &cap, NULL), 0);
    KZ_CHECK_INT(nt, 100); /* i ##̇ ##i ##̇ ... */
    KZ_CHECK_INT(t[99].start, 98);
    nt = 0;
    KZ_CHECK_INT(kz_wordpiece_encode(wp, buf, 102, &t, &nt, &cap, NULL), 0);
    KZ_CHECK_INT(nt, 1);
    KZ_CHECK_INT(t[0].id, kz_wordpiece_specials(wp).unk);
    KZ_CHECK_INT(t[0].end, 102);
    free(t);
    kz_wordpiece_free(wp);
}

KZ_TEST(hand_cleaning_cjk_specials) {
    kz_wordpiece_opts u = kz_wordpiece_default_opts(true);
    /* Removed control characters join the pieces around them; offsets skip them. */
    EXPECT(&u,
           "ab\x01"
           "cd",
           {"a", 0, 1, 0}, {"##b", 1, 2, 0}, {"##c", 3, 4, 0}, {"##d", 4, 5, 0});
    /* U+0085 is Cc (removed, not a space); U+00A0 is a space. */
    EXPECT(&u,
           "e\xc2\x85"
           "f\xc2\xa0g",
           {"e", 0, 1, 0}, {"##f", 3, 4, 0}, {"g", 6, 7, 1});
    /* Soft hyphen (Cf) vanishes: one word. */
    EXPECT(&u,
           "co\xc2\xad"
           "operate",
           {"cooperate", 0, 11, 0});
    /* CJK ideographs are words of their own, even inside Latin text. */
    EXPECT(&u,
           "ab\xe4\xb8\xad"
           "c",
           {"a", 0, 1, 0}, {"##b", 1, 2, 0}, {"\xe4\xb8\xad", 2, 5, 1}, {"c", 5, 6, 2});
    /* Specials match in the raw text anywhere, case-sensitively. */
    EXPECT(&u, "a[MASK]b", {"a", 0, 1, 0}, {"[MASK]", 1, 7, 1}, {"b", 7, 8, 2});
    EXPECT(&u, "[mask]", {"[", 0, 1, 0}, {"m", 1, 2, 1}, {"##a", 2, 3, 1}, {"##s", 3, 4, 1}, {"##k", 4, 5, 1},
           {"]", 5, 6, 2});
    /* An unassigned code point (U+0378) is kept by the fast tokenizer, so the word is [UNK]. */
    EXPECT(&u,
           "ab\xcd\xb8"
           "cd",
           {"[UNK]", 0, 6, 0});
    /* ZWJ inside an emoji sequence is removed; the pieces join into one word. */
    EXPECT(&u, "\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb", {"\xf0\x9f\x91\xa9", 0, 4, 0},
           {"##\xf0\x9f\x92\xbb", 7, 11, 0});
    /* never_split: the whitespace-delimited chunk "Hello" is kept whole and not lowercased. */
    const char *ns[] = {"Hello"};
    kz_wordpiece_opts n = u;
    n.never_split = ns;
    n.n_never_split = 1;
    EXPECT(&n, "HELLO Hello", {"hello", 0, 5, 0}, {"Hello", 6, 11, 1});
}

KZ_TEST(encode_appends_and_rejects_bad_utf8) {
    kz_wordpiece_opts u = kz_wordpiece_default_opts(true);
    kz_wordpiece *wp = load_golden_vocab(&u);
    KZ_CHECK(wp);
    kz_wp_token *t = NULL;
    size_t n = 0, cap = 0;
    KZ_CHECK_INT(kz_wordpiece_encode(wp, "the", 3, &t, &n, &cap, NULL), 0);
    KZ_CHECK_INT(n, 1);
    KZ_CHECK_INT(kz_wordpiece_encode(wp, "play", 4, &t, &n, &cap, NULL), 0);
    KZ_CHECK_INT(n, 2);
    KZ_CHECK_INT(t[1].word, 0); /* word indices restart per call */
    kz_error err;
    kz_error_clear(&err);
    KZ_CHECK_INT(kz_wordpiece_encode(wp, "ok \xc3(", 5, &t, &n, &cap, &err), KZ_EUTF8);
    KZ_CHECK_INT(n, 2); /* nothing appended on error */
    KZ_CHECK_INT(err.offset, 3);
    KZ_CHECK_INT(kz_wordpiece_encode(wp, "\xed\xa0\x80", 3, &t, &n, &cap, NULL), KZ_EUTF8); /* surrogate */
    KZ_CHECK_INT(kz_wordpiece_encode(wp, NULL, 1, &t, &n, &cap, NULL), KZ_EINVAL);
    KZ_CHECK_INT(kz_wordpiece_encode(wp, NULL, 0, &t, &n, &cap, NULL), 0);
    KZ_CHECK_INT(n, 2);
    free(t);
    kz_wordpiece_free(wp);
}

/* ---- vocabulary loading ------------------------------------------------------------- */

KZ_TEST(vocab_loading_and_lookups) {
    kz_wordpiece_opts u = kz_wordpiece_default_opts(true);
    kz_wordpiece *wp = NULL;
    kz_error err;
    const char v[] = "[PAD]\r\n[UNK]\r\n[CLS]\n[SEP]\nhello\n##s\n\xce\xb1\n";
    KZ_CHECK_INT(kz_wordpiece_from_buffer(v, sizeof v - 1, &u, &wp, NULL), 0);
    KZ_CHECK_INT(kz_wordpiece_vocab_size(wp), 7);
    KZ_CHECK_INT(kz_wordpiece_token_id(wp, kz_str_c("[UNK]")), 1); /* '\r' stripped */
    KZ_CHECK_INT(kz_wordpiece_token_id(wp, kz_str_c("\xce\xb1")), 6);
    KZ_CHECK_INT(kz_wordpiece_token_id(wp, kz_str_c("hell")), -1);
    KZ_CHECK_INT(kz_wordpiece_token_id(wp, kz_str_c("hellos")), -1);
    KZ_CHECK_KSTR(kz_wordpiece_token(wp, 5), "##s");
    KZ_CHECK(kz_wordpiece_token(wp, 7).ptr == NULL);
    KZ_CHECK(kz_wordpiece_token(wp, -1).ptr == NULL);
    kz_wordpiece_special sp = kz_wordpiece_specials(wp);
    KZ_CHECK(sp.cls == 2 && sp.sep == 3 && sp.pad == 0 && sp.unk == 1 && sp.mask == -1);
    /* "[MASK]" is not special here (absent from the vocabulary): plain punctuation + word. */
    kz_wp_token *t = NULL;
    size_t n = 0, cap = 0;
    KZ_CHECK_INT(kz_wordpiece_encode(wp, "hellos [MASK]", 13, &t, &n, &cap, NULL), 0);
    KZ_CHECK_INT(n, 5);
    KZ_CHECK_INT(t[1].id, 5);
    KZ_CHECK_INT(t[2].id, 1); /* "[" is not in this vocabulary */
    free(t);
    t = NULL;
    cap = 0;
    kz_wordpiece_free(wp);

    kz_error_clear(&err);
    const char dup[] = "a\nb\na\n";
    KZ_CHECK_INT(kz_wordpiece_from_buffer(dup, sizeof dup - 1, &u, &wp, &err), KZ_EPARSE);
    KZ_CHECK(wp == NULL);
    KZ_CHECK_INT(err.line, 3);
    KZ_CHECK(strstr(err.msg, "duplicate") != NULL);
    kz_error_clear(&err);
    const char bad[] = "a\nb\xff\n";
    KZ_CHECK_INT(kz_wordpiece_from_buffer(bad, sizeof bad - 1, &u, &wp, &err), KZ_EPARSE);
    KZ_CHECK_INT(err.line, 2);
    kz_error_clear(&err);
    KZ_CHECK_INT(kz_wordpiece_load("/nonexistent/vocab.txt", &u, &wp, &err), KZ_EIO);
    KZ_CHECK_INT(kz_wordpiece_from_buffer(NULL, 0, &u, &wp, NULL), 0);
    KZ_CHECK_INT(kz_wordpiece_vocab_size(wp), 0);
    n = 0;
    kz_error_clear(&err);
    /* No [UNK] in the vocabulary: a word that needs it is an error, as in tokenizers (MissingUnkToken). */
    KZ_CHECK_INT(kz_wordpiece_encode(wp, "x", 1, &t, &n, &cap, &err), KZ_ENOTFOUND);
    KZ_CHECK_INT(n, 0);
    free(t);
    kz_wordpiece_free(wp);
    kz_wordpiece_free(NULL);
}

/* ---- linear time -------------------------------------------------------------------- */

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Encodes text three times (reusing the token array, so that page faults of
 * its growth are not timed) and returns the work count and the best CPU time. */
static uint64_t work(const kz_wordpiece *wp, const char *text, size_t len, double *secs, size_t *ntok) {
    uint64_t w = 0;
    *secs = 1e9;
    kz_wp_token *t = NULL;
    size_t cap = 0;
    for (int rep = 0; rep < 3; rep++) {
        size_t n = 0;
        kz__wp_stats st = {0};
        double t0 = cpu_now();
        int rc = kz__wordpiece_encode_stats(wp, text, len, &t, &n, &cap, &st, NULL);
        double dt = cpu_now() - t0;
        if (rc) {
            free(t);
            return 0;
        }
        if (dt < *secs) *secs = dt;
        w = st.trie_steps + st.norm_chars + st.sorted_marks;
        *ntok = n;
    }
    free(t);
    return w;
}

static char *repeat(const char *unit, size_t ulen, size_t bytes, const char *head) {
    size_t hl = strlen(head);
    char *s = malloc(bytes + 1);
    memcpy(s, head, hl);
    size_t k = hl;
    for (; k + ulen <= bytes; k += ulen) memcpy(s + k, unit, ulen);
    for (; k < bytes; k++) s[k] = ' ';
    s[bytes] = 0;
    return s;
}

/* A 1 MB single word costs 8x the work of a 128 KB one (a quadratic longest match would cost 64x).
 * The work counts must scale by 8; CPU time, noisy on a shared machine, by less than 24. */
static void check_linear(const kz_wordpiece *wp, const char *unit, const char *head, const char *what) {
    size_t ul = strlen(unit), small = ((size_t)128 << 10) / ul * ul, big = 8 * small;
    char *a = repeat(unit, ul, small, head), *b = repeat(unit, ul, big, head);
    double ta, tb;
    size_t na, nb;
    uint64_t wa = work(wp, a, small, &ta, &na), wb = work(wp, b, big, &tb, &nb);
    if (!wa || !wb || (double)wb / (double)wa > 8.4 || tb / ta > 24.0)
        kz_test_fail(__FILE__, __LINE__,
                     "%s: work %llu -> %llu (x%.2f), cpu %.4fs -> %.4fs (x%.2f), tokens %zu -> %zu", what,
                     (unsigned long long)wa, (unsigned long long)wb, wa ? (double)wb / (double)wa : 0, ta, tb,
                     tb / ta, na, nb);
    free(a);
    free(b);
}

KZ_TEST(linear_time_on_megabyte_words) {
    kz_wordpiece_opts u = kz_wordpiece_default_opts(true);
    u.max_input_chars_per_word = UINT32_MAX; /* no [UNK] shortcut: the greedy match must run */
    kz_wordpiece *wp = load_golden_vocab(&u);
    KZ_CHECK(wp);
    check_linear(wp, "a", "", "ASCII a##a##a...");
    check_linear(wp, "\xc3\xa9", "", "general path e##e##e... from é");
    check_linear(wp, "\xcc\x81\xcc\xa3", "a", "a + 1 MB of combining marks (canonical reordering)");
    check_linear(wp, "ab\x01", "", "control characters inside one word");
    check_linear(wp, "un", "", "un##un##un...");
    kz_wordpiece_free(wp);

    /* Default max: a 1 MB word is one [UNK] over the whole word. */
    u.max_input_chars_per_word = 0;
    wp = load_golden_vocab(&u);
    KZ_CHECK(wp);
    size_t big = (size_t)1 << 20;
    char *s = repeat("a", 1, big, "");
    kz_wp_token *t = NULL;
    size_t n = 0, cap = 0;
    KZ_CHECK_INT(kz_wordpiece_encode(wp, s, big, &t, &n, &cap, NULL), 0);
    KZ_CHECK_INT(n, 1);
    KZ_CHECK_INT(t[0].end, (int64_t)big);
    free(t);
    free(s);
    kz_wordpiece_free(wp);
}

/* A vocabulary with one very deep token: the trie walk per piece is bounded by the depth, so the
 * cost stays linear in the text for a fixed vocabulary. */
KZ_TEST(deep_vocabulary_token) {
    size_t deep = 5000;
    char *v = malloc(deep + 64);
    size_t p = 0;
    p += (size_t)sprintf(v, "[UNK]\na\n##a\n");
    memset(v + p, 'a', deep);
    p += deep;
    v[p++] = '\n';
    kz_wordpiece_opts u = kz_wordpiece_default_opts(true);
    u.max_input_chars_per_word = UINT32_MAX;
    kz_wordpiece *wp = NULL;
    KZ_CHECK_INT(kz_wordpiece_from_buffer(v, p, &u, &wp, NULL), 0);
    KZ_CHECK_INT(kz__wordpiece_max_token_len(wp), deep);
    char *s = repeat("a", 1, 3 * deep + 7, "");
    kz_wp_token *t = NULL;
    size_t n = 0, cap = 0;
    KZ_CHECK_INT(kz_wordpiece_encode(wp, s, 3 * deep + 7, &t, &n, &cap, NULL), 0);
    /* first piece is the deep token, then ##a for each remaining character */
    KZ_CHECK_INT(n, 1 + 2 * deep + 7);
    KZ_CHECK_INT(t[0].id, 3);
    KZ_CHECK_INT(t[0].end, (int64_t)deep);
    KZ_CHECK_INT(t[1].id, 2);
    free(t);
    free(s);
    free(v);
    kz_wordpiece_free(wp);
}
