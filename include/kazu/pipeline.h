/* The pipeline: an ordered chain of steps configured from YAML, run over
 * batches of documents with per-document failure isolation, Kazu's long-
 * document guard, step subsets/groups, failure handlers and per-step timing. */
#ifndef KAZU_PIPELINE_H
#define KAZU_PIPELINE_H

#include "config.h"
#include "doc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- steps ------------------------------------------------------------------ */

/* What a step's process() receives besides the documents. */
typedef struct kz_step_ctx {
    const char *step_name; /* the step's namespace, for kz_doc_set_failure */
    kz_cancel_fn cancel;   /* may be NULL; poll it between documents */
    void *cancel_user;
} kz_step_ctx;

/* True if the caller asked to stop (ctx->cancel returned true). */
KZ_API bool kz_step_cancelled(const kz_step_ctx *ctx);

/* A step type. The name is Kazu's namespace (the Python class name, e.g.
 * "MergeOverlappingEntsStep"); it is the step's id in configs and becomes
 * Entity.namespace for entities the step creates.
 *
 * init:    build the step's state from its `params:` map (NULL when absent).
 *          Copy what you keep: the config may be freed after kz_pipeline_new.
 *          Return 0, or a negative KZ_E* with err filled (use
 *          kz_config_locate / the kz_config_get_* getters for the place).
 *          May be NULL (then state is NULL).
 * process: mutate docs[0..n) in place. Record a failure of one document with
 *          kz_doc_set_failure(doc, ctx->step_name, reason) and go on with the
 *          next; return < 0 only when the whole batch failed (err says why),
 *          and the pipeline then marks every document of the batch. Return
 *          KZ_ECANCELLED if kz_step_cancelled(ctx) became true. Called
 *          concurrently from several threads on the same state: treat the
 *          state as read-only.
 * free:    release the state (may be NULL). */
typedef struct kz_step_type {
    const char *name;
    const char *description; /* one line for `kazu steps`; may be NULL */
    int (*init)(void **state, const kz_config_node *params, kz_error *err);
    int (*process)(void *state, kz_doc **docs, size_t n, const kz_step_ctx *ctx, kz_error *err);
    void (*free)(void *state);
} kz_step_type;

/* Register a step type (the struct and its strings must outlive every
 * pipeline using it; usually a static const). Names are unique: KZ_EINVAL if
 * the name is taken (built-ins included) or the type lacks name/process.
 * Thread-safe. */
KZ_API int kz_step_register(const kz_step_type *type);
/* Registered type by name, or NULL. Thread-safe. */
KZ_API const kz_step_type *kz_step_find(const char *name);
/* Registered types in registration order (built-ins first); NULL past the end. */
KZ_API size_t kz_step_type_count(void);
KZ_API const kz_step_type *kz_step_type_at(size_t i);

/* ---- pipeline ------------------------------------------------------------------- */
typedef struct kz_pipeline kz_pipeline;

/* The built-in default configuration (YAML text, also shipped as the editable
 * examples/pipeline.yaml). Static; never NULL. */
KZ_API const char *kz_pipeline_default_config(void);

/* Build a pipeline from a configuration root holding a `pipeline:` map (see
 * docs/pipeline.md). Steps are initialised in order; on any error (unknown
 * step type or key, bad value, a step's init failing) everything built so far
 * is freed and err names the place. The config may be freed afterwards.
 * Returns 0, KZ_ECONFIG, KZ_ENOMEM or the failing step's code. */
KZ_API int kz_pipeline_new(const kz_config_node *root, kz_pipeline **out, kz_error *err);
/* kz_pipeline_new over kz_pipeline_default_config(). */
KZ_API int kz_pipeline_new_default(kz_pipeline **out, kz_error *err);
/* NULL is a no-op. Not while a kz_pipeline_run on it is in progress. */
KZ_API void kz_pipeline_free(kz_pipeline *p);

typedef struct kz_pipeline_run_params {
    /* Run only these steps, in this order (Kazu's step_namespaces). NULL/0 = all. */
    const char *const *steps;
    size_t n_steps;
    /* Run a configured step group instead (Kazu's step_group). NULL = none. */
    const char *step_group;
    kz_cancel_fn cancel; /* polled between steps and passed to steps; may be NULL */
    void *cancel_user;
} kz_pipeline_run_params;
KZ_API kz_pipeline_run_params kz_pipeline_run_default_params(void);

/* Check a step selection without running: KZ_ECONFIG (Kazu's
 * PipelineValueError, HTTP 422) if both steps and step_group are given or a
 * name is unknown. params NULL = all steps. */
KZ_API int kz_pipeline_check_run_params(const kz_pipeline *p, const kz_pipeline_run_params *params,
                                        kz_error *err);

/* Run the selected steps over docs[0..n) in place.
 * - Documents with kz_doc_char_len >= skip_doc_len get PROCESSING_EXCEPTION
 *   "document too long: N. max:M" and skip every step; they stay in docs.
 * - Every step then runs over all other documents, including those an earlier
 *   step marked failed (as Kazu does). A document a step failed keeps the
 *   step's message; a step's batch failure marks every document of the call
 *   ("batch failed: affected ids: [...]").
 * - After the call, failed documents go to the failure handlers: a WARN log
 *   line each (kz_log), and with failure_dir set, <dir>/<step>/<id>.json +
 *   <id>_error.txt (errors writing them are logged at ERROR).
 * Returns 0 when the selection was valid (per-document failures are on the
 * documents, not in the return code); KZ_ECONFIG for a bad selection (nothing
 * touched); KZ_ECANCELLED if cancelled (documents not yet through every step
 * are marked "cancelled before step S"); KZ_EINVAL for bad arguments.
 * Thread-safe: any number of threads may run the same pipeline at once on
 * different documents (steps are read-only; statistics are atomic). */
KZ_API int kz_pipeline_run(const kz_pipeline *p, kz_doc **docs, size_t n,
                           const kz_pipeline_run_params *params, kz_error *err);

/* ---- introspection (borrowed strings, valid until kz_pipeline_free) --------- */
KZ_API size_t kz_pipeline_n_steps(const kz_pipeline *p);
KZ_API const char *kz_pipeline_step_name(const kz_pipeline *p, size_t i); /* NULL past the end */
/* Steps configured with `optional: true` whose init failed (e.g. no model or
 * knowledge base where the configuration points): they are left out of the
 * pipeline and its groups, logged at WARN, and listed here with the reason. */
KZ_API size_t kz_pipeline_n_disabled(const kz_pipeline *p);
KZ_API const char *kz_pipeline_disabled_step(const kz_pipeline *p, size_t i, const char **why);
KZ_API size_t kz_pipeline_n_groups(const kz_pipeline *p);
KZ_API const char *kz_pipeline_group_name(const kz_pipeline *p, size_t i);
/* Step names of group i (in the group's order); *n receives the count. */
KZ_API const char *const *kz_pipeline_group_steps(const kz_pipeline *p, size_t i, size_t *n);
/* Configured `batch_size` (documents per kz_pipeline_run call, for drivers
 * such as the CLI) and `skip_doc_len` (0 = no limit). */
KZ_API size_t kz_pipeline_batch_size(const kz_pipeline *p);
KZ_API int64_t kz_pipeline_skip_doc_len(const kz_pipeline *p);

/* Per-step counters since creation (or the last reset). */
typedef struct kz_step_stats {
    const char *name;
    uint64_t calls;    /* process() calls */
    uint64_t docs;     /* documents passed in */
    uint64_t failures; /* documents the step marked failed (batch failures count every doc) */
    uint64_t total_ns; /* wall time inside process() */
} kz_step_stats;
/* Stats of configured step i: 0, or KZ_ERANGE past the end. Thread-safe
 * (each counter is read atomically; the set is not a snapshot). */
KZ_API int kz_pipeline_stats(const kz_pipeline *p, size_t i, kz_step_stats *out);
/* Documents refused by the skip_doc_len guard so far. */
KZ_API uint64_t kz_pipeline_skipped_docs(const kz_pipeline *p);
KZ_API void kz_pipeline_stats_reset(kz_pipeline *p);

#ifdef __cplusplus
}
#endif
#endif
