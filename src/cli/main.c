/* main.c - `crosswatch <command>`: dispatch to the subcommand table. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "common/banned.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *summary;
};

static const struct command commands[] = {
    {"serve", cmd_serve, "run the center: ingest API, storage, admin API"},
    {"ship", cmd_ship, "follow logs at a member site and forward them to the center"},
    {"admin", cmd_admin, "manage members and sensor keys through the center's API"},
    {"rules", cmd_rules, "check and test Sigma rules"},
    {"dns", cmd_dns, "protective DNS resolver for a member's users"},
    {"sample", cmd_sample, "analyse a suspicious e-mail or file into a report and indicators"},
    {"ioc", cmd_ioc, "convert and validate indicator files (STIX, MISP, CSV, RPZ)"},
    {"demo", cmd_demo, "a self-contained center with sample members and traffic"},
    {NULL, NULL, NULL},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: crosswatch <command> [options]\n\n"
                 "Cross-organizational security monitoring: member sensors ship logs to one\n"
                 "center, which stores, analyses and triages them.\n\ncommands:\n");
    for (const struct command *c = commands; c->name; c++)
        fprintf(out, "  %-8s %s\n", c->name, c->summary);
    fprintf(out, "\n'crosswatch <command> --help' describes each command.\n");
}

const char *cli_self_path(void)
{
    static char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
    if (n <= 0)
        return "crosswatch";
    path[n] = '\0';
    return path;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("crosswatch 0.1.0\n");
        return 0;
    }
    for (const struct command *c = commands; c->name; c++)
        if (!strcmp(argv[1], c->name))
            return c->fn(argc - 1, argv + 1);
    fprintf(stderr, "crosswatch: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
