/* PubMed/MEDLINE citation XML reader (NLM PubmedArticleSet / MedlineCitationSet):
 * one document per article with "title" and "abstract" sections, streamed. */
#include <stdlib.h>
#include "xml_int.h"

/* The fields we keep, matched by element path below the article wrapper. */
enum { F_PMID, F_TITLE, F_BOOK_TITLE, F_ABSTRACT, F_JOURNAL, F_YEAR, F_MEDLINE_DATE, F_LANGUAGE, F_DOI, F_N };

#define P(path, field)                                                                                       \
    { path, sizeof path - 1, field }
static const struct {
    const char *path;
    size_t len;
    int field;
} k_paths[] = {
    P("MedlineCitation/PMID", F_PMID),
    P("MedlineCitation/Article/ArticleTitle", F_TITLE),
    P("MedlineCitation/Article/Abstract/AbstractText", F_ABSTRACT),
    P("MedlineCitation/Article/Journal/Title", F_JOURNAL),
    P("MedlineCitation/Article/Journal/JournalIssue/PubDate/Year", F_YEAR),
    P("MedlineCitation/Article/Journal/JournalIssue/PubDate/MedlineDate", F_MEDLINE_DATE),
    P("MedlineCitation/Article/Language", F_LANGUAGE),
    P("PubmedData/ArticleIdList/ArticleId", F_DOI),
    P("BookDocument/PMID", F_PMID),
    P("BookDocument/ArticleTitle", F_TITLE),
    P("BookDocument/Book/BookTitle", F_BOOK_TITLE),
    P("BookDocument/Book/PubDate/Year", F_YEAR),
    P("BookDocument/Abstract/AbstractText", F_ABSTRACT),
    P("BookDocument/Language", F_LANGUAGE),
    P("BookDocument/ArticleIdList/ArticleId", F_DOI),
};
#undef P

/* Paths above are at most 6 levels below the wrapper; deeper ones never match. */
#define PM_MAX_LEVELS 8
#define PM_MAX_NAME   64

typedef struct pm_state {
    kz_xml x;       /* first: the SAX ctx */
    int depth;      /* current element depth (root = 1) */
    int rec_depth;  /* depth of the article element; 0 = between articles */
    int skip_depth; /* > 0: ignore everything until this element closes */
    bool in_delete; /* the skipped element is a DeleteCitation */
    kz_buf path;    /* element names below the wrapper, '/'-joined */
    size_t path_len[PM_MAX_LEVELS + 1];
    int path_levels;          /* levels held in path */
    int cap_field, cap_depth; /* text capture in progress (cap_depth 0 = none) */
    kz_buf f[F_N];
    bool seen[F_N];
    int64_t pmid_version; /* -1 = absent */
    size_t rec_bytes;
    int64_t n_deleted;
} pm_state;

static void reset_record(pm_state *s) {
    s->rec_depth = 0;
    s->path_levels = 0;
    s->cap_depth = 0;
    s->rec_bytes = 0;
    s->pmid_version = -1;
    kz__buf_clear(&s->path);
    for (int i = 0; i < F_N; i++) {
        kz__buf_clear(&s->f[i]);
        s->seen[i] = false;
    }
}

static kz_str pmid_of(const pm_state *s) {
    return s->seen[F_PMID] ? kz__xml_trim((kz_str){s->f[F_PMID].data, s->f[F_PMID].len}) : KZ_STR_NULL;
}

/* The rest of the article is ignored; the error is reported once. */
static void fail_record(pm_state *s, int code, const char *what) {
    kz__xml_emit_error(&s->x, code, pmid_of(s), "article: %s", what);
    s->skip_depth = s->rec_depth;
    s->cap_depth = 0;
}

/* Count text held for the article against the record cap. */
static bool charge(pm_state *s, size_t n) {
    s->rec_bytes += n;
    if (s->rec_bytes <= s->x.r->p.max_record_bytes) return true;
    char what[96];
    snprintf(what, sizeof what, "larger than the record limit of %zu bytes", s->x.r->p.max_record_bytes);
    fail_record(s, KZ_ELIMIT, what);
    return false;
}

static bool add(pm_state *s, kz_buf *b, const char *p, size_t n) {
    if (!charge(s, n)) return false;
    if (kz__buf_append(b, p, n)) {
        fail_record(s, KZ_ENOMEM, "out of memory");
        return false;
    }
    return true;
}

static int match_path(const pm_state *s) {
    for (size_t i = 0; i < sizeof k_paths / sizeof k_paths[0]; i++)
        if (s->path.len == k_paths[i].len && memcmp(s->path.data, k_paths[i].path, s->path.len) == 0)
            return k_paths[i].field;
    return -1;
}

static void begin_field(pm_state *s, int field, int nb_attributes, const xmlChar **attrs) {
    kz_buf *b = &s->f[field];
    switch (field) {
    case F_PMID:
        if (s->seen[F_PMID]) return; /* the citation's own PMID comes first */
        s->pmid_version = kz__xml_parse_uint(kz__xml_attr(nb_attributes, attrs, "Version"));
        break;
    case F_DOI: {
        kz_str t = kz__xml_attr(nb_attributes, attrs, "IdType");
        if (s->seen[F_DOI] || !t.ptr || t.len != 3 || memcmp(t.ptr, "doi", 3) != 0) return;
        break;
    }
    case F_LANGUAGE:
        if (s->seen[F_LANGUAGE]) return; /* keep the first */
        break;
    case F_ABSTRACT: {
        /* Paragraphs joined by "\n"; a labelled one reads "LABEL: text". */
        if (s->seen[F_ABSTRACT] && !add(s, b, "\n", 1)) return;
        kz_str label = kz__xml_trim(kz__xml_attr(nb_attributes, attrs, "Label"));
        if (label.len) {
            if (!charge(s, label.len + 2)) return;
            if (kz__xml_attr_append(b, label) || kz__buf_puts(b, ": ")) {
                fail_record(s, KZ_ENOMEM, "out of memory");
                return;
            }
        }
        break;
    }
    default:
        if (s->seen[field]) kz__buf_clear(b); /* a repeated element: the last one wins */
        break;
    }
    s->seen[field] = true;
    s->cap_field = field;
    s->cap_depth = s->depth;
}

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
                     int nb_namespaces, const xmlChar **namespaces, int nb_attributes, int nb_defaulted,
                     const xmlChar **attrs) {
    pm_state *s = ctx;
    const char *name = (const char *)localname;
    if (++s->depth > KZ_XML_MAX_DEPTH) {
        kz__xml_stop(&s->x, KZ_ELIMIT, "elements nested deeper than %d", KZ_XML_MAX_DEPTH);
        return;
    }
    if (s->skip_depth) {
        if (s->in_delete && strcmp(name, "PMID") == 0) s->n_deleted++;
        return;
    }
    if (!s->rec_depth) {
        if (strcmp(name, "PubmedArticle") == 0 || strcmp(name, "PubmedBookArticle") == 0) {
            reset_record(s);
            s->rec_depth = s->depth;
        } else if (strcmp(name, "MedlineCitation") == 0) { /* bare citation (MedlineCitationSet) */
            reset_record(s);
            s->rec_depth = s->depth;
            /* Same paths as inside PubmedArticle: the record element leads them. */
            if (kz__buf_puts(&s->path, name)) fail_record(s, KZ_ENOMEM, "out of memory");
        } else if (strcmp(name, "DeleteCitation") == 0) {
            s->skip_depth = s->depth;
            s->in_delete = true;
        }
        return;
    }
    int level = s->depth - s->rec_depth;
    size_t nl = strlen(name);
    if (level != s->path_levels + 1 || level > PM_MAX_LEVELS || nl > PM_MAX_NAME) return;
    s->path_len[level] = s->path.len;
    if ((s->path.len && kz__buf_putc(&s->path, '/')) || kz__buf_append(&s->path, name, nl)) {
        fail_record(s, KZ_ENOMEM, "out of memory");
        return;
    }
    s->path_levels = level;
    if (s->cap_depth) return; /* inline markup inside a captured field */
    int field = match_path(s);
    if (field >= 0) begin_field(s, field, nb_attributes, attrs);
}

static void on_text(void *ctx, const xmlChar *ch, int len) {
    pm_state *s = ctx;
    if (s->cap_depth && !s->skip_depth) add(s, &s->f[s->cap_field], (const char *)ch, (size_t)len);
}

/* Only reached for entities the document declares or that an unloaded DTD
 * might declare: they are never expanded, so the field would be wrong. */
static void on_reference(void *ctx, const xmlChar *name) {
    pm_state *s = ctx;
    if (!s->cap_depth || s->skip_depth) return;
    char what[160];
    snprintf(what, sizeof what, "entity reference &%.80s; cannot be expanded (entities are disabled)",
             (const char *)name);
    fail_record(s, KZ_EPARSE, what);
}

/* "1998 Dec-1999 Jan" -> 1998; -1 if the text does not start with a year. */
static int64_t year_of(kz_str t) {
    t = kz__xml_trim(t);
    if (t.len > 4) t.len = 4;
    return t.len == 4 ? kz__xml_parse_uint(t) : -1;
}

static kz_str field(const pm_state *s, int f) {
    return (kz_str){s->f[f].data ? s->f[f].data : "", s->f[f].len};
}

static int set_str(kz_doc *d, const char *key, kz_str v) {
    v = kz__xml_trim(v);
    return v.len ? kz_meta_set_string(d, &d->metadata, kz_str_c(key), v) : 0;
}

static void finish_record(pm_state *s) {
    kz_str id = pmid_of(s);
    if (!id.ptr || !id.len) {
        kz__xml_emit_error(&s->x, KZ_EPARSE, KZ_STR_NULL, "article without a PMID");
        return;
    }
    kz_doc *d = kz_doc_new(id.ptr, id.len);
    if (!d) {
        kz__xml_emit_error(&s->x, KZ_ENOMEM, id, "out of memory");
        return;
    }
    kz_error e;
    kz_error_clear(&e);
    int rc = 0;
    int title = s->seen[F_TITLE] ? F_TITLE : s->seen[F_BOOK_TITLE] ? F_BOOK_TITLE : -1;
    if (title >= 0)
        rc = kz_doc_add_section(d, "title", 5, field(s, title).ptr, field(s, title).len, NULL, &e);
    if (!rc && s->seen[F_ABSTRACT])
        rc = kz_doc_add_section(d, "abstract", 8, field(s, F_ABSTRACT).ptr, field(s, F_ABSTRACT).len, NULL,
                                &e);
    if (!rc) rc = set_str(d, "journal", field(s, F_JOURNAL));
    int64_t year = s->seen[F_YEAR] ? year_of(field(s, F_YEAR)) : -1;
    if (year < 0 && s->seen[F_MEDLINE_DATE]) year = year_of(field(s, F_MEDLINE_DATE));
    if (!rc && year >= 0) rc = kz_meta_set_int(d, &d->metadata, kz_str_c("year"), year);
    if (!rc && s->pmid_version >= 0)
        rc = kz_meta_set_int(d, &d->metadata, kz_str_c("pmid_version"), s->pmid_version);
    if (!rc) rc = set_str(d, "language", field(s, F_LANGUAGE));
    if (!rc) rc = set_str(d, "doi", field(s, F_DOI));
    if (rc) {
        kz_doc_free(d);
        kz__xml_emit_error(&s->x, rc, id, "%s", e.code ? e.msg : kz_strerror(rc));
        return;
    }
    kz__xml_emit_doc(&s->x, d);
}

static void on_end(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri) {
    pm_state *s = ctx;
    int depth = s->depth--;
    if (s->skip_depth) {
        if (depth != s->skip_depth) return;
        s->skip_depth = 0;
        s->in_delete = false;
        if (depth == s->rec_depth) reset_record(s); /* failed article: already reported */
        return;
    }
    if (!s->rec_depth) return;
    if (depth == s->rec_depth) {
        finish_record(s);
        reset_record(s);
        return;
    }
    if (depth == s->cap_depth) s->cap_depth = 0;
    int level = depth - s->rec_depth;
    if (level == s->path_levels) {
        s->path.len = s->path_len[level];
        s->path.data[s->path.len] = 0;
        s->path_levels--;
    }
}

static int pm_next(kz_reader *r, kz_doc **out, kz_error *err) {
    pm_state *s = r->state;
    int rc = kz__xml_next(&s->x, out, err);
    if (rc == 0 && s->n_deleted)
        kz_log(KZ_LOG_INFO, "%s: skipped %lld deleted citations", r->name, (long long)s->n_deleted);
    return rc;
}

static void pm_close(kz_reader *r) {
    pm_state *s = r->state;
    if (!s) return;
    kz__xml_close(&s->x);
    kz__buf_free(&s->path);
    for (int i = 0; i < F_N; i++) kz__buf_free(&s->f[i]);
    free(s);
    r->state = NULL;
}

static const kz_reader_vt k_pubmed_vt = {pm_next, pm_close};

int kz__reader_init_pubmed_xml(kz_reader *r, kz_error *err) {
    pm_state *s = calloc(1, sizeof *s);
    if (!s) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    r->state = s;
    r->vt = &k_pubmed_vt;
    kz__buf_init(&s->path, 0);
    for (int i = 0; i < F_N; i++) kz__buf_init(&s->f[i], 0);
    reset_record(s);
    xmlSAXHandler h = {0};
    h.startElementNs = on_start;
    h.endElementNs = on_end;
    h.characters = on_text;
    h.reference = on_reference;
    return kz__xml_open(&s->x, r, &h, err);
}

int64_t kz__pubmed_xml_n_deleted(const kz_reader *r) {
    return r && r->fmt == KZ_FORMAT_PUBMED_XML && r->state ? ((const pm_state *)r->state)->n_deleted : 0;
}
