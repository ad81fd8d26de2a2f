# Indicator exchange formats (src/ioc/fmt_*.c, contract src/ioc/iocfmt.h): STIX 2.1,
# MISP, CSV, plain lists, RPZ. OpenSSL for SHA-1 (UUIDv5 ids) and MD5 (MISP feed
# hashes.csv).
add_library(cw_iocfmt STATIC
  ${CMAKE_CURRENT_LIST_DIR}/fmt_list.c
  ${CMAKE_CURRENT_LIST_DIR}/fmt_stix_pattern.c
  ${CMAKE_CURRENT_LIST_DIR}/fmt_stix.c
  ${CMAKE_CURRENT_LIST_DIR}/fmt_misp.c
  ${CMAKE_CURRENT_LIST_DIR}/fmt_csv.c
  ${CMAKE_CURRENT_LIST_DIR}/fmt_rpz.c)
target_link_libraries(cw_iocfmt PUBLIC cw_ioc cw_common PkgConfig::OPENSSL)
# `crosswatch ioc` (src/cli/cmd_ioc.c) needs the library; the executable is defined
# after this file is included, so the link is deferred to the end of the top
# directory (a repeat by the center's own link is harmless).
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR}
  CALL target_link_libraries crosswatch PRIVATE cw_iocfmt)
