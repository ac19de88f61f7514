/* safetensors reader: 8-byte little-endian header length, a JSON header naming
 * every tensor's dtype, shape and byte range, then the data. Memory-mapped;
 * tensors alias the mapping when aligned for their dtype, else are copied. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "nn/load_int.h"

typedef struct st_ent {
    const char *name;
    kz_dtype dtype;
    uint32_t ndim;
    int64_t shape[KZ_TENSOR_MAX_DIMS];
    uint64_t begin, end;
} st_ent;

static int cmp_ent(const void *a, const void *b) {
    const st_ent *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* A JSON integer in [0, max]. */
static bool json_u64(const json_t *v, uint64_t max, uint64_t *out) {
    if (!json_is_integer(v)) return false;
    json_int_t i = json_integer_value(v);
    if (i < 0 || (uint64_t)i > max) return false;
    *out = (uint64_t)i;
    return true;
}

static int parse_entry(const char *name, json_t *v, uint64_t data_len, st_ent *e, kz_error *err) {
    if (!json_is_object(v))
        return kz_error_set(err, KZ_EPARSE, "safetensors: entry '%s' is not an object", name);
    json_t *dt = json_object_get(v, "dtype"), *shape = json_object_get(v, "shape"),
           *offs = json_object_get(v, "data_offsets");
    if (!json_is_string(dt) || !json_is_array(shape) || !json_is_array(offs))
        return kz_error_set(err, KZ_EPARSE,
                            "safetensors: tensor '%s' needs string dtype, array shape and "
                            "array data_offsets",
                            name);
    int rc = kz__dtype_parse(json_string_value(dt), &e->dtype);
    if (rc == KZ_EFORMAT)
        return kz_error_set(err, rc,
                            "safetensors: tensor '%s' has dtype %s, which kazu-c does not read "
                            "(F32, F16, BF16, I8, I64)",
                            name, json_string_value(dt));
    if (rc)
        return kz_error_set(err, rc, "safetensors: tensor '%s' has unknown dtype '%.40s'", name,
                            json_string_value(dt));
    size_t nd = json_array_size(shape);
    if (nd > KZ_TENSOR_MAX_DIMS)
        return kz_error_set(err, KZ_EFORMAT, "safetensors: tensor '%s' has %zu dimensions (at most %d)", name,
                            nd, KZ_TENSOR_MAX_DIMS);
    e->ndim = (uint32_t)nd;
    for (size_t i = 0; i < nd; i++) {
        uint64_t d;
        if (!json_u64(json_array_get(shape, i), (uint64_t)KZ_NN_MAX_DIM, &d))
            return kz_error_set(err, KZ_EPARSE, "safetensors: tensor '%s' has a bad shape (dimension %zu)",
                                name, i);
        e->shape[i] = (int64_t)d;
    }
    if (json_array_size(offs) != 2 || !json_u64(json_array_get(offs, 0), UINT64_MAX >> 1, &e->begin) ||
        !json_u64(json_array_get(offs, 1), UINT64_MAX >> 1, &e->end))
        return kz_error_set(err, KZ_EPARSE, "safetensors: tensor '%s' data_offsets must be [begin, end]",
                            name);
    if (e->begin > e->end || e->end > data_len)
        return kz_error_set(
            err, KZ_EPARSE,
            "safetensors: tensor '%s' data_offsets [%llu, %llu] lie outside the %llu data bytes", name,
            (unsigned long long)e->begin, (unsigned long long)e->end, (unsigned long long)data_len);
    uint64_t numel;
    char sb[96];
    if (!kz__shape_numel(e->shape, e->ndim, &numel))
        return kz_error_set(err, KZ_ELIMIT, "safetensors: tensor '%s' shape %s is too large", name,
                            kz__shape_str(e->shape, e->ndim, sb, sizeof sb));
    if (numel * kz__dtype_size(e->dtype) != e->end - e->begin)
        return kz_error_set(err, KZ_EPARSE,
                            "safetensors: tensor '%s' is %s %s = %llu bytes but its data_offsets "
                            "span %llu bytes",
                            name, json_string_value(dt), kz__shape_str(e->shape, e->ndim, sb, sizeof sb),
                            (unsigned long long)(numel * kz__dtype_size(e->dtype)),
                            (unsigned long long)(e->end - e->begin));
    e->name = name;
    return 0;
}

static int st_parse(const uint8_t *data, size_t len, kz_tensor_table *out, kz_error *err) {
    if (len < 8)
        return kz_error_set(err, KZ_EPARSE, "safetensors: truncated: %zu bytes, the header length alone is 8",
                            len);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | data[i];
    if (hlen > KZ_ST_MAX_HEADER)
        return kz_error_set(err, KZ_ELIMIT, "safetensors: header length %llu exceeds the %u-byte limit",
                            (unsigned long long)hlen, KZ_ST_MAX_HEADER);
    if (hlen > len - 8)
        return kz_error_set(err, KZ_EPARSE,
                            "safetensors: truncated: header of %llu bytes but only %zu follow",
                            (unsigned long long)hlen, len - 8);
    if (hlen < 2 || data[8] != '{')
        return kz_error_set(err, KZ_EPARSE, "safetensors: header does not start with '{'");
    json_error_t je;
    json_t *root = json_loadb((const char *)data + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        if (err) err->offset = 8 + (je.position > 0 ? je.position : 0);
        return kz_error_set(err, KZ_EPARSE, "safetensors: header JSON: %s", je.text);
    }
    int rc = 0;
    st_ent *ents = NULL;
    size_t n = 0, total = json_object_size(root);
    uint64_t data_len = len - 8 - hlen;
    const uint8_t *base = data + 8 + hlen;
    if (!json_is_object(root)) {
        rc = kz_error_set(err, KZ_EPARSE, "safetensors: header is not a JSON object");
        goto done;
    }
    if (total > KZ_NN_MAX_TENSORS + 1) {
        rc = kz_error_set(err, KZ_ELIMIT, "safetensors: %zu tensors (limit %u)", total, KZ_NN_MAX_TENSORS);
        goto done;
    }
    ents = calloc(total ? total : 1, sizeof *ents);
    if (!ents) {
        rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
        goto done;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (strcmp(key, "__metadata__") == 0) {
            const char *mk;
            json_t *mv;
            if (!json_is_object(v)) {
                rc = kz_error_set(err, KZ_EPARSE, "safetensors: __metadata__ is not an object");
                goto done;
            }
            json_object_foreach(v, mk, mv) {
                if (!json_is_string(mv)) {
                    rc = kz_error_set(err, KZ_EPARSE,
                                      "safetensors: __metadata__ value '%.100s' is not a string", mk);
                    goto done;
                }
            }
            continue;
        }
        size_t kl = strlen(key);
        if (kl == 0 || kl > KZ_NN_MAX_NAME) {
            rc = kz_error_set(err, KZ_EPARSE, "safetensors: tensor name of %zu bytes (1..%u allowed)", kl,
                              KZ_NN_MAX_NAME);
            goto done;
        }
        if ((rc = parse_entry(key, v, data_len, &ents[n], err))) goto done;
        n++;
    }
    /* As the reference implementation: the ranges tile the data section exactly. */
    qsort(ents, n, sizeof *ents, cmp_ent);
    uint64_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (ents[i].begin != at) {
            rc =
                ents[i].begin < at
                    ? kz_error_set(err, KZ_EPARSE, "safetensors: tensor '%s' bytes [%llu, %llu) overlap '%s'",
                                   ents[i].name, (unsigned long long)ents[i].begin,
                                   (unsigned long long)ents[i].end, ents[i - 1].name)
                    : kz_error_set(
                          err, KZ_EPARSE,
                          "safetensors: %llu unclaimed bytes before tensor '%s' (at data offset %llu)",
                          (unsigned long long)(ents[i].begin - at), ents[i].name, (unsigned long long)at);
            goto done;
        }
        at = ents[i].end;
    }
    if (at != data_len) {
        rc = kz_error_set(err, KZ_EPARSE,
                          "safetensors: the data section has %llu bytes but the tensors cover %llu",
                          (unsigned long long)data_len, (unsigned long long)at);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        st_ent *e = &ents[i];
        kz_tensor *t = kz__tensor_table_add(out, e->name, strlen(e->name));
        if (!t) {
            rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
            goto done;
        }
        t->dtype = e->dtype;
        t->ndim = e->ndim;
        memcpy(t->shape, e->shape, sizeof t->shape);
        t->nbytes = (size_t)(e->end - e->begin);
        const uint8_t *p = base + e->begin;
        size_t al = kz__dtype_size(e->dtype);
        if (((uintptr_t)p % al) == 0 || t->nbytes == 0) {
            t->data = p;
        } else { /* misaligned for its dtype: copy */
            void *c = malloc(t->nbytes);
            if (!c || kz__tensor_table_own(out, c)) {
                rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
                goto done;
            }
            memcpy(c, p, t->nbytes);
            t->data = c;
        }
    }
done:
    free(ents);
    json_decref(root);
    return rc;
}

int kz__safetensors_read_mem(const void *data, size_t len, kz_tensor_table *out, kz_error *err) {
    memset(out, 0, sizeof *out);
    int rc = st_parse(data, len, out, err);
    if (rc) kz__tensor_table_free(out);
    return rc;
}

int kz__safetensors_read(const char *path, kz_tensor_table *out, kz_error *err) {
    memset(out, 0, sizeof *out);
    if (err && !err->path[0]) kz__err_path(err, path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return kz_error_set(err, KZ_EIO, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return kz_error_set(err, KZ_EIO, "not a regular file");
    }
    size_t len = (size_t)st.st_size;
    void *map = NULL;
    if (len) {
        map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            int e = errno;
            close(fd);
            return kz_error_set(err, KZ_EIO, "mmap: %s", strerror(e));
        }
    }
    close(fd);
    int rc = st_parse(map ? map : "", len, out, err);
    out->map = map;
    out->map_len = len;
    if (rc) kz__tensor_table_free(out);
    return rc;
}
