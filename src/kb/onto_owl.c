/* OWL RDF/XML parser (go.owl, cl.owl, uberon.owl, hp.owl as OWLAPI/ROBOT
 * write them): top-level owl:Class elements -> kz_onto_term, streamed with
 * libxml2 SAX2. Also the XML driver the MeSH parser shares. */
#include <stdlib.h>
#include <strings.h>
#include <libxml/SAX2.h>
#include "kb/onto_obo_int.h"

#define NS_RDF  "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#define NS_RDFS "http://www.w3.org/2000/01/rdf-schema#"
#define NS_OWL  "http://www.w3.org/2002/07/owl#"
#define NS_OIO  "http://www.geneontology.org/formats/oboInOwl#"
#define NS_XML  "http://www.w3.org/XML/1998/namespace"
#define NS_OBO  "http://purl.obolibrary.org/obo/"

/* ---- XML driver shared with onto_mesh.c ------------------------------------ */

int kz__onto_xml_run(kz_onto_ctx *c, const char *data, size_t len, kz_xml *x, const xmlSAXHandler *sax,
                     kz_error *err) {
    kz_reader *r = calloc(1, sizeof *r);
    if (!r) return kz__onto_fail(c, err, KZ_ENOMEM, 0, "out of memory");
    snprintf(r->name, sizeof r->name, "%s", c->path);
    r->in.fd = -1;
    int rc = data ? kz__input_open_mem(&r->in, data, len) : kz__input_open_path(&r->in, c->spec->path, err);
    if (rc) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err && err->msg[0] ? err->msg : "cannot open input");
        kz__input_close(&r->in);
        free(r);
        return kz__onto_fail(c, err, rc, 0, "%s", why);
    }
    rc = kz__xml_open(x, r, sax, err);
    if (!rc) {
        for (;;) {
            kz_doc *d = NULL;
            kz_error e;
            kz_error_clear(&e);
            int k = kz__xml_next(x, &d, &e);
            if (k == 0) break;
            if (k > 0) { /* the callbacks queue no documents; be safe anyway */
                kz_doc_free(d);
                continue;
            }
            if (!rc) {
                rc = k;
                if (err) *err = e;
            }
        }
    } else {
        kz__onto_fail(c, err, rc, 0, "cannot create the XML parser");
    }
    kz__xml_close(x);
    kz__input_close(&r->in);
    free(r);
    return rc;
}

bool kz__onto_xml_attr(kz_buf *b, int nb_attributes, const xmlChar **attrs, const char *name,
                       const char *uri) {
    for (int i = 0; i < nb_attributes; i++) {
        const xmlChar **a = attrs + 5 * i;
        if (strcmp((const char *)a[0], name) != 0) continue;
        if (uri ? !a[2] || strcmp((const char *)a[2], uri) != 0 : a[2] != NULL) continue;
        kz__buf_clear(b);
        if (kz__xml_attr_append(b, (kz_str){(const char *)a[3], (size_t)(a[4] - a[3])})) return false;
        if (!b->data && kz__buf_reserve(b, 1)) return false;
        b->data[b->len] = 0;
        return true;
    }
    return false;
}

/* ---- OWL ----------------------------------------------------------------------- */

enum { P_NONE, P_LABEL, P_SYN, P_XREF, P_ALT, P_NS, P_DEPRECATED };

typedef struct owl_pred {
    char *iri;
    const char *scope; /* borrowed from iri or a literal */
} owl_pred;

typedef struct owl_state {
    kz_xml x; /* first: the SAX callbacks get this state as their ctx */
    kz_onto_ctx c;
    int depth;
    bool saw_root;
    int class_depth; /* depth of the open owl:Class, 0 when none */
    int prop;        /* P_* of the open property element */
    const char *prop_scope;
    bool prop_lang_en; /* label without xml:lang or in English */
    bool text_over;
    int64_t prop_line;
    kz_buf text, attr, iri, curie, other_label;
    owl_pred *preds;
    size_t n_preds;
} owl_state;

static void owl_stop_rc(owl_state *s, int rc) {
    if (rc == KZ_ENOMEM)
        kz__xml_stop(&s->x, rc, "out of memory");
    else
        kz__xml_stop(&s->x, rc, "parse aborted by the consumer");
}

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *URI,
                     int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
                     const xmlChar **attrs) {
    owl_state *s = ctx;
    kz_onto_ctx *c = &s->c;
    const char *ln = (const char *)localname, *uri = URI ? (const char *)URI : "";
    if (++s->depth > KZ_XML_MAX_DEPTH) {
        kz__xml_stop(&s->x, KZ_ELIMIT, "elements nested deeper than %d", KZ_XML_MAX_DEPTH);
        return;
    }
    if (s->depth == 1) {
        if (strcmp(uri, NS_RDF) != 0 || strcmp(ln, "RDF") != 0)
            kz__xml_stop(&s->x, KZ_EFORMAT, "root element <%.80s> is not rdf:RDF: not OWL RDF/XML", ln);
        s->saw_root = true;
        return;
    }
    if (s->depth == 2) {
        if (strcmp(uri, NS_OWL) != 0 || strcmp(ln, "Class") != 0) return;
        if (!kz__onto_xml_attr(&s->attr, nb_attributes, attrs, "about", NS_RDF)) return; /* anonymous */
        s->class_depth = 2;
        kz__onto_rec_begin(c, xmlSAX2GetLineNumber(s->x.ctxt));
        kz__buf_clear(&s->other_label);
        int rc = kz__onto_iri_to_curie(s->attr.data, s->attr.len, &s->curie);
        if (!rc) rc = kz__onto_rec_str(c, KZ_OF_ID, s->curie.data, s->curie.len);
        if (rc) owl_stop_rc(s, rc);
        return;
    }
    if (!s->class_depth || s->depth != s->class_depth + 1) return;
    /* a property of the class */
    kz__buf_clear(&s->iri);
    if (kz__buf_puts(&s->iri, uri) || kz__buf_puts(&s->iri, ln)) {
        owl_stop_rc(s, KZ_ENOMEM);
        return;
    }
    const char *p = s->iri.data;
    s->prop = P_NONE;
    s->prop_scope = NULL;
    s->text_over = false;
    s->prop_line = xmlSAX2GetLineNumber(s->x.ctxt);
    kz__buf_clear(&s->text);
    if (!strcmp(p, NS_RDFS "subClassOf")) {
        if (kz__onto_xml_attr(&s->attr, nb_attributes, attrs, "resource", NS_RDF)) {
            int rc = kz__onto_iri_to_curie(s->attr.data, s->attr.len, &s->curie);
            if (!rc) rc = kz__onto_rec_str(c, KZ_OF_PARENT, s->curie.data, s->curie.len);
            if (rc) owl_stop_rc(s, rc);
        }
        return;
    }
    if (!strcmp(p, NS_RDFS "label")) {
        s->prop = P_LABEL;
        bool lang = kz__onto_xml_attr(&s->attr, nb_attributes, attrs, "lang", NS_XML);
        s->prop_lang_en = !lang || s->attr.len == 0 ||
                          (s->attr.len >= 2 && !strncasecmp(s->attr.data, "en", 2) &&
                           (s->attr.len == 2 || s->attr.data[2] == '-'));
    } else if (!strcmp(p, NS_OIO "hasDbXref"))
        s->prop = P_XREF;
    else if (!strcmp(p, NS_OIO "hasAlternativeId"))
        s->prop = P_ALT;
    else if (!strcmp(p, NS_OIO "hasOBONamespace"))
        s->prop = P_NS;
    else if (!strcmp(p, NS_OWL "deprecated"))
        s->prop = P_DEPRECATED;
    else
        for (size_t i = 0; i < s->n_preds; i++)
            if (!strcmp(p, s->preds[i].iri)) {
                s->prop = P_SYN;
                s->prop_scope = s->preds[i].scope;
                break;
            }
}

static void on_text(void *ctx, const xmlChar *ch, int len) {
    owl_state *s = ctx;
    if (s->prop == P_NONE || s->depth != s->class_depth + 1 || s->text_over || len <= 0) return;
    if (s->text.len + (size_t)len > KZ_ONTO_MAX_LINE) {
        s->text_over = true;
        return;
    }
    if (kz__buf_append(&s->text, ch, (size_t)len)) owl_stop_rc(s, KZ_ENOMEM);
}

static int owl_end_prop(owl_state *s) {
    kz_onto_ctx *c = &s->c;
    int prop = s->prop;
    s->prop = P_NONE;
    if (s->text_over) {
        kz__onto_warn(c, KZ_ELIMIT, s->prop_line, "literal longer than %u bytes; value skipped",
                      KZ_ONTO_MAX_LINE);
        return 0;
    }
    kz_str v = kz__xml_trim((kz_str){s->text.data ? s->text.data : "", s->text.len});
    switch (prop) {
    case P_LABEL:
        if (s->prop_lang_en) return kz__onto_rec_str(c, KZ_OF_LABEL, v.ptr, v.len);
        if (!s->other_label.len && v.len <= KZ_ONTO_MAX_LINE)
            return kz__buf_append(&s->other_label, v.ptr, v.len);
        return 0;
    case P_SYN: return kz__onto_rec_syn(c, v.ptr, v.len, s->prop_scope, strlen(s->prop_scope));
    case P_XREF: return kz__onto_rec_str(c, KZ_OF_XREF, v.ptr, v.len);
    case P_NS: return kz__onto_rec_str(c, KZ_OF_NS, v.ptr, v.len);
    case P_ALT: {
        int rc = kz__onto_iri_to_curie(v.ptr, v.len, &s->curie);
        return rc ? rc : kz__onto_rec_str(c, KZ_OF_ALT_ID, s->curie.data, s->curie.len);
    }
    case P_DEPRECATED:
        if ((v.len == 4 && !strncasecmp(v.ptr, "true", 4)) || (v.len == 1 && v.ptr[0] == '1'))
            c->t.obsolete = true;
        return 0;
    }
    return 0;
}

/* An undeclared entity (declared ones are never stored, so every entity
 * but the predefined five lands here): the text would be incomplete, so the
 * record is skipped. */
static void on_reference(void *ctx, const xmlChar *name) {
    owl_state *s = ctx;
    kz__onto_unexpanded_entity(&s->c, xmlSAX2GetLineNumber(s->x.ctxt), s->class_depth != 0,
                               (const char *)name);
}

static void on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *URI) {
    owl_state *s = ctx;
    int rc = 0;
    if (s->class_depth && s->depth == s->class_depth + 1 && s->prop != P_NONE)
        rc = owl_end_prop(s);
    else if (s->class_depth && s->depth == s->class_depth) {
        s->class_depth = 0;
        if (!s->c.t.label.ptr && s->other_label.len)
            rc = kz__onto_rec_str(&s->c, KZ_OF_LABEL, s->other_label.data, s->other_label.len);
        if (!rc) rc = kz__onto_rec_end(&s->c);
    }
    s->depth--;
    if (rc) owl_stop_rc(s, rc);
}

/* Synonym predicates from the spec (IRIs or CURIEs) or the four oboInOwl ones. */
static int owl_preds(owl_state *s, kz_error *err) {
    static const char *const def[] = {"oboInOwl:hasExactSynonym", "oboInOwl:hasRelatedSynonym",
                                      "oboInOwl:hasNarrowSynonym", "oboInOwl:hasBroadSynonym"};
    static const struct {
        const char *prefix, *ns;
    } known[] = {{"oboInOwl", NS_OIO}, {"oio", NS_OIO},
                 {"rdfs", NS_RDFS},    {"skos", "http://www.w3.org/2004/02/skos/core#"},
                 {"owl", NS_OWL},      {"obo", NS_OBO}};
    const kz_onto_spec *sp = s->c.spec;
    size_t n = sp->n_syn_predicates ? sp->n_syn_predicates : 4;
    const char *const *src = sp->n_syn_predicates ? sp->syn_predicates : def;
    s->preds = calloc(n, sizeof *s->preds);
    if (!s->preds) return kz__onto_fail(&s->c, err, KZ_ENOMEM, 0, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const char *p = src[i] ? src[i] : "";
        kz_buf b;
        kz__buf_init(&b, 0);
        const char *colon = strchr(p, ':');
        int rc = 0;
        if (!colon || strstr(p, "://")) {
            rc = kz__buf_puts(&b, p);
        } else {
            size_t pl = (size_t)(colon - p);
            const char *ns = NULL;
            for (size_t k = 0; k < sizeof known / sizeof known[0] && !ns; k++)
                if (strlen(known[k].prefix) == pl && !memcmp(known[k].prefix, p, pl)) ns = known[k].ns;
            if (ns) { /* oboInOwl:hasExactSynonym */
                rc = kz__buf_puts(&b, ns);
                if (!rc) rc = kz__buf_puts(&b, colon + 1);
            } else { /* an OBO CURIE: IAO:0000118 -> .../obo/IAO_0000118 */
                rc = kz__buf_puts(&b, NS_OBO);
                if (!rc) rc = kz__buf_append(&b, p, pl);
                if (!rc) rc = kz__buf_putc(&b, '_');
                if (!rc) rc = kz__buf_puts(&b, colon + 1);
            }
        }
        if (!rc && !b.data) rc = kz__buf_reserve(&b, 1);
        if (rc) {
            kz__buf_free(&b);
            return kz__onto_fail(&s->c, err, KZ_ENOMEM, 0, "out of memory");
        }
        s->preds[i].iri = b.data;
        s->n_preds = i + 1;
        const char *iri = b.data;
        const char *local = strrchr(iri, '#');
        if (!local) local = strrchr(iri, '/');
        local = local ? local + 1 : iri;
        s->preds[i].scope = !strcmp(local, "hasExactSynonym")     ? "EXACT"
                            : !strcmp(local, "hasRelatedSynonym") ? "RELATED"
                            : !strcmp(local, "hasNarrowSynonym")  ? "NARROW"
                            : !strcmp(local, "hasBroadSynonym")   ? "BROAD"
                                                                  : local;
    }
    return 0;
}

static int owl_parse(const char *data, size_t len, const kz_onto_spec *spec, kz_onto_emit_fn emit,
                     kz_onto_warn_fn warn, void *user, uint64_t *n_warnings, kz_error *err) {
    if (n_warnings) *n_warnings = 0;
    if (err) kz_error_clear(err);
    if (!spec || !emit || (!data && !spec->path))
        return kz_error_set(err, KZ_EINVAL, "OWL parse: missing spec, input or emit");
    owl_state *s = calloc(1, sizeof *s);
    if (!s) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    int rc = kz__onto_ctx_init(&s->c, spec, NULL, emit, warn, user, err);
    if (rc) {
        free(s);
        return rc;
    }
    kz__buf_init(&s->text, 0);
    kz__buf_init(&s->attr, 0);
    kz__buf_init(&s->iri, 0);
    kz__buf_init(&s->curie, 0);
    kz__buf_init(&s->other_label, 0);
    rc = owl_preds(s, err);
    if (!rc) {
        xmlSAXHandler h;
        memset(&h, 0, sizeof h);
        h.startElementNs = on_start;
        h.endElementNs = on_end;
        h.characters = on_text;
        h.reference = on_reference;
        rc = kz__onto_xml_run(&s->c, data, len, &s->x, &h, err);
        if (!rc && !s->saw_root)
            rc = kz__onto_fail(&s->c, err, KZ_EFORMAT, 0, "no rdf:RDF element: not OWL RDF/XML");
    }
    if (n_warnings) *n_warnings = s->c.n_warnings;
    for (size_t i = 0; i < s->n_preds; i++) free(s->preds[i].iri);
    free(s->preds);
    kz__buf_free(&s->text);
    kz__buf_free(&s->attr);
    kz__buf_free(&s->iri);
    kz__buf_free(&s->curie);
    kz__buf_free(&s->other_label);
    kz__onto_ctx_free(&s->c);
    free(s);
    return rc;
}

int kz__onto_parse_owl(const kz_onto_spec *spec, kz_onto_emit_fn emit, kz_onto_warn_fn warn, void *user,
                       uint64_t *n_warnings, kz_error *err) {
    return owl_parse(NULL, 0, spec, emit, warn, user, n_warnings, err);
}

int kz__onto_parse_owl_mem(const char *data, size_t len, const kz_onto_spec *spec, kz_onto_emit_fn emit,
                           kz_onto_warn_fn warn, void *user, uint64_t *n_warnings, kz_error *err) {
    if (!data && len) return kz_error_set(err, KZ_EINVAL, "OWL parse: NULL data");
    return owl_parse(data ? data : "", len, spec, emit, warn, user, n_warnings, err);
}
