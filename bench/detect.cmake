# bench_detect: Sigma detection throughput, compiled (Hyperscan prefilter) beside
# the naive per-rule evaluation in the same run, with 10 / 100 / 1,000 / 2,000
# web rules on replayed access logs. Not a test (no add_test); run
# ./build/bench_detect; docs/performance.md "Detection" keeps its figures.
add_executable(bench_detect ${CMAKE_CURRENT_LIST_DIR}/bench_detect.c
                            ${CMAKE_CURRENT_LIST_DIR}/bench_data.c)
target_link_libraries(bench_detect PRIVATE cw_detect cw_formats PkgConfig::ZLIB)
target_compile_definitions(bench_detect PRIVATE
  CW_BENCH_SHARED_DEFAULT="${CW_SHARED_DIR}"
  CW_BENCH_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  CW_BENCH_BUILD_TYPE="${CMAKE_BUILD_TYPE}")
set_target_properties(bench_detect PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
