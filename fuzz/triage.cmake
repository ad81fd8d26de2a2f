# Fuzz targets for triage (src/triage): the warninglist reader and the scanner
# user-agent file. Seeds are real MISP warninglists, replayed in place: IPv4 /32
# and /31 entries (shodan), IPv4 and IPv6 with and without prefixes (censys,
# circl-security, onyphe), the largest scanner list (stretchoid, 1839 entries),
# cidr lists that are not scanner lists (rfc1918, googlebot) and lists of other
# types that must be ignored (empty-hashes: string, url-shortener: hostname).
set(CW_WARNINGLISTS ${CW_SHARED_DIR}/data/misp/warninglists)
cw_fuzz_target(recon LIBS cw_triage SEEDS
  ${CW_WARNINGLISTS}/shodan-scanning/list.json
  ${CW_WARNINGLISTS}/censys-scanning/list.json
  ${CW_WARNINGLISTS}/circl-security-scanning/list.json
  ${CW_WARNINGLISTS}/onyphe-scanner/list.json
  ${CW_WARNINGLISTS}/stretchoid-nt-scanning/list.json
  ${CW_WARNINGLISTS}/rfc1918/list.json
  ${CW_WARNINGLISTS}/googlebot/list.json
  ${CW_WARNINGLISTS}/empty-hashes/list.json
  ${CW_WARNINGLISTS}/url-shortener/list.json)
