/* Placeholder until this parser lands: refuses with KZ_EFORMAT. */
#include "kb/kb_int.h"
int kz__onto_parse_mesh_xml(const kz_onto_spec *spec, kz_onto_emit_fn emit, kz_onto_warn_fn warn, void *user,
                            uint64_t *nw, kz_error *err) {
    return kz_error_set(err, KZ_EFORMAT, "%s: parser %s not built yet", spec->path,
                        "kz__onto_parse_mesh_xml");
}
