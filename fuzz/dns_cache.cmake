# Fuzz target for the resolver's answer cache (src/dns/dnsd_cache.c) and the TTL
# offsets it ages hits with (dns_msg.c): offsets against the re-parsing rewrite, and a
# cached copy against it. Seeds: its own corpus plus the dns_msg corpus.
cw_fuzz_target(dns_ttl LIBS cw_dnsd cw_dns SEEDS ${CMAKE_CURRENT_SOURCE_DIR}/corpus/dns_msg)
