#include <stdio.h>

#include "cli/cli.h"

int cmd_demo(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "crosswatch demo: not implemented yet\n");
    return 1;
}
