# Indicators at the center: guard, de-duplication, scoping, RPZ feed long poll,
# retro-hunt, live detection (tests/integration/test_indicators.py).
cw_integration_test(test_indicators test_indicators.py)
set_tests_properties(test_indicators PROPERTIES TIMEOUT 300)
