# Fuzz target for DNS over HTTPS request handling (src/dns/dnsd_doh.c): GET
# base64url decoding, POST content type and size checks, the DNS header check.
cw_fuzz_target(doh LIBS cw_dnsd)
# the same replay under a name `ctest -R dns` selects with the other DNS tests
add_test(NAME fuzz_replay_dns_doh COMMAND replay_doh ${CMAKE_CURRENT_SOURCE_DIR}/corpus/doh)
