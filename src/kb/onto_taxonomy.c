/* NCBI taxonomy (format "ncbi-taxonomy"): names.dmp ("\t|\t"-separated, lines end "\t|") grouped by
 * tax_id, or the binomial TSV (tax_id, genus, species) derived from GenomeInfoDbData's specData.
 * Ids are "NCBITaxon:<tax_id>" unless the spec sets id_prefix. */
#include <stdlib.h>
#include "kb/onto_tab_int.h"

static const char *const default_classes[] = {"synonym", "equivalent name", "genbank common name",
                                              "common name"};

static bool eq(kz_str a, const char *b) { return a.len == strlen(b) && memcmp(a.ptr, b, a.len) == 0; }

/* names.dmp: tax_id | name_txt | unique name | name class |; rows of one taxon are consecutive in
 * NCBI's dump; a taxon that reappears later becomes a second record (the builder merges by id). */
static int names_dmp_rows(kz_tab_reader *r, kz_onto_sink *s, const kz_tab_map *m, kz_error *err) {
    const kz_onto_spec *spec = s->spec;
    int rc;
    kz_error rec; /* cleared only after use */
    kz_error_clear(&rec);
    for (;;) {
        rc = kz__tab_next(r, &rec);
        if (rc == 0) break;
        if (kz__tab_record_error(rc)) {
            kz__sink_warn(s, rec.line, rc, "%s; record skipped", rec.msg);
            kz_error_clear(&rec);
            continue;
        }
        if (rc < 0) {
            if (err) *err = rec;
            return rc;
        }
        if (rc != 1) continue;
        const kz_str *f = r->fields;
        bool ok = r->n_fields == 8;
        for (size_t i = 1; ok && i < 8; i += 2) ok = eq(f[i], "|");
        if (!ok) {
            kz__sink_warn(
                s, r->line, KZ_EPARSE,
                "not a names.dmp row (tax_id\\t|\\tname\\t|\\tunique name\\t|\\tclass\\t|); skipped");
            continue;
        }
        kz_str id = kz__tab_trim(f[0].ptr, f[0].len), name = f[2], cls = f[6];
        bool digits = id.len > 0 && id.len <= 20;
        for (size_t i = 0; digits && i < id.len; i++) digits = id.ptr[i] >= '0' && id.ptr[i] <= '9';
        if (!digits) {
            kz__sink_warn(s, r->line, KZ_EPARSE, "tax_id '%.*s' is not a number; row skipped",
                          (int)KZ_MIN(id.len, 40), id.ptr);
            continue;
        }
        if (!kz_utf8_valid(name.ptr, name.len, NULL) || !kz_utf8_valid(cls.ptr, cls.len, NULL)) {
            kz__sink_warn(s, r->line, KZ_EUTF8, "invalid UTF-8; row skipped");
            continue;
        }
        if (m->n_filters) {
            const kz_str cells[4] = {f[0], f[2], f[4], f[6]};
            if (!kz__tab_map_keep_row(m, s, cells)) continue;
        }
        if (!kz__term_id_is(s, id.ptr, id.len)) {
            if ((rc = kz__term_end(s, err))) return rc;
            kz__term_begin(s, r->line);
            if ((rc = kz__term_set_id(s, id.ptr, id.len)))
                return kz__sink_fail(s, err, r->line, rc, "out of memory");
        }
        if (eq(cls, "scientific name")) {
            rc = kz__term_add(s, KZ_TI_LABEL, name.ptr, name.len, cls.ptr, cls.len, NULL);
        } else {
            /* The default classes, or with syn_scopes every class (the sink keeps the listed ones). */
            bool keep = spec->n_syn_scopes > 0;
            for (size_t i = 0; !keep && i < sizeof default_classes / sizeof default_classes[0]; i++)
                keep = eq(cls, default_classes[i]);
            rc = keep ? kz__term_add(s, KZ_TI_SYN, name.ptr, name.len, cls.ptr, cls.len, NULL) : 0;
        }
        if (rc) return kz__sink_fail(s, err, r->line, rc, "out of memory");
    }
    return kz__term_end(s, err);
}

/* row_filters name the four columns as NCBI's readme does. */
static int run_names_dmp(kz_tab_reader *r, kz_onto_sink *s, kz_error *err) {
    static const kz_str dmp_cols[4] = {
        {"tax_id", 6}, {"name_txt", 8}, {"unique_name", 11}, {"name_class", 10}};
    kz_tab_map m;
    memset(&m, 0, sizeof m);
    int rc = 0;
    if (s->spec->n_row_filters) {
        rc = kz__tab_map_init(&m, dmp_cols, 4);
        if (rc)
            rc = kz__sink_fail(s, err, 0, rc, "out of memory");
        else
            rc = kz__tab_map_add_filters(&m, s->spec, s, err);
    }
    if (!rc) rc = names_dmp_rows(r, s, &m, err);
    kz__tab_map_free(&m);
    return rc;
}

/* The binomial TSV: name = "genus species"; the first row of a taxon gives the label, later rows
 * synonyms (scope "synonym"). */
static int run_binomial(kz_tab_reader *r, kz_onto_sink *s, kz_error *err) {
    const kz_onto_spec *spec = s->spec;
    kz_tab_map m;
    memset(&m, 0, sizeof m);
    int rc = kz__tab_read_header(r, s, &m, err);
    if (rc) goto done;
    if ((rc = kz__tab_map_add(&m, KZ_COL_ID, spec->id_col ? spec->id_col : "tax_id", NULL, NULL, true, s,
                              err)))
        goto done;
    if ((rc = kz__tab_map_add(&m, KZ_COL_LABEL, spec->label_col ? spec->label_col : "genus+species", NULL,
                              "synonym", true, s, err)))
        goto done;
    if ((rc = kz__tab_map_add_extras(&m, spec, NULL, s, err))) goto done;
    rc = kz__tab_run(r, &m, s, NULL, NULL, err);
done:
    kz__tab_map_free(&m);
    return rc;
}

int kz__taxonomy_run(kz_tab_reader *r, const kz_onto_spec *spec, kz_onto_emit_fn emit, kz_onto_warn_fn warn,
                     void *user, uint64_t *n_warnings, kz_error *err) {
    kz_onto_sink s;
    int rc = kz__sink_init(&s, spec, "NCBITaxon:", emit, warn, user, err);
    if (rc) return kz__sink_done(&s, rc, n_warnings);
    r->delim = '\t';
    r->quote = 0;
    r->comment = spec->comment;
    char head[4096];
    size_t n = kz__tab_peek(r, head, sizeof head - 1);
    head[n] = 0;
    const char *nl = memchr(head, '\n', n);
    size_t first = nl ? (size_t)(nl - head) : n;
    if (first >= 3 && memmem(head, first, "\t|\t", 3))
        rc = run_names_dmp(r, &s, err);
    else
        rc = run_binomial(r, &s, err);
    return kz__sink_done(&s, rc, n_warnings);
}

int kz__onto_parse_taxonomy(const kz_onto_spec *spec, kz_onto_emit_fn emit, kz_onto_warn_fn warn, void *user,
                            uint64_t *n_warnings, kz_error *err) {
    if (n_warnings) *n_warnings = 0;
    kz_tab_reader r;
    int rc = kz__tab_open(&r, spec->path, 0, 0, 0, err);
    if (!rc) rc = kz__taxonomy_run(&r, spec, emit, warn, user, n_warnings, err);
    kz__tab_close(&r);
    return rc;
}
