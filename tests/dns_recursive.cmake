# crosswatch dns --recursive (libunbound) against two NSD instances playing a fake
# root and a child zone on loopback port 53 (needs root).
cw_integration_test(test_dns_recursive test_dns_recursive.py)
