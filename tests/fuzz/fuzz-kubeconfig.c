/* fuzz-kubeconfig.c — kubeconfig_parse (YAML -> context/cluster/user resolution, base64) on
 * arbitrary input, without file references; also the Status -> errno mapper on the same bytes. */
#include <stdint.h>

#include "client/client.h"
#include "client/kubeconfig.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct kubeconfig_info k = {};
        struct error err = {};

        if (size > KUBECONFIG_MAX_SIZE)
                return 0;
        if (kubeconfig_parse((const char *)data, size, NULL, &k, &err) == 0) {
                /* A successful parse always yields a server URL and a context. */
                if (!k.server || !k.context)
                        __builtin_trap();
                kubeconfig_info_clear(&k);
        }
        kclient_status_to_errno(409, (const char *)data, size, &err);
        return 0;
}
