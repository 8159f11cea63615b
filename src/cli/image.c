/* image.c — `timonel image import|ls|rm`: the node's local image store (kubelet/images.h).
 *
 *   timonel image import [--data-dir DIR] [--base-name NAME] FILE...
 *   timonel image ls [--data-dir DIR] [-q|--quiet] [--digests]
 *   timonel image rm [--data-dir DIR] REF...
 *
 * `ls` prints a table like `crictl images`:
 *   IMAGE                       TAG     IMAGE ID        SIZE
 *   docker.io/library/busybox   1.36    b709c51c79182   1.09MB
 * (IMAGE ID: the first 13 hex digits of the config digest; SIZE: the stored blobs, decimal units
 * as Docker prints them). Errors are one line on stderr and exit status 1 (2 for usage). */
#include "cli/cli.h"

#include "common/error.h"
#include "kubelet/images.h"

#include <getopt.h>
#include <stdio.h>

#define DEFAULT_DATA_DIR "/var/lib/timonel"

static const char *usage_import =
        "usage: timonel image import [--data-dir DIR] [--base-name NAME] FILE...\n"
        "\n"
        "Import `docker save` tarballs and OCI archives (plain or compressed) into the node's\n"
        "image store DIR/agent/images. Every blob is checked against its digest; a bad file\n"
        "leaves the store as it was.\n"
        "\n"
        "  --data-dir DIR     data directory (default " DEFAULT_DATA_DIR ")\n"
        "  --base-name NAME   repository for OCI images annotated with a bare tag\n"
        "  -h, --help         this text\n";
static const char *usage_ls = "usage: timonel image ls [--data-dir DIR] [-q] [--digests]\n"
                              "\n"
                              "List the images of the node's store.\n"
                              "\n"
                              "  --data-dir DIR   data directory (default " DEFAULT_DATA_DIR ")\n"
                              "  -q, --quiet      print image ids only\n"
                              "  --digests        add a DIGEST column (manifest digest)\n"
                              "  -h, --help       this text\n";
static const char *usage_rm =
        "usage: timonel image rm [--data-dir DIR] REF...\n"
        "\n"
        "Remove images by name (busybox:1.36), digest (busybox@sha256:...) or id (prefix).\n"
        "A name removes that name; a digest or id removes the image with all its names.\n"
        "Layers no image uses any more are deleted; no container may still use them.\n"
        "\n"
        "  --data-dir DIR   data directory (default " DEFAULT_DATA_DIR ")\n"
        "  -h, --help       this text\n";
static const char *usage_main = "usage: timonel image import|ls|rm [flags] (each takes --help)\n";

enum { OPT_DATA_DIR = 256, OPT_BASE_NAME, OPT_DIGESTS };

static char *images_dir_of(const char *data_dir)
{
        return xasprintf("%s/agent/images", data_dir ? data_dir : DEFAULT_DATA_DIR);
}

static void human_size(uint64_t n, char *buf, size_t len)
{
        static const char *units[] = {"B", "kB", "MB", "GB", "TB"};
        double v = (double)n;
        size_t u = 0;
        while (v >= 1000 && u + 1 < ARRAY_SIZE(units)) {
                v /= 1000;
                u++;
        }
        snprintf(buf, len, "%.4g%s", v, units[u]);
}

static int cmd_import(int argc, char **argv)
{
        static const struct option opts[] = {{"data-dir", required_argument, NULL, OPT_DATA_DIR},
                                             {"base-name", required_argument, NULL, OPT_BASE_NAME},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
        const char *data_dir = NULL, *base = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case OPT_DATA_DIR:
                        data_dir = optarg;
                        break;
                case OPT_BASE_NAME:
                        base = optarg;
                        break;
                case 'h':
                        fputs(usage_import, stdout);
                        return 0;
                default:
                        fputs(usage_import, stderr);
                        return 2;
                }
        }
        if (optind >= argc) {
                fputs("timonel image import: no FILE given (see --help)\n", stderr);
                return 2;
        }
        _cleanup_free_ char *dir = images_dir_of(data_dir);
        int rc = 0;
        for (int i = optind; i < argc; i++) {
                struct error err = {0};
                char **names = NULL;
                int r = images_import(dir, argv[i], base, &names, &err);
                if (r < 0) {
                        fprintf(stderr, "timonel image import: %s: %s\n", argv[i], error_msg(&err));
                        rc = 1;
                        continue;
                }
                for (char **n = names; n && *n; n++)
                        printf("imported %s\n", *n);
                images_strv_free(names);
        }
        return rc;
}

static int cmd_ls(int argc, char **argv)
{
        static const struct option opts[] = {{"data-dir", required_argument, NULL, OPT_DATA_DIR},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"digests", no_argument, NULL, OPT_DIGESTS},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
        const char *data_dir = NULL;
        bool quiet = false, digests = false;
        int c;
        while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
                switch (c) {
                case OPT_DATA_DIR:
                        data_dir = optarg;
                        break;
                case 'q':
                        quiet = true;
                        break;
                case OPT_DIGESTS:
                        digests = true;
                        break;
                case 'h':
                        fputs(usage_ls, stdout);
                        return 0;
                default:
                        fputs(usage_ls, stderr);
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "timonel image ls: unexpected argument \"%s\"\n", argv[optind]);
                return 2;
        }
        _cleanup_free_ char *dir = images_dir_of(data_dir);
        struct error err = {0};
        struct image_entry *list = NULL;
        size_t n = 0;
        if (images_list(dir, &list, &n, &err) < 0) {
                fprintf(stderr, "timonel image ls: %s\n", error_msg(&err));
                return 1;
        }
        if (quiet) {
                for (size_t i = 0; i < n; i++)
                        if (i == 0 || strcmp(list[i].id, list[i - 1].id))
                                printf("%s\n", list[i].id);
                images_list_free(list, n);
                return 0;
        }
        /* column widths */
        int wi = 5, wt = 3;
        for (size_t i = 0; i < n; i++) {
                const char *nm = list[i].name;
                const char *colon = nm ? strrchr(nm, ':') : NULL;
                int li = nm ? (int)(colon ? colon - nm : (long)strlen(nm)) : 6;
                int lt = colon ? (int)strlen(colon + 1) : 6;
                wi = MAX(wi, li);
                wt = MAX(wt, lt);
        }
        if (digests)
                printf("%-*s   %-*s   %-71s   %-13s   %s\n", wi, "IMAGE", wt, "TAG", "DIGEST",
                       "IMAGE ID", "SIZE");
        else
                printf("%-*s   %-*s   %-13s   %s\n", wi, "IMAGE", wt, "TAG", "IMAGE ID", "SIZE");
        for (size_t i = 0; i < n; i++) {
                const char *nm = list[i].name;
                const char *colon = nm ? strrchr(nm, ':') : NULL;
                char size[32];
                human_size(list[i].size, size, sizeof(size));
                const char *id = list[i].id + (strncmp(list[i].id, "sha256:", 7) ? 0 : 7);
                int li = nm ? (int)(colon ? colon - nm : (long)strlen(nm)) : 6;
                if (digests)
                        printf("%-*.*s   %-*s   %-71s   %-13.13s   %s\n", wi, li,
                               nm ? nm : "<none>", wt, colon ? colon + 1 : "<none>",
                               list[i].digest ? list[i].digest : "<none>", id, size);
                else
                        printf("%-*.*s   %-*s   %-13.13s   %s\n", wi, li, nm ? nm : "<none>", wt,
                               colon ? colon + 1 : "<none>", id, size);
        }
        images_list_free(list, n);
        return 0;
}

static int cmd_rm(int argc, char **argv)
{
        static const struct option opts[] = {{"data-dir", required_argument, NULL, OPT_DATA_DIR},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
        const char *data_dir = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
                switch (c) {
                case OPT_DATA_DIR:
                        data_dir = optarg;
                        break;
                case 'h':
                        fputs(usage_rm, stdout);
                        return 0;
                default:
                        fputs(usage_rm, stderr);
                        return 2;
                }
        }
        if (optind >= argc) {
                fputs("timonel image rm: no REF given (see --help)\n", stderr);
                return 2;
        }
        _cleanup_free_ char *dir = images_dir_of(data_dir);
        int rc = 0;
        for (int i = optind; i < argc; i++) {
                struct error err = {0};
                if (images_remove(dir, argv[i], &err) < 0) {
                        fprintf(stderr, "timonel image rm: %s\n", error_msg(&err));
                        rc = 1;
                        continue;
                }
                printf("Deleted: %s\n", argv[i]);
        }
        return rc;
}

int cli_image_main(int argc, char **argv)
{
        if (argc < 2) {
                fputs(usage_main, stderr);
                return 2;
        }
        const char *sub = argv[1];
        argc--;
        argv++;
        optind = 1;
        if (!strcmp(sub, "import"))
                return cmd_import(argc, argv);
        if (!strcmp(sub, "ls") || !strcmp(sub, "list"))
                return cmd_ls(argc, argv);
        if (!strcmp(sub, "rm") || !strcmp(sub, "remove") || !strcmp(sub, "rmi"))
                return cmd_rm(argc, argv);
        if (!strcmp(sub, "-h") || !strcmp(sub, "--help") || !strcmp(sub, "help")) {
                fputs(usage_main, stdout);
                return 0;
        }
        fprintf(stderr, "timonel image: unknown command \"%s\" (import, ls, rm)\n", sub);
        return 2;
}
