/* Request bodies of `kazu serve`: Kazu's WebDocument JSON ({"text": str} or
 * {"sections": {name: str}}, alone or in a list) into documents, with limits
 * and messages that name the problem. Also the small output buffer. */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "serve.h"

/* ---- sbuf ------------------------------------------------------------------- */
static void sb_grow(sbuf *b, size_t more) {
    if (b->oom) return;
    if (b->n + more + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + more + 1) {
        if (cap > SIZE_MAX / 2) {
            b->oom = true;
            return;
        }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p) {
        b->oom = true;
        return;
    }
    b->p = p;
    b->cap = cap;
}

void sb_put(sbuf *b, const char *s, size_t n) {
    sb_grow(b, n);
    if (b->oom) return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

void sb_puts(sbuf *b, const char *s) { sb_put(b, s, strlen(s)); }

void sb_printf(sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char tmp[512];
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    if ((size_t)k < sizeof tmp) {
        sb_put(b, tmp, (size_t)k);
        return;
    }
    sb_grow(b, (size_t)k);
    if (b->oom) return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->n, (size_t)k + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

void sb_json_str(sbuf *b, const char *s, size_t n) {
    sb_put(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        sb_put(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': sb_put(b, "\\\"", 2); break;
        case '\\': sb_put(b, "\\\\", 2); break;
        case '\n': sb_put(b, "\\n", 2); break;
        case '\r': sb_put(b, "\\r", 2); break;
        case '\t': sb_put(b, "\\t", 2); break;
        default: sb_printf(b, "\\u%04x", c);
        }
    }
    sb_put(b, s + run, n - run);
    sb_put(b, "\"", 1);
}

void sb_free(sbuf *b) {
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ---- documents -------------------------------------------------------------- */
void serve_docs_free(kz_doc **docs, size_t n) {
    if (!docs) return;
    for (size_t i = 0; i < n; i++) kz_doc_free(docs[i]);
    free(docs);
}

static const char *json_type_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "something else";
}

#define FAIL(status, ...)                                                                                    \
    do {                                                                                                     \
        snprintf(msg, msg_cap, __VA_ARGS__);                                                                 \
        return (status);                                                                                     \
    } while (0)

/* One WebDocument object into a new document. */
static int web_doc(const json_t *v, size_t i, bool list, const serve_limits *lim, kz_doc **out, char *msg,
                   size_t msg_cap) {
    char where[48] = "the body";
    if (list) snprintf(where, sizeof where, "document %zu", i);
    if (!json_is_object(v))
        FAIL(400, "%s must be an object with \"text\" or \"sections\", got %s", where, json_type_name(v));
    const json_t *text = json_object_get(v, "text"), *secs = json_object_get(v, "sections");
    if (!text && !secs) FAIL(400, "%s needs a \"text\" string or a \"sections\" object", where);
    size_t total = 0;
    if (text) {
        if (!json_is_string(text))
            FAIL(400, "%s: \"text\" must be a string, got %s", where, json_type_name(text));
        total = json_string_length(text);
    } else {
        if (!json_is_object(secs))
            FAIL(400, "%s: \"sections\" must be an object of name -> text, got %s", where,
                 json_type_name(secs));
        const char *k;
        const json_t *s;
        json_object_foreach((json_t *)secs, k, s) {
            if (!json_is_string(s))
                FAIL(400, "%s: section \"%.64s\" must be a string, got %s", where, k, json_type_name(s));
            total += json_string_length(s);
        }
    }
    if (lim->max_doc && total > lim->max_doc)
        FAIL(413, "%s has %zu bytes of text; the limit is %zu", where, total, lim->max_doc);
    kz_doc *d = kz_doc_new(NULL, 0);
    if (!d) FAIL(500, "out of memory");
    kz_error err;
    kz_error_clear(&err);
    int rc = 0;
    if (text) {
        rc = kz_doc_add_section(d, "na", 2, json_string_value(text), json_string_length(text), NULL, &err);
    } else {
        const char *k;
        const json_t *s;
        json_object_foreach((json_t *)secs, k, s) {
            rc = kz_doc_add_section(d, k, strlen(k), json_string_value(s), json_string_length(s), NULL, &err);
            if (rc) break;
        }
    }
    if (rc) {
        kz_doc_free(d);
        FAIL(rc == KZ_ENOMEM ? 500 : 400, "%s: %s", where, err.msg[0] ? err.msg : kz_strerror(rc));
    }
    *out = d;
    return 0;
}

int serve_parse_docs(const char *body, size_t len, serve_shape shape, const serve_limits *lim, kz_doc ***docs,
                     size_t *n, bool *was_list, char *msg, size_t msg_cap) {
    *docs = NULL;
    *n = 0;
    *was_list = false;
    size_t bad;
    if (len == 0) FAIL(400, "empty body: expected a JSON document");
    if (!kz_utf8_valid(body, len, &bad)) FAIL(400, "invalid UTF-8 in the body at byte %zu", bad);
    json_error_t je;
    json_t *root = json_loadb(body, len, JSON_DECODE_ANY, &je);
    if (!root) FAIL(400, "malformed JSON at line %d, column %d: %s", je.line, je.column, je.text);
    int status = 0;
    bool list = json_is_array(root);
    if (list && shape == SERVE_ONE) {
        status = 422;
        snprintf(msg, msg_cap, "this route takes one document object, got an array");
    } else if (!list && shape == SERVE_LIST) {
        status = 422;
        snprintf(msg, msg_cap, "this route takes an array of documents, got %s", json_type_name(root));
    }
    size_t count = list ? json_array_size(root) : 1;
    if (!status && lim->max_docs && count > lim->max_docs) {
        status = 413;
        snprintf(msg, msg_cap, "%zu documents in one request; the limit is %zu", count, lim->max_docs);
    }
    kz_doc **v = NULL;
    size_t made = 0;
    if (!status && count) {
        v = calloc(count, sizeof *v);
        if (!v) {
            status = 500;
            snprintf(msg, msg_cap, "out of memory");
        }
    }
    for (size_t i = 0; !status && i < count; i++) {
        status = web_doc(list ? json_array_get(root, i) : root, i, list, lim, &v[i], msg, msg_cap);
        if (!status) made++;
    }
    json_decref(root);
    if (status) {
        serve_docs_free(v, made);
        return status;
    }
    *docs = v;
    *n = count;
    *was_list = list;
    return 0;
}

int serve_add_whole_section_entities(kz_doc *doc, const char *entity_class) {
    static const char ns[] = "KAZUAPILinkingOnlyRequest";
    for (uint32_t i = 0; i < doc->n_sections; i++) {
        kz_section *s = doc->sections[i];
        if (!s->text.len) continue;
        kz_span sp = {0, (int64_t)s->text.len};
        kz_entity_init in = {0};
        in.spans = &sp;
        in.n_spans = 1;
        in.match = s->text;
        in.entity_class = (kz_str){entity_class, strlen(entity_class)};
        in.namespace_ = (kz_str){ns, sizeof ns - 1};
        in.mention_confidence = KZ_MENTION_HIGHLY_LIKELY;
        int rc = kz_section_add_entity(doc, s, &in, NULL, NULL);
        if (rc) return rc;
    }
    return 0;
}
