/* Kazu string normaliser: golden tables (Kazu's own test cases plus cases derived with
 * tools/kazu_normaliser_reference.py) and the API's error behaviour. */
#include "kz_test.h"
#include "kazu/normalise.h"

/* Undo the TSV escapes \t \n \r \\ in place; returns the new length. */
static size_t unescape(char *s) {
    size_t w = 0;
    for (size_t i = 0; s[i]; i++) {
        if (s[i] == '\\' && s[i + 1]) {
            char c = s[++i];
            s[w++] = c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : c;
        } else {
            s[w++] = s[i];
        }
    }
    s[w] = '\0';
    return w;
}

/* Check every row of tests/golden/normalise/<name>; returns the number of rows checked. */
static int run_golden(const char *name) {
    char path[512];
    snprintf(path, sizeof path, "%s/tests/golden/normalise/%s", KZ_SOURCE_DIR, name);
    char *text = kz_test_read_file(path, NULL);
    if (!text) {
        kz_test_fail(__FILE__, __LINE__, "cannot read %s", path);
        return 0;
    }
    int rows = 0, lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        if (line[0] == '#') continue;
        char *f[4] = {line, NULL, NULL, NULL};
        for (int i = 1; i < 4 && f[i - 1]; i++) {
            char *tab = strchr(f[i - 1], '\t');
            if (tab) *tab = '\0', f[i] = tab + 1;
        }
        if (!f[3]) {
            kz_test_fail(__FILE__, __LINE__, "%s:%d: expected 4 tab-separated fields", name, lineno);
            break;
        }
        const char *cls = strcmp(f[0], "-") ? f[0] : NULL;
        size_t in_len = unescape(f[1]);
        size_t exp_len = unescape(f[2]);
        char *out = NULL;
        size_t out_len = 0;
        bool sym = false;
        int rc = kz_normalise(f[1], in_len, cls, &out, &out_len, NULL);
        int rc2 = kz_normalise_is_symbolic(f[1], in_len, cls, &sym, NULL);
        if (rc || rc2 || out_len != exp_len || memcmp(out, f[2], exp_len) || sym != (f[3][0] == '1'))
            kz_test_fail(__FILE__, __LINE__,
                         "%s:%d: class %s input \"%s\": got \"%s\" symbolic=%d rc=%d/%d, "
                         "expected \"%s\" symbolic=%s",
                         name, lineno, f[0], f[1], out ? out : "(null)", sym, rc, rc2, f[2], f[3]);
        free(out);
        rows++;
    }
    free(text);
    return rows;
}

KZ_TEST(golden_kazu_test_cases) { KZ_CHECK_INT(run_golden("kazu_tests.tsv"), 12); }
KZ_TEST(golden_rules) { KZ_CHECK_INT(run_golden("rules.tsv"), 65); }
KZ_TEST(golden_unicode) { KZ_CHECK_INT(run_golden("unicode.tsv"), 36); }

static char *norm(const char *s, const char *cls) {
    char *out = NULL;
    return kz_normalise(s, strlen(s), cls, &out, NULL, NULL) == 0 ? out : NULL;
}

KZ_TEST(class_selection_is_exact) {
    /* Unknown or differently cased class names take the default rules. */
    char *a = norm("MPNs", "gene"), *b = norm("MPNs", "Gene"), *c = norm("MPNs", NULL);
    KZ_CHECK_STR(a, "MPN");
    KZ_CHECK_STR(b, "MPNS");
    KZ_CHECK_STR(c, "MPNS");
    free(a), free(b), free(c);
}

KZ_TEST(embedded_nul_is_a_character) {
    char *out = NULL;
    size_t n = 0;
    /* Symbolic (capital after the first letter): upper-cased, U+0000 kept... */
    KZ_CHECK_INT(kz_normalise("AB\0cd", 5, NULL, &out, &n, NULL), 0);
    KZ_CHECK_INT(n, 5);
    KZ_CHECK(memcmp(out, "AB\0CD", 5) == 0);
    free(out);
    /* ...a noun phrase drops it as non-alphanumeric. */
    KZ_CHECK_INT(kz_normalise("ab\0cd", 5, NULL, &out, &n, NULL), 0);
    KZ_CHECK_INT(n, 4);
    KZ_CHECK_STR(out, "ABCD");
    free(out);
}

KZ_TEST(invalid_utf8_is_refused) {
    kz_error err;
    kz_error_clear(&err);
    char *out = (char *)"untouched";
    KZ_CHECK_INT(kz_normalise("ab\xC3(", 4, NULL, &out, NULL, &err), KZ_EUTF8);
    KZ_CHECK(out == NULL);
    KZ_CHECK(strstr(err.msg, "byte offset 2") != NULL);
    bool sym = true;
    KZ_CHECK_INT(kz_normalise_is_symbolic("\xED\xA0\x80", 3, "gene", &sym, NULL), KZ_EUTF8);
    KZ_CHECK_INT(kz_normalise("\xC0\xAF", 2, NULL, &out, NULL, NULL), KZ_EUTF8);
}

KZ_TEST(bad_arguments_and_limit) {
    char *out = NULL;
    bool sym;
    KZ_CHECK_INT(kz_normalise(NULL, 3, NULL, &out, NULL, NULL), KZ_EINVAL);
    KZ_CHECK_INT(kz_normalise("abc", 3, NULL, NULL, NULL, NULL), KZ_EINVAL);
    KZ_CHECK_INT(kz_normalise_is_symbolic("abc", 3, NULL, NULL, NULL), KZ_EINVAL);
    KZ_CHECK_INT(kz_normalise_is_symbolic(NULL, 0, NULL, &sym, NULL), 0);
    KZ_CHECK(sym);
    KZ_CHECK_INT(kz_normalise(NULL, 0, "gene", &out, NULL, NULL), 0);
    KZ_CHECK_STR(out, "");
    free(out);
    size_t big = KZ_NORMALISE_MAX_BYTES + 1;
    char *s = malloc(big);
    KZ_CHECK(s != NULL);
    memset(s, 'a', big);
    kz_error err;
    kz_error_clear(&err);
    int rc = kz_normalise(s, big, NULL, &out, NULL, &err);
    int rc_at_cap = kz_normalise(s, big - 1, NULL, &out, NULL, NULL);
    free(s);
    KZ_CHECK_INT(rc, KZ_ELIMIT);
    KZ_CHECK_INT(rc_at_cap, 0);
    KZ_CHECK_INT(strlen(out), KZ_NORMALISE_MAX_BYTES);
    free(out);
}

KZ_TEST(worst_case_growth_at_the_cap) {
    /* 2-byte Greek final sigma grows to " FINAL SIGMA " (13 code points) before collapsing. */
    size_t n = KZ_NORMALISE_MAX_BYTES / 2;
    char *s = malloc(n * 2 + 8);
    KZ_CHECK(s != NULL);
    memcpy(s, "x y ", 4);
    for (size_t i = 2; i < n; i++) memcpy(s + 2 * i, "\xCF\x82", 2);
    char *out = NULL;
    size_t len = 0;
    int rc = kz_normalise(s, n * 2, NULL, &out, &len, NULL);
    free(s);
    KZ_CHECK_INT(rc, 0);
    KZ_CHECK_INT(len, 2 + 2 + (n - 2) * 12 - 1);
    KZ_CHECK(strncmp(out, "X Y FINAL SIGMA FINAL", 21) == 0);
    free(out);
}
