/* Error codes, kz_error recording/formatting, logging sink and version. */
#include <stdio.h>
#include <stdarg.h>
#include <string.h>
#include "core_int.h"

const char *kz_strerror(int code) {
    switch (code) {
#define KZ__CASE(name, value, msg)                                                                           \
    case value: return msg;
        KZ_ERROR_TABLE(KZ__CASE)
#undef KZ__CASE
    default: return "unknown error";
    }
}

void kz_error_clear(kz_error *err) {
    if (!err) return;
    memset(err, 0, sizeof *err);
    err->offset = -1;
}

int kz_error_set(kz_error *err, int code, const char *fmt, ...) {
    if (!err) return code;
    err->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

const char *kz_error_format(const kz_error *err, char *buf, size_t cap) {
    if (!buf || cap == 0) return "";
    buf[0] = 0;
    if (!err) return buf;
    size_t n = 0;
#define KZ__PUT(...)                                                                                         \
    do {                                                                                                     \
        if (n < cap) {                                                                                       \
            int w_ = snprintf(buf + n, cap - n, __VA_ARGS__);                                                \
            if (w_ > 0) n += (size_t)w_;                                                                     \
        }                                                                                                    \
    } while (0)
    if (err->path[0]) {
        KZ__PUT("%s", err->path);
        if (err->line > 0) {
            KZ__PUT(":%lld", (long long)err->line);
            if (err->column > 0) KZ__PUT(":%lld", (long long)err->column);
        }
        if (err->offset >= 0) KZ__PUT(" (byte %lld)", (long long)err->offset);
        KZ__PUT(": ");
    } else if (err->offset >= 0) {
        KZ__PUT("byte %lld: ", (long long)err->offset);
    }
    if (err->doc_id[0]) KZ__PUT("document %s: ", err->doc_id);
    KZ__PUT("%s", err->msg[0] ? err->msg : kz_strerror(err->code));
    if (err->msg[0] && err->code) KZ__PUT(" [%s]", kz_strerror(err->code));
#undef KZ__PUT
    return buf;
}

/* ---- logging ---- */
static kz_log_fn g_log_fn;
static void *g_log_user;
static kz_log_level g_log_min = KZ_LOG_INFO;

void kz_log_set_sink(kz_log_fn fn, void *user, kz_log_level min_level) {
    g_log_fn = fn;
    g_log_user = user;
    g_log_min = min_level;
}

void kz_log(kz_log_level level, const char *fmt, ...) {
    if (!g_log_fn || level < g_log_min) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    g_log_fn(level, msg, g_log_user);
}

const char *kz_version(void) { return KZ_VERSION_STRING; }

/* ---- strings ---- */
bool kz_str_eq(kz_str a, kz_str b) {
    if (a.len != b.len) return false;
    if (a.len == 0) return (a.ptr == NULL) == (b.ptr == NULL);
    return memcmp(a.ptr, b.ptr, a.len) == 0;
}

bool kz_str_eq_c(kz_str a, const char *b) {
    if (!b) return a.ptr == NULL;
    size_t n = strlen(b);
    return a.ptr && a.len == n && memcmp(a.ptr, b, n) == 0;
}

int kz_str_cmp(kz_str a, kz_str b) {
    size_t n = a.len < b.len ? a.len : b.len;
    int c = n ? memcmp(a.ptr, b.ptr, n) : 0;
    if (c) return c;
    return a.len < b.len ? -1 : a.len > b.len ? 1 : 0;
}
