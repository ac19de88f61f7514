/* Internal layout of the matcher blob (docs/match.md): a 128-byte header and
 * five arrays at 64-byte-aligned offsets; plus the in-memory matcher. */
#ifndef KZ_MATCH_INT_H
#define KZ_MATCH_INT_H

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include "kazu/match.h"

#define KZ__AC_BYTE_ORDER   0x01020304u
#define KZ__AC_HEADER_BYTES 128u
/* Zero bytes after the tails, so 8-byte loads of a tail never leave the area. */
#define KZ__AC_TAIL_PAD 16u

typedef struct kz__ac_header {
    uint32_t magic;         /* KZ_MATCH_MAGIC */
    uint32_t version;       /* KZ_MATCH_FORMAT_VERSION */
    uint32_t byte_order;    /* KZ__AC_BYTE_ORDER as written by the host */
    uint32_t header_bytes;  /* KZ__AC_HEADER_BYTES */
    uint32_t n_keys;        /* distinct folded strings */
    uint32_t n_recs;        /* pattern records */
    uint32_t max_key_bytes; /* <= KZ_MATCH_MAX_PATTERN */
    uint32_t n_states;      /* states of the equivalent byte trie (the full scan's automaton) */
    uint32_t n_units;       /* double-array units, a multiple of 256; unit 0 is the root */
    uint32_t reserved0;
    uint64_t total_bytes; /* whole blob */
    uint64_t tail_bytes;  /* tail area, KZ__AC_TAIL_PAD zero bytes included */
    uint64_t pool_bytes;  /* original bytes of case-sensitive patterns, with their lengths */
    /* array offsets from the blob start */
    uint64_t off_units; /* kz__ac_unit[n_units] */
    uint64_t off_tail;  /* u8[tail_bytes] */
    uint64_t off_recs;  /* kz__ac_rec[n_recs] */
    uint64_t off_pool;  /* u8[pool_bytes] */
    uint64_t off_root2; /* kz__ac_root2[128 * 128]: the first two ASCII bytes at once; 0: none */
    uint8_t reserved[24];
} kz__ac_header;

/* The trie over the folded key bytes (a text or key byte 0x00 is folded to 0xff,
 * which no UTF-8 has, so label 0 is free for key markers) as a double array:
 * the child of unit s for byte c is unit t = base(s) ^ c, valid iff
 * units[t].check == s. base holds flags:
 *   KZ__U_TAIL  s is a leaf: the low 31 bits are the offset of its tail record
 *               {u8 len (255: a u16 length follows), bytes[len], u32 rec} in the
 *               tail area; the key is matched iff the text goes on with bytes
 *   KZ__U_KEY   a key ends at s: the base of unit base(s) ^ 0 (whose check is s)
 *               is its rec
 * A key's rec is the index of its first pattern record; its records run to
 * the one flagged KZ__REC_LAST.
 * Unused units have check 0xffffffff; the root's check is too. All fields are
 * host-endian except a tail record's (little-endian, unaligned). */
typedef struct kz__ac_unit {
    uint32_t base;
    uint32_t check;
} kz__ac_unit;

#define KZ__U_TAIL  0x80000000u
#define KZ__U_KEY   0x40000000u
#define KZ__U_BASE  0x3fffffffu
#define KZ__U_EMPTY 0xffffffffu

/* For folded ASCII bytes c0, c1, entry c0 | c1 << 7: t1 = the root's child for c0
 * (0: none; bit 31: a key ends at t1), t2 = t1's child for c1 (0: none), or
 * KZ__R2_SLOW when t1 is a tail leaf (walk it the long way). */
typedef struct kz__ac_root2 {
    uint32_t t1, t2;
} kz__ac_root2;

#define KZ__R2_KEY  0x80000000u
#define KZ__R2_SLOW 0xffffffffu

typedef struct kz__ac_rec {
    uint32_t payload;
    uint32_t cs; /* bit 31: the key's last record; bits 0-30: 0 (case-insensitive) or
                    1 + offset in the pool of {u16 length, bytes} */
} kz__ac_rec;

#define KZ__REC_LAST 0x80000000u

_Static_assert(sizeof(kz__ac_header) == KZ__AC_HEADER_BYTES, "header size");

static inline uint32_t kz__rd32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap32(v);
#endif
    return v;
}

static inline uint64_t kz__rd64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

/* The Aho-Corasick automaton over the same keys, built in memory on demand
 * (ac_scan.c) for kz_matcher_scan. */
typedef struct kz__ac kz__ac;
void kz__ac_free(kz__ac *a);

struct kz_matcher {
    const kz__ac_unit *units;
    const kz__ac_root2 *root2;
    const uint8_t *tail, *pool;
    const kz__ac_rec *recs;
    uint64_t tail_end; /* tail_bytes - KZ__AC_TAIL_PAD */
    uint64_t pool_bytes, total;
    uint32_t n_keys, n_recs, max_key, n_states, n_units;
    /* the failure automaton, built by the first full scan */
    pthread_mutex_t lock;
    kz__ac *ac;
    int ac_rc;
};

/* The tail record at offset off: its bytes and rec; false if it does not lie
 * wholly inside the tail area. */
static inline bool kz__tail_at(const kz_matcher *m, uint64_t off, const uint8_t **bytes, uint32_t *len,
                               uint32_t *rec) {
    if (off >= m->tail_end) return false;
    const uint8_t *p = m->tail + off;
    uint32_t l = p[0], q = 1;
    if (l == 255) l = p[1] | (uint32_t)p[2] << 8, q = 3; /* p[1], p[2] are in the padding at worst */
    if (off + q + l + 4 > m->tail_end) return false;
    *bytes = p + q;
    *len = l;
    *rec = kz__rd32(p + q + l);
    return true;
}

/* Report the records of the key whose first record is rec for the hit
 * [start, end) of text (case-sensitive ones only if the bytes equal); every
 * index is checked. */
int kz__match_report(const kz_matcher *m, uint32_t rec, const char *text, size_t start, size_t end,
                     kz_match_fn fn, void *user);

#endif
