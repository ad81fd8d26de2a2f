# crosswatch dns: bursts of UDP queries (recvmmsg/sendmmsg batches) answered exactly as
# the same queries one by one, and the "no rule" verdict kept with cached answers.
cw_integration_test(test_dns_batch test_dns_batch.py)
