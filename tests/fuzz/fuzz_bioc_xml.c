/* Fuzz target: the BioC XML reader. Every document it yields must
 * serialise as BioC XML, which must read back cleanly and write identically. */
#include "fuzz_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    return fuzz_xml_roundtrip(data, size, KZ_FORMAT_BIOC_XML);
}
