set(CW_CENTER_SOURCES src/center/placeholder.c)
