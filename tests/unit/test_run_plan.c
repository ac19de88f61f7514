/* Unit tests of `kazu run`'s shard planning and manifest (apps/kazu/run_plan.c,
 * compiled in here): output names, index lists, torn-line tolerance,
 * quarantine records, refusal of a manifest from another output format. */
#include "../../apps/kazu/run_plan.c"
#include "kz_test.h"

static char g_dir[256];

static void touch(const char *name) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", g_dir, name);
    FILE *f = fopen(p, "w");
    if (f) fclose(f);
}

static run_opts opts(const char *out) {
    run_opts o;
    memset(&o, 0, sizeof o);
    o.out_fmt = KZ_FORMAT_KAZU_JSON;
    o.outdir = out;
    return o;
}

KZ_TEST(test_run_idx_sorted_unique) {
    run_idx l = {0};
    uint32_t in[] = {5, 1, 9, 5, 0, 1};
    for (size_t i = 0; i < 6; i++) KZ_CHECK_INT(run_idx_add(&l, in[i]), 0);
    KZ_CHECK_INT(l.n, 4);
    KZ_CHECK(l.v[0] == 0 && l.v[1] == 1 && l.v[2] == 5 && l.v[3] == 9);
    KZ_CHECK(run_idx_has(&l, 9) && !run_idx_has(&l, 4));
    run_idx_free(&l);
}

KZ_TEST(test_run_plan_names) {
    snprintf(g_dir, sizeof g_dir, "/tmp/kz_test_run_plan_%d", (int)getpid());
    char sub[300];
    snprintf(sub, sizeof sub, "%s/b", g_dir);
    mkdir(g_dir, 0777);
    mkdir(sub, 0777);
    touch("p1.xml.gz");
    touch("x.jsonl");
    touch("b/x.txt");
    touch(".hidden");
    char a1[300], a2[300];
    snprintf(a1, sizeof a1, "%s/", g_dir);
    snprintf(a2, sizeof a2, "%s/b/*.txt", g_dir);
    char *args[] = {a1, a2};
    run_opts o = opts("/nonexistent");
    run_plan p;
    KZ_CHECK_INT(run_plan_build(&p, args, 2, &o), 0);
    KZ_CHECK_INT(p.n, 3); /* the directory's files (not b/, not .hidden), then the glob */
    KZ_CHECK(strstr(p.v[0].in, "//") == NULL);
    KZ_CHECK(!strcmp(p.v[0].name, "p1.jsonl"));
    KZ_CHECK(!strcmp(p.v[1].name, "x-1.jsonl")); /* two stems "x": numbered */
    KZ_CHECK(!strcmp(p.v[2].name, "x-2.jsonl"));
    run_plan_free(&p);
    static const char *const files[] = {"p1.xml.gz", "x.jsonl", "b/x.txt", ".hidden"};
    char f[512];
    for (int i = 0; i < 4; i++) {
        snprintf(f, sizeof f, "%s/%s", g_dir, files[i]);
        unlink(f);
    }
    rmdir(sub);
    rmdir(g_dir);
}

KZ_TEST(test_run_manifest_apply) {
    run_shard shards[2];
    memset(shards, 0, sizeof shards);
    shards[0].in = (char *)"a";
    shards[1].in = (char *)"b";
    run_plan p = {shards, 2, 0};
    run_opts o = opts("/x");
    char text[] = "{\"kazu_run\":1,\"event\":\"start\",\"out_format\":\"kazu-json\"}\n"
                  "{\"event\":\"quarantine\",\"shard\":\"a\",\"doc\":7,\"id\":\"d7\",\"reason\":\"r\"}\n"
                  "garbage\n"
                  "{\"event\":\"done\",\"shard\":\"a\"}\n"
                  "{\"event\":\"done\",\"shard\":\"zzz\"}\n"
                  "{\"event\":\"done\",\"shard\":\"b\""; /* torn: ignored */
    bool start = false;
    KZ_CHECK_INT(run_manifest_apply(&p, &o, text, "t", &start), 0);
    KZ_CHECK(start);
    KZ_CHECK(shards[0].done && !shards[1].done);
    KZ_CHECK(shards[0].skip.n == 1 && shards[0].skip.v[0] == 7);
    run_idx_free(&shards[0].skip);

    char other[] = "{\"kazu_run\":1,\"event\":\"start\",\"out_format\":\"pubtator\"}\n";
    start = false;
    KZ_CHECK_INT(run_manifest_apply(&p, &o, other, "t", &start), CLI_USAGE);
}

KZ_TEST(test_run_manifest_torn_file) {
    char out[300], path[400];
    snprintf(out, sizeof out, "/tmp/kz_test_run_manifest_%d", (int)getpid());
    mkdir(out, 0777);
    snprintf(path, sizeof path, "%s/kazu-run.manifest.jsonl", out);
    FILE *f = fopen(path, "w");
    KZ_CHECK(f != NULL);
    fputs("{\"kazu_run\":1,\"event\":\"start\",\"out_format\":\"kazu-json\"}\n{\"event\":\"done\",\"shard\":"
          "\"a\"}\n"
          "{\"event\":\"do",
          f);
    fclose(f);
    run_shard shards[1];
    memset(shards, 0, sizeof shards);
    shards[0].in = (char *)"a";
    run_plan p = {shards, 1, 0};
    run_opts o = opts(out);
    run_manifest m;
    KZ_CHECK_INT(run_manifest_open(&m, &p, &o), 0);
    KZ_CHECK(shards[0].done);
    KZ_CHECK_INT(run_manifest_append(&m, "{\"event\":\"done\",\"shard\":\"b\"}"), 0);
    run_manifest_close(&m);
    size_t len = 0;
    char *text = kz_test_read_file(path, &len);
    KZ_CHECK(text != NULL);
    /* The torn tail is gone and the new record starts on its own line. */
    KZ_CHECK(strstr(text, "{\"event\":\"do{") == NULL);
    KZ_CHECK(len > 0 && text[len - 1] == '\n');
    KZ_CHECK(strstr(text, "\n{\"event\":\"done\",\"shard\":\"b\"}\n") != NULL);
    free(text);
    unlink(path);
    rmdir(out);
}
