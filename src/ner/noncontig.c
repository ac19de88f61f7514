/* Kazu's NonContiguousEntitySplitter rules: SplitOnNumericalListPatternWithPrefix
 * ("BRCA1/2/3" -> BRCA1, BRCA+2, BRCA+3) and a parser-free SplitOnConjunctionPattern
 * ("skin, lung and breast cancer" -> skin+cancer, lung+cancer, breast cancer), added
 * as new entities with metadata split_rule. */
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
                    const char *rule, const char *join, size_t *n_added, kz_error *err) {
    bool fresh = false;
    for (size_t i = 0; i < n; i++)
        if (!seen_has(s, spans[i])) fresh = true;
    if (!fresh) return 0;
    for (size_t i = 0; i < n; i++) seen_add(s, spans[i]);
    kz_entity_init init = {0};
    init.spans = spans;
    init.n_spans = n;
    init.join_str = join;
    init.entity_class = e->entity_class;
    init.namespace_ = e->namespace_;
    init.mention_confidence = e->mention_confidence;
    kz_entity *ne;
    int rc = kz_section_add_entity(doc, sec, &init, &ne, err);
    if (rc) return rc;
    /* the match of the copy is its pieces joined with join */
    for (uint32_t i = 0; i < e->metadata.n; i++) {
        rc = kz_meta_set_json(doc, &ne->metadata, e->metadata.items[i].key, e->metadata.items[i].value);
        if (rc) return kz_error_set(err, rc, "copying entity metadata");
    }
    for (uint32_t i = 0; i < e->n_mappings; i++)
        if ((rc = kz_entity_add_mapping(doc, ne, &e->mappings[i])))
            return kz_error_set(err, rc, "copying mappings");
    rc = kz_meta_set_string(doc, &ne->metadata, kz_str_c("split_rule"), kz_str_c(rule));
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
        if ((rc = add_copy(doc, sec, e, &sp, 1, s, SPLIT_RULE, "", n_added, err))) goto out;
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
            if ((rc = add_copy(doc, sec, e, sp, 2, s, SPLIT_RULE, "", n_added, err))) goto out;
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

/* ---- SplitOnConjunctionPattern without a parser ---------------------------------
 * Kazu parses the match with scispaCy and pairs noun chunks with the conjunct
 * of the last chunk. Here the match is cut into whitespace words; "and", "or",
 * "nor", "and/or", "&" and trailing commas/semicolons separate conjuncts
 * C1..Ck, and the shape of the conjuncts picks the rule:
 *   A  "BRCA1 and 2"             one-word conjuncts, C1 = prefix+digits, the rest
 *                                digits: BRCA1, BRCA+2
 *   B  "type 1 and 2 diabetes"   C1's last word and the first word of every later
 *                                conjunct are labels (digits, digit+letter, roman
 *                                numeral, one capital): prefix = C1 minus its label,
 *                                suffix = Ck minus its label: type 1+diabetes,
 *                                type+2 diabetes
 *   C  "skin, lung and breast cancer"  every earlier conjunct has fewer words (m at
 *                                most) than Ck: head = Ck minus its first m words;
 *                                Ci+head, and Ck itself
 *   D  "BRCA1 and BRCA2", "Crohn's disease and ulcerative colitis": each conjunct
 * Nothing is split when a conjunct is empty or holds a preposition/article
 * ("cancer of the breast and lung" is ambiguous without a parser). */

#define CONJ_RULE      "SplitOnConjunctionPattern"
#define CONJ_MAX_WORDS 64
#define CONJ_MAX_CONJ  16

typedef struct cword {
    int64_t s, e; /* absolute byte offsets */
} cword;

static bool word_is(const char *t, cword w, const char *lit) {
    size_t n = strlen(lit);
    if ((size_t)(w.e - w.s) != n) return false;
    for (size_t i = 0; i < n; i++) {
        char c = t[w.s + (int64_t)i];
        if (c >= 'A' && c <= 'Z') c = (char)(c + 32);
        if (c != lit[i]) return false;
    }
    return true;
}

static bool is_separator_word(const char *t, cword w) {
    return word_is(t, w, "and") || word_is(t, w, "or") || word_is(t, w, "nor") || word_is(t, w, "and/or") ||
           word_is(t, w, "&");
}

static bool is_blocking_word(const char *t, cword w) {
    static const char *const k[] = {"of",  "in", "with", "without", "to", "for",  "on",   "by", "from",
                                    "the", "a",  "an",   "at",      "as", "into", "than", "vs", "versus"};
    for (size_t i = 0; i < sizeof k / sizeof *k; i++)
        if (word_is(t, w, k[i])) return true;
    return false;
}

static bool ascii_digits(const char *p, size_t n) {
    if (!n) return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9') return false;
    return true;
}

/* A list label: 1, 12, 1a, 2B, II, iv, B. */
static bool is_label(const char *t, cword w) {
    const char *p = t + w.s;
    size_t n = (size_t)(w.e - w.s);
    if (!n || n > 6) return false;
    if (ascii_digits(p, n)) return true;
    if (n >= 2 && ascii_digits(p, n - 1) &&
        ((p[n - 1] >= 'a' && p[n - 1] <= 'z') || (p[n - 1] >= 'A' && p[n - 1] <= 'Z')))
        return true;
    if (n == 1 && p[0] >= 'A' && p[0] <= 'Z') return true;
    bool upper = true, lower = true;
    for (size_t i = 0; i < n; i++) {
        if (!strchr("IVX", p[i])) upper = false;
        if (!strchr("ivx", p[i])) lower = false;
    }
    return upper || lower;
}

typedef struct conj {
    size_t w0, w1; /* words [w0, w1) */
} conj;

static int emit(kz_doc *doc, kz_section *sec, const kz_entity *e, const kz_span *sp, size_t n, seen *s,
                const char *join, size_t *n_added, kz_error *err) {
    kz_span v[3];
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (sp[i].end > sp[i].start) v[k++] = sp[i];
    if (!k) return 0;
    return add_copy(doc, sec, e, v, k, s, CONJ_RULE, join, n_added, err);
}

int kz__ner_split_conjunction(kz_doc *doc, kz_section *sec, const kz_entity *e, size_t *n_added,
                              kz_error *err) {
    if (n_added) *n_added = 0;
    if (e->n_spans != 1 || !e->match.ptr) return 0;
    const char *t = sec->text.ptr;
    kz_str m = {t + e->start, (size_t)(e->end - e->start)};
    if (!memmem(m.ptr, m.len, " and ", 5) && !memmem(m.ptr, m.len, " or ", 4) &&
        !memmem(m.ptr, m.len, " nor ", 5))
        return 0;
    /* words, with trailing ',' / ';' cut off as separators */
    cword w[CONJ_MAX_WORDS];
    bool sep_after[CONJ_MAX_WORDS] = {0};
    size_t nw = 0;
    for (int64_t i = e->start; i < e->end;) {
        while (i < e->end && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) i++;
        if (i >= e->end) break;
        int64_t j = i;
        while (j < e->end && !(t[j] == ' ' || t[j] == '\t' || t[j] == '\n' || t[j] == '\r')) j++;
        int64_t we = j;
        bool sep = false;
        while (we > i && (t[we - 1] == ',' || t[we - 1] == ';')) we--, sep = true;
        if (we > i) {
            if (nw >= CONJ_MAX_WORDS) return 0;
            w[nw] = (cword){i, we};
            sep_after[nw++] = sep;
        } else if (nw) {
            sep_after[nw - 1] = true; /* a lone "," */
        }
        i = j;
    }
    conj c[CONJ_MAX_CONJ];
    size_t nc = 0, start = 0;
    for (size_t i = 0; i < nw; i++) {
        bool sepword = is_separator_word(t, w[i]);
        if (!sepword && !sep_after[i]) continue;
        size_t end = sepword ? i : i + 1;
        if (end > start) {
            if (nc >= CONJ_MAX_CONJ) return 0;
            c[nc++] = (conj){start, end};
        } else if (!(sepword && i > 0 && sep_after[i - 1])) {
            return 0; /* an empty conjunct ("and and", a leading "and"); ", and" is fine */
        }
        start = i + 1;
    }
    if (start >= nw) return 0; /* ends with a separator */
    if (nc >= CONJ_MAX_CONJ) return 0;
    c[nc++] = (conj){start, nw};
    if (nc < 2) return 0;
    /* "both A and B", "either A or B" */
    if (c[0].w1 - c[0].w0 > 1 && (word_is(t, w[c[0].w0], "both") || word_is(t, w[c[0].w0], "either") ||
                                  word_is(t, w[c[0].w0], "neither")))
        c[0].w0++;
    for (size_t i = 0; i < nw; i++)
        if (is_blocking_word(t, w[i])) return 0;

    seen *s = malloc(sizeof *s);
    if (!s) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    s->n = 0;
    seen_add(s, e->spans[0]);
    int rc = 0;
    const conj *last = &c[nc - 1];
    size_t L = last->w1 - last->w0, mx = 0;
    bool all_one = true, tail_digits = true;
    for (size_t i = 0; i < nc; i++) {
        if (c[i].w1 - c[i].w0 != 1) all_one = false;
        if (i && !ascii_digits(t + w[c[i].w0].s, (size_t)(w[c[i].w0].e - w[c[i].w0].s))) tail_digits = false;
        if (i + 1 < nc && c[i].w1 - c[i].w0 > mx) mx = c[i].w1 - c[i].w0;
    }
    /* rule A: BRCA1 and 2 */
    if (all_one && tail_digits) {
        cword f = w[c[0].w0];
        int64_t p = f.e;
        while (p > f.s && t[p - 1] >= '0' && t[p - 1] <= '9') p--;
        if (p == f.s || p == f.e) goto out; /* all digits, or no digits */
        kz_span sp = {f.s, f.e};
        if ((rc = emit(doc, sec, e, &sp, 1, s, "", n_added, err))) goto out;
        for (size_t i = 1; i < nc; i++) {
            kz_span two[2] = {{f.s, p}, {w[c[i].w0].s, w[c[i].w0].e}};
            if ((rc = emit(doc, sec, e, two, 2, s, "", n_added, err))) goto out;
        }
        goto out;
    }
    /* rule B: type 1 and 2 diabetes */
    bool labels = c[0].w1 - c[0].w0 >= 2 && is_label(t, w[c[0].w1 - 1]);
    for (size_t i = 1; i < nc && labels; i++) {
        if (!is_label(t, w[c[i].w0])) labels = false;
        if (i + 1 < nc && c[i].w1 - c[i].w0 != 1) labels = false;
    }
    if (labels) {
        kz_span prefix = {w[c[0].w0].s, w[c[0].w1 - 2].e};
        kz_span suffix = {0, 0};
        if (L > 1) suffix = (kz_span){w[last->w0 + 1].s, w[last->w1 - 1].e};
        for (size_t i = 0; i < nc; i++) {
            kz_span sp[3];
            if (i == 0) {
                sp[0] = (kz_span){w[c[0].w0].s, w[c[0].w1 - 1].e};
                sp[1] = suffix;
                rc = emit(doc, sec, e, sp, 2, s, " ", n_added, err);
            } else if (i + 1 < nc) {
                sp[0] = prefix;
                sp[1] = (kz_span){w[c[i].w0].s, w[c[i].w0].e};
                sp[2] = suffix;
                rc = emit(doc, sec, e, sp, 3, s, " ", n_added, err);
            } else {
                sp[0] = prefix;
                sp[1] = (kz_span){w[last->w0].s, w[last->w1 - 1].e};
                rc = emit(doc, sec, e, sp, 2, s, " ", n_added, err);
            }
            if (rc) goto out;
        }
        goto out;
    }
    /* rule C: shared head, unless an earlier conjunct holds a symbol-like word
     * (a digit outside a list label: "IL-6 and TNF alpha" is two entities) */
    bool symbol = false;
    for (size_t i = 0; i + 1 < nc && !symbol; i++)
        for (size_t k = c[i].w0; k < c[i].w1 && !symbol; k++)
            if (!is_label(t, w[k]))
                for (int64_t b = w[k].s; b < w[k].e && !symbol; b++) symbol = t[b] >= '0' && t[b] <= '9';
    if (mx < L && !symbol) {
        kz_span head = {w[last->w0 + mx].s, w[last->w1 - 1].e};
        for (size_t i = 0; i + 1 < nc; i++) {
            kz_span two[2] = {{w[c[i].w0].s, w[c[i].w1 - 1].e}, head};
            if ((rc = emit(doc, sec, e, two, 2, s, " ", n_added, err))) goto out;
        }
        kz_span lk = {w[last->w0].s, w[last->w1 - 1].e};
        rc = emit(doc, sec, e, &lk, 1, s, " ", n_added, err);
        goto out;
    }
    /* rule D: standalone conjuncts */
    for (size_t i = 0; i < nc; i++) {
        kz_span sp = {w[c[i].w0].s, w[c[i].w1 - 1].e};
        if ((rc = emit(doc, sec, e, &sp, 1, s, " ", n_added, err))) goto out;
    }
out:
    free(s);
    return rc;
}
