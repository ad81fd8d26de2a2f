set(CW_SHIP_SOURCES
  src/ship/durable.c src/ship/spool.c src/ship/state.c src/ship/frame.c src/ship/reply.c
  src/ship/backoff.c src/ship/shared.c src/ship/input_file.c src/ship/input_net.c
  src/ship/reader.c src/ship/sender.c src/ship/status.c src/ship/ship.c)
