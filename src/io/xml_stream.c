/* The XML readers' common engine: feeds kz_input bytes to a libxml2 SAX2 push
 * parser and hands out the documents and errors its callbacks queue. */
#include <stdarg.h>
#include <stdlib.h>
#include <libxml/SAX2.h>
#include <libxml/xmlerror.h>
#include "xml_int.h"

/* Small pushes keep the queue short (a few articles at most) and latency low. */
#define KZ_XML_CHUNK (16 * 1024)

/* Every libxml2 diagnostic lands here, both through the parser context and
 * through the thread's structured handler (context-less encoding errors), so
 * libxml2 never prints. Warnings and recoverable errors (namespace misuse)
 * do not stop the parser; the formats see what matters through callbacks. */
static void on_xml_error(void *user, xmlErrorPtr e) {
    kz_xml *x = user;
    if (!e || e->level < XML_ERR_FATAL || x->fatal) return;
    x->fatal = true;
    snprintf(x->fatal_msg, sizeof x->fatal_msg, "%s", e->message ? e->message : "unknown XML error");
    size_t n = strlen(x->fatal_msg);
    while (n && (x->fatal_msg[n - 1] == '\n' || x->fatal_msg[n - 1] == ' ')) x->fatal_msg[--n] = 0;
    for (char *c = x->fatal_msg; (c = strchr(c, '\n'));) *c = ';'; /* one-line messages */
    x->fatal_line = e->line;
    x->fatal_col = e->int2;
}

int kz__xml_open(kz_xml *x, kz_reader *r, const xmlSAXHandler *sax, kz_error *err) {
    memset(x, 0, sizeof *x);
    x->r = r;
    xmlInitParser();
    xmlSAXHandler h = *sax;
    h.initialized = XML_SAX2_MAGIC;
    h.serror = on_xml_error;
    /* No entityDecl/getEntity/externalSubset handlers: declared entities are
     * never stored, so they cannot be expanded (billion laughs) or fetched (XXE). */
    h.entityDecl = NULL;
    h.getEntity = NULL;
    h.getParameterEntity = NULL;
    h.externalSubset = NULL;
    h.resolveEntity = NULL;
    h.ignorableWhitespace = h.characters;
    h.cdataBlock = h.characters;
    x->chunk = malloc(KZ_XML_CHUNK);
    x->ctxt = x->chunk ? xmlCreatePushParserCtxt(&h, x, NULL, 0, r->name) : NULL;
    if (!x->ctxt) return kz_error_set(err, KZ_ENOMEM, "cannot create XML parser");
    xmlCtxtUseOptions(x->ctxt, XML_PARSE_NONET);
    return 0;
}

void kz__xml_close(kz_xml *x) {
    for (size_t i = 0; i < x->q_len; i++) kz_doc_free(x->q[(x->q_head + i) % x->q_cap].doc);
    free(x->q);
    if (x->ctxt) {
        /* libxml2 keeps entity declarations in a stand-in document when SAX
         * builds none (its "expat compatibility"); they are never expanded. */
        if (x->ctxt->myDoc) xmlFreeDoc(x->ctxt->myDoc);
        xmlFreeParserCtxt(x->ctxt);
    }
    free(x->chunk);
    memset(x, 0, sizeof *x);
}

/* Stop parsing for good (out of memory while queueing). */
static void halt(kz_xml *x) {
    x->ended = true;
    if (x->ctxt) xmlStopParser(x->ctxt);
}

static kz_xml_item *push(kz_xml *x) {
    if (x->q_len == x->q_cap) {
        size_t nc = x->q_cap ? x->q_cap * 2 : 8;
        kz_xml_item *q = malloc(nc * sizeof *q);
        if (!q) return NULL;
        for (size_t i = 0; i < x->q_len; i++) q[i] = x->q[(x->q_head + i) % x->q_cap];
        free(x->q);
        x->q = q;
        x->q_cap = nc;
        x->q_head = 0;
    }
    kz_xml_item *it = &x->q[(x->q_head + x->q_len++) % x->q_cap];
    memset(it, 0, sizeof *it);
    return it;
}

void kz__xml_emit_doc(kz_xml *x, kz_doc *doc) {
    kz_xml_item *it = push(x);
    if (!it) {
        kz_doc_free(doc);
        halt(x);
        return;
    }
    it->doc = doc;
}

static void locate(kz_xml *x, kz_error *e, int64_t line, int64_t col) {
    long off = x->ctxt ? xmlByteConsumed(x->ctxt) : -1;
    kz__reader_locate(x->r, e, line, off >= 0 ? (int64_t)off : -1);
    e->column = col;
}

static void emit_error_v(kz_xml *x, int code, kz_str doc_id, const char *fmt, va_list ap) {
    kz_xml_item *it = push(x);
    if (!it) {
        halt(x);
        return;
    }
    vsnprintf(it->err.msg, sizeof it->err.msg, fmt, ap);
    it->err.code = code;
    locate(x, &it->err, xmlSAX2GetLineNumber(x->ctxt), xmlSAX2GetColumnNumber(x->ctxt));
    if (doc_id.ptr)
        snprintf(it->err.doc_id, sizeof it->err.doc_id, "%.*s", (int)KZ_MIN(doc_id.len, 120), doc_id.ptr);
    if (code == KZ_ENOMEM) halt(x);
}

void kz__xml_emit_error(kz_xml *x, int code, kz_str doc_id, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    emit_error_v(x, code, doc_id, fmt, ap);
    va_end(ap);
}

void kz__xml_stop(kz_xml *x, int code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    emit_error_v(x, code, KZ_STR_NULL, fmt, ap);
    va_end(ap);
    halt(x);
}

/* Feed one chunk (or the end of input) to the parser. */
static void feed(kz_xml *x) {
    ptrdiff_t n = kz__input_read(&x->r->in, x->chunk, KZ_XML_CHUNK);
    if (n < 0) {
        kz__xml_emit_error(x, KZ_EIO, KZ_STR_NULL, "%s", x->r->in.errmsg[0] ? x->r->in.errmsg : "read error");
        x->ended = true;
        return;
    }
    if (n == 0 && x->fed == 0) { /* empty input: no documents, no complaint */
        x->ended = true;
        return;
    }
    x->fed += n;
    /* Errors raised without a parser context (encoding conversion) go to the
     * thread's structured handler: borrow it for the duration of the call. */
    xmlStructuredErrorFunc old_fn = xmlStructuredError;
    void *old_ctx = xmlStructuredErrorContext;
    xmlSetStructuredErrorFunc(x, on_xml_error);
    int rc = xmlParseChunk(x->ctxt, (const char *)x->chunk, (int)n, n == 0);
    xmlSetStructuredErrorFunc(old_ctx, old_fn);
    if (x->fatal || (rc != 0 && !x->ended)) {
        kz_xml_item *it = push(x);
        if (it) {
            it->err.code = KZ_EPARSE;
            snprintf(it->err.msg, sizeof it->err.msg, "malformed XML: %s",
                     x->fatal ? x->fatal_msg : "parser error");
            locate(x, &it->err, x->fatal ? x->fatal_line : xmlSAX2GetLineNumber(x->ctxt),
                   x->fatal ? x->fatal_col : xmlSAX2GetColumnNumber(x->ctxt));
        }
        x->ended = true;
    } else if (n == 0) {
        x->ended = true;
    }
}

int kz__xml_next(kz_xml *x, kz_doc **out, kz_error *err) {
    while (x->q_len == 0 && !x->ended) feed(x);
    if (x->q_len == 0) {
        x->r->done = true;
        return 0;
    }
    kz_xml_item *it = &x->q[x->q_head];
    x->q_head = (x->q_head + 1) % x->q_cap;
    x->q_len--;
    if (it->doc) {
        *out = it->doc;
        return 1;
    }
    if (err) *err = it->err;
    return it->err.code;
}

kz_str kz__xml_attr(int nb_attributes, const xmlChar **attrs, const char *name) {
    for (int i = 0; i < nb_attributes; i++) {
        const xmlChar **a = attrs + 5 * i;
        if (!a[1] && strcmp((const char *)a[0], name) == 0)
            return (kz_str){(const char *)a[3], (size_t)(a[4] - a[3])};
    }
    return KZ_STR_NULL;
}

int kz__xml_attr_append(kz_buf *b, kz_str raw) {
    size_t i = 0;
    while (i < raw.len) {
        const char *amp = memchr(raw.ptr + i, '&', raw.len - i);
        size_t k = amp ? (size_t)(amp - raw.ptr) : raw.len;
        int rc = kz__buf_append(b, raw.ptr + i, k - i);
        if (rc) return rc;
        i = k;
        if (amp) {
            rc = kz__buf_putc(b, '&');
            if (rc) return rc;
            i += raw.len - k >= 5 && memcmp(amp, "&#38;", 5) == 0 ? 5 : 1;
        }
    }
    return 0;
}

static bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

kz_str kz__xml_trim(kz_str s) {
    if (!s.ptr) return s;
    while (s.len && is_space(s.ptr[0])) {
        s.ptr++;
        s.len--;
    }
    while (s.len && is_space(s.ptr[s.len - 1])) s.len--;
    return s;
}

int64_t kz__xml_parse_uint(kz_str s) {
    s = kz__xml_trim(s);
    if (!s.ptr || s.len == 0 || s.len > 18) return -1;
    int64_t v = 0;
    for (size_t i = 0; i < s.len; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9') return -1;
        v = v * 10 + (s.ptr[i] - '0');
    }
    return v;
}
