# bench_ingest: ingest throughput (parse-only and HTTP -> durable) beside goaccess.
# Not a test (no add_test): `make bench` runs it; docs/performance.md keeps its figures.
add_executable(bench_ingest ${CMAKE_CURRENT_LIST_DIR}/bench_ingest.c
                            ${CMAKE_CURRENT_LIST_DIR}/bench_data.c)
target_link_libraries(bench_ingest PRIVATE cw_center PkgConfig::CURL PkgConfig::ZLIB)
target_compile_definitions(bench_ingest PRIVATE
  CW_BENCH_SHARED_DEFAULT="${CW_SHARED_DIR}"
  CW_BENCH_BUILD_TYPE="${CMAKE_BUILD_TYPE}")
# the Makefile's `make bench` runs ./build/bench_ingest
set_target_properties(bench_ingest PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
