/* UTF-8 validation, decoding and byte <-> code-point offset maps. */
#include "core_int.h"
#include "kazu/utf8.h"

int32_t kz_utf8_decode(const char *s, size_t len, size_t *i) {
    const unsigned char *p = (const unsigned char *)s;
    size_t k = *i;
    if (k >= len) return -1;
    unsigned c = p[k];
    if (c < 0x80) {
        *i = k + 1;
        return (int32_t)c;
    }
    int n;
    uint32_t cp, min;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 1;
        cp = c & 0x1F;
        min = 0x80;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 2;
        cp = c & 0x0F;
        min = 0x800;
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 3;
        cp = c & 0x07;
        min = 0x10000;
    } else {
        *i = k + 1;
        return -1;
    }
    if (len - k - 1 < (size_t)n) {
        *i = k + 1;
        return -1;
    }
    for (int j = 1; j <= n; j++) {
        unsigned d = p[k + (size_t)j];
        if ((d & 0xC0) != 0x80) {
            *i = k + 1;
            return -1;
        }
        cp = (cp << 6) | (d & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        *i = k + 1;
        return -1;
    }
    *i = k + 1 + (size_t)n;
    return (int32_t)cp;
}

bool kz_utf8_valid(const char *s, size_t len, size_t *bad_offset) {
    size_t i = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (i < len) {
        /* ASCII fast path, 8 bytes at a time. */
        while (i + 8 <= len) {
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (w & 0x8080808080808080ULL) break;
            i += 8;
        }
        if (i >= len) break;
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        size_t at = i;
        if (kz_utf8_decode(s, len, &i) < 0) {
            if (bad_offset) *bad_offset = at;
            return false;
        }
    }
    return true;
}

size_t kz_utf8_count(const char *s, size_t len) {
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < len; i++) n += (p[i] & 0xC0) != 0x80;
    return n;
}

size_t kz_utf8_encode(uint32_t cp, char *out) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp >= 0xD800 && cp <= 0xDFFF) return 0;
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    if (cp <= 0x10FFFF) {
        out[0] = (char)(0xF0 | (cp >> 18));
        out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[3] = (char)(0x80 | (cp & 0x3F));
        return 4;
    }
    return 0;
}

bool kz_utf8_is_boundary(const char *s, size_t len, size_t off) {
    if (off == 0 || off == len) return true;
    if (off > len) return false;
    return (((const unsigned char *)s)[off] & 0xC0) != 0x80;
}

/* Checkpoint k holds the byte offset of code point k*STEP. */
#define KZ_OM_STEP 64
struct kz_offset_map {
    const unsigned char *s;
    size_t len;
    int64_t ncp;
    int64_t *byte_at; /* byte offset of code point k*STEP, k = 0..nck-1 */
    int64_t nck;
    bool ascii; /* all ASCII: identity mapping */
};

kz_offset_map *kz_offset_map_new(kz_arena *a, const char *s, size_t len) {
    kz_offset_map *m = kz_arena_calloc(a, 1, sizeof *m);
    if (!m) return NULL;
    m->s = (const unsigned char *)s;
    m->len = len;
    size_t ncp = kz_utf8_count(s, len);
    m->ncp = (int64_t)ncp;
    m->ascii = ncp == len;
    if (m->ascii) return m;
    m->nck = (int64_t)(ncp / KZ_OM_STEP) + 1;
    m->byte_at = kz_arena_alloc(a, (size_t)m->nck * sizeof(int64_t));
    if (!m->byte_at) return NULL;
    int64_t cp = 0, k = 0;
    for (size_t i = 0; i < len; i++) {
        if ((m->s[i] & 0xC0) == 0x80) continue;
        if (cp % KZ_OM_STEP == 0) m->byte_at[k++] = (int64_t)i;
        cp++;
    }
    if (k < m->nck) m->byte_at[k] = (int64_t)len; /* ncp is a multiple of STEP */
    return m;
}

int64_t kz_offset_map_to_cp(const kz_offset_map *m, int64_t byte_off) {
    if (byte_off <= 0) return 0;
    if ((size_t)byte_off >= m->len) return m->ncp;
    if (m->ascii) return byte_off;
    /* Binary search the last checkpoint <= byte_off, then count forward. */
    int64_t lo = 0, hi = m->nck - 1;
    while (lo < hi) {
        int64_t mid = (lo + hi + 1) / 2;
        if (m->byte_at[mid] <= byte_off)
            lo = mid;
        else
            hi = mid - 1;
    }
    int64_t cp = lo * KZ_OM_STEP;
    for (int64_t i = m->byte_at[lo]; i < byte_off; i++) cp += (m->s[i] & 0xC0) != 0x80;
    return cp;
}

int64_t kz_offset_map_to_byte(const kz_offset_map *m, int64_t cp) {
    if (cp < 0 || cp > m->ncp) return -1;
    if (m->ascii) return cp;
    if (cp == m->ncp) return (int64_t)m->len;
    int64_t k = cp / KZ_OM_STEP;
    int64_t i = m->byte_at[k], c = k * KZ_OM_STEP;
    while (c < cp) {
        i++;
        while ((size_t)i < m->len && (m->s[i] & 0xC0) == 0x80) i++;
        c++;
    }
    return i;
}

int64_t kz_offset_map_cp_len(const kz_offset_map *m) { return m->ncp; }
