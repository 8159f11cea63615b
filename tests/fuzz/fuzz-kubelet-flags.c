/* fuzz-kubelet-flags.c — the node agent's flag and stats parsers: --eviction-hard,
 * --kube-reserved, --node-label, --node-taint, /proc/net/dev and memory.stat text, and a
 * grpc.health.v1 HealthCheckResponse message. The first byte selects the parser, the rest is its
 * input (NUL-terminated copy). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kubelet/eviction.h"
#include "kubelet/node.h"
#include "kubelet/probes.h"
#include "kubelet/stats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1 || size > 1 << 16)
                return 0;
        char *s = malloc(size);
        memcpy(s, data + 1, size - 1);
        s[size - 1] = 0;
        struct error err = {0};
        switch (data[0] % 6) {
        case 0: {
                struct eviction_threshold t[EVICTION_SIGNAL_N];
                eviction_thresholds_default(t);
                if (eviction_thresholds_parse(s, t, &err) == 0)
                        for (int i = 0; i < EVICTION_SIGNAL_N; i++)
                                eviction_threshold_value(&t[i], 1 << 30);
                break;
        }
        case 1: {
                struct eviction_reserved r = {0};
                eviction_reserved_parse(s, &r, &err);
                break;
        }
        case 2:
        case 3: {
                json_t *j = NULL;
                if (data[0] % 6 == 2)
                        kubelet_node_labels_parse(s, &j, &err);
                else
                        kubelet_node_taints_parse(s, &j, &err);
                json_decref(j);
                break;
        }
        case 5: {
                int st;
                probes_grpc_response_parse(data + 1, size - 1, &st);
                break;
        }
        default: {
                struct stats_net n = {0};
                uint64_t v;
                stats_net_dev_parse(s, "eth0", &n);
                stats_kv_get(s, "total_rss", &v);
                break;
        }
        }
        free(s);
        return 0;
}
