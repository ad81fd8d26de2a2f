# Integration tests: real binaries on 127.0.0.1, Python 3 standard library only.
# Each script gets --binary <crosswatch> --shared <../shared> (cw_integration_test).
cw_integration_test(test_api test_api.py)
cw_integration_test(test_real_eve test_real_eve.py)
set_tests_properties(test_api test_real_eve PROPERTIES TIMEOUT 300)
