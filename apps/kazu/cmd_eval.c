/* `kazu eval ner|link`: dispatch to the evaluation commands. */
#include <string.h>
#include "cli.h"

const char cli_eval_help[] =
    "Usage: kazu eval ner|link [options] ...\n"
    "\n"
    "  ner   entity-level strict precision/recall/F1 of a NER model or pipeline per class and\n"
    "        corpus ('kazu help eval ner' -> 'kazu eval ner --help')\n"
    "  link  linking accuracy@1 on gold mentions and end-to-end strict P/R/F1 (span + id)\n"
    "        ('kazu eval link --help')\n";

int cmd_eval(int argc, char **argv) {
    if (argc < 2) return cli_usage("eval", "missing subcommand: ner or link");
    if (strcmp(argv[1], "ner") == 0) return cmd_eval_ner(argc - 1, argv + 1);
    if (strcmp(argv[1], "link") == 0) return cmd_eval_link(argc - 1, argv + 1);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(cli_eval_help, stdout);
        return CLI_OK;
    }
    return cli_usage("eval", "unknown subcommand '%s' (ner or link)", argv[1]);
}
