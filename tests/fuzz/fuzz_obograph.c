/* Fuzz target for the OBO Graphs JSON parser (streaming scanner + jansson per node). */
#include "fuzz_onto_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    kz_onto_spec sp;
    memset(&sp, 0, sizeof sp);
    sp.format = KZ_ONTO_OBOGRAPH_JSON;
    sp.path = "fuzz.json";
    sp.include_obsolete = (size & 1) != 0;
    uint64_t n = 0, nw = 0;
    kz_error err;
    int rc =
        kz__onto_parse_obograph_mem((const char *)data, size, &sp, fz_on_term, fz_on_warn, &n, &nw, &err);
    fz_check_rc(rc, &err);
    return 0;
}
