# src/dns: the DNS wire-format library and the RPZ policy engine (library cw_dns).
# Listed explicitly, not globbed: the resolver daemon's files live in the same
# folder and are listed in src/dns/daemon.cmake (CW_DNSD_SOURCES).
set(CW_DNS_SOURCES
  ${CMAKE_SOURCE_DIR}/src/dns/dns_msg.c
  ${CMAKE_SOURCE_DIR}/src/dns/rpz.c)
