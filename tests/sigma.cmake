# Sigma rule engine: parser, conditions, modifiers, URL normalisation, hostile
# YAML, every rule of ../shared/data/sigma and every regression case.
cw_unit_test(test_sigma cw_detect cw_formats)
