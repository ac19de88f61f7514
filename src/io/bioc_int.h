/* BioC's annotation model shared by the XML and JSON encodings: which infon
 * keys carry ids, and how ids map to and from kz_mapping. */
#ifndef KZ_BIOC_INT_H
#define KZ_BIOC_INT_H

#include "io_int.h"

/* True for the infon keys whose value is an id list ("identifier", "MESH", "NCBI Gene", ...). */
bool kz__bioc_is_id_key(kz_str key);
/* "MESH:D1;D2" or "A,B" under key: one gold mapping per id on ent (source = the
 * id's prefix, else the key, else "BioC"). Returns 0 or KZ_ENOMEM. */
int kz__bioc_add_mappings(kz_doc *doc, kz_entity *ent, kz_str key, kz_str ids);
/* The infon key mapping i of e is written under so that reading gives it back. */
kz_str kz__bioc_mapping_key(const kz_mapping *m);
/* If mapping i is the first with its key: *key = that key, out = the ids of
 * every mapping under it joined with ';' (raw, unescaped); returns 1. Returns 0
 * when the key was already written for an earlier mapping, <0 on error. */
int kz__bioc_ids_for_key(const kz_entity *e, uint32_t i, kz_str *key, kz_buf *out);

#endif
