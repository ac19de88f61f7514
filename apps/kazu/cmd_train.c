/* PLACEHOLDER (replaced wholesale by its owner): `kazu train`. */
#include "cli.h"

const char cli_train_help[] = "Usage: kazu train ... (not built yet)\n";

int cmd_train(int argc, char **argv) {
    (void)argc, (void)argv;
    fprintf(stderr, "kazu train: not built yet\n");
    return CLI_FATAL;
}
