/* agent.c — `timonel agent`. Placeholder until its module lands: refuses to run. */
#include "cli/cli.h"

#include <stdio.h>

int cli_agent_main(int argc, char **argv)
{
        fputs("timonel agent: not built yet\n", stderr);
        return 1;
}
