/* Helpers for the post-processing step tests: build documents and entities,
 * run a built-in step with YAML params through its step type. */
#ifndef KZ_POST_TEST_H
#define KZ_POST_TEST_H

#include "kazu/kazu.h"
#include "kz_test.h"

static inline kz_section *pt_section(kz_doc *d, const char *text) {
    kz_section *sec = NULL;
    if (kz_doc_add_section(d, "part", 4, text, strlen(text), &sec, NULL)) return NULL;
    return sec;
}

static inline kz_entity *pt_ent(kz_doc *d, kz_section *sec, int64_t s, int64_t e, const char *cls,
                                const char *ns, int conf) {
    kz_span sp = {s, e};
    kz_entity_init in = {0};
    in.spans = &sp;
    in.n_spans = 1;
    in.entity_class = kz_str_c(cls);
    in.namespace_ = kz_str_c(ns);
    in.mention_confidence = conf;
    kz_entity *ent = NULL;
    if (kz_section_add_entity(d, sec, &in, &ent, NULL)) return NULL;
    return ent;
}

/* Entity of sec at [s, e) with that class, or NULL. */
static inline kz_entity *pt_find(const kz_section *sec, int64_t s, int64_t e, const char *cls) {
    for (uint32_t i = 0; i < sec->n_entities; i++) {
        kz_entity *x = sec->entities[i];
        if (x->start == s && x->end == e && (!cls || kz_str_eq_c(x->entity_class, cls))) return x;
    }
    return NULL;
}

static inline int pt_mapping(kz_doc *d, kz_entity *e, const char *parser, const char *idx, int smc, int dc) {
    kz_mapping m;
    memset(&m, 0, sizeof m);
    m.default_label = kz_str_c("label");
    m.source = kz_str_c("src");
    m.parser_name = kz_str_c(parser);
    m.idx = kz_str_c(idx);
    m.string_match_strategy = kz_str_c("test");
    m.string_match_confidence = smc;
    m.disambiguation_confidence = dc;
    return kz_entity_add_mapping(d, e, &m);
}

/* Run step `name` over docs with params from YAML text (NULL = none).
 * Returns the init or process code; err receives the message. */
static inline int pt_run(const char *name, const char *yaml, kz_doc **docs, size_t n, kz_error *err) {
    const kz_step_type *t = kz_step_find(name);
    if (!t) return KZ_ENOTFOUND;
    kz_config *cfg = NULL;
    const kz_config_node *params = NULL;
    int rc = 0;
    if (yaml) {
        if ((rc = kz_config_load_string(&cfg, yaml, strlen(yaml), "params", NULL, err))) return rc;
        params = kz_config_root(cfg);
    }
    void *state = NULL;
    rc = t->init ? t->init(&state, params, err) : 0;
    kz_config_free(cfg);
    if (rc) return rc;
    kz_step_ctx ctx = {name, NULL, NULL};
    rc = t->process(state, docs, n, &ctx, err);
    if (t->free) t->free(state);
    return rc;
}

#endif
