/* A data.frame inside an R .rda/.rds file (format "rda-table"), read natively: gzip/bzip2/xz
 * detected by magic, R's XDR serialization (versions 2 and 3) decoded into a small object tree,
 * then the frame's columns go through the tabular column map like a TSV. */
#include <bzlib.h>
#include <errno.h>
#include <lzma.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <zlib.h>
#include "kb/onto_tab_int.h"

#define RDA_MAX_FILE    (1024ull << 20) /* compressed file */
#define RDA_MAX_RAW     (1024ull << 20) /* decompressed serialization (default) */
#define RDA_MAX_DEPTH   128
#define RDA_MAX_REFS    (1u << 22)
#define RDA_MAX_COLUMNS 4096

/* SEXP types and serialization pseudo-types (R's serialize.c). */
enum {
    R_NILSXP = 0,
    R_SYMSXP = 1,
    R_LISTSXP = 2,
    R_CLOSXP = 3,
    R_ENVSXP = 4,
    R_PROMSXP = 5,
    R_LANGSXP = 6,
    R_SPECIALSXP = 7,
    R_BUILTINSXP = 8,
    R_CHARSXP = 9,
    R_LGLSXP = 10,
    R_INTSXP = 13,
    R_REALSXP = 14,
    R_CPLXSXP = 15,
    R_STRSXP = 16,
    R_DOTSXP = 17,
    R_VECSXP = 19,
    R_EXPRSXP = 20,
    R_BCODESXP = 21,
    R_EXTPTRSXP = 22,
    R_WEAKREFSXP = 23,
    R_RAWSXP = 24,
    R_S4SXP = 25,
    R_ALTREP_SXP = 238,
    R_ATTRLISTSXP = 239,
    R_ATTRLANGSXP = 240,
    R_BASEENV_SXP = 241,
    R_EMPTYENV_SXP = 242,
    R_BCREPREF = 243,
    R_BCREPDEF = 244,
    R_GENERICREFSXP = 245,
    R_CLASSREFSXP = 246,
    R_PERSISTSXP = 247,
    R_PACKAGESXP = 248,
    R_NAMESPACESXP = 249,
    R_BASENAMESPACE_SXP = 250,
    R_MISSINGARG_SXP = 251,
    R_UNBOUNDVALUE_SXP = 252,
    R_GLOBALENV_SXP = 253,
    R_NILVALUE_SXP = 254,
    R_REFSXP = 255
};
#define R_NA_INTEGER INT32_MIN

typedef struct robj robj;
struct robj {
    int type;
    int64_t len;
    const unsigned char *data; /* LGL/INT/REAL: big-endian values in the buffer */
    kz_str *strs;              /* STRSXP elements (ptr NULL = NA) */
    robj **elts;               /* VECSXP / EXPRSXP elements */
    robj *attr, *tag, *car, *cdr;
    kz_str name; /* SYMSXP name */
    bool seq;    /* compact ALTREP sequence: start + i * step */
    double seq_start, seq_step;
};

static robj r_nil = {.type = R_NILSXP, .attr = &r_nil, .tag = &r_nil, .car = &r_nil, .cdr = &r_nil};
/* global/base/empty environments and the other singletons */
static robj r_env = {.type = R_ENVSXP, .attr = &r_nil, .tag = &r_nil, .car = &r_nil, .cdr = &r_nil};

typedef struct rd {
    const unsigned char *p;
    size_t n, pos;
    kz_arena *arena;
    robj **refs;
    size_t n_refs, cap_refs;
    int depth;
    bool native_latin1;
    kz_error *err;
    const kz_onto_sink *s;
} rd;

static int rfail(rd *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int rfail(rd *r, int code, const char *fmt, ...) {
    if (r->err && r->err->code == 0) {
        char m[400];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m, sizeof m, fmt, ap);
        va_end(ap);
        kz__sink_fail(r->s, r->err, 0, code, "R serialization, byte %zu: %s", r->pos, m);
    }
    return code;
}

static int rd_int(rd *r, int32_t *v) {
    *v = 0;
    if (r->n - r->pos < 4) return rfail(r, KZ_EFORMAT, "truncated");
    const unsigned char *b = r->p + r->pos;
    *v = (int32_t)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]);
    r->pos += 4;
    return 0;
}

static int32_t be32(const unsigned char *b) {
    return (int32_t)((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]);
}

static double be_double(const unsigned char *b) {
    uint64_t u = 0;
    for (int i = 0; i < 8; i++) u = u << 8 | b[i];
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

/* Vector length (-1 = long length in two more ints), capped by the bytes left: each element takes
 * at least min_bytes. */
static int rd_length(rd *r, size_t min_bytes, int64_t *out) {
    int32_t len;
    int rc = rd_int(r, &len);
    if (rc) return rc;
    int64_t n = len;
    if (len == -1) {
        int32_t hi, lo;
        if ((rc = rd_int(r, &hi)) || (rc = rd_int(r, &lo))) return rc;
        n = (int64_t)(((uint64_t)(uint32_t)hi << 32) | (uint32_t)lo);
    }
    if (n < 0) return rfail(r, KZ_EFORMAT, "negative length %lld", (long long)n);
    if (min_bytes && (uint64_t)n > (r->n - r->pos) / min_bytes)
        return rfail(r, KZ_EFORMAT, "length %lld exceeds the %zu bytes left", (long long)n, r->n - r->pos);
    *out = n;
    return 0;
}

static robj *new_obj(rd *r, int type) {
    robj *o = kz_arena_calloc(r->arena, 1, sizeof *o);
    if (!o) {
        rfail(r, KZ_ENOMEM, "out of memory");
        return NULL;
    }
    o->type = type;
    o->attr = o->tag = o->car = o->cdr = &r_nil;
    return o;
}

static int add_ref(rd *r, robj *o) {
    if (r->n_refs == r->cap_refs) {
        if (r->cap_refs >= RDA_MAX_REFS) return rfail(r, KZ_ELIMIT, "more than %u references", RDA_MAX_REFS);
        size_t nc = r->cap_refs ? r->cap_refs * 2 : 256;
        robj **nr = realloc(r->refs, nc * sizeof *nr);
        if (!nr) return rfail(r, KZ_ENOMEM, "out of memory");
        r->refs = nr;
        r->cap_refs = nc;
    }
    r->refs[r->n_refs++] = o;
    return 0;
}

/* Latin-1 bytes to UTF-8 in the arena. */
static kz_str latin1_to_utf8(rd *r, const unsigned char *p, size_t n) {
    char *out = kz_arena_alloc(r->arena, 2 * n + 1);
    if (!out) return KZ_STR_NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x80) {
            out[k++] = (char)p[i];
        } else {
            out[k++] = (char)(0xC0 | (p[i] >> 6));
            out[k++] = (char)(0x80 | (p[i] & 0x3F));
        }
    }
    out[k] = 0;
    return (kz_str){out, k};
}

/* The body of a CHARSXP (after its flags): length and bytes; -1 is NA (ptr NULL). */
static int rd_charsxp(rd *r, int32_t flags, kz_str *out) {
    int32_t len;
    int rc = rd_int(r, &len);
    if (rc) return rc;
    if (len == -1) {
        *out = KZ_STR_NULL;
        return 0;
    }
    if (len < 0 || (size_t)len > r->n - r->pos)
        return rfail(r, KZ_EFORMAT, "string length %d out of range", len);
    const unsigned char *p = r->p + r->pos;
    r->pos += (size_t)len;
    int levs = flags >> 12;
    bool latin1 = (levs & 4) || (r->native_latin1 && !(levs & (8 | 64 | 2)));
    bool ascii = true;
    for (int32_t i = 0; i < len && ascii; i++) ascii = p[i] < 0x80;
    if (latin1 && !ascii) {
        *out = latin1_to_utf8(r, p, (size_t)len);
        if (!out->ptr) return rfail(r, KZ_ENOMEM, "out of memory");
    } else {
        *out = (kz_str){len ? (const char *)p : "", (size_t)len};
    }
    return 0;
}

static int read_item(rd *r, robj **out);

static bool is_pairlist_type(int t) {
    return t == R_LISTSXP || t == R_LANGSXP || t == R_CLOSXP || t == R_PROMSXP || t == R_DOTSXP;
}

/* A pairlist chain, read iteratively along CDR so long lists do not recurse. */
static int read_pairlist(rd *r, int32_t flags, robj **out) {
    robj *head = NULL, **link = &head;
    int rc;
    for (;;) {
        robj *node = new_obj(r, flags & 0xFF);
        if (!node) return KZ_ENOMEM;
        if ((flags & 0x200) && (rc = read_item(r, &node->attr))) return rc;
        if ((flags & 0x400) && (rc = read_item(r, &node->tag))) return rc;
        if ((rc = read_item(r, &node->car))) return rc;
        *link = node;
        link = &node->cdr;
        if (r->n - r->pos < 4) return rfail(r, KZ_EFORMAT, "truncated pairlist");
        int32_t next = be32(r->p + r->pos);
        if (!is_pairlist_type(next & 0xFF)) break;
        r->pos += 4;
        flags = next;
    }
    if ((rc = read_item(r, link))) return rc;
    *out = head;
    return 0;
}

static int read_string_vec(rd *r) {
    int32_t zero;
    int64_t len;
    int rc;
    if ((rc = rd_int(r, &zero))) return rc;
    if (zero != 0) return rfail(r, KZ_EFORMAT, "bad string vector");
    if ((rc = rd_length(r, 8, &len))) return rc;
    for (int64_t i = 0; i < len; i++) {
        robj *o;
        if ((rc = read_item(r, &o))) return rc;
    }
    return 0;
}

/* Format an R double as R's as.character would for the common cases. */
static int fmt_double(double v, char *buf, size_t cap) {
    if (v == floor(v) && fabs(v) < 1e15) return snprintf(buf, cap, "%.0f", v);
    return snprintf(buf, cap, "%.15g", v);
}

/* ALTREP: rebuild the object from its class and serialized state. */
static int altrep(rd *r, robj *info, robj *state, robj *attr, robj **out) {
    if (info->type != R_LISTSXP || info->car->type != R_SYMSXP || !info->car->name.ptr)
        return rfail(r, KZ_EFORMAT, "bad ALTREP class information");
    kz_str cls = info->car->name;
    robj *o = NULL;
    if (kz_str_eq_c(cls, "compact_intseq") || kz_str_eq_c(cls, "compact_realseq")) {
        if (state->type != R_REALSXP || state->len != 3 || state->seq)
            return rfail(r, KZ_EFORMAT, "bad compact sequence state");
        double n = be_double(state->data), start = be_double(state->data + 8),
               step = be_double(state->data + 16);
        /* Not bounded by the bytes it takes: cap it by the image size. */
        if (!(n >= 0 && n <= (double)r->n + 1024) || !isfinite(start) || !isfinite(step))
            return rfail(r, KZ_EFORMAT, "bad compact sequence (n %g)", n);
        if (!(o = new_obj(r, kz_str_eq_c(cls, "compact_intseq") ? R_INTSXP : R_REALSXP))) return KZ_ENOMEM;
        o->len = (int64_t)n;
        o->seq = true;
        o->seq_start = start;
        o->seq_step = step;
    } else if (cls.len > 5 && memcmp(cls.ptr, "wrap_", 5) == 0) {
        /* wrapper: state is CONS(wrapped vector, metadata) */
        robj *x = state->type == R_LISTSXP                     ? state->car
                  : state->type == R_VECSXP && state->len >= 1 ? state->elts[0]
                                                               : NULL;
        if (!x) return rfail(r, KZ_EFORMAT, "bad ALTREP wrapper state");
        if (!(o = new_obj(r, x->type))) return KZ_ENOMEM;
        *o = *x;
        o->attr = &r_nil;
    } else if (kz_str_eq_c(cls, "deferred_string")) {
        /* state is CONS(numeric vector, info): the strings are its as.character. */
        robj *arg = state->type == R_LISTSXP ? state->car : state;
        if (arg->type != R_INTSXP && arg->type != R_REALSXP)
            return rfail(r, KZ_EFORMAT, "bad deferred string state");
        if (!(o = new_obj(r, R_STRSXP))) return KZ_ENOMEM;
        o->len = arg->len;
        if (arg->len > (int64_t)(r->n * 2 + 1024))
            return rfail(r, KZ_ELIMIT, "deferred string of %lld elements", (long long)arg->len);
        o->strs = kz_arena_calloc(r->arena, (size_t)arg->len ? (size_t)arg->len : 1, sizeof *o->strs);
        if (!o->strs) return rfail(r, KZ_ENOMEM, "out of memory");
        for (int64_t i = 0; i < arg->len; i++) {
            char buf[48];
            int k;
            if (arg->type == R_INTSXP) {
                double v = arg->seq ? arg->seq_start + (double)i * arg->seq_step : be32(arg->data + 4 * i);
                if (!arg->seq && be32(arg->data + 4 * i) == R_NA_INTEGER) continue;
                k = fmt_double(v, buf, sizeof buf);
            } else {
                double v =
                    arg->seq ? arg->seq_start + (double)i * arg->seq_step : be_double(arg->data + 8 * i);
                if (isnan(v)) continue;
                k = fmt_double(v, buf, sizeof buf);
            }
            o->strs[i] = kz_arena_strdup(r->arena, buf, (size_t)KZ_MAX(k, 0));
            if (!o->strs[i].ptr) return rfail(r, KZ_ENOMEM, "out of memory");
        }
    } else {
        return rfail(r, KZ_EFORMAT, "unsupported ALTREP class '%.*s'", (int)KZ_MIN(cls.len, 60), cls.ptr);
    }
    if (attr->type != R_NILSXP) o->attr = attr;
    *out = o;
    return 0;
}

static int read_item(rd *r, robj **out) {
    int32_t flags;
    int rc;
    if (r->depth >= RDA_MAX_DEPTH) return rfail(r, KZ_ELIMIT, "objects nested deeper than %d", RDA_MAX_DEPTH);
    if ((rc = rd_int(r, &flags))) return rc;
    int type = flags & 0xFF;
    bool hasattr = flags & 0x200;
    r->depth++;
    robj *o = NULL;
    switch (type) {
    case R_NILVALUE_SXP: *out = &r_nil; goto ok;
    case R_EMPTYENV_SXP:
    case R_BASEENV_SXP:
    case R_GLOBALENV_SXP:
    case R_UNBOUNDVALUE_SXP:
    case R_MISSINGARG_SXP:
    case R_BASENAMESPACE_SXP: *out = &r_env; goto ok;
    case R_REFSXP: {
        int32_t idx = flags >> 8;
        if (idx == 0 && (rc = rd_int(r, &idx))) goto fail;
        if (idx < 1 || (size_t)idx > r->n_refs) {
            rc = rfail(r, KZ_EFORMAT, "reference %d to an unknown object", idx);
            goto fail;
        }
        *out = r->refs[idx - 1];
        goto ok;
    }
    case R_SYMSXP: {
        robj *c;
        if ((rc = read_item(r, &c))) goto fail;
        if (c->type != R_CHARSXP) {
            rc = rfail(r, KZ_EFORMAT, "symbol name is not a string");
            goto fail;
        }
        if (!(o = new_obj(r, R_SYMSXP))) goto nomem;
        o->name = c->name;
        if ((rc = add_ref(r, o))) goto fail;
        *out = o;
        goto ok;
    }
    case R_PACKAGESXP:
    case R_NAMESPACESXP:
        if (!(o = new_obj(r, R_ENVSXP))) goto nomem;
        if ((rc = add_ref(r, o)) || (rc = read_string_vec(r))) goto fail;
        *out = o;
        goto ok;
    case R_ENVSXP: {
        int32_t locked;
        if ((rc = rd_int(r, &locked))) goto fail;
        if (!(o = new_obj(r, R_ENVSXP))) goto nomem;
        if ((rc = add_ref(r, o))) goto fail;
        robj *x;
        for (int i = 0; i < 4; i++) /* enclosure, frame, hash table, attributes */
            if ((rc = read_item(r, &x))) goto fail;
        *out = o;
        goto ok;
    }
    case R_LISTSXP:
    case R_LANGSXP:
    case R_CLOSXP:
    case R_PROMSXP:
    case R_DOTSXP:
        if ((rc = read_pairlist(r, flags, out))) goto fail;
        goto ok;
    case R_ALTREP_SXP: {
        robj *info, *state, *attr;
        if ((rc = read_item(r, &info)) || (rc = read_item(r, &state)) || (rc = read_item(r, &attr)))
            goto fail;
        if ((rc = altrep(r, info, state, attr, out))) goto fail;
        goto ok;
    }
    case R_PERSISTSXP: rc = rfail(r, KZ_EFORMAT, "persistent references are not supported"); goto fail;
    case R_BCODESXP:
    case R_BCREPDEF:
    case R_BCREPREF:
    case R_ATTRLANGSXP:
    case R_ATTRLISTSXP: rc = rfail(r, KZ_EFORMAT, "byte code is not supported (type %d)", type); goto fail;
    case R_CLASSREFSXP:
    case R_GENERICREFSXP: rc = rfail(r, KZ_EFORMAT, "invalid reference type %d", type); goto fail;
    default: break;
    }
    /* Vectors and the rest: body, then attributes. */
    if (!(o = new_obj(r, type))) goto nomem;
    switch (type) {
    case R_EXTPTRSXP: {
        robj *x;
        if ((rc = add_ref(r, o)) || (rc = read_item(r, &x)) || (rc = read_item(r, &x))) goto fail;
        break;
    }
    case R_WEAKREFSXP:
        if ((rc = add_ref(r, o))) goto fail;
        break;
    case R_SPECIALSXP:
    case R_BUILTINSXP: {
        int64_t len;
        if ((rc = rd_length(r, 1, &len))) goto fail;
        r->pos += (size_t)len;
        break;
    }
    case R_CHARSXP:
        if ((rc = rd_charsxp(r, flags, &o->name))) goto fail;
        break;
    case R_LGLSXP:
    case R_INTSXP:
    case R_REALSXP:
    case R_CPLXSXP:
    case R_RAWSXP: {
        size_t w = type == R_REALSXP ? 8 : type == R_CPLXSXP ? 16 : type == R_RAWSXP ? 1 : 4;
        if ((rc = rd_length(r, w, &o->len))) goto fail;
        o->data = r->p + r->pos;
        r->pos += (size_t)o->len * w;
        break;
    }
    case R_STRSXP:
        if ((rc = rd_length(r, 8, &o->len))) goto fail;
        o->strs = kz_arena_alloc(r->arena, ((size_t)o->len ? (size_t)o->len : 1) * sizeof *o->strs);
        if (!o->strs) goto nomem;
        for (int64_t i = 0; i < o->len; i++) {
            int32_t ef;
            if ((rc = rd_int(r, &ef))) goto fail;
            if ((ef & 0xFF) != R_CHARSXP) {
                rc = rfail(r, KZ_EFORMAT, "string vector element of type %d", ef & 0xFF);
                goto fail;
            }
            if ((rc = rd_charsxp(r, ef, &o->strs[i]))) goto fail;
            if (ef & 0x200) {
                robj *x;
                if ((rc = read_item(r, &x))) goto fail;
            }
        }
        break;
    case R_VECSXP:
    case R_EXPRSXP:
        if ((rc = rd_length(r, 4, &o->len))) goto fail;
        o->elts = kz_arena_alloc(r->arena, ((size_t)o->len ? (size_t)o->len : 1) * sizeof *o->elts);
        if (!o->elts) goto nomem;
        for (int64_t i = 0; i < o->len; i++)
            if ((rc = read_item(r, &o->elts[i]))) goto fail;
        break;
    case R_S4SXP: break;
    default: rc = rfail(r, KZ_EFORMAT, "unknown object type %d", type); goto fail;
    }
    if (hasattr) {
        robj *a;
        if ((rc = read_item(r, &a))) goto fail;
        if (type != R_CHARSXP) o->attr = a;
    }
    *out = o;
ok:
    r->depth--;
    return 0;
nomem:
    rc = rfail(r, KZ_ENOMEM, "out of memory");
fail:
    r->depth--;
    return rc;
}

/* ---- decompression ------------------------------------------------------------------------------ */

typedef struct outbuf {
    unsigned char *p;
    size_t len, cap, max;
    size_t first; /* first allocation (a size hint), 0: 1 MiB */
} outbuf;

static int out_grow(outbuf *o) {
    if (o->cap >= o->max) return KZ_ELIMIT;
    size_t nc = o->cap ? o->cap * 2 : o->first ? o->first : 1 << 20;
    if (nc > o->max) nc = o->max;
    unsigned char *np = realloc(o->p, nc);
    if (!np) return KZ_ENOMEM;
    o->p = np;
    o->cap = nc;
    return 0;
}

static int inflate_gzip(const unsigned char *in, size_t n, outbuf *o, const char **why) {
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 32) != Z_OK) return KZ_ENOMEM;
    int rc = 0;
    size_t pos = 0;
    for (;;) {
        if (zs.avail_in == 0 && pos < n) {
            size_t k = KZ_MIN(n - pos, (size_t)UINT32_MAX);
            zs.next_in = (Bytef *)(in + pos);
            zs.avail_in = (uInt)k;
            pos += k;
        }
        if (o->len == o->cap && (rc = out_grow(o))) break;
        size_t room = KZ_MIN(o->cap - o->len, (size_t)UINT32_MAX);
        zs.next_out = o->p + o->len;
        zs.avail_out = (uInt)room;
        int zr = inflate(&zs, Z_NO_FLUSH);
        o->len += room - zs.avail_out;
        if (zr == Z_STREAM_END) {
            if (zs.avail_in == 0 && pos >= n) break;
            if (zs.avail_in < 2 || zs.next_in[0] != 0x1f || zs.next_in[1] != 0x8b) break; /* trailing bytes */
            inflateReset(&zs); /* concatenated members */
            continue;
        }
        if (zr == Z_BUF_ERROR && zs.avail_in == 0 && pos >= n) {
            *why = "truncated gzip stream";
            rc = KZ_EFORMAT;
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            *why = "corrupt gzip stream";
            rc = KZ_EFORMAT;
            break;
        }
    }
    inflateEnd(&zs);
    return rc;
}

static int inflate_bzip2(const unsigned char *in, size_t n, outbuf *o, const char **why) {
    bz_stream bz;
    memset(&bz, 0, sizeof bz);
    if (BZ2_bzDecompressInit(&bz, 0, 0) != BZ_OK) return KZ_ENOMEM;
    int rc = 0;
    size_t pos = 0;
    for (;;) {
        if (bz.avail_in == 0 && pos < n) {
            size_t k = KZ_MIN(n - pos, (size_t)UINT32_MAX);
            bz.next_in = (char *)(in + pos);
            bz.avail_in = (unsigned)k;
            pos += k;
        }
        if (o->len == o->cap && (rc = out_grow(o))) break;
        size_t room = KZ_MIN(o->cap - o->len, (size_t)UINT32_MAX);
        bz.next_out = (char *)(o->p + o->len);
        bz.avail_out = (unsigned)room;
        int br = BZ2_bzDecompress(&bz);
        o->len += room - bz.avail_out;
        if (br == BZ_STREAM_END) {
            if (bz.avail_in == 0 && pos >= n) break;
            /* concatenated streams */
            char *ni = bz.next_in;
            unsigned na = bz.avail_in;
            BZ2_bzDecompressEnd(&bz);
            memset(&bz, 0, sizeof bz);
            if (BZ2_bzDecompressInit(&bz, 0, 0) != BZ_OK) return KZ_ENOMEM;
            bz.next_in = ni;
            bz.avail_in = na;
            continue;
        }
        if (br != BZ_OK) {
            *why = "corrupt bzip2 stream";
            rc = KZ_EFORMAT;
            break;
        }
        if (bz.avail_in == 0 && pos >= n && room - bz.avail_out == 0) {
            *why = "truncated bzip2 stream";
            rc = KZ_EFORMAT;
            break;
        }
    }
    BZ2_bzDecompressEnd(&bz);
    return rc;
}

static int inflate_xz(const unsigned char *in, size_t n, outbuf *o, const char **why) {
    lzma_stream xs = LZMA_STREAM_INIT;
    if (lzma_stream_decoder(&xs, 1ull << 30, LZMA_CONCATENATED) != LZMA_OK) return KZ_ENOMEM;
    xs.next_in = in;
    xs.avail_in = n;
    int rc = 0;
    for (;;) {
        if (o->len == o->cap && (rc = out_grow(o))) break;
        xs.next_out = o->p + o->len;
        xs.avail_out = o->cap - o->len;
        size_t before = xs.avail_out;
        lzma_ret lr = lzma_code(&xs, xs.avail_in ? LZMA_RUN : LZMA_FINISH);
        o->len += before - xs.avail_out;
        if (lr == LZMA_STREAM_END) break;
        if (lr == LZMA_MEMLIMIT_ERROR || lr == LZMA_MEM_ERROR) {
            *why = "xz stream needs too much memory";
            rc = KZ_ELIMIT;
            break;
        }
        if (lr == LZMA_BUF_ERROR && xs.avail_in == 0) {
            *why = "truncated xz stream";
            rc = KZ_EFORMAT;
            break;
        }
        if (lr != LZMA_OK) {
            *why = "corrupt xz stream";
            rc = KZ_EFORMAT;
            break;
        }
    }
    lzma_end(&xs);
    return rc;
}

/* ---- data frame → rows -------------------------------------------------------------------------- */

static robj *get_attr(const robj *o, const char *name) {
    for (const robj *a = o->attr; a && a->type == R_LISTSXP; a = a->cdr)
        if (a->tag->type == R_SYMSXP && kz_str_eq_c(a->tag->name, name)) return a->car;
    return NULL;
}

static bool has_class(const robj *o, const char *cls) {
    robj *c = get_attr(o, "class");
    if (!c || c->type != R_STRSXP) return false;
    for (int64_t i = 0; i < c->len; i++)
        if (c->strs[i].ptr && kz_str_eq_c(c->strs[i], cls)) return true;
    return false;
}

typedef struct rcol {
    const robj *o;
    const robj *levels; /* factor levels (STRSXP) */
    bool used;          /* referenced by the column map: only these cells are made */
    char buf[48];
} rcol;

/* Decimal int32 (snprintf costs more than the rest of a row). */
static kz_str fmt_int(int32_t v, char *buf /* >= 12 */) {
    char tmp[12];
    size_t k = 0;
    uint32_t u = v < 0 ? 0u - (uint32_t)v : (uint32_t)v;
    do tmp[k++] = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    size_t n = 0;
    if (v < 0) buf[n++] = '-';
    while (k) buf[n++] = tmp[--k];
    return (kz_str){buf, n};
}

static kz_str cell(rcol *c, int64_t i) {
    const robj *o = c->o;
    int k = 0;
    switch (o->type) {
    case R_STRSXP: return o->strs[i].ptr ? o->strs[i] : (kz_str){"", 0};
    case R_INTSXP:
    case R_LGLSXP: {
        if (o->seq) {
            k = fmt_double(o->seq_start + (double)i * o->seq_step, c->buf, sizeof c->buf);
            break;
        }
        int32_t v = be32(o->data + 4 * i);
        if (v == R_NA_INTEGER) return (kz_str){"", 0};
        if (c->levels) {
            if (v < 1 || v > c->levels->len || !c->levels->strs[v - 1].ptr) return (kz_str){"", 0};
            return c->levels->strs[v - 1];
        }
        if (o->type == R_LGLSXP) return kz_str_c(v ? "TRUE" : "FALSE");
        return fmt_int(v, c->buf);
    }
    case R_REALSXP: {
        double v = o->seq ? o->seq_start + (double)i * o->seq_step : be_double(o->data + 8 * i);
        if (isnan(v)) return (kz_str){"", 0};
        if (isinf(v)) return kz_str_c(v > 0 ? "Inf" : "-Inf");
        k = fmt_double(v, c->buf, sizeof c->buf);
        break;
    }
    default: return (kz_str){"", 0};
    }
    return (kz_str){c->buf, (size_t)KZ_MAX(k, 0)};
}

static bool supported_column(const robj *o) {
    return o->type == R_STRSXP || o->type == R_INTSXP || o->type == R_LGLSXP || o->type == R_REALSXP;
}

static int emit_frame(rd *r, const robj *df, kz_onto_sink *s, kz_error *err) {
    const kz_onto_spec *spec = s->spec;
    robj *names = get_attr(df, "names");
    if (!names || names->type != R_STRSXP || names->len != df->len)
        return kz__sink_fail(s, err, 0, KZ_EFORMAT, "data.frame without column names");
    if (df->len == 0 || df->len > RDA_MAX_COLUMNS)
        return kz__sink_fail(s, err, 0, KZ_EFORMAT, "data.frame with %lld columns", (long long)df->len);
    size_t ncol = (size_t)df->len;
    int64_t nrow = df->elts[0]->len;
    kz_str *hdr = calloc(ncol, sizeof *hdr), *cells = calloc(ncol, sizeof *cells);
    rcol *cols = calloc(ncol, sizeof *cols);
    kz_tab_map m;
    memset(&m, 0, sizeof m);
    int rc = 0;
    if (!hdr || !cells || !cols) {
        rc = kz__sink_fail(s, err, 0, KZ_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t j = 0; j < ncol; j++) {
        const robj *c = df->elts[j];
        hdr[j] = names->strs[j].ptr ? names->strs[j] : (kz_str){"", 0};
        cols[j].o = c;
        if (c->len != nrow && supported_column(c)) {
            rc = kz__sink_fail(s, err, 0, KZ_EFORMAT, "column '%.*s' has %lld rows, the first column %lld",
                               (int)KZ_MIN(hdr[j].len, 80), hdr[j].ptr, (long long)c->len, (long long)nrow);
            goto done;
        }
        if (c->type == R_INTSXP && has_class(c, "factor")) {
            const robj *lv = get_attr(c, "levels");
            if (!lv || lv->type != R_STRSXP) {
                rc = kz__sink_fail(s, err, 0, KZ_EFORMAT, "factor column '%.*s' without levels",
                                   (int)KZ_MIN(hdr[j].len, 80), hdr[j].ptr);
                goto done;
            }
            cols[j].levels = lv;
        }
    }
    if ((rc = kz__tab_map_init(&m, hdr, ncol))) {
        rc = kz__sink_fail(s, err, 0, rc, "out of memory");
        goto done;
    }
    if ((rc = kz__tab_map_add_spec(&m, spec, s, err))) goto done;
    for (size_t c = 0; c < m.n_cols; c++)
        for (int j = -1; j < m.cols[c].n_idx; j++) {
            int i = j < 0 ? m.cols[c].scope_idx : m.cols[c].idx[j];
            if (i < 0) continue;
            if (!supported_column(cols[i].o)) {
                rc = kz__sink_fail(s, err, 0, KZ_EFORMAT, "column '%s' has an unsupported type (%d)",
                                   m.names[i], cols[i].o->type);
                goto done;
            }
            cols[i].used = true;
        }
    for (size_t f = 0; f < m.n_filters; f++) /* row_filters read their columns too */
        for (int j = 0; j < m.filters[f].n_idx; j++) {
            int i = m.filters[f].idx[j];
            if (!supported_column(cols[i].o)) {
                rc = kz__sink_fail(s, err, 0, KZ_EFORMAT, "column '%s' has an unsupported type (%d)",
                                   m.names[i], cols[i].o->type);
                goto done;
            }
            cols[i].used = true;
        }
    for (size_t j = 0; j < ncol; j++) cells[j] = (kz_str){"", 0};
    for (int64_t i = 0; i < nrow; i++) {
        for (size_t j = 0; j < ncol; j++)
            if (cols[j].used) cells[j] = cell(&cols[j], i);
        if ((rc = kz__tab_map_row(&m, s, cells, ncol, i + 1, err))) goto done;
    }
    rc = kz__term_end(s, err);
done:
    (void)r;
    kz__tab_map_free(&m);
    free(hdr);
    free(cells);
    free(cols);
    return rc;
}

static int parse_image(const unsigned char *p, size_t n, kz_onto_sink *s, kz_error *err) {
    const kz_onto_spec *spec = s->spec;
    rd r = {.p = p, .n = n, .err = err, .s = s};
    bool rda = false;
    int rc = 0;
    if (n >= 5 && (memcmp(p, "RDX2\n", 5) == 0 || memcmp(p, "RDX3\n", 5) == 0)) {
        rda = true;
        r.pos = 5;
    } else if (n >= 5 && (memcmp(p, "RDA", 3) == 0 || memcmp(p, "RDB", 3) == 0) && p[4] == '\n') {
        return kz__sink_fail(
            s, err, 0, KZ_EFORMAT,
            "ASCII or native-binary .rda is not supported; save it with R's default XDR format");
    }
    if (n - r.pos < 2 || p[r.pos + 1] != '\n' || p[r.pos] != 'X') {
        if (n - r.pos >= 2 && p[r.pos + 1] == '\n' && (p[r.pos] == 'A' || p[r.pos] == 'B'))
            return kz__sink_fail(s, err, 0, KZ_EFORMAT,
                                 "ASCII or native-binary R serialization is not supported");
        return kz__sink_fail(s, err, 0, KZ_EFORMAT, "not an R data file (.rda/.rds)");
    }
    r.pos += 2;
    int32_t version, writer, reader;
    if ((rc = rd_int(&r, &version)) || (rc = rd_int(&r, &writer)) || (rc = rd_int(&r, &reader))) return rc;
    if (version != 2 && version != 3)
        return kz__sink_fail(s, err, 0, KZ_EFORMAT, "R serialization version %d is not supported", version);
    if (version == 3) {
        int32_t nelen;
        if ((rc = rd_int(&r, &nelen))) return rc;
        if (nelen < 0 || nelen > 64 || (size_t)nelen > r.n - r.pos)
            return kz__sink_fail(s, err, 0, KZ_EFORMAT, "bad native encoding length %d", nelen);
        kz_str enc = {(const char *)p + r.pos, (size_t)nelen};
        r.native_latin1 =
            kz_str_eq_c(enc, "latin1") || kz_str_eq_c(enc, "ISO-8859-1") || kz_str_eq_c(enc, "CP1252");
        r.pos += (size_t)nelen;
    }
    r.arena = kz_arena_new(1 << 20);
    if (!r.arena) return kz__sink_fail(s, err, 0, KZ_ENOMEM, "out of memory");
    robj *top = NULL, *df = NULL;
    if ((rc = read_item(&r, &top))) goto done;
    if (rda) {
        if (top->type != R_LISTSXP) {
            rc = kz__sink_fail(s, err, 0, KZ_EFORMAT, ".rda does not hold a list of named objects");
            goto done;
        }
        char found[400] = "";
        size_t k = 0;
        for (robj *node = top; node->type == R_LISTSXP; node = node->cdr) {
            kz_str nm = node->tag->type == R_SYMSXP ? node->tag->name : (kz_str){"", 0};
            if (k + 1 < sizeof found) {
                int w = snprintf(found + k, sizeof found - k, "%s'%.*s'", k ? ", " : "",
                                 (int)KZ_MIN(nm.len, 60), nm.ptr ? nm.ptr : "");
                if (w > 0) k = KZ_MIN(k + (size_t)w, sizeof found - 1);
            }
            bool want = spec->rda_object ? kz_str_eq_c(nm, spec->rda_object)
                                         : node->car->type == R_VECSXP && has_class(node->car, "data.frame");
            if (want && !df) df = node->car;
        }
        if (!df) {
            rc = kz__sink_fail(s, err, 0, KZ_ENOTFOUND, "%s%s%s not found in the .rda (objects: %s)",
                               spec->rda_object ? "object '" : "a data.frame",
                               spec->rda_object ? spec->rda_object : "", spec->rda_object ? "'" : "", found);
            goto done;
        }
    } else {
        df = top;
    }
    if (df->type != R_VECSXP || !has_class(df, "data.frame")) {
        rc = kz__sink_fail(s, err, 0, KZ_EFORMAT, "object %s%s%sis not a data.frame (R type %d)",
                           spec->rda_object ? "'" : "", spec->rda_object ? spec->rda_object : "",
                           spec->rda_object ? "' " : "", df->type);
        goto done;
    }
    rc = emit_frame(&r, df, s, err);
done:
    free(r.refs);
    kz_arena_free(r.arena);
    return rc;
}

static int parse_mem(const unsigned char *data, size_t len, size_t max_raw, kz_onto_sink *s, kz_error *err) {
    outbuf o = {.max = max_raw ? max_raw : RDA_MAX_RAW};
    /* One allocation in the usual case: R images compress about 4-8x (gzip's trailer has the size). */
    o.first = len <= o.max / 8 ? len * 8 : o.max;
    if (len >= 18 && data[0] == 0x1f && data[1] == 0x8b) {
        size_t isize = (size_t)data[len - 4] | (size_t)data[len - 3] << 8 | (size_t)data[len - 2] << 16 |
                       (size_t)data[len - 1] << 24;
        if (isize >= len && isize < o.max) o.first = isize + 1;
    }
    if (o.first < (1 << 16)) o.first = 1 << 16;
    const char *why = NULL;
    int rc = 0;
    const unsigned char *img = data;
    size_t n = len;
    if (len >= 2 && data[0] == 0x1f && data[1] == 0x8b)
        rc = inflate_gzip(data, len, &o, &why);
    else if (len >= 3 && memcmp(data, "BZh", 3) == 0)
        rc = inflate_bzip2(data, len, &o, &why);
    else if (len >= 6 && memcmp(data,
                                "\xFD"
                                "7zXZ\0",
                                6) == 0)
        rc = inflate_xz(data, len, &o, &why);
    else
        o.p = NULL;
    if (rc) {
        if (rc == KZ_ELIMIT && !why)
            rc = kz__sink_fail(s, err, 0, rc, "decompressed data larger than %zu MiB", o.max >> 20);
        else
            rc = kz__sink_fail(s, err, 0, rc, "%s", why ? why : "out of memory");
    } else {
        if (o.p) img = o.p, n = o.len;
        rc = parse_image(img, n, s, err);
    }
    free(o.p);
    return rc;
}

int kz__onto_parse_rda_mem(const void *data, size_t len, size_t max_raw, const kz_onto_spec *spec,
                           kz_onto_emit_fn emit, kz_onto_warn_fn warn, void *user, uint64_t *n_warnings,
                           kz_error *err) {
    if (n_warnings) *n_warnings = 0;
    kz_onto_sink s;
    int rc = kz__sink_init(&s, spec, NULL, emit, warn, user, err);
    if (!rc) rc = parse_mem(data, len, max_raw, &s, err);
    return kz__sink_done(&s, rc, n_warnings);
}

int kz__onto_parse_rda(const kz_onto_spec *spec, kz_onto_emit_fn emit, kz_onto_warn_fn warn, void *user,
                       uint64_t *n_warnings, kz_error *err) {
    if (n_warnings) *n_warnings = 0;
    kz_onto_sink s;
    int rc = kz__sink_init(&s, spec, NULL, emit, warn, user, err);
    if (rc) return kz__sink_done(&s, rc, n_warnings);
    FILE *f = fopen(spec->path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0) {
        rc = kz__sink_fail(&s, err, 0, KZ_EIO, "cannot open: %s", strerror(errno));
        if (f) fclose(f);
        return kz__sink_done(&s, rc, n_warnings);
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > RDA_MAX_FILE) {
        fclose(f);
        rc = kz__sink_fail(&s, err, 0, KZ_ELIMIT, "file larger than %llu MiB", RDA_MAX_FILE >> 20);
        return kz__sink_done(&s, rc, n_warnings);
    }
    size_t size = (size_t)st.st_size;
    unsigned char *buf = malloc(size ? size : 1);
    size_t got = buf ? fread(buf, 1, size, f) : 0;
    fclose(f);
    if (!buf)
        rc = kz__sink_fail(&s, err, 0, KZ_ENOMEM, "out of memory");
    else if (got != size)
        rc = kz__sink_fail(&s, err, 0, KZ_EIO, "short read (%zu of %zu bytes)", got, size);
    else
        rc = parse_mem(buf, size, 0, &s, err);
    free(buf);
    return kz__sink_done(&s, rc, n_warnings);
}
