/* Cross-format round trip: text -> Kazu JSON -> PubTator -> BioC XML -> BioC JSON
 * -> Kazu JSON keeps every span, class and id, with non-ASCII text where byte
 * and code-point offsets differ. */
#include "kz_test.h"
#include "kazu/kazu.h"

/* Write docs in one format to memory, return the bytes (malloc'd). */
static char *write_all(kz_doc **docs, int n, kz_format fmt, size_t *len) {
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    kz_writer *w;
    kz_error e;
    if (kz_writer_open_file(&w, f, "mem", fmt, NULL, &e) != 0) {
        fclose(f);
        free(buf);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        if (kz_writer_write(w, docs[i], &e) != 0) {
            kz_writer_close(w, &e);
            fclose(f);
            free(buf);
            return NULL;
        }
    if (kz_writer_close(w, &e) != 0) {
        fclose(f);
        free(buf);
        return NULL;
    }
    fclose(f);
    return buf;
}

/* Read every doc of one format; fails the test on any reader error. */
static int read_all(const char *data, size_t len, kz_format fmt, kz_doc **docs, int cap) {
    kz_reader *r;
    kz_error e;
    if (kz_reader_open_mem(&r, data, len, "mem", fmt, NULL, &e) != 0) return -1;
    int n = 0, rc;
    kz_doc *d;
    while ((rc = kz_reader_next(r, &d, &e)) != 0) {
        if (rc < 0) {
            char msg[700];
            fprintf(stderr, "reader %s: %s\n", kz_format_name(fmt), kz_error_format(&e, msg, sizeof msg));
            n = -1;
            break;
        }
        if (n < cap)
            docs[n++] = d;
        else
            kz_doc_free(d);
    }
    if (n >= 0 && kz_reader_warnings(r) != 0) n = -2;
    kz_reader_close(r);
    return n;
}

/* One line per (section index, code-point start, end, class, first mapping id),
 * sorted, for every span: the invariant every format must keep. */
static char *span_signature(const kz_doc *d) {
    char *lines[256];
    int n = 0;
    for (uint32_t s = 0; s < d->n_sections; s++) {
        kz_arena *a = kz_arena_new(0);
        const kz_section *sec = d->sections[s];
        kz_offset_map *m = kz_offset_map_new(a, sec->text.ptr, sec->text.len);
        for (uint32_t i = 0; i < sec->n_entities; i++) {
            const kz_entity *e = sec->entities[i];
            for (uint32_t k = 0; k < e->n_spans && n < 256; k++) {
                char *l = NULL;
                int len = asprintf(
                    &l, "%u %lld %lld %.*s %.*s", s, (long long)kz_offset_map_to_cp(m, e->spans[k].start),
                    (long long)kz_offset_map_to_cp(m, e->spans[k].end), (int)e->entity_class.len,
                    e->entity_class.ptr, e->n_mappings ? (int)e->mappings[0].idx.len : 1,
                    e->n_mappings ? e->mappings[0].idx.ptr : "-");
                if (len > 0) lines[n++] = l;
            }
        }
        kz_arena_free(a);
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(lines[j - 1], lines[j]) > 0; j--) {
            char *t = lines[j];
            lines[j] = lines[j - 1];
            lines[j - 1] = t;
        }
    size_t total = 1;
    for (int i = 0; i < n; i++) total += strlen(lines[i]) + 1;
    char *out = calloc(1, total);
    for (int i = 0; i < n; i++) {
        strcat(out, lines[i]);
        strcat(out, "\n");
        free(lines[i]);
    }
    return out;
}

static void add(kz_doc *d, kz_section *s, const char *cls, const char *id, int64_t b0, int64_t b1, int64_t b2,
                int64_t b3) {
    kz_span sp[2] = {{b0, b1}, {b2, b3}};
    kz_entity_init in = {.spans = sp,
                         .n_spans = b2 >= 0 ? 2 : 1,
                         .join_str = " ",
                         .entity_class = kz_str_c(cls),
                         .namespace_ = kz_str_c("Test"),
                         .mention_confidence = KZ_MENTION_HIGHLY_LIKELY};
    kz_entity *e;
    kz_error err;
    if (kz_section_add_entity(d, s, &in, &e, &err) != 0) return;
    kz_mapping m = {.default_label = e->match,
                    .source = kz_str_c("MESH"),
                    .parser_name = kz_str_c("Test"),
                    .idx = kz_str_c(id),
                    .string_match_strategy = kz_str_c("gold"),
                    .string_match_confidence = KZ_SMC_HIGHLY_LIKELY};
    kz_entity_add_mapping(d, e, &m);
}

/* Byte offset of the n-th occurrence (0-based) of needle in the section text. */
static int64_t at(const kz_section *s, const char *needle) {
    const char *p = strstr(s->text.ptr, needle);
    return p ? (int64_t)(p - s->text.ptr) : -1;
}

KZ_TEST(text_kazu_pubtator_bioc_kazu_keeps_every_span) {
    /* Two docs, one line each: accents, €, Greek and an emoji before entities. */
    const char *text =
        "Caf\xc3\xa9ine \xe2\x82\xac"
        "5 and \xce\xb1-synuclein \xf0\x9f\xa7\xac in Parkinson disease and "
        "lung and breast cancer.\n"
        "H\xc3\xa9patite B (HBV) \xe2\x80\x94 tumour necrosis factor-\xce\xb1 (TNF-\xce\xb1) rises.\n";
    kz_reader_params rp = kz_reader_default_params();
    rp.text_one_per_line = true;
    kz_reader *r;
    kz_error e;
    KZ_CHECK_INT(kz_reader_open_mem(&r, text, strlen(text), "in.txt", KZ_FORMAT_TEXT, &rp, &e), 0);
    kz_doc *docs[2] = {0};
    KZ_CHECK_INT(kz_reader_next(r, &docs[0], &e), 1);
    KZ_CHECK_INT(kz_reader_next(r, &docs[1], &e), 1);
    kz_doc *none;
    KZ_CHECK_INT(kz_reader_next(r, &none, &e), 0);
    kz_reader_close(r);

    kz_section *s0 = docs[0]->sections[0], *s1 = docs[1]->sections[0];
    int64_t syn = at(s0, "\xce\xb1-synuclein"), pd = at(s0, "Parkinson disease");
    int64_t lung = at(s0, "lung"), cancer = at(s0, "cancer"), breast = at(s0, "breast cancer");
    add(docs[0], s0, "gene", "SNCA", syn, syn + (int64_t)strlen("\xce\xb1-synuclein"), -1, -1);
    add(docs[0], s0, "disease", "D010300", pd, pd + 17, -1, -1);
    add(docs[0], s0, "disease", "D009369", pd + 10, pd + 17, -1, -1);           /* nested in the one above */
    add(docs[0], s0, "disease", "D008175", lung, lung + 4, cancer, cancer + 6); /* non-contiguous */
    add(docs[0], s0, "disease", "D001943", breast, breast + 13, -1, -1);
    int64_t hep = at(s1, "H\xc3\xa9patite B"), tnf = at(s1, "tumour necrosis factor-\xce\xb1");
    int64_t tnf2 = at(s1, "TNF-\xce\xb1");
    add(docs[1], s1, "disease", "D006509", hep, hep + (int64_t)strlen("H\xc3\xa9patite B"), -1, -1);
    add(docs[1], s1, "gene", "7124", tnf, tnf + (int64_t)strlen("tumour necrosis factor-\xce\xb1"), -1, -1);
    add(docs[1], s1, "gene", "7124", tnf2, tnf2 + (int64_t)strlen("TNF-\xce\xb1"), -1, -1);
    char *want[2] = {span_signature(docs[0]), span_signature(docs[1])};
    KZ_CHECK(strstr(want[0], "0 32 49 disease D010300") != NULL); /* code points, not bytes */

    static const kz_format chain[] = {KZ_FORMAT_KAZU_JSON, KZ_FORMAT_PUBTATOR, KZ_FORMAT_BIOC_XML,
                                      KZ_FORMAT_BIOC_JSON, KZ_FORMAT_KAZU_JSON};
    kz_doc *cur[2] = {docs[0], docs[1]};
    for (size_t step = 0; step < sizeof chain / sizeof chain[0]; step++) {
        size_t len = 0;
        char *bytes = write_all(cur, 2, chain[step], &len);
        KZ_CHECK(bytes != NULL);
        kz_doc *next[2] = {0};
        int n = read_all(bytes, len, chain[step], next, 2);
        if (n != 2) fprintf(stderr, "after %s: read %d docs\n%s\n", kz_format_name(chain[step]), n, bytes);
        free(bytes);
        KZ_CHECK_INT(n, 2);
        for (int i = 0; i < 2; i++) {
            KZ_CHECK_KSTR(next[i]->idx, i == 0 ? "in:1" : "in:2");
            char *got = span_signature(next[i]);
            if (strcmp(got, want[i]) != 0)
                fprintf(stderr, "after %s:\n%s--- expected\n%s", kz_format_name(chain[step]), got, want[i]);
            int same = strcmp(got, want[i]) == 0;
            free(got);
            KZ_CHECK(same);
            /* The first section's text survives every format unchanged. */
            KZ_CHECK(kz_str_eq(next[i]->sections[0]->text, docs[i]->sections[0]->text));
            if (cur[i] != docs[i]) kz_doc_free(cur[i]);
            cur[i] = next[i];
        }
    }
    for (int i = 0; i < 2; i++) {
        if (cur[i] != docs[i]) kz_doc_free(cur[i]);
        kz_doc_free(docs[i]);
        free(want[i]);
    }
}
