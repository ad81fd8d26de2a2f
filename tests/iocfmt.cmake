# Indicator exchange formats (src/ioc/fmt_*.c, library cw_iocfmt): STIX patterns and
# bundles, MISP events and feeds, CSV, plain lists, RPZ export loaded by src/dns/rpz.
# Reads ../shared/data/stix and ../shared/data/misp/events in place.
cw_unit_test(test_iocfmt cw_iocfmt cw_dns)
cw_integration_test(test_ioc_formats test_ioc_formats.py)
