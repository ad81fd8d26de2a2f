/* cli.h - the subcommands of the multi-call binary `crosswatch`.
 *
 * main.c dispatches `crosswatch <command> [args]` from a {name, fn, summary} table.
 * Each command lives in cmd_<name>.c, receives argv with argv[0] = command name,
 * parses its flags with cw_options_parse() (common/config.h), and returns the
 * process exit status: 0 ok, 1 runtime failure, 2 usage error. Only src/cli/ may
 * call exit(). */
#ifndef CW_CLI_CLI_H
#define CW_CLI_CLI_H

int cmd_serve(int argc, char **argv);
int cmd_ship(int argc, char **argv);
int cmd_admin(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_rules(int argc, char **argv);
int cmd_dns(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_ioc(int argc, char **argv);

/* Path of the running binary (for commands that start other crosswatch processes,
 * such as demo). Static buffer. */
const char *cli_self_path(void);

#endif
