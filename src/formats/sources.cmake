set(CW_FORMATS_SOURCES
  src/formats/format.c
  src/formats/fmt_ndjson.c
  src/formats/fmt_eve.c
  src/formats/fmt_access.c
  src/formats/fmt_nginx_json.c
  src/formats/fmt_syslog.c)
