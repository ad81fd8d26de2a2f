# bench_dns: `crosswatch dns` beside Unbound (same 1M-name RPZ, same NSD upstream),
# measured with dnsperf on loopback: cached and blocked QPS, p50/p99, RSS per policy
# name. Not a test (no add_test): `cmake --build build --target bench_dns` runs it
# (needs dnsperf, unbound, nsd, taskset; perf for the profile; a few minutes);
# docs/performance.md "DNS" keeps its figures. Options: bench/bench_dns.py --help.
add_custom_target(bench_dns
  COMMAND python3 ${CMAKE_CURRENT_LIST_DIR}/bench_dns.py $<TARGET_FILE:crosswatch> --perf
  DEPENDS crosswatch
  WORKING_DIRECTORY ${CMAKE_BINARY_DIR}
  USES_TERMINAL
  COMMENT "bench_dns: crosswatch dns vs Unbound with dnsperf")
