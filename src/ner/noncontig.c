/* Kazu's SplitOnNumericalListPatternWithPrefix inside NonContiguousEntitySplitter:
 * "BRCA1/2/3" -> BRCA1, BRCA+2, BRCA+3 as added entities with metadata split_rule. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "kazu/normalise.h"
#include "kazu/utf8.h"
#include "ner_int.h"

#define SPLIT_RULE      "SplitOnNumericalListPatternWithPrefix"
#define SPLIT_MAX_SPANS 4096

/* Python's str.isdigit: Numeric_Type Decimal (category Nd) or Digit (the
 * superscripts, subscripts, circled and parenthesised digits of category No). */
bool kz__ner_cp_isdigit(int32_t cp) {
    if (cp < 0) return false;
    if (cp >= '0' && cp <= '9') return true;
    if (cp < 0x80) return false;
    if (utf8proc_category(cp) == UTF8PROC_CATEGORY_ND) return true;
    static const int32_t ranges[][2] = {
        {0x00B2, 0x00B3}, {0x00B9, 0x00B9},   {0x1369, 0x1371},   {0x19DA, 0x19DA},   {0x2070, 0x2070},
        {0x2074, 0x2079}, {0x2080, 0x2089},   {0x2460, 0x2468},   {0x2474, 0x247C},   {0x2488, 0x2490},
        {0x24EA, 0x24EA}, {0x24F5, 0x24FD},   {0x24FF, 0x24FF},   {0x2776, 0x277E},   {0x2780, 0x2788},
        {0x278A, 0x2792}, {0x10A40, 0x10A43}, {0x10E60, 0x10E68}, {0x11052, 0x1105A}, {0x1F100, 0x1F10A},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof *ranges; i++)
        if (cp >= ranges[i][0] && cp <= ranges[i][1]) return true;
    return false;
}

static bool all_digits(const char *s, size_t len) {
    if (!len) return false; /* "".isdigit() is False */
    size_t i = 0;
    while (i < len)
        if (!kz__ner_cp_isdigit(kz_utf8_decode(s, len, &i))) return false;
    return true;
}

typedef struct seen {
    kz_span v[SPLIT_MAX_SPANS];
    size_t n;
} seen;

static bool seen_has(const seen *s, kz_span x) {
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].start == x.start && s->v[i].end == x.end) return true;
    return false;
}

static void seen_add(seen *s, kz_span x) {
    if (!seen_has(s, x) && s->n < SPLIT_MAX_SPANS) s->v[s->n++] = x;
}

/* Add a copy of e over spans unless every span was seen (Kazu:
 * NonContiguousEntitySplitter only keeps entities whose offsets changed). */
static int add_copy(kz_doc *doc, kz_section *sec, const kz_entity *e, const kz_span *spans, size_t n, seen *s,
                    size_t *n_added, kz_error *err) {
    bool fresh = false;
    for (size_t i = 0; i < n; i++)
        if (!seen_has(s, spans[i])) fresh = true;
    if (!fresh) return 0;
    for (size_t i = 0; i < n; i++) seen_add(s, spans[i]);
    kz_entity_init init = {0};
    init.spans = spans;
    init.n_spans = n;
    init.join_str = "";
    init.entity_class = e->entity_class;
    init.namespace_ = e->namespace_;
    init.mention_confidence = e->mention_confidence;
    kz_entity *ne;
    int rc = kz_section_add_entity(doc, sec, &init, &ne, err);
    if (rc) return rc;
    /* the match of the copy is its pieces joined with "" */
    for (uint32_t i = 0; i < e->metadata.n; i++) {
        rc = kz_meta_set_json(doc, &ne->metadata, e->metadata.items[i].key, e->metadata.items[i].value);
        if (rc) return kz_error_set(err, rc, "copying entity metadata");
    }
    for (uint32_t i = 0; i < e->n_mappings; i++)
        if ((rc = kz_entity_add_mapping(doc, ne, &e->mappings[i])))
            return kz_error_set(err, rc, "copying mappings");
    rc = kz_meta_set_string(doc, &ne->metadata, kz_str_c("split_rule"), kz_str_c(SPLIT_RULE));
    if (rc) return kz_error_set(err, rc, "setting split_rule");
    if (ne->match.ptr) {
        char *norm = NULL;
        size_t nlen = 0;
        char cls[256];
        size_t cl = e->entity_class.len < sizeof cls - 1 ? e->entity_class.len : sizeof cls - 1;
        memcpy(cls, e->entity_class.ptr ? e->entity_class.ptr : "", cl);
        cls[cl] = 0;
        if (kz_normalise(ne->match.ptr, ne->match.len, cls, &norm, &nlen, NULL) == 0) {
            rc = kz_entity_set_match_norm(doc, ne, (kz_str){norm, nlen});
            free(norm);
            if (rc) return kz_error_set(err, rc, "setting match_norm");
        }
    }
    if (n_added) (*n_added)++;
    return 0;
}

int kz__ner_split_numerical_list(kz_doc *doc, kz_section *sec, const kz_entity *e, const char *pattern,
                                 size_t *n_added, kz_error *err) {
    if (n_added) *n_added = 0;
    if (!e->match.ptr || !pattern || !pattern[0]) return 0;
    const char *m = e->match.ptr;
    size_t mlen = e->match.len, plen = strlen(pattern);
    const char *first_end = memmem(m, mlen, pattern, plen);
    if (!first_end) return 0; /* parts = [match]: nothing to split */
    seen *s = malloc(sizeof *s);
    if (!s) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    s->n = 0;
    for (uint32_t i = 0; i < e->n_spans; i++) seen_add(s, e->spans[i]);
    int rc = 0;
    int64_t base = e->start;
    size_t p0 = (size_t)(first_end - m);
    /* the first part as it stands (Kazu makes an empty entity for an empty
     * first part; that is skipped here) */
    if (p0) {
        kz_span sp = {base, base + (int64_t)p0};
        if ((rc = add_copy(doc, sec, e, &sp, 1, s, n_added, err))) goto out;
    }
    /* Kazu's i: trailing digits of the first part, or len - 1 when it is all
     * digits (the loop never breaks); nothing more when i == 0. */
    size_t prefix_len;
    {
        size_t ncp = kz_utf8_count(m, p0), trailing = 0, cut = p0;
        while (cut > 0) {
            size_t j = cut - 1;
            while (j > 0 && ((unsigned char)m[j] & 0xC0) == 0x80) j--;
            size_t k = j;
            if (!kz__ner_cp_isdigit(kz_utf8_decode(m, p0, &k))) break;
            cut = j;
            trailing++;
        }
        if (trailing == ncp) { /* all digits: prefix is the first character */
            if (ncp < 2) goto out;
            size_t k = 0;
            kz_utf8_decode(m, p0, &k);
            prefix_len = k;
        } else {
            if (trailing == 0) goto out;
            prefix_len = cut;
        }
    }
    size_t off = p0 + plen;
    while (off <= mlen) {
        const char *next = memmem(m + off, mlen - off, pattern, plen);
        size_t part_len = next ? (size_t)(next - (m + off)) : mlen - off;
        if (all_digits(m + off, part_len)) {
            kz_span sp[2] = {{base, base + (int64_t)prefix_len},
                             {base + (int64_t)off, base + (int64_t)(off + part_len)}};
            if ((rc = add_copy(doc, sec, e, sp, 2, s, n_added, err))) goto out;
        }
        /* Kazu advances its offset only past digit parts, so a non-digit part
         * shifts every later span; we advance past every part. */
        if (!next) break;
        off += part_len + plen;
    }
out:
    free(s);
    return rc;
}
