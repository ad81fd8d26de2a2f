# Compiled Sigma engine (Hyperscan prefilter): property test against the
# reference evaluator on random rules and on every real rule over real logs.
# Compiling all 3,213 live real rules takes ~10 s (~50 s under ASan).
cw_unit_test(test_sigma_compile cw_detect cw_formats)
set_tests_properties(test_sigma_compile PROPERTIES TIMEOUT 900)
