# Fuzz targets for the indicator exchange formats (src/ioc/fmt_*.c, cw_iocfmt):
# STIX bundles + the pattern grammar, MISP events + feed manifests, CSV + plain
# lists. Seeds: the real STIX bundles/examples and MISP test events of ../shared.
set(CW_STIX_DATA ${CW_SHARED_DIR}/data/stix)
cw_fuzz_target(stix LIBS cw_iocfmt SEEDS ${CW_STIX_DATA}/bundles ${CW_STIX_DATA}/examples)
cw_fuzz_target(misp LIBS cw_iocfmt SEEDS ${CW_SHARED_DIR}/data/misp/events)
cw_fuzz_target(ioc_csv LIBS cw_iocfmt)
