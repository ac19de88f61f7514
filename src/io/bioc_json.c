/* BioC JSON (the PubTator3 / bioc-python shape): reader of collections or
 * one document per line, and a writer of one collection. Offsets are code
 * points; the conventions are those of the BioC XML reader and writer. */
#include <stdlib.h>
#include <strings.h>
#include "json_int.h"
#include "bioc_int.h"

/* Infon keys whose values are identifiers ("A;B" or "A,B") rather than metadata. */
/* ---- reader ------------------------------------------------------------------------ */
typedef struct bioc_passage {
    kz_section *sec;
    const kz_offset_map *map;
    int64_t offset, ncp; /* document code points [offset, offset + ncp) */
} bioc_passage;

typedef struct bioc_state {
    kz_json_src src;
    json_t *batch;      /* collection being unpacked */
    const json_t *docs; /* its documents */
    size_t next;        /* next document index */
    kz_arena *tmp;
    kz_buf scratch, warn, rels, text;
} bioc_state;

typedef struct bioc_ctx {
    kz_reader *r;
    bioc_state *st;
    kz_doc *doc;
    const char *where; /* "documents[3]" inside a collection, else "" */
    bioc_passage *ps;
    size_t nps;
    int oom;
} bioc_ctx;

/* A recovered problem: the item is dropped, the document is kept and says so
 * in its "reader_warnings" metadata (the PubTator / BioC XML convention).
 * Returns 0 so callers can `return warn(...)` and carry on. */
static int warn(bioc_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int warn(bioc_ctx *c, const char *fmt, ...) {
    char msg[600];
    int n = snprintf(msg, sizeof msg, "%s%s", c->where, *c->where ? ": " : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    size_t len = strlen(msg), bad;
    while (!kz_utf8_valid(msg, len, &bad)) msg[bad] = '?';
    kz_buf *w = &c->st->warn;
    if ((w->len && kz__buf_putc(w, ',')) || kz__json_put_string(w, msg, len, false)) c->oom = 1;
    c->r->nwarnings++;
    kz_log(KZ_LOG_WARN, "%s: document %s: %s", c->r->name, c->doc->idx.ptr, msg);
    return 0;
}

static int fail(bioc_ctx *c, kz_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(bioc_ctx *c, kz_error *err, int code, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return kz_error_set(err, code, "%s%s%s", c->where, *c->where ? ": " : "", msg);
}

static int add_relations(bioc_ctx *c, const json_t *rels) {
    for (size_t i = 0; i < json_array_size(rels); i++) {
        if (c->st->rels.len) TRY(kz__buf_putc(&c->st->rels, ','));
        TRY(kz__json_put_compact(&c->st->rels, json_array_get(rels, i)));
    }
    return 0;
}

static int add_mappings(bioc_ctx *c, kz_entity *ent, const char *key, size_t kl, const char *ids,
                        size_t len) {
    return kz__bioc_add_mappings(c->doc, ent, (kz_str){key, kl}, (kz_str){ids, len});
}

/* Annotation infons: type -> class (done), identifier keys -> mappings, the rest -> metadata. */
static int annotation_infons(bioc_ctx *c, kz_entity *ent, const json_t *infons) {
    for (void *it = json_object_iter((json_t *)infons); it;
         it = json_object_iter_next((json_t *)infons, it)) {
        const char *k = json_object_iter_key(it);
        size_t kl = json_object_iter_key_len(it);
        const json_t *v = json_object_iter_value(it);
        char num[32];
        if (kz__json_key_is(k, kl, "type")) continue;
        if (kz__bioc_is_id_key((kz_str){k, kl}) && json_is_string(v)) {
            TRY(add_mappings(c, ent, k, kl, json_string_value(v), json_string_length(v)));
        } else if (kz__bioc_is_id_key((kz_str){k, kl}) && json_is_integer(v)) {
            int n = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
            TRY(add_mappings(c, ent, k, kl, num, (size_t)n));
        } else if (!kz__bioc_is_id_key((kz_str){k, kl}) || !json_is_null(v)) {
            TRY(kz__json_meta_set(c->doc, &ent->metadata, k, kl, v, &c->st->scratch));
        }
    }
    return 0;
}

/* One annotation; p is its passage, or NULL for a document-level annotation
 * (placed in the passage holding its first location). A bad annotation is
 * dropped with a warning; only out-of-memory fails. */
static int add_annotation(bioc_ctx *c, const bioc_passage *p, const json_t *a, size_t ai) {
    char name[96];
    kz_str aid = kz__json_str(a, "id");
    if (aid.ptr)
        snprintf(name, sizeof name, "annotation \"%.*s\"", (int)KZ_MIN(aid.len, 40), aid.ptr);
    else
        snprintf(name, sizeof name, "annotation #%zu", ai);
    if (!json_is_object(a)) return warn(c, "%s is not an object; skipped", name);
    const json_t *infons = json_object_get(a, "infons"), *locs = json_object_get(a, "locations");
    kz_str type = kz__json_str(infons, "type"), text = kz__json_str(a, "text");
    size_t n = json_array_size(locs);
    if (!type.ptr) return warn(c, "%s has no infons.type; skipped", name);
    if (n == 0) return warn(c, "%s has no locations; skipped", name);
    kz_span *sp = kz_arena_alloc(c->st->tmp, n * sizeof *sp);
    if (!sp) return KZ_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const json_t *l = json_array_get(locs, i), *lo = json_object_get(l, "offset"),
                     *ll = json_object_get(l, "length");
        if (!json_is_integer(lo) || !json_is_integer(ll))
            return warn(c, "%s: locations[%zu] needs integer \"offset\" and \"length\"; skipped", name, i);
        int64_t off = json_integer_value(lo), len = json_integer_value(ll);
        for (size_t k = 0; k < c->nps && !p; k++)
            if (off >= c->ps[k].offset && off - c->ps[k].offset < c->ps[k].ncp) p = &c->ps[k];
        if (!p) return warn(c, "%s: offset %lld lies in no passage; skipped", name, (long long)off);
        int64_t s = off - p->offset;
        if (len <= 0 || off < p->offset || s > p->ncp || len > p->ncp - s)
            return warn(c, "%s: location [%lld, +%lld) is outside passage \"%s\" [%lld, %lld); skipped", name,
                        (long long)off, (long long)len, p->sec->name.ptr, (long long)p->offset,
                        (long long)(p->offset + p->ncp));
        sp[i].start = kz_offset_map_to_byte(p->map, s);
        sp[i].end = kz_offset_map_to_byte(p->map, s + len);
    }
    /* A text that disagrees with the offsets means the offsets count something else. */
    const kz_str at = {p->sec->text.ptr + sp[0].start, (size_t)(sp[0].end - sp[0].start)};
    if (n == 1 && text.ptr && !kz_str_eq(text, at))
        return warn(c, "%s: text \"%.*s\" differs from the passage text \"%.*s\" at its location; skipped",
                    name, (int)KZ_MIN(text.len, 60), text.ptr, (int)KZ_MIN(at.len, 60), at.ptr);
    kz_entity_init in = {0};
    in.spans = sp;
    in.n_spans = n;
    in.match = text;
    in.join_str = " ";
    in.entity_class = type;
    in.namespace_ = kz_str_c("BioC");
    in.mention_confidence = KZ_MENTION_HIGHLY_LIKELY;
    kz_entity *ent;
    kz_error e;
    kz_error_clear(&e);
    int rc = kz_section_add_entity(c->doc, p->sec, &in, &ent, &e);
    if (rc == KZ_ENOMEM) return rc;
    if (rc) return warn(c, "%s: %s; skipped", name, e.msg);
    if (aid.ptr) TRY(kz_meta_set_string(c->doc, &ent->metadata, kz_str_c("bioc_id"), aid));
    return annotation_infons(c, ent, infons);
}

/* A sentence-only passage: each sentence's text at its offset, gaps as
 * spaces; spans gets the placed sentences (in bytes of st->text). */
static int join_sentences(bioc_ctx *c, const json_t *sents, int64_t poff, kz_span *spans, size_t *n_out,
                          kz_error *err) {
    kz_buf *t = &c->st->text;
    kz__buf_clear(t);
    TRY(kz__buf_reserve(t, 0));
    int64_t cur = 0;
    size_t n = 0;
    for (size_t k = 0; k < json_array_size(sents); k++) {
        const json_t *s = json_array_get(sents, k), *off = json_object_get(s, "offset");
        kz_str st = kz__json_str(s, "text");
        int64_t rel = json_is_integer(off) ? json_integer_value(off) - poff : -1;
        if (rel < cur) {
            warn(c, "sentence %zu has %s offset; skipped", k,
                 json_is_integer(off) ? "an overlapping or out-of-passage" : "no valid");
            continue;
        }
        if ((uint64_t)(rel - cur) + st.len > c->r->p.max_record_bytes - t->len)
            return fail(c, err, KZ_ELIMIT,
                        "sentence %zu at offset %lld makes the passage text larger than the record "
                        "limit of %zu bytes (max_record_bytes)",
                        k, (long long)(rel + poff), c->r->p.max_record_bytes);
        for (; cur < rel; cur++) TRY(kz__buf_putc(t, ' '));
        spans[n].start = (int64_t)t->len;
        if (st.len) TRY(kz__buf_append(t, st.ptr, st.len));
        spans[n++].end = (int64_t)t->len;
        cur += (int64_t)kz_utf8_count(st.ptr ? st.ptr : "", st.len);
    }
    *n_out = n;
    return 0;
}

/* Sentences of a passage with text mark spans of it; bad ones are dropped. */
static size_t sentence_spans(bioc_ctx *c, const json_t *sents, const bioc_passage *p, kz_span *spans) {
    size_t n = 0;
    for (size_t k = 0; k < json_array_size(sents); k++) {
        const json_t *s = json_array_get(sents, k), *off = json_object_get(s, "offset");
        kz_str st = kz__json_str(s, "text");
        int64_t len = (int64_t)kz_utf8_count(st.ptr ? st.ptr : "", st.len);
        int64_t rel = json_is_integer(off) ? json_integer_value(off) - p->offset : -1;
        if (!json_is_integer(off) || rel < 0 || rel > p->ncp || len > p->ncp - rel) {
            warn(c, "passage \"%s\": sentence %zu is outside the passage; skipped", p->sec->name.ptr, k);
            continue;
        }
        spans[n].start = kz_offset_map_to_byte(p->map, rel);
        spans[n++].end = kz_offset_map_to_byte(p->map, rel + len);
    }
    return n;
}

static int add_passage(bioc_ctx *c, const json_t *p, size_t i, int64_t *running, kz_error *err) {
    const json_t *off = json_object_get(p, "offset"), *pin = json_object_get(p, "infons");
    const json_t *t = json_object_get(p, "text"), *sents = json_object_get(p, "sentences");
    if (!json_is_object(p)) return fail(c, err, KZ_EPARSE, "passages[%zu] is not an object", i);
    if (t && !json_is_string(t) && !json_is_null(t))
        return fail(c, err, KZ_EPARSE, "passages[%zu].text must be a string", i);
    if (off && !json_is_null(off) && (!json_is_integer(off) || json_integer_value(off) < 0))
        return fail(c, err, KZ_EPARSE, "passages[%zu].offset must be a non-negative integer", i);
    if (pin && !json_is_object(pin))
        return fail(c, err, KZ_EPARSE, "passages[%zu].infons must be an object", i);
    if (sents && !json_is_array(sents))
        return fail(c, err, KZ_EPARSE, "passages[%zu].sentences must be a list", i);
    const char *name_key = "type";
    kz_str name = kz__json_str(pin, "type");
    if (!name.ptr) name = kz__json_str(pin, name_key = "section_type");
    char nbuf[32];
    if (!name.ptr) {
        name = (kz_str){nbuf, (size_t)snprintf(nbuf, sizeof nbuf, "passage%zu", i)};
        name_key = NULL;
    }
    bioc_passage *bp = &c->ps[i];
    bp->offset = json_is_integer(off) ? json_integer_value(off) : *running;
    size_t nsent = json_array_size(sents), nspans = 0;
    kz_span *spans = kz_arena_alloc(c->st->tmp, (nsent ? nsent : 1) * sizeof *spans);
    if (!spans) return KZ_ENOMEM;
    kz_str text = json_is_string(t) ? (kz_str){json_string_value(t), json_string_length(t)} : kz_str_c("");
    if (!json_is_string(t) && nsent) {
        TRY(join_sentences(c, sents, bp->offset, spans, &nspans, err));
        text = (kz_str){c->st->text.data, c->st->text.len};
    }
    kz_error e;
    kz_error_clear(&e);
    int rc = kz_doc_add_section(c->doc, name.ptr, name.len, text.ptr, text.len, &bp->sec, &e);
    if (rc) return fail(c, err, rc, "passages[%zu]: %s", i, e.msg);
    if (!(bp->map = kz_offset_map_new(c->st->tmp, bp->sec->text.ptr, bp->sec->text.len))) return KZ_ENOMEM;
    bp->ncp = kz_offset_map_cp_len(bp->map);
    *running = bp->offset + bp->ncp + 1;
    for (void *it = json_object_iter((json_t *)pin); it; it = json_object_iter_next((json_t *)pin, it)) {
        const char *k = json_object_iter_key(it);
        size_t kl = json_object_iter_key_len(it);
        if (name_key && kz__json_key_is(k, kl, name_key)) continue;
        TRY(kz__json_meta_set(c->doc, &bp->sec->metadata, k, kl, json_object_iter_value(it),
                              &c->st->scratch));
    }
    if (nsent && json_is_string(t)) nspans = sentence_spans(c, sents, bp, spans);
    if (nsent && (rc = kz_section_set_sentence_spans(c->doc, bp->sec, spans, nspans, &e)))
        return fail(c, err, rc, "passages[%zu]: %s", i, e.msg);
    return 0;
}

static int build_doc(bioc_ctx *c, const json_t *d, kz_error *err) {
    const json_t *id = json_object_get(d, "id"), *passages = json_object_get(d, "passages");
    const json_t *infons = json_object_get(d, "infons");
    char num[32];
    kz_str ids = KZ_STR_NULL;
    if (json_is_string(id))
        ids = (kz_str){json_string_value(id), json_string_length(id)};
    else if (json_is_integer(id))
        ids =
            (kz_str){num, (size_t)snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(id))};
    else if (id && !json_is_null(id))
        return fail(c, err, KZ_EPARSE, "\"id\" must be a string");
    if (ids.ptr && err) snprintf(err->doc_id, sizeof err->doc_id, "%.*s", (int)KZ_MIN(ids.len, 120), ids.ptr);
    if (!json_is_array(passages)) return fail(c, err, KZ_EPARSE, "a BioC document needs a \"passages\" list");
    if (infons && !json_is_object(infons)) return fail(c, err, KZ_EPARSE, "\"infons\" must be an object");
    c->doc = kz_doc_new(ids.ptr, ids.len);
    if (!c->doc) return KZ_ENOMEM;
    if (json_object_size(infons))
        TRY(kz__json_meta_set(c->doc, &c->doc->metadata, "infons", 6, infons, &c->st->scratch));
    c->nps = json_array_size(passages);
    c->ps = kz_arena_calloc(c->st->tmp, c->nps ? c->nps : 1, sizeof *c->ps);
    if (!c->ps) return KZ_ENOMEM;
    int64_t running = 0;
    for (size_t i = 0; i < c->nps; i++) TRY(add_passage(c, json_array_get(passages, i), i, &running, err));
    for (size_t i = 0; i < c->nps; i++) {
        const json_t *p = json_array_get(passages, i), *sents = json_object_get(p, "sentences");
        const json_t *anns = json_object_get(p, "annotations");
        for (size_t k = 0; k < json_array_size(anns); k++)
            TRY(add_annotation(c, &c->ps[i], json_array_get(anns, k), k));
        TRY(add_relations(c, json_object_get(p, "relations")));
        for (size_t s = 0; s < json_array_size(sents); s++) {
            const json_t *sent = json_array_get(sents, s);
            anns = json_object_get(sent, "annotations");
            for (size_t k = 0; k < json_array_size(anns); k++)
                TRY(add_annotation(c, &c->ps[i], json_array_get(anns, k), k));
            TRY(add_relations(c, json_object_get(sent, "relations")));
        }
    }
    const json_t *anns = json_object_get(d, "annotations");
    for (size_t k = 0; k < json_array_size(anns); k++)
        TRY(add_annotation(c, NULL, json_array_get(anns, k), k));
    return add_relations(c, json_object_get(d, "relations"));
}

/* "[" items "]" as one metadata value. */
static int set_list(bioc_ctx *c, const char *key, const kz_buf *items) {
    if (!items->len) return 0;
    kz_buf *t = &c->st->scratch;
    kz__buf_clear(t);
    TRY(kz__buf_putc(t, '['));
    TRY(kz__buf_append(t, items->data, items->len));
    TRY(kz__buf_putc(t, ']'));
    return kz_meta_set_json(c->doc, &c->doc->metadata, kz_str_c(key), (kz_str){t->data, t->len});
}

static int convert(kz_reader *r, const json_t *d, const char *where, kz_doc **out, kz_error *err) {
    bioc_state *st = r->state;
    bioc_ctx c = {r, st, NULL, where, NULL, 0, 0};
    kz_arena_reset(st->tmp);
    kz__buf_clear(&st->warn);
    kz__buf_clear(&st->rels);
    int rc = json_is_object(d) ? build_doc(&c, d, err)
                               : fail(&c, err, KZ_EPARSE, "expected a BioC document object");
    if (!rc && c.oom) rc = KZ_ENOMEM;
    if (!rc) rc = set_list(&c, "relations", &st->rels);
    if (!rc) rc = set_list(&c, "reader_warnings", &st->warn);
    if (rc) {
        /* Only a \u0000 inside a string makes kept JSON unstorable. */
        if (err && !err->msg[0])
            fail(&c, err, rc, "cannot keep the document's infons or relations: %s",
                 rc == KZ_EPARSE ? "\\u0000 in a string is not supported" : kz_strerror(rc));
        kz__json_src_locate(&st->src, err);
        kz_doc_free(c.doc);
        return rc;
    }
    *out = c.doc;
    return 1;
}

static int bioc_next(kz_reader *r, kz_doc **out, kz_error *err) {
    bioc_state *st = r->state;
    for (;;) {
        if (st->batch) {
            if (st->next < json_array_size(st->docs)) {
                char where[48];
                snprintf(where, sizeof where, "documents[%zu]", st->next);
                return convert(r, json_array_get(st->docs, st->next++), where, out, err);
            }
            json_decref(st->batch);
            st->batch = NULL;
        }
        json_t *v;
        int rc = kz__json_src_next(&st->src, &v, err);
        if (rc <= 0) return rc;
        const json_t *docs = json_object_get(v, "documents");
        if (!docs) docs = json_object_get(v, "PubTator3"); /* PubTator3's export API wraps its list so */
        if (json_is_array(docs)) {
            st->batch = v;
            st->docs = docs;
            st->next = 0;
            continue;
        }
        if (json_is_object(v)) {
            rc = convert(r, v, "", out, err);
        } else {
            kz__json_src_locate(&st->src, err);
            rc = kz_error_set(err, KZ_EPARSE, "expected a BioC collection or document object");
        }
        json_decref(v);
        return rc;
    }
}

static void bioc_close(kz_reader *r) {
    bioc_state *st = r->state;
    if (!st) return;
    json_decref(st->batch);
    kz__json_src_free(&st->src);
    kz_arena_free(st->tmp);
    kz__buf_free(&st->scratch);
    kz__buf_free(&st->warn);
    kz__buf_free(&st->rels);
    kz__buf_free(&st->text);
    free(st);
    r->state = NULL;
}

static const kz_reader_vt k_bioc_reader_vt = {bioc_next, bioc_close};

/* A collection's documents are streamed one at a time (PubTator3's export API
 * names its list "PubTator3"). */
static const char *const k_stream_keys[] = {"documents", "PubTator3", NULL};

int kz__reader_init_bioc_json(kz_reader *r, kz_error *err) {
    bioc_state *st = calloc(1, sizeof *st);
    if (!st) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    r->state = st;
    r->vt = &k_bioc_reader_vt;
    kz__buf_init(&st->scratch, 0);
    kz__buf_init(&st->warn, 0);
    kz__buf_init(&st->rels, 0);
    kz__buf_init(&st->text, 0);
    st->tmp = kz_arena_new(0);
    if (!st->tmp || kz__json_src_init(&st->src, r, k_stream_keys))
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    return 0;
}

/* ---- writer -------------------------------------------------------------------------- */
typedef struct bw_ctx {
    kz_writer *w;
    kz_buf *b;
    kz_arena *tmp;
    bool ascii;
} bw_ctx;

static int put_str(bw_ctx *c, kz_str s) {
    size_t bad;
    if (s.ptr && !kz_utf8_valid(s.ptr, s.len, &bad)) return KZ_EUTF8;
    return kz__json_put_string(c->b, s.ptr, s.len, c->ascii);
}

/* ", " (unless first) then "key": */
static int put_key(bw_ctx *c, bool *first, kz_str key) {
    if (!*first) TRY(kz__buf_puts(c->b, ", "));
    *first = false;
    TRY(put_str(c, key));
    return kz__buf_puts(c->b, ": ");
}

static bool in_list(kz_str key, const char *const *list) {
    for (; *list; list++)
        if (kz_str_eq_c(key, *list)) return true;
    return false;
}

/* Metadata entries as infon members (values as stored, JSON), except keys in
 * skip, identifier keys when skip_ids, and keys of the object `taken`. */
static int put_meta_infons(bw_ctx *c, bool *first, const kz_meta *m, const char *const *skip, bool skip_ids,
                           const json_t *taken) {
    for (uint32_t i = 0; i < m->n; i++) {
        kz_str k = m->items[i].key;
        if (in_list(k, skip) || (skip_ids && kz__bioc_is_id_key(k)) || json_object_getn(taken, k.ptr, k.len))
            continue;
        TRY(put_key(c, first, k));
        TRY(kz__json_put_raw(c->b, m->items[i].value, c->ascii));
    }
    return 0;
}

/* One infon per key, ids joined with ';' (the reader splits on ';' and ','). */
static int put_mappings(bw_ctx *c, bool *first, const kz_entity *e) {
    kz_buf ids;
    kz__buf_init(&ids, 0);
    int rc = 0;
    for (uint32_t i = 0; !rc && i < e->n_mappings; i++) {
        kz_str key;
        rc = kz__bioc_ids_for_key(e, i, &key, &ids);
        if (rc <= 0) continue;
        rc = put_key(c, first, key);
        if (!rc) rc = put_str(c, (kz_str){ids.data, ids.len});
    }
    kz__buf_free(&ids);
    return rc;
}

static const char *const k_entity_skip[] = {"type", "bioc_id", NULL};
static const char *const k_section_skip[] = {"type", NULL};
static const char *const k_doc_skip[] = {"infons", "relations", "reader_warnings", NULL};

static int put_annotation(bw_ctx *c, const kz_entity *e, const kz_offset_map *m, int64_t base, unsigned n) {
    kz_buf *b = c->b;
    kz_str bid = kz_meta_get(&e->metadata, "bioc_id");
    TRY(kz__buf_puts(b, "{\"id\": "));
    /* The id read from BioC, else a running number. */
    if (bid.ptr && bid.ptr[0] == '"')
        TRY(kz__json_put_raw(b, bid, c->ascii));
    else
        TRY(kz__buf_printf(b, "\"%u\"", n));
    TRY(kz__buf_puts(b, ", \"infons\": {\"type\": "));
    TRY(put_str(c, e->entity_class));
    bool first = false;
    TRY(put_mappings(c, &first, e));
    TRY(put_meta_infons(c, &first, &e->metadata, k_entity_skip, true, NULL));
    TRY(kz__buf_puts(b, "}, \"text\": "));
    TRY(put_str(c, e->match));
    TRY(kz__buf_puts(b, ", \"locations\": ["));
    for (uint32_t i = 0; i < e->n_spans; i++) {
        int64_t s = kz_offset_map_to_cp(m, e->spans[i].start), t = kz_offset_map_to_cp(m, e->spans[i].end);
        TRY(kz__buf_printf(b, "%s{\"offset\": %lld, \"length\": %lld}", i ? ", " : "", (long long)(base + s),
                           (long long)(t - s)));
    }
    return kz__buf_puts(b, "]}");
}

static int put_passage(bw_ctx *c, const kz_section *s, const kz_offset_map *m, int64_t base,
                       unsigned *n_ann) {
    kz_buf *b = c->b;
    TRY(kz__buf_puts(b, "{\"infons\": {\"type\": "));
    TRY(put_str(c, s->name));
    bool first = false;
    TRY(put_meta_infons(c, &first, &s->metadata, k_section_skip, false, NULL));
    TRY(kz__buf_printf(b, "}, \"offset\": %lld, \"text\": ", (long long)base));
    TRY(put_str(c, s->text));
    TRY(kz__buf_puts(b, ", \"sentences\": ["));
    for (uint32_t i = 0; s->sentence_spans && i < s->n_sentence_spans; i++) {
        kz_span sp = s->sentence_spans[i];
        TRY(kz__buf_printf(b, "%s{\"infons\": {}, \"offset\": %lld, \"text\": ", i ? ", " : "",
                           (long long)(base + kz_offset_map_to_cp(m, sp.start))));
        TRY(put_str(c, (kz_str){s->text.ptr + sp.start, (size_t)(sp.end - sp.start)}));
        TRY(kz__buf_puts(b, ", \"annotations\": [], \"relations\": []}"));
    }
    TRY(kz__buf_puts(b, "], \"annotations\": ["));
    for (uint32_t j = 0; j < s->n_entities; j++) {
        if (j) TRY(kz__buf_puts(b, ", "));
        TRY(put_annotation(c, s->entities[j], m, base, ++*n_ann));
    }
    return kz__buf_puts(b, "], \"relations\": []}");
}

static int put_passages(bw_ctx *c, const kz_doc *doc) {
    int64_t base = 0;
    unsigned n_ann = 0;
    for (uint32_t i = 0; i < doc->n_sections; i++) {
        const kz_section *s = doc->sections[i];
        kz_offset_map *m = kz_offset_map_new(c->tmp, s->text.ptr, s->text.len);
        if (!m) return KZ_ENOMEM;
        if (i) TRY(kz__buf_puts(c->b, ", "));
        TRY(put_passage(c, s, m, base, &n_ann));
        /* Sections are laid end to end with one separator character. */
        base += kz_offset_map_cp_len(m) + 1;
    }
    return 0;
}

static int put_document(bw_ctx *c, const kz_doc *doc) {
    kz_buf *b = c->b;
    TRY(kz__buf_puts(b, "{\"id\": "));
    TRY(put_str(c, doc->idx));
    TRY(kz__buf_puts(b, ", \"infons\": {"));
    /* The kept "infons" first, then the rest of the metadata (PubMed's journal, ...). */
    kz_str infons = kz_meta_get(&doc->metadata, "infons");
    json_t *taken = NULL;
    bool first = true;
    if (infons.ptr && infons.len > 2 && infons.ptr[0] == '{') {
        if (!(taken = json_loadb(infons.ptr, infons.len, 0, NULL))) return KZ_ENOMEM;
        first = false;
    }
    int rc = taken ? kz__json_put_raw(b, (kz_str){infons.ptr + 1, infons.len - 2}, c->ascii) : 0;
    if (!rc) rc = put_meta_infons(c, &first, &doc->metadata, k_doc_skip, false, taken);
    json_decref(taken);
    TRY(rc);
    TRY(kz__buf_puts(b, "}, \"passages\": ["));
    TRY(put_passages(c, doc));
    TRY(kz__buf_puts(b, "], \"annotations\": [], \"relations\": "));
    kz_str rels = kz_meta_get(&doc->metadata, "relations");
    TRY(rels.ptr && rels.ptr[0] == '[' ? kz__json_put_raw(b, rels, c->ascii) : kz__buf_puts(b, "[]"));
    return kz__buf_putc(b, '}');
}

static int bw_begin(kz_writer *w, kz_error *err) {
    int rc = kz__buf_puts(
        &w->out, "{\"source\": \"kazu-c\", \"date\": \"\", \"key\": \"\", \"infons\": {}, \"documents\": [");
    return rc ? kz_error_set(err, rc, "out of memory") : kz__writer_flush(w, err);
}

static int bw_write(kz_writer *w, const kz_doc *doc, kz_error *err) {
    kz_arena_reset(w->state);
    bw_ctx c = {w, &w->out, w->state, w->p.ascii_only};
    int rc = kz__buf_puts(&w->out, w->ndocs ? ",\n" : "\n");
    if (!rc) rc = put_document(&c, doc);
    if (rc == KZ_EUTF8) return kz_error_set(err, rc, "a string of the document is not valid UTF-8");
    return rc ? kz_error_set(err, rc, "cannot serialise the document: %s", kz_strerror(rc)) : 0;
}

static int bw_finish(kz_writer *w, kz_error *err) {
    int rc = kz__buf_puts(&w->out, w->ndocs ? "\n]}\n" : "]}\n");
    return rc ? kz_error_set(err, rc, "out of memory") : 0;
}

static void bw_close(kz_writer *w) { kz_arena_free(w->state); }

static const kz_writer_vt k_bioc_writer_vt = {bw_begin, bw_write, bw_finish, bw_close};

int kz__writer_init_bioc_json(kz_writer *w, kz_error *err) {
    w->state = kz_arena_new(0);
    if (!w->state) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    w->vt = &k_bioc_writer_vt;
    return 0;
}
