# docs/openapi.json equals the served routes, and member isolation walked over every
# documented operation (tests/integration/test_openapi.py, test_isolation.py).
cw_integration_test(test_openapi test_openapi.py)
cw_integration_test(test_isolation test_isolation.py)
set_tests_properties(test_openapi test_isolation PROPERTIES TIMEOUT 300)
