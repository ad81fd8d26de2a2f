# src/dns: the resolver daemon `crosswatch dns` (library cw_dnsd). The wire-format
# and RPZ library (cw_dns) is listed in src/dns/sources.cmake.
set(CW_DNSD_SOURCES
  ${CMAKE_SOURCE_DIR}/src/dns/dnsd_server.c
  ${CMAKE_SOURCE_DIR}/src/dns/dnsd_cache.c
  ${CMAKE_SOURCE_DIR}/src/dns/dnsd_policy.c
  ${CMAKE_SOURCE_DIR}/src/dns/dnsd_metrics.c
  ${CMAKE_SOURCE_DIR}/src/dns/dnsd_telemetry.c
  ${CMAKE_SOURCE_DIR}/src/dns/dnsd_tls.c
  ${CMAKE_SOURCE_DIR}/src/dns/dnsd_doh.c
  ${CMAKE_SOURCE_DIR}/src/dns/dnsd_doh2.c
  ${CMAKE_SOURCE_DIR}/src/dns/dnsd_rrl.c
  ${CMAKE_SOURCE_DIR}/src/dns/dnsd_feedzone.c
  ${CMAKE_SOURCE_DIR}/src/dns/dnsd_feed.c
  ${CMAKE_SOURCE_DIR}/src/dns/dnsd_recursive.c)
# DoH over HTTP/2 (dnsd_doh2.c): libnghttp2 (Debian libnghttp2-dev)
pkg_check_modules(NGHTTP2 REQUIRED IMPORTED_TARGET libnghttp2)
