set(CW_SHIP_SOURCES src/ship/placeholder.c)
