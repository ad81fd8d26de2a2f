set(CW_CENTER_SOURCES src/center/store_sqlite.c src/center/store_triage.c src/center/http.c src/center/api_ingest.c src/center/api_admin.c src/center/api_triage.c src/center/center.c)
