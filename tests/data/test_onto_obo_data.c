/* The OBO parser on the real ontologies in shared/data: term, synonym, xref,
 * is_a and alt_id totals (counted independently with awk over [Term]
 * stanzas), a few known terms, no warnings; prints parse times (median of 3). */
#include <time.h>
#include "kz_test.h"
#include "kb/kb_int.h"

typedef struct tally {
    uint64_t terms, obsolete, syns, xrefs, parents, alts, warns;
    const char *want; /* id to render */
    char got[4096];
} tally;

static int on_term(void *u, const kz_onto_term *t) {
    tally *a = u;
    a->terms++;
    a->obsolete += t->obsolete;
    a->syns += t->n_syns;
    a->xrefs += t->n_xrefs;
    a->parents += t->n_parents;
    a->alts += t->n_alt_ids;
    if (a->want && kz_str_eq_c(t->id, a->want)) {
        int n = snprintf(a->got, sizeof a->got, "%.*s|ns=%.*s|", (int)t->label.len, t->label.ptr,
                         (int)t->ns.len, t->ns.ptr ? t->ns.ptr : "");
        for (uint32_t i = 0; i < t->n_syns && n < 3500; i++)
            n += snprintf(a->got + n, sizeof a->got - (size_t)n, "%.*s:%.*s;", (int)t->syns[i].scope.len,
                          t->syns[i].scope.ptr, (int)t->syns[i].text.len, t->syns[i].text.ptr);
        n += snprintf(a->got + n, sizeof a->got - (size_t)n, "|");
        for (uint32_t i = 0; i < t->n_xrefs && n < 3700; i++)
            n += snprintf(a->got + n, sizeof a->got - (size_t)n, "%.*s;", (int)t->xrefs[i].len,
                          t->xrefs[i].ptr);
        n += snprintf(a->got + n, sizeof a->got - (size_t)n, "|");
        for (uint32_t i = 0; i < t->n_parents && n < 3800; i++)
            n += snprintf(a->got + n, sizeof a->got - (size_t)n, "%.*s;", (int)t->parents[i].len,
                          t->parents[i].ptr);
        snprintf(a->got + n, sizeof a->got - (size_t)n, "|alt=%u", t->n_alt_ids);
    }
    return 0;
}

static void on_warn(void *u, const kz_error *e) {
    tally *a = u;
    if (a->warns++ < 5) fprintf(stderr, "  warning %s:%lld: %s\n", e->path, (long long)e->line, e->msg);
}

static double now(clockid_t clk) {
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

typedef struct expect {
    const char *file;
    uint64_t terms, obsolete, syns, xrefs, parents, alts;
    const char *id, *rendering;
} expect;

static const expect k_files[] = {
    {"ontologies/cl/cl-basic-2022-11-25.obo", 2692, 157, 2681, 1579, 3561, 77, "CL:0000084",
     "T cell|ns=|RELATED:immature T cell;RELATED:mature T cell;EXACT:T "
     "lymphocyte;EXACT:T-cell;EXACT:T-lymphocyte;"
     "|BTO:0000782;CALOHA:TS-1001;FMA:62870;MESH:D013601;VHOG:0001479;|CL:0000542;|alt=2"},
    {"ontologies/doid/doid-2024-01-31.obo.gz", 13982, 2481, 21802, 37834, 15995, 1719, "DOID:9352",
     "type 2 diabetes mellitus|ns=disease_ontology|EXACT:insulin resistance;EXACT:NIDDM;"
     "EXACT:non-insulin-dependent diabetes mellitus;EXACT:type 2 diabetes;EXACT:type II diabetes mellitus;"
     "|ICD10CM:E11;KEGG:04930;MESH:D003924;NCI:C26747;OMIM:125853;OMIM:601283;OMIM:601407;OMIM:603694;"
     "OMIM:608036;SNOMEDCT_US_2023_03_01:44054006;UMLS_CUI:C0011860;|DOID:9351;|alt=0"},
    {"ontologies/hpo/hp-2017-04-13.obo.gz", 12358, 132, 15982, 20270, 16044, 3513, "HP:0001250", NULL},
    {"ontologies/uberon/uberon_import_from_mondo.obo", 7577, 0, 18121, 0, 12728, 0, "UBERON:0002107",
     "liver|ns=|RELATED:iecur;RELATED:jecur;||UBERON:0002365;UBERON:0004119;UBERON:0005172;UBERON:0006925;|"
     "alt=0"},
};

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

KZ_TEST(obo_real_files_counts_known_terms_and_timing) {
    if (!kz_test_have_shared_data()) return;
    for (size_t f = 0; f < sizeof k_files / sizeof k_files[0]; f++) {
        const expect *x = &k_files[f];
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", KZ_SHARED_DATA, x->file);
        kz_onto_spec sp;
        memset(&sp, 0, sizeof sp);
        sp.format = KZ_ONTO_OBO;
        sp.path = path;
        sp.include_obsolete = true;
        double times[3], cpu[3];
        tally a;
        for (int run = 0; run < 3; run++) {
            memset(&a, 0, sizeof a);
            a.want = x->id;
            kz_error e;
            uint64_t nw = 99;
            double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
            int rc = kz__onto_parse(&sp, on_term, on_warn, &a, &nw, &e);
            times[run] = now(CLOCK_MONOTONIC) - t0;
            cpu[run] = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
            KZ_CHECK_INT(rc, 0);
            KZ_CHECK_INT(nw, 0);
        }
        qsort(times, 3, sizeof times[0], cmp_double);
        qsort(cpu, 3, sizeof cpu[0], cmp_double);
        printf("  %s: %llu terms, parse wall %.1f ms, cpu %.1f ms (medians of 3)\n", x->file,
               (unsigned long long)a.terms, times[1] * 1e3, cpu[1] * 1e3);
        KZ_CHECK_INT(a.warns, 0);
        KZ_CHECK_INT(a.terms, x->terms);
        KZ_CHECK_INT(a.obsolete, x->obsolete);
        KZ_CHECK_INT(a.syns, x->syns);
        KZ_CHECK_INT(a.xrefs, x->xrefs);
        KZ_CHECK_INT(a.parents, x->parents);
        KZ_CHECK_INT(a.alts, x->alts);
        if (x->rendering) KZ_CHECK_STR(a.got, x->rendering);
    }
}

KZ_TEST(obo_real_files_filters) {
    if (!kz_test_have_shared_data()) return;
    char path[1024];
    kz_onto_spec sp;
    tally a;
    kz_error e;
    /* cl-basic: 2,683 CL terms (9 CP terms and the regex aside), 148 of them obsolete */
    snprintf(path, sizeof path, "%s/ontologies/cl/cl-basic-2022-11-25.obo", KZ_SHARED_DATA);
    memset(&sp, 0, sizeof sp);
    sp.path = path;
    sp.include_obsolete = true;
    sp.id_regex = "^CL:[0-9]{7}$";
    memset(&a, 0, sizeof a);
    KZ_CHECK_INT(kz__onto_parse_obo(&sp, on_term, on_warn, &a, NULL, &e), 0);
    KZ_CHECK_INT(a.terms, 2683);
    KZ_CHECK_INT(a.obsolete, 148);
    sp.include_obsolete = false;
    memset(&a, 0, sizeof a);
    KZ_CHECK_INT(kz__onto_parse_obo(&sp, on_term, on_warn, &a, NULL, &e), 0);
    KZ_CHECK_INT(a.terms, 2683 - 148);

    /* HPO: Seizures, with its layperson synonyms (a synonym type after the scope) and 19 alt ids */
    snprintf(path, sizeof path, "%s/ontologies/hpo/hp-2017-04-13.obo.gz", KZ_SHARED_DATA);
    memset(&sp, 0, sizeof sp);
    sp.path = path;
    const char *exact[] = {"EXACT"};
    sp.syn_scopes = exact;
    sp.n_syn_scopes = 1;
    memset(&a, 0, sizeof a);
    a.want = "HP:0001250";
    KZ_CHECK_INT(kz__onto_parse_obo(&sp, on_term, on_warn, &a, NULL, &e), 0);
    KZ_CHECK_INT(a.terms, 12358 - 132);
    KZ_CHECK(strncmp(a.got, "Seizures|ns=human_phenotype|EXACT:Seizure;EXACT:Seizures;|", 58) == 0);
    KZ_CHECK(strstr(a.got, "|alt=19") != NULL);

    /* the UBERON import holds GO, CL, CHEBI... terms: a namespace-free prefix filter */
    snprintf(path, sizeof path, "%s/ontologies/uberon/uberon_import_from_mondo.obo", KZ_SHARED_DATA);
    memset(&sp, 0, sizeof sp);
    sp.path = path;
    sp.id_regex = "^UBERON:";
    memset(&a, 0, sizeof a);
    KZ_CHECK_INT(kz__onto_parse_obo(&sp, on_term, on_warn, &a, NULL, &e), 0);
    KZ_CHECK_INT(a.terms, 4871);

    /* DOID: the default-namespace header applies; another namespace keeps nothing */
    snprintf(path, sizeof path, "%s/ontologies/doid/doid-2024-01-31.obo.gz", KZ_SHARED_DATA);
    memset(&sp, 0, sizeof sp);
    sp.path = path;
    const char *ns[] = {"disease_ontology"};
    sp.namespaces = ns;
    sp.n_namespaces = 1;
    memset(&a, 0, sizeof a);
    KZ_CHECK_INT(kz__onto_parse_obo(&sp, on_term, on_warn, &a, NULL, &e), 0);
    KZ_CHECK_INT(a.terms, 13982 - 2481);
    const char *other[] = {"symptom"};
    sp.namespaces = other;
    memset(&a, 0, sizeof a);
    KZ_CHECK_INT(kz__onto_parse_obo(&sp, on_term, on_warn, &a, NULL, &e), 0);
    KZ_CHECK_INT(a.terms, 0);
}
