/* Pipeline: configuration, failure isolation (per document and per batch), the
 * long-document guard, step selection, stats, handlers, cancellation, threads,
 * and MergeOverlappingEntsStep (Kazu's test_merge_overlapping_ents_step cases). */
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include "kz_test.h"
#include "kazu/kazu.h"

/* ---- test steps, registered once ------------------------------------------------ */

/* Appends its name to metadata "trace" (a JSON string) of every document. */
static int trace_process(void *state, kz_doc **docs, size_t n, const kz_step_ctx *ctx, kz_error *err) {
    (void)state;
    (void)err;
    struct timespec ts = {0, 100000};
    nanosleep(&ts, NULL); /* make the step's time measurable */
    for (size_t i = 0; i < n; i++) {
        kz_str old = kz_meta_get(&docs[i]->metadata, "trace");
        char buf[512];
        /* old is a JSON string literal: strip its quotes to append. */
        snprintf(buf, sizeof buf, "%.*s%s%s", old.ptr ? (int)old.len - 2 : 0, old.ptr ? old.ptr + 1 : "",
                 old.ptr ? "," : "", ctx->step_name);
        kz_meta_set_string(docs[i], &docs[i]->metadata, kz_str_c("trace"), kz_str_c(buf));
    }
    return 0;
}

/* Fails documents whose id starts with "bad". */
static int fail_bad_process(void *state, kz_doc **docs, size_t n, const kz_step_ctx *ctx, kz_error *err) {
    (void)state;
    (void)err;
    for (size_t i = 0; i < n; i++)
        if (docs[i]->idx.len >= 3 && memcmp(docs[i]->idx.ptr, "bad", 3) == 0)
            kz_doc_set_failure(docs[i], ctx->step_name, "cannot handle this one");
    return 0;
}

static int boom_process(void *state, kz_doc **docs, size_t n, const kz_step_ctx *ctx, kz_error *err) {
    (void)state;
    (void)docs;
    (void)n;
    (void)ctx;
    return kz_error_set(err, KZ_ESTEP, "model server unreachable");
}

/* init reads params.fail: true to test init failures. */
static int picky_init(void **state, const kz_config_node *params, kz_error *err) {
    static const char *const keys[] = {"fail"};
    bool fail = false;
    *state = NULL;
    int rc = kz_config_check_keys(params, keys, 1, err);
    if (!rc) rc = kz_config_get_bool(params, "fail", false, &fail, err);
    if (!rc && fail) rc = kz_error_set(err, KZ_ESTEP, "asked to fail");
    return rc;
}

static const kz_step_type k_trace_a = {"TraceA", "test: trace", NULL, trace_process, NULL};
static const kz_step_type k_trace_b = {"TraceB", "test: trace", NULL, trace_process, NULL};
static const kz_step_type k_fail_bad = {"FailBad", "test: fail ids bad*", NULL, fail_bad_process, NULL};
static const kz_step_type k_boom = {"Boom", "test: batch failure", NULL, boom_process, NULL};
static const kz_step_type k_picky = {"Picky", "test: init", picky_init, trace_process, NULL};

static void register_test_steps(void) {
    static bool done;
    if (done) return;
    done = true;
    kz_step_register(&k_trace_a);
    kz_step_register(&k_trace_b);
    kz_step_register(&k_fail_bad);
    kz_step_register(&k_boom);
    kz_step_register(&k_picky);
}

/* ---- helpers ------------------------------------------------------------------------ */
static kz_error g_err;

static kz_pipeline *pipeline_from(const char *yaml) {
    register_test_steps();
    kz_config *cfg;
    if (kz_config_load_string(&cfg, yaml, strlen(yaml), "p.yaml", NULL, &g_err)) return NULL;
    kz_pipeline *p = NULL;
    kz_pipeline_new(kz_config_root(cfg), &p, &g_err);
    kz_config_free(cfg);
    return p;
}

static kz_doc *doc_with(const char *id, const char *text) {
    kz_doc *d = kz_doc_new(id, strlen(id));
    kz_doc_add_section(d, "na", 2, text, strlen(text), NULL, NULL);
    return d;
}

/* PROCESSING_EXCEPTION as raw JSON text ("" if none). */
static const char *failure_of(const kz_doc *d) {
    static char buf[2048];
    kz_str v = kz_meta_get(&d->metadata, KZ_PROCESSING_EXCEPTION);
    snprintf(buf, sizeof buf, "%.*s", (int)v.len, v.ptr ? v.ptr : "");
    return buf;
}

static const char *trace_of(const kz_doc *d) {
    static char buf[512];
    kz_str v = kz_meta_get(&d->metadata, "trace");
    snprintf(buf, sizeof buf, "%.*s", (int)v.len, v.ptr ? v.ptr : "");
    return buf;
}

#define LOG_CAP 16
static char g_log[LOG_CAP][1024];
static int g_nlog;
static void capture_log(kz_log_level level, const char *msg, void *user) {
    (void)user;
    if (level >= KZ_LOG_WARN && g_nlog < LOG_CAP) snprintf(g_log[g_nlog++], sizeof g_log[0], "%s", msg);
}

/* ---- configuration ------------------------------------------------------------------- */
KZ_TEST(pipeline_default_config_matches_example_file) {
    size_t len;
    char *file = kz_test_read_file(KZ_SOURCE_DIR "/examples/pipeline.yaml", &len);
    KZ_CHECK(file != NULL);
    KZ_CHECK_STR(kz_pipeline_default_config(), file);
    free(file);
    kz_pipeline *p;
    KZ_CHECK_INT(kz_pipeline_new_default(&p, &g_err), 0);
    /* No KAZU_KB / KAZU_MODEL in the test's environment: the optional KB and model
     * steps are left out, the others run in Kazu's order. */
    static const char *const expect[] = {"SentenceSplitter", "RulesBasedEntityClassDisambiguationFilterStep",
                                         "AbbreviationFinderStep", "CleanupStep", "MergeOverlappingEntsStep"};
    if (!getenv("KAZU_KB") && !getenv("KAZU_MODEL")) {
        KZ_CHECK_INT(kz_pipeline_n_steps(p), 5);
        for (size_t i = 0; i < 5; i++) KZ_CHECK_STR(kz_pipeline_step_name(p, i), expect[i]);
        KZ_CHECK(kz_pipeline_step_name(p, 5) == NULL);
        KZ_CHECK_INT(kz_pipeline_n_disabled(p), 4);
        KZ_CHECK_STR(kz_pipeline_disabled_step(p, 0, NULL), "MemoryEfficientStringMatchingStep");
        KZ_CHECK_STR(kz_pipeline_disabled_step(p, 1, NULL), "TransformersModelForTokenClassificationNerStep");
    }
    KZ_CHECK_INT(kz_pipeline_batch_size(p), 16);
    KZ_CHECK_INT(kz_pipeline_skip_doc_len(p), 200000);
    KZ_CHECK_INT(kz_pipeline_n_groups(p), 4);
    KZ_CHECK_STR(kz_pipeline_group_name(p, 0), "sentences_only");
    KZ_CHECK_STR(kz_pipeline_group_name(p, 3), "linking_only");
    size_t n;
    const char *const *g = kz_pipeline_group_steps(p, 1, &n);
    KZ_CHECK_INT(n, 1);
    KZ_CHECK_STR(g[0], "MergeOverlappingEntsStep");
    KZ_CHECK(kz_pipeline_group_steps(p, 4, &n) == NULL && n == 0);
    kz_pipeline_free(p);
    kz_pipeline_free(NULL);
}

KZ_TEST(pipeline_config_errors_are_located) {
    char buf[1024];
    KZ_CHECK(pipeline_from("pipeline:\n  steps:\n    - type: NoSuchStep\n") == NULL);
    KZ_CHECK_INT(g_err.code, KZ_ECONFIG);
    KZ_CHECK_INT(g_err.line, 3);
    KZ_CHECK(strstr(g_err.msg, "unknown step type 'NoSuchStep' (registered: SentenceSplitter, "
                               "MergeOverlappingEntsStep") != NULL);
    KZ_CHECK(pipeline_from("pipeline:\n  steps: [TraceA, TraceA]\n") == NULL);
    KZ_CHECK(strstr(g_err.msg, "configured twice") != NULL);
    KZ_CHECK(pipeline_from("pipeline:\n  steps: [TraceA]\n  step_groups:\n    g: [TraceA, TraceB]\n") ==
             NULL);
    KZ_CHECK_STR(
        kz_error_format(&g_err, buf, sizeof buf),
        "p.yaml:4:17: step group 'g' names 'TraceB', which is not a configured step [invalid configuration]");
    KZ_CHECK(pipeline_from("pipeline:\n  batchsize: 3\n") == NULL);
    KZ_CHECK(strstr(g_err.msg, "unknown key 'batchsize'") != NULL);
    KZ_CHECK(pipeline_from("pipeline:\n  batch_size: 0\n") == NULL);
    KZ_CHECK_INT(g_err.line, 2);
    KZ_CHECK(pipeline_from("pipeline:\n  steps:\n    - type: TraceA\n      params: [1]\n") == NULL);
    KZ_CHECK(strstr(g_err.msg, "'params' of TraceA must be a map") != NULL);
    KZ_CHECK(pipeline_from("steps: []\n") == NULL);
    KZ_CHECK(strstr(g_err.msg, "needs a 'pipeline:' map") != NULL);
    /* A step's own init error keeps its place and names the step. */
    KZ_CHECK(pipeline_from("pipeline:\n  steps:\n    - type: Picky\n      params:\n        fail: maybe\n") ==
             NULL);
    KZ_CHECK_STR(kz_error_format(&g_err, buf, sizeof buf),
                 "p.yaml:5:15: Picky: 'fail': expected true or false, got 'maybe' [invalid configuration]");
    KZ_CHECK(pipeline_from("pipeline:\n  steps:\n    - type: Picky\n      params: {fail: true}\n") == NULL);
    KZ_CHECK_INT(g_err.code, KZ_ESTEP);
    KZ_CHECK_INT(g_err.line, 4);
    KZ_CHECK(strstr(g_err.msg, "Picky: asked to fail") != NULL);
    KZ_CHECK(pipeline_from("pipeline:\n  steps:\n    - type: MergeOverlappingEntsStep\n      params:\n"
                           "        ent_class_preferred_order: gene\n") == NULL);
    KZ_CHECK_INT(g_err.line, 5);
    /* Shorthand list of names, empty steps, and no groups are fine. */
    kz_pipeline *p = pipeline_from("pipeline:\n  steps: [TraceA, Picky]\n");
    KZ_CHECK(p != NULL);
    KZ_CHECK_INT(kz_pipeline_n_groups(p), 0);
    kz_pipeline_free(p);
    p = pipeline_from("pipeline: {}\n");
    KZ_CHECK(p != NULL);
    KZ_CHECK_INT(kz_pipeline_n_steps(p), 0);
    kz_pipeline_free(p);
}

KZ_TEST(step_registry_names_are_unique) {
    register_test_steps();
    KZ_CHECK(kz_step_find("SentenceSplitter") != NULL);
    KZ_CHECK(kz_step_find("TraceA") == &k_trace_a);
    KZ_CHECK(kz_step_find("Nope") == NULL);
    KZ_CHECK_INT(kz_step_register(&k_trace_a), KZ_EINVAL);
    static const kz_step_type clash = {"MergeOverlappingEntsStep", NULL, NULL, trace_process, NULL};
    KZ_CHECK_INT(kz_step_register(&clash), KZ_EINVAL);
    static const kz_step_type no_process = {"NoProcess", NULL, NULL, NULL, NULL};
    KZ_CHECK_INT(kz_step_register(&no_process), KZ_EINVAL);
    KZ_CHECK_STR(kz_step_type_at(0)->name, "SentenceSplitter");
    KZ_CHECK(kz_step_type_count() >= 7);
    KZ_CHECK(kz_step_type_at(kz_step_type_count()) == NULL);
}

/* ---- running ----------------------------------------------------------------------------- */
KZ_TEST(pipeline_isolates_a_failing_document) {
    kz_pipeline *p = pipeline_from("pipeline:\n  steps: [TraceA, FailBad, TraceB]\n");
    KZ_CHECK(p != NULL);
    kz_doc *docs[3] = {doc_with("good1", "One."), doc_with("bad1", "Two."), doc_with("good2", "Three.")};
    kz_log_set_sink(capture_log, NULL, KZ_LOG_DEBUG);
    g_nlog = 0;
    KZ_CHECK_INT(kz_pipeline_run(p, docs, 3, NULL, &g_err), 0);
    kz_log_set_sink(NULL, NULL, KZ_LOG_INFO);
    KZ_CHECK(!kz_doc_failed(docs[0]));
    KZ_CHECK(!kz_doc_failed(docs[2]));
    KZ_CHECK_STR(failure_of(docs[1]), "\"FailBad: cannot handle this one\"");
    /* Later steps still see the failed document, as in Kazu. */
    KZ_CHECK_STR(trace_of(docs[1]), "\"TraceA,TraceB\"");
    KZ_CHECK_STR(trace_of(docs[2]), "\"TraceA,TraceB\"");
    KZ_CHECK_INT(g_nlog, 1);
    KZ_CHECK_STR(g_log[0], "processing failed for step FailBad, doc: bad1, FailBad: cannot handle this one");
    kz_step_stats st;
    KZ_CHECK_INT(kz_pipeline_stats(p, 1, &st), 0);
    KZ_CHECK_STR(st.name, "FailBad");
    KZ_CHECK_INT(st.failures, 1);
    KZ_CHECK_INT(st.docs, 3);
    KZ_CHECK_INT(kz_pipeline_stats(p, 0, &st), 0);
    KZ_CHECK_INT(st.failures, 0);
    KZ_CHECK_INT(kz_pipeline_stats(p, 3, &st), KZ_ERANGE);
    for (int i = 0; i < 3; i++) kz_doc_free(docs[i]);
    kz_pipeline_free(p);
}

KZ_TEST(pipeline_batch_failure_marks_every_document) {
    kz_pipeline *p = pipeline_from("pipeline:\n  steps: [Boom, TraceA]\n");
    KZ_CHECK(p != NULL);
    kz_doc *docs[2] = {doc_with("a", "x"), doc_with("b", "y")};
    KZ_CHECK_INT(kz_pipeline_run(p, docs, 2, NULL, &g_err), 0);
    for (int i = 0; i < 2; i++) {
        KZ_CHECK_STR(failure_of(docs[i]), "\"Boom: batch failed: affected ids: ['a', 'b']\\nmodel server "
                                          "unreachable [pipeline step failed]\"");
        KZ_CHECK_STR(trace_of(docs[i]), "\"TraceA\"");
    }
    kz_step_stats st;
    kz_pipeline_stats(p, 0, &st);
    KZ_CHECK_INT(st.failures, 2);
    KZ_CHECK_INT(st.calls, 1);
    for (int i = 0; i < 2; i++) kz_doc_free(docs[i]);
    kz_pipeline_free(p);
}

KZ_TEST(pipeline_skips_long_documents_counting_code_points) {
    kz_pipeline *p = pipeline_from("pipeline:\n  skip_doc_len: 5\n  steps: [TraceA]\n");
    KZ_CHECK(p != NULL);
    /* 4 code points in 8 bytes: processed; 5 in 10 bytes: skipped (>=). */
    kz_doc *docs[3] = {doc_with("short", "éééé"), doc_with("long", "ééééé"), doc_with("multi", "ab")};
    kz_doc_add_section(docs[2], "b", 1, "c€€", strlen("c€€"), NULL, NULL);
    KZ_CHECK_INT(kz_pipeline_run(p, docs, 3, NULL, &g_err), 0);
    KZ_CHECK(!kz_doc_failed(docs[0]));
    KZ_CHECK_STR(trace_of(docs[0]), "\"TraceA\"");
    KZ_CHECK_STR(failure_of(docs[1]), "\"Pipeline: document too long: 5. max:5\"");
    KZ_CHECK_STR(trace_of(docs[1]), "");
    KZ_CHECK_STR(failure_of(docs[2]), "\"Pipeline: document too long: 5. max:5\""); /* over all sections */
    KZ_CHECK_INT(kz_pipeline_skipped_docs(p), 2);
    for (int i = 0; i < 3; i++) kz_doc_free(docs[i]);
    kz_pipeline_free(p);
    /* 0 disables the guard. */
    p = pipeline_from("pipeline:\n  skip_doc_len: 0\n  steps: [TraceA]\n");
    kz_doc *d = doc_with("x", "a long enough text");
    KZ_CHECK_INT(kz_pipeline_run(p, &d, 1, NULL, &g_err), 0);
    KZ_CHECK(!kz_doc_failed(d));
    kz_doc_free(d);
    kz_pipeline_free(p);
}

KZ_TEST(pipeline_step_subset_and_groups) {
    kz_pipeline *p = pipeline_from(
        "pipeline:\n  steps: [TraceA, TraceB, FailBad]\n  step_groups:\n    ba: [TraceB, TraceA]\n");
    KZ_CHECK(p != NULL);
    kz_doc *d = doc_with("bad-but-untouched", "text");
    const char *sel[] = {"TraceB", "TraceA"};
    kz_pipeline_run_params rp = kz_pipeline_run_default_params();
    rp.steps = sel;
    rp.n_steps = 2;
    KZ_CHECK_INT(kz_pipeline_run(p, &d, 1, &rp, &g_err), 0);
    KZ_CHECK_STR(trace_of(d), "\"TraceB,TraceA\""); /* the given order */
    KZ_CHECK(!kz_doc_failed(d));                    /* FailBad not selected */
    rp = kz_pipeline_run_default_params();
    rp.step_group = "ba";
    KZ_CHECK_INT(kz_pipeline_run(p, &d, 1, &rp, &g_err), 0);
    KZ_CHECK_STR(trace_of(d), "\"TraceB,TraceA,TraceB,TraceA\"");
    /* Errors: Kazu's PipelineValueError; nothing runs. */
    rp.steps = sel;
    rp.n_steps = 2;
    KZ_CHECK_INT(kz_pipeline_run(p, &d, 1, &rp, &g_err), KZ_ECONFIG);
    KZ_CHECK(strstr(g_err.msg, "not both") != NULL);
    rp = kz_pipeline_run_default_params();
    rp.step_group = "nope";
    KZ_CHECK_INT(kz_pipeline_check_run_params(p, &rp, &g_err), KZ_ECONFIG);
    KZ_CHECK_STR(g_err.msg, "unknown step group 'nope' (configured: ba)");
    const char *bad[] = {"TraceA", "Merge"};
    rp = kz_pipeline_run_default_params();
    rp.steps = bad;
    rp.n_steps = 2;
    KZ_CHECK_INT(kz_pipeline_run(p, &d, 1, &rp, &g_err), KZ_ECONFIG);
    KZ_CHECK_STR(g_err.msg, "unknown step 'Merge' (configured: TraceA, TraceB, FailBad)");
    KZ_CHECK_STR(trace_of(d), "\"TraceB,TraceA,TraceB,TraceA\"");
    KZ_CHECK_INT(kz_pipeline_check_run_params(p, NULL, &g_err), 0);
    kz_doc_free(d);
    kz_pipeline_free(p);
}

KZ_TEST(pipeline_timing_stats_counted_and_reset) {
    kz_pipeline *p = pipeline_from("pipeline:\n  steps: [TraceA, TraceB]\n");
    kz_doc *docs[2] = {doc_with("a", "x"), doc_with("b", "y")};
    KZ_CHECK_INT(kz_pipeline_run(p, docs, 2, NULL, &g_err), 0);
    KZ_CHECK_INT(kz_pipeline_run(p, docs, 1, NULL, &g_err), 0);
    kz_step_stats st;
    KZ_CHECK_INT(kz_pipeline_stats(p, 1, &st), 0);
    KZ_CHECK_STR(st.name, "TraceB");
    KZ_CHECK_INT(st.calls, 2);
    KZ_CHECK_INT(st.docs, 3);
    KZ_CHECK(st.total_ns >= 2 * 100000); /* each call sleeps 100 us */
    KZ_CHECK(st.total_ns < 10ull * 1000000000ull);
    kz_pipeline_stats_reset(p);
    kz_pipeline_stats(p, 1, &st);
    KZ_CHECK_INT(st.calls, 0);
    KZ_CHECK_INT(st.total_ns, 0);
    for (int i = 0; i < 2; i++) kz_doc_free(docs[i]);
    kz_pipeline_free(p);
}

static int g_cancel_after;
static bool cancel_cb(void *user) {
    (void)user;
    return g_cancel_after-- <= 0;
}

KZ_TEST(pipeline_cancellation_marks_unfinished_documents) {
    kz_pipeline *p = pipeline_from("pipeline:\n  steps: [TraceA, TraceB]\n");
    kz_doc *d = doc_with("a", "x");
    kz_pipeline_run_params rp = kz_pipeline_run_default_params();
    rp.cancel = cancel_cb;
    g_cancel_after = 1; /* first poll passes, second (before TraceB) cancels */
    KZ_CHECK_INT(kz_pipeline_run(p, &d, 1, &rp, &g_err), KZ_ECANCELLED);
    KZ_CHECK_STR(trace_of(d), "\"TraceA\"");
    KZ_CHECK_STR(failure_of(d), "\"Pipeline: cancelled before step TraceB finished\"");
    kz_doc_free(d);
    /* A step that polls (SentenceSplitter) reports the cancel itself. */
    kz_pipeline_free(p);
    p = pipeline_from("pipeline:\n  steps: [SentenceSplitter]\n");
    d = doc_with("b", "One. Two.");
    g_cancel_after = 1; /* pipeline's poll passes, the step's first poll cancels */
    KZ_CHECK_INT(kz_pipeline_run(p, &d, 1, &rp, &g_err), KZ_ECANCELLED);
    KZ_CHECK(d->sections[0]->sentence_spans == NULL);
    KZ_CHECK(kz_doc_failed(d));
    kz_doc_free(d);
    kz_pipeline_free(p);
}

static char *read_all(const char *path) { return kz_test_read_file(path, NULL); }

KZ_TEST(pipeline_failure_dir_gets_doc_and_error_files) {
    char dir[] = "/tmp/kz_fail_XXXXXX";
    KZ_CHECK(mkdtemp(dir) != NULL);
    char yaml[512];
    snprintf(yaml, sizeof yaml, "pipeline:\n  steps: [FailBad]\n  failure_dir: %s/out\n", dir);
    kz_pipeline *p = pipeline_from(yaml);
    KZ_CHECK(p != NULL);
    kz_doc *docs[2] = {doc_with("bad/../x", "Sjögren"), doc_with("ok", "fine")};
    KZ_CHECK_INT(kz_pipeline_run(p, docs, 2, NULL, &g_err), 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/out/FailBad/bad_.._x_error.txt", dir);
    char *txt = read_all(path);
    KZ_CHECK(txt != NULL);
    KZ_CHECK_STR(txt, "FailBad: cannot handle this one");
    free(txt);
    snprintf(path, sizeof path, "%s/out/FailBad/bad_.._x.json", dir);
    char *json = read_all(path);
    KZ_CHECK(json != NULL);
    kz_doc *back = NULL;
    KZ_CHECK_INT(kz_doc_from_kazu_json(json, strlen(json), &back, &g_err), 0);
    KZ_CHECK_KSTR(back->idx, "bad/../x");
    KZ_CHECK(kz_doc_failed(back));
    KZ_CHECK_KSTR(back->sections[0]->text, "Sjögren");
    kz_doc_free(back);
    free(json);
    snprintf(path, sizeof path, "%s/out/FailBad/ok.json", dir);
    struct stat sb;
    KZ_CHECK(stat(path, &sb) != 0);
    for (int i = 0; i < 2; i++) kz_doc_free(docs[i]);
    kz_pipeline_free(p);
    snprintf(path, sizeof path, "rm -rf '%s'", dir);
    KZ_CHECK_INT(system(path), 0);
}

typedef struct thread_arg {
    const kz_pipeline *p;
    int failures;
} thread_arg;

static void *run_thread(void *arg) {
    thread_arg *t = arg;
    for (int i = 0; i < 50; i++) {
        kz_doc *docs[2] = {doc_with(i % 2 ? "bad" : "ok", "One. Two."), doc_with("ok2", "Three. Four.")};
        kz_error err;
        if (kz_pipeline_run(t->p, docs, 2, NULL, &err)) t->failures++;
        if (!docs[1]->sections[0]->sentence_spans || docs[1]->sections[0]->n_sentence_spans != 2)
            t->failures++;
        kz_doc_free(docs[0]);
        kz_doc_free(docs[1]);
    }
    return NULL;
}

KZ_TEST(pipeline_runs_concurrently_from_threads) {
    kz_pipeline *p = pipeline_from("pipeline:\n  steps: [SentenceSplitter, FailBad, TraceA]\n");
    KZ_CHECK(p != NULL);
    pthread_t th[4];
    thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (thread_arg){p, 0};
        pthread_create(&th[i], NULL, run_thread, &args[i]);
    }
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++) KZ_CHECK_INT(args[i].failures, 0);
    kz_step_stats st;
    kz_pipeline_stats(p, 1, &st);
    KZ_CHECK_INT(st.calls, 200);
    KZ_CHECK_INT(st.docs, 400);
    KZ_CHECK_INT(st.failures, 100);
    kz_pipeline_free(p);
}

/* ---- MergeOverlappingEntsStep ------------------------------------------------------------- */
static kz_entity *add_ent(kz_doc *d, int64_t start, int64_t end, const char *cls, const char *label,
                          int conf) {
    kz_section *sec = d->sections[0];
    kz_span sp = {start, end};
    kz_entity_init in = {0};
    in.spans = &sp;
    in.n_spans = 1;
    in.entity_class = kz_str_c(cls);
    in.namespace_ = kz_str_c("TransformersModelForTokenClassificationNerStep");
    in.mention_confidence = conf;
    kz_entity *e = NULL;
    if (kz_section_add_entity(d, sec, &in, &e, NULL)) return NULL;
    if (label) {
        kz_mapping m = {0};
        m.default_label = kz_str_c(label);
        m.source = m.parser_name = m.idx = m.string_match_strategy = kz_str_c("test");
        m.string_match_confidence = KZ_SMC_HIGHLY_LIKELY;
        kz_entity_add_mapping(d, e, &m);
    }
    return e;
}

static kz_pipeline *merge_pipeline(void) {
    return pipeline_from("pipeline:\n  steps:\n    - type: MergeOverlappingEntsStep\n");
}

static void run1(kz_pipeline *p, kz_doc *d) { kz_pipeline_run(p, &d, 1, NULL, &g_err); }

/* Kazu case 1: the longer span has no mappings, so the mapped shorter one wins. */
KZ_TEST(merge_case1_prefers_mapped) {
    kz_pipeline *p = merge_pipeline();
    kz_doc *d = doc_with("d", "Baclofen drug");
    kz_entity *explosion = add_ent(d, 0, 8, "drug", "pick me!", KZ_MENTION_HIGHLY_LIKELY);
    add_ent(d, 0, 13, "drug", NULL, KZ_MENTION_HIGHLY_LIKELY);
    run1(p, d);
    KZ_CHECK(!kz_doc_failed(d));
    KZ_CHECK_INT(d->sections[0]->n_entities, 1);
    KZ_CHECK(d->sections[0]->entities[0] == explosion);
    kz_doc_free(d);
    kz_pipeline_free(p);
}

/* Kazu case 2: both mapped, the longer wins. */
KZ_TEST(merge_case2_prefers_longer) {
    kz_pipeline *p = merge_pipeline();
    kz_doc *d = doc_with("d", "Baclofen drug");
    add_ent(d, 0, 8, "drug", "ignore me!", KZ_MENTION_HIGHLY_LIKELY);
    kz_entity *transformer = add_ent(d, 0, 13, "drug", "pick me!", KZ_MENTION_HIGHLY_LIKELY);
    run1(p, d);
    KZ_CHECK_INT(d->sections[0]->n_entities, 1);
    KZ_CHECK(d->sections[0]->entities[0] == transformer);
    kz_doc_free(d);
    kz_pipeline_free(p);
}

/* Kazu case 3: same length, the preferred class (drug over anatomy) wins. */
KZ_TEST(merge_case3_prefers_class_order) {
    kz_pipeline *p = merge_pipeline();
    kz_doc *d = doc_with("d", "Baclofen drug");
    add_ent(d, 0, 8, "anatomy", "ignore me!", KZ_MENTION_HIGHLY_LIKELY);
    kz_entity *drug = add_ent(d, 0, 8, "drug", "pick me!", KZ_MENTION_HIGHLY_LIKELY);
    run1(p, d);
    KZ_CHECK_INT(d->sections[0]->n_entities, 1);
    KZ_CHECK(d->sections[0]->entities[0] == drug);
    kz_doc_free(d);
    kz_pipeline_free(p);
}

/* Kazu case 4: a chain of overlaps is one location; the longest wins. */
KZ_TEST(merge_case4_transitive_location) {
    kz_pipeline *p = merge_pipeline();
    kz_doc *d = doc_with("d", "Baclofen drug treatment");
    add_ent(d, 0, 8, "anatomy", "ignore me!", KZ_MENTION_HIGHLY_LIKELY);
    add_ent(d, 0, 13, "drug", "ignore me!", KZ_MENTION_HIGHLY_LIKELY);
    kz_entity *t2 = add_ent(d, 8, 22, "disease", "pick me!", KZ_MENTION_HIGHLY_LIKELY);
    run1(p, d);
    KZ_CHECK_INT(d->sections[0]->n_entities, 1);
    KZ_CHECK(d->sections[0]->entities[0] == t2);
    kz_doc_free(d);
    kz_pipeline_free(p);
}

/* Kazu case 5: several locations; touching spans (34) are separate locations. */
KZ_TEST(merge_case5_multiple_locations) {
    kz_pipeline *p = merge_pipeline();
    kz_doc *d = doc_with("d", "Baclofen drug treatment inpatients-assistance");
    add_ent(d, 0, 8, "anatomy", "ignore me!", KZ_MENTION_HIGHLY_LIKELY);
    add_ent(d, 0, 13, "drug", "ignore me!", KZ_MENTION_HIGHLY_LIKELY);
    kz_entity *t4 = add_ent(d, 34, 44, "disease", "pick me!", KZ_MENTION_HIGHLY_LIKELY);
    kz_entity *t2 = add_ent(d, 8, 22, "disease", "pick me!", KZ_MENTION_HIGHLY_LIKELY);
    kz_entity *t3 = add_ent(d, 23, 34, "disease", "pick me!", KZ_MENTION_HIGHLY_LIKELY);
    run1(p, d);
    kz_section *s = d->sections[0];
    KZ_CHECK_INT(s->n_entities, 3);
    KZ_CHECK(s->entities[0] == t2); /* location order */
    KZ_CHECK(s->entities[1] == t3);
    KZ_CHECK(s->entities[2] == t4);
    kz_doc_free(d);
    kz_pipeline_free(p);
}

KZ_TEST(merge_mention_confidence_then_reverse_class_name) {
    kz_pipeline *p = merge_pipeline();
    kz_doc *d = doc_with("d", "Baclofen drug");
    add_ent(d, 0, 8, "drug", NULL, KZ_MENTION_POSSIBLE);
    kz_entity *likely = add_ent(d, 0, 8, "drug", NULL, KZ_MENTION_PROBABLE);
    /* unlisted classes rank 0, like cellular_component (the last listed) */
    kz_entity *zeta = add_ent(d, 9, 13, "zeta", NULL, KZ_MENTION_HIGHLY_LIKELY);
    add_ent(d, 9, 13, "alpha", NULL, KZ_MENTION_HIGHLY_LIKELY);
    add_ent(d, 9, 13, "cellular_component", NULL, KZ_MENTION_HIGHLY_LIKELY);
    run1(p, d);
    kz_section *s = d->sections[0];
    KZ_CHECK_INT(s->n_entities, 2);
    KZ_CHECK(s->entities[0] == likely);
    KZ_CHECK(s->entities[1] == zeta);
    kz_doc_free(d);
    kz_pipeline_free(p);
}

KZ_TEST(merge_non_contiguous_bypass_and_config) {
    kz_pipeline *p = merge_pipeline();
    kz_doc *d = doc_with("d", "skin and breast cancer");
    kz_span two[2] = {{0, 4}, {16, 22}};
    kz_entity_init in = {0};
    in.spans = two;
    in.n_spans = 2;
    in.entity_class = kz_str_c("disease");
    in.join_str = " ";
    in.mention_confidence = KZ_MENTION_HIGHLY_LIKELY;
    kz_entity *nc = NULL;
    KZ_CHECK_INT(kz_section_add_entity(d, d->sections[0], &in, &nc, NULL), 0);
    kz_entity *breast = add_ent(d, 9, 22, "disease", NULL, KZ_MENTION_HIGHLY_LIKELY);
    add_ent(d, 16, 22, "disease", NULL, KZ_MENTION_HIGHLY_LIKELY);
    run1(p, d);
    kz_section *s = d->sections[0];
    KZ_CHECK_INT(s->n_entities, 2);
    KZ_CHECK(s->entities[0] == breast);
    KZ_CHECK(s->entities[1] == nc); /* non-contiguous appended unchanged */
    kz_doc_free(d);
    kz_pipeline_free(p);
    /* With ignore_non_contiguous: false the 0..22 entity joins the merge and wins by length. */
    p = pipeline_from(
        "pipeline:\n  steps:\n    - type: MergeOverlappingEntsStep\n      params:\n"
        "        ignore_non_contiguous: false\n        ent_class_preferred_order: [gene, disease]\n");
    KZ_CHECK(p != NULL);
    d = doc_with("d", "skin and breast cancer");
    KZ_CHECK_INT(kz_section_add_entity(d, d->sections[0], &in, &nc, NULL), 0);
    add_ent(d, 9, 22, "disease", NULL, KZ_MENTION_HIGHLY_LIKELY);
    run1(p, d);
    KZ_CHECK_INT(d->sections[0]->n_entities, 1);
    KZ_CHECK(d->sections[0]->entities[0] == nc);
    kz_doc_free(d);
    d = doc_with("d", "BRCA1");
    add_ent(d, 0, 5, "disease", NULL, KZ_MENTION_HIGHLY_LIKELY);
    kz_entity *gene = add_ent(d, 0, 5, "gene", NULL, KZ_MENTION_HIGHLY_LIKELY);
    run1(p, d);
    KZ_CHECK(d->sections[0]->entities[0] == gene); /* configured order: gene first */
    kz_doc_free(d);
    kz_pipeline_free(p);
}

/* Lengths compare in code points (Kazu's Python offsets), not bytes. */
KZ_TEST(merge_lengths_in_code_points) {
    kz_pipeline *p = merge_pipeline();
    /* A = "éééé" (bytes 0..8, 4 chars), B = "é abcde" (bytes 6..14, 7 chars): equal in bytes, B longer
     * in chars. B must win, although class order (disease over anatomy) favours A. */
    kz_doc *d = doc_with("d", "éééé abcde");
    add_ent(d, 0, 8, "disease", NULL, KZ_MENTION_HIGHLY_LIKELY);
    kz_entity *b = add_ent(d, 6, 14, "anatomy", NULL, KZ_MENTION_HIGHLY_LIKELY);
    run1(p, d);
    KZ_CHECK_INT(d->sections[0]->n_entities, 1);
    KZ_CHECK(d->sections[0]->entities[0] == b);
    kz_doc_free(d);
    kz_pipeline_free(p);
}

KZ_TEST(optional_step_that_fails_init_is_left_out_and_listed) {
    const char *yaml = "pipeline:\n"
                       "  steps:\n"
                       "    - TraceA\n"
                       "    - type: TransformersModelForTokenClassificationNerStep\n"
                       "      optional: true\n"
                       "      params: {model_path: /nonexistent/model.kzm}\n"
                       "    - TraceB\n"
                       "  step_groups:\n"
                       "    g: [TraceA, TransformersModelForTokenClassificationNerStep, TraceB]\n";
    kz_pipeline *p = pipeline_from(yaml);
    KZ_CHECK(p != NULL);
    if (!p) return;
    KZ_CHECK_INT(kz_pipeline_n_steps(p), 2);
    KZ_CHECK_STR(kz_pipeline_step_name(p, 1), "TraceB");
    KZ_CHECK_INT(kz_pipeline_n_disabled(p), 1);
    const char *why = NULL;
    KZ_CHECK_STR(kz_pipeline_disabled_step(p, 0, &why), "TransformersModelForTokenClassificationNerStep");
    KZ_CHECK(why && strstr(why, "/nonexistent/model.kzm") != NULL);
    KZ_CHECK(kz_pipeline_disabled_step(p, 1, NULL) == NULL);
    size_t n = 0;
    const char *const *g = kz_pipeline_group_steps(p, 0, &n);
    KZ_CHECK_INT(n, 2);
    KZ_CHECK_STR(g[0], "TraceA");
    KZ_CHECK_STR(g[1], "TraceB");
    kz_pipeline_free(p);
    /* Without optional the same failure is an error naming the step. */
    KZ_CHECK(pipeline_from("pipeline:\n  steps:\n    - type: TransformersModelForTokenClassificationNerStep\n"
                           "      params: {model_path: /nonexistent/model.kzm}\n") == NULL);
    KZ_CHECK(strstr(g_err.msg, "TransformersModelForTokenClassificationNerStep") != NULL);
    KZ_CHECK(pipeline_from("pipeline:\n  steps:\n    - {type: TraceA, optional: maybe}\n") == NULL);
}
