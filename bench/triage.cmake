# bench_triage: noise removal + event aggregation, detections per CPU-second and
# memory per open event. Not a test (no add_test); docs/performance.md keeps its
# figures. Run: ./build/bench_triage [--detections N] [--shared DIR] ...
add_executable(bench_triage ${CMAKE_CURRENT_LIST_DIR}/bench_triage.c)
target_link_libraries(bench_triage PRIVATE cw_triage)
target_compile_definitions(bench_triage PRIVATE
  CW_BENCH_SHARED_DEFAULT="${CW_SHARED_DIR}"
  CW_BENCH_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
  CW_BENCH_BUILD_TYPE="${CMAKE_BUILD_TYPE}")
set_target_properties(bench_triage PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
