# DNS threat flags (src/detect/dns_flags.c, docs/dns.md "Threat flags"): exact
# flags on crafted records (DGA, tunnelling windows, NOD with warm-up, expiry and
# persistence, bad ranges, the CIDR parser), the DGA model's evaluation on real
# names (MISP top-domain warninglists, EVE, web logs) against three re-implemented
# DGA families with asserted minimum precision/recall, and test_dns_flags_center:
# dns records ingested by a real center form detections and events.
cw_unit_test(test_dns_flags cw_center)
cw_integration_test(test_dns_flags_center test_dns_flags.py)
set_tests_properties(test_dns_flags_center PROPERTIES TIMEOUT 300)
