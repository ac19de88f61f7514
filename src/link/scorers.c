/* Kazu's boolean string scorers (kazu/language/string_similarity_scorers.py):
 * NumberMatch, EntitySubtype and EntityNounModifier, over normalised strings. */
#include <stdlib.h>
#include <string.h>
#include "tfidf_int.h"

typedef struct span_list {
    kz_str stack[32];
    kz_str *v;
    size_t n, cap;
    bool oom;
} span_list;

static void spans_init(span_list *l) {
    l->v = l->stack;
    l->n = 0;
    l->cap = 32;
    l->oom = false;
}

static void spans_push(span_list *l, const char *p, size_t len) {
    if (l->n == l->cap) {
        size_t nc = l->cap * 2;
        kz_str *v = malloc(nc * sizeof *v);
        if (!v) {
            l->oom = true;
            return;
        }
        memcpy(v, l->v, l->n * sizeof *v);
        if (l->v != l->stack) free(l->v);
        l->v = v;
        l->cap = nc;
    }
    l->v[l->n++] = (kz_str){p, len};
}

static void spans_free(span_list *l) {
    if (l->v != l->stack) free(l->v);
}

static int cmp_span(const void *a, const void *b) {
    const kz_str *x = a, *y = b;
    size_t m = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->ptr, y->ptr, m);
    if (c) return c;
    return (x->len > y->len) - (x->len < y->len);
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

/* re.findall("[0-9]+", s) */
static void find_numbers(kz_str s, span_list *out) {
    for (size_t i = 0; i < s.len;) {
        if (!is_digit(s.ptr[i])) {
            i++;
            continue;
        }
        size_t a = i;
        while (i < s.len && is_digit(s.ptr[i])) i++;
        spans_push(out, s.ptr + a, i - a);
    }
}

/* re.findall("TYPE (?:I|[0-9]+)", s): leftmost, non-overlapping, 'I' tried first. */
static void find_subtypes(kz_str s, span_list *out) {
    for (size_t i = 0; i + 5 < s.len;) {
        if (memcmp(s.ptr + i, "TYPE ", 5) != 0) {
            i++;
            continue;
        }
        size_t e = i + 5;
        if (s.ptr[e] == 'I') {
            e++;
        } else if (is_digit(s.ptr[e])) {
            while (e < s.len && is_digit(s.ptr[e])) e++;
        } else {
            i++;
            continue;
        }
        spans_push(out, s.ptr + i, e - i);
        i = e;
    }
}

/* Counter(a) == Counter(b) (subset = false) or every count of a <= b's (subset = true). */
static bool counts_ok(span_list *a, span_list *b, bool subset) {
    if (a->oom || b->oom) return false;
    qsort(a->v, a->n, sizeof *a->v, cmp_span);
    qsort(b->v, b->n, sizeof *b->v, cmp_span);
    if (!subset) {
        if (a->n != b->n) return false;
        for (size_t i = 0; i < a->n; i++)
            if (cmp_span(&a->v[i], &b->v[i])) return false;
        return true;
    }
    size_t j = 0;
    for (size_t i = 0; i < a->n; i++) {
        while (j < b->n && cmp_span(&b->v[j], &a->v[i]) < 0) j++;
        if (j == b->n || cmp_span(&b->v[j], &a->v[i]) != 0) return false;
        j++; /* consume one occurrence */
    }
    return true;
}

bool kz__scorer_number_match(kz_str reference, kz_str query) {
    span_list a, b;
    spans_init(&a);
    spans_init(&b);
    find_numbers(reference, &a);
    find_numbers(query, &b);
    bool ok = counts_ok(&a, &b, false);
    spans_free(&a);
    spans_free(&b);
    return ok;
}

bool kz__scorer_entity_subtype(kz_str reference, kz_str query) {
    span_list a, b;
    spans_init(&a);
    spans_init(&b);
    find_subtypes(reference, &a);
    find_subtypes(query, &b);
    bool ok = counts_ok(&a, &b, true);
    spans_free(&a);
    spans_free(&b);
    return ok;
}

static bool contains(kz_str s, const char *pat) {
    return s.ptr && memmem(s.ptr, s.len, pat, strlen(pat)) != NULL;
}

bool kz__scorer_noun_modifier(kz_str reference, kz_str query) {
    static const char *const phrases[] = {"LIKE", "SUBUNIT", "PSEUDOGENE", "RECEPTOR"};
    for (size_t i = 0; i < sizeof phrases / sizeof phrases[0]; i++)
        if (contains(reference, phrases[i]) != contains(query, phrases[i])) return false;
    return true;
}

static bool class_is(kz_str c, const char *name) {
    size_t n = strlen(name);
    return c.ptr && c.len == n && memcmp(c.ptr, name, n) == 0;
}

bool kz__scorers_pass(kz_str entity_class, kz_str reference, kz_str query) {
    if (!kz__scorer_number_match(reference, query)) return false;
    if (class_is(entity_class, "gene"))
        return kz__scorer_noun_modifier(reference, query) && kz__scorer_entity_subtype(reference, query);
    if (class_is(entity_class, "disease")) return kz__scorer_entity_subtype(reference, query);
    return true;
}
