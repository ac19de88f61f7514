/* Bump-pointer arena: documents allocate everything here and free it at once. */
#include <stdlib.h>
#include "core_int.h"

typedef struct kz_chunk {
    struct kz_chunk *next;
    size_t cap, used;
    _Alignas(16) unsigned char data[];
} kz_chunk;

struct kz_arena {
    kz_chunk *head; /* current chunk (most recent) */
    size_t chunk_size;
    size_t total;
};

kz_arena *kz_arena_new(size_t chunk_size) {
    kz_arena *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->chunk_size = chunk_size ? chunk_size : 16 * 1024;
    return a;
}

void kz_arena_free(kz_arena *a) {
    if (!a) return;
    kz_chunk *c = a->head;
    while (c) {
        kz_chunk *n = c->next;
        free(c);
        c = n;
    }
    free(a);
}

void kz_arena_reset(kz_arena *a) {
    if (!a || !a->head) return;
    /* Keep the oldest chunk (the tail of the list) for reuse. */
    kz_chunk *c = a->head, *last = NULL;
    while (c->next) {
        kz_chunk *n = c->next;
        free(c);
        c = n;
    }
    last = c;
    last->used = 0;
    a->head = last;
    a->total = 0;
}

void *kz_arena_alloc(kz_arena *a, size_t size) {
    if (!a) return NULL;
    size_t need = (size + 15) & ~(size_t)15;
    if (need < size) return NULL;
    kz_chunk *c = a->head;
    if (!c || c->cap - c->used < need) {
        size_t cap = a->chunk_size;
        if (need > cap) cap = need;
        /* Grow chunk size geometrically to keep chunk counts low for big docs. */
        if (a->total > a->chunk_size * 4 && cap < a->total / 2) cap = a->total / 2;
        if (cap > SIZE_MAX - sizeof(kz_chunk)) return NULL;
        kz_chunk *n = malloc(sizeof(kz_chunk) + cap);
        if (!n) return NULL;
        n->cap = cap;
        n->used = 0;
        n->next = c;
        a->head = c = n;
    }
    void *p = c->data + c->used;
    c->used += need;
    a->total += need;
    return p;
}

void *kz_arena_calloc(kz_arena *a, size_t n, size_t size) {
    if (size && n > SIZE_MAX / size) return NULL;
    void *p = kz_arena_alloc(a, n * size);
    if (p) memset(p, 0, n * size);
    return p;
}

kz_str kz_arena_strdup(kz_arena *a, const char *s, size_t len) {
    if (!s) return KZ_STR_NULL;
    if (len == SIZE_MAX) return KZ_STR_NULL;
    char *p = kz_arena_alloc(a, len + 1);
    if (!p) return KZ_STR_NULL;
    if (len) memcpy(p, s, len);
    p[len] = 0;
    return (kz_str){p, len};
}

size_t kz_arena_used(const kz_arena *a) { return a ? a->total : 0; }
