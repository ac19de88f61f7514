/* Internal layout of the matcher blob (docs/match.md): a 128-byte header and
 * six arrays, each at a 64-byte-aligned offset from the blob start. */
#ifndef KZ_MATCH_INT_H
#define KZ_MATCH_INT_H

#include <stdint.h>
#include "kazu/match.h"

#define KZ__AC_BYTE_ORDER   0x01020304u
#define KZ__AC_HEADER_BYTES 128u

typedef struct kz__ac_header {
    uint32_t magic;         /* KZ_MATCH_MAGIC */
    uint32_t version;       /* KZ_MATCH_FORMAT_VERSION */
    uint32_t byte_order;    /* KZ__AC_BYTE_ORDER as written by the host */
    uint32_t header_bytes;  /* KZ__AC_HEADER_BYTES */
    uint32_t n_states;      /* >= 1; state 0 is the root */
    uint32_t n_keys;        /* distinct folded strings */
    uint32_t n_recs;        /* pattern records */
    uint32_t max_key_bytes; /* <= KZ_MATCH_MAX_PATTERN */
    uint64_t total_bytes;   /* whole blob */
    uint64_t pool_bytes;    /* original bytes of case-sensitive patterns */
    /* array offsets from the blob start */
    uint64_t off_root;   /* u32[256]: goto from the root (0 = stay at root) */
    uint64_t off_states; /* kz__ac_state[n_states + 1] (the last one only holds kids = n_states) */
    uint64_t off_label;  /* u8[n_states]: byte on the edge into s (children sorted by it) */
    uint64_t off_keys;   /* kz__ac_key[n_keys] */
    uint64_t off_recs;   /* kz__ac_rec[n_recs] */
    uint64_t off_pool;   /* u8[pool_bytes] */
    uint8_t reserved[32];
} kz__ac_header;

/* One record per state so a transition touches one cache line for the state
 * (kids[s + 1] is the next record) and one for its children's labels. */
typedef struct kz__ac_state {
    uint32_t kids; /* children of s are states kids .. states[s + 1].kids - 1 (BFS order) */
    uint32_t fail; /* failure link, < s for every s > 0 */
    uint32_t out;  /* bits 0-30: 1 + longest key ending here or on the failure chain, 0 none;
                      bit 31 (version 2): that key ends exactly at this state */
} kz__ac_state;

#define KZ__AC_OUT_KEY  0x7fffffffu
#define KZ__AC_OUT_HERE 0x80000000u

typedef struct kz__ac_key {
    uint32_t rec_start, rec_count; /* records of this key */
    uint32_t cp_len;               /* code points of the key (= of every hit) */
    uint32_t next;                 /* 1 + next shorter key on the failure chain, 0 none */
} kz__ac_key;

typedef struct kz__ac_rec {
    uint32_t payload;
    uint32_t case_sensitive; /* 1: hit bytes must equal pool[pool_off .. +pool_len) */
    uint32_t pool_off, pool_len;
} kz__ac_rec;

_Static_assert(sizeof(kz__ac_header) == KZ__AC_HEADER_BYTES, "header size");

#endif
