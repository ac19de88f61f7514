/* Kazu's word tokenizer (spaCy `kazu_custom_en`): token boundaries for
 * dictionary NER and the rule steps, as a port of spaCy's tokenizer loop. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <utf8proc.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include "kazu/text.h"
#include "kazu/utf8.h"

/* Chunks (runs of non-space) longer than this many code points are tokenized
 * in pieces of this size (an approximation only for pathological input). */
#define MAX_CHUNK 1024

/* ---- character classes (spaCy's char_classes, approximated by Unicode
 * general categories where spaCy lists explicit ranges) ----------------- */

static bool is_space(uint32_t c) { /* Python str.isspace */
    return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f) || c == 0x85 || c == 0xa0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000;
}
static bool is_digit(uint32_t c) { return c >= '0' && c <= '9'; }
static utf8proc_category_t cat(uint32_t c) { return utf8proc_category((utf8proc_int32_t)c); }
static bool is_lower(uint32_t c) {
    if (c < 0x80) return c >= 'a' && c <= 'z';
    return cat(c) == UTF8PROC_CATEGORY_LL;
}
static bool is_upper(uint32_t c) {
    if (c < 0x80) return c >= 'A' && c <= 'Z';
    return cat(c) == UTF8PROC_CATEGORY_LU;
}
static bool is_alpha(uint32_t c) {
    if (c < 0x80) return (c | 32) >= 'a' && (c | 32) <= 'z';
    utf8proc_category_t k = cat(c);
    return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
}
static bool is_word(uint32_t c) { /* Python \b word chars */
    if (c < 0x80) return is_digit(c) || is_alpha(c) || c == '_';
    utf8proc_category_t k = cat(c);
    return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) || k == UTF8PROC_CATEGORY_ND ||
           k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_NO || k == UTF8PROC_CATEGORY_MN ||
           k == UTF8PROC_CATEGORY_MC || k == UTF8PROC_CATEGORY_PC;
}
/* LIST_ICONS: [\p{So}--[°]] */
static bool is_icon(uint32_t c) { return c >= 0x80 && c != 0xb0 && cat(c) == UTF8PROC_CATEGORY_SO; }

/* LIST_PUNCT single characters */
static const uint32_t k_punct[] = {0x2026, ',',    ':',  ';',    '!',    '?',    0xbf,   0x61f,  0xa1,
                                   '(',    ')',    '[',  ']',    '{',    '}',    '<',    '>',    '_',
                                   '#',    '*',    '&',  0x3002, 0xff1f, 0xff01, 0xff0c, 0x3001, 0xff1b,
                                   0xff1a, 0xff5e, 0xb7, 0x964,  0x60c,  0x6d4,  0x61b,  0x66a};
/* LIST_QUOTES */
static const uint32_t k_quote[] = {'\'',   '"',    0x201d, 0x201c, '`',    0x2018, 0xb4,   0x2019,
                                   0x201a, ',',    0x201e, 0xbb,   0xab,   0x300c, 0x300d, 0x300e,
                                   0x300f, 0xff08, 0xff09, 0x3014, 0x3015, 0x3010, 0x3011, 0x300a,
                                   0x300b, 0x2329, 0x232a, 0x3008, 0x3009, 0x27e6, 0x27e7};
/* LIST_CURRENCY single characters ("US$", "C$", "A$" handled apart) */
static const uint32_t k_currency[] = {
    '$',    0xa3,   0x20ac, 0xa5,   0xe3f,  0x20bd, 0xfdfc, 0x20b4, 0x20a0, 0x20a1, 0x20a2, 0x20a3, 0x20a4,
    0x20a5, 0x20a6, 0x20a7, 0x20a8, 0x20a9, 0x20aa, 0x20ab, 0x20ad, 0x20ae, 0x20af, 0x20b0, 0x20b1, 0x20b2,
    0x20b3, 0x20b5, 0x20b6, 0x20b7, 0x20b8, 0x20b9, 0x20ba, 0x20bb, 0x20bc, 0x20be, 0x20bf};

static bool in_set(const uint32_t *set, size_t n, uint32_t c) {
    for (size_t i = 0; i < n; i++)
        if (set[i] == c) return true;
    return false;
}
#define IN(set, c) in_set(set, sizeof set / sizeof set[0], c)

/* ASCII membership, filled once (the sets above are scanned only for non-ASCII) */
enum { A_PUNCT = 1, A_QUOTE = 2, A_CUR = 4, A_SPECIAL_FIRST = 8 };
static uint8_t g_ascii[128];
#define SPECIAL_SLOTS 512 /* open addressing over k_special, power of two > 2 * N_SPECIAL */
static int16_t g_special_slot[SPECIAL_SLOTS];
static uint8_t g_special_len[256];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static bool is_punct(uint32_t c) { return c < 0x80 ? (g_ascii[c] & A_PUNCT) != 0 : IN(k_punct, c); }
static bool is_quote(uint32_t c) { return c < 0x80 ? (g_ascii[c] & A_QUOTE) != 0 : IN(k_quote, c); }
static bool is_currency(uint32_t c) { return c < 0x80 ? (g_ascii[c] & A_CUR) != 0 : IN(k_currency, c); }

/* ---- a chunk of code points with byte offsets -------------------------- */
typedef struct chunk {
    uint32_t cp[MAX_CHUNK];
    size_t off[MAX_CHUNK + 1]; /* byte offset of cp[i] in the text; off[n] = end */
    int n;
    const char *text;
} chunk;

/* Bytes of s[a..b) equal lit? */
static bool eq_lit(const chunk *c, int a, int b, const char *lit, size_t ll) {
    size_t bl = c->off[b] - c->off[a];
    return bl == ll && memcmp(c->text + c->off[a], lit, ll) == 0;
}

/* ---- tokenizer exceptions (special cases) ------------------------------
 * A subset of spaCy's English TOKENIZER_EXCEPTIONS (minus Kazu's removed
 * "a."-"z."): abbreviations that keep their period, the common n't / 's / 're
 * contractions, "cannot", and emoticons made of affix characters. Pieces are
 * given as byte lengths (0-terminated list; an empty list = one token). */
typedef struct special {
    const char *s;
    uint8_t pieces[4];
} special;

static const special k_special[] = {
    /* abbreviations (spaCy en/tokenizer_exceptions.py) */
    {"a.m.", {0}},
    {"Adm.", {0}},
    {"Bros.", {0}},
    {"co.", {0}},
    {"Co.", {0}},
    {"Corp.", {0}},
    {"D.C.", {0}},
    {"Dr.", {0}},
    {"e.g.", {0}},
    {"E.g.", {0}},
    {"E.G.", {0}},
    {"Gen.", {0}},
    {"Gov.", {0}},
    {"i.e.", {0}},
    {"I.e.", {0}},
    {"I.E.", {0}},
    {"Inc.", {0}},
    {"Jr.", {0}},
    {"Ltd.", {0}},
    {"Md.", {0}},
    {"Messrs.", {0}},
    {"Mo.", {0}},
    {"Mont.", {0}},
    {"Mr.", {0}},
    {"Mrs.", {0}},
    {"Ms.", {0}},
    {"p.m.", {0}},
    {"Ph.D.", {0}},
    {"Prof.", {0}},
    {"Rep.", {0}},
    {"Rev.", {0}},
    {"Sen.", {0}},
    {"St.", {0}},
    {"vs.", {0}},
    {"v.s.", {0}},
    {"Jan.", {0}},
    {"Feb.", {0}},
    {"Mar.", {0}},
    {"Apr.", {0}},
    {"Jun.", {0}},
    {"Jul.", {0}},
    {"Aug.", {0}},
    {"Sep.", {0}},
    {"Sept.", {0}},
    {"Oct.", {0}},
    {"Nov.", {0}},
    {"Dec.", {0}},
    {"Ala.", {0}},
    {"Ariz.", {0}},
    {"Ark.", {0}},
    {"Calif.", {0}},
    {"Colo.", {0}},
    {"Conn.", {0}},
    {"Del.", {0}},
    {"Fla.", {0}},
    {"Ga.", {0}},
    {"Ill.", {0}},
    {"Ind.", {0}},
    {"Kan.", {0}},
    {"Kans.", {0}},
    {"Ky.", {0}},
    {"La.", {0}},
    {"Mass.", {0}},
    {"Mich.", {0}},
    {"Minn.", {0}},
    {"Miss.", {0}},
    {"N.C.", {0}},
    {"N.D.", {0}},
    {"N.H.", {0}},
    {"N.J.", {0}},
    {"N.M.", {0}},
    {"N.Y.", {0}},
    {"Neb.", {0}},
    {"Nebr.", {0}},
    {"Nev.", {0}},
    {"Okla.", {0}},
    {"Ore.", {0}},
    {"Pa.", {0}},
    {"S.C.", {0}},
    {"Tenn.", {0}},
    {"Va.", {0}},
    {"Wash.", {0}},
    {"Wis.", {0}},
    {"C++", {0}},
    {"''", {0}},
    {"0.0", {0}},
    {"o.O", {0}},
    {"O.o", {0}},
    {"O.O", {0}},
    {"o.0", {0}},
    /* emoticons */
    {":)", {0}},
    {":(", {0}},
    {":-)", {0}},
    {":-(", {0}},
    {";)", {0}},
    {";-)", {0}},
    {":/", {0}},
    {":D", {0}},
    {":P", {0}},
    {":p", {0}},
    {"<3", {0}},
    {"^_^", {0}},
    {"(:", {0}},
    {"):", {0}},
    {"=)", {0}},
    {"=(", {0}},
    {"XD", {0}},
    {"xD", {0}},
    {":-D", {0}},
    {":-P", {0}},
    {":-p", {0}},
    {":-/", {0}},
    {"8)", {0}},
    /* contractions */
    {"don't", {2, 3}},
    {"Don't", {2, 3}},
    {"doesn't", {4, 3}},
    {"Doesn't", {4, 3}},
    {"didn't", {3, 3}},
    {"Didn't", {3, 3}},
    {"isn't", {2, 3}},
    {"Isn't", {2, 3}},
    {"aren't", {3, 3}},
    {"wasn't", {3, 3}},
    {"weren't", {4, 3}},
    {"can't", {2, 3}},
    {"Can't", {2, 3}},
    {"won't", {2, 3}},
    {"Won't", {2, 3}},
    {"couldn't", {5, 3}},
    {"shouldn't", {6, 3}},
    {"wouldn't", {5, 3}},
    {"hasn't", {3, 3}},
    {"haven't", {4, 3}},
    {"hadn't", {3, 3}},
    {"mustn't", {4, 3}},
    {"needn't", {4, 3}},
    {"ain't", {2, 3}},
    {"cannot", {3, 3}},
    {"Cannot", {3, 3}},
    {"it's", {2, 2}},
    {"It's", {2, 2}},
    {"that's", {4, 2}},
    {"That's", {4, 2}},
    {"there's", {5, 2}},
    {"There's", {5, 2}},
    {"I'm", {1, 2}},
    {"we're", {2, 3}},
    {"We're", {2, 3}},
    {"they're", {4, 3}},
    {"They're", {4, 3}},
    {"you're", {3, 3}},
    {"I've", {1, 3}},
    {"we've", {2, 3}},
    {"We've", {2, 3}},
    {"they've", {4, 3}},
    {"I'd", {1, 2}},
    {"let's", {3, 2}},
    {"Let's", {3, 2}},
};
#define N_SPECIAL (sizeof k_special / sizeof k_special[0])

static uint32_t hash_bytes(const unsigned char *p, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

static void init_units(void);

static void init_tables(void) {
    init_units();
    for (uint32_t c = 0; c < 128; c++)
        g_ascii[c] = (uint8_t)((IN(k_punct, c) ? A_PUNCT : 0) | (IN(k_quote, c) ? A_QUOTE : 0) |
                               (IN(k_currency, c) ? A_CUR : 0));
    for (size_t i = 0; i < SPECIAL_SLOTS; i++) g_special_slot[i] = -1;
    for (size_t i = 0; i < N_SPECIAL; i++) {
        const unsigned char *sp = (const unsigned char *)k_special[i].s;
        if (sp[0] < 0x80) g_ascii[sp[0]] |= A_SPECIAL_FIRST;
        g_special_len[i] = (uint8_t)strlen(k_special[i].s);
        uint32_t h = hash_bytes(sp, strlen(k_special[i].s)) & (SPECIAL_SLOTS - 1);
        while (g_special_slot[h] >= 0) h = (h + 1) & (SPECIAL_SLOTS - 1);
        g_special_slot[h] = (int16_t)i;
    }
}

/* The special case spelled p[0..bl), or NULL. */
static const special *find_special_bytes(const unsigned char *p, size_t bl) {
    if (bl < 2 || bl > 9 || p[0] >= 0x80 || !(g_ascii[p[0]] & A_SPECIAL_FIRST)) return NULL;
    for (uint32_t h = hash_bytes(p, bl) & (SPECIAL_SLOTS - 1); g_special_slot[h] >= 0;
         h = (h + 1) & (SPECIAL_SLOTS - 1)) {
        const special *sp = &k_special[g_special_slot[h]];
        if (g_special_len[g_special_slot[h]] == bl && memcmp(sp->s, p, bl) == 0) return sp;
    }
    return NULL;
}

static const special *find_special(const chunk *c, int a, int b) {
    if (b <= a) return NULL;
    return find_special_bytes((const unsigned char *)c->text + c->off[a], c->off[b] - c->off[a]);
}

/* ---- prefixes (TOKENIZER_PREFIXES, anchored at a) ---------------------- */
static int prefix_len(const chunk *c, int a, int b) {
    if (a >= b) return 0;
    uint32_t x = c->cp[a];
    if (x == 0xa7 || x == '%' || x == '=' || x == 0x2014 || x == 0x2013) return 1;
    if (x == '+') return (a + 1 < b && is_digit(c->cp[a + 1])) ? 0 : 1;
    if (is_punct(x)) return 1;
    if (x == '.') {
        int e = a;
        while (e < b && c->cp[e] == '.') e++;
        return e - a >= 2 ? e - a : 0;
    }
    if (is_quote(x)) return 1;
    if (is_currency(x)) return 1;
    if ((x == 'U' && b - a >= 3 && c->cp[a + 1] == 'S' && c->cp[a + 2] == '$')) return 3;
    if ((x == 'C' || x == 'A') && b - a >= 2 && c->cp[a + 1] == '$') return 2;
    if (is_icon(x)) return 1;
    return 0;
}

/* ---- suffixes (TOKENIZER_SUFFIXES + Kazu's single-capital period) ------
 * Does s[p..b) match one suffix alternative exactly? Look-behinds see only
 * s[a..p) (spaCy searches the string without its prefix). */
static const char *const k_units[] = {
    "km",  "km²",  "km³", "m",   "m²",  "m³",  "dm",   "dm²", "dm³", "cm", "cm²", "cm³", "mm",   "mm²",
    "mm³", "ha",   "µm",  "nm",  "yd",  "in",  "ft",   "kg",  "g",   "mg", "µg",  "t",   "lb",   "oz",
    "m/s", "km/h", "kmh", "mph", "hPa", "Pa",  "mbar", "mb",  "MB",  "kb", "KB",  "gb",  "GB",   "tb",
    "TB",  "T",    "G",   "M",   "K",   "%",   "км",   "км²", "км³", "м",  "м²",  "м³",  "дм",   "дм²",
    "дм³", "см",   "см²", "см³", "мм",  "мм²", "мм³",  "нм",  "кг",  "г",  "мг",  "м/с", "км/ч", "кПа",
    "Па",  "мбар", "Кб",  "КБ",  "кб",  "Мб",  "МБ",   "мб",  "Гб",  "ГБ", "гб",  "Тб",  "ТБ",   "тб"};

#define N_UNITS (sizeof k_units / sizeof k_units[0])
static uint8_t g_unit_len[N_UNITS]; /* strlen of each, filled by init_tables */

static void init_units(void) {
    for (size_t i = 0; i < N_UNITS; i++) g_unit_len[i] = (uint8_t)strlen(k_units[i]);
}

static bool suffix_at(const chunk *c, int a, int p, int b) {
    int n = b - p;
    uint32_t x = c->cp[p];
    uint32_t prev = p > a ? c->cp[p - 1] : 0;
    bool has_prev = p > a;
    if (n == 1) {
        if (is_punct(x) || is_quote(x) || is_icon(x) || x == 0x2014 || x == 0x2013) return true;
        if (x == '+' && has_prev && is_digit(prev)) return true;
        if (x == '.' && has_prev) {
            if (p - 2 >= a && c->cp[p - 2] == 0xb0 && prev && prev < 0x80 && strchr("FfCcKk", (int)prev))
                return true;
            if (is_digit(prev) || is_lower(prev) || prev == '%' || prev == 0xb2 || prev == '-' ||
                prev == '+' || is_punct(prev) || prev == '|' || prev == '(' || prev == '?' || prev == ':' ||
                prev == ')' || is_quote(prev))
                return true;
            if (p - 2 >= a && is_upper(prev) && is_upper(c->cp[p - 2])) return true;
            /* Kazu: (?<=\b[A-Z])\. */
            if (is_upper(prev) && (p - 2 < a || !is_word(c->cp[p - 2]))) return true;
        }
    }
    if (n == 2 && x == 0x2026 && c->cp[p + 1] == 0x2026) return true; /* "……" */
    if (n >= 2 && x == '.') {                                         /* \.\.+ */
        int e = p;
        while (e < b && c->cp[e] == '.') e++;
        if (e == b) return true;
    }
    if (n == 2 && (x == '\'' || x == 0x2019) && (c->cp[p + 1] == 's' || c->cp[p + 1] == 'S')) return true;
    if (has_prev && is_digit(prev)) {
        if (n == 1 && is_currency(x)) return true;
        if (eq_lit(c, p, b, "US$", 3) || eq_lit(c, p, b, "C$", 2) || eq_lit(c, p, b, "A$", 2)) return true;
        size_t bl = c->off[b] - c->off[p];
        if (bl <= 8)
            for (size_t i = 0; i < N_UNITS; i++)
                if (g_unit_len[i] == bl && memcmp(k_units[i], c->text + c->off[p], bl) == 0) return true;
    }
    return false;
}

static int suffix_len(const chunk *c, int a, int b) {
    if (a >= b) return 0;
    /* leftmost start wins; alternatives are at most 4 code points long except a dot run */
    int lo = b - 4 > a ? b - 4 : a;
    if (c->cp[b - 1] == '.') {
        int d = b;
        while (d > a && c->cp[d - 1] == '.') d--;
        if (b - d >= 2 && d < lo) lo = d;
    }
    for (int p = lo; p < b; p++)
        if (suffix_at(c, a, p, b)) return b - p;
    return 0;
}

/* ---- output ------------------------------------------------------------- */
typedef struct out_state {
    kz_span *out;
    size_t cap, n;
} out_state;

static inline void emit(out_state *o, size_t s, size_t e) {
    if (e <= s) return;
    if (o->n < o->cap) o->out[o->n] = (kz_span){(int64_t)s, (int64_t)e};
    o->n++;
}

static void emit_special(out_state *o, const chunk *c, int a, const special *sp) {
    size_t s = c->off[a];
    size_t total = strlen(sp->s);
    if (!sp->pieces[0]) {
        emit(o, s, s + total);
        return;
    }
    for (int i = 0; i < 4 && sp->pieces[i]; i++) {
        emit(o, s, s + sp->pieces[i]);
        s += sp->pieces[i];
    }
}

/* URL_MATCH stand-in: scheme:// or www. strings stay whole. */
static bool looks_like_url(const chunk *c, int a, int b) {
    size_t bl = c->off[b] - c->off[a];
    const char *p = c->text + c->off[a];
    if (bl > 4 && memcmp(p, "www.", 4) == 0) return true;
    for (size_t i = 1; i + 3 <= bl && i < 12; i++)
        if (p[i] == ':' && p[i + 1] == '/' && p[i + 2] == '/') return true;
    return false;
}

/* Infix finditer over s[a..b): length of the infix match at p, or 0. */
static int infix_at(const chunk *c, int a, int p, int b) {
    uint32_t x = c->cp[p];
    bool hp = p > a, hn = p + 1 < b;
    uint32_t prev = hp ? c->cp[p - 1] : 0, next = hn ? c->cp[p + 1] : 0;
    if (x == '(' || x == '/') return 1;
    if (x == '.' && hn && next == '.') {
        int e = p;
        while (e < b && c->cp[e] == '.') e++;
        return e - p;
    }
    if (x == 0x2026 || is_icon(x)) return 1;
    if ((x == '+' || x == '-' || x == '*' || x == '^') && hp && is_digit(prev) && hn &&
        (is_digit(next) || next == '-'))
        return 1;
    if (x == '.' && hp && hn && (is_lower(prev) || is_quote(prev)) && (is_upper(next) || is_quote(next)))
        return 1;
    if (x == ',' && hp && hn && is_alpha(prev) && is_alpha(next)) return 1;
    if ((x == ':' || x == '<' || x == '>' || x == '=') && hp && hn && (is_alpha(prev) || is_digit(prev)) &&
        is_alpha(next))
        return 1;
    return 0;
}

static void emit_middle(out_state *o, const chunk *c, int a, int b) {
    if (a >= b) return;
    const special *sp = find_special(c, a, b);
    if (sp) {
        emit_special(o, c, a, sp);
        return;
    }
    if (looks_like_url(c, a, b)) {
        emit(o, c->off[a], c->off[b]);
        return;
    }
    int start = a;
    for (int p = a; p < b;) {
        int l = infix_at(c, a, p, b);
        if (!l) {
            p++;
            continue;
        }
        if (p != a) { /* an infix at the very start is skipped */
            if (p != start) emit(o, c->off[start], c->off[p]);
            emit(o, c->off[p], c->off[p + l]);
            start = p + l;
        }
        p += l;
    }
    if (start < b) emit(o, c->off[start], c->off[b]);
}

/* spaCy Tokenizer._split_affixes + _attach_tokens for one chunk. */
static void tokenize_chunk(out_state *o, const chunk *c) {
    int a = 0, b = c->n;
    int pre_s[MAX_CHUNK], n_pre = 0; /* prefix starts, in order; each ends at the next */
    int pre_e[MAX_CHUNK];
    int suf_s[MAX_CHUNK], suf_e[MAX_CHUNK], n_suf = 0; /* pushed outermost first */
    int last = -1;
    while (b > a && b - a != last) {
        if (find_special(c, a, b)) break;
        last = b - a;
        int pre = prefix_len(c, a, b);
        if (pre && a + pre < b && find_special(c, a + pre, b)) {
            pre_s[n_pre] = a, pre_e[n_pre++] = a + pre;
            a += pre;
            break;
        }
        int suf = suffix_len(c, a + pre, b);
        if (suf && b - suf > a && find_special(c, a, b - suf)) {
            suf_s[n_suf] = b - suf, suf_e[n_suf++] = b;
            b -= suf;
            break;
        }
        if (pre && suf && pre + suf <= b - a) {
            pre_s[n_pre] = a, pre_e[n_pre++] = a + pre;
            suf_s[n_suf] = b - suf, suf_e[n_suf++] = b;
            a += pre, b -= suf;
        } else if (pre) {
            pre_s[n_pre] = a, pre_e[n_pre++] = a + pre;
            a += pre;
        } else if (suf) {
            suf_s[n_suf] = b - suf, suf_e[n_suf++] = b;
            b -= suf;
        }
        if (b > a && find_special(c, a, b)) break;
    }
    for (int i = 0; i < n_pre; i++) emit(o, c->off[pre_s[i]], c->off[pre_e[i]]);
    emit_middle(o, c, a, b);
    for (int i = n_suf - 1; i >= 0; i--) emit(o, c->off[suf_s[i]], c->off[suf_e[i]]);
}

static bool ascii_alnum(unsigned char x) {
    return (x >= '0' && x <= '9') || ((x | 32) >= 'a' && (x | 32) <= 'z');
}

/* A chunk of ASCII letters/digits with no digit-then-letter pair (a possible
 * unit suffix) and no special case is one token: no prefix, suffix or infix
 * rule can apply. Returns the chunk end, or 0 when the slow path must run. */
static size_t fast_chunk(const char *text, size_t len, size_t i) {
    const unsigned char *t = (const unsigned char *)text;
    size_t j = i;
    bool digit = false;
    while (j < len && ascii_alnum(t[j])) {
        bool d = t[j] <= '9';
        if (digit && !d) return 0;
        digit = d;
        j++;
    }
    if (j < len && t[j] != ' ' && t[j] != '\n' && t[j] != '\t' && t[j] != '\r') return 0;
    size_t bl = j - i;
    if (bl >= 2 && bl <= 9 && (g_ascii[t[i]] & A_SPECIAL_FIRST)) return 0;
    return j;
}

/* One step of the reference loop at a non-whitespace position i: tokenize the
 * chunk starting there; returns the position after it. */
static size_t ref_step(out_state *o, chunk *c, const char *text, size_t len, size_t i) {
    unsigned char x = (unsigned char)text[i];
    if (ascii_alnum(x)) {
        size_t e = fast_chunk(text, len, i);
        if (e) {
            emit(o, i, e);
            return e;
        }
    }
    size_t j = i;
    int32_t cp = kz_utf8_decode(text, len, &j);
    if (cp >= 0 && is_space((uint32_t)cp)) return j;
    /* gather one run of non-space code points (invalid bytes count as U+FFFD) */
    c->n = 0;
    while (i < len && c->n < MAX_CHUNK) {
        unsigned char y = (unsigned char)text[i];
        if (y < 0x80) {
            if (y == ' ' || (y >= 0x09 && y <= 0x0d) || (y >= 0x1c && y <= 0x1f)) break;
            c->cp[c->n] = y;
            c->off[c->n++] = i++;
            continue;
        }
        j = i;
        cp = kz_utf8_decode(text, len, &j);
        if (cp >= 0 && is_space((uint32_t)cp)) break;
        c->cp[c->n] = cp < 0 ? 0xfffd : (uint32_t)cp;
        c->off[c->n++] = i;
        i = j;
    }
    c->off[c->n] = i;
    tokenize_chunk(o, c);
    return i;
}

static inline bool ascii_space(unsigned char y) {
    return y == ' ' || (y >= 0x09 && y <= 0x0d) || (y >= 0x1c && y <= 0x1f);
}

/* The reference tokenizer (the port's plain loop): kz_word_tokenize must give
 * exactly its output (tests/data/test_tokenize_corpus.c, fuzz_tokenize.c). */
size_t kz__word_tokenize_ref(const char *text, size_t len, kz_span *out, size_t cap);
size_t kz__word_tokenize_ref(const char *text, size_t len, kz_span *out, size_t cap) {
    pthread_once(&g_once, init_tables);
    out_state o = {out, out ? cap : 0, 0};
    chunk c;
    c.text = text;
    size_t i = 0;
    while (i < len) {
        unsigned char x = (unsigned char)text[i];
        if (x == ' ' || x == '\n' || x == '\t' || x == '\r') {
            i++;
            continue;
        }
        i = ref_step(&o, &c, text, len, i);
    }
    return o.n;
}

/* ---- the fast path ----------------------------------------------------------
 * Most chunks (runs of non-space) are ASCII words, numbers or single
 * punctuation marks; for these the rules reduce to a few cases, decided here
 * from the bytes. Anything else goes through ref_step. */
enum { C_SPACE = 1, C_DIGIT = 2, C_LETTER = 4, C_LOWER = 8, C_HYPHEN = 16, C_TRAIL = 32, C_NONASCII = 64 };
static uint8_t g_cls[256];
/* Special cases shaped like the fast path's chunks: R (letters, digits,
 * hyphens) or R + a trailing mark: masks of their first bytes and lengths. */
static uint64_t g_r_first[2], g_rp_first[2];
static uint32_t g_r_len, g_rp_len;
static pthread_once_t g_cls_once = PTHREAD_ONCE_INIT;

static void init_cls(void) {
    for (int c = 0; c < 256; c++) {
        uint8_t k = 0;
        if (c >= 0x80) k |= C_NONASCII;
        if (c < 0x80 && ascii_space((unsigned char)c)) k |= C_SPACE;
        if (c >= '0' && c <= '9') k |= C_DIGIT;
        if (c < 0x80 && (c | 32) >= 'a' && (c | 32) <= 'z') k |= C_LETTER;
        if (c >= 'a' && c <= 'z') k |= C_LOWER;
        if (c == '-') k |= C_HYPHEN;
        /* one-character suffixes that always split off after a letter or digit */
        if (c == ',' || c == ';' || c == ':' || c == ')' || c == ']' || c == '!' || c == '?' || c == '.')
            k |= C_TRAIL;
        g_cls[c] = k;
    }
    for (size_t i = 0; i < N_SPECIAL; i++) {
        const unsigned char *sp = (const unsigned char *)k_special[i].s;
        size_t l = strlen(k_special[i].s), body = 0;
        while (body < l && (g_cls[sp[body]] & (C_LETTER | C_DIGIT | C_HYPHEN))) body++;
        if (body == l) {
            g_r_first[sp[0] >> 6] |= 1ull << (sp[0] & 63);
            g_r_len |= 1u << l;
        } else if (body + 1 == l && (g_cls[sp[body]] & C_TRAIL)) {
            g_rp_first[sp[0] >> 6] |= 1ull << (sp[0] & 63);
            g_rp_len |= 1u << l;
        }
    }
}

static inline bool maybe_special(const uint64_t *first, uint32_t lens, const unsigned char *p, size_t l) {
    return l < 32 && ((lens >> l) & 1) && ((first[p[0] >> 6] >> (p[0] & 63)) & 1) &&
           find_special_bytes(p, l) != NULL;
}

/* Tokenize the ASCII chunk at text[a..) if it has one of the simple forms:
 *   a single character: one token;
 *   R or R P: R letters, digits and hyphens, starting and ending with a letter
 *   or digit, with no digit directly followed by a letter (a unit suffix) or a
 *   hyphen (an infix); P one of , ; : ) ] ! ? or a period after a lower-case
 *   letter or digit; neither the chunk nor R a special case: spaCy's loop
 *   splits off P and nothing else.
 * The chunk must end at whitespace or the text end and be at most MAX_CHUNK
 * long. Returns its end, or 0 (nothing emitted) when the slow path must run. */
static inline size_t fast_ascii_chunk(out_state *o, const char *text, size_t len, size_t a) {
    const unsigned char *t = (const unsigned char *)text;
    size_t j = a;
    uint32_t prev = 0, bad = 0, others = 0;
    for (; j < len; j++) {
        uint32_t c = g_cls[t[j]];
        if (c & (C_SPACE | C_NONASCII)) {
            if (c & C_NONASCII) return 0; /* a non-ASCII byte in the chunk, or a Unicode space */
            break;
        }
        bad |= (prev & C_DIGIT) && (c & (C_LETTER | C_HYPHEN));
        others += !(c & (C_LETTER | C_DIGIT | C_HYPHEN));
        prev = c;
    }
    size_t n = j - a;
    if (n == 1) { /* any single character is one token */
        emit(o, a, j);
        return j;
    }
    if (n > MAX_CHUNK || bad || others > 1) return 0;
    size_t r = j;
    if (others) { /* it must be the trailing mark */
        if (!(g_cls[t[j - 1]] & C_TRAIL)) return 0;
        r = j - 1;
        if (t[r] == '.' && !(g_cls[t[r - 1]] & (C_LOWER | C_DIGIT))) return 0;
    }
    if (!(g_cls[t[a]] & (C_LETTER | C_DIGIT)) || !(g_cls[t[r - 1]] & (C_LETTER | C_DIGIT))) return 0;
    if (maybe_special(g_r_first, g_r_len, t + a, r - a) ||
        (r < j && maybe_special(g_rp_first, g_rp_len, t + a, j - a)))
        return 0;
    emit(o, a, r);
    if (r < j) emit(o, r, j);
    return j;
}

#ifdef __SSE2__
/* fast_ascii_chunk for a chunk shorter than 16 bytes with 16 readable bytes at
 * text[a..): the byte classes of 16 lanes at once. Returns the chunk end, 0
 * for the slow path, or SIZE_MAX when the chunk is too long for this test. */
static inline size_t fast_ascii_chunk16(out_state *o, const char *text, size_t len, size_t a) {
    const unsigned char *t = (const unsigned char *)text;
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(t + a));
    const __m128i bias = _mm_set1_epi8((char)0x80);
    /* printable ASCII (0x21..0x7e and 0x7f): signed > 0x20 */
    uint32_t pr = (uint32_t)_mm_movemask_epi8(_mm_cmpgt_epi8(v, _mm_set1_epi8(0x20)));
    if (pr == 0xffff) return SIZE_MAX;
    uint32_t n = (uint32_t)__builtin_ctz(~pr);
    size_t j = a + n;
    if (j < len && !(g_cls[t[j]] & C_SPACE)) return 0; /* non-ASCII, a control byte or a Unicode space */
    if (n == 1) {
        emit(o, a, j);
        return j;
    }
#define ULT(x, lo, span)                                                                                     \
    (uint32_t) _mm_movemask_epi8(_mm_cmplt_epi8(                                                             \
        _mm_xor_si128(_mm_sub_epi8(x, _mm_set1_epi8((char)(lo))), bias), _mm_set1_epi8((char)((span)-128))))
    uint32_t low = ULT(v, 'a', 26), let = ULT(_mm_or_si128(v, _mm_set1_epi8(0x20)), 'a', 26);
    uint32_t dig = ULT(v, '0', 10);
    uint32_t hyp = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('-')));
#undef ULT
    uint32_t in = (1u << n) - 1, an = let | dig;
    if ((dig << 1) & (let | hyp) & in) return 0; /* a digit before a letter or hyphen */
    uint32_t others = in & ~(an | hyp), r = n;
    if (others) {
        if (others != 1u << (n - 1) || !(g_cls[t[j - 1]] & C_TRAIL)) return 0;
        r = n - 1;
        if (t[a + r] == '.' && !(((low | dig) >> (r - 1)) & 1)) return 0;
    }
    if (!(an & 1) || !((an >> (r - 1)) & 1)) return 0;
    if (maybe_special(g_r_first, g_r_len, t + a, r) ||
        (r < n && maybe_special(g_rp_first, g_rp_len, t + a, n)))
        return 0;
    emit(o, a, a + r);
    if (r < n) emit(o, a + r, j);
    return j;
}
#endif

size_t kz_word_tokenize(const char *text, size_t len, kz_span *out, size_t cap) {
    pthread_once(&g_once, init_tables);
    pthread_once(&g_cls_once, init_cls);
    out_state o = {out, out ? cap : 0, 0};
    const unsigned char *t = (const unsigned char *)text;
    chunk *c = NULL;
    chunk cbuf;
    size_t i = 0;
    while (i < len) {
        uint32_t k = g_cls[t[i]];
        if (k & C_SPACE) {
            i++;
            continue;
        }
        if (!(k & C_NONASCII)) {
            size_t e = SIZE_MAX;
#ifdef __SSE2__
            if (i + 16 <= len) e = fast_ascii_chunk16(&o, text, len, i);
#endif
            if (e == SIZE_MAX) e = fast_ascii_chunk(&o, text, len, i);
            if (e) {
                i = e;
                continue;
            }
        }
        if (!c) c = &cbuf, c->text = text;
        i = ref_step(&o, c, text, len, i);
    }
    return o.n;
}
