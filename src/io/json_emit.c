/* JSON emission that matches Python's json.dumps byte for byte: separators
 * ", " and ": ", ensure_ascii escaping, and repr() of floats. Kazu writes its
 * documents with exactly these defaults. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "io_int.h"

static const char k_hex[] = "0123456789abcdef";

static int put_u(kz_buf *b, unsigned v) {
    char t[6] = {'\\', 'u', k_hex[(v >> 12) & 15], k_hex[(v >> 8) & 15], k_hex[(v >> 4) & 15], k_hex[v & 15]};
    return kz__buf_append(b, t, 6);
}

/* Escape the body of a string (no quotes). */
static int put_string_body(kz_buf *b, const char *s, size_t len, bool ascii_only) {
    int rc = kz__buf_reserve(b, len + 2);
    if (rc) return rc;
    size_t i = 0, run = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        bool plain = c >= 0x20 && c != '"' && c != '\\' && (!ascii_only || c < 0x7f);
        if (plain) {
            i++;
            run++;
            continue;
        }
        if (run && (rc = kz__buf_append(b, s + i - run, run))) return rc;
        run = 0;
        switch (c) {
        case '"':
            rc = kz__buf_append(b, "\\\"", 2);
            i++;
            break;
        case '\\':
            rc = kz__buf_append(b, "\\\\", 2);
            i++;
            break;
        case '\n':
            rc = kz__buf_append(b, "\\n", 2);
            i++;
            break;
        case '\r':
            rc = kz__buf_append(b, "\\r", 2);
            i++;
            break;
        case '\t':
            rc = kz__buf_append(b, "\\t", 2);
            i++;
            break;
        case '\b':
            rc = kz__buf_append(b, "\\b", 2);
            i++;
            break;
        case '\f':
            rc = kz__buf_append(b, "\\f", 2);
            i++;
            break;
        default:
            if (c < 0x80) {
                rc = put_u(b, c);
                i++;
                break;
            }
            {
                size_t at = i;
                int32_t cp = kz_utf8_decode(s, len, &i);
                if (cp < 0) {
                    rc = put_u(b, 0xfffd);
                    (void)at;
                    break;
                }
                if (cp >= 0x10000) {
                    unsigned v = (unsigned)cp - 0x10000;
                    rc = put_u(b, 0xD800 | (v >> 10));
                    if (!rc) rc = put_u(b, 0xDC00 | (v & 0x3ff));
                } else {
                    rc = put_u(b, (unsigned)cp);
                }
            }
        }
        if (rc) return rc;
    }
    if (run) rc = kz__buf_append(b, s + i - run, run);
    return rc;
}

int kz__json_put_string(kz_buf *b, const char *s, size_t len, bool ascii_only) {
    int rc = kz__buf_putc(b, '"');
    if (!rc) rc = put_string_body(b, s ? s : "", s ? len : 0, ascii_only);
    if (!rc) rc = kz__buf_putc(b, '"');
    return rc;
}

int kz__json_put_double(kz_buf *b, double v) {
    if (isnan(v)) return kz__buf_puts(b, "NaN");
    if (isinf(v)) return kz__buf_puts(b, v > 0 ? "Infinity" : "-Infinity");
    if (v == 0) return kz__buf_puts(b, signbit(v) ? "-0.0" : "0.0");
    /* Shortest round-tripping digits, as Python's repr. */
    char e[40];
    int prec;
    /* Round-tripping is monotonic in the precision, so binary-search the shortest. */
    int lo = 1, hi = 17;
    while (lo < hi) {
        prec = (lo + hi) / 2;
        snprintf(e, sizeof e, "%.*e", prec - 1, v);
        if (strtod(e, NULL) == v)
            hi = prec;
        else
            lo = prec + 1;
    }
    prec = lo;
    snprintf(e, sizeof e, "%.*e", prec - 1, v);
    /* e = [-]d[.ddd]e[+-]XX */
    char digits[24];
    int nd = 0;
    const char *p = e;
    bool neg = false;
    if (*p == '-') {
        neg = true;
        p++;
    }
    while (*p && *p != 'e') {
        if (*p >= '0' && *p <= '9') digits[nd++] = *p;
        p++;
    }
    int exp10 = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    digits[nd] = 0;
    int decpt = exp10 + 1; /* value = 0.DIGITS * 10^decpt */
    char out[64];
    int k = 0;
    if (neg) out[k++] = '-';
    if (decpt > 16 || decpt < -3) {
        out[k++] = digits[0];
        if (nd > 1) {
            out[k++] = '.';
            for (int i = 1; i < nd; i++) out[k++] = digits[i];
        }
        k += snprintf(out + k, sizeof out - (size_t)k, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
    } else if (decpt <= 0) {
        out[k++] = '0';
        out[k++] = '.';
        for (int i = 0; i < -decpt; i++) out[k++] = '0';
        for (int i = 0; i < nd; i++) out[k++] = digits[i];
    } else {
        for (int i = 0; i < decpt; i++) out[k++] = i < nd ? digits[i] : '0';
        out[k++] = '.';
        if (nd > decpt)
            for (int i = decpt; i < nd; i++) out[k++] = digits[i];
        else
            out[k++] = '0';
    }
    return kz__buf_append(b, out, (size_t)k);
}

int kz__json_put_raw(kz_buf *b, kz_str raw, bool ascii_only) {
    int rc = 0;
    size_t i = 0;
    while (i < raw.len && !rc) {
        char c = raw.ptr[i];
        if (c == '"') {
            /* Copy the string, re-escaping non-ASCII; existing escapes stay. */
            size_t j = i + 1;
            while (j < raw.len && raw.ptr[j] != '"') j += raw.ptr[j] == '\\' ? 2 : 1;
            if (j > raw.len) j = raw.len;
            rc = kz__buf_putc(b, '"');
            size_t k = i + 1, run = 0;
            while (!rc && k < j) {
                unsigned char d = (unsigned char)raw.ptr[k];
                if (d == '\\') {
                    run += 2;
                    k += 2;
                    continue;
                }
                if (d < 0x7f || !ascii_only) {
                    run++;
                    k++;
                    continue;
                }
                if (run) rc = kz__buf_append(b, raw.ptr + k - run, run);
                run = 0;
                size_t e = k;
                while (e < j && ((unsigned char)raw.ptr[e] >= 0x7f)) e++;
                if (!rc) rc = put_string_body(b, raw.ptr + k, e - k, true);
                k = e;
            }
            if (!rc && run) rc = kz__buf_append(b, raw.ptr + k - run, KZ_MIN(run, j - (k - run)));
            if (!rc) rc = kz__buf_putc(b, '"');
            i = j + 1;
        } else if (c == ',') {
            rc = kz__buf_append(b, ", ", 2);
            i++;
        } else if (c == ':') {
            rc = kz__buf_append(b, ": ", 2);
            i++;
        } else {
            rc = kz__buf_putc(b, c);
            i++;
        }
    }
    return rc;
}

int kz__json_put_meta(kz_buf *b, const kz_meta *m, bool ascii_only) {
    int rc = kz__buf_putc(b, '{');
    for (uint32_t i = 0; !rc && i < m->n; i++) {
        if (i) rc = kz__buf_append(b, ", ", 2);
        if (!rc) rc = kz__json_put_string(b, m->items[i].key.ptr, m->items[i].key.len, ascii_only);
        if (!rc) rc = kz__buf_append(b, ": ", 2);
        if (!rc) rc = kz__json_put_raw(b, m->items[i].value, ascii_only);
    }
    if (!rc) rc = kz__buf_putc(b, '}');
    return rc;
}
