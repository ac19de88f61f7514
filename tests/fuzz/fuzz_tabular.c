/* Fuzz target for the delimited-text ontology parsers (generic TSV/CSV with quotes, CTD, DrugBank,
 * HGNC TSV/JSON, NCBI taxonomy). Byte 0 picks the format, byte 1 the options; the rest is the file.
 * Every emitted term must have a non-empty id and valid UTF-8 everywhere; every warning and error
 * must say what went wrong. */
#include <stdio.h>
#include <stdlib.h>
#include "../../src/kb/kb_int.h" /* kb_int.h needs only public headers */
#include "kazu/utf8.h"

/* From src/kb/onto_tab_int.h (which needs the private include path). */
int kz__onto_parse_tab_mem(kz_onto_format f, const char *data, size_t len, const kz_onto_spec *spec,
                           kz_onto_emit_fn emit, kz_onto_warn_fn warn, void *user, uint64_t *n_warnings,
                           kz_error *err);
int kz__onto_parse_hgnc_json_mem(const char *data, size_t len, const kz_onto_spec *spec, kz_onto_emit_fn emit,
                                 kz_onto_warn_fn warn, void *user, uint64_t *n_warnings, kz_error *err);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_str(kz_str s) {
    if (s.ptr && !kz_utf8_valid(s.ptr, s.len, NULL)) abort();
}

static int on_term(void *user, const kz_onto_term *t) {
    (void)user;
    if (!t->id.ptr || t->id.len == 0) abort();
    check_str(t->id);
    check_str(t->label);
    check_str(t->ns);
    for (uint32_t i = 0; i < t->n_syns; i++) {
        if (!t->syns[i].text.len) abort();
        check_str(t->syns[i].text);
        check_str(t->syns[i].scope);
        if (t->label.ptr && kz_str_eq(t->syns[i].text, t->label)) abort(); /* the label is not a synonym */
    }
    for (uint32_t i = 0; i < t->n_xrefs; i++) check_str(t->xrefs[i]);
    for (uint32_t i = 0; i < t->n_alt_ids; i++) check_str(t->alt_ids[i]);
    for (uint32_t i = 0; i < t->n_parents; i++) check_str(t->parents[i]);
    for (uint32_t i = 0; i < t->n_meta; i++) check_str(t->meta[i].value);
    return 0;
}

static void on_warn(void *user, const kz_error *w) {
    (void)user;
    if (!w->msg[0] || w->code >= 0) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    static const kz_onto_format formats[] = {KZ_ONTO_TABULAR,      KZ_ONTO_TABULAR,  KZ_ONTO_CTD_TSV,
                                             KZ_ONTO_DRUGBANK_CSV, KZ_ONTO_HGNC_TSV, KZ_ONTO_NCBI_TAXONOMY,
                                             KZ_ONTO_HGNC_JSON};
    kz_onto_format f = formats[data[0] % (sizeof formats / sizeof formats[0])];
    uint8_t o = data[1];
    const char *syns[] = {"syn", "1+2", "syn@scope"}, *xrefs[] = {"PFX:xref"}, *meta[] = {"meta"};
    const char *scopes[] = {"syn", "synonym", "name"};
    kz_onto_spec spec = {.format = f, .path = "fuzz"};
    spec.quote = (o & 1) ? '"' : 0;
    spec.delimiter = (o & 2) ? ',' : (o & 4) ? ';' : 0;
    spec.no_header = o & 8;
    spec.list_sep = (o & 16) ? "|" : (o & 32) ? " | " : NULL;
    spec.comment = (o & 64) ? '#' : 0;
    spec.include_obsolete = o & 128;
    if (data[0] & 0x80) {
        spec.id_prefix = "X:";
        spec.syn_scopes = scopes;
        spec.n_syn_scopes = 3;
    }
    if (f == KZ_ONTO_TABULAR) {
        /* Column names the seeds use; a missing one is a clean configuration error. */
        spec.label_col = spec.no_header ? "1" : (data[0] & 8) ? "label" : NULL;
        if (data[0] & 16) {
            spec.syn_cols = syns + (spec.no_header ? 1 : 0);
            spec.n_syn_cols = 1;
        }
        if (data[0] & 32) {
            spec.xref_cols = xrefs;
            spec.n_xref_cols = 1;
            spec.meta_cols = meta;
            spec.n_meta_cols = 1;
        }
        if (data[0] & 64) {
            spec.syn_cols = syns + 2;
            spec.n_syn_cols = 1;
        }
    }
    kz_error err;
    kz_error_clear(&err);
    uint64_t nw = 0;
    const char *text = (const char *)data + 2;
    int rc = f == KZ_ONTO_HGNC_JSON
                 ? kz__onto_parse_hgnc_json_mem(text, size - 2, &spec, on_term, on_warn, NULL, &nw, &err)
                 : kz__onto_parse_tab_mem(f, text, size - 2, &spec, on_term, on_warn, NULL, &nw, &err);
    if (rc > 0) abort();
    if (rc < 0 && !err.msg[0]) abort();
    return 0;
}
