/* Fuzz target for the WordPiece tokenizer. The first byte picks a tokenizer
 * configuration (or, for 4, treats the rest as a vocabulary file to load); the
 * rest is the text. Invalid UTF-8 must be refused with nothing appended; valid
 * text must give tokens whose offsets are in bounds, on UTF-8 boundaries and
 * non-decreasing, with word indices 0, 1, 2, ... and ASCII pieces that spell the
 * (lowercased) original. */
#include <stdlib.h>
#include <string.h>
#include "kazu/nn.h"
#include "kazu/utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char k_vocab[] =
    "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n"
    "a\nb\nc\nd\ne\nf\ni\nn\no\ns\nt\nx\nA\nB\nT\n"
    "##a\n##b\n##c\n##d\n##e\n##f\n##i\n##n\n##o\n##s\n##t\n##x\n##T\n"
    "the\nan\n##an\ncafe\nfoo\n##foo\n!\n,\n.\n-\n(\n)\n[\n]\n'\n"
    "\xc3\xa9\n##\xc3\xa9\n\xce\xb1\n##\xce\xb2\n\xe4\xb8\xad\n\xcc\x87\n##\xcc\x87\n"
    "\xef\xbc\x81\n\xf0\x9f\x98\x80\n##\xf0\x9d\x85\xa5\n\xc3\x9f\n";

static kz_wordpiece *g_wp[4];

static void init(void) {
    static const char *never[] = {"[foo]", "Foo"};
    kz_wordpiece_opts o[4];
    o[0] = kz_wordpiece_default_opts(true);
    o[1] = kz_wordpiece_default_opts(false);
    o[2] = kz_wordpiece_default_opts(true);
    o[2].strip_accents = 0;
    o[2].never_split = never;
    o[2].n_never_split = 2;
    o[3] = kz_wordpiece_default_opts(false);
    o[3].strip_accents = 1;
    o[3].tokenize_chinese_chars = false;
    o[3].max_input_chars_per_word = 8;
    for (int k = 0; k < 4; k++)
        if (kz_wordpiece_from_buffer(k_vocab, sizeof k_vocab - 1, &o[k], &g_wp[k], NULL)) abort();
}

static bool is_boundary(const char *s, size_t len, int64_t off) {
    return off == 0 || off == (int64_t)len || (off < (int64_t)len && ((unsigned char)s[off] & 0xC0) != 0x80);
}

static void check(const kz_wordpiece *wp, bool lower, const char *s, size_t len) {
    kz_wp_token *t = NULL, *u = NULL;
    size_t n = 0, cap = 0, n2 = 0, cap2 = 0;
    kz_error err;
    int rc = kz_wordpiece_encode(wp, s, len, &t, &n, &cap, &err);
    if (!kz_utf8_valid(s, len, NULL)) {
        if (rc != KZ_EUTF8 || n != 0) abort();
        free(t);
        return;
    }
    if (rc != 0) abort();
    kz_wordpiece_special sp = kz_wordpiece_specials(wp);
    int32_t unk = sp.unk;
    int64_t prev_word_end = 0;
    for (size_t k = 0; k < n; k++) {
        const kz_wp_token *x = &t[k];
        if (x->id < 0 || (uint32_t)x->id >= kz_wordpiece_vocab_size(wp)) abort();
        if (x->start < 0 || x->start >= x->end || x->end > (int64_t)len) abort();
        if (!is_boundary(s, len, x->start) || !is_boundary(s, len, x->end)) abort();
        if (k == 0 ? x->word != 0 : (x->word != t[k - 1].word && x->word != t[k - 1].word + 1)) abort();
        if (k > 0 && (x->start < t[k - 1].start || x->end < t[k - 1].end)) abort();
        bool first = k == 0 || x->word != t[k - 1].word;
        if (first && x->start < prev_word_end) abort(); /* words do not overlap */
        if (k + 1 == n || t[k + 1].word != x->word) prev_word_end = x->end;
        /* A piece over printable ASCII spells the original (lowercased when asked). */
        bool ascii = true;
        for (int64_t q = x->start; q < x->end && ascii; q++) ascii = s[q] >= 0x20 && s[q] < 0x7f;
        /* Special tokens are matched verbatim, never lowercased. */
        bool special = x->id == sp.cls || x->id == sp.sep || x->id == sp.pad || x->id == sp.mask;
        if (ascii && x->id != unk) {
            kz_str tok = kz_wordpiece_token(wp, x->id);
            size_t off = !first && tok.len >= 2 && !memcmp(tok.ptr, "##", 2) ? 2 : 0;
            if (tok.len - off != (size_t)(x->end - x->start)) abort();
            for (size_t q = 0; q < tok.len - off; q++) {
                char c = s[x->start + (int64_t)q];
                if (lower && !special && c >= 'A' && c <= 'Z') c = (char)(c + 32);
                if (tok.ptr[off + q] != c) abort();
            }
        }
    }
    /* Deterministic, and appending keeps what was there. */
    if (kz_wordpiece_encode(wp, s, len, &u, &n2, &cap2, NULL) || n2 != n ||
        (n && memcmp(t, u, n * sizeof *t)))
        abort();
    if (kz_wordpiece_encode(wp, s, len, &u, &n2, &cap2, NULL) || n2 != 2 * n ||
        (n && memcmp(t, u + n, n * sizeof *t)))
        abort();
    free(t);
    free(u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_wp[0]) init();
    if (size == 0) return 0;
    int mode = data[0] % 5;
    const char *s = (const char *)data + 1;
    size_t len = size - 1;
    if (mode < 4) {
        check(g_wp[mode], mode == 0 || mode == 2, s, len);
        return 0;
    }
    /* The rest is a vocabulary: loading must succeed or fail cleanly. */
    kz_wordpiece_opts o = kz_wordpiece_default_opts(data[0] & 0x10);
    kz_wordpiece *wp = NULL;
    kz_error err;
    int rc = kz_wordpiece_from_buffer(s, len, &o, &wp, &err);
    if (rc) {
        if (wp || (rc != KZ_EPARSE && rc != KZ_ELIMIT && rc != KZ_ENOMEM)) abort();
        return 0;
    }
    for (uint32_t id = 0; id < kz_wordpiece_vocab_size(wp); id++) {
        kz_str tok = kz_wordpiece_token(wp, (int32_t)id);
        if (!tok.ptr || kz_wordpiece_token_id(wp, tok) != (int32_t)id) abort();
    }
    static const char sample[] = "The [CLS] caf\xc3\xa9 x\xcc\x81y A-B, \xe4\xb8\xad\xe5\x9b\xbd!! aaaa";
    kz_wp_token *t = NULL;
    size_t n = 0, cap = 0;
    rc = kz_wordpiece_encode(wp, sample, sizeof sample - 1, &t, &n, &cap, NULL);
    if (rc != 0 && rc != KZ_ENOTFOUND) abort();
    free(t);
    kz_wordpiece_free(wp);
    return 0;
}
