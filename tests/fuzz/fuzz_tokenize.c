/* Fuzz target for kz_word_tokenize (spans ordered, disjoint, in bounds, never
 * whitespace-led, the count independent of cap, exactly the reference loop's
 * tokens) and kz_matcher_scan_anchored (exactly the raw scan's hits that start
 * at a token start). */
#include <stdlib.h>
#include <string.h>
#include "kazu/kazu.h"
#include "kazu/match.h"
#include "kazu/text.h"
#include "kazu/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* The tokenizer's reference loop without its fast paths (src/text/tokenize.c). */
size_t kz__word_tokenize_ref(const char *text, size_t len, kz_span *out, size_t cap);

typedef struct hits {
    uint64_t n, sum;
    const uint8_t *starts; /* raw scan: keep only these starts */
    const uint8_t *ends;   /* and these ends */
} hits;

static int on_hit(void *user, const kz_match_hit *h) {
    hits *c = user;
    if (c->starts && !c->starts[h->start]) return 0;
    if (c->ends && !c->ends[h->end]) return 0;
    c->n++;
    c->sum += (h->start * 1000003u) ^ (h->end * 7919u) ^ h->payload;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 1 << 16) return 0;
    const char *text = (const char *)data;
    size_t total = kz_word_tokenize(text, size, NULL, 0);
    kz_span *t = malloc((total + 1) * sizeof *t);
    if (!t) return 0;
    if (kz_word_tokenize(text, size, t, total) != total) abort();
    kz_span *r = malloc((total + 1) * sizeof *r);
    if (!r) {
        free(t);
        return 0;
    }
    if (kz__word_tokenize_ref(text, size, r, total) != total) abort();
    for (size_t i = 0; i < total; i++)
        if (r[i].start != t[i].start || r[i].end != t[i].end) abort();
    free(r);
    bool valid = kz_utf8_valid(text, size, NULL);
    for (size_t i = 0; i < total; i++) {
        if (t[i].start < 0 || t[i].start >= t[i].end || (size_t)t[i].end > size) abort();
        if (i && t[i].start < t[i - 1].end) abort();
        char c = text[t[i].start];
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') abort();
        if (valid && (!kz_utf8_is_boundary(text, size, (size_t)t[i].start) ||
                      !kz_utf8_is_boundary(text, size, (size_t)t[i].end)))
            abort();
    }
    /* patterns: the first few tokens (valid UTF-8 ones), half of them case-sensitive */
    kz_match_builder *b;
    if (kz_match_builder_new(&b)) abort();
    for (size_t i = 0; i < total && i < 8; i++) {
        size_t l = (size_t)(t[i].end - t[i].start);
        if (l <= KZ_MATCH_MAX_PATTERN && kz_utf8_valid(text + t[i].start, l, NULL))
            kz_match_builder_add(b, text + t[i].start, l, (uint32_t)i, i & 1);
    }
    if (kz_match_builder_count(b)) {
        void *blob;
        size_t len;
        kz_matcher *m;
        if (kz_match_builder_finish(b, &blob, &len, NULL) || kz_matcher_open(blob, len, &m, NULL)) abort();
        size_t *starts = malloc((total + 1) * sizeof *starts);
        uint8_t *smap = calloc(size + 1, 1);
        if (starts && smap) {
            for (size_t i = 0; i < total; i++) starts[i] = (size_t)t[i].start, smap[t[i].start] = 1;
            hits raw = {0, 0, smap, NULL}, anc = {0, 0, NULL, NULL};
            kz_matcher_scan(m, text, size, 0, on_hit, &raw);
            kz_matcher_scan_anchored(m, text, size, starts, total, NULL, on_hit, &anc);
            if (raw.n != anc.n || raw.sum != anc.sum) abort();
            /* with an end filter: the raw hits that also end at a token end */
            uint8_t *emap = calloc(size + 1, 1);
            if (emap) {
                for (size_t i = 0; i < total; i++) emap[t[i].end] = 1;
                hits raw2 = {0, 0, smap, emap}, anc2 = {0, 0, NULL, NULL};
                kz_matcher_scan(m, text, size, 0, on_hit, &raw2);
                kz_matcher_scan_anchored(m, text, size, starts, total, emap, on_hit, &anc2);
                if (raw2.n != anc2.n || raw2.sum != anc2.sum) abort();
                free(emap);
            }
        }
        free(starts);
        free(smap);
        kz_matcher_close(m);
        free(blob);
    }
    kz_match_builder_free(b);
    free(t);
    return 0;
}
