/* The tabular-family parsers on the real staged files (HGNC, DrugBank, CTD, taxonomy, Entrez genes,
 * MONDO reports, GO tables) and, when KZ_GIDB_DIR points at an unpacked r-bioc-genomeinfodbdata,
 * its data/specData.rda. Counts and known terms were checked with zcat/awk/grep/python.
 * KZ_ONTO_REPEAT=3 times every parse three times and prints the median. */
#include <time.h>
#include <unistd.h>
#include "kz_test.h"
#include "kb/onto_tab_int.h"

#define ONTO KZ_SHARED_DATA "/ontologies/"

typedef struct tally {
    uint64_t terms, syns, xrefs, alts, parents, meta, obsolete;
    const char *const *want; /* ids whose full record is kept */
    char found[8192];
    size_t flen;
} tally;

static void put(tally *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(tally *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->found + t->flen, sizeof t->found - t->flen, fmt, ap);
    va_end(ap);
    if (n > 0) t->flen = KZ_MIN(t->flen + (size_t)n, sizeof t->found - 1);
}

static int on_term(void *user, const kz_onto_term *x) {
    tally *t = user;
    t->terms++;
    t->syns += x->n_syns;
    t->xrefs += x->n_xrefs;
    t->alts += x->n_alt_ids;
    t->parents += x->n_parents;
    t->meta += x->n_meta;
    t->obsolete += x->obsolete;
    for (const char *const *w = t->want; w && *w; w++) {
        if (!kz_str_eq_c(x->id, *w)) continue;
        put(t, "%s", *w);
        if (x->label.ptr) put(t, " L=%.*s", (int)x->label.len, x->label.ptr);
        for (uint32_t i = 0; i < x->n_syns; i++)
            put(t, " S=%.*s(%.*s)", (int)x->syns[i].text.len, x->syns[i].text.ptr, (int)x->syns[i].scope.len,
                x->syns[i].scope.ptr ? x->syns[i].scope.ptr : "");
        for (uint32_t i = 0; i < x->n_xrefs; i++) put(t, " X=%.*s", (int)x->xrefs[i].len, x->xrefs[i].ptr);
        for (uint32_t i = 0; i < x->n_alt_ids; i++)
            put(t, " A=%.*s", (int)x->alt_ids[i].len, x->alt_ids[i].ptr);
        for (uint32_t i = 0; i < x->n_parents; i++)
            put(t, " P=%.*s", (int)x->parents[i].len, x->parents[i].ptr);
        for (uint32_t i = 0; i < x->n_meta; i++)
            put(t, " M=%.*s:%.*s", (int)x->meta[i].key.len, x->meta[i].key.ptr, (int)x->meta[i].value.len,
                x->meta[i].value.ptr);
        put(t, " @%lld\n", (long long)x->line);
    }
    return 0;
}

static void on_warn(void *user, const kz_error *w) {
    (void)user;
    static int shown;
    if (shown++ < 5) fprintf(stderr, "  warning: %s:%lld: %s\n", w->path, (long long)w->line, w->msg);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Parse (KZ_ONTO_REPEAT times, default 1); the tally of the last run stays in t. */
static int parse(const kz_onto_spec *spec, tally *t, uint64_t *nw, kz_error *err) {
    const char *rep = getenv("KZ_ONTO_REPEAT");
    int n = rep ? atoi(rep) : 1;
    if (n < 1 || n > 15) n = 1;
    double ms[15], cpu[15];
    int rc = 0;
    for (int i = 0; i < n; i++) {
        const char *const *want = t->want;
        memset(t, 0, sizeof *t);
        t->want = want;
        kz_error_clear(err);
        struct timespec a, b, ca, cb;
        clock_gettime(CLOCK_MONOTONIC, &a);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ca);
        rc = kz__onto_parse(spec, on_term, on_warn, t, nw, err);
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cb);
        clock_gettime(CLOCK_MONOTONIC, &b);
        ms[i] = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
        cpu[i] = (double)(cb.tv_sec - ca.tv_sec) * 1e3 + (double)(cb.tv_nsec - ca.tv_nsec) / 1e6;
    }
    qsort(ms, (size_t)n, sizeof ms[0], cmp_double);
    qsort(cpu, (size_t)n, sizeof cpu[0], cmp_double);
    const char *base = strrchr(spec->path, '/');
    printf("  timing %-38s %-13s median of %d: %8.1f ms wall %8.1f ms cpu, %llu terms\n",
           base ? base + 1 : spec->path, kz__onto_format_name(spec->format), n, ms[n / 2], cpu[n / 2],
           (unsigned long long)t->terms);
    if (rc) {
        char buf[1024];
        fprintf(stderr, "  parse failed: %s\n", kz_error_format(err, buf, sizeof buf));
    }
    return rc;
}

#define NEED_DATA()                                                                                          \
    do {                                                                                                     \
        if (!kz_test_have_shared_data()) {                                                                   \
            printf("  SKIP: shared data not found at %s\n", KZ_SHARED_DATA);                                 \
            return;                                                                                          \
        }                                                                                                    \
    } while (0)

#define HAS(t, s)                                                                                            \
    do {                                                                                                     \
        if (!strstr((t).found, (s))) {                                                                       \
            kz_test_fail(__FILE__, __LINE__, "missing:\n  %s\nin:\n%s", (s), (t).found);                     \
            return;                                                                                          \
        }                                                                                                    \
    } while (0)

KZ_TEST(hgnc_genes_tsv) {
    NEED_DATA();
    static const char *const want[] = {"HGNC:5", "HGNC:37133", NULL};
    kz_onto_spec spec = {.format = KZ_ONTO_HGNC_TSV, .path = ONTO "hgnc/HGNC_Genes.tsv"};
    tally t = {.want = want};
    uint64_t nw;
    kz_error err;
    KZ_CHECK_INT(parse(&spec, &t, &nw, &err), 0);
    KZ_CHECK_INT(t.terms, 41034);
    KZ_CHECK_INT(nw, 0);
    HAS(t, "HGNC:5 L=A1BG S=alpha-1-B glycoprotein(name) X=RefSeq:NM_130786 @2\n");
    HAS(t,
        "HGNC:37133 L=A1BG-AS1 S=A1BG antisense RNA 1(name) S=NCRNA00181(prev_symbol) S=A1BGAS(prev_symbol) "
        "S=A1BG-AS(prev_symbol) S=FLJ23569(alias_symbol) X=RefSeq:NR_015380 @3\n");
}

KZ_TEST(drugbank_vocabulary) {
    NEED_DATA();
    static const char *const want[] = {"DB00001", "DB00032", "DB01635", "DB15803", "DB16424", NULL};
    kz_onto_spec spec = {.format = KZ_ONTO_DRUGBANK_CSV, .path = ONTO "drugbank/drugbank_vocabulary.csv"};
    tally t = {.want = want};
    uint64_t nw;
    kz_error err;
    KZ_CHECK_INT(parse(&spec, &t, &nw, &err), 0);
    /* 14,317 lines = "Column1;..." + header + 14,315 drugs (SOURCES.md says 14,316). The 14 rows with a
     * ';' inside a field are quoted, so RFC-4180 quoting recovers all of them: no warnings. */
    KZ_CHECK_INT(t.terms, 14315);
    KZ_CHECK_INT(nw, 0);
    HAS(t,
        "DB00001 L=Lepirudin S=Hirudin variant-1(synonym) S=Lepirudin recombinant(synonym) X=CAS:138068-37-8 "
        "X=UNII:Y43GF64R34 A=BIOD00024 A=BTD00024 @3\n");
    HAS(t, " S=Menotropins (FSH;LH)(synonym) X=CAS:9002-68-0 X=UNII:8FYM5179QJ A=BIOD00018 A=BTD00018 @33\n");
    HAS(t, "DB01635 L=2,2-Dimethylthiazolidine-4-Carboxylic Acid;(Dmt)Thiazolidine A=EXPT00133 @1564\n");
    HAS(t, " S=Recombinant chimeric COVID-19 epitope DC vaccine;(synonym) @13702\n");
    HAS(t, "DB16424 L=Allocetra @14317\n");
}

KZ_TEST(ctd_diseases) {
    NEED_DATA();
    static const char *const want[] = {"MESH:D003920", "OMIM:613370", NULL};
    kz_onto_spec spec = {.format = KZ_ONTO_CTD_TSV, .path = ONTO "ctd/CTD_diseases.tsv.gz"};
    tally t = {.want = want};
    uint64_t nw;
    kz_error err;
    KZ_CHECK_INT(parse(&spec, &t, &nw, &err), 0);
    /* 11,865 data lines after the 29 comment lines, all distinct ids (SOURCES.md says 11,864). */
    KZ_CHECK_INT(t.terms, 11865);
    KZ_CHECK_INT(nw, 0);
    HAS(t, "MESH:D003920 L=Diabetes Mellitus X=DO:DOID:9351 A=DO:DOID:9351 P=MESH:D004700 P=MESH:D044882 "
           "@3295\n");
    HAS(t, "OMIM:613370 L=MATURITY-ONSET DIABETES OF THE YOUNG, TYPE 10 S=MODY10(Synonyms) X=DO:DOID:0111108 "
           "A=DO:DOID:0111108 P=MESH:D003920 @6859\n");
}

KZ_TEST(taxonomy_binomial) {
    NEED_DATA();
    static const char *const want[] = {"NCBITaxon:562", "NCBITaxon:9606", NULL};
    kz_onto_spec spec = {.format = KZ_ONTO_NCBI_TAXONOMY,
                         .path = ONTO "taxonomy/ncbi_taxonomy_species_binomial.tsv.gz"};
    tally t = {.want = want};
    uint64_t nw;
    kz_error err;
    KZ_CHECK_INT(parse(&spec, &t, &nw, &err), 0);
    /* 1,049,443 rows for 862,767 taxa, each taxon's rows consecutive (ascending tax_id); 21 rows repeat a
     * name of their taxon, so 862,767 labels + 186,655 synonyms. The first row is not always the scientific
     * name: 562's first row is "Bacillus coli". */
    KZ_CHECK_INT(t.terms, 862767);
    KZ_CHECK_INT(t.syns, 186655);
    KZ_CHECK_INT(nw, 0);
    HAS(t, "NCBITaxon:562 L=Bacillus coli S=Bacterium coli commune(synonym) S=Bacterium coli(synonym) "
           "S=Enterococcus coli(synonym) S=Escherichia coli(synonym) @");
    HAS(t, "NCBITaxon:9606 L=Homo sapiens @");
}

KZ_TEST(human_genes_entrez_tabular) {
    NEED_DATA();
    static const char *const want[] = {"NCBIGene:1", NULL};
    const char *syns[] = {"name", "aliases"};
    const char *xrefs[] = {"ENSEMBL:ensembl_ids", "UniProt:uniprot_ids", "OMIM:omim_ids"};
    const char *meta[] = {"gene_type"};
    kz_onto_spec spec = {.format = KZ_ONTO_TABULAR,
                         .path = ONTO "human_genes/human_genes_entrez.tsv",
                         .id_col = "entrez_id",
                         .label_col = "symbol",
                         .syn_cols = syns,
                         .n_syn_cols = 2,
                         .xref_cols = xrefs,
                         .n_xref_cols = 3,
                         .meta_cols = meta,
                         .n_meta_cols = 1,
                         .list_sep = "|",
                         .id_prefix = "NCBIGene:"};
    tally t = {.want = want};
    uint64_t nw;
    kz_error err;
    KZ_CHECK_INT(parse(&spec, &t, &nw, &err), 0);
    KZ_CHECK_INT(t.terms, 77614);
    KZ_CHECK_INT(nw, 0);
    HAS(t, "NCBIGene:1 L=A1BG S=alpha-1-B glycoprotein(name) S=A1B(aliases) S=ABG(aliases) S=GAB(aliases) "
           "S=HYST2477(aliases) X=ENSEMBL:ENSG00000121410 X=UniProt:P04217 X=UniProt:V9HWD8 X=OMIM:138670 "
           "M=gene_type:protein-coding @2\n");
}

KZ_TEST(mondo_reports) {
    NEED_DATA();
    static const char *const want[] = {"MONDO:0005015", NULL};
    kz_onto_spec spec = {.format = KZ_ONTO_TABULAR,
                         .path = ONTO "mondo/class-stats.tsv.gz",
                         .quote = '"',
                         .id_col = "cls",
                         .label_col = "cls_label",
                         .id_regex = "^MONDO:[0-9]+$"};
    tally t = {.want = want};
    uint64_t nw;
    kz_error err;
    KZ_CHECK_INT(parse(&spec, &t, &nw, &err), 0);
    KZ_CHECK_INT(t.terms, 36006);
    KZ_CHECK_INT(nw, 0);
    HAS(t, "MONDO:0005015 L=diabetes mellitus @");
    spec.id_regex = NULL;
    KZ_CHECK_INT(parse(&spec, &t, &nw, &err), 0);
    KZ_CHECK_INT(t.terms, 63169);

    const char *xrefs[] = {"xref"};
    kz_onto_spec xs = {.format = KZ_ONTO_TABULAR,
                       .path = ONTO "mondo/xrefs.tsv.gz",
                       .quote = '"',
                       .id_col = "cls",
                       .xref_cols = xrefs,
                       .n_xref_cols = 1};
    tally x = {.want = want};
    KZ_CHECK_INT(parse(&xs, &x, &nw, &err), 0);
    /* 137,088 rows, consecutive per class: 27,241 terms */
    KZ_CHECK_INT(x.terms, 27241);
    KZ_CHECK_INT(x.xrefs, 137088);
    HAS(x, " X=DOID:9351 ");
    HAS(x, " X=MESH:D003920 @");
}

KZ_TEST(go_tables) {
    NEED_DATA();
    static const char *const want[] = {"GO:0008150", NULL};
    const char *meta[] = {"namespace"};
    kz_onto_spec spec = {.format = KZ_ONTO_TABULAR,
                         .path = ONTO "go/go_terms.tsv",
                         .id_col = "go_id",
                         .label_col = "name",
                         .meta_cols = meta,
                         .n_meta_cols = 1};
    tally t = {.want = want};
    uint64_t nw;
    kz_error err;
    KZ_CHECK_INT(parse(&spec, &t, &nw, &err), 0);
    KZ_CHECK_INT(t.terms, 43558);
    KZ_CHECK_INT(nw, 0);
    HAS(t, "GO:0008150 L=biological_process M=namespace:BP @");
    const char *syns[] = {"synonym"};
    kz_onto_spec ss = {.format = KZ_ONTO_TABULAR,
                       .path = ONTO "go/go_synonyms.tsv",
                       .id_col = "go_id",
                       .syn_cols = syns,
                       .n_syn_cols = 1};
    tally s = {.want = want};
    KZ_CHECK_INT(parse(&ss, &s, &nw, &err), 0);
    /* 117,984 rows, one repeated pair: 117,983 synonyms of 28,222 terms */
    KZ_CHECK_INT(s.terms, 28222);
    KZ_CHECK_INT(s.syns, 117983);
    HAS(s, "GO:0008150 S=biological process(synonym) S=physiological process(synonym) S=single organism "
           "process(synonym) S=single-organism process(synonym) @");
}

KZ_TEST(genomeinfodbdata_specdata_rda) {
    const char *dir = getenv("KZ_GIDB_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/usr/lib/R/site-library/GenomeInfoDbData/data/specData.rda",
             dir ? dir : "");
    if (!dir || access(path, R_OK) != 0) {
        snprintf(path, sizeof path, "%s/data/specData.rda", dir ? dir : "");
        if (!dir || access(path, R_OK) != 0) {
            printf("  SKIP: specData.rda not found: set KZ_GIDB_DIR to the unpacked r-bioc-genomeinfodbdata "
                   "(apt-get download r-bioc-genomeinfodbdata && dpkg-deb -x r-bioc-genomeinfodbdata_*.deb "
                   "DIR)\n");
            return;
        }
    }
    static const char *const want[] = {"NCBITaxon:562", "NCBITaxon:9606", "NCBITaxon:1", NULL};
    kz_onto_spec spec = {.format = KZ_ONTO_RDA_TABLE,
                         .path = path,
                         .rda_object = "specData",
                         .id_col = "tax_id",
                         .label_col = "genus+species",
                         .id_prefix = "NCBITaxon:"};
    tally t = {.want = want};
    uint64_t nw;
    kz_error err;
    KZ_CHECK_INT(parse(&spec, &t, &nw, &err), 0);
    /* xz-compressed RDX3, a 3-column data.frame (tax_id int, genus factor, species chr with NA) of
     * 2,670,456 rows; tax_ids come in consecutive runs: 2,442,976 taxa (counted by a separate decoder). */
    KZ_CHECK_INT(t.terms, 2442976);
    KZ_CHECK_INT(nw, 0);
    HAS(t, "NCBITaxon:9606 L=Homo sapiens @");
    HAS(t, " S=Escherichia coli(genus+species) ");
    HAS(t, "NCBITaxon:1 L=all S=root(genus+species) @1\n"); /* names.dmp order: "all" (synonym) first */
}
