/* Fuzz target for the R serialization reader behind format "rda-table": the input is an .rda/.rds
 * image (plain, gzip, bzip2 or xz), parsed from memory with an 8 MiB cap on the decompressed size,
 * once taking the first data.frame's first column as id, once with specData's columns. */
#include <stdlib.h>
#include "../../src/kb/kb_int.h" /* kb_int.h needs only public headers */
#include "kazu/utf8.h"

/* From src/kb/onto_tab_int.h (which needs the private include path). */
int kz__onto_parse_rda_mem(const void *data, size_t len, size_t max_raw, const kz_onto_spec *spec,
                           kz_onto_emit_fn emit, kz_onto_warn_fn warn, void *user, uint64_t *n_warnings,
                           kz_error *err);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(kz_str s) {
    if (s.ptr && !kz_utf8_valid(s.ptr, s.len, NULL)) abort();
}

static int on_term(void *user, const kz_onto_term *t) {
    (void)user;
    if (!t->id.ptr || !t->id.len) abort();
    check_str(t->id);
    check_str(t->label);
    for (uint32_t i = 0; i < t->n_syns; i++) check_str(t->syns[i].text);
    for (uint32_t i = 0; i < t->n_meta; i++) check_str(t->meta[i].value);
    return 0;
}

static void on_warn(void *user, const kz_error *w) {
    (void)user;
    if (!w->msg[0]) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    kz_onto_spec a = {.format = KZ_ONTO_RDA_TABLE, .path = "fuzz.rda"};
    const char *syns[] = {"species"}, *meta[] = {"rank", "note"};
    kz_onto_spec b = {.format = KZ_ONTO_RDA_TABLE,
                      .path = "fuzz.rda",
                      .rda_object = "specData",
                      .id_col = "tax_id",
                      .label_col = "genus+species",
                      .syn_cols = syns,
                      .n_syn_cols = 1,
                      .meta_cols = meta,
                      .n_meta_cols = 2,
                      .id_prefix = "NCBITaxon:"};
    const kz_onto_spec *specs[2] = {&a, &b};
    for (int i = 0; i < 2; i++) {
        kz_error err;
        kz_error_clear(&err);
        uint64_t nw = 0;
        int rc = kz__onto_parse_rda_mem(data, size, 8u << 20, specs[i], on_term, on_warn, NULL, &nw, &err);
        if (rc > 0 || (rc < 0 && !err.msg[0])) abort();
    }
    return 0;
}
