# Fuzz target for DNS over HTTPS on HTTP/2 (src/dns/dnsd_doh2.c): client bytes into
# nghttp2's server session with this project's request handling on top (:path and
# query splitting, percent-decoding, routes and tokens, methods, content type and
# length, bodies, streams reset while their request is out). Seeds in corpus/doh2
# were written by a small HPACK-literal encoder (tests/integration/test_dns_doh2.py).
cw_fuzz_target(doh2 LIBS cw_dnsd)
add_test(NAME fuzz_replay_dns_doh2 COMMAND replay_doh2 ${CMAKE_CURRENT_SOURCE_DIR}/corpus/doh2)
