/* Fuzz target: `kazu run`'s manifest reader (apps/kazu/run_plan.c, compiled
 * in here): JSON-lines records applied to a three-shard plan; the skip
 * lists stay sorted and unique whatever the records say. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../apps/kazu/run_plan.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    run_shard shards[3];
    memset(shards, 0, sizeof shards);
    static const char *const names[] = {"a.jsonl", "in/b.xml.gz", "c"};
    for (int i = 0; i < 3; i++) shards[i].in = (char *)names[i];
    run_plan p = {shards, 3, 0};
    run_opts o;
    memset(&o, 0, sizeof o);
    o.out_fmt = KZ_FORMAT_KAZU_JSON;
    bool start = false;
    int rc = run_manifest_apply(&p, &o, buf, "fuzz", &start);
    if (rc != 0 && rc != CLI_USAGE && rc != CLI_FATAL) __builtin_trap();
    for (int i = 0; i < 3; i++) {
        const run_idx *l = &shards[i].skip;
        for (size_t k = 1; k < l->n; k++)
            if (l->v[k - 1] >= l->v[k]) __builtin_trap(); /* sorted, unique */
        run_idx_free(&shards[i].skip);
    }
    free(buf);
    return 0;
}
