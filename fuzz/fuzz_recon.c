/* fuzz_recon.c - warninglist JSON and the scanner user-agent file (triage/recon).
 *
 * Ranges mode (input not starting with 'U'): the input is split at "\n---\n" into
 * up to four warninglist documents, added as lists "l0".."l3" (so overlapping
 * lists with different names are exercised), then finished. For the lists that
 * were accepted, the first and last address of each entry and the addresses just
 * outside it are looked up and compared with a brute-force oracle (every entry
 * tested with cw_ip_in_net): found iff some entry contains the address (for an
 * IPv4-mapped IPv6 address, an IPv6 entry or an IPv4 entry holding the IPv4
 * address), and the list named must be one that contains it. Any disagreement
 * aborts.
 *
 * UA mode (input starting with 'U'): the rest is a user-agent file, loaded through
 * cw_recon_load() from a temporary file. If it loads, every pattern line used as a
 * user agent must match, and the pattern reported must occur in it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/json.h"
#include "triage/noise.h"
#include "triage/recon.h"
#include "common/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DOCS 4
#define MAX_ENTRIES 256
#define MAX_PROBED 64

struct entry {
    struct cw_ip net;
    unsigned prefix;
    int list;
};

static const char *const names[MAX_DOCS] = {"l0", "l1", "l2", "l3"};

/* The oracle's own reading of an accepted entry: blanks trimmed, addr[/prefix]. */
static int oracle_entry(const char *s, size_t n, struct entry *e)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    const char *sl = memchr(s, '/', n);
    if (cw_ip_parse(&e->net, s, sl ? (size_t)(sl - s) : n) < 0)
        return -1;
    e->prefix = e->net.family == 4 ? 32 : 128;
    if (sl) {
        unsigned p = 0;
        for (const char *q = sl + 1; q < s + n; q++)
            p = p * 10 + (unsigned)(*q - '0');
        e->prefix = p;
    }
    return 0;
}

static size_t collect(const char *doc, size_t n, int list, struct entry *out, size_t have)
{
    size_t cap = n / 2 + 2;
    jsmntok_t *toks = malloc(cap * sizeof(*toks));
    struct cw_json j;
    const char *why;
    struct cw_arena a;
    cw_arena_init(&a, 4096, 0);
    if (toks && cw_json_parse(&j, doc, n, toks, (int)cap, &why) == 0) {
        int li = cw_json_get(&j, 0, "list");
        for (int k = li + 1; li >= 0 && k < cw_json_next(&j, li) && have < MAX_ENTRIES;
             k = cw_json_next(&j, k)) {
            const char *s;
            size_t sn;
            if (cw_json_str(&j, k, &a, &s, &sn) < 0 || oracle_entry(s, sn, &out[have]) < 0)
                abort(); /* the library accepted this list: every entry must be valid */
            out[have++].list = list;
        }
    } else {
        abort(); /* accepted by the library, so it must parse */
    }
    cw_arena_release(&a);
    free(toks);
    return have;
}

static struct cw_ip edge(const struct entry *e, int last, int delta)
{
    struct cw_ip a = e->net;
    unsigned bytes = a.family == 4 ? 4 : 16;
    for (unsigned b = 0; b < bytes; b++) {
        uint8_t host = 0;
        for (unsigned k = 0; k < 8; k++)
            if (b * 8 + k >= e->prefix)
                host |= (uint8_t)(0x80 >> k);
        a.a[b] = last ? (uint8_t)(a.a[b] | host) : (uint8_t)(a.a[b] & ~host);
    }
    if (delta > 0)
        for (int b = (int)bytes - 1; b >= 0 && ++a.a[b] == 0; b--)
            ;
    if (delta < 0)
        for (int b = (int)bytes - 1; b >= 0 && a.a[b]-- == 0; b--)
            ;
    return a;
}

static void ranges(const char *data, size_t size)
{
    const char *doc[MAX_DOCS];
    size_t len[MAX_DOCS];
    int nd = 0;
    const char *p = data, *end = data + size;
    while (nd < MAX_DOCS) {
        const char *sep = memmem(p, (size_t)(end - p), "\n---\n", 5);
        doc[nd] = p;
        if (!sep || nd == MAX_DOCS - 1) {
            len[nd++] = (size_t)(end - p);
            break;
        }
        len[nd++] = (size_t)(sep - p);
        p = sep + 5;
    }
    struct cw_recon *r = cw_recon_new();
    if (!r)
        return;
    static struct entry ent[MAX_ENTRIES];
    size_t ne = 0, v4 = 0, v6 = 0;
    char err[256];
    for (int d = 0; d < nd; d++) {
        int rc = cw_recon_add_warninglist(r, names[d], doc[d], len[d], err, sizeof(err));
        if (rc < 0 && strncmp(err, names[d], 2) != 0)
            abort(); /* errors start with the list name */
        if (rc == 0)
            ne = collect(doc[d], len[d], d, ent, ne);
    }
    if (cw_recon_finish(r) < 0) {
        cw_recon_free(r);
        return;
    }
    for (size_t i = 0; i < ne; i++)
        ent[i].net.family == 4 ? v4++ : v6++;
    struct cw_recon_stats st;
    cw_recon_stats(r, &st);
    if (ne < MAX_ENTRIES && (st.ranges_v4 > v4 || st.ranges_v6 > v6))
        abort(); /* merging never makes more ranges than entries */
    for (size_t i = 0; i < ne && i < MAX_PROBED; i++) {
        for (int k = 0; k < 4; k++) {
            struct cw_ip a = edge(&ent[i], k >= 2, k == 0 ? -1 : k == 3 ? 1 : 0);
            const char *got = cw_recon_match_ip(r, &a);
            int want = 0, named_ok = 0;
            /* an IPv4-mapped IPv6 address also matches IPv4 ranges */
            struct cw_ip a4 = {0};
            static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
            if (a.family == 6 && memcmp(a.a, mapped, 12) == 0) {
                a4.family = 4;
                memcpy(a4.a, a.a + 12, 4);
            }
            for (size_t e = 0; e < ne; e++) {
                if (!cw_ip_in_net(&a, &ent[e].net, ent[e].prefix) &&
                    !cw_ip_in_net(&a4, &ent[e].net, ent[e].prefix))
                    continue;
                want = 1;
                if (got && strcmp(got, names[ent[e].list]) == 0)
                    named_ok = 1;
            }
            /* with MAX_ENTRIES reached the oracle does not know every entry */
            if (ne < MAX_ENTRIES && ((got != NULL) != want || (got && !named_ok)))
                abort();
        }
    }
    cw_recon_free(r);
}

static char ua_path[64];

static void user_agents(const char *data, size_t size)
{
    if (!ua_path[0]) {
        snprintf(ua_path, sizeof(ua_path), "/tmp/fuzz_recon_ua.XXXXXX");
        int fd = mkstemp(ua_path);
        if (fd < 0)
            abort();
        close(fd);
    }
    FILE *f = fopen(ua_path, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    char err[256];
    struct cw_recon *r = cw_recon_load(NULL, ua_path, err, sizeof(err));
    if (!r)
        return;
    const char *p = data, *end = data + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *s = p, *e = nl ? nl : end;
        p = nl ? nl + 1 : end;
        while (s < e && (*s == ' ' || *s == '\t'))
            s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
            e--;
        if (s == e || *s == '#')
            continue;
        size_t n = (size_t)(e - s);
        const char *hit = cw_recon_match_ua(r, s, n);
        if (!hit)
            abort(); /* a pattern matches itself */
        size_t hn = strlen(hit);
        int found = 0;
        for (size_t i = 0; i + hn <= n && !found; i++)
            found = strncasecmp(s + i, hit, hn) == 0;
        if (!found)
            abort();
    }
    (void)cw_recon_match_ua(r, "Mozilla/5.0 zgrab/0.x", 21);
    cw_recon_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size && data[0] == 'U')
        user_agents((const char *)data + 1, size - 1);
    else
        ranges((const char *)data, size);
    return 0;
}
