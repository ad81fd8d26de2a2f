# Sigma correlation rules (event_count, value_count, temporal, temporal_ordered) on
# access-log records parsed with the real format, real base rules and field map.
cw_unit_test(test_sigma_corr cw_detect cw_formats)
