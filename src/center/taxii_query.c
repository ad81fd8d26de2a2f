/* taxii_query.c - match[version] and the next cursor of TAXII requests (see
 * taxii_query.h). */
#include <stdlib.h>
#include <string.h>

#include "center/taxii_query.h"
#include "common/timefmt.h"
#include "common/banned.h"

static bool word(const char *p, size_t k, const char *w)
{
    return k == strlen(w) && strncmp(p, w, k) == 0;
}

const char *cw_taxii_versions_parse(const char *s, struct cw_taxii_versions *out)
{
    out->any = !s;
    out->n = 0;
    if (s && !*s)
        return "match[version] is empty";
    for (const char *p = s; p && *p;) {
        size_t k = strcspn(p, ",");
        int64_t us;
        /* every indicator has one version kept, so last, first and all select it */
        if (word(p, k, "last") || word(p, k, "first") || word(p, k, "all"))
            out->any = true;
        else if (!k || cw_time_parse_iso(p, k, &us))
            return "match[version] must be last, first, all or a timestamp, comma-separated";
        else if (out->n == CW_TAXII_VERSIONS_MAX)
            return "match[version] has more than 16 timestamps";
        else
            out->at[out->n++] = us;
        p += k + (p[k] == ',');
    }
    return NULL;
}

bool cw_taxii_versions_select(const struct cw_taxii_versions *v, int64_t version_us)
{
    if (v->any)
        return true;
    for (size_t i = 0; i < v->n; i++)
        if (v->at[i] == version_us)
            return true;
    return false;
}

int cw_taxii_cursor_parse(const char *s, int64_t *added_us, int64_t *id)
{
    char *end;
    *added_us = strtoll(s, &end, 10);
    if (end == s || *end != '.' || *added_us < 0)
        return -1;
    const char *q = end + 1;
    *id = strtoll(q, &end, 10);
    return end == q || *end || *id < 0 ? -1 : 0;
}
