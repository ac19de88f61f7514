/* Kazu's CombinatorialSynonymGenerator (kazu/ontology_preprocessing/
 * synonym_generation.py) with StopWordRemover, NgramHyphenation and
 * StringReplacement (replacement dicts, digit-aware replacement, Greek), and
 * the opt-in "disease" configuration (ours): Kazu's default plus the singular /
 * plural of the last word and British spellings of every synonym. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "kazu/utf8.h"
#include "kb/build_int.h"

/* ---- Kazu's GREEK_SUBS (kazu/language/language_phenomena.py), in its order,
 * the same table the normaliser uses (tools/kazu_normaliser_reference.py). */
static const struct {
    uint32_t cp;
    const char *name;
} greek_subs[] = {
    {0x391, "alpha"},   {0x392, "beta"}, {0x393, "gamma"},       {0x394, "delta"}, {0x395, "epsilon"},
    {0x396, "zeta"},    {0x397, "eta"},  {0x398, "theta"},       {0x399, "iota"},  {0x39A, "kappa"},
    {0x39B, "lambda"},  {0x39C, "mu"},   {0x39D, "nu"},          {0x39E, "xi"},    {0x39F, "omicron"},
    {0x3A0, "pi"},      {0x3A1, "rho"},  {0x3A3, "sigma"},       {0x3A4, "tau"},   {0x3A5, "upsilon"},
    {0x3A6, "phi"},     {0x3A7, "chi"},  {0x3A8, "psi"},         {0x3A9, "omega"}, {0x3F4, "theta"},
    {0x3B1, "alpha"},   {0x3B2, "beta"}, {0x3B3, "gamma"},       {0x3B4, "delta"}, {0x3B5, "epsilon"},
    {0x3B6, "zeta"},    {0x3B7, "eta"},  {0x3B8, "theta"},       {0x3B9, "iota"},  {0x3BA, "kappa"},
    {0x3BB, "lambda"},  {0x3BC, "mu"},   {0x3BD, "nu"},          {0x3BE, "xi"},    {0x3BF, "omicron"},
    {0x3C0, "pi"},      {0x3C1, "rho"},  {0x3C2, "final sigma"}, {0x3C3, "sigma"}, {0x3C4, "tau"},
    {0x3C5, "upsilon"}, {0x3C6, "phi"},  {0x3D5, "phi"},         {0x3C7, "chi"},   {0x3C8, "psi"},
    {0x3C9, "omega"},
};
#define N_GREEK (sizeof greek_subs / sizeof greek_subs[0])

/* DASHES (U+2212, '-', U+2010..U+2015). */
static const uint32_t dashes[] = {'-', 0x2010, 0x2011, 0x2012, 0x2013, 0x2014, 0x2015, 0x2212};
#define N_DASHES (sizeof dashes / sizeof dashes[0])

/* GreekSymbolSubstitution.ALL_SUBS: keys in dict insertion order, each with
 * its replacement set. Built once (read-only afterwards). */
#define MAX_SUB_KEYS 96
#define MAX_SUB_VALS 6
typedef struct {
    char key[16];
    size_t key_len;
    char vals[MAX_SUB_VALS][16];
    size_t val_len[MAX_SUB_VALS];
    size_t n_vals;
} greek_key;
static greek_key all_subs[MAX_SUB_KEYS];
static size_t n_all_subs;
/* GREEK_VARIANT_PREFIX_SUFFIX = DASHES | {" "}: a set (hash order) in Kazu;
 * here the space first, then the dashes by code point. */
static char fixes[N_DASHES + 1][4];
static size_t fix_len[N_DASHES + 1];

static greek_key *sub_key(const char *k, size_t len) {
    for (size_t i = 0; i < n_all_subs; i++)
        if (all_subs[i].key_len == len && memcmp(all_subs[i].key, k, len) == 0) return &all_subs[i];
    if (n_all_subs == MAX_SUB_KEYS) return NULL;
    greek_key *g = &all_subs[n_all_subs++];
    memcpy(g->key, k, len);
    g->key_len = len;
    return g;
}

static void sub_add(greek_key *g, const char *v, size_t len) {
    if (!g) return;
    for (size_t i = 0; i < g->n_vals; i++)
        if (g->val_len[i] == len && memcmp(g->vals[i], v, len) == 0) return;
    if (g->n_vals == MAX_SUB_VALS) return;
    memcpy(g->vals[g->n_vals], v, len);
    g->val_len[g->n_vals++] = len;
}

static void build_all_subs(void) {
    for (size_t i = 0; i < N_GREEK; i++) {
        char letter[8], other[8];
        size_t ll = kz_utf8_encode(greek_subs[i].cp, letter);
        const char *sp = greek_subs[i].name;
        greek_key *g = sub_key(letter, ll);
        sub_add(g, sp, strlen(sp));
        sub_add(g, sp, 1); /* single letter abbreviation */
        sub_add(sub_key(sp, strlen(sp)), letter, ll);
        uint32_t cp = greek_subs[i].cp, flip = cp;
        utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
        if (c == UTF8PROC_CATEGORY_LL)
            flip = (uint32_t)utf8proc_toupper((utf8proc_int32_t)cp);
        else if (c == UTF8PROC_CATEGORY_LU)
            flip = (uint32_t)utf8proc_tolower((utf8proc_int32_t)cp);
        if (flip != cp) sub_add(g, other, kz_utf8_encode(flip, other));
    }
    fixes[0][0] = ' ';
    fix_len[0] = 1;
    for (size_t i = 0; i < N_DASHES; i++) fix_len[i + 1] = kz_utf8_encode(dashes[i], fixes[i + 1]);
}

static pthread_once_t subs_once = PTHREAD_ONCE_INIT;

/* ---- generators ------------------------------------------------------------ */

enum { GEN_STOPWORDS = 1, GEN_NGRAM, GEN_REPLACE };

typedef struct {
    int kind;
    int ngram;
    kz_syngen_repl *repl, *digit;
    size_t n_repl, n_digit;
    bool greek;
    /* cache: input string -> [first, first+count) in g->cache_out */
    kz_strmap cache;
    uint32_t *cache_first, *cache_count;
    size_t cache_cap;
} generator;

struct kz_syngen {
    kz_arena *arena;       /* generator configuration */
    kz_arena *cache_arena; /* cached strings */
    generator gens[8];
    size_t n_gens;
    kz_strvec cache_out; /* outputs of every cached call */
    /* scratch for one call */
    kz_strvec out;
    kz_strmap out_set;
    kz_buf buf;
    bool capped;   /* the last call hit KZ_SYNGEN_MAX_GREEK */
    bool variants; /* "disease": number and spelling variants after the combinations */
};

kz_syngen *kz__syngen_new(void) {
    pthread_once(&subs_once, build_all_subs);
    kz_syngen *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->arena = kz_arena_new(0);
    g->cache_arena = kz_arena_new(1 << 20);
    if (!g->arena || !g->cache_arena) {
        kz__syngen_free(g);
        return NULL;
    }
    kz__buf_init(&g->buf, 0);
    return g;
}

void kz__syngen_clear_cache(kz_syngen *g) {
    if (!g) return;
    for (size_t i = 0; i < g->n_gens; i++) {
        generator *x = &g->gens[i];
        kz__strmap_free(&x->cache);
        free(x->cache_first);
        free(x->cache_count);
        x->cache_first = x->cache_count = NULL;
        x->cache_cap = 0;
    }
    kz__strvec_free(&g->cache_out);
    kz_arena_reset(g->cache_arena);
}

void kz__syngen_free(kz_syngen *g) {
    if (!g) return;
    kz__syngen_clear_cache(g);
    kz__strvec_free(&g->out);
    kz__strmap_free(&g->out_set);
    kz__buf_free(&g->buf);
    kz_arena_free(g->arena);
    kz_arena_free(g->cache_arena);
    free(g);
}

size_t kz__syngen_count(const kz_syngen *g) { return g ? g->n_gens : 0; }

static generator *add_gen(kz_syngen *g, int kind) {
    if (g->n_gens == sizeof g->gens / sizeof g->gens[0]) return NULL;
    generator *x = &g->gens[g->n_gens++];
    memset(x, 0, sizeof *x);
    x->kind = kind;
    return x;
}

int kz__syngen_add_stopwords(kz_syngen *g) { return add_gen(g, GEN_STOPWORDS) ? 0 : KZ_ELIMIT; }

int kz__syngen_add_ngram_hyphenation(kz_syngen *g, int ngram) {
    generator *x = add_gen(g, GEN_NGRAM);
    if (!x) return KZ_ELIMIT;
    x->ngram = ngram;
    return 0;
}

static kz_syngen_repl *copy_repl(kz_arena *a, const kz_syngen_repl *r, size_t n) {
    if (!n) return NULL;
    kz_syngen_repl *c = kz_arena_calloc(a, n, sizeof *c);
    if (!c) return NULL;
    for (size_t i = 0; i < n; i++) {
        c[i].from = kz_arena_strdup(a, r[i].from, strlen(r[i].from)).ptr;
        const char **to = kz_arena_calloc(a, r[i].n_to ? r[i].n_to : 1, sizeof *to);
        if (!c[i].from || !to) return NULL;
        for (size_t j = 0; j < r[i].n_to; j++) {
            to[j] = kz_arena_strdup(a, r[i].to[j], strlen(r[i].to[j])).ptr;
            if (!to[j]) return NULL;
        }
        c[i].to = to;
        c[i].n_to = r[i].n_to;
    }
    return c;
}

int kz__syngen_add_replacement(kz_syngen *g, const kz_syngen_repl *repl, size_t n_repl,
                               const kz_syngen_repl *digit_repl, size_t n_digit_repl, bool include_greek) {
    generator *x = add_gen(g, GEN_REPLACE);
    if (!x) return KZ_ELIMIT;
    x->repl = copy_repl(g->arena, repl, n_repl);
    x->digit = copy_repl(g->arena, digit_repl, n_digit_repl);
    if ((n_repl && !x->repl) || (n_digit_repl && !x->digit)) return KZ_ENOMEM;
    x->n_repl = n_repl;
    x->n_digit = n_digit_repl;
    x->greek = include_greek;
    return 0;
}

/* conf/SynonymGeneration/default.yaml */
static const char *const to_dash[] = {" ", "_"};
static const char *const to_us[] = {" ", "-"};
static const char *const to_hyphen[] = {"-"};
static const kz_syngen_repl default_repl[] = {{"-", to_dash, 2}, {"_", to_us, 2}};
static const kz_syngen_repl default_digit[] = {{" ", to_hyphen, 1}};

kz_syngen *kz__syngen_new_config(int config) {
    kz_syngen *g = kz__syngen_new();
    if (!g) return NULL;
    int rc = 0;
    switch (config) {
    case KZ_SYNGEN_DEFAULT:
        rc = kz__syngen_add_stopwords(g);
        if (!rc) rc = kz__syngen_add_ngram_hyphenation(g, 2);
        if (!rc) rc = kz__syngen_add_replacement(g, default_repl, 2, default_digit, 1, true);
        break;
    case KZ_SYNGEN_GENE:
        rc = kz__syngen_add_ngram_hyphenation(g, 2);
        if (!rc) rc = kz__syngen_add_replacement(g, default_repl, 2, default_digit, 1, true);
        break;
    case KZ_SYNGEN_CHEMICAL: rc = kz__syngen_add_replacement(g, NULL, 0, NULL, 0, true); break;
    case KZ_SYNGEN_DISEASE:
        rc = kz__syngen_add_stopwords(g);
        if (!rc) rc = kz__syngen_add_ngram_hyphenation(g, 2);
        if (!rc) rc = kz__syngen_add_replacement(g, default_repl, 2, default_digit, 1, true);
        g->variants = true;
        break;
    default: break;
    }
    if (rc) {
        kz__syngen_free(g);
        return NULL;
    }
    return g;
}

static const char *const config_names[] = {"none", "default", "gene", "chemical", "disease"};

int kz__syngen_config_parse(const char *name, int *out) {
    for (int i = 0; i < 5; i++)
        if (name && strcmp(name, config_names[i]) == 0) {
            *out = i;
            return 0;
        }
    return KZ_EPARSE;
}

const char *kz__syngen_config_name(int v) { return v >= 0 && v < 5 ? config_names[v] : NULL; }

/* ---- string helpers ---------------------------------------------------------- */

/* Add a candidate output (copied into the cache arena) unless already produced. */
static int out_add(kz_syngen *g, const char *p, size_t len) {
    kz_str probe = {p, len};
    if (kz__strmap_get(&g->out_set, probe)) return 0;
    kz_str c = kz_arena_strdup(g->cache_arena, p, len);
    if (!c.ptr) return KZ_ENOMEM;
    int rc = kz__strmap_put(&g->out_set, c, (uint32_t)g->out.n, NULL);
    if (rc < 0) return rc;
    return kz__strvec_push(&g->out, c);
}

static bool contains(kz_str s, const char *pat, size_t plen) {
    return plen && plen <= s.len && memmem(s.ptr, s.len, pat, plen) != NULL;
}

/* Python s.replace(from, to) into b (b cleared first). */
static int replace_all(kz_buf *b, kz_str s, const char *from, size_t flen, const char *to, size_t tlen) {
    kz__buf_clear(b);
    size_t i = 0;
    int rc = 0;
    while (!rc && i < s.len) {
        const char *hit = flen ? memmem(s.ptr + i, s.len - i, from, flen) : NULL;
        if (!hit) {
            rc = kz__buf_append(b, s.ptr + i, s.len - i);
            break;
        }
        size_t at = (size_t)(hit - s.ptr);
        rc = kz__buf_append(b, s.ptr + i, at - i);
        if (!rc) rc = kz__buf_append(b, to, tlen);
        i = at + flen;
    }
    if (!rc && !b->data) rc = kz__buf_reserve(b, 1);
    return rc;
}

/* Python str.split(): runs of whitespace separate; no empty tokens. */
static size_t py_split(kz_str s, kz_str *tok, size_t cap) {
    size_t n = 0, i = 0;
    while (i < s.len) {
        size_t j = i;
        int32_t cp = kz_utf8_decode(s.ptr, s.len, &j);
        if (cp >= 0 && kz__py_isspace((uint32_t)cp)) {
            i = j;
            continue;
        }
        size_t start = i;
        while (i < s.len) {
            j = i;
            cp = kz_utf8_decode(s.ptr, s.len, &j);
            if (cp >= 0 && kz__py_isspace((uint32_t)cp)) break;
            i = j;
        }
        if (n < cap) tok[n] = (kz_str){s.ptr + start, i - start};
        n++;
    }
    return n;
}

static bool ascii_ieq(kz_str a, const char *b) {
    size_t n = strlen(b);
    if (a.len != n) return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)a.ptr[i];
        if (c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
        if (c != (unsigned char)b[i]) return false;
    }
    return true;
}

/* StopWordRemover.all_stopwords; token.lower() only equals one of these ASCII
 * words when the token is ASCII, so an ASCII case fold is exact. */
static const char *const stopwords[] = {"of", "and", "in", "to", "with", "caused", "involved", "by", "the"};

static int gen_stopwords(kz_syngen *g, kz_str s) {
    enum { MAXTOK = 512 };
    kz_str tok[MAXTOK];
    size_t n = py_split(s, tok, MAXTOK);
    if (n > MAXTOK) return 0; /* absurdly long synonym: no variant */
    bool detected = false;
    kz__buf_clear(&g->buf);
    bool first = true;
    for (size_t i = 0; i < n; i++) {
        bool stop = false;
        for (size_t k = 0; k < sizeof stopwords / sizeof stopwords[0] && !stop; k++)
            stop = ascii_ieq(tok[i], stopwords[k]);
        if (stop) {
            detected = true;
            continue;
        }
        if (!first && kz__buf_putc(&g->buf, ' ')) return KZ_ENOMEM;
        if (kz__buf_append(&g->buf, tok[i].ptr, tok[i].len)) return KZ_ENOMEM;
        first = false;
    }
    if (!detected) return 0;
    return out_add(g, g->buf.data ? g->buf.data : "", g->buf.len);
}

static int gen_ngram(kz_syngen *g, const generator *x, kz_str s) {
    kz_str tok[64];
    size_t n = py_split(s, tok, 64);
    if (x->ngram < 1 || n != (size_t)x->ngram) return 0;
    for (size_t d = 0; d < N_DASHES; d++) {
        char dash[4];
        size_t dl = kz_utf8_encode(dashes[d], dash);
        kz__buf_clear(&g->buf);
        for (size_t i = 0; i < n; i++) {
            if (i && kz__buf_append(&g->buf, dash, dl)) return KZ_ENOMEM;
            if (kz__buf_append(&g->buf, tok[i].ptr, tok[i].len)) return KZ_ENOMEM;
        }
        int rc = out_add(g, g->buf.data, g->buf.len);
        if (rc) return rc;
    }
    return 0;
}

static int add_stripped(kz_syngen *g, const kz_buf *b) {
    kz_str t = kz__py_strip((kz_str){b->data ? b->data : "", b->len});
    return out_add(g, t.ptr, t.len);
}

/* StringReplacement._generate_greek_subs, in Kazu's order of ALL_SUBS keys and
 * fixes. strings_to_substitute is a growing set seeded with the stripped text. */
static int gen_greek(kz_syngen *g, kz_str s) {
    kz_str stripped = kz__py_strip(s);
    kz_strvec sts = {0};
    kz_strmap sts_set = {0};
    int rc = 0;
    kz_str seed = kz_arena_strdup(g->cache_arena, stripped.ptr, stripped.len);
    if (!seed.ptr) return KZ_ENOMEM;
    if ((rc = kz__strvec_push(&sts, seed)) < 0 || (rc = kz__strmap_put(&sts_set, seed, 0, NULL)) < 0)
        goto done;
    rc = 0;
    char pat[32], rep[32];
    /* which bytes occur: a key whose bytes do not all occur cannot match */
    uint64_t present[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < s.len; i++)
        present[(unsigned char)s.ptr[i] >> 6] |= 1ull << ((unsigned char)s.ptr[i] & 63);
    for (size_t k = 0; k < n_all_subs && !rc; k++) {
        const greek_key *key = &all_subs[k];
        bool possible = true;
        for (size_t i = 0; i < key->key_len && possible; i++) {
            unsigned char c = (unsigned char)key->key[i];
            possible = (present[c >> 6] >> (c & 63)) & 1;
        }
        if (!possible || !contains(s, key->key, key->key_len)) continue; /* no fix can match */
        for (size_t f = 0; f < N_DASHES + 1 && !rc; f++) {
            size_t pl = key->key_len + fix_len[f];
            memcpy(pat, fixes[f], fix_len[f]); /* fix + candidate */
            memcpy(pat + fix_len[f], key->key, key->key_len);
            bool suffix = contains(s, pat, pl);
            char pat2[32];
            memcpy(pat2, key->key, key->key_len); /* candidate + fix */
            memcpy(pat2 + key->key_len, fixes[f], fix_len[f]);
            bool prefix = contains(s, pat2, pl);
            if (!prefix && !suffix) continue;
            size_t n_before = sts.n;
            kz_strvec step = {0};
            for (size_t i = 0; i < n_before && !rc; i++) {
                for (size_t v = 0; v < key->n_vals && !rc; v++) {
                    size_t rl = key->val_len[v] + fix_len[f];
                    for (int side = 0; side < 2 && !rc; side++) {
                        if (side == 0 && !prefix) continue;
                        if (side == 1 && !suffix) continue;
                        if (side == 0) {
                            memcpy(rep, key->vals[v], key->val_len[v]);
                            memcpy(rep + key->val_len[v], fixes[f], fix_len[f]);
                            rc = replace_all(&g->buf, sts.v[i], pat2, pl, rep, rl);
                        } else {
                            memcpy(rep, fixes[f], fix_len[f]);
                            memcpy(rep + fix_len[f], key->vals[v], key->val_len[v]);
                            rc = replace_all(&g->buf, sts.v[i], pat, pl, rep, rl);
                        }
                        if (rc) break;
                        rc = out_add(g, g->buf.data, g->buf.len);
                        if (rc) break;
                        /* the string just added (or found) in out */
                        kz_str added =
                            g->out.v[*kz__strmap_get(&g->out_set, (kz_str){g->buf.data, g->buf.len})];
                        rc = kz__strvec_push(&step, added) < 0 ? KZ_ENOMEM : 0;
                    }
                }
            }
            for (size_t i = 0; i < step.n && !rc; i++) {
                if (kz__strmap_get(&sts_set, step.v[i])) continue;
                if (sts.n >= KZ_SYNGEN_MAX_GREEK) {
                    g->capped = true;
                    break;
                }
                int r2 = kz__strmap_put(&sts_set, step.v[i], 0, NULL);
                if (r2 < 0 || kz__strvec_push(&sts, step.v[i]) < 0) rc = KZ_ENOMEM;
            }
            kz__strvec_free(&step);
        }
    }
done:
    kz__strvec_free(&sts);
    kz__strmap_free(&sts_set);
    return rc < 0 ? rc : 0;
}

static int gen_replace(kz_syngen *g, const generator *x, kz_str s) {
    int rc = 0;
    for (size_t i = 0; i < x->n_repl && !rc; i++) {
        size_t fl = strlen(x->repl[i].from);
        if (!contains(s, x->repl[i].from, fl)) continue;
        for (size_t j = 0; j < x->repl[i].n_to && !rc; j++) {
            rc = replace_all(&g->buf, s, x->repl[i].from, fl, x->repl[i].to[j], strlen(x->repl[i].to[j]));
            if (!rc) rc = add_stripped(g, &g->buf);
        }
    }
    /* digit-aware: re.findall(from + "[0-9]+") (the key taken literally); each
     * distinct match m = from + digits is replaced everywhere by sub + digits. */
    for (size_t i = 0; i < x->n_digit && !rc; i++) {
        const char *from = x->digit[i].from;
        size_t fl = strlen(from);
        if (!fl) continue;
        kz_strvec matches = {0};
        size_t pos = 0;
        while (pos + fl <= s.len && !rc) {
            const char *hit = memmem(s.ptr + pos, s.len - pos, from, fl);
            if (!hit) break;
            size_t at = (size_t)(hit - s.ptr), e = at + fl;
            while (e < s.len && s.ptr[e] >= '0' && s.ptr[e] <= '9') e++;
            if (e == at + fl) {
                pos = at + 1;
                continue;
            }
            kz_str m = {s.ptr + at, e - at};
            bool seen = false;
            for (size_t q = 0; q < matches.n && !seen; q++) seen = kz_str_eq(matches.v[q], m);
            if (!seen && kz__strvec_push(&matches, m) < 0) rc = KZ_ENOMEM;
            pos = e;
        }
        for (size_t q = 0; q < matches.n && !rc; q++) {
            kz_str number = {matches.v[q].ptr + fl, matches.v[q].len - fl};
            for (size_t j = 0; j < x->digit[i].n_to && !rc; j++) {
                char rep[256];
                size_t tl = strlen(x->digit[i].to[j]);
                if (tl + number.len > sizeof rep) continue;
                memcpy(rep, x->digit[i].to[j], tl);
                memcpy(rep + tl, number.ptr, number.len);
                rc = replace_all(&g->buf, s, matches.v[q].ptr, matches.v[q].len, rep, tl + number.len);
                if (!rc) rc = add_stripped(g, &g->buf);
            }
        }
        kz__strvec_free(&matches);
    }
    if (!rc && x->greek) rc = gen_greek(g, s);
    return rc;
}

int kz__syngen_call(kz_syngen *g, size_t i, kz_str s, const kz_str **out, size_t *n, kz_error *err) {
    if (!g || i >= g->n_gens || (!s.ptr && s.len)) return kz_error_set(err, KZ_EINVAL, "syngen: bad call");
    if (!s.ptr) s = (kz_str){"", 0};
    generator *x = &g->gens[i];
    uint32_t *hit = kz__strmap_get(&x->cache, s);
    if (hit) {
        *out = g->cache_out.v + x->cache_first[*hit];
        *n = x->cache_count[*hit];
        return 0;
    }
    g->out.n = 0;
    kz__strmap_free(&g->out_set);
    int rc = 0;
    switch (x->kind) {
    case GEN_STOPWORDS: rc = gen_stopwords(g, s); break;
    case GEN_NGRAM: rc = gen_ngram(g, x, s); break;
    case GEN_REPLACE: rc = gen_replace(g, x, s); break;
    default: break;
    }
    if (rc) return kz_error_set(err, rc, "synonym generation: out of memory");
    /* cache the result */
    kz_str key = kz_arena_strdup(g->cache_arena, s.ptr, s.len);
    if (!key.ptr) return kz_error_set(err, KZ_ENOMEM, "synonym generation: out of memory");
    uint32_t slot = (uint32_t)x->cache.n;
    if (slot == x->cache_cap) {
        size_t cap = x->cache_cap ? x->cache_cap * 2 : 1024;
        uint32_t *f = realloc(x->cache_first, cap * sizeof *f);
        if (f) x->cache_first = f;
        uint32_t *c = realloc(x->cache_count, cap * sizeof *c);
        if (c) x->cache_count = c;
        if (!f || !c) return kz_error_set(err, KZ_ENOMEM, "synonym generation: out of memory");
        x->cache_cap = cap;
    }
    if (g->cache_out.n + g->out.n > UINT32_MAX)
        return kz_error_set(err, KZ_ELIMIT, "synonym cache too large");
    x->cache_first[slot] = (uint32_t)g->cache_out.n;
    x->cache_count[slot] = (uint32_t)g->out.n;
    for (size_t k = 0; k < g->out.n; k++)
        if (kz__strvec_push(&g->cache_out, g->out.v[k]) < 0)
            return kz_error_set(err, KZ_ENOMEM, "synonym generation: out of memory");
    if (kz__strmap_put(&x->cache, key, slot, NULL) < 0)
        return kz_error_set(err, KZ_ENOMEM, "synonym generation: out of memory");
    *out = g->cache_out.v + x->cache_first[slot];
    *n = g->out.n;
    return 0;
}

/* ---- "disease": number and spelling variants (ours) --------------------------- */

static bool is_up(char c) { return c >= 'A' && c <= 'Z'; }
static bool is_low(char c) { return c >= 'a' && c <= 'z'; }
static bool is_letter(char c) { return is_up(c) || is_low(c); }
static char low(char c) { return is_up(c) ? (char)(c + 32) : c; }

/* American -> British spellings; at_start: only at the start of a word. */
static const struct {
    const char *from, *to;
    bool at_start;
} k_british[] = {
    {"tumor", "tumour", false},
    {"diarrhea", "diarrhoea", false},
    {"celiac", "coeliac", false},
    {"pediatric", "paediatric", false},
    {"orthopedic", "orthopaedic", false},
    {"gynecolog", "gynaecolog", false},
    {"color", "colour", false},
    {"behavior", "behaviour", false},
    {"emia", "aemia", false},
    {"hem", "haem", true},
    {"edema", "oedema", true},
    {"esophag", "oesophag", true},
    {"estrogen", "oestrogen", true},
    {"fetal", "foetal", true},
    {"fetus", "foetus", true},
    {"anesthe", "anaesthe", true},
};

/* The replacement written in the case of the matched text (all upper, capitalised or lower). */
static int put_cased(kz_buf *b, const char *match, size_t ml, const char *to) {
    bool all_up = true;
    for (size_t i = 0; i < ml; i++) all_up &= !is_low(match[i]);
    for (size_t i = 0; to[i]; i++) {
        char c = to[i];
        if (all_up || (i == 0 && is_up(match[0]))) c = (char)(c - 32);
        if (kz__buf_putc(b, c)) return KZ_ENOMEM;
    }
    return 0;
}

/* s with every British rule applied (ASCII, case-insensitive) into b; false if unchanged. */
static bool british(kz_buf *b, kz_str s, int *rc) {
    kz__buf_clear(b);
    bool changed = false;
    for (size_t i = 0; i < s.len && !*rc;) {
        bool hit = false;
        for (size_t r = 0; r < sizeof k_british / sizeof *k_british && !hit; r++) {
            size_t fl = strlen(k_british[r].from);
            if (i + fl > s.len) continue;
            if (k_british[r].at_start && i > 0 && is_letter(s.ptr[i - 1])) continue;
            bool eq = true;
            for (size_t k = 0; k < fl && eq; k++) eq = low(s.ptr[i + k]) == k_british[r].from[k];
            if (!eq) continue;
            /* already British ("anaemia", "haemo"), or "hemi-" */
            if (!strcmp(k_british[r].from, "emia") && i > 0 &&
                (low(s.ptr[i - 1]) == 'a' || low(s.ptr[i - 1]) == 'o'))
                continue;
            if (!strcmp(k_british[r].from, "hem") && i + 3 < s.len && low(s.ptr[i + 3]) == 'i') continue;
            *rc = put_cased(b, s.ptr + i, fl, k_british[r].to);
            i += fl;
            hit = changed = true;
        }
        if (!hit && !*rc) *rc = kz__buf_putc(b, s.ptr[i++]);
    }
    return changed;
}

/* s with its last word's number changed (singular <-> plural) into b; false if none. */
static bool other_number(kz_buf *b, kz_str s, int *rc) {
    size_t e = s.len, st = e;
    while (st > 0 && is_letter(s.ptr[st - 1])) st--;
    size_t n = e - st;
    if (n < 4 || (st > 0 && (unsigned char)s.ptr[st - 1] >= 0x80)) return false;
    const char *w = s.ptr + st;
    bool up = !is_low(w[n - 1]);
    kz__buf_clear(b);
    *rc = kz__buf_append(b, s.ptr, e);
    if (*rc) return false;
    char y = up ? 'Y' : 'y', sfx[4] = {0};
    if (low(w[n - 1]) == 's') {
        if (low(w[n - 2]) == 's' || low(w[n - 2]) == 'u' || low(w[n - 2]) == 'i') return false;
        b->len -= (n > 4 && low(w[n - 3]) == 'i' && low(w[n - 2]) == 'e') ? 3 : 1; /* -ies -> -y */
        if (b->len == e - 3)
            *rc = kz__buf_putc(b, y);
        else
            b->data[b->len] = 0;
        return !*rc;
    }
    const char *vowels = "aeiou";
    if (low(w[n - 1]) == 'y' && !strchr(vowels, low(w[n - 2]))) {
        b->len--;
        memcpy(sfx, up ? "IES" : "ies", 3);
    } else if (low(w[n - 1]) == 'x' || low(w[n - 1]) == 'z' ||
               ((low(w[n - 1]) == 'h') && (low(w[n - 2]) == 'c' || low(w[n - 2]) == 's'))) {
        memcpy(sfx, up ? "ES" : "es", 2);
    } else {
        sfx[0] = up ? 'S' : 's';
    }
    *rc = kz__buf_append(b, sfx, strlen(sfx));
    return !*rc;
}

/* The variants of s into g->out (cleared): British, other number, both. */
static int variants_of(kz_syngen *g, kz_str s) {
    g->out.n = 0;
    kz__strmap_free(&g->out_set);
    int rc = 0;
    kz_buf b2;
    kz__buf_init(&b2, 0);
    if (british(&g->buf, s, &rc) && !rc) {
        kz_str br = {g->buf.data, g->buf.len};
        rc = out_add(g, br.ptr, br.len);
        if (!rc && other_number(&b2, br, &rc) && !rc) rc = out_add(g, b2.data, b2.len);
    }
    if (!rc && other_number(&g->buf, s, &rc) && !rc) rc = out_add(g, g->buf.data, g->buf.len);
    kz__buf_free(&b2);
    return rc;
}

int kz__syngen_variants(kz_syngen *g, kz_str s, const kz_str **out, size_t *n) {
    int rc = variants_of(g, s);
    *out = g->out.v;
    *n = rc ? 0 : g->out.n;
    return rc;
}

/* ---- CombinatorialSynonymGenerator -------------------------------------------- */

static bool next_permutation(size_t *a, size_t n) {
    if (n < 2) return false;
    size_t i = n - 1;
    while (i > 0 && a[i - 1] >= a[i]) i--;
    if (i == 0) return false;
    size_t j = n - 1;
    while (a[j] <= a[i - 1]) j--;
    size_t t = a[i - 1];
    a[i - 1] = a[j];
    a[j] = t;
    for (size_t l = i, r = n - 1; l < r; l++, r--) {
        t = a[l];
        a[l] = a[r];
        a[r] = t;
    }
    return true;
}

/* Active NER synonyms: behaviour ADD_FOR_NER_AND_LINKING and confidence not IGNORE. */
static bool active(const kz_kbb_res *r, const kz_kbb_syn *s) {
    return r->behaviour == KZ_KB_ADD_FOR_NER_AND_LINKING && s->mention_confidence != KZ_MENTION_IGNORE;
}

typedef struct {
    kz_kbb_syn *v;
    size_t n, cap;
    kz_strmap set;
} synset;

static int synset_add(synset *s, const kz_kbb_syn *x) {
    if (kz__strmap_get(&s->set, x->text)) return 0;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        kz_kbb_syn *v = realloc(s->v, cap * sizeof *v);
        if (!v) return KZ_ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    int rc = kz__strmap_put(&s->set, x->text, (uint32_t)s->n, NULL);
    if (rc < 0) return rc;
    s->v[s->n++] = *x;
    return 1;
}

static void synset_reset(synset *s) {
    s->n = 0;
    kz__strmap_free(&s->set);
}

int kz__syngen_run(kz_syngen *g, kz_kbb_res *res, size_t n, kz_arena *arena, uint64_t *n_capped,
                   kz_error *err) {
    if (n_capped) *n_capped = 0;
    if (!g || !g->n_gens) return 0;
    /* original_strings: every active NER synonym text of every resource */
    kz_strmap originals = {0};
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        for (uint32_t k = 0; k < res[i].n_orig + res[i].n_alt && !rc; k++) {
            const kz_kbb_syn *s = k < res[i].n_orig ? &res[i].orig[k] : &res[i].alt[k - res[i].n_orig];
            if (active(&res[i], s) && kz__strmap_put(&originals, s->text, 0, NULL) < 0) rc = KZ_ENOMEM;
        }
    }
    size_t perm[8];
    synset cur = {0}, fin = {0};
    for (size_t i = 0; i < n && !rc; i++) {
        kz_kbb_res *r = &res[i];
        synset_reset(&fin);
        bool capped = false;
        for (size_t k = 0; k < g->n_gens; k++) perm[k] = k;
        do {
            synset_reset(&cur);
            for (size_t p = 0; p < g->n_gens && !rc; p++) {
                size_t gi = perm[p];
                size_t n_in = cur.n ? cur.n : (size_t)(r->n_orig + r->n_alt);
                bool from_cur = cur.n > 0;
                for (size_t k = 0; k < n_in && !rc; k++) {
                    kz_kbb_syn src;
                    if (from_cur)
                        src = cur.v[k];
                    else {
                        src = k < r->n_orig ? r->orig[k] : r->alt[k - r->n_orig];
                        if (!active(r, &src)) continue;
                    }
                    const kz_str *outs;
                    size_t n_out;
                    g->capped = false;
                    rc = kz__syngen_call(g, gi, src.text, &outs, &n_out, err);
                    if (rc) break;
                    capped |= g->capped;
                    for (size_t o = 0; o < n_out; o++) {
                        if (kz__strmap_get(&originals, outs[o])) continue;
                        if (cur.n >= KZ_SYNGEN_MAX_PER_RESOURCE) {
                            capped = true;
                            break;
                        }
                        kz_kbb_syn ns = {outs[o], src.case_sensitive, src.mention_confidence};
                        if (synset_add(&cur, &ns) < 0) {
                            rc = kz_error_set(err, KZ_ENOMEM, "synonym generation: out of memory");
                            break;
                        }
                    }
                }
            }
            for (size_t k = 0; k < cur.n && !rc; k++) {
                if (fin.n >= KZ_SYNGEN_MAX_PER_RESOURCE && !kz__strmap_get(&fin.set, cur.v[k].text)) {
                    capped = true;
                    continue;
                }
                if (synset_add(&fin, &cur.v[k]) < 0) rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
            }
        } while (!rc && next_permutation(perm, g->n_gens));
        /* "disease": number and spelling variants of the originals and of every generated string */
        size_t n_fin = fin.n;
        for (size_t k = 0; g->variants && !rc && k < (size_t)(r->n_orig + r->n_alt) + n_fin; k++) {
            kz_kbb_syn src;
            if (k < (size_t)(r->n_orig + r->n_alt)) {
                src = k < r->n_orig ? r->orig[k] : r->alt[k - r->n_orig];
                if (!active(r, &src)) continue;
            } else {
                src = fin.v[k - (r->n_orig + r->n_alt)];
            }
            if ((rc = variants_of(g, src.text))) {
                rc = kz_error_set(err, rc, "synonym generation: out of memory");
                break;
            }
            for (size_t o = 0; o < g->out.n && !rc; o++) {
                if (kz__strmap_get(&originals, g->out.v[o]) || kz__strmap_get(&fin.set, g->out.v[o]))
                    continue;
                if (fin.n >= KZ_SYNGEN_MAX_PER_RESOURCE) {
                    capped = true;
                    break;
                }
                kz_kbb_syn ns = {g->out.v[o], src.case_sensitive, src.mention_confidence};
                if (synset_add(&fin, &ns) < 0) rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
            }
        }
        if (rc) break;
        if (capped && n_capped) (*n_capped)++;
        /* alt = fin (strings copied into the caller's arena) */
        kz_kbb_syn *alt = fin.n ? kz_arena_alloc(arena, (fin.n + r->n_alt) * sizeof *alt) : NULL;
        if (fin.n && !alt) {
            rc = kz_error_set(err, KZ_ENOMEM, "synonym generation: out of memory");
            break;
        }
        if (!fin.n) continue;
        uint32_t m = 0;
        for (uint32_t k = 0; k < r->n_alt; k++) alt[m++] = r->alt[k];
        for (size_t k = 0; k < fin.n; k++) {
            kz_str t = kz_arena_strdup(arena, fin.v[k].text.ptr, fin.v[k].text.len);
            if (!t.ptr) {
                rc = kz_error_set(err, KZ_ENOMEM, "synonym generation: out of memory");
                break;
            }
            alt[m] = fin.v[k];
            alt[m++].text = t;
        }
        r->alt = alt;
        r->n_alt = kz__kbb_syns_normalise(alt, m);
    }
    synset_reset(&cur);
    synset_reset(&fin);
    free(cur.v);
    free(fin.v);
    kz__strmap_free(&originals);
    if (rc > 0) rc = 0;
    if (rc == KZ_ENOMEM) return kz_error_set(err, rc, "synonym generation: out of memory");
    return rc;
}
