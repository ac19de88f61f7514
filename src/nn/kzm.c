/* .kzm: kazu-c's own BERT file. A fixed 128-byte header, the JSON header
 * (config, tokenizer options, storage), the vocabulary, a tensor directory and
 * 64-byte aligned data that is used in place from a read-only mapping. The
 * writer is deterministic. Layout byte by byte: docs/nn-model-files.md. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "kb/kb_int.h"
#include "nn/load_int.h"

/* Fixed header fields (little-endian). */
enum {
    H_MAGIC = 0,      /* 8 bytes */
    H_VERSION = 8,    /* u32 */
    H_FLAGS = 12,     /* u32, 0 */
    H_FILE_LEN = 16,  /* u64 */
    H_JSON_LEN = 24,  /* u32 */
    H_N_TENSORS = 28, /* u32 */
    H_VOCAB_LEN = 32, /* u64 */
    H_NAMES_LEN = 40, /* u64 */
    H_DIR_OFF = 48,   /* u64 */
    H_DATA_OFF = 56,  /* u64 */
    H_DATA_LEN = 64,  /* u64 */
    H_RESERVED = 72,  /* 24 zero bytes */
    H_SHA = 96        /* 32 bytes: SHA-256 of [128, data_off) */
};
/* Directory entry fields. */
enum {
    D_NAME_OFF = 0,
    D_NAME_LEN = 4,
    D_DTYPE = 6,
    D_NDIM = 7,
    D_SHAPE = 8,
    D_OFF = 40,
    D_NBYTES = 48,
    D_SCALES = 56
};

static uint64_t rd(const uint8_t *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;) v = (v << 8) | p[i];
    return v;
}

static void wr(uint8_t *p, uint64_t v, size_t n) {
    for (size_t i = 0; i < n; i++, v >>= 8) p[i] = (uint8_t)v;
}

static uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

typedef struct kzm_fixed {
    uint32_t json_len, n_tensors;
    uint64_t vocab_len, names_len, dir_off, data_off, data_len;
} kzm_fixed;

/* Everything about the fixed header except the checksum. */
static int check_fixed(const uint8_t *d, size_t len, kzm_fixed *f, kz_error *err) {
    if (len < KZM_FIXED)
        return kz_error_set(err, len >= 8 && memcmp(d, KZM_MAGIC, 8) == 0 ? KZ_EPARSE : KZ_EFORMAT,
                            "not a .kzm file or truncated: %zu bytes, the fixed header alone is %u", len,
                            KZM_FIXED);
    if (memcmp(d, KZM_MAGIC, 8) != 0) return kz_error_set(err, KZ_EFORMAT, "not a .kzm file (bad magic)");
    uint32_t ver = (uint32_t)rd(d + H_VERSION, 4);
    if (ver != KZM_VERSION)
        return kz_error_set(err, KZ_EFORMAT, ".kzm version %u is not supported (this build reads version %u)",
                            ver, KZM_VERSION);
    if (rd(d + H_FLAGS, 4) != 0)
        return kz_error_set(err, KZ_EFORMAT, "unknown .kzm flags 0x%llx",
                            (unsigned long long)rd(d + H_FLAGS, 4));
    uint64_t flen = rd(d + H_FILE_LEN, 8);
    if (flen != len)
        return kz_error_set(err, KZ_EPARSE,
                            "the file has %zu bytes but its header says %llu (truncated or extended)", len,
                            (unsigned long long)flen);
    for (int i = H_RESERVED; i < H_SHA; i++)
        if (d[i]) return kz_error_set(err, KZ_EFORMAT, "reserved header byte %d is not zero", i);
    f->json_len = (uint32_t)rd(d + H_JSON_LEN, 4);
    f->n_tensors = (uint32_t)rd(d + H_N_TENSORS, 4);
    f->vocab_len = rd(d + H_VOCAB_LEN, 8);
    f->names_len = rd(d + H_NAMES_LEN, 8);
    f->dir_off = rd(d + H_DIR_OFF, 8);
    f->data_off = rd(d + H_DATA_OFF, 8);
    f->data_len = rd(d + H_DATA_LEN, 8);
    if (f->json_len < 2 || f->json_len > KZM_MAX_HEADER)
        return kz_error_set(err, KZ_ELIMIT, "JSON header of %u bytes (2..%u allowed)", f->json_len,
                            KZM_MAX_HEADER);
    if (f->n_tensors > KZ_NN_MAX_TENSORS)
        return kz_error_set(err, KZ_ELIMIT, "%u tensors (limit %u)", f->n_tensors, KZ_NN_MAX_TENSORS);
    if (f->vocab_len > KZ_NN_MAX_VOCAB_BYTES)
        return kz_error_set(err, KZ_ELIMIT, "vocabulary of %llu bytes (limit %u)",
                            (unsigned long long)f->vocab_len, KZ_NN_MAX_VOCAB_BYTES);
    if (f->names_len > KZM_MAX_NAMES)
        return kz_error_set(err, KZ_ELIMIT, "name table of %llu bytes (limit %u)",
                            (unsigned long long)f->names_len, KZM_MAX_NAMES);
    /* The layout is canonical: every offset follows from the lengths (all capped, no overflow). */
    uint64_t dir = align_up(KZM_FIXED + (uint64_t)f->json_len + f->vocab_len + f->names_len, 8);
    uint64_t data = align_up(dir + (uint64_t)f->n_tensors * KZM_DIR_ENTRY, KZM_ALIGN);
    if (f->dir_off != dir || f->data_off != data)
        return kz_error_set(err, KZ_EPARSE,
                            "directory/data offsets %llu/%llu do not follow from the lengths (%llu/%llu)",
                            (unsigned long long)f->dir_off, (unsigned long long)f->data_off,
                            (unsigned long long)dir, (unsigned long long)data);
    if (data > len || f->data_len != len - data)
        return kz_error_set(err, KZ_EPARSE, "data section [%llu, +%llu) does not end at the file's end (%zu)",
                            (unsigned long long)data, (unsigned long long)f->data_len, len);
    return 0;
}

void kz__kzm_header_hash(const void *data, size_t len, uint8_t out[32]) {
    const uint8_t *d = data;
    uint64_t end = len >= KZM_FIXED ? rd(d + H_DATA_OFF, 8) : 0;
    if (end > len) end = len;
    kz_sha256 *h = kz__sha256_new();
    if (end > KZM_FIXED) kz__sha256_update(h, d + KZM_FIXED, (size_t)(end - KZM_FIXED));
    kz__sha256_final(h, out);
}

static int parse_json(const uint8_t *d, const kzm_fixed *f, json_t **out, kz_error *err) {
    json_error_t je;
    json_t *j = json_loadb((const char *)d + KZM_FIXED, f->json_len, JSON_REJECT_DUPLICATES, &je);
    if (!j) {
        if (err) err->offset = KZM_FIXED + (je.position > 0 ? je.position : 0);
        return kz_error_set(err, KZ_EPARSE, "JSON header: %s", je.text);
    }
    const char *fmt = json_string_value(json_object_get(j, "format"));
    if (!json_is_object(j) || !fmt || strcmp(fmt, KZM_FORMAT_NAME) != 0) {
        json_decref(j);
        return kz_error_set(err, KZ_EFORMAT, "JSON header is not a %s header", KZM_FORMAT_NAME);
    }
    *out = j;
    return 0;
}

/* Directory -> tensor table aliasing d. */
static int read_dir(const uint8_t *d, const kzm_fixed *f, kz_tensor_table *tt, kz_error *err) {
    const uint8_t *names = d + KZM_FIXED + f->json_len + f->vocab_len;
    const uint8_t *data = d + f->data_off;
    uint64_t at = 0; /* end of the previous tensor's bytes */
    for (uint32_t i = 0; i < f->n_tensors; i++) {
        const uint8_t *e = d + f->dir_off + (uint64_t)i * KZM_DIR_ENTRY;
        uint64_t noff = rd(e + D_NAME_OFF, 4), nlen = rd(e + D_NAME_LEN, 2);
        unsigned dt = e[D_DTYPE], nd = e[D_NDIM];
        if (nlen == 0 || nlen > KZ_NN_MAX_NAME || noff > f->names_len || nlen > f->names_len - noff ||
            memchr(names + noff, 0, (size_t)nlen))
            return kz_error_set(err, KZ_EPARSE, "directory entry %u: bad name reference", i);
        char name[KZ_NN_MAX_NAME + 1];
        memcpy(name, names + noff, (size_t)nlen);
        name[nlen] = 0;
        if (dt >= KZ_DT_COUNT)
            return kz_error_set(err, KZ_EFORMAT, "tensor '%s': unknown dtype code %u", name, dt);
        if (nd < 1 || nd > KZ_TENSOR_MAX_DIMS)
            return kz_error_set(err, KZ_EPARSE, "tensor '%s': %u dimensions (1..%d)", name, nd,
                                KZ_TENSOR_MAX_DIMS);
        int64_t shape[KZ_TENSOR_MAX_DIMS];
        for (unsigned k = 0; k < KZ_TENSOR_MAX_DIMS; k++) {
            uint64_t v = rd(e + D_SHAPE + 8 * k, 8);
            if ((k >= nd && v) || v > (uint64_t)KZ_NN_MAX_DIM)
                return kz_error_set(err, KZ_EPARSE, "tensor '%s': bad dimension %u", name, k);
            shape[k] = (int64_t)v;
        }
        uint64_t numel, off = rd(e + D_OFF, 8), nbytes = rd(e + D_NBYTES, 8), soff = rd(e + D_SCALES, 8);
        if (!kz__shape_numel(shape, nd, &numel) || numel * kz__dtype_size((kz_dtype)dt) != nbytes)
            return kz_error_set(err, KZ_EPARSE, "tensor '%s': %llu bytes do not match its shape", name,
                                (unsigned long long)nbytes);
        if (off % KZM_ALIGN || off < at || off > f->data_len || nbytes > f->data_len - off)
            return kz_error_set(err, KZ_EPARSE,
                                "tensor '%s': data [%llu, +%llu) misaligned, overlapping or past the "
                                "%llu data bytes",
                                name, (unsigned long long)off, (unsigned long long)nbytes,
                                (unsigned long long)f->data_len);
        at = off + nbytes;
        const float *scales = NULL;
        if (dt == KZ_DT_I8) {
            uint64_t sb = (uint64_t)shape[0] * 4;
            if (nd != 2 || soff % KZM_ALIGN || soff < at || soff > f->data_len || sb > f->data_len - soff)
                return kz_error_set(err, KZ_EPARSE, "tensor '%s': bad int8 scale table", name);
            scales = (const float *)(data + soff);
            at = soff + sb;
        } else if (soff) {
            return kz_error_set(err, KZ_EPARSE, "tensor '%s': scale table on a non-int8 tensor", name);
        }
        kz_tensor *t = kz__tensor_table_add(tt, name, (size_t)nlen);
        if (!t) return kz_error_set(err, KZ_ENOMEM, "out of memory");
        t->dtype = (kz_dtype)dt;
        t->ndim = nd;
        memcpy(t->shape, shape, sizeof shape);
        t->data = data + off;
        t->nbytes = (size_t)nbytes;
        t->scales = scales;
    }
    return 0;
}

/* Takes the mapping (map/map_len, may be NULL) in every case. */
static int kzm_parse(const uint8_t *d, size_t len, void *map, size_t map_len, kz_bert **out, kz_error *err) {
    *out = NULL;
    kzm_fixed f;
    json_t *j = NULL;
    kz_tensor_table tt;
    memset(&tt, 0, sizeof tt);
    tt.map = map;
    tt.map_len = map_len;
    kz_bert_config cfg;
    memset(&cfg, 0, sizeof cfg);
    kz_tok_spec tok;
    kz__tok_spec_default(&tok);
    kz_bert *m = NULL;
    kz_precision storage = KZ_PREC_FP32;
    int rc = check_fixed(d, len, &f, err);
    if (rc) goto fail;
    uint8_t sha[32];
    kz__kzm_header_hash(d, len, sha);
    if (memcmp(sha, d + H_SHA, 32) != 0) {
        rc = kz_error_set(err, KZ_EPARSE, "header checksum mismatch: the file is corrupted");
        goto fail;
    }
    if ((rc = parse_json(d, &f, &j, err))) goto fail;
    const char *st = json_string_value(json_object_get(j, "storage"));
    if (!st || kz_precision_parse(st, &storage) != 0) {
        rc = kz_error_set(err, KZ_EFORMAT, "JSON header: unknown storage '%.20s'", st ? st : "(none)");
        goto fail;
    }
    json_t *tj = json_object_get(j, "tokenizer");
    bool has_tok = tj && !json_is_null(tj);
    if (has_tok != (f.vocab_len > 0)) {
        rc = kz_error_set(err, KZ_EPARSE, "tokenizer options and vocabulary must come together");
        goto fail;
    }
    if (has_tok && (rc = kz__tok_spec_from_json(tj, NULL, &tok, err))) goto fail;
    if ((rc = kz__bert_config_from_json(json_object_get(j, "config"), NULL, &cfg, err))) goto fail;
    if ((rc = read_dir(d, &f, &tt, err))) goto fail;
    rc = kz__bert_from_tensors(&cfg, &tt, &m, err); /* takes tt (and the mapping) */
    if (rc) goto fail;
    if (m->stored != storage) {
        rc = kz_error_set(err, KZ_EFORMAT, "header says storage %s but the weights are %s",
                          kz_precision_name(storage), kz_precision_name(m->stored));
        goto fail;
    }
    kz_bert_x *x = kz__bert_x(m);
    x->format = "kzm";
    x->file_bytes = len;
    kz__tok_spec_free(&x->tok);
    x->tok = tok;
    kz__tok_spec_default(&tok);
    x->have_tok = has_tok;
    if (has_tok) {
        x->vocab = (const char *)d + KZM_FIXED + f.json_len;
        x->vocab_len = (size_t)f.vocab_len;
    }
    if ((rc = kz__bert_attach_tokenizer(x, NULL, err))) goto fail;
    json_decref(j);
    *out = m;
    return 0;
fail:
    json_decref(j);
    kz__bert_config_free(&cfg);
    kz__tok_spec_free(&tok);
    kz__tensor_table_free(&tt); /* unmaps when the model never took it */
    kz_bert_free(m);
    return rc;
}

int kz__kzm_read_mem(const void *data, size_t len, kz_bert **out, kz_error *err) {
    return kzm_parse(data, len, NULL, 0, out, err);
}

static int map_file(const char *path, void **map, size_t *len, kz_error *err) {
    *map = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return kz_error_set(err, KZ_EIO, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return kz_error_set(err, KZ_EIO, "not a regular file");
    }
    if (st.st_size < (off_t)KZM_FIXED) {
        close(fd);
        return kz_error_set(err, KZ_EPARSE, "truncated: %lld bytes, the fixed header alone is %u",
                            (long long)st.st_size, KZM_FIXED);
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED) return kz_error_set(err, KZ_EIO, "mmap: %s", strerror(e));
    *map = p;
    *len = (size_t)st.st_size;
    return 0;
}

int kz__kzm_read(const char *path, kz_bert **out, kz_error *err) {
    *out = NULL;
    if (err) kz__err_path(err, path);
    void *map;
    size_t len;
    int rc = map_file(path, &map, &len, err);
    if (rc) return rc;
    rc = kzm_parse(map, len, map, len, out, err);
    if (!rc) {
        const char *b = strrchr(path, '/');
        snprintf(kz__bert_x(*out)->file, sizeof kz__bert_x(*out)->file, "%s", b ? b + 1 : path);
    }
    return rc;
}

int kz__kzm_verify_mem(const void *data, size_t len, kz_error *err) {
    const uint8_t *d = data;
    kzm_fixed f;
    json_t *j = NULL;
    int rc = check_fixed(d, len, &f, err);
    if (rc) return rc;
    uint8_t sha[32];
    char hex[65];
    kz__kzm_header_hash(d, len, sha);
    if (memcmp(sha, d + H_SHA, 32) != 0) return kz_error_set(err, KZ_EPARSE, "header checksum mismatch");
    if ((rc = parse_json(d, &f, &j, err))) return rc;
    const char *want = json_string_value(json_object_get(j, "data_sha256"));
    kz_sha256 *h = kz__sha256_new();
    if (!h) {
        json_decref(j);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    kz__sha256_update(h, d + f.data_off, (size_t)f.data_len);
    kz__sha256_final(h, sha);
    kz__hex(sha, 32, hex);
    if (!want || strcmp(want, hex) != 0)
        rc = kz_error_set(err, KZ_EPARSE, "data checksum mismatch: the weights are corrupted");
    json_decref(j);
    return rc;
}

int kz_bert_verify_file(const char *path, kz_error *err) {
    if (err) kz__err_path(err, path);
    void *map;
    size_t len;
    int rc = map_file(path, &map, &len, err);
    if (rc) return rc;
    rc = kz__kzm_verify_mem(map, len, err);
    munmap(map, len);
    return rc;
}

/* ---- writer ---------------------------------------------------------------------- */
typedef enum { K_EMB, K_DENSE, K_SMALL } tkind;

typedef struct wt {
    char name[96];
    tkind kind;
    uint32_t ndim;
    int64_t shape[2];
    const float *f32;
    const kz_bert_linear *lin; /* DENSE: for reusing int8 copies */
    kz_dtype dtype;
    uint64_t off, nbytes, soff;
} wt;

static void add_wt(wt *v, size_t *n, const char *name, tkind k, const float *p, int64_t d0, int64_t d1,
                   const kz_bert_linear *lin) {
    wt *t = &v[(*n)++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->kind = k;
    t->f32 = p;
    t->ndim = d1 ? 2 : 1;
    t->shape[0] = d0;
    t->shape[1] = d1;
    t->lin = lin;
}

static int write_all(int fd, const void *p, size_t n) {
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

static int pwrite_all(int fd, const void *p, size_t n, off_t at) {
    const uint8_t *b = p;
    while (n) {
        ssize_t w = pwrite(fd, b, n, at);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        b += w;
        n -= (size_t)w;
        at += w;
    }
    return 0;
}

/* Per-row symmetric int8: scale = max|row| / 127, q = round(w / scale). */
static void quantise(const float *w, uint64_t rows, uint64_t cols, int8_t *q, float *scales) {
    for (uint64_t r = 0; r < rows; r++) {
        const float *row = w + r * cols;
        float mx = 0;
        for (uint64_t c = 0; c < cols; c++) mx = fmaxf(mx, fabsf(row[c]));
        float s = mx > 0 && isfinite(mx) ? mx / 127.0f : 1.0f;
        scales[r] = s;
        for (uint64_t c = 0; c < cols; c++) {
            float v = nearbyintf(row[c] / s);
            q[r * cols + c] = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
        }
    }
}

/* Convert tensor t to its stored bytes in buf (sized for it); scales into sbuf. */
static int encode(const wt *t, void *buf, float *sbuf, kz_error *err) {
    uint64_t n = (uint64_t)t->shape[0] * (uint64_t)(t->ndim == 2 ? t->shape[1] : 1);
    switch (t->dtype) {
    case KZ_DT_F32: memcpy(buf, t->f32, (size_t)n * 4); return 0;
    case KZ_DT_BF16:
        for (uint64_t i = 0; i < n; i++) ((uint16_t *)buf)[i] = kz__f32_to_bf16(t->f32[i]);
        return 0;
    case KZ_DT_F16:
        for (uint64_t i = 0; i < n; i++) {
            uint16_t h = kz__f32_to_f16(t->f32[i]);
            if ((h & 0x7c00u) == 0x7c00u && isfinite(t->f32[i]))
                return kz_error_set(err, KZ_ERANGE, "tensor '%s' holds %g, beyond fp16's range", t->name,
                                    (double)t->f32[i]);
            ((uint16_t *)buf)[i] = h;
        }
        return 0;
    case KZ_DT_I8:
        if (t->lin && t->lin->w_q8 && t->lin->w_q8_scale) { /* already quantised: keep it exactly */
            memcpy(buf, t->lin->w_q8, (size_t)n);
            memcpy(sbuf, t->lin->w_q8_scale, (size_t)t->shape[0] * 4);
        } else {
            quantise(t->f32, (uint64_t)t->shape[0], (uint64_t)t->shape[1], buf, sbuf);
        }
        return 0;
    default: return kz_error_set(err, KZ_EINVAL, "internal: bad dtype");
    }
}

static json_t *source_json(const kz_bert_x *x) {
    return json_pack("{s:s, s:s, s:I}", "format", x->format ? x->format : "memory", "file", x->file, "bytes",
                     (json_int_t)x->file_bytes);
}

int kz_bert_save(const kz_bert *m, const char *path, kz_precision storage, kz_error *err) {
    if (err) kz__err_path(err, path ? path : "");
    if (!m || !path) return kz_error_set(err, KZ_EINVAL, "kz_bert_save: NULL model or path");
    if (storage != KZ_PREC_FP32 && storage != KZ_PREC_FP16 && storage != KZ_PREC_BF16 &&
        storage != KZ_PREC_INT8)
        return kz_error_set(err, KZ_EINVAL, "unknown storage precision %d", (int)storage);
    const kz_bert_x *x = kz__bert_cx(m);
    const kz_bert_config *c = &m->cfg;
    const uint32_t H = c->hidden, I = c->intermediate;
    size_t cap = 5 + (size_t)16 * c->layers + 2, n = 0;
    wt *ts = calloc(cap, sizeof *ts);
    uint8_t *meta = NULL, *buf = NULL;
    float *sbuf = NULL;
    json_t *j = NULL;
    char *js = NULL, *tmp = NULL;
    int fd = -1, rc = 0;
    kz_sha256 *h = NULL;
    if (!ts) return kz_error_set(err, KZ_ENOMEM, "out of memory");

    add_wt(ts, &n, "embeddings.word_embeddings.weight", K_EMB, m->word_emb, c->vocab_size, H, NULL);
    add_wt(ts, &n, "embeddings.position_embeddings.weight", K_EMB, m->pos_emb, c->max_positions, H, NULL);
    add_wt(ts, &n, "embeddings.token_type_embeddings.weight", K_EMB, m->type_emb, c->type_vocab, H, NULL);
    add_wt(ts, &n, "embeddings.LayerNorm.weight", K_SMALL, m->emb_ln_g, H, 0, NULL);
    add_wt(ts, &n, "embeddings.LayerNorm.bias", K_SMALL, m->emb_ln_b, H, 0, NULL);
    for (uint32_t l = 0; l < c->layers; l++) {
        const kz_bert_layer *ly = &m->layers[l];
        const struct {
            const char *sfx;
            const kz_bert_linear *lin;
            const float *p;
            int64_t d0, d1;
        } parts[16] = {
            {"attention.self.query.weight", &ly->q, ly->q.w, H, H},
            {"attention.self.query.bias", NULL, ly->q.b, H, 0},
            {"attention.self.key.weight", &ly->k, ly->k.w, H, H},
            {"attention.self.key.bias", NULL, ly->k.b, H, 0},
            {"attention.self.value.weight", &ly->v, ly->v.w, H, H},
            {"attention.self.value.bias", NULL, ly->v.b, H, 0},
            {"attention.output.dense.weight", &ly->attn_out, ly->attn_out.w, H, H},
            {"attention.output.dense.bias", NULL, ly->attn_out.b, H, 0},
            {"attention.output.LayerNorm.weight", NULL, ly->ln1_g, H, 0},
            {"attention.output.LayerNorm.bias", NULL, ly->ln1_b, H, 0},
            {"intermediate.dense.weight", &ly->ffn_in, ly->ffn_in.w, I, H},
            {"intermediate.dense.bias", NULL, ly->ffn_in.b, I, 0},
            {"output.dense.weight", &ly->ffn_out, ly->ffn_out.w, H, I},
            {"output.dense.bias", NULL, ly->ffn_out.b, H, 0},
            {"output.LayerNorm.weight", NULL, ly->ln2_g, H, 0},
            {"output.LayerNorm.bias", NULL, ly->ln2_b, H, 0},
        };
        for (int i = 0; i < 16; i++) {
            char nm[96];
            snprintf(nm, sizeof nm, "encoder.layer.%u.%s", l, parts[i].sfx);
            add_wt(ts, &n, nm, parts[i].lin ? K_DENSE : K_SMALL, parts[i].p, parts[i].d0, parts[i].d1,
                   parts[i].lin);
        }
    }
    if (c->head == KZ_HEAD_TOKEN_CLS) {
        add_wt(ts, &n, "classifier.weight", K_DENSE, m->classifier.w, c->num_labels, H, &m->classifier);
        add_wt(ts, &n, "classifier.bias", K_SMALL, m->classifier.b, c->num_labels, 0, NULL);
    }

    /* dtypes and data offsets */
    uint64_t at = 0, biggest = 0, rows_max = 0, names_len = 0;
    for (size_t i = 0; i < n; i++) {
        wt *t = &ts[i];
        if (!t->f32) {
            rc = kz_error_set(err, KZ_EINVAL, "model has no data for '%s'", t->name);
            goto out;
        }
        t->dtype = KZ_DT_F32;
        if (t->kind == K_DENSE && storage == KZ_PREC_INT8) t->dtype = KZ_DT_I8;
        if (t->kind != K_SMALL && storage == KZ_PREC_FP16) t->dtype = KZ_DT_F16;
        if (t->kind != K_SMALL && storage == KZ_PREC_BF16) t->dtype = KZ_DT_BF16;
        uint64_t numel = (uint64_t)t->shape[0] * (uint64_t)(t->ndim == 2 ? t->shape[1] : 1);
        t->nbytes = numel * kz__dtype_size(t->dtype);
        t->off = align_up(at, KZM_ALIGN);
        at = t->off + t->nbytes;
        if (t->dtype == KZ_DT_I8) {
            t->soff = align_up(at, KZM_ALIGN);
            at = t->soff + (uint64_t)t->shape[0] * 4;
            rows_max = KZ_MAX(rows_max, (uint64_t)t->shape[0]);
        }
        biggest = KZ_MAX(biggest, t->nbytes);
        names_len += strlen(t->name);
    }
    uint64_t data_len = align_up(at, KZM_ALIGN);

    /* JSON header; the data checksum is patched in once the data is written. */
    static const char ZERO_SHA[] = "0000000000000000000000000000000000000000000000000000000000000000";
    /* The vocabulary travels only with a tokenizer built from it (an empty vocab.txt gives none). */
    bool has_vocab = x->vocab && x->vocab_len && m->tokenizer;
    j = json_object();
    if (!j || json_object_set_new(j, "config", kz__bert_config_to_json(c)) ||
        json_object_set_new(j, "tokenizer", has_vocab ? kz__tok_spec_to_json(&x->tok) : json_null()) ||
        json_object_set_new(j, "format", json_string(KZM_FORMAT_NAME)) ||
        json_object_set_new(j, "kazu_c_version", json_string(KZ_VERSION_STRING)) ||
        json_object_set_new(j, "storage", json_string(kz_precision_name(storage))) ||
        json_object_set_new(j, "source", source_json(x)) ||
        json_object_set_new(j, "data_sha256", json_string(ZERO_SHA)) ||
        !(js = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(9)))) {
        rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    size_t json_len = strlen(js);
    char *sha_at = strstr(js, ZERO_SHA);
    if (json_len > KZM_MAX_HEADER || names_len > KZM_MAX_NAMES || x->vocab_len > KZ_NN_MAX_VOCAB_BYTES ||
        !sha_at) {
        rc = kz_error_set(err, KZ_ELIMIT, "header, names or vocabulary too large for a .kzm");
        goto out;
    }
    uint64_t vocab_len = has_vocab ? x->vocab_len : 0;
    uint64_t dir_off = align_up(KZM_FIXED + json_len + vocab_len + names_len, 8);
    uint64_t data_off = align_up(dir_off + n * KZM_DIR_ENTRY, KZM_ALIGN);
    meta = calloc(1, (size_t)data_off);
    buf = malloc((size_t)KZ_MAX(biggest, 1));
    sbuf = malloc((size_t)KZ_MAX(rows_max, 1) * 4);
    if (!meta || !buf || !sbuf) {
        rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(meta + H_MAGIC, KZM_MAGIC, 8);
    wr(meta + H_VERSION, KZM_VERSION, 4);
    wr(meta + H_FILE_LEN, data_off + data_len, 8);
    wr(meta + H_JSON_LEN, json_len, 4);
    wr(meta + H_N_TENSORS, n, 4);
    wr(meta + H_VOCAB_LEN, vocab_len, 8);
    wr(meta + H_NAMES_LEN, names_len, 8);
    wr(meta + H_DIR_OFF, dir_off, 8);
    wr(meta + H_DATA_OFF, data_off, 8);
    wr(meta + H_DATA_LEN, data_len, 8);
    if (vocab_len) memcpy(meta + KZM_FIXED + json_len, x->vocab, (size_t)vocab_len);
    uint64_t noff = 0;
    uint8_t *names = meta + KZM_FIXED + json_len + vocab_len;
    for (size_t i = 0; i < n; i++) {
        const wt *t = &ts[i];
        uint8_t *e = meta + dir_off + i * KZM_DIR_ENTRY;
        size_t nl = strlen(t->name);
        memcpy(names + noff, t->name, nl);
        wr(e + D_NAME_OFF, noff, 4);
        wr(e + D_NAME_LEN, nl, 2);
        e[D_DTYPE] = (uint8_t)t->dtype;
        e[D_NDIM] = (uint8_t)t->ndim;
        for (uint32_t k = 0; k < t->ndim; k++) wr(e + D_SHAPE + 8 * k, (uint64_t)t->shape[k], 8);
        wr(e + D_OFF, t->off, 8);
        wr(e + D_NBYTES, t->nbytes, 8);
        wr(e + D_SCALES, t->soff, 8);
        noff += nl;
    }

    /* A temporary name beside the target (created with the usual 0666 & ~umask mode), renamed at the end. */
    size_t pl = strlen(path);
    tmp = malloc(pl + 48);
    if (!tmp) {
        rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    static unsigned counter;
    for (int attempt = 0; attempt < 100 && fd < 0; attempt++) {
        snprintf(tmp, pl + 48, "%s.tmp-%ld-%u", path, (long)getpid(),
                 __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        rc = kz_error_set(err, KZ_EIO, "cannot create %s: %s", tmp, strerror(errno));
        free(tmp);
        tmp = NULL;
        goto out;
    }
    /* Data first (hashed as written), then the patched header. */
    if (lseek(fd, (off_t)data_off, SEEK_SET) < 0) {
        rc = kz_error_set(err, KZ_EIO, "seek: %s", strerror(errno));
        goto out;
    }
    h = kz__sha256_new();
    if (!h) {
        rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    static const uint8_t zeros[KZM_ALIGN];
    uint64_t pos = 0;
#define EMIT(p, len)                                                                                         \
    do {                                                                                                     \
        kz__sha256_update(h, (p), (size_t)(len));                                                            \
        if (write_all(fd, (p), (size_t)(len))) {                                                             \
            rc = kz_error_set(err, KZ_EIO, "write: %s", strerror(errno));                                    \
            goto out;                                                                                        \
        }                                                                                                    \
        pos += (len);                                                                                        \
    } while (0)
    for (size_t i = 0; i < n; i++) {
        const wt *t = &ts[i];
        if ((rc = encode(t, buf, sbuf, err))) goto out;
        if (t->off > pos) EMIT(zeros, t->off - pos);
        EMIT(buf, t->nbytes);
        if (t->dtype == KZ_DT_I8) {
            if (t->soff > pos) EMIT(zeros, t->soff - pos);
            EMIT(sbuf, (uint64_t)t->shape[0] * 4);
        }
    }
    if (data_len > pos) EMIT(zeros, data_len - pos);
#undef EMIT
    uint8_t sha[32];
    char hex[65];
    kz__sha256_final(h, sha);
    h = NULL;
    kz__hex(sha, 32, hex);
    memcpy(sha_at, hex, 64);
    memcpy(meta + KZM_FIXED, js, json_len);
    kz__kzm_header_hash(meta, (size_t)data_off, sha);
    memcpy(meta + H_SHA, sha, 32);
    if (pwrite_all(fd, meta, (size_t)data_off, 0) || fsync(fd) != 0) {
        rc = kz_error_set(err, KZ_EIO, "write: %s", strerror(errno));
        goto out;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = kz_error_set(err, KZ_EIO, "close: %s", strerror(errno));
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        rc = kz_error_set(err, KZ_EIO, "rename to %s: %s", path, strerror(errno));
        goto out;
    }
    free(tmp);
    tmp = NULL;
out:
    if (h) {
        uint8_t unused[32];
        kz__sha256_final(h, unused);
    }
    if (fd >= 0) close(fd);
    if (tmp) {
        unlink(tmp);
        free(tmp);
    }
    free(ts);
    free(meta);
    free(buf);
    free(sbuf);
    free(js);
    json_decref(j);
    return rc;
}
