/* Fuzz target for the Kazu string normaliser: the first byte picks the entity class, the
 * rest is the text. Invalid UTF-8 must be refused; valid text must give upper-cased UTF-8. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "kazu/kazu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Python's str.split() whitespace, which the collapsing classes never leave in. */
static bool py_space(int32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
           c == 0x3000;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const classes[] = {NULL, "gene", "disease", "anatomy", "company", "drug"};
    if (size == 0) return 0;
    const char *cls = classes[data[0] % 6];
    const char *s = (const char *)data + 1;
    size_t len = size - 1;
    char *out = NULL, *again = NULL;
    size_t out_len = 0, again_len = 0;
    bool sym = false;
    kz_error err;
    int rc = kz_normalise(s, len, cls, &out, &out_len, &err);
    int rc_sym = kz_normalise_is_symbolic(s, len, cls, &sym, &err);
    bool valid = kz_utf8_valid(s, len, NULL);
    if (rc != rc_sym) abort();
    if (!valid) {
        if (rc != KZ_EUTF8 || out) abort();
        return 0;
    }
    if (rc != 0 || !out || out[out_len] != '\0' || !kz_utf8_valid(out, out_len, NULL)) abort();
    /* Every class ends with str.upper(), whose result utf8proc's simple mapping leaves alone. */
    bool collapses = !(cls && !strcmp(cls, "company") && sym);
    for (size_t i = 0; i < out_len;) {
        int32_t c = kz_utf8_decode(out, out_len, &i);
        if (utf8proc_toupper(c) != c) abort();
        /* " ".join(s.split()): single spaces inside, none at the ends, no other whitespace. */
        if (collapses && py_space(c) && (c != ' ' || i == 1 || i == out_len || out[i] == ' ')) abort();
    }
    if (kz_normalise(s, len, cls, &again, &again_len, NULL) || again_len != out_len ||
        memcmp(out, again, out_len))
        abort();
    free(out);
    free(again);
    return 0;
}
