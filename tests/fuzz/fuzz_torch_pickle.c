/* Fuzz target for the safe pickle reader of torch's data.pkl: whatever the
 * bytes, it returns a table of tensors or an error, never runs anything. */
#include <stdint.h>
#include <stdlib.h>
#include "../../src/nn/load_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    kz_tensor_table tt;
    kz_error err;
    kz_error_clear(&err);
    int rc = kz__torch_pickle_read_mem(data, size, NULL, &tt, &err);
    if (rc != 0) {
        if (tt.n || err.code != rc) abort();
        return 0;
    }
    for (size_t i = 0; i < tt.n; i++) {
        const kz_tensor *t = &tt.t[i];
        uint64_t n;
        if (!t->name[0] || t->ndim > KZ_TENSOR_MAX_DIMS || !kz__shape_numel(t->shape, t->ndim, &n) ||
            n * kz__dtype_size(t->dtype) != t->nbytes)
            abort();
    }
    kz__tensor_table_free(&tt);
    return 0;
}
