# bench_sample: cw_sample_analyse over the e-mails and other samples of
# ../shared/data/eml (single thread, thread CPU time), with and without the YARA rules
# of rules/yara, beside Python's email package + hashlib + re (bench_sample_peer.py)
# in the same run. Not a test (no add_test); run ./build/bench_sample on a
# RelWithDebInfo/Release build; docs/performance.md "Sample analysis" keeps the figures.
add_executable(bench_sample ${CMAKE_CURRENT_LIST_DIR}/bench_sample.c)
target_link_libraries(bench_sample PRIVATE cw_sample)
target_compile_definitions(bench_sample PRIVATE
  CW_BENCH_PEER="${CMAKE_CURRENT_LIST_DIR}/bench_sample_peer.py"
  CW_BENCH_SHARED="${CW_SHARED_DIR}"
  CW_BENCH_RULES="${CMAKE_SOURCE_DIR}/rules/yara"
  CW_BENCH_BUILD_TYPE="${CMAKE_BUILD_TYPE}")
set_target_properties(bench_sample PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
