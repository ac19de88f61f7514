/* The JSON record source shared by the JSON readers, and the JSONL / Kazu
 * JSON reader: {"id","text"}, {"id","sections":{name:text}} or full Kazu
 * Document objects, one per line, pretty-printed, or in a top-level array. */
#include <stdlib.h>
#include "json_int.h"

#define KZ_JSON_CHUNK (64 * 1024)
#define KZ_JSON_FLAGS (JSON_DECODE_ANY | JSON_ALLOW_NUL)

static bool is_ws(int c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

static size_t bom_len(const char *p, size_t n) {
    return n >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB && (unsigned char)p[2] == 0xBF
               ? 3
               : 0;
}

/* ---- parse errors ------------------------------------------------------------ */
int kz__json_parse_code(const json_error_t *je) {
    switch (json_error_code(je)) {
    case json_error_invalid_utf8: return KZ_EUTF8;
    case json_error_numeric_overflow: return KZ_ERANGE;
    case json_error_out_of_memory: return KZ_ENOMEM;
    default: return KZ_EPARSE;
    }
}

void kz__json_locate_parse_error(kz_error *err, const json_error_t *je, const char *text, size_t len,
                                 int64_t line, int64_t offset) {
    if (!err) return;
    /* jansson's position counts the bytes it consumed, the culprit included;
     * for bad UTF-8 it stops short, so find the byte ourselves. */
    size_t at = je->position > 0 ? (size_t)je->position - 1 : 0, bad;
    if (json_error_code(je) == json_error_invalid_utf8 && !kz_utf8_valid(text, len, &bad)) at = bad;
    if (at > len) at = len;
    size_t line_start = 0;
    for (size_t i = 0; i < at; i++) {
        if (text[i] == '\n') {
            line++;
            line_start = i + 1;
        }
    }
    err->line = line;
    err->column = (int64_t)(at - line_start) + 1;
    err->offset = offset + (int64_t)at;
}

/* ---- record source --------------------------------------------------------------- */
/* The first line decides the mode: '[' or an incomplete value means the input
 * is not JSONL. Peeking leaves the bytes in the stream. */
static bool wants_value_mode(kz_reader *r) {
    char *head = malloc(KZ_JSON_CHUNK);
    if (!head) return false;
    size_t n = kz__input_peek(&r->in, head, KZ_JSON_CHUNK);
    size_t i = bom_len(head, n);
    while (i < n && is_ws(head[i])) i++;
    bool value = false;
    if (i < n && head[i] == '[') {
        value = true;
    } else if (i < n) {
        const char *nl = memchr(head + i, '\n', n - i);
        json_error_t je;
        json_t *v = nl ? json_loadb(head + i, (size_t)(nl - (head + i)), KZ_JSON_FLAGS, &je) : NULL;
        value = nl && !v && json_error_code(&je) == json_error_premature_end_of_input;
        json_decref(v);
    }
    free(head);
    return value;
}

int kz__json_src_init(kz_json_src *s, kz_reader *r, const char *const *unwrap) {
    memset(s, 0, sizeof *s);
    s->r = r;
    s->line = 1;
    s->unwrap = unwrap;
    kz__buf_init(&s->rec, 0);
    s->value_mode = unwrap || wants_value_mode(r);
    if (s->value_mode && !(s->chunk = malloc(KZ_JSON_CHUNK))) return KZ_ENOMEM;
    return 0;
}

void kz__json_src_free(kz_json_src *s) {
    kz__buf_free(&s->rec);
    free(s->chunk);
    s->chunk = NULL;
}

void kz__json_src_locate(const kz_json_src *s, kz_error *err) {
    kz__reader_locate(s->r, err, s->rec_line, s->rec_offset);
    if (err) err->column = 0;
}

static int parse_record(kz_json_src *s, const char *text, size_t len, json_t **out, kz_error *err) {
    json_error_t je;
    *out = json_loadb(text, len, KZ_JSON_FLAGS, &je);
    if (*out) return 0;
    kz__reader_locate(s->r, err, 0, -1);
    kz__json_locate_parse_error(err, &je, text, len, s->rec_line, s->rec_offset);
    return kz_error_set(err, kz__json_parse_code(&je), "malformed JSON: %s", je.text);
}

static int input_error(kz_json_src *s, int rc, kz_error *err) {
    s->r->done = true;
    kz__reader_locate(s->r, err, s->line, s->offset);
    if (rc == KZ_ENOMEM) return kz_error_set(err, rc, "out of memory reading input");
    return kz_error_set(err, rc, "%s", s->r->in.errmsg[0] ? s->r->in.errmsg : "read failed");
}

static int next_line(kz_json_src *s, json_t **out, kz_error *err) {
    kz_reader *r = s->r;
    for (;;) {
        int64_t start = r->in.offset;
        int rc = kz__input_getline(&r->in, &s->rec, r->p.max_record_bytes);
        if (rc == 0) return 0;
        s->rec_line = r->in.line;
        s->rec_offset = start;
        if (rc == KZ_ELIMIT) {
            kz__json_src_locate(s, err);
            return kz_error_set(err, KZ_ELIMIT,
                                "line longer than the record limit of %zu bytes (max_record_bytes); skipped",
                                r->p.max_record_bytes);
        }
        if (rc < 0) {
            s->line = r->in.line;
            s->offset = r->in.offset;
            return input_error(s, rc, err);
        }
        const char *p = s->rec.data;
        size_t n = s->rec.len;
        if (s->rec_line == 1) {
            size_t b = bom_len(p, n);
            p += b;
            n -= b;
            s->rec_offset += (int64_t)b;
        }
        size_t i = 0;
        while (i < n && is_ws(p[i])) i++;
        if (i == n) continue; /* blank line */
        int prc = parse_record(s, p, n, out, err);
        return prc ? prc : 1;
    }
}

/* Value mode: refill the window; 1 data, 0 end of input, <0 error. */
static int vfill(kz_json_src *s) {
    if (s->chunk_pos < s->chunk_len) return 1;
    if (s->eof) return 0;
    ptrdiff_t got = kz__input_read(&s->r->in, s->chunk, KZ_JSON_CHUNK);
    if (got < 0) return (int)got;
    s->chunk_len = (size_t)got;
    s->chunk_pos = 0;
    if (got == 0) s->eof = true;
    return got > 0;
}

static void vadvance(kz_json_src *s, size_t n) {
    const char *p = s->chunk + s->chunk_pos;
    for (const char *q = p; (q = memchr(q, '\n', (size_t)(p + n - q))) != NULL; q++) s->line++;
    s->chunk_pos += n;
    s->offset += (int64_t)n;
}

/* Skip whitespace; *c = next byte or -1 at end of input. */
static int vskip_ws(kz_json_src *s, int *c, kz_error *err) {
    for (;;) {
        int f = vfill(s);
        if (f < 0) return input_error(s, f, err);
        if (f == 0) {
            *c = -1;
            return 0;
        }
        const char *p = s->chunk + s->chunk_pos;
        size_t n = s->chunk_len - s->chunk_pos, i = 0;
        if (s->offset == 0) i = bom_len(p, n);
        while (i < n && is_ws(p[i])) i++;
        vadvance(s, i);
        if (i < n) {
            *c = (unsigned char)p[i];
            return 0;
        }
    }
}

/* Is the key just read (key[0..kl), kl > sizeof key when too long) one to unwrap? */
static bool unwrap_key(const kz_json_src *s, const char *key, size_t kl) {
    for (const char *const *u = s->unwrap; u && *u; u++)
        if (strlen(*u) == kl && memcmp(*u, key, kl) == 0) return true;
    return false;
}

enum { KZ__UNWRAP = 1 };

/* Append one JSON value (starting at a non-space byte) to s->rec by matching
 * brackets outside strings; parsing is left to jansson. With s->unwrap, a
 * top-level object stops at `"<unwrap key>": [` and returns KZ__UNWRAP with
 * the stream just past the '[', so a collection's documents stream one by one. */
static int vscan(kz_json_src *s, bool top, kz_error *err) {
    size_t cap = s->r->p.max_record_bytes;
    char first = s->chunk[s->chunk_pos];
    bool literal = first != '{' && first != '[' && first != '"';
    bool in_str = false, esc = false, over = false, broken = false, done = false, unwrap = false;
    /* Member-key tracking at depth 1 of a top-level object (unwrap mode only). */
    bool watch = top && s->unwrap && first == '{', want_key = false, in_key = false, after_key = false,
         after_colon = false;
    char key[16];
    size_t kl = 0;
    int depth = 0;
    while (!done) {
        int f = vfill(s);
        if (f < 0) return input_error(s, f, err);
        if (f == 0) {
            if (literal) break;
            s->r->done = true;
            kz__json_src_locate(s, err);
            return kz_error_set(err, KZ_EPARSE, "input ends inside the JSON value that starts here");
        }
        const char *p = s->chunk + s->chunk_pos;
        size_t n = s->chunk_len - s->chunk_pos, i = 0;
        for (; i < n; i++) {
            char c = p[i];
            if (in_str) {
                if (esc) {
                    esc = false;
                } else if (c == '\\') {
                    esc = true;
                    kl = sizeof key + 1; /* an escaped key is never one we unwrap */
                } else if (c == '"') {
                    in_str = false;
                    if (in_key) in_key = false, after_key = true;
                    if (depth == 0) {
                        i++;
                        done = true;
                        break;
                    }
                } else if (c == '\n') {
                    broken = done = true; /* JSON strings never span lines: resync here */
                    break;
                } else if (in_key && kl < sizeof key) {
                    key[kl++] = c;
                } else if (in_key) {
                    kl = sizeof key + 1;
                }
            } else if (literal) {
                /* Junk between top-level values is one bad record up to the line's end. */
                if (top ? c == '\n' : is_ws(c) || c == ',' || c == ']' || c == '}') {
                    done = true;
                    break;
                }
            } else if (is_ws(c)) {
                continue;
            } else if (after_colon && c == '[' && depth == 1 && unwrap_key(s, key, kl)) {
                i++;
                unwrap = done = true;
                break;
            } else if ((after_colon = false), c == '"') {
                in_str = true;
                if (want_key && depth == 1) in_key = true, kl = 0;
                want_key = false;
            } else if (c == ':') {
                after_colon = after_key && depth == 1;
                after_key = false;
            } else if (c == '{' || c == '[') {
                depth++;
                want_key = watch && depth == 1;
            } else if ((c == '}' || c == ']') && --depth == 0) {
                i++;
                done = true;
                break;
            } else if (c == ',' && depth == 1) {
                want_key = watch;
            }
        }
        if (!over && s->rec.len + i > cap) over = true;
        if (!over) {
            int rc = kz__buf_append(&s->rec, p, i);
            if (rc) return input_error(s, rc, err);
        }
        vadvance(s, i);
    }
    if (unwrap) return KZ__UNWRAP; /* the collection's header is not kept */
    if (broken) {
        kz__reader_locate(s->r, err, s->line, s->offset);
        return kz_error_set(err, KZ_EPARSE,
                            "malformed JSON: line break inside a string (value starts at line %lld)",
                            (long long)s->rec_line);
    }
    if (over) {
        kz__json_src_locate(s, err);
        return kz_error_set(
            err, KZ_ELIMIT,
            "JSON value larger than the record limit of %zu bytes (max_record_bytes); skipped", cap);
    }
    return 0;
}

static int structural(kz_json_src *s, kz_error *err, const char *what) {
    s->r->done = true;
    kz__reader_locate(s->r, err, s->line, s->offset);
    return kz_error_set(err, KZ_EPARSE, "malformed JSON: %s", what);
}

/* Copy the next value into s->rec (cleared), noting where it starts. */
static int vrecord(kz_json_src *s, bool top, kz_error *err) {
    kz__buf_clear(&s->rec);
    s->rec_line = s->line;
    s->rec_offset = s->offset;
    return vscan(s, top, err);
}

/* After the unwrapped array: the wrapper's other members (skipped) and its '}'. */
static int close_wrapper(kz_json_src *s, kz_error *err) {
    for (;;) {
        int c, rc = vskip_ws(s, &c, err);
        if (rc) return rc;
        if (c == '}') {
            vadvance(s, 1);
            s->wrapper = false;
            return 0;
        }
        if (c != ',') return structural(s, err, "expected ',' or '}' after the documents list");
        vadvance(s, 1);
        if ((rc = vskip_ws(s, &c, err))) return rc;
        if (c != '"') return structural(s, err, "expected a member name");
        if ((rc = vrecord(s, false, err))) return rc;
        if ((rc = vskip_ws(s, &c, err))) return rc;
        if (c != ':') return structural(s, err, "expected ':' after a member name");
        vadvance(s, 1);
        if ((rc = vskip_ws(s, &c, err))) return rc;
        if (c < 0 || c == ',' || c == '}' || c == ']') return structural(s, err, "expected a member value");
        if ((rc = vrecord(s, false, err)) && rc != KZ_ELIMIT) return rc;
    }
}

static int next_value(kz_json_src *s, json_t **out, kz_error *err) {
    for (;;) {
        int c, rc = vskip_ws(s, &c, err);
        if (rc) return rc;
        if (c < 0) return s->array_depth ? structural(s, err, "input ends inside the top-level array") : 0;
        if (!s->array_depth) {
            if (c == '[') {
                vadvance(s, 1);
                s->array_depth = 1;
                s->array_first = true;
                continue;
            }
            if (c == ',' || c == ']' || c == '}')
                return structural(s, err, "unexpected character between values");
        } else {
            if (c == ']') {
                vadvance(s, 1);
                s->array_depth = 0;
                if (s->wrapper && (rc = close_wrapper(s, err))) return rc;
                continue;
            }
            if (!s->array_first) {
                if (c != ',') return structural(s, err, "expected ',' or ']' after an array element");
                vadvance(s, 1);
                if ((rc = vskip_ws(s, &c, err))) return rc;
                if (c < 0) return structural(s, err, "input ends inside the top-level array");
            }
            if (c == ',' || c == ']' || c == '}') return structural(s, err, "expected an array element");
            s->array_first = false;
        }
        rc = vrecord(s, !s->array_depth, err);
        if (rc == KZ__UNWRAP) {
            s->array_depth = 1;
            s->array_first = true;
            s->wrapper = true;
            continue;
        }
        if (rc || (rc = parse_record(s, s->rec.data, s->rec.len, out, err))) return rc;
        return 1;
    }
}

int kz__json_src_next(kz_json_src *s, json_t **out, kz_error *err) {
    *out = NULL;
    return s->value_mode ? next_value(s, out, err) : next_line(s, out, err);
}

/* ---- JSONL / Kazu JSON reader ------------------------------------------------------- */
typedef struct jsonl_state {
    kz_json_src src;
    kz_arena *tmp;
    kz_buf scratch;
} jsonl_state;

const char *kz__json_type_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

kz_str kz__json_str(const json_t *obj, const char *key) {
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? (kz_str){json_string_value(v), json_string_length(v)} : KZ_STR_NULL;
}

bool kz__json_key_is(const char *k, size_t kl, const char *name) {
    return strlen(name) == kl && memcmp(k, name, kl) == 0;
}

/* {"id", "text"} / {"id", "sections": {name: text}}; other members are kept
 * as document metadata ("metadata" itself is merged). */
static int simple_doc(kz_reader *r, jsonl_state *st, const json_t *v, kz_doc **out, kz_error *err) {
    const json_t *id = json_object_get(v, "id");
    if (!id) id = json_object_get(v, "idx");
    char num[32];
    const char *ids = NULL;
    size_t idl = 0;
    if (json_is_string(id)) {
        ids = json_string_value(id);
        idl = json_string_length(id);
    } else if (json_is_integer(id)) {
        idl = (size_t)snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(id));
        ids = num;
    } else if (id && !json_is_null(id)) {
        return kz_error_set(err, KZ_EPARSE, "\"id\" must be a string or an integer, not %s",
                            kz__json_type_name(id));
    }
    if (ids && err) snprintf(err->doc_id, sizeof err->doc_id, "%.*s", (int)KZ_MIN(idl, 120), ids);
    const json_t *text = json_object_get(v, "text"), *secs = json_object_get(v, "sections");
    if (text && secs) return kz_error_set(err, KZ_EPARSE, "record has both \"text\" and \"sections\"");
    if (!text && !secs)
        return kz_error_set(err, KZ_EPARSE,
                            "record has no \"text\" or \"sections\" (nor is it a Kazu document "
                            "with \"idx\" and a \"sections\" list)");
    if (text && !json_is_string(text))
        return kz_error_set(err, KZ_EPARSE, "\"text\" must be a string, not %s", kz__json_type_name(text));
    if (secs && !json_is_object(secs))
        return kz_error_set(err, KZ_EPARSE,
                            "\"sections\" must be an object {name: text} or a list of Kazu sections, not %s",
                            kz__json_type_name(secs));
    kz_doc *doc = kz_doc_new(ids, idl);
    if (!doc) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    int rc = 0;
    if (text) {
        rc = kz_doc_add_section(doc, r->p.section_name, strlen(r->p.section_name), json_string_value(text),
                                json_string_length(text), NULL, err);
    }
    for (void *it = secs ? json_object_iter((json_t *)secs) : NULL; it && !rc;
         it = json_object_iter_next((json_t *)secs, it)) {
        const char *k = json_object_iter_key(it);
        size_t kl = json_object_iter_key_len(it);
        const json_t *t = json_object_iter_value(it);
        if (!json_is_string(t)) {
            rc = kz_error_set(err, KZ_EPARSE, "sections[\"%.*s\"] must be a string, not %s",
                              (int)KZ_MIN(kl, 80), k, kz__json_type_name(t));
        } else {
            rc = kz_doc_add_section(doc, k, kl, json_string_value(t), json_string_length(t), NULL, err);
        }
    }
    for (void *it = json_object_iter((json_t *)v); it && !rc; it = json_object_iter_next((json_t *)v, it)) {
        const char *k = json_object_iter_key(it);
        size_t kl = json_object_iter_key_len(it);
        const json_t *m = json_object_iter_value(it);
        if (kz__json_key_is(k, kl, "text") || kz__json_key_is(k, kl, "sections") ||
            (m == id && (kz__json_key_is(k, kl, "id") || kz__json_key_is(k, kl, "idx"))))
            continue;
        if (kz__json_key_is(k, kl, "metadata")) {
            rc = json_is_object(m) ? kz__json_meta_from_object(doc, &doc->metadata, m, &st->scratch)
                                   : kz_error_set(err, KZ_EPARSE, "\"metadata\" must be an object, not %s",
                                                  kz__json_type_name(m));
        } else {
            rc = kz__json_meta_set(doc, &doc->metadata, k, kl, m, &st->scratch);
        }
        if (rc && err && !err->msg[0])
            kz_error_set(err, rc, "cannot keep member \"%.*s\" as metadata", (int)KZ_MIN(kl, 80), k);
    }
    if (rc) {
        kz_doc_free(doc);
        return rc;
    }
    *out = doc;
    return 0;
}

static int jsonl_next(kz_reader *r, kz_doc **out, kz_error *err) {
    jsonl_state *st = r->state;
    json_t *v;
    int rc = kz__json_src_next(&st->src, &v, err);
    if (rc <= 0) return rc;
    kz_arena_reset(st->tmp);
    if (!json_is_object(v)) {
        rc = kz_error_set(err, KZ_EPARSE, "expected a JSON object, got %s", kz__json_type_name(v));
    } else {
        const json_t *secs = json_object_get(v, "sections");
        bool kazu =
            json_is_array(secs) || (json_object_get(v, "idx") && !secs && !json_object_get(v, "text"));
        rc = kazu ? kz__kazu_json_to_doc(v, st->tmp, out, err) : simple_doc(r, st, v, out, err);
    }
    json_decref(v);
    if (rc) {
        kz__json_src_locate(&st->src, err);
        return rc;
    }
    return 1;
}

static void jsonl_close(kz_reader *r) {
    jsonl_state *st = r->state;
    if (!st) return;
    kz__json_src_free(&st->src);
    kz_arena_free(st->tmp);
    kz__buf_free(&st->scratch);
    free(st);
    r->state = NULL;
}

static const kz_reader_vt k_jsonl_vt = {jsonl_next, jsonl_close};

int kz__reader_init_jsonl(kz_reader *r, kz_error *err) {
    jsonl_state *st = calloc(1, sizeof *st);
    if (!st) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    r->state = st;
    r->vt = &k_jsonl_vt;
    kz__buf_init(&st->scratch, 0);
    st->tmp = kz_arena_new(0);
    if (!st->tmp || kz__json_src_init(&st->src, r, NULL))
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    return 0;
}
