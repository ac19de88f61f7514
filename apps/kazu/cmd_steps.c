/* `kazu steps`: list the registered step types and the steps and step groups
 * of the configuration (built-in or --config). */
#include "cli.h"

const char cli_steps_help[] =
    "Usage: kazu steps [--config FILE]\n"
    "\n"
    "List the step types kazu knows, then the steps (in order) and step groups of the\n"
    "configuration: the built-in one, or FILE.\n"
    "\n"
    "  -c, --config FILE  YAML configuration to describe\n"
    "  -h, --help         this help\n"
    "\n"
    "Exit status: 0 ok, 2 usage error, 3 bad configuration.\n";

int cmd_steps(int argc, char **argv) {
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
    const char *cmd = "steps", *config_path = NULL;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(cli_steps_help, stdout);
            return CLI_OK;
        }
        if (c != 'c') return cli_bad_option(cmd, argv);
        config_path = optarg;
    }
    if (optind < argc) return cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
    kz_pipeline *p = cli_load_pipeline(config_path);
    if (!p) return CLI_FATAL;
    printf("Step types:\n");
    for (size_t i = 0, n = kz_step_type_count(); i < n; i++) {
        const kz_step_type *t = kz_step_type_at(i);
        printf("  %-26s %s\n", t->name, t->description ? t->description : "");
    }
    printf("\nSteps (%s; skip_doc_len %lld, batch_size %zu):\n",
           config_path ? config_path : "built-in configuration", (long long)kz_pipeline_skip_doc_len(p),
           kz_pipeline_batch_size(p));
    for (size_t i = 0; i < kz_pipeline_n_steps(p); i++)
        printf("  %zu. %s\n", i + 1, kz_pipeline_step_name(p, i));
    if (kz_pipeline_n_disabled(p)) printf("\nOptional steps left out:\n");
    for (size_t i = 0; i < kz_pipeline_n_disabled(p); i++) {
        const char *why = NULL;
        const char *name = kz_pipeline_disabled_step(p, i, &why);
        printf("  %s: %s\n", name, why ? why : "");
    }
    printf("\nStep groups:\n");
    for (size_t g = 0; g < kz_pipeline_n_groups(p); g++) {
        size_t n;
        const char *const *names = kz_pipeline_group_steps(p, g, &n);
        printf("  %s:", kz_pipeline_group_name(p, g));
        for (size_t i = 0; i < n; i++) printf("%s %s", i ? "," : "", names[i]);
        printf("\n");
    }
    if (!kz_pipeline_n_groups(p)) printf("  (none)\n");
    kz_pipeline_free(p);
    return CLI_OK;
}
