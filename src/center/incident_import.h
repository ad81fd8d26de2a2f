/* incident_import.h - reading records of the information-sharing system (incident reports,
 * alerts/advisories, ministry information) from JSON without an HTTP request.
 *
 * POST /api/v1/incidents, POST /api/v1/alerts and the NDJSON bulk import
 * (POST /api/v1/incidents/import, docs/incidents.md) share these parsers; they live in
 * api_incidents.c. Nothing here touches the store: the names a record uses (members,
 * sectors, organizations) are resolved through callbacks, and who writes is a principal
 * plus its member scope, so a fuzzer (fuzz/fuzz_incident_import.c) drives the same code
 * as the server.
 *
 * Errors: a refused record writes `{"error":"line N: reason"}` with a 4xx status into
 * the response given (nothing else of it is used) and the call returns -1.
 *
 * Memory: every string of a parsed record points into the import's arena (or into the
 * principal, for `actor`); cw_inc_import_release() frees them all at once. */
#ifndef CW_CENTER_INCIDENT_IMPORT_H
#define CW_CENTER_INCIDENT_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "center/http.h"
#include "center/store_incidents.h"
#include "common/arena.h"
#include "common/json.h"

#define CW_INC_IMPORT_MAX_LINES 200000
#define CW_INC_LINE_TOKENS 128

/* Who writes the records, and how names become ids. Each lookup returns 0 and the id,
 * or -1 for a name that does not exist. */
struct cw_inc_writer {
    const struct cw_principal *who;
    uint32_t scope; /* 0 = every member (coordinator roles), else the caller's member */
    int (*member)(void *ctx, const char *ref, uint32_t *id);
    int (*sector)(void *ctx, const char *code, int64_t *id);
    int (*org)(void *ctx, const char *ref, int64_t *id);
    void *ctx;
};

/* The records of one import, in file order per kind. */
struct cw_inc_import {
    struct cw_arena arena;
    struct cw_incident_new *inc;
    struct cw_item_new *items;
    size_t ninc, nitems, records;
    size_t *inc_line, *item_line; /* the line each record came from */
    size_t cap;                   /* lines the arrays hold */
    jsmntok_t tok[CW_INC_LINE_TOKENS];
};

/* Room for `lines` records. 0, or -1 out of memory (release it anyway). */
int cw_inc_import_init(struct cw_inc_import *im, size_t lines);
void cw_inc_import_release(struct cw_inc_import *im);

/* One line (without its newline; n > 0) numbered `line`: an incident (type absent or
 * "incident") or an item ("alert", "advisory", "ministry_info"), appended to im. */
int cw_inc_import_line(const struct cw_inc_writer *w, struct cw_inc_import *im, const char *s,
                       size_t n, size_t line, struct cw_http_response *resp);

/* A whole NDJSON body: counts its lines (at most CW_INC_IMPORT_MAX_LINES, else 413),
 * initialises im and reads every non-empty line (trailing CR and spaces ignored). All or
 * nothing: the first bad line is the error. A body with no record is 400. Release im
 * whatever it returns. */
int cw_inc_import_parse(const struct cw_inc_writer *w, const char *body, size_t len,
                        struct cw_inc_import *im, struct cw_http_response *resp);

#endif
