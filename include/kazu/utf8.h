/* UTF-8 validation and byte <-> code-point offset conversion.
 * The library works in byte offsets; Kazu JSON, PubTator, BioC, brat and
 * Label Studio count code points (Python string indices). */
#ifndef KAZU_UTF8_H
#define KAZU_UTF8_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Validate UTF-8 (rejects overlongs, surrogates, > U+10FFFF). Returns true
 * if valid; else false and *bad_offset (may be NULL) = first invalid byte. */
KZ_API bool kz_utf8_valid(const char *s, size_t len, size_t *bad_offset);
/* Number of code points in valid UTF-8. */
KZ_API size_t kz_utf8_count(const char *s, size_t len);
/* Decode one code point at s[*i] (advancing *i); returns -1 on invalid input
 * (advancing by one byte). */
KZ_API int32_t kz_utf8_decode(const char *s, size_t len, size_t *i);
/* Encode cp into out (>= 4 bytes); returns bytes written, 0 if cp invalid. */
KZ_API size_t kz_utf8_encode(uint32_t cp, char *out);
/* True if byte offset off is on a code-point boundary (0 and len are). */
KZ_API bool kz_utf8_is_boundary(const char *s, size_t len, size_t off);

/* Offset map over one text: O(1)-ish conversions both ways via checkpoints
 * every 64 code points. Allocated from the given arena (lifetime = arena). */
typedef struct kz_offset_map kz_offset_map;
KZ_API kz_offset_map *kz_offset_map_new(kz_arena *a, const char *s, size_t len);
/* Byte offset -> code-point index. off must be a boundary <= len. */
KZ_API int64_t kz_offset_map_to_cp(const kz_offset_map *m, int64_t byte_off);
/* Code-point index -> byte offset; -1 if cp > number of code points. */
KZ_API int64_t kz_offset_map_to_byte(const kz_offset_map *m, int64_t cp);
/* Number of code points in the mapped text. */
KZ_API int64_t kz_offset_map_cp_len(const kz_offset_map *m);

#ifdef __cplusplus
}
#endif
#endif
