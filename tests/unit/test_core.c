/* Core: errors, arena, UTF-8 validation and offset maps, data model basics. */
#include "kz_test.h"
#include "kazu/kazu.h"
#include "core/core_int.h"
#include "io/io_int.h"

KZ_TEST(strerror_table) {
    KZ_CHECK_STR(kz_strerror(KZ_OK), "ok");
    KZ_CHECK_STR(kz_strerror(KZ_EUTF8), "invalid UTF-8");
    KZ_CHECK_STR(kz_strerror(12345), "unknown error");
}

KZ_TEST(error_format_has_place) {
    kz_error e;
    kz_error_clear(&e);
    snprintf(e.path, sizeof e.path, "in.jsonl");
    e.line = 3;
    e.column = 7;
    kz_error_set(&e, KZ_EPARSE, "unexpected '}'");
    char buf[600];
    KZ_CHECK_STR(kz_error_format(&e, buf, sizeof buf), "in.jsonl:3:7: unexpected '}' [malformed input]");
}

KZ_TEST(arena_alignment_and_strdup) {
    kz_arena *a = kz_arena_new(64);
    for (int i = 1; i < 200; i++) {
        void *p = kz_arena_alloc(a, (size_t)i);
        KZ_CHECK(p != NULL);
        KZ_CHECK_INT((uintptr_t)p % 16, 0);
    }
    kz_str s = kz_arena_strdup(a, "hello", 5);
    KZ_CHECK_KSTR(s, "hello");
    KZ_CHECK_INT(s.ptr[5], 0);
    kz_arena_reset(a);
    KZ_CHECK_INT(kz_arena_used(a), 0);
    KZ_CHECK(kz_arena_alloc(a, 1u << 20) != NULL);
    kz_arena_free(a);
    kz_arena_free(NULL);
}

KZ_TEST(utf8_validation) {
    size_t bad = 0;
    KZ_CHECK(kz_utf8_valid("abc\xc3\xa9", 5, NULL));
    KZ_CHECK(!kz_utf8_valid("ab\xc3", 3, &bad));
    KZ_CHECK_INT(bad, 2);
    KZ_CHECK(!kz_utf8_valid("\xc0\xaf", 2, &bad));         /* overlong */
    KZ_CHECK(!kz_utf8_valid("\xed\xa0\x80", 3, &bad));     /* surrogate */
    KZ_CHECK(!kz_utf8_valid("\xf4\x90\x80\x80", 4, &bad)); /* > U+10FFFF */
    KZ_CHECK(kz_utf8_valid("\xf0\x9f\x98\x80", 4, NULL));  /* emoji */
    KZ_CHECK_INT(kz_utf8_count("a\xc3\xa9\xf0\x9f\x98\x80z", 8), 4);
}

KZ_TEST(offset_map_roundtrip) {
    /* Mix ASCII, 2-, 3- and 4-byte characters over several checkpoints. */
    char text[4096];
    size_t n = 0;
    const char *pieces[] = {"a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", " "};
    for (int i = 0; n < 4000; i++) {
        const char *p = pieces[(i * 7) % 5];
        memcpy(text + n, p, strlen(p));
        n += strlen(p);
    }
    kz_arena *a = kz_arena_new(0);
    kz_offset_map *m = kz_offset_map_new(a, text, n);
    int64_t cp = 0;
    for (size_t i = 0; i <= n; i++) {
        if (!kz_utf8_is_boundary(text, n, i)) continue;
        KZ_CHECK_INT(kz_offset_map_to_cp(m, (int64_t)i), cp);
        KZ_CHECK_INT(kz_offset_map_to_byte(m, cp), (int64_t)i);
        cp++;
    }
    KZ_CHECK_INT(kz_offset_map_cp_len(m), cp - 1);
    KZ_CHECK_INT(kz_offset_map_to_byte(m, cp), -1);
    kz_arena_free(a);
}

KZ_TEST(doc_entities_and_spans) {
    kz_doc *d = kz_doc_new("d1", 2);
    kz_section *s;
    kz_error e;
    const char *t = "skin, lung and breast cancer";
    KZ_CHECK_INT(kz_doc_add_section(d, "abstract", 8, t, strlen(t), &s, &e), 0);
    kz_span sp[2] = {{22, 28}, {6, 10}};
    kz_entity_init in = {.spans = sp,
                         .n_spans = 2,
                         .join_str = " ",
                         .entity_class = kz_str_c("disease"),
                         .namespace_ = kz_str_c("Test"),
                         .mention_confidence = KZ_MENTION_HIGHLY_LIKELY};
    kz_entity *ent;
    KZ_CHECK_INT(kz_section_add_entity(d, s, &in, &ent, &e), 0);
    KZ_CHECK_KSTR(ent->match, "lung cancer");
    KZ_CHECK_INT(ent->start, 6);
    KZ_CHECK_INT(ent->end, 28);
    KZ_CHECK_INT(ent->spans[0].start, 6);
    kz_span badsp = {20, 40};
    in.spans = &badsp;
    in.n_spans = 1;
    KZ_CHECK_INT(kz_section_add_entity(d, s, &in, NULL, &e), KZ_ERANGE);
    KZ_CHECK_INT(kz_doc_add_section(d, "x", 1, "\xff", 1, NULL, &e), KZ_EUTF8);
    KZ_CHECK_INT(kz_doc_n_entities(d), 1);
    kz_doc_free(d);
}

KZ_TEST(meta_and_failure) {
    kz_doc *d = kz_doc_new(NULL, 0);
    KZ_CHECK_INT(d->idx.len, 32);
    KZ_CHECK_INT(kz_meta_set_json(d, &d->metadata, kz_str_c("k"), kz_str_c("{\"a\": [1, 2]}")), 0);
    KZ_CHECK_KSTR(kz_meta_get(&d->metadata, "k"), "{\"a\":[1,2]}");
    KZ_CHECK_INT(kz_meta_set_json(d, &d->metadata, kz_str_c("bad"), kz_str_c("{")), KZ_EPARSE);
    KZ_CHECK(!kz_doc_failed(d));
    KZ_CHECK_INT(kz_doc_set_failure(d, "StepA", "boom \"x\""), 0);
    KZ_CHECK(kz_doc_failed(d));
    KZ_CHECK_KSTR(kz_meta_get(&d->metadata, KZ_PROCESSING_EXCEPTION), "\"StepA: boom \\\"x\\\"\"");
    kz_doc_free(d);
}

static const char *dbl(double v) {
    static char out[64];
    kz_buf b;
    kz__buf_init(&b, 0);
    kz__json_put_double(&b, v);
    snprintf(out, sizeof out, "%s", b.data);
    kz__buf_free(&b);
    return out;
}

KZ_TEST(python_float_repr) {
    KZ_CHECK_STR(dbl(1.0), "1.0");
    KZ_CHECK_STR(dbl(0.1), "0.1");
    KZ_CHECK_STR(dbl(95.5), "95.5");
    KZ_CHECK_STR(dbl(1e-05), "1e-05");
    KZ_CHECK_STR(dbl(0.0001), "0.0001");
    KZ_CHECK_STR(dbl(1e16), "1e+16");
    KZ_CHECK_STR(dbl(1234567890123456.0), "1234567890123456.0");
    KZ_CHECK_STR(dbl(-2.5e-7), "-2.5e-07");
    KZ_CHECK_STR(dbl(0.30000000000000004), "0.30000000000000004");
    KZ_CHECK_STR(dbl(100.0), "100.0");
}

KZ_TEST(python_string_escape) {
    kz_buf b;
    kz__buf_init(&b, 0);
    const char *s = "a\"\\\n\x01\x7f\xc3\xa9\xf0\x9f\x98\x80";
    kz__json_put_string(&b, s, strlen(s), true);
    KZ_CHECK_STR(b.data, "\"a\\\"\\\\\\n\\u0001\\u007f\\u00e9\\ud83d\\ude00\"");
    kz__buf_clear(&b);
    kz__json_put_string(&b, s, strlen(s), false);
    KZ_CHECK_STR(b.data, "\"a\\\"\\\\\\n\\u0001\x7f\xc3\xa9\xf0\x9f\x98\x80\"");
    kz__buf_clear(&b);
    kz__json_put_raw(&b, kz_str_c("{\"k\":[1,\"\xc3\xa9,:\"],\"z\":null}"), true);
    KZ_CHECK_STR(b.data, "{\"k\": [1, \"\\u00e9,:\"], \"z\": null}");
    kz__buf_free(&b);
}

KZ_TEST(candidate_metrics_merge_like_kazu) {
    kz_doc *d = kz_doc_new("d", 1);
    kz_section *s;
    kz_error e;
    kz_doc_add_section(d, "na", 2, "EGFR", 4, &s, &e);
    kz_span sp = {0, 4};
    kz_entity_init in = {.spans = &sp,
                         .n_spans = 1,
                         .entity_class = kz_str_c("gene"),
                         .namespace_ = kz_str_c("T"),
                         .mention_confidence = KZ_MENTION_HIGHLY_LIKELY};
    kz_entity *ent;
    KZ_CHECK_INT(kz_section_add_entity(d, s, &in, &ent, &e), 0);
    kz_str raw[1] = {kz_str_c("EGFR")}, types_a[1] = {kz_str_c("HGNC")},
           types_b[1] = {kz_str_c("approvedSymbol")};
    kz_id_source ids[1] = {{kz_str_c("ENSG00000146648"), kz_str_c("ENSEMBL")}};
    kz_equiv_id_set set = {ids, 1};
    kz_candidate a = {raw, 1, kz_str_c("EGFR"), kz_str_c("OT"), true, &set, 1, KZ_AGG_CUSTOM, types_a, 1};
    kz_candidate a2 = a; /* same content, different aggregation: equal for Kazu */
    a2.aggregated_by = KZ_AGG_UNAMBIGUOUS;
    kz_candidate b = a; /* different mapping_types: a different candidate */
    b.mapping_types = types_b;
    kz_metrics m1 = {.present = KZ_METRIC_EXACT, .exact_match = true};
    kz_metrics m2 = {.present = KZ_METRIC_SEARCH, .search_score = 87.5};
    KZ_CHECK_INT(kz_entity_add_candidate(d, ent, &a, &m1), 0);
    KZ_CHECK_INT(kz_entity_add_candidate(d, ent, &a2, &m2), 0);
    KZ_CHECK_INT(ent->n_candidates, 1);
    KZ_CHECK_INT(ent->candidates[0].metrics.present, KZ_METRIC_EXACT | KZ_METRIC_SEARCH);
    KZ_CHECK(ent->candidates[0].metrics.exact_match);
    KZ_CHECK(ent->candidates[0].metrics.search_score == 87.5);
    KZ_CHECK_INT(kz_entity_add_candidate(d, ent, &b, &m1), 0);
    KZ_CHECK_INT(ent->n_candidates, 2);
    const kz_candidate *copy = kz_doc_copy_candidate(d, &b);
    KZ_CHECK(copy != NULL && copy != &b);
    KZ_CHECK_INT(kz_entity_add_candidate(d, ent, copy, NULL), 0);
    KZ_CHECK_INT(ent->n_candidates, 2);
    kz_doc_free(d);
}

KZ_TEST(python_float_repr_round_trips) {
    /* Random bit patterns: every finite double must read back exactly. */
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    kz_buf b;
    kz__buf_init(&b, 0);
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double v;
        memcpy(&v, &x, sizeof v);
        if (v != v || v - v != 0) continue; /* NaN, inf */
        kz__buf_clear(&b);
        KZ_CHECK_INT(kz__json_put_double(&b, v), 0);
        if (strtod(b.data, NULL) != v) {
            kz_test_fail(__FILE__, __LINE__, "%.17g printed as %s", v, b.data);
            break;
        }
    }
    kz__buf_free(&b);
}
