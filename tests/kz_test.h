/* Minimal test harness: KZ_TEST(name) registers a test; assertions print both
 * values and the place; the runner ends with "N passed, N failed". */
#ifndef KZ_TEST_H
#define KZ_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdbool.h>

typedef void (*kz_test_fn)(void);
void kz_test_register(const char *name, kz_test_fn fn);
void kz_test_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Read a whole file (malloc'd, NUL-terminated) or NULL; *len optional. */
char *kz_test_read_file(const char *path, size_t *len);
/* True if ../shared/data is present (data tests skip loudly otherwise). */
bool kz_test_have_shared_data(void);
extern int kz_test_current_failed;

#define KZ_TEST(name)                                                                                        \
    static void name(void);                                                                                  \
    __attribute__((constructor)) static void kz_reg_##name(void) { kz_test_register(#name, name); }          \
    static void name(void)

#define KZ_CHECK(cond)                                                                                       \
    do {                                                                                                     \
        if (!(cond)) {                                                                                       \
            kz_test_fail(__FILE__, __LINE__, "check failed: %s", #cond);                                     \
            return;                                                                                          \
        }                                                                                                    \
    } while (0)

#define KZ_CHECK_INT(a, b)                                                                                   \
    do {                                                                                                     \
        long long a_ = (long long)(a), b_ = (long long)(b);                                                  \
        if (a_ != b_) {                                                                                      \
            kz_test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_, b_);                      \
            return;                                                                                          \
        }                                                                                                    \
    } while (0)

#define KZ_CHECK_STR(a, b)                                                                                   \
    do {                                                                                                     \
        const char *a_ = (a), *b_ = (b);                                                                     \
        if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                                             \
            kz_test_fail(__FILE__, __LINE__, "%s == %s:\n  got:      \"%s\"\n  expected: \"%s\"", #a, #b,    \
                         a_ ? a_ : "(null)", b_ ? b_ : "(null)");                                            \
            return;                                                                                          \
        }                                                                                                    \
    } while (0)

/* Compare a kz_str with a C string. */
#define KZ_CHECK_KSTR(s, b)                                                                                  \
    do {                                                                                                     \
        kz_str s_ = (s);                                                                                     \
        const char *b_ = (b);                                                                                \
        if (!s_.ptr || strlen(b_) != s_.len || memcmp(s_.ptr, b_, s_.len)) {                                 \
            kz_test_fail(__FILE__, __LINE__, "%s == %s:\n  got:      \"%.*s\"\n  expected: \"%s\"", #s, #b,  \
                         (int)s_.len, s_.ptr ? s_.ptr : "(null)", b_);                                       \
            return;                                                                                          \
        }                                                                                                    \
    } while (0)

#endif
