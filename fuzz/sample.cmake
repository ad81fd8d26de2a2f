# Fuzz target for the sample analyser (src/ioc/sample*.c): arbitrary bytes as an
# e-mail or file with small limits. Seeds: fuzz/corpus/mime plus every shared e-mail
# sample (../shared/data/eml).
file(GLOB_RECURSE CW_EML_SEEDS ${CW_SHARED_DIR}/data/eml/*.eml ${CW_SHARED_DIR}/data/eml/*.zip
     ${CW_SHARED_DIR}/data/eml/*.msg)
cw_fuzz_target(mime LIBS cw_sample SEEDS ${CW_EML_SEEDS})
