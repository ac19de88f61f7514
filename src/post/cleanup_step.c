/* CleanupStep (Kazu): an ordered list of cleanup actions over each document:
 * mapping filters, entity filters, URI stripping, parser ranking, candidate removal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../core/core_int.h"
#include "kazu/utf8.h"
#include "post_int.h"

#define CLEANUP_MAX_ACTIONS 64

enum act_kind { ACT_MAPPING_FILTER, ACT_ENTITY_FILTER, ACT_STRIP_URIS, ACT_PARSER_RANK, ACT_DROP_CANDIDATES };
enum filt_kind { F_UNMAPPED, F_CLASS_NOT_MATCHED, F_MATCH_IN_SET, F_MIN_LEN };

typedef struct class_list {
    char *cls;
    kz_post_strs items; /* parsers (ranked) or matches (a set) */
} class_list;

typedef struct ent_filter {
    enum filt_kind kind;
    bool any_namespace; /* F_UNMAPPED: from_ent_namespaces null */
    kz_post_strs strs;  /* namespaces or required classes */
    int min_confidence; /* F_UNMAPPED: -1 = None */
    int64_t min_len;    /* F_MIN_LEN */
    class_list *by_cls; /* F_MATCH_IN_SET */
    size_t n_by_cls;
} ent_filter;

typedef struct action {
    enum act_kind kind;
    uint32_t drop_smc; /* bit per string-match confidence to drop */
    uint32_t drop_dc;  /* bit per disambiguation confidence to drop */
    ent_filter *filters;
    size_t n_filters;
    bool all_parsers; /* ACT_STRIP_URIS */
    kz_post_strs parsers;
    class_list *ranks; /* ACT_PARSER_RANK */
    size_t n_ranks;
} action;

typedef struct cleanup_state {
    action *acts;
    size_t n;
} cleanup_state;

static void class_lists_free(class_list *l, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(l[i].cls);
        kz__post_strs_free(&l[i].items);
    }
    free(l);
}

static void cleanup_free(void *p) {
    cleanup_state *s = p;
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) {
        action *a = &s->acts[i];
        for (size_t j = 0; j < a->n_filters; j++) {
            kz__post_strs_free(&a->filters[j].strs);
            class_lists_free(a->filters[j].by_cls, a->filters[j].n_by_cls);
        }
        free(a->filters);
        kz__post_strs_free(&a->parsers);
        class_lists_free(a->ranks, a->n_ranks);
    }
    free(s->acts);
    free(s);
}

static int cfg_fail(const kz_config_node *n, kz_error *err, const char *msg, const char *arg) {
    kz_error_set(err, KZ_ECONFIG, "CleanupStep: %s%s", msg, arg ? arg : "");
    kz_config_locate(n, err);
    return KZ_ECONFIG;
}

/* {class: [str, ...]} */
static int read_class_lists(const kz_config_node *map, class_list **out, size_t *n, kz_error *err) {
    *out = NULL;
    *n = 0;
    if (!map || kz_config_node_type(map) == KZ_CONFIG_NULL) return 0;
    if (kz_config_node_type(map) != KZ_CONFIG_MAP) return cfg_fail(map, err, "expected a map of lists", NULL);
    size_t m = kz_config_node_len(map);
    class_list *l = calloc(m ? m : 1, sizeof *l);
    if (!l) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    for (size_t i = 0; i < m; i++) {
        kz_str k = kz_config_node_key_at(map, i);
        int rc = kz__post_strs_from_node(kz_config_node_at(map, i), &l[i].items, err);
        if (!rc && !(l[i].cls = strndup(k.ptr, k.len))) rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
        if (rc) {
            class_lists_free(l, i + 1);
            return rc;
        }
    }
    *out = l;
    *n = m;
    return 0;
}

static int parse_ranks(const kz_config_node *n, const char *key, int (*parse)(kz_str, int *), uint32_t *bits,
                       kz_error *err) {
    kz_post_strs names;
    int rc = kz__post_strs_get(n, key, NULL, 0, &names, err);
    if (rc) return rc;
    for (size_t i = 0; i < names.n; i++) {
        int v;
        if (parse(kz_str_c(names.v[i]), &v) || v < 0 || v > 31) {
            rc = cfg_fail(kz_config_get(n, key), err, "unknown confidence ", names.v[i]);
            break;
        }
        *bits |= 1u << v;
    }
    kz__post_strs_free(&names);
    return rc;
}

static const char *node_type_name(const kz_config_node *n) {
    if (kz_config_node_type(n) == KZ_CONFIG_SCALAR) return kz_config_node_scalar(n).ptr;
    const kz_config_node *t = kz_config_get(n, "type");
    return kz_config_node_type(t) == KZ_CONFIG_SCALAR ? kz_config_node_scalar(t).ptr : NULL;
}

static int parse_filter(const kz_config_node *n, ent_filter *f, kz_error *err) {
    const char *type = node_type_name(n);
    if (!type) return cfg_fail(n, err, "an entity filter needs a type", NULL);
    int rc = 0;
    if (!strcmp(type, "DropUnmappedEntityFilter")) {
        static const char *const keys[] = {"type", "from_ent_namespaces", "min_confidence_level"};
        if (kz_config_node_type(n) == KZ_CONFIG_MAP && (rc = kz_config_check_keys(n, keys, 3, err)))
            return rc;
        f->kind = F_UNMAPPED;
        const kz_config_node *ns = kz_config_get(n, "from_ent_namespaces");
        f->any_namespace = !ns || kz_config_node_type(ns) == KZ_CONFIG_NULL;
        if ((rc = kz__post_strs_from_node(ns, &f->strs, err))) return rc;
        const kz_config_node *mc = kz_config_get(n, "min_confidence_level");
        if (kz_config_node_type(n) == KZ_CONFIG_MAP && mc && kz_config_node_type(mc) == KZ_CONFIG_NULL)
            f->min_confidence = -1; /* explicit null: drop every unmapped entity */
        else {
            const char *name = "PROBABLE";
            if ((rc = kz_config_get_string(n, "min_confidence_level", "PROBABLE", &name, err))) return rc;
            if (kz_mention_confidence_parse(kz_str_c(name), &f->min_confidence))
                return cfg_fail(mc, err, "unknown mention confidence ", name);
        }
    } else if (!strcmp(type, "DropEntityIfClassNotMatchedFilter")) {
        static const char *const keys[] = {"type", "required_classes"};
        if ((rc = kz_config_check_keys(n, keys, 2, err))) return rc;
        f->kind = F_CLASS_NOT_MATCHED;
        if (!kz_config_get(n, "required_classes"))
            return cfg_fail(n, err, "DropEntityIfClassNotMatchedFilter needs required_classes", NULL);
        if ((rc = kz__post_strs_get(n, "required_classes", NULL, 0, &f->strs, err))) return rc;
    } else if (!strcmp(type, "DropEntityIfMatchInSetFilter")) {
        static const char *const keys[] = {"type", "class_and_matches"};
        if ((rc = kz_config_check_keys(n, keys, 2, err))) return rc;
        f->kind = F_MATCH_IN_SET;
        if ((rc = read_class_lists(kz_config_get(n, "class_and_matches"), &f->by_cls, &f->n_by_cls, err)))
            return rc;
    } else if (!strcmp(type, "DropByMinLenFilter")) {
        static const char *const keys[] = {"type", "min_len"};
        if ((rc = kz_config_check_keys(n, keys, 2, err))) return rc;
        f->kind = F_MIN_LEN;
        if ((rc = kz_config_get_int(n, "min_len", 1, 0, INT32_MAX, &f->min_len, err))) return rc;
    } else {
        return cfg_fail(n, err, "unknown action or entity filter ", type);
    }
    return 0;
}

static action *new_action(cleanup_state *s, const kz_config_node *n, kz_error *err) {
    if (s->n >= CLEANUP_MAX_ACTIONS) {
        cfg_fail(n, err, "too many actions", NULL);
        return NULL;
    }
    action *a = &s->acts[s->n++];
    memset(a, 0, sizeof *a);
    return a;
}

static int add_default(cleanup_state *s, const kz_config_node *n, kz_error *err) {
    action *a = new_action(s, n, err);
    if (!a) return KZ_ECONFIG;
    a->kind = ACT_MAPPING_FILTER;
    a->drop_dc = 1u << KZ_DC_AMBIGUOUS;
    if (!(a = new_action(s, n, err))) return KZ_ECONFIG;
    a->kind = ACT_ENTITY_FILTER;
    if (!(a->filters = calloc(1, sizeof *a->filters))) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    a->n_filters = 1;
    a->filters[0].kind = F_UNMAPPED;
    a->filters[0].any_namespace = true;
    a->filters[0].min_confidence = KZ_MENTION_PROBABLE;
    return 0;
}

static int parse_action(cleanup_state *s, const kz_config_node *n, kz_error *err) {
    const char *type = node_type_name(n);
    if (!type) return cfg_fail(n, err, "an action needs a type", NULL);
    bool is_map = kz_config_node_type(n) == KZ_CONFIG_MAP;
    int rc = 0;
    if (!strcmp(type, "default")) return add_default(s, n, err);
    if (!strcmp(type, "uri_stripping") || !strcmp(type, "StripMappingURIsAction")) {
        static const char *const keys[] = {"type", "parsers_to_strip"};
        if (is_map && (rc = kz_config_check_keys(n, keys, 2, err))) return rc;
        action *a = new_action(s, n, err);
        if (!a) return KZ_ECONFIG;
        a->kind = ACT_STRIP_URIS;
        const kz_config_node *p = kz_config_get(n, "parsers_to_strip");
        a->all_parsers = !p || kz_config_node_type(p) == KZ_CONFIG_NULL;
        return kz__post_strs_from_node(p, &a->parsers, err);
    }
    if (!strcmp(type, "MappingFilterCleanupAction") ||
        !strcmp(type, "DropMappingsByConfidenceMappingFilter")) {
        static const char *const keys[] = {"type", "string_match_ranks_to_drop",
                                           "disambiguation_ranks_to_drop"};
        if (is_map && (rc = kz_config_check_keys(n, keys, 3, err))) return rc;
        action *a = new_action(s, n, err);
        if (!a) return KZ_ECONFIG;
        a->kind = ACT_MAPPING_FILTER;
        if ((rc = parse_ranks(n, keys[1], kz_string_match_confidence_parse, &a->drop_smc, err))) return rc;
        return parse_ranks(n, keys[2], kz_disambiguation_confidence_parse, &a->drop_dc, err);
    }
    if (!strcmp(type, "DropMappingsByParserNameRankAction")) {
        static const char *const keys[] = {"type", "entity_class_to_parser_name_rank"};
        if (is_map && (rc = kz_config_check_keys(n, keys, 2, err))) return rc;
        action *a = new_action(s, n, err);
        if (!a) return KZ_ECONFIG;
        a->kind = ACT_PARSER_RANK;
        return read_class_lists(kz_config_get(n, keys[1]), &a->ranks, &a->n_ranks, err);
    }
    if (!strcmp(type, "LinkingCandidateRemovalCleanupAction")) {
        static const char *const keys[] = {"type"};
        if (is_map && (rc = kz_config_check_keys(n, keys, 1, err))) return rc;
        action *a = new_action(s, n, err);
        if (!a) return KZ_ECONFIG;
        a->kind = ACT_DROP_CANDIDATES;
        return 0;
    }
    /* an entity filter action: EntityFilterCleanupAction {filters: [...]} or a
     * bare filter (one filter per action) */
    const kz_config_node *list = NULL;
    size_t nf = 1;
    if (!strcmp(type, "EntityFilterCleanupAction")) {
        static const char *const keys[] = {"type", "filters"};
        if (is_map && (rc = kz_config_check_keys(n, keys, 2, err))) return rc;
        list = kz_config_get(n, "filters");
        if (kz_config_node_type(list) != KZ_CONFIG_SEQ)
            return cfg_fail(n, err, "EntityFilterCleanupAction needs a list of filters", NULL);
        nf = kz_config_node_len(list);
    }
    action *a = new_action(s, n, err);
    if (!a) return KZ_ECONFIG;
    a->kind = ACT_ENTITY_FILTER;
    if (!(a->filters = calloc(nf ? nf : 1, sizeof *a->filters)))
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    for (size_t i = 0; i < nf; i++) {
        a->n_filters = i + 1;
        if ((rc = parse_filter(list ? kz_config_node_at(list, i) : n, &a->filters[i], err))) return rc;
    }
    return 0;
}

static int cleanup_init(void **state, const kz_config_node *params, kz_error *err) {
    static const char *const keys[] = {"actions"};
    *state = NULL;
    int rc = kz_config_check_keys(params, keys, 1, err);
    if (rc) return rc;
    cleanup_state *s = calloc(1, sizeof *s);
    if (!s || !(s->acts = calloc(CLEANUP_MAX_ACTIONS, sizeof *s->acts))) {
        free(s);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    const kz_config_node *acts = kz_config_get(params, "actions");
    if (!acts || kz_config_node_type(acts) == KZ_CONFIG_NULL)
        rc = add_default(s, params, err);
    else if (kz_config_node_type(acts) != KZ_CONFIG_SEQ)
        rc = cfg_fail(acts, err, "actions must be a list", NULL);
    else
        for (size_t i = 0; i < kz_config_node_len(acts) && !rc; i++)
            rc = parse_action(s, kz_config_node_at(acts, i), err);
    if (rc) {
        cleanup_free(s);
        return rc;
    }
    *state = s;
    return 0;
}

/* ---- processing ---------------------------------------------------------------- */

static const class_list *find_class(const class_list *l, size_t n, kz_str cls) {
    for (size_t i = 0; i < n; i++)
        if (kz_str_eq_c(cls, l[i].cls)) return &l[i];
    return NULL;
}

/* Kazu's filter semantics: true = drop the entity. */
static bool filter_drops(const ent_filter *f, const kz_entity *e) {
    switch (f->kind) {
    case F_UNMAPPED:
        if (!f->any_namespace && !kz__post_strs_has(&f->strs, e->namespace_)) return false;
        if (e->n_mappings) return false;
        return f->min_confidence < 0 || e->mention_confidence < f->min_confidence;
    case F_CLASS_NOT_MATCHED: return !kz__post_strs_has(&f->strs, e->entity_class);
    case F_MATCH_IN_SET: {
        const class_list *c = find_class(f->by_cls, f->n_by_cls, e->entity_class);
        return c && kz__post_strs_has(&c->items, e->match);
    }
    case F_MIN_LEN:
        return (int64_t)kz_utf8_count(e->match.ptr ? e->match.ptr : "", e->match.len) < f->min_len;
    }
    return false;
}

static bool keep_entity(const kz_entity *e, void *user) {
    const action *a = user;
    for (size_t i = 0; i < a->n_filters; i++)
        if (filter_drops(&a->filters[i], e)) return false;
    return true;
}

/* Python's urlparse(idx).path.split("/")[-1] when idx has a scheme; NULL ptr
 * when idx is kept as it is. */
kz_str kz__post_strip_uri(kz_str idx) {
    const char *p = idx.ptr;
    size_t n = idx.len, i = 0;
    if (!p || !n) return KZ_STR_NULL;
    const char *colon = memchr(p, ':', n);
    if (!colon || colon == p) return KZ_STR_NULL;
    if (!((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z'))) return KZ_STR_NULL;
    for (const char *c = p; c < colon; c++) {
        char ch = *c;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                  ch == '+' || ch == '-' || ch == '.';
        if (!ok) return KZ_STR_NULL;
    }
    i = (size_t)(colon - p) + 1;
    /* netloc */
    if (n - i >= 2 && p[i] == '/' && p[i + 1] == '/') {
        i += 2;
        while (i < n && p[i] != '/' && p[i] != '?' && p[i] != '#') i++;
    }
    size_t end = i;
    while (end < n && p[end] != '?' && p[end] != '#') end++;
    size_t seg = end;
    while (seg > i && p[seg - 1] != '/') seg--;
    return (kz_str){p + seg, end - seg};
}

static int apply_action(const action *a, kz_doc *doc, char *why, size_t why_cap) {
    for (uint32_t si = 0; si < doc->n_sections; si++) {
        kz_section *sec = doc->sections[si];
        if (a->kind == ACT_ENTITY_FILTER) {
            kz_section_filter_entities(sec, keep_entity, (void *)a);
            continue;
        }
        for (uint32_t ei = 0; ei < sec->n_entities; ei++) {
            kz_entity *e = sec->entities[ei];
            switch (a->kind) {
            case ACT_MAPPING_FILTER: {
                uint32_t k = 0;
                for (uint32_t m = 0; m < e->n_mappings; m++) {
                    const kz_mapping *mp = &e->mappings[m];
                    bool drop = false;
                    if (mp->string_match_confidence >= 0 && mp->string_match_confidence < 32 &&
                        (a->drop_smc >> mp->string_match_confidence & 1u))
                        drop = true;
                    if (mp->disambiguation_confidence >= 0 && mp->disambiguation_confidence < 32 &&
                        (a->drop_dc >> mp->disambiguation_confidence & 1u))
                        drop = true;
                    if (!drop) e->mappings[k++] = *mp;
                }
                e->n_mappings = k;
                break;
            }
            case ACT_STRIP_URIS:
                for (uint32_t m = 0; m < e->n_mappings; m++) {
                    kz_mapping *mp = &e->mappings[m];
                    if (!a->all_parsers && !kz__post_strs_has(&a->parsers, mp->parser_name)) continue;
                    kz_str s = kz__post_strip_uri(mp->idx);
                    if (!s.ptr) continue;
                    kz_str c = kz_arena_strdup(doc->arena, s.ptr, s.len);
                    if (!c.ptr) return KZ_ENOMEM;
                    mp->idx = c;
                }
                break;
            case ACT_PARSER_RANK: {
                const class_list *r = find_class(a->ranks, a->n_ranks, e->entity_class);
                if (!r || !e->n_mappings) break;
                size_t best = SIZE_MAX;
                for (uint32_t m = 0; m < e->n_mappings; m++) {
                    size_t rank = SIZE_MAX;
                    for (size_t j = 0; j < r->items.n && rank == SIZE_MAX; j++)
                        if (kz_str_eq_c(e->mappings[m].parser_name, r->items.v[j])) rank = j;
                    if (rank == SIZE_MAX) {
                        /* Kazu: list.index raises; the document fails */
                        snprintf(why, why_cap, "a mapping's parser_name '%.*s' has no rank for class '%.*s'",
                                 (int)KZ_MIN(e->mappings[m].parser_name.len, 200),
                                 e->mappings[m].parser_name.ptr ? e->mappings[m].parser_name.ptr : "",
                                 (int)KZ_MIN(e->entity_class.len, 200), e->entity_class.ptr);
                        return KZ_ECONFIG;
                    }
                    if (rank < best) best = rank;
                }
                uint32_t k = 0;
                for (uint32_t m = 0; m < e->n_mappings; m++)
                    if (kz_str_eq_c(e->mappings[m].parser_name, r->items.v[best]))
                        e->mappings[k++] = e->mappings[m];
                e->n_mappings = k;
                break;
            }
            case ACT_DROP_CANDIDATES: e->n_candidates = 0; break;
            case ACT_ENTITY_FILTER: break;
            }
        }
    }
    return 0;
}

static int cleanup_process(void *state, kz_doc **docs, size_t n, const kz_step_ctx *ctx, kz_error *err) {
    const cleanup_state *s = state;
    (void)err;
    for (size_t d = 0; d < n; d++) {
        if (kz_step_cancelled(ctx)) return KZ_ECANCELLED;
        for (size_t i = 0; i < s->n; i++) {
            char why[512] = "out of memory";
            if (apply_action(&s->acts[i], docs[d], why, sizeof why)) {
                kz_doc_set_failure(docs[d], ctx->step_name, why);
                break;
            }
        }
    }
    return 0;
}

const kz_step_type kz__step_cleanup = {
    .name = "CleanupStep",
    .description =
        "drop AMBIGUOUS mappings and unmapped low-confidence entities (and optional cleanup actions)",
    .init = cleanup_init,
    .process = cleanup_process,
    .free = cleanup_free,
};
