/* cli.c — verb dispatch for `timonel VERB ...` and the flag parsers the verbs share. */
#include "cli/cli.h"

#include "common/base.h"

#include <stdio.h>
#include <stdlib.h>

#ifndef TIMONEL_VERSION
#define TIMONEL_VERSION "0.1.0"
#endif

static int usage(FILE *f)
{
        fputs("usage: timonel VERB [flags]\n"
              "\n"
              "verbs:\n"
              "  server    control plane and (unless --disable-agent) a node\n"
              "  agent     a node joining a cluster\n"
              "  image     import|ls|rm images on this node\n"
              "  killall   stop every container and remove what a data dir created\n"
              "  fake-nodes  simulated nodes for scale tests against a running server\n"
              "  version   print the version\n"
              "  help      this text\n"
              "\n"
              "Every verb takes --help.\n",
              f);
        return f == stdout ? 0 : 2;
}

int cli_parse_port(const char *s, int *ret)
{
        char *end;
        long v = strtol(s, &end, 10);
        if (*s == 0 || *end || v < 1 || v > 65535)
                return -EINVAL;
        *ret = (int)v;
        return 0;
}

int cli_main(int argc, char **argv)
{
        const char *self = strrchr(argv[0], '/');
        self = self ? self + 1 : argv[0];
        if (strcmp(self, "timonel") && strncmp(self, "timonel", 7)) {
                /* multi-call: invoked as the verb itself */
        } else {
                if (argc < 2)
                        return usage(stderr);
                argv++;
                argc--;
                self = argv[0];
        }
        if (!strcmp(self, "server"))
                return cli_server_main(argc, argv);
        if (!strcmp(self, "agent"))
                return cli_agent_main(argc, argv);
        if (!strcmp(self, "image"))
                return cli_image_main(argc, argv);
        if (!strcmp(self, "killall"))
                return cli_killall_main(argc, argv);
        if (!strcmp(self, "fake-nodes"))
                return cli_fakenodes_main(argc, argv);
        if (!strcmp(self, "version") || !strcmp(self, "--version")) {
                printf("timonel version v%s\n", TIMONEL_VERSION);
                return 0;
        }
        if (!strcmp(self, "help") || !strcmp(self, "--help") || !strcmp(self, "-h"))
                return usage(stdout);
        fprintf(stderr, "timonel: unknown verb \"%s\" (see timonel help)\n", self);
        return 2;
}
