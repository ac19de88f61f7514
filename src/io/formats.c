/* Format names, guessing, and the generic reader/writer objects that dispatch
 * to one vtable per format. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include "io_int.h"

static const char *const k_names[] = {
    [KZ_FORMAT_UNKNOWN] = "unknown",
    [KZ_FORMAT_TEXT] = "text",
    [KZ_FORMAT_JSONL] = "jsonl",
    [KZ_FORMAT_KAZU_JSON] = "kazu-json",
    [KZ_FORMAT_PUBTATOR] = "pubtator",
    [KZ_FORMAT_BIOC_XML] = "bioc-xml",
    [KZ_FORMAT_BIOC_JSON] = "bioc-json",
    [KZ_FORMAT_PUBMED_XML] = "pubmed-xml",
    [KZ_FORMAT_BRAT] = "brat",
    [KZ_FORMAT_CONLL] = "conll",
    [KZ_FORMAT_LABEL_STUDIO] = "label-studio",
};
#define KZ_NFORMATS ((int)(sizeof k_names / sizeof k_names[0]))

const char *kz_format_name(kz_format f) {
    return (int)f >= 0 && (int)f < KZ_NFORMATS ? k_names[f] : "unknown";
}

kz_format kz_format_parse(const char *name) {
    if (!name) return KZ_FORMAT_UNKNOWN;
    for (int i = 1; i < KZ_NFORMATS; i++)
        if (strcmp(name, k_names[i]) == 0) return (kz_format)i;
    return KZ_FORMAT_UNKNOWN;
}

bool kz_format_can_read(kz_format f) {
    switch (f) {
    case KZ_FORMAT_TEXT:
    case KZ_FORMAT_JSONL:
    case KZ_FORMAT_KAZU_JSON:
    case KZ_FORMAT_PUBTATOR:
    case KZ_FORMAT_BIOC_XML:
    case KZ_FORMAT_BIOC_JSON:
    case KZ_FORMAT_PUBMED_XML: return true;
    default: return false;
    }
}

bool kz_format_can_write(kz_format f) {
    switch (f) {
    case KZ_FORMAT_JSONL:
    case KZ_FORMAT_KAZU_JSON:
    case KZ_FORMAT_PUBTATOR:
    case KZ_FORMAT_BIOC_XML:
    case KZ_FORMAT_BIOC_JSON:
    case KZ_FORMAT_BRAT:
    case KZ_FORMAT_CONLL:
    case KZ_FORMAT_LABEL_STUDIO: return true;
    default: return false;
    }
}

static bool ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcasecmp(s + a - b, suf) == 0;
}

kz_format kz_format_guess(const char *path, const void *head, size_t head_len) {
    char base[512] = "";
    if (path) {
        snprintf(base, sizeof base, "%s", path);
        if (ends_with(base, ".gz")) base[strlen(base) - 3] = 0;
    }
    /* Content first: it is more reliable than a name. */
    if (head && head_len) {
        const char *h = head;
        size_t i = 0;
        if (head_len >= 3 && (unsigned char)h[0] == 0xEF && (unsigned char)h[1] == 0xBB &&
            (unsigned char)h[2] == 0xBF)
            i = 3;
        while (i < head_len && (h[i] == ' ' || h[i] == '\n' || h[i] == '\r' || h[i] == '\t')) i++;
        size_t rest = head_len - i;
        const char *p = h + i;
        if (rest && *p == '<') {
            if (memmem(p, rest, "<collection", 11)) return KZ_FORMAT_BIOC_XML;
            if (memmem(p, rest, "<PubmedArticle", 14) || memmem(p, rest, "<MedlineCitation", 16))
                return KZ_FORMAT_PUBMED_XML;
        }
        if (rest && *p == '{') {
            if (memmem(p, rest, "\"documents\"", 11) && memmem(p, rest, "\"source\"", 8))
                return KZ_FORMAT_BIOC_JSON;
            if (memmem(p, rest, "\"sections\"", 10) && (memmem(p, rest, "\"idx\"", 5)))
                return KZ_FORMAT_KAZU_JSON;
            return KZ_FORMAT_JSONL;
        }
        /* PubTator: "<pmid>|t|" on the first line. */
        size_t d = 0;
        while (d < rest && p[d] >= '0' && p[d] <= '9') d++;
        if (d < rest && p[d] == '|' && d + 2 < rest && (p[d + 1] == 't' || p[d + 1] == 'a') &&
            p[d + 2] == '|')
            return KZ_FORMAT_PUBTATOR;
    }
    if (ends_with(base, ".jsonl") || ends_with(base, ".ndjson")) return KZ_FORMAT_JSONL;
    if (ends_with(base, ".json")) return KZ_FORMAT_KAZU_JSON;
    if (ends_with(base, ".pubtator") || ends_with(base, ".PubTator.txt")) return KZ_FORMAT_PUBTATOR;
    if (ends_with(base, ".bioc.xml")) return KZ_FORMAT_BIOC_XML;
    if (ends_with(base, ".xml")) return KZ_FORMAT_PUBMED_XML;
    if (ends_with(base, ".txt")) return KZ_FORMAT_TEXT;
    return head && head_len ? KZ_FORMAT_TEXT : KZ_FORMAT_UNKNOWN;
}

/* ---- readers ---------------------------------------------------------------- */
kz_reader_params kz_reader_default_params(void) {
    kz_reader_params p = {0};
    p.max_record_bytes = 64u << 20;
    p.section_name = "na";
    return p;
}

void kz__reader_locate(const kz_reader *r, kz_error *err, int64_t line, int64_t offset) {
    if (!err) return;
    snprintf(err->path, sizeof err->path, "%s", r->name);
    err->line = line;
    err->offset = offset;
}

static int reader_start(kz_reader *r, kz_format fmt, const kz_reader_params *params, kz_error *err) {
    r->p = params ? *params : kz_reader_default_params();
    if (!r->p.max_record_bytes) r->p.max_record_bytes = 64u << 20;
    if (!r->p.section_name) r->p.section_name = "na";
    if (fmt == KZ_FORMAT_UNKNOWN) {
        unsigned char head[4096];
        size_t n = kz__input_peek(&r->in, head, sizeof head);
        fmt = kz_format_guess(r->name, head, n);
        if (fmt == KZ_FORMAT_UNKNOWN) fmt = KZ_FORMAT_TEXT; /* empty input */
    }
    r->fmt = fmt;
    switch (fmt) {
    case KZ_FORMAT_TEXT: return kz__reader_init_text(r, err);
    case KZ_FORMAT_JSONL:
    case KZ_FORMAT_KAZU_JSON: return kz__reader_init_jsonl(r, err);
    case KZ_FORMAT_PUBTATOR: return kz__reader_init_pubtator(r, err);
    case KZ_FORMAT_BIOC_XML: return kz__reader_init_bioc_xml(r, err);
    case KZ_FORMAT_BIOC_JSON: return kz__reader_init_bioc_json(r, err);
    case KZ_FORMAT_PUBMED_XML: return kz__reader_init_pubmed_xml(r, err);
    default: return kz_error_set(err, KZ_EFORMAT, "format '%s' cannot be read", kz_format_name(fmt));
    }
}

int kz_reader_open_path(kz_reader **out, const char *path, kz_format fmt, const kz_reader_params *params,
                        kz_error *err) {
    *out = NULL;
    kz_error_clear(err);
    if (!path) return kz_error_set(err, KZ_EINVAL, "no input path");
    kz_reader *r = calloc(1, sizeof *r);
    if (!r) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    snprintf(r->name, sizeof r->name, "%s", path);
    if (err) snprintf(err->path, sizeof err->path, "%s", path);
    int rc = kz__input_open_path(&r->in, path, err);
    if (!rc) rc = reader_start(r, fmt, params, err);
    if (rc) {
        kz_reader_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

int kz_reader_open_mem(kz_reader **out, const void *data, size_t len, const char *name, kz_format fmt,
                       const kz_reader_params *params, kz_error *err) {
    *out = NULL;
    kz_error_clear(err);
    kz_reader *r = calloc(1, sizeof *r);
    if (!r) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    snprintf(r->name, sizeof r->name, "%s", name ? name : "<memory>");
    int rc = kz__input_open_mem(&r->in, data ? data : "", data ? len : 0);
    if (rc) kz_error_set(err, rc, "cannot open memory input");
    if (!rc) rc = reader_start(r, fmt, params, err);
    if (rc) {
        kz_reader_close(r);
        return rc;
    }
    *out = r;
    return 0;
}

int kz_reader_next(kz_reader *r, kz_doc **out, kz_error *err) {
    *out = NULL;
    kz_error_clear(err);
    if (!r || r->done || !r->vt) return 0;
    int rc = r->vt->next(r, out, err);
    if (rc < 0 && err) {
        if (!err->path[0]) snprintf(err->path, sizeof err->path, "%s", r->name);
        if (!err->code) err->code = rc;
    }
    if (rc == 1) r->ndocs++;
    return rc;
}

int64_t kz_reader_bytes(const kz_reader *r) { return r ? r->in.offset : 0; }
int64_t kz_reader_warnings(const kz_reader *r) { return r ? r->nwarnings : 0; }
kz_format kz_reader_format(const kz_reader *r) { return r ? r->fmt : KZ_FORMAT_UNKNOWN; }

void kz_reader_close(kz_reader *r) {
    if (!r) return;
    if (r->vt && r->vt->close) r->vt->close(r);
    kz__input_close(&r->in);
    free(r);
}

/* ---- writers ---------------------------------------------------------------- */
static const char *const k_default_classes[] = {"gene",      "disease",   "drug",    "species",
                                                "cell_line", "cell_type", "anatomy", "mutation"};

kz_writer_params kz_writer_default_params(void) {
    kz_writer_params p = {0};
    p.ascii_only = true;
    p.conll_classes = k_default_classes;
    p.n_conll_classes = sizeof k_default_classes / sizeof k_default_classes[0];
    return p;
}

static int writer_start(kz_writer *w, kz_format fmt, const kz_writer_params *params, kz_error *err) {
    w->p = params ? *params : kz_writer_default_params();
    if (!w->p.conll_classes) {
        w->p.conll_classes = k_default_classes;
        w->p.n_conll_classes = sizeof k_default_classes / sizeof k_default_classes[0];
    }
    w->fmt = fmt;
    kz__buf_init(&w->out, 0);
    int rc;
    switch (fmt) {
    case KZ_FORMAT_JSONL:
    case KZ_FORMAT_KAZU_JSON: rc = kz__writer_init_kazu_json(w, err); break;
    case KZ_FORMAT_PUBTATOR: rc = kz__writer_init_pubtator(w, err); break;
    case KZ_FORMAT_BIOC_XML: rc = kz__writer_init_bioc_xml(w, err); break;
    case KZ_FORMAT_BIOC_JSON: rc = kz__writer_init_bioc_json(w, err); break;
    case KZ_FORMAT_BRAT: rc = kz__writer_init_brat(w, err); break;
    case KZ_FORMAT_CONLL: rc = kz__writer_init_conll(w, err); break;
    case KZ_FORMAT_LABEL_STUDIO: rc = kz__writer_init_label_studio(w, err); break;
    default: return kz_error_set(err, KZ_EFORMAT, "format '%s' cannot be written", kz_format_name(fmt));
    }
    if (!rc && w->vt->begin) rc = w->vt->begin(w, err);
    return rc;
}

int kz__writer_flush(kz_writer *w, kz_error *err) {
    if (w->out.len && w->f) {
        if (fwrite(w->out.data, 1, w->out.len, w->f) != w->out.len) {
            kz__buf_clear(&w->out);
            return kz_error_set(err, KZ_EIO, "write to %s failed: %s", w->name, strerror(errno));
        }
    }
    kz__buf_clear(&w->out);
    return 0;
}

static void writer_free(kz_writer *w) {
    if (w->vt && w->vt->close) w->vt->close(w);
    if (w->own_f && w->f) fclose(w->f);
    kz__buf_free(&w->out);
    free(w);
}

int kz_writer_open_file(kz_writer **out, FILE *f, const char *name, kz_format fmt,
                        const kz_writer_params *params, kz_error *err) {
    *out = NULL;
    kz_error_clear(err);
    if (fmt == KZ_FORMAT_BRAT) return kz_error_set(err, KZ_EINVAL, "brat output needs a directory path");
    if (!f) return kz_error_set(err, KZ_EINVAL, "no output stream");
    kz_writer *w = calloc(1, sizeof *w);
    if (!w) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    w->f = f;
    snprintf(w->name, sizeof w->name, "%s", name ? name : "<stream>");
    int rc = writer_start(w, fmt, params, err);
    if (rc) {
        writer_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

int kz_writer_open_path(kz_writer **out, const char *path, kz_format fmt, const kz_writer_params *params,
                        kz_error *err) {
    *out = NULL;
    kz_error_clear(err);
    if (!path) return kz_error_set(err, KZ_EINVAL, "no output path");
    kz_writer *w = calloc(1, sizeof *w);
    if (!w) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    snprintf(w->name, sizeof w->name, "%s", path);
    if (fmt == KZ_FORMAT_BRAT) {
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            free(w);
            return kz_error_set(err, KZ_EIO, "cannot create directory %s: %s", path, strerror(e));
        }
    } else if (strcmp(path, "-") == 0) {
        w->f = stdout;
    } else {
        w->f = fopen(path, "wb");
        if (!w->f) {
            int e = errno;
            free(w);
            return kz_error_set(err, KZ_EIO, "cannot open %s for writing: %s", path, strerror(e));
        }
        w->own_f = true;
    }
    int rc = writer_start(w, fmt, params, err);
    if (rc) {
        writer_free(w);
        return rc;
    }
    *out = w;
    return 0;
}

int kz_writer_write(kz_writer *w, const kz_doc *doc, kz_error *err) {
    kz_error_clear(err);
    if (!w || !doc) return kz_error_set(err, KZ_EINVAL, "no writer or document");
    kz__buf_clear(&w->out);
    int rc = w->vt->write(w, doc, err);
    if (rc) {
        kz__buf_clear(&w->out); /* never emit half a document */
        if (err && !err->doc_id[0])
            snprintf(err->doc_id, sizeof err->doc_id, "%.*s", (int)KZ_MIN(doc->idx.len, 120), doc->idx.ptr);
        return rc;
    }
    rc = kz__writer_flush(w, err);
    if (!rc) w->ndocs++;
    return rc;
}

int kz_writer_close(kz_writer *w, kz_error *err) {
    if (!w) return 0;
    kz_error_clear(err);
    int rc = 0;
    kz__buf_clear(&w->out);
    if (w->vt->finish) rc = w->vt->finish(w, err);
    if (!rc) rc = kz__writer_flush(w, err);
    if (w->f && fflush(w->f) != 0 && !rc)
        rc = kz_error_set(err, KZ_EIO, "flush of %s failed: %s", w->name, strerror(errno));
    if (w->own_f && w->f) {
        if (fclose(w->f) != 0 && !rc)
            rc = kz_error_set(err, KZ_EIO, "close of %s failed: %s", w->name, strerror(errno));
        w->f = NULL;
    }
    writer_free(w);
    return rc;
}
