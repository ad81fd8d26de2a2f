/* codec.h - content encodings of ingest bodies and spool segments.
 *
 * Decompression is bounded: a body that would expand past max_out is refused with
 * CW_CODEC_TOO_LARGE (a gzip/zstd bomb costs at most max_out bytes of memory), and a
 * truncated or corrupt stream is CW_CODEC_CORRUPT. Output is heap memory owned by
 * the caller (free()), NUL-terminated for convenience (the NUL is not counted). */
#ifndef CW_COMMON_CODEC_H
#define CW_COMMON_CODEC_H

#include <stddef.h>

enum cw_encoding { CW_ENC_IDENTITY = 0, CW_ENC_GZIP, CW_ENC_ZSTD, CW_ENC_UNKNOWN };

enum cw_codec_status {
    CW_CODEC_OK = 0,
    CW_CODEC_TOO_LARGE = -1,
    CW_CODEC_CORRUPT = -2,
    CW_CODEC_NOMEM = -3,
};

/* Content-Encoding header value (NULL = identity) to an encoding. */
enum cw_encoding cw_encoding_from_header(const char *v);
const char *cw_encoding_name(enum cw_encoding e);
int cw_decompress(enum cw_encoding e, const void *in, size_t n, size_t max_out, char **out,
                  size_t *out_len);
/* zstd-compress into a new heap buffer. Returns CW_CODEC_OK or CW_CODEC_NOMEM. */
int cw_zstd_compress(const void *in, size_t n, int level, char **out, size_t *out_len);
const char *cw_codec_strerror(int status);

#endif
