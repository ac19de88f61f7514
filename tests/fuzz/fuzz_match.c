/* Fuzz target for the matching automaton. First byte picks the mode:
 *   0: the rest is a blob for kz_matcher_open, then scanned (full and anchored)
 *      with a fixed text;
 *   1: patterns (lines of the first part) are built into an automaton and the
 *      part after the first NUL is scanned; every hit is checked, and anchored
 *      walks from every code point start must give exactly the full scan's hits;
 *   2: as 1, then bytes of the valid blob are overwritten by the input's tail
 *      (so the walks' bounds checks meet corrupt arrays behind a good header).
 * Nothing may crash, hang or leak. */
#include <stdlib.h>
#include <string.h>
#include "kazu/match.h"
#include "kazu/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct ctx {
    const char *text;
    size_t len;
    size_t n;
    bool valid; /* text is valid UTF-8: hits then lie on code point boundaries */
} ctx;

static int check_hit(void *user, const kz_match_hit *h) {
    ctx *c = user;
    if (h->start >= h->end || h->end > c->len) abort();
    c->n++;
    return c->n > 100000; /* stop pathological scans early */
}

static int check_hit_valid(void *user, const kz_match_hit *h) {
    ctx *c = user;
    if (h->start >= h->end || h->end > c->len) abort();
    if (c->valid &&
        (!kz_utf8_is_boundary(c->text, c->len, h->start) || !kz_utf8_is_boundary(c->text, c->len, h->end)))
        abort();
    c->n++;
    return c->n > 100000;
}

typedef struct sum {
    uint64_t n, h;
    const uint8_t *starts; /* full scan: count only hits starting here */
} sum;

static int sum_hit(void *user, const kz_match_hit *h) {
    sum *s = user;
    if (s->starts && !s->starts[h->start]) return 0;
    s->n++;
    s->h += (h->start * 1000003u) ^ (h->end * 7919u) ^ ((uint64_t)h->payload << 1) ^ h->case_sensitive;
    return 0;
}

/* Full scans (both flags) and anchored walks from every byte offset, with an
 * end filter built from the text. */
static void scan_all(const kz_matcher *m, const char *text, size_t len, kz_match_fn fn) {
    ctx c = {text, len, 0, kz_utf8_valid(text, len, NULL)};
    kz_matcher_scan(m, text, len, 0, fn, &c);
    c.n = 0;
    kz_matcher_scan(m, text, len, KZ_MATCH_WORD_BOUNDARY, fn, &c);
    size_t *starts = malloc((len + 1) * sizeof *starts);
    uint8_t *ends = malloc(len + 1);
    if (starts && ends) {
        for (size_t i = 0; i <= len; i++) starts[i] = i, ends[i] = (uint8_t)(i == len || (text[i] & 1));
        c.n = 0;
        kz_matcher_scan_anchored(m, text, len, starts, len + 1, NULL, fn, &c);
        c.n = 0;
        kz_matcher_scan_anchored(m, text, len, starts, len + 1, ends, fn, &c);
    }
    free(starts), free(ends);
}

/* For a valid automaton: anchored walks from every code point start report
 * exactly the full scan's hits. */
static void check_anchored(const kz_matcher *m, const char *text, size_t len) {
    size_t *starts = malloc((len + 1) * sizeof *starts);
    uint8_t *smap = calloc(len + 1, 1);
    if (!starts || !smap) {
        free(starts), free(smap);
        return;
    }
    size_t ns = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)text[i] & 0xc0) != 0x80) starts[ns++] = i, smap[i] = 1;
    sum full = {0, 0, smap}, anc = {0, 0, NULL};
    kz_matcher_scan(m, text, len, 0, sum_hit, &full);
    kz_matcher_scan_anchored(m, text, len, starts, ns, NULL, sum_hit, &anc);
    if (full.n != anc.n || full.h != anc.h) abort();
    free(starts), free(smap);
}

static const char FIXED[] = "Lung cancer and BRCA1 ALK-Abello \xc4\xb0stanbul \xff IL-2 abc abd";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    int mode = data[0] % 3;
    data++, size--;
    if (mode == 0) {
        void *blob = aligned_alloc(64, (size + 63) & ~(size_t)63);
        if (!blob) return 0;
        if (size) memcpy(blob, data, size);
        kz_matcher *m = NULL;
        if (kz_matcher_open(blob, size, &m, NULL) == 0) {
            scan_all(m, FIXED, sizeof FIXED - 1, check_hit);
            kz_matcher_close(m);
        }
        free(blob);
        return 0;
    }
    const uint8_t *nul = memchr(data, 0, size);
    size_t plen = nul ? (size_t)(nul - data) : size;
    const char *text = nul ? (const char *)nul + 1 : FIXED;
    size_t tlen = nul ? size - plen - 1 : sizeof FIXED - 1;
    kz_match_builder *b;
    if (kz_match_builder_new(&b)) return 0;
    uint32_t payload = 0;
    for (size_t i = 0; i < plen;) {
        const uint8_t *e = memchr(data + i, '\n', plen - i);
        size_t l = e ? (size_t)(e - data - i) : plen - i;
        bool cs = l > 0 && data[i] == '!';
        kz_match_builder_add(b, (const char *)data + i + cs, l - cs, payload++, cs); /* errors are fine */
        i += l + 1;
    }
    void *blob = NULL;
    size_t blen = 0;
    int rc = kz_match_builder_finish(b, &blob, &blen, NULL);
    kz_match_builder_free(b);
    if (rc) return 0;
    kz_matcher *m = NULL;
    if (kz_matcher_open(blob, blen, &m, NULL)) abort(); /* our own blob must open */
    if (mode == 1) {
        scan_all(m, text, tlen, check_hit_valid);
        check_anchored(m, text, tlen);
    } else {
        /* overwrite past the header with the text bytes, cycling through the blob */
        for (size_t i = 0; i + 1 < tlen; i += 2) {
            size_t pos = 128 + ((size_t)(uint8_t)text[i] * 131 + i * 977) % (blen > 128 ? blen - 128 : 1);
            if (i & 2)
                pos = 128 + (pos % 4096) % (blen > 128 ? blen - 128 : 1); /* often the units near the root */
            if (pos < blen) ((uint8_t *)blob)[pos] = (uint8_t)text[i + 1];
        }
        scan_all(m, FIXED, sizeof FIXED - 1, check_hit);
        scan_all(m, text, tlen, check_hit);
    }
    kz_matcher_close(m);
    free(blob);
    return 0;
}
