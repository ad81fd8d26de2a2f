/* sigma_compile.c - prefilter over a rule set (see sigma_compile.h).
 *
 * Build: rules -> trigger formulas of atoms (deduplicated by field key, flags,
 * anchors and bytes) -> per record kind: rule list, always-candidate list,
 * primary atom -> rules map (CSR), secondary clauses, one literal database over
 * all fields, whole-value hash tables, short-literal compare lists, per-field
 * regex databases -> one prototype scratch allocated against every database.
 * Detect: fetch the values (spans of the raw line or copies), scan once, compare,
 * probe, mark; check the secondary clauses of rules whose primary held; evaluate
 * the candidates with the reference evaluator and a hint (exact by
 * construction). */
#include "detect/sigma_compile.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <hs/hs.h>
#include <limits.h>
#include <pcre2.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/banned.h"



#define SC_KINDS 32
#define SC_POOL 16
#define SC_REGEX_SCORE 2 /* a prefilter regex ranks below any literal of the scan (it
                          * costs a scan per value; see build_rule_maps) */
#define SC_MAX_CLAUSES 8 /* clauses kept per rule (one bit each in a byte) */
#define SC_ANCHOR_START 1
#define SC_ANCHOR_END 2
#define SC_MIN_LIT 4 /* shorter literals are compared per value (or a per-field db) */
#define SC_MAX_CMP 16 /* short unanchored literals compared per value, at most */
#define SC_NOSEG UINT32_MAX
#define SC_EXLEN 512 /* whole-value lengths told apart by the length filter */

struct sc_key { /* a field as the evaluator fetches it */
    int fid;
    const char *name; /* Sigma name (JSON fallback); NULL for keywords */
};

struct sc_atom {
    uint32_t key;
    const char *s; /* literal bytes or regex source (borrowed from the rule) */
    uint32_t n;
    unsigned flags; /* HS_FLAG_* */
    bool regex;
    uint8_t anchor; /* SC_ANCHOR_*: the literal starts / ends the value */
};

struct sc_cmp { /* a short literal compared with each value of its field */
    uint32_t atom;
    uint8_t anchor; /* SC_ANCHOR_*: whole value, prefix, suffix, or anywhere (0) */
    uint8_t n;
    bool caseless;
    uint8_t group; /* first of an unanchored group: the group's size (else 0) */
    char s[SC_MIN_LIT]; /* the bytes, here rather than behind the atom (cache) */
};

struct sc_field { /* one database of a kind */
    int fid;
    const char *name;        /* JSON / keyword: the key's name; else NULL */
    const char **fallback;   /* names to look up in raw JSON when fid is absent */
    uint32_t nfallback;
    bool lit;                /* has literal atoms: its values are segments of the scan */
    bool lit_raw_covers;     /* keywords: only unanchored literals, so a value lying
                              * inside the raw line needs no segment of its own */
    bool db_raw_covers;      /* the same for db: no anchored atom */
    bool covered_noop;       /* keywords: a value inside the raw line needs nothing at
                              * all (no whole value, no anchored compare), so the
                              * record's values are not even visited */
    struct sc_cmp *cmp;      /* short literals (< SC_MIN_LIT bytes): compared */
    uint32_t ncmp;
    uint32_t *ex_head;       /* whole-value literals (any length): a hash table of
                              * chains (index + 1) over ex, probed once per value */
    uint32_t *ex_atom, *ex_next, *ex_hash; /* per entry: atom, chain, full hash */
    uint32_t nex, ex_mask;
    uint64_t ex_len[SC_EXLEN / 64]; /* lengths of the whole values (the last bit: that
                              * length or more): most values (browser user agents,
                              * paths) have a length no whole value has, and skip the
                              * hash and its probe, a likely cache miss */
    hs_database_t *db;       /* its regex atoms (and short literals when there are
                              * too many to compare), scanned per value; or NULL */
};

struct sc_pent { /* one (field, atom) use of a literal pattern of the kind */
    uint32_t atom;
    uint16_t field; /* index into sc_kind.fields */
    uint8_t anchor;
};

struct sc_kind {
    uint32_t *rules, nrules;   /* indices into rs->rules, ascending */
    uint32_t *always, nalways; /* kind-local indices */
    struct sc_field *fields;
    uint32_t nfields;
    /* A rule's most selective clause is its *primary*: only its atoms lead to the
     * rule (atom -> rules). The other clauses are checked for the few rules whose
     * primary held, against the record's set of matched atoms. So a common atom
     * (`sc-status: 200`) that is never a primary costs one bit per record, not a
     * visit to every rule that mentions it. */
    uint32_t *atom_off;        /* natoms + 1: atom -> atom_rules[off[a] .. off[a+1]) */
    uint32_t *atom_rules;      /* kind-local rule indices whose primary has the atom */
    uint32_t *sec_off;         /* nrules + 1: rule -> its secondary clauses
                                * sec_cl[sec_off[r] .. sec_off[r+1]) */
    uint32_t *sec_cl;          /* nsec + 1: clause -> sec_atoms[sec_cl[c] .. sec_cl[c+1]) */
    uint32_t *sec_atoms;
    uint64_t *computed;        /* per atom: checked on every record of the kind (so an
                                * atom not seen did not occur: evaluation hints) */
    hs_database_t *lit_db;     /* every literal atom of every field, deduplicated by
                                * bytes + case: scanned once over the record's buffer */
    uint32_t npats;
    uint32_t *pat_len;         /* per pattern: its length */
    uint32_t *pat_off;         /* npats + 1: pattern -> pents[off[p] .. off[p+1]) */
    struct sc_pent *pents;
};

struct sc_seg { /* a field value's bytes in the scan buffer */
    uint32_t start, end;
    uint32_t next; /* the field's next segment, or SC_NOSEG */
};

struct sc_span { /* a value lying inside the raw line, not yet a segment */
    uint32_t off, len;
    uint32_t field;
};

struct sigma_cthread {
    atomic_int busy;
    bool temp;                 /* not from the pool: freed on release */
    struct sigma_evalctx *ec;
    hs_scratch_t *scratch;
    uint64_t *bits;            /* candidates */
    uint8_t *have;             /* per rule: its primary clause holds */
    uint32_t *touched, ntouched; /* rules with have != 0 */
    uint64_t *amatch;          /* per atom: it occurs in the record */
    uint32_t *alist, nalist;   /* atoms set in amatch */
    const struct sc_kind *kind;
    const struct sigma_compiled *sc;
    uint32_t candidates;
    bool scan_failed;
    bool hints;                /* the candidate loop: amatch is complete */
    char *buf;                 /* the record's literal scan buffer: copied values, then
                                * (in raw mode) the raw line */
    size_t nbuf, capbuf;
    struct sc_seg *segs;       /* its segments, chained per field */
    uint32_t nsegs, capsegs;
    uint32_t *fhead;           /* per field of the kind: first segment or SC_NOSEG */
    struct sc_span *spans;     /* values inside the raw line, placed at the end */
    uint32_t nspans, capspans;
    size_t span_bytes;
    char num[24];              /* an integer value as text */
    uint32_t gen;              /* record generation: vgen[id] == gen marks vidx[id] */
    uint32_t vgen[CW_F__COUNT];
    uint16_t vidx[CW_F__COUNT]; /* first value of each catalogue field */
    char norm[SIGMA_URL_MAX];
    /* The normalised first http.path (0) and http.query (1) of the record, kept
     * so http.url (path '?' query) is assembled from them, not decoded again. */
    uint32_t ugen[2];          /* == gen: slot computed for this record */
    const char *us[2];         /* the value it was computed from */
    size_t un[2], unn[2];
    char unorm[2][SIGMA_URL_MAX];
};

struct sigma_compiled {
    const struct sigma_ruleset *rs;
    struct sc_key *keys;
    uint32_t nkeys, capkeys;
    struct sc_atom *atoms;
    uint32_t natoms, capatoms;
    uint32_t *ht; /* atom hash table: index + 1, 0 = empty */
    uint32_t htcap;
    struct sc_kind kinds[SC_KINDS];
    uint32_t maxwords, maxrules, maxfields;
    hs_scratch_t *proto;
    struct sigma_cthread *pool[SC_POOL];
    struct sigma_compiled_stats st;
    const struct sigma_alt **amap_k; /* alternative -> its literal atom (eval hints) */
    uint32_t *amap_v, amap_n, amap_cap;
    char **owned; /* extracted regex literals (atom bytes) */
    uint32_t nowned, capowned;
    bool regex_ok; /* PCRE2 newline convention is LF, as Hyperscan's */
    uint8_t ftype[CW_F__COUNT]; /* cw_field_info(id)->type, without a call per value */
    char why[256]; /* non-empty: failed */
};

/* -- keys and atoms --------------------------------------------------------- */

static int key_id(struct sigma_compiled *sc, int fid, const char *name)
{
    for (uint32_t i = 0; i < sc->nkeys; i++)
        if (sc->keys[i].fid == fid &&
            ((!name && !sc->keys[i].name) ||
             (name && sc->keys[i].name && !strcmp(name, sc->keys[i].name))))
            return (int)i;
    if (sc->nkeys == sc->capkeys) {
        uint32_t nc = sc->capkeys ? sc->capkeys * 2 : 64;
        struct sc_key *nk = realloc(sc->keys, nc * sizeof(*nk));
        if (!nk)
            return -1;
        sc->keys = nk;
        sc->capkeys = nc;
    }
    sc->keys[sc->nkeys].fid = fid;
    sc->keys[sc->nkeys].name = name;
    return (int)sc->nkeys++;
}

static uint64_t atom_hash(uint32_t key, unsigned flags, bool regex, uint8_t anchor, const char *s,
                          uint32_t n)
{
    uint64_t h = 1469598103934665603ull ^ key ^ ((uint64_t)flags << 32) ^ ((uint64_t)regex << 63) ^
                 ((uint64_t)anchor << 60);
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}

static int ht_grow(struct sigma_compiled *sc)
{
    uint32_t nc = sc->htcap ? sc->htcap * 2 : 1024;
    uint32_t *nt = calloc(nc, sizeof(*nt));
    if (!nt)
        return -1;
    for (uint32_t i = 0; i < sc->natoms; i++) {
        const struct sc_atom *a = &sc->atoms[i];
        uint64_t h = atom_hash(a->key, a->flags, a->regex, a->anchor, a->s, a->n);
        uint32_t j = (uint32_t)(h & (nc - 1));
        while (nt[j])
            j = (j + 1) & (nc - 1);
        nt[j] = i + 1;
    }
    free(sc->ht);
    sc->ht = nt;
    sc->htcap = nc;
    return 0;
}

/* Atom id (deduplicated), or -1 on allocation failure. */
static int atom_id(struct sigma_compiled *sc, uint32_t key, const char *s, uint32_t n,
                   unsigned flags, bool regex, uint8_t anchor)
{
    if ((sc->natoms + 1) * 2 > sc->htcap && ht_grow(sc))
        return -1;
    uint64_t h = atom_hash(key, flags, regex, anchor, s, n);
    uint32_t j = (uint32_t)(h & (sc->htcap - 1));
    for (; sc->ht[j]; j = (j + 1) & (sc->htcap - 1)) {
        const struct sc_atom *a = &sc->atoms[sc->ht[j] - 1];
        if (a->key == key && a->flags == flags && a->regex == regex && a->anchor == anchor &&
            a->n == n && !memcmp(a->s, s, n))
            return (int)(sc->ht[j] - 1);
    }
    if (sc->natoms == sc->capatoms) {
        uint32_t nc = sc->capatoms ? sc->capatoms * 2 : 1024;
        struct sc_atom *na = realloc(sc->atoms, nc * sizeof(*na));
        if (!na)
            return -1;
        sc->atoms = na;
        sc->capatoms = nc;
    }
    struct sc_atom *a = &sc->atoms[sc->natoms];
    a->key = key;
    a->s = s;
    a->n = n;
    a->flags = flags;
    a->regex = regex;
    a->anchor = anchor;
    sc->ht[j] = ++sc->natoms;
    return (int)(sc->natoms - 1);
}

/* -- trigger formulas -------------------------------------------------------- */

/* A rule's trigger formula is a conjunction of at most SC_MAX_CLAUSES clauses,
 * each a disjunction of atoms: whenever the rule fires, every clause has an atom
 * that occurs. No clause at all = no requirement (always a candidate); a clause
 * without atoms can never hold (the rule never fires). Dropping clauses or
 * adding atoms only weakens the formula, so every approximation below keeps it
 * a necessary condition. */
struct clause {
    uint32_t *a;
    uint32_t n, cap;
    int score; /* selectivity guess: min over atoms (INT_MAX when empty) */
};

struct cnf {
    struct clause c[SC_MAX_CLAUSES];
    uint32_t n;
    bool oom;
};

static void cl_free(struct clause *c)
{
    free(c->a);
    c->a = NULL;
    c->n = c->cap = 0;
}

static void cnf_free(struct cnf *f)
{
    for (uint32_t i = 0; i < f->n; i++)
        cl_free(&f->c[i]);
    f->n = 0;
}

static void cnf_always(struct cnf *f) { memset(f, 0, sizeof(*f)); }

static void cnf_never(struct cnf *f)
{
    memset(f, 0, sizeof(*f));
    f->n = 1;
    f->c[0].score = INT_MAX;
}

static bool cl_add(struct clause *c, uint32_t atom, int score)
{
    if (c->n == c->cap) {
        uint32_t nc = c->cap ? c->cap * 2 : 8;
        uint32_t *na = realloc(c->a, nc * sizeof(*na));
        if (!na)
            return false;
        c->a = na;
        c->cap = nc;
    }
    c->a[c->n++] = atom;
    if (score < c->score)
        c->score = score;
    return true;
}

/* c = c or d (consumes d). */
static bool cl_union(struct clause *c, struct clause *d)
{
    bool ok = true;
    for (uint32_t i = 0; i < d->n && ok; i++)
        ok = cl_add(c, d->a[i], INT_MAX);
    if (d->score < c->score)
        c->score = d->score;
    cl_free(d);
    return ok;
}

static bool cl_better(const struct clause *x, const struct clause *y)
{
    return x->score > y->score || (x->score == y->score && x->n < y->n);
}

/* f = f and g (consumes g); keeps the SC_MAX_CLAUSES most selective clauses. */
static void cnf_and(struct cnf *f, struct cnf *g)
{
    f->oom |= g->oom;
    for (uint32_t i = 0; i < g->n; i++) {
        struct clause c = g->c[i];
        if (f->n < SC_MAX_CLAUSES) {
            f->c[f->n++] = c;
            continue;
        }
        uint32_t worst = 0;
        for (uint32_t k = 1; k < f->n; k++)
            if (cl_better(&f->c[worst], &f->c[k]))
                worst = k;
        if (cl_better(&c, &f->c[worst])) {
            cl_free(&f->c[worst]);
            f->c[worst] = c;
        } else {
            cl_free(&c);
        }
    }
    g->n = 0;
}

/* f = f or g (consumes g): the best clause of each side, joined. */
static void cnf_or(struct cnf *f, struct cnf *g)
{
    bool oom = f->oom || g->oom;
    if (!f->n || !g->n) {
        cnf_free(f);
        cnf_free(g);
        f->oom = oom;
        return;
    }
    uint32_t bf = 0, bg = 0;
    for (uint32_t k = 1; k < f->n; k++)
        if (cl_better(&f->c[k], &f->c[bf]))
            bf = k;
    for (uint32_t k = 1; k < g->n; k++)
        if (cl_better(&g->c[k], &g->c[bg]))
            bg = k;
    struct clause c = f->c[bf], d = g->c[bg];
    f->c[bf].a = NULL;
    g->c[bg].a = NULL;
    cnf_free(f);
    cnf_free(g);
    oom |= !cl_union(&c, &d);
    f->c[0] = c;
    f->n = 1;
    f->oom = oom;
}

static int literal_piece(const char *s, uint32_t n, uint32_t *off)
{
    uint32_t best = 0, bo = 0, start = 0;
    for (uint32_t i = 0; i <= n; i++) {
        if (i == n || s[i] == SIGMA_GLOB_STAR || s[i] == SIGMA_GLOB_ONE) {
            if (i - start > best) {
                best = i - start;
                bo = start;
            }
            start = i + 1;
        }
    }
    *off = bo;
    return (int)best;
}

/* Hyperscan flags of a PCRE2 regex, or -1 when Hyperscan cannot prefilter it. */
static int regex_flags(const struct sigma_compiled *sc, const struct sigma_alt *alt)
{
    uint32_t opts = 0;
    if (!sc->regex_ok || !alt->re || !alt->s || memchr(alt->s, '\0', alt->n) ||
        pcre2_pattern_info(alt->re, PCRE2_INFO_ARGOPTIONS, &opts))
        return -1;
    if (opts & ~(uint32_t)(PCRE2_CASELESS | PCRE2_MULTILINE | PCRE2_DOTALL))
        return -1;
    int fl = HS_FLAG_PREFILTER | HS_FLAG_SINGLEMATCH;
    fl |= opts & PCRE2_CASELESS ? HS_FLAG_CASELESS : 0;
    fl |= opts & PCRE2_MULTILINE ? HS_FLAG_MULTILINE : 0;
    fl |= opts & PCRE2_DOTALL ? HS_FLAG_DOTALL : 0;
    char *src = malloc(alt->n + 1);
    if (!src)
        return -1;
    memcpy(src, alt->s, alt->n);
    src[alt->n] = '\0';
    hs_database_t *db = NULL;
    hs_compile_error_t *err = NULL;
    int rc = hs_compile(src, (unsigned)fl, HS_MODE_BLOCK, NULL, &db, &err);
    free(src);
    if (rc != HS_SUCCESS) {
        hs_free_compile_error(err);
        return -1;
    }
    hs_free_database(db);
    return fl;
}

/* Fields whose values come from a handful of words: a literal there says little. */
static bool small_domain(int fid)
{
    return fid == CW_F_HTTP_METHOD || fid == CW_F_HTTP_STATUS || fid == CW_F_HTTP_VERSION ||
           fid == SIGMA_FID_TRANSPORT || fid == SIGMA_FID_SRC_PORT || fid == SIGMA_FID_DST_PORT;
}

/* Add alt's atom to clause c. false: alt has no atom (the clause must go). */
static uint32_t amap_slot(const struct sigma_alt *a, uint32_t cap)
{
    uint64_t h = (uint64_t)(uintptr_t)a * 0x9e3779b97f4a7c15ull;
    return (uint32_t)(h >> 32) & (cap - 1);
}

/* Remember that alternative a's literal piece is atom id. 0 or -1 (memory). */
static int amap_put(struct sigma_compiled *sc, const struct sigma_alt *a, uint32_t id)
{
    if ((sc->amap_n + 1) * 2 > sc->amap_cap) {
        uint32_t nc = sc->amap_cap ? sc->amap_cap * 2 : 1024;
        const struct sigma_alt **nk = calloc(nc, sizeof(*nk));
        uint32_t *nv = calloc(nc, sizeof(*nv));
        if (!nk || !nv) {
            free(nk);
            free(nv);
            return -1;
        }
        for (uint32_t i = 0; i < sc->amap_cap; i++) {
            if (!sc->amap_k[i])
                continue;
            uint32_t j = amap_slot(sc->amap_k[i], nc);
            while (nk[j])
                j = (j + 1) & (nc - 1);
            nk[j] = sc->amap_k[i];
            nv[j] = sc->amap_v[i];
        }
        free(sc->amap_k);
        free(sc->amap_v);
        sc->amap_k = nk;
        sc->amap_v = nv;
        sc->amap_cap = nc;
    }
    uint32_t j = amap_slot(a, sc->amap_cap);
    while (sc->amap_k[j] && sc->amap_k[j] != a)
        j = (j + 1) & (sc->amap_cap - 1);
    sc->amap_n += !sc->amap_k[j];
    sc->amap_k[j] = a;
    sc->amap_v[j] = id;
    return 0;
}

/* The literal atom of alternative a, or UINT32_MAX. */
static uint32_t amap_get(const struct sigma_compiled *sc, const struct sigma_alt *a)
{
    if (!sc->amap_cap)
        return UINT32_MAX;
    for (uint32_t j = amap_slot(a, sc->amap_cap); sc->amap_k[j]; j = (j + 1) & (sc->amap_cap - 1))
        if (sc->amap_k[j] == a)
            return sc->amap_v[j];
    return UINT32_MAX;
}

static bool alt_atom(struct sigma_compiled *sc, const struct sigma_test *t,
                     const struct sigma_alt *alt, uint32_t key, struct clause *c, bool *oom)
{
    int id, score;
    if (alt->null)
        return false;
    if (t->match == SIGMA_M_RE) {
        int fl = regex_flags(sc, alt);
        if (fl < 0)
            return false;
        id = atom_id(sc, key, alt->s, alt->n, (unsigned)fl, true, 0);
        score = SC_REGEX_SCORE;
    } else {
        uint32_t off;
        int len = literal_piece(alt->s, alt->n, &off);
        if (len <= 0 && alt->n) /* only wildcards: no requirement */
            return false;
        /* alt->n == 0: the empty value, an exact compare with nothing */
        uint8_t anchor = (off == 0 ? SC_ANCHOR_START : 0) |
                         (off + (uint32_t)len == alt->n ? SC_ANCHOR_END : 0);
        unsigned fl = HS_FLAG_SINGLEMATCH | (t->flags & SIGMA_F_CASED ? 0 : HS_FLAG_CASELESS);
        id = atom_id(sc, key, alt->s + off, (uint32_t)len, fl, false, anchor);
        if (id >= 0 && amap_put(sc, alt, (uint32_t)id))
            *oom = true;
        score = len > 16 ? 16 : len;
        score += (anchor & SC_ANCHOR_START ? 2 : 0) + (anchor & SC_ANCHOR_END ? 2 : 0);
    }
    if (small_domain(t->fid))
        score = 1;
    if (id < 0 || !cl_add(c, (uint32_t)id, score))
        *oom = true;
    return true;
}

/* -- literals every match of a regex contains -------------------------------- */

/* A regex prefilter atom needs a per-value Hyperscan scan. Most Sigma regexes
 * contain a literal that every match must contain (`ipfs\.io`, `/MSHTML_C7/`);
 * found here, it joins the one literal scan as a clause of its own, and the regex
 * atom can stay a secondary clause that is never scanned for (see build_rule_maps).
 * The reader below is conservative: it understands plain and escaped characters,
 * classes, groups, alternation and quantifiers, and gives up (no requirement) on
 * anything else: inline options other than i/m/s, lookarounds, named or atomic
 * groups, verbs, \Q, escapes with arguments, or a '{' that is not a quantifier.
 * Literals are matched caseless (a superset); only ASCII bytes are kept. */

#define RL_MAX_ALTS SIGMA_LITREQ_ALTS
#define RL_MAX_LEN (SIGMA_LITREQ_LEN - 1)
#define RL_MAX_DEPTH 16
#define RL_MIN_LIT 3 /* a 3-byte requirement goes to the short compares: still
                      * far cheaper than a regex scan of every value */

struct rl_req { /* a requirement: one of these literals occurs */
    char s[RL_MAX_ALTS][RL_MAX_LEN];
    uint8_t n[RL_MAX_ALTS];
    uint32_t nalts; /* 0: no requirement */
};

static uint32_t rl_score(const struct rl_req *r)
{
    uint32_t m = r->nalts ? UINT32_MAX : 0;
    for (uint32_t i = 0; i < r->nalts; i++)
        m = r->n[i] < m ? r->n[i] : m;
    return m;
}

#define RL_MAX_REQS 4

struct rl {
    const char *p;
    size_t i, n;
    bool fail; /* a construct this reader does not know: no requirement at all */
    struct rl_req *reqs; /* the top-level sequence: every requirement found */
    uint32_t nreqs;
    bool top_alt; /* the pattern is a top-level alternation: no list */
};

static int rl_alt(struct rl *x, int depth, struct rl_req *out);

/* A quantifier at x->i: its minimum count (1 when none), consumed. -1 on an
 * unknown '{' form. */
static long rl_quant(struct rl *x, bool *repeats)
{
    long min = 1;
    *repeats = false;
    if (x->i >= x->n)
        return 1;
    char c = x->p[x->i];
    if (c == '?' || c == '*' || c == '+') {
        x->i++;
        min = c == '+';
        *repeats = c != '?';
    } else if (c == '{') {
        size_t j = x->i + 1;
        long lo = 0, hi = -1;
        bool digits = false;
        while (j < x->n && x->p[j] >= '0' && x->p[j] <= '9' && lo < 100000) {
            lo = lo * 10 + (x->p[j++] - '0');
            digits = true;
        }
        if (!digits)
            return -1;
        if (j < x->n && x->p[j] == ',') {
            j++;
            hi = -2; /* open or given */
            while (j < x->n && x->p[j] >= '0' && x->p[j] <= '9')
                j++;
        }
        if (j >= x->n || x->p[j] != '}')
            return -1;
        x->i = j + 1;
        min = lo;
        *repeats = hi == -2 || lo != 1;
    } else {
        return 1;
    }
    if (x->i < x->n && (x->p[x->i] == '?' || x->p[x->i] == '+')) /* lazy / possessive */
        x->i++;
    return min;
}

/* Skip a character class starting at x->p[x->i] == '['. */
static void rl_class(struct rl *x)
{
    x->i++;
    if (x->i < x->n && x->p[x->i] == '^')
        x->i++;
    if (x->i < x->n && x->p[x->i] == ']')
        x->i++;
    while (x->i < x->n && x->p[x->i] != ']') {
        if (x->p[x->i] == '\\')
            x->i++;
        else if (x->p[x->i] == '[' && x->i + 1 < x->n && x->p[x->i + 1] == ':') {
            const char *e = NULL;
            for (size_t j = x->i + 2; j + 1 < x->n && !e; j++)
                if (x->p[j] == ':' && x->p[j + 1] == ']')
                    e = x->p + j;
            if (!e) {
                x->fail = true;
                return;
            }
            x->i = (size_t)(e - x->p) + 1;
        }
        x->i++;
    }
    if (x->i >= x->n)
        x->fail = true;
    else
        x->i++;
}

/* The better requirement: longer shortest literal, then fewer alternatives. */
static void rl_better(struct rl_req *best, const struct rl_req *cand)
{
    uint32_t c = rl_score(cand), b = rl_score(best);
    if (cand->nalts && (!best->nalts || c > b || (c == b && cand->nalts < best->nalts)))
        *best = *cand;
}

/* A requirement found in a sequence: the best so far, and at the top level one
 * more of the list (each is a clause of its own: all of them hold). */
static void rl_found(struct rl *x, int depth, struct rl_req *best, const struct rl_req *r)
{
    rl_better(best, r);
    if (!depth && !x->top_alt && r->nalts && rl_score(r) >= RL_MIN_LIT &&
        x->nreqs < RL_MAX_REQS)
        x->reqs[x->nreqs++] = *r;
}

static void rl_run_end(struct rl *x, int depth, struct rl_req *best, const char *run,
                       uint32_t len)
{
    if (!len)
        return;
    struct rl_req r = {.nalts = 1};
    memcpy(r.s[0], run, len);
    r.n[0] = (uint8_t)len;
    rl_found(x, depth, best, &r);
}

/* One alternative (a sequence) up to '|' or ')' or the end: its best requirement. */
static int rl_seq(struct rl *x, int depth, struct rl_req *best)
{
    char run[RL_MAX_LEN];
    uint32_t len = 0;
    best->nalts = 0;
    while (x->i < x->n && !x->fail) {
        char c = x->p[x->i];
        if (c == '|' || c == ')')
            break;
        int lit = -1; /* the item's literal byte, or -1 */
        struct rl_req grp = {.nalts = 0};
        if (c == '\\') {
            if (x->i + 1 >= x->n)
                return x->fail = true, -1;
            char e = x->p[x->i + 1];
            x->i += 2;
            bool alnum = (e >= '0' && e <= '9') || ((e | 0x20) >= 'a' && (e | 0x20) <= 'z');
            if (!alnum)
                lit = (unsigned char)e;
            else if (!strchr("dDwWsSbBhHvVRAzZGnrtfea", e))
                return x->fail = true, -1; /* escapes with arguments, \Q, backrefs */
        } else if (c == '[') {
            rl_class(x);
        } else if (c == '(') {
            x->i++;
            if (x->i < x->n && x->p[x->i] == '*')
                return x->fail = true, -1;
            if (x->i < x->n && x->p[x->i] == '?') {
                size_t j = x->i + 1;
                while (j < x->n && strchr("ims-", x->p[j]))
                    j++;
                if (j >= x->n || (x->p[j] != ':' && x->p[j] != ')'))
                    return x->fail = true, -1; /* lookaround, named, atomic, x ... */
                x->i = j + 1;
                if (x->p[j] == ')') { /* option setting: consumes nothing */
                    rl_run_end(x, depth, best, run, len);
                    len = 0;
                    continue;
                }
            }
            if (depth >= RL_MAX_DEPTH || rl_alt(x, depth + 1, &grp) < 0)
                return x->fail = true, -1;
            if (x->i >= x->n || x->p[x->i] != ')')
                return x->fail = true, -1;
            x->i++;
        } else if (c == '.' || c == '^' || c == '$') {
            x->i++;
        } else if (c == '*' || c == '+' || c == '?' || c == '{') {
            return x->fail = true, -1; /* a quantifier with nothing before it */
        } else {
            lit = (unsigned char)c;
            x->i++;
        }
        if (x->fail)
            return -1;
        bool repeats;
        long min = rl_quant(x, &repeats);
        if (min < 0)
            return x->fail = true, -1;
        if (lit >= 0x80 || lit == 0)
            lit = -1; /* ASCII only: caseless folding stays ASCII's */
        if (lit >= 0 && min >= 1 && len < RL_MAX_LEN) {
            run[len++] = (char)lit;
            if (!repeats)
                continue;
        }
        rl_run_end(x, depth, best, run, len); /* the run is broken here */
        len = 0;
        if (min >= 1)
            rl_found(x, depth, best, &grp);
    }
    rl_run_end(x, depth, best, run, len);
    return 0;
}

/* Alternatives separated by '|': every one must give a requirement. */
static int rl_alt(struct rl *x, int depth, struct rl_req *out)
{
    out->nalts = 0;
    bool none = false;
    for (;;) {
        struct rl_req one;
        if (rl_seq(x, depth, &one) < 0)
            return -1;
        if (!one.nalts || out->nalts + one.nalts > RL_MAX_ALTS)
            none = true;
        for (uint32_t k = 0; !none && k < one.nalts; k++) {
            memcpy(out->s[out->nalts], one.s[k], one.n[k]);
            out->n[out->nalts++] = one.n[k];
        }
        if (x->i >= x->n || x->p[x->i] != '|')
            break;
        x->i++;
        if (!depth) { /* a top-level alternation: only the union holds */
            x->top_alt = true;
            x->nreqs = 0;
        }
    }
    if (none)
        out->nalts = 0;
    return 0;
}

static bool rl_same(const struct rl_req *a, const struct rl_req *b)
{
    if (a->nalts != b->nalts)
        return false;
    for (uint32_t i = 0; i < a->nalts; i++)
        if (a->n[i] != b->n[i] || memcmp(a->s[i], b->s[i], a->n[i]))
            return false;
    return true;
}

/* Literals (>= RL_MIN_LIT bytes) one of which occurs in every match of the
 * regex source s[0..n): the best requirement in *out; when the pattern is one
 * sequence, every requirement of it in reqs[0..*nreqs) (each holds). false when
 * none are known. */
static bool regex_literals(const char *s, size_t n, struct rl_req *out, struct rl_req *reqs,
                           uint32_t *nreqs)
{
    struct rl x = {s, 0, n, false, reqs, 0, false};
    out->nalts = 0;
    *nreqs = 0;
    if (rl_alt(&x, 0, out) < 0 || x.fail || x.i != n || !out->nalts ||
        rl_score(out) < RL_MIN_LIT) {
        out->nalts = 0;
        return false;
    }
    for (uint32_t i = 0; i < x.nreqs; i++) /* the best is in out already */
        if (rl_same(&reqs[i], out)) {
            memmove(&reqs[i], &reqs[i + 1], (x.nreqs - i - 1) * sizeof(*reqs));
            x.nreqs--;
            break;
        }
    *nreqs = x.nreqs;
    return true;
}

/* One clause as a formula of its own, ANDed into out (consumes c). */
static void and_clause(struct cnf *out, struct clause *c)
{
    struct cnf one;
    cnf_always(&one);
    one.c[0] = *c;
    one.n = 1;
    cnf_and(out, &one);
}

/* A copy of n bytes that lives as long as sc (extracted literals). */
static const char *own_bytes(struct sigma_compiled *sc, const char *s, size_t n)
{
    if (sc->nowned == sc->capowned) {
        uint32_t nc = sc->capowned ? sc->capowned * 2 : 64;
        char **no = realloc(sc->owned, nc * sizeof(*no));
        if (!no)
            return NULL;
        sc->owned = no;
        sc->capowned = nc;
    }
    char *o = malloc(n ? n : 1);
    if (o) {
        memcpy(o, s, n);
        sc->owned[sc->nowned++] = o;
    }
    return o;
}

uint32_t sigma_regex_requirements(const char *re, size_t n, struct sigma_litreq *out,
                                  uint32_t max)
{
    struct rl_req best, reqs[RL_MAX_REQS];
    uint32_t nreqs = 0, k = 0;
    if (!regex_literals(re, n, &best, reqs, &nreqs))
        return 0;
    for (uint32_t i = 0; i <= nreqs && k < max; i++) {
        const struct rl_req *r = i ? &reqs[i - 1] : &best;
        out[k].nalts = r->nalts;
        for (uint32_t a = 0; a < r->nalts; a++) {
            memcpy(out[k].s[a], r->s[a], r->n[a]);
            out[k].s[a][r->n[a]] = '\0';
        }
        k++;
    }
    return k;
}

/* Requirement r as atoms of clause c. */
static void req_atoms(struct sigma_compiled *sc, const struct rl_req *r, uint32_t key,
                      struct clause *c, bool *oom)
{
    for (uint32_t k = 0; k < r->nalts; k++) {
        const char *o = own_bytes(sc, r->s[k], r->n[k]);
        int id = o ? atom_id(sc, key, o, r->n[k], HS_FLAG_SINGLEMATCH | HS_FLAG_CASELESS, false, 0)
                   : -1;
        if (id < 0 || !cl_add(c, (uint32_t)id, r->n[k] > 16 ? 16 : r->n[k]))
            *oom = true;
    }
}

/* Add the literals one of which every match of regex alt contains to clause c.
 * false: none known (the clause must go). With more, every other requirement of
 * the regex is ANDed into more (used when the test has just this one regex). */
static bool alt_regex_lits(struct sigma_compiled *sc, const struct sigma_alt *alt, uint32_t key,
                           struct clause *c, struct cnf *more, bool *oom)
{
    struct rl_req r, reqs[RL_MAX_REQS];
    uint32_t nreqs = 0;
    if (alt->null || !alt->s || !regex_literals(alt->s, alt->n, &r, reqs, &nreqs))
        return false;
    req_atoms(sc, &r, key, c, oom);
    for (uint32_t i = 0; more && i < nreqs; i++) {
        struct clause x = {NULL, 0, 0, INT_MAX};
        req_atoms(sc, &reqs[i], key, &x, oom);
        and_clause(more, &x);
    }
    return true;
}


static void test_cnf(struct sigma_compiled *sc, const struct sigma_test *t, struct cnf *out)
{
    cnf_always(out);
    bool strmatch = t->match == SIGMA_M_EQ || t->match == SIGMA_M_CONTAINS ||
                    t->match == SIGMA_M_STARTS || t->match == SIGMA_M_ENDS ||
                    t->match == SIGMA_M_RE;
    if (!strmatch)
        return;
    int key = key_id(sc, t->field ? t->fid : SIGMA_FID_KEYWORD, t->field);
    if (key < 0) {
        out->oom = true;
        return;
    }
    /* Per value, a clause of its atoms and, for regexes, a clause of the literals
     * every match contains. A value that can match without them kills its clause. */
    bool all = t->flags & SIGMA_F_ALL, re = t->match == SIGMA_M_RE;
    bool dead = false, dead_lits = !re;
    struct clause any = {NULL, 0, 0, INT_MAX}, any_lits = {NULL, 0, 0, INT_MAX};
    for (uint32_t i = 0; i < t->nvals; i++) {
        struct clause v = {NULL, 0, 0, INT_MAX}, vl = {NULL, 0, 0, INT_MAX};
        bool ok = true, ok_lits = re;
        for (uint32_t k = 0; k < t->vals[i].nalts; k++) {
            const struct sigma_alt *alt = &t->vals[i].alts[k];
            ok = ok && alt_atom(sc, t, alt, (uint32_t)key, &v, &out->oom);
            bool single = t->nvals == 1 && t->vals[0].nalts == 1;
            ok_lits = ok_lits && alt_regex_lits(sc, alt, (uint32_t)key, &vl,
                                                single ? out : NULL, &out->oom);
        }
        if (all) { /* every value must match: each is a clause of its own */
            if (ok)
                and_clause(out, &v);
            else
                cl_free(&v);
            if (ok_lits)
                and_clause(out, &vl);
            else
                cl_free(&vl);
            continue;
        }
        dead |= !ok;
        dead_lits |= !ok_lits;
        if (dead)
            cl_free(&v);
        else if (!cl_union(&any, &v))
            out->oom = true;
        if (dead_lits)
            cl_free(&vl);
        else if (!cl_union(&any_lits, &vl))
            out->oom = true;
    }
    if (all)
        return;
    if (!dead) /* no values: never matches = the empty clause */
        and_clause(out, &any);
    else
        cl_free(&any);
    if (!dead_lits && t->nvals)
        and_clause(out, &any_lits);
    else
        cl_free(&any_lits);
}

static void sel_cnf(struct sigma_compiled *sc, const struct sigma_sel *s, struct cnf *out)
{
    cnf_never(out);
    for (uint32_t g = 0; g < s->ngroups; g++) {
        const struct sigma_group *gr = &s->groups[g];
        struct cnf grp, x;
        cnf_always(&grp);
        for (uint32_t k = 0; k < gr->ntests; k++) {
            test_cnf(sc, &gr->tests[k], &x);
            cnf_and(&grp, &x);
        }
        if (s->ngroups == 1) {
            cnf_free(out);
            *out = grp;
            return;
        }
        cnf_or(out, &grp);
    }
}

static void cond_cnf(struct sigma_compiled *sc, const struct sigma_rule *r,
                     const struct sigma_cond *c, struct cnf *out)
{
    struct cnf b;
    if (!c) {
        cnf_never(out); /* a rule without a condition never fires */
        return;
    }
    switch (c->op) {
    case SIGMA_C_SEL: sel_cnf(sc, &r->sels[c->sel], out); return;
    case SIGMA_C_AND:
        cond_cnf(sc, r, c->a, out);
        cond_cnf(sc, r, c->b, &b);
        cnf_and(out, &b);
        return;
    case SIGMA_C_OR:
        cond_cnf(sc, r, c->a, out);
        cond_cnf(sc, r, c->b, &b);
        cnf_or(out, &b);
        return;
    case SIGMA_C_NOT:
    case SIGMA_C_TRUE: cnf_always(out); return;
    default: cnf_never(out); return;
    }
}

/* -- databases --------------------------------------------------------------- */

/* A literal as a Hyperscan expression: every byte as \xHH, '^' / '$' when
 * anchored ('$' also matches before a final newline: a superset, as required). */
static char *hex_literal(const char *s, uint32_t n, uint8_t anchor)
{
    static const char hx[] = "0123456789abcdef";
    char *o = malloc((size_t)n * 4 + 3);
    size_t k = 0;
    if (!o)
        return NULL;
    if (anchor & SC_ANCHOR_START)
        o[k++] = '^';
    for (uint32_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        o[k++] = '\\';
        o[k++] = 'x';
        o[k++] = hx[c >> 4];
        o[k++] = hx[c & 15];
    }
    if (anchor & SC_ANCHOR_END)
        o[k++] = '$';
    o[k] = '\0';
    return o;
}

static char *regex_source(const char *s, uint32_t n)
{
    char *o = malloc((size_t)n + 1);
    if (o) {
        memcpy(o, s, n);
        o[n] = '\0';
    }
    return o;
}

/* One database from atom ids ids[0..n). 0, or -1 with sc->why set. */
static int build_db(struct sigma_compiled *sc, const uint32_t *ids, uint32_t n,
                    hs_database_t **db)
{
    char **ex = calloc(n, sizeof(*ex));
    unsigned *fl = calloc(n, sizeof(*fl));
    int rc = -1;
    if (!ex || !fl) {
        snprintf(sc->why, sizeof(sc->why), "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < n; i++) {
        const struct sc_atom *a = &sc->atoms[ids[i]];
        ex[i] = a->regex ? regex_source(a->s, a->n) : hex_literal(a->s, a->n, a->anchor);
        fl[i] = a->flags;
        if (!ex[i]) {
            snprintf(sc->why, sizeof(sc->why), "out of memory");
            goto out;
        }
        sc->st.regex_patterns += a->regex;
    }
    hs_compile_error_t *err = NULL;
    if (hs_compile_multi((const char *const *)ex, fl, ids, n, HS_MODE_BLOCK, NULL, db, &err) !=
        HS_SUCCESS) {
        snprintf(sc->why, sizeof(sc->why), "hyperscan: %s (pattern %d)",
                 err && err->message ? err->message : "compile failed", err ? err->expression : -1);
        hs_free_compile_error(err);
        goto out;
    }
    sc->st.patterns += n;
    sc->st.databases++;
    rc = hs_alloc_scratch(*db, &sc->proto) == HS_SUCCESS ? 0 : -1;
    if (rc)
        snprintf(sc->why, sizeof(sc->why), "hyperscan: cannot allocate scratch");
out:
    for (uint32_t i = 0; ex && i < n; i++)
        free(ex[i]);
    free(ex);
    free(fl);
    return rc;
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return a < b ? -1 : a > b;
}

static _Thread_local const struct sigma_compiled *sort_sc;

/* Order of literal uses: by pattern (case flag, length, bytes), then field. */
static int cmp_pent(const void *x, const void *y)
{
    const struct sc_pent *p = x, *q = y;
    const struct sc_atom *a = &sort_sc->atoms[p->atom], *b = &sort_sc->atoms[q->atom];
    unsigned ca = a->flags & HS_FLAG_CASELESS, cb = b->flags & HS_FLAG_CASELESS;
    if (ca != cb)
        return ca < cb ? -1 : 1;
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    int c = memcmp(a->s, b->s, a->n);
    if (c)
        return c;
    if (p->field != q->field)
        return p->field < q->field ? -1 : 1;
    return p->atom < q->atom ? -1 : p->atom > q->atom;
}

static bool same_pattern(const struct sc_atom *a, const struct sc_atom *b)
{
    return (a->flags & HS_FLAG_CASELESS) == (b->flags & HS_FLAG_CASELESS) && a->n == b->n &&
           !memcmp(a->s, b->s, a->n);
}

/* The kind's literal database: one pattern per distinct (bytes, case), no
 * SINGLEMATCH (a match in another field's segment must not hide a later one in
 * the right segment); the callback checks field and anchors. Consumes nothing;
 * sorts lits. 0, or -1 with sc->why set. */
static int build_lit_db(struct sigma_compiled *sc, struct sc_kind *kd, struct sc_pent *lits,
                        uint32_t n)
{
    sort_sc = sc;
    qsort(lits, n, sizeof(*lits), cmp_pent);
    uint32_t np = 0;
    for (uint32_t i = 0; i < n; i++)
        np += !i || !same_pattern(&sc->atoms[lits[i - 1].atom], &sc->atoms[lits[i].atom]);
    const char **ex = calloc(np, sizeof(*ex));
    unsigned *fl = calloc(np, sizeof(*fl)), *ids = calloc(np, sizeof(*ids));
    size_t *lens = calloc(np, sizeof(*lens));
    kd->pat_len = calloc(np, sizeof(*kd->pat_len));
    kd->pat_off = calloc(np + 1, sizeof(*kd->pat_off));
    kd->pents = malloc(n * sizeof(*kd->pents));
    int rc = -1;
    if (!ex || !fl || !ids || !lens || !kd->pat_len || !kd->pat_off || !kd->pents) {
        snprintf(sc->why, sizeof(sc->why), "out of memory");
        goto out;
    }
    memcpy(kd->pents, lits, n * sizeof(*lits));
    uint32_t p = 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct sc_atom *a = &sc->atoms[lits[i].atom];
        if (i && same_pattern(&sc->atoms[lits[i - 1].atom], a)) {
            kd->pat_off[p]++;
            continue;
        }
        ex[p] = a->s;
        lens[p] = a->n;
        fl[p] = a->flags & HS_FLAG_CASELESS;
        ids[p] = p;
        kd->pat_len[p] = a->n;
        kd->pat_off[++p] = 1;
    }
    for (uint32_t i = 0; i < np; i++) /* counts -> offsets */
        kd->pat_off[i + 1] += kd->pat_off[i];
    kd->npats = np;
    hs_compile_error_t *err = NULL;
    if (hs_compile_lit_multi(ex, fl, ids, lens, np, HS_MODE_BLOCK, NULL, &kd->lit_db, &err) !=
        HS_SUCCESS) {
        snprintf(sc->why, sizeof(sc->why), "hyperscan: %s (literal %d)",
                 err && err->message ? err->message : "compile failed", err ? err->expression : -1);
        hs_free_compile_error(err);
        goto out;
    }
    sc->st.patterns += np;
    sc->st.databases++;
    rc = hs_alloc_scratch(kd->lit_db, &sc->proto) == HS_SUCCESS ? 0 : -1;
    if (rc)
        snprintf(sc->why, sizeof(sc->why), "hyperscan: cannot allocate scratch");
out:
    free(ex);
    free(fl);
    free(ids);
    free(lens);
    return rc;
}

/* Hash of a value for the whole-value table: its length and up to 8 bytes at
 * each end with 0x20 set in every byte (bytes equal under ASCII case folding
 * stay equal, so case-insensitive atoms land in the chain of their values). */
static uint32_t ex_hash(const char *s, size_t n)
{
    uint64_t x = 0, y;
    if (n >= 8) { /* two unaligned loads */
        memcpy(&x, s, 8);
        memcpy(&y, s + n - 8, 8);
    } else { /* short: the same bytes at both ends */
        for (size_t i = 0; i < n; i++)
            x |= (uint64_t)(unsigned char)s[i] << (8 * i);
        y = x;
    }
    x |= 0x2020202020202020ull;
    y |= 0x2020202020202020ull;
    uint64_t h = (x ^ (n * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
    h = (h ^ (h >> 29) ^ y) * 0xc4ceb9fe1a85ec53ull;
    return (uint32_t)(h ^ (h >> 32));
}

/* Compare list order: anchored first, then the unanchored ones grouped by their
 * first byte (case-folded), so one memchr pass serves a group. */
static int cmp_order(const void *x, const void *y)
{
    const struct sc_cmp *a = x, *b = y;
    if (!a->anchor != !b->anchor)
        return a->anchor ? -1 : 1;
    if (a->anchor)
        return 0;
    unsigned ca = (unsigned char)(a->n ? a->s[0] : 0), cb = (unsigned char)(b->n ? b->s[0] : 0);
    ca = ca >= 'A' && ca <= 'Z' ? ca + 32 : ca;
    cb = cb >= 'A' && cb <= 'Z' ? cb + 32 : cb;
    return ca < cb ? -1 : ca > cb;
}

/* Field fi's atoms ids[0..n): literals of >= SC_MIN_LIT bytes into the kind's
 * literal database (lits), shorter ones into the compare list (unanchored ones
 * only while few), the rest (regexes) into the field's own database. Reorders
 * ids. 0 or -1 (sc->why). */
static int field_atoms(struct sigma_compiled *sc, struct sc_field *f, uint32_t fi, uint32_t *ids,
                       uint32_t n, struct sc_pent **lits, uint32_t *nlit, uint32_t *caplit)
{
    uint32_t nunanchored = 0, ndb = 0;
    for (uint32_t i = 0; i < n; i++) {
        const struct sc_atom *a = &sc->atoms[ids[i]];
        nunanchored += !a->regex && a->n < SC_MIN_LIT && !a->anchor;
    }
    bool cmp_unanchored = nunanchored <= SC_MAX_CMP;
    f->lit_raw_covers = f->db_raw_covers = f->fid == SIGMA_FID_KEYWORD;
    f->cmp = malloc(n * sizeof(*f->cmp));
    f->ex_atom = malloc(n * sizeof(*f->ex_atom));
    f->ex_next = malloc(n * sizeof(*f->ex_next));
    f->ex_hash = malloc(n * sizeof(*f->ex_hash));
    uint32_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    f->ex_head = calloc(cap, sizeof(*f->ex_head));
    f->ex_mask = cap - 1;
    if (!f->cmp || !f->ex_atom || !f->ex_next || !f->ex_hash || !f->ex_head)
        goto oom;
    for (uint32_t i = 0; i < n; i++) {
        const struct sc_atom *a = &sc->atoms[ids[i]];
        if (!a->regex && a->anchor == (SC_ANCHOR_START | SC_ANCHOR_END)) {
            uint32_t h = ex_hash(a->s, a->n), b = h & f->ex_mask;
            uint32_t lb = a->n < SC_EXLEN ? a->n : SC_EXLEN - 1;
            f->ex_len[lb >> 6] |= 1ull << (lb & 63);
            f->ex_hash[f->nex] = h;
            f->ex_atom[f->nex] = ids[i];
            f->ex_next[f->nex] = f->ex_head[b];
            f->ex_head[b] = ++f->nex;
        } else if (!a->regex && a->n >= SC_MIN_LIT) {
            f->lit = true;
            f->lit_raw_covers &= !a->anchor;
            if (*nlit == *caplit) {
                uint32_t nc = *caplit ? *caplit * 2 : 256;
                struct sc_pent *np = realloc(*lits, nc * sizeof(*np));
                if (!np)
                    goto oom;
                *lits = np;
                *caplit = nc;
            }
            (*lits)[*nlit].atom = ids[i];
            (*lits)[*nlit].field = (uint16_t)fi;
            (*lits)[*nlit].anchor = a->anchor;
            (*nlit)++;
        } else if (!a->regex && (a->anchor || cmp_unanchored)) {
            struct sc_cmp *c = &f->cmp[f->ncmp++];
            c->atom = ids[i];
            c->anchor = a->anchor;
            c->n = (uint8_t)a->n;
            c->caseless = a->flags & HS_FLAG_CASELESS;
            memcpy(c->s, a->s, a->n);
        } else { /* a regex, or one of many short unanchored literals */
            f->db_raw_covers &= !a->regex;
            ids[ndb++] = ids[i];
        }
    }
    qsort(f->cmp, f->ncmp, sizeof(*f->cmp), cmp_order);
    for (uint32_t i = 0, j; i < f->ncmp; i = j) {
        for (j = i + 1; j < f->ncmp && !cmp_order(&f->cmp[i], &f->cmp[j]);)
            j++;
        if (!f->cmp[i].anchor)
            f->cmp[i].group = (uint8_t)(j - i); /* at most SC_MAX_CMP */
        else
            j = i + 1;
    }
    f->covered_noop = f->fid == SIGMA_FID_KEYWORD && (!f->lit || f->lit_raw_covers) &&
                      (!ndb || f->db_raw_covers) && !f->nex && (!f->ncmp || !f->cmp[0].anchor);
    return ndb ? build_db(sc, ids, ndb, &f->db) : 0;
oom:
    snprintf(sc->why, sizeof(sc->why), "out of memory");
    return -1;
}

/* The index of t's primary clause: the most selective one. */
static uint32_t primary_clause(const struct cnf *t)
{
    uint32_t p = 0;
    for (uint32_t c = 1; c < t->n; c++)
        if (cl_better(&t->c[c], &t->c[p]))
            p = c;
    return p;
}

/* A secondary clause holding an atom outside the literal scan (a regex, a
 * short literal) that no primary clause of the kind uses is taken as true:
 * checking it would cost a scan or compare of every value for the few rules
 * whose primary held, and dropping a clause only adds candidates. */
static bool clause_lazy(const struct sigma_compiled *sc, const struct sc_kind *kd,
                        const struct clause *cl)
{
    for (uint32_t j = 0; j < cl->n; j++) {
        const struct sc_atom *a = &sc->atoms[cl->a[j]];
        if ((a->regex || a->n < SC_MIN_LIT) &&
            kd->atom_off[cl->a[j] + 1] == kd->atom_off[cl->a[j]])
            return true;
    }
    return false;
}

/* Kind k's rule list, always list, primary atom -> rules map and secondary
 * clauses. 0 or -1 (out of memory). */
static int build_rule_maps(struct sigma_compiled *sc, struct sc_kind *kd, uint32_t k,
                           const struct cnf *trig)
{
    const struct sigma_ruleset *rs = sc->rs;
    uint32_t *fill = NULL;
    kd->rules = malloc(kd->nrules * sizeof(*kd->rules));
    kd->always = malloc(kd->nrules * sizeof(*kd->always));
    kd->atom_off = calloc(sc->natoms + 1, sizeof(*kd->atom_off));
    kd->sec_off = calloc(kd->nrules + 1, sizeof(*kd->sec_off));
    fill = calloc(sc->natoms + 1, sizeof(*fill));
    if (!kd->rules || !kd->always || !kd->atom_off || !kd->sec_off || !fill)
        goto oom;
    uint32_t nr = 0, nprim = 0, nsec = 0, nsecatoms = 0;
    for (uint32_t i = 0; i < rs->n; i++) { /* primaries */
        if (rs->rules[i].ls.why || !(rs->rules[i].ls.kinds & (1u << k)))
            continue;
        const struct cnf *t = &trig[i];
        if (!t->n)
            kd->always[kd->nalways++] = nr;
        if (t->n) {
            const struct clause *pc = &t->c[primary_clause(t)];
            for (uint32_t j = 0; j < pc->n; j++)
                kd->atom_off[pc->a[j] + 1]++;
            nprim += pc->n;
        }
        kd->rules[nr++] = i;
    }
    for (uint32_t a = 0; a < sc->natoms; a++)
        kd->atom_off[a + 1] += kd->atom_off[a];
    for (uint32_t r = 0; r < kd->nrules; r++) { /* secondaries */
        const struct cnf *t = &trig[kd->rules[r]];
        uint32_t p = t->n ? primary_clause(t) : 0;
        for (uint32_t c = 0; c < t->n; c++)
            if (c != p && !clause_lazy(sc, kd, &t->c[c])) {
                nsec++;
                nsecatoms += t->c[c].n;
            }
        kd->sec_off[r + 1] = nsec;
    }
    kd->atom_rules = malloc((nprim ? nprim : 1) * sizeof(*kd->atom_rules));
    kd->sec_cl = malloc((nsec + 1) * sizeof(*kd->sec_cl));
    kd->sec_atoms = malloc((nsecatoms ? nsecatoms : 1) * sizeof(*kd->sec_atoms));
    if (!kd->atom_rules || !kd->sec_cl || !kd->sec_atoms)
        goto oom;
    memcpy(fill, kd->atom_off, (sc->natoms + 1) * sizeof(*fill));
    uint32_t cl = 0, na = 0;
    for (uint32_t r = 0; r < kd->nrules; r++) {
        const struct cnf *t = &trig[kd->rules[r]];
        uint32_t p = t->n ? primary_clause(t) : 0;
        for (uint32_t c = 0; c < t->n; c++) {
            if (c == p) {
                for (uint32_t j = 0; j < t->c[c].n; j++)
                    kd->atom_rules[fill[t->c[c].a[j]]++] = r;
                continue;
            }
            if (clause_lazy(sc, kd, &t->c[c]))
                continue;
            kd->sec_cl[cl++] = na;
            memcpy(kd->sec_atoms + na, t->c[c].a, t->c[c].n * sizeof(*kd->sec_atoms));
            na += t->c[c].n;
        }
    }
    kd->sec_cl[cl] = na;
    free(fill);
    return 0;
oom:
    free(fill);
    return -1;
}

/* Does the kind use atom a (in a primary or a secondary clause)? */
static void mark_used(const struct sc_kind *kd, uint8_t *used)
{
    uint32_t nsec = kd->sec_off[kd->nrules];
    for (uint32_t j = 0; j < kd->sec_cl[nsec]; j++)
        used[kd->sec_atoms[j]] = 1;
}

/* Kind k: rule maps, fields and databases. 0 or -1 (sc->why). */
static int build_kind(struct sigma_compiled *sc, uint32_t k, const struct cnf *trig)
{
    const struct sigma_ruleset *rs = sc->rs;
    struct sc_kind *kd = &sc->kinds[k];
    uint32_t *keyatoms = NULL;
    uint8_t *used = NULL;
    bool *done = NULL;
    struct sc_pent *lits = NULL;
    uint32_t nlit = 0, caplit = 0;
    int rc = -1;
    for (uint32_t i = 0; i < rs->n; i++)
        kd->nrules += !rs->rules[i].ls.why && (rs->rules[i].ls.kinds & (1u << k));
    if (!kd->nrules)
        return 0;
    if (build_rule_maps(sc, kd, k, trig))
        goto oom;
    used = calloc(sc->natoms + 1, 1);
    keyatoms = malloc((sc->natoms ? sc->natoms : 1) * sizeof(*keyatoms));
    kd->fields = calloc(sc->nkeys ? sc->nkeys : 1, sizeof(*kd->fields));
    done = calloc(sc->nkeys ? sc->nkeys : 1, sizeof(*done));
    if (!used || !keyatoms || !kd->fields || !done)
        goto oom;
    for (uint32_t a = 0; a < sc->natoms; a++)
        used[a] = kd->atom_off[a + 1] > kd->atom_off[a];
    mark_used(kd, used);
    kd->computed = calloc(sc->natoms / 64 + 1, sizeof(*kd->computed));
    if (!kd->computed)
        goto oom;
    for (uint32_t a = 0; a < sc->natoms; a++) /* regexes are prefilters: never "absent" */
        if (used[a] && !sc->atoms[a].regex)
            kd->computed[a >> 6] |= 1ull << (a & 63);
    /* fields: group the kind's atoms by field (fid; JSON/keyword: fid + name) */
    for (uint32_t key = 0; key < sc->nkeys; key++) {
        if (done[key])
            continue;
        int fid = sc->keys[key].fid;
        bool by_name = fid == SIGMA_FID_JSON || fid == SIGMA_FID_KEYWORD;
        uint32_t na = 0;
        for (uint32_t a = 0; a < sc->natoms; a++) {
            const struct sc_key *ak = &sc->keys[sc->atoms[a].key];
            bool same = by_name ? sc->atoms[a].key == key : ak->fid == fid;
            if (same && used[a])
                keyatoms[na++] = a;
        }
        struct sc_field *f = &kd->fields[kd->nfields];
        f->fid = fid;
        f->name = by_name ? sc->keys[key].name : NULL;
        if (!by_name) { /* every Sigma name mapped to fid: the JSON fallback */
            f->fallback = calloc(sc->nkeys, sizeof(*f->fallback));
            if (!f->fallback)
                goto oom;
        }
        for (uint32_t o = key; o < sc->nkeys; o++) {
            if (by_name ? o != key : sc->keys[o].fid != fid)
                continue;
            done[o] = true;
            if (!by_name && sc->keys[o].name)
                f->fallback[f->nfallback++] = sc->keys[o].name;
        }
        if (!na) {
            free(f->fallback);
            memset(f, 0, sizeof(*f));
            continue;
        }
        uint32_t fi = kd->nfields++;
        if (field_atoms(sc, f, fi, keyatoms, na, &lits, &nlit, &caplit))
            goto out;
    }
    if (nlit && build_lit_db(sc, kd, lits, nlit))
        goto out;
    rc = 0;
    goto out;
oom:
    snprintf(sc->why, sizeof(sc->why), "out of memory");
out:
    free(used);
    free(done);
    free(keyatoms);
    free(lits);
    return rc;
}

static double now_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct sigma_compiled *sigma_compiled_build(const struct sigma_ruleset *rs)
{
    double t0 = now_wall();
    struct sigma_compiled *sc = calloc(1, sizeof(*sc));
    if (!sc)
        return NULL;
    sc->rs = rs;
    for (int id = 0; id < CW_F__COUNT; id++) {
        const struct cw_field_info *fi = cw_field_info((enum cw_field_id)id);
        sc->ftype[id] = fi ? (uint8_t)fi->type : 0;
    }
    uint32_t nl = 0;
    sc->regex_ok = pcre2_config(PCRE2_CONFIG_NEWLINE, &nl) >= 0 && nl == PCRE2_NEWLINE_LF;
    struct cnf *trig = calloc(rs->n ? rs->n : 1, sizeof(*trig));
    if (!trig) {
        free(sc);
        return NULL;
    }
    for (uint32_t i = 0; i < rs->n && !sc->why[0]; i++) {
        const struct sigma_entry *e = &rs->rules[i];
        if (e->ls.why || !e->ls.kinds)
            continue;
        cond_cnf(sc, &e->rule, e->rule.cond, &trig[i]);
        if (trig[i].oom) {
            snprintf(sc->why, sizeof(sc->why), "out of memory");
            break;
        }
        sc->st.rules++;
        sc->st.always += !trig[i].n;
        sc->st.prefiltered += trig[i].n > 0;
        for (uint32_t c = 0; c < trig[i].n; c++) { /* deduplicate each clause's atoms */
            struct clause *cl = &trig[i].c[c];
            if (cl->n)
                qsort(cl->a, cl->n, sizeof(*cl->a), cmp_u32);
            uint32_t w = 0;
            for (uint32_t j = 0; j < cl->n; j++)
                if (!w || cl->a[w - 1] != cl->a[j])
                    cl->a[w++] = cl->a[j];
            cl->n = w;
        }
    }
    for (uint32_t k = 0; k < SC_KINDS && k < CW_KIND__COUNT && !sc->why[0]; k++) {
        if (build_kind(sc, k, trig))
            break;
        if (sc->kinds[k].nrules) {
            sc->st.kinds++;
            uint32_t w = (sc->kinds[k].nrules + 63) / 64;
            if (w > sc->maxwords)
                sc->maxwords = w;
            if (sc->kinds[k].nrules > sc->maxrules)
                sc->maxrules = sc->kinds[k].nrules;
            if (sc->kinds[k].nfields > sc->maxfields)
                sc->maxfields = sc->kinds[k].nfields;
        }
    }
    for (uint32_t i = 0; i < rs->n; i++)
        cnf_free(&trig[i]);
    free(trig);
    free(sc->ht);
    sc->ht = NULL;
    sc->st.compile_seconds = now_wall() - t0;
    return sc;
}

static void cthread_free(struct sigma_cthread *t)
{
    if (!t)
        return;
    sigma_evalctx_free(t->ec);
    if (t->scratch)
        hs_free_scratch(t->scratch);
    free(t->bits);
    free(t->have);
    free(t->touched);
    free(t->amatch);
    free(t->alist);
    free(t->fhead);
    free(t->buf);
    free(t->segs);
    free(t->spans);
    free(t);
}

void sigma_compiled_free(struct sigma_compiled *sc)
{
    if (!sc)
        return;
    for (uint32_t i = 0; i < SC_POOL; i++)
        cthread_free(sc->pool[i]);
    for (uint32_t k = 0; k < SC_KINDS; k++) {
        struct sc_kind *kd = &sc->kinds[k];
        for (uint32_t f = 0; kd->fields && f < sc->nkeys; f++) {
            if (kd->fields[f].db)
                hs_free_database(kd->fields[f].db);
            free(kd->fields[f].fallback);
            free(kd->fields[f].cmp);
            free(kd->fields[f].ex_head);
            free(kd->fields[f].ex_atom);
            free(kd->fields[f].ex_next);
            free(kd->fields[f].ex_hash);
        }
        free(kd->fields);
        free(kd->rules);
        free(kd->always);
        free(kd->atom_off);
        free(kd->atom_rules);
        free(kd->sec_off);
        free(kd->sec_cl);
        free(kd->sec_atoms);
        free(kd->computed);
        if (kd->lit_db)
            hs_free_database(kd->lit_db);
        free(kd->pat_len);
        free(kd->pat_off);
        free(kd->pents);
    }
    if (sc->proto)
        hs_free_scratch(sc->proto);
    free(sc->amap_k);
    free(sc->amap_v);
    for (uint32_t i = 0; i < sc->nowned; i++)
        free(sc->owned[i]);
    free(sc->owned);
    free(sc->keys);
    free(sc->atoms);
    free(sc->ht);
    free(sc);
}

const char *sigma_compiled_failed(const struct sigma_compiled *sc)
{
    return sc->why[0] ? sc->why : NULL;
}

void sigma_compiled_get_stats(const struct sigma_compiled *sc, struct sigma_compiled_stats *st)
{
    *st = sc->st;
}

/* -- matching ------------------------------------------------------------------ */

static inline bool atom_seen(const struct sigma_cthread *t, uint32_t id);

/* Evaluation hint: a glob whose literal atom the kind checks on every record and
 * that did not occur cannot match any value of its field (every value the
 * evaluator can fetch was scanned, raw and normalised). */
static bool alt_absent(void *arg, const struct sigma_alt *a)
{
    const struct sigma_cthread *t = arg;
    if (!t->hints || t->scan_failed)
        return false;
    uint32_t id = amap_get(t->sc, a);
    return id != UINT32_MAX && ((t->kind->computed[id >> 6] >> (id & 63)) & 1) &&
           !atom_seen(t, id);
}

static struct sigma_cthread *cthread_new(const struct sigma_compiled *sc)
{
    struct sigma_cthread *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->ec = sigma_evalctx_new();
    t->bits = calloc(sc->maxwords ? sc->maxwords : 1, sizeof(*t->bits));
    t->have = calloc(sc->maxrules ? sc->maxrules : 1, sizeof(*t->have));
    t->touched = calloc(sc->maxrules ? sc->maxrules : 1, sizeof(*t->touched));
    t->amatch = calloc(sc->natoms / 64 + 1, sizeof(*t->amatch));
    t->alist = calloc(sc->natoms + 1, sizeof(*t->alist));
    t->fhead = calloc(sc->maxfields + 1, sizeof(*t->fhead));
    if (!t->ec || !t->bits || !t->have || !t->touched || !t->amatch || !t->alist || !t->fhead ||
        (sc->proto && hs_clone_scratch(sc->proto, &t->scratch))) {
        cthread_free(t);
        return NULL;
    }
    sigma_evalctx_set_hint(t->ec, alt_absent, t);
    return t;
}

struct sigma_cthread *sigma_compiled_acquire(const struct sigma_compiled *sc)
{
    /* The pool is a cache beside the immutable compiled form; its slots are
     * claimed with one atomic exchange each. */
    struct sigma_compiled *m = (struct sigma_compiled *)sc;
    for (uint32_t i = 0; i < SC_POOL; i++) {
        struct sigma_cthread *t = __atomic_load_n(&m->pool[i], __ATOMIC_ACQUIRE);
        if (!t) {
            struct sigma_cthread *n = cthread_new(sc);
            if (!n)
                return NULL;
            atomic_store(&n->busy, 1);
            struct sigma_cthread *expect = NULL;
            if (__atomic_compare_exchange_n(&m->pool[i], &expect, n, false, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE))
                return n;
            cthread_free(n);
            t = expect;
        }
        if (atomic_exchange(&t->busy, 1) == 0)
            return t;
    }
    struct sigma_cthread *t = cthread_new(sc);
    if (t)
        t->temp = true;
    return t;
}

void sigma_compiled_release(const struct sigma_compiled *sc, struct sigma_cthread *t)
{
    (void)sc;
    if (!t)
        return;
    if (t->temp)
        cthread_free(t);
    else
        atomic_store(&t->busy, 0);
}

/* Atom id occurs in the record: remember it, and the rules whose primary
 * clause it satisfies. */
static inline void mark_atom(struct sigma_cthread *t, const struct sc_kind *kd, uint32_t id)
{
    uint64_t bit = 1ull << (id & 63);
    if (t->amatch[id >> 6] & bit)
        return;
    t->amatch[id >> 6] |= bit;
    t->alist[t->nalist++] = id;
    for (uint32_t j = kd->atom_off[id]; j < kd->atom_off[id + 1]; j++) {
        uint32_t r = kd->atom_rules[j];
        if (!t->have[r]) {
            t->have[r] = 1;
            t->touched[t->ntouched++] = r;
        }
    }
}

static inline bool atom_seen(const struct sigma_cthread *t, uint32_t id)
{
    return (t->amatch[id >> 6] >> (id & 63)) & 1;
}

/* Every secondary clause of rule r has an atom that occurred. */
static bool secondaries_hold(const struct sigma_cthread *t, const struct sc_kind *kd, uint32_t r)
{
    for (uint32_t c = kd->sec_off[r]; c < kd->sec_off[r + 1]; c++) {
        bool any = false;
        for (uint32_t j = kd->sec_cl[c]; j < kd->sec_cl[c + 1] && !any; j++)
            any = atom_seen(t, kd->sec_atoms[j]);
        if (!any)
            return false;
    }
    return true;
}

static int on_match(unsigned int id, unsigned long long from, unsigned long long to,
                    unsigned int flags, void *ctx)
{
    struct sigma_cthread *t = ctx;
    (void)from;
    (void)to;
    (void)flags;
    mark_atom(t, t->kind, id);
    return 0;
}

/* A literal pattern ended at `to` of the scan buffer: it counts for the uses
 * whose field has a segment holding all its bytes, anchors respected. Segments
 * may overlap (fields inside the raw line). */
static int on_lit(unsigned int id, unsigned long long from, unsigned long long to,
                  unsigned int flags, void *ctx)
{
    struct sigma_cthread *t = ctx;
    const struct sc_kind *kd = t->kind;
    (void)from;
    (void)flags;
    uint32_t end = (uint32_t)to, start = end - kd->pat_len[id];
    for (uint32_t j = kd->pat_off[id]; j < kd->pat_off[id + 1]; j++) {
        const struct sc_pent *e = &kd->pents[j];
        if (atom_seen(t, e->atom))
            continue;
        for (uint32_t g = t->fhead[e->field]; g != SC_NOSEG; g = t->segs[g].next) {
            const struct sc_seg *sg = &t->segs[g];
            if (start < sg->start || end > sg->end ||
                ((e->anchor & SC_ANCHOR_START) && start != sg->start) ||
                ((e->anchor & SC_ANCHOR_END) && end != sg->end))
                continue;
            mark_atom(t, kd, e->atom);
            break;
        }
    }
    return 0;
}

static void scan(struct sigma_cthread *t, const hs_database_t *db, const char *s, size_t n)
{
    if (n > UINT_MAX)
        n = UINT_MAX; /* cannot happen for records (lines are bounded) */
    if (hs_scan(db, s ? s : "", (unsigned)n, 0, t->scratch, on_match, t) != HS_SUCCESS)
        t->scan_failed = true; /* every rule of the kind becomes a candidate */
}

/* Room for n more bytes in the scan buffer and one more segment. */
static bool buf_room(struct sigma_cthread *t, size_t n)
{
    if (n > UINT32_MAX - 1 - t->nbuf)
        return false;
    if (t->nbuf + n > t->capbuf) {
        size_t nc = t->capbuf ? t->capbuf : 4096;
        while (nc < t->nbuf + n)
            nc *= 2;
        char *nb = realloc(t->buf, nc);
        if (!nb)
            return false;
        t->buf = nb;
        t->capbuf = nc;
    }
    if (t->nsegs == t->capsegs) {
        uint32_t nc = t->capsegs ? t->capsegs * 2 : 64;
        struct sc_seg *ns = realloc(t->segs, nc * sizeof(*ns));
        if (!ns)
            return false;
        t->segs = ns;
        t->capsegs = nc;
    }
    return true;
}

/* Bytes [start, end) of the buffer are a value of field fi. */
static void seg_new(struct sigma_cthread *t, uint32_t fi, uint32_t start, uint32_t end)
{
    struct sc_seg *g = &t->segs[t->nsegs];
    g->start = start;
    g->end = end;
    g->next = t->fhead[fi];
    t->fhead[fi] = t->nsegs++;
}

/* Copy a value of field fi into the buffer as a segment of its own. */
static void seg_copy(struct sigma_cthread *t, uint32_t fi, const char *s, size_t n)
{
    if (!buf_room(t, n)) {
        t->scan_failed = true;
        return;
    }
    memcpy(t->buf + t->nbuf, s, n);
    seg_new(t, fi, (uint32_t)t->nbuf, (uint32_t)(t->nbuf + n));
    t->nbuf += n;
}

/* A value of field fi for the literal scan: a span when it lies inside the raw
 * line (placed once every field is taken), else a copy. */
static void seg_add(struct sigma_cthread *t, uint32_t fi, const char *s, size_t n,
                    const struct cw_record *rec)
{
    if (!n)
        return; /* no literal is empty */
    uintptr_t p = (uintptr_t)s, r0 = (uintptr_t)rec->raw;
    if (!rec->raw || p < r0 || p > r0 + rec->raw_len || n > r0 + rec->raw_len - p) {
        seg_copy(t, fi, s, n);
        return;
    }
    if (t->nspans == t->capspans) {
        uint32_t nc = t->capspans ? t->capspans * 2 : 32;
        struct sc_span *ns = realloc(t->spans, nc * sizeof(*ns));
        if (!ns) {
            t->scan_failed = true;
            return;
        }
        t->spans = ns;
        t->capspans = nc;
    }
    t->spans[t->nspans].off = (uint32_t)(p - r0);
    t->spans[t->nspans].len = (uint32_t)n;
    t->spans[t->nspans].field = fi;
    t->nspans++;
    t->span_bytes += n;
}

/* The spans: when they add up to the raw line or more, the raw line is scanned
 * once and they point into it; else each is copied (fewer bytes to scan). */
static void place_spans(struct sigma_cthread *t, const struct cw_record *rec)
{
    if (!t->nspans)
        return;
    if (t->span_bytes >= rec->raw_len) {
        uint32_t base = (uint32_t)t->nbuf;
        for (uint32_t i = 0; i < t->nspans; i++) {
            if (!buf_room(t, i ? 0 : rec->raw_len)) {
                t->scan_failed = true;
                return;
            }
            if (!i) {
                memcpy(t->buf + t->nbuf, rec->raw, rec->raw_len);
                t->nbuf += rec->raw_len;
            }
            const struct sc_span *sp = &t->spans[i];
            seg_new(t, sp->field, base + sp->off, base + sp->off + sp->len);
        }
        return;
    }
    for (uint32_t i = 0; i < t->nspans; i++)
        seg_copy(t, t->spans[i].field, rec->raw + t->spans[i].off, t->spans[i].len);
}

static inline unsigned char fold_ascii(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static bool eq_bytes(const char *a, const char *b, size_t n, bool caseless)
{
    if (!caseless) /* ASCII folding, as Hyperscan's */
        return !memcmp(a, b, n);
    for (size_t k = 0; k < n; k++)
        if (fold_ascii((unsigned char)a[k]) != fold_ascii((unsigned char)b[k]))
            return false;
    return true;
}

/* Does the anchored short literal a occur in s[0..n) where its anchor says? */
static bool cmp_hit(const struct sc_cmp *a, const char *s, size_t n)
{
    if (a->n > n)
        return false;
    switch (a->anchor) {
    case SC_ANCHOR_START | SC_ANCHOR_END: return a->n == n && eq_bytes(a->s, s, n, a->caseless);
    case SC_ANCHOR_START: return eq_bytes(a->s, s, a->n, a->caseless);
    default: return eq_bytes(a->s, s + n - a->n, a->n, a->caseless);
    }
}

/* The unanchored short literals g[0..ng) (one first byte, case-folded) in
 * s[0..n): one pass of memchr over that byte (both cases for a letter), each
 * occurrence checked against every literal of the group not yet seen. */
static void cmp_group(struct sigma_cthread *t, const struct sc_cmp *g, uint32_t ng, const char *s,
                      size_t n)
{
    unsigned char c = (unsigned char)g[0].s[0];
    bool letter = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
    uint32_t left = 0;
    for (uint32_t k = 0; k < ng; k++)
        left += !atom_seen(t, g[k].atom);
    for (size_t i = 0; i < n && left;) {
        const char *q;
        if (letter) {
            const char *lo = memchr(s + i, c | 0x20, n - i);
            const char *up = memchr(s + i, c & ~0x20, lo ? (size_t)(lo - (s + i)) : n - i);
            q = up ? up : lo;
        } else {
            q = memchr(s + i, c, n - i);
        }
        if (!q)
            return;
        i = (size_t)(q - s);
        for (uint32_t k = 0; k < ng; k++)
            if (g[k].n <= n - i && !atom_seen(t, g[k].atom) &&
                eq_bytes(g[k].s, s + i, g[k].n, g[k].caseless)) {
                mark_atom(t, t->kind, g[k].atom);
                left--;
            }
        i++;
    }
}

/* One value of field fi: into the literal scan (unless covered by the raw line),
 * compared with the short literals, through the field's own database. covered:
 * a keyword value lying inside the raw line, which is taken too. */
static void take_value(struct sigma_cthread *t, const struct sc_field *f, uint32_t fi,
                       const char *s, size_t n, bool covered, const struct cw_record *rec)
{
    if (f->lit && !(covered && f->lit_raw_covers))
        seg_add(t, fi, s, n, rec);
    if (f->db && !(covered && f->db_raw_covers))
        scan(t, f->db, s, n);
    size_t lb = n < SC_EXLEN ? n : SC_EXLEN - 1;
    if ((f->ex_len[lb >> 6] >> (lb & 63)) & 1) { /* whole values of that length: a probe */
        uint32_t h = ex_hash(s, n);
        for (uint32_t e = f->ex_head[h & f->ex_mask]; e; e = f->ex_next[e - 1]) {
            if (f->ex_hash[e - 1] != h)
                continue;
            const struct sc_atom *a = &t->sc->atoms[f->ex_atom[e - 1]];
            if (a->n == n && eq_bytes(a->s, s, n, a->flags & HS_FLAG_CASELESS))
                mark_atom(t, t->kind, f->ex_atom[e - 1]);
        }
    }
    uint32_t i = 0;
    for (; i < f->ncmp && f->cmp[i].anchor; i++) { /* anchored: compares */
        const struct sc_cmp *c = &f->cmp[i];
        if (!atom_seen(t, c->atom) && cmp_hit(c, s, n))
            mark_atom(t, t->kind, c->atom);
    }
    /* unanchored: a group per first byte (a covered value lies in the raw line,
     * which is taken too) */
    for (; i < f->ncmp && !covered; i += f->cmp[i].group)
        cmp_group(t, f->cmp + i, f->cmp[i].group, s, n);
}

/* Slot k (0 path, 1 query) of the URL memo, normalised once per record; NULL
 * when the field has no value. */
static const char *url_part(struct sigma_cthread *t, int k, const struct cw_record *rec,
                            size_t *n, size_t *nn)
{
    int fid = k ? CW_F_HTTP_QUERY : CW_F_HTTP_PATH;
    if (t->vgen[fid] != t->gen)
        return NULL;
    const struct cw_value *v = &rec->vals[t->vidx[fid]];
    if (t->ugen[k] != t->gen || t->us[k] != v->v.s || t->un[k] != v->len) {
        t->ugen[k] = t->gen;
        t->us[k] = v->v.s;
        t->un[k] = v->len;
        t->unn[k] = sigma_url_normalize(v->v.s, v->len, t->unorm[k], sizeof(t->unorm[k]));
    }
    *n = t->un[k];
    *nn = t->unn[k];
    return t->unorm[k];
}

/* s[0..n) normalised as sigma_url_normalize would (the evaluator's second form
 * of a URL value), using the memo: the first path or query value itself, or
 * path '?' query back to back (http.url in place). Escapes and overlong
 * sequences cannot span a '?' (it is neither a hex digit, 'u' nor a UTF-8
 * continuation byte) and decoding never grows a value, so below 4096 bytes (the
 * normaliser's re-decode limit) normalising the joined URL is joining the
 * normalised parts; test_sigma_compile checks this on random URLs. */
static const char *url_normal(struct sigma_cthread *t, const char *s, size_t n,
                              const struct cw_record *rec, size_t *nn)
{
    size_t pn = 0, pnn = 0, qn = 0, qnn = 0;
    const char *p = url_part(t, 0, rec, &pn, &pnn);
    if (p && s == t->us[0] && n == pn) {
        *nn = pnn;
        return p;
    }
    const char *q = url_part(t, 1, rec, &qn, &qnn);
    if (q && s == t->us[1] && n == qn) {
        *nn = qnn;
        return q;
    }
    if (p && q && s == t->us[0] && n == pn + 1 + qn && n <= 4096 && s[pn] == '?' &&
        t->us[1] == s + pn + 1) {
        memcpy(t->norm, p, pnn);
        t->norm[pnn] = '?';
        memcpy(t->norm + pnn + 1, q, qnn);
        *nn = pnn + 1 + qnn;
        return t->norm;
    }
    *nn = sigma_url_normalize(s, n, t->norm, sizeof(t->norm));
    return t->norm;
}

static void take_url_value(struct sigma_cthread *t, const struct sc_field *f, uint32_t fi,
                           const char *s, size_t n, const struct cw_record *rec)
{
    take_value(t, f, fi, s, n, false, rec);
    if (sigma_is_url_field(f->fid) && n && memchr(s, '%', n)) {
        size_t nn;
        const char *ns = url_normal(t, s, n, rec, &nn);
        if (nn != n || memcmp(s, ns, n)) /* identical: nothing new to find */
            take_value(t, f, fi, ns, nn, false, rec);
    }
}

/* http.url where its bytes already lie in the record (path '?' query back to
 * back, or the path alone), exactly the value the evaluator builds in its
 * scratch (url_value in sigma_eval.c); false: let the evaluator build it. */
static bool url_in_place(const struct sigma_cthread *t, const struct cw_record *rec,
                         const char **s, size_t *n)
{
    size_t pn = 0, qn = 0; /* the first values, as cw_record_str finds them */
    const char *p = NULL, *q = NULL;
    if (t->vgen[CW_F_HTTP_PATH] == t->gen) {
        p = rec->vals[t->vidx[CW_F_HTTP_PATH]].v.s;
        pn = rec->vals[t->vidx[CW_F_HTTP_PATH]].len;
    }
    if (t->vgen[CW_F_HTTP_QUERY] == t->gen) {
        q = rec->vals[t->vidx[CW_F_HTTP_QUERY]].v.s;
        qn = rec->vals[t->vidx[CW_F_HTTP_QUERY]].len;
    }
    if (!p)
        return false;
    *s = p;
    *n = pn;
    if (!q || pn + qn + 1 > SIGMA_URL_MAX)
        return true;
    *n = pn + 1 + qn;
    return q == p + pn + 1 && p[pn] == '?';
}

/* v as "%lld" would print it. */
static size_t fmt_i64(char *out, int64_t v)
{
    char tmp[24];
    size_t k = 0, n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[k++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        out[n++] = '-';
    while (k)
        out[n++] = tmp[--k];
    return n;
}

/* A catalogue field's value exactly as sigma_eval_field gives it, without its
 * general path (the hot fields of every record). */
static bool catalogue_value(struct sigma_cthread *t, const struct cw_record *rec, int fid,
                            const char **s, size_t *n)
{
    if (t->vgen[fid] != t->gen)
        return false;
    const struct cw_value *v = &rec->vals[t->vidx[fid]]; /* the first, as cw_record_get */
    if (t->sc->ftype[fid] == CW_FT_INT) {
        *n = fmt_i64(t->num, v->v.i);
        *s = t->num;
    } else {
        *s = v->v.s;
        *n = v->len;
    }
    return true;
}

static void take_field(struct sigma_cthread *t, const struct sc_field *f, uint32_t fi,
                       const struct cw_record *rec)
{
    const char *s;
    size_t n;
    if (f->fid == SIGMA_FID_KEYWORD) { /* as keyword_one() in sigma_eval.c */
        uintptr_t r0 = (uintptr_t)rec->raw, r1 = r0 + (rec->raw ? rec->raw_len : 0);
        for (uint16_t i = 0; i < rec->nvals; i++) {
            const struct cw_value *v = &rec->vals[i];
            if (v->id >= CW_F__COUNT || t->sc->ftype[v->id] != CW_FT_STR)
                continue;
            uintptr_t p = (uintptr_t)v->v.s;
            bool covered = r0 && p >= r0 && p <= r1 && v->len <= r1 - p;
            if (!covered || !f->covered_noop)
                take_value(t, f, fi, v->v.s, v->len, covered, rec);
        }
        if (rec->raw)
            take_value(t, f, fi, rec->raw, rec->raw_len, false, rec);
        return;
    }
    /* the JSON fallback finds nothing unless the raw line is a JSON object (as
     * json_lookup in sigma_eval.c decides) */
    bool json = rec->raw && rec->raw_len && rec->raw[0] == '{';
    if (f->fid == SIGMA_FID_JSON) {
        if (json && sigma_eval_field(t->ec, f->fid, f->name, &s, &n))
            take_url_value(t, f, fi, s, n, rec);
        return;
    }
    bool catalogue = f->fid > CW_F_NONE && f->fid < CW_F__COUNT;
    if ((catalogue && catalogue_value(t, rec, f->fid, &s, &n)) ||
        (f->fid == SIGMA_FID_HTTP_URL && url_in_place(t, rec, &s, &n)) ||
        (!catalogue && sigma_eval_field(t->ec, f->fid, NULL, &s, &n))) {
        take_url_value(t, f, fi, s, n, rec);
        return;
    }
    for (uint32_t i = 0; json && i < f->nfallback; i++)
        if (sigma_eval_field(t->ec, f->fid, f->fallback[i], &s, &n))
            take_url_value(t, f, fi, s, n, rec);
}

int sigma_compiled_eval(const struct sigma_compiled *sc, struct sigma_cthread *t,
                        const struct cw_record *rec, sigma_hit_fn fn, void *arg)
{
    t->candidates = 0;
    if (rec->kind >= CW_KIND__COUNT && rec->kind < SC_KINDS) /* no such records today */
        return sigma_ruleset_eval(sc->rs, t->ec, rec, fn, arg);
    if (rec->kind >= SC_KINDS || !sc->kinds[rec->kind].nrules)
        return 0;
    const struct sc_kind *kd = &sc->kinds[rec->kind];
    uint32_t words = (kd->nrules + 63) / 64;
    int hits = 0;
    memset(t->bits, 0, words * sizeof(*t->bits));
    sigma_evalctx_reset(t->ec, rec);
    t->kind = kd;
    t->sc = sc;
    t->scan_failed = false;
    for (uint32_t i = 0; i < kd->nalways; i++)
        t->bits[kd->always[i] >> 6] |= 1ull << (kd->always[i] & 63);
    t->ntouched = 0;
    t->nbuf = 0;
    t->nsegs = 0;
    t->nspans = 0;
    t->span_bytes = 0;
    for (uint32_t f = 0; f < kd->nfields; f++)
        t->fhead[f] = SC_NOSEG;
    if (++t->gen == 0) { /* wrapped: forget every stamp */
        memset(t->vgen, 0, sizeof(t->vgen));
        memset(t->ugen, 0, sizeof(t->ugen));
        t->gen = 1;
    }
    for (uint16_t i = 0; i < rec->nvals; i++) {
        unsigned id = rec->vals[i].id;
        if (id < CW_F__COUNT && t->vgen[id] != t->gen) {
            t->vgen[id] = t->gen;
            t->vidx[id] = i;
        }
    }
    for (uint32_t f = 0; f < kd->nfields; f++)
        take_field(t, &kd->fields[f], f, rec);
    place_spans(t, rec);
    if (kd->lit_db && t->nsegs &&
        hs_scan(kd->lit_db, t->buf, (unsigned)t->nbuf, 0, t->scratch, on_lit, t) != HS_SUCCESS)
        t->scan_failed = true;
    for (uint32_t i = 0; i < t->ntouched; i++) { /* every clause holds: a candidate */
        uint32_t r = t->touched[i];
        if (secondaries_hold(t, kd, r))
            t->bits[r >> 6] |= 1ull << (r & 63);
        t->have[r] = 0;
    }
    if (t->scan_failed)
        memset(t->bits, 0xff, words * sizeof(*t->bits));
    t->hints = true;
    for (uint32_t w = 0; w < words; w++) {
        uint64_t b = t->bits[w];
        while (b) {
            uint32_t r = w * 64 + (uint32_t)__builtin_ctzll(b);
            b &= b - 1;
            if (r >= kd->nrules)
                break;
            const struct sigma_entry *e = &sc->rs->rules[kd->rules[r]];
            struct sigma_why why;
            t->candidates++;
            if (!sigma_logsource_admits(&e->ls, rec) || !sigma_eval_rule(&e->rule, t->ec, &why))
                continue;
            hits++;
            if (fn)
                fn(arg, e, &why);
        }
    }
    t->hints = false;
    for (uint32_t i = 0; i < t->nalist; i++)
        t->amatch[t->alist[i] >> 6] = 0;
    t->nalist = 0;
    return hits;
}

uint32_t sigma_compiled_last_candidates(const struct sigma_cthread *t) { return t->candidates; }
