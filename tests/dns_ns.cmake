# crosswatch dns: RPZ NSDNAME/NSIP triggers on live answers (src/dns/dnsd_nsinfo.c) -
# Unbound's rpz_nsdname/rpz_nsip replay steps and own delegations against NSD in
# forward mode, and a fake root + NSD tree in recursive mode (that part needs root).
cw_integration_test(test_dns_nstrig test_dns_nstrig.py)
