#include <stdio.h>

#include "cli/cli.h"

int cmd_admin(int argc, char **argv)
{
    (void)argc; (void)argv;
    fprintf(stderr, "crosswatch admin: not implemented yet\n");
    return 1;
}
