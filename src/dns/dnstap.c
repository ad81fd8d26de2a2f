/* dnstap.c - dnstap messages into Frame Streams (see dnstap.h). */
#include "dns/dnstap.h"

#include <fstrm.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dnstap.pb-c.h" /* generated from src/dns/dnstap.proto at build time */
#include "common/banned.h"

#define CONTENT_TYPE "protobuf:dnstap.Dnstap"
#define QUEUE_SIZE 4096 /* frames waiting for the I/O thread (a power of 2) */

struct cw_dnstap {
    struct fstrm_iothr *iothr;
    struct fstrm_iothr_queue *q; /* the loop's input queue */
    char *identity;
    _Atomic uint64_t queued, dropped;
};

void cw_dnstap_addr_from_sa(struct cw_dnstap_addr *a, const struct sockaddr_storage *ss)
{
    memset(a, 0, sizeof(*a));
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        a->family = 4;
        memcpy(a->a, &s4->sin_addr, 4);
        a->port = ntohs(s4->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        a->family = 6;
        memcpy(a->a, &s6->sin6_addr, 16);
        a->port = ntohs(s6->sin6_port);
    }
}

struct cw_dnstap *cw_dnstap_open(const char *socket_path, const char *file_path,
                                 const char *identity, char *err, size_t errlen)
{
    if (!socket_path == !file_path) {
        snprintf(err, errlen, "dnstap: give one of --dnstap-socket and --dnstap-file");
        return NULL;
    }
    struct cw_dnstap *t = calloc(1, sizeof(*t));
    struct fstrm_writer_options *wopt = fstrm_writer_options_init();
    struct fstrm_iothr_options *iopt = fstrm_iothr_options_init();
    struct fstrm_writer *w = NULL;
    if (!t || !wopt || !iopt || (identity && !(t->identity = strdup(identity)))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    fstrm_writer_options_add_content_type(wopt, CONTENT_TYPE, sizeof(CONTENT_TYPE) - 1);
    if (socket_path) {
        struct fstrm_unix_writer_options *uo = fstrm_unix_writer_options_init();
        fstrm_unix_writer_options_set_socket_path(uo, socket_path);
        w = fstrm_unix_writer_init(uo, wopt);
        fstrm_unix_writer_options_destroy(&uo);
    } else {
        struct fstrm_file_options *fo = fstrm_file_options_init();
        fstrm_file_options_set_file_path(fo, file_path);
        w = fstrm_file_writer_init(fo, wopt);
        fstrm_file_options_destroy(&fo);
    }
    if (!w) {
        snprintf(err, errlen, "dnstap: cannot set up the writer for %s",
                 socket_path ? socket_path : file_path);
        goto fail;
    }
    fstrm_iothr_options_set_num_input_queues(iopt, 1); /* the loop is the only writer */
    fstrm_iothr_options_set_input_queue_size(iopt, QUEUE_SIZE);
    fstrm_iothr_options_set_queue_model(iopt, FSTRM_IOTHR_QUEUE_MODEL_SPSC);
    t->iothr = fstrm_iothr_init(iopt, &w); /* takes the writer */
    if (!t->iothr || !(t->q = fstrm_iothr_get_input_queue(t->iothr))) {
        snprintf(err, errlen, "dnstap: cannot start the Frame Streams I/O thread");
        goto fail;
    }
    fstrm_iothr_options_destroy(&iopt);
    fstrm_writer_options_destroy(&wopt);
    return t;
fail:
    if (w)
        fstrm_writer_destroy(&w);
    if (iopt)
        fstrm_iothr_options_destroy(&iopt);
    if (wopt)
        fstrm_writer_options_destroy(&wopt);
    if (t) {
        if (t->iothr)
            fstrm_iothr_destroy(&t->iothr);
        free(t->identity);
        free(t);
    }
    return NULL;
}

static void set_addr(const struct cw_dnstap_addr *a, protobuf_c_boolean *has, ProtobufCBinaryData *bd,
                     protobuf_c_boolean *has_port, uint32_t *port)
{
    if (!a || !a->family)
        return;
    *has = 1;
    bd->data = (uint8_t *)a->a;
    bd->len = a->family == 4 ? 4 : 16;
    *has_port = 1;
    *port = a->port;
}

bool cw_dnstap_log(struct cw_dnstap *t, enum cw_dnstap_type type, enum cw_dnstap_proto proto,
                   const struct cw_dnstap_addr *query_addr, const struct cw_dnstap_addr *resp_addr,
                   const uint8_t *qmsg, size_t qlen, const uint8_t *rmsg, size_t rlen)
{
    Dnstap__Message m = DNSTAP__MESSAGE__INIT;
    Dnstap__Dnstap d = DNSTAP__DNSTAP__INIT;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    m.type = (Dnstap__Message__Type)type;
    const struct cw_dnstap_addr *fam = query_addr && query_addr->family ? query_addr : resp_addr;
    if (fam && fam->family) {
        m.has_socket_family = 1;
        m.socket_family = fam->family == 4 ? DNSTAP__SOCKET_FAMILY__INET : DNSTAP__SOCKET_FAMILY__INET6;
    }
    m.has_socket_protocol = 1;
    m.socket_protocol = (Dnstap__SocketProtocol)proto;
    set_addr(query_addr, &m.has_query_address, &m.query_address, &m.has_query_port, &m.query_port);
    set_addr(resp_addr, &m.has_response_address, &m.response_address, &m.has_response_port,
             &m.response_port);
    bool is_query = type == CW_TAP_CLIENT_QUERY || type == CW_TAP_FORWARDER_QUERY;
    if (is_query) {
        m.has_query_time_sec = m.has_query_time_nsec = 1;
        m.query_time_sec = (uint64_t)now.tv_sec;
        m.query_time_nsec = (uint32_t)now.tv_nsec;
    } else {
        m.has_response_time_sec = m.has_response_time_nsec = 1;
        m.response_time_sec = (uint64_t)now.tv_sec;
        m.response_time_nsec = (uint32_t)now.tv_nsec;
    }
    if (qmsg && qlen) {
        m.has_query_message = 1;
        m.query_message.data = (uint8_t *)qmsg;
        m.query_message.len = qlen;
    }
    if (rmsg && rlen) {
        m.has_response_message = 1;
        m.response_message.data = (uint8_t *)rmsg;
        m.response_message.len = rlen;
    }
    d.type = DNSTAP__DNSTAP__TYPE__MESSAGE;
    d.message = &m;
    if (t->identity) {
        d.has_identity = 1;
        d.identity.data = (uint8_t *)t->identity;
        d.identity.len = strlen(t->identity);
    }
    static const char version[] = "crosswatch dns";
    d.has_version = 1;
    d.version.data = (uint8_t *)version;
    d.version.len = sizeof(version) - 1;
    size_t n = dnstap__dnstap__get_packed_size(&d);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf) {
        atomic_fetch_add_explicit(&t->dropped, 1, memory_order_relaxed);
        return false;
    }
    dnstap__dnstap__pack(&d, buf);
    if (fstrm_iothr_submit(t->iothr, t->q, buf, n, fstrm_free_wrapper, NULL) != fstrm_res_success) {
        free(buf); /* queue full (reader slow or away): dropped, never waited for */
        atomic_fetch_add_explicit(&t->dropped, 1, memory_order_relaxed);
        return false;
    }
    atomic_fetch_add_explicit(&t->queued, 1, memory_order_relaxed);
    return true;
}

void cw_dnstap_counts(const struct cw_dnstap *t, uint64_t *queued, uint64_t *dropped)
{
    *queued = t ? atomic_load_explicit(&t->queued, memory_order_relaxed) : 0;
    *dropped = t ? atomic_load_explicit(&t->dropped, memory_order_relaxed) : 0;
}

void cw_dnstap_close(struct cw_dnstap *t)
{
    if (!t)
        return;
    fstrm_iothr_destroy(&t->iothr); /* flushes the queue, closes the stream */
    free(t->identity);
    free(t);
}
