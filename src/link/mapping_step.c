/* PLACEHOLDER (replaced wholesale by its owner): MappingStep. */
#include "link_int.h"

static int ph_init(void **state, const kz_config_node *params, kz_error *err) {
    (void)params;
    *state = NULL;
    return kz_error_set(err, KZ_ECONFIG, "MappingStep is not built yet");
}
static int ph_process(void *state, kz_doc **docs, size_t n, const kz_step_ctx *ctx, kz_error *err) {
    (void)state, (void)docs, (void)n, (void)ctx;
    return kz_error_set(err, KZ_ECONFIG, "MappingStep is not built yet");
}
const kz_step_type kz__step_mapping = {"MappingStep", "(not built yet)", ph_init, ph_process, NULL};
