/* Machinery shared by the tabular-family ontology parsers (onto_tabular.c, onto_sqlite.c,
 * onto_hgnc.c, onto_drugbank.c, onto_ctd.c, onto_taxonomy.c, onto_rda.c): a delimited-record
 * reader with RFC-4180 quoting, a term accumulator that applies the spec's filters and emits
 * kz_onto_term records, and a mapping from named columns to term fields. Not public API. */
#ifndef KZ_ONTO_TAB_INT_H
#define KZ_ONTO_TAB_INT_H

#include <regex.h>
#include "core/core_int.h"
#include "io/io_int.h"
#include "kb/kb_int.h"

#define KZ_TAB_MAX_RECORD (4u << 20)  /* bytes of one record; a quoted field may span lines */
#define KZ_TAB_MAX_FIELDS 4096        /* fields of one record */
#define KZ_TERM_MAX_BYTES (64u << 20) /* text held by one term (long-format rows merged) */
#define KZ_TERM_MAX_ITEMS (1u << 20)  /* synonyms + xrefs + ... of one term */

/* ---- delimited-record reader ---------------------------------------------------------------
 * Lines end in \n or \r\n; a UTF-8 BOM at the start is dropped. With quote != 0 a field that
 * starts with the quote character is quoted: it may hold delimiters, doubled quotes (one quote)
 * and newlines (the record then spans lines). Text after a closing quote is kept, as Python's
 * csv module does. Zero-length lines are skipped; so are lines starting with comment (if
 * non-zero) unless return_comments is set. */
typedef struct kz_tab_reader {
    kz_input in;
    char path[256]; /* for messages */
    char delim, quote, comment;
    bool return_comments; /* kz__tab_next returns 2 for a comment line (text in raw) */
    kz_buf raw;           /* the current record's text (lines joined with \n) */
    kz_buf more;          /* continuation line of a quoted field */
    kz_buf cells;         /* unquoted field bytes when the record had quotes */
    size_t *offs;         /* 2 per field: start, length (into raw or cells) */
    kz_str *fields;       /* the current record's fields (valid until the next call) */
    size_t n_fields, cap_fields;
    int64_t line;  /* 1-based line where the current record starts */
    int64_t lines; /* physical lines read so far */
    bool bom_checked, eof;
} kz_tab_reader;

/* Open a file (gzip detected from the bytes) or a memory buffer (borrowed). */
int kz__tab_open(kz_tab_reader *r, const char *path, char delim, char quote, char comment, kz_error *err);
int kz__tab_open_mem(kz_tab_reader *r, const void *data, size_t len, const char *name, char delim, char quote,
                     char comment, kz_error *err);
void kz__tab_close(kz_tab_reader *r);
/* Peek at up to n bytes of the start of the stream (before the first read). */
size_t kz__tab_peek(kz_tab_reader *r, void *buf, size_t n);
/* Skip one physical line. 1 skipped, 0 EOF, <0 I/O error (err located). */
int kz__tab_skip_line(kz_tab_reader *r, kz_error *err);
/* Next record split into r->fields. 1: a record; 2: a comment line (return_comments); 0: end of
 * input; KZ_EPARSE / KZ_ELIMIT: this record is malformed (unterminated quote, too long, too many
 * fields): err has the reason and line, the caller warns and calls again; any other <0 is fatal
 * (I/O, truncated gzip, out of memory), err located. */
int kz__tab_next(kz_tab_reader *r, kz_error *err);
/* True for the codes kz__tab_next returns for a skippable record. */
static inline bool kz__tab_record_error(int rc) {
    return rc == KZ_EPARSE || rc == KZ_ELIMIT || rc == KZ_EUTF8;
}

/* ---- sink: term accumulation, filters, emission --------------------------------------------- */
enum {
    KZ_TI_ID,
    KZ_TI_LABEL,
    KZ_TI_NS,
    KZ_TI_SYN,
    KZ_TI_XREF,
    KZ_TI_ALT,
    KZ_TI_PARENT,
    KZ_TI_META /* scope = key */
};

typedef struct kz_term_item {
    uint32_t kind;
    size_t off, len;   /* text in pool */
    size_t soff, slen; /* scope/key in pool; soff == SIZE_MAX: none */
} kz_term_item;

typedef struct kz_onto_sink {
    const kz_onto_spec *spec;
    kz_onto_emit_fn emit;
    kz_onto_warn_fn warn;
    void *user;
    char path[256];
    const char *id_prefix; /* spec->id_prefix, or the format's default */
    regex_t re;
    bool have_re;
    uint64_t n_warnings, n_emitted, n_rows;
    uint64_t n_filtered; /* rows dropped by row_filters */
    /* the term being built */
    bool open, obsolete;
    int64_t line;
    kz_buf pool;
    kz_term_item *items;
    size_t n_items, cap_items;
    size_t id_item, label_item; /* SIZE_MAX: none yet */
    bool overflow;              /* a cap was hit: the term is dropped with a warning */
    kz_buf scratch;             /* joined column values */
    /* emission scratch */
    kz_onto_syn *syns;
    kz_str *strs;
    kz_onto_kv *kvs;
    size_t cap_syns, cap_strs, cap_kvs;
    uint32_t *hset; /* dedup set of item indices + 1 */
    size_t cap_hset, hmask;
} kz_onto_sink;

/* default_prefix is used when spec->id_prefix is NULL (NULL: none). The id_prefix is not added
 * to an id that already starts with it. A bad id_regex is KZ_ECONFIG. */
int kz__sink_init(kz_onto_sink *s, const kz_onto_spec *spec, const char *default_prefix, kz_onto_emit_fn emit,
                  kz_onto_warn_fn warn, void *user, kz_error *err);
void kz__sink_free(kz_onto_sink *s);
/* Count a warning and pass it (path, line, reason) to spec's warn callback. */
void kz__sink_warn(kz_onto_sink *s, int64_t line, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Set err (path, line, message) and return code. */
int kz__sink_fail(const kz_onto_sink *s, kz_error *err, int64_t line, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Finish: set *n_warnings (may be NULL) and return rc. */
int kz__sink_done(kz_onto_sink *s, int rc, uint64_t *n_warnings);

/* Start a term (discarding an unfinished one). */
void kz__term_begin(kz_onto_sink *s, int64_t line);
/* Set the id (prefix added). */
int kz__term_set_id(kz_onto_sink *s, const char *p, size_t n);
/* The current term's id (with prefix) or KZ_STR_NULL; valid until the next kz__term_* call. */
kz_str kz__term_id(const kz_onto_sink *s);
/* True if a term is open and its id equals the raw id p (after the prefix rule). */
bool kz__term_id_is(const kz_onto_sink *s, const char *p, size_t n);
/* Add one value (trimmed of spaces; empty values are ignored). A second, different label
 * becomes a synonym with the given scope. scope (may be NULL) is the synonym scope or the
 * meta key. prefix (may be NULL) is prepended to xref/alt/parent values. */
int kz__term_add(kz_onto_sink *s, int kind, const char *p, size_t n, const char *scope, size_t scope_len,
                 const char *prefix);
/* Add each item of a list split by sep (NULL or "": one value). */
int kz__term_add_list(kz_onto_sink *s, int kind, const char *p, size_t n, const char *sep, const char *scope,
                      size_t scope_len, const char *prefix);
static inline void kz__term_set_obsolete(kz_onto_sink *s, bool o) { s->obsolete = o; }
/* Apply the filters and emit the term (if open). 0, or the emit callback's negative code (err set). */
int kz__term_end(kz_onto_sink *s, kz_error *err);

/* Trim ASCII spaces and tabs at both ends. */
kz_str kz__tab_trim(const char *p, size_t n);

/* ---- column mapping -------------------------------------------------------------------------
 * A column reference names a header column; besides a plain name (exact match first) it may be
 *   "a+b"         the non-empty values of columns a and b joined with one space ("genus+species"),
 *   "PFX:name"    for xref/alt/parent columns: "PFX:" prepended to every value ("ENSEMBL:ensembl_ids"),
 *   "name@col"    for synonym columns: the scope is taken from column col of the same row. */
typedef enum kz_col_role {
    KZ_COL_ID,
    KZ_COL_LABEL,
    KZ_COL_SYN,
    KZ_COL_XREF,
    KZ_COL_ALT,
    KZ_COL_PARENT,
    KZ_COL_NS,
    KZ_COL_META,
    KZ_COL_STATUS /* "withdrawn" / "obsolete" (any case) marks the term obsolete */
} kz_col_role;

#define KZ_TAB_MAX_JOIN 4
typedef struct kz_tab_col {
    kz_col_role role;
    int idx[KZ_TAB_MAX_JOIN];
    int n_idx;
    int scope_idx;     /* -1: fixed scope */
    char scope[128];   /* synonym scope / meta key */
    char prefix[64];   /* prepended to xref/alt/parent values */
    char list_sep[16]; /* "" = one value */
} kz_tab_col;

/* One compiled row filter ("COLREF =~ ERE" / "COLREF !~ ERE"). */
typedef struct kz_tab_filter {
    int idx[KZ_TAB_MAX_JOIN];
    int n_idx;
    bool negate; /* "!~": the row is kept when the value does NOT match */
    regex_t re;
} kz_tab_filter;

typedef struct kz_tab_map {
    kz_tab_col *cols;
    size_t n_cols, cap_cols;
    size_t n_fields;        /* fields every row must have */
    char **names;           /* header copy, for messages and lookups */
    bool merge;             /* merge consecutive rows of one id (default true) */
    kz_tab_filter *filters; /* the spec's row_filters, compiled */
    size_t n_filters;
} kz_tab_map;

/* Copy the header (n names). */
int kz__tab_map_init(kz_tab_map *m, const kz_str *header, size_t n);
void kz__tab_map_free(kz_tab_map *m);
/* Read the header record and copy it into m (zeroed by the caller). Errors: "no header line"
 * (KZ_EFORMAT), "bad header: ..." (KZ_EFORMAT), I/O errors as read, KZ_ENOMEM; err names the line.
 * The caller frees m with kz__tab_map_free in every case. */
int kz__tab_read_header(kz_tab_reader *r, const kz_onto_sink *s, kz_tab_map *m, kz_error *err);
/* Index of a header name, or -1. */
int kz__tab_map_find(const kz_tab_map *m, const char *name);
/* Add a column by reference. scope NULL: the column's own name. list_sep NULL: one value.
 * A missing column is KZ_ECONFIG with err naming it and listing the header when required,
 * else KZ_ENOTFOUND with err untouched. */
int kz__tab_map_add(kz_tab_map *m, kz_col_role role, const char *ref, const char *list_sep, const char *scope,
                    bool required, const kz_onto_sink *s, kz_error *err);
/* Add the spec's id_col/label_col/syn_cols/xref_cols/meta_cols (id_col NULL: first column). */
int kz__tab_map_add_spec(kz_tab_map *m, const kz_onto_spec *spec, const kz_onto_sink *s, kz_error *err);
/* Add only the spec's syn_cols/xref_cols/meta_cols and row_filters (the fixed-layout formats add
 * these on top of their own columns). list_sep NULL: spec->list_sep. */
int kz__tab_map_add_extras(kz_tab_map *m, const kz_onto_spec *spec, const char *list_sep,
                           const kz_onto_sink *s, kz_error *err);
/* Compile the spec's row_filters against the header: a malformed filter (no "=~"/"!~", empty
 * column or ERE, bad ERE) or an unknown column is KZ_ECONFIG with err naming it. Called by
 * kz__tab_map_add_extras; callers that map no columns (sqlite, names.dmp) call it directly. */
int kz__tab_map_add_filters(kz_tab_map *m, const kz_onto_spec *spec, const kz_onto_sink *s, kz_error *err);
/* True if the row (n == m->n_fields cells; a NULL ptr cell is "") passes every row filter. */
bool kz__tab_map_keep_row(const kz_tab_map *m, kz_onto_sink *s, const kz_str *cells);
/* Split a line by delim into at most cap views (for a header kept in a comment); returns the count. */
size_t kz__tab_split(const char *p, size_t n, char delim, kz_str *out, size_t cap);
/* Feed one row: checks the field count and UTF-8 (warning + skip), drops it if a row filter fails
 * (counted in s->n_filtered), merges it into the current term
 * when the id repeats on consecutive rows, else emits the previous term and starts a new one.
 * 0, or a fatal error (emit abort, out of memory). */
int kz__tab_map_row(const kz_tab_map *m, kz_onto_sink *s, const kz_str *cells, size_t n, int64_t line,
                    kz_error *err);

/* Drive a reader through a map until EOF: record errors become warnings; a row whose field count
 * differs from the header goes through fix (may be NULL) first, which may rewrite r->fields /
 * r->n_fields and returns true if the row is now usable. The last term is emitted. */
typedef bool (*kz_tab_fix_fn)(kz_tab_reader *r, const kz_tab_map *m, void *ctx);
int kz__tab_run(kz_tab_reader *r, const kz_tab_map *m, kz_onto_sink *s, kz_tab_fix_fn fix, void *ctx,
                kz_error *err);

/* The reader-driven parsers, over an opened reader (file or memory: unit tests and fuzz targets).
 * Same contract as the kz__onto_parse_* functions; the caller closes the reader. */
typedef int (*kz_tab_run_fn)(kz_tab_reader *r, const kz_onto_spec *spec, kz_onto_emit_fn emit,
                             kz_onto_warn_fn warn, void *user, uint64_t *n_warnings, kz_error *err);
int kz__tabular_run(kz_tab_reader *r, const kz_onto_spec *, kz_onto_emit_fn, kz_onto_warn_fn, void *,
                    uint64_t *, kz_error *);
int kz__ctd_run(kz_tab_reader *r, const kz_onto_spec *, kz_onto_emit_fn, kz_onto_warn_fn, void *, uint64_t *,
                kz_error *);
int kz__drugbank_run(kz_tab_reader *r, const kz_onto_spec *, kz_onto_emit_fn, kz_onto_warn_fn, void *,
                     uint64_t *, kz_error *);
int kz__hgnc_tsv_run(kz_tab_reader *r, const kz_onto_spec *, kz_onto_emit_fn, kz_onto_warn_fn, void *,
                     uint64_t *, kz_error *);
int kz__taxonomy_run(kz_tab_reader *r, const kz_onto_spec *, kz_onto_emit_fn, kz_onto_warn_fn, void *,
                     uint64_t *, kz_error *);
/* Open memory as a reader with the options a format's kz__onto_parse_* would use, and run it. */
int kz__onto_parse_tab_mem(kz_onto_format f, const char *data, size_t len, const kz_onto_spec *spec,
                           kz_onto_emit_fn emit, kz_onto_warn_fn warn, void *user, uint64_t *n_warnings,
                           kz_error *err);
/* HGNC complete-set JSON from memory. */
int kz__onto_parse_hgnc_json_mem(const char *data, size_t len, const kz_onto_spec *spec, kz_onto_emit_fn emit,
                                 kz_onto_warn_fn warn, void *user, uint64_t *n_warnings, kz_error *err);

/* Generic tabular parser over memory (fuzz target). */
int kz__onto_parse_tabular_mem(const char *data, size_t len, const kz_onto_spec *spec, kz_onto_emit_fn emit,
                               kz_onto_warn_fn warn, void *user, uint64_t *n_warnings, kz_error *err);

/* ---- R serialization (onto_rda.c) -------------------------------------------------------------
 * Parse an .rda/.rds image from memory (gzip/bzip2/xz/none detected by magic). max_raw caps the
 * decompressed size (0: 1 GiB). Same contract as kz__onto_parse_rda otherwise. */
int kz__onto_parse_rda_mem(const void *data, size_t len, size_t max_raw, const kz_onto_spec *spec,
                           kz_onto_emit_fn emit, kz_onto_warn_fn warn, void *user, uint64_t *n_warnings,
                           kz_error *err);

#endif
