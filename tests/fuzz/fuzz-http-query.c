/* fuzz-http-query.c — URL decoding and query lookup (http/server.h): input is
 * "<name>\n<raw query>"; checks the decoded value never holds a NUL and never grows. */
#include <stdint.h>
#include <string.h>

#include "http/server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *nl = memchr(data, '\n', size);
        size_t nlen = nl ? (size_t)(nl - (const char *)data) : 0;
        char *name = xstrndup((const char *)data, nlen);
        char *raw = nl ? xstrndup(nl + 1, size - nlen - 1) : xstrndup((const char *)data, size);
        char *v = http_query_get(raw, name);
        if (v && strlen(v) > strlen(raw))
                __builtin_trap();
        free(v);

        for (int plus = 0; plus <= 1; plus++) {
                char *d = http_url_decode((const char *)data, size, plus);
                size_t dl = http_url_decode_into(d, (const char *)data, size, plus);
                if (dl > size || strlen(d) != dl)
                        /* an input NUL ends the C string early; decoding itself adds none */
                        if (memchr(data, 0, size) == NULL)
                                __builtin_trap();
                free(d);
        }
        free(name);
        free(raw);
        return 0;
}
