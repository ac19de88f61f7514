/* BioC id infons <-> mappings, one definition for the XML and JSON readers and
 * writers so both encodings round-trip the same way. */
#include <strings.h>
#include "bioc_int.h"

static const char *const k_id_keys[] = {"identifier", "MESH", "NCBI Gene", "NCBI Taxonomy"};

bool kz__bioc_is_id_key(kz_str key) {
    for (size_t i = 0; i < sizeof k_id_keys / sizeof k_id_keys[0]; i++)
        if (key.ptr && strlen(k_id_keys[i]) == key.len && strncasecmp(k_id_keys[i], key.ptr, key.len) == 0)
            return true;
    return false;
}

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int kz__bioc_add_mappings(kz_doc *doc, kz_entity *ent, kz_str key, kz_str ids) {
    size_t i = 0;
    while (i <= ids.len) {
        size_t j = i;
        while (j < ids.len && ids.ptr[j] != ';' && ids.ptr[j] != ',') j++;
        size_t a = i, b = j;
        while (a < b && is_blank(ids.ptr[a])) a++;
        while (b > a && is_blank(ids.ptr[b - 1])) b--;
        i = j + 1;
        if (a == b || (b - a == 1 && ids.ptr[a] == '-')) continue; /* PubTator's "no id" */
        kz_str id = {ids.ptr + a, b - a};
        const char *colon = memchr(id.ptr, ':', id.len);
        kz_mapping m = {0};
        m.default_label = ent->match;
        m.source = colon && colon > id.ptr ? (kz_str){id.ptr, (size_t)(colon - id.ptr)}
                   : !key.ptr || (key.len == 10 && !strncasecmp(key.ptr, "identifier", 10)) ? kz_str_c("BioC")
                                                                                            : key;
        m.parser_name = kz_str_c("BioC");
        m.idx = id;
        m.string_match_strategy = kz_str_c("gold");
        m.string_match_confidence = KZ_SMC_HIGHLY_LIKELY;
        int rc = kz_entity_add_mapping(doc, ent, &m);
        if (rc) return rc;
    }
    return 0;
}

/* "identifier", except an unprefixed id whose source is an id key ("NCBI Gene": 672). */
kz_str kz__bioc_mapping_key(const kz_mapping *m) {
    const char *colon = m->idx.ptr ? memchr(m->idx.ptr, ':', m->idx.len) : NULL;
    bool prefixed = colon && colon > m->idx.ptr;
    return !prefixed && kz__bioc_is_id_key(m->source) ? m->source : kz_str_c("identifier");
}

int kz__bioc_ids_for_key(const kz_entity *e, uint32_t i, kz_str *key, kz_buf *out) {
    *key = kz__bioc_mapping_key(&e->mappings[i]);
    for (uint32_t j = 0; j < i; j++)
        if (kz_str_eq(kz__bioc_mapping_key(&e->mappings[j]), *key)) return 0;
    kz__buf_clear(out);
    int rc = kz__buf_reserve(out, 0);
    for (uint32_t j = i, n = 0; !rc && j < e->n_mappings; j++) {
        kz_str idx = e->mappings[j].idx;
        if (!idx.ptr || !kz_str_eq(kz__bioc_mapping_key(&e->mappings[j]), *key)) continue;
        if (n++) rc = kz__buf_putc(out, ';');
        if (!rc) rc = kz__buf_append(out, idx.ptr, idx.len);
    }
    return rc ? rc : 1;
}
