/* `kazu annotate`: read documents, run the pipeline (built-in or --config),
 * write the annotated documents. */
#include <stdlib.h>
#include <string.h>
#include "cli.h"

const char cli_annotate_help[] =
    "Usage: kazu annotate [options] INPUT...\n"
    "\n"
    "Run the pipeline over the documents of each INPUT and write them, in input order.\n"
    "An INPUT is a file (gzip is detected), a glob such as 'data/*.jsonl', a directory\n"
    "(its files, sorted), or - for stdin.\n"
    "\n"
    "Input and output:\n"
    "  -i, --in-format FMT    input format (default: guessed per input from name and content)\n"
    "  -f, --out-format FMT   output format (default: kazu-json, one document per line)\n"
    "  -o, --out PATH         output file, or directory for brat (default: stdout)\n"
    "      --lines            text input: each non-empty line is a document\n"
    "      --omit-candidates  leave linking candidates out of the output\n"
    "      --no-ascii         write UTF-8 instead of \\uXXXX escapes\n"
    "Pipeline:\n"
    "  -c, --config FILE      YAML configuration (default: the built-in one, shown by\n"
    "                         'kazu steps'; an editable copy is examples/pipeline.yaml)\n"
    "      --kb PACK          knowledge-base pack for the steps that have no `kb:` parameter\n"
    "                         (sets KAZU_KB; default: $KAZU_KB)\n"
    "      --steps A,B        run only these configured steps, in this order\n"
    "      --step-group NAME  run a configured step group\n"
    "  -b, --batch-size N     documents per pipeline call (default: the config's batch_size)\n"
    "Other:\n"
    "  -q, --quiet            no summary line on stderr\n"
    "  -h, --help             this help\n"
    "\n"
    "Problems are reported on stderr as 'place: reason' (file:line for bad records,\n"
    "file: document ID for documents that failed processing; these are still written,\n"
    "with PROCESSING_EXCEPTION in their metadata).\n"
    "\n" CLI_EXIT_HELP;

int cmd_annotate(int argc, char **argv) {
    static const struct option longopts[] = {CLI_IO_LONGOPTS,
                                             {"config", required_argument, NULL, 'c'},
                                             {"steps", required_argument, NULL, 300},
                                             {"step-group", required_argument, NULL, 301},
                                             {"kb", required_argument, NULL, 302},
                                             {NULL, 0, NULL, 0}};
    const char *cmd = "annotate", *config_path = NULL, *group = NULL;
    char *steps_arg = NULL;
    cli_io o;
    cli_io_init(&o);
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, CLI_IO_SHORTOPTS "c:", longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(cli_annotate_help, stdout);
            return CLI_OK;
        }
        int rc = cli_io_option(cmd, c, optarg, &o);
        if (rc == 0) continue;
        if (rc != 1) return rc;
        if (c == 'c')
            config_path = optarg;
        else if (c == 300)
            steps_arg = optarg;
        else if (c == 301)
            group = optarg;
        else if (c == 302)
            setenv("KAZU_KB", optarg, 1);
        else
            return cli_bad_option(cmd, argv);
    }
    if (optind >= argc) return cli_usage(cmd, "no input given (use - for stdin)");

    kz_pipeline *p = cli_load_pipeline(config_path);
    if (!p) return CLI_FATAL;
    for (size_t i = 0; !o.quiet && i < kz_pipeline_n_disabled(p); i++) {
        const char *why = NULL;
        const char *name = kz_pipeline_disabled_step(p, i, &why);
        fprintf(stderr, "kazu annotate: note: optional step %s is left out: %s\n", name, why ? why : "");
    }
    kz_pipeline_run_params rp = kz_pipeline_run_default_params();
    rp.step_group = group;
    const char **steps = NULL;
    if (steps_arg && !(steps = cli_split_commas(steps_arg, &rp.n_steps))) {
        kz_pipeline_free(p);
        return CLI_FATAL;
    }
    rp.steps = steps;
    int code;
    kz_error err;
    if (steps_arg && rp.n_steps == 0)
        code = cli_usage(cmd,
                         "--steps needs step names, e.g. --steps SentenceSplitter,MergeOverlappingEntsStep");
    else if (kz_pipeline_check_run_params(p, &rp, &err))
        code = cli_usage(cmd, "%s", err.msg);
    else
        code = cli_process(cmd, &o, argv + optind, argc - optind, p, &rp);
    free(steps);
    kz_pipeline_free(p);
    return code;
}
