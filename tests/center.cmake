cw_unit_test(test_store cw_center)
