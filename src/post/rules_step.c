/* RulesBasedEntityClassDisambiguationFilterStep (Kazu): token-pattern rules
 * (a subset of spaCy's Matcher language) run on each entity's sentence; per
 * (match, class) key a TP rule must hit somewhere in the document and an FP
 * rule nowhere, else every entity with that key goes. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "kazu/text.h"
#include "kazu/utf8.h"
#include "post_int.h"

#define RULES_MAX_EXT     64 /* distinct classes named in "_" tests */
#define RULES_MAX_TOKENS  (1u << 22)
#define RULES_MATCH_STEPS 1000000 /* backtracking budget per rule per sentence */

/* Kazu's conf/RulesBasedEntityClassDisambiguationFilterStep/default.yaml. */
static const char k_default_rules[] =
    "class_matcher_rules:\n"
    "  cell_line:\n"
    "    tp:\n"
    "      - [{_: {cell_line: true}}, {LOWER: {IN: [cell, cells]}}]\n"
    "      - [{LOWER: cell}, {LOWER: line}, {_: {cell_line: true}}]\n"
    "      - [{LOWER: cell}, {LOWER: type}, {_: {cell_line: true}}]\n"
    "    fp: ~\n"
    "  cell_type:\n"
    "    tp:\n"
    "      - [{_: {cell_type: true}}, {LOWER: {IN: [cell, cells]}}]\n"
    "      - [{LOWER: cell}, {LOWER: line}, {_: {cell_type: true}}]\n"
    "      - [{LOWER: cell}, {LOWER: type}, {_: {cell_type: true}}]\n"
    "    fp: ~\n"
    "  anatomy:\n"
    "    tp: ~\n"
    "    fp:\n"
    "      - [{_: {drug: true}}, {_: {anatomy: true}}, {LOWER: arm}]\n"
    "      - [{LOWER: single}, {LOWER: \"-\"}, {_: {anatomy: true}, LOWER: arm}]\n"
    "      - [{LOWER: multi}, {LOWER: \"-\"}, {_: {anatomy: true}, LOWER: arm}]\n"
    "      - [{LOWER: quality}, {LOWER: \"-\", OP: \"?\"}, {LOWER: of}, {LOWER: \"-\", OP: \"?\"},\n"
    "         {_: {anatomy: true}, LOWER: life}]\n"
    "mention_matcher_rules:\n"
    "  disease:\n"
    "    IVF:\n"
    "      fp: [[{NORM: ICSI}], [{NORM: cycle}], [{NORM: treatment}]]\n"
    "    MFS:\n"
    "      fp: [[{NORM: endpoint}]]\n"
    "  gene:\n"
    "    IVF:\n"
    "      fp: [[{NORM: ICSI}], [{NORM: cycle}], [{NORM: treatment}]]\n"
    "    EMA:\n"
    "      fp: [[{NORM: European}], [{NORM: Agency}]]\n"
    "  drug:\n"
    "    UCB:\n"
    "      fp: [[{NORM: pharma}], [{NORM: company}], [{NORM: brussels}]]\n";

enum { A_ORTH, A_LOWER };
enum { V_EQ, V_IN, V_NOT_IN };

typedef struct attr_test {
    int attr, kind;
    kz_post_strs vals; /* lower-cased for A_LOWER */
} attr_test;

typedef struct tok_spec {
    attr_test *tests;
    size_t n_tests;
    uint64_t ext_true, ext_false; /* "_": {class: true|false} */
    char op;                      /* '1', '?', '*', '+' */
} tok_spec;

typedef struct pattern {
    tok_spec *t;
    size_t n;
} pattern;

typedef struct rule_set {
    bool configured;
    pattern *p;
    size_t n;
} rule_set;

typedef struct rules {
    char *cls;
    char *match; /* NULL for class rules */
    rule_set tp, fp;
} rules;

typedef struct rules_state {
    rules *r;
    size_t n;
    char *ext[RULES_MAX_EXT];
    size_t n_ext;
    bool kazu_bug;
} rules_state;

static void rule_set_free(rule_set *rs) {
    for (size_t i = 0; i < rs->n; i++) {
        for (size_t j = 0; j < rs->p[i].n; j++) {
            tok_spec *t = &rs->p[i].t[j];
            for (size_t k = 0; k < t->n_tests; k++) kz__post_strs_free(&t->tests[k].vals);
            free(t->tests);
        }
        free(rs->p[i].t);
    }
    free(rs->p);
}

static void rules_free(void *p) {
    rules_state *s = p;
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->r[i].cls);
        free(s->r[i].match);
        rule_set_free(&s->r[i].tp);
        rule_set_free(&s->r[i].fp);
    }
    free(s->r);
    for (size_t i = 0; i < s->n_ext; i++) free(s->ext[i]);
    free(s);
}

static int cfg_fail(const kz_config_node *n, kz_error *err, const char *msg, const char *arg) {
    kz_error_set(err, KZ_ECONFIG, "RulesBasedEntityClassDisambiguationFilterStep: %s%s", msg, arg ? arg : "");
    kz_config_locate(n, err);
    return KZ_ECONFIG;
}

/* Lower-case UTF-8 (utf8proc simple case mapping) into a malloc'd string. */
static char *lower_dup(const char *s, size_t len) {
    char *o = malloc(len * 4 + 1);
    if (!o) return NULL;
    size_t i = 0, n = 0;
    while (i < len) n += kz_utf8_encode((uint32_t)utf8proc_tolower(kz_utf8_decode(s, len, &i)), o + n);
    o[n] = 0;
    return o;
}

static int ext_index(rules_state *s, const kz_config_node *n, kz_str name, kz_error *err) {
    for (size_t i = 0; i < s->n_ext; i++)
        if (kz_str_eq_c(name, s->ext[i])) return (int)i;
    if (s->n_ext >= RULES_MAX_EXT) return cfg_fail(n, err, "too many entity classes in \"_\" tests", NULL);
    if (!(s->ext[s->n_ext] = strndup(name.ptr, name.len)))
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    return (int)s->n_ext++;
}

static int parse_tok(rules_state *s, const kz_config_node *n, tok_spec *t, kz_error *err) {
    if (kz_config_node_type(n) != KZ_CONFIG_MAP)
        return cfg_fail(n, err, "a token pattern must be a map", NULL);
    size_t m = kz_config_node_len(n);
    t->op = '1';
    if (!(t->tests = calloc(m ? m : 1, sizeof *t->tests)))
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    for (size_t i = 0; i < m; i++) {
        kz_str key = kz_config_node_key_at(n, i);
        const kz_config_node *v = kz_config_node_at(n, i);
        int rc;
        if (kz_str_eq_c(key, "OP")) {
            kz_str op = kz_config_node_scalar(v);
            if (!op.ptr || op.len != 1 || !strchr("1?*+", op.ptr[0]))
                return cfg_fail(v, err, "OP must be one of 1 ? * + (got ", op.ptr ? op.ptr : "non-scalar");
            t->op = op.ptr[0];
        } else if (kz_str_eq_c(key, "_")) {
            if (kz_config_node_type(v) != KZ_CONFIG_MAP)
                return cfg_fail(v, err, "\"_\" takes {class: true|false}", NULL);
            for (size_t j = 0; j < kz_config_node_len(v); j++) {
                const kz_config_node *b = kz_config_node_at(v, j);
                kz_str bs = kz_config_node_scalar(b);
                bool val;
                if (bs.ptr && (!strcmp(bs.ptr, "true") || !strcmp(bs.ptr, "True") || !strcmp(bs.ptr, "TRUE")))
                    val = true;
                else if (bs.ptr &&
                         (!strcmp(bs.ptr, "false") || !strcmp(bs.ptr, "False") || !strcmp(bs.ptr, "FALSE")))
                    val = false;
                else
                    return cfg_fail(b, err, "\"_\" values must be true or false", NULL);
                if ((rc = ext_index(s, b, kz_config_node_key_at(v, j), err)) < 0) return rc;
                if (val)
                    t->ext_true |= 1ull << rc;
                else
                    t->ext_false |= 1ull << rc;
            }
        } else {
            attr_test *a = &t->tests[t->n_tests];
            if (kz_str_eq_c(key, "ORTH") || kz_str_eq_c(key, "TEXT"))
                a->attr = A_ORTH;
            else if (kz_str_eq_c(key, "LOWER") || kz_str_eq_c(key, "NORM"))
                a->attr = A_LOWER;
            else
                return cfg_fail(n, err, "unsupported token attribute ", key.ptr);
            t->n_tests++;
            const kz_config_node *list = v;
            a->kind = V_EQ;
            if (kz_config_node_type(v) == KZ_CONFIG_MAP) {
                if (kz_config_node_len(v) != 1)
                    return cfg_fail(v, err, "a value map holds one of IN, NOT_IN", NULL);
                kz_str op = kz_config_node_key_at(v, 0);
                if (kz_str_eq_c(op, "IN"))
                    a->kind = V_IN;
                else if (kz_str_eq_c(op, "NOT_IN"))
                    a->kind = V_NOT_IN;
                else
                    return cfg_fail(v, err, "unsupported value operator ", op.ptr);
                list = kz_config_node_at(v, 0);
            } else if (kz_config_node_type(v) != KZ_CONFIG_SCALAR) {
                return cfg_fail(v, err, "a token attribute takes a string or {IN: [...]}", NULL);
            }
            if ((rc = kz__post_strs_from_node(list, &a->vals, err))) return rc;
            if (a->attr == A_LOWER)
                for (size_t j = 0; j < a->vals.n; j++) {
                    char *l = lower_dup(a->vals.v[j], strlen(a->vals.v[j]));
                    if (!l) return kz_error_set(err, KZ_ENOMEM, "out of memory");
                    free(a->vals.v[j]);
                    a->vals.v[j] = l;
                }
        }
    }
    return 0;
}

static int parse_rule_set(rules_state *s, const kz_config_node *n, rule_set *rs, kz_error *err) {
    if (!n || kz_config_node_type(n) == KZ_CONFIG_NULL) return 0;
    if (kz_config_node_type(n) != KZ_CONFIG_SEQ)
        return cfg_fail(n, err, "rules must be a list of patterns", NULL);
    size_t m = kz_config_node_len(n);
    rs->configured = true;
    if (!(rs->p = calloc(m ? m : 1, sizeof *rs->p))) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    for (size_t i = 0; i < m; i++) {
        const kz_config_node *pn = kz_config_node_at(n, i);
        if (kz_config_node_type(pn) != KZ_CONFIG_SEQ || kz_config_node_len(pn) == 0)
            return cfg_fail(pn, err, "a pattern must be a non-empty list of token patterns", NULL);
        size_t k = kz_config_node_len(pn);
        rs->n = i + 1;
        if (!(rs->p[i].t = calloc(k, sizeof *rs->p[i].t)))
            return kz_error_set(err, KZ_ENOMEM, "out of memory");
        for (size_t j = 0; j < k; j++) {
            rs->p[i].n = j + 1;
            int rc = parse_tok(s, kz_config_node_at(pn, j), &rs->p[i].t[j], err);
            if (rc) return rc;
        }
    }
    return 0;
}

static int add_rules(rules_state *s, const kz_config_node *tpfp, kz_str cls, kz_str match, kz_error *err) {
    static const char *const keys[] = {"tp", "fp"};
    int rc = kz_config_check_keys(tpfp, keys, 2, err);
    if (rc) return rc;
    if (kz_config_node_type(tpfp) != KZ_CONFIG_MAP)
        return cfg_fail(tpfp, err, "expected {tp: ..., fp: ...}", NULL);
    rules *nr = realloc(s->r, (s->n + 1) * sizeof *nr);
    if (!nr) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    s->r = nr;
    rules *r = &s->r[s->n++];
    memset(r, 0, sizeof *r);
    if (!(r->cls = strndup(cls.ptr, cls.len)) || (match.ptr && !(r->match = strndup(match.ptr, match.len))))
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    if ((rc = parse_rule_set(s, kz_config_get(tpfp, "tp"), &r->tp, err))) return rc;
    return parse_rule_set(s, kz_config_get(tpfp, "fp"), &r->fp, err);
}

static int parse_all(rules_state *s, const kz_config_node *cls_rules, const kz_config_node *men_rules,
                     kz_error *err) {
    int rc = 0;
    if (cls_rules && kz_config_node_type(cls_rules) != KZ_CONFIG_NULL) {
        if (kz_config_node_type(cls_rules) != KZ_CONFIG_MAP)
            return cfg_fail(cls_rules, err, "expected a map", NULL);
        for (size_t i = 0; i < kz_config_node_len(cls_rules) && !rc; i++)
            rc = add_rules(s, kz_config_node_at(cls_rules, i), kz_config_node_key_at(cls_rules, i),
                           KZ_STR_NULL, err);
    }
    if (!rc && men_rules && kz_config_node_type(men_rules) != KZ_CONFIG_NULL) {
        if (kz_config_node_type(men_rules) != KZ_CONFIG_MAP)
            return cfg_fail(men_rules, err, "expected a map", NULL);
        for (size_t i = 0; i < kz_config_node_len(men_rules) && !rc; i++) {
            const kz_config_node *byc = kz_config_node_at(men_rules, i);
            if (kz_config_node_type(byc) != KZ_CONFIG_MAP)
                return cfg_fail(byc, err, "expected {mention: {tp, fp}}", NULL);
            for (size_t j = 0; j < kz_config_node_len(byc) && !rc; j++)
                rc = add_rules(s, kz_config_node_at(byc, j), kz_config_node_key_at(men_rules, i),
                               kz_config_node_key_at(byc, j), err);
        }
    }
    return rc;
}

static int rules_init(void **state, const kz_config_node *params, kz_error *err) {
    static const char *const keys[] = {"class_matcher_rules", "mention_matcher_rules", "kazu_mention_fp_bug"};
    *state = NULL;
    int rc = kz_config_check_keys(params, keys, 3, err);
    if (rc) return rc;
    rules_state *s = calloc(1, sizeof *s);
    if (!s) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    kz_config *def = NULL;
    rc = kz_config_get_bool(params, keys[2], false, &s->kazu_bug, err);
    if (!rc)
        rc = kz_config_load_string(&def, k_default_rules, sizeof k_default_rules - 1, "default rules", NULL,
                                   err);
    if (!rc) {
        const kz_config_node *droot = kz_config_root(def);
        const kz_config_node *c = kz_config_get(params, keys[0]), *m = kz_config_get(params, keys[1]);
        rc = parse_all(s, c ? c : kz_config_get(droot, keys[0]), m ? m : kz_config_get(droot, keys[1]), err);
    }
    kz_config_free(def);
    if (rc) {
        rules_free(s);
        return rc;
    }
    *state = s;
    return 0;
}

/* ---- matching ---------------------------------------------------------------------- */

typedef struct ctx {
    const char *text;
    const kz_span *tok;
    const uint64_t *ext; /* per token: classes of entities covering it */
    size_t t0, t1;       /* the sentence's tokens */
    long budget;
} mctx;

static bool lower_eq(kz_str tok, const char *val) {
    size_t i = 0, j = 0, vl = strlen(val);
    while (i < tok.len && j < vl) {
        int32_t a = utf8proc_tolower(kz_utf8_decode(tok.ptr, tok.len, &i));
        int32_t b = kz_utf8_decode(val, vl, &j);
        if (a != b) return false;
    }
    return i == tok.len && j == vl;
}

static bool tok_matches(const mctx *c, const tok_spec *t, size_t ti) {
    uint64_t ext = c->ext[ti];
    if ((ext & t->ext_true) != t->ext_true || (ext & t->ext_false)) return false;
    kz_str tok = {c->text + c->tok[ti].start, (size_t)(c->tok[ti].end - c->tok[ti].start)};
    for (size_t k = 0; k < t->n_tests; k++) {
        const attr_test *a = &t->tests[k];
        bool in = false;
        for (size_t v = 0; v < a->vals.n && !in; v++)
            in = a->attr == A_ORTH ? kz_str_eq_c(tok, a->vals.v[v]) : lower_eq(tok, a->vals.v[v]);
        if (a->kind == V_NOT_IN ? in : !in) return false;
    }
    return true;
}

static bool match_at(mctx *c, const pattern *p, size_t pi, size_t ti, size_t start) {
    if (--c->budget < 0) return false;
    if (pi == p->n) return ti > start; /* a match covers at least one token */
    const tok_spec *t = &p->t[pi];
    bool here = ti < c->t1 && tok_matches(c, t, ti);
    switch (t->op) {
    case '?': return match_at(c, p, pi + 1, ti, start) || (here && match_at(c, p, pi + 1, ti + 1, start));
    case '*': return match_at(c, p, pi + 1, ti, start) || (here && match_at(c, p, pi, ti + 1, start));
    case '+': return here && (match_at(c, p, pi + 1, ti + 1, start) || match_at(c, p, pi, ti + 1, start));
    default: return here && match_at(c, p, pi + 1, ti + 1, start);
    }
}

static bool rule_set_hits(const rule_set *rs, mctx *c) {
    for (size_t i = 0; i < rs->n; i++) {
        c->budget = RULES_MATCH_STEPS;
        for (size_t ti = c->t0; ti < c->t1; ti++)
            if (match_at(c, &rs->p[i], 0, ti, ti)) return true;
    }
    return false;
}

/* ---- per document ------------------------------------------------------------------ */

enum { R_CLS_TP, R_CLS_FP, R_MEN_TP, R_MEN_FP, R_N };

typedef struct rec {
    kz_entity *e;
    uint32_t sec;
    bool configured[R_N], hit[R_N];
} rec;

static int rec_cmp(const void *a, const void *b) {
    const kz_entity *x = ((const rec *)a)->e, *y = ((const rec *)b)->e;
    int c = kz_str_cmp(x->entity_class, y->entity_class);
    if (c) return c;
    c = kz_str_cmp(x->match, y->match);
    if (c) return c;
    return ((const rec *)a)->sec < ((const rec *)b)->sec ? -1 : ((const rec *)a)->sec > ((const rec *)b)->sec;
}

static const rules *find_rules(const rules_state *s, kz_str cls, const kz_str *match) {
    for (size_t i = 0; i < s->n; i++) {
        const rules *r = &s->r[i];
        if (!kz_str_eq_c(cls, r->cls)) continue;
        if (match ? r->match && kz_str_eq_c(*match, r->match) : !r->match) return r;
    }
    return NULL;
}

static size_t tok_lower_bound(const kz_span *t, size_t n, int64_t off) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t[mid].end <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo; /* first token ending after off */
}

typedef struct drop_set {
    kz_entity **v;
    size_t n;
} drop_set;

static int ptr_cmp(const void *a, const void *b) {
    uintptr_t x = (uintptr_t) * (kz_entity *const *)a, y = (uintptr_t) * (kz_entity *const *)b;
    return x < y ? -1 : x > y;
}

static bool keep_ent(const kz_entity *e, void *user) {
    const drop_set *d = user;
    return !bsearch(&e, d->v, d->n, sizeof *d->v, ptr_cmp);
}

static int section_records(const rules_state *s, kz_section *sec, uint32_t si, rec **recs, size_t *n_recs,
                           size_t *cap, kz_error *err) {
    bool any = false; /* most sections hold no entity with rules: skip the tokenizer */
    for (uint32_t i = 0; i < sec->n_entities && !any; i++)
        any = find_rules(s, sec->entities[i]->entity_class, NULL) ||
              find_rules(s, sec->entities[i]->entity_class, &sec->entities[i]->match);
    if (!any) return 0;
    size_t nt = kz_word_tokenize(sec->text.ptr, sec->text.len, NULL, 0);
    if (nt > RULES_MAX_TOKENS)
        return kz_error_set(err, KZ_ELIMIT, "section of %zu tokens exceeds the cap", nt);
    size_t ns = sec->sentence_spans ? 0 : kz_sentences_split(sec->text.ptr, sec->text.len, NULL, 0);
    kz_span *tok = malloc((nt ? nt : 1) * sizeof *tok);
    kz_span *sents = malloc((ns ? ns : 1) * sizeof *sents);
    uint64_t *ext = calloc(nt ? nt : 1, sizeof *ext);
    int rc = 0;
    if (!tok || !sents || !ext) {
        rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
        goto out;
    }
    nt = kz_word_tokenize(sec->text.ptr, sec->text.len, tok, nt);
    ns = sec->sentence_spans ? 0 : kz_sentences_split(sec->text.ptr, sec->text.len, sents, ns);
    /* token._.<class> for every class named in "_" tests (KazuToSpacyObjectMapper,
     * char_span alignment "expand": tokens overlapping the entity's extent) */
    for (uint32_t i = 0; i < sec->n_entities; i++) {
        const kz_entity *e = sec->entities[i];
        for (size_t x = 0; x < s->n_ext; x++) {
            if (!kz_str_eq_c(e->entity_class, s->ext[x])) continue;
            for (size_t k = tok_lower_bound(tok, nt, e->start); k < nt && tok[k].start < e->end; k++)
                ext[k] |= 1ull << x;
        }
    }
    for (uint32_t i = 0; i < sec->n_entities; i++) {
        kz_entity *e = sec->entities[i];
        const rules *cr = find_rules(s, e->entity_class, NULL);
        const rules *mr = find_rules(s, e->entity_class, &e->match);
        if (!cr && !mr) continue;
        size_t k0 = tok_lower_bound(tok, nt, e->start);
        if (k0 >= nt || tok[k0].start >= e->end) continue; /* covers no token: Kazu skips it */
        kz_span sent = kz__post_sentence_of(sec, sents, ns, tok[k0].start);
        mctx c = {sec->text.ptr, tok, ext, tok_lower_bound(tok, nt, sent.start), 0, 0};
        c.t1 = c.t0;
        while (c.t1 < nt && tok[c.t1].start < sent.end) c.t1++;
        if (*n_recs == *cap) {
            size_t ncap = *cap ? 2 * *cap : 16;
            rec *nr = realloc(*recs, ncap * sizeof *nr);
            if (!nr) {
                rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
                goto out;
            }
            *recs = nr;
            *cap = ncap;
        }
        rec *r = &(*recs)[(*n_recs)++];
        memset(r, 0, sizeof *r);
        r->e = e;
        r->sec = si;
        const rule_set *sets[R_N] = {cr ? &cr->tp : NULL, cr ? &cr->fp : NULL, mr ? &mr->tp : NULL,
                                     mr ? &mr->fp : NULL};
        for (int q = 0; q < R_N; q++) {
            r->configured[q] = sets[q] && sets[q]->configured;
            r->hit[q] = r->configured[q] && rule_set_hits(sets[q], &c);
        }
        if (s->kazu_bug)
            r->hit[R_MEN_FP] = r->hit[R_CLS_FP]; /* Kazu: fp mention result taken from the class one */
    }
out:
    free(tok);
    free(sents);
    free(ext);
    return rc;
}

int kz__rules_doc(const rules_state *s, kz_doc *doc, kz_error *err);
int kz__rules_doc(const rules_state *s, kz_doc *doc, kz_error *err) {
    rec *recs = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;
    for (uint32_t si = 0; si < doc->n_sections && !rc; si++)
        rc = section_records(s, doc->sections[si], si, &recs, &n, &cap, err);
    if (rc || !n) {
        free(recs);
        return rc;
    }
    qsort(recs, n, sizeof *recs, rec_cmp);
    size_t n_drop = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        bool conf[R_N] = {0}, hit[R_N] = {0};
        while (j < n && kz_str_eq(recs[j].e->entity_class, recs[i].e->entity_class) &&
               kz_str_eq(recs[j].e->match, recs[i].e->match)) {
            for (int q = 0; q < R_N; q++) {
                conf[q] = recs[j].configured[q]; /* Kazu keeps the last entity's flag; equal within a key */
                hit[q] |= recs[j].hit[q];
            }
            j++;
        }
        bool drop = (conf[R_CLS_FP] && hit[R_CLS_FP]) || (conf[R_CLS_TP] && !hit[R_CLS_TP]) ||
                    (conf[R_MEN_FP] && hit[R_MEN_FP]) || (conf[R_MEN_TP] && !hit[R_MEN_TP]);
        for (size_t k = i; k < j; k++)
            if (drop) recs[n_drop++] = recs[k];
        i = j;
    }
    kz_entity **v = n_drop ? malloc(n_drop * sizeof *v) : NULL;
    if (n_drop && !v) {
        free(recs);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    for (uint32_t si = 0; si < doc->n_sections && n_drop; si++) {
        drop_set d = {v, 0};
        for (size_t k = 0; k < n_drop; k++)
            if (recs[k].sec == si) v[d.n++] = recs[k].e;
        if (!d.n) continue;
        qsort(v, d.n, sizeof *v, ptr_cmp);
        kz_section_filter_entities(doc->sections[si], keep_ent, &d);
    }
    free(v);
    free(recs);
    return 0;
}

static int rules_process(void *state, kz_doc **docs, size_t n, const kz_step_ctx *ctx, kz_error *err) {
    const rules_state *s = state;
    (void)err;
    if (!s->n) return 0;
    for (size_t d = 0; d < n; d++) {
        if (kz_step_cancelled(ctx)) return KZ_ECANCELLED;
        kz_error e;
        kz_error_clear(&e);
        if (kz__rules_doc(s, docs[d], &e)) kz_doc_set_failure(docs[d], ctx->step_name, e.msg);
    }
    return 0;
}

const kz_step_type kz__step_rules_filter = {
    .name = "RulesBasedEntityClassDisambiguationFilterStep",
    .description =
        "drop (match, class) keys whose TP context rules never hit or FP rules hit in the document",
    .init = rules_init,
    .process = rules_process,
    .free = rules_free,
};
