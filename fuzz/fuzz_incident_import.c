/* fuzz_incident_import.c - the NDJSON bulk import of the information-sharing system
 * (POST /api/v1/incidents/import, cw_inc_import_parse()) on arbitrary bytes, read by a
 * coordinator (what the route allows) and by a member's user (the same parsers serve
 * POST /api/v1/incidents and /alerts). Names resolve through a fixed table instead of
 * the store. Checked on every input:
 *   - a refusal is a 4xx/5xx with {"error":"..."} naming the line when one was at fault;
 *   - an accepted import holds exactly its non-empty lines, each record complete
 *     (title, member or kind, a time), lines in order;
 *   - a member's user never writes for another member, never sets coordinator fields
 *     and never sends an alert. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "center/incident_import.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MEMBER_SCOPE 3u

/* fx-operator-01..10 (the fixture's members) are ids 1..10, plus "acme-power" 11 and
 * the ids themselves */
static int member(void *ctx, const char *ref, uint32_t *id)
{
    (void)ctx;
    if (!strncmp(ref, "fx-operator-", 12) && strlen(ref) == 14 && ref[12] >= '0' &&
        ref[12] <= '1' && ref[13] >= '0' && ref[13] <= '9') {
        *id = (uint32_t)((ref[12] - '0') * 10 + ref[13] - '0');
        return *id >= 1 && *id <= 10 ? 0 : -1;
    }
    if (!strcmp(ref, "acme-power")) {
        *id = 11;
        return 0;
    }
    char *end;
    long v = strtol(ref, &end, 10);
    if (*ref && !*end && v >= 1 && v <= 11) {
        *id = (uint32_t)v;
        return 0;
    }
    return -1;
}

static int sector(void *ctx, const char *code, int64_t *id)
{
    (void)ctx;
    *id = !strcmp(code, "energy") ? 1 : !strcmp(code, "finance") ? 2 : 0;
    return *id ? 0 : -1;
}

static int org(void *ctx, const char *ref, int64_t *id)
{
    (void)ctx;
    *id = !strcmp(ref, "fx-ministry") ? 1 : !strcmp(ref, "energy-ceptoar") ? 2 : 0;
    return *id ? 0 : -1;
}

/* Lines the import must read as records: the parser trims only trailing CR and spaces,
 * so a line is a record when it holds any other byte. */
static size_t nonempty_lines(const uint8_t *d, size_t n)
{
    size_t count = 0;
    bool any = false;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || d[i] == '\n') {
            count += any;
            any = false;
        } else if (d[i] != '\r' && d[i] != ' ') {
            any = true;
        }
    }
    return count;
}

static void check_refusal(const struct cw_http_response *r)
{
    if (r->status < 400 || r->status > 599 || r->body.len < 12 ||
        memcmp(r->body.data, "{\"error\":\"", 10))
        abort();
}

static void check_records(const struct cw_inc_import *im, bool coord, size_t lines)
{
    if (im->ninc + im->nitems != im->records || im->records != lines)
        abort();
    for (size_t i = 0; i < im->ninc; i++) {
        const struct cw_incident_new *n = &im->inc[i];
        if (!n->title || !*n->title || !n->member_id || !n->reported_us || !n->actor ||
            (i && im->inc_line[i] <= im->inc_line[i - 1]))
            abort();
        if (!coord && (n->member_id != MEMBER_SCOPE || n->ref || n->attack))
            abort();
    }
    for (size_t i = 0; i < im->nitems; i++) {
        const struct cw_item_new *n = &im->items[i];
        if (!coord || !n->title || !n->sent_us || !n->kind ||
            (strcmp(n->kind, "alert") && strcmp(n->kind, "advisory") &&
             strcmp(n->kind, "ministry_info")) ||
            (!strcmp(n->kind, "ministry_info") && (!n->org_id || n->nsectors)) ||
            (i && im->item_line[i] <= im->item_line[i - 1]))
            abort();
    }
}

static void run(const struct cw_principal *who, uint32_t scope, const uint8_t *data, size_t size)
{
    struct cw_inc_writer w = {who, scope, member, sector, org, NULL};
    struct cw_http_response r = {0};
    struct cw_inc_import *im = malloc(sizeof(*im));
    if (!im)
        abort();
    bool coord = who->role == CW_ROLE_COORD_ADMIN;
    if (cw_inc_import_parse(&w, (const char *)data, size, im, &r))
        check_refusal(&r);
    else if (r.status || r.body.len)
        abort();
    else
        check_records(im, coord, nonempty_lines(data, size));
    cw_inc_import_release(im);
    free(im);
    cw_buf_release(&r.body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1 << 20)
        return 0;
    struct cw_principal coord = {.role = CW_ROLE_COORD_ADMIN, .user_id = 1};
    struct cw_principal staff = {.role = CW_ROLE_MEMBER_USER, .member_id = MEMBER_SCOPE,
                                 .user_id = 2};
    memcpy(coord.name, "fuzz-admin", 11);
    memcpy(staff.name, "fuzz-staff", 11);
    run(&coord, 0, data, size);
    run(&staff, MEMBER_SCOPE, data, size);
    return 0;
}
