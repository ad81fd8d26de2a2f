# crosswatch dns: DNS over HTTPS on HTTP/2 (src/dns/dnsd_doh2.c) with kdig +https,
# curl --http2 and a raw HTTP/2 client sending hostile frames, against a real NSD.
cw_integration_test(test_dns_doh2 test_dns_doh2.py)
