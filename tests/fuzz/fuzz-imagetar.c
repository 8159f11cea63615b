/* fuzz-imagetar.c — libFuzzer driver for image archive import (images_import_buffer): the outer
 * tar/gzip reader, manifest.json / index.json / config parsing, layer unpacking with whiteouts.
 * Each input is imported into a fresh store under a private temp dir, which is emptied after the
 * run, so inputs do not influence each other. */
#include "kubelet/images.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static char root[] = "/tmp/fuzz-imagetar-XXXXXX";
static int ready;

static void cleanup(void)
{
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
        if (system(cmd) != 0)
                fprintf(stderr, "fuzz-imagetar: cleanup of %s failed\n", root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (!ready) {
                if (!mkdtemp(root))
                        abort();
                atexit(cleanup);
                ready = 1;
        }
        char dir[128];
        snprintf(dir, sizeof(dir), "%s/store", root);
        struct error err = {0};
        char **names = NULL;
        if (images_import_buffer(dir, data, size, "example.com/fuzz", &names, &err) == 0) {
                struct image_entry *list = NULL;
                size_t n = 0;
                if (images_list(dir, &list, &n, &err) == 0) {
                        for (size_t i = 0; i < n; i++) {
                                struct image_info info;
                                if (images_resolve(dir, list[i].id, &info, &err) == 0)
                                        image_info_clear(&info);
                        }
                        images_list_free(list, n);
                }
        }
        images_strv_free(names);
        char cmd[160];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                abort();
        return 0;
}
