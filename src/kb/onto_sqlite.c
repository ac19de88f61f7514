/* SQLite ontology source (format "sqlite"): the database is opened read-only and immutable, the
 * spec's query returns rows (id, label, synonym[, scope[, xref/meta...]]), grouped by id in a hash
 * map (ids need not be ordered) and emitted in order of first appearance. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sqlite3.h>
#include "kb/onto_tab_int.h"

#define SQL_MAX_ROWS  (200u << 20)    /* rows of one query */
#define SQL_MAX_BYTES (2048ull << 20) /* text held while grouping */

/* One stored value: text in the arena. */
typedef struct sql_val {
    kz_str text, scope;
    int kind;             /* KZ_TI_LABEL / KZ_TI_SYN / KZ_TI_META */
    struct sql_val *next; /* next value of the same id */
} sql_val;

typedef struct sql_group {
    kz_str id;
    sql_val *first, *last;
    int64_t row; /* 1-based row number of its first row */
} sql_group;

typedef struct sql_state {
    kz_arena *arena;
    sql_group **groups; /* in first-appearance order */
    size_t n_groups, cap_groups;
    uint32_t *table; /* open addressing: group index + 1 */
    size_t cap_table;
    uint64_t bytes;
} sql_state;

static uint64_t hash_str(const char *p, size_t n) {
    uint64_t h = 14695981039346656037ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

static int rehash(sql_state *st) {
    size_t nc = st->cap_table ? st->cap_table * 2 : 1024;
    uint32_t *t = calloc(nc, sizeof *t);
    if (!t) return KZ_ENOMEM;
    for (size_t g = 0; g < st->n_groups; g++) {
        size_t j = (size_t)hash_str(st->groups[g]->id.ptr, st->groups[g]->id.len) & (nc - 1);
        while (t[j]) j = (j + 1) & (nc - 1);
        t[j] = (uint32_t)(g + 1);
    }
    free(st->table);
    st->table = t;
    st->cap_table = nc;
    return 0;
}

static int find_group(sql_state *st, const char *p, size_t n, int64_t row, sql_group **out) {
    if (st->n_groups * 2 >= st->cap_table && rehash(st)) return KZ_ENOMEM;
    size_t mask = st->cap_table - 1;
    size_t j = (size_t)hash_str(p, n) & mask;
    for (; st->table[j]; j = (j + 1) & mask) {
        sql_group *g = st->groups[st->table[j] - 1];
        if (g->id.len == n && memcmp(g->id.ptr, p, n) == 0) {
            *out = g;
            return 0;
        }
    }
    if (st->n_groups >= UINT32_MAX - 1) return KZ_ELIMIT;
    if (st->n_groups == st->cap_groups) {
        size_t nc = st->cap_groups ? st->cap_groups * 2 : 1024;
        sql_group **ng = realloc(st->groups, nc * sizeof *ng);
        if (!ng) return KZ_ENOMEM;
        st->groups = ng;
        st->cap_groups = nc;
    }
    sql_group *g = kz_arena_calloc(st->arena, 1, sizeof *g);
    if (!g) return KZ_ENOMEM;
    g->id = kz_arena_strdup(st->arena, p, n);
    if (!g->id.ptr) return KZ_ENOMEM;
    g->row = row;
    st->groups[st->n_groups++] = g;
    st->table[j] = (uint32_t)st->n_groups;
    *out = g;
    return 0;
}

static int add_val(sql_state *st, sql_group *g, int kind, const char *t, size_t n, const char *sc,
                   size_t sn) {
    kz_str tt = kz__tab_trim(t, n);
    if (!tt.len) return 0;
    st->bytes += tt.len + sn + sizeof(sql_val);
    if (st->bytes > SQL_MAX_BYTES) return KZ_ELIMIT;
    sql_val *v = kz_arena_alloc(st->arena, sizeof *v);
    if (!v) return KZ_ENOMEM;
    v->text = kz_arena_strdup(st->arena, tt.ptr, tt.len);
    v->scope = sc ? kz_arena_strdup(st->arena, sc, sn) : KZ_STR_NULL;
    if (!v->text.ptr || (sc && !v->scope.ptr)) return KZ_ENOMEM;
    v->kind = kind;
    v->next = NULL;
    if (g->last)
        g->last->next = v;
    else
        g->first = v;
    g->last = v;
    return 0;
}

/* A result column named "xref" or "xref_<anything>" holds xrefs (any case). */
static bool is_xref_name(const char *name) {
    return name && strncasecmp(name, "xref", 4) == 0 && (name[4] == 0 || name[4] == '_');
}

/* Build "file:<path>?immutable=1" with the path percent-escaped (%, ?, #, spaces, controls). */
static int make_uri(const char *path, kz_buf *b) {
    int rc = kz__buf_puts(b, "file:");
    for (const char *p = path; !rc && *p; p++) {
        unsigned char c = (unsigned char)*p;
        bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c >= 0x80 || strchr("/-._~!$&'()*+,;=:@", c);
        if (!plain)
            rc = kz__buf_printf(b, "%%%02X", c);
        else
            rc = kz__buf_putc(b, (char)c);
    }
    if (!rc) rc = kz__buf_puts(b, "?immutable=1");
    return rc;
}

static const char *col_text(sqlite3_stmt *q, int i, size_t *n) {
    if (sqlite3_column_type(q, i) == SQLITE_NULL) return NULL;
    const char *t = (const char *)sqlite3_column_text(q, i);
    *n = (size_t)sqlite3_column_bytes(q, i);
    return t;
}

int kz__onto_parse_sqlite(const kz_onto_spec *spec, kz_onto_emit_fn emit, kz_onto_warn_fn warn, void *user,
                          uint64_t *n_warnings, kz_error *err) {
    if (n_warnings) *n_warnings = 0;
    kz_onto_sink s;
    int rc = kz__sink_init(&s, spec, NULL, emit, warn, user, err);
    if (rc) return kz__sink_done(&s, rc, n_warnings);
    if (!spec->query || !*spec->query)
        return kz__sink_done(&s, kz__sink_fail(&s, err, 0, KZ_ECONFIG, "format sqlite needs a query"),
                             n_warnings);

    /* Refuse anything that is not an SQLite database before sqlite3 sees it. */
    FILE *f = fopen(spec->path, "rb");
    if (!f)
        return kz__sink_done(&s, kz__sink_fail(&s, err, 0, KZ_EIO, "cannot open: %s", strerror(errno)),
                             n_warnings);
    char magic[16] = {0};
    size_t got = fread(magic, 1, sizeof magic, f);
    fclose(f);
    if (got != sizeof magic || memcmp(magic, "SQLite format 3", 16) != 0)
        return kz__sink_done(&s, kz__sink_fail(&s, err, 0, KZ_EFORMAT, "not an SQLite 3 database"),
                             n_warnings);

    sql_state st = {0};
    int *kinds = NULL;
    kz_str *cells = NULL, *names = NULL;
    kz_tab_map fm;
    memset(&fm, 0, sizeof fm);
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    kz_buf uri;
    kz__buf_init(&uri, 8192);
    st.arena = kz_arena_new(1 << 20);
    if (!st.arena || make_uri(spec->path, &uri)) {
        rc = kz__sink_fail(&s, err, 0, KZ_ENOMEM, "out of memory");
        goto done;
    }
    int src = sqlite3_open_v2(uri.data, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
    if (src != SQLITE_OK) {
        rc = kz__sink_fail(&s, err, 0, KZ_EIO, "cannot open database: %s",
                           db ? sqlite3_errmsg(db) : sqlite3_errstr(src));
        goto done;
    }
    src = sqlite3_prepare_v2(db, spec->query, -1, &q, NULL);
    if (src != SQLITE_OK) {
        rc = kz__sink_fail(&s, err, 0, src == SQLITE_NOTADB ? KZ_EFORMAT : KZ_ECONFIG,
                           "query \"%.200s\" failed: %s", spec->query, sqlite3_errmsg(db));
        goto done;
    }
    if (!q) {
        rc = kz__sink_fail(&s, err, 0, KZ_ECONFIG, "query \"%.200s\" is empty", spec->query);
        goto done;
    }
    int ncol = sqlite3_column_count(q);
    if (ncol < 3) {
        rc =
            kz__sink_fail(&s, err, 0, KZ_ECONFIG,
                          "query \"%.200s\" returns %d columns; needs (id, label, synonym[, scope, meta...])",
                          spec->query, ncol);
        goto done;
    }
    /* Columns 3.. are the scope (column 3, unless named xref*), then xrefs (named xref*) or
     * metadata named by the column. */
    kinds = calloc((size_t)ncol, sizeof *kinds);
    cells = calloc((size_t)ncol, sizeof *cells);
    names = calloc((size_t)ncol, sizeof *names);
    if (!kinds || !cells || !names) {
        rc = kz__sink_fail(&s, err, 0, KZ_ENOMEM, "out of memory");
        goto done;
    }
    for (int c = 0; c < ncol; c++) {
        const char *name = sqlite3_column_name(q, c); /* valid only until the next step: copied */
        names[c] = kz_arena_strdup(st.arena, name ? name : "", name ? strlen(name) : 0);
        if (!names[c].ptr) {
            rc = kz__sink_fail(&s, err, 0, KZ_ENOMEM, "out of memory");
            goto done;
        }
        kinds[c] = c < 3 ? -1 : is_xref_name(name) ? KZ_TI_XREF : c == 3 ? KZ_TI_SYN : KZ_TI_META;
    }
    const bool has_scope = ncol > 3 && kinds[3] == KZ_TI_SYN;
    if (spec->n_row_filters) {
        if ((rc = kz__tab_map_init(&fm, names, (size_t)ncol))) {
            rc = kz__sink_fail(&s, err, 0, rc, "out of memory");
            goto done;
        }
        if ((rc = kz__tab_map_add_filters(&fm, spec, &s, err))) goto done;
    }
    int64_t row = 0;
    while ((src = sqlite3_step(q)) == SQLITE_ROW) {
        if (++row > (int64_t)SQL_MAX_ROWS) {
            rc = kz__sink_fail(&s, err, 0, KZ_ELIMIT, "query \"%.200s\" returns more than %u rows",
                               spec->query, SQL_MAX_ROWS);
            goto done;
        }
        size_t nid = 0, nl = 0, nsy = 0, nsc = 0;
        const char *id = col_text(q, 0, &nid);
        if (!id || !kz__tab_trim(id, nid).len) {
            kz__sink_warn(&s, row, KZ_EPARSE, "row %lld: NULL or empty id; skipped", (long long)row);
            continue;
        }
        kz_str tid = kz__tab_trim(id, nid);
        const char *label = col_text(q, 1, &nl), *syn = col_text(q, 2, &nsy);
        const char *scope = has_scope ? col_text(q, 3, &nsc) : NULL;
        bool ok = kz_utf8_valid(tid.ptr, tid.len, NULL) && (!label || kz_utf8_valid(label, nl, NULL)) &&
                  (!syn || kz_utf8_valid(syn, nsy, NULL)) && (!scope || kz_utf8_valid(scope, nsc, NULL));
        for (int c = 3; ok && c < ncol; c++) {
            size_t n = 0;
            const char *t = col_text(q, c, &n);
            ok = !t || kz_utf8_valid(t, n, NULL);
        }
        if (!ok) {
            kz__sink_warn(&s, row, KZ_EUTF8, "row %lld (id %.*s): invalid UTF-8; skipped", (long long)row,
                          (int)KZ_MIN(tid.len, 80), tid.ptr);
            continue;
        }
        if (fm.n_filters) {
            for (int c = 0; c < ncol; c++) {
                size_t n = 0;
                const char *t = col_text(q, c, &n);
                cells[c] = t ? (kz_str){t, n} : (kz_str){"", 0};
            }
            if (!kz__tab_map_keep_row(&fm, &s, cells)) continue;
        }
        sql_group *g;
        if ((rc = find_group(&st, tid.ptr, tid.len, row, &g))) break;
        if (label && (rc = add_val(&st, g, KZ_TI_LABEL, label, nl, "label", 5))) break;
        if (syn && (rc = add_val(&st, g, KZ_TI_SYN, syn, nsy, scope, scope ? nsc : 0))) break;
        for (int c = has_scope ? 4 : 3; !rc && c < ncol; c++) {
            size_t n = 0;
            const char *t = col_text(q, c, &n);
            if (!t) continue;
            if (kinds[c] == KZ_TI_XREF)
                rc = add_val(&st, g, KZ_TI_XREF, t, n, NULL, 0);
            else
                rc = add_val(&st, g, KZ_TI_META, t, n, names[c].len ? names[c].ptr : "meta",
                             names[c].len ? names[c].len : 4);
        }
        if (rc) break;
    }
    if (rc) {
        rc = kz__sink_fail(&s, err, row, rc,
                           rc == KZ_ELIMIT ? "query result larger than the caps" : "out of memory");
        goto done;
    }
    if (src != SQLITE_DONE) {
        rc = kz__sink_fail(&s, err, 0, src == SQLITE_NOTADB ? KZ_EFORMAT : KZ_EIO,
                           "query \"%.200s\" failed: %s", spec->query, sqlite3_errmsg(db));
        goto done;
    }
    for (size_t i = 0; !rc && i < st.n_groups; i++) {
        sql_group *g = st.groups[i];
        kz__term_begin(&s, g->row);
        rc = kz__term_set_id(&s, g->id.ptr, g->id.len);
        for (sql_val *v = g->first; !rc && v; v = v->next)
            rc = kz__term_add(&s, v->kind, v->text.ptr, v->text.len, v->scope.ptr, v->scope.len, NULL);
        if (rc)
            rc = kz__sink_fail(&s, err, g->row, rc, "out of memory");
        else
            rc = kz__term_end(&s, err);
    }
done:
    kz__tab_map_free(&fm);
    free(kinds);
    free(cells);
    free(names);
    sqlite3_finalize(q);
    sqlite3_close_v2(db);
    kz__buf_free(&uri);
    free(st.groups);
    free(st.table);
    kz_arena_free(st.arena);
    return kz__sink_done(&s, rc, n_warnings);
}
