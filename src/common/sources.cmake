set(CW_COMMON_SOURCES
  src/common/arena.c src/common/buf.c src/common/utf8.c src/common/timefmt.c
  src/common/record.c src/common/json.c src/common/codec.c src/common/log.c
  src/common/config.c src/common/warninglist.c src/common/csv.c)
