/* Test runner: runs every registered test (or those named on the command
 * line) and prints "N passed, N failed"; exit status 1 on any failure. */
#include <stdarg.h>
#include <unistd.h>
#include "kz_test.h"

typedef struct {
    const char *name;
    kz_test_fn fn;
} entry;
static entry g_tests[1024];
static int g_n;
int kz_test_current_failed;

void kz_test_register(const char *name, kz_test_fn fn) {
    if (g_n < (int)(sizeof g_tests / sizeof g_tests[0])) g_tests[g_n++] = (entry){name, fn};
}

void kz_test_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stderr, "  FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    kz_test_current_failed = 1;
}

char *kz_test_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *nb = realloc(buf, cap * 2 + 1);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
    }
    fclose(f);
    if (!buf) return NULL;
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

bool kz_test_have_shared_data(void) { return access(KZ_SHARED_DATA "/SOURCES.md", R_OK) == 0; }

int main(int argc, char **argv) {
    int passed = 0, failed = 0;
    for (int i = 0; i < g_n; i++) {
        if (argc > 1) {
            bool want = false;
            for (int j = 1; j < argc; j++) want |= strcmp(argv[j], g_tests[i].name) == 0;
            if (!want) continue;
        }
        kz_test_current_failed = 0;
        g_tests[i].fn();
        if (kz_test_current_failed) {
            failed++;
            fprintf(stderr, "[FAIL] %s\n", g_tests[i].name);
        } else {
            passed++;
            printf("[ ok ] %s\n", g_tests[i].name);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
