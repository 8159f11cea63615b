/* agent.c — `timonel agent`: a node joining a cluster. Joining (token, CA pinning, node
 * credentials) is its own issue; until it lands the verb says so and exits non-zero rather than
 * pretending to work. A node runs today inside `timonel server`. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

int cli_agent_main(int argc, char **argv)
{
        if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
                puts("usage: timonel agent --server URL --token TOKEN [flags]\n\n"
                     "Joins this machine to a cluster as a node. Not available yet: run a node\n"
                     "with `timonel server` (its built-in agent) for now.");
                return 0;
        }
        fputs("timonel agent: joining a cluster is not implemented yet; `timonel server` runs a node\n",
              stderr);
        return 1;
}
