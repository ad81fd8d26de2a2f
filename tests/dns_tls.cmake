# crosswatch dns over TLS and HTTPS, response rate limiting and telemetry privacy,
# against a real NSD and center on loopback (kdig, Python's http.client and ssl).
cw_integration_test(test_dns_tls test_dns_tls.py)
