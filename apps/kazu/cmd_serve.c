/* `kazu serve`: Kazu's web API (and an annotation page) over HTTP for the
 * configured pipeline; options, secrets and the pipeline, then serve_run. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "serve.h"

const char cli_serve_help[] =
    "Usage: kazu serve [options]\n"
    "Serve Kazu's web API for the configured pipeline (one pipeline, KB and model shared\n"
    "by every worker) plus an annotation page at /. See docs/serve.md.\n"
    "\n"
    "Routes: POST /api/kazu/ner_and_linking, /api/kazu/ner_only, /api/kazu/linking_only?entity_class=C,\n"
    "  /api/kazu/custom_pipeline_steps?steps=A&steps=B, /api/kazu/{step_group}, /api/kazu (one doc),\n"
    "  /api/kazu/batch (list), /api/kazu/ls-annotations; GET /api/steps, /api/step_groups, /health,\n"
    "  /ready, /metrics, /openapi.json, / (page)\n"
    "\n"
    "Options:\n"
    "  -c, --config FILE       pipeline YAML (default: the built-in pipeline)\n"
    "  -p, --port N            TCP port (default 8080; 0 = any free port, printed on stderr)\n"
    "      --host ADDR         IPv4 address to bind (default all interfaces)\n"
    "  -t, --threads N         pipeline workers (default: number of CPUs)\n"
    "      --io-threads N      HTTP I/O threads (default 2)\n"
    "      --queue N           requests waiting for a worker before 503 + Retry-After (default 64)\n"
    "      --timeout-ms N      per-request limit from the parsed body on (queue wait + pipeline);\n"
    "                          the pipeline is cancelled and the answer is 504 (default 60000)\n"
    "      --max-body BYTES    request body limit, 413 above (default 16777216)\n"
    "      --max-doc BYTES     text of one document, 413 above (default 4194304)\n"
    "      --max-docs N        documents in one request, 413 above (default 1000)\n"
    "      --retry-after S     Retry-After seconds on 503 (default 1)\n"
    "      --drain S           on SIGTERM, wait this long for in-flight requests (default 30)\n"
    "      --jwt-secret-file F HS256 secret for JWT bearer tokens (or $KAZU_JWT_KEY)\n"
    "      --token-file F      static bearer tokens, one per line\n"
    "  -q, --quiet             log only failed requests\n"
    "  -h, --help              this help\n"
    "\n"
    "Auth applies to the POST routes when a secret or tokens are configured; /health, /ready,\n"
    "/metrics, /openapi.json, /api/steps, /api/step_groups and the page stay open.\n"
    "Exit status: 0 after a clean shutdown (SIGTERM/SIGINT), 2 usage error, 3 fatal.\n";

static int num(const char *opt, const char *arg, long long lo, long long hi, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(arg, &end, 10);
    if (!*arg || *end || errno || v < lo || v > hi)
        return cli_usage("serve", "%s: expected a number from %lld to %lld, got '%s'", opt, lo, hi, arg);
    *out = v;
    return 0;
}

/* Whole file, trailing newlines removed; NULL on error (reported). */
static char *slurp(const char *path, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "kazu serve: cannot open '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    char *b = malloc(cap + 1);
    size_t n = b ? fread(b, 1, cap, f) : 0;
    fclose(f);
    if (!b) return NULL;
    b[n] = 0;
    while (n && (b[n - 1] == '\n' || b[n - 1] == '\r' || b[n - 1] == ' ')) b[--n] = 0;
    return b;
}

static void log_sink(kz_log_level level, const char *msg, void *user) {
    (void)user;
    static const char *const names[] = {"DEBUG", "INFO", "WARN", "ERROR"};
    fprintf(stderr, "kazu serve: %s: %s\n", names[level >= 0 && level <= 3 ? level : 3], msg);
}

int cmd_serve(int argc, char **argv) {
    static const struct option lo[] = {{"config", required_argument, NULL, 'c'},
                                       {"port", required_argument, NULL, 'p'},
                                       {"host", required_argument, NULL, 300},
                                       {"threads", required_argument, NULL, 't'},
                                       {"io-threads", required_argument, NULL, 301},
                                       {"queue", required_argument, NULL, 302},
                                       {"timeout-ms", required_argument, NULL, 303},
                                       {"max-body", required_argument, NULL, 304},
                                       {"max-doc", required_argument, NULL, 305},
                                       {"max-docs", required_argument, NULL, 306},
                                       {"retry-after", required_argument, NULL, 307},
                                       {"drain", required_argument, NULL, 308},
                                       {"jwt-secret-file", required_argument, NULL, 309},
                                       {"token-file", required_argument, NULL, 310},
                                       {"quiet", no_argument, NULL, 'q'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
    serve_opts o = {0};
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    o.port = 8080;
    o.threads = ncpu > 0 ? (int)(ncpu > 256 ? 256 : ncpu) : 2;
    o.io_threads = 2;
    o.queue = 64;
    o.timeout_ms = 60000;
    o.max_body = 16u << 20;
    o.max_doc = 4u << 20;
    o.max_docs = 1000;
    o.retry_after_s = 1;
    o.drain_s = 30;
    const char *config = NULL, *secret_file = NULL, *token_file = NULL;
    long long v;
    int c, rc;
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:p:t:qh", lo, NULL)) != -1) {
        rc = 0;
        switch (c) {
        case 'c': config = optarg; break;
        case 'p': rc = num("--port", optarg, 0, 65535, &v), o.port = (int)v; break;
        case 300: o.host = optarg; break;
        case 't': rc = num("--threads", optarg, 1, 1024, &v), o.threads = (int)v; break;
        case 301: rc = num("--io-threads", optarg, 1, 64, &v), o.io_threads = (int)v; break;
        case 302: rc = num("--queue", optarg, 0, 1000000, &v), o.queue = (int)v; break;
        case 303: rc = num("--timeout-ms", optarg, 1, 86400000, &v), o.timeout_ms = (int)v; break;
        case 304: rc = num("--max-body", optarg, 1, 1ll << 32, &v), o.max_body = (size_t)v; break;
        case 305: rc = num("--max-doc", optarg, 1, 1ll << 32, &v), o.max_doc = (size_t)v; break;
        case 306: rc = num("--max-docs", optarg, 1, 10000000, &v), o.max_docs = (size_t)v; break;
        case 307: rc = num("--retry-after", optarg, 0, 3600, &v), o.retry_after_s = (int)v; break;
        case 308: rc = num("--drain", optarg, 0, 86400, &v), o.drain_s = (int)v; break;
        case 309: secret_file = optarg; break;
        case 310: token_file = optarg; break;
        case 'q': o.quiet = true; break;
        case 'h': fputs(cli_serve_help, stdout); return CLI_OK;
        default: return cli_bad_option("serve", argv);
        }
        if (rc) return rc;
    }
    if (optind < argc) return cli_usage("serve", "unexpected argument '%s'", argv[optind]);

    char *secret = NULL, *tokens_text = NULL;
    int ret = CLI_FATAL;
    kz_pipeline *p = NULL;
    if (secret_file) {
        if (!(secret = slurp(secret_file, 4096))) goto out;
    } else if (getenv("KAZU_JWT_KEY") && *getenv("KAZU_JWT_KEY")) {
        secret = strdup(getenv("KAZU_JWT_KEY"));
    }
    if (secret && strlen(secret) < 16) {
        fprintf(stderr, "kazu serve: the JWT secret must be at least 16 bytes\n");
        goto out;
    }
    o.jwt_secret = secret;
    if (token_file) {
        if (!(tokens_text = slurp(token_file, 1 << 20))) goto out;
        for (char *save = NULL, *t = strtok_r(tokens_text, "\r\n", &save); t;
             t = strtok_r(NULL, "\r\n", &save)) {
            while (*t == ' ') t++;
            if (!*t || *t == '#') continue;
            char **nv = realloc(o.tokens, (o.n_tokens + 1) * sizeof *nv);
            if (!nv) goto out;
            o.tokens = nv;
            o.tokens[o.n_tokens++] = t;
        }
        if (!o.n_tokens) {
            fprintf(stderr, "kazu serve: %s holds no token\n", token_file);
            goto out;
        }
    }
    kz_log_set_sink(log_sink, NULL, KZ_LOG_INFO);
    if (!(p = cli_load_pipeline(config))) goto out;
    ret = serve_run(&o, p);
out:
    kz_pipeline_free(p);
    free(secret);
    free(tokens_text);
    free(o.tokens);
    return ret;
}
