/* notify_webhook.h - the webhook delivery worker of notices (docs/notices.md).
 *
 * One thread per center reads the outbox (notice_deliveries, written in the notice's
 * transaction) every 200 ms and POSTs each due job to the member's webhook with an
 * HMAC-SHA256 signature. Deliveries never run on an HTTP worker or the owner's loop,
 * so a slow or dead receiver never delays ingest. A failed attempt is retried with
 * exponential backoff (1 s doubling, capped at 1 h) up to 12 attempts, then the job is
 * "failed". Delivery is at least once: a crash between a receiver's 2xx and the
 * store's commit sends it again with the same X-Crosswatch-Delivery id. */
#ifndef CW_CENTER_NOTIFY_WEBHOOK_H
#define CW_CENTER_NOTIFY_WEBHOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "center/store.h"

#define CW_WEBHOOK_MAX_ATTEMPTS 12
#define CW_WEBHOOK_BACKOFF_BASE_MS 1000
#define CW_WEBHOOK_BACKOFF_CAP_MS (3600 * 1000)
#define CW_WEBHOOK_CONNECT_TIMEOUT_MS 3000
#define CW_WEBHOOK_TIMEOUT_MS 10000

struct cw_notifier;

/* Start the worker (call once the store is open, from the main thread: it
 * initialises libcurl). NULL with a message on failure.
 * A member admin chooses its webhook URL, so the worker refuses to connect to
 * loopback, private, link-local (cloud metadata), multicast and reserved addresses
 * unless allow_private is set ([serve] webhook_allow_private): the check is made on
 * the address actually connected to, after name resolution, so DNS tricks do not
 * get around it. */
struct cw_notifier *cw_notifier_start(struct cw_store *s, bool allow_private, char *err,
                                      size_t errlen);
/* Is this address one a webhook may not reach (see above)? */
bool cw_webhook_addr_forbidden(const struct sockaddr *sa);
/* Stop it: an attempt in flight is aborted (and retried after the next start). */
void cw_notifier_stop(struct cw_notifier *n);

/* Delay before the next attempt after `attempts` failed ones (>= 1). */
int64_t cw_webhook_backoff_ms(int attempts);
/* "sha256=" + hex HMAC-SHA256 of body with key into out (>= 72 bytes). */
void cw_webhook_sign(const char *key, size_t keylen, const char *body, size_t len, char *out);

#endif
