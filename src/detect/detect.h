/* detect.h - the detection stage: records in, detections out.
 *
 * A detection is a record plus a rule reference (id, name, attack class, severity).
 * Several detectors feed this one stage, each registered in detect.c:
 *   - IDS alerts (Suricata EVE "alert" records are detections as they are);
 *   - the Sigma engine (src/detect/sigma_*.c);
 *   - indicator matching (later);
 *   - threat flags on DNS telemetry (src/detect/dns_flags.c: DGA, tunnelling,
 *     newly observed domains, answers in bad ranges) - the one detector with state.
 * Each detector appends to a struct cw_detections. Rule names and products are
 * borrowed: they point into the record batch or into the detector's compiled rule
 * set, which must outlive the
 * detections (the caller holds a reference on the rule set for the batch).
 *
 * Thread-safety: detectors keep no per-call mutable state; one rule set may be
 * used by many threads at once. */
#ifndef CW_DETECT_DETECT_H
#define CW_DETECT_DETECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/record.h"
#include "detect/attack.h"

/* CW_DET_DNS: threat flags on DNS telemetry (detect/dns_flags.h) */
enum cw_det_source { CW_DET_IDS = 1, CW_DET_SIGMA = 2, CW_DET_IOC = 3, CW_DET_DNS = 4 };

/* 1 = critical, 2 = high, 3 = medium, 4 = low, 5 = informational */
enum cw_severity {
    CW_SEV_CRITICAL = 1,
    CW_SEV_HIGH = 2,
    CW_SEV_MEDIUM = 3,
    CW_SEV_LOW = 4,
    CW_SEV_INFO = 5,
};

struct cw_detection {
    uint32_t rec;          /* index of the record in its batch */
    uint8_t attack_class;  /* enum cw_attack_class */
    uint8_t severity;      /* enum cw_severity */
    uint8_t source;        /* enum cw_det_source */
    uint8_t noise;         /* enum cw_noise_reason, set by the noise stage (0 = kept) */
    uint16_t rule_name_len, product_len;
    char rule_id[48];      /* "sid:1:2049103", a Sigma rule UUID, "ioc:123" (NUL-terminated) */
    const char *rule_name;
    const char *product;   /* product the attack targets, e.g. "ivanti_connect_secure"; NULL = any */
};

struct cw_detections {
    struct cw_detection *d;
    uint32_t n, cap;
};

void cw_detections_init(struct cw_detections *ds);
void cw_detections_release(struct cw_detections *ds);
void cw_detections_clear(struct cw_detections *ds);
/* Append (copying the struct). Returns 0 or -1 on allocation failure. */
int cw_detections_add(struct cw_detections *ds, const struct cw_detection *d);

/* A detector: appends the detections it finds in b. ctx is the detector's compiled
 * state (rule set), read-only here. Returns 0 or -1 (allocation failure). */
typedef int (*cw_detector_fn)(const void *ctx, const struct cw_batch *b,
                              struct cw_detections *out);

/* The IDS-alert detector (ctx unused). */
int cw_detect_ids_alerts(const void *ctx, const struct cw_batch *b, struct cw_detections *out);

#endif
