# crosswatch dns: the resolver against a real NSD on loopback, queried with kdig.
cw_integration_test(test_dns test_dns.py)
