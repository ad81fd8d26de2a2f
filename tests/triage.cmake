# Triage (src/triage): scanner knowledge (recon: MISP warninglist ranges and the
# scanner user-agent file), tested on the real data in ../shared.
cw_unit_test(test_recon cw_triage)
