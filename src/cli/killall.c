/* killall.c — `timonel killall [--data-dir DIR] [-v]`: stop every container of a data dir and
 * remove the mounts, netns, bridge, fence routes and cgroups it created (kubelet/killall.h). */
#include "cli/cli.h"

#include "common/log.h"
#include "kubelet/killall.h"

#include <stdio.h>

int cli_killall_main(int argc, char **argv)
{
        const char *data_dir = "/var/lib/timonel";
        bool verbose = false;
        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
                        puts("usage: timonel killall [--data-dir DIR] [-v]\n\n"
                             "Stops every container started from DIR (default /var/lib/timonel) "
                             "and\n"
                             "removes its network namespaces, mounts, bridge, fence routes and "
                             "pod\n"
                             "cgroups. Images, logs and server state stay. -v lists what it "
                             "removed.");
                        return 0;
                } else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
                        verbose = true;
                } else if (!strcmp(argv[i], "--data-dir") && i + 1 < argc) {
                        data_dir = argv[++i];
                } else if (!strncmp(argv[i], "--data-dir=", 11)) {
                        data_dir = argv[i] + 11;
                } else {
                        fprintf(stderr, "timonel killall: unknown flag %s\n", argv[i]);
                        return 2;
                }
        }
        if (geteuid() != 0) {
                fputs("timonel killall: must run as root\n", stderr);
                return 1;
        }
        log_set_level(verbose ? LOG_INFO : LOG_WARN);
        struct error err = {0};
        if (killall_run(data_dir, &err) < 0) {
                fprintf(stderr, "timonel killall: %s\n", error_msg(&err));
                return 1;
        }
        return 0;
}
