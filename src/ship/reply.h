/* reply.h - the center's answer to an ingest POST (docs/api.md):
 *   200 {"accepted":N,"rejected":[{"line":i,"reason":"..."}],"duplicate":false}
 *   4xx/5xx {"error":"reason"}
 * The text comes from the network: parsing is strict and bounded, and a malformed
 * answer is an error rather than a guess. */
#ifndef CW_SHIP_REPLY_H
#define CW_SHIP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CW_REPLY_MAX_BYTES (8u << 20)
#define CW_REPLY_KEEP 8 /* rejects kept for logging */

struct cw_reply_reject {
    int64_t line;      /* 1-based line number inside the batch */
    char reason[128];  /* truncated, printable ASCII only */
};

struct cw_ingest_reply {
    int64_t accepted;
    int64_t rejected;  /* entries in "rejected" */
    bool duplicate;
    size_t kept;       /* first CW_REPLY_KEEP rejects */
    struct cw_reply_reject reject[CW_REPLY_KEEP];
};

/* Parse a 200 answer. 0, or -1 with *err a static reason. */
int cw_ingest_reply_parse(const char *body, size_t n, struct cw_ingest_reply *r,
                          const char **err);
/* The "error" string of a 4xx/5xx answer into out (printable ASCII, truncated);
 * "" when there is none. */
void cw_ingest_reply_error(const char *body, size_t n, char *out, size_t cap);

#endif
