/* The registry of step types: built-ins registered on first use, user types
 * added with kz_step_register; names are unique. Guarded by one mutex. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "link/link_int.h"
#include "pipeline_int.h"
#include "post/post_int.h"

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static const kz_step_type **g_types;
static size_t g_n, g_cap;

static const kz_step_type *find_locked(const char *name) {
    for (size_t i = 0; i < g_n; i++)
        if (strcmp(g_types[i]->name, name) == 0) return g_types[i];
    return NULL;
}

static int add_locked(const kz_step_type *t) {
    if (find_locked(t->name)) return KZ_EINVAL;
    if (g_n == g_cap) {
        size_t cap = g_cap ? g_cap * 2 : 16;
        const kz_step_type **v = realloc(g_types, cap * sizeof *v);
        if (!v) return KZ_ENOMEM;
        g_types = v;
        g_cap = cap;
    }
    g_types[g_n++] = t;
    return 0;
}

static void register_builtins(void) {
    pthread_mutex_lock(&g_lock);
    add_locked(&kz__step_sentence_splitter);
    add_locked(&kz__step_merge_overlapping);
    add_locked(&kz__step_transformers_ner);
    add_locked(&kz__step_string_matching);
    add_locked(&kz__step_dictionary_linking);
    add_locked(&kz__step_mapping);
    add_locked(&kz__step_rules_filter);
    add_locked(&kz__step_abbreviation);
    add_locked(&kz__step_cleanup);
    pthread_mutex_unlock(&g_lock);
}

int kz_step_register(const kz_step_type *type) {
    if (!type || !type->name || !type->name[0] || !type->process) return KZ_EINVAL;
    pthread_once(&g_once, register_builtins);
    pthread_mutex_lock(&g_lock);
    int rc = add_locked(type);
    pthread_mutex_unlock(&g_lock);
    return rc;
}

const kz_step_type *kz_step_find(const char *name) {
    if (!name) return NULL;
    pthread_once(&g_once, register_builtins);
    pthread_mutex_lock(&g_lock);
    const kz_step_type *t = find_locked(name);
    pthread_mutex_unlock(&g_lock);
    return t;
}

size_t kz_step_type_count(void) {
    pthread_once(&g_once, register_builtins);
    pthread_mutex_lock(&g_lock);
    size_t n = g_n;
    pthread_mutex_unlock(&g_lock);
    return n;
}

const kz_step_type *kz_step_type_at(size_t i) {
    pthread_once(&g_once, register_builtins);
    pthread_mutex_lock(&g_lock);
    const kz_step_type *t = i < g_n ? g_types[i] : NULL;
    pthread_mutex_unlock(&g_lock);
    return t;
}

bool kz_step_cancelled(const kz_step_ctx *ctx) { return ctx && ctx->cancel && ctx->cancel(ctx->cancel_user); }
