/* The kazu command-line tool: dispatches to one cmd_*.c per subcommand and
 * prints the general help. */
#include <string.h>
#include "cli.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
    const char *summary;
} command;

static const command k_commands[] = {
    {"annotate", cmd_annotate, cli_annotate_help, "run the pipeline over documents and write them annotated"},
    {"convert", cmd_convert, cli_convert_help, "convert documents between formats (no pipeline)"},
    {"eval", cmd_eval, cli_eval_help, "evaluate NER (strict P/R/F1) or linking (acc@1, P/R/F1) against gold"},
    {"kb", cmd_kb, cli_kb_help, "build, inspect, query, compare and download knowledge-base packs"},
    {"model", cmd_model, cli_model_help, "inspect and convert BERT models (HF directories, .kzm files)"},
    {"ner", cmd_ner, cli_ner_help, "run a transformer NER model over documents and print the entities"},
    {"run", cmd_run, cli_run_help,
     "annotate corpora with supervised workers, resumable, optionally over MPI"},
    {"serve", cmd_serve, cli_serve_help, "serve Kazu's HTTP API and the annotation web page"},
    {"steps", cmd_steps, cli_steps_help, "list step types and the configured steps and step groups"},
    {"train", cmd_train, cli_train_help, "train a BERT token-classification NER model"},
    {"version", cmd_version, cli_version_help, "print the versions of kazu-c and its libraries"},
};
#define N_COMMANDS (sizeof k_commands / sizeof k_commands[0])

static void general_help(FILE *f) {
    fprintf(f, "kazu %s - biomedical named-entity recognition and linking (a C rebuild of Kazu)\n\n",
            kz_version());
    fprintf(f, "Usage: kazu <command> [options] [inputs...]\n\nCommands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-9s %s\n", k_commands[i].name, k_commands[i].summary);
    fprintf(f, "  %-9s %s\n\n", "help", "show the help of a command ('kazu help annotate')");
    for (int w = 0; w < 2; w++) {
        fprintf(f, "Formats %s:", w ? "written" : "read");
        for (int i = 1; strcmp(kz_format_name((kz_format)i), "unknown") != 0; i++)
            if (w ? kz_format_can_write((kz_format)i) : kz_format_can_read((kz_format)i))
                fprintf(f, " %s", kz_format_name((kz_format)i));
        fprintf(f, "\n");
    }
    fprintf(f, "\n%s", CLI_EXIT_HELP);
}

static const command *find(const char *name) {
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(k_commands[i].name, name) == 0) return &k_commands[i];
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        general_help(stderr);
        return CLI_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "help") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        if (argc < 3) {
            general_help(stdout);
            return CLI_OK;
        }
        const command *c = find(argv[2]);
        if (!c) return cli_usage("help", "unknown command '%s'", argv[2]);
        fputs(c->help, stdout);
        return CLI_OK;
    }
    if (strcmp(name, "--version") == 0) name = "version";
    const command *c = find(name);
    if (!c) {
        fprintf(stderr, "kazu: unknown command '%s'\nRun 'kazu help' for the list of commands.\n", name);
        return CLI_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
