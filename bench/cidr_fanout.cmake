# bench_cidr_fanout: the retro-hunt's digest scan for a CIDR wider than /8 (IPv6 /32),
# which probes one key per covered /8 (/32) network, beside the one-key probe of a
# narrower CIDR in the same run. Not a test: ./build/bench_cidr_fanout (Release);
# docs/performance.md "Retro-hunt of wide CIDRs" keeps its figures.
add_executable(bench_cidr_fanout ${CMAKE_CURRENT_LIST_DIR}/bench_cidr_fanout.c)
target_link_libraries(bench_cidr_fanout PRIVATE cw_center)
target_compile_definitions(bench_cidr_fanout PRIVATE CW_BENCH_BUILD_TYPE="${CMAKE_BUILD_TYPE}")
set_target_properties(bench_cidr_fanout PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
