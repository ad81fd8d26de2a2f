# Indicators at the center: guard, de-duplication, scoping, RPZ feed long poll,
# retro-hunt, live detection (tests/integration/test_indicators.py).
cw_integration_test(test_indicators test_indicators.py)
set_tests_properties(test_indicators PROPERTIES TIMEOUT 300)
# Issue 8 "Done means": center + crosswatch dns (RPZ feed) + ship + NSD on loopback, a
# member's e-mail sample -> published indicator -> blocked, detected, retro-hunted.
cw_integration_test(test_indicators_e2e test_indicators_e2e.py)
set_tests_properties(test_indicators_e2e PROPERTIES TIMEOUT 300)
# The per-batch observable digest (retro-hunt) against a brute-force oracle.
cw_unit_test(test_obs_digest cw_center)
