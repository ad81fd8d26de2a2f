# Fuzz targets for the DNS core (src/dns, cw_dns): the wire-format parser with
# reply building and in-place rewriting, and the RPZ zone reader with lookups.
# Seeds: the real RPZ zones of Knot Resolver, BIND (including the broken and
# crash regression zones) and Unbound's standalone zone files.
set(CW_RPZ_DATA ${CW_SHARED_DIR}/data/rpz)
cw_fuzz_target(dns_msg LIBS cw_dns)
cw_fuzz_target(rpz LIBS cw_dns SEEDS
  ${CW_RPZ_DATA}/knot-resolver/policy.test.rpz
  ${CW_RPZ_DATA}/knot-resolver/policy.test.rpz.soa
  ${CW_RPZ_DATA}/bind9-system-tests/rpz/ns3/base.db
  ${CW_RPZ_DATA}/bind9-system-tests/rpz/ns3/broken.db.in
  ${CW_RPZ_DATA}/bind9-system-tests/rpz/ns3/crash1
  ${CW_RPZ_DATA}/bind9-system-tests/rpz/ns3/crash2
  ${CW_RPZ_DATA}/bind9-system-tests/rpz/ns3/outofzone.db.in
  ${CW_RPZ_DATA}/bind9-system-tests/rpz/ns3/wild-cname.db.in
  ${CW_RPZ_DATA}/bind9-system-tests/rpz/ns3/mixed-case-rpz-1.db.in
  ${CW_RPZ_DATA}/bind9-system-tests/rpzrecurse/ns2/db.invalidprefixlength
  ${CW_RPZ_DATA}/bind9-system-tests/rpzrecurse/ns2/db.wildcard1
  ${CW_RPZ_DATA}/bind9-system-tests/rpzrecurse/ns2/db.clientip1
  ${CW_RPZ_DATA}/unbound-testdata/testdata/rpz_reload.tdir/rpz.example.com.zone
  ${CW_RPZ_DATA}/unbound-testdata/testdata/acl_interface.tdir/rpz-one.zone
  ${CW_RPZ_DATA}/unbound-testdata/testdata/fast_reload_most_options.tdir/rpz.nlnetlabs.nl.zone)
