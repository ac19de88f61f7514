/* Kazu Document JSON: a writer byte-compatible with Kazu's Document.to_json()
 * (cattrs, omit_if_default, json.dumps defaults) and the strict converter back. */
#include <stdlib.h>
#include "json_int.h"

/* ---- compact JSON in Python's normal form (metadata storage) ------------------ */
int kz__json_put_compact(kz_buf *b, const json_t *v) {
    char num[32];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        TRY(kz__buf_putc(b, '{'));
        bool first = true;
        for (void *it = json_object_iter((json_t *)v); it; it = json_object_iter_next((json_t *)v, it)) {
            if (!first) TRY(kz__buf_putc(b, ','));
            first = false;
            TRY(kz__json_put_string(b, json_object_iter_key(it), json_object_iter_key_len(it), false));
            TRY(kz__buf_putc(b, ':'));
            TRY(kz__json_put_compact(b, json_object_iter_value(it)));
        }
        return kz__buf_putc(b, '}');
    }
    case JSON_ARRAY:
        TRY(kz__buf_putc(b, '['));
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) TRY(kz__buf_putc(b, ','));
            TRY(kz__json_put_compact(b, json_array_get(v, i)));
        }
        return kz__buf_putc(b, ']');
    case JSON_STRING: return kz__json_put_string(b, json_string_value(v), json_string_length(v), false);
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return kz__buf_puts(b, num);
    case JSON_REAL: return kz__json_put_double(b, json_real_value(v));
    case JSON_TRUE: return kz__buf_puts(b, "true");
    case JSON_FALSE: return kz__buf_puts(b, "false");
    default: return kz__buf_puts(b, "null");
    }
}

int kz__json_meta_set(kz_doc *doc, kz_meta *m, const char *key, size_t key_len, const json_t *v,
                      kz_buf *tmp) {
    kz__buf_clear(tmp);
    TRY(kz__json_put_compact(tmp, v));
    return kz_meta_set_json(doc, m, (kz_str){key, key_len}, (kz_str){tmp->data, tmp->len});
}

int kz__json_meta_from_object(kz_doc *doc, kz_meta *m, const json_t *obj, kz_buf *tmp) {
    for (void *it = json_object_iter((json_t *)obj); it; it = json_object_iter_next((json_t *)obj, it))
        TRY(kz__json_meta_set(doc, m, json_object_iter_key(it), json_object_iter_key_len(it),
                              json_object_iter_value(it), tmp));
    return 0;
}

/* ---- writer ------------------------------------------------------------------------ */
typedef struct kj_w {
    kz_buf *b;
    bool ascii, omit_cands;
    kz_arena *tmp;
    kz_error *err;
    uint32_t sec, ent; /* where we are, for error messages */
} kj_w;

static int w_lit(kj_w *w, const char *s) { return kz__buf_puts(w->b, s); }

/* ", " between members, then "key": */
static int w_key(kj_w *w, bool *first, const char *key) {
    if (!*first) TRY(kz__buf_append(w->b, ", ", 2));
    *first = false;
    TRY(kz__buf_putc(w->b, '"'));
    TRY(kz__buf_puts(w->b, key));
    return kz__buf_append(w->b, "\": ", 3);
}

/* A string, or null for Kazu's None (ptr NULL). */
static int w_str(kj_w *w, kz_str s, const char *what) {
    if (!s.ptr) return w_lit(w, "null");
    size_t bad;
    if (!kz_utf8_valid(s.ptr, s.len, &bad))
        return kz_error_set(w->err, KZ_EUTF8, "%s is not valid UTF-8 (byte %zu of it)", what, bad);
    return kz__json_put_string(w->b, s.ptr, s.len, w->ascii);
}

static int w_int(kj_w *w, int64_t v) { return kz__buf_printf(w->b, "%lld", (long long)v); }

static int w_span(kj_w *w, const kz_offset_map *m, kz_span sp) {
    TRY(w_lit(w, "{\"start\": "));
    TRY(w_int(w, kz_offset_map_to_cp(m, sp.start)));
    TRY(w_lit(w, ", \"end\": "));
    TRY(w_int(w, kz_offset_map_to_cp(m, sp.end)));
    return kz__buf_putc(w->b, '}');
}

static int cmp_str(const void *a, const void *b) {
    return kz_str_cmp(*(const kz_str *)a, *(const kz_str *)b);
}

/* Sort and drop duplicates, as a Python frozenset holds them; returns the new count. */
static uint32_t sort_unique(void *base, uint32_t n, size_t size, int (*cmp)(const void *, const void *)) {
    char *p = base;
    uint32_t u = 0;
    qsort(p, n, size, cmp);
    for (uint32_t i = 0; i < n; i++) {
        if (u && cmp(p + (size_t)(u - 1) * size, p + (size_t)i * size) == 0) continue;
        if (u != i) memcpy(p + (size_t)u * size, p + (size_t)i * size, size);
        u++;
    }
    return u;
}

/* A Python frozenset[str]: sorted (Kazu prints hash order). */
static int w_str_set(kj_w *w, const kz_str *items, uint32_t n, const char *what) {
    kz_str *s = kz_arena_alloc(w->tmp, (n ? n : 1) * sizeof *s);
    if (!s) return KZ_ENOMEM;
    if (n) memcpy(s, items, n * sizeof *s);
    n = sort_unique(s, n, sizeof *s, cmp_str);
    TRY(kz__buf_putc(w->b, '['));
    for (uint32_t i = 0; i < n; i++) {
        if (i) TRY(kz__buf_append(w->b, ", ", 2));
        TRY(w_str(w, s[i], what));
    }
    return kz__buf_putc(w->b, ']');
}

static int cmp_pair(const void *a, const void *b) {
    const kz_id_source *x = a, *y = b;
    int c = kz_str_cmp(x->idx, y->idx);
    return c ? c : kz_str_cmp(x->source, y->source);
}

/* Sets are compared as their sorted member lists, as Python compares lists. */
static int cmp_idset(const void *a, const void *b) {
    const kz_equiv_id_set *x = a, *y = b;
    for (uint32_t i = 0; i < x->n_ids && i < y->n_ids; i++) {
        int c = cmp_pair(&x->ids[i], &y->ids[i]);
        if (c) return c;
    }
    return x->n_ids < y->n_ids ? -1 : x->n_ids > y->n_ids;
}

/* associated_id_sets: a frozenset of EquivalentIdSet, each a frozenset of
 * (idx, source) pairs; both levels sorted. */
static int w_id_sets(kj_w *w, const kz_candidate *c) {
    uint32_t n = c->n_id_sets;
    kz_equiv_id_set *sets = kz_arena_alloc(w->tmp, (n ? n : 1) * sizeof *sets);
    if (!sets) return KZ_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k = c->id_sets[i].n_ids;
        kz_id_source *ids = kz_arena_alloc(w->tmp, (k ? k : 1) * sizeof *ids);
        if (!ids) return KZ_ENOMEM;
        if (k) memcpy(ids, c->id_sets[i].ids, k * sizeof *ids);
        sets[i] = (kz_equiv_id_set){ids, sort_unique(ids, k, sizeof *ids, cmp_pair)};
    }
    n = sort_unique(sets, n, sizeof *sets, cmp_idset);
    TRY(kz__buf_putc(w->b, '['));
    for (uint32_t i = 0; i < n; i++) {
        if (i) TRY(kz__buf_append(w->b, ", ", 2));
        /* An empty set is EquivalentIdSet's default: cattrs omits the field. */
        if (!sets[i].n_ids) {
            TRY(w_lit(w, "{}"));
            continue;
        }
        TRY(w_lit(w, "{\"ids_and_source\": ["));
        for (uint32_t j = 0; j < sets[i].n_ids; j++) {
            TRY(w_lit(w, j ? ", [" : "["));
            TRY(w_str(w, sets[i].ids[j].idx, "an id"));
            TRY(kz__buf_append(w->b, ", ", 2));
            TRY(w_str(w, sets[i].ids[j].source, "an id source"));
            TRY(kz__buf_putc(w->b, ']'));
        }
        TRY(w_lit(w, "]}"));
    }
    return kz__buf_putc(w->b, ']');
}

static int w_candidate(kj_w *w, const kz_candidate *c) {
    const char *agg = kz_aggregation_name(c->aggregated_by);
    if (!agg)
        return kz_error_set(w->err, KZ_EINVAL,
                            "sections[%u].entities[%u]: linking candidate has an invalid aggregated_by (%d)",
                            w->sec, w->ent, c->aggregated_by);
    bool first = true;
    TRY(kz__buf_putc(w->b, '{'));
    TRY(w_key(w, &first, "raw_synonyms"));
    TRY(w_str_set(w, c->raw_synonyms, c->n_raw_synonyms, "a raw synonym"));
    TRY(w_key(w, &first, "synonym_norm"));
    TRY(w_str(w, c->synonym_norm, "synonym_norm"));
    TRY(w_key(w, &first, "parser_name"));
    TRY(w_str(w, c->parser_name, "a candidate parser_name"));
    TRY(w_key(w, &first, "is_symbolic"));
    TRY(w_lit(w, c->is_symbolic ? "true" : "false"));
    TRY(w_key(w, &first, "associated_id_sets"));
    TRY(w_id_sets(w, c));
    TRY(w_key(w, &first, "aggregated_by"));
    TRY(kz__buf_printf(w->b, "\"%s\"", agg));
    if (c->n_mapping_types) {
        TRY(w_key(w, &first, "mapping_types"));
        TRY(w_str_set(w, c->mapping_types, c->n_mapping_types, "a mapping type"));
    }
    return kz__buf_putc(w->b, '}');
}

static int w_metrics(kj_w *w, const kz_metrics *m) {
    bool first = true;
    TRY(kz__buf_putc(w->b, '{'));
    if (m->present & KZ_METRIC_SEARCH) {
        TRY(w_key(w, &first, "search_score"));
        TRY(kz__json_put_double(w->b, m->search_score));
    }
    if (m->present & KZ_METRIC_EMBED) {
        TRY(w_key(w, &first, "embed_score"));
        TRY(kz__json_put_double(w->b, m->embed_score));
    }
    if (m->present & KZ_METRIC_BOOL) {
        TRY(w_key(w, &first, "bool_score"));
        if (m->present & KZ_METRIC_BOOL_IS_BOOL)
            TRY(w_lit(w, m->bool_score != 0 ? "true" : "false"));
        else
            TRY(kz__json_put_double(w->b, m->bool_score));
    }
    if (m->present & KZ_METRIC_EXACT) {
        TRY(w_key(w, &first, "exact_match"));
        TRY(w_lit(w, m->exact_match ? "true" : "false"));
    }
    return kz__buf_putc(w->b, '}');
}

static int w_mapping(kj_w *w, const kz_mapping *m) {
    const char *smc = kz_string_match_confidence_name(m->string_match_confidence);
    const char *dc = kz_disambiguation_confidence_name(m->disambiguation_confidence);
    if (!smc || (!dc && m->disambiguation_confidence != KZ_DC_NONE))
        return kz_error_set(w->err, KZ_EINVAL,
                            "sections[%u].entities[%u]: mapping %.*s has an invalid confidence value", w->sec,
                            w->ent, (int)KZ_MIN(m->idx.len, 80), m->idx.ptr ? m->idx.ptr : "");
    bool first = true;
    TRY(kz__buf_putc(w->b, '{'));
    TRY(w_key(w, &first, "default_label"));
    TRY(w_str(w, m->default_label, "default_label"));
    TRY(w_key(w, &first, "source"));
    TRY(w_str(w, m->source, "a mapping source"));
    TRY(w_key(w, &first, "parser_name"));
    TRY(w_str(w, m->parser_name, "a mapping parser_name"));
    TRY(w_key(w, &first, "idx"));
    TRY(w_str(w, m->idx, "a mapping idx"));
    TRY(w_key(w, &first, "string_match_strategy"));
    TRY(w_str(w, m->string_match_strategy, "string_match_strategy"));
    TRY(w_key(w, &first, "string_match_confidence"));
    TRY(kz__buf_printf(w->b, "\"%s\"", smc));
    if (dc) {
        TRY(w_key(w, &first, "disambiguation_confidence"));
        TRY(kz__buf_printf(w->b, "\"%s\"", dc));
    }
    if (m->disambiguation_strategy.ptr) {
        TRY(w_key(w, &first, "disambiguation_strategy"));
        TRY(w_str(w, m->disambiguation_strategy, "disambiguation_strategy"));
    }
    if (m->xref_source_parser_name.ptr) {
        TRY(w_key(w, &first, "xref_source_parser_name"));
        TRY(w_str(w, m->xref_source_parser_name, "xref_source_parser_name"));
    }
    if (m->metadata.n) {
        TRY(w_key(w, &first, "metadata"));
        TRY(kz__json_put_meta(w->b, &m->metadata, w->ascii));
    }
    return kz__buf_putc(w->b, '}');
}

static int w_entity(kj_w *w, const kz_offset_map *map, const kz_entity *e) {
    const char *mc = kz_mention_confidence_name(e->mention_confidence);
    if (!mc)
        return kz_error_set(w->err, KZ_EINVAL, "sections[%u].entities[%u]: invalid mention_confidence %d",
                            w->sec, w->ent, e->mention_confidence);
    bool first = true;
    TRY(kz__buf_putc(w->b, '{'));
    TRY(w_key(w, &first, "match"));
    TRY(w_str(w, e->match, "match"));
    TRY(w_key(w, &first, "entity_class"));
    TRY(w_str(w, e->entity_class, "entity_class"));
    TRY(w_key(w, &first, "spans"));
    TRY(kz__buf_putc(w->b, '['));
    for (uint32_t i = 0; i < e->n_spans; i++) {
        if (i) TRY(kz__buf_append(w->b, ", ", 2));
        TRY(w_span(w, map, e->spans[i]));
    }
    TRY(kz__buf_putc(w->b, ']'));
    TRY(w_key(w, &first, "namespace"));
    TRY(w_str(w, e->namespace_, "namespace"));
    if (e->mention_confidence != KZ_MENTION_HIGHLY_LIKELY) {
        TRY(w_key(w, &first, "mention_confidence"));
        TRY(kz__buf_printf(w->b, "\"%s\"", mc));
    }
    if (e->n_mappings) {
        TRY(w_key(w, &first, "mappings"));
        TRY(kz__buf_putc(w->b, '['));
        for (uint32_t i = 0; i < e->n_mappings; i++) {
            if (i) TRY(kz__buf_append(w->b, ", ", 2));
            TRY(w_mapping(w, &e->mappings[i]));
        }
        TRY(kz__buf_putc(w->b, ']'));
    }
    if (e->metadata.n) {
        TRY(w_key(w, &first, "metadata"));
        TRY(kz__json_put_meta(w->b, &e->metadata, w->ascii));
    }
    TRY(w_key(w, &first, "start"));
    TRY(w_int(w, kz_offset_map_to_cp(map, e->start)));
    TRY(w_key(w, &first, "end"));
    TRY(w_int(w, kz_offset_map_to_cp(map, e->end)));
    if (e->match_norm.ptr) {
        TRY(w_key(w, &first, "match_norm"));
        TRY(w_str(w, e->match_norm, "match_norm"));
    }
    if (e->n_candidates && !w->omit_cands) {
        TRY(w_key(w, &first, "linking_candidates"));
        TRY(kz__buf_putc(w->b, '['));
        for (uint32_t i = 0; i < e->n_candidates; i++) {
            if (i) TRY(kz__buf_append(w->b, ", ", 2));
            TRY(kz__buf_putc(w->b, '['));
            TRY(w_candidate(w, e->candidates[i].candidate));
            TRY(kz__buf_append(w->b, ", ", 2));
            TRY(w_metrics(w, &e->candidates[i].metrics));
            TRY(kz__buf_putc(w->b, ']'));
        }
        TRY(kz__buf_putc(w->b, ']'));
    }
    return kz__buf_putc(w->b, '}');
}

static int w_section(kj_w *w, const kz_section *s) {
    kz_offset_map *map = kz_offset_map_new(w->tmp, s->text.ptr, s->text.len);
    if (!map) return KZ_ENOMEM;
    bool first = true;
    TRY(kz__buf_putc(w->b, '{'));
    TRY(w_key(w, &first, "text"));
    TRY(w_str(w, s->text, "section text"));
    TRY(w_key(w, &first, "name"));
    TRY(w_str(w, s->name, "section name"));
    if (s->metadata.n) {
        TRY(w_key(w, &first, "metadata"));
        TRY(kz__json_put_meta(w->b, &s->metadata, w->ascii));
    }
    if (s->n_entities) {
        TRY(w_key(w, &first, "entities"));
        TRY(kz__buf_putc(w->b, '['));
        for (w->ent = 0; w->ent < s->n_entities; w->ent++) {
            if (w->ent) TRY(kz__buf_append(w->b, ", ", 2));
            TRY(w_entity(w, map, s->entities[w->ent]));
        }
        TRY(kz__buf_putc(w->b, ']'));
    }
    /* None is omitted; a set but empty tuple differs from None and is kept. */
    if (s->sentence_spans) {
        TRY(w_key(w, &first, "sentence_spans"));
        TRY(kz__buf_putc(w->b, '['));
        for (uint32_t i = 0; i < s->n_sentence_spans; i++) {
            if (i) TRY(kz__buf_append(w->b, ", ", 2));
            TRY(w_span(w, map, s->sentence_spans[i]));
        }
        TRY(kz__buf_putc(w->b, ']'));
    }
    return kz__buf_putc(w->b, '}');
}

int kz__kazu_json_put_doc(kz_buf *b, const kz_doc *doc, const kz_writer_params *p, kz_arena *tmp,
                          kz_error *err) {
    kj_w w = {b, p->ascii_only, p->omit_linking_candidates, tmp, err, 0, 0};
    bool first = true;
    int rc = kz__buf_putc(b, '{');
    if (!rc) rc = w_key(&w, &first, "idx");
    if (!rc) rc = w_str(&w, doc->idx, "document idx");
    if (!rc && doc->n_sections) {
        rc = w_key(&w, &first, "sections");
        if (!rc) rc = kz__buf_putc(b, '[');
        for (w.sec = 0; !rc && w.sec < doc->n_sections; w.sec++) {
            if (w.sec) rc = kz__buf_append(b, ", ", 2);
            if (!rc) rc = w_section(&w, doc->sections[w.sec]);
        }
        if (!rc) rc = kz__buf_putc(b, ']');
    }
    if (!rc && doc->metadata.n) {
        rc = w_key(&w, &first, "metadata");
        if (!rc) rc = kz__json_put_meta(b, &doc->metadata, w.ascii);
    }
    if (!rc) rc = kz__buf_putc(b, '}');
    if (rc && err && !err->code) kz_error_set(err, rc, "cannot serialise the document: %s", kz_strerror(rc));
    return rc;
}

static int kj_write(kz_writer *w, const kz_doc *doc, kz_error *err) {
    kz_arena_reset(w->state);
    int rc = kz__kazu_json_put_doc(&w->out, doc, &w->p, w->state, err);
    if (!rc && (rc = kz__buf_putc(&w->out, '\n'))) kz_error_set(err, rc, "out of memory");
    return rc;
}

static void kj_close(kz_writer *w) { kz_arena_free(w->state); }

static const kz_writer_vt k_kazu_json_vt = {NULL, kj_write, NULL, kj_close};

int kz__writer_init_kazu_json(kz_writer *w, kz_error *err) {
    w->state = kz_arena_new(0);
    if (!w->state) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    w->vt = &k_kazu_json_vt;
    return 0;
}

int kz_doc_to_kazu_json(const kz_doc *doc, const kz_writer_params *params, char **out, size_t *out_len) {
    if (!out) return KZ_EINVAL;
    *out = NULL;
    if (out_len) *out_len = 0;
    if (!doc) return KZ_EINVAL;
    kz_writer_params p = params ? *params : kz_writer_default_params();
    kz_arena *tmp = kz_arena_new(0);
    if (!tmp) return KZ_ENOMEM;
    kz_buf b;
    kz__buf_init(&b, 0);
    int rc = kz__kazu_json_put_doc(&b, doc, &p, tmp, NULL);
    kz_arena_free(tmp);
    if (rc) {
        kz__buf_free(&b);
        return rc;
    }
    *out = b.data;
    if (out_len) *out_len = b.len;
    return 0;
}

/* ---- reader: JSON value -> document --------------------------------------------------- */
typedef struct kj_r {
    kz_doc *doc;
    kz_arena *tmp;
    kz_error *err;
    kz_buf scratch;
} kj_r;

enum { KJ_REQ = 1, KJ_NULL_OK = 2 };

static int fail(kj_r *c, int code, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(kj_r *c, int code, const char *where, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return kz_error_set(c->err, code, "%s%s%s", where, *where ? ": " : "", msg);
}

/* Kazu's converter forbids extra keys; name the first unknown one. */
static int check_keys(kj_r *c, const json_t *obj, const char *where, const char *const *allowed) {
    for (void *it = json_object_iter((json_t *)obj); it; it = json_object_iter_next((json_t *)obj, it)) {
        const char *k = json_object_iter_key(it);
        size_t kl = json_object_iter_key_len(it);
        const char *const *a = allowed;
        while (*a && !(strlen(*a) == kl && memcmp(*a, k, kl) == 0)) a++;
        if (!*a) return fail(c, KZ_EPARSE, where, "unknown key \"%.*s\"", (int)KZ_MIN(kl, 80), k);
    }
    return 0;
}

static int need_object(kj_r *c, const json_t *v, const char *where) {
    return json_is_object(v) ? 0
                             : fail(c, KZ_EPARSE, where, "expected an object, got %s", kz__json_type_name(v));
}

/* String member; absent (or null where allowed) gives a NULL view. */
static int get_str(kj_r *c, const json_t *obj, const char *key, const char *where, int flags, kz_str *out) {
    const json_t *v = json_object_get(obj, key);
    *out = KZ_STR_NULL;
    if (!v || (json_is_null(v) && (flags & KJ_NULL_OK))) {
        return v || !(flags & KJ_REQ) ? 0 : fail(c, KZ_EPARSE, where, "missing \"%s\"", key);
    }
    if (!json_is_string(v))
        return fail(c, KZ_EPARSE, where, "\"%s\" must be a string, not %s", key, kz__json_type_name(v));
    *out = (kz_str){json_string_value(v), json_string_length(v)};
    return 0;
}

static int get_int(kj_r *c, const json_t *obj, const char *key, const char *where, int flags, int64_t *out,
                   bool *present) {
    const json_t *v = json_object_get(obj, key);
    *present = v != NULL;
    if (!v) return flags & KJ_REQ ? fail(c, KZ_EPARSE, where, "missing \"%s\"", key) : 0;
    if (!json_is_integer(v))
        return fail(c, KZ_EPARSE, where, "\"%s\" must be an integer, not %s", key, kz__json_type_name(v));
    *out = json_integer_value(v);
    return 0;
}

static int get_array(kj_r *c, const json_t *obj, const char *key, const char *where, int flags,
                     const json_t **out) {
    const json_t *v = json_object_get(obj, key);
    if (json_is_null(v) && (flags & KJ_NULL_OK)) v = NULL;
    *out = v;
    if (!v) return flags & KJ_REQ ? fail(c, KZ_EPARSE, where, "missing \"%s\"", key) : 0;
    return json_is_array(v)
               ? 0
               : fail(c, KZ_EPARSE, where, "\"%s\" must be a list, not %s", key, kz__json_type_name(v));
}

static int get_meta(kj_r *c, const json_t *obj, const char *where, kz_meta *m) {
    const json_t *v = json_object_get(obj, "metadata");
    if (!v) return 0;
    if (!json_is_object(v))
        return fail(c, KZ_EPARSE, where, "\"metadata\" must be an object, not %s", kz__json_type_name(v));
    for (void *it = json_object_iter((json_t *)v); it; it = json_object_iter_next((json_t *)v, it)) {
        const char *k = json_object_iter_key(it);
        size_t kl = json_object_iter_key_len(it);
        int rc = kz__json_meta_set(c->doc, m, k, kl, json_object_iter_value(it), &c->scratch);
        /* Only a \u0000 inside a string makes the stored text unparsable. */
        if (rc)
            return fail(c, rc, where, "metadata[\"%.*s\"] cannot be stored: %s", (int)KZ_MIN(kl, 80), k,
                        rc == KZ_EPARSE ? "\\u0000 in metadata strings is not supported" : kz_strerror(rc));
    }
    return 0;
}

static kz_str kdup(kj_r *c, kz_str s) { return s.ptr ? kz_arena_strdup(c->doc->arena, s.ptr, s.len) : s; }

/* {"start", "end"} in code points -> byte span, checked against the text. */
static int get_span(kj_r *c, const json_t *v, const kz_offset_map *m, const char *where, kz_span *out) {
    static const char *const keys[] = {"start", "end", NULL};
    int64_t s = 0, e = 0;
    bool has;
    TRY(need_object(c, v, where));
    TRY(check_keys(c, v, where, keys));
    TRY(get_int(c, v, "start", where, KJ_REQ, &s, &has));
    TRY(get_int(c, v, "end", where, KJ_REQ, &e, &has));
    int64_t n = kz_offset_map_cp_len(m);
    if (s < 0 || e > n || s > e)
        return fail(c, KZ_ERANGE, where, "span [%lld, %lld) is outside the section text of %lld characters",
                    (long long)s, (long long)e, (long long)n);
    out->start = kz_offset_map_to_byte(m, s);
    out->end = kz_offset_map_to_byte(m, e);
    return 0;
}

static int get_mapping(kj_r *c, kz_entity *ent, const json_t *v, const char *where) {
    static const char *const keys[] = {"default_label",
                                       "source",
                                       "parser_name",
                                       "idx",
                                       "string_match_strategy",
                                       "string_match_confidence",
                                       "disambiguation_confidence",
                                       "disambiguation_strategy",
                                       "xref_source_parser_name",
                                       "metadata",
                                       NULL};
    kz_mapping m = {0};
    kz_str smc, dc;
    TRY(need_object(c, v, where));
    TRY(check_keys(c, v, where, keys));
    TRY(get_str(c, v, "default_label", where, KJ_REQ | KJ_NULL_OK, &m.default_label));
    TRY(get_str(c, v, "source", where, KJ_REQ | KJ_NULL_OK, &m.source));
    TRY(get_str(c, v, "parser_name", where, KJ_REQ | KJ_NULL_OK, &m.parser_name));
    TRY(get_str(c, v, "idx", where, KJ_REQ | KJ_NULL_OK, &m.idx));
    TRY(get_str(c, v, "string_match_strategy", where, KJ_REQ | KJ_NULL_OK, &m.string_match_strategy));
    TRY(get_str(c, v, "string_match_confidence", where, KJ_REQ, &smc));
    TRY(get_str(c, v, "disambiguation_confidence", where, KJ_NULL_OK, &dc));
    TRY(get_str(c, v, "disambiguation_strategy", where, KJ_NULL_OK, &m.disambiguation_strategy));
    TRY(get_str(c, v, "xref_source_parser_name", where, KJ_NULL_OK, &m.xref_source_parser_name));
    if (kz_string_match_confidence_parse(smc, &m.string_match_confidence))
        return fail(c, KZ_EPARSE, where, "unknown string_match_confidence \"%.*s\"", (int)KZ_MIN(smc.len, 60),
                    smc.ptr);
    if (dc.ptr && kz_disambiguation_confidence_parse(dc, &m.disambiguation_confidence))
        return fail(c, KZ_EPARSE, where, "unknown disambiguation_confidence \"%.*s\"",
                    (int)KZ_MIN(dc.len, 60), dc.ptr);
    if (kz_entity_add_mapping(c->doc, ent, &m)) return fail(c, KZ_ENOMEM, where, "out of memory");
    /* Metadata goes straight into the stored copy (no second copy). */
    return get_meta(c, v, where, &ent->mappings[ent->n_mappings - 1].metadata);
}

/* Sets are kept sorted and unique, so equal Kazu candidates compare equal here. */
static int get_str_list(kj_r *c, const json_t *arr, const char *where, const char *what, const kz_str **out,
                        uint32_t *n) {
    size_t k = json_array_size(arr);
    kz_str *s = kz_arena_alloc(c->doc->arena, (k ? k : 1) * sizeof *s);
    if (!s) return fail(c, KZ_ENOMEM, where, "out of memory");
    for (size_t i = 0; i < k; i++) {
        const json_t *v = json_array_get(arr, i);
        if (!json_is_string(v))
            return fail(c, KZ_EPARSE, where, "%s[%zu] must be a string, not %s", what, i,
                        kz__json_type_name(v));
        s[i] = kdup(c, (kz_str){json_string_value(v), json_string_length(v)});
        if (!s[i].ptr) return fail(c, KZ_ENOMEM, where, "out of memory");
    }
    *out = s;
    *n = sort_unique(s, (uint32_t)k, sizeof *s, cmp_str);
    return 0;
}

static int get_id_sets(kj_r *c, kz_candidate *cand, const json_t *arr, const char *where) {
    static const char *const keys[] = {"ids_and_source", NULL};
    size_t n = json_array_size(arr);
    kz_equiv_id_set *sets = kz_arena_calloc(c->doc->arena, n ? n : 1, sizeof *sets);
    if (!sets) return fail(c, KZ_ENOMEM, where, "out of memory");
    for (size_t i = 0; i < n; i++) {
        char w[256];
        snprintf(w, sizeof w, "%.200s.associated_id_sets[%zu]", where, i);
        const json_t *set = json_array_get(arr, i), *pairs;
        TRY(need_object(c, set, w));
        TRY(check_keys(c, set, w, keys));
        TRY(get_array(c, set, "ids_and_source", w, 0, &pairs));
        size_t k = json_array_size(pairs);
        kz_id_source *ids = kz_arena_calloc(c->doc->arena, k ? k : 1, sizeof *ids);
        if (!ids) return fail(c, KZ_ENOMEM, w, "out of memory");
        for (size_t j = 0; j < k; j++) {
            const json_t *p = json_array_get(pairs, j);
            const json_t *a = json_array_get(p, 0), *b = json_array_get(p, 1);
            if (json_array_size(p) != 2 || !json_is_string(a) || !json_is_string(b))
                return fail(c, KZ_EPARSE, w, "ids_and_source[%zu] must be an [idx, source] pair of strings",
                            j);
            ids[j].idx = kdup(c, (kz_str){json_string_value(a), json_string_length(a)});
            ids[j].source = kdup(c, (kz_str){json_string_value(b), json_string_length(b)});
            if (!ids[j].idx.ptr || !ids[j].source.ptr) return fail(c, KZ_ENOMEM, w, "out of memory");
        }
        sets[i] = (kz_equiv_id_set){ids, sort_unique(ids, (uint32_t)k, sizeof *ids, cmp_pair)};
    }
    cand->id_sets = sets;
    cand->n_id_sets = sort_unique(sets, (uint32_t)n, sizeof *sets, cmp_idset);
    return 0;
}

static int get_candidate(kj_r *c, const json_t *v, const char *where, const kz_candidate **out) {
    static const char *const keys[] = {"raw_synonyms",       "synonym_norm",  "parser_name",   "is_symbolic",
                                       "associated_id_sets", "aggregated_by", "mapping_types", NULL};
    kz_candidate *cand = kz_arena_calloc(c->doc->arena, 1, sizeof *cand);
    if (!cand) return fail(c, KZ_ENOMEM, where, "out of memory");
    const json_t *raw, *sets, *types, *sym = json_object_get(v, "is_symbolic");
    kz_str norm, parser, agg;
    TRY(need_object(c, v, where));
    TRY(check_keys(c, v, where, keys));
    TRY(get_array(c, v, "raw_synonyms", where, KJ_REQ, &raw));
    TRY(get_str(c, v, "synonym_norm", where, KJ_REQ, &norm));
    TRY(get_str(c, v, "parser_name", where, KJ_REQ, &parser));
    if (!json_is_boolean(sym))
        return fail(c, KZ_EPARSE, where,
                    sym ? "\"is_symbolic\" must be a boolean" : "missing \"is_symbolic\"");
    TRY(get_array(c, v, "associated_id_sets", where, KJ_REQ, &sets));
    TRY(get_str(c, v, "aggregated_by", where, KJ_REQ, &agg));
    TRY(get_array(c, v, "mapping_types", where, 0, &types));
    if (kz_aggregation_parse(agg, &cand->aggregated_by))
        return fail(c, KZ_EPARSE, where, "unknown aggregated_by \"%.*s\"", (int)KZ_MIN(agg.len, 60), agg.ptr);
    TRY(get_str_list(c, raw, where, "raw_synonyms", &cand->raw_synonyms, &cand->n_raw_synonyms));
    if (types)
        TRY(get_str_list(c, types, where, "mapping_types", &cand->mapping_types, &cand->n_mapping_types));
    cand->synonym_norm = kdup(c, norm);
    cand->parser_name = kdup(c, parser);
    cand->is_symbolic = json_is_true(sym);
    if (!cand->synonym_norm.ptr || !cand->parser_name.ptr) return fail(c, KZ_ENOMEM, where, "out of memory");
    TRY(get_id_sets(c, cand, sets, where));
    *out = cand;
    return 0;
}

static int get_score(kj_r *c, const json_t *v, const char *key, const char *where, unsigned bit, double *out,
                     kz_metrics *m) {
    const json_t *s = json_object_get(v, key);
    if (!s || json_is_null(s)) return 0;
    if (json_is_boolean(s) && bit == KZ_METRIC_BOOL) {
        *out = json_is_true(s) ? 1.0 : 0.0;
        m->present |= KZ_METRIC_BOOL_IS_BOOL;
    } else if (json_is_number(s)) {
        *out = json_number_value(s);
    } else {
        return fail(c, KZ_EPARSE, where, "\"%s\" must be a number, not %s", key, kz__json_type_name(s));
    }
    m->present |= bit;
    return 0;
}

static int get_metrics(kj_r *c, const json_t *v, const char *where, kz_metrics *m) {
    static const char *const keys[] = {"search_score", "embed_score", "bool_score", "exact_match", NULL};
    memset(m, 0, sizeof *m);
    TRY(need_object(c, v, where));
    TRY(check_keys(c, v, where, keys));
    TRY(get_score(c, v, "search_score", where, KZ_METRIC_SEARCH, &m->search_score, m));
    TRY(get_score(c, v, "embed_score", where, KZ_METRIC_EMBED, &m->embed_score, m));
    TRY(get_score(c, v, "bool_score", where, KZ_METRIC_BOOL, &m->bool_score, m));
    const json_t *x = json_object_get(v, "exact_match");
    if (x && !json_is_null(x)) {
        if (!json_is_boolean(x))
            return fail(c, KZ_EPARSE, where, "\"exact_match\" must be a boolean, not %s",
                        kz__json_type_name(x));
        m->exact_match = json_is_true(x);
        m->present |= KZ_METRIC_EXACT;
    }
    return 0;
}

static int get_entity(kj_r *c, kz_section *sec, const kz_offset_map *map, const json_t *v,
                      const char *where) {
    static const char *const keys[] = {
        "match",    "entity_class", "spans", "namespace",  "mention_confidence", "_id", "mappings",
        "metadata", "start",        "end",   "match_norm", "linking_candidates", NULL};
    const json_t *spans, *maps, *cands, *id = json_object_get(v, "_id");
    kz_entity_init in = {0};
    kz_str mc;
    TRY(need_object(c, v, where));
    TRY(check_keys(c, v, where, keys));
    TRY(get_str(c, v, "match", where, KJ_REQ, &in.match));
    TRY(get_str(c, v, "entity_class", where, KJ_REQ, &in.entity_class));
    TRY(get_array(c, v, "spans", where, KJ_REQ, &spans));
    TRY(get_str(c, v, "namespace", where, KJ_REQ, &in.namespace_));
    TRY(get_str(c, v, "mention_confidence", where, 0, &mc));
    TRY(get_str(c, v, "match_norm", where, KJ_NULL_OK, &in.match_norm));
    TRY(get_array(c, v, "mappings", where, 0, &maps));
    TRY(get_array(c, v, "linking_candidates", where, 0, &cands));
    if (id && !json_is_string(id))
        return fail(c, KZ_EPARSE, where, "\"_id\" must be a string, not %s", kz__json_type_name(id));
    in.mention_confidence = KZ_MENTION_HIGHLY_LIKELY;
    if (mc.ptr && kz_mention_confidence_parse(mc, &in.mention_confidence))
        return fail(c, KZ_EPARSE, where, "unknown mention_confidence \"%.*s\"", (int)KZ_MIN(mc.len, 60),
                    mc.ptr);
    size_t n = json_array_size(spans);
    if (n == 0) return fail(c, KZ_EPARSE, where, "an entity needs at least one span");
    if (n > (1u << 20)) return fail(c, KZ_ELIMIT, where, "too many spans (%zu)", n);
    kz_span *sp = kz_arena_alloc(c->tmp, n * sizeof *sp);
    if (!sp) return fail(c, KZ_ENOMEM, where, "out of memory");
    int64_t lo = INT64_MAX, hi = 0;
    for (size_t i = 0; i < n; i++) {
        char w[256];
        snprintf(w, sizeof w, "%.200s.spans[%zu]", where, i);
        TRY(get_span(c, json_array_get(spans, i), map, w, &sp[i]));
        if (sp[i].start == sp[i].end) return fail(c, KZ_ERANGE, w, "empty span");
        lo = KZ_MIN(lo, sp[i].start);
        hi = KZ_MAX(hi, sp[i].end);
    }
    /* start/end are derived from the spans; a disagreement means broken offsets. */
    int64_t s, e;
    bool has_s, has_e;
    TRY(get_int(c, v, "start", where, 0, &s, &has_s));
    TRY(get_int(c, v, "end", where, 0, &e, &has_e));
    if ((has_s && s != kz_offset_map_to_cp(map, lo)) || (has_e && e != kz_offset_map_to_cp(map, hi)))
        return fail(c, KZ_ERANGE, where, "\"start\"/\"end\" disagree with the spans (%lld..%lld)",
                    (long long)kz_offset_map_to_cp(map, lo), (long long)kz_offset_map_to_cp(map, hi));
    in.spans = sp;
    in.n_spans = n;
    kz_entity *ent;
    int rc = kz_section_add_entity(c->doc, sec, &in, &ent, c->err);
    if (rc) return fail(c, rc, where, "%s", c->err ? c->err->msg : kz_strerror(rc));
    TRY(get_meta(c, v, where, &ent->metadata));
    for (size_t i = 0; i < json_array_size(maps); i++) {
        char w[256];
        snprintf(w, sizeof w, "%.200s.mappings[%zu]", where, i);
        TRY(get_mapping(c, ent, json_array_get(maps, i), w));
    }
    for (size_t i = 0; i < json_array_size(cands); i++) {
        char w[256];
        snprintf(w, sizeof w, "%.200s.linking_candidates[%zu]", where, i);
        const json_t *pair = json_array_get(cands, i);
        if (json_array_size(pair) != 2) return fail(c, KZ_EPARSE, w, "expected a [candidate, metrics] pair");
        const kz_candidate *cand = NULL;
        kz_metrics m;
        TRY(get_candidate(c, json_array_get(pair, 0), w, &cand));
        TRY(get_metrics(c, json_array_get(pair, 1), w, &m));
        if (kz_entity_add_candidate(c->doc, ent, cand, &m)) return fail(c, KZ_ENOMEM, w, "out of memory");
    }
    return 0;
}

static int get_section(kj_r *c, const json_t *v, const char *where) {
    static const char *const keys[] = {"text", "name", "metadata", "entities", "sentence_spans", NULL};
    kz_str text, name;
    const json_t *ents, *sents;
    TRY(need_object(c, v, where));
    TRY(check_keys(c, v, where, keys));
    TRY(get_str(c, v, "text", where, KJ_REQ, &text));
    TRY(get_str(c, v, "name", where, KJ_REQ, &name));
    TRY(get_array(c, v, "entities", where, 0, &ents));
    TRY(get_array(c, v, "sentence_spans", where, KJ_NULL_OK, &sents));
    kz_section *sec;
    int rc = kz_doc_add_section(c->doc, name.ptr, name.len, text.ptr, text.len, &sec, c->err);
    if (rc) return fail(c, rc, where, "%s", c->err ? c->err->msg : kz_strerror(rc));
    kz_offset_map *map = kz_offset_map_new(c->tmp, sec->text.ptr, sec->text.len);
    if (!map) return fail(c, KZ_ENOMEM, where, "out of memory");
    TRY(get_meta(c, v, where, &sec->metadata));
    for (size_t i = 0; i < json_array_size(ents); i++) {
        char w[256];
        snprintf(w, sizeof w, "%.200s.entities[%zu]", where, i);
        TRY(get_entity(c, sec, map, json_array_get(ents, i), w));
    }
    /* Kazu reads an empty list as "not set". */
    size_t n = json_array_size(sents);
    if (n) {
        kz_span *sp = kz_arena_alloc(c->tmp, n * sizeof *sp);
        if (!sp) return fail(c, KZ_ENOMEM, where, "out of memory");
        for (size_t i = 0; i < n; i++) {
            char w[256];
            snprintf(w, sizeof w, "%.200s.sentence_spans[%zu]", where, i);
            TRY(get_span(c, json_array_get(sents, i), map, w, &sp[i]));
        }
        if ((rc = kz_section_set_sentence_spans(c->doc, sec, sp, n, c->err)))
            return fail(c, rc, where, "%s", c->err ? c->err->msg : kz_strerror(rc));
    }
    return 0;
}

static int get_doc(kj_r *c, const json_t *v) {
    static const char *const keys[] = {"idx", "sections", "metadata", NULL};
    const char *where = ""; /* the error's doc id names the document */
    kz_str idx;
    const json_t *secs;
    TRY(need_object(c, v, where));
    TRY(get_str(c, v, "idx", where, KJ_NULL_OK, &idx));
    if (idx.ptr && c->err)
        snprintf(c->err->doc_id, sizeof c->err->doc_id, "%.*s", (int)KZ_MIN(idx.len, 120), idx.ptr);
    TRY(check_keys(c, v, where, keys));
    TRY(get_array(c, v, "sections", where, 0, &secs));
    c->doc = kz_doc_new(idx.ptr, idx.len);
    if (!c->doc) return fail(c, KZ_ENOMEM, where, "out of memory");
    TRY(get_meta(c, v, where, &c->doc->metadata));
    for (size_t i = 0; i < json_array_size(secs); i++) {
        char w[256];
        snprintf(w, sizeof w, "sections[%zu]", i);
        TRY(get_section(c, json_array_get(secs, i), w));
    }
    return 0;
}

int kz__kazu_json_to_doc(const json_t *v, kz_arena *tmp, kz_doc **out, kz_error *err) {
    kj_r c = {NULL, tmp, err, {0}};
    kz__buf_init(&c.scratch, 0);
    *out = NULL;
    int rc = get_doc(&c, v);
    kz__buf_free(&c.scratch);
    if (rc) {
        kz_doc_free(c.doc);
        return rc;
    }
    *out = c.doc;
    return 0;
}

int kz_doc_from_kazu_json(const char *json, size_t len, kz_doc **out, kz_error *err) {
    kz_error_clear(err);
    if (!out) return kz_error_set(err, KZ_EINVAL, "no output pointer");
    *out = NULL;
    if (!json && len) return kz_error_set(err, KZ_EINVAL, "no input");
    json_error_t je;
    json_t *v = json_loadb(json ? json : "", len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
    if (!v) {
        kz__json_locate_parse_error(err, &je, json, len, 1, 0);
        return kz_error_set(err, kz__json_parse_code(&je), "malformed JSON: %s", je.text);
    }
    kz_arena *tmp = kz_arena_new(0);
    int rc = tmp ? kz__kazu_json_to_doc(v, tmp, out, err) : kz_error_set(err, KZ_ENOMEM, "out of memory");
    kz_arena_free(tmp);
    json_decref(v);
    return rc;
}
