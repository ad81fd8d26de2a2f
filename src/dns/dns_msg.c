/* dns_msg.c - DNS message parsing and building; see dns_msg.h for the contract.
 *
 * Every read goes through rd16/rd32 after an explicit "is there room" check; no
 * function trusts a count or a length from the packet before comparing it with
 * the bytes that are really there. */
#include "dns/dns_msg.h"

#include <string.h>

#include "common/banned.h"

static uint16_t rd16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static uint32_t rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}
static void wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void wr32(uint8_t *p, uint32_t v)
{
    wr16(p, (uint16_t)(v >> 16));
    wr16(p + 2, (uint16_t)v);
}
static uint8_t lower_c(uint8_t c) { return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c; }

const char *cw_dns_strerror(int err)
{
    switch (err) {
    case CW_DNS_OK: return "ok";
    case CW_DNS_E_SHORT_HDR: return "message shorter than the DNS header";
    case CW_DNS_E_TRUNC_NAME: return "name runs past the end of the message";
    case CW_DNS_E_LABEL_LEN: return "label longer than 63 bytes or empty";
    case CW_DNS_E_NAME_LEN: return "name longer than 255 bytes";
    case CW_DNS_E_PTR_LOOP: return "compression pointer loop";
    case CW_DNS_E_PTR_FORWARD: return "compression pointer points forward";
    case CW_DNS_E_LABEL_TYPE: return "unsupported label type";
    case CW_DNS_E_TRUNC_RR: return "record runs past the end of the message";
    case CW_DNS_E_COUNTS: return "section counts larger than the message";
    case CW_DNS_E_EDNS: return "malformed EDNS OPT record";
    case CW_DNS_E_TOO_MANY: return "too many records";
    case CW_DNS_E_NOSPACE: return "no space for the reply";
    case CW_DNS_E_ARG: return "invalid argument";
    case CW_DNS_E_NO_QUESTION: return "no question";
    default: return "unknown DNS error";
    }
}

/* -- names ---------------------------------------------------------------- */

/* Termination argument: a pointer must point before the start of the run of
 * labels it belongs to (run = the bytes read since the last jump), so run starts
 * strictly decrease and the walk ends; CW_DNS_MAX_PTRS is a second belt. */
int cw_dns_name_unpack(const uint8_t *pkt, size_t len, size_t off, bool lower,
                       uint8_t out[CW_DNS_NAME_MAX], size_t *out_len, size_t *next)
{
    size_t pos = off, run_start = off, wlen = 0, after = 0;
    int ptrs = 0;
    for (;;) {
        if (pos >= len)
            return CW_DNS_E_TRUNC_NAME;
        uint8_t c = pkt[pos];
        if ((c & 0xC0) == 0xC0) {
            if (pos + 1 >= len)
                return CW_DNS_E_TRUNC_NAME;
            size_t target = (size_t)(((c & 0x3F) << 8) | pkt[pos + 1]);
            if (target > pos)
                return CW_DNS_E_PTR_FORWARD;
            if (target >= run_start || ++ptrs > CW_DNS_MAX_PTRS)
                return CW_DNS_E_PTR_LOOP;
            if (!after)
                after = pos + 2;
            pos = run_start = target;
            continue;
        }
        if (c & 0xC0) /* 01xxxxxx reads as a label of 64..127 bytes; 10xxxxxx is reserved */
            return (c & 0xC0) == 0x40 ? CW_DNS_E_LABEL_LEN : CW_DNS_E_LABEL_TYPE;
        if (wlen + 1u + c > CW_DNS_NAME_MAX)
            return CW_DNS_E_NAME_LEN;
        if (pos + 1u + c > len)
            return CW_DNS_E_TRUNC_NAME;
        if (out) {
            out[wlen] = c;
            for (size_t i = 0; i < c; i++)
                out[wlen + 1 + i] = lower ? lower_c(pkt[pos + 1 + i]) : pkt[pos + 1 + i];
        }
        wlen += 1u + c;
        pos += 1u + c;
        if (c == 0)
            break;
    }
    if (out_len)
        *out_len = wlen;
    if (next)
        *next = after ? after : pos;
    return CW_DNS_OK;
}

size_t cw_dns_name_wire_len(const uint8_t *wire, size_t max)
{
    size_t pos = 0;
    while (pos < max && pos < CW_DNS_NAME_MAX) {
        uint8_t c = wire[pos];
        if (c > CW_DNS_LABEL_MAX)
            return 0;
        pos += 1u + c;
        if (c == 0)
            return pos <= max ? pos : 0;
    }
    return 0;
}

void cw_dns_name_lower(uint8_t *wire, size_t wlen)
{
    size_t pos = 0;
    while (pos < wlen && wire[pos]) {
        size_t l = wire[pos];
        for (size_t i = 1; i <= l && pos + i < wlen; i++)
            wire[pos + i] = lower_c(wire[pos + i]);
        pos += 1 + l;
    }
}

int cw_dns_name_labels(const uint8_t *wire, size_t wlen)
{
    if (cw_dns_name_wire_len(wire, wlen) != wlen)
        return -1;
    int n = 0;
    for (size_t pos = 0; wire[pos]; pos += 1u + wire[pos])
        n++;
    return n;
}

bool cw_dns_name_is_sub(const uint8_t *name, size_t nlen, const uint8_t *zone, size_t zlen)
{
    if (zlen > nlen)
        return false;
    /* walk label boundaries of name until the remainder has zone's length */
    size_t pos = 0;
    while (nlen - pos > zlen) {
        if (!name[pos])
            return false;
        pos += 1u + name[pos];
    }
    return nlen - pos == zlen && memcmp(name + pos, zone, zlen) == 0;
}

static int text_escape(const char *s, size_t n, size_t *i, uint8_t *c)
{
    /* s[*i] is the backslash */
    if (*i + 1 >= n)
        return CW_DNS_E_ARG;
    if (s[*i + 1] >= '0' && s[*i + 1] <= '9') {
        unsigned v = 0;
        for (size_t k = 1; k <= 3; k++) {
            if (*i + k >= n || s[*i + k] < '0' || s[*i + k] > '9')
                return CW_DNS_E_ARG;
            v = v * 10 + (unsigned)(s[*i + k] - '0');
        }
        if (v > 255)
            return CW_DNS_E_ARG;
        *c = (uint8_t)v;
        *i += 4;
        return 0;
    }
    *c = (uint8_t)s[*i + 1];
    *i += 2;
    return 0;
}

int cw_dns_name_from_text(const char *s, size_t n, uint8_t out[CW_DNS_NAME_MAX], size_t *out_len)
{
    if (n == 1 && s[0] == '.') {
        out[0] = 0;
        *out_len = 1;
        return 0;
    }
    if (n == 0)
        return CW_DNS_E_ARG;
    size_t w = 0, lab = 0, i = 0; /* lab: offset of the current label's length byte */
    out[0] = 0;
    w = 1;
    while (i < n) {
        uint8_t c;
        if (s[i] == '.') {
            if (w - lab - 1 == 0)
                return CW_DNS_E_LABEL_LEN;
            i++;
            if (i == n)
                break; /* trailing dot */
            if (w + 1 > CW_DNS_NAME_MAX - 1)
                return CW_DNS_E_NAME_LEN;
            lab = w;
            out[w++] = 0;
            continue;
        }
        if (s[i] == '\\') {
            int rc = text_escape(s, n, &i, &c);
            if (rc)
                return rc;
        } else {
            c = (uint8_t)s[i++];
        }
        if (w - lab - 1 >= CW_DNS_LABEL_MAX)
            return CW_DNS_E_LABEL_LEN;
        if (w + 1 > CW_DNS_NAME_MAX - 1)
            return CW_DNS_E_NAME_LEN;
        out[w++] = c;
        out[lab] = (uint8_t)(w - lab - 1);
    }
    if (w - lab - 1 == 0)
        return CW_DNS_E_LABEL_LEN;
    out[w++] = 0;
    *out_len = w;
    return 0;
}

static bool plain_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '-' || c == '_' || c == '*' || c == '/' || c == '+' || c == '=' || c == ':' ||
           c == '!' || c == '#' || c == '%' || c == '&' || c == ',' || c == '<' || c == '>' ||
           c == '?' || c == '[' || c == ']' || c == '^' || c == '`' || c == '{' || c == '|' ||
           c == '}' || c == '~' || c == '\'';
}

int cw_dns_name_to_text(const uint8_t *wire, size_t wlen, char *out, size_t cap)
{
    if (cap < 2 || cw_dns_name_wire_len(wire, wlen) != wlen)
        return -1;
    size_t o = 0;
    if (wire[0] == 0) {
        out[0] = '.';
        out[1] = 0;
        return 1;
    }
    for (size_t pos = 0; wire[pos]; pos += 1u + wire[pos]) {
        for (size_t i = 1; i <= wire[pos]; i++) {
            uint8_t c = wire[pos + i];
            if (o + 5 >= cap)
                return -1;
            if (plain_char(c)) {
                out[o++] = (char)c;
            } else if (c > 0x20 && c < 0x7F) {
                out[o++] = '\\';
                out[o++] = (char)c;
            } else {
                out[o++] = '\\';
                out[o++] = (char)('0' + c / 100);
                out[o++] = (char)('0' + (c / 10) % 10);
                out[o++] = (char)('0' + c % 10);
            }
        }
        if (o + 2 >= cap)
            return -1;
        out[o++] = '.';
    }
    out[o] = 0;
    return (int)o;
}

/* -- parsing -------------------------------------------------------------- */

static int parse_header(struct cw_dns_msg *m, const uint8_t *pkt, size_t len)
{
    memset(m, 0, offsetof(struct cw_dns_msg, rr));
    memset(&m->edns, 0, sizeof(m->edns));
    m->nrr = 0;
    if (len < CW_DNS_HDR_LEN)
        return CW_DNS_E_SHORT_HDR;
    if (len > 65535)
        return CW_DNS_E_COUNTS;
    m->pkt = pkt;
    m->len = len;
    m->id = rd16(pkt);
    uint16_t f = rd16(pkt + 2);
    m->flags = f & 0x87F0;
    m->opcode = (uint8_t)((f >> 11) & 0xF);
    m->rcode = (uint8_t)(f & 0xF);
    m->qdcount = rd16(pkt + 4);
    m->ancount = rd16(pkt + 6);
    m->nscount = rd16(pkt + 8);
    m->arcount = rd16(pkt + 10);
    /* cheapest sanity check first: a question takes >= 5 bytes, an RR >= 11 */
    size_t need = (size_t)m->qdcount * 5 +
                  ((size_t)m->ancount + m->nscount + m->arcount) * 11;
    if (need > len - CW_DNS_HDR_LEN)
        return CW_DNS_E_COUNTS;
    return 0;
}

static int parse_questions(struct cw_dns_msg *m, size_t *pos)
{
    for (unsigned i = 0; i < m->qdcount; i++) {
        size_t nlen, next;
        int rc = cw_dns_name_unpack(m->pkt, m->len, *pos, true, i == 0 ? m->qname : NULL,
                                    &nlen, &next);
        if (rc)
            return rc;
        if (next + 4 > m->len)
            return CW_DNS_E_TRUNC_RR;
        if (i == 0) {
            m->has_question = true;
            m->qname_off = (uint16_t)*pos;
            m->qname_len = (uint8_t)nlen;
            m->qtype = rd16(m->pkt + next);
            m->qclass = rd16(m->pkt + next + 2);
        }
        *pos = next + 4;
    }
    m->question_end = (uint16_t)*pos;
    return 0;
}

static int parse_opt_options(struct cw_dns_msg *m, const struct cw_dns_rr *rr)
{
    size_t p = rr->rdata_off, end = (size_t)rr->rdata_off + rr->rdlen;
    while (p < end) {
        if (p + 4 > end)
            return CW_DNS_E_EDNS;
        uint16_t code = rd16(m->pkt + p), olen = rd16(m->pkt + p + 2);
        p += 4;
        if (p + olen > end)
            return CW_DNS_E_EDNS;
        if (code == CW_DNS_OPT_EDE && !m->edns.has_ede) {
            if (olen < 2)
                return CW_DNS_E_EDNS;
            m->edns.has_ede = true;
            m->edns.ede_code = rd16(m->pkt + p);
            m->edns.ede_text_off = (uint16_t)(p + 2);
            m->edns.ede_text_len = (uint16_t)(olen - 2);
        }
        p += olen;
    }
    return 0;
}

static int parse_opt(struct cw_dns_msg *m, const struct cw_dns_rr *rr, uint16_t index)
{
    if (rr->section != CW_DNS_SEC_AR || m->edns.present || m->pkt[rr->name_off] != 0)
        return CW_DNS_E_EDNS;
    m->edns.present = true;
    m->edns.rr_index = index;
    m->edns.udp_size = rr->rclass;
    m->edns.ext_rcode = (uint8_t)(rr->ttl >> 24);
    m->edns.version = (uint8_t)(rr->ttl >> 16);
    m->edns.do_bit = (rr->ttl & 0x8000) != 0;
    return parse_opt_options(m, rr);
}

static int parse_rr(struct cw_dns_msg *m, size_t *pos, uint8_t section)
{
    size_t next;
    int rc = cw_dns_name_unpack(m->pkt, m->len, *pos, false, NULL, NULL, &next);
    if (rc)
        return rc;
    if (next + 10 > m->len)
        return CW_DNS_E_TRUNC_RR;
    struct cw_dns_rr *rr = &m->rr[m->nrr];
    rr->name_off = (uint16_t)*pos;
    rr->type = rd16(m->pkt + next);
    rr->rclass = rd16(m->pkt + next + 2);
    rr->ttl_off = (uint16_t)(next + 4);
    rr->ttl = rd32(m->pkt + next + 4);
    rr->rdlen = rd16(m->pkt + next + 8);
    rr->rdata_off = (uint16_t)(next + 10);
    rr->section = section;
    if ((size_t)rr->rdata_off + rr->rdlen > m->len)
        return CW_DNS_E_TRUNC_RR;
    *pos = (size_t)rr->rdata_off + rr->rdlen;
    m->nrr++;
    if (rr->type == CW_DNS_T_OPT)
        return parse_opt(m, rr, (uint16_t)(m->nrr - 1));
    return 0;
}

int cw_dns_msg_parse_question(struct cw_dns_msg *m, const uint8_t *pkt, size_t len)
{
    int rc = parse_header(m, pkt, len);
    if (rc)
        return rc;
    size_t pos = CW_DNS_HDR_LEN;
    return parse_questions(m, &pos);
}

int cw_dns_msg_parse(struct cw_dns_msg *m, const uint8_t *pkt, size_t len)
{
    int rc = cw_dns_msg_parse_question(m, pkt, len);
    if (rc)
        return rc;
    size_t total = (size_t)m->ancount + m->nscount + m->arcount;
    if (total > CW_DNS_MSG_MAX_RR)
        return CW_DNS_E_TOO_MANY;
    size_t pos = m->question_end;
    const uint16_t counts[3] = {m->ancount, m->nscount, m->arcount};
    for (uint8_t sec = 0; sec < 3; sec++) {
        for (unsigned i = 0; i < counts[sec]; i++) {
            if (pos >= len)
                return CW_DNS_E_COUNTS;
            rc = parse_rr(m, &pos, sec);
            if (rc)
                return rc;
        }
    }
    /* trailing bytes after the last record are tolerated (some middleboxes pad) */
    return 0;
}

uint16_t cw_dns_msg_udp_limit(const struct cw_dns_msg *m, uint16_t max)
{
    if (max < CW_DNS_UDP_MIN)
        max = CW_DNS_UDP_MIN;
    if (!m->edns.present || m->edns.udp_size < CW_DNS_UDP_MIN)
        return CW_DNS_UDP_MIN;
    return m->edns.udp_size < max ? m->edns.udp_size : max;
}

/* -- building ------------------------------------------------------------- */

static size_t opt_size(const struct cw_dns_builder *b)
{
    if (!b->opt)
        return 0;
    size_t n = 11;
    if (b->ede_code >= 0)
        n += 4 + 2 + b->ede_text_len;
    return n;
}

int cw_dns_build_reply(struct cw_dns_builder *b, uint8_t *buf, size_t bufsize, size_t limit,
                       const struct cw_dns_msg *q, int rcode, uint16_t extra_flags,
                       uint16_t our_udp)
{
    memset(b, 0, sizeof(*b));
    b->buf = buf;
    b->cap = bufsize < limit ? bufsize : limit;
    if (b->cap > 65535)
        b->cap = 65535;
    b->ede_code = -1;
    if (b->cap < CW_DNS_HDR_LEN)
        return CW_DNS_E_NOSPACE;
    uint16_t f = CW_DNS_F_QR | (uint16_t)((q->opcode & 0xF) << 11) |
                 (q->flags & (CW_DNS_F_RD | CW_DNS_F_CD)) | extra_flags;
    f = (uint16_t)((f & ~0x000Fu) | ((unsigned)rcode & 0xF));
    wr16(buf, q->id);
    wr16(buf + 2, f);
    memset(buf + 4, 0, 8);
    b->len = CW_DNS_HDR_LEN;
    if (q->has_question) {
        size_t nlen;
        if (b->cap < CW_DNS_HDR_LEN + (size_t)q->qname_len + 4)
            return CW_DNS_E_NOSPACE;
        int rc = cw_dns_name_unpack(q->pkt, q->len, q->qname_off, false, buf + b->len, &nlen,
                                    NULL);
        if (rc)
            return rc;
        b->qname = buf + b->len;
        b->qname_len = (uint8_t)nlen;
        b->qname_off = (uint16_t)b->len;
        b->len += nlen;
        wr16(buf + b->len, q->qtype);
        wr16(buf + b->len + 2, q->qclass);
        b->len += 4;
        wr16(buf + 4, 1);
    }
    if (q->edns.present) {
        b->opt = true;
        b->opt_udp = our_udp < CW_DNS_UDP_MIN ? CW_DNS_UDP_MIN : our_udp;
        b->opt_do = q->edns.do_bit;
    }
    b->reserve = opt_size(b);
    return 0;
}

/* Cut n bytes of UTF-8 text to at most max bytes without splitting a character. */
static size_t utf8_cut(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    size_t k = max;
    while (k > 0 && ((uint8_t)s[k] & 0xC0) == 0x80)
        k--;
    return k;
}

void cw_dns_build_ede(struct cw_dns_builder *b, uint16_t info_code, const char *text,
                      size_t text_len, bool force_opt)
{
    if (force_opt && !b->opt) {
        b->opt = true;
        b->opt_udp = CW_DNS_UDP_MIN;
    }
    b->ede_code = info_code;
    b->ede_text = text;
    b->ede_text_len = text ? utf8_cut(text, text_len, 255) : 0;
    b->reserve = opt_size(b);
}

static bool names_equal_ci(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    if (alen != blen)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (lower_c(a[i]) != lower_c(b[i]))
            return false;
    return true;
}

int cw_dns_build_rr(struct cw_dns_builder *b, int sec, const uint8_t *owner, size_t owner_len,
                    uint16_t type, uint32_t ttl, const void *rdata, size_t rdlen)
{
    if (sec < b->section || sec > CW_DNS_SEC_AR || rdlen > 65535 ||
        cw_dns_name_wire_len(owner, owner_len) != owner_len)
        return CW_DNS_E_ARG;
    b->section = sec;
    bool ptr = b->qname_off && names_equal_ci(owner, owner_len, b->qname, b->qname_len);
    size_t need = (ptr ? 2 : owner_len) + 10 + rdlen;
    if (b->tc || b->len + need + b->reserve > b->cap) {
        /* RFC 2181 9: a reply missing additional data is not truncated */
        if (sec != CW_DNS_SEC_AR)
            b->tc = true;
        return 0;
    }
    uint8_t *p = b->buf + b->len;
    if (ptr) {
        wr16(p, (uint16_t)(0xC000 | b->qname_off));
        p += 2;
    } else {
        memcpy(p, owner, owner_len);
        p += owner_len;
    }
    wr16(p, type);
    wr16(p + 2, CW_DNS_C_IN);
    wr32(p + 4, ttl);
    wr16(p + 8, (uint16_t)rdlen);
    if (rdlen)
        memcpy(p + 10, rdata, rdlen);
    b->len += need;
    b->count[sec]++;
    return 0;
}

static int build_answer(struct cw_dns_builder *b, uint16_t type, uint32_t ttl, const void *rd,
                        size_t rdlen)
{
    if (!b->qname_off)
        return CW_DNS_E_NO_QUESTION;
    return cw_dns_build_rr(b, CW_DNS_SEC_AN, b->qname, b->qname_len, type, ttl, rd, rdlen);
}

int cw_dns_build_a(struct cw_dns_builder *b, uint32_t ttl, const uint8_t addr[4])
{
    return build_answer(b, CW_DNS_T_A, ttl, addr, 4);
}

int cw_dns_build_aaaa(struct cw_dns_builder *b, uint32_t ttl, const uint8_t addr[16])
{
    return build_answer(b, CW_DNS_T_AAAA, ttl, addr, 16);
}

int cw_dns_build_cname(struct cw_dns_builder *b, uint32_t ttl, const uint8_t *target, size_t tlen)
{
    if (cw_dns_name_wire_len(target, tlen) != tlen)
        return CW_DNS_E_ARG;
    return build_answer(b, CW_DNS_T_CNAME, ttl, target, tlen);
}

int cw_dns_build_txt(struct cw_dns_builder *b, uint32_t ttl, const char *text, size_t n)
{
    uint8_t rd[4096];
    size_t o = 0, i = 0;
    do {
        size_t k = n - i > 255 ? 255 : n - i;
        if (o + 1 + k > sizeof(rd))
            return CW_DNS_E_ARG;
        rd[o++] = (uint8_t)k;
        memcpy(rd + o, text + i, k);
        o += k;
        i += k;
    } while (i < n);
    return build_answer(b, CW_DNS_T_TXT, ttl, rd, o);
}

static void write_opt(struct cw_dns_builder *b)
{
    uint8_t *p = b->buf + b->len;
    size_t rdlen = b->ede_code >= 0 ? 4 + 2 + b->ede_text_len : 0;
    p[0] = 0;
    wr16(p + 1, CW_DNS_T_OPT);
    wr16(p + 3, b->opt_udp);
    wr32(p + 5, b->opt_do ? 0x8000u : 0);
    wr16(p + 9, (uint16_t)rdlen);
    if (rdlen) {
        wr16(p + 11, CW_DNS_OPT_EDE);
        wr16(p + 13, (uint16_t)(2 + b->ede_text_len));
        wr16(p + 15, (uint16_t)b->ede_code);
        if (b->ede_text_len)
            memcpy(p + 17, b->ede_text, b->ede_text_len);
    }
    b->len += 11 + rdlen;
    b->count[CW_DNS_SEC_AR]++;
}

int cw_dns_build_finish(struct cw_dns_builder *b, size_t *out_len)
{
    if (b->opt) {
        if (b->len + opt_size(b) > b->cap)
            return CW_DNS_E_NOSPACE;
        write_opt(b);
    }
    wr16(b->buf + 6, b->count[0]);
    wr16(b->buf + 8, b->count[1]);
    wr16(b->buf + 10, b->count[2]);
    if (b->tc)
        b->buf[2] |= (uint8_t)(CW_DNS_F_TC >> 8);
    *out_len = b->len;
    return 0;
}

int cw_dns_reply_rcode(uint8_t *buf, size_t bufsize, size_t limit, const struct cw_dns_msg *q,
                       int rcode, int ede_code, const char *ede_text, size_t *out_len)
{
    struct cw_dns_builder b;
    int rc = cw_dns_build_reply(&b, buf, bufsize, limit, q, rcode, CW_DNS_F_RA, 1232);
    if (rc)
        return rc;
    if (ede_code >= 0 && b.opt)
        cw_dns_build_ede(&b, (uint16_t)ede_code, ede_text, ede_text ? strlen(ede_text) : 0,
                         false);
    return cw_dns_build_finish(&b, out_len);
}

/* -- in-place rewriting --------------------------------------------------- */

static int ttl_rewrite(uint8_t *pkt, size_t len, uint32_t age, bool set, uint32_t *min_ttl)
{
    struct cw_dns_msg m;
    int rc = cw_dns_msg_parse(&m, pkt, len);
    if (rc)
        return rc;
    uint32_t lo = UINT32_MAX;
    /* the bytes as they were, for the undo below (the parsed ttl may differ from
     * them: it is normalised, and writing it back would not restore the message) */
    uint32_t orig[CW_DNS_MSG_MAX_RR];
    for (unsigned i = 0; i < m.nrr; i++) {
        const struct cw_dns_rr *rr = &m.rr[i];
        orig[i] = rd32(pkt + rr->ttl_off);
        if (rr->type == CW_DNS_T_OPT)
            continue;
        uint32_t t = set ? age : (rr->ttl > age ? rr->ttl - age : 0);
        wr32(pkt + rr->ttl_off, t);
        if (t < lo)
            lo = t;
    }
    /* A compression pointer may legally point into another RR's TTL bytes, so a
     * rewrite can change a name: check, and undo if the message broke (in reverse,
     * byte-exact, so that even overlapping TTL fields come back as they were). */
    struct cw_dns_msg after;
    rc = cw_dns_msg_parse(&after, pkt, len);
    if (rc) {
        for (unsigned i = m.nrr; i-- > 0;)
            if (m.rr[i].type != CW_DNS_T_OPT)
                wr32(pkt + m.rr[i].ttl_off, orig[i]);
        return rc;
    }
    if (min_ttl)
        *min_ttl = lo;
    return 0;
}

/* Does [lo, hi) overlap a TTL field (offs sorted, 4 bytes each)? */
static bool hits_ttl(const uint16_t *offs, size_t n, size_t lo, size_t hi)
{
    size_t a = 0, b = n; /* the first field that ends after lo */
    while (a < b) {
        size_t mid = (a + b) / 2;
        if ((size_t)offs[mid] + 4 <= lo)
            a = mid + 1;
        else
            b = mid;
    }
    return a < n && offs[a] < hi;
}

/* Does the name at pos read a TTL byte, or the header (whose id and flags a cached
 * copy gets rewritten)? Walks it as cw_dns_name_unpack does (the message parsed,
 * so every pointer goes backwards and the walk ends). */
static bool name_reads_ttl(const uint8_t *pkt, size_t len, size_t pos, const uint16_t *offs,
                           size_t n)
{
    for (int steps = 0; pos < len && steps < 256; steps++) {
        if (pos < CW_DNS_HDR_LEN)
            return true;
        uint8_t c = pkt[pos];
        if ((c & 0xC0) == 0xC0) {
            if (hits_ttl(offs, n, pos, pos + 2) || pos + 1 >= len)
                return true;
            pos = (size_t)(c & 0x3F) << 8 | pkt[pos + 1];
            continue;
        }
        if (hits_ttl(offs, n, pos, pos + 1u + c))
            return true;
        if (c == 0)
            return false;
        pos += 1u + c;
    }
    return true;
}

int cw_dns_ttl_offsets(const uint8_t *pkt, size_t len, uint16_t *offs, size_t cap)
{
    static __thread struct cw_dns_msg m; /* ~4 KB: not on the caller's stack */
    if (cw_dns_msg_parse(&m, pkt, len))
        return -1;
    size_t n = 0;
    for (unsigned i = 0; i < m.nrr; i++) {
        if (m.rr[i].type == CW_DNS_T_OPT)
            continue;
        if (n == cap)
            return -1;
        offs[n++] = m.rr[i].ttl_off;
    }
    /* the names a parse reads: the questions' and the owners' (RDATA is not parsed) */
    size_t pos = CW_DNS_HDR_LEN, next;
    for (unsigned q = 0; q < m.qdcount; q++) {
        if (name_reads_ttl(pkt, len, pos, offs, n) ||
            cw_dns_name_unpack(pkt, len, pos, false, NULL, NULL, &next))
            return -1;
        pos = next + 4;
    }
    for (unsigned i = 0; i < m.nrr; i++)
        if (name_reads_ttl(pkt, len, m.rr[i].name_off, offs, n))
            return -1;
    return (int)n;
}

void cw_dns_ttl_age_at(uint8_t *pkt, const uint16_t *offs, size_t n, uint32_t age)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t t = rd32(pkt + offs[i]);
        wr32(pkt + offs[i], t > age ? t - age : 0);
    }
}

int cw_dns_ttl_age(uint8_t *pkt, size_t len, uint32_t age, uint32_t *min_ttl)
{
    return ttl_rewrite(pkt, len, age, false, min_ttl);
}

int cw_dns_ttl_set(uint8_t *pkt, size_t len, uint32_t ttl)
{
    return ttl_rewrite(pkt, len, ttl, true, NULL);
}

void cw_dns_set_id(uint8_t *pkt, size_t len, uint16_t id)
{
    if (len >= 2)
        wr16(pkt, id);
}

/* The OPT record kept by a truncation is at most this long (EDNS options included). */
#define CW_DNS_TRUNC_SAVE 4096

int cw_dns_truncate(uint8_t *pkt, size_t len, size_t limit, size_t *new_len)
{
    struct cw_dns_msg m;
    int rc = cw_dns_msg_parse(&m, pkt, len);
    if (rc)
        return rc;
    if (len <= limit) {
        *new_len = len;
        return 0;
    }
    size_t o = m.question_end;
    if (o > limit)
        return CW_DNS_E_NOSPACE;
    /* what the cut overwrites, to put back if the result does not parse: a question
     * name may legally point at labels that lie in the records being cut (found by
     * fuzz_dns_msg), and then no truncated form of the message exists */
    uint8_t head[12], moved[CW_DNS_TRUNC_SAVE];
    size_t nmoved = 0;
    memcpy(head, pkt, 12);
    uint16_t ar = 0;
    if (m.edns.present) {
        const struct cw_dns_rr *opt = &m.rr[m.edns.rr_index];
        size_t start = opt->name_off, end = (size_t)opt->rdata_off + opt->rdlen;
        if (o + (end - start) <= limit && end - start <= sizeof(moved)) {
            nmoved = end - start;
            memcpy(moved, pkt + o, nmoved);
            memmove(pkt + o, pkt + start, nmoved);
            o += nmoved;
            ar = 1;
        }
    }
    wr16(pkt + 6, 0);
    wr16(pkt + 8, 0);
    wr16(pkt + 10, ar);
    pkt[2] |= (uint8_t)(CW_DNS_F_TC >> 8);
    struct cw_dns_msg check;
    if (cw_dns_msg_parse(&check, pkt, o)) {
        memcpy(pkt, head, 12);
        memcpy(pkt + m.question_end, moved, nmoved);
        return CW_DNS_E_NOSPACE;
    }
    *new_len = o;
    return 0;
}
