/* YAML configuration: tree shape and positions, located syntax errors,
 * duplicate keys, alias bombs, caps, and the typed getters' checks. */
#include "kz_test.h"
#include "kazu/kazu.h"

static kz_config *load(const char *yaml, kz_error *err) {
    kz_config *c = NULL;
    kz_config_load_string(&c, yaml, strlen(yaml), "t.yaml", NULL, err);
    return c;
}

static const char *fmt(const kz_error *e) {
    static char buf[1024];
    return kz_error_format(e, buf, sizeof buf);
}

KZ_TEST(config_tree_order_types_positions) {
    kz_error err;
    kz_config *c =
        load("# comment\nzeta: 1\nalpha:\n  - x\n  - 'y'\n  - ~\nmid: {k: v}\nempty:\nq: \"null\"\n", &err);
    KZ_CHECK(c != NULL);
    const kz_config_node *r = kz_config_root(c);
    KZ_CHECK_INT(kz_config_node_type(r), KZ_CONFIG_MAP);
    KZ_CHECK_INT(kz_config_node_len(r), 5);
    KZ_CHECK_KSTR(kz_config_node_key_at(r, 0), "zeta"); /* insertion order, not sorted */
    KZ_CHECK_KSTR(kz_config_node_key_at(r, 1), "alpha");
    KZ_CHECK_KSTR(kz_config_node_key_at(r, 4), "q");
    KZ_CHECK(kz_config_node_key_at(r, 5).ptr == NULL);
    const kz_config_node *z = kz_config_get(r, "zeta");
    KZ_CHECK_KSTR(kz_config_node_scalar(z), "1");
    KZ_CHECK_INT(kz_config_node_line(z), 2);
    KZ_CHECK_INT(kz_config_node_column(z), 7);
    const kz_config_node *a = kz_config_get(r, "alpha");
    KZ_CHECK_INT(kz_config_node_type(a), KZ_CONFIG_SEQ);
    KZ_CHECK_INT(kz_config_node_len(a), 3);
    KZ_CHECK_KSTR(kz_config_node_scalar(kz_config_node_at(a, 1)), "y");
    KZ_CHECK_INT(kz_config_node_line(kz_config_node_at(a, 1)), 5);
    KZ_CHECK_INT(kz_config_node_type(kz_config_node_at(a, 2)), KZ_CONFIG_NULL);
    KZ_CHECK(kz_config_node_at(a, 3) == NULL);
    KZ_CHECK_KSTR(kz_config_node_scalar(kz_config_get(kz_config_get(r, "mid"), "k")), "v");
    KZ_CHECK_INT(kz_config_node_type(kz_config_get(r, "empty")), KZ_CONFIG_NULL);
    KZ_CHECK_INT(kz_config_node_type(kz_config_get(r, "q")), KZ_CONFIG_SCALAR); /* quoted "null" is text */
    KZ_CHECK(kz_config_get(r, "missing") == NULL);
    KZ_CHECK(kz_config_get(a, "x") == NULL); /* not a map */
    KZ_CHECK(kz_config_node_scalar(a).ptr == NULL);
    kz_config_free(c);
    kz_config_free(NULL);
}

KZ_TEST(config_empty_document_is_null) {
    kz_error err;
    kz_config *c = load("# nothing here\n", &err);
    KZ_CHECK(c != NULL);
    KZ_CHECK_INT(kz_config_node_type(kz_config_root(c)), KZ_CONFIG_NULL);
    kz_config_free(c);
}

KZ_TEST(config_syntax_error_is_located) {
    kz_error err;
    KZ_CHECK(load("a: 1\nb: [1, 2\nc: 3\n", &err) == NULL);
    KZ_CHECK_INT(err.code, KZ_EPARSE);
    KZ_CHECK(strstr(err.msg, "YAML syntax") != NULL);
    KZ_CHECK_STR(err.path, "t.yaml");
    KZ_CHECK(err.line >= 3);
    KZ_CHECK(err.column >= 1);
    KZ_CHECK(strncmp(fmt(&err), "t.yaml:", 7) == 0);

    KZ_CHECK(load("a:\n  - 1\n b: 2\n", &err) == NULL);
    KZ_CHECK_INT(err.line, 3);
    KZ_CHECK(load("key: \"unterminated\n", &err) == NULL);
    KZ_CHECK_INT(err.code, KZ_EPARSE);
}

KZ_TEST(config_duplicate_keys_refused) {
    kz_error err;
    KZ_CHECK(load("a: 1\nb:\n  x: 1\n  y: 2\n  x: 3\na: 4\n", &err) == NULL);
    KZ_CHECK_INT(err.code, KZ_EPARSE);
    KZ_CHECK_INT(err.line, 5); /* the inner map is closed first */
    KZ_CHECK_INT(err.column, 3);
    KZ_CHECK_STR(err.msg, "duplicate key 'x' (first at line 3 column 3)");
    KZ_CHECK_STR(fmt(&err), "t.yaml:5:3: duplicate key 'x' (first at line 3 column 3) [malformed input]");
    KZ_CHECK(load("{k: 1, k: 1}", &err) == NULL);
    KZ_CHECK(strstr(err.msg, "duplicate key 'k'") != NULL);
}

KZ_TEST(config_aliases_refused_billion_laughs_safe) {
    const char *bomb = "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
                       "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                       "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
                       "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                       "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
                       "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
                       "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
                       "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
                       "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";
    kz_error err;
    KZ_CHECK(load(bomb, &err) == NULL);
    KZ_CHECK_INT(err.code, KZ_EPARSE);
    KZ_CHECK_INT(err.line, 2);
    KZ_CHECK(strstr(err.msg, "aliases (*a) are not supported") != NULL);
    KZ_CHECK(load("base: &x {a: 1}\nuse:\n  <<: *x\n", &err) == NULL);
    KZ_CHECK(load("*x : 1\n", &err) == NULL);
    /* An anchor alone is harmless. */
    kz_config *c = load("a: &anchor 5\n", &err);
    KZ_CHECK(c != NULL);
    kz_config_free(c);
}

KZ_TEST(config_caps) {
    kz_error err;
    kz_config *c = NULL;
    char deep[400];
    size_t n = 0;
    for (int i = 0; i < 100; i++) deep[n++] = '[';
    for (int i = 0; i < 100; i++) deep[n++] = ']';
    deep[n] = 0;
    KZ_CHECK_INT(kz_config_load_string(&c, deep, n, "deep", NULL, &err), KZ_ELIMIT);
    KZ_CHECK(strstr(err.msg, "nested deeper than 64") != NULL);
    KZ_CHECK_INT(err.line, 1);
    KZ_CHECK_INT(err.column, 65);
    kz_config_params p = kz_config_default_params();
    p.max_depth = 200;
    KZ_CHECK_INT(kz_config_load_string(&c, deep, n, "deep", &p, &err), 0);
    kz_config_free(c);

    p = kz_config_default_params();
    p.max_bytes = 8;
    KZ_CHECK_INT(kz_config_load_string(&c, "a: 123456789", 12, "big", &p, &err), KZ_ELIMIT);
    KZ_CHECK(c == NULL);
    p = kz_config_default_params();
    p.max_nodes = 4;
    KZ_CHECK_INT(kz_config_load_string(&c, "[1, 2, 3, 4, 5]", 15, "many", &p, &err), KZ_ELIMIT);
    KZ_CHECK(strstr(err.msg, "more than 4 nodes") != NULL);
}

KZ_TEST(config_refuses_multiple_documents_and_bad_utf8) {
    kz_error err;
    KZ_CHECK(load("a: 1\n---\nb: 2\n", &err) == NULL);
    KZ_CHECK(strstr(err.msg, "more than one YAML document") != NULL);
    KZ_CHECK_INT(err.line, 2);
    KZ_CHECK(load("a: 1\nb: x\xff\xfe\n", &err) == NULL);
    KZ_CHECK_INT(err.code, KZ_EPARSE);
    KZ_CHECK_INT(err.line, 2); /* libyaml reports reader errors as an offset only */
    KZ_CHECK_INT(err.column, 5);
    kz_config *c = load("name: Sjögren’s β\n", &err);
    KZ_CHECK(c != NULL);
    KZ_CHECK_KSTR(kz_config_node_scalar(kz_config_get(kz_config_root(c), "name")), "Sjögren’s β");
    kz_config_free(c);
}

KZ_TEST(config_int_getter) {
    kz_error err;
    kz_config *c = load(
        "n: 42\nbig: 200_000\nneg: -7\nbad: 4x\nmap: {a: 1}\nnil: ~\nhuge: 99999999999999999999\n", &err);
    KZ_CHECK(c != NULL);
    const kz_config_node *r = kz_config_root(c);
    int64_t v = -1;
    KZ_CHECK_INT(kz_config_get_int(r, "n", 0, 0, 100, &v, &err), 0);
    KZ_CHECK_INT(v, 42);
    KZ_CHECK_INT(kz_config_get_int(r, "big", 0, 0, INT64_MAX, &v, &err), 0);
    KZ_CHECK_INT(v, 200000);
    KZ_CHECK_INT(kz_config_get_int(r, "neg", 0, -10, 10, &v, &err), 0);
    KZ_CHECK_INT(v, -7);
    KZ_CHECK_INT(kz_config_get_int(r, "absent", 9, 0, 10, &v, &err), 0);
    KZ_CHECK_INT(v, 9);
    KZ_CHECK_INT(kz_config_get_int(r, "nil", 8, 0, 10, &v, &err), 0);
    KZ_CHECK_INT(v, 8);
    KZ_CHECK_INT(kz_config_get_int(NULL, "n", 7, 0, 10, &v, &err), 0);
    KZ_CHECK_INT(v, 7);
    v = -1;
    KZ_CHECK_INT(kz_config_get_int(r, "n", 0, 0, 10, &v, &err), KZ_ECONFIG);
    KZ_CHECK_INT(v, -1);
    KZ_CHECK_STR(fmt(&err),
                 "t.yaml:1:4: 'n': expected an integer in [0, 10], got '42' [invalid configuration]");
    KZ_CHECK_INT(kz_config_get_int(r, "bad", 0, 0, 10, &v, &err), KZ_ECONFIG);
    KZ_CHECK_INT(err.line, 4);
    KZ_CHECK_INT(kz_config_get_int(r, "map", 0, 0, 10, &v, &err), KZ_ECONFIG);
    KZ_CHECK(strstr(err.msg, "got a map") != NULL);
    KZ_CHECK_INT(kz_config_get_int(r, "huge", 0, INT64_MIN, INT64_MAX, &v, &err), KZ_ECONFIG);
    kz_config_free(c);
}

KZ_TEST(config_double_bool_string_getters) {
    kz_error err;
    kz_config *c = load("d: 0.25\ne: 1e-3\nbad: abc\nt: true\nf: False\ny: yes\ns: hello\nl: [1]\n"
                        "z: \"a\\0b\"\n",
                        &err);
    KZ_CHECK(c != NULL);
    const kz_config_node *r = kz_config_root(c);
    double d = 0;
    KZ_CHECK_INT(kz_config_get_double(r, "d", 0, 0, 1, &d, &err), 0);
    KZ_CHECK(d == 0.25);
    KZ_CHECK_INT(kz_config_get_double(r, "e", 0, 0, 1, &d, &err), 0);
    KZ_CHECK(d == 1e-3);
    KZ_CHECK_INT(kz_config_get_double(r, "d", 0, 0.5, 1, &d, &err), KZ_ECONFIG);
    KZ_CHECK_INT(kz_config_get_double(r, "bad", 0, 0, 1, &d, &err), KZ_ECONFIG);
    KZ_CHECK_INT(err.line, 3);
    bool b = false;
    KZ_CHECK_INT(kz_config_get_bool(r, "t", false, &b, &err), 0);
    KZ_CHECK(b);
    KZ_CHECK_INT(kz_config_get_bool(r, "f", true, &b, &err), 0);
    KZ_CHECK(!b);
    KZ_CHECK_INT(kz_config_get_bool(r, "y", true, &b, &err), KZ_ECONFIG); /* YAML 1.1 yes/no: ambiguous */
    KZ_CHECK(strstr(err.msg, "expected true or false, got 'yes'") != NULL);
    const char *s = NULL;
    KZ_CHECK_INT(kz_config_get_string(r, "s", NULL, &s, &err), 0);
    KZ_CHECK_STR(s, "hello");
    KZ_CHECK_INT(kz_config_get_string(r, "absent", "dflt", &s, &err), 0);
    KZ_CHECK_STR(s, "dflt");
    KZ_CHECK_INT(kz_config_get_string(r, "l", NULL, &s, &err), KZ_ECONFIG);
    KZ_CHECK(strstr(err.msg, "expected a string, got a list") != NULL);
    KZ_CHECK_INT(kz_config_get_string(r, "z", NULL, &s, &err), KZ_ECONFIG); /* embedded NUL */
    kz_config_free(c);
}

KZ_TEST(config_string_list_getter) {
    kz_error err;
    kz_config *c = load("l: [gene, disease]\nm: [a, [b]]\nn: x\n", &err);
    KZ_CHECK(c != NULL);
    const kz_config_node *r = kz_config_root(c);
    const char *out[4];
    size_t n = 99;
    KZ_CHECK_INT(kz_config_get_strings(r, "l", NULL, 0, out, 4, &n, &err), 0);
    KZ_CHECK_INT(n, 2);
    KZ_CHECK_STR(out[1], "disease");
    static const char *const def[] = {"x", "y", "z"};
    KZ_CHECK_INT(kz_config_get_strings(r, "absent", def, 3, out, 4, &n, &err), 0);
    KZ_CHECK_INT(n, 3);
    KZ_CHECK_STR(out[2], "z");
    KZ_CHECK_INT(kz_config_get_strings(r, "l", NULL, 0, out, 1, &n, &err), KZ_ECONFIG);
    KZ_CHECK(strstr(err.msg, "more than 1 items") != NULL);
    KZ_CHECK_INT(kz_config_get_strings(r, "m", NULL, 0, out, 4, &n, &err), KZ_ECONFIG);
    KZ_CHECK_INT(err.line, 2);
    KZ_CHECK_INT(err.column, 8);
    KZ_CHECK_INT(kz_config_get_strings(r, "n", NULL, 0, out, 4, &n, &err), KZ_ECONFIG);
    kz_config_free(c);
}

KZ_TEST(config_check_keys_names_the_typo) {
    kz_error err;
    kz_config *c = load("batch_size: 4\nstesp: []\n", &err);
    KZ_CHECK(c != NULL);
    static const char *const keys[] = {"batch_size", "steps"};
    KZ_CHECK_INT(kz_config_check_keys(kz_config_root(c), keys, 2, &err), KZ_ECONFIG);
    KZ_CHECK_STR(
        fmt(&err),
        "t.yaml:2:1: unknown key 'stesp' (expected one of: batch_size, steps) [invalid configuration]");
    KZ_CHECK_INT(kz_config_check_keys(kz_config_get(kz_config_root(c), "stesp"), keys, 2, &err), 0);
    kz_config_free(c);
}

KZ_TEST(config_load_file) {
    kz_error err;
    kz_config *c = NULL;
    KZ_CHECK_INT(kz_config_load_file(&c, "/nonexistent/kazu.yaml", NULL, &err), KZ_EIO);
    KZ_CHECK_STR(err.path, "/nonexistent/kazu.yaml");
    KZ_CHECK(strstr(err.msg, "cannot open") != NULL);
    char path[] = "/tmp/kz_cfg_XXXXXX";
    int fd = mkstemp(path);
    KZ_CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("pipeline:\n  batch_size: x\n", f);
    fclose(f);
    KZ_CHECK_INT(kz_config_load_file(&c, path, NULL, &err), 0);
    int64_t v;
    KZ_CHECK_INT(
        kz_config_get_int(kz_config_get(kz_config_root(c), "pipeline"), "batch_size", 1, 1, 9, &v, &err),
        KZ_ECONFIG);
    KZ_CHECK_STR(err.path, path);
    KZ_CHECK_INT(err.line, 2);
    kz_config_free(c);
    kz_config_params p = kz_config_default_params();
    p.max_bytes = 10;
    KZ_CHECK_INT(kz_config_load_file(&c, path, &p, &err), KZ_ELIMIT);
    remove(path);
}
