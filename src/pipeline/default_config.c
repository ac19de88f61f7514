/* The built-in default pipeline configuration, kept byte-identical to
 * examples/pipeline.yaml (a unit test compares them). */
#include "pipeline_int.h"

static const char k_default_config[] =
    "# kazu-c pipeline configuration: the built-in default, as an editable copy.\n"
    "# Use it with `kazu annotate --config examples/pipeline.yaml ...`; see docs/pipeline.md.\n"
    "pipeline:\n"
    "  # Documents of this many characters (code points, over all sections) or more\n"
    "  # are not processed; they get PROCESSING_EXCEPTION and are still written.\n"
    "  # 0 = no limit. (Kazu's skip_doc_len.)\n"
    "  skip_doc_len: 200000\n"
    "  # Documents handed to the steps per call (the CLI's default --batch-size).\n"
    "  batch_size: 16\n"
    "  # Steps in order. `type` is a registered step type (`kazu steps` lists them)\n"
    "  # and is the step's namespace; `params` holds its options.\n"
    "  steps:\n"
    "    - type: SentenceSplitter\n"
    "    - type: MergeOverlappingEntsStep\n"
    "      params:\n"
    "        # First = most preferred when overlapping entities tie on mappings and length.\n"
    "        ent_class_preferred_order: [disease, drug, gene, anatomy, cell_line, cell_type,\n"
    "                                    biological_process, molecular_function, cellular_component]\n"
    "        ignore_non_contiguous: true\n"
    "  # Named subsets of the steps (`kazu annotate --step-group NAME`).\n"
    "  step_groups:\n"
    "    sentences_only: [SentenceSplitter]\n"
    "    merge_only: [MergeOverlappingEntsStep]\n"
    "  # A directory for failed documents: <dir>/<step>/<id>.json and <id>_error.txt\n"
    "  # (Kazu's FailedDocsFileHandler). null = log them only.\n"
    "  failure_dir: null\n";

const char *kz_pipeline_default_config(void) { return k_default_config; }
