# bench_ioc: look-ups of record values (names, addresses, URLs, digests, JA3) in
# the published-indicator set with 1M and 10M indicators of mixed types, beside an
# indexed SQLite in-memory table answering the same probes in the same run; bytes
# per indicator and build time. Not a test (no add_test); run ./build/bench_ioc
# (a Release build; ~3 GB of memory at 10M); docs/performance.md "Indicators" keeps
# its figures. bench_ioc --emit N prints the same indicators as "type,value" lines
# for the end-to-end bench (publish -> enforced, retro-hunt).
add_executable(bench_ioc ${CMAKE_CURRENT_LIST_DIR}/bench_ioc.c)
target_link_libraries(bench_ioc PRIVATE cw_ioc PkgConfig::SQLITE)
target_compile_definitions(bench_ioc PRIVATE CW_BENCH_BUILD_TYPE="${CMAKE_BUILD_TYPE}")
set_target_properties(bench_ioc PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
