# Fuzz target for the center's indicator feed answers as crosswatch dns reads them
# (src/dns/dnsd_feedzone.c): parse, apply, write back, parse again.
cw_fuzz_target(dns_feed LIBS cw_dnsd)
