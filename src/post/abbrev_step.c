/* AbbreviationFinderStep (Kazu's KazuAbbreviationDetector, from scispaCy):
 * Schwartz & Hearst definitions "long form (SF)" / "SF (long form)" over word
 * tokens, then every short-form occurrence in the document takes copies of the
 * long form's entities, and other entities at those spans go. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "../core/core_int.h"
#include "kazu/text.h"
#include "kazu/utf8.h"
#include "post_int.h"

#define ABBREV_NAME       "AbbreviationFinderStep"
#define ABBREV_MAX_INNER  8   /* tokens inside the parentheses */
#define ABBREV_MAX_CPS    512 /* code points considered per long/short form */
#define ABBREV_MAX_TOKENS (1u << 22)

static const char *const k_default_exclude[] = {"COPD", "NSCLC", "mCRC", "NHL", "DEND"};

typedef struct abbrev_state {
    kz_post_strs exclude;
    bool keep_unlinked;
    bool covering; /* long_form_match: covering */
} abbrev_state;

static void abbrev_free(void *p) {
    abbrev_state *s = p;
    if (!s) return;
    kz__post_strs_free(&s->exclude);
    free(s);
}

static int abbrev_init(void **state, const kz_config_node *params, kz_error *err) {
    static const char *const keys[] = {"exclude_abbrvs", "keep_unlinked_short_forms", "long_form_match"};
    *state = NULL;
    int rc = kz_config_check_keys(params, keys, 3, err);
    if (rc) return rc;
    abbrev_state *s = calloc(1, sizeof *s);
    if (!s) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    rc = kz__post_strs_get(params, keys[0], k_default_exclude,
                           sizeof k_default_exclude / sizeof *k_default_exclude, &s->exclude, err);
    if (!rc) rc = kz_config_get_bool(params, keys[1], false, &s->keep_unlinked, err);
    const char *lfm = NULL;
    if (!rc) rc = kz_config_get_string(params, keys[2], "exact", &lfm, err);
    if (!rc && strcmp(lfm, "exact") != 0 && strcmp(lfm, "covering") != 0) {
        rc = kz_error_set(err, KZ_ECONFIG, "%s: long_form_match: expected exact or covering, got '%.60s'",
                          ABBREV_NAME, lfm);
        kz_config_locate(kz_config_get(params, keys[2]), err);
    }
    if (!rc) s->covering = !strcmp(lfm, "covering");
    if (rc) {
        abbrev_free(s);
        return rc;
    }
    *state = s;
    return 0;
}

/* ---- Python character predicates on code points -------------------------------- */

static bool py_isalpha(int32_t c) {
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    utf8proc_category_t k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_LU || k == UTF8PROC_CATEGORY_LL || k == UTF8PROC_CATEGORY_LT ||
           k == UTF8PROC_CATEGORY_LM || k == UTF8PROC_CATEGORY_LO;
}

static bool py_isalnum(int32_t c) {
    if (c < 0x80) return py_isalpha(c) || (c >= '0' && c <= '9');
    if (py_isalpha(c)) return true;
    utf8proc_category_t k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_ND || k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_NO;
}

static int32_t py_lower(int32_t c) {
    if (c < 0x80) return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    return utf8proc_tolower(c);
}

/* ---- per-document work --------------------------------------------------------- */

typedef struct sec_toks {
    kz_span *t;
    size_t n;
    uint32_t n_orig; /* entities before this step */
    bool *drop;      /* per original entity */
} sec_toks;

typedef struct pattern {
    uint32_t sec;           /* section of the definition */
    size_t s0, s1;          /* short-form tokens */
    int64_t l_start, l_end; /* long form bytes */
    kz_entity **src;        /* long-form entities (originals) */
    size_t n_src;
} pattern;

typedef struct work {
    const kz_doc *doc;
    bool covering;
    sec_toks *secs;
    pattern *pats;
    size_t n_pats, cap_pats;
} work;

static kz_str tok_str(const kz_section *sec, kz_span t) {
    return (kz_str){sec->text.ptr + t.start, (size_t)(t.end - t.start)};
}

static bool tok_is(const kz_section *sec, kz_span t, char c) {
    return t.end - t.start == 1 && sec->text.ptr[t.start] == c;
}

/* Code points of the tokens [a, b) joined by one space (Python " ".join),
 * at most cap; *n receives the count. */
static size_t join_cps(const kz_section *sec, const kz_span *t, size_t a, size_t b, int32_t *out,
                       size_t cap) {
    size_t n = 0;
    for (size_t k = a; k < b; k++) {
        if (k > a) {
            if (n >= cap) return SIZE_MAX;
            out[n++] = ' ';
        }
        size_t i = (size_t)t[k].start;
        while (i < (size_t)t[k].end) {
            if (n >= cap) return SIZE_MAX;
            out[n++] = kz_utf8_decode(sec->text.ptr, (size_t)t[k].end, &i);
        }
    }
    return n;
}

/* scispaCy's short_form_filter on tokens [a, b). */
static bool short_form_ok(const kz_section *sec, const kz_span *t, size_t a, size_t b) {
    if (a >= b) return false;
    for (size_t k = a; k < b; k++) {
        size_t l = kz_utf8_count(sec->text.ptr + t[k].start, (size_t)(t[k].end - t[k].start));
        if (l < 2 || l >= 10) return false;
    }
    const char *s = sec->text.ptr + t[a].start;
    size_t len = (size_t)(t[b - 1].end - t[a].start), i = 0, n = 0, alpha = 0;
    bool first = true, first_alpha = false;
    while (i < len) {
        int32_t c = kz_utf8_decode(s, len, &i);
        bool al = py_isalpha(c);
        if (first) first_alpha = al, first = false;
        alpha += al;
        n++;
    }
    return first_alpha && n && 2 * alpha >= n;
}

/* Schwartz & Hearst (scispaCy's find_abbreviation): the first long-form token
 * of the definition, or SIZE_MAX when the short form does not align. */
static size_t find_long_start(const kz_section *sec, const kz_span *t, size_t l0, size_t l1, size_t s0,
                              size_t s1) {
    int32_t lf[ABBREV_MAX_CPS], sf[ABBREV_MAX_CPS];
    size_t nl = join_cps(sec, t, l0, l1, lf, ABBREV_MAX_CPS);
    size_t ns = join_cps(sec, t, s0, s1, sf, ABBREV_MAX_CPS);
    if (nl == SIZE_MAX || ns == SIZE_MAX) return SIZE_MAX; /* pathological lengths: no definition */
    int64_t li = (int64_t)nl - 1, si = (int64_t)ns - 1;
    while (si >= 0) {
        int32_t cur = py_lower(sf[si]);
        if (!py_isalnum(cur)) {
            si--;
            continue;
        }
        while ((li >= 0 && py_lower(lf[li]) != cur) || (si == 0 && li > 0 && py_isalnum(lf[li - 1]))) li--;
        if (li < 0) return SIZE_MAX;
        li--;
        si--;
    }
    li++;
    /* map the character index back to a token: Kazu sums len(text_with_ws),
     * i.e. each token plus one when a space follows it in the text */
    int64_t acc = 0;
    for (size_t k = l0; k < l1; k++) {
        acc += (int64_t)kz_utf8_count(sec->text.ptr + t[k].start, (size_t)(t[k].end - t[k].start));
        if ((size_t)t[k].end < sec->text.len && sec->text.ptr[t[k].end] == ' ') acc++;
        if (acc > li) return k;
    }
    return l0; /* Python's span[None:] */
}

static bool str_seen(const work *w, kz_str s, bool is_long) {
    for (size_t i = 0; i < w->n_pats; i++) {
        const pattern *p = &w->pats[i];
        const kz_section *sec = w->doc->sections[p->sec];
        kz_str x;
        if (is_long)
            x = (kz_str){sec->text.ptr + p->l_start, (size_t)(p->l_end - p->l_start)};
        else {
            const kz_span *t = w->secs[p->sec].t;
            x = (kz_str){sec->text.ptr + t[p->s0].start, (size_t)(t[p->s1 - 1].end - t[p->s0].start)};
        }
        if (kz_str_eq(x, s)) return true;
    }
    return false;
}

static int consider(work *w, uint32_t si, size_t l0, size_t l1, size_t s0, size_t s1) {
    const kz_section *sec = w->doc->sections[si];
    const kz_span *t = w->secs[si].t;
    if (!short_form_ok(sec, t, s0, s1)) return 0;
    if (l0 >= l1) return 0;
    size_t ls = find_long_start(sec, t, l0, l1, s0, s1);
    if (ls == SIZE_MAX) return 0;
    int64_t lb = t[ls].start, le = t[l1 - 1].end;
    kz_str long_text = {sec->text.ptr + lb, (size_t)(le - lb)};
    kz_str short_text = {sec->text.ptr + t[s0].start, (size_t)(t[s1 - 1].end - t[s0].start)};
    if (str_seen(w, long_text, true) || str_seen(w, short_text, false)) return 0;
    if (w->n_pats == w->cap_pats) {
        size_t nc = w->cap_pats ? 2 * w->cap_pats : 8;
        pattern *np = realloc(w->pats, nc * sizeof *np);
        if (!np) return KZ_ENOMEM;
        w->pats = np;
        w->cap_pats = nc;
    }
    pattern *p = &w->pats[w->n_pats];
    *p = (pattern){si, s0, s1, lb, le, NULL, 0};
    /* long_form_match: covering also takes, when no entity has exactly the long
     * form's span, the entities that end with it and start before it
     * ("X-linked adrenoleukodystrophy (ALD)": S&H's long form is the last word) */
    bool exact = false;
    for (uint32_t e = 0; e < w->secs[si].n_orig && !exact; e++)
        exact =
            sec->entities[e]->n_spans == 1 && sec->entities[e]->start == lb && sec->entities[e]->end == le;
    bool covering = w->covering && !exact;
    for (uint32_t e = 0; e < w->secs[si].n_orig; e++) {
        kz_entity *ent = sec->entities[e];
        if (ent->n_spans == 1 && ent->end == le && (ent->start == lb || (covering && ent->start < lb))) {
            kz_entity **ns = realloc(p->src, (p->n_src + 1) * sizeof *ns);
            if (!ns) {
                free(p->src);
                return KZ_ENOMEM;
            }
            p->src = ns;
            p->src[p->n_src++] = ent;
        }
    }
    w->n_pats++;
    return 0;
}

/* scispaCy's filter_matches over every "(" ... ")" token pair (spaCy's
 * Matcher [{"ORTH": "("}, {"OP": "+"}, {"ORTH": ")"}] yields them all). */
static int find_definitions(work *w, uint32_t si) {
    const kz_section *sec = w->doc->sections[si];
    const kz_span *t = w->secs[si].t;
    size_t n = w->secs[si].n;
    for (size_t i = 0; i < n; i++) {
        if (!tok_is(sec, t[i], '(')) continue;
        for (size_t j = i + 2; j < n && j - i - 1 <= ABBREV_MAX_INNER; j++) {
            if (!tok_is(sec, t[j], ')')) continue;
            size_t start = i + 1, end = j, inner = end - start;
            if (start == 1) continue;
            int rc;
            if (inner > 3) {
                rc = consider(w, si, start, end, start - 2, start - 1);
            } else {
                size_t alen = 0;
                for (size_t k = start; k < end; k++)
                    alen += kz_utf8_count(sec->text.ptr + t[k].start, (size_t)(t[k].end - t[k].start));
                size_t max_words = KZ_MIN(alen + 5, alen * 2);
                size_t l0 = start - 1 > max_words ? start - 1 - max_words : 0;
                rc = consider(w, si, l0, start - 1, start, end);
            }
            if (rc) return rc;
        }
    }
    return 0;
}

static bool tokens_equal(const kz_section *a, const kz_span *ta, const kz_section *b, const kz_span *tb,
                         size_t n) {
    for (size_t k = 0; k < n; k++)
        if (!kz_str_eq(tok_str(a, ta[k]), tok_str(b, tb[k]))) return false;
    return true;
}

typedef struct drop_set {
    kz_entity **v;
    size_t n;
} drop_set;

static int ptr_cmp(const void *a, const void *b) {
    uintptr_t x = (uintptr_t) * (kz_entity *const *)a, y = (uintptr_t) * (kz_entity *const *)b;
    return x < y ? -1 : x > y;
}

static bool keep_not_dropped(const kz_entity *e, void *user) {
    const drop_set *d = user;
    return !bsearch(&e, d->v, d->n, sizeof *d->v, ptr_cmp);
}

static int override_section(const abbrev_state *s, work *w, kz_doc *doc, uint32_t si, kz_str ns,
                            kz_error *err) {
    kz_section *sec = doc->sections[si];
    sec_toks *st = &w->secs[si];
    for (size_t p = 0; p < st->n; p++) {
        for (size_t k = 0; k < w->n_pats; k++) {
            const pattern *pat = &w->pats[k];
            size_t len = pat->s1 - pat->s0;
            if (p + len > st->n) continue;
            const kz_section *dsec = doc->sections[pat->sec];
            if (!tokens_equal(sec, st->t + p, dsec, w->secs[pat->sec].t + pat->s0, len)) continue;
            kz_span hit = {st->t[p].start, st->t[p + len - 1].end};
            if (!(s->keep_unlinked && pat->n_src == 0))
                for (uint32_t e = 0; e < st->n_orig; e++) {
                    const kz_entity *ent = sec->entities[e];
                    if (ent->n_spans == 1 && ent->start == hit.start && ent->end == hit.end &&
                        !kz__post_strs_has(&s->exclude, ent->match))
                        st->drop[e] = true;
                }
            for (size_t j = 0; j < pat->n_src; j++) {
                int rc = kz__post_copy_entity(doc, sec, pat->src[j], &hit, 1, ns, KZ_MENTION_HIGHLY_LIKELY,
                                              NULL, err);
                if (rc) return rc;
            }
        }
    }
    drop_set d = {NULL, 0};
    for (uint32_t e = 0; e < st->n_orig; e++) d.n += st->drop[e];
    if (!d.n) return 0;
    if (!(d.v = malloc(d.n * sizeof *d.v))) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    d.n = 0;
    for (uint32_t e = 0; e < st->n_orig; e++)
        if (st->drop[e]) d.v[d.n++] = sec->entities[e];
    qsort(d.v, d.n, sizeof *d.v, ptr_cmp);
    kz_section_filter_entities(sec, keep_not_dropped, &d);
    free(d.v);
    return 0;
}

static int tokenize_section(work *w, uint32_t si, kz_error *err) {
    const kz_section *sec = w->doc->sections[si];
    sec_toks *st = &w->secs[si];
    size_t n = kz_word_tokenize(sec->text.ptr, sec->text.len, NULL, 0);
    if (n > ABBREV_MAX_TOKENS)
        return kz_error_set(err, KZ_ELIMIT, "section of %zu tokens exceeds the cap of %u", n,
                            ABBREV_MAX_TOKENS);
    st->t = malloc((n ? n : 1) * sizeof *st->t);
    st->n_orig = sec->n_entities;
    st->drop = calloc(st->n_orig ? st->n_orig : 1, sizeof *st->drop);
    if (!st->t || !st->drop) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    st->n = kz_word_tokenize(sec->text.ptr, sec->text.len, st->t, n);
    return 0;
}

/* Run the detector over one document. 0 or an error code with err set. */
int kz__abbrev_doc(const abbrev_state *s, kz_doc *doc, kz_str ns, kz_error *err);
int kz__abbrev_doc(const abbrev_state *s, kz_doc *doc, kz_str ns, kz_error *err) {
    work w = {doc, s->covering, NULL, NULL, 0, 0};
    int rc = 0;
    if (!doc->n_sections) return 0;
    if (!(w.secs = calloc(doc->n_sections, sizeof *w.secs)))
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    /* Definitions need a "(": tokenize those sections first, the others only
     * when some definition was found (most documents stop here). */
    for (int pass = 0; pass < 2 && !rc; pass++) {
        if (pass == 1 && !w.n_pats) break;
        for (uint32_t si = 0; si < doc->n_sections && !rc; si++) {
            bool paren = memchr(doc->sections[si]->text.ptr, '(', doc->sections[si]->text.len) != NULL;
            if (paren != (pass == 0)) continue;
            if ((rc = tokenize_section(&w, si, err))) break;
            if (paren && (rc = find_definitions(&w, si))) kz_error_set(err, rc, "out of memory");
        }
    }
    for (uint32_t si = 0; si < doc->n_sections && !rc && w.n_pats; si++)
        rc = override_section(s, &w, doc, si, ns, err);
    for (uint32_t si = 0; si < doc->n_sections; si++) {
        free(w.secs[si].t);
        free(w.secs[si].drop);
    }
    for (size_t k = 0; k < w.n_pats; k++) free(w.pats[k].src);
    free(w.pats);
    free(w.secs);
    return rc;
}

static int abbrev_process(void *state, kz_doc **docs, size_t n, const kz_step_ctx *ctx, kz_error *err) {
    const abbrev_state *s = state;
    (void)err;
    kz_str ns = kz_str_c(ctx && ctx->step_name ? ctx->step_name : ABBREV_NAME);
    for (size_t d = 0; d < n; d++) {
        if (kz_step_cancelled(ctx)) return KZ_ECANCELLED;
        kz_error e;
        kz_error_clear(&e);
        if (kz__abbrev_doc(s, docs[d], ns, &e)) kz_doc_set_failure(docs[d], ns.ptr, e.msg);
    }
    return 0;
}

const kz_step_type kz__step_abbreviation = {
    .name = ABBREV_NAME,
    .description = "Schwartz-Hearst abbreviations: copy long-form entities to every short-form occurrence",
    .init = abbrev_init,
    .process = abbrev_process,
    .free = abbrev_free,
};
