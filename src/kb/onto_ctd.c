/* CTD vocabularies (format "ctd-tsv"): CTD_diseases.tsv(.gz) (MEDIC) and CTD_chemicals.tsv(.gz).
 * '#' comment lines carry the header after "# Fields:"; lists are '|'-separated. */
#include <stdlib.h>
#include "kb/onto_tab_int.h"

#define CTD_MAX_COLS 64

static const char *const disease_cols[] = {"DiseaseName",       "DiseaseID", "AltDiseaseIDs",
                                           "Definition",        "ParentIDs", "TreeNumbers",
                                           "ParentTreeNumbers", "Synonyms",  "SlimMappings"};
static const char *const chemical_cols[] = {"ChemicalName",      "ChemicalID", "CasRN",
                                            "Definition",        "ParentIDs",  "TreeNumbers",
                                            "ParentTreeNumbers", "Synonyms"};

/* Map the CTD columns present in the header. */
static int build_map(kz_tab_map *m, const kz_onto_spec *spec, const kz_onto_sink *s, kz_error *err) {
    const char *sep = spec->list_sep ? spec->list_sep : "|";
    int rc;
#define ADD(role, ref, lsep, scope, req)                                                                     \
    do {                                                                                                     \
        rc = kz__tab_map_add(m, role, ref, lsep, scope, req, s, err);                                        \
        if (rc && rc != KZ_ENOTFOUND) return rc;                                                             \
    } while (0)
    if (kz__tab_map_find(m, "DiseaseID") >= 0) {
        ADD(KZ_COL_ID, "DiseaseID", NULL, NULL, true);
        ADD(KZ_COL_LABEL, "DiseaseName", NULL, NULL, true);
        ADD(KZ_COL_SYN, "Synonyms", sep, NULL, false);
        /* AltDiseaseIDs are the OMIM / DO ids CTD merged into this disease: both alternative ids
         * of the term and cross-references. */
        ADD(KZ_COL_ALT, "AltDiseaseIDs", sep, NULL, false);
        ADD(KZ_COL_XREF, "AltDiseaseIDs", sep, NULL, false);
        ADD(KZ_COL_PARENT, "ParentIDs", sep, NULL, false);
    } else if (kz__tab_map_find(m, "ChemicalID") >= 0) {
        ADD(KZ_COL_ID, "ChemicalID", NULL, NULL, true);
        ADD(KZ_COL_LABEL, "ChemicalName", NULL, NULL, true);
        ADD(KZ_COL_SYN, "Synonyms", sep, NULL, false);
        ADD(KZ_COL_XREF, "CAS:CasRN", sep, NULL, false);
        ADD(KZ_COL_XREF, "DRUGBANK:DrugBankIDs", sep, NULL, false);
        ADD(KZ_COL_PARENT, "ParentIDs", sep, NULL, false);
    } else {
        return kz__tab_map_add(m, KZ_COL_ID, "DiseaseID or ChemicalID", NULL, NULL, true, s, err);
    }
#undef ADD
    return kz__tab_map_add_extras(m, spec, sep, s, err);
}

int kz__ctd_run(kz_tab_reader *r, const kz_onto_spec *spec, kz_onto_emit_fn emit, kz_onto_warn_fn warn,
                void *user, uint64_t *n_warnings, kz_error *err) {
    kz_onto_sink s;
    kz_tab_map m;
    memset(&m, 0, sizeof m);
    int rc = kz__sink_init(&s, spec, NULL, emit, warn, user, err);
    if (rc) return kz__sink_done(&s, rc, n_warnings);
    r->delim = spec->delimiter ? spec->delimiter : '\t';
    r->quote = spec->quote;
    r->comment = spec->comment ? spec->comment : '#';
    r->return_comments = true;
    char *header = NULL;
    bool fields_next = false;
    /* Comment lines up to the first record; the one after "# Fields:" is the header. */
    for (;;) {
        kz_error rec;
        kz_error_clear(&rec);
        rc = kz__tab_next(r, &rec);
        if (rc == 2) {
            kz_str t = kz__tab_trim(r->raw.data + 1, r->raw.len - 1);
            if (fields_next && t.len && !header) {
                header = strndup(t.ptr, t.len);
                if (!header) {
                    rc = kz__sink_fail(&s, err, r->line, KZ_ENOMEM, "out of memory");
                    goto done;
                }
            }
            fields_next = t.len == 7 && memcmp(t.ptr, "Fields:", 7) == 0;
            continue;
        }
        if (kz__tab_record_error(rc)) {
            kz__sink_warn(&s, rec.line, rc, "%s; record skipped", rec.msg);
            continue;
        }
        if (rc < 0) {
            if (err) *err = rec;
            goto done;
        }
        break;
    }
    if (rc == 0 && !header) {
        rc =
            kz__sink_fail(&s, err, r->lines, KZ_EFORMAT, "no '# Fields:' header and no rows: not a CTD file");
        goto done;
    }
    if (header) {
        kz_str cols[CTD_MAX_COLS];
        size_t n = kz__tab_split(header, strlen(header), r->delim, cols, CTD_MAX_COLS);
        rc = kz__tab_map_init(&m, cols, n);
    } else {
        /* No header comment: the standard layouts, told apart by their width. */
        const char *const *names = r->n_fields == 9 ? disease_cols : r->n_fields == 8 ? chemical_cols : NULL;
        if (!names) {
            rc = kz__sink_fail(&s, err, r->line, KZ_EFORMAT,
                               "no '# Fields:' header and %zu columns (CTD diseases have 9, chemicals 8)",
                               r->n_fields);
            goto done;
        }
        kz_str cols[9];
        for (size_t i = 0; i < r->n_fields; i++) cols[i] = kz_str_c(names[i]);
        rc = kz__tab_map_init(&m, cols, r->n_fields);
    }
    if (rc) {
        rc = kz__sink_fail(&s, err, 0, rc, "out of memory");
        goto done;
    }
    if ((rc = build_map(&m, spec, &s, err))) goto done;
    if (r->n_fields && (rc = kz__tab_map_row(&m, &s, r->fields, r->n_fields, r->line, err))) goto done;
    rc = kz__tab_run(r, &m, &s, NULL, NULL, err);
done:
    free(header);
    kz__tab_map_free(&m);
    return kz__sink_done(&s, rc, n_warnings);
}

int kz__onto_parse_ctd(const kz_onto_spec *spec, kz_onto_emit_fn emit, kz_onto_warn_fn warn, void *user,
                       uint64_t *n_warnings, kz_error *err) {
    if (n_warnings) *n_warnings = 0;
    kz_tab_reader r;
    int rc = kz__tab_open(&r, spec->path, 0, 0, 0, err);
    if (!rc) rc = kz__ctd_run(&r, spec, emit, warn, user, n_warnings, err);
    kz__tab_close(&r);
    return rc;
}
