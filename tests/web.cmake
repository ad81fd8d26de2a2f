# The web UI in headless Chromium (playwright-core from web/'s npm ci under the build
# folder): tests/integration/test_web_e2e.py starts a center on the demo data and runs
# tests/web/e2e.mjs. Screenshots go to ${CMAKE_BINARY_DIR}/web-artifacts.
cw_integration_test(test_web_e2e test_web_e2e.py)
set_tests_properties(test_web_e2e PROPERTIES TIMEOUT 600 LABELS web)
