/* Internals of the training-data half of issue 6 (src/train/data*.c): the
 * corpus list (train/corpora.yaml), readers for the training formats that
 * the document readers lack (CoNLL/IOB input, brat standoff pairs, tar
 * archives), and gold documents with default classes. Shared with the NER
 * evaluation (src/eval). Not part of the public API. */
#ifndef KZ_TRAIN_DATA_INT_H
#define KZ_TRAIN_DATA_INT_H

#include "kazu/doc.h"
#include "kazu/train.h"

/* The default classes, in label order: labels are B-<c>, I-<c> for each. */
#define KZ_TRAIN_N_CLASSES 8
extern const char *const kz__train_classes[KZ_TRAIN_N_CLASSES];
/* Index of a default class name, -1 if it is not one. */
int kz__train_class_index(const char *name, size_t len);

/* Caps on outside data. */
#define KZ_TRAIN_MAX_FILE     ((size_t)1 << 30) /* one corpus file, decompressed */
#define KZ_TRAIN_MAX_LINE     ((size_t)1 << 20)
#define KZ_TRAIN_MAX_SENT_TOK 100000 /* tokens in one CoNLL sentence */
#define KZ_TRAIN_MAX_CORPORA  256
#define KZ_TRAIN_MAX_MAP      256 /* label-map entries per corpus */

/* One label-map entry: a corpus type and the class bits it maps to. */
typedef struct kz__label_map_entry {
    char *type;
    uint32_t classes; /* bit c = kz__train_classes[c] */
} kz__label_map_entry;

typedef struct kz__corpus_spec {
    char *name;            /* e.g. "BC2GM" */
    char *split;           /* "train" | "devel" */
    char *format;          /* conll | pubtator | brat | brat-tar */
    char *path;            /* resolved: ${VAR}/${VAR:-def} expanded, relative to the YAML's directory */
    char *exclude_overlap; /* optional CoNLL path: skip documents that open like one of its documents */
    kz__label_map_entry *map;
    uint32_t n_map;
    uint32_t classes; /* union of the map's class bits: the classes this corpus supervises */
    bool enabled;
    int64_t line; /* YAML line of the entry */
} kz__corpus_spec;

typedef struct kz__corpus_list {
    kz__corpus_spec *v;
    size_t n;
} kz__corpus_list;

/* Parse the corpus list (docs/train-data.md). All entries are returned,
 * disabled ones with enabled = false. 0 or an error naming file:line. */
int kz__corpora_load(const char *yaml_path, kz__corpus_list *out, kz_error *err);
int kz__corpora_parse(const char *text, size_t len, const char *name, const char *base_dir,
                      kz__corpus_list *out, kz_error *err);
void kz__corpora_free(kz__corpus_list *l);

/* Expand ${VAR} and ${VAR:-default} from the environment; malloc'd or NULL (OOM / unterminated). */
char *kz__expand_env(const char *s);

/* Gold documents: each entity's class is a default class (the corpus type
 * mapped through the label map; unmapped types are dropped; a type mapped to
 * several classes gives one entity per class). The callback takes
 * ownership of doc; a non-zero return stops reading and is returned. */
typedef int (*kz__doc_fn)(kz_doc *doc, void *user);

typedef struct kz__read_stats {
    size_t docs, sentences, skipped_records, dropped_entities, excluded_docs;
} kz__read_stats;

/* Read one corpus (any format) and deliver mapped gold documents in file
 * order. CoNLL: one document per sentence (single section "text", tokens
 * joined by one space, one sentence span). */
int kz__corpus_read(const kz__corpus_spec *c, kz__doc_fn fn, void *user, kz__read_stats *st, kz_error *err);

/* Format parsers over memory (fuzzed). Entities keep the corpus type as
 * their class (no mapping). name labels errors and document ids. */
int kz__conll_parse(const char *data, size_t len, const char *name, kz__doc_fn fn, void *user,
                    kz__read_stats *st, kz_error *err);
/* One brat pair: txt (UTF-8) + ann (T lines; other lines ignored; offsets in
 * code points; discontinuous "s e;s e" fragments become one multi-span entity). */
int kz__brat_parse(const char *id, const char *txt, size_t txt_len, const char *ann, size_t ann_len,
                   kz_doc **out, size_t *n_bad, kz_error *err);
/* Iterate the regular files of a (decompressed) ustar/GNU tar image. */
typedef int (*kz__tar_fn)(const char *name, const char *data, size_t len, void *user);
int kz__tar_each(const char *data, size_t len, kz__tar_fn fn, void *user, kz_error *err);
/* brat pairs (<x>.txt + <x>.ann) of a tar image, in name order. */
int kz__brat_tar_parse(const char *data, size_t len, const char *name, kz__doc_fn fn, void *user,
                       kz__read_stats *st, kz_error *err);

/* Whole file into memory (gzip decoded), capped; malloc'd (free()). */
int kz__read_file(const char *path, size_t cap, char **data, size_t *len, kz_error *err);

/* Map a document's entity classes through the label map in place (drops
 * unmapped ones, duplicates for multi-class types). Returns 0 or an error. */
int kz__apply_label_map(const kz__corpus_spec *c, kz_doc **doc, size_t *n_dropped, kz_error *err);

/* Per-corpus counts of a kz_train_data load (one row per corpus of the split). */
typedef struct kz__corpus_counts {
    size_t docs, sections, sentences, words, tokens, examples, skipped_records, excluded_docs;
    size_t entities[KZ_TRAIN_N_CLASSES]; /* gold entities per default class */
    size_t dropped_entities;             /* entities of unmapped types */
} kz__corpus_counts;

/* kz_train_data_load with geometry and counts: stride (even, <= max_len - 4)
 * is the overlap of windows cutting a sentence longer than max_len - 2
 * tokens; only_corpus (NULL = all) keeps one corpus name; *counts (may be
 * NULL) receives a malloc'd array of d->n_corpora rows. */
int kz__train_data_load_ex(const char *corpora_yaml, const char *split, const kz_wordpiece *tok,
                           uint32_t max_len, uint32_t stride, const char *only_corpus, kz_train_data *out,
                           kz__corpus_counts **counts, kz_error *err);
/* Same from an already parsed list (tests). */
int kz__train_data_build(const kz__corpus_list *list, const char *split, const kz_wordpiece *tok,
                         uint32_t max_len, uint32_t stride, const char *only_corpus, kz_train_data *out,
                         kz__corpus_counts **counts, kz_error *err);

#endif
