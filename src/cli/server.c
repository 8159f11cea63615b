/* server.c — `timonel server`. Placeholder until its module lands: refuses to run. */
#include "cli/cli.h"

#include <stdio.h>

int cli_server_main(int argc, char **argv)
{
        fputs("timonel server: not built yet\n", stderr);
        return 1;
}
