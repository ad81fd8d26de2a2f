# Every .c file of the folder: parallel work adds files here without editing a list.
file(GLOB CW_CENTER_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/center/*.c)
