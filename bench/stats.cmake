# bench_stats: the fiscal-year statistics of the sharing system (issue 10) over 100k
# incident reports and 1M events, beside the same aggregation done the plain way
# (Python's sqlite3 over raw timestamps, bench_stats_peer.py) on the same database in
# the same run. Not a test; docs/performance.md keeps the figures.
# Run: ./build/bench_stats [--reports N] [--events N] [--runs N]
add_executable(bench_stats ${CMAKE_CURRENT_LIST_DIR}/bench_stats.c)
target_link_libraries(bench_stats PRIVATE cw_center)
target_compile_definitions(bench_stats PRIVATE
  CW_BENCH_PEER="${CMAKE_CURRENT_LIST_DIR}/bench_stats_peer.py"
  CW_BENCH_BUILD_TYPE="${CMAKE_BUILD_TYPE}")
set_target_properties(bench_stats PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
