#include <stdio.h>

#include "cli/cli.h"

int cmd_ship(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "crosswatch ship: not implemented yet\n");
    return 1;
}
