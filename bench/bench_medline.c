/* Benchmark: PubMed/MEDLINE XML (.xml.gz) -> Kazu JSONL through the public reader
 * and writer, on a synthetic baseline-like file built from real corpus sentences. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "kazu/kazu.h"

static void usage(void) {
    fprintf(
        stderr,
        "usage: bench_medline [--size-mb N] [--gen PATH] [--keep] [--input PATH] [--out PATH]\n"
        "                     [--corpus DIR] [--seed N]\n"
        "  --size-mb N   compressed size of the generated file (default 500)\n"
        "  --gen PATH    where to generate it (default /tmp/kz_bench_medline.xml.gz; removed unless --keep)\n"
        "  --input PATH  convert this PubMed XML (.xml or .xml.gz) instead of generating one\n"
        "  --out PATH    JSONL output (default /dev/null; it is hashed either way)\n"
        "  --corpus DIR  PubTator files whose titles/abstracts provide the text\n"
        "                (default ../shared/data/benchmarks/bc5cdr_pubtator next to the repository)\n");
    exit(2);
}

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "bench_medline: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- text pool from PubTator files -------------------------------------------- */
typedef struct {
    char **v;
    size_t n, cap;
} strvec;

static void push(strvec *s, const char *p, size_t n) {
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 1024;
        s->v = realloc(s->v, s->cap * sizeof *s->v);
        if (!s->v) die("out of memory");
    }
    char *c = malloc(n + 1);
    if (!c) die("out of memory");
    memcpy(c, p, n);
    c[n] = 0;
    s->v[s->n++] = c;
}

typedef struct {
    strvec titles, sentences, words;
} pool;

/* "PMID|t|title" and "PMID|a|abstract" lines; abstracts cut at ". ". */
static void load_pubtator(pool *p, const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        char *bar = strchr(line, '|');
        if (!bar || bar == line || (bar[1] != 't' && bar[1] != 'a') || bar[2] != '|' || !bar[3]) continue;
        char *text = bar + 3;
        if (bar[1] == 't') {
            push(&p->titles, text, strlen(text));
            for (char *w = strtok(text, " "); w; w = strtok(NULL, " ")) { /* plain words for names */
                size_t k = 0;
                while (w[k] && (isalnum((unsigned char)w[k]) || w[k] == '-')) k++;
                if (!w[k] && k >= 4) push(&p->words, w, k);
            }
            continue;
        }
        for (char *s = text; *s;) {
            char *end = strstr(s, ". ");
            size_t len = end ? (size_t)(end - s) + 1 : strlen(s);
            push(&p->sentences, s, len);
            s += len;
            while (*s == ' ') s++;
        }
    }
    free(line);
    fclose(f);
}

static void load_pool(pool *p, const char *dir) {
    DIR *d = opendir(dir);
    if (!d) die("cannot open corpus directory %s: %s (use --corpus)", dir, strerror(errno));
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        load_pubtator(p, path);
    }
    closedir(d);
    if (p->titles.n < 10 || p->sentences.n < 10 || p->words.n < 10)
        die("no PubTator titles/abstracts in %s", dir);
}

/* ---- generator ----------------------------------------------------------------- */
static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
    g_rng ^= g_rng << 13;
    g_rng ^= g_rng >> 7;
    g_rng ^= g_rng << 17;
    return g_rng;
}
static size_t pick(size_t n) { return (size_t)(rnd() % n); }

typedef struct {
    char *d;
    size_t len, cap;
} outbuf;

static void put(outbuf *o, const char *s, size_t n) {
    if (o->len + n > o->cap) {
        while (o->len + n > o->cap) o->cap = o->cap ? o->cap * 2 : 1 << 20;
        o->d = realloc(o->d, o->cap);
        if (!o->d) die("out of memory");
    }
    memcpy(o->d + o->len, s, n);
    o->len += n;
}
static void puts_(outbuf *o, const char *s) { put(o, s, strlen(s)); }
static void printf_(outbuf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void printf_(outbuf *o, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    put(o, "", 0);
    if (o->len + (size_t)n + 1 > o->cap) {
        while (o->len + (size_t)n + 1 > o->cap) o->cap *= 2;
        o->d = realloc(o->d, o->cap);
        if (!o->d) die("out of memory");
    }
    va_start(ap, fmt);
    vsnprintf(o->d + o->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    o->len += (size_t)n;
}

/* Escaped text; with probability 1/every one word is set in <i>...</i>, as
 * MEDLINE does for gene and species names. */
static void put_text(outbuf *o, const char *s, unsigned every) {
    size_t n = strlen(s), a = SIZE_MAX, b = SIZE_MAX;
    if (every && pick(every) == 0) {
        a = pick(n);
        while (a < n && s[a] != ' ') a++;
        if (a < n) {
            b = ++a;
            while (b < n && s[b] != ' ' && s[b] != '.' && s[b] != ',') b++;
        }
    }
    for (size_t i = 0; i < n; i++) {
        if (i == a) puts_(o, "<i>");
        if (i == b) puts_(o, "</i>");
        switch (s[i]) {
        case '&': puts_(o, "&amp;"); break;
        case '<': puts_(o, "&lt;"); break;
        case '>': puts_(o, "&gt;"); break;
        default: put(o, s + i, 1);
        }
    }
    if (b == n) puts_(o, "</i>");
}

static const char *const k_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
static const char *const k_labels[] = {"BACKGROUND", "METHODS", "RESULTS", "CONCLUSIONS"};

static void sentences(outbuf *o, const pool *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (i) puts_(o, " ");
        put_text(o, p->sentences.v[pick(p->sentences.n)], 6);
        if (pick(25) == 0) puts_(o, " (P &lt; 0.05, Ca<sup>2+</sup>)");
    }
}

static void article(outbuf *o, const pool *p, long pmid) {
    const char *w1 = p->words.v[pick(p->words.n)], *w2 = p->words.v[pick(p->words.n)];
    int year = 1975 + (int)pick(50);
    printf_(o,
            "<PubmedArticle>\n  <MedlineCitation Status=\"MEDLINE\" Owner=\"NLM\">\n"
            "    <PMID Version=\"1\">%ld</PMID>\n"
            "    <DateCompleted><Year>%d</Year><Month>%02d</Month><Day>%02d</Day></DateCompleted>\n",
            pmid, year + 1, 1 + (int)pick(12), 1 + (int)pick(28));
    printf_(o,
            "    <Article PubModel=\"Print\">\n      <Journal>\n"
            "        <ISSN IssnType=\"Print\">%04d-%04d</ISSN>\n"
            "        <JournalIssue CitedMedium=\"Print\"><Volume>%d</Volume><Issue>%d</Issue>"
            "<PubDate><Year>%d</Year><Month>%s</Month></PubDate></JournalIssue>\n",
            (int)pick(10000), (int)pick(10000), 1 + (int)pick(300), 1 + (int)pick(12), year,
            k_months[pick(12)]);
    printf_(
        o,
        "        <Title>Journal of %s %s</Title>\n        <ISOAbbreviation>J %.4s %.4s</ISOAbbreviation>\n"
        "      </Journal>\n      <ArticleTitle>",
        w1, w2, w1, w2);
    put_text(o, p->titles.v[pick(p->titles.n)], 3);
    printf_(o, "</ArticleTitle>\n      <Pagination><MedlinePgn>%d-%d</MedlinePgn></Pagination>\n",
            (int)pick(900), 900 + (int)pick(99));
    unsigned kind = (unsigned)pick(20); /* 1 in 20 without abstract, 6 in 20 structured */
    if (kind) {
        puts_(o, "      <Abstract>\n");
        if (kind <= 6) {
            for (int l = 0; l < 4; l++) {
                printf_(o, "        <AbstractText Label=\"%s\" NlmCategory=\"%s\">", k_labels[l],
                        k_labels[l]);
                sentences(o, p, 1 + pick(3));
                puts_(o, "</AbstractText>\n");
            }
        } else {
            puts_(o, "        <AbstractText>");
            sentences(o, p, 4 + pick(7));
            puts_(o, "</AbstractText>\n");
        }
        printf_(o,
                "        <CopyrightInformation>Copyright %d Elsevier Inc.</CopyrightInformation>\n"
                "      </Abstract>\n",
                year);
    }
    puts_(o, "      <AuthorList CompleteYN=\"Y\">\n");
    for (size_t a = 0, n = 1 + pick(8); a < n; a++) {
        const char *last = p->words.v[pick(p->words.n)], *first = p->words.v[pick(p->words.n)];
        printf_(o,
                "        <Author ValidYN=\"Y\"><LastName>%s</LastName><ForeName>%s</ForeName>"
                "<Initials>%c</Initials></Author>\n",
                last, first, first[0]);
    }
    printf_(o,
            "      </AuthorList>\n      <Language>eng</Language>\n"
            "      <PublicationTypeList><PublicationType UI=\"D016428\">Journal Article</PublicationType>"
            "</PublicationTypeList>\n    </Article>\n"
            "    <MedlineJournalInfo><Country>United States</Country><MedlineTA>J %.4s</MedlineTA>"
            "<NlmUniqueID>%d</NlmUniqueID></MedlineJournalInfo>\n    <MeshHeadingList>\n",
            w1, 1000000 + (int)pick(9000000));
    for (size_t m = 0, n = 3 + pick(10); m < n; m++)
        printf_(o,
                "      <MeshHeading><DescriptorName UI=\"D%06d\" "
                "MajorTopicYN=\"%c\">%s</DescriptorName></MeshHeading>\n",
                (int)pick(1000000), pick(4) ? 'N' : 'Y', p->words.v[pick(p->words.n)]);
    printf_(o,
            "    </MeshHeadingList>\n  </MedlineCitation>\n  <PubmedData>\n    <History><PubMedPubDate "
            "PubStatus=\"pubmed\"><Year>%d</Year><Month>%d</Month><Day>%d</Day></PubMedPubDate></History>\n"
            "    <PublicationStatus>ppublish</PublicationStatus>\n    <ArticleIdList>\n"
            "      <ArticleId IdType=\"pubmed\">%ld</ArticleId>\n"
            "      <ArticleId IdType=\"doi\">10.%d/j.%lx</ArticleId>\n    </ArticleIdList>\n"
            "  </PubmedData>\n</PubmedArticle>\n",
            year, 1 + (int)pick(12), 1 + (int)pick(28), pmid, 1000 + (int)pick(9000),
            (unsigned long)rnd() & 0xffffff);
}

/* Write articles until the compressed file reaches target bytes. */
static void generate(const char *path, double target, const char *corpus) {
    pool p = {0};
    load_pool(&p, corpus);
    gzFile gz = gzopen(path, "wb6");
    if (!gz) die("cannot create %s", path);
    gzbuffer(gz, 1 << 20);
    outbuf o = {0};
    puts_(&o, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!DOCTYPE PubmedArticleSet PUBLIC \"-//NLM//DTD "
              "PubMedArticle, 1st January 2025//EN\" "
              "\"https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_250101.dtd\">\n"
              "<PubmedArticleSet>\n");
    long pmid = 1;
    for (;; pmid++) {
        article(&o, &p, pmid);
        if (o.len >= 1 << 20) {
            if (gzwrite(gz, o.d, (unsigned)o.len) != (int)o.len) die("write to %s failed", path);
            o.len = 0;
            if ((double)gzoffset(gz) >= target) break;
        }
    }
    printf_(&o, "<DeleteCitation>\n<PMID Version=\"1\">%ld</PMID>\n</DeleteCitation>\n</PubmedArticleSet>\n",
            pmid + 1);
    if (gzwrite(gz, o.d, (unsigned)o.len) != (int)o.len || gzclose(gz) != Z_OK)
        die("write to %s failed", path);
    printf("generated %ld articles\n", pmid);
}

/* ---- conversion ------------------------------------------------------------------ */
/* Output sink: FNV-1a over every byte, forwarded to the real output. */
typedef struct {
    FILE *f;
    uint64_t hash, bytes;
} sink;

static ssize_t sink_write(void *c, const char *buf, size_t n) {
    sink *s = c;
    for (size_t i = 0; i < n; i++) s->hash = (s->hash ^ (unsigned char)buf[i]) * 0x100000001b3ull;
    s->bytes += n;
    return fwrite(buf, 1, n, s->f) == n ? (ssize_t)n : -1;
}

int main(int argc, char **argv) {
    double size_mb = 500;
    const char *gen = "/tmp/kz_bench_medline.xml.gz", *input = NULL, *out_path = "/dev/null", *corpus = NULL;
    bool keep = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (!strcmp(a, "--size-mb") && has)
            size_mb = atof(argv[++i]);
        else if (!strcmp(a, "--gen") && has)
            gen = argv[++i];
        else if (!strcmp(a, "--keep"))
            keep = true;
        else if (!strcmp(a, "--input") && has)
            input = argv[++i];
        else if (!strcmp(a, "--out") && has)
            out_path = argv[++i];
        else if (!strcmp(a, "--corpus") && has)
            corpus = argv[++i];
        else if (!strcmp(a, "--seed") && has)
            g_rng = strtoull(argv[++i], NULL, 10) * 0x9E3779B97F4A7C15ull | 1;
        else
            usage();
    }
    char corpus_buf[4096];
    if (!corpus) { /* the repository's sibling ../shared, found from this source file's path */
        snprintf(corpus_buf, sizeof corpus_buf, "%s", __FILE__);
        char *slash = strrchr(corpus_buf, '/');
        if (slash) *slash = 0; /* bench/ */
        slash = strrchr(corpus_buf, '/');
        if (slash) *slash = 0; /* repository root */
        strncat(corpus_buf, "/../shared/data/benchmarks/bc5cdr_pubtator",
                sizeof corpus_buf - strlen(corpus_buf) - 1);
        corpus = corpus_buf;
    }

    printf("bench_medline (kazu-c %s)\n", kz_version());
    fflush(stdout); /* before fork: the child must not repeat buffered output */
    double gen_s = 0, gen_rss_mb = 0;
    if (!input) {
        /* Generate in a child so the parent's peak RSS measures the conversion only. */
        double t0 = now_s();
        pid_t pid = fork();
        if (pid < 0) die("fork: %s", strerror(errno));
        if (pid == 0) {
            generate(gen, size_mb * 1e6, corpus);
            fflush(stdout);
            _exit(0);
        }
        int status;
        if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
            die("generation failed");
        gen_s = now_s() - t0;
        struct rusage ru;
        getrusage(RUSAGE_CHILDREN, &ru);
        gen_rss_mb = (double)ru.ru_maxrss / 1024.0;
        input = gen;
    }
    struct stat st;
    if (stat(input, &st) != 0) die("cannot stat %s: %s", input, strerror(errno));

    kz_error err;
    char msg[1024];
    kz_reader *r;
    if (kz_reader_open_path(&r, input, KZ_FORMAT_PUBMED_XML, NULL, &err))
        die("%s", kz_error_format(&err, msg, sizeof msg));
    sink s = {fopen(out_path, "wb"), 0xcbf29ce484222325ull, 0};
    if (!s.f) die("cannot open %s: %s", out_path, strerror(errno));
    FILE *f = fopencookie(&s, "w", (cookie_io_functions_t){.write = sink_write});
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    kz_writer *w;
    if (kz_writer_open_file(&w, f, out_path, KZ_FORMAT_KAZU_JSON, NULL, &err))
        die("%s", kz_error_format(&err, msg, sizeof msg));
    double t0 = now_s();
    long docs = 0, errors = 0;
    for (;;) {
        kz_doc *d;
        int rc = kz_reader_next(r, &d, &err);
        if (rc == 0) break;
        if (rc < 0) {
            if (errors++ < 5) fprintf(stderr, "%s\n", kz_error_format(&err, msg, sizeof msg));
            continue;
        }
        if (kz_writer_write(w, d, &err)) die("%s", kz_error_format(&err, msg, sizeof msg));
        kz_doc_free(d);
        docs++;
    }
    double uncompressed = (double)kz_reader_bytes(r);
    kz_reader_close(r);
    if (kz_writer_close(w, &err)) die("%s", kz_error_format(&err, msg, sizeof msg));
    fclose(f);
    fclose(s.f);
    double secs = now_s() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double rss_mb = (double)ru.ru_maxrss / 1024.0;

    if (gen_s > 0) printf("generate: %s in %.1f s (peak RSS %.1f MB)\n", gen, gen_s, gen_rss_mb);
    printf("input:    %s  %.1f MB compressed, %.1f MB uncompressed\n", input, (double)st.st_size / 1e6,
           uncompressed / 1e6);
    printf("convert:  %ld docs, %ld errors in %.2f s: %.0f docs/s, %.1f MB/s compressed, %.1f MB/s "
           "uncompressed\n",
           docs, errors, secs, (double)docs / secs, (double)st.st_size / 1e6 / secs,
           uncompressed / 1e6 / secs);
    printf("output:   %s  %.1f MB kazu-json, fnv1a64 %016llx\n", out_path, (double)s.bytes / 1e6,
           (unsigned long long)s.hash);
    printf("peak RSS: %.1f MB (conversion process; goal < 100 MB)\n", rss_mb);
    if (input == gen && !keep) unlink(gen);
    return errors ? 1 : 0;
}
