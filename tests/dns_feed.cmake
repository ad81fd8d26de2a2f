# The center's indicator feed in crosswatch dns (src/dns/dnsd_feedzone.c, dnsd_feed.c):
# answer parsing and base + overlay + tombs against a brute-force oracle (unit), and
# a real center + resolver on loopback (publish -> blocked, latency printed).
cw_unit_test(test_dns_feed cw_dnsd)
# (the unit test has the name test_dns_feed)
cw_integration_test(test_dns_feed_center test_dns_feed.py)
