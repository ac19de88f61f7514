/* A safe pickle reader for torch state_dicts (data.pkl inside a torch zip).
 * It runs only the opcodes a dict of tensors needs and recognises five
 * globals as inert tokens; nothing from the file is ever called or imported. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "kazu/utf8.h"
#include "nn/load_int.h"

#define PKL_MAX_STACK   (1u << 20)
#define PKL_MAX_MEMO    (1u << 22)
#define PKL_MAX_ALLOC   ((size_t)512 << 20)
#define PKL_MAX_STORAGE 65536u
#define PKL_MAX_KEY     64u

typedef enum {
    PV_NONE,
    PV_BOOL,
    PV_INT,
    PV_STR,
    PV_TUPLE,
    PV_DICT,
    PV_GLOBAL,
    PV_STORAGE,
    PV_TENSOR
} pv_kind;

/* The globals a torch state_dict pickle names (and nothing else). */
typedef enum {
    G_ORDERED_DICT,
    G_REBUILD_TENSOR_V2,
    G_FLOAT_STORAGE,
    G_HALF_STORAGE,
    G_BF16_STORAGE,
    G_LONG_STORAGE
} global_id;

static const struct {
    const char *module, *name;
    int dtype; /* storages: kz_dtype; else -1 */
} GLOBALS[] = {
    [G_ORDERED_DICT] = {"collections", "OrderedDict", -1},
    [G_REBUILD_TENSOR_V2] = {"torch._utils", "_rebuild_tensor_v2", -1},
    [G_FLOAT_STORAGE] = {"torch", "FloatStorage", KZ_DT_F32},
    [G_HALF_STORAGE] = {"torch", "HalfStorage", KZ_DT_F16},
    [G_BF16_STORAGE] = {"torch", "BFloat16Storage", KZ_DT_BF16},
    [G_LONG_STORAGE] = {"torch", "LongStorage", KZ_DT_I64},
};

typedef struct pv pv;
struct pv {
    pv_kind kind;
    union {
        int64_t i; /* BOOL, INT, GLOBAL id, STORAGE index, TENSOR index */
        struct {
            const char *p; /* into the pickle bytes */
            size_t len;
        } s;
        struct {
            pv **items;
            size_t n;
        } t;
        struct {
            pv **kv; /* key, value, key, value ... in insertion order */
            size_t n, cap;
        } d;
    } u;
};

typedef struct pkl_storage {
    char key[PKL_MAX_KEY + 1];
    kz_dtype dtype;
    uint64_t numel;
    void *data; /* resolved bytes (owned until handed to the table) */
    bool loaded;
} pkl_storage;

typedef struct pkl_tensor {
    size_t storage;
    int64_t offset;
    uint32_t ndim;
    int64_t size[KZ_TENSOR_MAX_DIMS];
    int64_t stride[KZ_TENSOR_MAX_DIMS];
} pkl_tensor;

typedef struct vm {
    const uint8_t *p;
    size_t len, pos, op_pos;
    kz_arena *arena;
    size_t allocated;
    pv **stack;
    size_t sp, stack_cap;
    size_t *marks;
    size_t n_marks, marks_cap;
    pv **memo;
    size_t memo_cap, memo_count;
    pkl_storage *storages;
    size_t n_storages, storages_cap;
    pkl_tensor *tensors;
    size_t n_tensors, tensors_cap;
    kz_error *err;
} vm;

static pv PV_NONE_V = {.kind = PV_NONE};
static pv PV_TRUE_V = {.kind = PV_BOOL, .u.i = 1};
static pv PV_FALSE_V = {.kind = PV_BOOL, .u.i = 0};

__attribute__((noinline)) static int fail(vm *m, int code, const char *fmt, const char *a) {
    char msg[400];
    snprintf(msg, sizeof msg, fmt, a ? a : "");
    return kz_error_set(m->err, code, "data.pkl offset %zu: %s", m->op_pos, msg);
}

static void *vm_alloc(vm *m, size_t n) {
    /* A real state_dict needs a few dozen bytes of values per pickle byte at most. */
    size_t cap = KZ_MIN(PKL_MAX_ALLOC, ((size_t)64 << 20) + 64 * m->len);
    if (n > cap - KZ_MIN(cap, m->allocated)) return NULL;
    m->allocated += n;
    return kz_arena_alloc(m->arena, n ? n : 1);
}

static pv *new_val(vm *m, pv_kind k) {
    pv *v = vm_alloc(m, sizeof *v);
    if (v) {
        memset(v, 0, sizeof *v);
        v->kind = k;
    }
    return v;
}

static int oom(vm *m) {
    return fail(m, KZ_ENOMEM, "out of memory or over the %s pickle memory cap", "512 MiB");
}

/* Grow a malloc'd array to hold at least need elements (doubling), capped. */
static int grow(void **arr, size_t *cap, size_t need, size_t elem, size_t max) {
    if (need <= *cap) return 0;
    if (need > max) return KZ_ELIMIT;
    size_t c = *cap ? *cap : 64;
    while (c < need) c *= 2;
    if (c > max) c = max;
    void *a = realloc(*arr, c * elem);
    if (!a) return KZ_ENOMEM;
    *arr = a;
    *cap = c;
    return 0;
}

static int push(vm *m, pv *v) {
    if (!v) return oom(m);
    int rc = grow((void **)&m->stack, &m->stack_cap, m->sp + 1, sizeof *m->stack, PKL_MAX_STACK);
    if (rc) return rc == KZ_ELIMIT ? fail(m, KZ_ELIMIT, "stack deeper than %s entries", "2^20") : oom(m);
    m->stack[m->sp++] = v;
    return 0;
}

static int pop(vm *m, pv **out) {
    size_t floor = m->n_marks ? m->marks[m->n_marks - 1] : 0;
    if (m->sp <= floor) return fail(m, KZ_EPARSE, "stack underflow%s", "");
    *out = m->stack[--m->sp];
    return 0;
}

static int need(vm *m, size_t n) {
    if (n > m->len - m->pos) return fail(m, KZ_EPARSE, "truncated (opcode argument runs past the end)%s", "");
    return 0;
}

static uint64_t rd_le(const uint8_t *p, size_t n) {
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;) v = (v << 8) | p[i];
    return v;
}

/* Items above the top mark (pops the mark). */
static int pop_mark(vm *m, size_t *start) {
    if (!m->n_marks) return fail(m, KZ_EPARSE, "no MARK on the stack%s", "");
    *start = m->marks[--m->n_marks];
    return 0;
}

static int make_tuple(vm *m, size_t start) {
    size_t n = m->sp - start;
    pv *t = new_val(m, PV_TUPLE);
    if (!t) return oom(m);
    t->u.t.n = n;
    t->u.t.items = vm_alloc(m, n * sizeof(pv *));
    if (!t->u.t.items) return oom(m);
    if (n) memcpy(t->u.t.items, m->stack + start, n * sizeof(pv *));
    m->sp = start;
    return push(m, t);
}

static int dict_set(vm *m, pv *d, pv *k, pv *v) {
    if (d->kind != PV_DICT) return fail(m, KZ_EPARSE, "SETITEM on something that is not a dict%s", "");
    if (d->u.d.n + 2 > d->u.d.cap) {
        size_t cap = d->u.d.cap ? d->u.d.cap * 2 : 16;
        pv **kv = vm_alloc(m, cap * sizeof(pv *));
        if (!kv) return oom(m);
        if (d->u.d.n) memcpy(kv, d->u.d.kv, d->u.d.n * sizeof(pv *));
        d->u.d.kv = kv;
        d->u.d.cap = cap;
    }
    d->u.d.kv[d->u.d.n++] = k;
    d->u.d.kv[d->u.d.n++] = v;
    return 0;
}

static int memo_put(vm *m, uint64_t idx) {
    if (!m->sp) return fail(m, KZ_EPARSE, "memo store with an empty stack%s", "");
    /* pickle numbers its memo entries 0, 1, 2 ...: an index beyond the file's length is a lie */
    if (idx >= PKL_MAX_MEMO || idx > KZ_MAX(m->len, 1024))
        return fail(m, KZ_ELIMIT, "memo index over the limit (%s)", "the pickle's length, at most 2^22");
    size_t old = m->memo_cap;
    int rc = grow((void **)&m->memo, &m->memo_cap, (size_t)idx + 1, sizeof *m->memo, PKL_MAX_MEMO);
    if (rc) return oom(m);
    if (m->memo_cap > old) memset(m->memo + old, 0, (m->memo_cap - old) * sizeof *m->memo);
    if (!m->memo[idx]) m->memo_count++;
    m->memo[idx] = m->stack[m->sp - 1];
    return 0;
}

static int memo_get(vm *m, uint64_t idx) {
    if (idx >= m->memo_cap || !m->memo[idx]) return fail(m, KZ_EPARSE, "memo key not found%s", "");
    return push(m, m->memo[idx]);
}

static int push_global(vm *m, const char *mod, size_t ml, const char *name, size_t nl) {
    for (size_t g = 0; g < sizeof GLOBALS / sizeof *GLOBALS; g++) {
        if (strlen(GLOBALS[g].module) == ml && memcmp(GLOBALS[g].module, mod, ml) == 0 &&
            strlen(GLOBALS[g].name) == nl && memcmp(GLOBALS[g].name, name, nl) == 0) {
            pv *v = new_val(m, PV_GLOBAL);
            if (!v) return oom(m);
            v->u.i = (int64_t)g;
            return push(m, v);
        }
    }
    char what[300];
    snprintf(what, sizeof what, "%.*s.%.*s", (int)KZ_MIN(ml, 120), mod, (int)KZ_MIN(nl, 120), name);
    for (char *c = what; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f) *c = '?';
    return fail(m, KZ_EFORMAT,
                "refusing global '%s': only a plain state_dict of tensors is accepted (OrderedDict, "
                "torch._utils._rebuild_tensor_v2, torch Float/Half/BFloat16/LongStorage)",
                what);
}

static int push_str(vm *m, size_t len) {
    if (need(m, len)) return KZ_EPARSE;
    const char *s = (const char *)m->p + m->pos;
    if (!kz_utf8_valid(s, len, NULL)) return fail(m, KZ_EPARSE, "string is not valid UTF-8%s", "");
    pv *v = new_val(m, PV_STR);
    if (!v) return oom(m);
    v->u.s.p = s;
    v->u.s.len = len;
    m->pos += len;
    return push(m, v);
}

static bool int_of(const pv *v, int64_t *out) {
    if (v->kind != PV_INT && v->kind != PV_BOOL) return false;
    *out = v->u.i;
    return true;
}

/* ('storage', <StorageType>, key, location, numel) -> a storage value. */
static int persistent_load(vm *m, pv *pid) {
    if (pid->kind != PV_TUPLE || pid->u.t.n != 5)
        return fail(m, KZ_EFORMAT, "persistent id is not a 5-tuple storage record%s", "");
    pv **it = pid->u.t.items;
    int64_t numel;
    if (it[0]->kind != PV_STR || it[0]->u.s.len != 7 || memcmp(it[0]->u.s.p, "storage", 7) != 0)
        return fail(m, KZ_EFORMAT, "persistent id is not a 'storage' record%s", "");
    if (it[1]->kind != PV_GLOBAL || GLOBALS[it[1]->u.i].dtype < 0)
        return fail(m, KZ_EFORMAT, "storage record without a storage type%s", "");
    if (it[2]->kind != PV_STR || it[2]->u.s.len == 0 || it[2]->u.s.len > PKL_MAX_KEY)
        return fail(m, KZ_EFORMAT, "storage key must be a string of 1..64 bytes%s", "");
    for (size_t i = 0; i < it[2]->u.s.len; i++) {
        char c = it[2]->u.s.p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'))
            return fail(m, KZ_EFORMAT, "storage key has a character outside [A-Za-z0-9_]%s", "");
    }
    if (it[3]->kind != PV_STR) return fail(m, KZ_EFORMAT, "storage location is not a string%s", "");
    if (!int_of(it[4], &numel) || numel < 0 || (uint64_t)numel > KZ_NN_MAX_NUMEL)
        return fail(m, KZ_EFORMAT, "storage size out of range%s", "");
    kz_dtype dt = (kz_dtype)GLOBALS[it[1]->u.i].dtype;
    size_t idx = m->n_storages;
    for (size_t i = 0; i < m->n_storages; i++) {
        if (strlen(m->storages[i].key) == it[2]->u.s.len &&
            memcmp(m->storages[i].key, it[2]->u.s.p, it[2]->u.s.len) == 0) {
            if (m->storages[i].dtype != dt || m->storages[i].numel != (uint64_t)numel)
                return fail(m, KZ_EFORMAT, "storage '%s' is declared twice with different types or sizes",
                            m->storages[i].key);
            idx = i;
            break;
        }
    }
    if (idx == m->n_storages) {
        if (grow((void **)&m->storages, &m->storages_cap, idx + 1, sizeof *m->storages, PKL_MAX_STORAGE))
            return fail(m, KZ_ELIMIT, "more than %s storages", "65536");
        pkl_storage *s = &m->storages[m->n_storages++];
        memset(s, 0, sizeof *s);
        memcpy(s->key, it[2]->u.s.p, it[2]->u.s.len);
        s->dtype = dt;
        s->numel = (uint64_t)numel;
    }
    pv *v = new_val(m, PV_STORAGE);
    if (!v) return oom(m);
    v->u.i = (int64_t)idx;
    return push(m, v);
}

static int int_tuple(vm *m, const pv *t, int64_t *out, uint32_t *n, const char *what) {
    if (t->kind != PV_TUPLE) return fail(m, KZ_EFORMAT, "tensor %s is not a tuple", what);
    if (t->u.t.n > KZ_TENSOR_MAX_DIMS)
        return fail(m, KZ_EFORMAT, "tensor %s has more than 4 dimensions (kazu-c reads up to 4)", what);
    for (size_t i = 0; i < t->u.t.n; i++)
        if (!int_of(t->u.t.items[i], &out[i]))
            return fail(m, KZ_EFORMAT, "tensor %s holds a non-integer", what);
    *n = (uint32_t)t->u.t.n;
    return 0;
}

/* _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]) */
static int rebuild_tensor(vm *m, pv *args) {
    if (args->kind != PV_TUPLE || (args->u.t.n != 6 && args->u.t.n != 7))
        return fail(m, KZ_EFORMAT, "_rebuild_tensor_v2 expects 6 or 7 arguments%s", "");
    pv **a = args->u.t.items;
    pkl_tensor t;
    memset(&t, 0, sizeof t);
    uint32_t nstride = 0;
    if (a[0]->kind != PV_STORAGE) return fail(m, KZ_EFORMAT, "_rebuild_tensor_v2 without a storage%s", "");
    t.storage = (size_t)a[0]->u.i;
    if (!int_of(a[1], &t.offset)) return fail(m, KZ_EFORMAT, "tensor storage offset is not an integer%s", "");
    int rc = int_tuple(m, a[2], t.size, &t.ndim, "size");
    if (!rc) rc = int_tuple(m, a[3], t.stride, &nstride, "stride");
    if (rc) return rc;
    if (nstride != t.ndim) return fail(m, KZ_EFORMAT, "tensor size and stride differ in length%s", "");
    if (a[4]->kind != PV_BOOL) return fail(m, KZ_EFORMAT, "tensor requires_grad is not a bool%s", "");
    if (a[5]->kind != PV_DICT) return fail(m, KZ_EFORMAT, "tensor backward hooks are not a dict%s", "");
    if (args->u.t.n == 7 && a[6]->kind != PV_NONE && !(a[6]->kind == PV_DICT && a[6]->u.d.n == 0))
        return fail(m, KZ_EFORMAT, "tensor carries Python metadata (refused)%s", "");
    if (grow((void **)&m->tensors, &m->tensors_cap, m->n_tensors + 1, sizeof *m->tensors, KZ_NN_MAX_TENSORS))
        return fail(m, KZ_ELIMIT, "more than %s tensors", "65536");
    m->tensors[m->n_tensors] = t;
    pv *v = new_val(m, PV_TENSOR);
    if (!v) return oom(m);
    v->u.i = (int64_t)m->n_tensors++;
    return push(m, v);
}

static int reduce(vm *m) {
    pv *args, *fn;
    int rc = pop(m, &args);
    if (!rc) rc = pop(m, &fn);
    if (rc) return rc;
    if (fn->kind != PV_GLOBAL)
        return fail(m, KZ_EFORMAT, "REDUCE on something that is not a known global%s", "");
    switch ((global_id)fn->u.i) {
    case G_ORDERED_DICT:
        if (args->kind != PV_TUPLE || args->u.t.n != 0)
            return fail(m, KZ_EFORMAT, "OrderedDict with arguments is not supported%s", "");
        return push(m, new_val(m, PV_DICT));
    case G_REBUILD_TENSOR_V2: return rebuild_tensor(m, args);
    default: return fail(m, KZ_EFORMAT, "%s cannot be called", GLOBALS[fn->u.i].name);
    }
}

static int run(vm *m, pv **result) {
    int rc = 0;
    while (!rc) {
        if (m->pos >= m->len) return fail(m, KZ_EPARSE, "truncated: no STOP opcode%s", "");
        m->op_pos = m->pos;
        uint8_t op = m->p[m->pos++];
        pv *a, *b, *c;
        size_t start = 0;
        switch (op) {
        case 0x80: /* PROTO */
            if ((rc = need(m, 1))) break;
            if (m->p[m->pos] < 2 || m->p[m->pos] > 5)
                rc = fail(m, KZ_EFORMAT, "pickle protocol %s", "not 2..5");
            m->pos++;
            break;
        case 0x95: /* FRAME: a length hint */
            if (!(rc = need(m, 8))) m->pos += 8;
            break;
        case '.': /* STOP */
            if ((rc = pop(m, result))) break;
            return 0;
        case '(': /* MARK */
            if (grow((void **)&m->marks, &m->marks_cap, m->n_marks + 1, sizeof *m->marks, PKL_MAX_STACK)) {
                rc = fail(m, KZ_ELIMIT, "too many MARKs%s", "");
                break;
            }
            m->marks[m->n_marks++] = m->sp;
            break;
        case '}': rc = push(m, new_val(m, PV_DICT)); break;
        case ')': rc = push(m, new_val(m, PV_TUPLE)); break;
        case 'N': rc = push(m, &PV_NONE_V); break;
        case 0x88: rc = push(m, &PV_TRUE_V); break;
        case 0x89: rc = push(m, &PV_FALSE_V); break;
        case 'K': /* BININT1 */
        case 'M': /* BININT2 */
        case 'J': /* BININT (signed 32) */
        {
            size_t n = op == 'K' ? 1 : op == 'M' ? 2 : 4;
            if ((rc = need(m, n))) break;
            uint64_t u = rd_le(m->p + m->pos, n);
            m->pos += n;
            pv *v = new_val(m, PV_INT);
            if (v) v->u.i = op == 'J' ? (int64_t)(int32_t)(uint32_t)u : (int64_t)u;
            rc = push(m, v);
            break;
        }
        case 0x8a: { /* LONG1: n-byte two's complement */
            if ((rc = need(m, 1))) break;
            size_t n = m->p[m->pos++];
            if (n > 8) {
                rc = fail(m, KZ_EFORMAT, "integer wider than %s bytes", "8");
                break;
            }
            if ((rc = need(m, n))) break;
            uint64_t u = rd_le(m->p + m->pos, n);
            if (n && n < 8 && (m->p[m->pos + n - 1] & 0x80)) u |= ~(uint64_t)0 << (8 * n);
            m->pos += n;
            pv *v = new_val(m, PV_INT);
            if (v) v->u.i = (int64_t)u;
            rc = push(m, v);
            break;
        }
        case 'X':  /* BINUNICODE */
        case 0x8c: /* SHORT_BINUNICODE */
        case 0x8d: /* BINUNICODE8 */
        {
            size_t n = op == 0x8c ? 1 : op == 'X' ? 4 : 8;
            if ((rc = need(m, n))) break;
            uint64_t l = rd_le(m->p + m->pos, n);
            m->pos += n;
            if (l > m->len - m->pos) {
                rc = fail(m, KZ_EPARSE, "truncated: string runs past the end%s", "");
                break;
            }
            rc = push_str(m, (size_t)l);
            break;
        }
        case 't': /* TUPLE */
            if (!(rc = pop_mark(m, &start))) rc = make_tuple(m, start);
            break;
        case 0x85: /* TUPLE1..3 */
        case 0x86:
        case 0x87: {
            size_t n = (size_t)(op - 0x84);
            size_t floor = m->n_marks ? m->marks[m->n_marks - 1] : 0;
            if (m->sp < floor + n) {
                rc = fail(m, KZ_EPARSE, "stack underflow%s", "");
                break;
            }
            rc = make_tuple(m, m->sp - n);
            break;
        }
        case 'q': /* BINPUT */
            if (!(rc = need(m, 1))) rc = memo_put(m, m->p[m->pos++]);
            break;
        case 'r': /* LONG_BINPUT */
            if (!(rc = need(m, 4))) {
                uint64_t i = rd_le(m->p + m->pos, 4);
                m->pos += 4;
                rc = memo_put(m, i);
            }
            break;
        case 0x94: /* MEMOIZE */ rc = memo_put(m, m->memo_count); break;
        case 'h': /* BINGET */
            if (!(rc = need(m, 1))) rc = memo_get(m, m->p[m->pos++]);
            break;
        case 'j': /* LONG_BINGET */
            if (!(rc = need(m, 4))) {
                uint64_t i = rd_le(m->p + m->pos, 4);
                m->pos += 4;
                rc = memo_get(m, i);
            }
            break;
        case 'c': { /* GLOBAL "module\nname\n" */
            const char *s = (const char *)m->p + m->pos;
            size_t rem = m->len - m->pos;
            const char *nl1 = memchr(s, '\n', KZ_MIN(rem, 256));
            const char *nl2 = nl1 ? memchr(nl1 + 1, '\n', KZ_MIN(rem - (size_t)(nl1 + 1 - s), 256)) : NULL;
            if (!nl2) {
                rc = fail(m, KZ_EPARSE, "GLOBAL without two newline-terminated names%s", "");
                break;
            }
            m->pos += (size_t)(nl2 + 1 - s);
            rc = push_global(m, s, (size_t)(nl1 - s), nl1 + 1, (size_t)(nl2 - nl1 - 1));
            break;
        }
        case 0x93: /* STACK_GLOBAL */
            if ((rc = pop(m, &b)) || (rc = pop(m, &a))) break;
            if (a->kind != PV_STR || b->kind != PV_STR) {
                rc = fail(m, KZ_EPARSE, "STACK_GLOBAL needs two strings%s", "");
                break;
            }
            rc = push_global(m, a->u.s.p, a->u.s.len, b->u.s.p, b->u.s.len);
            break;
        case 'R': rc = reduce(m); break;
        case 'Q': /* BINPERSID */
            if (!(rc = pop(m, &a))) rc = persistent_load(m, a);
            break;
        case 's': /* SETITEM */
            if ((rc = pop(m, &c)) || (rc = pop(m, &b)) || (rc = pop(m, &a))) break;
            if (!(rc = dict_set(m, a, b, c))) rc = push(m, a);
            break;
        case 'u': /* SETITEMS */
            if ((rc = pop_mark(m, &start))) break;
            if ((m->sp - start) % 2 || start == 0 || (m->n_marks && m->marks[m->n_marks - 1] >= start)) {
                rc = fail(m, KZ_EPARSE, "SETITEMS needs a dict and key/value pairs%s", "");
                break;
            }
            for (size_t i = start; i < m->sp && !rc; i += 2)
                rc = dict_set(m, m->stack[start - 1], m->stack[i], m->stack[i + 1]);
            m->sp = start;
            break;
        case 'd': /* DICT */
            if ((rc = pop_mark(m, &start))) break;
            if ((m->sp - start) % 2) {
                rc = fail(m, KZ_EPARSE, "DICT with an odd number of items%s", "");
                break;
            }
            if (!(a = new_val(m, PV_DICT))) {
                rc = oom(m);
                break;
            }
            for (size_t i = start; i < m->sp && !rc; i += 2)
                rc = dict_set(m, a, m->stack[i], m->stack[i + 1]);
            m->sp = start;
            if (!rc) rc = push(m, a);
            break;
        case 'b': /* BUILD: only the OrderedDict's attribute state (_metadata), ignored */
            if ((rc = pop(m, &b))) break;
            if (!m->sp || m->stack[m->sp - 1]->kind != PV_DICT || b->kind != PV_DICT)
                rc = fail(m, KZ_EFORMAT, "BUILD is only accepted as an OrderedDict's attribute dict%s", "");
            break;
        default: {
            char hex[8];
            snprintf(hex, sizeof hex, "0x%02x", op);
            rc = fail(m, KZ_EFORMAT,
                      "unsupported pickle opcode %s (only a plain state_dict of tensors is read)", hex);
        }
        }
    }
    return rc;
}

/* Check one top-level tensor against its storage; fill the table entry. */
static int emit_tensor(vm *m, const pv *key, const pkl_tensor *pt, const void *zip_ctx,
                       kz_tensor_table *out) {
    char name[KZ_NN_MAX_NAME + 1];
    if (key->u.s.len == 0 || key->u.s.len > KZ_NN_MAX_NAME || memchr(key->u.s.p, 0, key->u.s.len))
        return kz_error_set(m->err, KZ_EPARSE, "data.pkl: tensor name of %zu bytes (1..%u, no NUL)",
                            key->u.s.len, KZ_NN_MAX_NAME);
    memcpy(name, key->u.s.p, key->u.s.len);
    name[key->u.s.len] = 0;
    pkl_storage *s = &m->storages[pt->storage];
    uint64_t numel;
    char sb[96], sb2[96];
    if (!kz__shape_numel(pt->size, pt->ndim, &numel))
        return kz_error_set(m->err, KZ_ELIMIT, "data.pkl: tensor '%s' shape %s is too large", name,
                            kz__shape_str(pt->size, pt->ndim, sb, sizeof sb));
    if (pt->offset < 0 || (uint64_t)pt->offset > s->numel || numel > s->numel - (uint64_t)pt->offset)
        return kz_error_set(m->err, KZ_EFORMAT,
                            "data.pkl: tensor '%s' (%s at element %lld) runs past its storage '%s' of %llu "
                            "elements",
                            name, kz__shape_str(pt->size, pt->ndim, sb, sizeof sb), (long long)pt->offset,
                            s->key, (unsigned long long)s->numel);
    if (numel > 1) { /* contiguous (row-major) only; dims of size 1 may have any stride */
        int64_t expect = 1;
        for (uint32_t d = pt->ndim; d-- > 0;) {
            if (pt->size[d] != 1 && pt->stride[d] != expect)
                return kz_error_set(m->err, KZ_EFORMAT,
                                    "data.pkl: tensor '%s' is not contiguous (stride %s for shape %s); save "
                                    "tensors .contiguous()",
                                    name, kz__shape_str(pt->stride, pt->ndim, sb, sizeof sb),
                                    kz__shape_str(pt->size, pt->ndim, sb2, sizeof sb2));
            expect *= pt->size[d];
        }
    }
    size_t es = kz__dtype_size(s->dtype);
    if (zip_ctx && !s->loaded) {
        void *data = NULL;
        int rc = kz__torch_zip_storage(zip_ctx, s->key, s->numel * es, &data, m->err);
        if (rc) return rc;
        if ((rc = kz__tensor_table_own(out, data))) return kz_error_set(m->err, rc, "out of memory");
        s->data = data;
        s->loaded = true;
    }
    kz_tensor *t = kz__tensor_table_add(out, name, key->u.s.len);
    if (!t) return kz_error_set(m->err, KZ_ENOMEM, "out of memory");
    t->dtype = s->dtype;
    t->ndim = pt->ndim;
    memcpy(t->shape, pt->size, sizeof t->shape);
    t->nbytes = (size_t)(numel * es);
    t->data = s->data ? (const uint8_t *)s->data + (uint64_t)pt->offset * es : NULL;
    return 0;
}

static int cmp_names(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int collect(vm *m, const pv *root, const void *zip_ctx, kz_tensor_table *out) {
    if (root->kind != PV_DICT)
        return kz_error_set(m->err, KZ_EFORMAT,
                            "data.pkl: the pickle is not a dict of tensors (a state_dict)");
    size_t n = root->u.d.n / 2;
    for (size_t i = 0; i < n; i++) {
        const pv *k = root->u.d.kv[2 * i], *v = root->u.d.kv[2 * i + 1];
        if (k->kind != PV_STR)
            return kz_error_set(m->err, KZ_EFORMAT, "data.pkl: a state_dict key is not a string");
        if (v->kind != PV_TENSOR)
            return kz_error_set(m->err, KZ_EFORMAT, "data.pkl: state_dict entry '%.*s' is not a tensor",
                                (int)KZ_MIN(k->u.s.len, 200), k->u.s.p);
        int rc = emit_tensor(m, k, &m->tensors[v->u.i], zip_ctx, out);
        if (rc) return rc;
    }
    /* Python would silently keep the last of duplicate keys; a real state_dict has none. */
    char **names = malloc((out->n ? out->n : 1) * sizeof *names);
    if (!names) return kz_error_set(m->err, KZ_ENOMEM, "out of memory");
    for (size_t i = 0; i < out->n; i++) names[i] = out->t[i].name;
    qsort(names, out->n, sizeof *names, cmp_names);
    int rc = 0;
    for (size_t i = 1; i < out->n && !rc; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            rc = kz_error_set(m->err, KZ_EFORMAT, "data.pkl: tensor '%s' appears twice", names[i]);
    free(names);
    return rc;
}

int kz__torch_pickle_read_mem(const void *pkl, size_t len, const void *zip_ctx, kz_tensor_table *out,
                              kz_error *err) {
    memset(out, 0, sizeof *out);
    if (len > KZ_PKL_MAX_BYTES)
        return kz_error_set(err, KZ_ELIMIT, "data.pkl: %zu bytes (limit %u)", len, KZ_PKL_MAX_BYTES);
    vm m;
    memset(&m, 0, sizeof m);
    m.p = pkl;
    m.len = len;
    m.err = err;
    m.arena = kz_arena_new(0);
    if (!m.arena) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    pv *root = NULL;
    int rc = run(&m, &root);
    if (!rc && m.sp != 0) rc = fail(&m, KZ_EPARSE, "values left on the stack after STOP%s", "");
    if (!rc) rc = collect(&m, root, zip_ctx, out);
    if (rc) kz__tensor_table_free(out);
    kz_arena_free(m.arena);
    free(m.stack);
    free(m.marks);
    free(m.memo);
    free(m.storages);
    free(m.tensors);
    return rc;
}
