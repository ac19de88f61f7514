/* `kazu serve` internals: Kazu's web API on libmicrohttpd with a bounded job
 * queue, JWT/static-token auth, Prometheus metrics and the embedded page. */
#ifndef KAZU_SERVE_H
#define KAZU_SERVE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "kazu/kazu.h"

/* ---- configuration ---------------------------------------------------------- */
typedef struct serve_opts {
    const char *host; /* NULL = all interfaces */
    int port;
    int threads;            /* pipeline workers */
    int io_threads;         /* libmicrohttpd thread pool */
    int queue;              /* jobs waiting for a worker; more -> 503 */
    size_t max_body;        /* bytes; more -> 413 */
    size_t max_doc;         /* bytes of text in one document; more -> 413 */
    size_t max_docs;        /* documents in one request; more -> 413 */
    int timeout_ms;         /* per request, queue wait included; -> 504 */
    int retry_after_s;      /* Retry-After on 503 */
    int drain_s;            /* longest wait for in-flight work on SIGTERM */
    const char *jwt_secret; /* NULL = no JWT */
    char **tokens;          /* static bearer tokens */
    size_t n_tokens;
    bool quiet; /* no per-request log lines */
} serve_opts;

/* ---- request parsing (serve_req.c; pure, fuzzed) ------------------------------- */
typedef enum serve_shape {
    SERVE_ONE,  /* a single WebDocument object */
    SERVE_LIST, /* a JSON array of WebDocuments */
    SERVE_ONE_OR_LIST
} serve_shape;

typedef struct serve_limits {
    size_t max_doc;  /* 0 = none */
    size_t max_docs; /* 0 = none */
} serve_limits;

/* Parse a request body into new documents (Kazu's SimpleWebDocument
 * {"text": str} or SectionedWebDocument {"sections": {name: str}}). On error
 * returns the HTTP status to answer (400 malformed/wrong type/invalid UTF-8,
 * 413 over a limit, 422 wrong shape) and writes a message naming the problem
 * into msg; *docs is then NULL. On success returns 0; *docs (malloc'd array
 * of *n documents) belongs to the caller (serve_docs_free). *was_list tells
 * whether the body was an array. */
int serve_parse_docs(const char *body, size_t len, serve_shape shape, const serve_limits *lim, kz_doc ***docs,
                     size_t *n, bool *was_list, char *msg, size_t msg_cap);
void serve_docs_free(kz_doc **docs, size_t n);
/* Add one whole-section entity per non-empty section (Kazu's linking_only
 * request conversion). 0 or a KZ_E* code. */
int serve_add_whole_section_entities(kz_doc *doc, const char *entity_class);

/* ---- growable output buffer ------------------------------------------------------ */
typedef struct sbuf {
    char *p;
    size_t n, cap;
    bool oom;
} sbuf;
void sb_put(sbuf *b, const char *s, size_t n);
void sb_puts(sbuf *b, const char *s);
void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* JSON string literal (quotes included); s is valid UTF-8. */
void sb_json_str(sbuf *b, const char *s, size_t n);
void sb_free(sbuf *b);

/* ---- responses built from documents (serve_api.c) --------------------------------- */
/* Kazu Document JSON of each doc, as an array (list) or the first doc alone. */
int serve_docs_json(kz_doc **docs, size_t n, bool list, sbuf *out);
/* {"ls_view": XML, "ls_tasks": [...], "doc": {...}} for one document. */
int serve_ls_json(const kz_doc *doc, sbuf *out);
/* The OpenAPI 3 description of every route. */
void serve_openapi_json(sbuf *out, bool auth);

/* ---- auth (serve_auth.c) ------------------------------------------------------------ */
/* Check an Authorization header value. 0 = allowed; else fills msg. */
int serve_auth_check(const serve_opts *o, const char *authorization, char *msg, size_t msg_cap, char *user,
                     size_t user_cap);

/* ---- metrics (serve_metrics.c) -------------------------------------------------------- */
enum {
    R_PAGE,
    R_ASSET,
    R_WELCOME,
    R_HEALTH,
    R_READY,
    R_METRICS,
    R_OPENAPI,
    R_STEPS,
    R_STEP_GROUPS,
    R_NER_AND_LINKING,
    R_NER_ONLY,
    R_LINKING_ONLY,
    R_CUSTOM_STEPS,
    R_STEP_GROUP,
    R_KAZU,
    R_BATCH,
    R_LS,
    R_NOT_FOUND,
    R_COUNT
};
extern const char *const serve_route_names[R_COUNT];
void serve_metrics_request(int route, int status, double seconds);
void serve_metrics_docs(uint64_t docs, uint64_t failed);
void serve_metrics_event(const char *what); /* "rejected_queue_full", "timeout", ... */
void serve_metrics_render(sbuf *out, const kz_pipeline *p, int inflight, int queued);

/* ---- embedded web assets (generated from web/ at build time) ---------------------------- */
typedef struct serve_asset {
    const char *path; /* "/", "/app.js", ... */
    const char *content_type;
    const unsigned char *data;
    size_t len;
} serve_asset;
const serve_asset *serve_asset_find(const char *url);

/* ---- the server (serve_http.c) ------------------------------------------------------------- */
/* Run until SIGTERM/SIGINT; returns an exit code. */
int serve_run(const serve_opts *o, kz_pipeline *p);

#endif
