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
  ${CMAKE_SOURCE_DIR}/src/dns/dnsd_recursive.c
  ${CMAKE_SOURCE_DIR}/src/dns/dnsd_nsinfo.c)
# DoH over HTTP/2 (dnsd_doh2.c): libnghttp2 (Debian libnghttp2-dev)
pkg_check_modules(NGHTTP2 REQUIRED IMPORTED_TARGET libnghttp2)
# dnstap output (dnstap.c): Frame Streams (libfstrm-dev) and protobuf-c; the C for
# dnstap.proto is generated at build time by protoc-c (protobuf-c-compiler).
pkg_check_modules(FSTRM REQUIRED IMPORTED_TARGET libfstrm)
pkg_check_modules(PROTOBUFC REQUIRED IMPORTED_TARGET libprotobuf-c)
find_program(CW_PROTOC_C protoc-c REQUIRED)
set(CW_DNSTAP_GEN ${CMAKE_BINARY_DIR}/gen/dns)
add_custom_command(
  OUTPUT ${CW_DNSTAP_GEN}/dnstap.pb-c.c ${CW_DNSTAP_GEN}/dnstap.pb-c.h
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CW_DNSTAP_GEN}
  COMMAND ${CW_PROTOC_C} --c_out=${CW_DNSTAP_GEN} --proto_path=${CMAKE_SOURCE_DIR}/src/dns
          ${CMAKE_SOURCE_DIR}/src/dns/dnstap.proto
  DEPENDS ${CMAKE_SOURCE_DIR}/src/dns/dnstap.proto
  COMMENT "protoc-c dnstap.proto")
list(APPEND CW_DNSD_SOURCES ${CMAKE_SOURCE_DIR}/src/dns/dnstap.c ${CW_DNSTAP_GEN}/dnstap.pb-c.c)
