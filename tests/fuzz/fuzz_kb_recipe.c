/* Fuzz target: the kb build recipe (YAML -> sources and parser specs, ${VAR}
 * expansion, path resolution) and the ${VAR} expander on the raw bytes. */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "kazu/kazu.h"
#include "../../src/kb/build_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    kz_recipe r;
    kz_error err;
    if (kz__recipe_parse((const char *)data, size, "/tmp/fuzz/recipe.yaml", &r, &err) == 0) {
        for (size_t i = 0; i < r.n_sources; i++) {
            const kz_recipe_source *s = &r.sources[i];
            if (!s->name || !s->entity_class || !s->spec.path || !s->source || !s->data_origin)
                __builtin_trap();
            if (s->spec.format == KZ_ONTO_UNKNOWN) __builtin_trap();
        }
    }
    kz__recipe_free(&r);
    char *s = malloc(size + 1);
    if (!s) return 0;
    memcpy(s, data, size);
    s[size] = 0;
    kz_arena *a = kz_arena_new(0);
    const char *out;
    kz__recipe_expand(a, s, &out, &err);
    kz_arena_free(a);
    free(s);
    return 0;
}
