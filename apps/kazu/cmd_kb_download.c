/* Placeholder: `kazu kb download` lands with its module. */
#include "cli.h"

const char cli_kb_download_help[] = "Usage: kazu kb download (not built yet)\n";

int cmd_kb_download(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "kazu kb download: not built yet\n");
    return CLI_FATAL;
}
