/* admin_client.h - calling the center's API from `crosswatch admin`. */
#ifndef CW_CLI_ADMIN_CLIENT_H
#define CW_CLI_ADMIN_CLIENT_H

#include <stdbool.h>

#include "common/buf.h"
#include "common/config.h"
#include "common/json.h"

struct client {
    const char *center;
    char token[256];
    bool json;
};

/* One call; body NULL for none. Returns the HTTP status, or 0 when the center could
 * not be reached (message printed). Answer in out; response headers in hdrs if set. */
long admin_api_call(const struct client *cl, const char *method, const char *path,
                    const char *body, struct cw_buf *out, struct cw_buf *hdrs);
/* Print the API's error for a failed call; returns the exit status (1). */
int admin_api_failed(long status, const struct cw_buf *out);
/* Text of a JSON object's field for tables ("-" when absent or null). */
void admin_field(const struct cw_json *j, int obj, const char *key, char *out, size_t cap);
typedef void (*admin_row_fn)(const struct cw_json *j, int obj);
/* Print header then one row per element of the array `key` of the answer. */
int admin_print_list(const struct cw_buf *out, const char *key, const char *header,
                     admin_row_fn fn);
/* Triage, people and notices commands; returns -1 when cmd is not one of them. */
int admin_run_more(struct client *cl, const struct cw_config *cfg, const char **pos,
                   size_t npos);

#endif
