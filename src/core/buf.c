/* Growable, capped byte buffers and random ids. */
#include <stdio.h>
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>
#include <time.h>
#include <sys/random.h>
#include "core_int.h"

void kz__buf_init(kz_buf *b, size_t limit) {
    b->data = NULL;
    b->len = b->cap = 0;
    b->limit = limit;
}

void kz__buf_free(kz_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int kz__buf_reserve(kz_buf *b, size_t extra) {
    if (extra > SIZE_MAX - b->len - 1) return KZ_ELIMIT;
    size_t need = b->len + extra + 1;
    if (b->limit && need > b->limit + 1) return KZ_ELIMIT;
    if (need <= b->cap) return 0;
    size_t nc = b->cap ? b->cap : 256;
    while (nc < need) nc = nc > SIZE_MAX / 2 ? need : nc * 2;
    char *p = realloc(b->data, nc);
    if (!p) return KZ_ENOMEM;
    b->data = p;
    b->cap = nc;
    return 0;
}

int kz__buf_append(kz_buf *b, const void *p, size_t n) {
    int rc = kz__buf_reserve(b, n);
    if (rc) return rc;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

int kz__buf_putc(kz_buf *b, char c) { return kz__buf_append(b, &c, 1); }

int kz__buf_printf(kz_buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char tmp[256];
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return KZ_EINVAL;
    if ((size_t)n < sizeof tmp) return kz__buf_append(b, tmp, (size_t)n);
    int rc = kz__buf_reserve(b, (size_t)n);
    if (rc) return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void kz__random_hex_id(char out[33]) {
    unsigned char raw[16];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        /* Fall back to time + address entropy; ids need uniqueness, not secrecy. */
        uint64_t x = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)out ^ ((uint64_t)getpid() << 32);
        for (int i = 0; i < 16; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            raw[i] = (unsigned char)x;
        }
    }
    raw[6] = (unsigned char)((raw[6] & 0x0f) | 0x40); /* uuid4 version */
    raw[8] = (unsigned char)((raw[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hx[raw[i] >> 4];
        out[2 * i + 1] = hx[raw[i] & 15];
    }
    out[32] = 0;
}
