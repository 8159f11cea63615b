/* replay-main.c — runs a libFuzzer target over every file of a corpus directory without
 * libFuzzer, so `make test` replays the corpora with the normal build. Prints TAP. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
        int n = 0;
        for (int i = 1; i < argc; i++) {
                DIR *d = opendir(argv[i]);
                if (!d) {
                        printf("# no corpus at %s\n", argv[i]);
                        continue;
                }
                struct dirent *e;
                while ((e = readdir(d))) {
                        if (e->d_name[0] == '.')
                                continue;
                        char path[4096];
                        snprintf(path, sizeof(path), "%s/%s", argv[i], e->d_name);
                        FILE *f = fopen(path, "rb");
                        if (!f)
                                continue;
                        struct stat st;
                        fstat(fileno(f), &st);
                        uint8_t *buf = malloc(st.st_size + 1);
                        size_t len = fread(buf, 1, st.st_size, f);
                        fclose(f);
                        LLVMFuzzerTestOneInput(buf, len);
                        free(buf);
                        printf("ok %d - %s\n", ++n, e->d_name);
                }
                closedir(d);
        }
        printf("1..%d\n%d passed, 0 failed\n", n, n);
        return 0;
}
