/* Placeholder: `kazu kb` lands with its module. */
#include "cli.h"

const char cli_kb_help[] = "Usage: kazu kb (not built yet)\n";

int cmd_kb(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "kazu kb: not built yet\n");
    return CLI_FATAL;
}
