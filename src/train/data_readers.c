/* Training/evaluation corpus readers: CoNLL/IOB (MTL2016), brat standoff
 * pairs (a directory or a tar(.gz) archive), PubTator (through the document
 * reader), and the label map that turns corpus types into default classes. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../io/io_int.h"
#include "data_int.h"
#include "kazu/io.h"
#include "kazu/utf8.h"

#define GOLD_NS "gold"

int kz__read_file(const char *path, size_t cap, char **data, size_t *len, kz_error *err) {
    kz_input in;
    *data = NULL;
    *len = 0;
    int rc = kz__input_open_path(&in, path, err);
    if (rc) return rc;
    kz_buf b;
    kz__buf_init(&b, cap);
    char tmp[1 << 16];
    for (;;) {
        ptrdiff_t n = kz__input_read(&in, tmp, sizeof tmp);
        if (n < 0) {
            rc = kz_error_set(err, KZ_EIO, "%s: read error", path);
            break;
        }
        if (n == 0) break;
        if (kz__buf_append(&b, tmp, (size_t)n)) {
            rc = kz_error_set(err, KZ_ELIMIT, "%s: larger than %zu bytes", path, cap);
            break;
        }
    }
    kz__input_close(&in);
    if (!rc && kz__buf_append(&b, "", 0)) rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
    if (rc) {
        kz__buf_free(&b);
        return rc;
    }
    *data = b.data;
    *len = b.len;
    return 0;
}

/* ================================================================== CoNLL */

typedef struct conll_sent {
    kz_buf text;
    kz_span *ents;
    kz_str *types; /* point into the input */
    size_t n_ents, cap_ents;
    int64_t open_start;
    int64_t open_end; /* end of the open entity's last token (no trailing space) */
    kz_str open_type;
    size_t n_tok;
    int64_t line0;
} conll_sent;

static int sent_close_entity(conll_sent *s) {
    if (s->open_start < 0) return 0;
    if (s->n_ents == s->cap_ents) {
        size_t cap = s->cap_ents ? s->cap_ents * 2 : 16;
        kz_span *e = realloc(s->ents, cap * sizeof *e);
        if (!e) return KZ_ENOMEM;
        s->ents = e;
        kz_str *t = realloc(s->types, cap * sizeof *t);
        if (!t) return KZ_ENOMEM;
        s->types = t;
        s->cap_ents = cap;
    }
    s->ents[s->n_ents] = (kz_span){s->open_start, s->open_end};
    s->types[s->n_ents++] = s->open_type;
    s->open_start = -1;
    return 0;
}

static int sent_flush(conll_sent *s, const char *name, kz__doc_fn fn, void *user, kz__read_stats *st,
                      kz_error *err) {
    int rc = sent_close_entity(s);
    if (rc) return kz_error_set(err, rc, "out of memory");
    if (s->n_tok == 0) return 0;
    char id[300];
    snprintf(id, sizeof id, "%s:%lld", name, (long long)s->line0);
    kz_doc *doc = kz_doc_new(id, strlen(id));
    kz_section *sec;
    if (!doc) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    rc = kz_doc_add_section(doc, "text", 4, s->text.data, s->text.len, &sec, err);
    kz_span all = {0, (int64_t)s->text.len};
    if (!rc) rc = kz_section_set_sentence_spans(doc, sec, &all, 1, err);
    for (size_t i = 0; !rc && i < s->n_ents; i++) {
        kz_entity_init init = {.spans = &s->ents[i],
                               .n_spans = 1,
                               .entity_class = s->types[i],
                               .namespace_ = kz_str_c(GOLD_NS),
                               .mention_confidence = KZ_MENTION_HIGHLY_LIKELY};
        rc = kz_section_add_entity(doc, sec, &init, NULL, err);
    }
    s->n_tok = 0;
    s->n_ents = 0;
    kz__buf_clear(&s->text);
    if (rc) {
        kz_doc_free(doc);
        return rc;
    }
    if (st) st->docs++, st->sentences++;
    return fn(doc, user);
}

static void warn_line(const char *name, int64_t line, const char *what, kz__read_stats *st) {
    kz_log(KZ_LOG_WARN, "%s:%lld: %s; line skipped", name, (long long)line, what);
    if (st) st->skipped_records++;
}

int kz__conll_parse(const char *data, size_t len, const char *name, kz__doc_fn fn, void *user,
                    kz__read_stats *st, kz_error *err) {
    conll_sent s = {.open_start = -1};
    kz__buf_init(&s.text, KZ_TRAIN_MAX_FILE);
    int rc = 0;
    int64_t line = 0;
    size_t pos = 0;
    if (!name) name = "<conll>";
    while (!rc && pos < len) {
        const char *l = data + pos;
        const char *nl = memchr(l, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - l) : len - pos;
        pos += ll + (nl ? 1 : 0);
        line++;
        if (ll && l[ll - 1] == '\r') ll--;
        size_t a = 0;
        while (a < ll && (l[a] == ' ' || l[a] == '\t')) a++;
        if (a == ll || (ll >= 10 && memcmp(l, "-DOCSTART-", 10) == 0)) {
            rc = sent_flush(&s, name, fn, user, st, err);
            continue;
        }
        if (ll > KZ_TRAIN_MAX_LINE) {
            warn_line(name, line, "line too long", st);
            continue;
        }
        if (!kz_utf8_valid(l, ll, NULL)) {
            warn_line(name, line, "invalid UTF-8", st);
            continue;
        }
        /* token = first field, tag = last field (tab-separated, or space-separated) */
        char sep = memchr(l, '\t', ll) ? '\t' : ' ';
        const char *e1 = memchr(l, sep, ll);
        const char *lastsep = NULL;
        for (size_t i = ll; i > 0; i--)
            if (l[i - 1] == sep) {
                lastsep = l + i - 1;
                break;
            }
        if (!e1 || e1 == l || !lastsep || (size_t)(lastsep - l) + 1 >= ll) {
            warn_line(name, line, "expected 'token<TAB>tag'", st);
            continue;
        }
        kz_str tok = {l, (size_t)(e1 - l)};
        kz_str tag = {lastsep + 1, ll - (size_t)(lastsep + 1 - l)};
        char p = tag.ptr[0];
        bool is_o = tag.len == 1 && p == 'O';
        if (!is_o && !((p == 'B' || p == 'I') && tag.len > 2 && tag.ptr[1] == '-')) {
            warn_line(name, line, "tag is neither O nor B-<type>/I-<type>", st);
            continue;
        }
        if (s.n_tok >= KZ_TRAIN_MAX_SENT_TOK) {
            warn_line(name, line, "sentence has too many tokens", st);
            continue;
        }
        if (s.n_tok == 0) s.line0 = line;
        if (s.n_tok && kz__buf_putc(&s.text, ' ')) rc = KZ_ENOMEM;
        int64_t start = (int64_t)s.text.len;
        kz_str type = is_o ? KZ_STR_NULL : (kz_str){tag.ptr + 2, tag.len - 2};
        /* seqeval: B starts; I continues an open chunk of the same type, else starts one; O closes */
        bool cont = !is_o && p == 'I' && s.open_start >= 0 && kz_str_eq(type, s.open_type);
        if (!rc && !cont) rc = sent_close_entity(&s);
        if (!rc && !is_o && !cont) {
            s.open_start = start;
            s.open_type = type;
        }
        if (!rc && kz__buf_append(&s.text, tok.ptr, tok.len)) rc = KZ_ENOMEM;
        if (!rc && s.open_start >= 0) s.open_end = (int64_t)s.text.len;
        if (rc) rc = kz_error_set(err, rc, "out of memory or sentence too large");
        s.n_tok++;
    }
    if (!rc) rc = sent_flush(&s, name, fn, user, st, err);
    kz__buf_free(&s.text);
    free(s.ents);
    free(s.types);
    return rc;
}

/* ================================================================== brat */

static bool parse_u64(const char **p, const char *end, int64_t *out) {
    const char *s = *p;
    int64_t v = 0;
    if (s >= end || *s < '0' || *s > '9') return false;
    while (s < end && *s >= '0' && *s <= '9') {
        if (v > (INT64_MAX - 9) / 10) return false;
        v = v * 10 + (*s++ - '0');
    }
    *p = s;
    *out = v;
    return true;
}

#define BRAT_MAX_FRAGS 32

int kz__brat_parse(const char *id, const char *txt, size_t txt_len, const char *ann, size_t ann_len,
                   kz_doc **out, size_t *n_bad, kz_error *err) {
    *out = NULL;
    size_t bad;
    if (!kz_utf8_valid(txt, txt_len, &bad))
        return kz_error_set(err, KZ_EUTF8, "%s.txt: invalid UTF-8 at byte %zu", id, bad);
    kz_doc *doc = kz_doc_new(id, strlen(id));
    if (!doc) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    kz_section *sec;
    int rc = kz_doc_add_section(doc, "text", 4, txt, txt_len, &sec, err);
    kz_offset_map *map = rc ? NULL : kz_offset_map_new(doc->arena, sec->text.ptr, sec->text.len);
    if (!rc && !map) rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
    int64_t cp_len = map ? kz_offset_map_cp_len(map) : 0;
    size_t pos = 0;
    int64_t line = 0;
    while (!rc && pos < ann_len) {
        const char *l = ann + pos;
        const char *nl = memchr(l, '\n', ann_len - pos);
        size_t ll = nl ? (size_t)(nl - l) : ann_len - pos;
        pos += ll + (nl ? 1 : 0);
        line++;
        if (ll == 0 || l[0] != 'T') continue; /* relations, events, notes, ... */
        const char *end = l + ll;
        const char *t1 = memchr(l, '\t', ll);
        const char *t2 = t1 ? memchr(t1 + 1, '\t', (size_t)(end - t1 - 1)) : NULL;
        const char *mid_end = t2 ? t2 : end;
        const char *sp = t1 ? memchr(t1 + 1, ' ', (size_t)(mid_end - t1 - 1)) : NULL;
        kz_span frags[BRAT_MAX_FRAGS];
        size_t nf = 0;
        bool ok = t1 && sp && sp > t1 + 1;
        const char *q = ok ? sp + 1 : NULL;
        while (ok) {
            int64_t s, e;
            if (!parse_u64(&q, mid_end, &s) || q >= mid_end || *q++ != ' ' || !parse_u64(&q, mid_end, &e) ||
                s >= e || e > cp_len || nf == BRAT_MAX_FRAGS) {
                ok = false;
                break;
            }
            frags[nf++] = (kz_span){kz_offset_map_to_byte(map, s), kz_offset_map_to_byte(map, e)};
            if (q == mid_end) break;
            if (*q++ != ';') ok = false;
        }
        if (!ok || nf == 0 || !kz_utf8_valid(t1 + 1, (size_t)(sp - t1 - 1), NULL)) {
            kz_log(KZ_LOG_WARN, "%s.ann:%lld: not a valid text-bound annotation; skipped", id,
                   (long long)line);
            if (n_bad) (*n_bad)++;
            continue;
        }
        kz_entity_init init = {.spans = frags,
                               .n_spans = nf,
                               .join_str = " ",
                               .entity_class = {t1 + 1, (size_t)(sp - t1 - 1)},
                               .namespace_ = kz_str_c(GOLD_NS),
                               .mention_confidence = KZ_MENTION_HIGHLY_LIKELY};
        rc = kz_section_add_entity(doc, sec, &init, NULL, err);
    }
    if (rc) {
        kz_doc_free(doc);
        return rc;
    }
    *out = doc;
    return 0;
}

/* ================================================================== tar */

static bool octal(const char *p, size_t n, uint64_t *out) {
    uint64_t v = 0;
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == 0)) i++;
    if (i == n) {
        *out = 0;
        return true;
    }
    for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) {
        if (v >> 60) return false;
        v = v * 8 + (uint64_t)(p[i] - '0');
    }
    for (; i < n; i++)
        if (p[i] != ' ' && p[i] != 0) return false;
    *out = v;
    return true;
}

int kz__tar_each(const char *data, size_t len, kz__tar_fn fn, void *user, kz_error *err) {
    size_t pos = 0;
    char longname[4096];
    bool have_long = false;
    while (pos + 512 <= len) {
        const char *h = data + pos;
        bool zero = true;
        for (int i = 0; i < 512 && zero; i++) zero = h[i] == 0;
        if (zero) break;
        uint64_t size;
        if (!octal(h + 124, 12, &size))
            return kz_error_set(err, KZ_EPARSE, "tar: bad size field at byte %zu", pos);
        pos += 512;
        if (size > len - pos)
            return kz_error_set(err, KZ_EPARSE, "tar: entry at byte %zu is truncated", pos - 512);
        char type = h[156];
        char name[4352];
        if (have_long) {
            snprintf(name, sizeof name, "%s", longname);
            have_long = false;
        } else {
            size_t pl = strnlen(h + 345, 155), nl = strnlen(h, 100);
            if (memcmp(h + 257, "ustar", 5) == 0 && pl)
                snprintf(name, sizeof name, "%.*s/%.*s", (int)pl, h + 345, (int)nl, h);
            else
                snprintf(name, sizeof name, "%.*s", (int)nl, h);
        }
        if (type == 'L') {
            size_t n = KZ_MIN((size_t)size, sizeof longname - 1);
            memcpy(longname, data + pos, n);
            longname[n] = 0;
            longname[strnlen(longname, n)] = 0;
            have_long = true;
        } else if (type == '0' || type == 0) {
            int rc = fn(name, data + pos, (size_t)size, user);
            if (rc) return rc;
        }
        size_t adv = ((size_t)size + 511) & ~(size_t)511;
        if (adv > len - pos) break;
        pos += adv;
    }
    return 0;
}

typedef struct brat_file {
    char *stem;
    const char *txt, *ann;
    size_t txt_len, ann_len;
} brat_file;

typedef struct brat_set {
    brat_file *v;
    size_t n, cap;
} brat_set;

static int brat_collect(const char *name, const char *data, size_t len, void *user) {
    brat_set *s = user;
    size_t nl = strlen(name);
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    if (base[0] == '.' || nl < 5) return 0;
    bool is_txt = strcmp(name + nl - 4, ".txt") == 0, is_ann = strcmp(name + nl - 4, ".ann") == 0;
    if (!is_txt && !is_ann) return 0;
    size_t sl = nl - 4;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        brat_file *v = realloc(s->v, cap * sizeof *v);
        if (!v) return KZ_ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    brat_file *f = &s->v[s->n];
    memset(f, 0, sizeof *f);
    f->stem = strndup(name, sl);
    if (!f->stem) return KZ_ENOMEM;
    s->n++;
    if (is_txt)
        f->txt = data, f->txt_len = len;
    else
        f->ann = data, f->ann_len = len;
    return 0;
}

static int stem_cmp(const void *a, const void *b) {
    return strcmp(((const brat_file *)a)->stem, ((const brat_file *)b)->stem);
}

static int brat_set_emit(brat_set *s, const char *name, kz__doc_fn fn, void *user, kz__read_stats *st,
                         kz_error *err) {
    if (s->n) qsort(s->v, s->n, sizeof *s->v, stem_cmp);
    /* merge the .txt and .ann entries of one stem (a repeated file: the last wins) */
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (k && !strcmp(s->v[k - 1].stem, s->v[i].stem)) {
            brat_file *d = &s->v[k - 1];
            if (s->v[i].txt) d->txt = s->v[i].txt, d->txt_len = s->v[i].txt_len;
            if (s->v[i].ann) d->ann = s->v[i].ann, d->ann_len = s->v[i].ann_len;
            free(s->v[i].stem);
            continue;
        }
        s->v[k++] = s->v[i];
    }
    s->n = k;
    int rc = 0;
    for (size_t i = 0; !rc && i < s->n; i++) {
        brat_file *f = &s->v[i];
        if (!f->txt) {
            kz_log(KZ_LOG_WARN, "%s: %s.ann has no .txt; skipped", name, f->stem);
            if (st) st->skipped_records++;
            continue;
        }
        const char *base = strrchr(f->stem, '/');
        base = base ? base + 1 : f->stem;
        kz_doc *doc;
        size_t bad = 0;
        kz_error e2;
        kz_error_clear(&e2);
        int r = kz__brat_parse(base, f->txt, f->txt_len, f->ann ? f->ann : "", f->ann_len, &doc, &bad, &e2);
        if (st) st->skipped_records += bad;
        if (r == KZ_ENOMEM) rc = kz_error_set(err, r, "out of memory");
        if (r) {
            kz_log(KZ_LOG_WARN, "%s: %s: %s; document skipped", name, f->stem, e2.msg);
            if (st) st->skipped_records++;
            continue;
        }
        if (st) st->docs++;
        rc = fn(doc, user);
    }
    for (size_t i = 0; i < s->n; i++) free(s->v[i].stem);
    free(s->v);
    memset(s, 0, sizeof *s);
    return rc;
}

int kz__brat_tar_parse(const char *data, size_t len, const char *name, kz__doc_fn fn, void *user,
                       kz__read_stats *st, kz_error *err) {
    brat_set s = {0};
    int rc = kz__tar_each(data, len, brat_collect, &s, err);
    if (rc == KZ_ENOMEM) kz_error_set(err, rc, "out of memory");
    if (rc) {
        for (size_t i = 0; i < s.n; i++) free(s.v[i].stem);
        free(s.v);
        return rc;
    }
    return brat_set_emit(&s, name ? name : "<tar>", fn, user, st, err);
}

/* A brat directory: every <x>.txt with its <x>.ann. */
static int brat_dir_read(const char *dir, kz__doc_fn fn, void *user, kz__read_stats *st, kz_error *err) {
    DIR *d = opendir(dir);
    if (!d) return kz_error_set(err, KZ_EIO, "%s: cannot open directory", dir);
    brat_set s = {0};
    char **bufs = NULL;
    size_t n_bufs = 0, cap_bufs = 0;
    int rc = 0;
    struct dirent *de;
    while (!rc && (de = readdir(d))) {
        size_t nl = strlen(de->d_name);
        if (nl < 5 || (strcmp(de->d_name + nl - 4, ".txt") && strcmp(de->d_name + nl - 4, ".ann"))) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        char *buf;
        size_t bl;
        if ((rc = kz__read_file(path, KZ_TRAIN_MAX_FILE, &buf, &bl, err))) break;
        if (n_bufs == cap_bufs) {
            cap_bufs = cap_bufs ? cap_bufs * 2 : 64;
            char **nb = realloc(bufs, cap_bufs * sizeof *nb);
            if (!nb) {
                free(buf);
                rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
                break;
            }
            bufs = nb;
        }
        bufs[n_bufs++] = buf;
        if (brat_collect(de->d_name, buf, bl, &s)) rc = kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    closedir(d);
    if (!rc)
        rc = brat_set_emit(&s, dir, fn, user, st, err);
    else {
        for (size_t i = 0; i < s.n; i++) free(s.v[i].stem);
        free(s.v);
    }
    for (size_t i = 0; i < n_bufs; i++) free(bufs[i]);
    free(bufs);
    return rc;
}

/* ================================================================== label map */

static kz_str entity_type(const kz_entity *e) {
    kz_str t = kz_meta_get(&e->metadata, "pubtator_type");
    if (t.ptr && t.len >= 2 && t.ptr[0] == '"' && t.ptr[t.len - 1] == '"' && !memchr(t.ptr, '\\', t.len))
        return (kz_str){t.ptr + 1, t.len - 2};
    return e->entity_class;
}

static uint32_t map_lookup(const kz__corpus_spec *c, kz_str type) {
    for (uint32_t i = 0; i < c->n_map; i++)
        if (kz_str_eq_c(type, c->map[i].type)) return c->map[i].classes;
    return 0;
}

static bool keep_mapped(const kz_entity *e, void *user) {
    (void)user;
    return e->entity_class.len > 0;
}

int kz__apply_label_map(const kz__corpus_spec *c, kz_doc **pdoc, size_t *n_dropped, kz_error *err) {
    kz_doc *doc = *pdoc;
    for (uint32_t s = 0; s < doc->n_sections; s++) {
        kz_section *sec = doc->sections[s];
        uint32_t n0 = sec->n_entities;
        for (uint32_t i = 0; i < n0; i++) {
            kz_entity *e = sec->entities[i];
            kz_str type = entity_type(e);
            uint32_t bits = map_lookup(c, type);
            if (!bits && type.ptr != e->entity_class.ptr) bits = map_lookup(c, e->entity_class);
            bool first = true;
            for (int k = 0; k < KZ_TRAIN_N_CLASSES; k++) {
                if (!(bits & (1u << k))) continue;
                kz_str cls = kz_str_c(kz__train_classes[k]);
                if (first) {
                    e->entity_class = cls; /* static string: outlives the document */
                    first = false;
                    continue;
                }
                kz_entity_init init = {.spans = e->spans,
                                       .n_spans = e->n_spans,
                                       .match = e->match,
                                       .entity_class = cls,
                                       .namespace_ = e->namespace_,
                                       .mention_confidence = e->mention_confidence};
                int rc = kz_section_add_entity(doc, sec, &init, NULL, err);
                if (rc) return rc;
                e = sec->entities[i];
            }
            if (first) {
                e->entity_class = (kz_str){"", 0};
                if (n_dropped) (*n_dropped)++;
            }
        }
        kz_section_filter_entities(sec, keep_mapped, NULL);
    }
    return 0;
}

/* ================================================================== overlap exclusion */

#define KEY_LEN 48

/* Lower-cased ASCII alphanumerics of s, up to KEY_LEN, appended to key. */
static size_t key_add(char *key, size_t n, const char *s, size_t len) {
    for (size_t i = 0; i < len && n < KEY_LEN; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) key[n++] = c;
    }
    return n;
}

typedef struct key_set {
    char (*k)[KEY_LEN + 1];
    size_t n, cap;
} key_set;

static int keys_of_conll(const char *path, key_set *ks, kz_error *err) {
    char *data;
    size_t len;
    int rc = kz__read_file(path, KZ_TRAIN_MAX_FILE, &data, &len, err);
    if (rc) return rc;
    size_t pos = 0, kn = 0;
    bool in_doc = false;
    char key[KEY_LEN + 1];
    while (pos < len) {
        const char *l = data + pos;
        const char *nl = memchr(l, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - l) : len - pos;
        pos += ll + (nl ? 1 : 0);
        if (ll >= 10 && memcmp(l, "-DOCSTART-", 10) == 0) {
            in_doc = true;
            kn = 0;
            continue;
        }
        if (!in_doc) continue;
        const char *tab = memchr(l, '\t', ll);
        kn = key_add(key, kn, l, tab ? (size_t)(tab - l) : ll);
        if (kn == KEY_LEN) {
            if (ks->n == ks->cap) {
                size_t cap = ks->cap ? ks->cap * 2 : 256;
                void *v = realloc(ks->k, cap * sizeof *ks->k);
                if (!v) {
                    free(data);
                    return kz_error_set(err, KZ_ENOMEM, "out of memory");
                }
                ks->k = v;
                ks->cap = cap;
            }
            key[KEY_LEN] = 0;
            memcpy(ks->k[ks->n++], key, KEY_LEN + 1);
            in_doc = false;
        }
    }
    free(data);
    return 0;
}

static bool doc_in_keys(const kz_doc *doc, const key_set *ks) {
    char key[KEY_LEN + 1];
    size_t kn = 0;
    for (uint32_t s = 0; s < doc->n_sections && kn < KEY_LEN; s++)
        kn = key_add(key, kn, doc->sections[s]->text.ptr, doc->sections[s]->text.len);
    if (kn < KEY_LEN) return false;
    key[KEY_LEN] = 0;
    for (size_t i = 0; i < ks->n; i++)
        if (memcmp(ks->k[i], key, KEY_LEN) == 0) return true;
    return false;
}

/* ================================================================== corpus */

typedef struct map_ctx {
    const kz__corpus_spec *c;
    kz__doc_fn fn;
    void *user;
    kz__read_stats *st;
    key_set *excl;
    kz_error *err;
} map_ctx;

static int map_and_forward(kz_doc *doc, void *user) {
    map_ctx *m = user;
    if (m->excl && doc_in_keys(doc, m->excl)) {
        m->st->excluded_docs++;
        kz_doc_free(doc);
        return 0;
    }
    int rc = kz__apply_label_map(m->c, &doc, &m->st->dropped_entities, m->err);
    if (rc) {
        kz_doc_free(doc);
        return rc;
    }
    return m->fn(doc, m->user);
}

int kz__corpus_read(const kz__corpus_spec *c, kz__doc_fn fn, void *user, kz__read_stats *st, kz_error *err) {
    kz__read_stats local = {0};
    if (!st) st = &local;
    key_set ks = {0};
    map_ctx m = {c, fn, user, st, NULL, err};
    int rc = 0;
    if (c->exclude_overlap) {
        rc = keys_of_conll(c->exclude_overlap, &ks, err);
        m.excl = &ks;
    }
    if (rc) return rc;
    if (!strcmp(c->format, "brat")) {
        rc = brat_dir_read(c->path, map_and_forward, &m, st, err);
    } else if (!strcmp(c->format, "pubtator")) {
        kz_reader *r = NULL;
        rc = kz_reader_open_path(&r, c->path, KZ_FORMAT_PUBTATOR, NULL, err);
        while (!rc) {
            kz_doc *doc;
            kz_error e2;
            kz_error_clear(&e2);
            int k = kz_reader_next(r, &doc, &e2);
            if (k == 0) break;
            if (k < 0) {
                char b[700];
                kz_log(KZ_LOG_WARN, "%s", kz_error_format(&e2, b, sizeof b));
                st->skipped_records++;
                continue;
            }
            st->docs++;
            rc = map_and_forward(doc, &m);
        }
        if (r && !rc) st->skipped_records += (size_t)kz_reader_warnings(r);
        kz_reader_close(r);
    } else {
        char *data;
        size_t len;
        rc = kz__read_file(c->path, KZ_TRAIN_MAX_FILE, &data, &len, err);
        if (!rc) {
            if (!strcmp(c->format, "conll"))
                rc = kz__conll_parse(data, len, c->name, map_and_forward, &m, st, err);
            else
                rc = kz__brat_tar_parse(data, len, c->path, map_and_forward, &m, st, err);
            free(data);
        }
    }
    free(ks.k);
    return rc;
}
