/* Fuzz target: the params parsers of the post-processing steps (rules
 * filter patterns, cleanup actions, abbreviation options) on arbitrary YAML,
 * then a run over a small fixed document with whatever was accepted. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include "kazu/kazu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const k_steps[] = {"RulesBasedEntityClassDisambiguationFilterStep", "CleanupStep",
                                      "AbbreviationFinderStep"};

static kz_doc *fixture(void) {
    static const char text[] =
        "We grew HeLa cells (HC) in a single - arm trial of type 1 and 2 diabetes. HC X.";
    kz_doc *d = kz_doc_new("f", 1);
    kz_section *sec = NULL;
    if (!d || kz_doc_add_section(d, "s", 1, text, sizeof text - 1, &sec, NULL)) return d;
    static const struct {
        int64_t s, e;
        const char *cls;
    } ents[] = {{8, 12, "cell_line"}, {8, 18, "cell_type"}, {20, 22, "gene"}, {38, 41, "anatomy"},
                {51, 72, "disease"},  {74, 76, "gene"},     {77, 78, "drug"}};
    for (size_t i = 0; i < sizeof ents / sizeof *ents; i++) {
        kz_span sp = {ents[i].s, ents[i].e};
        kz_entity_init in = {0};
        in.spans = &sp;
        in.n_spans = 1;
        in.entity_class = kz_str_c(ents[i].cls);
        in.namespace_ = kz_str_c("fuzz");
        in.mention_confidence = KZ_MENTION_POSSIBLE;
        kz_entity *e = NULL;
        if (kz_section_add_entity(d, sec, &in, &e, NULL)) __builtin_trap();
        kz_mapping m;
        memset(&m, 0, sizeof m);
        m.parser_name = kz_str_c(i & 1 ? "mondo" : "clo");
        m.idx = kz_str_c("http://x.org/a/ID_1");
        m.string_match_confidence = KZ_SMC_PROBABLE;
        m.disambiguation_confidence = (int)(i % 5);
        if (i % 3 && kz_entity_add_mapping(d, e, &m)) __builtin_trap();
    }
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    kz_config_params p = kz_config_default_params();
    p.max_nodes = 2000;
    kz_config *cfg;
    kz_error err;
    if (kz_config_load_string(&cfg, (const char *)data, size, "fuzz", &p, &err)) return 0;
    for (size_t i = 0; i < sizeof k_steps / sizeof *k_steps; i++) {
        const kz_step_type *t = kz_step_find(k_steps[i]);
        if (!t) __builtin_trap();
        void *state = NULL;
        if (t->init(&state, kz_config_root(cfg), &err)) continue;
        kz_doc *d = fixture();
        kz_step_ctx ctx = {k_steps[i], NULL, NULL};
        if (d && t->process(state, &d, 1, &ctx, &err)) __builtin_trap();
        kz_doc_free(d);
        t->free(state);
    }
    kz_config_free(cfg);
    return 0;
}
