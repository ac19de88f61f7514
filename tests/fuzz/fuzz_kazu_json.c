/* Fuzz target: kz_doc_from_kazu_json. Every document it accepts must serialise,
 * read back, and serialise to the same bytes (escaped and unescaped). */
#include <stdlib.h>
#include <string.h>
#include "kazu/kazu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Serialise, re-read, re-serialise: the two texts must match. */
static void round_trip(const kz_doc *doc, bool ascii, bool omit) {
    kz_writer_params p = kz_writer_default_params();
    p.ascii_only = ascii;
    p.omit_linking_candidates = omit;
    char *a, *b;
    size_t na, nb;
    kz_doc *again;
    kz_error e;
    if (kz_doc_to_kazu_json(doc, &p, &a, &na) || strlen(a) != na) abort();
    if (kz_doc_from_kazu_json(a, na, &again, &e)) abort();
    if (kz_doc_to_kazu_json(again, &p, &b, &nb) || na != nb || memcmp(a, b, na)) abort();
    kz_doc_free(again);
    free(a);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    kz_doc *doc;
    kz_error e;
    int rc = kz_doc_from_kazu_json((const char *)data, size, &doc, &e);
    if (rc) {
        if (doc || !e.msg[0] || e.code != rc) abort(); /* an error always says what */
        return 0;
    }
    round_trip(doc, true, false);
    round_trip(doc, false, false);
    round_trip(doc, true, true);
    kz_doc_free(doc);
    return 0;
}
