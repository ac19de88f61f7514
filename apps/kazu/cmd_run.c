/* PLACEHOLDER (replaced wholesale by its owner): `kazu run`. */
#include "cli.h"

const char cli_run_help[] = "Usage: kazu run ... (not built yet)\n";

int cmd_run(int argc, char **argv) {
    (void)argc, (void)argv;
    fprintf(stderr, "kazu run: not built yet\n");
    return CLI_FATAL;
}
