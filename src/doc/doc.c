/* The Kazu data model: documents own an arena from which every section,
 * entity, mapping and string is carved; freeing the doc frees them all. */
#include <stdio.h>
#include <stdlib.h>
#include <jansson.h>
#include "../core/core_int.h"
#include "kazu/doc.h"
#include "kazu/utf8.h"

/* ---- enums ---------------------------------------------------------------- */
static const char *const k_smc[] = {NULL, "HIGHLY_LIKELY", "PROBABLE", "POSSIBLE"};
static const char *const k_dc[] = {NULL, "HIGHLY_LIKELY", "PROBABLE", "POSSIBLE", "AMBIGUOUS"};
static const char *const k_agg[] = {
    "NO_STRATEGY", "RESOLVED_BY_SIMILARITY", "SYNONYM_IS_AMBIGUOUS", "CUSTOM",
    "UNAMBIGUOUS", "MERGED_AS_NON_SYMBOLIC", "MODIFIED_BY_CURATION", "RESOLVED_BY_XREF"};

const char *kz_mention_confidence_name(int v) {
    switch (v) {
    case KZ_MENTION_HIGHLY_LIKELY: return "HIGHLY_LIKELY";
    case KZ_MENTION_PROBABLE: return "PROBABLE";
    case KZ_MENTION_POSSIBLE: return "POSSIBLE";
    case KZ_MENTION_IGNORE: return "IGNORE";
    default: return NULL;
    }
}
const char *kz_string_match_confidence_name(int v) { return v >= 1 && v <= 3 ? k_smc[v] : NULL; }
const char *kz_disambiguation_confidence_name(int v) { return v >= 1 && v <= 4 ? k_dc[v] : NULL; }
const char *kz_aggregation_name(int v) { return v >= 0 && v <= 7 ? k_agg[v] : NULL; }

static int parse_in(kz_str name, const char *const *names, int lo, int hi, int *out) {
    for (int i = lo; i <= hi; i++)
        if (names[i] && kz_str_eq_c(name, names[i])) {
            *out = i;
            return 0;
        }
    return KZ_EPARSE;
}
int kz_mention_confidence_parse(kz_str name, int *out) {
    static const int vals[] = {KZ_MENTION_HIGHLY_LIKELY, KZ_MENTION_PROBABLE, KZ_MENTION_POSSIBLE,
                               KZ_MENTION_IGNORE};
    for (int i = 0; i < 4; i++)
        if (kz_str_eq_c(name, kz_mention_confidence_name(vals[i]))) {
            *out = vals[i];
            return 0;
        }
    return KZ_EPARSE;
}
int kz_string_match_confidence_parse(kz_str name, int *out) { return parse_in(name, k_smc, 1, 3, out); }
int kz_disambiguation_confidence_parse(kz_str name, int *out) { return parse_in(name, k_dc, 1, 4, out); }
int kz_aggregation_parse(kz_str name, int *out) { return parse_in(name, k_agg, 0, 7, out); }

/* ---- arena arrays ----------------------------------------------------------- */
/* Grow an arena array (old storage is left in the arena; arrays are small). */
static void *grow(kz_arena *a, void *old, uint32_t n, uint32_t *cap, size_t elem) {
    if (n < *cap) return old;
    if (*cap > UINT32_MAX / 2) return NULL;
    uint32_t nc = *cap ? *cap * 2 : 4;
    void *p = kz_arena_alloc(a, (size_t)nc * elem);
    if (!p) return NULL;
    if (n) memcpy(p, old, (size_t)n * elem);
    *cap = nc;
    return p;
}

/* ---- documents ---------------------------------------------------------------- */
kz_doc *kz_doc_new(const char *id, size_t id_len) {
    kz_arena *a = kz_arena_new(0);
    if (!a) return NULL;
    kz_doc *d = kz_arena_calloc(a, 1, sizeof *d);
    if (!d) {
        kz_arena_free(a);
        return NULL;
    }
    d->arena = a;
    char hex[33];
    if (!id) {
        kz__random_hex_id(hex);
        id = hex;
        id_len = 32;
    }
    d->idx = kz_arena_strdup(a, id, id_len);
    if (!d->idx.ptr) {
        kz_arena_free(a);
        return NULL;
    }
    return d;
}

void kz_doc_free(kz_doc *doc) {
    if (doc) kz_arena_free(doc->arena);
}

int64_t kz_doc_char_len(const kz_doc *doc) {
    int64_t n = 0;
    for (uint32_t i = 0; i < doc->n_sections; i++)
        n += (int64_t)kz_utf8_count(doc->sections[i]->text.ptr, doc->sections[i]->text.len);
    return n;
}

size_t kz_doc_n_entities(const kz_doc *doc) {
    size_t n = 0;
    for (uint32_t i = 0; i < doc->n_sections; i++) n += doc->sections[i]->n_entities;
    return n;
}

int kz_doc_add_section(kz_doc *doc, const char *name, size_t name_len, const char *text, size_t text_len,
                       kz_section **out, kz_error *err) {
    if (!doc || (!text && text_len) || (!name && name_len))
        return kz_error_set(err, KZ_EINVAL, "bad section arguments");
    size_t bad;
    if (!kz_utf8_valid(text ? text : "", text_len, &bad)) {
        if (err) err->offset = (int64_t)bad;
        return kz_error_set(err, KZ_EUTF8, "section text is not valid UTF-8 at byte %zu", bad);
    }
    if (!kz_utf8_valid(name ? name : "", name_len, &bad))
        return kz_error_set(err, KZ_EUTF8, "section name is not valid UTF-8 at byte %zu", bad);
    kz_section **arr = grow(doc->arena, doc->sections, doc->n_sections, &doc->cap_sections, sizeof *arr);
    kz_section *s = kz_arena_calloc(doc->arena, 1, sizeof *s);
    if (!arr || !s) return kz_error_set(err, KZ_ENOMEM, "out of memory adding section");
    doc->sections = arr;
    s->text = kz_arena_strdup(doc->arena, text ? text : "", text_len);
    s->name = kz_arena_strdup(doc->arena, name ? name : "", name_len);
    if (!s->text.ptr || !s->name.ptr) return kz_error_set(err, KZ_ENOMEM, "out of memory adding section");
    doc->sections[doc->n_sections++] = s;
    if (out) *out = s;
    return 0;
}

static int check_span(const kz_section *sec, kz_span sp, kz_error *err) {
    if (sp.start < 0 || sp.end > (int64_t)sec->text.len || sp.start > sp.end)
        return kz_error_set(err, KZ_ERANGE, "span [%lld,%lld) outside section text of %zu bytes",
                            (long long)sp.start, (long long)sp.end, sec->text.len);
    if (!kz_utf8_is_boundary(sec->text.ptr, sec->text.len, (size_t)sp.start) ||
        !kz_utf8_is_boundary(sec->text.ptr, sec->text.len, (size_t)sp.end))
        return kz_error_set(err, KZ_ERANGE, "span [%lld,%lld) splits a UTF-8 character", (long long)sp.start,
                            (long long)sp.end);
    return 0;
}

int kz_section_set_sentence_spans(kz_doc *doc, kz_section *sec, const kz_span *spans, size_t n,
                                  kz_error *err) {
    if (sec->sentence_spans) return kz_error_set(err, KZ_ESTATE, "sentence spans are already set");
    if (n > UINT32_MAX) return kz_error_set(err, KZ_ELIMIT, "too many sentence spans");
    for (size_t i = 0; i < n; i++) {
        int rc = check_span(sec, spans[i], err);
        if (rc) return rc;
    }
    kz_span *copy = kz_arena_alloc(doc->arena, (n ? n : 1) * sizeof *copy);
    if (!copy) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    if (n) memcpy(copy, spans, n * sizeof *copy);
    sec->sentence_spans = copy;
    sec->n_sentence_spans = (uint32_t)n;
    return 0;
}

static int span_cmp(const void *a, const void *b) {
    const kz_span *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return 0;
}

int kz_section_add_entity(kz_doc *doc, kz_section *sec, const kz_entity_init *in, kz_entity **out,
                          kz_error *err) {
    if (!doc || !sec || !in || !in->spans || in->n_spans == 0)
        return kz_error_set(err, KZ_EINVAL, "an entity needs at least one span");
    if (in->n_spans > 1u << 20) return kz_error_set(err, KZ_ELIMIT, "too many spans");
    if (!in->entity_class.ptr) return kz_error_set(err, KZ_EINVAL, "an entity needs a class");
    for (size_t i = 0; i < in->n_spans; i++) {
        int rc = check_span(sec, in->spans[i], err);
        if (rc) return rc;
        if (in->spans[i].start == in->spans[i].end)
            return kz_error_set(err, KZ_ERANGE, "empty span at byte %lld", (long long)in->spans[i].start);
    }
    kz_arena *a = doc->arena;
    kz_entity *e = kz_arena_calloc(a, 1, sizeof *e);
    kz_span *sp = kz_arena_alloc(a, in->n_spans * sizeof *sp);
    if (!e || !sp) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    memcpy(sp, in->spans, in->n_spans * sizeof *sp);
    qsort(sp, in->n_spans, sizeof *sp, span_cmp);
    uint32_t n = 0;
    for (size_t i = 0; i < in->n_spans; i++)
        if (n == 0 || span_cmp(&sp[n - 1], &sp[i]) != 0) sp[n++] = sp[i];
    e->spans = sp;
    e->n_spans = n;
    e->start = sp[0].start;
    e->end = sp[0].end;
    for (uint32_t i = 1; i < n; i++)
        if (sp[i].end > e->end) e->end = sp[i].end;
    if (in->match.ptr) {
        e->match = kz_arena_strdup(a, in->match.ptr, in->match.len);
    } else {
        /* Kazu's Entity.from_spans joins the pieces in span order. */
        const char *js = in->join_str ? in->join_str : "";
        size_t jl = strlen(js), total = 0;
        for (uint32_t i = 0; i < n; i++) total += (size_t)(sp[i].end - sp[i].start) + (i ? jl : 0);
        char *m = kz_arena_alloc(a, total + 1);
        if (!m) return kz_error_set(err, KZ_ENOMEM, "out of memory");
        size_t k = 0;
        for (uint32_t i = 0; i < n; i++) {
            if (i) {
                memcpy(m + k, js, jl);
                k += jl;
            }
            memcpy(m + k, sec->text.ptr + sp[i].start, (size_t)(sp[i].end - sp[i].start));
            k += (size_t)(sp[i].end - sp[i].start);
        }
        m[k] = 0;
        e->match = (kz_str){m, k};
    }
    e->entity_class = kz_arena_strdup(a, in->entity_class.ptr, in->entity_class.len);
    e->namespace_ = in->namespace_.ptr ? kz_arena_strdup(a, in->namespace_.ptr, in->namespace_.len)
                                       : kz_arena_strdup(a, "", 0);
    e->match_norm =
        in->match_norm.ptr ? kz_arena_strdup(a, in->match_norm.ptr, in->match_norm.len) : KZ_STR_NULL;
    e->mention_confidence = in->mention_confidence;
    if (!e->match.ptr || !e->entity_class.ptr || !e->namespace_.ptr ||
        (in->match_norm.ptr && !e->match_norm.ptr))
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    kz_entity **arr = grow(a, sec->entities, sec->n_entities, &sec->cap_entities, sizeof *arr);
    if (!arr) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    sec->entities = arr;
    sec->entities[sec->n_entities++] = e;
    if (out) *out = e;
    return 0;
}

void kz_section_filter_entities(kz_section *sec, bool (*keep)(const kz_entity *, void *), void *user) {
    uint32_t k = 0;
    for (uint32_t i = 0; i < sec->n_entities; i++)
        if (keep(sec->entities[i], user)) sec->entities[k++] = sec->entities[i];
    sec->n_entities = k;
}

/* ---- metadata ------------------------------------------------------------------ */
static kz_str dup_str(kz_arena *a, kz_str s) {
    return s.ptr ? kz_arena_strdup(a, s.ptr, s.len) : KZ_STR_NULL;
}

/* Remove insignificant whitespace from valid JSON text. */
static kz_str compact_json(kz_arena *a, kz_str in) {
    char *o = kz_arena_alloc(a, in.len + 1);
    if (!o) return KZ_STR_NULL;
    size_t k = 0;
    bool str = false, esc = false;
    for (size_t i = 0; i < in.len; i++) {
        char c = in.ptr[i];
        if (str) {
            if (esc)
                esc = false;
            else if (c == '\\')
                esc = true;
            else if (c == '"')
                str = false;
            o[k++] = c;
        } else if (c == '"') {
            str = true;
            o[k++] = c;
        } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
            o[k++] = c;
        }
    }
    o[k] = 0;
    return (kz_str){o, k};
}

static int meta_put(kz_arena *a, kz_meta *m, kz_str key, kz_str value) {
    for (uint32_t i = 0; i < m->n; i++)
        if (kz_str_eq(m->items[i].key, key)) {
            m->items[i].value = value;
            return 0;
        }
    kz_meta_entry *arr = grow(a, m->items, m->n, &m->cap, sizeof *arr);
    if (!arr) return KZ_ENOMEM;
    m->items = arr;
    kz_str k = kz_arena_strdup(a, key.ptr, key.len);
    if (!k.ptr) return KZ_ENOMEM;
    m->items[m->n].key = k;
    m->items[m->n].value = value;
    m->n++;
    return 0;
}

static int meta_set_json_arena(kz_arena *a, kz_meta *m, kz_str key, kz_str json) {
    if (!key.ptr || !json.ptr) return KZ_EINVAL;
    if (!kz_utf8_valid(key.ptr, key.len, NULL)) return KZ_EUTF8;
    json_error_t je;
    json_t *v = json_loadb(json.ptr, json.len, JSON_DECODE_ANY, &je);
    if (!v) return KZ_EPARSE;
    json_decref(v);
    kz_str c = compact_json(a, json);
    if (!c.ptr) return KZ_ENOMEM;
    return meta_put(a, m, key, c);
}

int kz_meta_set_json(kz_doc *doc, kz_meta *m, kz_str key, kz_str json_value) {
    return meta_set_json_arena(doc->arena, m, key, json_value);
}

int kz_meta_set_string(kz_doc *doc, kz_meta *m, kz_str key, kz_str value) {
    if (!value.ptr || !key.ptr) return KZ_EINVAL;
    if (!kz_utf8_valid(value.ptr, value.len, NULL) || !kz_utf8_valid(key.ptr, key.len, NULL)) return KZ_EUTF8;
    kz_buf b;
    kz__buf_init(&b, 0);
    int rc = kz__buf_putc(&b, '"');
    for (size_t i = 0; !rc && i < value.len; i++) {
        unsigned char c = (unsigned char)value.ptr[i];
        if (c == '"')
            rc = kz__buf_puts(&b, "\\\"");
        else if (c == '\\')
            rc = kz__buf_puts(&b, "\\\\");
        else if (c == '\n')
            rc = kz__buf_puts(&b, "\\n");
        else if (c == '\r')
            rc = kz__buf_puts(&b, "\\r");
        else if (c == '\t')
            rc = kz__buf_puts(&b, "\\t");
        else if (c < 0x20)
            rc = kz__buf_printf(&b, "\\u%04x", c);
        else
            rc = kz__buf_putc(&b, (char)c);
    }
    if (!rc) rc = kz__buf_putc(&b, '"');
    if (!rc) {
        kz_str v = kz_arena_strdup(doc->arena, b.data, b.len);
        rc = v.ptr ? meta_put(doc->arena, m, key, v) : KZ_ENOMEM;
    }
    kz__buf_free(&b);
    return rc;
}

int kz_meta_set_int(kz_doc *doc, kz_meta *m, kz_str key, int64_t value) {
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%lld", (long long)value);
    kz_str v = kz_arena_strdup(doc->arena, tmp, (size_t)n);
    if (!v.ptr || !key.ptr) return v.ptr ? KZ_EINVAL : KZ_ENOMEM;
    return meta_put(doc->arena, m, key, v);
}

kz_str kz_meta_get(const kz_meta *m, const char *key) {
    for (uint32_t i = 0; i < m->n; i++)
        if (kz_str_eq_c(m->items[i].key, key)) return m->items[i].value;
    return KZ_STR_NULL;
}

bool kz_meta_remove(kz_meta *m, const char *key) {
    for (uint32_t i = 0; i < m->n; i++) {
        if (kz_str_eq_c(m->items[i].key, key)) {
            memmove(&m->items[i], &m->items[i + 1], (m->n - i - 1) * sizeof *m->items);
            m->n--;
            return true;
        }
    }
    return false;
}

static int copy_meta(kz_arena *a, kz_meta *dst, const kz_meta *src) {
    memset(dst, 0, sizeof *dst);
    for (uint32_t i = 0; i < src->n; i++) {
        kz_str v = dup_str(a, src->items[i].value);
        if (!v.ptr) return KZ_ENOMEM;
        int rc = meta_put(a, dst, src->items[i].key, v);
        if (rc) return rc;
    }
    return 0;
}

int kz_doc_set_failure(kz_doc *doc, const char *step, const char *message) {
    kz_buf b;
    kz__buf_init(&b, 0);
    kz_str old = kz_meta_get(&doc->metadata, KZ_PROCESSING_EXCEPTION);
    int rc = 0;
    if (old.ptr) {
        /* Decode the previous JSON string so the new message is appended as text. */
        json_t *v = json_loadb(old.ptr, old.len, JSON_DECODE_ANY, NULL);
        if (v && json_is_string(v)) rc = kz__buf_append(&b, json_string_value(v), json_string_length(v));
        json_decref(v);
        if (!rc) rc = kz__buf_putc(&b, '\n');
    }
    if (!rc) rc = kz__buf_printf(&b, "%s: %s", step ? step : "pipeline", message ? message : "failed");
    if (!rc) {
        /* Messages may carry bytes from bad input: keep the metadata valid UTF-8. */
        size_t bad;
        while (!kz_utf8_valid(b.data, b.len, &bad)) b.data[bad] = '?';
        rc = kz_meta_set_string(doc, &doc->metadata, kz_str_c(KZ_PROCESSING_EXCEPTION),
                                (kz_str){b.data, b.len});
    }
    kz__buf_free(&b);
    return rc;
}

bool kz_doc_failed(const kz_doc *doc) {
    return kz_meta_get(&doc->metadata, KZ_PROCESSING_EXCEPTION).ptr != NULL;
}

/* ---- mappings and candidates ---------------------------------------------------- */
int kz_entity_add_mapping(kz_doc *doc, kz_entity *ent, const kz_mapping *m) {
    kz_arena *a = doc->arena;
    kz_mapping *arr = grow(a, ent->mappings, ent->n_mappings, &ent->cap_mappings, sizeof *arr);
    if (!arr) return KZ_ENOMEM;
    ent->mappings = arr;
    kz_mapping *d = &arr[ent->n_mappings];
    memset(d, 0, sizeof *d);
    d->default_label = dup_str(a, m->default_label);
    d->source = dup_str(a, m->source);
    d->parser_name = dup_str(a, m->parser_name);
    d->idx = dup_str(a, m->idx);
    d->string_match_strategy = dup_str(a, m->string_match_strategy);
    d->string_match_confidence = m->string_match_confidence;
    d->disambiguation_confidence = m->disambiguation_confidence;
    d->disambiguation_strategy = dup_str(a, m->disambiguation_strategy);
    d->xref_source_parser_name = dup_str(a, m->xref_source_parser_name);
    if (copy_meta(a, &d->metadata, &m->metadata)) return KZ_ENOMEM;
    if ((m->default_label.ptr && !d->default_label.ptr) || (m->idx.ptr && !d->idx.ptr)) return KZ_ENOMEM;
    ent->n_mappings++;
    return 0;
}

static bool strs_eq(const kz_str *a, uint32_t na, const kz_str *b, uint32_t nb) {
    if (na != nb) return false;
    for (uint32_t i = 0; i < na; i++)
        if (!kz_str_eq(a[i], b[i])) return false;
    return true;
}

/* Kazu's LinkingCandidate equality: every field but aggregated_by (compare=False). */
static bool cand_eq(const kz_candidate *a, const kz_candidate *b) {
    if (a == b) return true;
    if (a->is_symbolic != b->is_symbolic || !kz_str_eq(a->synonym_norm, b->synonym_norm) ||
        !kz_str_eq(a->parser_name, b->parser_name) || a->n_id_sets != b->n_id_sets ||
        !strs_eq(a->raw_synonyms, a->n_raw_synonyms, b->raw_synonyms, b->n_raw_synonyms) ||
        !strs_eq(a->mapping_types, a->n_mapping_types, b->mapping_types, b->n_mapping_types))
        return false;
    for (uint32_t i = 0; i < a->n_id_sets; i++) {
        const kz_equiv_id_set *x = &a->id_sets[i], *y = &b->id_sets[i];
        if (x->n_ids != y->n_ids) return false;
        for (uint32_t j = 0; j < x->n_ids; j++)
            if (!kz_str_eq(x->ids[j].idx, y->ids[j].idx) || !kz_str_eq(x->ids[j].source, y->ids[j].source))
                return false;
    }
    return true;
}

int kz_entity_add_candidate(kz_doc *doc, kz_entity *ent, const kz_candidate *c, const kz_metrics *m) {
    kz_metrics zero = {0};
    if (!m) m = &zero;
    for (uint32_t i = 0; i < ent->n_candidates; i++) {
        if (!cand_eq(ent->candidates[i].candidate, c)) continue;
        kz_metrics *t = &ent->candidates[i].metrics;
        if (m->present & KZ_METRIC_SEARCH) t->search_score = m->search_score;
        if (m->present & KZ_METRIC_EMBED) t->embed_score = m->embed_score;
        if (m->present & KZ_METRIC_BOOL) {
            t->bool_score = m->bool_score;
            t->present = (t->present & ~KZ_METRIC_BOOL_IS_BOOL) | (m->present & KZ_METRIC_BOOL_IS_BOOL);
        }
        if (m->present & KZ_METRIC_EXACT) t->exact_match = m->exact_match;
        t->present |= m->present & (KZ_METRIC_SEARCH | KZ_METRIC_EMBED | KZ_METRIC_BOOL | KZ_METRIC_EXACT);
        return 0;
    }
    kz_candidate_metrics *arr =
        grow(doc->arena, ent->candidates, ent->n_candidates, &ent->cap_candidates, sizeof *arr);
    if (!arr) return KZ_ENOMEM;
    ent->candidates = arr;
    arr[ent->n_candidates].candidate = c;
    arr[ent->n_candidates].metrics = *m;
    ent->n_candidates++;
    return 0;
}

static kz_str *dup_strs(kz_arena *a, const kz_str *s, uint32_t n) {
    kz_str *o = kz_arena_alloc(a, (n ? n : 1) * sizeof *o);
    if (!o) return NULL;
    for (uint32_t i = 0; i < n; i++) {
        o[i] = dup_str(a, s[i]);
        if (s[i].ptr && !o[i].ptr) return NULL;
    }
    return o;
}

const kz_candidate *kz_doc_copy_candidate(kz_doc *doc, const kz_candidate *c) {
    kz_arena *a = doc->arena;
    kz_candidate *d = kz_arena_calloc(a, 1, sizeof *d);
    if (!d) return NULL;
    *d = *c;
    d->raw_synonyms = dup_strs(a, c->raw_synonyms, c->n_raw_synonyms);
    d->mapping_types = dup_strs(a, c->mapping_types, c->n_mapping_types);
    d->synonym_norm = dup_str(a, c->synonym_norm);
    d->parser_name = dup_str(a, c->parser_name);
    kz_equiv_id_set *sets = kz_arena_calloc(a, c->n_id_sets ? c->n_id_sets : 1, sizeof *sets);
    if (!d->raw_synonyms || !d->mapping_types || !sets) return NULL;
    for (uint32_t i = 0; i < c->n_id_sets; i++) {
        kz_id_source *ids = kz_arena_calloc(a, c->id_sets[i].n_ids ? c->id_sets[i].n_ids : 1, sizeof *ids);
        if (!ids) return NULL;
        for (uint32_t j = 0; j < c->id_sets[i].n_ids; j++) {
            ids[j].idx = dup_str(a, c->id_sets[i].ids[j].idx);
            ids[j].source = dup_str(a, c->id_sets[i].ids[j].source);
        }
        sets[i].ids = ids;
        sets[i].n_ids = c->id_sets[i].n_ids;
    }
    d->id_sets = sets;
    return d;
}

int kz_entity_set_match_norm(kz_doc *doc, kz_entity *ent, kz_str norm) {
    kz_str s = dup_str(doc->arena, norm);
    if (norm.ptr && !s.ptr) return KZ_ENOMEM;
    ent->match_norm = s;
    return 0;
}

/* ---- overlap predicates (Kazu semantics) --------------------------------------- */
bool kz_span_completely_overlapped(kz_span a, kz_span by) { return a.start >= by.start && a.end <= by.end; }

bool kz_span_partially_overlaps(kz_span a, kz_span o) {
    return (o.start <= a.start && a.start <= o.end) || (o.start <= a.end && a.end <= o.end);
}

bool kz_entity_completely_overlapped(const kz_entity *a, const kz_entity *by) {
    for (uint32_t i = 0; i < a->n_spans; i++) {
        bool hit = false;
        for (uint32_t j = 0; j < by->n_spans && !hit; j++)
            hit = kz_span_completely_overlapped(a->spans[i], by->spans[j]);
        if (!hit) return false;
    }
    return true;
}

bool kz_entity_partially_overlapped(const kz_entity *a, const kz_entity *o) {
    return a->n_spans == 1 && o->n_spans == 1 && kz_span_partially_overlaps(a->spans[0], o->spans[0]);
}
