# Fuzz target for what a TAXII 2.1 client puts in the URL that the center parses itself
# (src/center/taxii_query.c): match[version] lists and next cursors.
cw_fuzz_target(taxii_query LIBS cw_center)
