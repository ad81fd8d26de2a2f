# Fuzz target for the indicator core (src/ioc, cw_ioc): canonical forms, type
# guessing and refanging on arbitrary bytes, with the set and the guard (built-in
# rules) on every accepted value. Seeds: fuzz/corpus/ioc_normalize (first byte =
# type) plus the real MISP warninglists of names, addresses and digests as hostile
# whole-file input.
set(CW_WL ${CW_SHARED_DIR}/data/misp/warninglists)
cw_fuzz_target(ioc_normalize LIBS cw_ioc SEEDS
  ${CW_WL}/url-shortener/list.json
  ${CW_WL}/rfc5735/list.json
  ${CW_WL}/empty-hashes/list.json)
