/* pytorch_model.bin (torch.save's zip format, torch >= 1.6): <dir>/data.pkl
 * holds the pickled state_dict (read by pickle.c, which never executes
 * anything), <dir>/data/<key> the raw little-endian storages. Read via libzip. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>
#include "nn/load_int.h"

typedef struct zip_ctx {
    zip_t *za;
    char prefix[256]; /* "archive" */
} zip_ctx;

/* Read entry idx whole into a malloc'd buffer of exactly `size` bytes. */
static int read_entry(zip_t *za, zip_uint64_t idx, uint64_t size, void **out, const char *what,
                      kz_error *err) {
    void *buf = malloc(size ? (size_t)size : 1);
    if (!buf)
        return kz_error_set(err, KZ_ENOMEM, "out of memory reading %s (%llu bytes)", what,
                            (unsigned long long)size);
    zip_file_t *zf = zip_fopen_index(za, idx, 0);
    if (!zf) {
        free(buf);
        return kz_error_set(err, KZ_EFORMAT, "cannot open %s in the zip: %s", what, zip_strerror(za));
    }
    uint64_t got = 0;
    while (got < size) {
        zip_int64_t r = zip_fread(zf, (char *)buf + got, size - got);
        if (r < 0) {
            int rc = kz_error_set(err, KZ_EFORMAT, "reading %s: %s", what, zip_file_strerror(zf));
            zip_fclose(zf);
            free(buf);
            return rc;
        }
        if (r == 0) break;
        got += (uint64_t)r;
    }
    char extra;
    zip_int64_t more = got == size ? zip_fread(zf, &extra, 1) : 0;
    int cl = zip_fclose(zf);
    if (got != size || more != 0 || cl != 0) {
        free(buf);
        return kz_error_set(err, KZ_EFORMAT, "%s: size or checksum does not match the zip directory", what);
    }
    *out = buf;
    return 0;
}

int kz__torch_zip_storage(const void *zip_ctx_p, const char *key, uint64_t nbytes, void **out,
                          kz_error *err) {
    const zip_ctx *c = zip_ctx_p;
    char name[384];
    snprintf(name, sizeof name, "%s/data/%s", c->prefix, key);
    zip_int64_t idx = zip_name_locate(c->za, name, ZIP_FL_ENC_RAW);
    if (idx < 0) return kz_error_set(err, KZ_EFORMAT, "storage record '%s' is missing from the zip", name);
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(c->za, (zip_uint64_t)idx, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
        return kz_error_set(err, KZ_EFORMAT, "cannot stat '%s' in the zip", name);
    if (st.size != nbytes)
        return kz_error_set(err, KZ_EFORMAT, "storage '%s' has %llu bytes but data.pkl declares %llu", name,
                            (unsigned long long)st.size, (unsigned long long)nbytes);
    /* A deflated storage may not expand beyond 1024:1 (zip bombs). torch stores them uncompressed. */
    if ((st.valid & ZIP_STAT_COMP_SIZE) && st.comp_method != ZIP_CM_STORE &&
        st.size / 1024 > st.comp_size + 1024)
        return kz_error_set(err, KZ_ELIMIT, "storage '%s' claims an implausible compression ratio", name);
    return read_entry(c->za, (zip_uint64_t)idx, nbytes, out, name, err);
}

int kz__torch_zip_read(const char *path, kz_tensor_table *out, kz_error *err) {
    memset(out, 0, sizeof *out);
    if (err && !err->path[0]) kz__err_path(err, path);
    FILE *f = fopen(path, "rb");
    if (!f) return kz_error_set(err, KZ_EIO, "cannot open: %s", strerror(errno));
    unsigned char magic[4] = {0};
    size_t got = fread(magic, 1, 4, f);
    fclose(f);
    if (got >= 2 && magic[0] == 0x80 && magic[1] <= 5)
        return kz_error_set(err, KZ_EFORMAT,
                            "legacy (pre-1.6, non-zip) torch serialization is not supported: re-save it with "
                            "torch >= 1.6 or as model.safetensors");
    if (got < 4 || memcmp(magic, "PK\x03\x04", 4) != 0)
        return kz_error_set(err, KZ_EFORMAT, "not a torch zip checkpoint (no zip signature)");
    int zerr = 0;
    zip_ctx c;
    memset(&c, 0, sizeof c);
    c.za = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
    if (!c.za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        int rc = kz_error_set(err, KZ_EFORMAT, "unreadable zip: %s", zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return rc;
    }
    int rc = 0;
    void *pkl = NULL;
    zip_int64_t n = zip_get_num_entries(c.za, 0), pkl_idx = -1;
    /* data.pkl one folder deep; that folder's name varies (archive, the file's stem, ...). */
    for (zip_int64_t i = 0; i < n; i++) {
        const char *nm = zip_get_name(c.za, (zip_uint64_t)i, ZIP_FL_ENC_RAW);
        if (!nm) continue;
        const char *slash = strchr(nm, '/');
        if (!slash || strcmp(slash, "/data.pkl") != 0) continue;
        if (pkl_idx >= 0) {
            rc = kz_error_set(err, KZ_EFORMAT, "more than one data.pkl in the zip");
            goto done;
        }
        if ((size_t)(slash - nm) >= sizeof c.prefix || slash == nm) {
            rc = kz_error_set(err, KZ_EFORMAT, "bad archive folder name");
            goto done;
        }
        memcpy(c.prefix, nm, (size_t)(slash - nm));
        c.prefix[slash - nm] = 0;
        pkl_idx = i;
    }
    if (pkl_idx < 0) {
        rc = kz_error_set(err, KZ_EFORMAT, "no <folder>/data.pkl in the zip: not a torch checkpoint");
        goto done;
    }
    char name[384];
    snprintf(name, sizeof name, "%s/byteorder", c.prefix);
    zip_int64_t bo = zip_name_locate(c.za, name, ZIP_FL_ENC_RAW);
    if (bo >= 0) {
        void *b = NULL;
        zip_stat_t st;
        zip_stat_init(&st);
        if (zip_stat_index(c.za, (zip_uint64_t)bo, 0, &st) != 0 || st.size > 16) {
            rc = kz_error_set(err, KZ_EFORMAT, "bad byteorder record");
            goto done;
        }
        if ((rc = read_entry(c.za, (zip_uint64_t)bo, st.size, &b, "byteorder", err))) goto done;
        bool little = st.size >= 6 && memcmp(b, "little", 6) == 0;
        free(b);
        if (!little) {
            rc = kz_error_set(err, KZ_EFORMAT, "big-endian torch checkpoint: not supported");
            goto done;
        }
    }
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(c.za, (zip_uint64_t)pkl_idx, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE)) {
        rc = kz_error_set(err, KZ_EFORMAT, "cannot stat data.pkl");
        goto done;
    }
    if (st.size > KZ_PKL_MAX_BYTES) {
        rc = kz_error_set(err, KZ_ELIMIT, "data.pkl has %llu bytes (limit %u)", (unsigned long long)st.size,
                          KZ_PKL_MAX_BYTES);
        goto done;
    }
    if ((rc = read_entry(c.za, (zip_uint64_t)pkl_idx, st.size, &pkl, "data.pkl", err))) goto done;
    rc = kz__torch_pickle_read_mem(pkl, (size_t)st.size, &c, out, err);
done:
    free(pkl);
    zip_discard(c.za);
    return rc;
}
