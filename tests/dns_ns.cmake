# crosswatch dns: RPZ NSDNAME/NSIP triggers on live answers (src/dns/dnsd_nsinfo.c) -
# Unbound's rpz_nsdname/rpz_nsip replay steps and own delegations against NSD in
# forward mode, and a fake root + NSD tree in recursive mode (that part needs root).
cw_integration_test(test_dns_nstrig test_dns_nstrig.py)
# crosswatch dns: views picked by DoT client certificates (--view-dot-cert, pinned by
# SHA-256), kdig +tls-certfile and Python ssl against a real NSD.
cw_integration_test(test_dns_dotviews test_dns_dotviews.py)
# crosswatch dns: the same client certificate pins on the DoH listener (--view-tls-cert),
# HTTP/2 (kdig +https, curl) and HTTP/1.1 (Python ssl), and token > certificate > address.
cw_integration_test(test_dns_dohviews test_dns_dohviews.py)
