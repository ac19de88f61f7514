/* `kazu eval link`: entity-linking evaluation against gold ids (PubTator and
 * every other format whose reader puts gold ids on entities as mappings).
 *
 * Two measurements over the same gold documents (docs/eval.md):
 *  1. accuracy@1 on gold mentions: the gold entities keep their spans and
 *     classes, lose their ids, and go through the linking steps only
 *     (default DictionaryEntityLinkingStep, MappingStep); a mention is correct
 *     when the first mapping (of --parser when given) is one of its gold ids.
 *  2. end-to-end strict P/R/F1: the documents lose every entity and go through
 *     the whole pipeline; a predicted entity is correct when a gold mention has
 *     the same span and class and the entity's first mapping is a gold id.
 * Ids are compared after dropping a "MESH:" prefix, so the CTD vocabulary's
 * "MESH:D003920" equals PubTator's "D003920". With --equiv xrefs, an id also
 * counts when the knowledge base records it as an alternative id (xref) of a
 * gold id or the other way round (MEDIC's AltDiseaseIDs: OMIM ids merged into
 * a MeSH concept). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "cli.h"

const char cli_eval_link_help[] =
    "Usage: kazu eval link [options] GOLD...\n"
    "\n"
    "Evaluate entity linking on documents with gold ids (PubTator: NCBI-disease, BC5CDR,\n"
    "BioRED; or any readable format whose entities carry mappings).\n"
    "  1. accuracy@1 on gold mentions: gold spans and classes, ids removed, through the\n"
    "     linking steps only;\n"
    "  2. end-to-end strict precision/recall/F1 (same span, class and id) of the whole\n"
    "     pipeline on the text alone.\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE      pipeline configuration (default: the built-in one)\n"
    "      --kb PACK          knowledge base for steps without a `kb:` parameter (sets KAZU_KB)\n"
    "      --link-steps A,B   steps for gold mentions (default:\n"
    "                         DictionaryEntityLinkingStep,MappingStep, then\n"
    "                         AbbreviationFinderStep when the configuration has it)\n"
    "      --parser NAME      only mappings from this KB parser count (e.g. CTD_MEDIC)\n"
    "      --class C          only gold mentions / predictions of this class (repeatable)\n"
    "      --equiv MODE       none (default): only the gold id itself counts; xrefs: an id\n"
    "                         the --kb pack records as an alternative id (xref) of a gold\n"
    "                         id, or one whose xrefs hold a gold id, counts too\n"
    "      --no-e2e           skip the end-to-end run\n"
    "      --write-curations FILE\n"
    "                         also write the gold mentions as Kazu curations (JSONL) for the\n"
    "                         --kb pack: one resource per normalised mention, mapped to its\n"
    "                         most frequent gold id set (a training-set dictionary; see\n"
    "                         docs/eval-link.md)\n"
    "      --errors FILE      write every wrong or missed gold mention as a TSV line\n"
    "  -i, --in-format FMT    gold format (default: guessed)\n"
    "      --json             one JSON object instead of tables\n"
    "  -h, --help             this help\n"
    "\n" CLI_EXIT_HELP;

#define MAX_CLASSES 16

typedef struct counts {
    char cls[64];
    uint64_t gold, correct1, mapped, any_correct;  /* mention mode */
    uint64_t e_gold, e_pred, e_tp_pred, e_tp_gold; /* end-to-end */
} counts;

typedef struct evalctx {
    const char *parser;
    kz_kb *kb;        /* --equiv xrefs: the pack whose xrefs make ids equivalent */
    kz_arena *arena;  /* scratch for kz_kb_id_at */
    bool equiv;       /* --equiv xrefs */
    uint64_t n_equiv; /* correct only through an xref (mention mode) */
    const char **classes;
    size_t n_classes;
    counts c[MAX_CLASSES + 1]; /* last = all */
    size_t n_c;
    FILE *errors;
} evalctx;

static counts *counts_for(evalctx *x, kz_str cls) {
    for (size_t i = 0; i < x->n_c; i++)
        if (strlen(x->c[i].cls) == cls.len && memcmp(x->c[i].cls, cls.ptr, cls.len) == 0) return &x->c[i];
    if (x->n_c == MAX_CLASSES) return NULL;
    counts *c = &x->c[x->n_c++];
    memset(c, 0, sizeof *c);
    snprintf(c->cls, sizeof c->cls, "%.*s", (int)(cls.len < 63 ? cls.len : 63), cls.ptr);
    return c;
}

static bool class_selected(const evalctx *x, kz_str cls) {
    if (!x->n_classes) return true;
    for (size_t i = 0; i < x->n_classes; i++)
        if (strlen(x->classes[i]) == cls.len && memcmp(x->classes[i], cls.ptr, cls.len) == 0) return true;
    return false;
}

static kz_str canon_id(kz_str id) {
    if (id.len > 5 && strncasecmp(id.ptr, "MESH:", 5) == 0) return (kz_str){id.ptr + 5, id.len - 5};
    return id;
}

static bool id_in_gold(const kz_entity *gold, kz_str id) {
    kz_str c = canon_id(id);
    for (uint32_t i = 0; i < gold->n_mappings; i++)
        if (kz_str_eq(canon_id(gold->mappings[i].idx), c)) return true;
    return false;
}

/* The xrefs of (parser, idx) in the pack; idx is tried as given and, without a
 * prefix, as "MESH:" + idx (PubTator drops CTD's prefix). */
static const kz_str *kb_xrefs(evalctx *x, int32_t parser, kz_str idx, uint32_t *n) {
    *n = 0;
    for (int form = 0; form < 2; form++) {
        char buf[256];
        kz_str key = idx;
        if (form == 1) {
            if (memchr(idx.ptr, ':', idx.len) || idx.len + 6 > sizeof buf) break;
            memcpy(buf, "MESH:", 5);
            memcpy(buf + 5, idx.ptr, idx.len);
            key = (kz_str){buf, idx.len + 5};
        }
        int64_t i = kz_kb_id_find(x->kb, (uint32_t)parser, key);
        kz_kb_id id;
        if (i >= 0 && kz_kb_id_at(x->kb, (uint64_t)i, x->arena, &id) == 0) {
            *n = id.n_xrefs;
            return id.xrefs;
        }
    }
    return NULL;
}

/* --equiv xrefs: the predicted id is an xref of a gold id, or a gold id is an
 * xref of the predicted id, in the parser that made the mapping. */
static bool equiv_in_gold(evalctx *x, const kz_entity *gold, const kz_mapping *m) {
    if (!x->equiv || !x->kb) return false;
    int32_t p = kz_kb_parser_find(x->kb, m->parser_name);
    if (p < 0) return false;
    kz_arena_reset(x->arena);
    uint32_t n = 0;
    const kz_str *xr = kb_xrefs(x, p, m->idx, &n);
    for (uint32_t i = 0; i < n; i++)
        if (id_in_gold(gold, xr[i])) return true;
    kz_str c = canon_id(m->idx);
    for (uint32_t g = 0; g < gold->n_mappings; g++) {
        xr = kb_xrefs(x, p, gold->mappings[g].idx, &n);
        for (uint32_t i = 0; i < n; i++)
            if (kz_str_eq(canon_id(xr[i]), c)) return true;
    }
    return false;
}

static bool mapping_ok(evalctx *x, const kz_entity *gold, const kz_mapping *m) {
    return m && (id_in_gold(gold, m->idx) || equiv_in_gold(x, gold, m));
}

/* The first mapping that counts (of x->parser when set), or NULL. */
static const kz_mapping *first_mapping(const evalctx *x, const kz_entity *e) {
    for (uint32_t i = 0; i < e->n_mappings; i++)
        if (!x->parser || kz_str_eq_c(e->mappings[i].parser_name, x->parser)) return &e->mappings[i];
    return NULL;
}

static bool any_mapping_correct(evalctx *x, const kz_entity *e, const kz_entity *gold) {
    for (uint32_t i = 0; i < e->n_mappings; i++)
        if ((!x->parser || kz_str_eq_c(e->mappings[i].parser_name, x->parser)) &&
            mapping_ok(x, gold, &e->mappings[i]))
            return true;
    return false;
}

static bool same_span(const kz_entity *a, const kz_entity *b) {
    if (a->n_spans != b->n_spans) return false;
    for (uint32_t i = 0; i < a->n_spans; i++)
        if (a->spans[i].start != b->spans[i].start || a->spans[i].end != b->spans[i].end) return false;
    return true;
}

static void write_error(evalctx *x, const char *kind, const kz_doc *d, const kz_entity *g,
                        const kz_entity *p) {
    if (!x->errors) return;
    const kz_mapping *m = p ? first_mapping(x, p) : NULL;
    const char *dis = !m                                                ? ""
                      : m->disambiguation_confidence == KZ_DC_AMBIGUOUS ? "AMBIGUOUS"
                      : m->disambiguation_strategy.ptr                  ? m->disambiguation_strategy.ptr
                                                                        : "";
    fprintf(x->errors, "%s\t%s\t%lld\t%lld\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", kind, d->idx.ptr,
            (long long)g->start, (long long)g->end, g->entity_class.ptr, g->match.ptr,
            g->n_mappings ? g->mappings[0].idx.ptr : "", m ? m->idx.ptr : "",
            m && m->default_label.ptr ? m->default_label.ptr : "",
            m && m->string_match_strategy.ptr ? m->string_match_strategy.ptr : "", dis);
}

static bool has_gold_ids(const kz_entity *e) { return e->n_mappings > 0; }

/* Mention mode: docs have the gold entities (same order as gold docs) with ids removed. */
static void score_mentions(evalctx *x, kz_doc **gold, kz_doc **pred, size_t n) {
    for (size_t d = 0; d < n; d++)
        for (uint32_t s = 0; s < gold[d]->n_sections && s < pred[d]->n_sections; s++) {
            const kz_section *gs = gold[d]->sections[s], *ps = pred[d]->sections[s];
            for (uint32_t i = 0; i < gs->n_entities; i++) {
                const kz_entity *g = gs->entities[i];
                if (!has_gold_ids(g) || !class_selected(x, g->entity_class)) continue;
                /* The linking steps never add or drop entities in this mode, but look the
                 * prediction up by span and class rather than trusting the order. */
                const kz_entity *p = NULL;
                for (uint32_t j = 0; j < ps->n_entities && !p; j++)
                    if (same_span(ps->entities[j], g) &&
                        kz_str_eq(ps->entities[j]->entity_class, g->entity_class))
                        p = ps->entities[j];
                counts *c = counts_for(x, g->entity_class), *all = &x->c[MAX_CLASSES];
                const kz_mapping *m = p ? first_mapping(x, p) : NULL;
                bool strict = m && id_in_gold(g, m->idx);
                bool ok = strict || (m && equiv_in_gold(x, g, m)), any = p && any_mapping_correct(x, p, g);
                x->n_equiv += ok && !strict;
                for (counts *t = c; t; t = t == all ? NULL : all) {
                    t->gold++;
                    t->mapped += m != NULL;
                    t->correct1 += ok;
                    t->any_correct += any;
                }
                if (!ok) write_error(x, m ? "mention-wrong" : "mention-unmapped", gold[d], g, p);
            }
        }
}

static void score_e2e(evalctx *x, kz_doc **gold, kz_doc **pred, size_t n) {
    counts *all = &x->c[MAX_CLASSES];
    for (size_t d = 0; d < n; d++)
        for (uint32_t s = 0; s < gold[d]->n_sections && s < pred[d]->n_sections; s++) {
            const kz_section *gs = gold[d]->sections[s], *ps = pred[d]->sections[s];
            for (uint32_t i = 0; i < gs->n_entities; i++) {
                const kz_entity *g = gs->entities[i];
                if (!has_gold_ids(g) || !class_selected(x, g->entity_class)) continue;
                bool hit = false;
                const kz_entity *near = NULL;
                for (uint32_t j = 0; j < ps->n_entities && !hit; j++) {
                    const kz_entity *p = ps->entities[j];
                    if (!same_span(p, g) || !kz_str_eq(p->entity_class, g->entity_class)) continue;
                    near = p;
                    hit = mapping_ok(x, g, first_mapping(x, p));
                }
                counts *c = counts_for(x, g->entity_class);
                for (counts *t = c; t; t = t == all ? NULL : all) {
                    t->e_gold++;
                    t->e_tp_gold += hit;
                }
                if (!hit) write_error(x, near ? "e2e-wrong-id" : "e2e-missed", gold[d], g, near);
            }
            for (uint32_t j = 0; j < ps->n_entities; j++) {
                const kz_entity *p = ps->entities[j];
                if (!class_selected(x, p->entity_class)) continue;
                /* Only classes the gold annotates are scored (others are not negatives). */
                bool cls_in_gold = false;
                for (size_t k = 0; k < x->n_c && !cls_in_gold; k++)
                    cls_in_gold = strlen(x->c[k].cls) == p->entity_class.len &&
                                  memcmp(x->c[k].cls, p->entity_class.ptr, p->entity_class.len) == 0;
                if (!cls_in_gold) continue;
                const kz_mapping *m = first_mapping(x, p);
                bool hit = false;
                for (uint32_t i = 0; i < gs->n_entities && !hit; i++) {
                    const kz_entity *g = gs->entities[i];
                    hit = has_gold_ids(g) && same_span(p, g) && kz_str_eq(p->entity_class, g->entity_class) &&
                          mapping_ok(x, g, m);
                }
                counts *c = counts_for(x, p->entity_class);
                for (counts *t = c; t; t = t == all ? NULL : all) {
                    t->e_pred++;
                    t->e_tp_pred += hit;
                }
            }
        }
}

static bool keep_none(const kz_entity *e, void *user) {
    (void)e, (void)user;
    return false;
}

/* Read every document of the inputs. mode 0: as is (gold); 1: ids removed;
 * 2: entities removed. Returns the number of read errors. */
static int read_all(char **inputs, int n_inputs, kz_format fmt, int mode, kz_doc ***docs, size_t *n) {
    size_t cap = 0;
    int bad = 0;
    *docs = NULL;
    *n = 0;
    for (int f = 0; f < n_inputs; f++) {
        kz_error err;
        kz_error_clear(&err);
        kz_reader_params rp = kz_reader_default_params();
        kz_reader *r = NULL;
        if (kz_reader_open_path(&r, inputs[f], fmt, &rp, &err)) {
            cli_report(&err);
            bad++;
            continue;
        }
        for (;;) {
            kz_doc *d = NULL;
            int rc = kz_reader_next(r, &d, &err);
            if (rc == 0) break;
            if (rc < 0) {
                if (mode == 0) cli_report(&err);
                bad++;
                continue;
            }
            for (uint32_t s = 0; s < d->n_sections; s++) {
                kz_section *sec = d->sections[s];
                if (mode == 2) kz_section_filter_entities(sec, keep_none, NULL);
                if (mode == 1)
                    for (uint32_t i = 0; i < sec->n_entities; i++) {
                        kz_entity *e = sec->entities[i];
                        e->n_mappings = 0;
                        e->mention_confidence = KZ_MENTION_HIGHLY_LIKELY;
                    }
            }
            if (*n == cap) {
                cap = cap ? cap * 2 : 256;
                kz_doc **v = realloc(*docs, cap * sizeof *v);
                if (!v) {
                    kz_doc_free(d);
                    kz_reader_close(r);
                    return bad + 1;
                }
                *docs = v;
            }
            (*docs)[(*n)++] = d;
        }
        kz_reader_close(r);
    }
    return bad;
}

static void free_docs(kz_doc **d, size_t n) {
    for (size_t i = 0; i < n; i++) kz_doc_free(d[i]);
    free(d);
}

static int run_batches(const kz_pipeline *p, kz_doc **docs, size_t n, const kz_pipeline_run_params *rp,
                       uint64_t *failed) {
    size_t bs = kz_pipeline_batch_size(p);
    if (!bs) bs = 16;
    for (size_t i = 0; i < n; i += bs) {
        kz_error err;
        kz_error_clear(&err);
        int rc = kz_pipeline_run(p, docs + i, (bs < n - i ? bs : n - i), rp, &err);
        if (rc) {
            cli_report(&err);
            return rc;
        }
    }
    for (size_t i = 0; i < n; i++) *failed += kz_doc_failed(docs[i]);
    return 0;
}

static double ratio(uint64_t a, uint64_t b) { return b ? (double)a / (double)b : 0.0; }

static void print_results(const evalctx *x, bool e2e, bool json, uint64_t failed) {
    if (json) {
        printf("{\"classes\":{");
        for (size_t i = 0; i <= x->n_c; i++) {
            const counts *c = i == x->n_c ? &x->c[MAX_CLASSES] : &x->c[i];
            double p = ratio(c->e_tp_pred, c->e_pred), r = ratio(c->e_tp_gold, c->e_gold);
            printf("%s\"%s\":{\"gold_mentions\":%llu,\"acc_at_1\":%.4f,\"mapped\":%.4f,\"any_correct\":%.4f",
                   i ? "," : "", i == x->n_c ? "ALL" : c->cls, (unsigned long long)c->gold,
                   ratio(c->correct1, c->gold), ratio(c->mapped, c->gold), ratio(c->any_correct, c->gold));
            if (e2e)
                printf(",\"e2e_precision\":%.4f,\"e2e_recall\":%.4f,\"e2e_f1\":%.4f,\"e2e_pred\":%llu", p, r,
                       p + r > 0 ? 2 * p * r / (p + r) : 0.0, (unsigned long long)c->e_pred);
            printf("}");
        }
        printf("},\"equiv\":\"%s\",\"mentions_correct_via_xref\":%llu,\"failed_documents\":%llu}\n",
               x->equiv ? "xrefs" : "none", (unsigned long long)x->n_equiv, (unsigned long long)failed);
        return;
    }
    printf("%-22s %8s %8s %8s %8s", "class", "gold", "acc@1", "mapped", "any@k");
    if (e2e) printf(" %8s %8s %8s %8s", "e2e-P", "e2e-R", "e2e-F1", "pred");
    printf("\n");
    for (size_t i = 0; i <= x->n_c; i++) {
        const counts *c = i == x->n_c ? &x->c[MAX_CLASSES] : &x->c[i];
        printf("%-22s %8llu %8.4f %8.4f %8.4f", i == x->n_c ? "ALL" : c->cls, (unsigned long long)c->gold,
               ratio(c->correct1, c->gold), ratio(c->mapped, c->gold), ratio(c->any_correct, c->gold));
        if (e2e) {
            double p = ratio(c->e_tp_pred, c->e_pred), r = ratio(c->e_tp_gold, c->e_gold);
            printf(" %8.4f %8.4f %8.4f %8llu", p, r, p + r > 0 ? 2 * p * r / (p + r) : 0.0,
                   (unsigned long long)c->e_pred);
        }
        printf("\n");
    }
    if (x->equiv)
        printf("equiv xrefs: %llu gold mentions correct only through an xref\n",
               (unsigned long long)x->n_equiv);
    if (failed) printf("documents that failed processing: %llu\n", (unsigned long long)failed);
}

/* ---- --write-curations: the gold mentions as a dictionary ------------------------------ */
typedef struct cur_item {
    char *cls, *norm, *text, *ids; /* ids: "idx\tsource\n" lines, sorted */
} cur_item;

static int cmp_cur(const void *a, const void *b) {
    const cur_item *x = a, *y = b;
    int c = strcmp(x->cls, y->cls);
    if (!c) c = strcmp(x->norm, y->norm);
    if (!c) c = strcmp(x->ids, y->ids);
    return c ? c : strcmp(x->text, y->text);
}

typedef struct xref_ent {
    char *canon; /* an xref without "MESH:" */
    uint64_t id; /* pack id index */
} xref_ent;

static int cmp_xref(const void *a, const void *b) {
    return strcmp(((const xref_ent *)a)->canon, ((const xref_ent *)b)->canon);
}

static char *dup_n(const char *p, size_t n) {
    char *d = malloc(n + 1);
    if (d) memcpy(d, p, n), d[n] = 0;
    return d;
}

/* The pack id (index) of gold id g in parser p: g itself, "MESH:" + g, or the
 * id whose xrefs hold g (an OMIM id MEDIC merged into a MeSH concept). */
static int64_t gold_to_pack(evalctx *x, int32_t p, kz_str g, const xref_ent *xr, size_t n_xr) {
    int64_t i = kz_kb_id_find(x->kb, (uint32_t)p, g);
    if (i >= 0) return i;
    char buf[256];
    if (!memchr(g.ptr, ':', g.len) && g.len + 6 <= sizeof buf) {
        memcpy(buf, "MESH:", 5);
        memcpy(buf + 5, g.ptr, g.len);
        if ((i = kz_kb_id_find(x->kb, (uint32_t)p, (kz_str){buf, g.len + 5})) >= 0) return i;
    }
    char *c = dup_n(canon_id(g).ptr, canon_id(g).len);
    if (!c) return -1;
    xref_ent key = {c, 0};
    const xref_ent *hit = n_xr ? bsearch(&key, xr, n_xr, sizeof *xr, cmp_xref) : NULL;
    free(c);
    return hit ? (int64_t)hit->id : -1;
}

static int32_t parser_for(evalctx *x, kz_str cls) {
    if (x->parser) return kz_kb_parser_find(x->kb, kz_str_c(x->parser));
    for (uint32_t i = 0; i < kz_kb_n_parsers(x->kb); i++) {
        kz_kb_parser kp;
        if (!kz_kb_parser_at(x->kb, i, &kp) && kz_str_eq(kp.entity_class, cls)) return (int32_t)i;
    }
    return -1;
}

/* Every xref of the parser's ids, sorted (for gold_to_pack). */
static xref_ent *xref_index(evalctx *x, int32_t p, size_t *n) {
    xref_ent *v = NULL;
    size_t cap = 0;
    *n = 0;
    for (uint64_t i = 0; i < kz_kb_n_ids(x->kb); i++) {
        kz_kb_id id;
        kz_arena_reset(x->arena);
        if (kz_kb_id_at(x->kb, i, x->arena, &id) || id.parser != (uint32_t)p) continue;
        for (uint32_t k = 0; k < id.n_xrefs; k++) {
            if (*n == cap) {
                cap = cap ? 2 * cap : 1024;
                xref_ent *nv = realloc(v, cap * sizeof *nv);
                if (!nv) goto oom;
                v = nv;
            }
            kz_str c = canon_id(id.xrefs[k]);
            if (!(v[*n].canon = dup_n(c.ptr, c.len))) goto oom;
            v[(*n)++].id = i;
        }
    }
    if (*n) qsort(v, *n, sizeof *v, cmp_xref);
    return v ? v : calloc(1, sizeof *v);
oom:
    for (size_t i = 0; i < *n; i++) free(v[i].canon);
    free(v);
    *n = 0;
    return NULL;
}

static int cmp_cstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* One JSONL resource per (class, normalised mention): the texts seen, the id
 * set the gold gave most often (ties: the first in byte order). */
static int write_curations(evalctx *x, kz_doc **gold, size_t n_docs, const char *path) {
    cur_item *items = NULL;
    size_t n = 0, cap = 0;
    xref_ent *xr = NULL;
    size_t n_xr = 0;
    int32_t xr_parser = -1;
    int rc = 0;
    for (size_t d = 0; d < n_docs && !rc; d++)
        for (uint32_t s = 0; s < gold[d]->n_sections && !rc; s++)
            for (uint32_t i = 0; i < gold[d]->sections[s]->n_entities && !rc; i++) {
                const kz_entity *g = gold[d]->sections[s]->entities[i];
                if (!has_gold_ids(g) || !class_selected(x, g->entity_class)) continue;
                int32_t p = parser_for(x, g->entity_class);
                if (p < 0) continue;
                if (p != xr_parser) {
                    for (size_t k = 0; k < n_xr; k++) free(xr[k].canon);
                    free(xr);
                    if (!(xr = xref_index(x, p, &n_xr))) {
                        rc = KZ_ENOMEM;
                        break;
                    }
                    xr_parser = p;
                }
                /* the id set as sorted "idx\tsource\n" lines */
                char *lines[64];
                size_t nl = 0;
                for (uint32_t k = 0; k < g->n_mappings && nl < 64 && !rc; k++) {
                    int64_t id = gold_to_pack(x, p, g->mappings[k].idx, xr, n_xr);
                    kz_kb_id rec;
                    kz_arena_reset(x->arena);
                    if (id < 0 || kz_kb_id_at(x->kb, (uint64_t)id, x->arena, &rec)) continue;
                    size_t len = rec.idx.len + rec.source.len + 2;
                    if (!(lines[nl] = malloc(len + 1))) {
                        rc = KZ_ENOMEM;
                        break;
                    }
                    snprintf(lines[nl++], len + 1, "%.*s\t%.*s\n", (int)rec.idx.len, rec.idx.ptr,
                             (int)rec.source.len, rec.source.ptr);
                }
                qsort(lines, nl, sizeof *lines, cmp_cstr);
                size_t tot = 1;
                for (size_t k = 0; k < nl; k++) tot += strlen(lines[k]);
                char *ids = nl && !rc ? malloc(tot) : NULL;
                if (ids) {
                    ids[0] = 0;
                    for (size_t k = 0; k < nl; k++)
                        if (!k || strcmp(lines[k], lines[k - 1])) strcat(ids, lines[k]);
                }
                for (size_t k = 0; k < nl; k++) free(lines[k]);
                if (!ids) {
                    if (nl && !rc) rc = KZ_ENOMEM;
                    continue;
                }
                char *norm = NULL;
                size_t norm_len = 0;
                if (kz_normalise(g->match.ptr, g->match.len, g->entity_class.ptr, &norm, &norm_len, NULL) ||
                    !norm_len) {
                    free(norm);
                    free(ids);
                    continue;
                }
                if (n == cap) {
                    cap = cap ? 2 * cap : 1024;
                    cur_item *nv = realloc(items, cap * sizeof *nv);
                    if (!nv) {
                        free(norm), free(ids);
                        rc = KZ_ENOMEM;
                        break;
                    }
                    items = nv;
                }
                items[n] = (cur_item){dup_n(g->entity_class.ptr, g->entity_class.len), norm,
                                      dup_n(g->match.ptr, g->match.len), ids};
                if (!items[n].cls || !items[n].text) rc = KZ_ENOMEM;
                n++;
            }
    FILE *f = rc ? NULL : fopen(path, "w");
    if (!rc && !f) {
        fprintf(stderr, "kazu eval link: cannot write %s\n", path);
        rc = KZ_EIO;
    }
    if (!rc && n) qsort(items, n, sizeof *items, cmp_cur);
    size_t written = 0;
    for (size_t a = 0; a < n && !rc;) {
        size_t b = a;
        while (b < n && !strcmp(items[b].cls, items[a].cls) && !strcmp(items[b].norm, items[a].norm)) b++;
        /* the most frequent id set of the group (runs of equal ids are adjacent) */
        size_t best = a, best_n = 0;
        for (size_t r = a; r < b;) {
            size_t e = r;
            while (e < b && !strcmp(items[e].ids, items[r].ids)) e++;
            if (e - r > best_n) best = r, best_n = e - r;
            r = e;
        }
        json_t *o = json_object(), *orig = json_array(), *sets = json_array(), *pairs = json_array();
        /* distinct texts of the group, in byte order, at most 32 */
        char *texts[32];
        size_t nt = 0;
        for (size_t k = a; k < b; k++) {
            bool seen = false;
            for (size_t t = 0; t < nt && !seen; t++) seen = !strcmp(texts[t], items[k].text);
            if (!seen && nt < 32) texts[nt++] = items[k].text;
        }
        qsort(texts, nt, sizeof *texts, cmp_cstr);
        for (size_t t = 0; t < nt; t++) {
            /* symbols ("A-T", "DM") match case-sensitively, as Kazu's autocurator makes them */
            bool sym = false;
            if (kz_normalise_is_symbolic(texts[t], strlen(texts[t]), items[a].cls, &sym, NULL)) sym = false;
            json_t *syn = json_object();
            json_object_set_new(syn, "text", json_string(texts[t]));
            json_object_set_new(syn, "case_sensitive", json_boolean(sym));
            json_object_set_new(syn, "mention_confidence", json_string("PROBABLE"));
            json_array_append_new(orig, syn);
        }
        for (char *l = items[best].ids; *l;) {
            char *tab = strchr(l, '\t'), *nlp = tab ? strchr(tab, '\n') : NULL;
            if (!tab || !nlp) break;
            json_t *pr = json_array();
            json_array_append_new(pr, json_stringn(l, (size_t)(tab - l)));
            json_array_append_new(pr, json_stringn(tab + 1, (size_t)(nlp - tab - 1)));
            json_array_append_new(pairs, pr);
            l = nlp + 1;
        }
        json_t *set = json_object();
        json_object_set_new(set, "ids_and_source", pairs);
        json_array_append_new(sets, set);
        json_object_set_new(o, "original_synonyms", orig);
        json_object_set_new(o, "behaviour", json_string("ADD_FOR_NER_AND_LINKING"));
        json_object_set_new(o, "associated_id_sets", sets);
        char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        json_decref(o);
        if (!line) {
            rc = KZ_ENOMEM;
            break;
        }
        fprintf(f, "%s\n", line);
        free(line);
        written++;
        a = b;
    }
    if (f && fclose(f) && !rc) rc = KZ_EIO;
    if (!rc) fprintf(stderr, "kazu eval link: %zu curations written to %s\n", written, path);
    for (size_t k = 0; k < n; k++)
        free(items[k].cls), free(items[k].norm), free(items[k].text), free(items[k].ids);
    free(items);
    for (size_t k = 0; k < n_xr; k++) free(xr[k].canon);
    free(xr);
    return rc;
}

/* The default gold-mention steps: candidate search and mapping, then the
 * abbreviation finder when the configuration has one, so that short forms
 * take their long form's mappings as they do in the whole pipeline. */
static void default_link_steps(const kz_pipeline *p, char *buf, size_t cap) {
    snprintf(buf, cap, "DictionaryEntityLinkingStep,MappingStep");
    for (size_t i = 0; i < kz_pipeline_n_steps(p); i++) {
        const char *name = kz_pipeline_step_name(p, i);
        if (name && !strcmp(name, "AbbreviationFinderStep")) {
            snprintf(buf, cap, "DictionaryEntityLinkingStep,MappingStep,AbbreviationFinderStep");
            break;
        }
    }
}

int cmd_eval_link(int argc, char **argv) {
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"kb", required_argument, NULL, 300},
                                             {"link-steps", required_argument, NULL, 301},
                                             {"parser", required_argument, NULL, 302},
                                             {"class", required_argument, NULL, 303},
                                             {"no-e2e", no_argument, NULL, 304},
                                             {"errors", required_argument, NULL, 305},
                                             {"json", no_argument, NULL, 306},
                                             {"equiv", required_argument, NULL, 307},
                                             {"write-curations", required_argument, NULL, 308},
                                             {"in-format", required_argument, NULL, 'i'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *cmd = "eval link", *config_path = NULL, *errors_path = NULL, *curations_path = NULL;
    char *link_steps = NULL;
    const char *classes[MAX_CLASSES];
    bool e2e = true, json = false, equiv_xrefs = false;
    kz_format fmt = KZ_FORMAT_UNKNOWN;
    evalctx x;
    memset(&x, 0, sizeof x);
    x.classes = classes;
    snprintf(x.c[MAX_CLASSES].cls, sizeof x.c[MAX_CLASSES].cls, "ALL");
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "c:i:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': fputs(cli_eval_link_help, stdout); return CLI_OK;
        case 'c': config_path = optarg; break;
        case 'i':
            fmt = kz_format_parse(optarg);
            if (fmt == KZ_FORMAT_UNKNOWN || !kz_format_can_read(fmt))
                return cli_usage(cmd, "--in-format: '%s' is not a readable format", optarg);
            break;
        case 300: setenv("KAZU_KB", optarg, 1); break;
        case 301: link_steps = optarg; break;
        case 302: x.parser = optarg; break;
        case 303:
            if (x.n_classes == MAX_CLASSES) return cli_usage(cmd, "at most %d --class options", MAX_CLASSES);
            classes[x.n_classes++] = optarg;
            break;
        case 304: e2e = false; break;
        case 305: errors_path = optarg; break;
        case 306: json = true; break;
        case 307:
            if (!strcmp(optarg, "xrefs"))
                equiv_xrefs = true;
            else if (!strcmp(optarg, "none"))
                equiv_xrefs = false;
            else
                return cli_usage(cmd, "--equiv: expected none or xrefs, got '%s'", optarg);
            break;
        case 308: curations_path = optarg; break;
        default: return cli_bad_option(cmd, argv);
        }
    }
    if (optind >= argc) return cli_usage(cmd, "no gold file given");
    char **inputs = argv + optind;
    int n_inputs = argc - optind;

    kz_pipeline *p = cli_load_pipeline(config_path);
    if (!p) return CLI_FATAL;
    char dflt_steps[128];
    default_link_steps(p, dflt_steps, sizeof dflt_steps);
    size_t n_steps = 0;
    const char **steps = cli_split_commas(link_steps ? link_steps : dflt_steps, &n_steps);
    if (!steps) {
        kz_pipeline_free(p);
        return CLI_FATAL;
    }
    kz_pipeline_run_params link_rp = kz_pipeline_run_default_params();
    link_rp.steps = steps;
    link_rp.n_steps = n_steps;
    kz_error err;
    kz_error_clear(&err);
    if (kz_pipeline_check_run_params(p, &link_rp, &err)) {
        cli_report(&err);
        fprintf(stderr, "kazu eval link: the configuration must contain the linking steps (--link-steps)\n");
        free(steps);
        kz_pipeline_free(p);
        return CLI_FATAL;
    }
    x.equiv = equiv_xrefs;
    if (equiv_xrefs || curations_path) {
        const char *kb_path = getenv("KAZU_KB");
        kz_error_clear(&err);
        if (!kb_path || !*kb_path || !(x.arena = kz_arena_new(0)) || kz_kb_acquire(kb_path, &x.kb, &err)) {
            if (err.code) cli_report(&err);
            fprintf(
                stderr,
                "kazu eval link: --equiv xrefs and --write-curations need a knowledge base (--kb PACK)\n");
            kz_arena_free(x.arena);
            free(steps);
            kz_pipeline_free(p);
            return CLI_FATAL;
        }
    }
    if (errors_path && !(x.errors = fopen(errors_path, "w"))) {
        fprintf(stderr, "kazu eval link: cannot write %s\n", errors_path);
        kz_kb_release(x.kb);
        kz_arena_free(x.arena);
        free(steps);
        kz_pipeline_free(p);
        return CLI_FATAL;
    }
    int rc = CLI_OK;
    kz_doc **gold = NULL, **ment = NULL, **text = NULL;
    size_t n_gold = 0, n_ment = 0, n_text = 0;
    uint64_t failed = 0;
    int bad = read_all(inputs, n_inputs, fmt, 0, &gold, &n_gold);
    if (bad) rc = CLI_PARTIAL;
    if (!n_gold) {
        fprintf(stderr, "kazu eval link: no gold documents read\n");
        rc = CLI_FATAL;
        goto out;
    }
    if (curations_path && write_curations(&x, gold, n_gold, curations_path)) {
        rc = CLI_FATAL;
        goto out;
    }
    read_all(inputs, n_inputs, fmt, 1, &ment, &n_ment);
    if (n_ment != n_gold || run_batches(p, ment, n_ment, &link_rp, &failed)) {
        rc = CLI_FATAL;
        goto out;
    }
    score_mentions(&x, gold, ment, n_gold);
    if (e2e) {
        read_all(inputs, n_inputs, fmt, 2, &text, &n_text);
        if (n_text != n_gold || run_batches(p, text, n_text, NULL, &failed)) {
            rc = CLI_FATAL;
            goto out;
        }
        score_e2e(&x, gold, text, n_gold);
    }
    print_results(&x, e2e, json, failed);
    if (failed) rc = CLI_PARTIAL;
out:
    free_docs(gold, n_gold);
    free_docs(ment, n_ment);
    free_docs(text, n_text);
    if (x.errors) fclose(x.errors);
    kz_kb_release(x.kb);
    kz_arena_free(x.arena);
    free(steps);
    kz_pipeline_free(p);
    return rc;
}
