/* Placeholder: `kazu ner` lands with its module. */
#include "cli.h"

const char cli_ner_help[] = "Usage: kazu ner (not built yet)\n";

int cmd_ner(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "kazu ner: not built yet\n");
    return CLI_FATAL;
}
