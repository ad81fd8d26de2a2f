#include "common/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"
#include "common/banned.h"

void cw_buf_init(struct cw_buf *b)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}

void cw_buf_release(struct cw_buf *b)
{
    free(b->data);
    cw_buf_init(b);
}

void cw_buf_clear(struct cw_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
    b->oom = false;
}

bool cw_buf_reserve(struct cw_buf *b, size_t extra)
{
    if (b->oom)
        return false;
    if (b->len + extra + 1 <= b->cap)
        return true;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < b->len + extra + 1) {
        if (ncap > SIZE_MAX / 2) {
            b->oom = true;
            return false;
        }
        ncap *= 2;
    }
    char *n = realloc(b->data, ncap);
    if (!n) {
        b->oom = true;
        return false;
    }
    b->data = n;
    b->cap = ncap;
    return true;
}

void cw_buf_add(struct cw_buf *b, const void *p, size_t n)
{
    if (!cw_buf_reserve(b, n))
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void cw_buf_adds(struct cw_buf *b, const char *s) { cw_buf_add(b, s, strlen(s)); }

void cw_buf_addc(struct cw_buf *b, char c)
{
    if (!cw_buf_reserve(b, 1))
        return;
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void cw_buf_vaddf(struct cw_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0 || !cw_buf_reserve(b, (size_t)n))
        return;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void cw_buf_addf(struct cw_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    cw_buf_vaddf(b, fmt, ap);
    va_end(ap);
}

void cw_buf_add_u64(struct cw_buf *b, uint64_t v)
{
    char tmp[24];
    int i = 24;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    cw_buf_add(b, tmp + i, (size_t)(24 - i));
}

void cw_buf_add_i64(struct cw_buf *b, int64_t v)
{
    if (v < 0) {
        cw_buf_addc(b, '-');
        cw_buf_add_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        cw_buf_add_u64(b, (uint64_t)v);
    }
}

static const char hexdig[] = "0123456789abcdef";

void cw_buf_add_json_str(struct cw_buf *b, const char *s, size_t n)
{
    /* worst case every byte becomes \u00XX */
    if (!cw_buf_reserve(b, n * 6 + 2))
        return;
    char *o = b->data + b->len;
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    *o++ = '"';
    while (p < end) {
        /* copy a run of bytes that need no escaping with one memcpy */
        const unsigned char *run = p;
        while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\')
            p++;
        if (p > run) {
            memcpy(o, run, (size_t)(p - run));
            o += p - run;
            if (p == end)
                break;
        }
        unsigned char c = *p;
        if (c >= 0x80) {
            size_t k = cw_utf8_valid_prefix(p, (size_t)(end - p));
            if (k) {
                memcpy(o, p, k);
                o += k;
                p += k;
                continue;
            }
        }
        *o++ = '\\';
        switch (c) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '\n': *o++ = 'n'; break;
        case '\r': *o++ = 'r'; break;
        case '\t': *o++ = 't'; break;
        default:
            *o++ = 'u';
            *o++ = '0';
            *o++ = '0';
            *o++ = hexdig[c >> 4];
            *o++ = hexdig[c & 15];
        }
        p++;
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    b->data[b->len] = '\0';
}

char *cw_buf_detach(struct cw_buf *b, size_t *len)
{
    char *d = b->data;
    if (len)
        *len = b->len;
    if (!d) {
        d = malloc(1);
        if (d)
            d[0] = '\0';
    }
    cw_buf_init(b);
    return d;
}
