/* Fuzz target: the outside-data readers of `kazu kb download`: the download
 * manifest parser and the tar member extractor (first byte picks which). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#define KZ_KB_DOWNLOAD_NO_CLI
#include "../../apps/kazu/cmd_kb_download.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct mem_reader {
    const uint8_t *p;
    size_t left, step;
} mem_reader;

/* Short reads of varying length, as a decompressor gives them. */
static long mem_read(void *user, void *buf, size_t n) {
    mem_reader *m = user;
    size_t k = n < m->left ? n : m->left;
    if (k > m->step) k = m->step;
    memcpy(buf, m->p, k);
    m->p += k;
    m->left -= k;
    return (long)k;
}

static int count_write(void *user, const void *buf, size_t n) {
    (void)buf;
    *(uint64_t *)user += n;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const uint8_t *body = data + 1;
    size_t n = size - 1;
    char msg[512];
    if (data[0] & 1) {
        static const char *const wants[] = {"a/b.db", "chembl_35/chembl_35_sqlite/chembl_35.db", "x"};
        for (size_t w = 0; w < sizeof wants / sizeof wants[0]; w++) {
            mem_reader m = {body, n, (size_t)(data[0] >> 1) * 37 + 1};
            uint64_t written = 0, reported = 0;
            msg[0] = '\0';
            int rc = tar_extract(mem_read, &m, wants[w], count_write, &written, &reported, msg, sizeof msg);
            if (rc == 0 && (written != reported || written > n)) __builtin_trap();
            if (rc != 0 && !msg[0]) __builtin_trap();
        }
        return 0;
    }
    char *text = malloc(n + 1);
    if (!text) return 0;
    memcpy(text, body, n);
    text[n] = '\0';
    dl_manifest mf;
    if (dl_manifest_parse(text, n, &mf, msg, sizeof msg) == 0) {
        for (size_t i = 0; i < mf.n; i++) {
            const dl_entry *e = &mf.e[i];
            if (!safe_file_name(e->file) || !known_scheme(e->url) || !safe_entry_name(e->name))
                __builtin_trap();
            if (e->sha256[0] && !is_hex64(e->sha256)) __builtin_trap();
            if (e->dec == DL_TAR_GZ && (!e->member || !e->member[0])) __builtin_trap();
        }
    } else if (!msg[0]) {
        __builtin_trap();
    }
    free(mf.e);
    free(text);
    return 0;
}
