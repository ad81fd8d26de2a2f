# crosswatch ship: unit tests against a fake center on loopback.
cw_unit_test(test_ship cw_ship)
target_sources(test_ship PRIVATE unit/ship_fake_center.c)
cw_unit_test(test_ship_parsers cw_ship)
