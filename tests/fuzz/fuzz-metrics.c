/* fuzz-metrics.c — the metrics pipeline on hostile input. First byte selects: 0 a kubelet
 * Summary (JSON) ingested twice by the metrics.k8s.io server (the second round computes CPU
 * rates against the first), 1 the HPA's Resource metric proposal over JSON
 * {"spec": metric, "pods": [...], "metrics": PodMetricsList, "current": n} and its rate
 * policies over {"hpa": .., "events": ..}. */
#include <stdint.h>
#include <stdlib.h>

#include "apiserver/metricsapi.h"
#include "common/base.h"
#include "common/kjson.h"
#include "controllers/hpa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1 || size > 1 << 16)
                return 0;
        json_t *obj = NULL;
        if (kjson_parse((const char *)data + 1, size - 1, 64, &obj, NULL) < 0)
                return 0;
        if (data[0] % 2 == 0) {
                json_t *nodes = json_object(), *pods = json_object();
                json_t *prev = json_object(), *next = json_object(), *next2 = json_object();
                metricsapi_ingest("n", obj, nodes, pods, prev, next);
                metricsapi_ingest("n", obj, nodes, pods, next, next2);
                json_decref(nodes);
                json_decref(pods);
                json_decref(prev);
                json_decref(next);
                json_decref(next2);
        } else {
                json_t *pods = json_deep_copy(json_object_get(obj, "pods"));
                int64_t d = 0, cur = kjson_int(obj, "current", 1);
                json_t *cm = NULL;
                char *why = NULL;
                if (hpa_resource_metric(json_object_get(obj, "spec"), pods,
                                        json_object_get(obj, "metrics"), cur, &d, &cm, &why) == 0)
                        json_decref(cm);
                free(why);
                json_decref(pods);
                bool lim = false;
                hpa_rate_limit(json_object_get(obj, "hpa"), json_object_get(obj, "events"), cur, d,
                               1000, &lim);
        }
        json_decref(obj);
        return 0;
}
