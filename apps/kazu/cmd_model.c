/* Placeholder: `kazu model` lands with its module. */
#include "cli.h"

const char cli_model_help[] = "Usage: kazu model (not built yet)\n";

int cmd_model(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "kazu model: not built yet\n");
    return CLI_FATAL;
}
