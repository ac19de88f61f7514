/* The HTTP side of `kazu serve`: libmicrohttpd with a small I/O thread pool;
 * pipeline requests are parsed on the I/O thread, suspended, and run by a
 * fixed set of workers from a bounded queue (503 when full), under a deadline
 * that cancels the pipeline (504). SIGTERM drains: no new connections, the
 * in-flight requests finish, then the process exits. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "serve.h"

typedef enum { K_DOCS, K_LS } job_kind;

typedef struct req {
    char id[68];
    char method[8];
    char path[128];
    char user[96];
    const char *why; /* error message for the log line, valid during send_error */
    double t0, deadline;
    int route;
    bool post, too_big, counted, answered;
    sbuf body;
    /* the job */
    job_kind kind;
    kz_doc **docs;
    size_t n_docs;
    bool list;
    char **steps;
    size_t n_steps;
    char *group;
    struct MHD_Connection *conn;
    _Atomic int state; /* 0 new, 1 queued/running, 2 done */
    int status;
    sbuf out;
    char msg[640];
    struct req *next;
} req;

typedef struct server {
    const serve_opts *o;
    kz_pipeline *p;
    struct MHD_Daemon *d;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    req *head, *tail;
    int queued, running, pending; /* pending: admitted until their response completed */
    pthread_t *workers;
    int n_workers;
    atomic_bool draining, hard_stop, quit;
} server;

static server g_srv;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- responses ------------------------------------------------------------------ */
/* Message text safe for JSON output: invalid UTF-8 bytes become '?'. */
static void clean_utf8(char *s) {
    size_t n = strlen(s), bad;
    while (!kz_utf8_valid(s, n, &bad)) s[bad] = '?';
}

static void log_line(const req *r, int status) {
    if (g_srv.o->quiet && status < 400) return;
    char ts[32];
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s ID: %s %s %s %d %.1f ms docs=%zu%s%s%s%s\n", ts, r->id, r->method, r->path, status,
            (now_s() - r->t0) * 1e3, r->n_docs, r->user[0] ? " user=" : "", r->user, r->why ? ": " : "",
            r->why ? r->why : "");
}

static enum MHD_Result send_buf(struct MHD_Connection *c, req *r, int status, const char *ctype, char *body,
                                size_t len, bool owned) {
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_MUST_COPY);
    if (!resp) {
        if (owned) free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    MHD_add_response_header(resp, "X-request-id", r->id);
    if (status == 503) {
        char ra[16];
        snprintf(ra, sizeof ra, "%d", g_srv.o->retry_after_s);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, ra);
    }
    if (status == 401) MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (status == 405) MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, r->post ? "POST" : "GET, HEAD");
    if (atomic_load(&g_srv.draining) || status == 413)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    r->answered = true;
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    serve_metrics_request(r->route, status, now_s() - r->t0);
    log_line(r, status);
    return ret;
}

/* {"detail": msg, "request_id": id}; 401 uses Kazu's {"error": "ID: <id> msg"}. */
static enum MHD_Result send_error(struct MHD_Connection *c, req *r, int status, const char *msg) {
    char m[700];
    snprintf(m, sizeof m, "%s", msg);
    clean_utf8(m);
    sbuf b = {0};
    if (status == 401) {
        char e[800];
        snprintf(e, sizeof e, "ID: %s %s", r->id, m);
        sb_puts(&b, "{\"error\": ");
        sb_json_str(&b, e, strlen(e));
    } else {
        sb_puts(&b, "{\"detail\": ");
        sb_json_str(&b, m, strlen(m));
    }
    sb_puts(&b, ", \"request_id\": ");
    sb_json_str(&b, r->id, strlen(r->id));
    sb_puts(&b, "}");
    if (b.oom) return MHD_NO;
    r->why = m;
    enum MHD_Result ret = send_buf(c, r, status, "application/json", b.p, b.n, true);
    r->why = NULL;
    return ret;
}

static enum MHD_Result send_sbuf(struct MHD_Connection *c, req *r, int status, const char *ctype, sbuf *b) {
    if (b->oom) {
        sb_free(b);
        return send_error(c, r, 500, "out of memory");
    }
    if (!b->p) sb_put(b, "", 0);
    char *p = b->p;
    size_t n = b->n;
    memset(b, 0, sizeof *b);
    return send_buf(c, r, status, ctype, p, n, true);
}

/* ---- routing ---------------------------------------------------------------------- */
static int route_of(const char *url, bool *is_post_route) {
    static const struct {
        const char *path;
        int route;
        bool post;
    } k[] = {
        {"/", R_PAGE, false},
        {"/index.html", R_PAGE, false},
        {"/api", R_WELCOME, false},
        {"/api/", R_WELCOME, false},
        {"/health", R_HEALTH, false},
        {"/ready", R_READY, false},
        {"/metrics", R_METRICS, false},
        {"/openapi.json", R_OPENAPI, false},
        {"/api/openapi.json", R_OPENAPI, false},
        {"/api/steps", R_STEPS, false},
        {"/api/step_groups", R_STEP_GROUPS, false},
        {"/api/kazu/ner_and_linking", R_NER_AND_LINKING, true},
        {"/api/kazu/ner_only", R_NER_ONLY, true},
        {"/api/kazu/linking_only", R_LINKING_ONLY, true},
        {"/api/kazu/custom_pipeline_steps", R_CUSTOM_STEPS, true},
        {"/api/kazu", R_KAZU, true},
        {"/api/kazu/batch", R_BATCH, true},
        {"/api/kazu/ls-annotations", R_LS, true},
    };
    for (size_t i = 0; i < sizeof k / sizeof *k; i++)
        if (!strcmp(url, k[i].path)) {
            *is_post_route = k[i].post;
            return k[i].route;
        }
    if (!strncmp(url, "/api/kazu/", 10) && url[10] && !strchr(url + 10, '/')) {
        *is_post_route = true;
        return R_STEP_GROUP;
    }
    if (serve_asset_find(url)) {
        *is_post_route = false;
        return R_ASSET;
    }
    *is_post_route = false;
    return R_NOT_FOUND;
}

static bool id_ok(const char *s) {
    size_t n = strlen(s);
    if (!n || n > 64) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.'))
            return false;
    }
    return true;
}

static void new_id(char *out) {
    unsigned char r[16];
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        uint64_t x = (uint64_t)(now_s() * 1e9) ^ (uint64_t)(uintptr_t)out;
        memcpy(r, &x, 8);
        memcpy(r + 8, &x, 8);
    }
    r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);
    r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
    static const char hx[] = "0123456789abcdef";
    size_t k = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) out[k++] = '-';
        out[k++] = hx[r[i] >> 4];
        out[k++] = hx[r[i] & 15];
    }
    out[k] = 0;
}

/* ---- query arguments ------------------------------------------------------------------ */
typedef struct qargs {
    req *r;
    const char *entity_class;
    bool bad;
} qargs;

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
    qargs *q = cls;
    (void)kind;
    if (!strcmp(key, "steps") && value) {
        if (q->r->n_steps >= 256) {
            q->bad = true;
            return MHD_NO;
        }
        char **v = realloc(q->r->steps, (q->r->n_steps + 1) * sizeof *v);
        if (!v) {
            q->bad = true;
            return MHD_NO;
        }
        q->r->steps = v;
        if (!(v[q->r->n_steps] = strdup(value))) {
            q->bad = true;
            return MHD_NO;
        }
        q->r->n_steps++;
    } else if (!strcmp(key, "entity_class")) {
        q->entity_class = value;
    }
    return MHD_YES;
}

/* ---- workers ------------------------------------------------------------------------------ */
static bool cancel_fn(void *user) {
    req *r = user;
    return atomic_load(&g_srv.hard_stop) || now_s() > r->deadline;
}

static void run_job(req *r) {
    if (now_s() > r->deadline) {
        r->status = 504;
        snprintf(r->msg, sizeof r->msg, "request timed out after %d ms waiting for a worker",
                 g_srv.o->timeout_ms);
        serve_metrics_event("timeout");
        return;
    }
    kz_pipeline_run_params rp = kz_pipeline_run_default_params();
    rp.steps = (const char *const *)r->steps;
    rp.n_steps = r->n_steps;
    rp.step_group = r->group;
    rp.cancel = cancel_fn;
    rp.cancel_user = r;
    kz_error err;
    kz_error_clear(&err);
    int rc = kz_pipeline_run(g_srv.p, r->docs, r->n_docs, &rp, &err);
    if (rc == KZ_ECANCELLED) {
        r->status = atomic_load(&g_srv.hard_stop) ? 503 : 504;
        if (r->status == 504) {
            snprintf(r->msg, sizeof r->msg, "request timed out after %d ms; the pipeline was cancelled",
                     g_srv.o->timeout_ms);
            serve_metrics_event("timeout");
        } else {
            snprintf(r->msg, sizeof r->msg, "server shutting down; the pipeline was cancelled");
        }
        return;
    }
    if (rc == KZ_ECONFIG) {
        r->status = 422;
        snprintf(r->msg, sizeof r->msg, "%s", err.msg);
        return;
    }
    if (rc) {
        r->status = 500;
        snprintf(r->msg, sizeof r->msg, "pipeline error: %s", err.msg[0] ? err.msg : kz_strerror(rc));
        return;
    }
    uint64_t failed = 0;
    for (size_t i = 0; i < r->n_docs; i++) failed += kz_doc_failed(r->docs[i]);
    serve_metrics_docs(r->n_docs, failed);
    rc = r->kind == K_LS ? serve_ls_json(r->docs[0], &r->out)
                         : serve_docs_json(r->docs, r->n_docs, r->list, &r->out);
    if (rc) {
        sb_free(&r->out);
        r->status = 500;
        snprintf(r->msg, sizeof r->msg, "cannot serialise the result: %s", kz_strerror(rc));
        return;
    }
    r->status = 200;
}

static void *worker_main(void *arg) {
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&g_srv.mu);
        while (!g_srv.head && !atomic_load(&g_srv.quit)) pthread_cond_wait(&g_srv.cv, &g_srv.mu);
        if (!g_srv.head) {
            pthread_mutex_unlock(&g_srv.mu);
            return NULL;
        }
        req *r = g_srv.head;
        g_srv.head = r->next;
        if (!g_srv.head) g_srv.tail = NULL;
        g_srv.queued--;
        g_srv.running++;
        pthread_mutex_unlock(&g_srv.mu);

        run_job(r);

        pthread_mutex_lock(&g_srv.mu);
        g_srv.running--;
        atomic_store(&r->state, 2);
        MHD_resume_connection(r->conn);
        pthread_mutex_unlock(&g_srv.mu);
    }
}

/* ---- the access handler ---------------------------------------------------------------------- */
static enum MHD_Result get_route(struct MHD_Connection *c, req *r) {
    sbuf b = {0};
    const kz_pipeline *p = g_srv.p;
    switch (r->route) {
    case R_PAGE:
    case R_ASSET: {
        const serve_asset *a = serve_asset_find(r->path);
        if (!a) return send_error(c, r, 404, "not found");
        return send_buf(c, r, 200, a->content_type, (char *)a->data, a->len, false);
    }
    case R_WELCOME: sb_puts(&b, "\"Welcome to KAZU.\""); break;
    case R_HEALTH: sb_puts(&b, "{\"status\": \"ok\"}"); break;
    case R_READY:
        if (atomic_load(&g_srv.draining)) return send_error(c, r, 503, "shutting down");
        sb_printf(&b, "{\"status\": \"ready\", \"steps\": %zu, \"workers\": %d}", kz_pipeline_n_steps(p),
                  g_srv.n_workers);
        break;
    case R_METRICS: {
        pthread_mutex_lock(&g_srv.mu);
        int inflight = g_srv.queued + g_srv.running, queued = g_srv.queued;
        pthread_mutex_unlock(&g_srv.mu);
        serve_metrics_render(&b, p, inflight, queued);
        return send_sbuf(c, r, 200, "text/plain; version=0.0.4; charset=utf-8", &b);
    }
    case R_OPENAPI: serve_openapi_json(&b, g_srv.o->jwt_secret || g_srv.o->n_tokens); break;
    case R_STEPS:
        sb_puts(&b, "[");
        for (size_t i = 0; i < kz_pipeline_n_steps(p); i++) {
            const char *s = kz_pipeline_step_name(p, i);
            if (i) sb_puts(&b, ", ");
            sb_json_str(&b, s, strlen(s));
        }
        sb_puts(&b, "]");
        break;
    case R_STEP_GROUPS:
        if (!kz_pipeline_n_groups(p)) {
            sb_puts(&b, "null");
            break;
        }
        sb_puts(&b, "{");
        for (size_t g = 0; g < kz_pipeline_n_groups(p); g++) {
            const char *name = kz_pipeline_group_name(p, g);
            size_t n = 0;
            const char *const *st = kz_pipeline_group_steps(p, g, &n);
            if (g) sb_puts(&b, ", ");
            sb_json_str(&b, name, strlen(name));
            sb_puts(&b, ": [");
            for (size_t i = 0; i < n; i++) {
                if (i) sb_puts(&b, ", ");
                sb_json_str(&b, st[i], strlen(st[i]));
            }
            sb_puts(&b, "]");
        }
        sb_puts(&b, "}");
        break;
    default: return send_error(c, r, 404, "not found");
    }
    return send_sbuf(c, r, 200, "application/json", &b);
}

/* Parse, check and enqueue a pipeline request (or answer it with an error). */
static enum MHD_Result post_route(struct MHD_Connection *c, req *r) {
    if (r->too_big) {
        char m[128];
        snprintf(m, sizeof m, "request body over the limit of %zu bytes", g_srv.o->max_body);
        return send_error(c, r, 413, m);
    }
    if (atomic_load(&g_srv.draining)) {
        serve_metrics_event("draining");
        return send_error(c, r, 503, "server shutting down");
    }
    qargs q = {r, NULL, false};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_arg, &q);
    if (q.bad) return send_error(c, r, 400, "too many 'steps' query parameters");
    serve_shape shape = SERVE_ONE_OR_LIST;
    r->kind = K_DOCS;
    switch (r->route) {
    case R_NER_ONLY: r->group = strdup("ner_only"); break;
    case R_LINKING_ONLY:
        if (!q.entity_class || !q.entity_class[0])
            return send_error(c, r, 422, "query parameter 'entity_class' is required");
        r->group = strdup("linking_only");
        break;
    case R_STEP_GROUP: r->group = strdup(r->path + 10); break;
    case R_KAZU: shape = SERVE_ONE; break;
    case R_BATCH: shape = SERVE_LIST; break;
    case R_LS:
        shape = SERVE_ONE;
        r->kind = K_LS;
        break;
    default: break;
    }
    if (r->route != R_CUSTOM_STEPS) {
        for (size_t i = 0; i < r->n_steps; i++) free(r->steps[i]);
        free(r->steps);
        r->steps = NULL;
        r->n_steps = 0;
    }
    if ((r->route == R_NER_ONLY || r->route == R_LINKING_ONLY || r->route == R_STEP_GROUP) && !r->group)
        return send_error(c, r, 500, "out of memory");
    kz_pipeline_run_params rp = kz_pipeline_run_default_params();
    rp.steps = (const char *const *)r->steps;
    rp.n_steps = r->n_steps;
    rp.step_group = r->group;
    kz_error err;
    kz_error_clear(&err);
    if (kz_pipeline_check_run_params(g_srv.p, &rp, &err)) return send_error(c, r, 422, err.msg);

    serve_limits lim = {g_srv.o->max_doc, g_srv.o->max_docs};
    int st = serve_parse_docs(r->body.p ? r->body.p : "", r->body.n, shape, &lim, &r->docs, &r->n_docs,
                              &r->list, r->msg, sizeof r->msg);
    sb_free(&r->body);
    if (st) return send_error(c, r, st, r->msg);
    if (r->route == R_LINKING_ONLY)
        for (size_t i = 0; i < r->n_docs; i++)
            if (serve_add_whole_section_entities(r->docs[i], q.entity_class))
                return send_error(c, r, 500, "cannot add the linking entities");
    if (!r->list) r->list = r->route != R_KAZU && r->route != R_LS ? true : false;

    pthread_mutex_lock(&g_srv.mu);
    if (g_srv.queued >= g_srv.o->queue) {
        pthread_mutex_unlock(&g_srv.mu);
        serve_metrics_event("queue_full");
        char m[160];
        snprintf(m, sizeof m, "server busy: %d requests already waiting; retry after %d s", g_srv.o->queue,
                 g_srv.o->retry_after_s);
        return send_error(c, r, 503, m);
    }
    r->conn = c;
    /* The budget starts once the request is read and parsed: slow uploads are
     * bounded by the connection timeout instead. */
    r->deadline = now_s() + g_srv.o->timeout_ms / 1e3;
    atomic_store(&r->state, 1);
    r->counted = true;
    g_srv.pending++;
    MHD_suspend_connection(c);
    r->next = NULL;
    if (g_srv.tail)
        g_srv.tail->next = r;
    else
        g_srv.head = r;
    g_srv.tail = r;
    g_srv.queued++;
    pthread_cond_signal(&g_srv.cv);
    pthread_mutex_unlock(&g_srv.mu);
    return MHD_YES;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload, size_t *upload_size, void **con_cls) {
    (void)cls, (void)version;
    req *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r) return MHD_NO;
        *con_cls = r;
        r->t0 = now_s();
        const char *rid = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
        if (rid && id_ok(rid))
            snprintf(r->id, sizeof r->id, "%s", rid);
        else
            new_id(r->id);
        snprintf(r->method, sizeof r->method, "%s", method);
        snprintf(r->path, sizeof r->path, "%s", url);
        clean_utf8(r->path);
        bool post_route = false;
        r->route = route_of(url, &post_route);
        r->post = post_route;
        if (strlen(url) >= sizeof r->path) r->route = R_NOT_FOUND;
        bool is_get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
        bool is_post = !strcmp(method, "POST");
        if (r->route == R_NOT_FOUND) return send_error(c, r, 404, "not found");
        if ((post_route && !is_post) || (!post_route && !is_get)) {
            char m[96];
            snprintf(m, sizeof m, "method %s not allowed here", r->method);
            return send_error(c, r, 405, m);
        }
        if (post_route) {
            char m[300];
            const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
            if (serve_auth_check(g_srv.o, auth, m, sizeof m, r->user, sizeof r->user)) {
                clean_utf8(r->user);
                return send_error(c, r, 401, m);
            }
            clean_utf8(r->user);
            const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
            if (cl && strtoull(cl, NULL, 10) > g_srv.o->max_body) {
                snprintf(m, sizeof m, "request body of %s bytes over the limit of %zu bytes", cl,
                         g_srv.o->max_body);
                return send_error(c, r, 413, m);
            }
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (r->post && !r->too_big && !r->answered) {
            if (r->body.n + *upload_size > g_srv.o->max_body) {
                r->too_big = true;
                sb_free(&r->body);
            } else {
                sb_put(&r->body, upload, *upload_size);
                if (r->body.oom) r->too_big = true;
            }
        }
        *upload_size = 0;
        return MHD_YES;
    }
    if (r->answered) return MHD_YES; /* an early answer (401, 413) was queued */
    int state = atomic_load(&r->state);
    if (state == 1) return MHD_YES; /* spurious call while suspended */
    if (state == 2) {
        atomic_store(&r->state, 3);
        if (r->status != 200) return send_error(c, r, r->status, r->msg);
        return send_sbuf(c, r, 200, "application/json", &r->out);
    }
    if (state == 3) return MHD_YES;
    return r->post ? post_route(c, r) : get_route(c, r);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe) {
    (void)cls, (void)c, (void)toe;
    req *r = *con_cls;
    if (!r) return;
    *con_cls = NULL;
    if (r->counted) {
        pthread_mutex_lock(&g_srv.mu);
        g_srv.pending--;
        pthread_cond_broadcast(&g_srv.cv);
        pthread_mutex_unlock(&g_srv.mu);
    }
    sb_free(&r->body);
    sb_free(&r->out);
    serve_docs_free(r->docs, r->n_docs);
    for (size_t i = 0; i < r->n_steps; i++) free(r->steps[i]);
    free(r->steps);
    free(r->group);
    free(r);
}

/* ---- lifecycle ----------------------------------------------------------------------------------- */
static bool wait_pending(double until) {
    pthread_mutex_lock(&g_srv.mu);
    while (g_srv.pending > 0 && now_s() < until) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&g_srv.cv, &g_srv.mu, &ts);
    }
    bool done = g_srv.pending == 0;
    pthread_mutex_unlock(&g_srv.mu);
    return done;
}

int serve_run(const serve_opts *o, kz_pipeline *p) {
    memset(&g_srv, 0, sizeof g_srv);
    g_srv.o = o;
    g_srv.p = p;
    pthread_mutex_init(&g_srv.mu, NULL);
    pthread_cond_init(&g_srv.cv, NULL);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)o->port);
    sa.sin_addr.s_addr = htonl(INADDR_ANY);
    if (o->host && inet_pton(AF_INET, o->host, &sa.sin_addr) != 1) {
        fprintf(stderr, "kazu serve: --host: '%s' is not an IPv4 address\n", o->host);
        return CLI_USAGE;
    }
    g_srv.workers = calloc((size_t)o->threads, sizeof *g_srv.workers);
    if (!g_srv.workers) return CLI_FATAL;
    for (int i = 0; i < o->threads; i++) {
        if (pthread_create(&g_srv.workers[i], NULL, worker_main, NULL)) break;
        g_srv.n_workers++;
    }
    if (!g_srv.n_workers) {
        fprintf(stderr, "kazu serve: cannot start worker threads\n");
        free(g_srv.workers);
        return CLI_FATAL;
    }
    unsigned flags =
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    g_srv.d = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR,
                               (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)o->io_threads,
                               MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_CONNECTION_TIMEOUT,
                               (unsigned)60, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
                               MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024), MHD_OPTION_END);
    int rc = 0;
    if (!g_srv.d) {
        fprintf(stderr, "kazu serve: cannot listen on port %d: %s\n", o->port, strerror(errno));
        rc = CLI_FATAL;
    } else {
        const union MHD_DaemonInfo *di = MHD_get_daemon_info(g_srv.d, MHD_DAEMON_INFO_BIND_PORT);
        fprintf(
            stderr,
            "kazu serve: listening on %s:%u (%d workers, %d I/O threads, queue %d, timeout %d ms, auth %s)\n",
            o->host ? o->host : "0.0.0.0", di ? di->port : (unsigned)o->port, g_srv.n_workers, o->io_threads,
            o->queue, o->timeout_ms,
            o->jwt_secret ? (o->n_tokens ? "jwt+tokens" : "jwt")
            : o->n_tokens ? "tokens"
                          : "none");
        int sig = 0;
        sigwait(&set, &sig);
        fprintf(stderr, "kazu serve: %s: draining (new connections refused)\n",
                sig == SIGTERM ? "SIGTERM" : "SIGINT");
        atomic_store(&g_srv.draining, true);
        MHD_socket ls = MHD_quiesce_daemon(g_srv.d);
        if (ls != MHD_INVALID_SOCKET) close(ls);
        if (!wait_pending(now_s() + o->drain_s)) {
            fprintf(stderr, "kazu serve: in-flight requests still running after %d s; cancelling them\n",
                    o->drain_s);
            atomic_store(&g_srv.hard_stop, true);
            wait_pending(now_s() + 5);
        }
    }
    pthread_mutex_lock(&g_srv.mu);
    atomic_store(&g_srv.quit, true);
    pthread_cond_broadcast(&g_srv.cv);
    pthread_mutex_unlock(&g_srv.mu);
    for (int i = 0; i < g_srv.n_workers; i++) pthread_join(g_srv.workers[i], NULL);
    free(g_srv.workers);
    if (g_srv.d) MHD_stop_daemon(g_srv.d);
    if (!rc) fprintf(stderr, "kazu serve: stopped\n");
    return rc;
}
