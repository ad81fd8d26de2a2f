# Fuzz target for DNS over HTTPS request handling (src/dns/dnsd_doh.c): GET
# base64url decoding, POST content type and size checks, the DNS header check.
cw_fuzz_target(doh LIBS cw_dnsd)
