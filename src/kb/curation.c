/* Kazu's string-resource curation (kazu/ontology_preprocessing/autocuration.py
 * and curation_utils.py): AutoCurator actions, OntologyStringConflictAnalyser,
 * human curations (OntologyStringResource JSONL), GlobalParserActions and the
 * OntologyResourceProcessor. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include <utf8proc.h>
#include "io/json_int.h"
#include "kazu/normalise.h"
#include "kazu/utf8.h"
#include "kb/build_int.h"

/* ---- Python str predicates ------------------------------------------------- */

bool kz__py_isspace(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
           c == 0x3000;
}

typedef struct {
    uint32_t lo, hi;
} cp_range;
/* Other_Uppercase / Other_Lowercase (PropList.txt), as in src/text/normalise.c. */
static const cp_range other_upper[] = {
    {0x2160, 0x216F}, {0x24B6, 0x24CF}, {0x1F130, 0x1F149}, {0x1F150, 0x1F169}, {0x1F170, 0x1F189},
};
static const cp_range other_lower[] = {
    {0x00AA, 0x00AA},   {0x00BA, 0x00BA},   {0x02B0, 0x02B8},   {0x02C0, 0x02C1},   {0x02E0, 0x02E4},
    {0x0345, 0x0345},   {0x037A, 0x037A},   {0x1D2C, 0x1D6A},   {0x1D78, 0x1D78},   {0x1D9B, 0x1DBF},
    {0x2071, 0x2071},   {0x207F, 0x207F},   {0x2090, 0x209C},   {0x2170, 0x217F},   {0x24D0, 0x24E9},
    {0x2C7C, 0x2C7D},   {0xA69C, 0xA69D},   {0xA770, 0xA770},   {0xA7F8, 0xA7F9},   {0xAB5C, 0xAB5F},
    {0x10780, 0x10780}, {0x10783, 0x10785}, {0x10787, 0x107B0}, {0x107B2, 0x107BA},
};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static bool in_ranges(uint32_t c, const cp_range *r, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (c >= r[i].lo && c <= r[i].hi) return true;
    return false;
}
static utf8proc_category_t cat(uint32_t c) { return utf8proc_category((utf8proc_int32_t)c); }

bool kz__py_char_isupper(uint32_t c) {
    return cat(c) == UTF8PROC_CATEGORY_LU || in_ranges(c, other_upper, NELEM(other_upper));
}
bool kz__py_char_islower(uint32_t c) {
    return cat(c) == UTF8PROC_CATEGORY_LL || in_ranges(c, other_lower, NELEM(other_lower));
}

size_t kz__py_len(kz_str s) { return kz_utf8_count(s.ptr, s.len); }

/* str.isupper(): at least one cased character and none lower or title case. */
bool kz__py_isupper(kz_str s) {
    bool cased = false;
    size_t i = 0;
    while (i < s.len) {
        int32_t c = kz_utf8_decode(s.ptr, s.len, &i);
        if (c < 0) return false;
        if (kz__py_char_islower((uint32_t)c) || cat((uint32_t)c) == UTF8PROC_CATEGORY_LT) return false;
        if (kz__py_char_isupper((uint32_t)c)) cased = true;
    }
    return cased;
}

bool kz__py_isalpha(kz_str s) {
    if (!s.len) return false;
    size_t i = 0;
    while (i < s.len) {
        int32_t c = kz_utf8_decode(s.ptr, s.len, &i);
        if (c < 0) return false;
        utf8proc_category_t k = cat((uint32_t)c);
        if (k < UTF8PROC_CATEGORY_LU || k > UTF8PROC_CATEGORY_LO) return false;
    }
    return true;
}

kz_str kz__py_strip(kz_str s) {
    size_t b = 0, e = s.len;
    while (b < e) {
        size_t j = b;
        int32_t c = kz_utf8_decode(s.ptr, e, &j);
        if (c < 0 || !kz__py_isspace((uint32_t)c)) break;
        b = j;
    }
    while (e > b) {
        size_t k = e - 1;
        while (k > b && ((unsigned char)s.ptr[k] & 0xC0) == 0x80) k--;
        size_t j = k;
        int32_t c = kz_utf8_decode(s.ptr, e, &j);
        if (c < 0 || !kz__py_isspace((uint32_t)c)) break;
        e = k;
    }
    return (kz_str){s.ptr + b, e - b};
}

static bool cased(uint32_t c) {
    utf8proc_category_t k = cat(c);
    return k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LL || k == UTF8PROC_CATEGORY_LT ||
           in_ranges(c, other_upper, NELEM(other_upper)) || in_ranges(c, other_lower, NELEM(other_lower));
}
static bool case_ignorable(uint32_t c) {
    utf8proc_category_t k = cat(c);
    return k == UTF8PROC_CATEGORY_MN || k == UTF8PROC_CATEGORY_ME || k == UTF8PROC_CATEGORY_CF ||
           k == UTF8PROC_CATEGORY_LM || k == UTF8PROC_CATEGORY_SK || c == '\'' || c == '.' || c == ':' ||
           c == 0x2019;
}

/* Final_Sigma: preceded by a cased letter and not followed by one (skipping
 * case-ignorable characters), as CPython's lower() does. */
static bool final_sigma(kz_str s, size_t at, size_t after) {
    bool before = false;
    size_t i = at;
    while (i > 0) {
        size_t k = i - 1;
        while (k > 0 && ((unsigned char)s.ptr[k] & 0xC0) == 0x80) k--;
        size_t j = k;
        int32_t c = kz_utf8_decode(s.ptr, s.len, &j);
        i = k;
        if (c < 0) break;
        if (case_ignorable((uint32_t)c)) continue;
        before = cased((uint32_t)c);
        break;
    }
    if (!before) return false;
    i = after;
    while (i < s.len) {
        int32_t c = kz_utf8_decode(s.ptr, s.len, &i);
        if (c < 0) break;
        if (case_ignorable((uint32_t)c)) continue;
        return !cased((uint32_t)c);
    }
    return true;
}

kz_str kz__py_lower(kz_arena *a, kz_str s) {
    bool ascii = true, upper = false;
    for (size_t i = 0; i < s.len && ascii; i++) {
        ascii = !((unsigned char)s.ptr[i] & 0x80);
        upper |= s.ptr[i] >= 'A' && s.ptr[i] <= 'Z';
    }
    if (ascii && !upper && s.ptr) return s; /* already lower case: no copy */
    char *o = kz_arena_alloc(a, (ascii ? s.len : s.len * 3 / 2 + 8) + 1);
    if (!o) return KZ_STR_NULL;
    size_t n = 0;
    if (ascii) {
        for (size_t i = 0; i < s.len; i++) {
            char c = s.ptr[i];
            o[n++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        }
    } else {
        size_t i = 0;
        while (i < s.len) {
            size_t at = i;
            int32_t c = kz_utf8_decode(s.ptr, s.len, &i);
            if (c < 0) continue;
            if (c == 0x130) { /* İ -> i + combining dot above */
                o[n++] = 'i';
                n += kz_utf8_encode(0x307, o + n);
                continue;
            }
            uint32_t l = (uint32_t)utf8proc_tolower(c);
            if (c == 0x3A3 && final_sigma(s, at, i)) l = 0x3C2;
            n += kz_utf8_encode(l, o + n);
        }
    }
    o[n] = 0;
    return (kz_str){o, n};
}

/* ---- names ------------------------------------------------------------------ */

static const char *const behaviour_names[] = {"ADD_FOR_NER_AND_LINKING", "ADD_FOR_LINKING_ONLY",
                                              "DROP_FOR_LINKING"};

static int behaviour_parse(kz_str s, int *out) {
    for (int i = 0; i < 3; i++)
        if (kz_str_eq_c(s, behaviour_names[i])) {
            *out = i;
            return 0;
        }
    return KZ_EPARSE;
}

static const char *const curator_names[] = {"none", "basic", "gene", "chembl", "cell_line_or_type"};

int kz__curator_parse(const char *name, int *out) {
    for (int i = 0; i < 5; i++)
        if (name && strcmp(name, curator_names[i]) == 0) {
            *out = i;
            return 0;
        }
    return KZ_EPARSE;
}
const char *kz__curator_name(int v) { return v >= 0 && v < 5 ? curator_names[v] : NULL; }

/* ---- AutoCurator ------------------------------------------------------------ */

#include "kb/common_words.inc"

static int word_cmp(const void *a, const void *b) {
    const kz_str *k = a;
    const char *w = *(const char *const *)b;
    size_t wl = strlen(w);
    int c = memcmp(k->ptr, w, KZ_MIN(k->len, wl));
    return c ? c : (k->len < wl ? -1 : k->len > wl);
}

bool kz__common_word(kz_str w) {
    return bsearch(&w, kz_common_words, NELEM(kz_common_words), sizeof kz_common_words[0], word_cmp) != NULL;
}

static void set_all(kz_kbb_res *r, int cs, int conf) {
    for (uint32_t i = 0; i < r->n_orig + r->n_alt; i++) {
        kz_kbb_syn *s = i < r->n_orig ? &r->orig[i] : &r->alt[i - r->n_orig];
        if (cs >= 0) s->case_sensitive = cs != 0;
        if (conf >= 0) s->mention_confidence = conf;
    }
    /* dataclasses.replace over frozensets: equal synonyms collapse */
    r->n_orig = kz__kbb_syns_normalise(r->orig, r->n_orig);
    r->n_alt = kz__kbb_syns_normalise(r->alt, r->n_alt);
}

int kz__autocurate_action(kz_kbb_ctx *ctx, int action, const char *cls, kz_kbb_res *r, kz_error *err) {
    bool any = false, all = true;
    switch (action) {
    case KZ_AC_SYMBOLIC_TO_CS: {
        kz_ncache *c = kz__kbb_ctx_cache(ctx, cls);
        if (!c) return kz_error_set(err, KZ_ENOMEM, "autocuration: out of memory");
        for (uint32_t i = 0; i < r->n_orig && all; i++) {
            bool sym = false;
            int rc = kz__ncache_symbolic(c, r->orig[i].text, &sym, err);
            if (rc) return rc;
            all = sym;
        }
        if (all) set_all(r, 1, -1);
        return 0;
    }
    case KZ_AC_LIKELY_ACRONYM:
        for (uint32_t i = 0; i < r->n_orig && all; i++)
            all = kz__py_len(r->orig[i].text) <= 5 && kz__py_isupper(r->orig[i].text);
        if (all) set_all(r, -1, KZ_MENTION_POSSIBLE);
        return 0;
    case KZ_AC_COMMON_WORD:
        for (uint32_t i = 0; i < r->n_orig && !any; i++) {
            kz_str low = kz__py_lower(ctx->arena, r->orig[i].text);
            if (!low.ptr) return kz_error_set(err, KZ_ENOMEM, "autocuration: out of memory");
            /* all(word in common for word in text.lower().split()) */
            bool every = true;
            size_t p = 0;
            while (p < low.len && every) {
                size_t j = p;
                int32_t c = kz_utf8_decode(low.ptr, low.len, &j);
                if (c >= 0 && kz__py_isspace((uint32_t)c)) {
                    p = j;
                    continue;
                }
                size_t start = p;
                while (p < low.len) {
                    j = p;
                    c = kz_utf8_decode(low.ptr, low.len, &j);
                    if (c >= 0 && kz__py_isspace((uint32_t)c)) break;
                    p = j;
                }
                every = kz__common_word((kz_str){low.ptr + start, p - start});
            }
            any = every;
        }
        if (any) set_all(r, -1, KZ_MENTION_POSSIBLE);
        return 0;
    case KZ_AC_MULTIWORD:
        for (uint32_t i = 0; i < r->n_orig && !any; i++)
            any = memchr(r->orig[i].text.ptr, ' ', r->orig[i].text.len) != NULL;
        if (any) set_all(r, -1, KZ_MENTION_PROBABLE);
        return 0;
    case KZ_AC_MIN_LENGTH:
        for (uint32_t i = 0; i < r->n_orig && !any; i++) any = kz__py_len(r->orig[i].text) < 2;
        if (any) r->behaviour = KZ_KB_DROP_FOR_LINKING;
        return 0;
    case KZ_AC_MAX_LENGTH:
        for (uint32_t i = 0; i < r->n_orig && !any; i++) any = kz__py_len(r->orig[i].text) > 60;
        if (any) r->behaviour = KZ_KB_DROP_FOR_LINKING;
        return 0;
    case KZ_AC_INITIAL_LOWER_UPPER:
        for (uint32_t i = 0; i < r->n_orig && !any; i++) {
            kz_str t = r->orig[i].text;
            size_t j = 0;
            int32_t c0 = kz_utf8_decode(t.ptr, t.len, &j);
            if (c0 < 0 || j >= t.len) continue;
            int32_t c1 = kz_utf8_decode(t.ptr, t.len, &j);
            any = c1 >= 0 && kz__py_char_islower((uint32_t)c0) && kz__py_char_isupper((uint32_t)c1);
        }
        if (any) set_all(r, 1, -1);
        return 0;
    case KZ_AC_UPPER_WORD_TO_CI:
        for (uint32_t i = 0; i < r->n_orig && all; i++)
            all = kz__py_isupper(r->orig[i].text) && kz__py_isalpha(r->orig[i].text);
        if (all) set_all(r, 0, -1);
        return 0;
    default: return kz_error_set(err, KZ_EINVAL, "unknown autocuration action %d", action);
    }
}

/* conf/autocurator/default.yaml; the class is SymbolicToCaseSensitiveAction's. */
static const struct {
    const char *cls;
    int actions[8];
    int n;
} curators[] = {
    [KZ_CURATOR_BASIC] = {"disease",
                          {KZ_AC_SYMBOLIC_TO_CS, KZ_AC_LIKELY_ACRONYM, KZ_AC_COMMON_WORD, KZ_AC_MULTIWORD,
                           KZ_AC_MIN_LENGTH, KZ_AC_MAX_LENGTH, KZ_AC_INITIAL_LOWER_UPPER},
                          7},
    [KZ_CURATOR_GENE] = {"gene",
                         {KZ_AC_SYMBOLIC_TO_CS, KZ_AC_COMMON_WORD, KZ_AC_MIN_LENGTH, KZ_AC_MAX_LENGTH,
                          KZ_AC_INITIAL_LOWER_UPPER},
                         5},
    [KZ_CURATOR_CHEMBL] = {"drug",
                           {KZ_AC_SYMBOLIC_TO_CS, KZ_AC_LIKELY_ACRONYM, KZ_AC_COMMON_WORD, KZ_AC_MIN_LENGTH,
                            KZ_AC_MAX_LENGTH, KZ_AC_INITIAL_LOWER_UPPER, KZ_AC_UPPER_WORD_TO_CI},
                           7},
    [KZ_CURATOR_CELL] = {"cell_line",
                         {KZ_AC_SYMBOLIC_TO_CS, KZ_AC_COMMON_WORD, KZ_AC_MIN_LENGTH, KZ_AC_MAX_LENGTH,
                          KZ_AC_INITIAL_LOWER_UPPER},
                         5},
};

int kz__autocurate(kz_kbb_ctx *ctx, int curator, kz_kbb_res *r, kz_error *err) {
    if (curator <= KZ_CURATOR_NONE || curator > KZ_CURATOR_CELL) return 0;
    for (int i = 0; i < curators[curator].n; i++) {
        int rc = kz__autocurate_action(ctx, curators[curator].actions[i], curators[curator].cls, r, err);
        if (rc) return rc;
    }
    return 0;
}

/* ---- conflict analyser ------------------------------------------------------- */

static const kz_kbb_syn *syn_at(const kz_kbb_res *r, uint32_t i) {
    return i < r->n_orig ? &r->orig[i] : &r->alt[i - r->n_orig];
}

static int put_syns(kz_buf *b, const kz_kbb_syn *s, uint32_t n) {
    int rc = kz__buf_putc(b, '[');
    for (uint32_t i = 0; i < n && !rc; i++) {
        if (i) rc = kz__buf_putc(b, ',');
        if (!rc) rc = kz__buf_puts(b, "{\"text\":");
        if (!rc) rc = kz__json_put_string(b, s[i].text.ptr, s[i].text.len, false);
        if (!rc)
            rc = kz__buf_printf(b, ",\"case_sensitive\":%s,\"mention_confidence\":\"%s\"}",
                                s[i].case_sensitive ? "true" : "false",
                                kz_mention_confidence_name(s[i].mention_confidence));
    }
    if (!rc) rc = kz__buf_putc(b, ']');
    return rc;
}

/* One resource in Kazu's OntologyStringResource JSON shape (+ "origin"). */
static int put_res(kz_buf *b, const kz_kbb_res *r) {
    int rc = kz__buf_puts(b, "{\"original_synonyms\":");
    if (!rc) rc = put_syns(b, r->orig, r->n_orig);
    if (!rc) rc = kz__buf_printf(b, ",\"behaviour\":\"%s\"", behaviour_names[r->behaviour]);
    if (!rc && r->n_alt) {
        rc = kz__buf_puts(b, ",\"alternative_synonyms\":");
        if (!rc) rc = put_syns(b, r->alt, r->n_alt);
    }
    if (!rc && r->has_id_sets) {
        rc = kz__buf_puts(b, ",\"associated_id_sets\":[");
        for (uint32_t i = 0; i < r->n_id_sets && !rc; i++) {
            rc = kz__buf_puts(b, i ? ",{\"ids_and_source\":[" : "{\"ids_and_source\":[");
            for (uint32_t k = 0; k < r->id_sets[i].n && !rc; k++) {
                const kz_id_source *x = &r->id_sets[i].ids[k];
                rc = kz__buf_puts(b, k ? ",[" : "[");
                if (!rc) rc = kz__json_put_string(b, x->idx.ptr, x->idx.len, false);
                if (!rc) rc = kz__buf_putc(b, ',');
                if (!rc) rc = kz__json_put_string(b, x->source.ptr, x->source.len, false);
                if (!rc) rc = kz__buf_putc(b, ']');
            }
            if (!rc) rc = kz__buf_puts(b, "]}");
        }
        if (!rc) rc = kz__buf_putc(b, ']');
    }
    if (!rc && r->comment.ptr) {
        rc = kz__buf_puts(b, ",\"comment\":");
        if (!rc) rc = kz__json_put_string(b, r->comment.ptr, r->comment.len, false);
    }
    if (!rc) {
        rc = kz__buf_puts(b, ",\"origin\":");
        if (!rc)
            rc = r->origin.ptr ? kz__json_put_string(b, r->origin.ptr, r->origin.len, false)
                               : kz__buf_puts(b, "\"default\"");
    }
    if (!rc) rc = kz__buf_putc(b, '}');
    return rc;
}

static int autofix_group(kz_kbb_ctx *ctx, const kz_kbb_res *const *g, size_t n, int autofix, kz_resvec *out,
                         kz_error *err);

/* Write one unresolved conflict as a JSONL object; count it. */
static int report_conflict(kz_kbb_ctx *ctx, const char *kind, const char *stage, kz_str key,
                           const kz_kbb_res *const *g, size_t n, const char *reason, kz_error *err) {
    ctx->n_conflicts++;
    kz_log(KZ_LOG_WARN, "kb build: %s: %s conflict in %s on \"%.*s\" (%zu resources)", ctx->parser, kind,
           stage, (int)KZ_MIN(key.len, 200), key.ptr ? key.ptr : "", n);
    if (!ctx->report) return 0;
    kz_buf *b = ctx->report;
    int rc = kz__buf_puts(b, "{\"kind\":");
    if (!rc) rc = kz__json_put_string(b, kind, strlen(kind), false);
    if (!rc) rc = kz__buf_puts(b, ",\"parser\":");
    if (!rc) rc = kz__json_put_string(b, ctx->parser, strlen(ctx->parser), false);
    if (!rc) rc = kz__buf_puts(b, ",\"stage\":");
    if (!rc) rc = kz__json_put_string(b, stage, strlen(stage), false);
    if (!rc) rc = kz__buf_puts(b, strcmp(kind, "case") == 0 ? ",\"string\":" : ",\"syn_norm\":");
    if (!rc) rc = kz__json_put_string(b, key.ptr ? key.ptr : "", key.len, false);
    if (!rc) rc = kz__buf_puts(b, ",\"reason\":");
    if (!rc) rc = kz__json_put_string(b, reason, strlen(reason), false);
    if (!rc) rc = kz__buf_puts(b, ",\"resources\":[");
    for (size_t i = 0; i < n && !rc; i++) {
        if (i) rc = kz__buf_putc(b, ',');
        if (!rc) rc = put_res(b, g[i]);
    }
    if (!rc) rc = kz__buf_puts(b, "],\"suggested_fix\":");
    if (!rc) {
        if (strcmp(kind, "inconsistent_normalisation") == 0) {
            rc = kz__json_put_string(
                b, "split the resource: its original synonyms normalise to different values",
                strlen("split the resource: its original synonyms normalise to different "
                       "values"),
                false);
        } else {
            /* what Kazu's OPTIMISTIC autofix would make of the group */
            kz_resvec fixed = {0};
            rc = autofix_group(ctx, g, n, KZ_AUTOFIX_OPTIMISTIC, &fixed, err);
            if (!rc) rc = kz__buf_putc(b, '[');
            for (size_t i = 0; i < fixed.n && !rc; i++) {
                if (i) rc = kz__buf_putc(b, ',');
                if (!rc) rc = put_res(b, &fixed.v[i]);
            }
            if (!rc) rc = kz__buf_putc(b, ']');
            kz__resvec_free(&fixed);
        }
    }
    if (!rc) rc = kz__buf_puts(b, "}\n");
    return rc ? kz_error_set(err, KZ_ENOMEM, "conflict report: out of memory") : 0;
}

static const int behaviour_rank[] = {0, 1, 2}; /* NER < LINKING_ONLY < DROP */

/* autofix_resources for one conflicted set: one resource per syn_norm. */
static int af_cmp(const void *a, const void *b, void *group) {
    const kz_kbb_res *const *af_group = group;
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = kz_str_cmp(af_group[x]->syn_norm, af_group[y]->syn_norm);
    return c ? c : (x > y) - (x < y);
}

static int autofix_group(kz_kbb_ctx *ctx, const kz_kbb_res *const *g, size_t n, int autofix, kz_resvec *out,
                         kz_error *err) {
    int behaviour = KZ_KB_ADD_FOR_NER_AND_LINKING;
    bool any_ci = false, any_cs = false;
    size_t n_syn = 0, n_ids = 0;
    for (size_t i = 0; i < n; i++) {
        if (behaviour_rank[g[i]->behaviour] > behaviour_rank[behaviour]) behaviour = g[i]->behaviour;
        for (uint32_t k = 0; k < g[i]->n_orig + g[i]->n_alt; k++) {
            if (syn_at(g[i], k)->case_sensitive)
                any_cs = true;
            else
                any_ci = true;
        }
        n_syn += g[i]->n_orig + g[i]->n_alt;
        if (g[i]->has_id_sets) n_ids += g[i]->n_id_sets;
    }
    bool cs = autofix == KZ_AUTOFIX_OPTIMISTIC ? !any_ci : any_cs;
    /* lower(text) -> aggregated confidence over the whole set */
    kz_str *lows = kz_arena_calloc(ctx->arena, n_syn ? n_syn : 1, sizeof *lows);
    if (!lows) return kz_error_set(err, KZ_ENOMEM, "autofix: out of memory");
    kz_strmap confs = {0};
    int *agg = calloc(n_syn ? n_syn : 1, sizeof *agg);
    int rc = agg ? 0 : KZ_ENOMEM;
    size_t q = 0;
    for (size_t i = 0; i < n && !rc; i++)
        for (uint32_t k = 0; k < g[i]->n_orig + g[i]->n_alt && !rc; k++, q++) {
            const kz_kbb_syn *s = syn_at(g[i], k);
            lows[q] = kz__py_lower(ctx->arena, s->text);
            if (!lows[q].ptr) {
                rc = KZ_ENOMEM;
                break;
            }
            uint32_t *slot;
            int ins = kz__strmap_put(&confs, lows[q], (uint32_t)q, &slot);
            if (ins < 0)
                rc = ins;
            else if (ins)
                agg[q] = s->mention_confidence;
            else {
                int *a = &agg[*slot];
                *a = autofix == KZ_AUTOFIX_OPTIMISTIC ? KZ_MAX(*a, s->mention_confidence)
                                                      : KZ_MIN(*a, s->mention_confidence);
            }
        }
    /* union of id sets */
    kz_kbb_idset *ids = NULL;
    uint32_t n_set = 0;
    if (!rc && n_ids) {
        ids = kz_arena_calloc(ctx->arena, n_ids, sizeof *ids);
        if (!ids) rc = KZ_ENOMEM;
        for (size_t i = 0; i < n && !rc; i++)
            if (g[i]->has_id_sets)
                for (uint32_t k = 0; k < g[i]->n_id_sets; k++) ids[n_set++] = g[i]->id_sets[k];
        n_set = kz__kbb_idsets_normalise(ids, n_set);
    }
    /* one output per syn_norm, in syn_norm order */
    size_t *order = rc ? NULL : malloc((n ? n : 1) * sizeof *order);
    if (!rc && !order) rc = KZ_ENOMEM;
    for (size_t i = 0; i < n && !rc; i++) order[i] = i;
    if (!rc) {
        qsort_r(order, n, sizeof *order, af_cmp, (void *)g);
    }
    size_t i = 0;
    while (!rc && i < n) {
        size_t j = i;
        uint32_t no = 0, na = 0;
        while (j < n && kz_str_eq(g[order[j]]->syn_norm, g[order[i]]->syn_norm)) {
            no += g[order[j]]->n_orig;
            na += g[order[j]]->n_alt;
            j++;
        }
        kz_kbb_res r = {0};
        r.orig = kz_arena_calloc(ctx->arena, no, sizeof *r.orig);
        r.alt = na ? kz_arena_calloc(ctx->arena, na, sizeof *r.alt) : NULL;
        if (!r.orig || (na && !r.alt)) {
            rc = KZ_ENOMEM;
            break;
        }
        for (size_t k = i; k < j; k++) {
            const kz_kbb_res *src = g[order[k]];
            for (uint32_t s = 0; s < src->n_orig + src->n_alt; s++) {
                const kz_kbb_syn *x = syn_at(src, s);
                kz_str low = kz__py_lower(ctx->arena, x->text);
                if (!low.ptr) {
                    rc = KZ_ENOMEM;
                    break;
                }
                kz_kbb_syn y = {x->text, cs, agg[*kz__strmap_get(&confs, low)]};
                if (s < src->n_orig)
                    r.orig[r.n_orig++] = y;
                else
                    r.alt[r.n_alt++] = y;
            }
        }
        if (rc) break;
        r.n_orig = kz__kbb_syns_normalise(r.orig, r.n_orig);
        r.n_alt = kz__kbb_syns_normalise(r.alt, r.n_alt);
        r.behaviour = behaviour;
        r.has_id_sets = n_set > 0;
        r.id_sets = n_set ? ids : NULL;
        r.n_id_sets = n_set;
        r.syn_norm = g[order[i]]->syn_norm;
        if (kz__resvec_push(out, &r)) rc = KZ_ENOMEM;
        i = j;
    }
    free(order);
    free(agg);
    kz__strmap_free(&confs);
    return rc ? kz_error_set(err, rc, "autofix: out of memory") : 0;
}

typedef struct {
    uint32_t key; /* lower-string id */
    uint32_t res;
} key_res;

static int key_res_cmp(const void *a, const void *b) {
    const key_res *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->res < y->res ? -1 : x->res > y->res;
}

typedef struct {
    uint32_t key;
    size_t first, count;
} span;

static int span_cmp(const void *a, const void *b, void *keys) {
    const kz_str *k = keys;
    return kz_str_cmp(k[((const span *)a)->key], k[((const span *)b)->key]);
}

typedef struct {
    kz_str low, text;
    bool cs;
    int conf;
} case_entry;

static int case_entry_cmp(const void *a, const void *b) {
    const case_entry *x = a, *y = b;
    int c = kz_str_cmp(x->low, y->low);
    if (c) return c;
    if (x->cs != y->cs) return x->cs ? 1 : -1;
    return x->conf - y->conf;
}

/* _resource_set_has_case_conflicts over the given resources. */
static bool has_case_conflict(case_entry *e, size_t n) {
    qsort(e, n, sizeof *e, case_entry_cmp);
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && kz_str_eq(e[j].low, e[i].low)) j++;
        int n_ci = 0, ci = 0;
        for (size_t k = i; k < j; k++)
            if (!e[k].cs && (n_ci == 0 || e[k].conf != ci)) {
                ci = e[k].conf;
                n_ci++;
            }
        if (n_ci > 1) return true;
        if (n_ci == 1)
            for (size_t k = i; k < j; k++)
                if (e[k].cs && e[k].conf <= ci) return true;
        i = j;
    }
    return false;
}

static int res_ptr_cmp(const void *a, const void *b) {
    return kz__kbb_res_cmp(*(const kz_kbb_res *const *)a, *(const kz_kbb_res *const *)b);
}

/* by syn_norm, then content (a total order, so qsort is deterministic) */
static int res_norm_cmp(const void *a, const void *b) {
    const kz_kbb_res *x = *(const kz_kbb_res *const *)a, *y = *(const kz_kbb_res *const *)b;
    int c = kz_str_cmp(x->syn_norm, y->syn_norm);
    return c ? c : kz__kbb_res_cmp(x, y);
}

int kz__conflicts_verify(kz_kbb_ctx *ctx, const kz_kbb_res *in, size_t n, int autofix, const char *stage,
                         kz_resvec *clean, kz_error *err) {
    int rc = 0;
    /* set semantics: sort by content, drop exact duplicates */
    const kz_kbb_res **ps = malloc((n ? n : 1) * sizeof *ps);
    if (!ps) return kz_error_set(err, KZ_ENOMEM, "conflict analysis: out of memory");
    for (size_t i = 0; i < n; i++) ps[i] = &in[i];
    qsort(ps, n, sizeof *ps, res_ptr_cmp);
    kz_resvec work = {0}, fixed = {0};
    kz_strvec keys = {0};
    key_res *kr = NULL;
    kz_str *lowv = NULL;
    size_t *offs = NULL;
    case_entry *ce = NULL;
    const kz_kbb_res **grp = NULL;
    bool *bad = NULL;
    for (size_t i = 0; i < n && !rc; i++) {
        if (i && kz__kbb_res_cmp(ps[i - 1], ps[i]) == 0) continue;
        kz_kbb_res r = *ps[i];
        kz_error e2;
        kz_error_clear(&e2);
        int r2 = kz__kbb_res_syn_norm(ctx, &r, &e2);
        if (r2 == KZ_ECONFIG) {
            const kz_kbb_res *one = &r;
            rc = report_conflict(ctx, "inconsistent_normalisation", stage, r.orig[0].text, &one, 1, e2.msg,
                                 err);
            continue;
        }
        if (r2) {
            *err = e2;
            rc = r2;
            break;
        }
        if (kz__resvec_push(&work, &r)) rc = kz_error_set(err, KZ_ENOMEM, "conflict analysis: out of memory");
    }
    free(ps);
    ps = NULL;
    if (rc) goto done;

    /* 1. group by syn_norm: merge when behaviour and id sets agree, else a
     * normalisation conflict */
    {
        size_t m = work.n;
        const kz_kbb_res **bys = malloc((m ? m : 1) * sizeof *bys);
        kz_resvec next = {0};
        if (!bys) {
            rc = kz_error_set(err, KZ_ENOMEM, "conflict analysis: out of memory");
            goto done;
        }
        for (size_t i = 0; i < m; i++) bys[i] = &work.v[i];
        qsort(bys, m, sizeof *bys, res_norm_cmp);
        size_t i = 0;
        while (i < m && !rc) {
            size_t j = i + 1;
            while (j < m && kz_str_eq(bys[j]->syn_norm, bys[i]->syn_norm)) j++;
            if (j - i == 1) {
                if (kz__resvec_push(&next, bys[i])) rc = KZ_ENOMEM;
                i = j;
                continue;
            }
            bool conflict = false;
            const kz_kbb_res *with_ids = NULL;
            uint32_t no = 0, na = 0;
            for (size_t k = i; k < j; k++) {
                if (bys[k]->behaviour != bys[i]->behaviour) conflict = true;
                if (bys[k]->has_id_sets) {
                    if (!with_ids)
                        with_ids = bys[k];
                    else if (with_ids->n_id_sets != bys[k]->n_id_sets)
                        conflict = true;
                    else
                        for (uint32_t s = 0; s < with_ids->n_id_sets && !conflict; s++)
                            conflict = kz__kbb_idset_cmp(&with_ids->id_sets[s], &bys[k]->id_sets[s]) != 0;
                }
                no += bys[k]->n_orig;
                na += bys[k]->n_alt;
            }
            if (conflict) {
                if (autofix == KZ_AUTOFIX_NONE)
                    rc = report_conflict(
                        ctx, "normalisation", stage, bys[i]->syn_norm, bys + i, j - i,
                        "resources with the same syn_norm disagree on behaviour or associated_id_sets", err);
                else
                    rc = autofix_group(ctx, bys + i, j - i, autofix, &fixed, err);
                i = j;
                continue;
            }
            kz_kbb_res r = *bys[i];
            r.orig = kz_arena_calloc(ctx->arena, no, sizeof *r.orig);
            r.alt = na ? kz_arena_calloc(ctx->arena, na, sizeof *r.alt) : NULL;
            if (!r.orig || (na && !r.alt)) {
                rc = KZ_ENOMEM;
                break;
            }
            r.n_orig = r.n_alt = 0;
            kz_buf cm;
            kz__buf_init(&cm, 0);
            for (size_t k = i; k < j; k++) {
                memcpy(r.orig + r.n_orig, bys[k]->orig, bys[k]->n_orig * sizeof *r.orig);
                r.n_orig += bys[k]->n_orig;
                if (bys[k]->n_alt) memcpy(r.alt + r.n_alt, bys[k]->alt, bys[k]->n_alt * sizeof *r.alt);
                r.n_alt += bys[k]->n_alt;
                if (bys[k]->comment.ptr) {
                    if (cm.len) kz__buf_putc(&cm, '\n');
                    kz__buf_append(&cm, bys[k]->comment.ptr, bys[k]->comment.len);
                }
            }
            r.n_orig = kz__kbb_syns_normalise(r.orig, r.n_orig);
            r.n_alt = kz__kbb_syns_normalise(r.alt, r.n_alt);
            r.has_id_sets = with_ids != NULL;
            r.id_sets = with_ids ? with_ids->id_sets : NULL;
            r.n_id_sets = with_ids ? with_ids->n_id_sets : 0;
            r.comment = cm.len ? kz_arena_strdup(ctx->arena, cm.data, cm.len) : KZ_STR_NULL;
            kz__buf_free(&cm);
            kz_log(KZ_LOG_DEBUG, "kb build: %s: merged %zu resources with syn_norm %.*s", ctx->parser, j - i,
                   (int)r.syn_norm.len, r.syn_norm.ptr);
            if (kz__resvec_push(&next, &r)) rc = KZ_ENOMEM;
            i = j;
        }
        free(bys);
        for (size_t k = 0; k < fixed.n && !rc; k++)
            if (kz__resvec_push(&next, &fixed.v[k])) rc = KZ_ENOMEM;
        fixed.n = 0;
        kz__resvec_free(&work);
        work = next;
        if (rc) {
            if (rc == KZ_ENOMEM) kz_error_set(err, rc, "conflict analysis: out of memory");
            goto done;
        }
    }

    /* 2. case conflicts across resources sharing a lower-cased string */
    {
        size_t total = 0;
        for (size_t i = 0; i < work.n; i++) total += work.v[i].n_orig + work.v[i].n_alt;
        kr = malloc((total ? total : 1) * sizeof *kr);
        lowv = malloc((total ? total : 1) * sizeof *lowv);
        offs = malloc((work.n ? work.n : 1) * sizeof *offs);
        kz_strmap kmap = {0};
        if (!kr || !lowv || !offs) rc = KZ_ENOMEM;
        size_t nk = 0;
        for (size_t i = 0; i < work.n && !rc; i++) {
            offs[i] = nk;
            for (uint32_t k = 0; k < work.v[i].n_orig + work.v[i].n_alt; k++) {
                kz_str low = kz__py_lower(ctx->arena, syn_at(&work.v[i], k)->text);
                if (!low.ptr) {
                    rc = KZ_ENOMEM;
                    break;
                }
                lowv[nk] = low;
                uint32_t *slot;
                int ins = kz__strmap_put(&kmap, low, (uint32_t)keys.n, &slot);
                if (ins < 0 || (ins && kz__strvec_push(&keys, low))) {
                    rc = KZ_ENOMEM;
                    break;
                }
                kr[nk++] = (key_res){*slot, (uint32_t)i};
            }
        }
        kz__strmap_free(&kmap);
        if (rc) {
            kz_error_set(err, rc, "conflict analysis: out of memory");
            goto done;
        }
        qsort(kr, nk, sizeof *kr, key_res_cmp);
        bad = calloc(work.n ? work.n : 1, sizeof *bad);
        grp = malloc((work.n ? work.n : 1) * sizeof *grp);
        size_t ce_cap = 0;
        if (!bad || !grp) rc = KZ_ENOMEM;
        /* conflicted groups, in lower-string order for a deterministic report */
        span *spans = NULL;
        size_t n_spans = 0, spans_cap = 0;
        size_t i = 0;
        while (i < nk && !rc) {
            size_t j = i;
            size_t n_e = 0;
            while (j < nk && kr[j].key == kr[i].key) j++;
            /* unique resources of the group */
            size_t g_n = 0;
            for (size_t k = i; k < j; k++)
                if (k == i || kr[k].res != kr[k - 1].res) g_n++;
            if (g_n == 1 && j - i >= 1) {
                /* a lone resource: check it once (its own strings) */
            }
            size_t need = 0;
            for (size_t k = i; k < j; k++)
                if (k == i || kr[k].res != kr[k - 1].res) {
                    const kz_kbb_res *r = &work.v[kr[k].res];
                    need += r->n_orig + r->n_alt;
                }
            if (need > ce_cap) {
                case_entry *x = realloc(ce, need * sizeof *ce);
                if (!x) {
                    rc = KZ_ENOMEM;
                    break;
                }
                ce = x;
                ce_cap = need;
            }
            for (size_t k = i; k < j && !rc; k++) {
                if (k != i && kr[k].res == kr[k - 1].res) continue;
                const kz_kbb_res *r = &work.v[kr[k].res];
                if (r->behaviour != KZ_KB_ADD_FOR_NER_AND_LINKING) continue;
                for (uint32_t s = 0; s < r->n_orig + r->n_alt; s++) {
                    const kz_kbb_syn *x = syn_at(r, s);
                    if (x->mention_confidence == KZ_MENTION_IGNORE) continue;
                    ce[n_e++] = (case_entry){lowv[offs[kr[k].res] + s], x->text, x->case_sensitive,
                                             x->mention_confidence};
                }
            }
            if (!rc && n_e && has_case_conflict(ce, n_e)) {
                if (n_spans == spans_cap) {
                    size_t c2 = spans_cap ? spans_cap * 2 : 64;
                    span *s2 = realloc(spans, c2 * sizeof *s2);
                    if (!s2) {
                        rc = KZ_ENOMEM;
                        break;
                    }
                    spans = s2;
                    spans_cap = c2;
                }
                spans[n_spans++] = (span){kr[i].key, i, j - i};
                for (size_t k = i; k < j; k++) bad[kr[k].res] = true;
            }
            i = j;
        }
        /* order the conflicted groups by their lower string */
        if (n_spans > 1) qsort_r(spans, n_spans, sizeof *spans, span_cmp, keys.v);
        for (size_t s = 0; s < n_spans && !rc; s++) {
            size_t g_n = 0;
            for (size_t k = spans[s].first; k < spans[s].first + spans[s].count; k++)
                if (k == spans[s].first || kr[k].res != kr[k - 1].res) grp[g_n++] = &work.v[kr[k].res];
            if (autofix == KZ_AUTOFIX_NONE)
                rc = report_conflict(ctx, "case", stage, keys.v[spans[s].key], grp, g_n,
                                     "case-insensitive confidences must be unique and every case-sensitive "
                                     "confidence strictly higher than the case-insensitive one",
                                     err);
            else
                rc = autofix_group(ctx, grp, g_n, autofix, &fixed, err);
        }
        free(spans);
        if (rc) {
            if (rc == KZ_ENOMEM) kz_error_set(err, rc, "conflict analysis: out of memory");
            goto done;
        }
        /* clean = resources in no conflicted group, plus the autofixed ones */
        for (size_t k = 0; k < work.n && !rc; k++)
            if (!bad[k] && kz__resvec_push(clean, &work.v[k])) rc = KZ_ENOMEM;
        for (size_t k = 0; k < fixed.n && !rc; k++)
            if (kz__resvec_push(clean, &fixed.v[k])) rc = KZ_ENOMEM;
        if (rc) kz_error_set(err, rc, "conflict analysis: out of memory");
    }
done:
    free(ps);
    free(kr);
    free(lowv);
    free(offs);
    free(ce);
    free(grp);
    free(bad);
    kz__strvec_free(&keys);
    kz__resvec_free(&work);
    kz__resvec_free(&fixed);
    return rc;
}

int kz__curations_merge(kz_kbb_ctx *ctx, const kz_kbb_res *human, size_t n_human, const kz_kbb_res *autos,
                        size_t n_auto, kz_resvec *effective, uint64_t *n_obsolete, kz_error *err) {
    kz_strmap hmap = {0};
    bool *used = calloc(n_human ? n_human : 1, sizeof *used);
    int rc = used ? 0 : KZ_ENOMEM;
    if (n_obsolete) *n_obsolete = 0;
    for (size_t i = 0; i < n_human && !rc; i++)
        if (kz__strmap_put(&hmap, human[i].syn_norm, (uint32_t)i, NULL) < 0) rc = KZ_ENOMEM;
    for (size_t i = 0; i < n_auto && !rc; i++) {
        uint32_t *h = kz__strmap_get(&hmap, autos[i].syn_norm);
        if (!h) {
            if (kz__resvec_push(effective, &autos[i])) rc = KZ_ENOMEM;
            continue;
        }
        if (!used[*h] && kz__resvec_push(effective, &human[*h])) rc = KZ_ENOMEM;
        used[*h] = true;
    }
    for (size_t i = 0; i < n_human && !rc; i++) {
        if (used[i]) continue;
        bool additional = human[i].has_id_sets && human[i].behaviour != KZ_KB_DROP_FOR_LINKING;
        if (additional) {
            if (kz__resvec_push(effective, &human[i])) rc = KZ_ENOMEM;
        } else {
            if (n_obsolete) (*n_obsolete)++;
            kz_log(KZ_LOG_INFO, "kb build: %s: obsolete human curation for \"%.*s\" (%.*s)", ctx->parser,
                   (int)human[i].syn_norm.len, human[i].syn_norm.ptr,
                   (int)(human[i].origin.ptr ? human[i].origin.len : 0),
                   human[i].origin.ptr ? human[i].origin.ptr : "");
        }
    }
    free(used);
    kz__strmap_free(&hmap);
    return rc ? kz_error_set(err, rc, "curation merge: out of memory") : 0;
}

/* ---- loading curations and global actions ------------------------------------- */

#define MAX_LINE (16u << 20)

static kz_str dup_json_str(kz_arena *a, const json_t *v) {
    return kz_arena_strdup(a, json_string_value(v), json_string_length(v));
}

static int load_syns(kz_kbb_ctx *ctx, const json_t *arr, const char *key, kz_kbb_syn **out, uint32_t *n,
                     kz_error *err) {
    if (!json_is_array(arr)) return kz_error_set(err, KZ_EPARSE, "%s must be a list", key);
    size_t m = json_array_size(arr);
    if (m > 100000) return kz_error_set(err, KZ_ELIMIT, "%s: too many synonyms", key);
    kz_kbb_syn *s = kz_arena_calloc(ctx->arena, m ? m : 1, sizeof *s);
    if (!s) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    for (size_t i = 0; i < m; i++) {
        const json_t *o = json_array_get(arr, i);
        if (!json_is_object(o)) return kz_error_set(err, KZ_EPARSE, "%s[%zu] must be an object", key, i);
        const char *k;
        const json_t *v;
        bool has_t = false, has_c = false, has_m = false;
        json_object_foreach((json_t *)o, k, v) {
            if (strcmp(k, "text") == 0) {
                if (!json_is_string(v))
                    return kz_error_set(err, KZ_EPARSE, "%s[%zu].text must be a string", key, i);
                s[i].text = dup_json_str(ctx->arena, v);
                if (!s[i].text.ptr) return kz_error_set(err, KZ_ENOMEM, "out of memory");
                if (memchr(s[i].text.ptr, 0, s[i].text.len))
                    return kz_error_set(err, KZ_EPARSE, "%s[%zu].text holds a NUL character", key, i);
                has_t = true;
            } else if (strcmp(k, "case_sensitive") == 0) {
                if (!json_is_boolean(v))
                    return kz_error_set(err, KZ_EPARSE, "%s[%zu].case_sensitive must be true or false", key,
                                        i);
                s[i].case_sensitive = json_is_true(v);
                has_c = true;
            } else if (strcmp(k, "mention_confidence") == 0) {
                kz_str name = {json_string_value(v), json_string_length(v)};
                if (!json_is_string(v) || kz_mention_confidence_parse(name, &s[i].mention_confidence))
                    return kz_error_set(
                        err, KZ_EPARSE,
                        "%s[%zu].mention_confidence must be HIGHLY_LIKELY, PROBABLE, POSSIBLE or "
                        "IGNORE",
                        key, i);
                has_m = true;
            } else
                return kz_error_set(err, KZ_EPARSE, "%s[%zu]: unknown key \"%s\"", key, i, k);
        }
        if (!has_t || !has_c || !has_m)
            return kz_error_set(err, KZ_EPARSE, "%s[%zu] needs text, case_sensitive and mention_confidence",
                                key, i);
    }
    *out = s;
    *n = kz__kbb_syns_normalise(s, (uint32_t)m);
    return 0;
}

static int load_id_sets(kz_kbb_ctx *ctx, const json_t *arr, kz_kbb_res *r, kz_error *err) {
    if (json_is_null(arr)) return 0;
    if (!json_is_array(arr)) return kz_error_set(err, KZ_EPARSE, "associated_id_sets must be a list or null");
    size_t m = json_array_size(arr);
    if (m > 100000) return kz_error_set(err, KZ_ELIMIT, "associated_id_sets: too many sets");
    r->has_id_sets = true;
    r->id_sets = kz_arena_calloc(ctx->arena, m ? m : 1, sizeof *r->id_sets);
    if (!r->id_sets) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    for (size_t i = 0; i < m; i++) {
        const json_t *o = json_array_get(arr, i);
        const json_t *pairs = json_object_get(o, "ids_and_source");
        if (!json_is_object(o) || json_object_size(o) != 1 || !json_is_array(pairs))
            return kz_error_set(err, KZ_EPARSE,
                                "associated_id_sets[%zu] must be {\"ids_and_source\": [[id, source], ...]}",
                                i);
        size_t np = json_array_size(pairs);
        if (np == 0 || np > 100000)
            return kz_error_set(err, KZ_EPARSE, "associated_id_sets[%zu]: needs 1 to 100000 ids", i);
        kz_id_source *ids = kz_arena_calloc(ctx->arena, np, sizeof *ids);
        if (!ids) return kz_error_set(err, KZ_ENOMEM, "out of memory");
        for (size_t k = 0; k < np; k++) {
            const json_t *p = json_array_get(pairs, k);
            if (!json_is_array(p) || json_array_size(p) != 2 || !json_is_string(json_array_get(p, 0)) ||
                !json_is_string(json_array_get(p, 1)))
                return kz_error_set(err, KZ_EPARSE,
                                    "associated_id_sets[%zu].ids_and_source[%zu] must be [id, source]", i, k);
            ids[k].idx = dup_json_str(ctx->arena, json_array_get(p, 0));
            ids[k].source = dup_json_str(ctx->arena, json_array_get(p, 1));
            if (!ids[k].idx.ptr || !ids[k].source.ptr) return kz_error_set(err, KZ_ENOMEM, "out of memory");
        }
        r->id_sets[i].ids = ids;
        r->id_sets[i].n = (uint32_t)np;
        kz__kbb_idsets_normalise(&r->id_sets[i], 1); /* sorts the ids of this set */
    }
    r->n_id_sets = kz__kbb_idsets_normalise(r->id_sets, (uint32_t)m);
    return 0;
}

static int parse_resource(kz_kbb_ctx *ctx, const json_t *o, kz_kbb_res *r, kz_error *err) {
    if (!json_is_object(o)) return kz_error_set(err, KZ_EPARSE, "a curation must be a JSON object");
    memset(r, 0, sizeof *r);
    bool has_o = false, has_b = false;
    const char *k;
    const json_t *v;
    int rc = 0;
    json_object_foreach((json_t *)o, k, v) {
        if (strcmp(k, "original_synonyms") == 0) {
            rc = load_syns(ctx, v, k, &r->orig, &r->n_orig, err);
            has_o = true;
        } else if (strcmp(k, "alternative_synonyms") == 0)
            rc = load_syns(ctx, v, k, &r->alt, &r->n_alt, err);
        else if (strcmp(k, "behaviour") == 0) {
            kz_str name = {json_string_value(v), json_string_length(v)};
            if (!json_is_string(v) || behaviour_parse(name, &r->behaviour))
                rc = kz_error_set(
                    err, KZ_EPARSE,
                    "behaviour must be ADD_FOR_NER_AND_LINKING, ADD_FOR_LINKING_ONLY or DROP_FOR_LINKING");
            has_b = true;
        } else if (strcmp(k, "associated_id_sets") == 0)
            rc = load_id_sets(ctx, v, r, err);
        else if (strcmp(k, "comment") == 0) {
            if (json_is_string(v)) {
                r->comment = dup_json_str(ctx->arena, v);
                if (!r->comment.ptr) rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
            } else if (!json_is_null(v))
                rc = kz_error_set(err, KZ_EPARSE, "comment must be a string or null");
        } else if (strcmp(k, "_id") == 0 || strcmp(k, "autocuration_results") == 0) {
            /* bookkeeping fields Kazu does not compare */
        } else
            rc = kz_error_set(err, KZ_EPARSE, "unknown key \"%s\"", k);
        if (rc) return rc;
    }
    if (!has_o || !r->n_orig)
        return kz_error_set(err, KZ_EPARSE, "original_synonyms must hold at least one synonym");
    if (!has_b) return kz_error_set(err, KZ_EPARSE, "behaviour is required");
    return 0;
}

static int load_curations_input(kz_kbb_ctx *ctx, kz_input *in, const char *name, kz_resvec *out,
                                kz_error *err) {
    kz_buf line;
    kz__buf_init(&line, 0);
    int rc = 0;
    int64_t lineno = 0;
    for (;;) {
        int g = kz__input_getline(in, &line, MAX_LINE);
        if (g == 0) break;
        lineno++;
        if (g == KZ_ELIMIT) {
            rc = kz_error_set(err, KZ_ELIMIT, "curation line longer than %u bytes", MAX_LINE);
            break;
        }
        if (g < 0) {
            rc = kz_error_set(err, KZ_EIO, "read error: %s", in->errmsg);
            break;
        }
        kz_str t = kz__py_strip((kz_str){line.data ? line.data : "", line.len});
        if (!t.len) continue;
        json_error_t je;
        json_t *o = json_loadb(t.ptr, t.len, JSON_REJECT_DUPLICATES, &je);
        if (!o) {
            rc = kz_error_set(err, KZ_EPARSE, "invalid JSON: %s", je.text);
            kz_error tmp = *err;
            (void)tmp;
            err->column = je.column > 0 ? je.column : 0;
            break;
        }
        kz_kbb_res r;
        rc = parse_resource(ctx, o, &r, err);
        json_decref(o);
        if (rc) break;
        char where[300];
        int wl = snprintf(where, sizeof where, "%s:%lld", name, (long long)lineno);
        r.origin = kz_arena_strdup(ctx->arena, where, (size_t)KZ_MIN(wl, (int)sizeof where - 1));
        if (!r.origin.ptr || kz__resvec_push(out, &r)) {
            rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
            break;
        }
    }
    if (rc && err) {
        snprintf(err->path, sizeof err->path, "%s", name);
        err->line = lineno;
    }
    kz__buf_free(&line);
    return rc;
}

int kz__curations_load(kz_kbb_ctx *ctx, const char *path, kz_resvec *out, kz_error *err) {
    kz_input in;
    int rc = kz__input_open_path(&in, path, err);
    if (rc) return rc;
    rc = load_curations_input(ctx, &in, path, out, err);
    kz__input_close(&in);
    return rc;
}

int kz__curations_load_mem(kz_kbb_ctx *ctx, const char *data, size_t len, const char *name, kz_resvec *out,
                           kz_error *err) {
    kz_input in;
    int rc = kz__input_open_mem(&in, data, len);
    if (rc) return kz_error_set(err, rc, "cannot open curations");
    rc = load_curations_input(ctx, &in, name ? name : "<curations>", out, err);
    kz__input_close(&in);
    return rc;
}

int kz__global_actions_load_mem(kz_arena *a, const char *data, size_t len, const char *name,
                                kz_kbb_gactions *out, kz_error *err) {
    memset(out, 0, sizeof *out);
    json_error_t je;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    int rc = 0;
    if (!root) {
        rc = kz_error_set(err, KZ_EPARSE, "invalid JSON: %s", je.text);
        if (err) {
            err->line = je.line > 0 ? je.line : 0;
            err->column = je.column > 0 ? je.column : 0;
        }
        goto done;
    }
    const json_t *acts = json_object_get(root, "actions");
    if (!json_is_object(root) || json_object_size(root) != 1 || !json_is_array(acts)) {
        rc = kz_error_set(err, KZ_EPARSE, "expected {\"actions\": [...]}");
        goto done;
    }
    size_t total = 0;
    for (size_t i = 0; i < json_array_size(acts); i++)
        total += json_object_size(json_object_get(json_array_get(acts, i), "parser_to_target_id_mappings"));
    if (total > 100000) {
        rc = kz_error_set(err, KZ_ELIMIT, "too many global actions");
        goto done;
    }
    out->v = kz_arena_calloc(a, total ? total : 1, sizeof *out->v);
    if (!out->v) {
        rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < json_array_size(acts) && !rc; i++) {
        const json_t *act = json_array_get(acts, i);
        const json_t *b = json_object_get(act, "behaviour");
        const json_t *maps = json_object_get(act, "parser_to_target_id_mappings");
        if (!json_is_object(act) || !json_is_string(b) || !json_is_object(maps)) {
            rc = kz_error_set(err, KZ_EPARSE,
                              "actions[%zu] must be {\"behaviour\": \"DROP_IDS_FROM_PARSER\", "
                              "\"parser_to_target_id_mappings\": {parser: [ids]}}",
                              i);
            break;
        }
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)act, k, v) {
            if (strcmp(k, "behaviour") && strcmp(k, "parser_to_target_id_mappings")) {
                rc = kz_error_set(err, KZ_EPARSE, "actions[%zu]: unknown key \"%s\"", i, k);
                break;
            }
        }
        if (rc) break;
        if (strcmp(json_string_value(b), "DROP_IDS_FROM_PARSER") != 0) {
            rc = kz_error_set(err, KZ_EPARSE, "actions[%zu]: unknown behaviour \"%s\"", i,
                              json_string_value(b));
            break;
        }
        if (json_object_size(maps) == 0) {
            rc = kz_error_set(err, KZ_EPARSE, "actions[%zu]: parser_to_target_id_mappings must be specified",
                              i);
            break;
        }
        json_object_foreach((json_t *)maps, k, v) {
            size_t m = json_array_size(v);
            if (!json_is_array(v) || m == 0 || m > 10000000) {
                rc = kz_error_set(err, KZ_EPARSE,
                                  "actions[%zu]: at least one id must be specified for \"%s\"", i, k);
                break;
            }
            kz_kbb_gaction *g = &out->v[out->n++];
            g->behaviour = 0;
            g->parser = kz_arena_strdup(a, k, strlen(k));
            g->ids = kz_arena_calloc(a, m, sizeof *g->ids);
            if (!g->parser.ptr || !g->ids) {
                rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
                break;
            }
            for (size_t q = 0; q < m; q++) {
                const json_t *id = json_array_get(v, q);
                if (!json_is_string(id)) {
                    rc = kz_error_set(err, KZ_EPARSE, "actions[%zu].%s[%zu] must be a string", i, k, q);
                    break;
                }
                g->ids[q] = dup_json_str(a, id);
                if (!g->ids[q].ptr) {
                    rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
                    break;
                }
            }
            g->n_ids = (uint32_t)m;
            if (rc) break;
        }
    }
done:
    json_decref(root);
    if (rc && err) snprintf(err->path, sizeof err->path, "%s", name ? name : "<global actions>");
    return rc;
}

int kz__global_actions_load(kz_arena *a, const char *path, kz_kbb_gactions *out, kz_error *err) {
    kz_input in;
    int rc = kz__input_open_path(&in, path, err);
    if (rc) return rc;
    kz_buf b;
    kz__buf_init(&b, 64u << 20);
    char chunk[65536];
    ptrdiff_t got;
    while ((got = kz__input_read(&in, chunk, sizeof chunk)) > 0)
        if ((rc = kz__buf_append(&b, chunk, (size_t)got)) != 0) break;
    if (!rc && got < 0)
        rc = kz_error_set(err, KZ_EIO, "%s: read error", path);
    else if (rc)
        rc = kz_error_set(err, rc, "%s: global actions file too large", path);
    kz__input_close(&in);
    if (!rc) rc = kz__global_actions_load_mem(a, b.data ? b.data : "", b.len, path, out, err);
    kz__buf_free(&b);
    return rc;
}

/* ---- default resources and the resource processor ------------------------------- */

int kz__default_resources(kz_kbb_ctx *ctx, const kz_candvec *cands, kz_resvec *out, kz_error *err) {
    for (size_t i = 0; i < cands->n; i++) {
        const kz_kbb_cand *c = &cands->v[i];
        kz_kbb_res r = {0};
        r.orig = kz_arena_calloc(ctx->arena, c->n_raw ? c->n_raw : 1, sizeof *r.orig);
        if (!r.orig) return kz_error_set(err, KZ_ENOMEM, "out of memory");
        for (uint32_t k = 0; k < c->n_raw; k++)
            r.orig[k] = (kz_kbb_syn){c->raw[k], false, KZ_MENTION_PROBABLE};
        r.n_orig = kz__kbb_syns_normalise(r.orig, c->n_raw);
        r.behaviour = KZ_KB_ADD_FOR_NER_AND_LINKING;
        r.syn_norm = c->syn_norm;
        if (kz__resvec_push(out, &r)) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    return 0;
}

typedef struct {
    kz_candvec *c;
    kz_strmap by_norm;   /* syn_norm -> current candidate index */
    kz_strmap seen;      /* every id ever linked (Kazu's _candidates_by_id keys) */
    kz_strmap id_first;  /* id -> first index in links */
    uint32_t *link_next; /* chained (id -> candidate) links */
    uint32_t *link_cand;
    size_t n_links, cap_links;
} proc;

static int proc_link(proc *p, kz_str id, uint32_t cand) {
    if (p->n_links == p->cap_links) {
        size_t cap = p->cap_links ? p->cap_links * 2 : 1024;
        uint32_t *a = realloc(p->link_next, cap * sizeof *a);
        if (a) p->link_next = a;
        uint32_t *b = realloc(p->link_cand, cap * sizeof *b);
        if (b) p->link_cand = b;
        if (!a || !b) return KZ_ENOMEM;
        p->cap_links = cap;
    }
    uint32_t *slot;
    int ins = kz__strmap_put(&p->id_first, id, (uint32_t)p->n_links, &slot);
    if (ins < 0) return ins;
    p->link_next[p->n_links] = ins ? UINT32_MAX : *slot;
    p->link_cand[p->n_links] = cand;
    *slot = (uint32_t)p->n_links++;
    if (kz__strmap_put(&p->seen, id, 0, NULL) < 0) return KZ_ENOMEM;
    return 0;
}

static bool proc_alive(const proc *p, uint32_t i) {
    const uint32_t *cur = kz__strmap_get(&p->by_norm, p->c->v[i].syn_norm);
    return cur && *cur == i;
}

/* Add (or override) a candidate; links its ids. */
static int proc_add(proc *p, const kz_kbb_cand *c) {
    if (kz__candvec_push(p->c, c)) return KZ_ENOMEM;
    uint32_t idx = (uint32_t)(p->c->n - 1), *slot;
    int ins = kz__strmap_put(&p->by_norm, p->c->v[idx].syn_norm, idx, &slot);
    if (ins < 0) return ins;
    *slot = idx;
    for (uint32_t s = 0; s < c->n_sets; s++)
        for (uint32_t k = 0; k < c->sets[s].n; k++)
            if (proc_link(p, c->sets[s].ids[k].idx, idx)) return KZ_ENOMEM;
    return 0;
}

/* New id sets without id; *changed tells whether anything was removed. */
static int drop_id(kz_arena *a, const kz_kbb_idset *in, uint32_t n, kz_str id, kz_kbb_idset **out,
                   uint32_t *n_out, bool *changed) {
    *changed = false;
    kz_kbb_idset *o = kz_arena_calloc(a, n ? n : 1, sizeof *o);
    if (!o) return KZ_ENOMEM;
    uint32_t m = 0;
    for (uint32_t s = 0; s < n; s++) {
        bool has = false;
        for (uint32_t k = 0; k < in[s].n && !has; k++) has = kz_str_eq(in[s].ids[k].idx, id);
        if (!has) {
            o[m++] = in[s];
            continue;
        }
        *changed = true;
        kz_id_source *ids = kz_arena_calloc(a, in[s].n, sizeof *ids);
        if (!ids) return KZ_ENOMEM;
        uint32_t q = 0;
        for (uint32_t k = 0; k < in[s].n; k++)
            if (!kz_str_eq(in[s].ids[k].idx, id)) ids[q++] = in[s].ids[k];
        if (q) o[m++] = (kz_kbb_idset){ids, q};
    }
    *out = o;
    *n_out = kz__kbb_idsets_normalise(o, m);
    return 0;
}

static int behaviour_order(const kz_kbb_res *r) { return r->behaviour; /* NER, LINKING_ONLY, DROP */ }

static int proc_res_cmp(const void *a, const void *b) {
    const kz_kbb_res *x = *(const kz_kbb_res *const *)a, *y = *(const kz_kbb_res *const *)b;
    if (behaviour_order(x) != behaviour_order(y)) return behaviour_order(x) - behaviour_order(y);
    if (x->has_id_sets != y->has_id_sets) return x->has_id_sets ? 1 : -1;
    int c = kz_str_cmp(x->syn_norm, y->syn_norm);
    return c ? c : kz__kbb_res_cmp(x, y);
}

static int cand_norm_cmp(const void *a, const void *b) {
    return kz_str_cmp(((const kz_kbb_cand *)a)->syn_norm, ((const kz_kbb_cand *)b)->syn_norm);
}

int kz__process_resources(kz_kbb_ctx *ctx, const kz_kbb_gactions *ga, kz_candvec *cands, kz_resvec *res,
                          kz_resvec *kept, kz_error *err) {
    kz_candvec all = {0};
    proc p = {.c = &all};
    int rc = 0;
    bool *removed = calloc(res->n ? res->n : 1, sizeof *removed);
    const kz_kbb_res **order = malloc((res->n ? res->n : 1) * sizeof *order);
    if (!removed || !order) rc = KZ_ENOMEM;
    for (size_t i = 0; i < cands->n && !rc; i++) rc = proc_add(&p, &cands->v[i]);

    /* global actions: DROP_IDS_FROM_PARSER for this parser */
    for (size_t a = 0; ga && a < ga->n && !rc; a++) {
        const kz_kbb_gaction *act = &ga->v[a];
        if (!kz_str_eq_c(act->parser, ctx->parser)) continue;
        for (uint32_t q = 0; q < act->n_ids && !rc; q++) {
            kz_str id = act->ids[q];
            size_t modified = 0;
            const uint32_t *first = kz__strmap_get(&p.id_first, id);
            /* the candidates linked to id now (chains only grow at the head) */
            size_t n_hit = 0;
            for (uint32_t l = first ? *first : UINT32_MAX; l != UINT32_MAX; l = p.link_next[l]) n_hit++;
            uint32_t *hits = malloc((n_hit ? n_hit : 1) * sizeof *hits);
            if (!hits) {
                rc = KZ_ENOMEM;
                break;
            }
            n_hit = 0;
            for (uint32_t l = first ? *first : UINT32_MAX; l != UINT32_MAX; l = p.link_next[l])
                hits[n_hit++] = p.link_cand[l];
            for (size_t h = 0; h < n_hit && !rc; h++) {
                uint32_t ci = hits[h];
                if (!proc_alive(&p, ci)) continue;
                kz_kbb_cand c = all.v[ci];
                kz_kbb_idset *ns;
                uint32_t nn;
                bool changed;
                rc = drop_id(ctx->arena, c.sets, c.n_sets, id, &ns, &nn, &changed);
                if (rc || !changed) continue;
                modified++;
                if (nn == 0) {
                    /* no ids left: the candidate goes */
                    uint32_t *slot = kz__strmap_get(&p.by_norm, c.syn_norm);
                    if (slot) *slot = UINT32_MAX;
                } else {
                    c.sets = ns;
                    c.n_sets = nn;
                    c.aggregated_by = KZ_AGG_MODIFIED_BY_CURATION;
                    rc = proc_add(&p, &c);
                }
            }
            free(hits);
            if (rc) break;
            if (!modified) {
                kz_log(KZ_LOG_WARN, "kb build: %s: global action: failed to drop %.*s", ctx->parser,
                       (int)id.len, id.ptr);
                continue;
            }
            /* resources overriding ids lose this id too */
            for (size_t i = 0; i < res->n && !rc; i++) {
                kz_kbb_res *r = &res->v[i];
                if (removed[i] || !r->has_id_sets) continue;
                kz_kbb_idset *ns;
                uint32_t nn;
                bool changed;
                rc = drop_id(ctx->arena, r->id_sets, r->n_id_sets, id, &ns, &nn, &changed);
                if (rc || !changed) continue;
                if (nn == 0)
                    removed[i] = true;
                else {
                    r->id_sets = ns;
                    r->n_id_sets = nn;
                }
            }
        }
    }
    if (rc) goto done;

    /* resources, in Kazu's behaviour order (overrides after plain ones) */
    size_t n_order = 0;
    for (size_t i = 0; i < res->n; i++)
        if (!removed[i]) order[n_order++] = &res->v[i];
    qsort(order, n_order, sizeof *order, proc_res_cmp);
    for (size_t i = 0; i < n_order && !rc; i++) {
        const kz_kbb_res *r = order[i];
        uint32_t *cur = kz__strmap_get(&p.by_norm, r->syn_norm);
        bool exists = cur && *cur != UINT32_MAX;
        if (r->behaviour == KZ_KB_DROP_FOR_LINKING) {
            if (exists) *cur = UINT32_MAX;
            continue;
        }
        if (!r->has_id_sets) {
            if (exists && kz__resvec_push(kept, r)) rc = KZ_ENOMEM;
            continue;
        }
        if (r->n_id_sets == 0) continue; /* all ids removed by a global action */
        if (exists) {
            const kz_kbb_cand *c = &all.v[*cur];
            bool same = c->n_sets == r->n_id_sets;
            for (uint32_t s = 0; s < c->n_sets && same; s++)
                same = kz__kbb_idset_cmp(&c->sets[s], &r->id_sets[s]) == 0;
            if (same) {
                if (kz__resvec_push(kept, r)) rc = KZ_ENOMEM;
                continue;
            }
        }
        /* ids the parser never had are ignored */
        kz_kbb_idset *sets = kz_arena_calloc(ctx->arena, r->n_id_sets, sizeof *sets);
        if (!sets) {
            rc = KZ_ENOMEM;
            break;
        }
        uint32_t ns = 0;
        for (uint32_t s = 0; s < r->n_id_sets && !rc; s++) {
            kz_id_source *ids = kz_arena_calloc(ctx->arena, r->id_sets[s].n, sizeof *ids);
            if (!ids) {
                rc = KZ_ENOMEM;
                break;
            }
            uint32_t q = 0;
            for (uint32_t k = 0; k < r->id_sets[s].n; k++) {
                if (kz__strmap_get(&p.seen, r->id_sets[s].ids[k].idx))
                    ids[q++] = r->id_sets[s].ids[k];
                else
                    kz_log(KZ_LOG_WARN,
                           "kb build: %s: curation links %.*s, which the parser does not have: ignored",
                           ctx->parser, (int)r->id_sets[s].ids[k].idx.len, r->id_sets[s].ids[k].idx.ptr);
            }
            if (q) sets[ns++] = (kz_kbb_idset){ids, q};
        }
        if (rc) break;
        ns = kz__kbb_idsets_normalise(sets, ns);
        if (ns == 0) {
            if (exists && kz__resvec_push(kept, r)) rc = KZ_ENOMEM;
            continue;
        }
        kz_kbb_cand nc = {0};
        nc.syn_norm = r->syn_norm;
        nc.raw = kz_arena_calloc(ctx->arena, r->n_orig, sizeof *nc.raw);
        nc.mtypes = kz_arena_calloc(ctx->arena, 1, sizeof *nc.mtypes);
        if (!nc.raw || !nc.mtypes) {
            rc = KZ_ENOMEM;
            break;
        }
        for (uint32_t k = 0; k < r->n_orig; k++) {
            nc.raw[nc.n_raw++] = r->orig[k].text;
            bool sym = false;
            rc = kz__ncache_symbolic(ctx->norm, r->orig[k].text, &sym, err);
            if (rc) goto done;
            nc.is_symbolic |= sym; /* Kazu: any() here */
        }
        if (nc.n_raw > 1) qsort(nc.raw, nc.n_raw, sizeof *nc.raw, kz__kbb_str_cmp);
        uint32_t u = 0;
        for (uint32_t k = 0; k < nc.n_raw; k++)
            if (!u || !kz_str_eq(nc.raw[u - 1], nc.raw[k])) nc.raw[u++] = nc.raw[k];
        nc.n_raw = u;
        nc.mtypes[0] = (kz_str){"kazu_curated", 12};
        nc.n_mtypes = 1;
        nc.aggregated_by = KZ_AGG_MODIFIED_BY_CURATION;
        nc.sets = sets;
        nc.n_sets = ns;
        rc = proc_add(&p, &nc);
        if (!rc && kz__resvec_push(kept, r)) rc = KZ_ENOMEM;
    }
    if (rc) goto done;
    /* final candidates */
    {
        kz_candvec fin = {0};
        for (size_t i = 0; i < all.n && !rc; i++)
            if (proc_alive(&p, (uint32_t)i) && kz__candvec_push(&fin, &all.v[i])) rc = KZ_ENOMEM;
        if (!rc) {
            if (fin.n > 1) qsort(fin.v, fin.n, sizeof *fin.v, cand_norm_cmp);
            kz__candvec_free(cands);
            *cands = fin;
        } else
            kz__candvec_free(&fin);
    }
    /* kept resources must still have a candidate */
    if (!rc) {
        size_t w = 0;
        for (size_t i = 0; i < kept->n; i++) {
            uint32_t *cur = kz__strmap_get(&p.by_norm, kept->v[i].syn_norm);
            if (cur && *cur != UINT32_MAX) kept->v[w++] = kept->v[i];
        }
        kept->n = w;
    }
done:
    free(removed);
    free(order);
    kz__candvec_free(&all);
    kz__strmap_free(&p.by_norm);
    kz__strmap_free(&p.seen);
    kz__strmap_free(&p.id_first);
    free(p.link_next);
    free(p.link_cand);
    if (rc == KZ_ENOMEM) return kz_error_set(err, rc, "resource processing: out of memory");
    return rc;
}
