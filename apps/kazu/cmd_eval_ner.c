/* PLACEHOLDER (replaced wholesale by its owner): `kazu eval ner`. */
#include "cli.h"

const char cli_eval_ner_help[] = "Usage: kazu eval ner ... (not built yet)\n";

int cmd_eval_ner(int argc, char **argv) {
    (void)argc, (void)argv;
    fprintf(stderr, "kazu eval ner: not built yet\n");
    return CLI_FATAL;
}
