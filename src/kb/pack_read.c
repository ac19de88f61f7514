/* Pack reader: maps a pack read-only, validates its header, section table and
 * section bounds in O(sections), and serves bounds-checked views of it. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/core_int.h"
#include "kazu/normalise.h"
#include "kb/pack_int.h"

/* ---- hashing ------------------------------------------------------------------ */
static inline uint64_t rd64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t mum(uint64_t a, uint64_t b) {
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/* A wyhash-style multiply-fold hash: fast on short keys, well mixed, and
 * defined on bytes only (little-endian reads), so its values can be stored. */
uint64_t kz__pack_hash64(const void *data, size_t len, uint64_t seed) {
    static const uint64_t k0 = 0xa0761d6478bd642full, k1 = 0xe7037ed1a0b428dbull, k2 = 0x8ebc6af09c88c6e3ull,
                          k3 = 0x589965cc75374cc3ull;
    const uint8_t *p = data;
    size_t n = len;
    uint64_t h = mum(seed ^ k0, k1) ^ (uint64_t)len;
    while (n >= 16) {
        h = mum(rd64(p) ^ k1, rd64(p + 8) ^ h);
        p += 16;
        n -= 16;
    }
    uint64_t a = 0, b = 0;
    if (n >= 8) {
        a = rd64(p);
        p += 8;
        n -= 8;
    }
    for (size_t i = 0; i < n; i++) b |= (uint64_t)p[i] << (8 * i);
    h = mum(a ^ k2 ^ h, b ^ k3);
    return mum(h ^ k0, (uint64_t)len ^ k1);
}

uint64_t kz__pack_header_sum(const uint8_t *buf, uint32_t n_sections) {
    uint64_t seed = kz__pack_hash64(buf, offsetof(kz_pack_header, header_sum), 0x6b617a756b62ull);
    size_t from = offsetof(kz_pack_header, header_sum) + 8;
    return kz__pack_hash64(buf + from,
                           KZ_PACK_HEADER_BYTES - from + (size_t)n_sections * sizeof(kz_pack_section), seed);
}

void kz__pack_fix_header_sum(uint8_t *buf, size_t len) {
    if (len < KZ_PACK_HEADER_BYTES) return;
    kz_pack_header h;
    memcpy(&h, buf, sizeof h);
    if (h.n_sections > KZ_PACK_MAX_SECTIONS ||
        KZ_PACK_HEADER_BYTES + (size_t)h.n_sections * sizeof(kz_pack_section) > len)
        return;
    h.header_sum = kz__pack_header_sum(buf, h.n_sections);
    memcpy(buf + offsetof(kz_pack_header, header_sum), &h.header_sum, 8);
}

/* ---- the open pack ------------------------------------------------------------- */
struct kz_kb {
    const uint8_t *base;
    size_t len;
    bool mapped;
    const kz_pack_header *h;
    const kz_pack_section *table;
    uint32_t n_sections;
    const uint8_t *pool;
    uint64_t pool_len, n_strings;
    const uint32_t *list;
    uint64_t n_list;
    const uint32_t *classes;
    uint64_t n_classes;
    const kz_pack_parser *parsers;
    uint64_t n_parsers;
    const kz_pack_id *ids;
    uint64_t n_ids;
    const uint32_t *isets;
    uint64_t n_isets;
    const kz_pack_cand *cands;
    uint64_t n_cands;
    const kz_pack_res *res;
    uint64_t n_res;
    const kz_pack_key *keys;
    uint64_t key_cap, n_keys;
};

static const uint32_t k_empty_u32[1] = {0};

static int perr(kz_error *err, const char *path, int code, int64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int perr(kz_error *err, const char *path, int code, int64_t offset, const char *fmt, ...) {
    if (!err) return code;
    char msg[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    kz_error_set(err, code, "%s", msg);
    snprintf(err->path, sizeof err->path, "%s", path ? path : "");
    err->offset = offset;
    err->line = err->column = 0;
    return code;
}

static char *tag_name(uint32_t tag, char out[5]) {
    for (int i = 0; i < 4; i++) {
        char c = (char)(tag >> (8 * i));
        out[i] = c >= 0x20 && c < 0x7f ? c : '?';
    }
    out[4] = 0;
    return out;
}

/* Check one core section: present, count * rec == size; rec 0 = raw bytes
 * (*count then gets the size). */
static int core(kz_kb *kb, const char *path, uint32_t tag, uint64_t rec, const void **data, uint64_t *count,
                kz_error *err) {
    char tn[5];
    for (uint32_t i = 0; i < kb->n_sections; i++) {
        const kz_pack_section *s = &kb->table[i];
        if (s->tag != tag) continue;
        if (rec && (s->count > s->size / rec || s->count * rec != s->size))
            return perr(err, path, KZ_EPARSE, (int64_t)s->offset,
                        "corrupt pack: section %s at offset %llu holds %llu bytes, not %llu records of %llu",
                        tag_name(tag, tn), (unsigned long long)s->offset, (unsigned long long)s->size,
                        (unsigned long long)s->count, (unsigned long long)rec);
        *data = kb->base + s->offset;
        *count = rec ? s->count : s->size;
        return 0;
    }
    return perr(err, path, KZ_EPARSE, -1, "corrupt pack: required section %s is missing", tag_name(tag, tn));
}

static int validate(kz_kb *kb, const char *path, kz_error *err) {
    const uint8_t *b = kb->base;
    size_t len = kb->len;
    if (len < 8 || memcmp(b, KZ_PACK_MAGIC, 8) != 0)
        return perr(err, path, KZ_EFORMAT, 0, "not a kazu-c knowledge-base pack (bad magic)");
    if (len < KZ_PACK_HEADER_BYTES)
        return perr(err, path, KZ_EPARSE, (int64_t)len,
                    "truncated pack: %zu bytes, the header alone needs %u", len, KZ_PACK_HEADER_BYTES);
    const kz_pack_header *h = (const kz_pack_header *)b;
    kb->h = h;
    if (h->version != KZ_KB_FORMAT_VERSION)
        return perr(
            err, path, KZ_EFORMAT, 8,
            "pack format version %u is not supported (this kazu-c reads version %d); rebuild the pack",
            h->version, KZ_KB_FORMAT_VERSION);
    if (h->header_bytes != KZ_PACK_HEADER_BYTES || h->section_entry_bytes != sizeof(kz_pack_section) ||
        h->table_offset != KZ_PACK_HEADER_BYTES)
        return perr(err, path, KZ_EPARSE, 12, "corrupt pack header: header/table layout fields");
    if (h->file_bytes != len)
        return perr(err, path, KZ_EPARSE, 24,
                    "truncated or extended pack: header says %llu bytes, file has %zu",
                    (unsigned long long)h->file_bytes, len);
    if (h->n_sections > KZ_PACK_MAX_SECTIONS)
        return perr(err, path, KZ_EPARSE, 40, "corrupt pack header: %u sections (at most %u)", h->n_sections,
                    KZ_PACK_MAX_SECTIONS);
    uint64_t table_end = KZ_PACK_HEADER_BYTES + (uint64_t)h->n_sections * sizeof(kz_pack_section);
    if (table_end > len)
        return perr(err, path, KZ_EPARSE, KZ_PACK_HEADER_BYTES,
                    "truncated pack: section table ends past the file");
    uint64_t sum = kz__pack_header_sum(b, h->n_sections);
    if (sum != h->header_sum)
        return perr(err, path, KZ_EPARSE, 32,
                    "corrupt pack: header checksum mismatch (header or section table damaged)");
    if (h->flags != 0)
        return perr(err, path, KZ_EFORMAT, 16, "pack uses unknown feature flags 0x%llx",
                    (unsigned long long)h->flags);
    if (!memchr(h->name, 0, sizeof h->name) || !memchr(h->built_by, 0, sizeof h->built_by))
        return perr(err, path, KZ_EPARSE, 128, "corrupt pack header: unterminated name");
    kb->table = (const kz_pack_section *)(b + KZ_PACK_HEADER_BYTES);
    kb->n_sections = h->n_sections;
    char tn[5];
    for (uint32_t i = 0; i < kb->n_sections; i++) {
        const kz_pack_section *s = &kb->table[i];
        int64_t at = (int64_t)(KZ_PACK_HEADER_BYTES + i * sizeof *s);
        if (s->offset % KZ_PACK_ALIGN || s->offset < table_end || s->offset > len ||
            s->size > len - s->offset)
            return perr(
                err, path, KZ_EPARSE, at,
                "corrupt pack: section %s (offset %llu, %llu bytes) lies outside the file (%zu bytes) or is "
                "misaligned",
                tag_name(s->tag, tn), (unsigned long long)s->offset, (unsigned long long)s->size, len);
        for (uint32_t j = 0; j < i; j++)
            if (kb->table[j].tag == s->tag)
                return perr(err, path, KZ_EPARSE, at, "corrupt pack: section %s appears twice",
                            tag_name(s->tag, tn));
    }
    const void *p;
    int rc;
    if ((rc = core(kb, path, KZ_SEC_STRS, 0, &p, &kb->pool_len, err))) return rc;
    kb->pool = p;
    if ((rc = core(kb, path, KZ_SEC_LIST, 4, &p, &kb->n_list, err))) return rc;
    kb->list = p;
    if ((rc = core(kb, path, KZ_SEC_CLAS, 4, &p, &kb->n_classes, err))) return rc;
    kb->classes = p;
    if ((rc = core(kb, path, KZ_SEC_PARS, sizeof(kz_pack_parser), &p, &kb->n_parsers, err))) return rc;
    kb->parsers = p;
    if ((rc = core(kb, path, KZ_SEC_IDS, sizeof(kz_pack_id), &p, &kb->n_ids, err))) return rc;
    kb->ids = p;
    if ((rc = core(kb, path, KZ_SEC_ISET, 4, &p, &kb->n_isets, err))) return rc;
    kb->isets = p;
    if ((rc = core(kb, path, KZ_SEC_CAND, sizeof(kz_pack_cand), &p, &kb->n_cands, err))) return rc;
    kb->cands = p;
    if ((rc = core(kb, path, KZ_SEC_RSRC, sizeof(kz_pack_res), &p, &kb->n_res, err))) return rc;
    kb->res = p;
    if ((rc = core(kb, path, KZ_SEC_KEYS, sizeof(kz_pack_key), &p, &kb->key_cap, err))) return rc;
    kb->keys = p;
    /* Every string ref below pool_len then ends at a NUL inside the section. */
    if (kb->pool_len == 0 || kb->pool_len >= KZ_PACK_NULL || kb->pool[kb->pool_len - 1] != 0)
        return perr(err, path, KZ_EPARSE, (int64_t)((const uint8_t *)kb->pool - b),
                    "corrupt pack: section STRS is empty, too big or does not end with a NUL");
    for (uint32_t i = 0; i < kb->n_sections; i++)
        if (kb->table[i].tag == KZ_SEC_STRS) kb->n_strings = kb->table[i].count;
    if (kb->n_strings > kb->pool_len) /* every string takes at least its NUL */
        return perr(err, path, KZ_EPARSE, -1, "corrupt pack: section STRS counts more strings than bytes");
    if (kb->n_list == 0 || kb->list[0] != 0 || kb->n_list > 0xFFFFFFFFu)
        return perr(err, path, KZ_EPARSE, (int64_t)((const uint8_t *)kb->list - b),
                    "corrupt pack: section LIST does not start with the empty list");
    if (kb->n_parsers > KZ_PACK_MAX_PARSERS || kb->n_classes > KZ_PACK_MAX_PARSERS ||
        kb->n_cands >= 0xFFFFFFFFu || kb->n_ids >= 0xFFFFFFFFu || kb->n_isets >= 0xFFFFFFFFu)
        return perr(err, path, KZ_EPARSE, -1, "corrupt pack: record counts exceed the format's limits");
    if (kb->key_cap == 0 || (kb->key_cap & (kb->key_cap - 1)))
        return perr(err, path, KZ_EPARSE, (int64_t)((const uint8_t *)kb->keys - b),
                    "corrupt pack: key index size %llu is not a power of two",
                    (unsigned long long)kb->key_cap);
    for (uint32_t i = 0; i < kb->n_sections; i++)
        if (kb->table[i].tag == KZ_SEC_KEYS) kb->n_keys = kb->table[i].aux;
    if (kb->n_keys > kb->key_cap)
        return perr(err, path, KZ_EPARSE, -1, "corrupt pack: more keys than key slots");
    return 0;
}

static int open_image(kz_kb *kb, const char *path, kz_kb **out, kz_error *err) {
    int rc = validate(kb, path, err);
    if (rc) {
        kz_kb_close(kb);
        return rc;
    }
    *out = kb;
    return 0;
}

int kz_kb_open(const char *path, kz_kb **out, kz_error *err) {
    if (!out || !path) return kz_error_set(err, KZ_EINVAL, "kz_kb_open: NULL argument");
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return perr(err, path, KZ_EIO, -1, "cannot open pack: %s", strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return perr(err, path, KZ_EIO, -1, "cannot open pack: %s", strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return perr(err, path, KZ_EIO, -1, "cannot open pack: not a regular file");
    }
    if (st.st_size == 0) {
        close(fd);
        return perr(err, path, KZ_EFORMAT, 0, "not a kazu-c knowledge-base pack (empty file)");
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    int e = errno;
    close(fd);
    if (m == MAP_FAILED) return perr(err, path, KZ_EIO, -1, "cannot map pack: %s", strerror(e));
    kz_kb *kb = calloc(1, sizeof *kb);
    if (!kb) {
        munmap(m, (size_t)st.st_size);
        return kz_error_set(err, KZ_ENOMEM, "kz_kb_open");
    }
    kb->base = m;
    kb->len = (size_t)st.st_size;
    kb->mapped = true;
    return open_image(kb, path, out, err);
}

int kz__kb_open_mem(const void *data, size_t len, const char *path, kz_kb **out, kz_error *err) {
    if (!out || (!data && len)) return kz_error_set(err, KZ_EINVAL, "kz__kb_open_mem: NULL argument");
    *out = NULL;
    kz_kb *kb = calloc(1, sizeof *kb);
    void *copy = NULL;
    if (!kb || posix_memalign(&copy, KZ_PACK_ALIGN, len ? len : 1) != 0) {
        free(kb);
        return kz_error_set(err, KZ_ENOMEM, "kz__kb_open_mem");
    }
    if (len) memcpy(copy, data, len);
    kb->base = copy;
    kb->len = len;
    return open_image(kb, path ? path : "(memory)", out, err);
}

void kz_kb_close(kz_kb *kb) {
    if (!kb) return;
    if (kb->mapped)
        munmap((void *)kb->base, kb->len);
    else
        free((void *)kb->base);
    free(kb);
}

int kz_kb_verify(const kz_kb *kb, kz_error *err) {
    if (!kb) return kz_error_set(err, KZ_EINVAL, "kz_kb_verify: NULL pack");
    kz_sha256 *s = kz__sha256_new();
    if (!s) return kz_error_set(err, KZ_ENOMEM, "sha256 context");
    kz__sha256_update(s, kb->base + KZ_PACK_HEADER_BYTES, kb->len - KZ_PACK_HEADER_BYTES);
    uint8_t got[32];
    kz__sha256_final(s, got);
    if (memcmp(got, kb->h->body_hash, 32) != 0) {
        char a[65], b[65];
        kz__hex(kb->h->body_hash, 32, a);
        kz__hex(got, 32, b);
        return kz_error_set(err, KZ_EPARSE, "corrupt pack: body SHA-256 is %s, the header records %s", b, a);
    }
    return 0;
}

/* ---- bounds-checked access ------------------------------------------------------- */
static bool str_get(const kz_kb *kb, uint32_t ref, kz_str *out) {
    if (ref == KZ_PACK_NULL) {
        *out = KZ_STR_NULL;
        return true;
    }
    if (ref >= kb->pool_len) return false;
    const char *p = (const char *)kb->pool + ref;
    *out = (kz_str){p, strlen(p)}; /* validated: STRS ends with a NUL */
    return true;
}

/* The list at ref: *n items at *out. */
static bool list_get(const kz_kb *kb, uint32_t ref, const uint32_t **out, uint32_t *n) {
    if (ref >= kb->n_list || kb->list[ref] > kb->n_list - ref - 1) return false;
    *n = kb->list[ref];
    *out = kb->list + ref + 1;
    return true;
}

/* Resolve a list of string refs into an arena array. */
static int str_list(const kz_kb *kb, uint32_t ref, kz_arena *arena, const kz_str **out, uint32_t *n_out) {
    const uint32_t *l;
    uint32_t n;
    *out = NULL;
    *n_out = 0;
    if (!list_get(kb, ref, &l, &n)) return KZ_EPARSE;
    if (!n) return 0;
    if (!arena) return KZ_EINVAL;
    kz_str *a = kz_arena_alloc(arena, (size_t)n * sizeof *a);
    if (!a) return KZ_ENOMEM;
    for (uint32_t i = 0; i < n; i++)
        if (!str_get(kb, l[i], &a[i]) || !a[i].ptr) return KZ_EPARSE;
    *out = a;
    *n_out = n;
    return 0;
}

void kz_kb_get_info(const kz_kb *kb, kz_kb_info *out) {
    memset(out, 0, sizeof *out);
    if (!kb) return;
    out->format_version = kb->h->version;
    out->file_bytes = kb->len;
    out->name = (kz_str){kb->h->name, strnlen(kb->h->name, sizeof kb->h->name)};
    out->built_by = (kz_str){kb->h->built_by, strnlen(kb->h->built_by, sizeof kb->h->built_by)};
    out->n_parsers = (uint32_t)kb->n_parsers;
    out->n_ids = kb->n_ids;
    out->n_candidates = kb->n_cands;
    out->n_id_sets = kb->n_isets;
    out->n_resources = kb->n_res;
    out->n_keys = kb->n_keys;
    memcpy(out->input_hash, kb->h->input_hash, 32);
    memcpy(out->body_hash, kb->h->body_hash, 32);
}

/* ---- parsers --------------------------------------------------------------------- */
uint32_t kz_kb_n_parsers(const kz_kb *kb) { return kb ? (uint32_t)kb->n_parsers : 0; }

int kz_kb_parser_at(const kz_kb *kb, uint32_t i, kz_kb_parser *out) {
    if (!kb || !out) return KZ_EINVAL;
    memset(out, 0, sizeof *out);
    if (i >= kb->n_parsers) return KZ_ERANGE;
    const kz_pack_parser *p = &kb->parsers[i];
    if (!str_get(kb, p->name, &out->name) || !out->name.ptr ||
        !str_get(kb, p->entity_class, &out->entity_class) || !out->entity_class.ptr ||
        !str_get(kb, p->source, &out->source) || !str_get(kb, p->data_origin, &out->data_origin))
        return KZ_EPARSE;
    return 0;
}

int32_t kz_kb_parser_find(const kz_kb *kb, kz_str name) {
    if (!kb || !name.ptr) return -1;
    for (uint32_t i = 0; i < kb->n_parsers; i++) {
        kz_str s;
        if (str_get(kb, kb->parsers[i].name, &s) && s.ptr && kz_str_eq(s, name)) return (int32_t)i;
    }
    return -1;
}

/* ---- ids ------------------------------------------------------------------------- */
uint64_t kz_kb_n_ids(const kz_kb *kb) { return kb ? kb->n_ids : 0; }

int kz_kb_id_at(const kz_kb *kb, uint64_t i, kz_arena *arena, kz_kb_id *out) {
    if (!kb || !out) return KZ_EINVAL;
    memset(out, 0, sizeof *out);
    if (i >= kb->n_ids) return KZ_ERANGE;
    const kz_pack_id *d = &kb->ids[i];
    if (d->parser >= kb->n_parsers) return KZ_EPARSE;
    out->parser = d->parser;
    if (!str_get(kb, d->idx, &out->idx) || !out->idx.ptr ||
        !str_get(kb, d->default_label, &out->default_label) || !str_get(kb, d->source, &out->source) ||
        !str_get(kb, d->metadata_json, &out->metadata_json))
        return KZ_EPARSE;
    return str_list(kb, d->xrefs, arena, &out->xrefs, &out->n_xrefs);
}

int64_t kz_kb_id_find(const kz_kb *kb, uint32_t parser, kz_str idx) {
    if (!kb || !idx.ptr) return -1;
    uint64_t lo = 0, hi = kb->n_ids;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        const kz_pack_id *d = &kb->ids[mid];
        int c;
        if (d->parser != parser) {
            c = d->parser < parser ? -1 : 1;
        } else {
            kz_str s;
            if (!str_get(kb, d->idx, &s) || !s.ptr) return -1;
            c = kz_str_cmp(s, idx);
        }
        if (c == 0) return (int64_t)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

/* ---- candidates ------------------------------------------------------------------- */
uint64_t kz_kb_n_candidates(const kz_kb *kb) { return kb ? kb->n_cands : 0; }

uint32_t kz_kb_candidate_parser(const kz_kb *kb, uint64_t i) {
    return kb && i < kb->n_cands ? kb->cands[i].parser : UINT32_MAX;
}

int kz_kb_candidate_at(const kz_kb *kb, uint64_t i, kz_arena *arena, kz_candidate *out) {
    if (!kb || !out) return KZ_EINVAL;
    memset(out, 0, sizeof *out);
    if (i >= kb->n_cands) return KZ_ERANGE;
    const kz_pack_cand *c = &kb->cands[i];
    if (c->parser >= kb->n_parsers || !str_get(kb, kb->parsers[c->parser].name, &out->parser_name) ||
        !str_get(kb, c->synonym_norm, &out->synonym_norm) || !out->synonym_norm.ptr)
        return KZ_EPARSE;
    out->is_symbolic = c->flags & KZ_PACK_CAND_SYMBOLIC;
    out->aggregated_by = c->aggregated_by;
    int rc = str_list(kb, c->raw, arena, &out->raw_synonyms, &out->n_raw_synonyms);
    if (!rc) rc = str_list(kb, c->mapping_types, arena, &out->mapping_types, &out->n_mapping_types);
    if (rc) return rc;
    const uint32_t *sets;
    uint32_t n_sets;
    if (!list_get(kb, c->id_sets, &sets, &n_sets)) return KZ_EPARSE;
    if (!n_sets) return 0;
    if (!arena) return KZ_EINVAL;
    uint64_t total = 0;
    for (uint32_t k = 0; k < n_sets; k++) {
        const uint32_t *l;
        uint32_t n;
        if (sets[k] >= kb->n_isets || !list_get(kb, kb->isets[sets[k]], &l, &n) || (n & 1)) return KZ_EPARSE;
        total += n / 2;
        if (total > KZ_PACK_MAX_VIEW_IDS) return KZ_ELIMIT;
    }
    kz_equiv_id_set *es = kz_arena_alloc(arena, (size_t)n_sets * sizeof *es);
    kz_id_source *pairs = total ? kz_arena_alloc(arena, (size_t)total * sizeof *pairs) : NULL;
    if (!es || (total && !pairs)) return KZ_ENOMEM;
    uint64_t at = 0;
    for (uint32_t k = 0; k < n_sets; k++) {
        const uint32_t *l = NULL;
        uint32_t n = 0;
        if (!list_get(kb, kb->isets[sets[k]], &l, &n)) return KZ_EPARSE; /* checked above */
        es[k].ids = pairs ? pairs + at : NULL;
        es[k].n_ids = n / 2;
        for (uint32_t j = 0; j < n / 2; j++, at++)
            if (!str_get(kb, l[2 * j], &pairs[at].idx) || !pairs[at].idx.ptr ||
                !str_get(kb, l[2 * j + 1], &pairs[at].source))
                return KZ_EPARSE;
    }
    out->id_sets = es;
    out->n_id_sets = n_sets;
    return 0;
}

/* ---- key index ---------------------------------------------------------------------- */
/* Class index of entity_class, or -1. */
static int64_t class_find(const kz_kb *kb, kz_str cls) {
    for (uint64_t i = 0; i < kb->n_classes; i++) {
        kz_str s;
        if (str_get(kb, kb->classes[i], &s) && s.ptr && kz_str_eq(s, cls)) return (int64_t)i;
    }
    return -1;
}

/* The key entry for (class, norm): cls KZ_PACK_ANY_CLASS = the every-class
 * entry, or failing that the one class that holds norm. NULL if absent. */
static const kz_pack_key *key_find(const kz_kb *kb, uint32_t cls, kz_str norm) {
    uint64_t h = kz__pack_hash64(norm.ptr, norm.len, 0), mask = kb->key_cap - 1, i = h & mask;
    uint32_t tag = (uint32_t)(h >> 32);
    const kz_pack_key *fallback = NULL;
    for (uint64_t probe = 0; probe < kb->key_cap; probe++, i = (i + 1) & mask) {
        const kz_pack_key *k = &kb->keys[i];
        if (k->synonym_norm == KZ_PACK_NULL) break;
        if (k->tag != tag || (cls != KZ_PACK_ANY_CLASS && k->class_idx != cls)) continue;
        if (k->synonym_norm >= kb->pool_len || kb->pool_len - k->synonym_norm <= norm.len) continue;
        const char *s = (const char *)kb->pool + k->synonym_norm;
        if (s[norm.len] != 0 || (norm.len && memcmp(s, norm.ptr, norm.len))) continue;
        if (cls != KZ_PACK_ANY_CLASS || k->class_idx == KZ_PACK_ANY_CLASS) return k;
        if (!fallback) fallback = k;
    }
    return fallback;
}

/* The candidate indices of a key entry. */
static bool key_cands(const kz_kb *kb, const kz_pack_key *k, const uint32_t **ids, uint32_t *n) {
    if (k->n <= 1) {
        *ids = &k->cands;
        *n = k->n;
        return true;
    }
    return list_get(kb, k->cands, ids, n) && *n == k->n;
}

int kz_kb_lookup_norm(const kz_kb *kb, kz_str entity_class, kz_str synonym_norm, const uint32_t **ids,
                      size_t *n) {
    if (ids) *ids = k_empty_u32;
    if (n) *n = 0;
    if (!kb || !ids || !n || (!synonym_norm.ptr && synonym_norm.len)) return KZ_EINVAL;
    if (!synonym_norm.ptr) synonym_norm.ptr = "";
    uint32_t cls = KZ_PACK_ANY_CLASS;
    if (entity_class.ptr) {
        int64_t c = class_find(kb, entity_class);
        if (c < 0) return 0;
        cls = (uint32_t)c;
    }
    const kz_pack_key *k = key_find(kb, cls, synonym_norm);
    uint32_t m;
    if (!k) return 0;
    if (!key_cands(kb, k, ids, &m)) {
        *ids = k_empty_u32;
        return KZ_EPARSE;
    }
    *n = m;
    return 0;
}

/* Append the candidates of (class c, normalised text) to *out. */
static int lookup_class(const kz_kb *kb, uint32_t c, const char *text, size_t len, kz_arena *arena,
                        kz_kb_hit **out, size_t *n, kz_error *err) {
    kz_str cls;
    if (!str_get(kb, kb->classes[c], &cls) || !cls.ptr)
        return kz_error_set(err, KZ_EPARSE, "corrupt pack: class %u", c);
    char *norm = NULL;
    size_t norm_len = 0;
    int rc = kz_normalise(text, len, cls.ptr, &norm, &norm_len, err);
    if (rc) return rc;
    const kz_pack_key *k = key_find(kb, c, (kz_str){norm, norm_len});
    free(norm);
    if (!k) return 0;
    const uint32_t *ids;
    uint32_t m;
    kz_str key;
    if (!key_cands(kb, k, &ids, &m) || !str_get(kb, k->synonym_norm, &key))
        return kz_error_set(err, KZ_EPARSE, "corrupt pack: key index entry");
    if (!m) return 0;
    kz_kb_hit *a = kz_arena_alloc(arena, (*n + m) * sizeof *a);
    if (!a) return kz_error_set(err, KZ_ENOMEM, "kz_kb_lookup");
    if (*n) memcpy(a, *out, *n * sizeof *a);
    for (uint32_t i = 0; i < m; i++) a[*n + i] = (kz_kb_hit){ids[i], cls, key};
    *out = a;
    *n += m;
    return 0;
}

int kz_kb_lookup(const kz_kb *kb, const char *text, size_t len, const char *entity_class, kz_arena *arena,
                 kz_kb_hit **out, size_t *n, kz_error *err) {
    if (!kb || !arena || !out || !n || (!text && len))
        return kz_error_set(err, KZ_EINVAL, "kz_kb_lookup: bad arguments");
    if (*n && !*out) return kz_error_set(err, KZ_EINVAL, "kz_kb_lookup: *n > 0 with no array");
    if (!text) text = "";
    if (entity_class) {
        int64_t c = class_find(kb, kz_str_c(entity_class));
        if (c < 0) return 0;
        return lookup_class(kb, (uint32_t)c, text, len, arena, out, n, err);
    }
    for (uint64_t c = 0; c < kb->n_classes; c++) {
        int rc = lookup_class(kb, (uint32_t)c, text, len, arena, out, n, err);
        if (rc) return rc;
    }
    return 0;
}

/* ---- resources ------------------------------------------------------------------------ */
uint64_t kz_kb_n_resources(const kz_kb *kb) { return kb ? kb->n_res : 0; }

int kz_kb_resource_at(const kz_kb *kb, uint64_t i, kz_kb_resource *out) {
    if (!kb || !out) return KZ_EINVAL;
    memset(out, 0, sizeof *out);
    if (i >= kb->n_res) return KZ_ERANGE;
    const kz_pack_res *r = &kb->res[i];
    if (!str_get(kb, r->text, &out->text) || !out->text.ptr || r->candidate >= kb->n_cands) return KZ_EPARSE;
    out->candidate = r->candidate;
    out->case_sensitive = r->flags & KZ_PACK_RES_CASE_SENSITIVE;
    out->generated = r->flags & KZ_PACK_RES_GENERATED;
    out->mention_confidence = r->mention_confidence;
    out->behaviour = r->behaviour;
    return 0;
}

/* ---- sections ---------------------------------------------------------------------------- */
int kz_kb_section(const kz_kb *kb, uint32_t tag, const void **data, size_t *len) {
    if (!kb || !data || !len) return KZ_EINVAL;
    *data = NULL;
    *len = 0;
    for (uint32_t i = 0; i < kb->n_sections; i++)
        if (kb->table[i].tag == tag) {
            *data = kb->base + kb->table[i].offset;
            *len = kb->table[i].size;
            return 0;
        }
    return KZ_ENOTFOUND;
}

/* ---- behaviour names ------------------------------------------------------------------------ */
static const char *const k_behaviour[] = {"ADD_FOR_NER_AND_LINKING", "ADD_FOR_LINKING_ONLY",
                                          "DROP_FOR_LINKING"};

const char *kz_kb_behaviour_name(int v) { return v >= 0 && v <= 2 ? k_behaviour[v] : NULL; }

int kz_kb_behaviour_parse(kz_str name, int *out) {
    for (int i = 0; i <= 2; i++)
        if (kz_str_eq_c(name, k_behaviour[i])) {
            if (out) *out = i;
            return 0;
        }
    return KZ_EPARSE;
}

int kz__kb_pack_read_input_hash(const char *path, uint8_t out[32], kz_error *err) {
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT)
        return perr(err, path, KZ_ENOTFOUND, -1, "no pack at %s", path);
    kz_kb *kb;
    int rc = kz_kb_open(path, &kb, err);
    if (rc) return rc;
    memcpy(out, kb->h->input_hash, 32);
    kz_kb_close(kb);
    return 0;
}
