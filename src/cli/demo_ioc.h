/* demo_ioc.h - the indicators step of `crosswatch demo`: a member forwards a phishing
 * e-mail, the coordinator publishes what the center derived from it, and the
 * retro-hunt finds the member's earlier contact (docs/indicators.md). */
#ifndef CW_CLI_DEMO_IOC_H
#define CW_CLI_DEMO_IOC_H

/* Runs the story against the center at url over its API once the demo's logs are
 * shipped: the member's person (name, password) submits the built-in e-mail, the
 * admin token (token_path) publishes the lure's host name, whose earlier queries are
 * in the member's shipped IDS log. Prints what happened; returns 0, or -1 when a step
 * failed (said why on stdout). */
int demo_indicators(const char *url, const char *token_path, const char *person,
                    const char *password);

#endif
