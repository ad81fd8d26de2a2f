# The information-sharing system (issue 10): the national FY2019-FY2023 table reproduced
# from the fixture through the real API and `crosswatch admin stats`, reporting and alert
# hierarchies with receipts, sector isolation, drills, bad input
# (tests/integration/test_incidents.py).
cw_integration_test(test_incidents test_incidents.py)
set_tests_properties(test_incidents PROPERTIES TIMEOUT 300)
# the taxonomy table, the fiscal calendar at its edges, the store's counting rules
cw_unit_test(test_incident_taxonomy cw_center)
