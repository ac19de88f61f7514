/* kazu-c core: error codes, string views, arenas, logging and version.
 * Every other public header builds on these types. */
#ifndef KAZU_CORE_H
#define KAZU_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(KZ_BUILDING_LIBRARY)
#define KZ_API __attribute__((visibility("default")))
#else
#define KZ_API
#endif

#define KZ_VERSION_MAJOR  0
#define KZ_VERSION_MINOR  1
#define KZ_VERSION_PATCH  0
#define KZ_VERSION_STRING "0.1.0"

/* ---- errors -------------------------------------------------------------
 * Fallible functions return int: 0 ok, negative KZ_E* on failure. Values are
 * stable; never renumber. X(name, value, message). */
#define KZ_ERROR_TABLE(X)                                                                                    \
    X(KZ_OK, 0, "ok")                                                                                        \
    X(KZ_ENOMEM, -1, "out of memory")                                                                        \
    X(KZ_EINVAL, -2, "invalid argument")                                                                     \
    X(KZ_EIO, -3, "input/output error")                                                                      \
    X(KZ_EPARSE, -4, "malformed input")                                                                      \
    X(KZ_EUTF8, -5, "invalid UTF-8")                                                                         \
    X(KZ_ERANGE, -6, "value out of range")                                                                   \
    X(KZ_ELIMIT, -7, "size limit exceeded")                                                                  \
    X(KZ_EFORMAT, -8, "unknown or unsupported format")                                                       \
    X(KZ_ENOTFOUND, -9, "not found")                                                                         \
    X(KZ_ECONFIG, -10, "invalid configuration")                                                              \
    X(KZ_ECANCELLED, -11, "cancelled")                                                                       \
    X(KZ_ESTEP, -12, "pipeline step failed")                                                                 \
    X(KZ_ESTATE, -13, "invalid state")

enum {
#define KZ__ENUM(name, value, msg) name = value,
    KZ_ERROR_TABLE(KZ__ENUM)
#undef KZ__ENUM
};

/* Static English description of an error code; never NULL. */
KZ_API const char *kz_strerror(int code);

/* Rich error for parsers of outside data. All fields are optional for the
 * producer; consumers print it with kz_error_format. The struct is plain
 * data owned by the caller (usually on the stack). */
typedef struct kz_error {
    int code;         /* KZ_E*; 0 when no error was recorded */
    char msg[512];    /* human-readable reason, NUL-terminated */
    char path[256];   /* file or stream name ("-" for stdin), may be empty */
    int64_t line;     /* 1-based line, 0 when unknown */
    int64_t column;   /* 1-based byte column in line, 0 when unknown */
    int64_t offset;   /* 0-based byte offset in the stream, -1 when unknown */
    char doc_id[128]; /* id of the document concerned, may be empty */
} kz_error;

/* Reset to "no error" (code 0, empty strings, unknown positions). NULL ok. */
KZ_API void kz_error_clear(kz_error *err);
/* Record an error; printf-style message. Keeps existing path/line fields.
 * Returns code so callers can `return kz_error_set(err, KZ_EPARSE, ...)`.
 * err may be NULL (then only code is returned). */
KZ_API int kz_error_set(kz_error *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Format as "path:line:col: (doc ID) reason [strerror]" into buf (always NUL-terminated). */
KZ_API const char *kz_error_format(const kz_error *err, char *buf, size_t cap);

/* ---- string views -------------------------------------------------------
 * A borrowed {ptr,len} byte string; not NUL-terminated unless stated.
 * ptr == NULL means "absent" (distinct from the empty string). */
typedef struct kz_str {
    const char *ptr;
    size_t len;
} kz_str;

#define KZ_STR_NULL ((kz_str){NULL, 0})
static inline kz_str kz_str_c(const char *s) {
    kz_str r = {s, 0};
    if (s) {
        while (s[r.len]) r.len++;
    }
    return r;
}
static inline bool kz_str_is_null(kz_str s) { return s.ptr == NULL; }
KZ_API bool kz_str_eq(kz_str a, kz_str b);
KZ_API bool kz_str_eq_c(kz_str a, const char *b);
KZ_API int kz_str_cmp(kz_str a, kz_str b);

/* ---- arena ---------------------------------------------------------------
 * Bump allocator. Everything allocated from an arena is freed at once by
 * kz_arena_free / kz_arena_reset. Not thread-safe: one arena per thread/doc. */
typedef struct kz_arena kz_arena;

/* New arena; chunk_size 0 picks a default (16 KiB). NULL on OOM. */
KZ_API kz_arena *kz_arena_new(size_t chunk_size);
/* Free the arena and everything in it. NULL is a no-op. */
KZ_API void kz_arena_free(kz_arena *a);
/* Drop all allocations but keep the first chunk for reuse. */
KZ_API void kz_arena_reset(kz_arena *a);
/* 16-byte aligned, uninitialised; NULL on OOM or size overflow. */
KZ_API void *kz_arena_alloc(kz_arena *a, size_t size);
/* Zeroed allocation of n*size bytes with overflow check; NULL on failure. */
KZ_API void *kz_arena_calloc(kz_arena *a, size_t n, size_t size);
/* Copy len bytes and add a NUL terminator; returns a view of the copy
 * (ptr NULL on OOM; the input ptr NULL gives KZ_STR_NULL). */
KZ_API kz_str kz_arena_strdup(kz_arena *a, const char *s, size_t len);
/* Total bytes handed out (for metrics and tests). */
KZ_API size_t kz_arena_used(const kz_arena *a);

/* ---- logging --------------------------------------------------------------
 * The library never prints. Apps install a sink; the default discards. */
typedef enum kz_log_level {
    KZ_LOG_DEBUG = 0,
    KZ_LOG_INFO = 1,
    KZ_LOG_WARN = 2,
    KZ_LOG_ERROR = 3
} kz_log_level;
typedef void (*kz_log_fn)(kz_log_level level, const char *msg, void *user);
/* Install a process-wide sink (NULL restores the discarding default).
 * Call before starting threads; the sink itself must be thread-safe. */
KZ_API void kz_log_set_sink(kz_log_fn fn, void *user, kz_log_level min_level);
KZ_API void kz_log(kz_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Cancellation callback for long calls: return true to abort (KZ_ECANCELLED). */
typedef bool (*kz_cancel_fn)(void *user);

/* Library version string, e.g. "0.1.0". */
KZ_API const char *kz_version(void);

#ifdef __cplusplus
}
#endif
#endif
