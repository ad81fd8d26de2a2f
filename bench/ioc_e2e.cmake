# bench_ioc_e2e: publish -> enforced latency through `crosswatch dns` (center + NSD +
# resolver on loopback, beside a plain long-poller of the feed) and the retro-hunt
# time over 10M stored records (beside a brute-force scan of the same records).
# Not a test (no add_test): `cmake --build build --target bench_ioc_e2e` (a Release
# build; needs nsd; ~2 GB of disk, a few minutes); docs/performance.md "Indicators end
# to end" keeps its figures. Options: bench/bench_ioc_e2e.py --help.
add_custom_target(bench_ioc_e2e
  COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/bench_ioc_e2e.py $<TARGET_FILE:crosswatch>
  DEPENDS crosswatch
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  USES_TERMINAL
  COMMENT "bench_ioc_e2e: publish -> enforced, retro-hunt over 10M records")

# bench_digest: the CPU the retro-hunt digests add to ingest (cw_obs_digest_build per
# record) beside the parse of the same records, on the replayed real access logs and
# EVE events. Not a test: ./build/bench_digest (Release).
add_executable(bench_digest ${CMAKE_CURRENT_LIST_DIR}/bench_digest.c
                            ${CMAKE_CURRENT_LIST_DIR}/bench_data.c)
target_link_libraries(bench_digest PRIVATE cw_center PkgConfig::ZLIB)
target_compile_definitions(bench_digest PRIVATE
  CW_BENCH_SHARED_DEFAULT="${CW_SHARED_DIR}"
  CW_BENCH_BUILD_TYPE="${CMAKE_BUILD_TYPE}")
set_target_properties(bench_digest PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR})
