# Fuzz targets for the ship's parsers of outside input: spool batch headers and
# the state file (disk contents), syslog TCP framing and the center's answer
# (network).
cw_fuzz_target(ship_spool LIBS cw_ship)
cw_fuzz_target(ship_state LIBS cw_ship)
cw_fuzz_target(ship_frame LIBS cw_ship)
cw_fuzz_target(ship_reply LIBS cw_ship)
