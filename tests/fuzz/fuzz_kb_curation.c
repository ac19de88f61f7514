/* Fuzz target: Kazu OntologyStringResource JSONL curations (loader, then the
 * conflict analyser with and without autofix, and the resource processor),
 * and the GlobalParserActions JSON loader on the same bytes. */
#include <stdint.h>
#include <stddef.h>
#include "kazu/kazu.h"
#include "../../src/kb/build_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    kz_arena *a = kz_arena_new(0);
    kz_buf report;
    kz__buf_init(&report, 1 << 20);
    kz_kbb_ctx ctx = {.arena = a,
                      .parser = "P",
                      .entity_class = "disease",
                      .norm = kz__ncache_new("disease"),
                      .report = &report};
    kz_resvec res = {0}, clean = {0}, fixed = {0}, kept = {0};
    kz_candvec cands = {0};
    kz_error err;
    kz_kbb_gactions ga = {0};
    if (kz__global_actions_load_mem(a, (const char *)data, size, "ga.json", &ga, &err)) ga.n = 0;
    if (kz__curations_load_mem(&ctx, (const char *)data, size, "c.jsonl", &res, &err) == 0) {
        kz__conflicts_verify(&ctx, res.v, res.n, KZ_AUTOFIX_NONE, "curations", &clean, &err);
        kz__conflicts_verify(&ctx, res.v, res.n, KZ_AUTOFIX_OPTIMISTIC, "defaults", &fixed, &err);
        /* every clean resource as a candidate of its own, then process */
        for (size_t i = 0; i < clean.n; i++) {
            kz_kbb_cand c = {0};
            c.syn_norm = clean.v[i].syn_norm;
            if (clean.v[i].has_id_sets) {
                c.sets = clean.v[i].id_sets;
                c.n_sets = clean.v[i].n_id_sets;
            }
            if (c.n_sets) kz__candvec_push(&cands, &c);
        }
        kz__process_resources(&ctx, &ga, &cands, &clean, &kept, &err);
        for (size_t i = 0; i < kept.n; i++)
            if (!kept.v[i].syn_norm.ptr) __builtin_trap();
    }
    kz__resvec_free(&res);
    kz__resvec_free(&clean);
    kz__resvec_free(&fixed);
    kz__resvec_free(&kept);
    kz__candvec_free(&cands);
    kz__ncache_free(ctx.norm);
    for (int i = 0; i < 4; i++) kz__ncache_free(ctx.aux[i]);
    kz__buf_free(&report);
    kz_arena_free(a);
    return 0;
}
