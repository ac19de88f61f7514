/* Benchmark: the post-processing steps (AbbreviationFinderStep, the rules
 * filter with Kazu's default rules, CleanupStep defaults, the conjunction
 * splitter) over a PubTator corpus whose gold mentions are the entities
 * (Disease -> disease, Chemical -> drug). Prints documents/s per step (best of
 * --runs, timing only the step) and entity counts before/after as a hash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "kazu/kazu.h"

int kz__ner_split_conjunction(kz_doc *doc, kz_section *sec, const kz_entity *e, size_t *n_added,
                              kz_error *err);

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static size_t load(const char *path, kz_doc ***out) {
    kz_reader *r;
    kz_error err;
    if (kz_reader_open_path(&r, path, KZ_FORMAT_PUBTATOR, NULL, &err)) {
        fprintf(stderr, "%s: %s\n", path, err.msg);
        exit(1);
    }
    size_t n = 0, cap = 0;
    kz_doc **docs = NULL, *d;
    int rc;
    while ((rc = kz_reader_next(r, &d, &err)) != 0) {
        if (rc < 0) continue;
        for (uint32_t s = 0; s < d->n_sections; s++)
            for (uint32_t i = 0; i < d->sections[s]->n_entities; i++) {
                kz_entity *e = d->sections[s]->entities[i];
                if (kz_str_eq_c(e->entity_class, "Disease")) e->entity_class = kz_str_c("disease");
                if (kz_str_eq_c(e->entity_class, "Chemical")) e->entity_class = kz_str_c("drug");
                e->mention_confidence = KZ_MENTION_HIGHLY_LIKELY;
            }
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            docs = realloc(docs, cap * sizeof *docs);
            if (!docs) exit(1);
        }
        docs[n++] = d;
    }
    kz_reader_close(r);
    *out = docs;
    return n;
}

static void free_docs(kz_doc **docs, size_t n) {
    for (size_t i = 0; i < n; i++) kz_doc_free(docs[i]);
    free(docs);
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : NULL;
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    if (!path) {
        fprintf(stderr, "usage: bench_post PUBTATOR_FILE [runs=5]\n");
        return 2;
    }
    static const char *const steps[] = {"AbbreviationFinderStep",
                                        "RulesBasedEntityClassDisambiguationFilterStep", "CleanupStep",
                                        "conjunction-splitter"};
    for (size_t k = 0; k < sizeof steps / sizeof *steps; k++) {
        double best = 1e30;
        size_t n = 0, before = 0, after = 0;
        for (int r = 0; r < runs; r++) {
            kz_doc **docs;
            n = load(path, &docs);
            before = 0;
            for (size_t i = 0; i < n; i++) before += kz_doc_n_entities(docs[i]);
            double t0 = now_s();
            if (k < 3) {
                const kz_step_type *t = kz_step_find(steps[k]);
                void *state = NULL;
                kz_error err;
                if (!t || t->init(&state, NULL, &err)) return 1;
                t0 = now_s();
                kz_step_ctx ctx = {steps[k], NULL, NULL};
                if (t->process(state, docs, n, &ctx, &err)) return 1;
                t->free(state);
            } else {
                for (size_t i = 0; i < n; i++)
                    for (uint32_t s = 0; s < docs[i]->n_sections; s++) {
                        kz_section *sec = docs[i]->sections[s];
                        uint32_t n0 = sec->n_entities;
                        for (uint32_t e = 0; e < n0; e++)
                            if (kz__ner_split_conjunction(docs[i], sec, sec->entities[e], NULL, NULL))
                                return 1;
                    }
            }
            double dt = now_s() - t0;
            if (dt < best) best = dt;
            after = 0;
            for (size_t i = 0; i < n; i++) after += kz_doc_n_entities(docs[i]);
            free_docs(docs, n);
        }
        printf("%-48s %6zu docs  %10.0f docs/s  entities %zu -> %zu\n", steps[k], n, (double)n / best, before,
               after);
    }
    return 0;
}
