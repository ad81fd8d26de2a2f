# crosswatch dns: bursts of UDP queries (recvmmsg/sendmmsg batches) answered exactly as
# the same queries one by one, and the "no rule" verdict kept with cached answers.
cw_integration_test(test_dns_batch test_dns_batch.py)
# the answer cache (TTL offsets against the re-parsing rewrite on real captures and
# the dns_msg fuzz corpus, tags, growth, LRU)
cw_unit_test(test_dnsd_cache cw_dnsd)
