/* fuzz-quantity.c — quantity_parse on arbitrary text; the canonical form must parse back to
 * the same value, and formatting must reach a fixed point after one more round (as in
 * Kubernetes, "62.5Ki" prints as "64000", which then reads as decimal and prints "64k"). */
#include <stdio.h>

#include "api/quantity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct error err = {0};
        struct quantity q, q2;
        char buf[QUANTITY_STR_MAX], buf2[QUANTITY_STR_MAX];
        if (size > 256)
                return 0;
        char *s = malloc(size + 1);
        memcpy(s, data, size);
        s[size] = 0;
        if (quantity_parse(s, &q, &err) == 0) {
                quantity_format(&q, buf);
                if (quantity_parse(buf, &q2, &err) < 0 || quantity_cmp(&q, &q2) != 0) {
                        fprintf(stderr, "[%s] -> [%s] does not parse back (%s)\n", s, buf, err.msg);
                        abort();
                }
                quantity_format(&q2, buf2);
                struct quantity q3;
                char buf3[QUANTITY_STR_MAX];
                if (quantity_parse(buf2, &q3, &err) < 0 || quantity_cmp(&q, &q3) != 0)
                        abort();
                quantity_format(&q3, buf3);
                if (strcmp(buf2, buf3)) {
                        fprintf(stderr, "[%s] -> [%s] -> [%s] -> [%s]\n", s, buf, buf2, buf3);
                        abort();
                }
                (void)quantity_value(&q);
                (void)quantity_milli(&q);
                q2 = q;
                (void)quantity_add(&q2, &q);
                (void)quantity_sub(&q2, &q);
        }
        free(s);
        return 0;
}
