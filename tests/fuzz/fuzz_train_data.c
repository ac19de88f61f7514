/* Fuzz target for the training-corpus parsers (src/train/data_readers.c,
 * data_corpus.c): the first byte picks CoNLL/IOB, a brat .txt/.ann pair
 * (split at the first NUL byte), a tar image of brat pairs, the corpus-list
 * YAML, or ${VAR} expansion. Every document produced must be consistent. */
#include <stdlib.h>
#include <string.h>
#include "../../src/train/data_int.h"
#include "kazu/kazu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_doc(const kz_doc *d) {
    for (uint32_t s = 0; s < d->n_sections; s++) {
        const kz_section *sec = d->sections[s];
        for (uint32_t i = 0; i < sec->n_entities; i++) {
            const kz_entity *e = sec->entities[i];
            if (e->start < 0 || e->end > (int64_t)sec->text.len || e->start >= e->end) abort();
        }
    }
}

static int on_doc(kz_doc *d, void *user) {
    (void)user;
    check_doc(d);
    kz_doc_free(d);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int mode = data[0] % 5;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    kz_error err;
    kz_error_clear(&err);
    kz__read_stats st = {0};
    switch (mode) {
    case 0: kz__conll_parse(s, n, "fuzz", on_doc, NULL, &st, &err); break;
    case 1: {
        const char *nul = memchr(s, 0, n);
        size_t tl = nul ? (size_t)(nul - s) : n;
        const char *ann = nul ? nul + 1 : "";
        size_t al = nul ? n - tl - 1 : 0;
        kz_doc *d = NULL;
        size_t bad = 0;
        if (kz__brat_parse("fuzz", s, tl, ann, al, &d, &bad, &err) == 0) {
            check_doc(d);
            kz_doc_free(d);
        }
        break;
    }
    case 2: kz__brat_tar_parse(s, n, "fuzz", on_doc, NULL, &st, &err); break;
    case 3: {
        kz__corpus_list l;
        if (kz__corpora_parse(s, n, "fuzz.yaml", "/base", &l, &err) == 0) {
            for (size_t i = 0; i < l.n; i++)
                if (!l.v[i].name || !l.v[i].path || !l.v[i].n_map || !l.v[i].classes) abort();
            kz__corpora_free(&l);
        }
        break;
    }
    default: {
        char *z = malloc(n + 1);
        if (!z) return 0;
        memcpy(z, s, n);
        z[n] = 0;
        free(kz__expand_env(z));
        free(z);
        break;
    }
    }
    return 0;
}
