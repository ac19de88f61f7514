/* Kazu's StringNormalizer (kazu/utils/string_normalizer.py) transcribed step by step onto
 * code-point arrays, reproducing Python's str and re semantics where Kazu relies on them. */
#include "kazu/normalise.h"
#include "kazu/utf8.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* Growable code-point array. A failed allocation sets oom and turns later
 * pushes into no-ops, so the pipeline checks once at the end. */
typedef struct {
    uint32_t *v;
    size_t n, cap;
    bool oom;
    uint32_t *spare; /* the previous step's buffer, reused by the next */
    size_t spare_cap;
} cps;

static void cps_push(cps *a, uint32_t c) {
    if (a->n == a->cap) {
        if (a->oom) return;
        size_t cap = a->cap ? a->cap * 2 : 64;
        uint32_t *v = realloc(a->v, cap * sizeof *v);
        if (!v) {
            a->oom = true;
            return;
        }
        a->v = v;
        a->cap = cap;
    }
    a->v[a->n++] = c;
}

static void cps_push_ascii(cps *a, const char *s) {
    while (*s) cps_push(a, (unsigned char)*s++);
}

/* Steps write a fresh array (the spare buffer of *in) and then swap it in. */
static cps cps_scratch(cps *in) {
    cps out = {.v = in->spare, .cap = in->spare_cap};
    in->spare = NULL;
    in->spare_cap = 0;
    return out;
}

static void cps_swap(cps *in, cps *out) {
    bool oom = in->oom || out->oom;
    uint32_t *old = in->v;
    size_t old_cap = in->cap;
    free(out->spare);
    *in = *out;
    in->oom = oom;
    in->spare = old;
    in->spare_cap = old_cap;
    *out = (cps){0};
}

static void cps_free(cps *a) {
    free(a->v);
    free(a->spare);
}

/* ---- Python's character predicates (CPython's Unicode 14 tables) ---- */

/* Py_UNICODE_ISSPACE: what str.split(), str.strip() and re's \s treat as whitespace. */
static bool py_space(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
           c == 0x3000;
}

static utf8proc_category_t cat(uint32_t c) { return utf8proc_category((utf8proc_int32_t)c); }

/* ASCII fast paths below give the same answers as the Unicode tables. */
static bool ascii_alpha(uint32_t c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }

static bool py_alpha(uint32_t c) {
    if (c < 0x80) return ascii_alpha(c);
    utf8proc_category_t k = cat(c);
    return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
}

/* isnumeric() outside the letters; among letters only CJK numerals differ and
 * every caller tests isalpha first. */
static bool py_numeric_nonalpha(uint32_t c) {
    if (c < 0x80) return c >= '0' && c <= '9';
    utf8proc_category_t k = cat(c);
    return k == UTF8PROC_CATEGORY_ND || k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_NO;
}

/* re's \d and isdecimal(): exactly Nd. */
static bool py_decimal(uint32_t c) {
    return c < 0x80 ? c >= '0' && c <= '9' : cat(c) == UTF8PROC_CATEGORY_ND;
}

typedef struct {
    uint32_t lo, hi;
} cp_range;

static bool in_ranges(uint32_t c, const cp_range *r, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (c >= r[i].lo && c <= r[i].hi) return true;
    return false;
}

/* isupper()/islower() test the Uppercase/Lowercase properties: Lu/Ll plus
 * Other_Uppercase/Other_Lowercase (PropList.txt), which utf8proc does not expose. */
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

static bool py_upper(uint32_t c) {
    if (c < 0x80) return c >= 'A' && c <= 'Z';
    return cat(c) == UTF8PROC_CATEGORY_LU || in_ranges(c, other_upper, NELEM(other_upper));
}
static bool py_lower(uint32_t c) {
    if (c < 0x80) return c >= 'a' && c <= 'z';
    return cat(c) == UTF8PROC_CATEGORY_LL || in_ranges(c, other_lower, NELEM(other_lower));
}

/* str.upper() uses full case mapping: SpecialCasing.txt's unconditional entries
 * whose upper case is more than one code point (all of them, as CPython 3.11 maps
 * them; sorted for bsearch). utf8proc_toupper gives the one-to-one rest. */
typedef struct {
    uint32_t cp;
    uint32_t up[3];
} multi_upper;

static const multi_upper special_upper[] = {
    {0x00DF, {0x0053, 0x0053}},         {0x0149, {0x02BC, 0x004E}},
    {0x01F0, {0x004A, 0x030C}},         {0x0390, {0x0399, 0x0308, 0x0301}},
    {0x03B0, {0x03A5, 0x0308, 0x0301}}, {0x0587, {0x0535, 0x0552}},
    {0x1E96, {0x0048, 0x0331}},         {0x1E97, {0x0054, 0x0308}},
    {0x1E98, {0x0057, 0x030A}},         {0x1E99, {0x0059, 0x030A}},
    {0x1E9A, {0x0041, 0x02BE}},         {0x1F50, {0x03A5, 0x0313}},
    {0x1F52, {0x03A5, 0x0313, 0x0300}}, {0x1F54, {0x03A5, 0x0313, 0x0301}},
    {0x1F56, {0x03A5, 0x0313, 0x0342}}, {0x1F80, {0x1F08, 0x0399}},
    {0x1F81, {0x1F09, 0x0399}},         {0x1F82, {0x1F0A, 0x0399}},
    {0x1F83, {0x1F0B, 0x0399}},         {0x1F84, {0x1F0C, 0x0399}},
    {0x1F85, {0x1F0D, 0x0399}},         {0x1F86, {0x1F0E, 0x0399}},
    {0x1F87, {0x1F0F, 0x0399}},         {0x1F88, {0x1F08, 0x0399}},
    {0x1F89, {0x1F09, 0x0399}},         {0x1F8A, {0x1F0A, 0x0399}},
    {0x1F8B, {0x1F0B, 0x0399}},         {0x1F8C, {0x1F0C, 0x0399}},
    {0x1F8D, {0x1F0D, 0x0399}},         {0x1F8E, {0x1F0E, 0x0399}},
    {0x1F8F, {0x1F0F, 0x0399}},         {0x1F90, {0x1F28, 0x0399}},
    {0x1F91, {0x1F29, 0x0399}},         {0x1F92, {0x1F2A, 0x0399}},
    {0x1F93, {0x1F2B, 0x0399}},         {0x1F94, {0x1F2C, 0x0399}},
    {0x1F95, {0x1F2D, 0x0399}},         {0x1F96, {0x1F2E, 0x0399}},
    {0x1F97, {0x1F2F, 0x0399}},         {0x1F98, {0x1F28, 0x0399}},
    {0x1F99, {0x1F29, 0x0399}},         {0x1F9A, {0x1F2A, 0x0399}},
    {0x1F9B, {0x1F2B, 0x0399}},         {0x1F9C, {0x1F2C, 0x0399}},
    {0x1F9D, {0x1F2D, 0x0399}},         {0x1F9E, {0x1F2E, 0x0399}},
    {0x1F9F, {0x1F2F, 0x0399}},         {0x1FA0, {0x1F68, 0x0399}},
    {0x1FA1, {0x1F69, 0x0399}},         {0x1FA2, {0x1F6A, 0x0399}},
    {0x1FA3, {0x1F6B, 0x0399}},         {0x1FA4, {0x1F6C, 0x0399}},
    {0x1FA5, {0x1F6D, 0x0399}},         {0x1FA6, {0x1F6E, 0x0399}},
    {0x1FA7, {0x1F6F, 0x0399}},         {0x1FA8, {0x1F68, 0x0399}},
    {0x1FA9, {0x1F69, 0x0399}},         {0x1FAA, {0x1F6A, 0x0399}},
    {0x1FAB, {0x1F6B, 0x0399}},         {0x1FAC, {0x1F6C, 0x0399}},
    {0x1FAD, {0x1F6D, 0x0399}},         {0x1FAE, {0x1F6E, 0x0399}},
    {0x1FAF, {0x1F6F, 0x0399}},         {0x1FB2, {0x1FBA, 0x0399}},
    {0x1FB3, {0x0391, 0x0399}},         {0x1FB4, {0x0386, 0x0399}},
    {0x1FB6, {0x0391, 0x0342}},         {0x1FB7, {0x0391, 0x0342, 0x0399}},
    {0x1FBC, {0x0391, 0x0399}},         {0x1FC2, {0x1FCA, 0x0399}},
    {0x1FC3, {0x0397, 0x0399}},         {0x1FC4, {0x0389, 0x0399}},
    {0x1FC6, {0x0397, 0x0342}},         {0x1FC7, {0x0397, 0x0342, 0x0399}},
    {0x1FCC, {0x0397, 0x0399}},         {0x1FD2, {0x0399, 0x0308, 0x0300}},
    {0x1FD3, {0x0399, 0x0308, 0x0301}}, {0x1FD6, {0x0399, 0x0342}},
    {0x1FD7, {0x0399, 0x0308, 0x0342}}, {0x1FE2, {0x03A5, 0x0308, 0x0300}},
    {0x1FE3, {0x03A5, 0x0308, 0x0301}}, {0x1FE4, {0x03A1, 0x0313}},
    {0x1FE6, {0x03A5, 0x0342}},         {0x1FE7, {0x03A5, 0x0308, 0x0342}},
    {0x1FF2, {0x1FFA, 0x0399}},         {0x1FF3, {0x03A9, 0x0399}},
    {0x1FF4, {0x038F, 0x0399}},         {0x1FF6, {0x03A9, 0x0342}},
    {0x1FF7, {0x03A9, 0x0342, 0x0399}}, {0x1FFC, {0x03A9, 0x0399}},
    {0xFB00, {0x0046, 0x0046}},         {0xFB01, {0x0046, 0x0049}},
    {0xFB02, {0x0046, 0x004C}},         {0xFB03, {0x0046, 0x0046, 0x0049}},
    {0xFB04, {0x0046, 0x0046, 0x004C}}, {0xFB05, {0x0053, 0x0054}},
    {0xFB06, {0x0053, 0x0054}},         {0xFB13, {0x0544, 0x0546}},
    {0xFB14, {0x0544, 0x0535}},         {0xFB15, {0x0544, 0x053B}},
    {0xFB16, {0x054E, 0x0546}},         {0xFB17, {0x0544, 0x053D}},
};

static int cmp_multi(const void *k, const void *e) {
    uint32_t a = *(const uint32_t *)k, b = ((const multi_upper *)e)->cp;
    return (a > b) - (a < b);
}

/* str.upper() */
static void py_upper_str(cps *s) {
    cps out = cps_scratch(s);
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i] < 0x80) {
            uint32_t c = s->v[i];
            cps_push(&out, c >= 'a' && c <= 'z' ? c - 32 : c);
            continue;
        }
        const multi_upper *m =
            bsearch(&s->v[i], special_upper, NELEM(special_upper), sizeof special_upper[0], cmp_multi);
        if (m) {
            for (size_t j = 0; j < 3 && m->up[j]; j++) cps_push(&out, m->up[j]);
        } else {
            cps_push(&out, (uint32_t)utf8proc_toupper((utf8proc_int32_t)s->v[i]));
        }
    }
    cps_swap(s, &out);
}

/* " ".join(s.split()) */
static void py_collapse_ws(cps *s) {
    cps out = cps_scratch(s);
    for (size_t i = 0; i < s->n;) {
        while (i < s->n && py_space(s->v[i])) i++;
        if (i == s->n) break;
        if (out.n) cps_push(&out, ' ');
        while (i < s->n && !py_space(s->v[i])) cps_push(&out, s->v[i++]);
    }
    cps_swap(s, &out);
}

static bool ends_with(const cps *s, const char *suffix) {
    size_t k = strlen(suffix);
    if (k > s->n) return false;
    for (size_t i = 0; i < k; i++)
        if (s->v[s->n - k + i] != (unsigned char)suffix[i]) return false;
    return true;
}

/* ---- DefaultStringNormalizer steps ---- */

/* str.replace(pat, rep) with ASCII pat/rep: non-overlapping, left to right. */
static void replace_ascii(cps *s, const char *pat, const char *rep) {
    size_t k = strlen(pat);
    size_t first = 0;
    while (first < s->n && s->v[first] != (unsigned char)pat[0]) first++;
    if (first == s->n) return; /* no occurrence: the string is unchanged */
    cps out = cps_scratch(s);
    for (size_t i = 0; i < s->n;) {
        size_t j = 0;
        while (j < k && i + j < s->n && s->v[i + j] == (unsigned char)pat[j]) j++;
        if (j == k) {
            cps_push_ascii(&out, rep);
            i += k;
        } else {
            cps_push(&out, s->v[i++]);
        }
    }
    cps_swap(s, &out);
}

/* re.sub(r"(?<!\()D(?!\))", " ", s) for one dash D. */
static void dash_to_space(cps *s, uint32_t dash) {
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i] == dash && !(i > 0 && s->v[i - 1] == '(') && !(i + 1 < s->n && s->v[i + 1] == ')'))
            s->v[i] = ' ';
}

/* re's '$' without MULTILINE: at the end or before a final newline. */
static bool at_dollar(const cps *s, size_t p) { return p == s->n || (p + 1 == s->n && s->v[p] == '\n'); }

/* re.sub(r"\sL\s|\sL$" [+ r"|^L\s" when at_start], rep, s): a lone letter L. */
static void lone_letter(cps *s, uint32_t letter, bool at_start, const char *rep) {
    cps out = cps_scratch(s);
    size_t i = 0;
    if (at_start && s->n >= 2 && s->v[0] == letter && py_space(s->v[1])) {
        cps_push_ascii(&out, rep);
        i = 2;
    }
    while (i < s->n) {
        if (py_space(s->v[i]) && i + 1 < s->n && s->v[i + 1] == letter) {
            if (i + 2 < s->n && py_space(s->v[i + 2])) {
                cps_push_ascii(&out, rep);
                i += 3;
                continue;
            }
            if (at_dollar(s, i + 2)) {
                cps_push_ascii(&out, rep);
                i += 2;
                continue;
            }
        }
        cps_push(&out, s->v[i++]);
    }
    cps_swap(s, &out);
}

/* replace_substrings: other_subs in dict order, then re_subs. Kazu 2.2 dropped the
 * r"\sX\s|\sX$" -> " 10 " rule (issue #42: "Chromosome X", "X-linked"). */
static void replace_substrings(cps *s) {
    static const char *const subs[][2] = {
        {"(", " ("},    {")", ") "},     {",", " "},     {"/", " "},    {"VIII", " 8 "},
        {"VII", " 7 "}, {"XII", " 12 "}, {"III", " 3 "}, {"VI", " 6 "}, {"IV", " 4 "},
        {"IX", " 9 "},  {"XI", " 11 "},  {"II", " 2 "},
    };
    for (size_t i = 0; i < NELEM(subs); i++) replace_ascii(s, subs[i][0], subs[i][1]);
    dash_to_space(s, '-');
    dash_to_space(s, 0x2010);
    lone_letter(s, 'I', false, " 1 ");
    lone_letter(s, 'V', false, " 5 ");
}

/* Push s[a..b) with Python's strip() applied. */
static void push_stripped(cps *out, const cps *s, size_t a, size_t b) {
    while (a < b && py_space(s->v[a])) a++;
    while (b > a && py_space(s->v[b - 1])) b--;
    for (size_t i = a; i < b; i++) cps_push(out, s->v[i]);
}

/* " ".join(x.strip() for x in re.split(r"(\d+)", s)): the pieces alternate
 * non-digit (possibly empty) and digit runs, starting and ending non-digit. */
static void split_on_numbers(cps *s) {
    cps out = cps_scratch(s);
    size_t i = 0;
    for (;;) {
        size_t a = i;
        while (i < s->n && !py_decimal(s->v[i])) i++;
        push_stripped(&out, s, a, i);
        if (i == s->n) break;
        cps_push(&out, ' ');
        while (i < s->n && py_decimal(s->v[i])) cps_push(&out, s->v[i++]);
        cps_push(&out, ' ');
    }
    cps_swap(s, &out);
}

/* kazu.language.language_phenomena.GREEK_SUBS, upper-cased and space-padded. */
static const char *greek_name(uint32_t c) {
    static const char *const names[] = {
        /* U+0391..U+03A9; U+03A2 is unassigned */
        "ALPHA", "BETA",   "GAMMA",   "DELTA", "EPSILON", "ZETA",    "ETA",   "THETA", "IOTA",
        "KAPPA", "LAMBDA", "MU",      "NU",    "XI",      "OMICRON", "PI",    "RHO",   NULL,
        "SIGMA", "TAU",    "UPSILON", "PHI",   "CHI",     "PSI",     "OMEGA",
    };
    static const char *const lower[] = {
        /* U+03B1..U+03C9 */
        "ALPHA", "BETA",   "GAMMA",   "DELTA", "EPSILON", "ZETA",    "ETA",   "THETA", "IOTA",
        "KAPPA", "LAMBDA", "MU",      "NU",    "XI",      "OMICRON", "PI",    "RHO",   "FINAL SIGMA",
        "SIGMA", "TAU",    "UPSILON", "PHI",   "CHI",     "PSI",     "OMEGA",
    };
    if (c >= 0x391 && c <= 0x3A9) return names[c - 0x391];
    if (c >= 0x3B1 && c <= 0x3C9) return lower[c - 0x3B1];
    if (c == 0x3F4) return "THETA";
    if (c == 0x3D5) return "PHI";
    return NULL;
}

static void replace_greek(cps *s) {
    cps out = cps_scratch(s);
    for (size_t i = 0; i < s->n; i++) {
        const char *name = greek_name(s->v[i]);
        if (!name) {
            cps_push(&out, s->v[i]);
            continue;
        }
        cps_push(&out, ' ');
        cps_push_ascii(&out, name);
        cps_push(&out, ' ');
    }
    cps_swap(s, &out);
}

/* Keep isalnum() and " ()+-‐"; dropping in place. */
static void remove_non_alphanum(cps *s) {
    size_t w = 0;
    for (size_t i = 0; i < s->n; i++) {
        uint32_t c = s->v[i];
        if (py_alpha(c) || py_numeric_nonalpha(c) || c == ' ' || c == '(' || c == ')' || c == '+' ||
            c == '-' || c == 0x2010)
            s->v[w++] = c;
    }
    s->n = w;
}

/* GildaUtils.depluralize on the whole string (Kazu applies it when len > 3). Its
 * all-capitals branch and its fallback both drop the final "s", so one case covers both. */
static void depluralize(cps *s) {
    if (s->n <= 3 || !ends_with(s, "s") || ends_with(s, "sis")) return;
    if (ends_with(s, "oes")) {
        s->n -= 2;
    } else if (ends_with(s, "ies")) {
        s->n -= 3;
        cps_push(s, 'y');
    } else if (ends_with(s, "xes") || ends_with(s, "ses") || ends_with(s, "ches") || ends_with(s, "shes")) {
        s->n -= 2;
    } else {
        s->n -= 1;
    }
}

static void sub_greek_char_abbreviations(cps *s) {
    lone_letter(s, 'A', true, " ALPHA ");
    lone_letter(s, 'B', true, " BETA ");
}

static void normalize_noun_phrase(cps *s) {
    replace_substrings(s);
    split_on_numbers(s);
    replace_greek(s);
    remove_non_alphanum(s);
    depluralize(s);
    sub_greek_char_abbreviations(s);
    py_upper_str(s);
    py_collapse_ws(s);
}

/* ---- symbol classifiers ---- */

static bool default_is_symbol_like(const cps *s) {
    size_t tokens = 1, upper = 0, lower = 0, numeric = 0;
    for (size_t i = 0; i < s->n; i++) tokens += s->v[i] == ' ';
    if (tokens == 1 && s->n <= 3) return true;
    for (size_t i = 0; i < s->n; i++) {
        uint32_t c = s->v[i];
        if (py_alpha(c)) {
            if (py_upper(c)) {
                upper++;
                if (i > 0 && tokens == 1) return true;
            } else {
                lower++;
            }
        } else if (py_numeric_nonalpha(c)) {
            if (tokens == 1) return true;
            numeric++;
        }
    }
    return upper >= lower || numeric >= upper + lower;
}

static bool gene_token_classifier(const uint32_t *t, size_t n) {
    size_t upper = 0, lower = 0, numeric = 0;
    bool first_lower = n > 0 && py_lower(t[0]);
    for (size_t i = 0; i < n; i++) {
        if (py_alpha(t[i])) {
            if (py_upper(t[i])) {
                upper++;
                if (first_lower) return true;
            } else {
                lower++;
            }
        } else if (py_numeric_nonalpha(t[i])) {
            numeric++;
        }
    }
    return upper >= lower || numeric >= upper + lower;
}

/* GildaUtils DASHES plus the space: what gene names are split on. */
static bool dash_or_space(uint32_t c) {
    return c == ' ' || c == '-' || c == 0x2212 || (c >= 0x2010 && c <= 0x2015);
}

static bool gene_is_symbol_like(const cps *s) {
    bool split = false;
    for (size_t i = 0; i < s->n && !split; i++) split = dash_or_space(s->v[i]);
    if (!split) {
        static const char *const suffixes[] = {"in", "ase", "an", "gen", "gon"};
        bool named = false;
        for (size_t i = 0; i < NELEM(suffixes); i++) named = named || ends_with(s, suffixes[i]);
        if (!named) return true;
    }
    /* re.split(r"[ DASHES]+"): tokens between separator runs, empty at the ends. */
    for (size_t i = 0;;) {
        size_t a = i;
        while (i < s->n && !dash_or_space(s->v[i])) i++;
        if (i - a >= 4 && !gene_token_classifier(s->v + a, i - a)) return false;
        if (i == s->n) return true;
        while (i < s->n && dash_or_space(s->v[i])) i++;
    }
}

static void gene_normalize_symbol(cps *s) {
    if (s->n >= 3 && py_upper(s->v[s->n - 2]) && s->v[s->n - 1] == 's') s->n--;
    replace_substrings(s);
    split_on_numbers(s);
    replace_greek(s);
    remove_non_alphanum(s);
    sub_greek_char_abbreviations(s);
    py_upper_str(s);
    py_collapse_ws(s);
}

static bool company_is_symbol_like(const cps *s) {
    for (size_t i = 0; i < s->n; i++)
        if (py_alpha(s->v[i]) && !py_upper(s->v[i])) return false;
    return true;
}

static bool disease_is_symbol_like(const cps *s, const char *raw, size_t len) {
    static const char *const short_nouns[] = {"flu", "Flu", "HIV", "STI", "NSCLC"};
    for (size_t i = 0; i < NELEM(short_nouns); i++)
        if (strlen(short_nouns[i]) == len && memcmp(short_nouns[i], raw, len) == 0) return false;
    return default_is_symbol_like(s);
}

typedef enum { CLASS_DEFAULT, CLASS_GENE, CLASS_DISEASE, CLASS_ANATOMY, CLASS_COMPANY } norm_class;

static norm_class class_of(const char *entity_class) {
    if (!entity_class) return CLASS_DEFAULT;
    if (!strcmp(entity_class, "gene")) return CLASS_GENE;
    if (!strcmp(entity_class, "disease")) return CLASS_DISEASE;
    if (!strcmp(entity_class, "anatomy")) return CLASS_ANATOMY;
    if (!strcmp(entity_class, "company")) return CLASS_COMPANY;
    return CLASS_DEFAULT;
}

static bool is_symbolic(norm_class k, const cps *s, const char *raw, size_t len) {
    switch (k) {
    case CLASS_GENE: return gene_is_symbol_like(s);
    case CLASS_DISEASE: return disease_is_symbol_like(s, raw, len);
    case CLASS_ANATOMY: return false;
    case CLASS_COMPANY: return company_is_symbol_like(s);
    default: return default_is_symbol_like(s);
    }
}

/* ---- public entry points ---- */

static int decode(const char *s, size_t len, cps *out, kz_error *err) {
    size_t bad = 0;
    if (!s && len) return kz_error_set(err, KZ_EINVAL, "normalise: NULL text with length %zu", len);
    if (len > KZ_NORMALISE_MAX_BYTES)
        return kz_error_set(err, KZ_ELIMIT, "normalise: text of %zu bytes exceeds the %d-byte limit", len,
                            KZ_NORMALISE_MAX_BYTES);
    if (len && !kz_utf8_valid(s, len, &bad))
        return kz_error_set(err, KZ_EUTF8, "normalise: invalid UTF-8 at byte offset %zu", bad);
    for (size_t i = 0; i < len;) cps_push(out, (uint32_t)kz_utf8_decode(s, len, &i));
    return out->oom ? kz_error_set(err, KZ_ENOMEM, "normalise: out of memory") : 0;
}

int kz_normalise_is_symbolic(const char *s, size_t len, const char *entity_class, bool *symbolic,
                             kz_error *err) {
    if (!symbolic) return kz_error_set(err, KZ_EINVAL, "normalise: NULL result pointer");
    cps a = {0};
    int rc = decode(s, len, &a, err);
    if (rc == 0) *symbolic = is_symbolic(class_of(entity_class), &a, s, len);
    cps_free(&a);
    return rc;
}

int kz_normalise(const char *s, size_t len, const char *entity_class, char **out, size_t *out_len,
                 kz_error *err) {
    if (!out) return kz_error_set(err, KZ_EINVAL, "normalise: NULL result pointer");
    *out = NULL;
    cps a = {0};
    int rc = decode(s, len, &a, err);
    if (rc) {
        cps_free(&a);
        return rc;
    }
    norm_class k = class_of(entity_class);
    if (!is_symbolic(k, &a, s, len)) {
        normalize_noun_phrase(&a);
    } else if (k == CLASS_GENE) {
        gene_normalize_symbol(&a);
    } else {
        py_upper_str(&a);
        if (k != CLASS_COMPANY) py_collapse_ws(&a);
    }
    char *buf = a.oom ? NULL : malloc(a.n * 4 + 1);
    if (!buf) {
        cps_free(&a);
        return kz_error_set(err, KZ_ENOMEM, "normalise: out of memory");
    }
    size_t n = 0;
    for (size_t i = 0; i < a.n; i++) n += kz_utf8_encode(a.v[i], buf + n);
    buf[n] = '\0';
    cps_free(&a);
    *out = buf;
    if (out_len) *out_len = n;
    return 0;
}
