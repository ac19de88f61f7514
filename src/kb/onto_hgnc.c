/* HGNC genes: the TSV exports (format "hgnc-tsv": the old custom download with "HGNC ID",
 * "Approved Symbol", ... and ", " lists, or hgnc_complete_set.txt with hgnc_id, symbol, ... and
 * quoted '|' lists) and hgnc_complete_set.json (format "hgnc-json": response.docs[]). */
#include <stdlib.h>
#include <jansson.h>
#include "kb/onto_tab_int.h"

#define HGNC_JSON_MAX (1024u << 20) /* bytes of JSON (the complete set is ~40 MiB) */

/* Synonym and xref fields of the complete set (TSV column = JSON key). */
static const char *const syn_keys[] = {"name", "alias_symbol", "alias_name", "prev_symbol", "prev_name"};
static const struct {
    const char *key, *prefix;
} xref_keys[] = {{"ensembl_gene_id", "ENSEMBL:"},
                 {"entrez_id", "NCBIGene:"},
                 {"uniprot_ids", "UniProt:"},
                 {"omim_id", "OMIM:"}};

/* ---- TSV ------------------------------------------------------------------------------------------ */

static int map_custom(kz_tab_map *m, const kz_onto_spec *spec, const kz_onto_sink *s, kz_error *err) {
    /* Old custom-download column names; synonym scopes use the complete set's key names. */
    static const struct {
        kz_col_role role;
        const char *ref, *scope;
        bool list;
    } cols[] = {
        {KZ_COL_LABEL, "Approved Symbol", "symbol", false},
        {KZ_COL_STATUS, "Status", NULL, false},
        {KZ_COL_NS, "Locus Group", NULL, false},
        {KZ_COL_SYN, "Approved Name", "name", false},
        {KZ_COL_SYN, "Previous Symbols", "prev_symbol", true},
        {KZ_COL_SYN, "Synonyms", "alias_symbol", true},
        {KZ_COL_XREF, "ENSEMBL:Ensembl Gene ID", NULL, false},
        {KZ_COL_XREF, "ENSEMBL:Ensembl ID(supplied by Ensembl)", NULL, false},
        {KZ_COL_XREF, "NCBIGene:Entrez Gene ID", NULL, false},
        {KZ_COL_XREF, "NCBIGene:Entrez Gene ID(supplied by NCBI)", NULL, false},
        {KZ_COL_XREF, "NCBIGene:NCBI Gene ID", NULL, false},
        {KZ_COL_XREF, "NCBIGene:NCBI Gene ID(supplied by NCBI)", NULL, false},
        {KZ_COL_XREF, "UniProt:UniProt ID(supplied by UniProt)", NULL, true},
        {KZ_COL_XREF, "OMIM:OMIM ID(supplied by OMIM)", NULL, true},
        {KZ_COL_XREF, "RefSeq:RefSeq IDs", NULL, true},
    };
    const char *sep = spec->list_sep ? spec->list_sep : ", ";
    int rc = kz__tab_map_add(m, KZ_COL_ID, "HGNC ID", NULL, NULL, true, s, err);
    if (rc) return rc;
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
        rc = kz__tab_map_add(m, cols[i].role, cols[i].ref, cols[i].list ? sep : NULL, cols[i].scope, false, s,
                             err);
        if (rc && rc != KZ_ENOTFOUND) return rc;
    }
    return kz__tab_map_add_extras(m, spec, sep, s, err);
}

static int map_complete(kz_tab_map *m, const kz_onto_spec *spec, const kz_onto_sink *s, kz_error *err) {
    const char *sep = spec->list_sep ? spec->list_sep : "|";
    int rc = kz__tab_map_add(m, KZ_COL_ID, "hgnc_id", NULL, NULL, true, s, err);
    if (!rc) rc = kz__tab_map_add(m, KZ_COL_LABEL, "symbol", NULL, "symbol", false, s, err);
    if (!rc || rc == KZ_ENOTFOUND)
        rc = kz__tab_map_add(m, KZ_COL_STATUS, "status", NULL, NULL, false, s, err);
    if (!rc || rc == KZ_ENOTFOUND)
        rc = kz__tab_map_add(m, KZ_COL_NS, "locus_group", NULL, NULL, false, s, err);
    if (rc && rc != KZ_ENOTFOUND) return rc;
    for (size_t i = 0; i < sizeof syn_keys / sizeof syn_keys[0]; i++) {
        rc = kz__tab_map_add(m, KZ_COL_SYN, syn_keys[i], i ? sep : NULL, NULL, false, s, err);
        if (rc && rc != KZ_ENOTFOUND) return rc;
    }
    for (size_t i = 0; i < sizeof xref_keys / sizeof xref_keys[0]; i++) {
        char ref[96];
        snprintf(ref, sizeof ref, "%s%s", xref_keys[i].prefix, xref_keys[i].key);
        rc = kz__tab_map_add(m, KZ_COL_XREF, ref, sep, NULL, false, s, err);
        if (rc && rc != KZ_ENOTFOUND) return rc;
    }
    return kz__tab_map_add_extras(m, spec, sep, s, err);
}

int kz__hgnc_tsv_run(kz_tab_reader *r, const kz_onto_spec *spec, kz_onto_emit_fn emit, kz_onto_warn_fn warn,
                     void *user, uint64_t *n_warnings, kz_error *err) {
    kz_onto_sink s;
    kz_tab_map m;
    memset(&m, 0, sizeof m);
    int rc = kz__sink_init(&s, spec, NULL, emit, warn, user, err);
    if (rc) goto done;
    r->delim = spec->delimiter ? spec->delimiter : '\t';
    r->quote = 0; /* the header has no quotes; set per variant below */
    r->comment = spec->comment;
    for (int i = 0; i < spec->skip_lines; i++)
        if ((rc = kz__tab_skip_line(r, err)) < 0) goto done;
    if ((rc = kz__tab_read_header(r, &s, &m, err))) goto done;
    if (kz__tab_map_find(&m, "HGNC ID") >= 0) {
        /* The custom download has no quoting; its lists are ", "-separated. */
        r->quote = spec->quote;
        rc = map_custom(&m, spec, &s, err);
    } else if (kz__tab_map_find(&m, "hgnc_id") >= 0) {
        r->quote = spec->quote ? spec->quote : '"';
        rc = map_complete(&m, spec, &s, err);
    } else {
        /* KZ_ECONFIG listing the header; a column literally named so still makes no HGNC table. */
        rc = kz__tab_map_add(&m, KZ_COL_ID, "HGNC ID or hgnc_id", NULL, NULL, true, &s, err);
        if (!rc)
            rc = kz__sink_fail(&s, err, r->line, KZ_EFORMAT,
                               "not an HGNC table: no \"HGNC ID\" or \"hgnc_id\" column");
    }
    if (rc) goto done;
    rc = kz__tab_run(r, &m, &s, NULL, NULL, err);
done:
    kz__tab_map_free(&m);
    return kz__sink_done(&s, rc, n_warnings);
}

int kz__onto_parse_hgnc_tsv(const kz_onto_spec *spec, kz_onto_emit_fn emit, kz_onto_warn_fn warn, void *user,
                            uint64_t *n_warnings, kz_error *err) {
    if (n_warnings) *n_warnings = 0;
    kz_tab_reader r;
    int rc = kz__tab_open(&r, spec->path, 0, 0, 0, err);
    if (!rc) rc = kz__hgnc_tsv_run(&r, spec, emit, warn, user, n_warnings, err);
    kz__tab_close(&r);
    return rc;
}

/* ---- JSON ----------------------------------------------------------------------------------------- */

/* A JSON scalar as text (strings as is, integers in decimal); 0 if it has none. */
static size_t scalar_text(json_t *v, char *num, size_t cap, const char **out) {
    if (json_is_string(v)) {
        *out = json_string_value(v);
        return json_string_length(v);
    }
    if (json_is_integer(v)) {
        int n = snprintf(num, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        *out = num;
        return n > 0 ? (size_t)n : 0;
    }
    if (json_is_real(v)) {
        int n = snprintf(num, cap, "%.17g", json_real_value(v));
        *out = num;
        return n > 0 ? (size_t)n : 0;
    }
    return 0;
}

/* Add a string / number / array of them. */
static int add_values(kz_onto_sink *s, int kind, json_t *v, const char *scope, const char *prefix) {
    if (!v) return 0;
    size_t n = json_is_array(v) ? json_array_size(v) : 1;
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_is_array(v) ? json_array_get(v, i) : v;
        char num[64];
        const char *t;
        size_t len = scalar_text(e, num, sizeof num, &t);
        if (!len) continue;
        int rc = kz__term_add(s, kind, t, len, scope, scope ? strlen(scope) : 0, prefix);
        if (rc) return rc;
    }
    return 0;
}

/* A meta value: scalars as text, arrays joined with '|'. */
static int add_meta(kz_onto_sink *s, const char *key, json_t *v) {
    if (!v) return 0;
    kz__buf_clear(&s->scratch);
    size_t n = json_is_array(v) ? json_array_size(v) : 1;
    for (size_t i = 0; i < n; i++) {
        char num[64];
        const char *t;
        size_t len = scalar_text(json_is_array(v) ? json_array_get(v, i) : v, num, sizeof num, &t);
        if (!len) continue;
        int rc = s->scratch.len ? kz__buf_putc(&s->scratch, '|') : 0;
        if (!rc) rc = kz__buf_append(&s->scratch, t, len);
        if (rc) return rc;
    }
    if (!s->scratch.len) return 0;
    return kz__term_add(s, KZ_TI_META, s->scratch.data, s->scratch.len, key, strlen(key), NULL);
}

static int hgnc_doc(kz_onto_sink *s, json_t *doc, size_t idx, kz_error *err) {
    const kz_onto_spec *spec = s->spec;
    if (!json_is_object(doc)) {
        kz__sink_warn(s, 0, KZ_EPARSE, "response.docs[%zu] is not an object; skipped", idx);
        return 0;
    }
    json_t *id = json_object_get(doc, "hgnc_id");
    if (!json_is_string(id) || !json_string_length(id)) {
        kz__sink_warn(s, 0, KZ_EPARSE, "response.docs[%zu] has no hgnc_id; skipped", idx);
        return 0;
    }
    kz__term_begin(s, 0);
    int rc = kz__term_set_id(s, json_string_value(id), json_string_length(id));
    json_t *v = json_object_get(doc, "symbol");
    if (!rc && json_is_string(v))
        rc = kz__term_add(s, KZ_TI_LABEL, json_string_value(v), json_string_length(v), "symbol", 6, NULL);
    v = json_object_get(doc, "status");
    if (json_is_string(v) && strstr(json_string_value(v), "ithdrawn")) kz__term_set_obsolete(s, true);
    v = json_object_get(doc, "locus_group");
    if (!rc && json_is_string(v))
        rc = kz__term_add(s, KZ_TI_NS, json_string_value(v), json_string_length(v), NULL, 0, NULL);
    for (size_t i = 0; !rc && i < sizeof syn_keys / sizeof syn_keys[0]; i++)
        rc = add_values(s, KZ_TI_SYN, json_object_get(doc, syn_keys[i]), syn_keys[i], NULL);
    for (size_t i = 0; !rc && i < sizeof xref_keys / sizeof xref_keys[0]; i++)
        rc = add_values(s, KZ_TI_XREF, json_object_get(doc, xref_keys[i].key), NULL, xref_keys[i].prefix);
    for (size_t i = 0; !rc && i < spec->n_syn_cols; i++)
        rc = add_values(s, KZ_TI_SYN, json_object_get(doc, spec->syn_cols[i]), spec->syn_cols[i], NULL);
    for (size_t i = 0; !rc && i < spec->n_xref_cols; i++) {
        /* "PFX:key" prefixes the values, as for the tabular formats. */
        const char *ref = spec->xref_cols[i], *key = ref;
        char pfx[64] = "";
        const char *colon = strrchr(ref, ':');
        if (!json_object_get(doc, ref) && colon && (size_t)(colon + 1 - ref) < sizeof pfx) {
            memcpy(pfx, ref, (size_t)(colon + 1 - ref));
            pfx[colon + 1 - ref] = 0;
            key = colon + 1;
        }
        rc = add_values(s, KZ_TI_XREF, json_object_get(doc, key), NULL, pfx);
    }
    for (size_t i = 0; !rc && i < spec->n_meta_cols; i++)
        rc = add_meta(s, spec->meta_cols[i], json_object_get(doc, spec->meta_cols[i]));
    if (rc) return kz__sink_fail(s, err, 0, rc, "out of memory");
    return kz__term_end(s, err);
}

static int parse_json(const char *data, size_t len, const kz_onto_spec *spec, kz_onto_emit_fn emit,
                      kz_onto_warn_fn warn, void *user, uint64_t *n_warnings, kz_error *err) {
    kz_onto_sink s;
    int rc = kz__sink_init(&s, spec, NULL, emit, warn, user, err);
    if (rc) return kz__sink_done(&s, rc, n_warnings);
    json_error_t je;
    json_t *root = json_loadb(data, len, 0, &je);
    if (!root) {
        rc = kz__sink_fail(&s, err, je.line > 0 ? je.line : 0, KZ_EPARSE, "not valid JSON: %s", je.text);
        if (err && je.column > 0) err->column = je.column;
        return kz__sink_done(&s, rc, n_warnings);
    }
    json_t *docs = json_object_get(json_object_get(root, "response"), "docs");
    if (!json_is_array(docs)) {
        rc = kz__sink_fail(&s, err, 0, KZ_EFORMAT, "no response.docs array: not an HGNC complete-set JSON");
    } else {
        for (size_t i = 0; !rc && i < json_array_size(docs); i++)
            rc = hgnc_doc(&s, json_array_get(docs, i), i, err);
    }
    json_decref(root);
    return kz__sink_done(&s, rc, n_warnings);
}

int kz__onto_parse_hgnc_json_mem(const char *data, size_t len, const kz_onto_spec *spec, kz_onto_emit_fn emit,
                                 kz_onto_warn_fn warn, void *user, uint64_t *n_warnings, kz_error *err) {
    if (n_warnings) *n_warnings = 0;
    return parse_json(data, len, spec, emit, warn, user, n_warnings, err);
}

int kz__onto_parse_hgnc_json(const kz_onto_spec *spec, kz_onto_emit_fn emit, kz_onto_warn_fn warn, void *user,
                             uint64_t *n_warnings, kz_error *err) {
    if (n_warnings) *n_warnings = 0;
    kz_input in;
    int rc = kz__input_open_path(&in, spec->path, err);
    if (rc) {
        if (err) snprintf(err->path, sizeof err->path, "%s", spec->path);
        kz__input_close(&in);
        return rc;
    }
    kz_buf b;
    kz__buf_init(&b, HGNC_JSON_MAX);
    for (;;) {
        if ((rc = kz__buf_reserve(&b, 1 << 20))) break;
        ptrdiff_t got = kz__input_read(&in, b.data + b.len, b.cap - b.len - 1);
        if (got < 0) {
            rc = KZ_EIO;
            break;
        }
        if (got == 0) break;
        b.len += (size_t)got;
    }
    if (!rc && in.gz) {
        int e = Z_OK;
        gzerror(in.gz, &e);
        if (e == Z_BUF_ERROR) rc = KZ_EIO;
    }
    if (rc) {
        if (rc == KZ_ELIMIT)
            kz_error_set(err, rc, "larger than %u MiB", HGNC_JSON_MAX >> 20);
        else if (rc == KZ_EIO)
            kz_error_set(err, rc, "read failed: %s", in.errmsg[0] ? in.errmsg : "truncated gzip stream");
        else
            kz_error_set(err, rc, "out of memory");
        if (err) snprintf(err->path, sizeof err->path, "%s", spec->path);
    } else {
        rc = parse_json(b.data ? b.data : "", b.len, spec, emit, warn, user, n_warnings, err);
    }
    kz__buf_free(&b);
    kz__input_close(&in);
    return rc;
}
