/* kz_kb_build: recipe -> model (kz__kb_model_build) -> pack (kz__kb_pack_write),
 * skipped when the pack at the target already records the same input hash. */
#include <unistd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "kb/pack_int.h"

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Refuse to replace a file that is not a pack (a mistyped -o), while a
 * corrupt or older pack is simply rebuilt. */
static int check_target(const char *out_path, kz_error *err) {
    FILE *f = fopen(out_path, "rb");
    if (!f) return 0;
    char magic[8];
    size_t n = fread(magic, 1, sizeof magic, f);
    fclose(f);
    if (n == 0 || (n == sizeof magic && memcmp(magic, KZ_PACK_MAGIC, 8) == 0)) return 0;
    return kz_error_set(err, KZ_EIO, "%s exists and is not a kazu-c pack; not overwriting it", out_path);
}

/* The pack at path records this input hash and its body is intact (a damaged
 * pack is rebuilt, not trusted; hashing the inputs read more bytes anyway). */
static bool pack_is_current(const char *path, const uint8_t hash[32]) {
    uint8_t old[32];
    if (kz__kb_pack_read_input_hash(path, old, NULL) != 0 || memcmp(old, hash, 32) != 0) return false;
    kz_kb *kb;
    if (kz_kb_open(path, &kb, NULL) != 0) return false;
    bool ok = kz_kb_verify(kb, NULL) == 0;
    kz_kb_close(kb);
    if (!ok) kz_log(KZ_LOG_WARN, "kb build: %s records the same input hash but is corrupt; rebuilding", path);
    return ok;
}

int kz_kb_build(const char *recipe_path, const char *out_path, const kz_kb_build_opts *opts,
                kz_kb_build_report *report, kz_error *err) {
    kz_kb_build_opts dflt = {0};
    kz_kb_build_report local;
    if (!opts) opts = &dflt;
    if (!report) report = &local;
    memset(report, 0, sizeof *report);
    kz_error_clear(err);
    if (!recipe_path || !out_path)
        return kz_error_set(err, KZ_EINVAL, "kz_kb_build: missing recipe or output path");
    double t0 = now_s();
    int rc = check_target(out_path, err);
    if (rc) return rc;
    uint8_t hash[32];
    /* Hashing reads the recipe and every input once; cheap next to parsing. */
    rc = kz__kb_model_build(recipe_path, opts, true, hash, NULL, err);
    if (rc) return rc;
    kz__kb_ext_salt(hash);
    if (!opts->force && pack_is_current(out_path, hash)) {
        report->up_to_date = true;
        report->seconds = now_s() - t0;
        if (opts->verbose)
            kz_log(KZ_LOG_INFO, "kb build: %s is up to date with %s (same input hash)", out_path,
                   recipe_path);
        return 0;
    }
    kz_kb_model m;
    memset(&m, 0, sizeof m);
    double t1 = now_s();
    rc = kz__kb_model_build(recipe_path, opts, false, hash, &m, err);
    kz__kb_ext_salt(hash); /* the model build rewrote the plain input hash */
    report->n_terms_parsed = m.n_terms_parsed;
    report->n_warnings = m.n_warnings;
    report->n_conflicts = m.n_conflicts;
    if (rc) {
        kz__kb_model_free(&m);
        report->seconds = now_s() - t0;
        return rc;
    }
    double t2 = now_s();
    if (m.n_conflicts && !opts->allow_conflicts) {
        uint64_t nc = m.n_conflicts;
        kz__kb_model_free(&m);
        report->seconds = now_s() - t0;
        return kz_error_set(
            err, KZ_ECONFIG,
            "%llu unresolved curation conflict%s%s%s; no pack written (allow_conflicts builds anyway)",
            (unsigned long long)nc, nc == 1 ? "" : "s", opts->report_path ? ", listed in " : "",
            opts->report_path ? opts->report_path : "");
    }
    uint64_t n_res = m.n_resources, n_cand = m.n_candidates, n_ids = m.n_ids;
    /* Base pack first; the extension builders read it through the normal API,
     * then the pack is written again with their sections appended. */
    rc = kz__kb_pack_write(&m, hash, NULL, 0, out_path, err);
    if (rc == 0) {
        kz_kb *kb = NULL;
        kz_kb_ext_section ext[KZ_KB_MAX_EXT];
        size_t n_ext = 0;
        rc = kz_kb_open(out_path, &kb, err);
        if (rc == 0) rc = kz__kb_ext_build_all(kb, ext, KZ_KB_MAX_EXT, &n_ext, opts->verbose, err);
        kz_kb_close(kb);
        if (rc == 0 && n_ext) rc = kz__kb_pack_write(&m, hash, ext, n_ext, out_path, err);
        kz__kb_ext_free(ext, n_ext);
        if (rc) unlink(out_path); /* never leave a pack without its indexes */
    }
    kz__kb_model_free(&m);
    double t3 = now_s();
    report->seconds = t3 - t0;
    if (rc) return rc;
    if (opts->verbose)
        kz_log(KZ_LOG_INFO,
               "kb build: wrote %s (%llu ids, %llu candidates, %llu resources): hash %.2f s, model %.2f s, "
               "pack %.2f s",
               out_path, (unsigned long long)n_ids, (unsigned long long)n_cand, (unsigned long long)n_res,
               t1 - t0, t2 - t1, t3 - t2);
    return 0;
}
