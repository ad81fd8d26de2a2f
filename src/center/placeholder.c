int cw_center_placeholder_(void); int cw_center_placeholder_(void) { return 0; }
