/* main.c — the multi-call dispatcher: `timonel VERB ...` (or argv[0] == VERB). */
#include "cli/cli.h"
#include "common/base.h"

#include <stdio.h>

int main(int argc, char **argv)
{
        return cli_main(argc, argv);
}
