/* image.c — `timonel image`. Placeholder until its module lands: refuses to run. */
#include "cli/cli.h"

#include <stdio.h>

int cli_image_main(int argc, char **argv)
{
        fputs("timonel image: not built yet\n", stderr);
        return 1;
}
