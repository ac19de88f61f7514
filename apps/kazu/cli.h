/* Shared pieces of the kazu CLI: exit codes, I/O options common to annotate
 * and convert, input expansion, and the read -> process -> write loop. */
#ifndef KAZU_CLI_H
#define KAZU_CLI_H

#include <getopt.h>
#include <stdio.h>
#include "kazu/kazu.h"

enum { CLI_OK = 0, CLI_PARTIAL = 1, CLI_USAGE = 2, CLI_FATAL = 3 };

#define CLI_EXIT_HELP                                                                                        \
    "Exit status:\n"                                                                                         \
    "  0  every document was read, processed and written\n"                                                  \
    "  1  some records could not be read or some documents failed processing; every good\n"                  \
    "     document was still written and each problem was reported on stderr\n"                              \
    "  2  usage error\n"                                                                                     \
    "  3  fatal: an input or the output could not be opened, bad configuration, write failure\n"

/* Options shared by annotate and convert. */
typedef struct cli_io {
    kz_format in_fmt; /* UNKNOWN = guess per input */
    kz_format out_fmt;
    const char *out; /* NULL = stdout */
    bool lines, omit_candidates, no_ascii, quiet;
    size_t batch_size; /* 0 = the pipeline's (or 64 without one) */
} cli_io;

/* getopt_long entries for the shared options (values >= 256); the command
 * appends its own and a terminator. */
// clang-format off
#define CLI_IO_LONGOPTS                                                                    \
    {"in-format", required_argument, NULL, 'i'}, {"out-format", required_argument, NULL, 'f'}, \
    {"out", required_argument, NULL, 'o'}, {"lines", no_argument, NULL, 256},                   \
    {"omit-candidates", no_argument, NULL, 257}, {"no-ascii", no_argument, NULL, 258},          \
    {"batch-size", required_argument, NULL, 'b'}, {"quiet", no_argument, NULL, 'q'},            \
    {"help", no_argument, NULL, 'h'}
// clang-format on
#define CLI_IO_SHORTOPTS "i:f:o:b:qh"

void cli_io_init(cli_io *o);
/* Apply a shared option; returns 0 if handled, 1 if c is not a shared
 * option, CLI_USAGE after reporting a bad value. */
int cli_io_option(const char *cmd, int c, const char *arg, cli_io *o);
/* Report a usage error ("kazu CMD: ...") and return CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print err as "place: reason" on stderr. */
void cli_report(const kz_error *err);
/* Parse getopt's result for an unknown option into a usage error. */
int cli_bad_option(const char *cmd, char **argv);

/* Read every input, run p (NULL = none) in batches, write in input order.
 * Returns the exit code. */
/* The pipeline from a YAML file, or the built-in one when config_path is NULL.
 * Reports the error on stderr and returns NULL on failure. */
kz_pipeline *cli_load_pipeline(const char *config_path);
/* Set KAZU_KB / KAZU_MODEL (when unset) to the knowledge base and model found
 * next to the executable (build/kb/{full,default}.kzkb, models/kazu-c-ner/);
 * cli_load_pipeline calls it. */
void cli_default_resources(void);
/* Split "A,B" in place into a malloc'd array of pointers into s (free() it); NULL on OOM. */
const char **cli_split_commas(char *s, size_t *n);
int cli_process(const char *cmd, const cli_io *o, char **inputs, int n_inputs, const kz_pipeline *p,
                const kz_pipeline_run_params *rp);

/* Subcommands: each returns an exit code. argv[0] is the command name. */
int cmd_annotate(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_steps(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_kb(int argc,
           char **argv); /* cmd_kb.c: kb build|info|lookup|diff|verify; kb download -> cmd_kb_download */
int cmd_kb_download(int argc, char **argv); /* cmd_kb_download.c */
int cmd_model(int argc, char **argv);       /* cmd_model.c */
int cmd_ner(int argc, char **argv);         /* cmd_ner.c */
int cmd_eval(int argc, char **argv); /* cmd_eval.c: eval ner -> cmd_eval_ner, eval link -> cmd_eval_link */
int cmd_eval_ner(int argc, char **argv);  /* cmd_eval_ner.c */
int cmd_eval_link(int argc, char **argv); /* cmd_eval_link.c */
int cmd_train(int argc, char **argv);     /* cmd_train.c */
int cmd_serve(int argc, char **argv);     /* cmd_serve.c */
int cmd_run(int argc, char **argv);       /* cmd_run.c */
extern const char cli_eval_help[], cli_eval_ner_help[], cli_eval_link_help[], cli_train_help[];
extern const char cli_serve_help[], cli_run_help[];
extern const char cli_annotate_help[], cli_convert_help[], cli_steps_help[], cli_version_help[];
extern const char cli_kb_help[], cli_kb_download_help[], cli_model_help[], cli_ner_help[];

#endif
