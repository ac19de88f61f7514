/* Ontology parser dispatch: format names and kz__onto_parse. */
#include <string.h>
#include "kb/kb_int.h"

static const struct {
    kz_onto_format f;
    const char *name;
    kz_onto_parse_fn fn;
} formats[] = {
    {KZ_ONTO_OBO, "obo", kz__onto_parse_obo},
    {KZ_ONTO_OBOGRAPH_JSON, "obograph-json", kz__onto_parse_obograph},
    {KZ_ONTO_OWL, "owl", kz__onto_parse_owl},
    {KZ_ONTO_TABULAR, "tabular", kz__onto_parse_tabular},
    {KZ_ONTO_SQLITE, "sqlite", kz__onto_parse_sqlite},
    {KZ_ONTO_CELLOSAURUS, "cellosaurus", kz__onto_parse_cellosaurus},
    {KZ_ONTO_HGNC_TSV, "hgnc-tsv", kz__onto_parse_hgnc_tsv},
    {KZ_ONTO_HGNC_JSON, "hgnc-json", kz__onto_parse_hgnc_json},
    {KZ_ONTO_MESH_XML, "mesh-xml", kz__onto_parse_mesh_xml},
    {KZ_ONTO_DRUGBANK_CSV, "drugbank-csv", kz__onto_parse_drugbank},
    {KZ_ONTO_CTD_TSV, "ctd-tsv", kz__onto_parse_ctd},
    {KZ_ONTO_NCBI_TAXONOMY, "ncbi-taxonomy", kz__onto_parse_taxonomy},
    {KZ_ONTO_RDA_TABLE, "rda-table", kz__onto_parse_rda},
};

const char *kz__onto_format_name(kz_onto_format f) {
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (formats[i].f == f) return formats[i].name;
    return "unknown";
}

kz_onto_format kz__onto_format_parse(const char *name) {
    if (!name) return KZ_ONTO_UNKNOWN;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (strcmp(formats[i].name, name) == 0) return formats[i].f;
    return KZ_ONTO_UNKNOWN;
}

int kz__onto_parse(const kz_onto_spec *spec, kz_onto_emit_fn emit, kz_onto_warn_fn warn, void *user,
                   uint64_t *n_warnings, kz_error *err) {
    if (n_warnings) *n_warnings = 0;
    if (!spec || !spec->path || !emit)
        return kz_error_set(err, KZ_EINVAL, "ontology parse: missing spec, path or emit");
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (formats[i].f == spec->format) return formats[i].fn(spec, emit, warn, user, n_warnings, err);
    return kz_error_set(err, KZ_EFORMAT, "%s: unknown ontology format %d", spec->path, (int)spec->format);
}
