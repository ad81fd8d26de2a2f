# The store's schema version and migrations (src/center/store_migrate.c).
cw_unit_test(test_store_migrate cw_center)
cw_integration_test(test_store_schema test_store_schema.py)
