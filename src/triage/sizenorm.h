/* sizenorm.h - what a site normally answers, to spot the answer that is different.
 *
 * A web attack answered 200 may have failed (the site served its usual page) or
 * worked (the answer is the file, the command output, the dump). The size of the
 * response tells them apart often enough to matter: for each (member, host, path)
 * this remembers the response size seen most recently and how many times in a row
 * it was seen. A kept detection answered 2xx whose size differs from a size seen at
 * least `min_seen` times is "more suspicious": its severity goes up one step.
 *
 * Bounded: at most `cap` paths (a full table is cleared and refilled, counted).
 * Not thread-safe: used under the aggregation lock. */
#ifndef CW_TRIAGE_SIZENORM_H
#define CW_TRIAGE_SIZENORM_H

#include <stddef.h>
#include <stdint.h>

#include "common/record.h"
#include "detect/detect.h"

struct cw_sizenorm;

struct cw_sizenorm *cw_sizenorm_new(size_t cap, unsigned min_seen);
void cw_sizenorm_free(struct cw_sizenorm *sn);
/* Learn from every 2xx HTTP answer of the batch (records, not only detections). */
void cw_sizenorm_learn(struct cw_sizenorm *sn, const struct cw_batch *b);
/* Raise the severity of kept 2xx detections whose size differs from the usual one;
 * detail[i] (optional) says so. Call before learning from the same batch. Returns
 * how many were raised. */
size_t cw_sizenorm_flag(const struct cw_sizenorm *sn, const struct cw_batch *b,
                        struct cw_detections *ds, const char **detail);

#endif
