# Sample analysis (src/ioc/sample*.c, docs/samples.md): every e-mail and file of
# ../shared/data/eml analysed (no failure, limits kept, valid JSON, identical reports
# from four threads), exact expectations for fourteen samples (addresses, Received
# hops, URLs, attachment and archive member hashes, YARA matches from rules/yara),
# and hostile input built in the test: zip bomb, nesting past the limit, 10,000 MIME
# parts, a 1 MiB header, broken boundaries, an oversized input, sender spoofing.
cw_unit_test(test_sample cw_sample)
# Outlook .msg (src/ioc/sample_msg.c): messages written in the test with libgsf's OLE2
# writer; header analysis equal to the same headers as .eml, bodies, attachments,
# embedded messages, nesting and attachment limits, truncated and corrupted files.
cw_unit_test(test_sample_msg cw_sample)
