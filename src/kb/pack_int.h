/* The knowledge-base pack's on-disk layout (docs/kb-pack.md), shared by the
 * writer (pack_write.c) and the reader (pack_read.c). Not public API. */
#ifndef KZ_PACK_INT_H
#define KZ_PACK_INT_H

#include "kb_int.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the kb pack reader/writer map little-endian records directly; add byte swapping for this host"
#endif

#define KZ_PACK_MAGIC         "KAZUKBP\x1a" /* 8 bytes, no NUL */
#define KZ_PACK_HEADER_BYTES  512u
#define KZ_PACK_ALIGN         64u
#define KZ_PACK_MAX_SECTIONS  64u
#define KZ_PACK_NAME_BYTES    128u /* kb name field, NUL-terminated inside */
#define KZ_PACK_BUILTBY_BYTES 64u
#define KZ_PACK_NULL          0xFFFFFFFFu /* string ref of an absent string (Kazu None) */
#define KZ_PACK_ANY_CLASS     0xFFFFu     /* key-index class of the every-class union entries */
#define KZ_PACK_MAX_PARSERS   0xFFFEu
/* A candidate view may materialise at most this many (idx, source) pairs, so a
 * corrupt pack cannot make kz_kb_candidate_at allocate quadratically. */
#define KZ_PACK_MAX_VIEW_IDS (1u << 20)

/* Section tags (KZ_KB_TAG order: first byte lowest). */
#define KZ_SEC_STRS KZ_KB_TAG('S', 'T', 'R', 'S') /* string bytes, each NUL-terminated */
#define KZ_SEC_LIST KZ_KB_TAG('L', 'I', 'S', 'T') /* u32 lists [n, item...] shared by every record */
#define KZ_SEC_CLAS KZ_KB_TAG('C', 'L', 'A', 'S') /* u32 string ref per entity class, sorted */
#define KZ_SEC_PARS KZ_KB_TAG('P', 'A', 'R', 'S') /* kz_pack_parser[] */
#define KZ_SEC_IDS  KZ_KB_TAG('I', 'D', 'S', '_') /* kz_pack_id[] */
#define KZ_SEC_ISET KZ_KB_TAG('I', 'S', 'E', 'T') /* u32 LIST ref per id set: [2n, idx, source, ...] */
#define KZ_SEC_CAND KZ_KB_TAG('C', 'A', 'N', 'D') /* kz_pack_cand[] */
#define KZ_SEC_RSRC KZ_KB_TAG('R', 'S', 'R', 'C') /* kz_pack_res[] */
#define KZ_SEC_KEYS KZ_KB_TAG('K', 'E', 'Y', 'S') /* kz_pack_key[] open-addressing table */

/* String refs are byte offsets into STRS (the string runs to its NUL); list
 * refs are u32 indices into LIST where the list's length n comes first and
 * its n items follow. LIST[0] = 0 is the empty list. */
typedef struct kz_pack_header {
    char magic[8];                        /* 0   KZ_PACK_MAGIC */
    uint32_t version;                     /* 8   KZ_KB_FORMAT_VERSION */
    uint32_t header_bytes;                /* 12  KZ_PACK_HEADER_BYTES */
    uint64_t flags;                       /* 16  0 in version 1 */
    uint64_t file_bytes;                  /* 24  whole file */
    uint64_t header_sum;                  /* 32  kz__pack_header_sum */
    uint32_t n_sections;                  /* 40 */
    uint32_t section_entry_bytes;         /* 44  sizeof(kz_pack_section) */
    uint64_t table_offset;                /* 48  == header_bytes */
    uint64_t reserved0;                   /* 56 */
    uint8_t input_hash[32];               /* 64 */
    uint8_t body_hash[32];                /* 96  SHA-256 of bytes [header_bytes, file_bytes) */
    char name[KZ_PACK_NAME_BYTES];        /* 128 */
    char built_by[KZ_PACK_BUILTBY_BYTES]; /* 256 */
    uint8_t reserved[192];                /* 320 */
} kz_pack_header;

typedef struct kz_pack_section {
    uint32_t tag;
    uint32_t aux;    /* KEYS: number of (class, key) entries; 0 otherwise */
    uint64_t offset; /* from the start of the file, multiple of KZ_PACK_ALIGN */
    uint64_t size;   /* bytes */
    uint64_t count;  /* records (STRS: distinct strings; KEYS: slots) */
} kz_pack_section;

typedef struct kz_pack_parser {
    uint32_t name, entity_class, source, data_origin; /* string refs */
    uint32_t class_idx;                               /* into CLAS */
    uint32_t reserved[3];
} kz_pack_parser;

typedef struct kz_pack_id {
    uint32_t parser;
    uint32_t idx, default_label, source; /* string refs */
    uint32_t xrefs;                      /* list ref: string refs */
    uint32_t metadata_json;              /* string ref or KZ_PACK_NULL */
} kz_pack_id;

enum { KZ_PACK_CAND_SYMBOLIC = 1u };
typedef struct kz_pack_cand {
    uint16_t parser;
    uint8_t flags, aggregated_by;
    uint32_t synonym_norm;  /* string ref */
    uint32_t raw;           /* list ref: string refs */
    uint32_t mapping_types; /* list ref: string refs */
    uint32_t id_sets;       /* list ref: indices into ISET */
} kz_pack_cand;

enum { KZ_PACK_RES_CASE_SENSITIVE = 1u, KZ_PACK_RES_GENERATED = 2u };
typedef struct kz_pack_res {
    uint32_t text;      /* string ref */
    uint32_t candidate; /* index into CAND */
    uint8_t flags, mention_confidence, behaviour, reserved;
} kz_pack_res;

/* One slot of the key index (linear probing from hash & (slots - 1)). Empty
 * slots have synonym_norm == KZ_PACK_NULL. tag = hash >> 32 with hash =
 * kz__pack_hash64(norm, 0). n == 1: cands is the candidate index itself;
 * n > 1: cands is a list ref of n candidate indices, ascending. */
typedef struct kz_pack_key {
    uint32_t tag;
    uint32_t synonym_norm; /* string ref */
    uint32_t cands;
    uint16_t class_idx; /* into CLAS, or KZ_PACK_ANY_CLASS */
    uint16_t n;
} kz_pack_key;

_Static_assert(sizeof(kz_pack_header) == KZ_PACK_HEADER_BYTES, "header layout");
_Static_assert(sizeof(kz_pack_section) == 32, "section entry layout");
_Static_assert(sizeof(kz_pack_parser) == 32, "parser layout");
_Static_assert(sizeof(kz_pack_id) == 24, "id layout");
_Static_assert(sizeof(kz_pack_cand) == 20, "candidate layout");
_Static_assert(sizeof(kz_pack_res) == 12, "resource layout");
_Static_assert(sizeof(kz_pack_key) == 16, "key layout");

/* 64-bit hash of the key bytes (platform independent; stored in the pack). */
uint64_t kz__pack_hash64(const void *data, size_t len, uint64_t seed);
/* Checksum of the header (minus its header_sum field) and the section table.
 * buf holds at least KZ_PACK_HEADER_BYTES + n_sections * 32 bytes. */
uint64_t kz__pack_header_sum(const uint8_t *buf, uint32_t n_sections);
/* Recompute and store the header checksum of a pack image in place, if the
 * header is long enough to hold one (fuzzing helper: lets mutated inputs reach
 * the section checks). */
void kz__pack_fix_header_sum(uint8_t *buf, size_t len);

/* Open a pack from bytes (copied into an aligned private buffer). Same
 * validation and errors as kz_kb_open; path is only for messages. */
int kz__kb_open_mem(const void *data, size_t len, const char *path, kz_kb **out, kz_error *err);

#endif
