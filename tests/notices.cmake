# Notices (通報): inbox, answers, member isolation, signed webhook deliveries with
# retries, outbox across a crash (tests/integration/test_notices.py).
cw_integration_test(test_notices test_notices.py)
set_tests_properties(test_notices PROPERTIES TIMEOUT 300)
