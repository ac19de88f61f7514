/* Small helpers shared by the post-processing steps: owned string lists read
 * from the config, and the sentence lookup the context rules use. */
#include <stdlib.h>
#include <string.h>
#include "../core/core_int.h"
#include "kazu/normalise.h"
#include "post_int.h"

void kz__post_strs_free(kz_post_strs *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

bool kz__post_strs_has(const kz_post_strs *s, kz_str x) {
    for (size_t i = 0; i < s->n; i++)
        if (kz_str_eq_c(x, s->v[i])) return true;
    return false;
}

static int push(kz_post_strs *out, const char *p, size_t len, kz_error *err) {
    char **nv = realloc(out->v, (out->n + 1) * sizeof *nv);
    if (!nv) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    out->v = nv;
    char *c = malloc(len + 1);
    if (!c) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    memcpy(c, p, len);
    c[len] = 0;
    out->v[out->n++] = c;
    return 0;
}

int kz__post_strs_from_node(const kz_config_node *seq, kz_post_strs *out, kz_error *err) {
    out->v = NULL;
    out->n = 0;
    kz_config_type t = kz_config_node_type(seq);
    if (!seq || t == KZ_CONFIG_NULL) return 0;
    if (t == KZ_CONFIG_SCALAR) {
        kz_str s = kz_config_node_scalar(seq);
        return push(out, s.ptr, s.len, err);
    }
    if (t != KZ_CONFIG_SEQ) {
        kz_error_set(err, KZ_ECONFIG, "expected a list of strings");
        kz_config_locate(seq, err);
        return KZ_ECONFIG;
    }
    for (size_t i = 0; i < kz_config_node_len(seq); i++) {
        const kz_config_node *it = kz_config_node_at(seq, i);
        if (kz_config_node_type(it) != KZ_CONFIG_SCALAR) {
            kz__post_strs_free(out);
            kz_error_set(err, KZ_ECONFIG, "expected a string");
            kz_config_locate(it, err);
            return KZ_ECONFIG;
        }
        kz_str s = kz_config_node_scalar(it);
        int rc = push(out, s.ptr, s.len, err);
        if (rc) {
            kz__post_strs_free(out);
            return rc;
        }
    }
    return 0;
}

int kz__post_strs_get(const kz_config_node *map, const char *key, const char *const *def, size_t n_def,
                      kz_post_strs *out, kz_error *err) {
    const kz_config_node *n = kz_config_get(map, key);
    out->v = NULL;
    out->n = 0;
    if (!n || kz_config_node_type(n) == KZ_CONFIG_NULL) {
        for (size_t i = 0; i < n_def; i++) {
            int rc = push(out, def[i], strlen(def[i]), err);
            if (rc) {
                kz__post_strs_free(out);
                return rc;
            }
        }
        return 0;
    }
    return kz__post_strs_from_node(n, out, err);
}

kz_span kz__post_sentence_of(const kz_section *sec, const kz_span *sents, size_t n_sents, int64_t at) {
    if (sec->sentence_spans) {
        sents = sec->sentence_spans;
        n_sents = sec->n_sentence_spans;
    }
    for (size_t i = 0; i < n_sents; i++)
        if (at >= sents[i].start && at < sents[i].end) return sents[i];
    /* between sentences (whitespace): the next sentence, as spaCy's token.sent */
    for (size_t i = 0; i < n_sents; i++)
        if (sents[i].start > at) return sents[i];
    return (kz_span){0, (int64_t)sec->text.len};
}

int kz__post_copy_entity(kz_doc *doc, kz_section *sec, const kz_entity *src, const kz_span *spans, size_t n,
                         kz_str namespace_, int mention_confidence, kz_entity **out, kz_error *err) {
    kz_entity_init init = {0};
    init.spans = spans;
    init.n_spans = n;
    init.join_str = "";
    init.entity_class = src->entity_class;
    init.namespace_ = namespace_;
    init.mention_confidence = mention_confidence;
    kz_entity *ne;
    int rc = kz_section_add_entity(doc, sec, &init, &ne, err);
    if (rc) return rc;
    for (uint32_t i = 0; i < src->n_mappings; i++)
        if ((rc = kz_entity_add_mapping(doc, ne, &src->mappings[i])))
            return kz_error_set(err, rc, "copying mappings");
    for (uint32_t i = 0; i < src->n_candidates; i++)
        if ((rc =
                 kz_entity_add_candidate(doc, ne, src->candidates[i].candidate, &src->candidates[i].metrics)))
            return kz_error_set(err, rc, "copying linking candidates");
    for (uint32_t i = 0; i < src->metadata.n; i++)
        if ((rc = kz_meta_set_json(doc, &ne->metadata, src->metadata.items[i].key,
                                   src->metadata.items[i].value)))
            return kz_error_set(err, rc, "copying metadata");
    if (ne->match.ptr && src->entity_class.ptr) {
        char cls[256], *norm = NULL;
        size_t cl = KZ_MIN(src->entity_class.len, sizeof cls - 1), nlen = 0;
        memcpy(cls, src->entity_class.ptr, cl);
        cls[cl] = 0;
        if (kz_normalise(ne->match.ptr, ne->match.len, cls, &norm, &nlen, NULL) == 0) {
            rc = kz_entity_set_match_norm(doc, ne, (kz_str){norm, nlen});
            free(norm);
            if (rc) return kz_error_set(err, rc, "setting match_norm");
        }
    }
    if (out) *out = ne;
    return 0;
}
