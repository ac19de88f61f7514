/* Shared by the OBO-family parsers (OBO flat files, OBO Graphs JSON, OWL
 * RDF/XML, MeSH XML, Cellosaurus text): one term record under construction,
 * the spec's filters, located warnings, and IRI -> CURIE. Implemented in onto_obo.c. */
#ifndef KZ_ONTO_OBO_INT_H
#define KZ_ONTO_OBO_INT_H

#include <regex.h>
#include "kb/kb_int.h"
#include "core/core_int.h"
#include "io/xml_int.h"

/* Caps on one record (bigger records are skipped with a warning) and on one
 * input line of the line formats. */
#define KZ_ONTO_MAX_LINE    (1u << 20)  /* bytes per OBO / Cellosaurus line */
#define KZ_ONTO_MAX_RECORD  (16u << 20) /* bytes of strings kept for one record */
#define KZ_ONTO_MAX_ITEMS   100000u     /* synonyms, xrefs, ... of one kind per record */
#define KZ_ONTO_MAX_WARNMSG 200         /* characters of input quoted in a warning */

typedef enum kz_onto_field {
    KZ_OF_ID,
    KZ_OF_LABEL,
    KZ_OF_NS,
    KZ_OF_XREF,
    KZ_OF_ALT_ID,
    KZ_OF_PARENT,
} kz_onto_field;

/* A growable array of fixed-size items (reused across records). */
typedef struct kz_onto_vec {
    void *data;
    uint32_t n, cap;
} kz_onto_vec;

typedef struct kz_onto_ctx {
    const kz_onto_spec *spec;
    char path[256]; /* for messages */
    kz_onto_emit_fn emit;
    kz_onto_warn_fn warn;
    void *user;
    uint64_t n_warnings, n_records, n_emitted;
    const char *id_prefix; /* spec->id_prefix, or a format's default */
    regex_t re;
    bool have_re;

    /* the record under construction; strings live in arena (reset per record) */
    kz_arena *arena;
    size_t rec_bytes;
    bool in_rec, rec_bad;
    kz_onto_term t;
    kz_onto_vec syns, xrefs, alt_ids, parents, meta; /* kz_onto_syn / kz_str / kz_onto_kv */
    int ns_verdict; /* -1: apply the namespaces filter to t.ns; 0: reject; 1: keep */
} kz_onto_ctx;

/* Compile the filters (a bad id_regex is KZ_ECONFIG). path may be NULL
 * (spec->path, then "<memory>"). On failure nothing needs freeing. */
int kz__onto_ctx_init(kz_onto_ctx *c, const kz_onto_spec *spec, const char *path, kz_onto_emit_fn emit,
                      kz_onto_warn_fn warn, void *user, kz_error *err);
void kz__onto_ctx_free(kz_onto_ctx *c);

/* Start a record at line (0 if unknown); an unfinished one is dropped. */
void kz__onto_rec_begin(kz_onto_ctx *c, int64_t line);
/* Set (ID, LABEL, NS: the first one wins) or append a string to the record.
 * ID, ALT_ID and PARENT get the id prefix. Returns 0 or KZ_ENOMEM (fatal);
 * caps and invalid UTF-8 make the record bad (one warning) and return 0. */
int kz__onto_rec_str(kz_onto_ctx *c, kz_onto_field f, const char *s, size_t len);
/* Append a synonym; scope is copied (NULL = no scope). */
int kz__onto_rec_syn(kz_onto_ctx *c, const char *s, size_t len, const char *scope, size_t scope_len);
/* Append a metadata pair. */
int kz__onto_rec_meta(kz_onto_ctx *c, const char *key, const char *value, size_t len);
/* Finish the record: drop it if bad, obsolete (unless include_obsolete),
 * id-less (a warning), outside namespaces or not matching id_regex; drop
 * synonyms outside syn_scopes; then emit. Returns emit's result (negative
 * aborts the parse) or KZ_ENOMEM; 0 otherwise. */
int kz__onto_rec_end(kz_onto_ctx *c);
/* Is ns one of the spec's namespaces (true when none are given)? With
 * prefix true a namespace that is a prefix of ns also matches (MeSH trees). */
bool kz__onto_ns_wanted(const kz_onto_ctx *c, const char *ns, size_t len, bool prefix);

/* A located warning (path:line: message), counted. */
void kz__onto_warn(kz_onto_ctx *c, int code, int64_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* The same, and the current record is skipped. */
void kz__onto_rec_warn(kz_onto_ctx *c, int code, int64_t line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* An XML entity reference the parsers never expand (OWL, MeSH): the record being read
 * is skipped (in_record) or the text outside records is dropped, with a warning. */
void kz__onto_unexpanded_entity(kz_onto_ctx *c, int64_t line, bool in_record, const char *name);
/* Fill err with a located whole-file error and return code. */
int kz__onto_fail(kz_onto_ctx *c, kz_error *err, int code, int64_t line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* OBO PURL IRIs (http://purl.obolibrary.org/obo/GO_0008150) and a few other
 * well-known ones become CURIEs (GO:0008150) in out; any other string is
 * copied unchanged. out is cleared first. */
int kz__onto_iri_to_curie(const char *iri, size_t len, kz_buf *out);

/* The XML formats (OWL, MeSH; onto_owl.c): parse data (or, data NULL, the
 * spec's path) to the end with libxml2's SAX2 push parser through the
 * hardened kz_xml driver (no DTD, no entity expansion, no network). x is
 * the first member of the format's state, which the callbacks receive.
 * Returns 0 or a located error (callbacks stop with kz__xml_stop). */
int kz__onto_xml_run(kz_onto_ctx *c, const char *data, size_t len, kz_xml *x, const xmlSAXHandler *sax,
                     kz_error *err);
/* Attribute (localname, namespace URI) of a SAX2 start tag, appended to b
 * with libxml2's "&#38;" turned back into '&'; false if absent. */
bool kz__onto_xml_attr(kz_buf *b, int nb_attributes, const xmlChar **attrs, const char *name,
                       const char *uri);

/* Memory entry points of the formats without one in kb_int.h (tests, fuzzing). */
int kz__onto_parse_owl_mem(const char *data, size_t len, const kz_onto_spec *spec, kz_onto_emit_fn emit,
                           kz_onto_warn_fn warn, void *user, uint64_t *n_warnings, kz_error *err);
int kz__onto_parse_mesh_xml_mem(const char *data, size_t len, const kz_onto_spec *spec, kz_onto_emit_fn emit,
                                kz_onto_warn_fn warn, void *user, uint64_t *n_warnings, kz_error *err);
int kz__onto_parse_cellosaurus_mem(const char *data, size_t len, const kz_onto_spec *spec,
                                   kz_onto_emit_fn emit, kz_onto_warn_fn warn, void *user,
                                   uint64_t *n_warnings, kz_error *err);

#endif
