/* SHA-256 over OpenSSL's EVP interface: content hashes of recipes and inputs,
 * and the pack's body checksum. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>
#include "kb/kb_int.h"

struct kz_sha256 {
    EVP_MD_CTX *ctx;
};

kz_sha256 *kz__sha256_new(void) {
    kz_sha256 *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->ctx = EVP_MD_CTX_new();
    if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(h->ctx);
        free(h);
        return NULL;
    }
    return h;
}

void kz__sha256_update(kz_sha256 *h, const void *data, size_t len) {
    if (h && len) EVP_DigestUpdate(h->ctx, data, len);
}

void kz__sha256_final(kz_sha256 *h, uint8_t out[32]) {
    unsigned int n = 0;
    if (!h) {
        memset(out, 0, 32);
        return;
    }
    EVP_DigestFinal_ex(h->ctx, out, &n);
    EVP_MD_CTX_free(h->ctx);
    free(h);
}

int kz__sha256_file(const char *path, uint8_t out[32], kz_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return kz_error_set(err, KZ_EIO, "cannot open %s: %s", path, strerror(errno));
    kz_sha256 *h = kz__sha256_new();
    if (!h) {
        fclose(f);
        return kz_error_set(err, KZ_ENOMEM, "sha256 context");
    }
    static __thread unsigned char buf[1 << 16];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) kz__sha256_update(h, buf, n);
    int bad = ferror(f);
    fclose(f);
    kz__sha256_final(h, out);
    if (bad) return kz_error_set(err, KZ_EIO, "read error on %s", path);
    return 0;
}

void kz__hex(const uint8_t *bytes, size_t n, char *out) {
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[bytes[i] >> 4];
        out[2 * i + 1] = d[bytes[i] & 15];
    }
    out[2 * n] = 0;
}
