# The watch floor's back end (docs/web.md): sessions, CSRF, Origin, static files, live
# counters, series/summary, attachments, sensors' health (tests/integration/test_web_api.py).
cw_integration_test(test_web_api test_web_api.py)
set_tests_properties(test_web_api PROPERTIES TIMEOUT 600)
