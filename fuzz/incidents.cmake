# Fuzz target for the information-sharing system's NDJSON bulk import (issue 10,
# src/center/api_incidents.c through incident_import.h): the coordinator's and a member
# user's reading of arbitrary lines. Seeds: fuzz/corpus/incident_import (every record
# type, each refusal the parsers know) plus the generated FY2019-FY2023 fixture
# (tests/fixtures/incidents_fy2019_2023.ndjson, 2,021 records) read in place.
cw_fuzz_target(incident_import LIBS cw_center SEEDS
  ${CMAKE_SOURCE_DIR}/tests/fixtures/incidents_fy2019_2023.ndjson)
