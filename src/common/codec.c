#include "common/codec.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>
#include <stdint.h>

#include "common/banned.h"

enum cw_encoding cw_encoding_from_header(const char *v)
{
    if (!v || !*v || strcasecmp(v, "identity") == 0)
        return CW_ENC_IDENTITY;
    if (strcasecmp(v, "gzip") == 0 || strcasecmp(v, "x-gzip") == 0)
        return CW_ENC_GZIP;
    if (strcasecmp(v, "zstd") == 0)
        return CW_ENC_ZSTD;
    return CW_ENC_UNKNOWN;
}

const char *cw_encoding_name(enum cw_encoding e)
{
    switch (e) {
    case CW_ENC_IDENTITY: return "identity";
    case CW_ENC_GZIP: return "gzip";
    case CW_ENC_ZSTD: return "zstd";
    default: return "unknown";
    }
}

const char *cw_codec_strerror(int st)
{
    switch (st) {
    case CW_CODEC_OK: return "ok";
    case CW_CODEC_TOO_LARGE: return "decompressed body exceeds the size limit";
    case CW_CODEC_CORRUPT: return "corrupt or truncated compressed body";
    case CW_CODEC_NOMEM: return "out of memory";
    default: return "unknown codec error";
    }
}

static int grow(char **buf, size_t *cap, size_t need, size_t max_out)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 64 * 1024;
    while (nc < need)
        nc *= 2;
    if (nc > max_out + 1)
        nc = max_out + 1;
    if (nc < need)
        return CW_CODEC_TOO_LARGE;
    char *n = realloc(*buf, nc);
    if (!n)
        return CW_CODEC_NOMEM;
    *buf = n;
    *cap = nc;
    return 0;
}

static int gunzip(const void *in, size_t n, size_t max_out, char **out, size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    if (inflateInit2(&z, 15 + 32) != Z_OK) /* +32: gzip or zlib header */
        return CW_CODEC_NOMEM;
    char *buf = NULL;
    size_t cap = 0, len = 0;
    int st = CW_CODEC_OK;
    z.next_in = (Bytef *)(uintptr_t)in;
    size_t left = n;
    for (;;) {
        if (z.avail_in == 0 && left) {
            z.avail_in = left > 1u << 30 ? 1u << 30 : (uInt)left;
            left -= z.avail_in;
        }
        if ((st = grow(&buf, &cap, len + 64 * 1024 > max_out + 1 ? max_out + 1 : len + 64 * 1024,
                       max_out)) != 0)
            break;
        if (len >= max_out + 1 || cap <= len) {
            st = CW_CODEC_TOO_LARGE;
            break;
        }
        z.next_out = (Bytef *)buf + len;
        size_t room = cap - len;
        z.avail_out = room > 1u << 30 ? 1u << 30 : (uInt)room;
        int r = inflate(&z, Z_NO_FLUSH);
        len = (size_t)((char *)z.next_out - buf);
        if (len > max_out) {
            st = CW_CODEC_TOO_LARGE;
            break;
        }
        if (r == Z_STREAM_END) {
            /* concatenated gzip members (as `cat a.gz b.gz` makes) are one body */
            if (z.avail_in == 0 && left == 0)
                break;
            if (inflateReset(&z) != Z_OK) {
                st = CW_CODEC_CORRUPT;
                break;
            }
            continue;
        }
        if (r == Z_BUF_ERROR && z.avail_in == 0 && left == 0) {
            st = CW_CODEC_CORRUPT; /* input ended before the stream did */
            break;
        }
        if (r != Z_OK && r != Z_BUF_ERROR) {
            st = r == Z_MEM_ERROR ? CW_CODEC_NOMEM : CW_CODEC_CORRUPT;
            break;
        }
    }
    inflateEnd(&z);
    if (st) {
        free(buf);
        return st;
    }
    if (grow(&buf, &cap, len + 1, max_out + 1)) {
        free(buf);
        return CW_CODEC_NOMEM;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return CW_CODEC_OK;
}

static int unzstd(const void *in, size_t n, size_t max_out, char **out, size_t *out_len)
{
    ZSTD_DCtx *dc = ZSTD_createDCtx();
    if (!dc)
        return CW_CODEC_NOMEM;
    /* refuse frames that ask for a huge window: bounds decoder memory */
    ZSTD_DCtx_setParameter(dc, ZSTD_d_windowLogMax, 27);
    char *buf = NULL;
    size_t cap = 0, len = 0;
    int st = CW_CODEC_OK;
    ZSTD_inBuffer ib = {in, n, 0};
    size_t last = 1;
    while (ib.pos < ib.size || last != 0) {
        size_t want = len + 64 * 1024;
        if (want > max_out + 1)
            want = max_out + 1;
        if ((st = grow(&buf, &cap, want, max_out)) != 0)
            break;
        if (cap <= len) {
            st = CW_CODEC_TOO_LARGE;
            break;
        }
        ZSTD_outBuffer ob = {buf + len, cap - len, 0};
        size_t before_in = ib.pos;
        last = ZSTD_decompressStream(dc, &ob, &ib);
        if (ZSTD_isError(last)) {
            st = ZSTD_getErrorCode(last) == ZSTD_error_memory_allocation ? CW_CODEC_NOMEM
                                                                         : CW_CODEC_CORRUPT;
            break;
        }
        len += ob.pos;
        if (len > max_out) {
            st = CW_CODEC_TOO_LARGE;
            break;
        }
        if (ib.pos == ib.size && ob.pos == 0 && before_in == ib.pos && last != 0) {
            st = CW_CODEC_CORRUPT; /* truncated: decoder wants input we do not have */
            break;
        }
    }
    ZSTD_freeDCtx(dc);
    if (st) {
        free(buf);
        return st;
    }
    if (grow(&buf, &cap, len + 1, max_out + 1)) {
        free(buf);
        return CW_CODEC_NOMEM;
    }
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    return CW_CODEC_OK;
}

int cw_decompress(enum cw_encoding e, const void *in, size_t n, size_t max_out, char **out,
                  size_t *out_len)
{
    switch (e) {
    case CW_ENC_GZIP: return gunzip(in, n, max_out, out, out_len);
    case CW_ENC_ZSTD: return unzstd(in, n, max_out, out, out_len);
    case CW_ENC_IDENTITY: {
        if (n > max_out)
            return CW_CODEC_TOO_LARGE;
        char *b = malloc(n + 1);
        if (!b)
            return CW_CODEC_NOMEM;
        memcpy(b, in, n);
        b[n] = '\0';
        *out = b;
        *out_len = n;
        return CW_CODEC_OK;
    }
    default: return CW_CODEC_CORRUPT;
    }
}

int cw_zstd_compress(const void *in, size_t n, int level, char **out, size_t *out_len)
{
    size_t cap = ZSTD_compressBound(n);
    char *b = malloc(cap);
    if (!b)
        return CW_CODEC_NOMEM;
    size_t r = ZSTD_compress(b, cap, in, n, level);
    if (ZSTD_isError(r)) {
        free(b);
        return CW_CODEC_NOMEM;
    }
    *out = b;
    *out_len = r;
    return CW_CODEC_OK;
}
