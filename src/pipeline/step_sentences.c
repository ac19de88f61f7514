/* SentenceSplitter step: sets each section's sentence_spans with the
 * rule-based splitter (kz_sentences_split); sections that have them keep them. */
#include <stdio.h>
#include <stdlib.h>
#include "kazu/text.h"
#include "pipeline_int.h"

static int sentences_init(void **state, const kz_config_node *params, kz_error *err) {
    *state = NULL;
    return kz_config_check_keys(params, NULL, 0, err);
}

static int split_section(kz_doc *doc, kz_section *sec, kz_error *err) {
    kz_span local[128];
    size_t n = kz_sentences_split(sec->text.ptr, sec->text.len, local, 128);
    if (n <= 128) return kz_section_set_sentence_spans(doc, sec, local, n, err);
    kz_span *spans = malloc(n * sizeof *spans);
    if (!spans) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    kz_sentences_split(sec->text.ptr, sec->text.len, spans, n);
    int rc = kz_section_set_sentence_spans(doc, sec, spans, n, err);
    free(spans);
    return rc;
}

static int sentences_process(void *state, kz_doc **docs, size_t n, const kz_step_ctx *ctx, kz_error *err) {
    (void)state;
    (void)err;
    for (size_t d = 0; d < n; d++) {
        if (kz_step_cancelled(ctx)) return KZ_ECANCELLED;
        kz_doc *doc = docs[d];
        for (uint32_t s = 0; s < doc->n_sections; s++) {
            kz_section *sec = doc->sections[s];
            if (sec->sentence_spans) continue; /* set-once, as Kazu's Section.sentence_spans */
            kz_error e;
            kz_error_clear(&e);
            if (split_section(doc, sec, &e)) {
                char reason[600], msg[700];
                snprintf(msg, sizeof msg, "section %u: %s", s, kz_error_format(&e, reason, sizeof reason));
                kz_doc_set_failure(doc, ctx->step_name, msg);
                break;
            }
        }
    }
    return 0;
}

const kz_step_type kz__step_sentence_splitter = {
    .name = "SentenceSplitter",
    .description = "rule-based sentence splitter (biomedical abbreviations); sets section sentence_spans",
    .init = sentences_init,
    .process = sentences_process,
    .free = NULL,
};
