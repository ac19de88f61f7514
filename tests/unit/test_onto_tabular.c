/* Tabular-family ontology parsers on small fixtures: generic TSV/CSV (quoting, long format,
 * malformed rows with exact lines), SQLite, HGNC TSV/JSON, DrugBank, CTD, NCBI taxonomy and R
 * .rda/.rds data frames (hand-encoded XDR, gzip/bzip2/xz). */
#include <bzlib.h>
#include <lzma.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "kz_test.h"
#include "kb/onto_tab_int.h"

/* ---- helpers ------------------------------------------------------------------------------------- */

/* Terms as one line each: "ID L=label S=text(scope) X=.. A=.. P=.. N=ns OBS M=k:v @line". */
typedef struct out {
    char *terms, *warns;
    size_t tlen, wlen;
    FILE *t, *w;
    int n_terms, n_warns, abort_after;
} out;

static void out_open(out *o) {
    memset(o, 0, sizeof *o);
    o->t = open_memstream(&o->terms, &o->tlen);
    o->w = open_memstream(&o->warns, &o->wlen);
}
static void out_close(out *o) {
    if (o->t) fclose(o->t);
    if (o->w) fclose(o->w);
    o->t = o->w = NULL;
}
static void out_free(out *o) {
    out_close(o);
    free(o->terms);
    free(o->warns);
}

static void put(FILE *f, const char *tag, kz_str s) {
    fprintf(f, " %s=%.*s", tag, (int)s.len, s.ptr ? s.ptr : "");
}

static int on_term(void *user, const kz_onto_term *t) {
    out *o = user;
    fprintf(o->t, "%.*s", (int)t->id.len, t->id.ptr);
    if (t->label.ptr) put(o->t, "L", t->label);
    for (uint32_t i = 0; i < t->n_syns; i++) {
        put(o->t, "S", t->syns[i].text);
        if (t->syns[i].scope.ptr) fprintf(o->t, "(%.*s)", (int)t->syns[i].scope.len, t->syns[i].scope.ptr);
    }
    for (uint32_t i = 0; i < t->n_xrefs; i++) put(o->t, "X", t->xrefs[i]);
    for (uint32_t i = 0; i < t->n_alt_ids; i++) put(o->t, "A", t->alt_ids[i]);
    for (uint32_t i = 0; i < t->n_parents; i++) put(o->t, "P", t->parents[i]);
    if (t->ns.ptr) put(o->t, "N", t->ns);
    if (t->obsolete) fprintf(o->t, " OBS");
    for (uint32_t i = 0; i < t->n_meta; i++)
        fprintf(o->t, " M=%.*s:%.*s", (int)t->meta[i].key.len, t->meta[i].key.ptr, (int)t->meta[i].value.len,
                t->meta[i].value.ptr);
    fprintf(o->t, " @%lld\n", (long long)t->line);
    o->n_terms++;
    if (o->abort_after && o->n_terms >= o->abort_after) return KZ_ECANCELLED;
    return 0;
}

static void on_warn(void *user, const kz_error *w) {
    out *o = user;
    const char *base = strrchr(w->path, '/');
    fprintf(o->w, "%s:%lld: %s\n", base ? base + 1 : w->path, (long long)w->line, w->msg);
    o->n_warns++;
}

static char g_dir[256];

static const char *tmpdir(void) {
    if (!g_dir[0]) {
        snprintf(g_dir, sizeof g_dir, "/tmp/kz_onto_tab_XXXXXX");
        if (!mkdtemp(g_dir)) abort();
    }
    return g_dir;
}

static const char *write_file(const char *name, const void *data, size_t len) {
    static char path[8][512];
    static int k;
    char *p = path[k++ % 8];
    snprintf(p, 512, "%s/%s", tmpdir(), name);
    FILE *f = fopen(p, "wb");
    if (!f) abort();
    fwrite(data, 1, len, f);
    fclose(f);
    return p;
}
#define WRITE_STR(name, s) write_file(name, s, strlen(s))

static const char *write_gz(const char *name, const char *s, size_t len) {
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", tmpdir(), name);
    gzFile g = gzopen(p, "wb");
    gzwrite(g, s, (unsigned)len);
    gzclose(g);
    return p;
}

/* Run a format's file parser; returns its rc. */
static int run(kz_onto_format f, const kz_onto_spec *spec0, out *o, kz_error *err) {
    kz_onto_spec spec = *spec0;
    spec.format = f;
    uint64_t nw = 99;
    out_open(o);
    kz_error_clear(err);
    int rc = kz__onto_parse(&spec, on_term, on_warn, o, &nw, err);
    out_close(o);
    if ((int64_t)nw != o->n_warns) {
        fprintf(stderr, "warning count %llu != %d callbacks\n", (unsigned long long)nw, o->n_warns);
        return -999;
    }
    return rc;
}

/* ---- generic tabular ------------------------------------------------------------------------------ */

KZ_TEST(tabular_tsv_lists_prefixes_meta) {
    const char *p =
        WRITE_STR("genes.tsv", "entrez_id\tsymbol\tname\taliases\tensembl_ids\ttype\n"
                               "1\tA1BG\talpha-1-B glycoprotein\tA1B| ABG |A1BG||\tENSG01\tprotein\n"
                               "2\tA2M\talpha-2-macroglobulin\t\tENSG02|ENSG03\tprotein\n");
    const char *syns[] = {"name", "aliases"}, *xrefs[] = {"ENSEMBL:ensembl_ids"}, *meta[] = {"type"};
    kz_onto_spec spec = {.path = p,
                         .id_col = "entrez_id",
                         .label_col = "symbol",
                         .syn_cols = syns,
                         .n_syn_cols = 2,
                         .xref_cols = xrefs,
                         .n_xref_cols = 1,
                         .meta_cols = meta,
                         .n_meta_cols = 1,
                         .list_sep = "|",
                         .id_prefix = "NCBIGene:"};
    out o;
    kz_error err;
    KZ_CHECK_INT(run(KZ_ONTO_TABULAR, &spec, &o, &err), 0);
    KZ_CHECK_STR(o.terms, "NCBIGene:1 L=A1BG S=alpha-1-B glycoprotein(name) S=A1B(aliases) S=ABG(aliases) "
                          "X=ENSEMBL:ENSG01 M=type:protein @2\n"
                          "NCBIGene:2 L=A2M S=alpha-2-macroglobulin(name) X=ENSEMBL:ENSG02 X=ENSEMBL:ENSG03 "
                          "M=type:protein @3\n");
    KZ_CHECK_INT(o.n_warns, 0);
    out_free(&o);
}

KZ_TEST(tabular_long_format_merges_consecutive_rows) {
    /* Kazu's parse_to_dataframe shape: idx, default_label, syn, mapping_type. */
    const char *p = WRITE_STR("long.tsv", "idx\tdefault_label\tsyn\tmapping_type\n"
                                          "X:1\tfirst\tone\texact\n"
                                          "X:1\tfirst\tuno\trelated\n"
                                          "X:1\tprimero\tone\texact\n"
                                          "X:2\tsecond\ttwo\texact\n"
                                          "X:1\tfirst\teins\texact\n");
    const char *syns[] = {"syn@mapping_type"};
    kz_onto_spec spec = {
        .path = p, .id_col = "idx", .label_col = "default_label", .syn_cols = syns, .n_syn_cols = 1};
    out o;
    kz_error err;
    KZ_CHECK_INT(run(KZ_ONTO_TABULAR, &spec, &o, &err), 0);
    /* X:1 on line 6 is not consecutive: it becomes a record of its own (the builder merges by id). */
    KZ_CHECK_STR(o.terms, "X:1 L=first S=one(exact) S=uno(related) S=primero(default_label) @2\n"
                          "X:2 L=second S=two(exact) @5\n"
                          "X:1 L=first S=eins(exact) @6\n");
    out_free(&o);
}

KZ_TEST(tabular_csv_quoting) {
    const char *csv = "\xEF\xBB\xBFid,label,syns\r\n"
                      "A,\"comma, inside\",\"say \"\"hi\"\"\"\r\n"
                      "B,\"two\nlines\",x\r\n"
                      "C,plain \"quote\" inside,\"a\"b\r\n"
                      "D,,\r\n"
                      "E,\"\",\"\"\"\"\n";
    const char *p = WRITE_STR("q.csv", csv);
    const char *syns[] = {"syns"};
    kz_onto_spec spec = {.path = p, .quote = '"', .label_col = "label", .syn_cols = syns, .n_syn_cols = 1};
    out o;
    kz_error err;
    KZ_CHECK_INT(run(KZ_ONTO_TABULAR, &spec, &o, &err), 0); /* ',' from the .csv name, id = first column */
    KZ_CHECK_STR(o.terms, "A L=comma, inside S=say \"hi\"(syns) @2\n"
                          "B L=two\nlines S=x(syns) @3\n"
                          "C L=plain \"quote\" inside S=ab(syns) @5\n"
                          "D @6\n"
                          "E S=\"(syns) @7\n");
    KZ_CHECK_INT(o.n_warns, 0);
    out_free(&o);
}

KZ_TEST(tabular_malformed_rows_warn_with_lines) {
    const char *tsv = "id\tlabel\n"        /* 1 */
                      "A\tok\n"            /* 2 */
                      "B\ttoo\tmany\n"     /* 3 */
                      "C\n"                /* 4 */
                      "\n"                 /* 5: blank, skipped silently */
                      "D\tbad \xff utf8\n" /* 6 */
                      "\tno id\n"          /* 7 */
                      "E\t\"open quote\n"  /* 8: no quoting configured: literal */
                      "F\tfine\n";         /* 9 */
    const char *p = WRITE_STR("bad.tsv", tsv);
    kz_onto_spec spec = {.path = p, .label_col = "label"};
    out o;
    kz_error err;
    KZ_CHECK_INT(run(KZ_ONTO_TABULAR, &spec, &o, &err), 0);
    KZ_CHECK_STR(o.terms, "A L=ok @2\nE L=\"open quote @8\nF L=fine @9\n");
    KZ_CHECK_STR(o.warns, "bad.tsv:3: expected 2 fields, got 3; row skipped\n"
                          "bad.tsv:4: expected 2 fields, got 1; row skipped\n"
                          "bad.tsv:6: invalid UTF-8 in column 'label' (byte 4); row skipped\n"
                          "bad.tsv:7: empty id in column 'id'; row skipped\n");
    out_free(&o);
}

KZ_TEST(tabular_unterminated_quote_and_line_numbers) {
    const char *csv = "id,label\n"
                      "A,\"multi\nline\nvalue\"\n" /* lines 2-4 */
                      "B,x,extra\n"                /* 5 */
                      "C,\"never closed\n"         /* 6 */
                      "D,y\n";                     /* 7: swallowed by the open quote */
    const char *p = WRITE_STR("open.csv", csv);
    kz_onto_spec spec = {.path = p, .quote = '"', .label_col = "label"};
    out o;
    kz_error err;
    KZ_CHECK_INT(run(KZ_ONTO_TABULAR, &spec, &o, &err), 0);
    KZ_CHECK_STR(o.terms, "A L=multi\nline\nvalue @2\n");
    KZ_CHECK_STR(o.warns,
                 "open.csv:5: expected 2 fields, got 3; row skipped\n"
                 "open.csv:6: unterminated quoted field (record starts at line 6); record skipped\n");
    out_free(&o);
}

KZ_TEST(tabular_no_header_skip_lines_comments) {
    const char *p =
        WRITE_STR("nh.txt", "junk line 1\njunk line 2\n# comment\nT1;first;a,b\n#x\nT2;second;\n");
    const char *syns[] = {"2"};
    kz_onto_spec spec = {.path = p,
                         .delimiter = ';',
                         .no_header = true,
                         .skip_lines = 2,
                         .comment = '#',
                         .label_col = "1",
                         .syn_cols = syns,
                         .n_syn_cols = 1,
                         .list_sep = ","};
    out o;
    kz_error err;
    KZ_CHECK_INT(run(KZ_ONTO_TABULAR, &spec, &o, &err), 0);
    KZ_CHECK_STR(o.terms, "T1 L=first S=a(2) S=b(2) @4\nT2 L=second @6\n");
    out_free(&o);
}

KZ_TEST(tabular_missing_column_lists_header) {
    const char *p = WRITE_STR("h.tsv", "id\tname\tsynonyms\nA\tb\tc\n");
    const char *syns[] = {"synonym"};
    kz_onto_spec spec = {.path = p, .label_col = "name", .syn_cols = syns, .n_syn_cols = 1};
    out o;
    kz_error err;
    KZ_CHECK_INT(run(KZ_ONTO_TABULAR, &spec, &o, &err), KZ_ECONFIG);
    KZ_CHECK_STR(err.msg, "column 'synonym' not found in the header (columns: 'id', 'name', 'synonyms')");
    KZ_CHECK(strstr(err.path, "h.tsv") != NULL);
    out_free(&o);
    /* An empty file has no header. */
    spec.path = WRITE_STR("empty.tsv", "");
    spec.n_syn_cols = 0;
    KZ_CHECK_INT(run(KZ_ONTO_TABULAR, &spec, &o, &err), KZ_EFORMAT);
    KZ_CHECK_STR(err.msg, "no header line");
    out_free(&o);
}

KZ_TEST(tabular_filters_regex_scopes_and_join) {
    const char *p = WRITE_STR("f.tsv", "tax_id\tgenus\tspecies\tkind\n"
                                       "9606\tHomo\tsapiens\tsci\n"
                                       "9606\tHomo\tsapiens neanderthalensis\tsyn\n"
                                       "562\tEscherichia\tcoli\tsci\n"
                                       "x1\tBad\tid\tsci\n");
    const char *syns[] = {"genus+species"};
    const char *scopes[] = {"genus+species"};
    kz_onto_spec spec = {.path = p,
                         .label_col = "genus+species",
                         .syn_cols = syns,
                         .n_syn_cols = 1,
                         .id_prefix = "NCBITaxon:",
                         .id_regex = "^NCBITaxon:[0-9]+$",
                         .syn_scopes = scopes,
                         .n_syn_scopes = 1};
    out o;
    kz_error err;
    KZ_CHECK_INT(run(KZ_ONTO_TABULAR, &spec, &o, &err), 0);
    KZ_CHECK_STR(o.terms, "NCBITaxon:9606 L=Homo sapiens S=Homo sapiens neanderthalensis(genus+species) @2\n"
                          "NCBITaxon:562 L=Escherichia coli @4\n");
    out_free(&o);
    spec.id_regex = "([";
    KZ_CHECK_INT(run(KZ_ONTO_TABULAR, &spec, &o, &err), KZ_ECONFIG);
    KZ_CHECK(strstr(err.msg, "bad id_regex") != NULL);
    out_free(&o);
}

KZ_TEST(tabular_gzip_truncated_and_abort) {
    const char *text = "id\tlabel\nA\ta\nB\tb\nC\tc\n";
    const char *p = write_gz("t.tsv.gz", text, strlen(text));
    kz_onto_spec spec = {.path = p, .label_col = "label"};
    out o;
    kz_error err;
    KZ_CHECK_INT(run(KZ_ONTO_TABULAR, &spec, &o, &err), 0);
    KZ_CHECK_STR(o.terms, "A L=a @2\nB L=b @3\nC L=c @4\n");
    out_free(&o);
    /* The consumer stops the parse: its code comes back. */
    out_open(&o);
    o.abort_after = 2;
    spec.format = KZ_ONTO_TABULAR;
    kz_error_clear(&err);
    KZ_CHECK_INT(kz__onto_parse(&spec, on_term, on_warn, &o, NULL, &err), KZ_ECANCELLED);
    KZ_CHECK_INT(o.n_terms, 2);
    out_free(&o);
    /* A gzip stream cut short is an error, not a short ontology. */
    size_t n;
    char *gz = kz_test_read_file(p, &n);
    KZ_CHECK(gz && n > 20);
    spec.path = write_file("cut.tsv.gz", gz, n - 12);
    free(gz);
    KZ_CHECK_INT(run(KZ_ONTO_TABULAR, &spec, &o, &err), KZ_EIO);
    KZ_CHECK(strstr(err.msg, "truncated") != NULL);
    out_free(&o);
    spec.path = "/nonexistent/file.tsv";
    KZ_CHECK_INT(run(KZ_ONTO_TABULAR, &spec, &o, &err), KZ_EIO);
    out_free(&o);
}

KZ_TEST(tabular_mem_entry_matches_file) {
    const char *text = "id,label\n\"X\",\"y, z\"\n";
    kz_onto_spec spec = {.path = "mem.csv", .quote = '"', .label_col = "label", .delimiter = ','};
    out o;
    out_open(&o);
    kz_error err;
    kz_error_clear(&err);
    KZ_CHECK_INT(kz__onto_parse_tabular_mem(text, strlen(text), &spec, on_term, on_warn, &o, NULL, &err), 0);
    out_close(&o);
    KZ_CHECK_STR(o.terms, "X L=y, z @2\n");
    out_free(&o);
}

/* ---- SQLite ----------------------------------------------------------------------------------------- */

static const char *make_db(void) {
    static char p[512];
    snprintf(p, sizeof p, "%s/go.sqlite", tmpdir());
    unlink(p);
    sqlite3 *db;
    if (sqlite3_open(p, &db) != SQLITE_OK) abort();
    const char *sql =
        /* GO.db's shape */
        "CREATE TABLE go_term (_id INTEGER PRIMARY KEY, go_id CHAR(10) NOT NULL UNIQUE, term TEXT NOT NULL,"
        " ontology VARCHAR(9) NOT NULL, definition TEXT NULL);"
        "CREATE TABLE go_synonym (_id INTEGER NOT NULL, synonym VARCHAR(255) NOT NULL, secondary CHAR(10) "
        "NULL,"
        " like_go_id SMALLINT);"
        "INSERT INTO go_term VALUES (1,'GO:0008150','biological_process','BP','A biological process...');"
        "INSERT INTO go_term VALUES (2,'GO:0003674','molecular_function','MF',NULL);"
        "INSERT INTO go_term VALUES (3,'GO:0005575','cellular_component','CC',NULL);"
        "INSERT INTO go_synonym VALUES (1,'physiological process',NULL,0);"
        "INSERT INTO go_synonym VALUES (2,'molecular function',NULL,0);"
        "INSERT INTO go_synonym VALUES (1,'biological process',NULL,0);"
        "INSERT INTO go_synonym VALUES (1,'GO:0000004',NULL,1);"
        /* org.Hs.eg.db's shape */
        "CREATE TABLE genes (_id INTEGER PRIMARY KEY, gene_id VARCHAR(10) NOT NULL UNIQUE);"
        "CREATE TABLE gene_info (_id INTEGER NOT NULL UNIQUE, gene_name VARCHAR(255) NOT NULL,"
        " symbol VARCHAR(80) NOT NULL);"
        "CREATE TABLE alias (_id INTEGER NOT NULL, alias_symbol VARCHAR(80) NOT NULL);"
        "INSERT INTO genes VALUES (1,'1'),(2,'2'),(3,'3');"
        "INSERT INTO gene_info VALUES (1,'alpha-1-B glycoprotein','A1BG'),(2,'alpha-2-macroglobulin','A2M'),"
        " (3,'bad','B\xff');"
        "INSERT INTO alias VALUES (2,'A2MD'),(1,'A1B'),(2,'CPAMD5'),(1,'ABG'),(1,'A1BG');";
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "sqlite: %s\n", msg);
        abort();
    }
    sqlite3_close(db);
    return p;
}

KZ_TEST(sqlite_go_and_genes_grouped_by_id) {
    const char *db = make_db();
    kz_onto_spec spec = {
        .path = db,
        .query = "SELECT t.go_id, t.term, s.synonym, 'EXACT', t.ontology AS aspect FROM go_term t"
                 " LEFT JOIN go_synonym s ON s._id = t._id AND s.like_go_id = 0 ORDER BY s.synonym"};
    out o;
    kz_error err;
    KZ_CHECK_INT(run(KZ_ONTO_SQLITE, &spec, &o, &err), 0);
    /* Rows come ordered by synonym, not id: grouped by the hash map, in order of first appearance. */
    KZ_CHECK_STR(o.terms,
                 "GO:0005575 L=cellular_component M=aspect:CC @1\n"
                 "GO:0008150 L=biological_process S=biological process(EXACT) S=physiological process(EXACT)"
                 " M=aspect:BP @2\n"
                 "GO:0003674 L=molecular_function S=molecular function(EXACT) M=aspect:MF @3\n");
    out_free(&o);
    spec.query = "SELECT g.gene_id, i.symbol, a.alias_symbol FROM genes g JOIN gene_info i USING (_id)"
                 " LEFT JOIN alias a USING (_id)";
    spec.id_prefix = "NCBIGene:";
    KZ_CHECK_INT(run(KZ_ONTO_SQLITE, &spec, &o, &err), 0);
    KZ_CHECK(strstr(o.terms, "NCBIGene:1 L=A1BG S=A1B S=ABG @") == o.terms);
    KZ_CHECK(strstr(o.terms, "\nNCBIGene:2 L=A2M S=A2MD S=CPAMD5 @") != NULL);
    KZ_CHECK(strstr(o.terms, "NCBIGene:3") == NULL);
    KZ_CHECK_INT(o.n_terms, 2);
    KZ_CHECK_INT(o.n_warns, 1); /* gene 3's invalid UTF-8 */
    KZ_CHECK(strstr(o.warns, "invalid UTF-8") != NULL);
    out_free(&o);
}

KZ_TEST(sqlite_errors) {
    const char *db = make_db();
    kz_onto_spec spec = {.path = db, .query = "SELECT go_id, term FROM nowhere"};
    out o;
    kz_error err;
    KZ_CHECK_INT(run(KZ_ONTO_SQLITE, &spec, &o, &err), KZ_ECONFIG);
    KZ_CHECK(strstr(err.msg, "query \"SELECT go_id, term FROM nowhere\" failed: no such table: nowhere") !=
             NULL);
    out_free(&o);
    spec.query = "SELECT go_id, term FROM go_term";
    KZ_CHECK_INT(run(KZ_ONTO_SQLITE, &spec, &o, &err), KZ_ECONFIG);
    KZ_CHECK(strstr(err.msg, "returns 2 columns") != NULL);
    out_free(&o);
    spec.query = NULL;
    KZ_CHECK_INT(run(KZ_ONTO_SQLITE, &spec, &o, &err), KZ_ECONFIG);
    out_free(&o);
    /* Not a database: refused before SQLite sees it, and the file is not touched. */
    spec.query = "SELECT 1, 2, 3";
    spec.path = WRITE_STR("not.sqlite", "id\tlabel\nA\tb\n");
    KZ_CHECK_INT(run(KZ_ONTO_SQLITE, &spec, &o, &err), KZ_EFORMAT);
    KZ_CHECK_STR(err.msg, "not an SQLite 3 database");
    out_free(&o);
    char junk[4096];
    memset(junk, 0x5a, sizeof junk);
    memcpy(junk, "SQLite format 3", 16);
    spec.path = write_file("junk.sqlite", junk, sizeof junk);
    spec.query = "SELECT * FROM sqlite_master";
    int rc = run(KZ_ONTO_SQLITE, &spec, &o, &err);
    KZ_CHECK(rc == KZ_EFORMAT || rc == KZ_ECONFIG || rc == KZ_EIO);
    KZ_CHECK(err.msg[0] != 0);
    out_free(&o);
}

/* ---- HGNC ------------------------------------------------------------------------------------------- */

KZ_TEST(hgnc_tsv_custom_download) {
    const char *p = WRITE_STR(
        "HGNC_Genes.tsv",
        "HGNC ID\tApproved Symbol\tApproved Name\tStatus\tPrevious Symbols\tSynonyms\tChromosome\tAccession "
        "Numbers\tRefSeq IDs\n"
        "HGNC:5\tA1BG\talpha-1-B glycoprotein\tApproved\t\t\t19q13.43\t\tNM_130786\n"
        "HGNC:37133\tA1BG-AS1\tA1BG antisense RNA 1\tApproved\tNCRNA00181, A1BGAS, "
        "A1BG-AS\tFLJ23569\t19q13.43\t"
        "BC040926\tNR_015380\n"
        "HGNC:99\tOLD\told gene\tEntry Withdrawn\t\t\t\t\t\n");
    kz_onto_spec spec = {.path = p};
    out o;
    kz_error err;
    KZ_CHECK_INT(run(KZ_ONTO_HGNC_TSV, &spec, &o, &err), 0);
    KZ_CHECK_STR(o.terms, "HGNC:5 L=A1BG S=alpha-1-B glycoprotein(name) X=RefSeq:NM_130786 @2\n"
                          "HGNC:37133 L=A1BG-AS1 S=A1BG antisense RNA 1(name) S=NCRNA00181(prev_symbol) "
                          "S=A1BGAS(prev_symbol) S=A1BG-AS(prev_symbol) S=FLJ23569(alias_symbol) "
                          "X=RefSeq:NR_015380 @3\n");
    out_free(&o);
    spec.include_obsolete = true;
    KZ_CHECK_INT(run(KZ_ONTO_HGNC_TSV, &spec, &o, &err), 0);
    KZ_CHECK(strstr(o.terms, "HGNC:99 L=OLD S=old gene(name) OBS @4\n") != NULL);
    out_free(&o);
}

KZ_TEST(hgnc_tsv_complete_set) {
    const char *p =
        WRITE_STR("hgnc_complete_set.txt",
                  "hgnc_id\tsymbol\tname\tlocus_group\tstatus\talias_symbol\talias_name\tprev_symbol\t"
                  "ensembl_gene_id\tentrez_id\tuniprot_ids\tomim_id\n"
                  "HGNC:5\tA1BG\talpha-1-B glycoprotein\tprotein-coding gene\tApproved\t\t\t\t"
                  "ENSG00000121410\t1\tP04217\t138670\n"
                  "HGNC:7\tA2M\talpha-2-macroglobulin\tprotein-coding gene\tApproved\t\"FWP007|S863-7\"\t"
                  "\"C3 and PZP-like alpha-2-macroglobulin domain-containing protein 5\"\t\"CPAMD5\"\t"
                  "ENSG00000175899\t2\t\"P01023\"\t\"103950|614036\"\n");
    const char *ns[] = {"protein-coding gene"};
    kz_onto_spec spec = {.path = p, .namespaces = ns, .n_namespaces = 1};
    out o;
    kz_error err;
    KZ_CHECK_INT(run(KZ_ONTO_HGNC_TSV, &spec, &o, &err), 0);
    KZ_CHECK_STR(
        o.terms,
        "HGNC:5 L=A1BG S=alpha-1-B glycoprotein(name) X=ENSEMBL:ENSG00000121410 X=NCBIGene:1 "
        "X=UniProt:P04217 X=OMIM:138670 N=protein-coding gene @2\n"
        "HGNC:7 L=A2M S=alpha-2-macroglobulin(name) S=FWP007(alias_symbol) S=S863-7(alias_symbol) "
        "S=C3 and PZP-like alpha-2-macroglobulin domain-containing protein 5(alias_name) "
        "S=CPAMD5(prev_symbol) X=ENSEMBL:ENSG00000175899 X=NCBIGene:2 X=UniProt:P01023 X=OMIM:103950 "
        "X=OMIM:614036 N=protein-coding gene @3\n");
    out_free(&o);
    spec.path = WRITE_STR("other.tsv", "gene\tname\nX\ty\n");
    KZ_CHECK_INT(run(KZ_ONTO_HGNC_TSV, &spec, &o, &err), KZ_ECONFIG);
    KZ_CHECK(strstr(err.msg, "'HGNC ID or hgnc_id' not found in the header (columns: 'gene', 'name')") !=
             NULL);
    out_free(&o);
}

KZ_TEST(hgnc_json) {
    const char *json =
        "{\"responseHeader\":{\"status\":0},\"response\":{\"numFound\":3,\"docs\":["
        "{\"hgnc_id\":\"HGNC:5\",\"symbol\":\"A1BG\",\"name\":\"alpha-1-B "
        "glycoprotein\",\"status\":\"Approved\","
        "\"locus_group\":\"protein-coding gene\",\"alias_symbol\":[],\"ensembl_gene_id\":\"ENSG00000121410\","
        "\"entrez_id\":\"1\",\"uniprot_ids\":[\"P04217\"],\"omim_id\":[\"138670\"],\"location\":\"19q13.43\"}"
        ","
        "{\"hgnc_id\":\"HGNC:7\",\"symbol\":\"A2M\",\"name\":\"alpha-2-macroglobulin\",\"status\":"
        "\"Approved\","
        "\"alias_symbol\":[\"FWP007\",\"S863-7\",\"CPAMD5\"],\"alias_name\":[\"C3 and PZP-like\"],"
        "\"prev_symbol\":[\"CPAMD5\"],\"prev_name\":[\"old "
        "name\"],\"entrez_id\":2,\"mgd_id\":[\"MGI:1\",\"MGI:2\"]},"
        "{\"symbol\":\"NOID\"},"
        "{\"hgnc_id\":\"HGNC:9\",\"symbol\":\"GONE\",\"status\":\"Entry Withdrawn\"}"
        "]}}";
    const char *p = write_gz("hgnc_complete_set.json.gz", json, strlen(json));
    const char *meta[] = {"location", "mgd_id"}, *xr[] = {"MGI:mgd_id"};
    kz_onto_spec spec = {.path = p, .meta_cols = meta, .n_meta_cols = 2, .xref_cols = xr, .n_xref_cols = 1};
    out o;
    kz_error err;
    KZ_CHECK_INT(run(KZ_ONTO_HGNC_JSON, &spec, &o, &err), 0);
    KZ_CHECK_STR(
        o.terms,
        "HGNC:5 L=A1BG S=alpha-1-B glycoprotein(name) X=ENSEMBL:ENSG00000121410 X=NCBIGene:1 "
        "X=UniProt:P04217 X=OMIM:138670 N=protein-coding gene M=location:19q13.43 @0\n"
        "HGNC:7 L=A2M S=alpha-2-macroglobulin(name) S=FWP007(alias_symbol) S=S863-7(alias_symbol) "
        "S=CPAMD5(alias_symbol) S=C3 and PZP-like(alias_name) S=CPAMD5(prev_symbol) S=old name(prev_name) "
        "X=NCBIGene:2 X=MGI:1 X=MGI:2 M=mgd_id:MGI:1|MGI:2 @0\n");
    KZ_CHECK_STR(o.warns, "hgnc_complete_set.json.gz:0: response.docs[2] has no hgnc_id; skipped\n");
    out_free(&o);
    spec.path = WRITE_STR("bad.json", "{\"response\": {\"docs\": [}");
    KZ_CHECK_INT(run(KZ_ONTO_HGNC_JSON, &spec, &o, &err), KZ_EPARSE);
    KZ_CHECK(err.line == 1 && strstr(err.msg, "not valid JSON") != NULL);
    out_free(&o);
    spec.path = WRITE_STR("shape.json", "{\"docs\": []}");
    KZ_CHECK_INT(run(KZ_ONTO_HGNC_JSON, &spec, &o, &err), KZ_EFORMAT);
    out_free(&o);
}

/* ---- DrugBank ---------------------------------------------------------------------------------------- */

KZ_TEST(drugbank_semicolon_variant) {
    const char *csv =
        "Column1;Column2;Column3;Column4;Column5;Column6;Column7\n"
        "DrugBank ID;Accession Numbers;Common name;CAS;UNII;Synonyms;Standard InChI Key\n"
        "DB00001;BIOD00024 | BTD00024;Lepirudin;138068-37-8;Y43GF64R34;Hirudin variant-1 | Lepirudin "
        "recombinant;\n"
        "DB00032;BIOD00018;Menotropins;9002-68-0;8FYM5179QJ;\"Menotrophin | Menotropins (FSH;LH)\";\n"
        "DB01635;EXPT00133;\"2,2-Dimethyl;(Dmt)Thiazolidine\";;;;OCQICQZUUHJWGZ-BYPYZUCNSA-N\n"
        /* the same rows with their quotes lost: repaired */
        "DB90032;;Menotropins;9002-68-0;8FYM5179QJ;Menotrophin | Menotropins (FSH;LH);\n"
        "DB91635;;2,2-Dimethyl;(Dmt)Thiazolidine;;;;OCQICQZUUHJWGZ-BYPYZUCNSA-N\n"
        "DB14771;;Polyacrylamide (crosslinked; 2 mole percent);8.05.9003;9FPL31B58Q;BULKAMID;\n"
        "DB99999;too;few\n";
    const char *p = WRITE_STR("drugbank_vocabulary.csv", csv);
    kz_onto_spec spec = {.path = p};
    out o;
    kz_error err;
    KZ_CHECK_INT(run(KZ_ONTO_DRUGBANK_CSV, &spec, &o, &err), 0);
    KZ_CHECK_STR(
        o.terms,
        "DB00001 L=Lepirudin S=Hirudin variant-1(synonym) S=Lepirudin recombinant(synonym) X=CAS:138068-37-8 "
        "X=UNII:Y43GF64R34 A=BIOD00024 A=BTD00024 @3\n"
        "DB00032 L=Menotropins S=Menotrophin(synonym) S=Menotropins (FSH;LH)(synonym) X=CAS:9002-68-0 "
        "X=UNII:8FYM5179QJ A=BIOD00018 @4\n"
        "DB01635 L=2,2-Dimethyl;(Dmt)Thiazolidine A=EXPT00133 @5\n"
        "DB90032 L=Menotropins S=Menotrophin(synonym) S=Menotropins (FSH;LH)(synonym) X=CAS:9002-68-0 "
        "X=UNII:8FYM5179QJ @6\n"
        "DB91635 L=2,2-Dimethyl;(Dmt)Thiazolidine @7\n"
        "DB14771 L=Polyacrylamide (crosslinked; 2 mole percent) S=BULKAMID(synonym) X=CAS:8.05.9003 "
        "X=UNII:9FPL31B58Q @8\n");
    KZ_CHECK_STR(
        o.warns,
        "drugbank_vocabulary.csv:6: 1 extra ';' inside unquoted fields; repaired as name \"Menotropins\" (1 "
        "name pieces)\n"
        "drugbank_vocabulary.csv:7: 1 extra ';' inside unquoted fields; repaired as name "
        "\"2,2-Dimethyl;(Dmt)Thiazolidine\" (2 name pieces)\n"
        "drugbank_vocabulary.csv:8: 1 extra ';' inside unquoted fields; repaired as name \"Polyacrylamide "
        "(crosslinked; 2 mole percent)\" (2 name pieces)\n"
        "drugbank_vocabulary.csv:9: expected 7 fields, got 3; row skipped\n");
    out_free(&o);
}

KZ_TEST(drugbank_official_csv) {
    const char *csv = "DrugBank ID,Accession Numbers,Common name,CAS,UNII,Synonyms,Standard InChI Key\n"
                      "DB00006,BIOD00076 | BTD00076 | DB02351,Bivalirudin,128270-60-0,TN9BEX005G,"
                      "\"Bivalirudin | Bivalirudina, trifluoroacetate\",OIRCOABEOLEUMC-GEJPAHFPSA-N\n";
    const char *p = WRITE_STR("drugbank vocabulary.csv", csv);
    kz_onto_spec spec = {.path = p};
    out o;
    kz_error err;
    KZ_CHECK_INT(run(KZ_ONTO_DRUGBANK_CSV, &spec, &o, &err), 0);
    KZ_CHECK_STR(o.terms, "DB00006 L=Bivalirudin S=Bivalirudina, trifluoroacetate(synonym) X=CAS:128270-60-0 "
                          "X=UNII:TN9BEX005G A=BIOD00076 A=BTD00076 A=DB02351 @2\n");
    KZ_CHECK_INT(o.n_warns, 0);
    out_free(&o);
}

/* ---- CTD ---------------------------------------------------------------------------------------------- */

KZ_TEST(ctd_diseases_and_chemicals) {
    const char *tsv =
        "# The Comparative Toxicogenomics Database (CTD)\n#\n# Fields:\n"
        "# "
        "DiseaseName\tDiseaseID\tAltDiseaseIDs\tDefinition\tParentIDs\tTreeNumbers\tParentTreeNumbers\tSynony"
        "ms\t"
        "SlimMappings\n#\n"
        "Diabetes Mellitus\tMESH:D003920\tDO:DOID:9351\tA heterogeneous group\tMESH:D004700|MESH:D044882\t"
        "C18.452.394.750|C19.246\tC18.452.394|C19\t\tEndocrine system disease\n"
        "Diabetes Mellitus, Type "
        "1\tMESH:D003922\tDO:DOID:9744|OMIM:222100\tdef\tMESH:D003920\tC19.246.267\tC19.246\t"
        "IDDM|Juvenile-Onset Diabetes\t\n"
        "broken row\tMESH:X\n";
    const char *p = write_gz("CTD_diseases.tsv.gz", tsv, strlen(tsv));
    const char *meta[] = {"TreeNumbers"};
    kz_onto_spec spec = {.path = p, .meta_cols = meta, .n_meta_cols = 1};
    out o;
    kz_error err;
    KZ_CHECK_INT(run(KZ_ONTO_CTD_TSV, &spec, &o, &err), 0);
    KZ_CHECK_STR(
        o.terms,
        "MESH:D003920 L=Diabetes Mellitus X=DO:DOID:9351 A=DO:DOID:9351 P=MESH:D004700 "
        "P=MESH:D044882 M=TreeNumbers:C18.452.394.750|C19.246 @6\n"
        "MESH:D003922 L=Diabetes Mellitus, Type 1 S=IDDM(Synonyms) S=Juvenile-Onset Diabetes(Synonyms) "
        "X=DO:DOID:9744 X=OMIM:222100 A=DO:DOID:9744 A=OMIM:222100 P=MESH:D003920 "
        "M=TreeNumbers:C19.246.267 @7\n");
    KZ_CHECK_STR(o.warns, "CTD_diseases.tsv.gz:8: expected 9 fields, got 2; row skipped\n");
    out_free(&o);
    const char *chem =
        "# Fields:\n# ChemicalName\tChemicalID\tCasRN\tDefinition\tParentIDs\tTreeNumbers\t"
        "ParentTreeNumbers\tSynonyms\n"
        "Aspirin\tMESH:D001241\t50-78-2\tdef\tMESH:D012459\tD02.241\tD02\tAcetylsalicylic Acid|Acylpyrin\n";
    spec.path = WRITE_STR("CTD_chemicals.tsv", chem);
    spec.n_meta_cols = 0;
    KZ_CHECK_INT(run(KZ_ONTO_CTD_TSV, &spec, &o, &err), 0);
    KZ_CHECK_STR(o.terms, "MESH:D001241 L=Aspirin S=Acetylsalicylic Acid(Synonyms) S=Acylpyrin(Synonyms) "
                          "X=CAS:50-78-2 P=MESH:D012459 @3\n");
    out_free(&o);
    /* Without the header comment, the 9-column layout is taken as diseases. */
    spec.path = WRITE_STR("noheader.tsv", "Acne\tMESH:D000152\t\t\t\t\t\tAcne Vulgaris\t\n");
    KZ_CHECK_INT(run(KZ_ONTO_CTD_TSV, &spec, &o, &err), 0);
    KZ_CHECK_STR(o.terms, "MESH:D000152 L=Acne S=Acne Vulgaris(Synonyms) @1\n");
    out_free(&o);
    spec.path = WRITE_STR("notctd.tsv", "a\tb\tc\n");
    KZ_CHECK_INT(run(KZ_ONTO_CTD_TSV, &spec, &o, &err), KZ_EFORMAT);
    out_free(&o);
}

/* ---- NCBI taxonomy ------------------------------------------------------------------------------------ */

KZ_TEST(taxonomy_names_dmp) {
    const char *dmp = "1\t|\tall\t|\t\t|\tsynonym\t|\n"
                      "1\t|\troot\t|\t\t|\tscientific name\t|\n"
                      "562\t|\tBacillus coli\t|\tBacillus coli Migula 1895\t|\tsynonym\t|\n"
                      "562\t|\tE. coli\t|\t\t|\tcommon name\t|\n"
                      "562\t|\tEscherichia coli\t|\t\t|\tscientific name\t|\n"
                      "562\t|\t\"Bacillus coli\" Migula 1895\t|\t\t|\tauthority\t|\n"
                      "9606\t|\thuman\t|\t\t|\tgenbank common name\t|\n"
                      "9606\t|\tHomo sapiens\t|\t\t|\tscientific name\t|\n"
                      "9606\t|\tbroken\n"
                      "x9\t|\tBad\t|\t\t|\tscientific name\t|\n";
    const char *p = WRITE_STR("names.dmp", dmp);
    kz_onto_spec spec = {.path = p};
    out o;
    kz_error err;
    KZ_CHECK_INT(run(KZ_ONTO_NCBI_TAXONOMY, &spec, &o, &err), 0);
    KZ_CHECK_STR(o.terms,
                 "NCBITaxon:1 L=root S=all(synonym) @1\n"
                 "NCBITaxon:562 L=Escherichia coli S=Bacillus coli(synonym) S=E. coli(common name) @3\n"
                 "NCBITaxon:9606 L=Homo sapiens S=human(genbank common name) @7\n");
    KZ_CHECK_INT(o.n_warns, 2);
    KZ_CHECK(strstr(o.warns, "names.dmp:9: not a names.dmp row") != NULL);
    KZ_CHECK(strstr(o.warns, "names.dmp:10: tax_id 'x9' is not a number; row skipped") != NULL);
    out_free(&o);
    const char *scopes[] = {"authority", "synonym"};
    spec.syn_scopes = scopes;
    spec.n_syn_scopes = 2;
    spec.id_prefix = "";
    KZ_CHECK_INT(run(KZ_ONTO_NCBI_TAXONOMY, &spec, &o, &err), 0);
    KZ_CHECK(strstr(o.terms, "562 L=Escherichia coli S=Bacillus coli(synonym) S=\"Bacillus coli\" Migula "
                             "1895(authority) @3\n") != NULL);
    out_free(&o);
}

KZ_TEST(taxonomy_binomial_tsv) {
    const char *tsv = "tax_id\tgenus\tspecies\n"
                      "562\tBacillus\tcoli\n562\tEscherichia\tcoli\n562\tBacillus\tcoli\n"
                      "9606\tHomo\tsapiens\n";
    const char *p = write_gz("binomial.tsv.gz", tsv, strlen(tsv));
    kz_onto_spec spec = {.path = p};
    out o;
    kz_error err;
    KZ_CHECK_INT(run(KZ_ONTO_NCBI_TAXONOMY, &spec, &o, &err), 0);
    KZ_CHECK_STR(o.terms, "NCBITaxon:562 L=Bacillus coli S=Escherichia coli(synonym) @2\n"
                          "NCBITaxon:9606 L=Homo sapiens @5\n");
    out_free(&o);
}

/* ---- R .rda / .rds --------------------------------------------------------------------------------------
 */

typedef struct xb {
    unsigned char *p;
    size_t n, cap;
} xb;

static void xraw(xb *b, const void *d, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void xi(xb *b, uint32_t v) {
    unsigned char c[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                          (unsigned char)v};
    xraw(b, c, 4);
}
static void xd(xb *b, double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    xi(b, (uint32_t)(u >> 32));
    xi(b, (uint32_t)u);
}
/* CHARSXP: NULL = NA_STRING; levs 64 = ASCII, 8 = UTF-8, 4 = latin1. */
static void xchar(xb *b, const char *s, uint32_t levs) {
    if (!s) {
        xi(b, 9);
        xi(b, (uint32_t)-1);
        return;
    }
    xi(b, 9 | levs << 12);
    xi(b, (uint32_t)strlen(s));
    xraw(b, s, strlen(s));
}
static void xsym(xb *b, const char *name) {
    xi(b, 1);
    xchar(b, name, 64);
}
static void xstrs(xb *b, int n, const char *const *v, uint32_t flags) {
    xi(b, 16 | flags);
    xi(b, (uint32_t)n);
    for (int i = 0; i < n; i++) xchar(b, v[i], 64);
}
#define NIL(b)   xi(b, 254)
#define TAGGED   0x402
#define OBJ_ATTR 0x300
#define NA_INT   0x80000000u

/* specData-like frame: tax_id (int), genus (factor), species (chr with NA), rank (ALTREP 1:4),
 * code (deferred string), note (latin1). Symbols after the first use are back-references; ref0 is
 * the number of symbols read before the frame. */
static void frame(xb *b, uint32_t ref0) {
    xi(b, 19 | OBJ_ATTR);
    xi(b, 6);
    xi(b, 13); /* tax_id */
    xi(b, 4);
    xi(b, 9606), xi(b, 9606), xi(b, 562), xi(b, 10090);
    xi(b, 13 | OBJ_ATTR); /* genus: factor */
    xi(b, 4);
    xi(b, 1), xi(b, 1), xi(b, 2), xi(b, 3);
    xi(b, TAGGED);
    xsym(b, "levels"); /* ref0 + 1 */
    const char *lv[] = {"Homo", "Escherichia", "Mus"};
    xstrs(b, 3, lv, 0);
    xi(b, TAGGED);
    xsym(b, "class"); /* ref0 + 2 */
    const char *fc[] = {"factor"};
    xstrs(b, 1, fc, 0);
    NIL(b);
    const char *sp[] = {"sapiens", NULL, "coli", "musculus"};
    xstrs(b, 4, sp, 0);
    xi(b, 238); /* rank: ALTREP compact_intseq 1:4 */
    xi(b, 2);
    xsym(b, "compact_intseq");
    xi(b, 2);
    xsym(b, "base");
    xi(b, 2);
    xi(b, 13);
    xi(b, 1);
    xi(b, 13);
    NIL(b);
    xi(b, 14);
    xi(b, 3);
    xd(b, 4), xd(b, 1), xd(b, 1);
    NIL(b);
    xi(b, 238); /* code: deferred_string of c(10L, NA, 30L, 40L) */
    xi(b, 2);
    xsym(b, "deferred_string");
    xi(b, 2);
    xi(b, ((ref0 + 4) << 8) | 255); /* back-reference to "base" */
    xi(b, 2);
    xi(b, 13);
    xi(b, 1);
    xi(b, 16);
    NIL(b);
    xi(b, 2); /* state: CONS(arg, info) */
    xi(b, 13);
    xi(b, 4);
    xi(b, 10), xi(b, NA_INT), xi(b, 30), xi(b, 40);
    xi(b, 13);
    xi(b, 1);
    xi(b, 1);
    NIL(b);
    xi(b, 16); /* note: latin1 */
    xi(b, 4);
    xchar(b, "caf\xe9", 4);
    xchar(b, "", 64);
    xchar(b, NULL, 0);
    xchar(b, "x", 64);
    /* frame attributes: names, class (back-reference), row.names c(NA, -4) */
    xi(b, TAGGED);
    xsym(b, "names");
    const char *nm[] = {"tax_id", "genus", "species", "rank", "code", "note"};
    xstrs(b, 6, nm, 0);
    xi(b, TAGGED);
    xi(b, ((ref0 + 2) << 8) | 255); /* "class" */
    const char *dc[] = {"data.frame"};
    xstrs(b, 1, dc, 0);
    xi(b, TAGGED);
    xsym(b, "row.names");
    xi(b, 13);
    xi(b, 2);
    xi(b, NA_INT), xi(b, (uint32_t)-4);
    NIL(b);
}

static void serial_header(xb *b, int version) {
    xraw(b, "X\n", 2);
    xi(b, (uint32_t)version);
    xi(b, 0x040201);
    xi(b, 0x030500);
    if (version == 3) {
        xi(b, 5);
        xraw(b, "UTF-8", 5);
    }
}

/* An .rda image: a pairlist of (name = object); "other" is an integer vector, then specData. */
static xb make_rda(void) {
    xb b = {0};
    xraw(&b, "RDX3\n", 5);
    serial_header(&b, 3);
    xi(&b, TAGGED);
    xsym(&b, "other"); /* ref 1 */
    xi(&b, 13);
    xi(&b, 1);
    xi(&b, 7);
    xi(&b, TAGGED);
    xsym(&b, "specData"); /* ref 2 */
    frame(&b, 2);
    NIL(&b);
    return b;
}

static const char *const k_rda_expected =
    "NCBITaxon:9606 L=Homo sapiens S=Homo(genus+species) M=rank:1 M=code:10 M=note:caf\xc3\xa9 M=rank:2 @1\n"
    "NCBITaxon:562 L=Escherichia coli M=rank:3 M=code:30 @3\n"
    "NCBITaxon:10090 L=Mus musculus M=rank:4 M=code:40 M=note:x @4\n";

static int rda_mem(const xb *b, const kz_onto_spec *spec, out *o, kz_error *err) {
    out_open(o);
    kz_error_clear(err);
    uint64_t nw = 0;
    int rc = kz__onto_parse_rda_mem(b->p, b->n, 1 << 20, spec, on_term, on_warn, o, &nw, err);
    out_close(o);
    return rc;
}

KZ_TEST(rda_data_frame_plain_and_compressed) {
    xb b = make_rda();
    const char *meta[] = {"rank", "code", "note"};
    kz_onto_spec spec = {.path = "fixture.rda",
                         .rda_object = "specData",
                         .id_col = "tax_id",
                         .label_col = "genus+species",
                         .id_prefix = "NCBITaxon:",
                         .meta_cols = meta,
                         .n_meta_cols = 3};
    out o;
    kz_error err;
    KZ_CHECK_INT(rda_mem(&b, &spec, &o, &err), 0);
    KZ_CHECK_STR(o.terms, k_rda_expected);
    out_free(&o);

    /* gzip, bzip2 and xz, through the file entry point */
    unsigned char *z = malloc(b.n + 1024);
    z_stream zs = {0};
    deflateInit2(&zs, 9, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
    zs.next_in = b.p;
    zs.avail_in = (uInt)b.n;
    zs.next_out = z;
    zs.avail_out = (uInt)(b.n + 1024);
    deflate(&zs, Z_FINISH);
    size_t zn = zs.total_out;
    deflateEnd(&zs);
    spec.path = write_file("fixture_gz.rda", z, zn);
    KZ_CHECK_INT(run(KZ_ONTO_RDA_TABLE, &spec, &o, &err), 0);
    KZ_CHECK_STR(o.terms, k_rda_expected);
    out_free(&o);
    /* truncated gzip */
    spec.path = write_file("fixture_cut.rda", z, zn / 2);
    KZ_CHECK_INT(run(KZ_ONTO_RDA_TABLE, &spec, &o, &err), KZ_EFORMAT);
    KZ_CHECK(strstr(err.msg, "truncated gzip") != NULL);
    out_free(&o);

    unsigned int bzn = (unsigned)(b.n + 1024);
    KZ_CHECK_INT(BZ2_bzBuffToBuffCompress((char *)z, &bzn, (char *)b.p, (unsigned)b.n, 9, 0, 0), BZ_OK);
    spec.path = write_file("fixture_bz2.rda", z, bzn);
    KZ_CHECK_INT(run(KZ_ONTO_RDA_TABLE, &spec, &o, &err), 0);
    KZ_CHECK_STR(o.terms, k_rda_expected);
    out_free(&o);

    size_t xn = 0;
    KZ_CHECK_INT(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, b.p, b.n, z, &xn, b.n + 1024), LZMA_OK);
    spec.path = write_file("fixture_xz.rda", z, xn);
    KZ_CHECK_INT(run(KZ_ONTO_RDA_TABLE, &spec, &o, &err), 0);
    KZ_CHECK_STR(o.terms, k_rda_expected);
    out_free(&o);
    spec.path = write_file("fixture_xz_cut.rda", z, xn - 20);
    KZ_CHECK_INT(run(KZ_ONTO_RDA_TABLE, &spec, &o, &err), KZ_EFORMAT);
    KZ_CHECK(strstr(err.msg, "xz") != NULL);
    out_free(&o);
    free(z);
    free(b.p);
}

KZ_TEST(rda_rds_and_version2) {
    xb b = {0};
    serial_header(&b, 2);
    frame(&b, 0);
    const char *meta[] = {"rank", "code", "note"};
    kz_onto_spec spec = {.path = "fixture.rds",
                         .id_col = "tax_id",
                         .label_col = "genus+species",
                         .id_prefix = "NCBITaxon:",
                         .meta_cols = meta,
                         .n_meta_cols = 3};
    out o;
    kz_error err;
    KZ_CHECK_INT(rda_mem(&b, &spec, &o, &err), 0);
    KZ_CHECK_STR(o.terms, k_rda_expected);
    out_free(&o);
    free(b.p);
}

KZ_TEST(rda_refusals) {
    xb b = make_rda();
    kz_onto_spec spec = {.path = "fixture.rda", .rda_object = "specDatum", .id_col = "tax_id"};
    out o;
    kz_error err;
    KZ_CHECK_INT(rda_mem(&b, &spec, &o, &err), KZ_ENOTFOUND);
    KZ_CHECK_STR(err.msg, "object 'specDatum' not found in the .rda (objects: 'other', 'specData')");
    out_free(&o);
    spec.rda_object = "other";
    KZ_CHECK_INT(rda_mem(&b, &spec, &o, &err), KZ_EFORMAT);
    KZ_CHECK(strstr(err.msg, "is not a data.frame") != NULL);
    out_free(&o);
    spec.rda_object = NULL; /* the first data.frame */
    spec.id_col = "taxid";
    KZ_CHECK_INT(rda_mem(&b, &spec, &o, &err), KZ_ECONFIG);
    KZ_CHECK(strstr(err.msg, "column 'taxid' not found in the header (columns: 'tax_id', 'genus'") != NULL);
    out_free(&o);
    spec.id_col = "tax_id";
    /* every truncation is an error, never a crash */
    for (size_t cut = 0; cut < b.n; cut += 7) {
        xb t = {b.p, cut, cut};
        KZ_CHECK(rda_mem(&t, &spec, &o, &err) < 0);
        KZ_CHECK(err.msg[0] != 0);
        out_free(&o);
    }
    xb t = {(unsigned char *)"RDA3\nA\n3\n", 9, 9};
    KZ_CHECK_INT(rda_mem(&t, &spec, &o, &err), KZ_EFORMAT);
    KZ_CHECK(strstr(err.msg, "ASCII") != NULL);
    out_free(&o);
    t = (xb){(unsigned char *)"PK\3\4 not R", 10, 10};
    KZ_CHECK_INT(rda_mem(&t, &spec, &o, &err), KZ_EFORMAT);
    KZ_CHECK_STR(err.msg, "not an R data file (.rda/.rds)");
    out_free(&o);
    /* a huge declared length is refused by the bytes left */
    xb h = {0};
    xraw(&h, "RDX2\n", 5);
    serial_header(&h, 2);
    xi(&h, TAGGED);
    xsym(&h, "x");
    xi(&h, 16);
    xi(&h, 0x7fffffff);
    KZ_CHECK_INT(rda_mem(&h, &spec, &o, &err), KZ_EFORMAT);
    KZ_CHECK(strstr(err.msg, "exceeds the") != NULL);
    out_free(&o);
    free(h.p);
    free(b.p);
}

KZ_TEST(tab_mem_dispatch_every_format) {
    const char *text = "tax_id\tgenus\tspecies\n9606\tHomo\tsapiens\n";
    kz_onto_spec spec = {.path = "mem"};
    out o;
    out_open(&o);
    kz_error err;
    kz_error_clear(&err);
    KZ_CHECK_INT(kz__onto_parse_tab_mem(KZ_ONTO_NCBI_TAXONOMY, text, strlen(text), &spec, on_term, on_warn,
                                        &o, NULL, &err),
                 0);
    out_close(&o);
    KZ_CHECK_STR(o.terms, "NCBITaxon:9606 L=Homo sapiens @2\n");
    out_free(&o);
    KZ_CHECK_INT(
        kz__onto_parse_tab_mem(KZ_ONTO_OBO, text, strlen(text), &spec, on_term, on_warn, &o, NULL, &err),
        KZ_EINVAL);
}

/* The seed corpus written by tools/make_rda_fixtures.py (an independent, Python encoder). */
KZ_TEST(rda_python_seed_corpus) {
    static const char *const files[] = {"specdata_xz.rda", "specdata_gz.rda", "specdata_bz2.rda",
                                        "specdata_plain.rda"};
    const char *meta[] = {"rank", "code", "note", "score"};
    kz_onto_spec spec = {.rda_object = "specData",
                         .id_col = "tax_id",
                         .label_col = "genus+species",
                         .id_prefix = "NCBITaxon:",
                         .meta_cols = meta,
                         .n_meta_cols = 4};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/tests/fuzz/corpus/rda/%s", KZ_SOURCE_DIR, files[i]);
        spec.path = path;
        out o;
        kz_error err;
        KZ_CHECK_INT(run(KZ_ONTO_RDA_TABLE, &spec, &o, &err), 0);
        KZ_CHECK_STR(
            o.terms,
            "NCBITaxon:1 L=all S=root(genus+species) M=rank:1 M=code:10 M=rank:2 M=note:caf\xc3\xa9 1 "
            "M=score:1.5 @1\n"
            "NCBITaxon:562 L=Bacillus coli S=Escherichia coli(genus+species) M=rank:3 M=code:5620 "
            "M=note:caf\xc3\xa9 2 M=score:2.5 M=rank:4 M=note:caf\xc3\xa9 3 M=score:3.5 @3\n"
            "NCBITaxon:9606 L=Homo sapiens M=rank:5 @5\n"
            "NCBITaxon:10090 L=Mus musculus M=rank:6 M=code:100900 M=note:caf\xc3\xa9 5 M=score:5.5 @6\n"
            "NCBITaxon:10116 L=Rattus norvegicus M=rank:7 M=note:caf\xc3\xa9 6 M=score:6.5 @7\n");
        out_free(&o);
    }
    /* others_v2.rda steps over an environment, a call, complex, raw, builtin, S4, external pointer
     * and a long-length vector before the frame. */
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/rda/others_v2.rda", KZ_SOURCE_DIR);
    spec.path = path;
    spec.n_meta_cols = 0;
    out o;
    kz_error err;
    KZ_CHECK_INT(run(KZ_ONTO_RDA_TABLE, &spec, &o, &err), 0);
    KZ_CHECK_STR(o.terms, "NCBITaxon:1 L=all S=root(genus+species) @1\nNCBITaxon:562 L=Bacillus coli @3\n");
    out_free(&o);
}

KZ_TEST(sqlite_path_needing_uri_escapes) {
    const char *db = make_db();
    size_t n;
    char *bytes = kz_test_read_file(db, &n);
    KZ_CHECK(bytes != NULL);
    kz_onto_spec spec = {.path = write_file("go db %20#1?.sqlite", bytes, n),
                         .query = "SELECT go_id, term, NULL FROM go_term ORDER BY go_id"};
    free(bytes);
    out o;
    kz_error err;
    KZ_CHECK_INT(run(KZ_ONTO_SQLITE, &spec, &o, &err), 0);
    KZ_CHECK_STR(o.terms, "GO:0003674 L=molecular_function @1\nGO:0005575 L=cellular_component @2\n"
                          "GO:0008150 L=biological_process @3\n");
    out_free(&o);
}

/* ---- row_filters ------------------------------------------------------------------------------------ */

KZ_TEST(tabular_row_filters_before_merge) {
    /* The first row of X:1 is filtered out, so the second row gives the label; "a+b" joins columns
     * with a space; a filtered row does not end the term being merged. */
    const char *p = WRITE_STR("rf.tsv", "id\tgenus\tspecies\tkind\n"
                                        "X:1\tHomo\t\tgenus\n"
                                        "X:1\tHomo\tsapiens\tspecies\n"
                                        "X:1\tuncultured\tbacterium\tspecies\n"
                                        "X:1\tHomo\tsapiens sapiens\tspecies\n"
                                        "X:2\tEscherichia\tsp. 1\tspecies\n"
                                        "X:3\tMus\tmusculus\tspecies\n");
    const char *filters[] = {"genus+species =~ ^[A-Z][a-z]+ [a-z]+( [a-z]+)?$", "genus+species !~ (^| )sp\\.",
                             "  kind=~species  "};
    kz_onto_spec spec = {
        .path = p, .id_col = "id", .label_col = "genus+species", .row_filters = filters, .n_row_filters = 3};
    out o;
    kz_error err;
    KZ_CHECK_INT(run(KZ_ONTO_TABULAR, &spec, &o, &err), 0);
    KZ_CHECK_STR(o.terms, "X:1 L=Homo sapiens S=Homo sapiens sapiens(genus+species) @3\n"
                          "X:3 L=Mus musculus @7\n");
    KZ_CHECK_INT(o.n_warns, 0);
    out_free(&o);
    /* "!~" alone: keep what does not match. */
    const char *neg[] = {"kind !~ ^genus$"};
    spec.row_filters = neg;
    spec.n_row_filters = 1;
    KZ_CHECK_INT(run(KZ_ONTO_TABULAR, &spec, &o, &err), 0);
    KZ_CHECK(strncmp(o.terms, "X:1 L=Homo sapiens S=uncultured bacterium", 41) == 0);
    KZ_CHECK_INT(o.n_terms, 3);
    out_free(&o);
}

KZ_TEST(tabular_row_filters_refused) {
    const char *p = WRITE_STR("rf_bad.tsv", "id\tname\nA\tb\n");
    kz_onto_spec spec = {.path = p, .label_col = "name", .n_row_filters = 1};
    out o;
    kz_error err;
    const char *no_op[] = {"name ~ x"}, *no_col[] = {"nome =~ x"}, *bad_re[] = {"name =~ a(b"},
               *empty[] = {"name =~   "};
    spec.row_filters = no_op;
    KZ_CHECK_INT(run(KZ_ONTO_TABULAR, &spec, &o, &err), KZ_ECONFIG);
    KZ_CHECK(strstr(err.msg, "expected 'COLUMN =~ ERE'") != NULL);
    out_free(&o);
    spec.row_filters = no_col;
    KZ_CHECK_INT(run(KZ_ONTO_TABULAR, &spec, &o, &err), KZ_ECONFIG);
    KZ_CHECK(strstr(err.msg, "column 'nome' not found (columns: 'id', 'name')") != NULL);
    out_free(&o);
    spec.row_filters = bad_re;
    KZ_CHECK_INT(run(KZ_ONTO_TABULAR, &spec, &o, &err), KZ_ECONFIG);
    KZ_CHECK(strstr(err.msg, "bad ERE") != NULL);
    out_free(&o);
    spec.row_filters = empty;
    KZ_CHECK_INT(run(KZ_ONTO_TABULAR, &spec, &o, &err), KZ_ECONFIG);
    KZ_CHECK(strstr(err.msg, "empty column or expression") != NULL);
    out_free(&o);
}

KZ_TEST(sqlite_xref_columns_and_row_filters) {
    const char *db = make_db();
    /* Column 4 named xref, column 5 xref_omim, column 6 metadata; column 3 is the scope. */
    kz_onto_spec spec = {
        .path = db,
        .id_prefix = "NCBIGene:",
        .query =
            "SELECT g.gene_id AS id, i.symbol AS label, i.gene_name AS synonym, 'name' AS scope,"
            " 'ENSEMBL:ENSG' || g.gene_id AS xref, 'OMIM:10' || g.gene_id AS xref_omim, 'protein' AS type"
            " FROM genes g JOIN gene_info i USING (_id) WHERE g.gene_id < 3"
            " UNION ALL SELECT g.gene_id, NULL, a.alias_symbol, 'alias', NULL, NULL, NULL"
            " FROM genes g JOIN alias a USING (_id) ORDER BY 1"};
    out o;
    kz_error err;
    KZ_CHECK_INT(run(KZ_ONTO_SQLITE, &spec, &o, &err), 0);
    KZ_CHECK(strstr(o.terms, "NCBIGene:1 L=A1BG S=alpha-1-B glycoprotein(name) ") == o.terms);
    KZ_CHECK(strstr(o.terms, " X=ENSEMBL:ENSG1 X=OMIM:101 M=type:protein @") != NULL);
    KZ_CHECK(strstr(o.terms, "M=xref") == NULL);
    out_free(&o);
    /* Column 3 named xref: no scope column. Filters on result column names, before grouping. */
    const char *filters[] = {"synonym !~ ^A1B$", "xref =~ ^(ENSEMBL:ENSG1)?$"};
    spec.query =
        "SELECT g.gene_id AS id, i.symbol AS label, NULL AS synonym, 'ENSEMBL:ENSG' || g.gene_id AS xref"
        " FROM genes g JOIN gene_info i USING (_id) WHERE g.gene_id < 3"
        " UNION ALL SELECT g.gene_id, NULL, a.alias_symbol, NULL FROM genes g JOIN alias a USING (_id)";
    spec.row_filters = filters;
    spec.n_row_filters = 2;
    KZ_CHECK_INT(run(KZ_ONTO_SQLITE, &spec, &o, &err), 0);
    /* Gene 2's xref row fails the second filter: its aliases alone make the term (no label). */
    KZ_CHECK(strstr(o.terms, "NCBIGene:1 L=A1BG X=ENSEMBL:ENSG1 S=") == NULL);
    KZ_CHECK(strstr(o.terms, "NCBIGene:1 L=A1BG S=ABG X=ENSEMBL:ENSG1 @") == o.terms);
    KZ_CHECK(strstr(o.terms, "\nNCBIGene:2 S=A2MD S=CPAMD5 @") != NULL);
    out_free(&o);
    const char *bad[] = {"nosuch =~ x"};
    spec.row_filters = bad;
    spec.n_row_filters = 1;
    KZ_CHECK_INT(run(KZ_ONTO_SQLITE, &spec, &o, &err), KZ_ECONFIG);
    KZ_CHECK(strstr(err.msg, "column 'nosuch' not found") != NULL);
    out_free(&o);
}

KZ_TEST(taxonomy_row_filters) {
    const char *dmp = "1\t|\troot\t|\t\t|\tscientific name\t|\n"
                      "562\t|\tBacillus coli\t|\t\t|\tsynonym\t|\n"
                      "562\t|\tEscherichia coli\t|\t\t|\tscientific name\t|\n"
                      "9606\t|\tHomo sapiens\t|\t\t|\tscientific name\t|\n";
    const char *filters[] = {"name_txt =~ ^[A-Z][a-z]+ [a-z]+$", "name_class =~ scientific"};
    kz_onto_spec spec = {.path = WRITE_STR("rf_names.dmp", dmp), .row_filters = filters, .n_row_filters = 2};
    out o;
    kz_error err;
    KZ_CHECK_INT(run(KZ_ONTO_NCBI_TAXONOMY, &spec, &o, &err), 0);
    KZ_CHECK_STR(o.terms, "NCBITaxon:562 L=Escherichia coli @3\nNCBITaxon:9606 L=Homo sapiens @4\n");
    out_free(&o);
    const char *tsv = "tax_id\tgenus\tspecies\n562\tBacillus\tcoli\n562\tEscherichia\tcoli\n"
                      "1\troot\t\n9606\tHomo\tsapiens\n";
    const char *bfilters[] = {"genus !~ ^Bacillus$", "species =~ ."};
    spec.path = WRITE_STR("rf_binomial.tsv", tsv);
    spec.row_filters = bfilters;
    KZ_CHECK_INT(run(KZ_ONTO_NCBI_TAXONOMY, &spec, &o, &err), 0);
    KZ_CHECK_STR(o.terms, "NCBITaxon:562 L=Escherichia coli @3\nNCBITaxon:9606 L=Homo sapiens @5\n");
    out_free(&o);
}

KZ_TEST(ctd_row_filters) {
    const char *tsv =
        "# Fields:\n# DiseaseName\tDiseaseID\tAltDiseaseIDs\tDefinition\tParentIDs\tTreeNumbers\t"
        "ParentTreeNumbers\tSynonyms\tSlimMappings\n#\n"
        "Diabetes Mellitus\tMESH:D003920\t\t\t\tC18.452|C19.246\t\t\t\n"
        "Rare disease\tOMIM:100100\t\t\t\t\t\t\t\n";
    const char *filters[] = {"DiseaseID =~ ^MESH:"};
    kz_onto_spec spec = {.path = WRITE_STR("rf_ctd.tsv", tsv), .row_filters = filters, .n_row_filters = 1};
    out o;
    kz_error err;
    KZ_CHECK_INT(run(KZ_ONTO_CTD_TSV, &spec, &o, &err), 0);
    KZ_CHECK(strncmp(o.terms, "MESH:D003920 L=Diabetes Mellitus", 32) == 0);
    KZ_CHECK_INT(o.n_terms, 1);
    out_free(&o);
}

KZ_TEST(rda_row_filters) {
    xb b = make_rda();
    const char *meta[] = {"rank"};
    /* Row 2 (9606, genus "Homo" with an NA species) fails the binomial filter. */
    const char *filters[] = {"genus+species =~ ^[A-Z][a-z]+ [a-z]+$", "note !~ ^x$"};
    kz_onto_spec spec = {.path = "fixture.rda",
                         .rda_object = "specData",
                         .id_col = "tax_id",
                         .label_col = "genus+species",
                         .id_prefix = "NCBITaxon:",
                         .meta_cols = meta,
                         .n_meta_cols = 1,
                         .row_filters = filters,
                         .n_row_filters = 2};
    out o;
    kz_error err;
    KZ_CHECK_INT(rda_mem(&b, &spec, &o, &err), 0);
    KZ_CHECK_STR(o.terms,
                 "NCBITaxon:9606 L=Homo sapiens M=rank:1 @1\nNCBITaxon:562 L=Escherichia coli M=rank:3 @3\n");
    out_free(&o);
    free(b.p);
}
