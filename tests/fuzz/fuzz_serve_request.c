/* Fuzz target: `kazu serve` request bodies (apps/kazu/serve_req.c, compiled in
 * here) and the responses built from them (serve_api.c). The first byte picks
 * the route shape and whether sections become linking-only entities; the rest
 * is the body. Accepted bodies must yield documents that serialise. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include "../../apps/kazu/serve_api.c"
#include "../../apps/kazu/serve_req.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!size) return 0;
    serve_shape shape = (serve_shape)(data[0] % 3);
    bool linking = data[0] & 4;
    serve_limits lim = {4096, 16};
    kz_doc **docs = NULL;
    size_t n = 0;
    bool list = false;
    char msg[640];
    int st =
        serve_parse_docs((const char *)data + 1, size - 1, shape, &lim, &docs, &n, &list, msg, sizeof msg);
    if (st) {
        if (docs || (st != 400 && st != 413 && st != 422) || !memchr(msg, 0, sizeof msg) || !msg[0]) abort();
        return 0;
    }
    if (n > 16 || (n && !docs)) abort();
    for (size_t i = 0; i < n; i++) {
        if (linking && serve_add_whole_section_entities(docs[i], "disease")) abort();
        sbuf b = {0};
        if (serve_ls_json(docs[i], &b) || !b.p) abort();
        sb_free(&b);
    }
    sbuf b = {0};
    if (serve_docs_json(docs, n, list, &b)) abort();
    if (n && !b.p) abort();
    sb_free(&b);
    serve_docs_free(docs, n);
    return 0;
}
