# Input formats (src/formats) and the common layer they stand on (src/common).
cw_unit_test(test_formats cw_formats)
cw_unit_test(test_common cw_common)
