/* PubTator reader and writer: "<id>|t|<title>", "<id>|a|<abstract>", then
 * tab-separated annotation and relation lines; a blank line ends a document.
 * Offsets count code points over title + one separator character + abstract. */
#include <stdarg.h>
#include <stdlib.h>
#include <jansson.h>
#include "io_int.h"

#define PT_NAMESPACE  "PubTator"
#define PT_MAX_FIELDS 64

/* PubTator entity types (NCBI-disease, BC5CDR, BioRED, PubTator Central) -> Kazu classes. */
static const char *const k_types[][2] = {
    {"Disease", "disease"},
    {"SpecificDisease", "disease"},
    {"DiseaseClass", "disease"},
    {"CompositeMention", "disease"},
    {"Modifier", "disease"},
    {"DiseaseOrPhenotypicFeature", "disease"},
    {"Chemical", "drug"},
    {"ChemicalEntity", "drug"},
    {"Gene", "gene"},
    {"GeneOrGeneProduct", "gene"},
    {"Species", "species"},
    {"OrganismTaxon", "species"},
    {"CellLine", "cell_line"},
    {"SequenceVariant", "mutation"},
    {"Mutation", "mutation"},
    {"DNAMutation", "mutation"},
    {"ProteinMutation", "mutation"},
    {"SNP", "mutation"},
};

static kz_str type_class(kz_str type) {
    for (size_t i = 0; i < sizeof k_types / sizeof k_types[0]; i++)
        if (kz_str_eq_c(type, k_types[i][0])) return kz_str_c(k_types[i][1]);
    return type;
}

/* tmVar variant ids ("p|SUB|V|600|E", "c|DEL||32") use '|' inside one id. */
static bool is_tmvar_id(const char *s, size_t len) {
    size_t i = 0;
    while (i < len && s[i] >= 'a' && s[i] <= 'z') i++;
    return i > 0 && i < len && s[i] == '|';
}

static bool has_char(kz_str s, char c) { return s.len && memchr(s.ptr, c, s.len) != NULL; }

/* Duplicate ids in one column are dropped, checked against the first
 * PT_MAX_IDS distinct ones so a hostile column cannot make this quadratic. */
#define PT_MAX_IDS 64
static bool seen_before(kz_str *seen, size_t *n_seen, kz_str id) {
    for (size_t k = 0; k < *n_seen; k++)
        if (kz_str_eq(seen[k], id)) return true;
    if (*n_seen < PT_MAX_IDS) seen[(*n_seen)++] = id;
    return false;
}

/* ======================================================================== reader */

typedef struct pt_item {
    int64_t line;    /* 1-based line number in the stream */
    size_t pos, len; /* the line's bytes in pt_reader.pool */
} pt_item;

typedef struct pt_reader {
    kz_buf line;  /* current raw line */
    bool pending; /* line is a text line that opened the next document */
    int64_t pend_line, pend_off;
    /* the document being collected */
    bool started, has_title, has_abstract;
    kz_buf pmid, title, abstract;
    kz_buf pool; /* the document's other lines, back to back */
    pt_item *items;
    size_t n_items, cap_items;
    size_t bytes;     /* bytes of this document so far, against max_record_bytes */
    kz_error doc_err; /* first document-level failure (code 0: none) */
    kz_buf warn;      /* JSON list items for "reader_warnings" */
    kz_buf rels;      /* JSON list items for "relations" */
    kz_buf tmp;
    int oom; /* sticky: a warning or relation could not be stored */
} pt_reader;

static void pt_reset_doc(pt_reader *st) {
    st->started = st->has_title = st->has_abstract = false;
    kz__buf_clear(&st->pmid);
    kz__buf_clear(&st->title);
    kz__buf_clear(&st->abstract);
    kz__buf_clear(&st->pool);
    kz__buf_clear(&st->warn);
    kz__buf_clear(&st->rels);
    st->n_items = 0;
    st->bytes = 0;
    st->oom = 0;
    kz_error_clear(&st->doc_err);
}

/* Append a JSON string to a list body, replacing invalid UTF-8 (from bad input
 * quoted in a message) by '?' so the metadata stays valid JSON. */
static int put_list_string(kz_buf *list, kz_buf *tmp, const char *s, size_t len) {
    kz__buf_clear(tmp);
    int rc = kz__buf_append(tmp, s, len);
    size_t bad;
    while (!rc && !kz_utf8_valid(tmp->data, tmp->len, &bad)) tmp->data[bad] = '?';
    if (!rc && list->len) rc = kz__buf_putc(list, ',');
    if (!rc) rc = kz__json_put_string(list, tmp->data, tmp->len, false);
    return rc;
}

/* Record a recovered problem: into the document's "reader_warnings", the log
 * and the reader's warning count. */
static void pt_warn(kz_reader *r, int64_t line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void pt_warn(kz_reader *r, int64_t line, const char *fmt, ...) {
    pt_reader *st = r->state;
    char msg[600];
    int n = snprintf(msg, sizeof msg, "line %lld: ", (long long)line);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, ap);
    va_end(ap);
    if (put_list_string(&st->warn, &st->tmp, msg, strlen(msg))) st->oom = 1;
    r->nwarnings++;
    kz_log(KZ_LOG_WARN, "%s: document %s: %s", r->name, st->pmid.data ? st->pmid.data : "", msg);
}

/* First document-level failure wins; the document is skipped when complete. */
static void pt_doc_fail(kz_reader *r, int code, int64_t line, int64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void pt_doc_fail(kz_reader *r, int code, int64_t line, int64_t offset, const char *fmt, ...) {
    pt_reader *st = r->state;
    if (st->doc_err.code) return;
    kz__reader_locate(r, &st->doc_err, line, offset);
    st->doc_err.code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->doc_err.msg, sizeof st->doc_err.msg, fmt, ap);
    va_end(ap);
}

static int line_error(kz_reader *r, kz_error *err, int code, int64_t line, int64_t offset, const char *what) {
    kz__reader_locate(r, err, line, offset);
    return kz_error_set(err, code, "line %lld: %s", (long long)line, what);
}

static bool is_blank(const char *s, size_t len) {
    for (size_t i = 0; i < len; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\v' && s[i] != '\f') return false;
    return true;
}

/* 't' or 'a' for "<id>|t|..." / "<id>|a|..." lines (no tab in the id), else 0. */
static char text_kind(const char *s, size_t len, size_t *id_len) {
    const char *bar = memchr(s, '|', len);
    if (!bar) return 0;
    size_t i = (size_t)(bar - s);
    if (memchr(s, '\t', i) || i + 3 > len || s[i + 2] != '|' || (s[i + 1] != 't' && s[i + 1] != 'a'))
        return 0;
    *id_len = i;
    return s[i + 1];
}

/* Store a title or abstract line; returns false if it belongs to the next document. */
static bool take_text_line(kz_reader *r, char kind, const char *s, size_t len, size_t id_len, int64_t line,
                           int64_t off) {
    pt_reader *st = r->state;
    bool filled = kind == 't' ? st->has_title : st->has_abstract;
    if (st->started && (filled || st->pmid.len != id_len || memcmp(st->pmid.data, s, id_len) != 0))
        return false;
    size_t bad;
    if (!st->started) {
        st->started = true;
        if (kz__buf_append(&st->pmid, s, id_len)) st->oom = 1;
        if (!kz_utf8_valid(s, id_len, &bad))
            pt_doc_fail(r, KZ_EUTF8, line, off + (int64_t)bad,
                        "line %lld: invalid UTF-8 at byte %zu of the document id", (long long)line, bad);
    }
    const char *text = s + id_len + 3;
    size_t tlen = len - id_len - 3;
    if (!kz_utf8_valid(text, tlen, &bad))
        pt_doc_fail(r, KZ_EUTF8, line, off + (int64_t)(id_len + 3 + bad),
                    "line %lld: invalid UTF-8 at byte %zu of the %s", (long long)line, id_len + 3 + bad,
                    kind == 't' ? "title" : "abstract");
    kz_buf *dst = kind == 't' ? &st->title : &st->abstract;
    if (kz__buf_append(dst, text, tlen)) st->oom = 1;
    if (kind == 't')
        st->has_title = true;
    else
        st->has_abstract = true;
    return true;
}

static void take_item_line(kz_reader *r, const char *s, size_t len, int64_t line) {
    pt_reader *st = r->state;
    if (st->n_items == st->cap_items) {
        size_t nc = st->cap_items ? st->cap_items * 2 : 64;
        pt_item *p = realloc(st->items, nc * sizeof *p);
        if (!p) {
            st->oom = 1;
            return;
        }
        st->items = p;
        st->cap_items = nc;
    }
    st->items[st->n_items++] = (pt_item){line, st->pool.len, len};
    if (kz__buf_append(&st->pool, s, len)) st->oom = 1;
}

/* Non-negative decimal without sign; false for anything else (incl. overflow). */
static bool parse_offset(kz_str f, int64_t *out) {
    if (f.len == 0 || f.len > 15) return false;
    int64_t v = 0;
    for (size_t i = 0; i < f.len; i++) {
        if (f.ptr[i] < '0' || f.ptr[i] > '9') return false;
        v = v * 10 + (f.ptr[i] - '0');
    }
    *out = v;
    return true;
}

static bool is_space(char c) { return c == ' ' || c == '\r' || c == '\v' || c == '\f' || c == '\t'; }

static kz_str trim(kz_str s) {
    size_t a = 0, b = s.len;
    while (a < b && is_space(s.ptr[a])) a++;
    while (b > a && is_space(s.ptr[b - 1])) b--;
    return (kz_str){s.ptr + a, b - a};
}

static kz_str id_source(kz_str id) {
    const char *colon = memchr(id.ptr, ':', id.len);
    if (colon && colon > id.ptr) return (kz_str){id.ptr, (size_t)(colon - id.ptr)};
    bool mesh = id.len >= 7 && (id.ptr[0] == 'D' || id.ptr[0] == 'C');
    for (size_t i = 1; mesh && i < id.len; i++) mesh = id.ptr[i] >= '0' && id.ptr[i] <= '9';
    return kz_str_c(mesh ? "MESH" : PT_NAMESPACE);
}

/* The id column -> mappings. Lists are ','/';'-separated when a comma or
 * semicolon is present (BioRED), else '|'/'+'-separated (BC5CDR, NCBI
 * composites) unless the column is one tmVar id. "-1", "-" and "" mean none. */
static int add_ids(kz_doc *doc, kz_entity *e, kz_str col, kz_str mention) {
    const char *seps = has_char(col, ',') || has_char(col, ';') ? ",;"
                       : is_tmvar_id(col.ptr, col.len)          ? ""
                                                                : "|+";
    kz_str seen[PT_MAX_IDS];
    size_t n_seen = 0, i = 0;
    while (i <= col.len) {
        size_t j = i;
        while (j < col.len && !(col.ptr[j] && strchr(seps, col.ptr[j]))) j++;
        kz_str id = trim((kz_str){col.ptr + i, j - i});
        i = j + 1;
        if (id.len == 0 || kz_str_eq_c(id, "-1") || kz_str_eq_c(id, "-") || seen_before(seen, &n_seen, id))
            continue;
        kz_mapping m = {0};
        m.default_label = mention;
        m.source = id_source(id);
        m.parser_name = kz_str_c(PT_NAMESPACE);
        m.idx = id;
        m.string_match_strategy = kz_str_c("gold");
        m.string_match_confidence = KZ_SMC_HIGHLY_LIKELY;
        int rc = kz_entity_add_mapping(doc, e, &m);
        if (rc) return rc;
    }
    return 0;
}

static int put_string_list(kz_buf *b, const kz_str *f, size_t n) {
    int rc = kz__buf_putc(b, '[');
    for (size_t i = 0; !rc && i < n; i++) {
        if (i) rc = kz__buf_putc(b, ',');
        if (!rc) rc = kz__json_put_string(b, f[i].ptr, f[i].len, false);
    }
    return rc ? rc : kz__buf_putc(b, ']');
}

typedef struct pt_doc {
    kz_doc *doc;
    kz_section *sec[2]; /* title, abstract */
    kz_offset_map *map[2];
    int64_t cp_title, cp_total; /* title length; title + separator + abstract */
} pt_doc;

static void text_preview(kz_str s, char *out, size_t cap) {
    snprintf(out, cap, "%.*s%s", (int)KZ_MIN(s.len, 80), s.ptr, s.len > 80 ? "..." : "");
}

/* One annotation line; problems become warnings and the line is skipped. */
static int add_annotation(kz_reader *r, pt_doc *pd, const pt_item *it, const kz_str *f, size_t n) {
    int64_t s, e;
    if (n < 5) {
        pt_warn(r, it->line,
                "annotation has %zu tab-separated fields, needs at least 5 "
                "(<id> <start> <end> <mention> <type> [<ids>...]); ignored",
                n);
        return 0;
    }
    bool start_ok = parse_offset(f[1], &s);
    if (!start_ok || !parse_offset(f[2], &e)) {
        kz_str bad = start_ok ? f[2] : f[1];
        pt_warn(r, it->line, "bad %s offset '%.*s' (not a non-negative integer); annotation ignored",
                start_ok ? "end" : "start", (int)KZ_MIN(bad.len, 40), bad.ptr);
        return 0;
    }
    if (e <= s) {
        pt_warn(r, it->line, "annotation end %lld is not after its start %lld; ignored", (long long)e,
                (long long)s);
        return 0;
    }
    if (e > pd->cp_total) {
        pt_warn(r, it->line,
                "annotation [%lld,%lld) goes beyond the document text (%lld characters); ignored",
                (long long)s, (long long)e, (long long)pd->cp_total);
        return 0;
    }
    if (f[4].len == 0) {
        pt_warn(r, it->line, "annotation has an empty type; ignored");
        return 0;
    }
    int k = e <= pd->cp_title ? 0 : s > pd->cp_title ? 1 : -1;
    if (k < 0) {
        pt_warn(r, it->line,
                "annotation [%lld,%lld) crosses from the title (%lld characters) into the abstract; ignored",
                (long long)s, (long long)e, (long long)pd->cp_title);
        return 0;
    }
    kz_section *sec = pd->sec[k];
    int64_t base = k ? pd->cp_title + 1 : 0;
    kz_span sp = {kz_offset_map_to_byte(pd->map[k], s - base), kz_offset_map_to_byte(pd->map[k], e - base)};
    kz_str text = {sec->text.ptr + sp.start, (size_t)(sp.end - sp.start)};
    /* Padding around a mention is a known quirk (NCBI-disease 10923035). */
    kz_str mention = trim(f[3]);
    if (!kz_str_eq(trim(text), mention)) {
        char a[100], b[100];
        text_preview(f[3], a, sizeof a);
        text_preview(text, b, sizeof b);
        pt_warn(r, it->line, "mention '%s' differs from the text '%s' at [%lld,%lld); kept at these offsets",
                a, b, (long long)s, (long long)e);
    }
    kz_str cls = type_class(f[4]);
    kz_entity_init init = {.spans = &sp,
                           .n_spans = 1,
                           .entity_class = cls,
                           .namespace_ = kz_str_c(PT_NAMESPACE),
                           .mention_confidence = KZ_MENTION_HIGHLY_LIKELY};
    kz_entity *ent;
    int rc = kz_section_add_entity(pd->doc, sec, &init, &ent, NULL);
    if (rc) return rc; /* spans were checked above: only OOM is left */
    if (cls.ptr != f[4].ptr)
        rc = kz_meta_set_string(pd->doc, &ent->metadata, kz_str_c("pubtator_type"), f[4]);
    if (!rc && n > 5) rc = add_ids(pd->doc, ent, f[5], mention);
    if (!rc && n > 6) {
        pt_reader *st = r->state;
        kz__buf_clear(&st->tmp);
        rc = put_string_list(&st->tmp, f + 6, n - 6);
        if (!rc)
            rc = kz_meta_set_json(pd->doc, &ent->metadata, kz_str_c("pubtator_extra"),
                                  (kz_str){st->tmp.data, st->tmp.len});
    }
    return rc;
}

static int add_item(kz_reader *r, pt_doc *pd, const pt_item *it) {
    pt_reader *st = r->state;
    const char *s = st->pool.data + it->pos;
    size_t bad;
    if (!kz_utf8_valid(s, it->len, &bad)) {
        pt_warn(r, it->line, "invalid UTF-8 at byte %zu; line ignored", bad);
        return 0;
    }
    if (!memchr(s, '\t', it->len)) {
        pt_warn(r, it->line, "not a PubTator line (no '|t|', '|a|' or tab); ignored");
        return 0;
    }
    kz_str f[PT_MAX_FIELDS];
    size_t n = 0, i = 0;
    for (;;) {
        const char *tab = memchr(s + i, '\t', it->len - i);
        size_t j = tab ? (size_t)(tab - s) : it->len;
        if (n == PT_MAX_FIELDS) {
            pt_warn(r, it->line, "more than %d tab-separated fields; line ignored", PT_MAX_FIELDS);
            return 0;
        }
        f[n++] = (kz_str){s + i, j - i};
        if (!tab) break;
        i = j + 1;
    }
    if (!kz_str_eq(f[0], pd->doc->idx)) {
        pt_warn(r, it->line, "line is for document '%.*s', not '%s'; ignored", (int)KZ_MIN(f[0].len, 100),
                f[0].ptr, pd->doc->idx.ptr);
        return 0;
    }
    /* Relations have 4 (BC5CDR) or 5 (BioRED) fields and a word as type. */
    char c = f[1].len ? f[1].ptr[0] : 0;
    if ((c >= '0' && c <= '9') || c == '-' || c == '+' || n >= 6) return add_annotation(r, pd, it, f, n);
    if (n < 4) {
        pt_warn(r, it->line,
                "relation has %zu tab-separated fields, needs at least 4 (<id> <type> <id1> <id2>); ignored",
                n);
        return 0;
    }
    if (st->rels.len && kz__buf_putc(&st->rels, ',')) return KZ_ENOMEM;
    return put_string_list(&st->rels, f + 1, n - 1);
}

static int set_list_meta(kz_doc *doc, const char *key, kz_buf *items, kz_buf *tmp) {
    if (!items->len) return 0;
    kz__buf_clear(tmp);
    int rc = kz__buf_putc(tmp, '[');
    if (!rc) rc = kz__buf_append(tmp, items->data, items->len);
    if (!rc) rc = kz__buf_putc(tmp, ']');
    if (!rc) rc = kz_meta_set_json(doc, &doc->metadata, kz_str_c(key), (kz_str){tmp->data, tmp->len});
    return rc;
}

static int build_doc(kz_reader *r, kz_doc **out, kz_error *err) {
    pt_reader *st = r->state;
    pt_doc pd = {0};
    pd.doc = kz_doc_new(st->pmid.data ? st->pmid.data : "", st->pmid.len);
    int rc = pd.doc ? 0 : KZ_ENOMEM;
    if (!rc) rc = kz_doc_add_section(pd.doc, "title", 5, st->title.data, st->title.len, &pd.sec[0], err);
    if (!rc)
        rc = kz_doc_add_section(pd.doc, "abstract", 8, st->abstract.data, st->abstract.len, &pd.sec[1], err);
    for (int k = 0; !rc && k < 2; k++) {
        pd.map[k] = kz_offset_map_new(pd.doc->arena, pd.sec[k]->text.ptr, pd.sec[k]->text.len);
        if (!pd.map[k]) rc = KZ_ENOMEM;
    }
    if (!rc) {
        pd.cp_title = kz_offset_map_cp_len(pd.map[0]);
        pd.cp_total = pd.cp_title + 1 + kz_offset_map_cp_len(pd.map[1]);
    }
    for (size_t i = 0; !rc && i < st->n_items; i++) rc = add_item(r, &pd, &st->items[i]);
    if (!rc) rc = set_list_meta(pd.doc, "relations", &st->rels, &st->tmp);
    if (!rc && st->oom) rc = KZ_ENOMEM;
    if (!rc) rc = set_list_meta(pd.doc, "reader_warnings", &st->warn, &st->tmp);
    if (rc) {
        kz_doc_free(pd.doc);
        if (err && !err->msg[0])
            kz_error_set(err, rc, "%s", rc == KZ_ENOMEM ? "out of memory" : "cannot build document");
        return rc;
    }
    *out = pd.doc;
    return 1;
}

static int pt_next(kz_reader *r, kz_doc **out, kz_error *err) {
    pt_reader *st = r->state;
    size_t cap = r->p.max_record_bytes;
    pt_reset_doc(st);
    int64_t first_line = 0, first_off = 0;
    for (;;) {
        int64_t off, line;
        int rc;
        if (st->pending) {
            st->pending = false;
            rc = 1;
            off = st->pend_off;
            line = st->pend_line;
        } else {
            off = r->in.offset;
            rc = kz__input_getline(&r->in, &st->line, cap);
            line = r->in.line;
        }
        if (rc == 0) break;
        if (rc == KZ_ELIMIT) {
            if (!st->started)
                return line_error(r, err, rc, line, off,
                                  "line is longer than the record cap (max_record_bytes)");
            pt_doc_fail(r, rc, line, off,
                        "line %lld is longer than the %zu-byte record cap (max_record_bytes)",
                        (long long)line, cap);
            continue;
        }
        if (rc < 0) {
            r->done = true;
            kz__reader_locate(r, err, line + 1, off);
            return kz_error_set(err, rc, "%s", r->in.errmsg[0] ? r->in.errmsg : "read failed");
        }
        /* A BOM may open any line: concatenated files each carry their own. */
        const char *s = st->line.data;
        size_t len = st->line.len;
        if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) s += 3, len -= 3;
        if (is_blank(s, len)) {
            if (st->started) break;
            continue;
        }
        size_t id_len;
        char kind = text_kind(s, len, &id_len);
        if (kind) {
            bool fresh = !st->started;
            if (!take_text_line(r, kind, s, len, id_len, line, off)) {
                /* Keep the line for the next call: swap it out of the way. */
                if (s != st->line.data) memmove(st->line.data, s, len + 1);
                st->line.len = len;
                st->pending = true;
                st->pend_line = line;
                st->pend_off = off;
                break;
            }
            if (fresh) {
                first_line = line;
                first_off = off;
            }
        } else if (!st->started) {
            return line_error(r, err, KZ_EPARSE, line, off,
                              memchr(s, '\t', len)
                                  ? "annotation line outside a document (no '<id>|t|' line before it)"
                                  : "expected '<id>|t|<title>' or '<id>|a|<abstract>'");
        } else {
            take_item_line(r, s, len, line);
        }
        st->bytes += len + 1;
        if (st->bytes > cap)
            pt_doc_fail(r, KZ_ELIMIT, first_line, first_off,
                        "document is larger than the %zu-byte record cap (max_record_bytes)", cap);
        if (st->doc_err.code) {
            /* Stop storing but keep reading to the end of the document. */
            kz__buf_clear(&st->pool);
            st->n_items = 0;
        }
    }
    if (!st->started) return 0;
    if (st->doc_err.code) {
        if (err) {
            *err = st->doc_err;
            snprintf(err->doc_id, sizeof err->doc_id, "%.*s", (int)KZ_MIN(st->pmid.len, 120), st->pmid.data);
        }
        return st->doc_err.code;
    }
    return build_doc(r, out, err);
}

static void pt_reader_close(kz_reader *r) {
    pt_reader *st = r->state;
    if (!st) return;
    kz_buf *bufs[] = {&st->line, &st->pmid, &st->title, &st->abstract,
                      &st->pool, &st->warn, &st->rels,  &st->tmp};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) kz__buf_free(bufs[i]);
    free(st->items);
    free(st);
    r->state = NULL;
}

static const kz_reader_vt k_pt_reader_vt = {pt_next, pt_reader_close};

int kz__reader_init_pubtator(kz_reader *r, kz_error *err) {
    pt_reader *st = calloc(1, sizeof *st);
    if (!st) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    kz_buf *bufs[] = {&st->line, &st->pmid, &st->title, &st->abstract,
                      &st->pool, &st->warn, &st->rels,  &st->tmp};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) kz__buf_init(bufs[i], 0);
    r->state = st;
    r->vt = &k_pt_reader_vt;
    return 0;
}

/* ======================================================================== writer */

typedef struct pt_line {
    int64_t start, end; /* document code points */
    size_t seq;         /* emission order for ties */
    const kz_entity *ent;
    const kz_section *sec;
    int64_t base; /* code point where sec starts in the document */
    kz_span span; /* bytes in sec */
} pt_line;

typedef struct pt_writer {
    kz_arena *tmp;
    pt_line *lines;
    size_t cap_lines;
} pt_writer;

/* Tabs and line breaks would end a field or the line: write them as spaces
 * (one byte each, so offsets stay valid). */
static int put_field(kz_buf *b, const char *s, size_t len) {
    int rc = kz__buf_reserve(b, len);
    for (size_t i = 0; !rc && i < len; i++) {
        char c = s[i];
        b->data[b->len++] = c == '\t' || c == '\n' || c == '\r' ? ' ' : c;
    }
    if (!rc) b->data[b->len] = 0;
    return rc;
}

static int put_doc_id(kz_buf *b, kz_str id) {
    int rc = kz__buf_reserve(b, id.len);
    for (size_t i = 0; !rc && i < id.len; i++) {
        char c = id.ptr[i];
        b->data[b->len++] = c == '|' || c == '\t' || c == '\n' || c == '\r' ? '_' : c;
    }
    if (!rc) b->data[b->len] = 0;
    return rc;
}

static int line_cmp(const void *a, const void *b) {
    const pt_line *x = a, *y = b;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The type column: the original PubTator type if the reader kept one that
 * still agrees with the entity's class, else the class itself. */
static int put_type(kz_buf *b, const kz_entity *e) {
    kz_str v = kz_meta_get(&e->metadata, "pubtator_type");
    json_t *j = v.ptr ? json_loadb(v.ptr, v.len, JSON_DECODE_ANY, NULL) : NULL;
    int rc;
    if (j && json_is_string(j) &&
        kz_str_eq(type_class((kz_str){json_string_value(j), json_string_length(j)}), e->entity_class))
        rc = put_field(b, json_string_value(j), json_string_length(j));
    else
        rc = put_field(b, e->entity_class.ptr, e->entity_class.len);
    json_decref(j);
    return rc;
}

/* Mapping ids, deduplicated, joined so that the reader splits them back:
 * '|' normally, ',' when an id itself holds '|' or '+' (plus a trailing ','
 * for a single such id that is not tmVar-shaped). */
static int put_ids(kz_buf *b, const kz_entity *e) {
    bool comma = false;
    for (uint32_t i = 0; i < e->n_mappings; i++)
        comma |= has_char(e->mappings[i].idx, '|') || has_char(e->mappings[i].idx, '+');
    kz_str seen[PT_MAX_IDS];
    size_t n_seen = 0, written = 0;
    int rc = 0;
    for (uint32_t i = 0; !rc && i < e->n_mappings; i++) {
        kz_str id = e->mappings[i].idx;
        if (!id.ptr || !id.len || seen_before(seen, &n_seen, id)) continue;
        if (written++) rc = kz__buf_putc(b, comma ? ',' : '|');
        if (!rc) rc = put_field(b, id.ptr, id.len);
    }
    if (!rc && comma && written == 1 && !is_tmvar_id(seen[0].ptr, seen[0].len)) rc = kz__buf_putc(b, ',');
    return rc;
}

/* Append each string of a JSON list (raw metadata value), each preceded by
 * sep; other shapes and members are ignored. */
static int put_json_strings(kz_buf *b, kz_str raw, char sep) {
    if (!raw.ptr) return 0;
    json_t *j = json_loadb(raw.ptr, raw.len, JSON_DECODE_ANY, NULL);
    int rc = 0;
    size_t i;
    json_t *v;
    if (json_is_array(j)) {
        json_array_foreach(j, i, v) {
            if (!json_is_string(v) || rc) continue;
            rc = kz__buf_putc(b, sep);
            if (!rc) rc = put_field(b, json_string_value(v), json_string_length(v));
        }
    }
    json_decref(j);
    return rc;
}

static int put_relations(kz_buf *b, const kz_doc *doc) {
    kz_str raw = kz_meta_get(&doc->metadata, "relations");
    if (!raw.ptr) return 0;
    json_t *j = json_loadb(raw.ptr, raw.len, JSON_DECODE_ANY, NULL);
    int rc = 0;
    size_t i, k;
    json_t *rel, *v;
    if (json_is_array(j)) {
        json_array_foreach(j, i, rel) {
            if (!json_is_array(rel) || json_array_size(rel) == 0 || rc) continue;
            rc = put_doc_id(b, doc->idx);
            json_array_foreach(rel, k, v) {
                if (rc) break;
                rc = kz__buf_putc(b, '\t');
                if (!rc && json_is_string(v)) rc = put_field(b, json_string_value(v), json_string_length(v));
            }
            if (!rc) rc = kz__buf_putc(b, '\n');
        }
    }
    json_decref(j);
    return rc;
}

static int collect_lines(pt_writer *st, const kz_doc *doc, size_t *n_out) {
    size_t n = 0;
    int64_t base = 0;
    for (uint32_t s = 0; s < doc->n_sections; s++) {
        const kz_section *sec = doc->sections[s];
        kz_offset_map *map = kz_offset_map_new(st->tmp, sec->text.ptr, sec->text.len);
        if (!map) return KZ_ENOMEM;
        for (uint32_t i = 0; i < sec->n_entities; i++) {
            const kz_entity *e = sec->entities[i];
            for (uint32_t k = 0; k < e->n_spans; k++) {
                if (n == st->cap_lines) {
                    size_t nc = st->cap_lines ? st->cap_lines * 2 : 64;
                    pt_line *p = realloc(st->lines, nc * sizeof *p);
                    if (!p) return KZ_ENOMEM;
                    st->lines = p;
                    st->cap_lines = nc;
                }
                kz_span sp = e->spans[k];
                st->lines[n] = (pt_line){base + kz_offset_map_to_cp(map, sp.start),
                                         base + kz_offset_map_to_cp(map, sp.end),
                                         n,
                                         e,
                                         sec,
                                         base,
                                         sp};
                n++;
            }
        }
        /* Title + one separator; later sections are joined with one space. */
        base += kz_offset_map_cp_len(map) + 1;
    }
    if (n) qsort(st->lines, n, sizeof *st->lines, line_cmp);
    *n_out = n;
    return 0;
}

static int pt_write(kz_writer *w, const kz_doc *doc, kz_error *err) {
    pt_writer *st = w->state;
    kz_buf *b = &w->out;
    kz_arena_reset(st->tmp);
    int rc = put_doc_id(b, doc->idx);
    if (!rc) rc = kz__buf_puts(b, "|t|");
    if (!rc && doc->n_sections) rc = put_field(b, doc->sections[0]->text.ptr, doc->sections[0]->text.len);
    if (!rc) rc = kz__buf_putc(b, '\n');
    if (!rc) rc = put_doc_id(b, doc->idx);
    if (!rc) rc = kz__buf_puts(b, "|a|");
    for (uint32_t s = 1; !rc && s < doc->n_sections; s++) {
        if (s > 1) rc = kz__buf_putc(b, ' ');
        if (!rc) rc = put_field(b, doc->sections[s]->text.ptr, doc->sections[s]->text.len);
    }
    if (!rc) rc = kz__buf_putc(b, '\n');
    size_t n = 0;
    if (!rc) rc = collect_lines(st, doc, &n);
    for (size_t i = 0; !rc && i < n; i++) {
        const pt_line *l = &st->lines[i];
        rc = put_doc_id(b, doc->idx);
        if (!rc) rc = kz__buf_printf(b, "\t%lld\t%lld\t", (long long)l->start, (long long)l->end);
        if (!rc) rc = put_field(b, l->sec->text.ptr + l->span.start, (size_t)(l->span.end - l->span.start));
        if (!rc) rc = kz__buf_putc(b, '\t');
        if (!rc) rc = put_type(b, l->ent);
        if (!rc) rc = kz__buf_putc(b, '\t');
        if (!rc) rc = put_ids(b, l->ent);
        if (!rc) rc = put_json_strings(b, kz_meta_get(&l->ent->metadata, "pubtator_extra"), '\t');
        if (!rc) rc = kz__buf_putc(b, '\n');
    }
    if (!rc) rc = put_relations(b, doc);
    if (!rc) rc = kz__buf_putc(b, '\n');
    if (rc) return kz_error_set(err, rc, "cannot format PubTator output: %s", kz_strerror(rc));
    return 0;
}

static void pt_writer_close(kz_writer *w) {
    pt_writer *st = w->state;
    if (!st) return;
    kz_arena_free(st->tmp);
    free(st->lines);
    free(st);
    w->state = NULL;
}

static const kz_writer_vt k_pt_writer_vt = {NULL, pt_write, NULL, pt_writer_close};

int kz__writer_init_pubtator(kz_writer *w, kz_error *err) {
    pt_writer *st = calloc(1, sizeof *st);
    if (st) st->tmp = kz_arena_new(0);
    if (!st || !st->tmp) {
        free(st);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    w->state = st;
    w->vt = &k_pt_writer_vt;
    return 0;
}
