/* Kazu's StringNormalizer rebuilt exactly: the string that becomes an entity's
 * match_norm and every synonym key of a knowledge base. */
#ifndef KAZU_NORMALISE_H
#define KAZU_NORMALISE_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Inputs longer than this many bytes are refused with KZ_ELIMIT (synonyms and
 * entity mentions are far shorter; the cap bounds the up-to-13x growth of the
 * intermediate strings). */
#define KZ_NORMALISE_MAX_BYTES 65536

/* Normalise UTF-8 text s[0..len) for entity_class the way Kazu's
 * StringNormalizer.normalize(s, entity_class) does, byte for byte.
 * entity_class: NUL-terminated, compared case-sensitively; "gene", "disease",
 * "anatomy" and "company" have their own rules, NULL or anything else takes the
 * default rules (see docs/normalise.md).
 * On success *out is a malloc'd NUL-terminated UTF-8 string the caller frees with
 * free(), and *out_len (may be NULL) its length in bytes (the text may hold U+0000
 * if the input did). Returns 0, KZ_EINVAL (NULL s with len > 0, or NULL out),
 * KZ_EUTF8 (invalid UTF-8; message names the byte offset), KZ_ELIMIT (len >
 * KZ_NORMALISE_MAX_BYTES) or KZ_ENOMEM; *out is NULL on failure. err may be NULL.
 * Thread-safe: no shared state. */
KZ_API int kz_normalise(const char *s, size_t len, const char *entity_class, char **out, size_t *out_len,
                        kz_error *err);

/* Kazu's StringNormalizer.classify_symbolic(s, entity_class): *symbolic = true
 * when the class's rules treat s as a symbol ("EGFR", "JAK2") rather than a noun
 * phrase ("epidermal growth factor receptor"). Same arguments, errors and
 * thread-safety as kz_normalise. */
KZ_API int kz_normalise_is_symbolic(const char *s, size_t len, const char *entity_class, bool *symbolic,
                                    kz_error *err);

#ifdef __cplusplus
}
#endif
#endif
