# Fuzz target for Sigma correlation rules: parser, resolution, streaming state.
cw_fuzz_target(sigma_corr LIBS cw_detect cw_formats)
