/* Internal core helpers shared by every module: growable byte buffers with a
 * cap, and small utilities. Not part of the public API. */
#ifndef KZ_CORE_INT_H
#define KZ_CORE_INT_H

#include <stdarg.h>
#include <string.h>
#include "kazu/core.h"

/* Growable byte buffer (malloc-backed). Always NUL-terminated when len > 0
 * or after any append. cap_limit 0 = unlimited; exceeding it gives KZ_ELIMIT. */
typedef struct kz_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t limit;
} kz_buf;

void kz__buf_init(kz_buf *b, size_t limit);
void kz__buf_free(kz_buf *b);
static inline void kz__buf_clear(kz_buf *b) {
    b->len = 0;
    if (b->data) b->data[0] = 0;
}
int kz__buf_reserve(kz_buf *b, size_t extra);
int kz__buf_append(kz_buf *b, const void *p, size_t n);
static inline int kz__buf_puts(kz_buf *b, const char *s) { return kz__buf_append(b, s, strlen(s)); }
int kz__buf_putc(kz_buf *b, char c);
int kz__buf_printf(kz_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Random 32-hex-digit id (uuid4().hex shape) into out[33]. */
void kz__random_hex_id(char out[33]);

#define KZ_UNUSED(x) (void)(x)
#define KZ_MIN(a, b) ((a) < (b) ? (a) : (b))
#define KZ_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
