# Fuzz target for the answers NSDNAME/NSIP look-ups read (src/dns/dnsd_nsinfo.c):
# NS answers, referrals, negative answers with an SOA, A/AAAA answers.
cw_fuzz_target(nsinfo LIBS cw_dnsd)
