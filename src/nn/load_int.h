/* Model-file internals shared by the checkpoint readers and writers
 * (tensor.c, safetensors.c, pickle.c, torch_zip.c, kzm.c, bert_config.c,
 * bert_load.c). Not public API; docs/nn-model-files.md describes the formats. */
#ifndef KZ_NN_LOAD_INT_H
#define KZ_NN_LOAD_INT_H

#include <jansson.h>
#include "nn_int.h" /* relative: also usable from tests/fuzz */
#include "../core/core_int.h"

/* ---- caps on outside data ---------------------------------------------------- */
#define KZ_NN_MAX_TENSORS     65536u
#define KZ_NN_MAX_NAME        1024u
#define KZ_NN_MAX_DIM         ((int64_t)1 << 40)  /* one dimension */
#define KZ_NN_MAX_NUMEL       ((uint64_t)1 << 40) /* elements of one tensor */
#define KZ_NN_MAX_CONFIG      (4u << 20)          /* config.json, tokenizer_config.json */
#define KZ_NN_MAX_VOCAB_BYTES (64u << 20)         /* vocab.txt */
#define KZ_ST_MAX_HEADER      (100u << 20)        /* safetensors JSON header (as the reference lib) */
#define KZ_PKL_MAX_BYTES      (256u << 20)        /* data.pkl */

#define KZ_DT_COUNT 5
/* "F32", "F16", "BF16", "I8", "I64" (safetensors spelling); "?" if out of range. */
const char *kz__dtype_name(kz_dtype t);
/* Safetensors dtype name -> kz_dtype; KZ_EFORMAT for a valid but unsupported
 * name (F64, I32, BOOL, ...), KZ_EPARSE for an unknown one. */
int kz__dtype_parse(const char *s, kz_dtype *out);

/* Elements of a shape; false on a negative dim, a dim over KZ_NN_MAX_DIM or a
 * product over KZ_NN_MAX_NUMEL. ndim 0 = scalar = 1 element. */
bool kz__shape_numel(const int64_t *shape, uint32_t ndim, uint64_t *out);
/* "[3072, 8]" into buf. */
const char *kz__shape_str(const int64_t *shape, uint32_t ndim, char *buf, size_t cap);

/* Append a tensor named name[0..len) (copied, NUL-terminated); everything
 * else zeroed. NULL on OOM or when the table already holds KZ_NN_MAX_TENSORS. */
kz_tensor *kz__tensor_table_add(kz_tensor_table *tt, const char *name, size_t len);
/* The table takes p (malloc'd) and frees it with itself; on OOM p is freed
 * and KZ_ENOMEM returned. p NULL is a no-op. */
int kz__tensor_table_own(kz_tensor_table *tt, void *p);

/* n values from little-endian half / bfloat16 bits at in (any alignment). */
void kz__f16_to_f32_n(const void *in, float *out, size_t n);
void kz__bf16_to_f32_n(const void *in, float *out, size_t n);

/* err->path = path (the end of it when too long); err may be NULL. */
void kz__err_path(kz_error *err, const char *path);

/* ---- torch zip: the storage resolver handed to the pickle reader ------------ */
/* Fill *out (malloc'd, caller owns) with exactly nbytes of storage `key`.
 * KZ_EFORMAT if the record is missing or has another size. */
int kz__torch_zip_storage(const void *zip_ctx, const char *key, uint64_t nbytes, void **out, kz_error *err);

/* ---- config --------------------------------------------------------------------- */
/* cfg.head while the architecture is unknown (config.json without
 * "architectures"): kz__bert_from_tensors decides from the tensors present
 * (classifier.* -> TOKEN_CLS). Never survives a successful load. */
#define KZ__HEAD_AUTO ((kz_bert_head)0x7f)

/* Parse an HF config object (config.json, or the "config" member of a .kzm
 * header). path only names the file in messages. */
int kz__bert_config_from_json(json_t *root, const char *path, kz_bert_config *cfg, kz_error *err);
/* HF-style config object for cfg (what the .kzm writer stores). NULL on OOM. */
json_t *kz__bert_config_to_json(const kz_bert_config *cfg);
const char *kz__bert_act_name(kz_bert_act a); /* "gelu", "gelu_new", "relu" */

/* WordPiece options as they come from tokenizer_config.json (owned strings). */
typedef struct kz_tok_spec {
    bool lowercase;
    int strip_accents; /* -1 none (follow lowercase), 0, 1 */
    bool tokenize_chinese_chars;
    char **never_split;
    size_t n_never_split;
    uint32_t max_input_chars_per_word; /* 0 = 100 */
    char *unk_token;                   /* NULL = "[UNK]" */
} kz_tok_spec;
/* HF BertTokenizer defaults: do_lower_case true, accents follow it, Chinese chars split. */
void kz__tok_spec_default(kz_tok_spec *s);
void kz__tok_spec_free(kz_tok_spec *s);
/* tokenizer_config.json object (or a .kzm "tokenizer" member) over the defaults. */
int kz__tok_spec_from_json(json_t *root, const char *path, kz_tok_spec *s, kz_error *err);
json_t *kz__tok_spec_to_json(const kz_tok_spec *s);
/* Borrowing view for kz_wordpiece_*: valid while s lives; never_split needs
 * a scratch array of s->n_never_split pointers (the spec's own array is used). */
kz_wordpiece_opts kz__tok_spec_opts(const kz_tok_spec *s);
/* Read a small text file whole (cap bytes at most): KZ_EIO / KZ_ELIMIT. */
int kz__read_small_file(const char *path, size_t cap, char **out, size_t *len, kz_error *err);

/* ---- the loaded model: kz_bert plus what the writer and `model info` need -- */
typedef struct kz_bert_x {
    struct kz_bert m; /* first member: a kz_bert * is a kz_bert_x * */
    kz_tok_spec tok;
    bool have_tok;
    char *vocab_owned; /* vocab.txt bytes (HF directory) */
    const char *vocab; /* = vocab_owned or into the .kzm mapping */
    size_t vocab_len;
    const char *format; /* "safetensors", "torch-zip", "kzm", "memory" */
    char file[256];     /* weights file basename */
    uint64_t file_bytes;
    uint64_t params_used; /* elements of the tensors the model uses */
    size_t n_ignored;     /* pooler / position_ids / pretraining-head tensors skipped */
} kz_bert_x;

static inline kz_bert_x *kz__bert_x(kz_bert *m) { return (kz_bert_x *)m; }
static inline const kz_bert_x *kz__bert_cx(const kz_bert *m) { return (const kz_bert_x *)m; }

/* Build the tokenizer from x->vocab / x->tok; checks the vocab against the
 * embedding matrix (more tokens than rows: KZ_EFORMAT; fewer: a warning). */
int kz__bert_attach_tokenizer(kz_bert_x *x, const char *vocab_path, kz_error *err);

/* ---- .kzm ------------------------------------------------------------------------ */
#define KZM_MAGIC       "\x89KZM\r\n\x1a\n"
#define KZM_VERSION     1u
#define KZM_FIXED       128u
#define KZM_DIR_ENTRY   64u
#define KZM_ALIGN       64u
#define KZM_MAX_HEADER  (16u << 20)
#define KZM_MAX_NAMES   (16u << 20)
#define KZM_FORMAT_NAME "kazu-c-bert"

/* Read a .kzm file (mmap'd; the model keeps the mapping). */
int kz__kzm_read(const char *path, kz_bert **out, kz_error *err);
/* Same over caller memory that must outlive the model (fuzzing, tests). */
int kz__kzm_read_mem(const void *data, size_t len, kz_bert **out, kz_error *err);
/* Recompute the data-section SHA-256 and compare it with the header's. */
int kz__kzm_verify_mem(const void *data, size_t len, kz_error *err);
/* SHA-256 over [KZM_FIXED, data_off) as the fixed header stores it; data_off
 * is taken from the fixed header (clamped to len). For tools that patch files. */
void kz__kzm_header_hash(const void *data, size_t len, uint8_t out[32]);

#endif
