/* DrugBank open vocabulary (format "drugbank-csv"): the official comma-separated quoted CSV, or the
 * ';'-separated variant with an extra "Column1;..." line before the header. Rows whose unquoted
 * free-text fields contain the delimiter are repaired (see repair_row). */
#include <ctype.h>
#include <stdlib.h>
#include "kb/onto_tab_int.h"

static const char *const std_cols[7] = {"DrugBank ID", "Accession Numbers", "Common name",       "CAS",
                                        "UNII",        "Synonyms",          "Standard InChI Key"};

typedef struct fix_ctx {
    kz_onto_sink *s;
    bool standard; /* the header is exactly the 7 standard columns in order */
    kz_buf buf;
} fix_ctx;

static bool is_cas(kz_str v) {
    /* CAS RN digits-digits-digit; lenient: digits, '-' and '.' (the vocabulary has "8.05.9003"). */
    if (!v.len) return true;
    if (v.len > 32 || !isdigit((unsigned char)v.ptr[0]) || !isdigit((unsigned char)v.ptr[v.len - 1]))
        return false;
    for (size_t i = 0; i < v.len; i++)
        if (!isdigit((unsigned char)v.ptr[i]) && v.ptr[i] != '-' && v.ptr[i] != '.') return false;
    return true;
}

static bool is_unii(kz_str v) {
    if (!v.len) return true;
    if (v.len != 10) return false;
    for (size_t i = 0; i < v.len; i++)
        if (!isdigit((unsigned char)v.ptr[i]) && !isupper((unsigned char)v.ptr[i])) return false;
    return true;
}

static bool is_inchikey(kz_str v) {
    if (!v.len) return true;
    if (v.len != 27 || v.ptr[14] != '-' || v.ptr[25] != '-') return false;
    for (size_t i = 0; i < v.len; i++)
        if (i != 14 && i != 25 && !isupper((unsigned char)v.ptr[i])) return false;
    return true;
}

/* A row with more than 7 fields after quoting: an unquoted ';' (or ',') inside the common name
 * and/or the synonyms. The id, accessions and InChI key are fixed at both ends; the split of the
 * extra fields between name and synonyms is the smallest name extension for which the next two
 * fields look like a CAS number and a UNII (or are empty). The pieces are re-joined with the
 * delimiter. The repair is reported as a warning with the line. */
static bool repair_row(kz_tab_reader *r, const kz_tab_map *m, void *vctx) {
    fix_ctx *c = vctx;
    size_t n = r->n_fields;
    if (!c->standard || n <= 7 || !is_inchikey(r->fields[n - 1])) return false;
    size_t extra = n - 7;
    for (size_t a = 0; a <= extra; a++) {
        if (!is_cas(r->fields[3 + a]) || !is_unii(r->fields[4 + a])) continue;
        size_t syn_first = 5 + a, syn_last = n - 2; /* inclusive */
        kz__buf_clear(&c->buf);
        size_t name_len = 0;
        for (size_t i = 2; i <= 2 + a; i++) {
            if ((i > 2 && kz__buf_putc(&c->buf, r->delim)) ||
                kz__buf_append(&c->buf, r->fields[i].ptr, r->fields[i].len))
                return false;
        }
        name_len = c->buf.len;
        for (size_t i = syn_first; i <= syn_last; i++) {
            if ((i > syn_first && kz__buf_putc(&c->buf, r->delim)) ||
                kz__buf_append(&c->buf, r->fields[i].ptr, r->fields[i].len))
                return false;
        }
        kz_str f[7] = {r->fields[0],     r->fields[1],     {c->buf.data, name_len},
                       r->fields[3 + a], r->fields[4 + a], {c->buf.data + name_len, c->buf.len - name_len},
                       r->fields[n - 1]};
        memcpy(r->fields, f, sizeof f);
        r->n_fields = 7;
        kz__sink_warn(c->s, r->line, KZ_EPARSE,
                      "%zu extra '%c' inside unquoted fields; repaired as name \"%.*s\" (%zu name pieces)",
                      extra, r->delim, (int)KZ_MIN(name_len, 120), c->buf.data, a + 1);
        return true;
    }
    (void)m;
    return false;
}

int kz__drugbank_run(kz_tab_reader *r, const kz_onto_spec *spec, kz_onto_emit_fn emit, kz_onto_warn_fn warn,
                     void *user, uint64_t *n_warnings, kz_error *err) {
    kz_onto_sink s;
    kz_tab_map m;
    fix_ctx fc = {0};
    memset(&m, 0, sizeof m);
    kz__buf_init(&fc.buf, KZ_TAB_MAX_RECORD);
    int rc = kz__sink_init(&s, spec, NULL, emit, warn, user, err);
    if (rc) goto done;
    fc.s = &s;
    r->quote = spec->quote ? spec->quote : '"';
    r->comment = spec->comment;
    /* Look at the first two lines: a "Column1..." line to skip, and the header's delimiter. */
    char head[8192];
    size_t hn = kz__tab_peek(r, head, sizeof head - 1);
    head[hn] = 0;
    const char *hdr = head;
    bool skip_first = hn >= 7 && memcmp(head, "Column1", 7) == 0;
    if (skip_first) {
        const char *nl = memchr(head, '\n', hn);
        hdr = nl ? nl + 1 : head + hn;
    }
    const char *hend = strchr(hdr, '\n');
    size_t hlen = hend ? (size_t)(hend - hdr) : strlen(hdr);
    size_t semis = 0, commas = 0;
    for (size_t i = 0; i < hlen; i++) semis += hdr[i] == ';', commas += hdr[i] == ',';
    r->delim = spec->delimiter ? spec->delimiter : semis > commas ? ';' : ',';
    for (int i = 0; i < (skip_first ? 1 : 0) + (spec->skip_lines > 0 ? spec->skip_lines : 0); i++) {
        rc = kz__tab_skip_line(r, err);
        if (rc < 0) goto done;
    }
    if ((rc = kz__tab_read_header(r, &s, &m, err))) goto done;
    fc.standard = m.n_fields == 7;
    for (size_t i = 0; i < m.n_fields && fc.standard; i++) fc.standard = strcmp(m.names[i], std_cols[i]) == 0;
    const char *sep = spec->list_sep ? spec->list_sep : " | ";
#define ADD(role, ref, lsep, scope, req)                                                                     \
    do {                                                                                                     \
        rc = kz__tab_map_add(&m, role, ref, lsep, scope, req, &s, err);                                      \
        if (rc && rc != KZ_ENOTFOUND) goto done;                                                             \
    } while (0)
    ADD(KZ_COL_ID, spec->id_col ? spec->id_col : "DrugBank ID", NULL, NULL, true);
    ADD(KZ_COL_LABEL, spec->label_col ? spec->label_col : "Common name", NULL, NULL, true);
    ADD(KZ_COL_SYN, "Synonyms", sep, "synonym", false);
    ADD(KZ_COL_ALT, "Accession Numbers", sep, NULL, false);
    ADD(KZ_COL_XREF, "CAS:CAS", NULL, NULL, false);
    ADD(KZ_COL_XREF, "UNII:UNII", NULL, NULL, false);
#undef ADD
    if ((rc = kz__tab_map_add_extras(&m, spec, sep, &s, err))) goto done;
    rc = kz__tab_run(r, &m, &s, repair_row, &fc, err);
done:
    kz__buf_free(&fc.buf);
    kz__tab_map_free(&m);
    return kz__sink_done(&s, rc, n_warnings);
}

int kz__onto_parse_drugbank(const kz_onto_spec *spec, kz_onto_emit_fn emit, kz_onto_warn_fn warn, void *user,
                            uint64_t *n_warnings, kz_error *err) {
    if (n_warnings) *n_warnings = 0;
    kz_tab_reader r;
    int rc = kz__tab_open(&r, spec->path, 0, 0, 0, err);
    if (!rc) rc = kz__drugbank_run(&r, spec, emit, warn, user, n_warnings, err);
    kz__tab_close(&r);
    return rc;
}
