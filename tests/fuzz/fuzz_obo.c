/* Fuzz target for the line-based ontology parsers: the input as an OBO flat
 * file (twice: plain, and with every filter on) and as cellosaurus.txt. */
#include "fuzz_onto_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    kz_onto_spec sp;
    memset(&sp, 0, sizeof sp);
    sp.format = KZ_ONTO_OBO;
    sp.path = "fuzz.obo";
    uint64_t n = 0, nw = 0;
    kz_error err;
    int rc = kz__onto_parse_obo_mem((const char *)data, size, &sp, fz_on_term, fz_on_warn, &n, &nw, &err);
    fz_check_rc(rc, &err);

    const char *ns[] = {"cell", "disease"}, *scopes[] = {"EXACT", "narrow"};
    sp.include_obsolete = true;
    sp.namespaces = ns;
    sp.n_namespaces = 2;
    sp.syn_scopes = scopes;
    sp.n_syn_scopes = 2;
    sp.id_regex = "^[A-Z]+:[0-9]+$";
    sp.id_prefix = "P/";
    uint64_t n2 = 0;
    rc = kz__onto_parse_obo_mem((const char *)data, size, &sp, fz_on_term, NULL, &n2, &nw, &err);
    fz_check_rc(rc, &err);

    memset(&sp, 0, sizeof sp);
    sp.format = KZ_ONTO_CELLOSAURUS;
    sp.path = "fuzz.txt";
    rc = kz__onto_parse_cellosaurus_mem((const char *)data, size, &sp, fz_on_term, fz_on_warn, &n, &nw, &err);
    fz_check_rc(rc, &err);
    return 0;
}
