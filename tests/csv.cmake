# CSV output (src/common/csv.c): RFC 4180 fields, verbatim by default and defused for
# spreadsheets on request (?for=spreadsheet, ioc convert --spreadsheet).
cw_unit_test(test_csv cw_common)
cw_integration_test(test_csv_export test_csv_export.py)
