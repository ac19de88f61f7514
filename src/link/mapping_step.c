/* MappingStep (Kazu): the pipeline step around the strategy runner; reads the
 * pack (`kb:` or $KAZU_KB) and optional overrides of the strategy table. */
#include <stdlib.h>
#include <string.h>
#include "link_int.h"
#include "mapping_int.h"

static const struct {
    const char *short_name, *kazu_name;
} k_ms_alias[KZ__MS_COUNT] = {
    {"ExactMatch", "ExactMatchMappingStrategy"},
    {"SymbolMatch", "SymbolMatchMappingStrategy"},
    {"SynNormIsSubString", "SynNormIsSubStringMappingStrategy"},
    {"StrongMatch", "StrongMatchMappingStrategy"},
    {"StrongMatchWithEmbeddingConfirmation", "StrongMatchWithEmbeddingConfirmationStringMatchingStrategy"},
    {"VariantMatch", "VariantMatchMappingStrategy"},
};
static const struct {
    const char *short_name, *kazu_name;
} k_ds_alias[KZ__DS_COUNT] = {
    {"DefinedElsewhereInDocument", "DefinedElsewhereInDocumentDisambiguationStrategy"},
    {"TfIdf", "TfIdfDisambiguationStrategy"},
    {"GildaTfIdf", "GildaTfIdfDisambiguationStrategy"},
    {"AnnotationLevel", "AnnotationLevelDisambiguationStrategy"},
    {"PreferDefaultLabelMatch", "PreferDefaultLabelMatchDisambiguationStrategy"},
    {"BestSearchScore", "BestSearchScoreDisambiguationStrategy"},
};

static int bad(const kz_config_node *n, kz_error *err, const char *what) {
    int rc = kz_error_set(err, KZ_ECONFIG, "MappingStep: %s", what);
    kz_config_locate(n, err);
    return rc;
}

static int parse_dis(const kz_config_node *n, kz__strategy *s, kz_error *err) {
    static const char *const keys[] = {"type", "confidence", "threshold", "aggregations"};
    if (kz_config_node_type(n) != KZ_CONFIG_MAP)
        return bad(n, err, "a disambiguation strategy must be a map");
    int rc = kz_config_check_keys(n, keys, 4, err);
    const char *type = NULL, *conf = NULL;
    if (!rc) rc = kz_config_get_string(n, "type", NULL, &type, err);
    if (!rc && !type) return bad(n, err, "disambiguation strategy needs `type`");
    int kind = -1;
    for (int i = 0; i < KZ__DS_COUNT && type; i++)
        if (!strcmp(type, k_ds_alias[i].short_name) || !strcmp(type, k_ds_alias[i].kazu_name)) kind = i;
    if (!rc && kind < 0) return bad(kz_config_get(n, "type"), err, "unknown disambiguation strategy type");
    if (!rc && s->n_dis >= KZ__DIS_MAX) return bad(n, err, "too many disambiguation strategies");
    if (rc) return rc;
    kz__dis *d = &s->dis[s->n_dis];
    memset(d, 0, sizeof *d);
    d->kind = kind;
    d->confidence = KZ_DC_HIGHLY_LIKELY;
    rc = kz_config_get_string(n, "confidence", NULL, &conf, err);
    if (!rc && conf && kz_disambiguation_confidence_parse(kz_str_c(conf), &d->confidence))
        return bad(kz_config_get(n, "confidence"), err, "unknown disambiguation confidence");
    if (!rc) rc = kz_config_get_double(n, "threshold", 0.7, 0.0, 1e9, &d->threshold, err);
    const char *aggs[16];
    size_t na = 0;
    static const char *const def_aggs[] = {"UNAMBIGUOUS"};
    if (!rc) rc = kz_config_get_strings(n, "aggregations", def_aggs, 1, aggs, 16, &na, err);
    for (size_t i = 0; i < na && !rc; i++) {
        int v;
        if (kz_aggregation_parse(kz_str_c(aggs[i]), &v) || v < 0 || v >= 32)
            return bad(kz_config_get(n, "aggregations"), err, "unknown aggregation strategy");
        d->agg_mask |= 1u << v;
    }
    if (!rc) s->n_dis++;
    return rc;
}

/* The index of the variant key called name; "default" is made on first use. */
static int find_variant(kz__mapper *m, const char *name) {
    for (uint32_t i = 0; i < m->n_variants; i++)
        if (!strcmp(kz__variant_name(m->variants[i]), name)) return (int)i;
    if (strcmp(name, "default") != 0 || m->n_variants == KZ__VARIANTS_MAX) return -1;
    kz__variant_opts o = kz__variant_default_opts();
    if (!(m->variants[m->n_variants] = kz__variant_new(m->kb, "default", &o))) return -2;
    for (uint32_t i = 0; i < m->n_variants; i++)
        if (kz__variant_share_index(m->variants[m->n_variants], m->variants[i])) break;
    return (int)m->n_variants++;
}

static int parse_strategy(const kz_config_node *n, kz__mapper *m, kz__strategy *out, kz_error *err) {
    static const char *const keys[] = {
        "type",         "confidence",    "disambiguation",   "essential",           "search_threshold",
        "differential", "symbolic_only", "min_syn_norm_len", "embedding_threshold", "key"};
    if (kz_config_node_type(n) != KZ_CONFIG_MAP) return bad(n, err, "a mapping strategy must be a map");
    int rc = kz_config_check_keys(n, keys, sizeof keys / sizeof *keys, err);
    const char *type = NULL, *conf = NULL;
    if (!rc) rc = kz_config_get_string(n, "type", NULL, &type, err);
    if (rc) return rc;
    if (!type) return bad(n, err, "mapping strategy needs `type`");
    int kind = -1;
    for (int i = 0; i < KZ__MS_COUNT; i++)
        if (!strcmp(type, k_ms_alias[i].short_name) || !strcmp(type, k_ms_alias[i].kazu_name)) kind = i;
    if (kind < 0) return bad(kz_config_get(n, "type"), err, "unknown mapping strategy type");
    kz__strategy s = kz__strategy_make(kind, KZ_SMC_HIGHLY_LIKELY);
    rc = kz_config_get_string(n, "confidence", NULL, &conf, err);
    if (!rc && conf && kz_string_match_confidence_parse(kz_str_c(conf), &s.confidence))
        return bad(kz_config_get(n, "confidence"), err, "unknown string match confidence");
    const kz_config_node *dn = kz_config_get(n, "disambiguation");
    if (!rc && kz_config_node_type(dn) == KZ_CONFIG_SCALAR) {
        if (kz__strategy_add_dis_list(&s, kz_config_node_scalar(dn).ptr))
            return bad(dn, err,
                       "unknown disambiguation list (default, gene, cell_line, prefer_default_label, "
                       "defined_elsewhere, none)");
    } else if (!rc && kz_config_node_type(dn) == KZ_CONFIG_SEQ) {
        for (size_t i = 0; i < kz_config_node_len(dn) && !rc; i++)
            rc = parse_dis(kz_config_node_at(dn, i), &s, err);
    } else if (!rc && dn && kz_config_node_type(dn) != KZ_CONFIG_NULL) {
        return bad(dn, err, "`disambiguation` must be a list name or a list of strategies");
    }
    if (!rc) rc = kz_config_get_bool(n, "essential", false, &s.essential, err);
    if (!rc) rc = kz_config_get_double(n, "search_threshold", 80.0, -1e9, 1e9, &s.search_threshold, err);
    if (!rc) rc = kz_config_get_double(n, "differential", 2.0, 0.0, 1e9, &s.differential, err);
    if (!rc) rc = kz_config_get_bool(n, "symbolic_only", false, &s.symbolic_only, err);
    int64_t ml = 3;
    if (!rc) rc = kz_config_get_int(n, "min_syn_norm_len", 3, 0, 1 << 20, &ml, err);
    s.min_len = (uint32_t)ml;
    if (!rc) rc = kz_config_get_double(n, "embedding_threshold", 0.60, -1e9, 1e9, &s.embed_threshold, err);
    const char *key = NULL;
    if (!rc) rc = kz_config_get_string(n, "key", NULL, &key, err);
    if (!rc && key && kind != KZ__MS_VARIANT)
        return bad(kz_config_get(n, "key"), err, "`key` is for VariantMatch");
    if (!rc && kind == KZ__MS_VARIANT) {
        s.variant = find_variant(m, key ? key : "default");
        if (s.variant == -2) return kz_error_set(err, KZ_ENOMEM, "out of memory");
        if (s.variant < 0)
            return bad(key ? kz_config_get(n, "key") : n, err, "unknown variant key (variant_keys)");
    }
    if (!rc && s.essential && s.n_dis == 0)
        return bad(n, err, "disambiguation strategies must be provided, as essential=true");
    if (!rc) *out = s;
    return rc;
}

static int parse_list(const kz_config_node *n, kz__mapper *m, kz__strategy_list *l, kz_error *err) {
    if (kz_config_node_type(n) != KZ_CONFIG_SEQ) return bad(n, err, "a strategy list must be a sequence");
    if (kz_config_node_len(n) > KZ__STRAT_MAX) return bad(n, err, "too many strategies in one list (max 16)");
    l->n = 0;
    for (size_t i = 0; i < kz_config_node_len(n); i++) {
        int rc = parse_strategy(kz_config_node_at(n, i), m, &l->s[l->n], err);
        if (rc) return rc;
        l->n++;
    }
    return 0;
}

static int parse_level(const kz_config_node *n, kz__mapper *m, kz__level *lv, kz_error *err) {
    static const char *const keys[] = {"stop_on_success", "default", "classes"};
    if (kz_config_node_type(n) == KZ_CONFIG_NULL) {
        memset(lv, 0, sizeof *lv); /* explicitly switched off */
        return 0;
    }
    if (kz_config_node_type(n) != KZ_CONFIG_MAP) return bad(n, err, "a confidence level must be a map");
    int rc = kz_config_check_keys(n, keys, 3, err);
    if (rc) return rc;
    memset(lv, 0, sizeof *lv);
    lv->present = true;
    rc = kz_config_get_bool(n, "stop_on_success", true, &lv->stop_on_success, err);
    const kz_config_node *d = kz_config_get(n, "default");
    if (!rc && d) rc = parse_list(d, m, &lv->defaults, err);
    const kz_config_node *c = kz_config_get(n, "classes");
    if (!rc && c) {
        if (kz_config_node_type(c) != KZ_CONFIG_MAP) return bad(c, err, "`classes` must be a map");
        if (kz_config_node_len(c) > KZ__CLASSES_MAX) return bad(c, err, "too many classes (max 32)");
        for (size_t i = 0; i < kz_config_node_len(c) && !rc; i++) {
            kz_str name = kz_config_node_key_at(c, i);
            if (name.len >= KZ__CLASS_NAME_MAX) return bad(c, err, "class name too long");
            kz__strategy_list *l = &lv->classes[lv->n_classes];
            memset(l, 0, sizeof *l);
            memcpy(l->cls, name.ptr, name.len);
            rc = parse_list(kz_config_node_at(c, i), m, l, err);
            if (!rc) lv->n_classes++;
        }
    }
    return rc;
}

static int parse_overrides(const kz_config_node *n, kz__mapper *m, kz_error *err) {
    static const char *const keys[] = {"symbolic", "non_symbolic"};
    static const char *const levels[] = {"HIGHLY_LIKELY", "PROBABLE", "POSSIBLE"};
    if (kz_config_node_type(n) != KZ_CONFIG_MAP) return bad(n, err, "`strategies` must be a map");
    int rc = kz_config_check_keys(n, keys, 2, err);
    for (int sym = 0; sym < 2 && !rc; sym++) {
        const kz_config_node *side = kz_config_get(n, keys[sym]);
        if (!side) continue;
        if (kz_config_node_type(side) != KZ_CONFIG_MAP)
            return bad(side, err, "expected a map of confidence levels");
        rc = kz_config_check_keys(side, levels, 3, err);
        for (int li = 0; li < KZ__LEVELS && !rc; li++) {
            const kz_config_node *lvn = kz_config_get(side, levels[li]);
            if (!lvn) continue;
            rc = parse_level(lvn, m, sym ? &m->non_symbolic[li] : &m->symbolic[li], err);
        }
    }
    return rc;
}

#define VARIANT_WORDS_MAX 1024

/* One entry of `variant_keys` (docs/mapping.md, VariantMatch). */
static int parse_variant_key(const kz_config_node *n, kz_str name, kz__mapper *m, kz_error *err) {
    static const char *const keys[] = {
        "spelling",           "singular",   "roman_numerals", "word_order",         "drop_parenthesised",
        "split_conjunctions", "stop_words", "word_map",       "mention_drop_words", "suffix_alternatives",
        "drop_one_word"};
    if (kz_config_node_type(n) != KZ_CONFIG_MAP && kz_config_node_type(n) != KZ_CONFIG_NULL)
        return bad(n, err, "a variant key must be a map");
    if (name.len == 0 || name.len >= KZ__CLASS_NAME_MAX)
        return bad(n, err, "variant key name empty or too long");
    if (m->n_variants == KZ__VARIANTS_MAX) return bad(n, err, "too many variant keys (max 8)");
    char nm[KZ__CLASS_NAME_MAX];
    memcpy(nm, name.ptr, name.len);
    nm[name.len] = 0;
    for (uint32_t i = 0; i < m->n_variants; i++)
        if (!strcmp(kz__variant_name(m->variants[i]), nm)) return bad(n, err, "variant key defined twice");
    kz__variant_opts o = kz__variant_default_opts();
    int rc = kz_config_node_type(n) == KZ_CONFIG_MAP ? kz_config_check_keys(n, keys, 11, err) : 0;
    if (!rc) rc = kz_config_get_bool(n, "spelling", o.spelling, &o.spelling, err);
    if (!rc) rc = kz_config_get_bool(n, "singular", o.singular, &o.singular, err);
    if (!rc) rc = kz_config_get_bool(n, "roman_numerals", o.roman, &o.roman, err);
    if (!rc) rc = kz_config_get_bool(n, "word_order", o.word_order, &o.word_order, err);
    if (!rc) rc = kz_config_get_bool(n, "drop_parenthesised", false, &o.drop_parenthesised, err);
    if (!rc) rc = kz_config_get_bool(n, "split_conjunctions", false, &o.split_conjunctions, err);
    if (!rc) rc = kz_config_get_bool(n, "drop_one_word", false, &o.drop_one_word, err);
    const char **stop = calloc(VARIANT_WORDS_MAX, sizeof *stop);
    const char **mdrop = calloc(VARIANT_WORDS_MAX, sizeof *mdrop);
    const char **from = calloc(VARIANT_WORDS_MAX, sizeof *from);
    const char **to = calloc(VARIANT_WORDS_MAX, sizeof *to);
    if (!rc && (!stop || !mdrop || !from || !to)) rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
    if (!rc && kz_config_get(n, "stop_words")) {
        rc = kz_config_get_strings(n, "stop_words", NULL, 0, stop, VARIANT_WORDS_MAX, &o.n_stop, err);
        o.stop_words = stop;
    }
    if (!rc) {
        rc = kz_config_get_strings(n, "mention_drop_words", NULL, 0, mdrop, VARIANT_WORDS_MAX,
                                   &o.n_mention_drop, err);
        o.mention_drop = mdrop;
    }
    const kz_config_node *wm = rc ? NULL : kz_config_get(n, "word_map");
    if (wm && kz_config_node_type(wm) != KZ_CONFIG_NULL) {
        if (kz_config_node_type(wm) != KZ_CONFIG_MAP) rc = bad(wm, err, "`word_map` must be a map of words");
        if (!rc && kz_config_node_len(wm) > VARIANT_WORDS_MAX)
            rc = bad(wm, err, "`word_map`: too many words");
        for (size_t i = 0; !rc && i < kz_config_node_len(wm); i++) {
            const kz_config_node *v = kz_config_node_at(wm, i);
            if (kz_config_node_type(v) != KZ_CONFIG_SCALAR && kz_config_node_type(v) != KZ_CONFIG_NULL) {
                rc = bad(v, err, "`word_map` values must be words");
                break;
            }
            from[i] = kz_config_node_key_at(wm, i).ptr;
            to[i] = kz_config_node_type(v) == KZ_CONFIG_SCALAR ? kz_config_node_scalar(v).ptr : "";
        }
        if (!rc) o.map_from = from, o.map_to = to, o.n_map = kz_config_node_len(wm);
    }
    const char **sfrom = calloc(VARIANT_WORDS_MAX, sizeof *sfrom);
    const char **sto = calloc(VARIANT_WORDS_MAX, sizeof *sto);
    if (!rc && (!sfrom || !sto)) rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
    const kz_config_node *sa = rc ? NULL : kz_config_get(n, "suffix_alternatives");
    if (sa && kz_config_node_type(sa) != KZ_CONFIG_NULL) {
        if (kz_config_node_type(sa) != KZ_CONFIG_MAP)
            rc = bad(sa, err, "`suffix_alternatives` must map a suffix to a list of suffixes");
        for (size_t i = 0; !rc && i < kz_config_node_len(sa); i++) {
            const kz_config_node *lst = kz_config_node_at(sa, i);
            kz_str from_s = kz_config_node_key_at(sa, i);
            if (!from_s.len) {
                rc = bad(sa, err, "`suffix_alternatives`: empty suffix");
                break;
            }
            if (kz_config_node_type(lst) != KZ_CONFIG_SEQ) {
                rc = bad(lst, err, "`suffix_alternatives` values must be lists of suffixes");
                break;
            }
            for (size_t j = 0; !rc && j < kz_config_node_len(lst); j++) {
                const kz_config_node *it = kz_config_node_at(lst, j);
                if (kz_config_node_type(it) != KZ_CONFIG_SCALAR) {
                    rc = bad(it, err, "`suffix_alternatives`: a suffix must be a string");
                    break;
                }
                if (o.n_suffix == VARIANT_WORDS_MAX) {
                    rc = bad(sa, err, "`suffix_alternatives`: too many rules");
                    break;
                }
                sfrom[o.n_suffix] = from_s.ptr;
                sto[o.n_suffix++] = kz_config_node_scalar(it).ptr;
            }
        }
        o.suffix_from = sfrom, o.suffix_to = sto;
    }
    if (!rc && !(m->variants[m->n_variants] = kz__variant_new(m->kb, nm, &o)))
        rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
    for (uint32_t i = 0; !rc && i < m->n_variants; i++)
        if (kz__variant_share_index(m->variants[m->n_variants], m->variants[i])) break;
    if (!rc) m->n_variants++;
    free(stop), free(mdrop), free(from), free(to), free(sfrom), free(sto);
    return rc;
}

static int parse_variant_keys(const kz_config_node *n, kz__mapper *m, kz_error *err) {
    if (kz_config_node_type(n) != KZ_CONFIG_MAP) return bad(n, err, "`variant_keys` must be a map of names");
    int rc = 0;
    for (size_t i = 0; i < kz_config_node_len(n) && !rc; i++)
        rc = parse_variant_key(kz_config_node_at(n, i), kz_config_node_key_at(n, i), m, err);
    return rc;
}

static void mapping_free(void *state) { kz__mapper_free(state); }

static int mapping_init(void **state, const kz_config_node *params, kz_error *err) {
    static const char *const keys[] = {"kb", "tfidf_max_synonyms", "strategies", "variant_keys"};
    *state = NULL;
    int rc = kz_config_check_keys(params, keys, 4, err);
    int64_t max_syn = 4000000;
    if (!rc) rc = kz_config_get_int(params, "tfidf_max_synonyms", 4000000, 0, INT64_MAX, &max_syn, err);
    if (rc) return rc;
    kz_kb *kb = NULL;
    rc = kz_kb_from_step_params(params, "MappingStep", &kb, err);
    if (rc) return rc;
    kz__mapper *m = kz__mapper_new(kb);
    if (!m) {
        kz_kb_release(kb);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    m->kb_owned = true;
    m->tfidf_max_synonyms = (uint64_t)max_syn;
    kz__tfidf_model_free(m->tfidf);
    if (!(m->tfidf = kz__tfidf_model_new(kb, m->tfidf_max_synonyms))) {
        kz__mapper_free(m);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    const kz_config_node *vk = kz_config_get(params, "variant_keys");
    if (vk && (rc = parse_variant_keys(vk, m, err))) {
        kz__mapper_free(m);
        return rc;
    }
    const kz_config_node *ov = kz_config_get(params, "strategies");
    if (ov && (rc = parse_overrides(ov, m, err))) {
        kz__mapper_free(m);
        return rc;
    }
    kz_log(KZ_LOG_INFO, "MappingStep: StrongMatchWithEmbeddingConfirmation is off (no embedding scorer); "
                        "GildaTfIdf disambiguation is skipped (no Gilda contexts)");
    *state = m;
    return 0;
}

static int mapping_process(void *state, kz_doc **docs, size_t n, const kz_step_ctx *ctx, kz_error *err) {
    const kz__mapper *m = state;
    for (size_t i = 0; i < n; i++) {
        if (kz_step_cancelled(ctx)) return kz_error_set(err, KZ_ECANCELLED, "cancelled");
        kz_error e;
        kz_error_clear(&e);
        int rc = kz__mapper_run(m, docs[i], &e);
        if (rc) {
            char buf[512];
            if (!e.code) kz_error_set(&e, rc, "%s", kz_strerror(rc));
            kz_doc_set_failure(docs[i], ctx->step_name, kz_error_format(&e, buf, sizeof buf));
        }
    }
    return 0;
}

const kz_step_type kz__step_mapping = {
    "MappingStep", "candidates -> Mappings: Kazu's tiered string-match strategies and disambiguation",
    mapping_init, mapping_process, mapping_free};
