/* Fuzz target: the post-processing steps on arbitrary document text:
 * AbbreviationFinderStep, the rules filter (default rules), the conjunction
 * splitter and CleanupStep over entities placed on the text's tokens. */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "kazu/kazu.h"
#include "kazu/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int kz__ner_split_conjunction(kz_doc *doc, kz_section *sec, const kz_entity *e, size_t *n_added,
                              kz_error *err);

static const char *const k_classes[] = {"disease", "gene", "drug", "cell_line", "anatomy", "cell_type"};

static void run(const char *name, const char *yaml, kz_doc *d) {
    const kz_step_type *t = kz_step_find(name);
    if (!t) __builtin_trap();
    kz_config *cfg = NULL;
    kz_error err;
    if (yaml && kz_config_load_string(&cfg, yaml, strlen(yaml), "p", NULL, &err)) __builtin_trap();
    void *state = NULL;
    if (t->init(&state, cfg ? kz_config_root(cfg) : NULL, &err)) __builtin_trap();
    kz_config_free(cfg);
    kz_step_ctx ctx = {name, NULL, NULL};
    if (t->process(state, &d, 1, &ctx, &err)) __builtin_trap();
    t->free(state);
}

static void check(const kz_doc *d) {
    for (uint32_t s = 0; s < d->n_sections; s++) {
        const kz_section *sec = d->sections[s];
        for (uint32_t i = 0; i < sec->n_entities; i++) {
            const kz_entity *e = sec->entities[i];
            if (e->start < 0 || e->end > (int64_t)sec->text.len || e->start >= e->end || !e->n_spans)
                __builtin_trap();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 1 << 16) return 0;
    kz_doc *d = kz_doc_new("f", 1);
    if (!d) return 0;
    /* two sections split at the first NUL, so abbreviations cross sections */
    const char *text = (const char *)data;
    const char *nul = memchr(text, 0, size);
    size_t n1 = nul ? (size_t)(nul - text) : size;
    kz_section *secs[2] = {NULL, NULL};
    if (kz_doc_add_section(d, "a", 1, text, n1, &secs[0], NULL)) goto out;
    if (nul && kz_doc_add_section(d, "b", 1, nul + 1, size - n1 - 1, &secs[1], NULL)) goto out;
    for (int s = 0; s < 2 && secs[s]; s++) {
        kz_section *sec = secs[s];
        size_t nt = kz_word_tokenize(sec->text.ptr, sec->text.len, NULL, 0);
        kz_span *tok = malloc((nt ? nt : 1) * sizeof *tok);
        if (!tok) goto out;
        nt = kz_word_tokenize(sec->text.ptr, sec->text.len, tok, nt);
        for (size_t i = 0; i < nt; i++) {
            unsigned char h = (unsigned char)sec->text.ptr[tok[i].start];
            if (h % 3) continue;
            size_t j = i + (h % 4);
            if (j >= nt) j = nt - 1;
            kz_span sp = {tok[i].start, tok[j].end};
            kz_entity_init in = {0};
            in.spans = &sp;
            in.n_spans = 1;
            in.entity_class = kz_str_c(k_classes[h % 6]);
            in.namespace_ = kz_str_c("fuzz");
            in.mention_confidence = (h & 1) ? KZ_MENTION_POSSIBLE : KZ_MENTION_HIGHLY_LIKELY;
            if (kz_section_add_entity(d, sec, &in, NULL, NULL)) __builtin_trap();
        }
        free(tok);
        uint32_t n0 = sec->n_entities;
        for (uint32_t i = 0; i < n0; i++)
            if (kz__ner_split_conjunction(d, sec, sec->entities[i], NULL, NULL)) __builtin_trap();
    }
    check(d);
    run("AbbreviationFinderStep", (size & 1) ? "keep_unlinked_short_forms: true" : NULL, d);
    check(d);
    run("RulesBasedEntityClassDisambiguationFilterStep", NULL, d);
    check(d);
    run("CleanupStep", "actions: [default, uri_stripping, {type: DropByMinLenFilter, min_len: 2}]", d);
    check(d);
out:
    kz_doc_free(d);
    return 0;
}
