# Indicator core (src/ioc): canonical forms, the look-up set against a brute-force
# oracle, and the guard with the real MISP warninglists of ../shared.
cw_unit_test(test_ioc cw_ioc)
