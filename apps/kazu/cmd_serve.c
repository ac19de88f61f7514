/* PLACEHOLDER (replaced wholesale by its owner): `kazu serve`. */
#include "cli.h"

const char cli_serve_help[] = "Usage: kazu serve ... (not built yet)\n";

int cmd_serve(int argc, char **argv) {
    (void)argc, (void)argv;
    fprintf(stderr, "kazu serve: not built yet\n");
    return CLI_FATAL;
}
