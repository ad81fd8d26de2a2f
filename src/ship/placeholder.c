int cw_ship_placeholder_(void); int cw_ship_placeholder_(void) { return 0; }
