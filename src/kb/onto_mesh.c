/* MeSH XML parser: descriptor records (desc20xx.xml) and supplementary
 * concept records (supp20xx.xml) -> kz_onto_term, streamed with libxml2 SAX2
 * so the ~300 MB release never sits in memory. */
#include <stdlib.h>
#include <libxml/SAX2.h>
#include "kb/onto_obo_int.h"

/* Element roles, decided from the parent's role and the local name, so that
 * e.g. the DescriptorUI inside a PharmacologicalAction is never the record's. */
enum {
    E_OTHER,
    E_ROOT,
    E_RECORD,
    E_UI,
    E_NAME,
    E_NAME_STRING,
    E_TREELIST,
    E_TREE,
    E_CONCEPTLIST,
    E_CONCEPT,
    E_CONCEPTUI,
    E_RELLIST,
    E_REL,
    E_C1,
    E_C2,
    E_TERMLIST,
    E_TERM,
    E_TERM_STRING,
    E_MAPLIST,
    E_MAP,
    E_DREF,
    E_DUI,
};

typedef struct mesh_concept {
    kz_str ui;
    bool preferred;
} mesh_concept;

typedef struct mesh_term {
    kz_str text;
    uint32_t concept; /* index into concepts */
} mesh_term;

typedef struct mesh_rel {
    kz_str c1, c2;
    char name[4]; /* NRW, BRD, REL */
} mesh_rel;

typedef struct mesh_state {
    kz_xml x; /* first: the SAX callbacks get this state as their ctx */
    kz_onto_ctx c;
    int depth;
    unsigned char role[KZ_XML_MAX_DEPTH + 2];
    bool saw_root, in_record, text_over;
    kz_buf text, attr, trees;
    size_t tmp_bytes; /* record strings held below (capped) */
    mesh_concept *concepts;
    mesh_term *terms;
    mesh_rel *rels;
    uint32_t n_concepts, n_terms, n_rels, cap_concepts, cap_terms, cap_rels;
    mesh_rel cur_rel;
    bool in_concept;
} mesh_state;

static void mesh_stop_rc(mesh_state *s, int rc) {
    if (rc == KZ_ENOMEM)
        kz__xml_stop(&s->x, rc, "out of memory");
    else
        kz__xml_stop(&s->x, rc, "parse aborted by the consumer");
}

static bool is(const char *a, const char *b) { return strcmp(a, b) == 0; }

static int role_of(int parent, const char *n) {
    switch (parent) {
    case E_ROOT: return is(n, "DescriptorRecord") || is(n, "SupplementalRecord") ? E_RECORD : E_OTHER;
    case E_RECORD:
        if (is(n, "DescriptorUI") || is(n, "SupplementalRecordUI")) return E_UI;
        if (is(n, "DescriptorName") || is(n, "SupplementalRecordName")) return E_NAME;
        if (is(n, "TreeNumberList")) return E_TREELIST;
        if (is(n, "ConceptList")) return E_CONCEPTLIST;
        if (is(n, "HeadingMappedToList")) return E_MAPLIST;
        return E_OTHER;
    case E_NAME: return is(n, "String") ? E_NAME_STRING : E_OTHER;
    case E_TREELIST: return is(n, "TreeNumber") ? E_TREE : E_OTHER;
    case E_CONCEPTLIST: return is(n, "Concept") ? E_CONCEPT : E_OTHER;
    case E_CONCEPT:
        if (is(n, "ConceptUI")) return E_CONCEPTUI;
        if (is(n, "ConceptRelationList")) return E_RELLIST;
        if (is(n, "TermList")) return E_TERMLIST;
        return E_OTHER;
    case E_RELLIST: return is(n, "ConceptRelation") ? E_REL : E_OTHER;
    case E_REL: return is(n, "Concept1UI") ? E_C1 : is(n, "Concept2UI") ? E_C2 : E_OTHER;
    case E_TERMLIST: return is(n, "Term") ? E_TERM : E_OTHER;
    case E_TERM: return is(n, "String") ? E_TERM_STRING : E_OTHER;
    case E_MAPLIST: return is(n, "HeadingMappedTo") ? E_MAP : E_OTHER;
    case E_MAP: return is(n, "DescriptorReferredTo") ? E_DREF : E_OTHER;
    case E_DREF: return is(n, "DescriptorUI") ? E_DUI : E_OTHER;
    default: return E_OTHER;
    }
}

static bool wants_text(int role) {
    return role == E_UI || role == E_NAME_STRING || role == E_TREE || role == E_CONCEPTUI || role == E_C1 ||
           role == E_C2 || role == E_TERM_STRING || role == E_DUI;
}

/* Grow one of the record's arrays; false (and the record skipped) past the cap. */
static int grow(mesh_state *s, void **arr, uint32_t *cap, uint32_t n, size_t size) {
    if (n < *cap) return 0;
    if (*cap >= KZ_ONTO_MAX_ITEMS) {
        kz__onto_rec_warn(&s->c, KZ_ELIMIT, s->c.t.line, "more than %u concepts/terms in a record; skipped",
                          KZ_ONTO_MAX_ITEMS);
        return KZ_ELIMIT;
    }
    uint32_t nc = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, (size_t)nc * size);
    if (!p) return KZ_ENOMEM;
    *arr = p;
    *cap = nc;
    return 0;
}

/* Copy the collected text into the record's arena (counted against the cap). */
static int keep(mesh_state *s, kz_str v, kz_str *out) {
    *out = KZ_STR_NULL;
    if (v.len + 1 > KZ_ONTO_MAX_RECORD - KZ_MIN(s->tmp_bytes, (size_t)KZ_ONTO_MAX_RECORD)) {
        kz__onto_rec_warn(&s->c, KZ_ELIMIT, s->c.t.line, "record larger than %u bytes; skipped",
                          KZ_ONTO_MAX_RECORD);
        return 0;
    }
    *out = kz_arena_strdup(s->c.arena, v.ptr ? v.ptr : "", v.len);
    if (!out->ptr) return KZ_ENOMEM;
    s->tmp_bytes += v.len + 1;
    return 0;
}

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *URI,
                     int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
                     const xmlChar **attrs) {
    mesh_state *s = ctx;
    const char *ln = (const char *)localname;
    if (++s->depth > KZ_XML_MAX_DEPTH) {
        kz__xml_stop(&s->x, KZ_ELIMIT, "elements nested deeper than %d", KZ_XML_MAX_DEPTH);
        return;
    }
    int role;
    if (s->depth == 1) {
        if (!is(ln, "DescriptorRecordSet") && !is(ln, "SupplementalRecordSet")) {
            kz__xml_stop(
                &s->x, KZ_EFORMAT,
                "root element <%.80s> is not DescriptorRecordSet or SupplementalRecordSet: not MeSH XML", ln);
            return;
        }
        s->saw_root = true;
        role = E_ROOT;
    } else {
        role = role_of(s->role[s->depth - 1], ln);
    }
    s->role[s->depth] = (unsigned char)role;
    s->text_over = false;
    kz__buf_clear(&s->text);
    if (role == E_RECORD) {
        kz__onto_rec_begin(&s->c, xmlSAX2GetLineNumber(s->x.ctxt));
        s->in_record = true;
        s->n_concepts = s->n_terms = s->n_rels = 0;
        s->tmp_bytes = 0;
        kz__buf_clear(&s->trees);
    } else if (role == E_CONCEPT) {
        int rc = grow(s, (void **)&s->concepts, &s->cap_concepts, s->n_concepts, sizeof *s->concepts);
        if (rc == KZ_ENOMEM) mesh_stop_rc(s, rc);
        if (rc) return;
        bool pref = kz__onto_xml_attr(&s->attr, nb_attributes, attrs, "PreferredConceptYN", NULL) &&
                    s->attr.len == 1 && s->attr.data[0] == 'Y';
        s->concepts[s->n_concepts++] = (mesh_concept){KZ_STR_NULL, pref};
    } else if (role == E_REL) {
        memset(&s->cur_rel, 0, sizeof s->cur_rel);
        if (kz__onto_xml_attr(&s->attr, nb_attributes, attrs, "RelationName", NULL) && s->attr.len == 3)
            memcpy(s->cur_rel.name, s->attr.data, 3);
    }
}

static void on_text(void *ctx, const xmlChar *ch, int len) {
    mesh_state *s = ctx;
    if (!s->in_record || !wants_text(s->role[s->depth]) || s->text_over || len <= 0) return;
    if (s->text.len + (size_t)len > KZ_ONTO_MAX_LINE) {
        s->text_over = true;
        return;
    }
    if (kz__buf_append(&s->text, ch, (size_t)len)) mesh_stop_rc(s, KZ_ENOMEM);
}

static const char *scope_of(const mesh_state *s, const mesh_concept *cn) {
    if (cn->preferred) return "EXACT";
    for (uint32_t i = 0; i < s->n_rels; i++) {
        const mesh_rel *r = &s->rels[i];
        if (r->c2.ptr && cn->ui.ptr && kz_str_eq(r->c2, cn->ui)) {
            if (!memcmp(r->name, "NRW", 3)) return "NARROW";
            if (!memcmp(r->name, "BRD", 3)) return "BROAD";
            return "RELATED";
        }
    }
    return "RELATED";
}

static int mesh_end_record(mesh_state *s) {
    kz_onto_ctx *c = &s->c;
    s->in_record = false;
    if (c->rec_bad) return kz__onto_rec_end(c);
    int rc = 0;
    for (uint32_t i = 0; i < s->n_terms && !rc; i++) {
        const mesh_term *t = &s->terms[i];
        if (c->t.label.ptr && kz_str_eq(t->text, c->t.label)) continue;
        bool dup = false;
        for (uint32_t k = 0; k < i && !dup; k++) dup = kz_str_eq(s->terms[k].text, t->text);
        if (dup) continue;
        const char *scope = scope_of(s, &s->concepts[t->concept]);
        rc = kz__onto_rec_syn(c, t->text.ptr, t->text.len, scope, strlen(scope));
    }
    if (!rc && s->trees.len) {
        rc = kz__onto_rec_meta(c, "tree_numbers", s->trees.data, s->trees.len);
        if (!rc) rc = kz__onto_rec_str(c, KZ_OF_NS, s->trees.data, 1);
    }
    if (!rc && c->spec->n_namespaces) { /* kept if any tree number is under a listed one */
        c->ns_verdict = 0;
        const char *p = s->trees.data, *end = p ? p + s->trees.len : NULL;
        while (p && p < end && !c->ns_verdict) {
            const char *bar = memchr(p, '|', (size_t)(end - p));
            size_t n = bar ? (size_t)(bar - p) : (size_t)(end - p);
            if (kz__onto_ns_wanted(c, p, n, true)) c->ns_verdict = 1;
            p = bar ? bar + 1 : end;
        }
    }
    return rc ? rc : kz__onto_rec_end(c);
}

static int mesh_end_text(mesh_state *s, int role) {
    kz_onto_ctx *c = &s->c;
    if (s->text_over) {
        kz__onto_rec_warn(c, KZ_ELIMIT, c->t.line, "value longer than %u bytes; record skipped",
                          KZ_ONTO_MAX_LINE);
        return 0;
    }
    kz_str v = kz__xml_trim((kz_str){s->text.data ? s->text.data : "", s->text.len});
    int rc = 0;
    kz_str k;
    switch (role) {
    case E_UI:
        if (c->t.id.ptr) return 0;
        return kz__onto_rec_str(c, KZ_OF_ID, v.ptr, v.len);
    case E_NAME_STRING: return kz__onto_rec_str(c, KZ_OF_LABEL, v.ptr, v.len);
    case E_TREE:
        if (!v.len) return 0;
        if (s->trees.len) rc = kz__buf_putc(&s->trees, '|');
        if (!rc) rc = kz__buf_append(&s->trees, v.ptr, v.len);
        if (rc == KZ_ELIMIT) {
            kz__onto_rec_warn(c, KZ_ELIMIT, c->t.line, "tree numbers longer than %u bytes; record skipped",
                              KZ_ONTO_MAX_LINE);
            rc = 0;
        }
        return rc;
    case E_CONCEPTUI:
        if (!s->n_concepts) return 0;
        rc = keep(s, v, &k);
        if (!rc) s->concepts[s->n_concepts - 1].ui = k;
        return rc;
    case E_C1:
    case E_C2:
        rc = keep(s, v, &k);
        if (!rc) *(role == E_C1 ? &s->cur_rel.c1 : &s->cur_rel.c2) = k;
        return rc;
    case E_TERM_STRING:
        if (!s->n_concepts || !v.len) return 0;
        if ((rc = grow(s, (void **)&s->terms, &s->cap_terms, s->n_terms, sizeof *s->terms)))
            return rc == KZ_ELIMIT ? 0 : rc;
        rc = keep(s, v, &k);
        if (!rc && k.ptr) s->terms[s->n_terms++] = (mesh_term){k, s->n_concepts - 1};
        return rc;
    case E_DUI:
        while (v.len && v.ptr[0] == '*') v.ptr++, v.len--; /* "*D000001": a major heading */
        return kz__onto_rec_str(c, KZ_OF_PARENT, v.ptr, v.len);
    }
    return 0;
}

/* An undeclared entity (declared ones are never stored, so every entity
 * but the predefined five lands here): the text would be incomplete, so the
 * record is skipped. */
static void on_reference(void *ctx, const xmlChar *name) {
    mesh_state *s = ctx;
    kz__onto_unexpanded_entity(&s->c, xmlSAX2GetLineNumber(s->x.ctxt), s->in_record != 0, (const char *)name);
}

static void on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *URI) {
    mesh_state *s = ctx;
    int role = s->depth >= 0 && s->depth <= KZ_XML_MAX_DEPTH ? s->role[s->depth] : E_OTHER;
    int rc = 0;
    if (s->in_record) {
        if (wants_text(role))
            rc = mesh_end_text(s, role);
        else if (role == E_REL) {
            rc = grow(s, (void **)&s->rels, &s->cap_rels, s->n_rels, sizeof *s->rels);
            if (!rc) s->rels[s->n_rels++] = s->cur_rel;
            if (rc == KZ_ELIMIT) rc = 0;
        } else if (role == E_RECORD)
            rc = mesh_end_record(s);
    }
    s->depth--;
    kz__buf_clear(&s->text);
    if (rc) mesh_stop_rc(s, rc);
}

static int mesh_parse(const char *data, size_t len, const kz_onto_spec *spec, kz_onto_emit_fn emit,
                      kz_onto_warn_fn warn, void *user, uint64_t *n_warnings, kz_error *err) {
    if (n_warnings) *n_warnings = 0;
    if (err) kz_error_clear(err);
    if (!spec || !emit || (!data && !spec->path))
        return kz_error_set(err, KZ_EINVAL, "MeSH parse: missing spec, input or emit");
    mesh_state *s = calloc(1, sizeof *s);
    if (!s) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    int rc = kz__onto_ctx_init(&s->c, spec, NULL, emit, warn, user, err);
    if (rc) {
        free(s);
        return rc;
    }
    if (!s->c.id_prefix) s->c.id_prefix = "MESH:";
    kz__buf_init(&s->text, 0);
    kz__buf_init(&s->attr, 0);
    kz__buf_init(&s->trees, KZ_ONTO_MAX_LINE);
    xmlSAXHandler h;
    memset(&h, 0, sizeof h);
    h.startElementNs = on_start;
    h.endElementNs = on_end;
    h.characters = on_text;
    h.reference = on_reference;
    rc = kz__onto_xml_run(&s->c, data, len, &s->x, &h, err);
    if (!rc && !s->saw_root)
        rc = kz__onto_fail(&s->c, err, KZ_EFORMAT, 0, "no DescriptorRecordSet element: not MeSH XML");
    if (n_warnings) *n_warnings = s->c.n_warnings;
    kz__buf_free(&s->text);
    kz__buf_free(&s->attr);
    kz__buf_free(&s->trees);
    free(s->concepts);
    free(s->terms);
    free(s->rels);
    kz__onto_ctx_free(&s->c);
    free(s);
    return rc;
}

int kz__onto_parse_mesh_xml(const kz_onto_spec *spec, kz_onto_emit_fn emit, kz_onto_warn_fn warn, void *user,
                            uint64_t *n_warnings, kz_error *err) {
    return mesh_parse(NULL, 0, spec, emit, warn, user, n_warnings, err);
}

int kz__onto_parse_mesh_xml_mem(const char *data, size_t len, const kz_onto_spec *spec, kz_onto_emit_fn emit,
                                kz_onto_warn_fn warn, void *user, uint64_t *n_warnings, kz_error *err) {
    if (!data && len) return kz_error_set(err, KZ_EINVAL, "MeSH parse: NULL data");
    return mesh_parse(data ? data : "", len, spec, emit, warn, user, n_warnings, err);
}
