/* fuzz-runtime-parsers.c — the runtime's parsers of peer data: /proc/self/mounts (cgroup layout),
 * CNI plugin results, conmon's sync-pipe message and `crun|runc state` output. The first byte
 * picks the parser; the rest is the input. */
#include <stdint.h>

#include "kubelet/cgroup.h"
#include "kubelet/cni.h"
#include "kubelet/oci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        const char *buf = (const char *)data + 1;
        size_t len = size - 1;
        struct error err = {0};
        switch (data[0] & 3) {
        case 0: {
                char *s = xstrndup(buf, len); /* mounts text is NUL-terminated */
                struct cgroup_host h = {0};
                if (cgroup_host_parse(s, "/sys/fs/cgroup", &h, &err) == 0) {
                        if (h.n_v1 > CGROUP_MAX_HIERARCHIES)
                                __builtin_trap();
                        for (size_t i = 0; i < h.n_v1; i++)
                                if (strncmp(h.v1_paths[i], "/sys/fs/cgroup", 14))
                                        __builtin_trap();
                }
                cgroup_host_clear(&h);
                free(s);
                break;
        }
        case 1: {
                char *ip = NULL;
                if (cni_result_ip(buf, len, &ip, &err) == 0) {
                        if (!ip || strlen(ip) > 15)
                                __builtin_trap();
                        free(ip);
                }
                break;
        }
        case 2: {
                int pid = 0;
                if (oci_sync_parse(buf, len, &pid, &err) == 0 && pid <= 0)
                        __builtin_trap();
                break;
        }
        default: {
                char st[32];
                int pid;
                oci_state_parse(buf, len, st, sizeof(st), &pid, &err);
                break;
        }
        }
        return 0;
}
