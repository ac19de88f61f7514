/* Configuration: one human-editable YAML format (libyaml) parsed into a small
 * read-only tree of map / sequence / scalar nodes that remember their place. */
#ifndef KAZU_CONFIG_H
#define KAZU_CONFIG_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A loaded configuration; owns every node reachable from kz_config_root.
 * Immutable after loading, so any number of threads may read it at once. */
typedef struct kz_config kz_config;
/* A node of the tree; borrowed, valid until kz_config_free. */
typedef struct kz_config_node kz_config_node;

typedef enum kz_config_type {
    KZ_CONFIG_NULL = 0,   /* plain `~`, `null`, `Null`, `NULL` or an empty value */
    KZ_CONFIG_SCALAR = 1, /* any other scalar (quoted "null" is a scalar) */
    KZ_CONFIG_MAP = 2,    /* keys are unique scalars; insertion order kept */
    KZ_CONFIG_SEQ = 3
} kz_config_type;

/* Limits that make loading untrusted text safe. Aliases (*name) are always
 * refused, so a "billion laughs" document cannot expand. */
typedef struct kz_config_params {
    size_t max_bytes;   /* whole text; default 4 MiB */
    size_t max_nodes;   /* default 100000 */
    uint32_t max_depth; /* nesting of maps/sequences; default 64 */
} kz_config_params;
KZ_API kz_config_params kz_config_default_params(void);

/* Load a YAML file ("-" = stdin). params NULL = defaults. On failure *out is
 * NULL and err names path:line:column (1-based) and the reason: YAML syntax,
 * duplicate key, alias, more than one document, depth/size/node caps, invalid
 * UTF-8. Returns 0, KZ_EIO, KZ_EPARSE, KZ_ELIMIT or KZ_ENOMEM. */
KZ_API int kz_config_load_file(kz_config **out, const char *path, const kz_config_params *params,
                               kz_error *err);
/* Same from memory (copied; need not be NUL-terminated). name labels errors
 * (NULL = "<string>"). */
KZ_API int kz_config_load_string(kz_config **out, const char *text, size_t len, const char *name,
                                 const kz_config_params *params, kz_error *err);
/* NULL is a no-op. */
KZ_API void kz_config_free(kz_config *cfg);

/* Root node (a NULL-type node for an empty document); never NULL for a
 * loaded config. */
KZ_API const kz_config_node *kz_config_root(const kz_config *cfg);

/* ---- nodes (every accessor accepts NULL and then answers "absent") -------- */
KZ_API kz_config_type kz_config_node_type(const kz_config_node *n);
/* Scalar text (NUL-terminated; may hold NUL bytes from "\0" escapes, see
 * len); KZ_STR_NULL for non-scalars. NULL nodes give their literal text. */
KZ_API kz_str kz_config_node_scalar(const kz_config_node *n);
/* Entries of a map or items of a sequence; 0 otherwise. */
KZ_API size_t kz_config_node_len(const kz_config_node *n);
/* i-th item of a sequence, or i-th value of a map; NULL if out of range. */
KZ_API const kz_config_node *kz_config_node_at(const kz_config_node *n, size_t i);
/* i-th key of a map (NUL-terminated); KZ_STR_NULL if not a map or out of range. */
KZ_API kz_str kz_config_node_key_at(const kz_config_node *n, size_t i);
/* 1-based position of the node in the text (0 for NULL). */
KZ_API int64_t kz_config_node_line(const kz_config_node *n);
KZ_API int64_t kz_config_node_column(const kz_config_node *n);
/* Fill err's path/line/column with the node's place (for callers reporting
 * their own errors about a node). */
KZ_API void kz_config_locate(const kz_config_node *n, kz_error *err);

/* Value for key in a map; NULL if map is not a map or key is absent. */
KZ_API const kz_config_node *kz_config_get(const kz_config_node *map, const char *key);

/* Refuse keys of map not in allowed[] (catches typos): KZ_ECONFIG naming the
 * first unknown key and its place. map NULL or not a map: 0. */
KZ_API int kz_config_check_keys(const kz_config_node *map, const char *const *allowed, size_t n_allowed,
                                kz_error *err);

/* ---- typed getters ---------------------------------------------------------
 * map[key], converted. An absent key, a NULL map or a null value gives the
 * default. A value of the wrong type or out of [min, max] gives KZ_ECONFIG
 * with the value's line:column and the expected form; *out is then untouched. */
KZ_API int kz_config_get_int(const kz_config_node *map, const char *key, int64_t def, int64_t min,
                             int64_t max, int64_t *out, kz_error *err);
KZ_API int kz_config_get_double(const kz_config_node *map, const char *key, double def, double min,
                                double max, double *out, kz_error *err);
/* true/false (also True/TRUE/False/FALSE); YAML 1.1's yes/no/on/off are
 * refused as ambiguous. */
KZ_API int kz_config_get_bool(const kz_config_node *map, const char *key, bool def, bool *out, kz_error *err);
/* *out borrows the config's text (valid until kz_config_free) or is def. A
 * string with an embedded NUL is refused. */
KZ_API int kz_config_get_string(const kz_config_node *map, const char *key, const char *def, const char **out,
                                kz_error *err);
/* A sequence of strings into out[0..cap); *n = count. Absent/null: def[0..n_def)
 * is copied instead. More than cap items: KZ_ECONFIG. Strings borrowed as above. */
KZ_API int kz_config_get_strings(const kz_config_node *map, const char *key, const char *const *def,
                                 size_t n_def, const char **out, size_t cap, size_t *n, kz_error *err);

#ifdef __cplusplus
}
#endif
#endif
