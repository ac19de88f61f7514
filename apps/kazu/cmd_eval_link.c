/* PLACEHOLDER (replaced wholesale by its owner): `kazu eval link`. */
#include "cli.h"

const char cli_eval_link_help[] = "Usage: kazu eval link ... (not built yet)\n";

int cmd_eval_link(int argc, char **argv) {
    (void)argc, (void)argv;
    fprintf(stderr, "kazu eval link: not built yet\n");
    return CLI_FATAL;
}
