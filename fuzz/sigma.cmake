# Fuzz targets for the Sigma engine: the rule parser (YAML, modifiers, regexes,
# evaluation) and the condition parser. Real rules from ../shared are SEEDS.
cw_fuzz_target(sigma_rule LIBS cw_detect
  SEEDS ${CW_SHARED_DIR}/data/sigma/rules/web/webserver_generic
        ${CW_SHARED_DIR}/data/sigma/rules/web/proxy_generic)
cw_fuzz_target(sigma_cond LIBS cw_detect)
