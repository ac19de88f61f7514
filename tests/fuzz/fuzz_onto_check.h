/* Shared by the ontology fuzz targets: every emitted term and every warning
 * must be well formed, or the target aborts (a finding). */
#ifndef KZ_FUZZ_ONTO_CHECK_H
#define KZ_FUZZ_ONTO_CHECK_H

#include <stdlib.h>
#include <string.h>
#include "../../src/kb/kb_int.h" /* kb_int.h needs only public headers */
#include "kazu/utf8.h"

/* From src/kb/onto_obo_int.h (which needs the private include path). */
int kz__onto_parse_owl_mem(const char *data, size_t len, const kz_onto_spec *spec, kz_onto_emit_fn emit,
                           kz_onto_warn_fn warn, void *user, uint64_t *n_warnings, kz_error *err);
int kz__onto_parse_mesh_xml_mem(const char *data, size_t len, const kz_onto_spec *spec, kz_onto_emit_fn emit,
                                kz_onto_warn_fn warn, void *user, uint64_t *n_warnings, kz_error *err);
int kz__onto_parse_cellosaurus_mem(const char *data, size_t len, const kz_onto_spec *spec,
                                   kz_onto_emit_fn emit, kz_onto_warn_fn warn, void *user,
                                   uint64_t *n_warnings, kz_error *err);

static void fz_check_str(kz_str s, bool may_be_null) {
    if (!s.ptr) {
        if (!may_be_null) abort();
        return;
    }
    if (!kz_utf8_valid(s.ptr, s.len, NULL) || memchr(s.ptr, 0, s.len) || s.ptr[s.len] != 0) abort();
}

static int fz_on_term(void *user, const kz_onto_term *t) {
    uint64_t *n = user;
    fz_check_str(t->id, false);
    if (!t->id.len) abort();
    fz_check_str(t->label, true);
    fz_check_str(t->ns, true);
    for (uint32_t i = 0; i < t->n_syns; i++) {
        fz_check_str(t->syns[i].text, false);
        fz_check_str(t->syns[i].scope, true);
    }
    for (uint32_t i = 0; i < t->n_xrefs; i++) fz_check_str(t->xrefs[i], false);
    for (uint32_t i = 0; i < t->n_alt_ids; i++) fz_check_str(t->alt_ids[i], false);
    for (uint32_t i = 0; i < t->n_parents; i++) fz_check_str(t->parents[i], false);
    for (uint32_t i = 0; i < t->n_meta; i++) {
        fz_check_str(t->meta[i].key, false);
        fz_check_str(t->meta[i].value, false);
    }
    if (t->line < 0) abort();
    ++*n;
    return 0;
}

static void fz_on_warn(void *user, const kz_error *e) {
    (void)user;
    if (!e->msg[0] || !e->path[0] || e->code >= 0 || e->line < 0) abort();
}

/* Every failure says what went wrong and where. */
static void fz_check_rc(int rc, const kz_error *err) {
    if (rc > 0) abort();
    if (rc < 0 && (!err->msg[0] || !err->path[0] || err->code != rc)) abort();
}

#endif
