/* `kazu convert`: read documents in one format and write them in another,
 * without running the pipeline. */
#include "cli.h"

const char cli_convert_help[] =
    "Usage: kazu convert [options] INPUT...\n"
    "\n"
    "Convert the documents of each INPUT (file, glob, directory or - for stdin) to\n"
    "another format, in input order. No pipeline runs.\n"
    "\n"
    "  -i, --in-format FMT    input format (default: guessed per input from name and content)\n"
    "  -f, --out-format FMT   output format (default: kazu-json)\n"
    "  -o, --out PATH         output file, or directory for brat (default: stdout)\n"
    "      --lines            text input: each non-empty line is a document\n"
    "      --omit-candidates  leave linking candidates out of the output\n"
    "      --no-ascii         write UTF-8 instead of \\uXXXX escapes\n"
    "  -b, --batch-size N     documents held before writing (default 64)\n"
    "  -q, --quiet            no summary line on stderr\n"
    "  -h, --help             this help\n"
    "\n" CLI_EXIT_HELP;

int cmd_convert(int argc, char **argv) {
    static const struct option longopts[] = {CLI_IO_LONGOPTS, {NULL, 0, NULL, 0}};
    const char *cmd = "convert";
    cli_io o;
    cli_io_init(&o);
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, CLI_IO_SHORTOPTS, longopts, NULL)) != -1) {
        if (c == 'h') {
            fputs(cli_convert_help, stdout);
            return CLI_OK;
        }
        int rc = cli_io_option(cmd, c, optarg, &o);
        if (rc == 1) return cli_bad_option(cmd, argv);
        if (rc) return rc;
    }
    if (optind >= argc) return cli_usage(cmd, "no input given (use - for stdin)");
    return cli_process(cmd, &o, argv + optind, argc - optind, NULL, NULL);
}
