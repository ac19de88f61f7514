/* `kazu run`: annotate corpora shard by shard with supervised worker
 * processes; resumable from a manifest; optionally distributed with MPI. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "run_int.h"

const char cli_run_help[] =
    "Usage: kazu run [options] -o DIR INPUT...\n"
    "       mpirun -np N kazu run --mpi [options] -o DIR INPUT...\n"
    "\n"
    "Annotate a corpus with the configured pipeline. Every input file (files, directories\n"
    "and globs; PubMed .xml.gz, JSONL, BioC, PubTator, text) is one shard and gives one\n"
    "output file in DIR, written to a temporary name and renamed into place when complete.\n"
    "DIR/kazu-run.manifest.jsonl records finished shards and quarantined documents:\n"
    "running the same command again resumes where a killed run stopped. Documents that\n"
    "crash, hang or blow up a worker are retried alone, then quarantined to DIR/failures.jsonl.\n"
    "\n"
    "Options:\n"
    "  -o, --out DIR          output directory (required; created if missing)\n"
    "  -f, --out-format FMT   kazu-json (default), pubtator, bioc-xml, bioc-json, conll, label-studio\n"
    "  -i, --in-format FMT    input format (default: guessed per file)\n"
    "  -c, --config YAML      pipeline configuration (default: the built-in pipeline)\n"
    "  -w, --workers N        worker processes (default 1; 1..256)\n"
    "  -b, --batch-size N     documents per pipeline call (default: the pipeline's)\n"
    "      --doc-timeout S    seconds a document may take (a batch gets S x its size;\n"
    "                         default 60; 0 = no limit)\n"
    "      --rss-limit MB     private memory per worker; over it the worker is restarted\n"
    "                         (default 4096; 0 = no limit)\n"
    "      --max-attempts N   worker failures without progress before a shard is given up (default 5)\n"
    "      --progress-every S seconds between progress lines when stderr is not a terminal (default 10)\n"
    "      --mpi              distribute shards over MPI ranks (rank 0 coordinates)\n"
    "      --lines            text input: one document per non-empty line\n"
    "      --omit-candidates  do not write linking candidates\n"
    "      --no-ascii         write non-ASCII characters as UTF-8\n"
    "  -q, --quiet            no progress and no summary\n"
    "  -h, --help             this help\n"
    "\n"
    "Environment: KAZU_FAULT_INJECT=crash:ID,hang:ID,leak:ID (tests only; see docs/run.md),\n"
    "KAZU_FAULT_LEAK_MB, KAZU_RUN_RSS_LOG=FILE (per-worker memory samples each second),\n"
    "KAZU_MPI_MODULE (path of kazu_run_mpi.so).\n"
    "\n" CLI_EXIT_HELP;

static int num_opt(const char *opt, const char *arg, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (!*arg || *end || errno || !(v >= lo && v <= hi))
        return cli_usage("run", "%s: expected a number from %g to %g, got '%s'", opt, lo, hi, arg);
    *out = v;
    return 0;
}

int cmd_run(int argc, char **argv) {
    static const struct option longopts[] = {CLI_IO_LONGOPTS,
                                             {"config", required_argument, NULL, 'c'},
                                             {"workers", required_argument, NULL, 'w'},
                                             {"doc-timeout", required_argument, NULL, 300},
                                             {"rss-limit", required_argument, NULL, 301},
                                             {"max-attempts", required_argument, NULL, 302},
                                             {"progress-every", required_argument, NULL, 303},
                                             {"mpi", no_argument, NULL, 304},
                                             {NULL, 0, NULL, 0}};
    cli_io io;
    cli_io_init(&io);
    run_opts o = {0};
    o.workers = 1;
    o.doc_timeout = 60;
    o.rss_limit_kb = 4096 * 1024;
    o.max_attempts = 5;
    o.progress_every = 10;
    double v;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, CLI_IO_SHORTOPTS "c:w:", longopts, NULL)) != -1) {
        int rc = cli_io_option("run", c, optarg, &io);
        if (rc == CLI_USAGE) return rc;
        if (rc == 0) continue;
        switch (c) {
        case 'h': fputs(cli_run_help, stdout); return CLI_OK;
        case 'c': o.config = optarg; break;
        case 'w':
            if (num_opt("--workers", optarg, 1, 256, &v)) return CLI_USAGE;
            o.workers = (int)v;
            break;
        case 300:
            if (num_opt("--doc-timeout", optarg, 0, 1e6, &o.doc_timeout)) return CLI_USAGE;
            break;
        case 301:
            if (num_opt("--rss-limit", optarg, 0, 1e8, &v)) return CLI_USAGE;
            o.rss_limit_kb = (int64_t)(v * 1024);
            break;
        case 302:
            if (num_opt("--max-attempts", optarg, 1, 1000, &v)) return CLI_USAGE;
            o.max_attempts = (int)v;
            break;
        case 303:
            if (num_opt("--progress-every", optarg, 0.1, 86400, &o.progress_every)) return CLI_USAGE;
            break;
        case 304: o.mpi = true; break;
        default: return cli_bad_option("run", argv);
        }
    }
    if (!io.out) return cli_usage("run", "--out DIR is required");
    if (io.out_fmt == KZ_FORMAT_BRAT)
        return cli_usage("run", "brat output is not supported by run (one directory per document)");
    if (optind >= argc) return cli_usage("run", "no inputs");
    o.in_fmt = io.in_fmt;
    o.out_fmt = io.out_fmt;
    o.outdir = io.out;
    o.batch_size = io.batch_size;
    o.lines = io.lines;
    o.omit_candidates = io.omit_candidates;
    o.no_ascii = io.no_ascii;
    o.quiet = io.quiet;

    run_plan plan;
    int rc = run_plan_build(&plan, argv + optind, argc - optind, &o);
    if (rc) {
        run_plan_free(&plan);
        return rc;
    }
    run_ctx ctx = {0};
    ctx.o = &o;
    ctx.plan = &plan;
    if (o.mpi)
        rc = run_mpi_main(&ctx, &argc, &argv);
    else
        rc = run_local_main(&ctx);
    kz_pipeline_free(ctx.pipeline);
    run_plan_free(&plan);
    return rc;
}
