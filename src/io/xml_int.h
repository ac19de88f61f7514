/* Shared driver of the XML readers (PubMed/MEDLINE, BioC): a libxml2 SAX2 push
 * parser fed from kz_input, hardened against hostile XML, with a result queue. */
#ifndef KZ_XML_INT_H
#define KZ_XML_INT_H

#include <libxml/parser.h>
#include "io_int.h"

/* One result for kz_reader_next: a document, or a located error (err.code < 0). */
typedef struct kz_xml_item {
    kz_doc *doc;
    kz_error err;
} kz_xml_item;

/* Embed as the FIRST member of a format's reader state: the SAX callbacks get
 * the state pointer as their ctx, and the driver treats it as a kz_xml. */
typedef struct kz_xml {
    kz_reader *r;
    xmlParserCtxtPtr ctxt;
    unsigned char *chunk; /* input staging buffer */
    kz_xml_item *q;       /* FIFO of results the callbacks produced */
    size_t q_head, q_len, q_cap;
    int64_t fed; /* bytes given to the parser */
    bool ended;  /* no more input will be parsed */
    bool fatal;  /* libxml2 reported a fatal error (first one kept) */
    char fatal_msg[384];
    int fatal_line, fatal_col;
} kz_xml;

/* Create the parser. sax holds the format's callbacks (startElementNs,
 * endElementNs, characters, reference); the driver adds error capture.
 * Entities other than the predefined ones and character references are never
 * declared, loaded or expanded; no DTD is loaded; no network access. */
int kz__xml_open(kz_xml *x, kz_reader *r, const xmlSAXHandler *sax, kz_error *err);
/* Free the parser and every queued document. */
void kz__xml_close(kz_xml *x);
/* The reader vtable's next: parses until a result is queued, then pops it.
 * After a fatal XML error, the documents completed before it come first, then
 * the located error, then 0. */
int kz__xml_next(kz_xml *x, kz_doc **out, kz_error *err);
/* Queue a finished document (ownership passes; freed on failure). */
void kz__xml_emit_doc(kz_xml *x, kz_doc *doc);
/* Queue a record error located at the parser's current line/column. */
void kz__xml_emit_error(kz_xml *x, int code, kz_str doc_id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Value of attribute `name` from SAX2's (localname, prefix, URI, value, end)
 * tuples; KZ_STR_NULL if absent. The view is valid during the callback only. */
kz_str kz__xml_attr(int nb_attributes, const xmlChar **attrs, const char *name);
/* Append an attribute value to b with the "&#38;" that libxml2 leaves for '&'
 * (when entities are not substituted) turned back into '&'. */
int kz__xml_attr_append(kz_buf *b, kz_str raw);
/* Stop parsing for good after queueing a located error (limits, out of memory). */
void kz__xml_stop(kz_xml *x, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* libxml2's push parser does not bound nesting; the formats stop beyond this. */
#define KZ_XML_MAX_DEPTH 256
/* Strip ASCII whitespace at both ends. */
kz_str kz__xml_trim(kz_str s);
/* Parse a trimmed non-negative decimal integer (at most 18 digits); -1 if not one. */
int64_t kz__xml_parse_uint(kz_str s);

/* PubMed reader only: DeleteCitation PMIDs skipped so far (for tests and logs). */
int64_t kz__pubmed_xml_n_deleted(const kz_reader *r);

#endif
