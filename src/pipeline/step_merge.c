/* MergeOverlappingEntsStep (Kazu): per section, keep one entity per location
 * of transitively overlapping contiguous entities, by Kazu's preference key. */
#include <stdlib.h>
#include <string.h>
#include "kazu/utf8.h"
#include "pipeline_int.h"

#define MERGE_MAX_CLASSES 256

typedef struct merge_state {
    char **classes; /* ent_class_preferred_order, first = most preferred */
    size_t n_classes;
    bool ignore_non_contiguous;
} merge_state;

static const char *const k_default_order[] = {"disease",
                                              "drug",
                                              "gene",
                                              "anatomy",
                                              "cell_line",
                                              "cell_type",
                                              "biological_process",
                                              "molecular_function",
                                              "cellular_component"};

static void merge_free(void *state) {
    merge_state *m = state;
    if (!m) return;
    for (size_t i = 0; i < m->n_classes; i++) free(m->classes[i]);
    free(m->classes);
    free(m);
}

static int merge_init(void **state, const kz_config_node *params, kz_error *err) {
    static const char *const keys[] = {"ent_class_preferred_order", "ignore_non_contiguous"};
    *state = NULL;
    int rc = kz_config_check_keys(params, keys, 2, err);
    const char *order[MERGE_MAX_CLASSES];
    size_t n = 0;
    bool ignore = true;
    if (!rc)
        rc = kz_config_get_strings(params, keys[0], k_default_order,
                                   sizeof k_default_order / sizeof *k_default_order, order, MERGE_MAX_CLASSES,
                                   &n, err);
    if (!rc) rc = kz_config_get_bool(params, keys[1], true, &ignore, err);
    if (rc) return rc;
    merge_state *m = calloc(1, sizeof *m);
    if (!m || !(m->classes = calloc(n ? n : 1, sizeof *m->classes))) {
        free(m);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    m->ignore_non_contiguous = ignore;
    for (; m->n_classes < n; m->n_classes++)
        if (!(m->classes[m->n_classes] = strdup(order[m->n_classes]))) {
            merge_free(m);
            return kz_error_set(err, KZ_ENOMEM, "out of memory");
        }
    *state = m;
    return 0;
}

/* Kazu: {cls: i for i, cls in enumerate(reversed(order))}.get(cls, 0), so the
 * last listed class ranks 0 like an unlisted one. A class listed twice keeps
 * the rank of its first listing, as the dict comprehension does. */
static size_t class_rank(const merge_state *m, kz_str cls) {
    for (size_t i = 0; i < m->n_classes; i++)
        if (kz_str_eq_c(cls, m->classes[i])) return m->n_classes - 1 - i;
    return 0;
}

typedef struct cand {
    kz_entity *e;
    uint32_t order; /* position in the section, for a stable sort */
    int64_t len;    /* end - start in code points, as Kazu's Python offsets */
    size_t rank;
} cand;

static int by_start(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->e->start != y->e->start) return x->e->start < y->e->start ? -1 : 1;
    return x->order < y->order ? -1 : 1;
}

/* Kazu's sort key (len(mappings) > 0, end - start, class rank, mention
 * confidence, entity_class), compared as a tuple; > 0 if a is preferred. */
static int prefer(const cand *a, const cand *b) {
    bool ma = a->e->n_mappings > 0, mb = b->e->n_mappings > 0;
    if (ma != mb) return ma ? 1 : -1;
    if (a->len != b->len) return a->len > b->len ? 1 : -1;
    if (a->rank != b->rank) return a->rank > b->rank ? 1 : -1;
    if (a->e->mention_confidence != b->e->mention_confidence)
        return a->e->mention_confidence > b->e->mention_confidence ? 1 : -1;
    return kz_str_cmp(a->e->entity_class, b->e->entity_class); /* UTF-8 byte order = code point order */
}

static int merge_section(const merge_state *m, kz_section *sec) {
    uint32_t n = sec->n_entities;
    cand *c = malloc(n * sizeof *c);
    kz_entity **keep = malloc(n * sizeof *keep);
    if (!c || !keep) {
        free(c);
        free(keep);
        return KZ_ENOMEM;
    }
    size_t nc = 0, nk = 0;
    for (uint32_t i = 0; i < n; i++) {
        kz_entity *e = sec->entities[i];
        if (m->ignore_non_contiguous && e->n_spans != 1) continue;
        int64_t len = (int64_t)kz_utf8_count(sec->text.ptr + e->start, (size_t)(e->end - e->start));
        c[nc++] = (cand){e, i, len, class_rank(m, e->entity_class)};
    }
    qsort(c, nc, sizeof *c, by_start);
    /* Sweep locations with half-open intervals: an entity starting at the
     * current end opens a new location. Within one, the first best wins ties. */
    for (size_t i = 0; i < nc;) {
        int64_t end = c[i].e->end;
        size_t best = i, j = i + 1;
        for (; j < nc && c[j].e->start < end; j++) {
            if (c[j].e->end > end) end = c[j].e->end;
            if (prefer(&c[j], &c[best]) > 0) best = j;
        }
        keep[nk++] = c[best].e;
        i = j;
    }
    if (m->ignore_non_contiguous)
        for (uint32_t i = 0; i < n; i++)
            if (sec->entities[i]->n_spans != 1) keep[nk++] = sec->entities[i];
    memcpy(sec->entities, keep, nk * sizeof *keep);
    sec->n_entities = (uint32_t)nk;
    free(c);
    free(keep);
    return 0;
}

static int merge_process(void *state, kz_doc **docs, size_t n, const kz_step_ctx *ctx, kz_error *err) {
    const merge_state *m = state;
    (void)err;
    for (size_t d = 0; d < n; d++) {
        if (kz_step_cancelled(ctx)) return KZ_ECANCELLED;
        for (uint32_t s = 0; s < docs[d]->n_sections; s++) {
            if (docs[d]->sections[s]->n_entities == 0) continue;
            if (merge_section(m, docs[d]->sections[s])) {
                kz_doc_set_failure(docs[d], ctx->step_name, "out of memory");
                break;
            }
        }
    }
    return 0;
}

const kz_step_type kz__step_merge_overlapping = {
    .name = "MergeOverlappingEntsStep",
    .description =
        "keep one entity per location of overlapping contiguous entities (Kazu's preference order)",
    .init = merge_init,
    .process = merge_process,
    .free = merge_free,
};
