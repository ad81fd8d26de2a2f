# Triage core (src/triage): event bundling, noise removal, and the whole stage through
# a real center (events, noise counts, campaigns, restarts, states).
cw_unit_test(test_events cw_triage)
cw_unit_test(test_noise cw_triage)
cw_integration_test(test_triage test_triage.py)
