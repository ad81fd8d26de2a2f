# Integration tests: real binaries on 127.0.0.1, Python 3 standard library only
# (tests/integration/cwtest.py is their helper module). Each script gets
# --binary <crosswatch> --shared <../shared> (cw_integration_test).
cw_integration_test(test_api test_api.py)
cw_integration_test(test_real_eve test_real_eve.py)
cw_integration_test(test_durability test_durability.py)
cw_integration_test(test_demo test_demo.py)
set_tests_properties(test_api test_real_eve test_demo PROPERTIES TIMEOUT 300)
# ~1 minute on 2 cores with ASan; a 15 s center outage is part of the scenario
set_tests_properties(test_durability PROPERTIES TIMEOUT 600)
