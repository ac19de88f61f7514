/* kz_word_tokenize on every corpus text of ../shared/data/benchmarks (PubTator
 * titles/abstracts, the mtl2016 IOB sentences, the JNLPBA standoff texts, and
 * each raw file whole): its fast paths must give exactly the tokens of the
 * reference loop (kz__word_tokenize_ref). */
#include <dirent.h>
#include <zlib.h>
#include "kz_test.h"
#include "kazu/text.h"

size_t kz__word_tokenize_ref(const char *text, size_t len, kz_span *out, size_t cap);

typedef struct tally {
    uint64_t texts, tokens, bad;
} tally;

/* Tokens of text[0..len) both ways; a mismatch is reported once per file. */
static void compare(tally *t, const char *what, const char *text, size_t len) {
    size_t n = kz_word_tokenize(text, len, NULL, 0);
    kz_span *a = malloc((n + 1) * sizeof *a), *b = malloc((n + 1) * sizeof *b);
    if (!a || !b) {
        free(a), free(b);
        t->bad++;
        return;
    }
    size_t na = kz_word_tokenize(text, len, a, n), nb = kz__word_tokenize_ref(text, len, b, n + 1);
    bool same = na == n && nb == n;
    size_t at = 0;
    for (; same && at < n; at++) same = a[at].start == b[at].start && a[at].end == b[at].end;
    if (!same) {
        if (!t->bad) {
            size_t from = at ? (size_t)b[at - 1].start : 0;
            kz_test_fail(__FILE__, __LINE__, "%s: %zu tokens vs reference %zu; differs near '%.40s'", what,
                         na, nb, text + from);
        }
        t->bad++;
    }
    t->texts++;
    t->tokens += n;
    free(a), free(b);
}

/* Each line of buf, and the whole buffer. */
static void compare_lines(tally *t, const char *what, const char *buf, size_t len) {
    compare(t, what, buf, len);
    for (const char *p = buf, *end = buf + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        compare(t, what, p, l);
        p += l + 1;
    }
}

/* PubTator: the text after "id|t|" / "id|a|". */
static void pubtator(tally *t, const char *path) {
    size_t len;
    char *raw = kz_test_read_file(path, &len);
    if (!raw) return;
    compare_lines(t, path, raw, len);
    for (char *p = raw; *p;) {
        char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        char *bar = memchr(p, '|', l);
        if (bar && bar + 3 <= p + l && (bar[1] == 't' || bar[1] == 'a') && bar[2] == '|')
            compare(t, path, bar + 3, (size_t)(p + l - bar - 3));
        p += l + (nl != NULL);
    }
    free(raw);
}

/* IOB files: the first column of each sentence, joined by spaces. */
static void iob(tally *t, const char *path) {
    size_t len;
    char *raw = kz_test_read_file(path, &len);
    if (!raw) return;
    compare_lines(t, path, raw, len);
    char *sent = malloc(len + 1);
    size_t w = 0;
    for (char *p = raw;; p++) {
        char *nl = strchr(p, '\n');
        size_t l = nl ? (size_t)(nl - p) : strlen(p);
        if (l == 0 || (l == 1 && p[0] == '\r')) {
            if (w) compare(t, path, sent, w - 1);
            w = 0;
        } else {
            char *tab = memchr(p, '\t', l);
            size_t tl = tab ? (size_t)(tab - p) : l;
            memcpy(sent + w, p, tl);
            w += tl;
            sent[w++] = ' ';
        }
        if (!nl) break;
        p = nl;
    }
    if (w) compare(t, path, sent, w - 1);
    free(sent);
    free(raw);
}

/* The .txt members of a .tar.gz (ustar headers: name at 0, octal size at 124). */
static void tarball(tally *t, const char *path) {
    gzFile g = gzopen(path, "rb");
    if (!g) return;
    char hdr[512];
    while (gzread(g, hdr, 512) == 512 && hdr[0]) {
        size_t size = (size_t)strtoull(hdr + 124, NULL, 8);
        size_t padded = (size + 511) & ~(size_t)511;
        char *body = malloc(padded + 1);
        if (!body || gzread(g, body, (unsigned)padded) != (int)padded) {
            free(body);
            break;
        }
        size_t nl = strnlen(hdr, 100);
        if (hdr[156] == '0' || hdr[156] == 0) {
            if (nl > 4 && !memcmp(hdr + nl - 4, ".txt", 4)) compare_lines(t, path, body, size);
        }
        free(body);
    }
    gzclose(g);
}

KZ_TEST(tokenize_fast_equals_reference_on_corpora) {
    if (!kz_test_have_shared_data()) {
        printf("SKIP: %s is absent; tokenizer corpus test not run\n", KZ_SHARED_DATA);
        return;
    }
    static const char *const pub[] = {
        "benchmarks/bc5cdr_pubtator/CDR_TrainingSet.PubTator.txt",
        "benchmarks/bc5cdr_pubtator/CDR_DevelopmentSet.PubTator.txt",
        "benchmarks/biored_pubtator/Train.PubTator",
        "benchmarks/biored_pubtator/Dev.PubTator",
        "benchmarks/ncbi_disease_original/NCBItrainset_corpus.txt",
        "benchmarks/ncbi_disease_original/NCBIdevelopset_corpus.txt",
    };
    tally t = {0};
    char path[2048];
    for (size_t i = 0; i < sizeof pub / sizeof pub[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", KZ_SHARED_DATA, pub[i]);
        pubtator(&t, path);
    }
    snprintf(path, sizeof path, "%s/benchmarks/mtl2016", KZ_SHARED_DATA);
    DIR *d = opendir(path);
    KZ_CHECK(d != NULL);
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char sub[2400];
        snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
        DIR *d2 = opendir(sub);
        if (!d2) continue;
        for (struct dirent *f; (f = readdir(d2));) {
            size_t l = strlen(f->d_name);
            if (l < 4 || strcmp(f->d_name + l - 4, ".tsv")) continue;
            char file[2700];
            snprintf(file, sizeof file, "%s/%s", sub, f->d_name);
            iob(&t, file);
        }
        closedir(d2);
    }
    closedir(d);
    snprintf(path, sizeof path, "%s/benchmarks/jnlpba_standoff_train.tar.gz", KZ_SHARED_DATA);
    uint64_t before = t.texts;
    tarball(&t, path);
    KZ_CHECK(t.texts > before + 1000); /* the standoff texts were read */
    printf("compared %llu texts, %llu tokens; %llu differ\n", (unsigned long long)t.texts,
           (unsigned long long)t.tokens, (unsigned long long)t.bad);
    KZ_CHECK(t.tokens > 5000000);
    KZ_CHECK_INT(t.bad, 0);
}
