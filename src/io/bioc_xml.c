/* BioC XML (collection/document/passage/annotation) reader and writer. Passages
 * map to sections, annotations to entities; offsets are document code points. */
#include <stdlib.h>
#include <time.h>
#include <jansson.h>
#include "xml_int.h"
#include "bioc_int.h"

/* Infon keys whose values are identifiers ("A;B" or "A,B") rather than metadata. */
/* ============================== reader ====================================== */

/* Structural elements we descend into; everything else is a leaf we capture
 * (id, infon, offset, text), an empty element we read (location, node) or a
 * subtree we skip (unknown elements). */
enum { K_NONE, K_COLLECTION, K_DOCUMENT, K_PASSAGE, K_SENTENCE, K_ANNOTATION, K_RELATION };
enum { L_ID, L_INFON, L_OFFSET, L_TEXT };
#define BC_MAX_DEPTH 8 /* collection/document/passage/sentence/annotation + leaf */
/* Charged per element against the record cap, so element floods are bounded too. */
#define BC_ELEMENT_COST 32

typedef struct bc_infon {
    kz_str key, value;
    struct bc_infon *next;
} bc_infon;

typedef struct bc_loc {
    int64_t off, len; /* -1 = not a non-negative integer */
    struct bc_loc *next;
} bc_loc;

typedef struct bc_ann {
    kz_str id; /* ptr NULL = no id attribute */
    int line;  /* where it starts, for warnings */
    bc_infon *infons, *infons_last;
    bc_loc *locs, *locs_last;
    uint32_t n_locs;
    kz_str text; /* ptr NULL = no <text> */
    struct bc_ann *next;
} bc_ann;

typedef struct bc_sent {
    int64_t off; /* -1 = missing or not a number */
    kz_str text;
    struct bc_sent *next;
} bc_sent;

typedef struct bc_passage {
    bc_infon *infons, *infons_last;
    int64_t off; /* -1 = no <offset>: follows the previous passage */
    kz_str text; /* ptr NULL = no <text> */
    bc_sent *sents, *sents_last;
    uint32_t n_sents;
    bc_ann *anns, *anns_last;
} bc_passage;

typedef struct bc_state {
    kz_xml x; /* first: the SAX ctx */
    int depth;
    int skip_depth; /* > 0: ignore everything until this element closes */
    uint8_t kind[BC_MAX_DEPTH + 1];
    int doc_depth;     /* depth of the open <document>; 0 = none */
    kz_doc *doc;       /* NULL while a failed document is skipped */
    kz_arena *scratch; /* passage/annotation buffers, reset per document */
    size_t rec_bytes;
    uint32_t n_passages;
    int64_t next_off; /* where a passage without <offset> starts */
    bc_passage p;
    bc_sent *sent;
    bc_ann *ann;
    int cap_depth, cap_leaf, cap_parent; /* leaf capture in progress */
    kz_buf cap, key;                     /* captured text; infon key */
    kz_buf tmp;                          /* sentence-joined passage text; JSON assembly */
    /* JSON members/items for the document's "infons", "relations" and "reader_warnings" */
    kz_buf infons, rels, warn, rel_infons, rel_nodes;
    kz_str rel_id;
    bool warn_oom;
} bc_state;

static kz_str doc_id(const bc_state *s) { return s->doc ? s->doc->idx : KZ_STR_NULL; }
static kz_str buf_str(const kz_buf *b) { return (kz_str){b->data ? b->data : "", b->len}; }

/* Report the document as bad and skip the rest of it; returns -1. */
static int fail_doc(bc_state *s, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_doc(bc_state *s, int code, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    kz__xml_emit_error(&s->x, code, doc_id(s), "%s", msg);
    kz_doc_free(s->doc);
    s->doc = NULL;
    s->cap_depth = 0;
    if (s->depth >= s->doc_depth) s->skip_depth = s->doc_depth;
    return -1;
}

/* A recovered problem (one annotation or sentence dropped): the document is
 * kept and lists it in its "reader_warnings" metadata, as the other readers
 * do. Returns 0 so callers can `return warn(...)` and carry on. */
static int warn(bc_state *s, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int warn(bc_state *s, int line, const char *fmt, ...) {
    char msg[600];
    int n = snprintf(msg, sizeof msg, "line %d: ", line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    size_t len = strlen(msg), bad;
    while (!kz_utf8_valid(msg, len, &bad)) msg[bad] = '?'; /* excerpts may be cut mid-character */
    if ((s->warn.len && kz__buf_puts(&s->warn, ", ")) || kz__json_put_string(&s->warn, msg, len, false))
        s->warn_oom = true; /* reported when the document completes */
    s->x.r->nwarnings++;
    kz_log(KZ_LOG_WARN, "%s: document %s: %s", s->x.r->name, s->doc->idx.ptr, msg);
    return 0;
}

static bool charge(bc_state *s, size_t n) {
    s->rec_bytes += n;
    if (s->rec_bytes <= s->x.r->p.max_record_bytes) return true;
    fail_doc(s, KZ_ELIMIT, "document larger than the record limit of %zu bytes", s->x.r->p.max_record_bytes);
    return false;
}

static kz_str scratch_dup(bc_state *s, kz_str v) {
    kz_str c = kz_arena_strdup(s->scratch, v.ptr ? v.ptr : "", v.len);
    if (!c.ptr) fail_doc(s, KZ_ENOMEM, "out of memory");
    return c;
}

static void *scratch_new(bc_state *s, size_t size) {
    void *p = kz_arena_calloc(s->scratch, 1, size);
    if (!p) fail_doc(s, KZ_ENOMEM, "out of memory");
    return p;
}

static kz_str infon_get(const bc_infon *in, const char *key) {
    for (; in; in = in->next)
        if (kz_str_eq_c(in->key, key)) return in->value;
    return KZ_STR_NULL;
}

/* Append `"key": "value"` (a JSON object member) or `"value"` (key NULL) to b. */
static bool put_json_member(bc_state *s, kz_buf *b, const kz_str *key, kz_str value) {
    int rc = b->len ? kz__buf_puts(b, ", ") : 0;
    if (!rc && key) rc = kz__json_put_string(b, key->ptr, key->len, false);
    if (!rc && key) rc = kz__buf_puts(b, ": ");
    if (!rc) rc = kz__json_put_string(b, value.ptr, value.len, false);
    if (rc) fail_doc(s, KZ_ENOMEM, "out of memory");
    return !rc;
}

/* Copy an attribute value (decoded) into scratch; KZ_STR_NULL if absent. */
static kz_str attr_dup(bc_state *s, int nb_attributes, const xmlChar **attrs, const char *name) {
    kz_str raw = kz__xml_attr(nb_attributes, attrs, name);
    if (!raw.ptr) return KZ_STR_NULL;
    kz__buf_clear(&s->key);
    if (kz__xml_attr_append(&s->key, raw)) {
        fail_doc(s, KZ_ENOMEM, "out of memory");
        return KZ_STR_NULL;
    }
    return scratch_dup(s, buf_str(&s->key));
}

static void begin_leaf(bc_state *s, int leaf, int parent, int nb_attributes, const xmlChar **attrs) {
    s->cap_depth = s->depth;
    s->cap_leaf = leaf;
    s->cap_parent = parent;
    kz__buf_clear(&s->cap);
    kz__buf_clear(&s->key);
    if (leaf == L_INFON) {
        kz_str k = kz__xml_attr(nb_attributes, attrs, "key");
        if (k.ptr && kz__xml_attr_append(&s->key, k)) fail_doc(s, KZ_ENOMEM, "out of memory");
    }
}

static void add_location(bc_state *s, int nb_attributes, const xmlChar **attrs) {
    bc_loc *l = scratch_new(s, sizeof *l);
    if (!l) return;
    l->off = kz__xml_parse_uint(kz__xml_attr(nb_attributes, attrs, "offset"));
    l->len = kz__xml_parse_uint(kz__xml_attr(nb_attributes, attrs, "length"));
    if (s->ann->locs_last)
        s->ann->locs_last->next = l;
    else
        s->ann->locs = l;
    s->ann->locs_last = l;
    s->ann->n_locs++;
}

static void add_node(bc_state *s, int nb_attributes, const xmlChar **attrs) {
    kz_str refid = attr_dup(s, nb_attributes, attrs, "refid"),
           role = attr_dup(s, nb_attributes, attrs, "role");
    if (!s->doc) return;
    kz_buf *b = &s->rel_nodes;
    int rc = kz__buf_puts(b, b->len ? ", {" : "{");
    if (!rc && refid.ptr) rc = kz__buf_puts(b, "\"refid\": ");
    if (!rc && refid.ptr) rc = kz__json_put_string(b, refid.ptr, refid.len, false);
    if (!rc && role.ptr) rc = kz__buf_puts(b, refid.ptr ? ", \"role\": " : "\"role\": ");
    if (!rc && role.ptr) rc = kz__json_put_string(b, role.ptr, role.len, false);
    if (!rc) rc = kz__buf_putc(b, '}');
    if (rc) fail_doc(s, KZ_ENOMEM, "out of memory");
}

static void start_document(bc_state *s) {
    kz_arena_reset(s->scratch);
    s->doc = kz_doc_new(NULL, 0); /* random id until <id> arrives, as Kazu does */
    s->doc_depth = s->depth;
    s->rec_bytes = 0;
    s->n_passages = 0;
    s->next_off = 0;
    kz__buf_clear(&s->infons);
    kz__buf_clear(&s->rels);
    kz__buf_clear(&s->warn);
    s->warn_oom = false;
    if (!s->doc) fail_doc(s, KZ_ENOMEM, "out of memory");
}

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
                     int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
                     const xmlChar **attrs) {
    bc_state *s = ctx;
    const char *n = (const char *)localname;
    if (++s->depth > KZ_XML_MAX_DEPTH) {
        kz__xml_stop(&s->x, KZ_ELIMIT, "elements nested deeper than %d", KZ_XML_MAX_DEPTH);
        return;
    }
    if (s->skip_depth || s->cap_depth) return; /* skipped subtree, or inline markup in a leaf */
    if (s->doc_depth) {
        size_t cost = BC_ELEMENT_COST;
        for (int i = 0; i < nb_attributes; i++) cost += (size_t)(attrs[5 * i + 4] - attrs[5 * i + 3]);
        if (!charge(s, cost)) return;
    }
    int parent = s->depth > 1 && s->depth - 1 <= BC_MAX_DEPTH ? s->kind[s->depth - 1] : K_NONE;
    int kind = -1, leaf = -1;
    bool infon = strcmp(n, "infon") == 0, text = strcmp(n, "text") == 0, offset = strcmp(n, "offset") == 0;
    switch (parent) {
    case K_NONE:
        if (s->depth == 1 && strcmp(n, "collection") == 0)
            kind = K_COLLECTION;
        else if (s->depth == 1)
            kz__xml_emit_error(&s->x, KZ_EFORMAT, KZ_STR_NULL,
                               "root element <%.80s> is not a BioC <collection>", n);
        break;
    case K_COLLECTION: /* source, date, key and collection infons are not kept */
        if (strcmp(n, "document") == 0) {
            start_document(s);
            kind = K_DOCUMENT;
        }
        break;
    case K_DOCUMENT:
        if (strcmp(n, "id") == 0)
            leaf = L_ID;
        else if (infon)
            leaf = L_INFON;
        else if (strcmp(n, "passage") == 0) {
            memset(&s->p, 0, sizeof s->p);
            s->p.off = -1;
            kind = K_PASSAGE;
        }
        break;
    case K_PASSAGE:
    case K_SENTENCE: /* sentence infons are not kept */
        if (offset)
            leaf = L_OFFSET;
        else if (text)
            leaf = L_TEXT;
        else if (parent == K_PASSAGE && infon)
            leaf = L_INFON;
        else if (parent == K_PASSAGE && strcmp(n, "sentence") == 0) {
            if (!(s->sent = scratch_new(s, sizeof *s->sent))) return;
            s->sent->off = -1;
            kind = K_SENTENCE;
        } else if (strcmp(n, "annotation") == 0) {
            if (!(s->ann = scratch_new(s, sizeof *s->ann))) return;
            s->ann->id = attr_dup(s, nb_attributes, attrs, "id");
            s->ann->line = xmlSAX2GetLineNumber(s->x.ctxt);
            kind = K_ANNOTATION;
        }
        break;
    case K_ANNOTATION:
        if (infon)
            leaf = L_INFON;
        else if (text)
            leaf = L_TEXT;
        else if (strcmp(n, "location") == 0)
            add_location(s, nb_attributes, attrs);
        break;
    case K_RELATION:
        if (infon)
            leaf = L_INFON;
        else if (strcmp(n, "node") == 0)
            add_node(s, nb_attributes, attrs);
        break;
    }
    if ((parent == K_DOCUMENT || parent == K_PASSAGE || parent == K_SENTENCE) && strcmp(n, "relation") == 0) {
        kz__buf_clear(&s->rel_infons);
        kz__buf_clear(&s->rel_nodes);
        s->rel_id = attr_dup(s, nb_attributes, attrs, "id");
        kind = K_RELATION;
    }
    if (s->skip_depth) return; /* the document failed above */
    if (leaf >= 0)
        begin_leaf(s, leaf, parent, nb_attributes, attrs);
    else if (kind >= 0 && s->depth <= BC_MAX_DEPTH)
        s->kind[s->depth] = (uint8_t)kind;
    else
        s->skip_depth = s->depth; /* location, node, unknown: nothing inside matters */
}

static void on_text(void *ctx, const xmlChar *ch, int len) {
    bc_state *s = ctx;
    if (!s->cap_depth || s->skip_depth || !charge(s, (size_t)len)) return;
    if (kz__buf_append(&s->cap, ch, (size_t)len)) fail_doc(s, KZ_ENOMEM, "out of memory");
}

/* Only reached for entities the document declares (or that an unloaded DTD
 * might): they are never expanded, so the text and its offsets would be wrong. */
static void on_reference(void *ctx, const xmlChar *name) {
    bc_state *s = ctx;
    if (s->cap_depth && !s->skip_depth)
        fail_doc(s, KZ_EPARSE, "entity reference &%.80s; cannot be expanded (entities are disabled)",
                 (const char *)name);
}

static void append_infon(bc_state *s, bc_infon **first, bc_infon **last, kz_str value) {
    bc_infon *in = scratch_new(s, sizeof *in);
    if (!in) return;
    in->key = scratch_dup(s, buf_str(&s->key));
    in->value = scratch_dup(s, value);
    if (*last)
        (*last)->next = in;
    else
        *first = in;
    *last = in;
}

static void finish_leaf(bc_state *s) {
    kz_str v = buf_str(&s->cap), key = buf_str(&s->key);
    switch (s->cap_leaf) {
    case L_ID: {
        kz_str t = kz__xml_trim(v);
        kz_str id = kz_arena_strdup(s->doc->arena, t.ptr, t.len);
        if (id.ptr)
            s->doc->idx = id;
        else
            fail_doc(s, KZ_ENOMEM, "out of memory");
        return;
    }
    case L_INFON:
        if (s->cap_parent == K_DOCUMENT)
            put_json_member(s, &s->infons, &key, v);
        else if (s->cap_parent == K_RELATION)
            put_json_member(s, &s->rel_infons, &key, v);
        else if (s->cap_parent == K_PASSAGE)
            append_infon(s, &s->p.infons, &s->p.infons_last, v);
        else
            append_infon(s, &s->ann->infons, &s->ann->infons_last, v);
        return;
    case L_OFFSET:
        if (s->cap_parent == K_SENTENCE) {
            s->sent->off = kz__xml_parse_uint(v); /* -1 drops the sentence with a warning */
        } else if ((s->p.off = kz__xml_parse_uint(v)) < 0) {
            fail_doc(s, KZ_EPARSE, "passage %u: offset '%.*s' is not a non-negative integer", s->n_passages,
                     (int)KZ_MIN(v.len, 40), v.ptr);
        }
        return;
    case L_TEXT: {
        kz_str t = scratch_dup(s, v);
        if (s->cap_parent == K_PASSAGE)
            s->p.text = t;
        else if (s->cap_parent == K_SENTENCE)
            s->sent->text = t;
        else
            s->ann->text = t;
        return;
    }
    }
}

static int add_mappings(bc_state *s, kz_entity *ent, kz_str key, kz_str ids) {
    int rc = kz__bioc_add_mappings(s->doc, ent, key, ids);
    return rc ? fail_doc(s, rc, "%s", kz_strerror(rc)) : 0;
}

/* Annotation -> entity in sec (cp_len code points). A bad annotation is
 * dropped with a warning; only running out of memory fails (returns -1). */
static int add_annotation(bc_state *s, kz_section *sec, const kz_offset_map *map, int64_t cp_len,
                          const bc_ann *a) {
    kz_doc *d = s->doc;
    char name[80];
    if (a->id.ptr)
        snprintf(name, sizeof name, "annotation \"%.*s\"", (int)KZ_MIN(a->id.len, 40), a->id.ptr);
    else
        snprintf(name, sizeof name, "annotation without id");
    kz_str cls = infon_get(a->infons, "type");
    if (!cls.ptr) return warn(s, a->line, "%s has no <infon key=\"type\">; skipped", name);
    if (!a->n_locs) return warn(s, a->line, "%s has no <location>; skipped", name);
    kz_span *spans = kz_arena_alloc(s->scratch, a->n_locs * sizeof *spans);
    if (!spans) return fail_doc(s, KZ_ENOMEM, "out of memory");
    uint32_t k = 0;
    for (const bc_loc *l = a->locs; l; l = l->next, k++) {
        int64_t rel = l->off - s->p.off;
        if (l->off < 0 || l->len < 0)
            return warn(s, a->line, "%s: a <location> needs integer offset and length; skipped", name);
        if (rel < 0 || l->len == 0 || l->len > cp_len - rel)
            return warn(s, a->line,
                        "%s: location [%lld, +%lld) is outside passage \"%s\" [%lld, %lld); skipped", name,
                        (long long)l->off, (long long)l->len, sec->name.ptr, (long long)s->p.off,
                        (long long)(s->p.off + cp_len));
        spans[k].start = kz_offset_map_to_byte(map, rel);
        spans[k].end = kz_offset_map_to_byte(map, rel + l->len);
    }
    /* A text that disagrees with the offsets means the offsets count something else. */
    kz_str at = {sec->text.ptr + spans[0].start, (size_t)(spans[0].end - spans[0].start)};
    if (a->n_locs == 1 && a->text.ptr && !kz_str_eq(a->text, at))
        return warn(s, a->line,
                    "%s: text \"%.*s\" differs from the passage text \"%.*s\" at its location; skipped", name,
                    (int)KZ_MIN(a->text.len, 60), a->text.ptr, (int)KZ_MIN(at.len, 60), at.ptr);
    kz_entity_init init = {
        .spans = spans,
        .n_spans = a->n_locs,
        .match = a->text,
        .join_str = " ",
        .entity_class = cls,
        .namespace_ = kz_str_c("BioC"),
        .mention_confidence = KZ_MENTION_HIGHLY_LIKELY,
    };
    kz_entity *ent;
    kz_error e;
    kz_error_clear(&e);
    int rc = kz_section_add_entity(d, sec, &init, &ent, &e);
    if (rc == KZ_ENOMEM) return fail_doc(s, rc, "out of memory");
    if (rc) return warn(s, a->line, "%s: %s; skipped", name, e.msg);
    if (a->id.ptr && kz_meta_set_string(d, &ent->metadata, kz_str_c("bioc_id"), a->id))
        return fail_doc(s, KZ_ENOMEM, "out of memory");
    for (const bc_infon *in = a->infons; in; in = in->next) {
        if (kz_str_eq_c(in->key, "type")) continue;
        if (kz__bioc_is_id_key(in->key))
            rc = add_mappings(s, ent, in->key, in->value);
        else if (kz_meta_set_string(d, &ent->metadata, in->key, in->value))
            rc = fail_doc(s, KZ_ENOMEM, "out of memory");
        if (rc) return -1;
    }
    return 0;
}

/* Sentence-only passage: sentences' text placed at their offsets, gaps as
 * spaces; spans[k] gets each placed sentence (n_out of them). */
static int join_sentences(bc_state *s, kz_span *spans, uint32_t *n_out) {
    kz__buf_clear(&s->tmp);
    if (kz__buf_reserve(&s->tmp, 0)) return fail_doc(s, KZ_ENOMEM, "out of memory");
    int64_t cur = 0; /* code points so far */
    uint32_t k = 0, n = 0;
    for (const bc_sent *t = s->p.sents; t; t = t->next, k++) {
        int64_t rel = t->off - s->p.off;
        if (t->off < 0 || rel < cur) {
            warn(s, xmlSAX2GetLineNumber(s->x.ctxt), "passage %u: sentence %u has %s offset; skipped",
                 s->n_passages, k, t->off < 0 ? "no valid" : "an overlapping or out-of-passage");
            continue;
        }
        if (!charge(s, (size_t)(rel - cur))) return -1;
        for (; cur < rel; cur++)
            if (kz__buf_putc(&s->tmp, ' ')) return fail_doc(s, KZ_ENOMEM, "out of memory");
        spans[n].start = (int64_t)s->tmp.len;
        if (kz__buf_append(&s->tmp, t->text.ptr ? t->text.ptr : "", t->text.len))
            return fail_doc(s, KZ_ENOMEM, "out of memory");
        spans[n++].end = (int64_t)s->tmp.len;
        cur += (int64_t)kz_utf8_count(t->text.ptr ? t->text.ptr : "", t->text.len);
    }
    *n_out = n;
    return 0;
}

/* Sentences of a passage with text mark spans of it; bad ones are dropped. */
static uint32_t sentence_spans(bc_state *s, const kz_offset_map *map, int64_t cp_len, kz_span *spans) {
    uint32_t k = 0, n = 0;
    for (const bc_sent *t = s->p.sents; t; t = t->next, k++) {
        int64_t rel = t->off - s->p.off;
        int64_t len = (int64_t)kz_utf8_count(t->text.ptr ? t->text.ptr : "", t->text.len);
        if (t->off < 0 || rel < 0 || rel > cp_len || len > cp_len - rel) {
            warn(s, xmlSAX2GetLineNumber(s->x.ctxt),
                 "passage %u: sentence %u at offset %lld is outside the passage; skipped", s->n_passages, k,
                 (long long)t->off);
            continue;
        }
        spans[n].start = kz_offset_map_to_byte(map, rel);
        spans[n++].end = kz_offset_map_to_byte(map, rel + len);
    }
    return n;
}

static int finish_passage(bc_state *s) {
    kz_doc *d = s->doc;
    bc_passage *p = &s->p;
    uint32_t pi = s->n_passages;
    kz_str name = infon_get(p->infons, "type");
    const char *name_key = "type";
    if (!name.ptr) {
        name = infon_get(p->infons, "section_type");
        name_key = "section_type";
    }
    char nbuf[32];
    if (!name.ptr) {
        snprintf(nbuf, sizeof nbuf, "passage%u", pi);
        name = kz_str_c(nbuf);
        name_key = NULL;
    }
    if (p->off < 0) p->off = s->next_off; /* no <offset>: right after the previous passage */
    kz_span *sspans = p->n_sents ? kz_arena_alloc(s->scratch, p->n_sents * sizeof *sspans) : NULL;
    if (p->n_sents && !sspans) return fail_doc(s, KZ_ENOMEM, "out of memory");
    uint32_t n_sspans = 0;
    kz_str text = p->text;
    if (!text.ptr && p->sents) {
        if (join_sentences(s, sspans, &n_sspans)) return -1;
        text = buf_str(&s->tmp);
    }
    kz_section *sec;
    kz_error e;
    kz_error_clear(&e);
    if (kz_doc_add_section(d, name.ptr, name.len, text.ptr ? text.ptr : "", text.len, &sec, &e))
        return fail_doc(s, e.code, "passage %u: %s", pi, e.msg);
    s->n_passages++;
    for (const bc_infon *in = p->infons; in; in = in->next) {
        if (name_key && kz_str_eq_c(in->key, name_key)) continue;
        if (kz_meta_set_string(d, &sec->metadata, in->key, in->value))
            return fail_doc(s, KZ_ENOMEM, "out of memory");
    }
    kz_offset_map *map = kz_offset_map_new(s->scratch, sec->text.ptr, sec->text.len);
    if (!map) return fail_doc(s, KZ_ENOMEM, "out of memory");
    int64_t cp_len = kz_offset_map_cp_len(map);
    s->next_off = p->off + cp_len + 1;
    if (p->sents && p->text.ptr) n_sspans = sentence_spans(s, map, cp_len, sspans);
    if (p->sents && kz_section_set_sentence_spans(d, sec, sspans, n_sspans, &e))
        return fail_doc(s, e.code, "passage %u: %s", pi, e.msg);
    for (const bc_ann *a = p->anns; a; a = a->next)
        if (add_annotation(s, sec, map, cp_len, a)) return -1;
    return 0;
}

static void finish_relation(bc_state *s) {
    kz_buf *b = &s->rels;
    int rc = kz__buf_puts(b, b->len ? ", {" : "{");
    if (!rc && s->rel_id.ptr) {
        rc = kz__buf_puts(b, "\"id\": ");
        if (!rc) rc = kz__json_put_string(b, s->rel_id.ptr, s->rel_id.len, false);
        if (!rc) rc = kz__buf_puts(b, ", ");
    }
    if (!rc) rc = kz__buf_puts(b, "\"infons\": {");
    if (!rc) rc = kz__buf_append(b, s->rel_infons.data ? s->rel_infons.data : "", s->rel_infons.len);
    if (!rc) rc = kz__buf_puts(b, "}, \"nodes\": [");
    if (!rc) rc = kz__buf_append(b, s->rel_nodes.data ? s->rel_nodes.data : "", s->rel_nodes.len);
    if (!rc) rc = kz__buf_puts(b, "]}");
    if (rc) fail_doc(s, KZ_ENOMEM, "out of memory");
}

/* metadata[key] = open items close, when there are items. */
static int set_json_meta(bc_state *s, const char *key, char open, const kz_buf *items, char close) {
    if (!items->len) return 0;
    kz__buf_clear(&s->tmp);
    int rc = kz__buf_putc(&s->tmp, open);
    if (!rc) rc = kz__buf_append(&s->tmp, items->data, items->len);
    if (!rc) rc = kz__buf_putc(&s->tmp, close);
    if (!rc) rc = kz_meta_set_json(s->doc, &s->doc->metadata, kz_str_c(key), buf_str(&s->tmp));
    return rc ? fail_doc(s, rc, "cannot set metadata \"%s\": %s", key, kz_strerror(rc)) : 0;
}

static void finish_document(bc_state *s) {
    s->doc_depth = 0;
    if (s->warn_oom) {
        fail_doc(s, KZ_ENOMEM, "out of memory");
        return;
    }
    if (set_json_meta(s, "infons", '{', &s->infons, '}') ||
        set_json_meta(s, "relations", '[', &s->rels, ']') ||
        set_json_meta(s, "reader_warnings", '[', &s->warn, ']'))
        return;
    kz__xml_emit_doc(&s->x, s->doc);
    s->doc = NULL;
}

static void on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri) {
    bc_state *s = ctx;
    int depth = s->depth--;
    if (s->skip_depth) {
        if (depth != s->skip_depth) return;
        s->skip_depth = 0;
        if (depth == s->doc_depth) s->doc_depth = 0; /* failed document: already reported */
        return;
    }
    if (s->cap_depth) {
        if (depth != s->cap_depth) return;
        s->cap_depth = 0;
        finish_leaf(s);
        return;
    }
    switch (depth <= BC_MAX_DEPTH ? s->kind[depth] : K_NONE) {
    case K_DOCUMENT: finish_document(s); break;
    case K_PASSAGE: finish_passage(s); break; /* a failure is already queued */
    case K_RELATION: finish_relation(s); break;
    case K_SENTENCE:
        if (s->p.sents_last)
            s->p.sents_last->next = s->sent;
        else
            s->p.sents = s->sent;
        s->p.sents_last = s->sent;
        s->p.n_sents++;
        break;
    case K_ANNOTATION:
        if (s->p.anns_last)
            s->p.anns_last->next = s->ann;
        else
            s->p.anns = s->ann;
        s->p.anns_last = s->ann;
        break;
    }
    if (depth <= BC_MAX_DEPTH) s->kind[depth] = K_NONE;
}

static int bc_next(kz_reader *r, kz_doc **out, kz_error *err) { return kz__xml_next(r->state, out, err); }

static void bc_close(kz_reader *r) {
    bc_state *s = r->state;
    if (!s) return;
    kz__xml_close(&s->x);
    kz_doc_free(s->doc);
    kz_arena_free(s->scratch);
    kz_buf *bufs[] = {&s->cap,  &s->key,  &s->tmp,        &s->infons,
                      &s->rels, &s->warn, &s->rel_infons, &s->rel_nodes};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) kz__buf_free(bufs[i]);
    free(s);
    r->state = NULL;
}

static const kz_reader_vt k_bioc_vt = {bc_next, bc_close};

int kz__reader_init_bioc_xml(kz_reader *r, kz_error *err) {
    bc_state *s = calloc(1, sizeof *s);
    if (!s) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    r->state = s;
    r->vt = &k_bioc_vt;
    s->scratch = kz_arena_new(0);
    if (!s->scratch) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    xmlSAXHandler h = {0};
    h.startElementNs = on_start;
    h.endElementNs = on_end;
    h.characters = on_text;
    h.reference = on_reference;
    return kz__xml_open(&s->x, r, &h, err);
}

/* ============================== writer ====================================== */

/* XML 1.0 escaping that keeps code-point offsets: each character becomes one
 * character after parsing. CR is written as &#13; (a literal one would be
 * normalised away), and characters XML 1.0 cannot carry (C0 controls other
 * than TAB/LF/CR, U+FFFE, U+FFFF, invalid bytes) become U+FFFD. */
static int put_esc(kz_buf *b, const char *s, size_t n, bool attr) {
    size_t i = 0, run = 0; /* run: start of pending bytes copied verbatim */
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        const char *rep = NULL;
        size_t adv = 1;
        if (c < 0x80) {
            if (c == '&')
                rep = "&amp;";
            else if (c == '<')
                rep = "&lt;";
            else if (c == '>')
                rep = "&gt;";
            else if (c == '\r')
                rep = "&#13;";
            else if (attr && c == '"')
                rep = "&quot;";
            else if (attr && c == '\t')
                rep = "&#9;";
            else if (attr && c == '\n')
                rep = "&#10;";
            else if (c < 0x20 && c != '\t' && c != '\n')
                rep = "\xEF\xBF\xBD";
        } else {
            size_t j = i;
            int32_t cp = kz_utf8_decode(s, n, &j);
            adv = j - i;
            if (cp < 0 || cp == 0xFFFE || cp == 0xFFFF) rep = "\xEF\xBF\xBD";
        }
        if (rep) {
            int rc = kz__buf_append(b, s + run, i - run);
            if (!rc) rc = kz__buf_puts(b, rep);
            if (rc) return rc;
            run = i + adv;
        }
        i += adv;
    }
    return kz__buf_append(b, s + run, n - run);
}

static int put_elem(kz_buf *b, const char *tag, kz_str v) {
    int rc = kz__buf_printf(b, "<%s>", tag);
    if (!rc) rc = put_esc(b, v.ptr ? v.ptr : "", v.len, false);
    if (!rc) rc = kz__buf_printf(b, "</%s>", tag);
    return rc;
}

static int put_attr(kz_buf *b, const char *name, kz_str v) {
    int rc = kz__buf_printf(b, " %s=\"", name);
    if (!rc) rc = put_esc(b, v.ptr ? v.ptr : "", v.len, true);
    if (!rc) rc = kz__buf_putc(b, '"');
    return rc;
}

static int put_infon(kz_buf *b, kz_str key, kz_str value) {
    int rc = kz__buf_puts(b, "<infon");
    if (!rc) rc = put_attr(b, "key", key);
    if (!rc) rc = kz__buf_putc(b, '>');
    if (!rc) rc = put_esc(b, value.ptr ? value.ptr : "", value.len, false);
    if (!rc) rc = kz__buf_puts(b, "</infon>");
    return rc;
}

/* A kz_meta value (valid JSON text) as a jansson value; NULL only on OOM. */
static json_t *load_json(kz_str raw) {
    return json_loadb(raw.ptr, raw.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
}

/* Infons carry text: a JSON string as its text, any other value as JSON. */
static int put_json_infon(kz_buf *b, kz_str key, const json_t *v) {
    if (json_is_string(v)) return put_infon(b, key, (kz_str){json_string_value(v), json_string_length(v)});
    char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!t) return KZ_ENOMEM;
    int rc = put_infon(b, key, kz_str_c(t));
    free(t);
    return rc;
}

static bool in_list(kz_str key, const char *const *list) {
    for (; *list; list++)
        if (kz_str_eq_c(key, *list)) return true;
    return false;
}

/* Metadata entries as infons, except keys in skip (NULL-terminated), identifier
 * keys when skip_ids, and members of `taken` (an object already written). */
static int put_meta_infons(kz_buf *b, const kz_meta *m, const char *const *skip, bool skip_ids,
                           const json_t *taken) {
    for (uint32_t i = 0; i < m->n; i++) {
        kz_str k = m->items[i].key;
        if (in_list(k, skip) || (skip_ids && kz__bioc_is_id_key(k)) || json_object_get(taken, k.ptr))
            continue;
        json_t *v = load_json(m->items[i].value);
        if (!v) return KZ_ENOMEM;
        int rc = put_json_infon(b, k, v);
        json_decref(v);
        if (rc) return rc;
    }
    return 0;
}

/* One infon per key, ids joined with ';', keys in order of first use. */
static int put_mappings(kz_buf *b, const kz_entity *e) {
    kz_buf ids;
    kz__buf_init(&ids, 0);
    int rc = 0;
    for (uint32_t i = 0; !rc && i < e->n_mappings; i++) {
        kz_str key;
        rc = kz__bioc_ids_for_key(e, i, &key, &ids);
        if (rc <= 0) continue;
        rc = kz__buf_puts(b, "<infon");
        if (!rc) rc = put_attr(b, "key", key);
        if (!rc) rc = kz__buf_putc(b, '>');
        if (!rc) rc = put_esc(b, ids.data, ids.len, false);
        if (!rc) rc = kz__buf_puts(b, "</infon>");
    }
    kz__buf_free(&ids);
    return rc;
}

/* The annotation id: the one read from BioC ("bioc_id"), else a running number. */
static int put_annotation_id(kz_buf *b, const kz_entity *e, unsigned n) {
    kz_str raw = kz_meta_get(&e->metadata, "bioc_id");
    json_t *v = raw.ptr ? load_json(raw) : NULL;
    if (raw.ptr && !v) return KZ_ENOMEM;
    int rc = json_is_string(v) ? put_attr(b, "id", (kz_str){json_string_value(v), json_string_length(v)})
                               : kz__buf_printf(b, " id=\"%u\"", n);
    json_decref(v);
    return rc;
}

static const char *const k_entity_skip[] = {"type", "bioc_id", NULL};
static const char *const k_section_skip[] = {"type", NULL};
static const char *const k_doc_skip[] = {"infons", "relations", "reader_warnings", NULL};

static int put_entity(kz_buf *b, const kz_entity *e, const kz_offset_map *map, int64_t sec_off, unsigned n) {
    int rc = kz__buf_puts(b, "<annotation");
    if (!rc) rc = put_annotation_id(b, e, n);
    if (!rc) rc = kz__buf_putc(b, '>');
    if (!rc) rc = put_infon(b, kz_str_c("type"), e->entity_class);
    if (!rc) rc = put_mappings(b, e);
    if (!rc) rc = put_meta_infons(b, &e->metadata, k_entity_skip, true, NULL);
    for (uint32_t i = 0; !rc && i < e->n_spans; i++) {
        int64_t a = kz_offset_map_to_cp(map, e->spans[i].start),
                z = kz_offset_map_to_cp(map, e->spans[i].end);
        rc = kz__buf_printf(b, "<location offset=\"%lld\" length=\"%lld\"/>", (long long)(sec_off + a),
                            (long long)(z - a));
    }
    if (!rc) rc = put_elem(b, "text", e->match);
    if (!rc) rc = kz__buf_puts(b, "</annotation>\n");
    return rc;
}

static int put_section(kz_buf *b, const kz_section *sec, int64_t off, const kz_offset_map *map,
                       unsigned *n_ann) {
    int rc = kz__buf_puts(b, "<passage>");
    if (!rc) rc = put_infon(b, kz_str_c("type"), sec->name);
    if (!rc) rc = put_meta_infons(b, &sec->metadata, k_section_skip, false, NULL);
    if (!rc) rc = kz__buf_printf(b, "<offset>%lld</offset>", (long long)off);
    if (!rc) rc = put_elem(b, "text", sec->text);
    if (!rc) rc = kz__buf_putc(b, '\n');
    for (uint32_t i = 0; !rc && sec->sentence_spans && i < sec->n_sentence_spans; i++) {
        kz_span sp = sec->sentence_spans[i];
        rc = kz__buf_printf(b, "<sentence><offset>%lld</offset>",
                            (long long)(off + kz_offset_map_to_cp(map, sp.start)));
        if (!rc) rc = put_elem(b, "text", (kz_str){sec->text.ptr + sp.start, (size_t)(sp.end - sp.start)});
        if (!rc) rc = kz__buf_puts(b, "</sentence>\n");
    }
    for (uint32_t i = 0; !rc && i < sec->n_entities; i++)
        rc = put_entity(b, sec->entities[i], map, off, ++*n_ann);
    if (!rc) rc = kz__buf_puts(b, "</passage>\n");
    return rc;
}

/* Relations kept by a BioC reader in metadata "relations" (BioC JSON shape). */
static int put_relations(kz_buf *b, const json_t *rels) {
    size_t i;
    const json_t *rel;
    json_array_foreach(rels, i, rel) {
        const json_t *id = json_object_get(rel, "id"), *infons = json_object_get(rel, "infons");
        const json_t *nodes = json_object_get(rel, "nodes");
        int rc = kz__buf_puts(b, "<relation");
        if (!rc && json_is_string(id))
            rc = put_attr(b, "id", (kz_str){json_string_value(id), json_string_length(id)});
        if (!rc) rc = kz__buf_putc(b, '>');
        const char *k;
        const json_t *v;
        json_object_foreach((json_t *)infons, k, v) if (!rc) rc = put_json_infon(b, kz_str_c(k), v);
        size_t j;
        const json_t *node;
        json_array_foreach(nodes, j, node) {
            const json_t *refid = json_object_get(node, "refid"), *role = json_object_get(node, "role");
            if (!rc) rc = kz__buf_puts(b, "<node");
            if (!rc && json_is_string(refid))
                rc = put_attr(b, "refid", (kz_str){json_string_value(refid), json_string_length(refid)});
            if (!rc && json_is_string(role))
                rc = put_attr(b, "role", (kz_str){json_string_value(role), json_string_length(role)});
            if (!rc) rc = kz__buf_puts(b, "/>");
        }
        if (!rc) rc = kz__buf_puts(b, "</relation>\n");
        if (rc) return rc;
    }
    return 0;
}

static int bw_begin(kz_writer *w, kz_error *err) {
    char date[16] = "19700101";
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm)) strftime(date, sizeof date, "%Y%m%d", &tm);
    int rc = kz__buf_printf(
        &w->out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE collection SYSTEM \"BioC.dtd\">\n"
        "<collection><source>kazu-c</source><date>%s</date><key>kazu.key</key>\n",
        date);
    return rc ? kz_error_set(err, rc, "%s", kz_strerror(rc)) : kz__writer_flush(w, err);
}

static int put_document(kz_buf *b, const kz_doc *doc, kz_arena *tmp) {
    kz_str raw_infons = kz_meta_get(&doc->metadata, "infons"),
           raw_rels = kz_meta_get(&doc->metadata, "relations");
    json_t *infons = raw_infons.ptr ? load_json(raw_infons) : NULL,
           *rels = raw_rels.ptr ? load_json(raw_rels) : NULL;
    int rc = (raw_infons.ptr && !infons) || (raw_rels.ptr && !rels) ? KZ_ENOMEM : 0;
    if (!rc) rc = kz__buf_puts(b, "<document>");
    if (!rc) rc = put_elem(b, "id", doc->idx);
    /* Document infons: what a BioC reader kept in "infons", then the other metadata. */
    const char *k;
    const json_t *v;
    if (json_is_object(infons))
        json_object_foreach(infons, k, v) if (!rc) rc = put_json_infon(b, kz_str_c(k), v);
    if (!rc)
        rc = put_meta_infons(b, &doc->metadata, k_doc_skip, false, json_is_object(infons) ? infons : NULL);
    if (!rc) rc = kz__buf_putc(b, '\n');
    /* Sections are one code point apart, so each passage's span of the
     * document is distinct and annotations stay inside their passage. */
    int64_t off = 0;
    unsigned n_ann = 0;
    for (uint32_t i = 0; !rc && i < doc->n_sections; i++) {
        const kz_section *sec = doc->sections[i];
        kz_offset_map *map = kz_offset_map_new(tmp, sec->text.ptr, sec->text.len);
        if (!map) rc = KZ_ENOMEM;
        if (!rc) rc = put_section(b, sec, off, map, &n_ann);
        if (!rc) off += kz_offset_map_cp_len(map) + 1;
    }
    if (!rc && json_is_array(rels)) rc = put_relations(b, rels);
    if (!rc) rc = kz__buf_puts(b, "</document>\n");
    json_decref(infons);
    json_decref(rels);
    return rc;
}

static int bw_write(kz_writer *w, const kz_doc *doc, kz_error *err) {
    kz_arena_reset(w->state); /* the writer's state: an arena for offset maps */
    int rc = put_document(&w->out, doc, w->state);
    return rc ? kz_error_set(err, rc, "cannot write BioC XML: %s", kz_strerror(rc)) : 0;
}

static int bw_finish(kz_writer *w, kz_error *err) {
    int rc = kz__buf_puts(&w->out, "</collection>\n");
    return rc ? kz_error_set(err, rc, "%s", kz_strerror(rc)) : 0;
}

static void bw_close(kz_writer *w) {
    kz_arena_free(w->state);
    w->state = NULL;
}

static const kz_writer_vt k_bioc_writer_vt = {bw_begin, bw_write, bw_finish, bw_close};

int kz__writer_init_bioc_xml(kz_writer *w, kz_error *err) {
    w->vt = &k_bioc_writer_vt;
    w->state = kz_arena_new(0);
    return w->state ? 0 : kz_error_set(err, KZ_ENOMEM, "out of memory");
}
