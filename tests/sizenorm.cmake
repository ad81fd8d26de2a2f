cw_unit_test(test_sizenorm cw_triage)
