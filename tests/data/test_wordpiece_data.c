/* Real text through kazu-c's WordPiece and through tools/hf_tokenizer_reference.py
 * (run now, stdlib Python): PubTator titles/abstracts split into sentences,
 * plus every non-ASCII line of the staged DrugBank/DOID/CL/UBERON/CTD files
 * (the corpora themselves are pure ASCII). Ids, word ids and offsets (bytes
 * and code points) must be identical, with the cased BERT vocab (no lowercase)
 * and the uncased SciBERT vocab (lowercase + accent stripping). */
#include <jansson.h>
#include <unistd.h>
#include <zlib.h>
#include "kz_test.h"
#include "kazu/kazu.h"
#include "kazu/nn.h"
#include "kazu/text.h"
#include "kazu/utf8.h"

static const char *const k_pubtator[] = {
    "benchmarks/bc5cdr_pubtator/CDR_TrainingSet.PubTator.txt",
    "benchmarks/biored_pubtator/Train.PubTator",
    "benchmarks/ncbi_disease_original/NCBItrainset_corpus.txt",
};
static const char *const k_unicode[] = {
    "ontologies/drugbank/drugbank_vocabulary.csv", "ontologies/doid/doid-2024-01-31.obo.gz",
    "ontologies/cl/cl-basic-2022-11-25.obo",       "ontologies/uberon/uberon_import_from_mondo.obo",
    "ontologies/ctd/CTD_diseases.tsv.gz",          "ontologies/mondo/mondo_exactmatch_orphanet.sssom.tsv.gz",
};
#define MAX_SENTENCES 6000

typedef struct {
    char **s;
    size_t *len;
    size_t n, cap;
} texts;

static void add(texts *t, const char *s, size_t len) {
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 1024;
        t->s = realloc(t->s, t->cap * sizeof *t->s);
        t->len = realloc(t->len, t->cap * sizeof *t->len);
    }
    t->s[t->n] = malloc(len + 1);
    memcpy(t->s[t->n], s, len);
    t->s[t->n][len] = 0;
    t->len[t->n++] = len;
}

static char *read_any(const char *path, size_t *len) {
    gzFile g = gzopen(path, "rb");
    if (!g) return NULL;
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap + 1);
    int got;
    while ((got = gzread(g, buf + n, (unsigned)(cap - n))) > 0) {
        n += (size_t)got;
        if (n == cap) buf = realloc(buf, (cap *= 2) + 1);
    }
    gzclose(g);
    buf[n] = 0;
    *len = n;
    return buf;
}

static void collect(texts *t, size_t *n_sent, size_t *n_uni) {
    char path[1024];
    for (size_t f = 0; f < sizeof k_pubtator / sizeof *k_pubtator && t->n < MAX_SENTENCES; f++) {
        snprintf(path, sizeof path, "%s/%s", KZ_SHARED_DATA, k_pubtator[f]);
        size_t len;
        char *buf = read_any(path, &len);
        if (!buf) continue;
        for (char *p = buf, *nl; *p && t->n < MAX_SENTENCES; p = nl ? nl + 1 : p + strlen(p)) {
            nl = strchr(p, '\n');
            size_t ll = nl ? (size_t)(nl - p) : strlen(p);
            char *bar = memchr(p, '|', ll);
            if (!bar || ll < (size_t)(bar - p) + 3 || (bar[1] != 't' && bar[1] != 'a') || bar[2] != '|')
                continue;
            const char *text = bar + 3;
            size_t tl = ll - (size_t)(text - p);
            kz_span sp[512];
            size_t ns = kz_sentences_split(text, tl, sp, 512);
            for (size_t k = 0; k < ns && k < 512 && t->n < MAX_SENTENCES; k++)
                add(t, text + sp[k].start, (size_t)(sp[k].end - sp[k].start));
        }
        free(buf);
    }
    *n_sent = t->n;
    for (size_t f = 0; f < sizeof k_unicode / sizeof *k_unicode; f++) {
        snprintf(path, sizeof path, "%s/%s", KZ_SHARED_DATA, k_unicode[f]);
        size_t len;
        char *buf = read_any(path, &len);
        if (!buf) continue;
        for (char *p = buf, *nl; *p; p = nl ? nl + 1 : p + strlen(p)) {
            nl = strchr(p, '\n');
            size_t ll = nl ? (size_t)(nl - p) : strlen(p);
            bool hi = false;
            for (size_t k = 0; k < ll && !hi; k++) hi = (unsigned char)p[k] >= 0x80;
            if (hi && ll < 8000 && kz_utf8_valid(p, ll, NULL)) add(t, p, ll);
        }
        free(buf);
    }
    *n_uni = t->n - *n_sent;
}

/* Runs the reference on all texts and compares; returns the number of mismatching texts. */
static size_t compare(const texts *t, const char *dir, const char *vocab, bool lowercase, size_t *ntok,
                      size_t *nunk) {
    char in[512], out[512], cmd[2048], vpath[512];
    snprintf(in, sizeof in, "%s/in.jsonl", dir);
    snprintf(out, sizeof out, "%s/out.jsonl", dir);
    snprintf(vpath, sizeof vpath, "%s/models/vocabs/%s", KZ_SHARED_DATA, vocab);
    FILE *f = fopen(in, "w");
    if (!f) return (size_t)-1;
    for (size_t k = 0; k < t->n; k++) {
        json_t *s = json_stringn(t->s[k], t->len[k]);
        char *js = json_dumps(s, JSON_ENCODE_ANY | JSON_ENSURE_ASCII);
        fprintf(f, "%s\n", js);
        free(js);
        json_decref(s);
    }
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 %s/tools/hf_tokenizer_reference.py --vocab %s %s --input %s --output %s",
             KZ_SOURCE_DIR, vpath, lowercase ? "--lowercase" : "", in, out);
    if (system(cmd) != 0) {
        kz_test_fail(__FILE__, __LINE__, "reference failed: %s", cmd);
        return (size_t)-1;
    }
    kz_wordpiece_opts o = kz_wordpiece_default_opts(lowercase);
    kz_wordpiece *wp = NULL;
    kz_error err;
    kz_error_clear(&err);
    if (kz_wordpiece_load(vpath, &o, &wp, &err)) {
        kz_test_fail(__FILE__, __LINE__, "load %s: %s", vpath, err.msg);
        return (size_t)-1;
    }
    int32_t unk = kz_wordpiece_specials(wp).unk;
    size_t len, bad = 0, k = 0;
    char *res = kz_test_read_file(out, &len);
    kz_wp_token *tok = NULL;
    size_t cap = 0;
    char *save = NULL;
    for (char *line = res ? strtok_r(res, "\n", &save) : NULL; line;
         line = strtok_r(NULL, "\n", &save), k++) {
        json_t *e = json_loads(line, 0, NULL);
        size_t n = 0;
        int rc = k < t->n && e ? kz_wordpiece_encode(wp, t->s[k], t->len[k], &tok, &n, &cap, NULL) : -1;
        json_t *ids = json_object_get(e, "ids"), *words = json_object_get(e, "words"),
               *ob = json_object_get(e, "offsets_byte"), *oc = json_object_get(e, "offsets_cp");
        bool ok = rc == 0 && n == json_array_size(ids);
        for (size_t q = 0; ok && q < n; q++) {
            json_t *b = json_array_get(ob, q), *c = json_array_get(oc, q);
            ok = tok[q].id == json_integer_value(json_array_get(ids, q)) &&
                 tok[q].word == json_integer_value(json_array_get(words, q)) &&
                 tok[q].start == json_integer_value(json_array_get(b, 0)) &&
                 tok[q].end == json_integer_value(json_array_get(b, 1)) &&
                 (int64_t)kz_utf8_count(t->s[k], (size_t)tok[q].start) ==
                     json_integer_value(json_array_get(c, 0)) &&
                 (int64_t)kz_utf8_count(t->s[k], (size_t)tok[q].end) ==
                     json_integer_value(json_array_get(c, 1));
            *nunk += tok[q].id == unk;
        }
        *ntok += n;
        if (!ok && ++bad <= 5) {
            kz_test_fail(__FILE__, __LINE__, "%s text %zu differs (rc=%d, %zu tokens vs %zu): \"%.200s\"",
                         vocab, k, rc, n, json_array_size(ids), k < t->n ? t->s[k] : "?");
            for (size_t q = 0; q < n && q < 400; q++) {
                kz_str s = kz_wordpiece_token(wp, tok[q].id);
                json_t *b = json_array_get(ob, q);
                fprintf(stderr, "    %zu: got %.*s [%lld,%lld) w%d | ref %lld [%lld,%lld)\n", q, (int)s.len,
                        s.ptr, (long long)tok[q].start, (long long)tok[q].end, tok[q].word,
                        (long long)json_integer_value(json_array_get(ids, q)),
                        (long long)json_integer_value(json_array_get(b, 0)),
                        (long long)json_integer_value(json_array_get(b, 1)));
            }
        }
        json_decref(e);
    }
    if (k != t->n) {
        kz_test_fail(__FILE__, __LINE__, "reference wrote %zu results for %zu texts", k, t->n);
        bad++;
    }
    free(res);
    free(tok);
    kz_wordpiece_free(wp);
    unlink(in);
    unlink(out);
    return bad;
}

/* Random strings over a pool of hostile characters (controls, format characters,
 * combining marks of several classes, Hangul, CJK and compatibility ideographs,
 * dotted I, sharp s, ligatures, full-width forms, emoji + ZWJ, RTL, unassigned
 * and private-use code points, special tokens) with the golden vocabulary and
 * every option set; the reference is run with per-line options. */
static const char *const k_pool[] = {
    "a",
    "b",
    "e",
    "i",
    "s",
    "x",
    "A",
    "I",
    "S",
    "un",
    "aff",
    "able",
    "cafe",
    "the",
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    ".",
    ",",
    "-",
    "'",
    "(",
    "]",
    "[",
    "$",
    "+",
    "^",
    "`",
    "|",
    "~",
    "#",
    "##",
    "\x01",
    "\x7f",
    "\x0b",
    "\x0c",
    "\x1f",
    "\xc2\x85",
    "\xc2\xa0",
    "\xc2\xad",
    "\xe2\x80\x8b",
    "\xe2\x80\x8d",
    "\xe2\x80\x8f",
    "\xe2\x80\xab",
    "\xe2\x80\xa8",
    "\xe3\x80\x80",
    "\xef\xbb\xbf",
    "\xef\xbf\xbd",
    "\xee\x80\x80",
    "\xcd\xb8",
    "\xcc\x81",
    "\xcc\xa3",
    "\xcc\x87",
    "\xcd\x85",
    "\xd6\xb0",
    "\xe3\x80\xae",
    "\xf0\x9d\x85\xa5",
    "\xe0\xbd\xb3",
    "\xc3\xa9",
    "\xc3\x89",
    "\xc4\xb0",
    "\xc3\x9f",
    "\xe1\xba\x9e",
    "\xef\xac\x81",
    "\xef\xac\x80",
    "\xef\xbc\xa6",
    "\xef\xbd\x86",
    "\xef\xbc\x81",
    "\xe4\xb8\xad",
    "\xe5\x9b\xbd",
    "\xef\xa4\x80",
    "\xe8\xb1\x88",
    "\xf0\xa0\x80\x80",
    "\xed\x95\x9c",
    "\xea\xb5\xad",
    "\xe1\x84\x92",
    "\xf0\x9f\x98\x80",
    "\xf0\x9f\x91\xa9",
    "\xf0\x9f\x92\xbb",
    "\xd7\xa9",
    "\xd9\x85",
    "\xce\xa3",
    "\xcf\x82",
    "\xce\xb1",
    "\xcd\xbe",
    "\xce\x87",
    "\xe2\x84\xab",
    "\xe2\x84\xaa",
    "\xe2\x88\x92",
    "\xe2\x80\x93",
    "\xc2\xb0",
    "\xc2\xb1",
    "\xc3\x97",
    "\xc2\xb5",
    "\xe1\xbf\xaf",
    "\xc7\x85",
    "[MASK]",
    "[CLS]",
    "[UNK]",
    "<unk>",
    "[foo]",
    "Hello",
};

static size_t random_texts(texts *t, size_t count) {
    uint32_t x = 2463534242u;
    size_t npool = sizeof k_pool / sizeof *k_pool;
    char buf[512];
    for (size_t k = 0; k < count; k++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        size_t parts = 1 + x % 24, n = 0;
        for (size_t q = 0; q < parts; q++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            const char *p = k_pool[x % npool];
            size_t l = strlen(p);
            if (n + l >= sizeof buf) break;
            memcpy(buf + n, p, l);
            n += l;
        }
        add(t, buf, n);
    }
    return t->n;
}

KZ_TEST(wordpiece_matches_reference_on_random_unicode) {
    if (access("/usr/bin/python3", X_OK) != 0) {
        printf("SKIP: needs /usr/bin/python3\n");
        return;
    }
    static const char *const opt_json[] = {
        "{\"lowercase\": true}",
        "{\"lowercase\": false}",
        "{\"lowercase\": true, \"strip_accents\": false, \"never_split\": [\"[foo]\", \"Hello\"]}",
        "{\"lowercase\": false, \"strip_accents\": true, \"chinese\": false, \"max_chars\": 12}",
        "{\"lowercase\": true, \"unk\": \"<unk>\"}",
    };
    texts t = {0};
    random_texts(&t, 12000);
    char dir[] = "/tmp/kz_wp_rand_XXXXXX";
    KZ_CHECK(mkdtemp(dir) != NULL);
    char in[512], out[512], cmd[2048];
    snprintf(in, sizeof in, "%s/in.jsonl", dir);
    snprintf(out, sizeof out, "%s/out.jsonl", dir);
    FILE *f = fopen(in, "w");
    KZ_CHECK(f != NULL);
    for (size_t k = 0; k < t.n; k++) {
        json_t *o =
            json_pack("{s:s%, s:o}", "text", t.s[k], t.len[k], "opts", json_loads(opt_json[k % 5], 0, NULL));
        char *js = json_dumps(o, JSON_ENSURE_ASCII);
        fprintf(f, "%s\n", js);
        free(js);
        json_decref(o);
    }
    fclose(f);
    snprintf(
        cmd, sizeof cmd,
        "/usr/bin/python3 %s/tools/hf_tokenizer_reference.py --vocab %s/tests/golden/wordpiece/vocab.txt "
        "--input %s --output %s",
        KZ_SOURCE_DIR, KZ_SOURCE_DIR, in, out);
    KZ_CHECK_INT(system(cmd), 0);
    size_t len, k = 0, bad = 0, ntok = 0;
    char *res = kz_test_read_file(out, &len);
    KZ_CHECK(res != NULL);
    kz_wp_token *tok = NULL;
    size_t cap = 0;
    char *save = NULL;
    for (char *line = strtok_r(res, "\n", &save); line && k < t.n; line = strtok_r(NULL, "\n", &save), k++) {
        json_t *e = json_loads(line, 0, NULL), *o = json_loads(opt_json[k % 5], 0, NULL);
        kz_wordpiece_opts w = kz_wordpiece_default_opts(json_is_true(json_object_get(o, "lowercase")));
        json_t *sa = json_object_get(o, "strip_accents");
        if (sa) w.strip_accents = json_is_true(sa);
        if (json_object_get(o, "chinese")) w.tokenize_chinese_chars = false;
        if (json_object_get(o, "max_chars")) w.max_input_chars_per_word = 12;
        if (json_object_get(o, "unk")) w.unk_token = "<unk>";
        static const char *never[] = {"[foo]", "Hello"};
        if (json_object_get(o, "never_split")) {
            w.never_split = never;
            w.n_never_split = 2;
        }
        kz_wordpiece *wp = NULL;
        size_t n = 0;
        int rc = kz_wordpiece_load(KZ_SOURCE_DIR "/tests/golden/wordpiece/vocab.txt", &w, &wp, NULL);
        if (!rc) rc = kz_wordpiece_encode(wp, t.s[k], t.len[k], &tok, &n, &cap, NULL);
        json_t *ids = json_object_get(e, "ids"), *words = json_object_get(e, "words"),
               *ob = json_object_get(e, "offsets_byte");
        bool ok = rc == 0 && n == json_array_size(ids);
        for (size_t q = 0; ok && q < n; q++) {
            json_t *b = json_array_get(ob, q);
            ok = tok[q].id == json_integer_value(json_array_get(ids, q)) &&
                 tok[q].word == json_integer_value(json_array_get(words, q)) &&
                 tok[q].start == json_integer_value(json_array_get(b, 0)) &&
                 tok[q].end == json_integer_value(json_array_get(b, 1));
        }
        ntok += n;
        if (!ok && ++bad <= 5) {
            char *exp = json_dumps(e, JSON_ENSURE_ASCII);
            kz_test_fail(__FILE__, __LINE__, "random text %zu (opts %s) differs: rc=%d n=%zu; reference %s",
                         k, opt_json[k % 5], rc, n, exp);
            for (size_t q = 0; q < n; q++)
                fprintf(stderr, "    got %d [%lld,%lld) w%d\n", tok[q].id, (long long)tok[q].start,
                        (long long)tok[q].end, tok[q].word);
            free(exp);
        }
        kz_wordpiece_free(wp);
        json_decref(e);
        json_decref(o);
    }
    printf("random hostile Unicode: %zu texts, %zu tokens, %zu differ\n", k, ntok, bad);
    KZ_CHECK_INT(k, t.n);
    KZ_CHECK_INT(bad, 0);
    free(res);
    free(tok);
    unlink(in);
    unlink(out);
    rmdir(dir);
    for (size_t q = 0; q < t.n; q++) free(t.s[q]);
    free(t.s);
    free(t.len);
}

KZ_TEST(wordpiece_matches_reference_on_real_text) {
    if (!kz_test_have_shared_data() || access("/usr/bin/python3", X_OK) != 0) {
        printf("SKIP: needs %s and /usr/bin/python3\n", KZ_SHARED_DATA);
        return;
    }
    texts t = {0};
    size_t n_sent = 0, n_uni = 0;
    collect(&t, &n_sent, &n_uni);
    KZ_CHECK(n_sent >= 3000);
    KZ_CHECK(n_uni >= 500);
    char dir[] = "/tmp/kz_wp_data_XXXXXX";
    KZ_CHECK(mkdtemp(dir) != NULL);
    static const struct {
        const char *vocab;
        bool lower;
    } cfg[] = {{"bert_base_cased_vocab.txt", false}, {"scibert_scivocab_uncased_vocab.txt", true}};
    for (size_t c = 0; c < 2; c++) {
        size_t ntok = 0, nunk = 0;
        size_t bad = compare(&t, dir, cfg[c].vocab, cfg[c].lower, &ntok, &nunk);
        printf("%s (lowercase=%d): %zu sentences + %zu non-ASCII lines, %zu tokens (%zu [UNK]), %zu differ\n",
               cfg[c].vocab, cfg[c].lower, n_sent, n_uni, ntok, nunk, bad);
        if (bad)
            kz_test_fail(__FILE__, __LINE__, "%s: %zu texts differ from the reference", cfg[c].vocab, bad);
        KZ_CHECK(ntok > 100000);
    }
    rmdir(dir);
    for (size_t k = 0; k < t.n; k++) free(t.s[k]);
    free(t.s);
    free(t.len);
}
