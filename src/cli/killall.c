/* killall.c — `timonel killall`. Placeholder until its module lands: refuses to run. */
#include "cli/cli.h"

#include <stdio.h>

int cli_killall_main(int argc, char **argv)
{
        fputs("timonel killall: not built yet\n", stderr);
        return 1;
}
