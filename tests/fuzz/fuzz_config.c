/* Fuzz target: the YAML configuration loader, the typed getters over every
 * node, and pipeline construction from the loaded tree. */
#include <stdint.h>
#include <stddef.h>
#include "kazu/kazu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(const kz_config_node *n, int depth) {
    if (depth > 80) return;
    int64_t i64;
    double d;
    bool b;
    const char *s;
    const char *list[8];
    size_t nl;
    kz_error err;
    for (size_t i = 0; i < kz_config_node_len(n); i++) {
        kz_str key = kz_config_node_key_at(n, i);
        if (key.ptr) {
            kz_config_get_int(n, key.ptr, 0, -1000, 1000, &i64, &err);
            kz_config_get_double(n, key.ptr, 0, -1, 1, &d, &err);
            kz_config_get_bool(n, key.ptr, false, &b, &err);
            kz_config_get_string(n, key.ptr, NULL, &s, &err);
            kz_config_get_strings(n, key.ptr, NULL, 0, list, 8, &nl, &err);
            if (kz_config_get(n, key.ptr) == NULL) __builtin_trap(); /* every listed key is found */
        }
        walk(kz_config_node_at(n, i), depth + 1);
    }
    kz_str v = kz_config_node_scalar(n);
    if (v.ptr && v.ptr[v.len] != 0) __builtin_trap(); /* scalars are NUL-terminated */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    kz_config_params p = kz_config_default_params();
    p.max_nodes = 5000;
    kz_config *cfg;
    kz_error err;
    if (kz_config_load_string(&cfg, (const char *)data, size, "fuzz", &p, &err)) {
        char buf[1024];
        kz_error_format(&err, buf, sizeof buf);
        return 0;
    }
    const kz_config_node *root = kz_config_root(cfg);
    walk(root, 0);
    static const char *const keys[] = {"pipeline"};
    kz_config_check_keys(root, keys, 1, &err);
    kz_pipeline *pl;
    if (kz_pipeline_new(root, &pl, &err) == 0) {
        kz_pipeline_run_params rp = kz_pipeline_run_default_params();
        rp.step_group = "g";
        kz_pipeline_check_run_params(pl, &rp, &err);
        kz_pipeline_free(pl);
    }
    kz_config_free(cfg);
    return 0;
}
