/* MemoryEfficientStringMatchingStep: dictionary NER over the pack's automaton,
 * with Kazu's token-boundary, case-sensitivity and per-class grouping rules. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "kazu/normalise.h"
#include "kazu/text.h"
#include "link/dict_int.h"
#include "link/link_int.h"

#define STEP_NAME   "MemoryEfficientStringMatchingStep"
#define MAX_CLASSES 64

typedef struct dict_state {
    kz_kb *kb;
    kz_matcher *m;
    void *own_blob; /* automaton built at init when the pack has none, or copied (huge_pages) */
    uint32_t n_parsers;
    int32_t *parser_class; /* parser -> class index, -1 = filtered out */
    char **classes;        /* class names, NUL-terminated, sorted */
    uint32_t n_classes;
} dict_state;

static void dict_free(void *p) {
    dict_state *s = p;
    if (!s) return;
    kz_matcher_close(s->m);
    free(s->own_blob);
    for (uint32_t i = 0; i < s->n_classes; i++) free(s->classes[i]);
    free(s->classes);
    free(s->parser_class);
    kz_kb_release(s->kb);
    free(s);
}

/* A private copy of the automaton in transparent huge pages (Linux; a hint the
 * kernel may ignore): far fewer TLB misses in the walks, at the cost of the
 * automaton's size in unshared memory. NULL if it cannot be made. */
static void *copy_to_huge_pages(const void *blob, size_t len) {
#ifdef MADV_HUGEPAGE
    const size_t huge = (size_t)2 << 20;
    void *p = NULL;
    if (posix_memalign(&p, huge, (len + huge - 1) & ~(huge - 1))) return NULL;
    madvise(p, (len + huge - 1) & ~(huge - 1), MADV_HUGEPAGE);
    memcpy(p, blob, len);
    kz_log(KZ_LOG_INFO, STEP_NAME ": automaton copied to huge pages (%zu bytes)", len);
    return p;
#else
    (void)blob, (void)len;
    return NULL;
#endif
}

static int cmp_cstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int dict_init(void **out, const kz_config_node *params, kz_error *err) {
    *out = NULL;
    static const char *const keys[] = {"kb", "entity_classes", "huge_pages"};
    int rc;
    bool huge = false;
    if (params && (rc = kz_config_check_keys(params, keys, 3, err))) return rc;
    if ((rc = kz_config_get_bool(params, "huge_pages", false, &huge, err))) return rc;
    const char *filter[MAX_CLASSES];
    size_t n_filter = 0;
    if ((rc = kz_config_get_strings(params, "entity_classes", NULL, 0, filter, MAX_CLASSES, &n_filter, err)))
        return rc;
    dict_state *s = calloc(1, sizeof *s);
    if (!s) return kz_error_set(err, KZ_ENOMEM, STEP_NAME ": out of memory");
    if ((rc = kz_kb_from_step_params(params, STEP_NAME, &s->kb, err))) {
        free(s);
        return rc;
    }
    /* classes: the pack's parsers' classes (kept by the filter), sorted by name as
     * Kazu's sort_then_group orders them */
    s->n_parsers = kz_kb_n_parsers(s->kb);
    s->parser_class = malloc((s->n_parsers + 1) * sizeof *s->parser_class);
    s->classes = calloc(s->n_parsers + 1, sizeof *s->classes);
    if (!s->parser_class || !s->classes) goto oom;
    for (uint32_t p = 0; p < s->n_parsers; p++) {
        kz_kb_parser pi;
        if (kz_kb_parser_at(s->kb, p, &pi)) continue;
        bool keep = n_filter == 0;
        for (size_t f = 0; f < n_filter && !keep; f++) keep = kz_str_eq_c(pi.entity_class, filter[f]);
        if (!keep) continue;
        bool seen = false;
        for (uint32_t c = 0; c < s->n_classes && !seen; c++)
            seen = kz_str_eq_c(pi.entity_class, s->classes[c]);
        if (seen) continue;
        s->classes[s->n_classes] = strndup(pi.entity_class.ptr, pi.entity_class.len);
        if (!s->classes[s->n_classes]) goto oom;
        s->n_classes++;
    }
    qsort(s->classes, s->n_classes, sizeof *s->classes, cmp_cstr);
    for (uint32_t p = 0; p < s->n_parsers; p++) {
        kz_kb_parser pi;
        s->parser_class[p] = -1;
        if (kz_kb_parser_at(s->kb, p, &pi)) continue;
        for (uint32_t c = 0; c < s->n_classes; c++)
            if (kz_str_eq_c(pi.entity_class, s->classes[c])) s->parser_class[p] = (int32_t)c;
    }
    const void *blob;
    size_t len;
    rc = KZ_ENOTFOUND;
    if (kz_kb_section(s->kb, KZ_DICT_SECTION_TAG, &blob, &len) == 0) {
        void *copy = huge ? copy_to_huge_pages(blob, len) : NULL;
        if (copy) s->own_blob = copy, blob = copy;
        rc = kz_matcher_open(blob, len, &s->m, err);
        if (rc == KZ_EFORMAT) { /* a section of another matcher format version: rebuild */
            kz_log(KZ_LOG_WARN, STEP_NAME ": the pack's automaton section is unusable (%s)",
                   err ? err->msg : "");
            kz_error_clear(err);
            free(s->own_blob);
            s->own_blob = NULL;
            rc = KZ_ENOTFOUND;
        }
    }
    if (rc == KZ_ENOTFOUND) {
        uint64_t np = 0;
        kz_log(KZ_LOG_INFO, STEP_NAME ": the pack has no dictionary automaton section; building it now");
        rc = kz__dict_build(s->kb, &s->own_blob, &len, &np, NULL, err);
        if (rc == KZ_ENOTFOUND) {
            /* Kazu raises when no curation is usable; we match nothing instead, loudly */
            kz_log(KZ_LOG_WARN, STEP_NAME ": the pack has no NER string resources; the step finds nothing");
            kz_error_clear(err);
            rc = 0;
        } else if (rc == 0) {
            kz_log(KZ_LOG_INFO, STEP_NAME ": automaton of %llu patterns, %zu bytes", (unsigned long long)np,
                   len);
            void *copy = huge ? copy_to_huge_pages(s->own_blob, len) : NULL;
            if (copy) free(s->own_blob), s->own_blob = copy;
            rc = kz_matcher_open(s->own_blob, len, &s->m, err);
        }
    }
    if (rc) {
        dict_free(s);
        return rc;
    }
    *out = s;
    return 0;
oom:
    dict_free(s);
    return kz_error_set(err, KZ_ENOMEM, STEP_NAME ": out of memory");
}

/* ---- per section ---------------------------------------------------------- */

typedef struct hit {
    size_t start, end;
    uint32_t res;
} hit;

typedef struct scan_ctx {
    const uint8_t *ends; /* token ends (exclusive) byte map */
    hit *hits;
    size_t n, cap;
    bool oom;
} scan_ctx;

static int on_hit(void *user, const kz_match_hit *h) {
    scan_ctx *c = user;
    if (!c->ends[h->end]) return 0; /* Kazu's _word_is_valid (the start is a token start by construction) */
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        hit *p = realloc(c->hits, cap * sizeof *p);
        if (!p) {
            c->oom = true;
            return 1;
        }
        c->hits = p, c->cap = cap;
    }
    c->hits[c->n++] = (hit){h->start, h->end, h->payload};
    return 0;
}

static int cmp_hit(const void *a, const void *b) {
    const hit *x = a, *y = b;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    if (x->start != y->start) return x->start < y->start ? -1 : 1; /* longest first */
    return (x->res > y->res) - (x->res < y->res);
}

typedef struct res_info {
    int32_t cls;
    int conf;
    uint32_t parser;
    uint64_t cand;
} res_info;

static int cmp_res(const void *a, const void *b) {
    const res_info *x = a, *y = b;
    if (x->cls != y->cls) return x->cls < y->cls ? -1 : 1;
    if (x->cand != y->cand) return x->cand < y->cand ? -1 : 1;
    return (x->conf > y->conf) - (x->conf < y->conf);
}

/* One entity per class for the hits hs[0..n) of one span. */
static int emit_span(const dict_state *s, kz_doc *doc, kz_section *sec, const hit *hs, size_t n, res_info *ri,
                     kz_error *err) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        kz_kb_resource r;
        if (kz_kb_resource_at(s->kb, hs[i].res, &r)) continue;
        uint32_t p = kz_kb_candidate_parser(s->kb, r.candidate);
        if (p >= s->n_parsers || s->parser_class[p] < 0) continue;
        ri[m++] = (res_info){s->parser_class[p], r.mention_confidence, p, r.candidate};
    }
    if (!m) return 0;
    qsort(ri, m, sizeof *ri, cmp_res);
    kz_span span = {(int64_t)hs[0].start, (int64_t)hs[0].end};
    for (size_t g = 0; g < m;) {
        size_t e = g;
        int conf = ri[g].conf, conf_min_of_max = ri[g].conf;
        while (e < m && ri[e].cls == ri[g].cls) {
            if (ri[e].conf > conf) conf = ri[e].conf;
            e++;
        }
        /* Kazu logs when the parsers' maxima differ: find each parser's maximum */
        for (size_t i = g; i < e; i++) {
            int pmax = ri[i].conf;
            for (size_t j = g; j < e; j++)
                if (ri[j].parser == ri[i].parser && ri[j].conf > pmax) pmax = ri[j].conf;
            if (pmax < conf_min_of_max) conf_min_of_max = pmax;
        }
        if (conf_min_of_max < conf)
            kz_log(KZ_LOG_DEBUG,
                   STEP_NAME ": confidences conflict between parsers for '%.*s'; taking the maximum",
                   (int)(span.end - span.start), sec->text.ptr + span.start);
        const char *cls = s->classes[ri[g].cls];
        kz_entity_init init = {.spans = &span,
                               .n_spans = 1,
                               .entity_class = {cls, strlen(cls)},
                               .namespace_ = {STEP_NAME, sizeof STEP_NAME - 1},
                               .mention_confidence = conf};
        kz_entity *ent;
        int rc = kz_section_add_entity(doc, sec, &init, &ent, err);
        if (rc) return rc;
        char *norm = NULL;
        size_t norm_len = 0;
        if (kz_normalise(ent->match.ptr, ent->match.len, cls, &norm, &norm_len, NULL) == 0) {
            rc = kz_entity_set_match_norm(doc, ent, (kz_str){norm, norm_len});
            free(norm);
            if (rc) return kz_error_set(err, rc, STEP_NAME ": out of memory");
        }
        kz_metrics met = {.present = KZ_METRIC_EXACT, .exact_match = true};
        for (size_t i = g; i < e; i++) {
            if (i > g && ri[i].cand == ri[i - 1].cand) continue;
            kz_candidate *c = kz_arena_alloc(doc->arena, sizeof *c);
            if (!c) return kz_error_set(err, KZ_ENOMEM, STEP_NAME ": out of memory");
            if ((rc = kz_kb_candidate_at(s->kb, ri[i].cand, doc->arena, c)))
                return kz_error_set(err, rc, STEP_NAME ": candidate %llu unreadable",
                                    (unsigned long long)ri[i].cand);
            if ((rc = kz_entity_add_candidate(doc, ent, c, &met)))
                return kz_error_set(err, rc, STEP_NAME ": out of memory");
        }
        g = e;
    }
    return 0;
}

static int process_section(const dict_state *s, kz_doc *doc, kz_section *sec, kz_error *err) {
    const char *text = sec->text.ptr;
    size_t len = sec->text.len;
    if (!len || !s->m) return 0;
    size_t cap = len / 3 + 16;
    kz_span *toks = malloc(cap * sizeof *toks);
    uint8_t *marks = calloc(len + 1, 1);
    size_t *starts = NULL;
    scan_ctx c = {0};
    res_info *ri = NULL;
    int rc = 0;
    if (!toks || !marks) goto oom;
    size_t nt = kz_word_tokenize(text, len, toks, cap);
    if (nt > cap) {
        kz_span *t = realloc(toks, nt * sizeof *toks);
        if (!t) goto oom;
        toks = t;
        kz_word_tokenize(text, len, toks, nt);
    }
    if (!(starts = malloc((nt + 1) * sizeof *starts))) goto oom;
    for (size_t i = 0; i < nt; i++) starts[i] = (size_t)toks[i].start, marks[toks[i].end] = 1;
    c.ends = marks;
    if (kz_matcher_scan_anchored(s->m, text, len, starts, nt, marks, on_hit, &c) < 0 || c.oom) goto oom;
    /* Kazu's order: automaton.iter reports by end, longest first */
    if (c.n) qsort(c.hits, c.n, sizeof *c.hits, cmp_hit);
    /* hits of one span are consecutive (one folded key per span) */
    size_t max_group = 0;
    for (size_t i = 0, j; i < c.n; i = j) {
        for (j = i; j < c.n && c.hits[j].start == c.hits[i].start && c.hits[j].end == c.hits[i].end;) j++;
        if (j - i > max_group) max_group = j - i;
    }
    if (max_group && !(ri = malloc(max_group * sizeof *ri))) goto oom;
    for (size_t i = 0, j; i < c.n && !rc; i = j) {
        for (j = i; j < c.n && c.hits[j].start == c.hits[i].start && c.hits[j].end == c.hits[i].end;) j++;
        rc = emit_span(s, doc, sec, c.hits + i, j - i, ri, err);
    }
    free(ri), free(c.hits), free(toks), free(marks), free(starts);
    return rc;
oom:
    free(ri), free(c.hits), free(toks), free(marks), free(starts);
    return kz_error_set(err, KZ_ENOMEM, STEP_NAME ": out of memory");
}

static int dict_process(void *state, kz_doc **docs, size_t n, const kz_step_ctx *ctx, kz_error *err) {
    const dict_state *s = state;
    for (size_t d = 0; d < n; d++) {
        if (kz_step_cancelled(ctx)) return kz_error_set(err, KZ_ECANCELLED, STEP_NAME ": cancelled");
        for (uint32_t i = 0; i < docs[d]->n_sections; i++) {
            kz_error e;
            kz_error_clear(&e);
            if (process_section(s, docs[d], docs[d]->sections[i], &e)) {
                kz_doc_set_failure(docs[d], ctx && ctx->step_name ? ctx->step_name : STEP_NAME, e.msg);
                break;
            }
        }
    }
    return 0;
}

const kz_step_type kz__step_string_matching = {
    STEP_NAME, "dictionary NER: every token-aligned hit of the pack's automaton, exact candidates attached",
    dict_init, dict_process, dict_free};
