/* fakenodes.c — `timonel fake-nodes --kubeconfig FILE --count N [--prefix P]`: register N
 * simulated nodes against a running API server and serve them until SIGINT/SIGTERM
 * (kubelet/fakenode.h; the same nodes `timonel server --fake-nodes N` runs in-process). */
#include "cli/cli.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/log.h"
#include "kubelet/fakenode.h"

int cli_fakenodes_main(int argc, char **argv)
{
        struct fakenodes_config cfg = {.count = 0};
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
                        puts("usage: timonel fake-nodes --kubeconfig FILE --count N [--prefix P] "
                             "[-v]\n\n"
                             "Registers N simulated nodes (P0..PN-1, default prefix fake-node-) "
                             "that run no\n"
                             "containers: pods bound to them turn Running at once, deleted pods "
                             "are\n"
                             "finalized at once. Runs until SIGINT or SIGTERM; the nodes stay "
                             "registered.");
                        return 0;
                } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
                        log_set_level(LOG_DEBUG);
                } else if (!strcmp(a, "--kubeconfig") && i + 1 < argc) {
                        cfg.kubeconfig = argv[++i];
                } else if (!strcmp(a, "--count") && i + 1 < argc) {
                        char *end;
                        long v = strtol(argv[++i], &end, 10);
                        if (*end || v <= 0 || v > 100000) {
                                fprintf(stderr, "timonel fake-nodes: invalid --count \"%s\"\n",
                                        argv[i]);
                                return 2;
                        }
                        cfg.count = (int)v;
                } else if (!strcmp(a, "--prefix") && i + 1 < argc) {
                        cfg.prefix = argv[++i];
                } else {
                        fprintf(stderr, "timonel fake-nodes: unknown or incomplete flag %s\n", a);
                        return 2;
                }
        }
        if (!cfg.kubeconfig || cfg.count <= 0) {
                fputs("timonel fake-nodes: --kubeconfig and --count are required\n", stderr);
                return 2;
        }
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, NULL); /* the threads inherit the mask */
        struct error err = {0};
        struct fakenodes *f = NULL;
        if (fakenodes_start(&cfg, &f, &err) < 0) {
                fprintf(stderr, "timonel fake-nodes: %s\n", error_msg(&err));
                return 1;
        }
        int sig = 0;
        sigwait(&set, &sig);
        fakenodes_stop(f);
        return 0;
}
