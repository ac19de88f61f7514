/* Fuzz target for the XML ontology parsers: the input as OWL RDF/XML and as
 * MeSH descriptor/supplementary XML. */
#include "fuzz_onto_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    kz_onto_spec sp;
    memset(&sp, 0, sizeof sp);
    sp.format = KZ_ONTO_OWL;
    sp.path = "fuzz.owl";
    sp.include_obsolete = true;
    uint64_t n = 0, nw = 0;
    kz_error err;
    int rc = kz__onto_parse_owl_mem((const char *)data, size, &sp, fz_on_term, fz_on_warn, &n, &nw, &err);
    fz_check_rc(rc, &err);

    const char *ns[] = {"C", "D03"};
    sp.format = KZ_ONTO_MESH_XML;
    sp.path = "fuzz.xml";
    sp.namespaces = ns;
    sp.n_namespaces = (size & 1) ? 2 : 0;
    rc = kz__onto_parse_mesh_xml_mem((const char *)data, size, &sp, fz_on_term, fz_on_warn, &n, &nw, &err);
    fz_check_rc(rc, &err);
    return 0;
}
