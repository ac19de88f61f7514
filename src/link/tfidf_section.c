/* PLACEHOLDER (replaced wholesale by its owner): the pack extension section builder. */
#include "kb/kb_int.h"

int kz__tfidf_build_section(const kz_kb *kb, void **blob, size_t *len, kz_error *err) {
    (void)kb, (void)err;
    *blob = NULL;
    *len = 0;
    return KZ_ENOTFOUND;
}
