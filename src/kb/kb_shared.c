/* One mapping per pack file per process: kz_kb_acquire / kz_kb_release keep a
 * small list of (realpath, kb, refcount) under a mutex, and
 * kz_kb_from_step_params resolves the pack a pipeline step should use. */
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "build_int.h"
#include "kazu/config.h"
#include "kazu/kb.h"

typedef struct shared_kb {
    char *path;
    kz_kb *kb;
    unsigned refs;
    struct shared_kb *next;
} shared_kb;

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static shared_kb *g_list;

int kz_kb_acquire(const char *path, kz_kb **out, kz_error *err) {
    if (!path || !out) return kz_error_set(err, KZ_EINVAL, "kz_kb_acquire: missing path");
    *out = NULL;
    char *real = realpath(path, NULL);
    if (!real) {
        /* Let kz_kb_open produce the error that names the problem. */
        kz_kb *kb = NULL;
        int rc = kz_kb_open(path, &kb, err);
        if (rc == 0) {
            kz_kb_close(kb);
            rc = kz_error_set(err, KZ_EIO, "%s: cannot resolve the path", path);
        }
        return rc;
    }
    pthread_mutex_lock(&g_lock);
    for (shared_kb *s = g_list; s; s = s->next)
        if (strcmp(s->path, real) == 0) {
            s->refs++;
            *out = s->kb;
            pthread_mutex_unlock(&g_lock);
            free(real);
            return 0;
        }
    shared_kb *s = calloc(1, sizeof *s);
    if (!s) {
        pthread_mutex_unlock(&g_lock);
        free(real);
        return kz_error_set(err, KZ_ENOMEM, "out of memory");
    }
    int rc = kz_kb_open(real, &s->kb, err);
    if (rc) {
        pthread_mutex_unlock(&g_lock);
        free(real);
        free(s);
        return rc;
    }
    s->path = real;
    s->refs = 1;
    s->next = g_list;
    g_list = s;
    *out = s->kb;
    pthread_mutex_unlock(&g_lock);
    return 0;
}

void kz_kb_release(kz_kb *kb) {
    if (!kb) return;
    pthread_mutex_lock(&g_lock);
    for (shared_kb **p = &g_list; *p; p = &(*p)->next) {
        shared_kb *s = *p;
        if (s->kb != kb) continue;
        if (--s->refs == 0) {
            *p = s->next;
            kz_kb_close(s->kb);
            free(s->path);
            free(s);
        }
        break;
    }
    pthread_mutex_unlock(&g_lock);
}

int kz_kb_from_step_params(const struct kz_config_node *params, const char *step_name, kz_kb **out,
                           kz_error *err) {
    if (!out) return kz_error_set(err, KZ_EINVAL, "kz_kb_from_step_params: missing output");
    *out = NULL;
    const char *raw = NULL;
    if (params) {
        int rc = kz_config_get_string(params, "kb", NULL, &raw, err);
        if (rc) return rc;
    }
    if (!raw || !raw[0]) raw = getenv("KAZU_KB");
    if (!raw || !raw[0])
        return kz_error_set(err, KZ_ECONFIG,
                            "%s: no knowledge base: give the step a `kb:` parameter, set KAZU_KB or use "
                            "`kazu annotate --kb PACK`",
                            step_name ? step_name : "step");
    kz_arena *a = kz_arena_new(0);
    if (!a) return kz_error_set(err, KZ_ENOMEM, "out of memory");
    const char *path = NULL;
    int rc = kz__recipe_expand(a, raw, &path, err);
    if (rc == 0) rc = kz_kb_acquire(path, out, err);
    kz_arena_free(a);
    return rc;
}
