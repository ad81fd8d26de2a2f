# Fuzz target for the DNS threat flags: the bad-ranges (CIDR) file, checked against
# a brute-force oracle. Seeds: fuzz/corpus/dns_ranges plus real CIDR warninglists
# (one address or CIDR per JSON string line is not this format, so the lists are
# only hostile input for it).
cw_fuzz_target(dns_ranges LIBS cw_triage SEEDS
  ${CW_SHARED_DIR}/data/misp/warninglists/rfc1918/list.json)
