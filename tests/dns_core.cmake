# DNS core (src/dns, library cw_dns): the wire-format parser/builder and the RPZ
# policy engine. test_rpz reads the RPZ zones under ../shared/data/rpz and loads a
# generated 1M-name zone (prints load time, asserts < 100 bytes per name).
cw_unit_test(test_dns_msg cw_dns)
cw_unit_test(test_rpz cw_dns)
