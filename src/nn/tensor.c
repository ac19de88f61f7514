/* Tensor tables as the checkpoint readers fill them: named tensors, what backs
 * them (a mapping or owned blocks), dtype sizes and names, and fp16 <-> fp32. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "nn/load_int.h"

size_t kz__dtype_size(kz_dtype t) {
    switch (t) {
    case KZ_DT_F32: return 4;
    case KZ_DT_F16: return 2;
    case KZ_DT_BF16: return 2;
    case KZ_DT_I8: return 1;
    case KZ_DT_I64: return 8;
    }
    return 0;
}

const char *kz__dtype_name(kz_dtype t) {
    static const char *const names[KZ_DT_COUNT] = {"F32", "F16", "BF16", "I8", "I64"};
    return (unsigned)t < KZ_DT_COUNT ? names[t] : "?";
}

int kz__dtype_parse(const char *s, kz_dtype *out) {
    for (unsigned i = 0; i < KZ_DT_COUNT; i++) {
        if (strcmp(s, kz__dtype_name((kz_dtype)i)) == 0) {
            *out = (kz_dtype)i;
            return 0;
        }
    }
    /* The rest of the safetensors vocabulary: valid there, not used by BERT here. */
    static const char *const other[] = {"F64",     "I32", "I16",     "U8",      "U16",
                                        "U32",     "U64", "BOOL",    "F8_E4M3", "F8_E5M2",
                                        "F8_E8M0", "F4",  "F6_E2M3", "F6_E3M2", "C64"};
    for (size_t i = 0; i < sizeof other / sizeof *other; i++)
        if (strcmp(s, other[i]) == 0) return KZ_EFORMAT;
    return KZ_EPARSE;
}

bool kz__shape_numel(const int64_t *shape, uint32_t ndim, uint64_t *out) {
    uint64_t n = 1;
    bool zero = false;
    for (uint32_t i = 0; i < ndim; i++) {
        if (shape[i] < 0 || shape[i] > KZ_NN_MAX_DIM) return false;
        if (shape[i] == 0) zero = true;
    }
    if (zero) {
        *out = 0;
        return true;
    }
    for (uint32_t i = 0; i < ndim; i++) {
        if (n > KZ_NN_MAX_NUMEL / (uint64_t)shape[i]) return false;
        n *= (uint64_t)shape[i];
    }
    *out = n;
    return true;
}

const char *kz__shape_str(const int64_t *shape, uint32_t ndim, char *buf, size_t cap) {
    if (!cap) return buf;
    size_t o = (size_t)snprintf(buf, cap, "[");
    for (uint32_t i = 0; i < ndim && o < cap; i++)
        o += (size_t)snprintf(buf + o, cap - o, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (o < cap) snprintf(buf + o, cap - o, "]");
    return buf;
}

kz_tensor *kz__tensor_table_add(kz_tensor_table *tt, const char *name, size_t len) {
    if (tt->n >= KZ_NN_MAX_TENSORS) return NULL;
    if (tt->n == tt->cap) {
        size_t cap = tt->cap ? tt->cap * 2 : 64;
        kz_tensor *t = realloc(tt->t, cap * sizeof *t);
        if (!t) return NULL;
        tt->t = t;
        tt->cap = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) return NULL;
    memcpy(copy, name, len);
    copy[len] = 0;
    kz_tensor *t = &tt->t[tt->n++];
    memset(t, 0, sizeof *t);
    t->name = copy;
    return t;
}

int kz__tensor_table_own(kz_tensor_table *tt, void *p) {
    if (!p) return 0;
    if (tt->n_owned == tt->cap_owned) {
        size_t cap = tt->cap_owned ? tt->cap_owned * 2 : 16;
        void **o = realloc(tt->owned, cap * sizeof *o);
        if (!o) {
            free(p);
            return KZ_ENOMEM;
        }
        tt->owned = o;
        tt->cap_owned = cap;
    }
    tt->owned[tt->n_owned++] = p;
    return 0;
}

void kz__tensor_table_free(kz_tensor_table *tt) {
    if (!tt) return;
    for (size_t i = 0; i < tt->n; i++) free(tt->t[i].name);
    free(tt->t);
    for (size_t i = 0; i < tt->n_owned; i++) free(tt->owned[i]);
    free(tt->owned);
    if (tt->map && tt->map_len) munmap(tt->map, tt->map_len);
    memset(tt, 0, sizeof *tt);
}

const kz_tensor *kz__tensor_find(const kz_tensor_table *tt, const char *name) {
    for (size_t i = 0; i < tt->n; i++)
        if (strcmp(tt->t[i].name, name) == 0) return &tt->t[i];
    return NULL;
}

void kz__err_path(kz_error *err, const char *path) {
    if (!err || !path) return;
    size_t n = strlen(path), cap = sizeof err->path - 1;
    const char *src = n > cap ? path + (n - cap) : path;
    memcpy(err->path, src, strlen(src) + 1);
    if (n > cap) memcpy(err->path, "...", 3);
}

/* ---- IEEE half <-> single ------------------------------------------------------ */
float kz__f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, u;
    if (exp == 0) {
        if (man == 0) {
            u = sign;
        } else { /* subnormal: value = man * 2^-24; renormalise */
            int e = -1;
            do {
                e++;
                man <<= 1;
            } while (!(man & 0x400u));
            u = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        u = sign | 0x7f800000u | (man << 13);
    } else {
        u = sign | ((exp + 112u) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t kz__f32_to_f16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t ax = x & 0x7fffffffu;
    if (ax > 0x7f800000u) return (uint16_t)(sign | 0x7e00u | ((ax >> 13) & 0x3ffu)); /* quiet NaN */
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* >= 65520 rounds to infinity */
    if (ax < 0x38800000u) {                                   /* below 2^-14: subnormal half */
        if (ax < 0x33000000u) return sign;                    /* below 2^-25: zero */
        uint32_t e = ax >> 23, m = (ax & 0x7fffffu) | 0x800000u;
        uint32_t shift = 126u - e; /* 14..24 */
        uint32_t r = m >> shift, rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (r & 1u))) r++;
        return (uint16_t)(sign | r);
    }
    uint32_t r = ax - 0x38000000u; /* rebias 127 -> 15 */
    uint32_t rem = r & 0x1fffu;
    r >>= 13;
    if (rem > 0x1000u || (rem == 0x1000u && (r & 1u))) r++; /* a carry into the exponent is right */
    return (uint16_t)(sign | r);
}

/* Bulk conversions for the loaders: a 64K-entry table for half (built once,
 * exact by construction), a shift for bfloat16. `in` may be unaligned. */
static float g_f16_table[65536];
static pthread_once_t g_f16_once = PTHREAD_ONCE_INIT;
static void f16_table_init(void) {
    for (uint32_t h = 0; h < 65536; h++) g_f16_table[h] = kz__f16_to_f32((uint16_t)h);
}

void kz__f16_to_f32_n(const void *in, float *out, size_t n) {
    pthread_once(&g_f16_once, f16_table_init);
    const uint8_t *p = in;
    for (size_t i = 0; i < n; i++) out[i] = g_f16_table[p[2 * i] | (uint32_t)p[2 * i + 1] << 8];
}

void kz__bf16_to_f32_n(const void *in, float *out, size_t n) {
    const uint8_t *p = in;
    uint32_t *o = (uint32_t *)out;
    for (size_t i = 0; i < n; i++) o[i] = ((uint32_t)p[2 * i] | (uint32_t)p[2 * i + 1] << 8) << 16;
}
