# Fuzz targets for the input formats and the parsers of untrusted input in
# src/common. SEEDS are real files from ../shared, replayed in place (never copied).
set(CW_WEBLOGS ${CW_SHARED_DIR}/data/weblogs)
set(CW_F2B ${CW_WEBLOGS}/fail2ban-testlogs)
set(CW_EVE_GZ ${CW_SHARED_DIR}/data/eve/public-pcaps.eve.json.gz)

cw_fuzz_target(eve LIBS cw_formats SEEDS ${CW_EVE_GZ})
cw_fuzz_target(access LIBS cw_formats SEEDS
  ${CW_WEBLOGS}/elastic-apache_logs.log ${CW_WEBLOGS}/basjes-hackers-access.log
  ${CW_WEBLOGS}/ocatak-apache-http-logs/w3af.txt
  ${CW_WEBLOGS}/ocatak-apache-http-logs/netsparker.txt
  ${CW_F2B}/apache-badbots ${CW_F2B}/apache-fakegooglebot ${CW_F2B}/nginx-bad-request
  ${CW_F2B}/nginx-botsearch ${CW_F2B}/php-url-fopen)
cw_fuzz_target(ndjson LIBS cw_formats SEEDS ${CW_EVE_GZ})
cw_fuzz_target(nginx_json LIBS cw_formats SEEDS ${CW_EVE_GZ})
cw_fuzz_target(syslog LIBS cw_formats SEEDS ${CW_F2B}/nginx-botsearch ${CW_F2B}/apache-badbots)
cw_fuzz_target(json LIBS cw_formats SEEDS ${CW_EVE_GZ})
cw_fuzz_target(config LIBS cw_common)
