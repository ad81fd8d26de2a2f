# Fuzz target for Outlook .msg samples (src/ioc/sample_msg.c, libgsf): seeds
# fuzz/corpus/msg (written by test_sample_msg with CW_MSG_SEEDS_OUT=fuzz/corpus/msg)
# plus the real .msg files of ../shared/data/eml.
file(GLOB_RECURSE CW_MSG_SEEDS ${CW_SHARED_DIR}/data/eml/*.msg)
cw_fuzz_target(msg LIBS cw_sample SEEDS ${CW_MSG_SEEDS})
