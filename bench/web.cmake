# bench_web: p50/p95 of the dashboard's API calls (event queue, event page, summary,
# series, notices, sensors, live) at a center holding 100k events and 10M detections,
# beside the same SQL through Python's sqlite3. Not a test (no add_test):
# `cmake --build build --target bench_web` (a few minutes, ~3 GB of disk in /tmp);
# docs/performance.md "Web dashboard" keeps its figures. Options: bench/bench_web.py --help.
add_custom_target(bench_web
  COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/bench_web.py $<TARGET_FILE:crosswatch>
  DEPENDS crosswatch
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  USES_TERMINAL
  COMMENT "bench_web: dashboard API latency at 100k events / 10M detections")
