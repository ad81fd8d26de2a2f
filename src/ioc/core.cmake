# Indicator core (src/ioc): types, TLP, canonical forms (ioc.c), the guard against
# indicators that would block the world (ioc_guard.c), and the look-up set of
# published indicators (iocset.c: hash sets + ioc_radix.c prefix trees).
add_library(cw_ioc STATIC
  ${CMAKE_CURRENT_LIST_DIR}/ioc.c
  ${CMAKE_CURRENT_LIST_DIR}/ioc_guard.c
  ${CMAKE_CURRENT_LIST_DIR}/ioc_radix.c
  ${CMAKE_CURRENT_LIST_DIR}/iocset.c)
target_link_libraries(cw_ioc PUBLIC cw_common PkgConfig::PSL)
