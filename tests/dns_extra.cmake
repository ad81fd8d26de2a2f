# crosswatch dns: DNS over HTTPS on HTTP/2 (src/dns/dnsd_doh2.c) with kdig +https,
# curl --http2 and a raw HTTP/2 client sending hostile frames, against a real NSD.
cw_integration_test(test_dns_doh2 test_dns_doh2.py)
# dnstap output (src/dns/dnstap.c): a Frame Streams file and unix socket
# (fstrm_capture) written during real queries, decoded by the test itself.
cw_integration_test(test_dnstap test_dnstap.py)
