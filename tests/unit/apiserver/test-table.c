/* test-table.c — Table printers against hand-checked expectations from Kubernetes' printers. */
#include "harness.h"

#include "apiserver/status.h"
#include "apiserver/table.h"
#include "common/kjson.h"

#define NOW 1767225600 /* 2026-01-01T00:00:00Z */

static json_t *J(const char *s)
{
        json_t *j = NULL;
        if (kjson_parse(s, strlen(s), 0, &j, NULL) < 0)
                return json_null();
        return j;
}

static char *cells(const char *resource, const char *obj)
{
        const struct scheme_resource *r = scheme_lookup_any(resource);
        json_t *o = J(obj);
        json_t *c = table_row_cells(r, o, NOW);
        char *s = kjson_dump(c);
        json_decref(o);
        json_decref(c);
        return s;
}

#define CHECK_CELLS(res, obj, expect)                                                              \
        do {                                                                                       \
                char *_s = cells(res, obj);                                                        \
                CHECK_EQ_STR(_s, expect);                                                          \
                free(_s);                                                                          \
        } while (0)

TEST(pod_rows)
{
        /* Pending, no statuses */
        CHECK_CELLS(
                "pods",
                "{\"metadata\":{\"name\":\"p\",\"creationTimestamp\":\"2025-12-31T23:55:00Z\"},"
                "\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Pending\"}}",
                "[\"p\",\"0/"
                "1\",\"Pending\",\"0\",\"5m\",\"<none>\",\"<none>\",\"<none>\",\"<none>\"]");
        /* Running + ready, restarts with last termination 90s ago */
        CHECK_CELLS(
                "pods",
                "{\"metadata\":{\"name\":\"p\",\"creationTimestamp\":\"2025-12-31T21:00:00Z\"},"
                "\"spec\":{\"nodeName\":\"n1\",\"containers\":[{\"name\":\"a\"},{\"name\":\"b\"}]},"
                "\"status\":{\"phase\":\"Running\",\"podIP\":\"10.0.0.5\",\"podIPs\":[{\"ip\":\"10."
                "0.0.5\"}],"
                "\"containerStatuses\":[{\"name\":\"a\",\"ready\":true,\"restartCount\":2,"
                "\"state\":{\"running\":{}},"
                "\"lastState\":{\"terminated\":{\"exitCode\":1,\"finishedAt\":\"2025-12-31T23:58:"
                "30Z\"}}},"
                "{\"name\":\"b\",\"ready\":false,\"restartCount\":0,\"state\":{\"waiting\":{"
                "\"reason\":\"CrashLoopBackOff\"}}}]}}",
                "[\"p\",\"1/2\",\"CrashLoopBackOff\",\"2 (90s "
                "ago)\",\"3h\",\"10.0.0.5\",\"n1\",\"<none>\",\"<none>\"]");
        /* Completed */
        CHECK_CELLS(
                "pods",
                "{\"metadata\":{\"name\":\"j\",\"creationTimestamp\":\"2025-12-31T23:59:30Z\"},"
                "\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Succeeded\","
                "\"containerStatuses\":[{\"name\":\"a\",\"ready\":false,\"restartCount\":0,"
                "\"state\":{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"}}}]}}",
                "[\"j\",\"0/"
                "1\",\"Completed\",\"0\",\"30s\",\"<none>\",\"<none>\",\"<none>\",\"<none>\"]");
        /* Terminating */
        CHECK_CELLS(
                "pods",
                "{\"metadata\":{\"name\":\"t\",\"creationTimestamp\":\"2025-12-31T23:00:00Z\","
                "\"deletionTimestamp\":\"2026-01-01T00:00:30Z\"},"
                "\"spec\":{\"containers\":[{\"name\":\"a\"}]},\"status\":{\"phase\":\"Running\","
                "\"containerStatuses\":[{\"name\":\"a\",\"ready\":true,\"restartCount\":0,"
                "\"state\":{\"running\":{}}}]}}",
                "[\"t\",\"1/"
                "1\",\"Terminating\",\"0\",\"60m\",\"<none>\",\"<none>\",\"<none>\",\"<none>\"]");
        /* Init container waiting, exit code without reason */
        CHECK_CELLS(
                "pods",
                "{\"metadata\":{\"name\":\"i\"},\"spec\":{\"initContainers\":[{\"name\":\"x\"}],"
                "\"containers\":[{\"name\":\"a\"}]},"
                "\"status\":{\"phase\":\"Pending\",\"initContainerStatuses\":[{\"name\":\"x\","
                "\"restartCount\":0,\"state\":{\"waiting\":{\"reason\":\"PodInitializing\"}}}]}}",
                "[\"i\",\"0/1\",\"Init:0/"
                "1\",\"0\",\"<unknown>\",\"<none>\",\"<none>\",\"<none>\",\"<none>\"]");
        CHECK_CELLS("pods",
                    "{\"metadata\":{\"name\":\"e\"},\"spec\":{\"containers\":[{\"name\":\"a\"}]},"
                    "\"status\":{\"phase\":\"Failed\",\"containerStatuses\":[{\"name\":\"a\","
                    "\"state\":{\"terminated\":{\"exitCode\":3}}}]}}",
                    "[\"e\",\"0/"
                    "1\",\"ExitCode:3\",\"0\",\"<unknown>\",\"<none>\",\"<none>\",\"<none>\",\"<"
                    "none>\"]");
}

TEST(node_rows)
{
        CHECK_CELLS("nodes",
                    "{\"metadata\":{\"name\":\"n1\",\"creationTimestamp\":\"2025-12-29T00:00:00Z\","
                    "\"labels\":{\"node-role.kubernetes.io/"
                    "control-plane\":\"\",\"node-role.kubernetes.io/a\":\"\"}},"
                    "\"spec\":{\"unschedulable\":true},\"status\":{\"conditions\":[{\"type\":"
                    "\"Ready\",\"status\":\"True\"}],"
                    "\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"192.168.1.2\"}],"
                    "\"nodeInfo\":{\"kubeletVersion\":\"v1.31.0\",\"osImage\":\"Debian\","
                    "\"kernelVersion\":\"6.1\",\"containerRuntimeVersion\":\"crun://1.8\"}}}",
                    "[\"n1\",\"Ready,SchedulingDisabled\",\"a,control-plane\",\"3d\",\"v1.31.0\","
                    "\"192.168.1.2\",\"<none>\",\"Debian\",\"6.1\",\"crun://1.8\"]");
        CHECK_CELLS("nodes", "{\"metadata\":{\"name\":\"n2\"}}",
                    "[\"n2\",\"Unknown\",\"<none>\",\"<unknown>\",\"\",\"<none>\",\"<none>\",\"<"
                    "unknown>\",\"<unknown>\",\"<unknown>\"]");
}

TEST(other_rows)
{
        CHECK_CELLS("namespaces",
                    "{\"metadata\":{\"name\":\"default\",\"creationTimestamp\":\"2025-12-31T23:59:"
                    "55Z\"},\"status\":{\"phase\":\"Active\"}}",
                    "[\"default\",\"Active\",\"5s\"]");
        CHECK_CELLS("configmaps",
                    "{\"metadata\":{\"name\":\"c\"},\"data\":{\"a\":\"1\",\"b\":\"2\"}}",
                    "[\"c\",2,\"<unknown>\"]");
        CHECK_CELLS("leases",
                    "{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"holderIdentity\":\"n1\"}}",
                    "[\"n1\",\"n1\",\"<unknown>\"]");
        CHECK_CELLS("events",
                    "{\"metadata\":{\"name\":\"p.1\"},\"involvedObject\":{\"kind\":\"Pod\","
                    "\"name\":\"p\"},"
                    "\"reason\":\"Scheduled\",\"message\":\" ok "
                    "\",\"type\":\"Normal\",\"source\":{\"component\":\"default-scheduler\"},"
                    "\"firstTimestamp\":\"2025-12-31T23:59:00Z\",\"lastTimestamp\":\"2025-12-31T23:"
                    "59:50Z\",\"count\":1}",
                    "[\"10s\",\"Normal\",\"Scheduled\",\"pod/"
                    "p\",\"\",\"default-scheduler\",\"ok\",\"60s\",1,\"p.1\"]");
}

/* The workload and cluster kinds (printers.go: printDeployment, printJob, printCronJob, ...). */
TEST(kind_rows)
{
        CHECK_CELLS(
                "deployments",
                "{\"metadata\":{\"name\":\"web\",\"creationTimestamp\":\"2025-12-31T23:00:00Z\"},"
                "\"spec\":{\"replicas\":3,\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
                "\"template\":{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"x:1\"},"
                "{\"name\":\"b\",\"image\":\"y:2\"}]}}},\"status\":{\"readyReplicas\":2,"
                "\"updatedReplicas\":3,\"availableReplicas\":2}}",
                "[\"web\",\"2/3\",3,2,\"60m\",\"a,b\",\"x:1,y:2\",\"app=web\"]");
        CHECK_CELLS(
                "jobs",
                "{\"metadata\":{\"name\":\"pi\",\"creationTimestamp\":\"2025-12-31T23:59:00Z\"},"
                "\"spec\":{\"completions\":3,\"template\":{\"spec\":{\"containers\":[{\"name\":"
                "\"c\",\"image\":\"perl\"}]}}},\"status\":{\"succeeded\":3,\"startTime\":"
                "\"2025-12-31T23:59:00Z\",\"completionTime\":\"2025-12-31T23:59:42Z\","
                "\"conditions\":[{\"type\":\"Complete\",\"status\":\"True\"}]}}",
                "[\"pi\",\"Complete\",\"3/3\",\"42s\",\"60s\",\"c\",\"perl\",\"<none>\"]");
        CHECK_CELLS(
                "cronjobs",
                "{\"metadata\":{\"name\":\"t\",\"creationTimestamp\":\"2025-12-31T23:59:00Z\"},"
                "\"spec\":{\"schedule\":\"@hourly\",\"suspend\":false,\"jobTemplate\":{"
                "\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":"
                "\"busybox\"}]}}}}},\"status\":{\"active\":[{}]}}",
                "[\"t\",\"@hourly\",\"<none>\",\"False\",1,\"<none>\",\"60s\",\"c\",\"busybox\","
                "\"<none>\"]");
        CHECK_CELLS(
                "persistentvolumes",
                "{\"metadata\":{\"name\":\"pv\"},\"spec\":{\"capacity\":{\"storage\":\"1024Mi\"},"
                "\"accessModes\":[\"ReadWriteMany\",\"ReadWriteOnce\"],"
                "\"persistentVolumeReclaimPolicy\":\"Retain\",\"claimRef\":{\"namespace\":\"d\","
                "\"name\":\"c\"},\"storageClassName\":\"fast\"},\"status\":{\"phase\":\"Bound\"}}",
                "[\"pv\",\"1Gi\",\"RWO,RWX\",\"Retain\",\"Bound\",\"d/"
                "c\",\"fast\",\"<unset>\",\"\","
                "\"<unknown>\",\"<unset>\"]");
        CHECK_CELLS("resourcequotas",
                    "{\"metadata\":{\"name\":\"q\"},\"spec\":{\"hard\":{\"pods\":\"10\","
                    "\"limits.memory\":\"2Gi\",\"requests.cpu\":\"500m\"}},\"status\":{\"used\":{"
                    "\"pods\":\"1\"}}}",
                    "[\"q\",\"<unknown>\",\"pods: 1/10, requests.cpu: 0/500m\",\"limits.memory: "
                    "0/2Gi\"]");
        CHECK_CELLS(
                "endpointslices",
                "{\"metadata\":{\"name\":\"e\"},\"addressType\":\"IPv4\",\"ports\":[{\"port\":80},"
                "{\"name\":\"x\"}],\"endpoints\":[{\"addresses\":[\"1.1.1.1\",\"2.2.2.2\"]},{"
                "\"addresses\":[\"3.3.3.3\",\"4.4.4.4\"]}]}",
                "[\"e\",\"IPv4\",\"80,x\",\"1.1.1.1,2.2.2.2,3.3.3.3 + 1 more...\",\"<unknown>\"]");
        CHECK_CELLS(
                "ingresses",
                "{\"metadata\":{\"name\":\"i\"},\"spec\":{\"tls\":[{}],\"rules\":[{\"host\":"
                "\"a\"},{\"host\":\"b\"},{\"host\":\"c\"},{\"host\":\"d\"}]},\"status\":{"
                "\"loadBalancer\":{\"ingress\":[{\"ip\":\"10.0.0.1\"}]}}}",
                "[\"i\",\"<none>\",\"a,b,c + 1 more...\",\"10.0.0.1\",\"80, 443\",\"<unknown>\"]");
        CHECK_CELLS(
                "rolebindings",
                "{\"metadata\":{\"name\":\"rb\"},\"roleRef\":{\"kind\":\"ClusterRole\",\"name\":"
                "\"view\"},\"subjects\":[{\"kind\":\"User\",\"name\":\"a\"},{\"kind\":\"User\","
                "\"name\":\"b\"},{\"kind\":\"ServiceAccount\",\"name\":\"sa\",\"namespace\":"
                "\"ns\"}]}",
                "[\"rb\",\"ClusterRole/view\",\"<unknown>\",\"a, b\",\"\",\"ns/sa\"]");
        CHECK_CELLS(
                "roles",
                "{\"metadata\":{\"name\":\"r\",\"creationTimestamp\":\"2025-12-31T23:00:00Z\"}}",
                "[\"r\",\"2025-12-31T23:00:00Z\"]");
        CHECK_CELLS("pdb", "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"minAvailable\":\"50%\"}}",
                    "[\"p\",\"50%\",\"N/A\",0,\"<unknown>\"]");
        CHECK_CELLS("hpa",
                    "{\"metadata\":{\"name\":\"h\"},\"spec\":{\"scaleTargetRef\":{\"kind\":"
                    "\"Deployment\",\"name\":\"web\"},\"maxReplicas\":4,\"metrics\":[{\"type\":"
                    "\"Resource\",\"resource\":{\"name\":\"memory\",\"target\":{\"type\":"
                    "\"AverageValue\",\"averageValue\":\"100Mi\"}}}]},\"status\":{"
                    "\"currentReplicas\":2}}",
                    "[\"h\",\"Deployment/web\",\"memory: <unknown>/100Mi\",\"<unset>\",4,2,"
                    "\"<unknown>\"]");
        CHECK_CELLS(
                "controllerrevisions",
                "{\"metadata\":{\"name\":\"c\",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\","
                "\"kind\":\"DaemonSet\",\"name\":\"ds\",\"controller\":true}]},\"revision\":2}",
                "[\"c\",\"daemonset.apps/ds\",2,\"<unknown>\"]");
        CHECK_CELLS("storageclasses",
                    "{\"metadata\":{\"name\":\"s\",\"annotations\":{"
                    "\"storageclass.kubernetes.io/is-default-class\":\"true\"}},\"provisioner\":"
                    "\"p\",\"allowVolumeExpansion\":true}",
                    "[\"s (default)\",\"p\",\"Delete\",\"Immediate\",true,\"<unknown>\"]");
        /* columns: priority 1 for the template columns */
        json_t *cols = table_columns(scheme_lookup_any("deploy"));
        CHECK_EQ_INT(json_array_size(cols), 8);
        CHECK_EQ_INT(kjson_int(json_array_get(cols, 5), "priority", 0), 1);
        CHECK_EQ_STR(kjson_str(json_array_get(cols, 2), "name"), "Up-to-date");
        json_decref(cols);
        cols = table_columns(scheme_lookup_any("clusterroles"));
        CHECK_EQ_STR(kjson_str(json_array_get(cols, 1), "name"), "Created At");
        CHECK_EQ_STR(kjson_str(json_array_get(cols, 1), "type"), "date");
        json_decref(cols);
}

TEST(table_shape)
{
        const struct scheme_resource *r = scheme_lookup("", "v1", "pods");
        json_t *objs = J("[{\"metadata\":{\"name\":\"p\",\"namespace\":\"d\",\"managedFields\":[]},"
                         "\"spec\":{\"containers\":[]}}]");
        json_t *t = table_new(r, objs, TABLE_INCLUDE_METADATA, true, NOW);
        CHECK_EQ_STR(kjson_str(t, "kind"), "Table");
        CHECK_EQ_INT(json_array_size(json_object_get(t, "columnDefinitions")), 9);
        json_t *row = json_array_get(json_object_get(t, "rows"), 0);
        CHECK_EQ_STR(kjson_str(json_object_get(row, "object"), "kind"), "PartialObjectMetadata");
        CHECK_EQ_STR(kjson_str(json_object_get(row, "object"), "metadata.namespace"), "d");
        CHECK(!kjson_get(json_object_get(row, "object"), "metadata.managedFields"));
        json_decref(t);
        t = table_new(r, objs, TABLE_INCLUDE_NONE, false, NOW);
        CHECK(!json_object_get(t, "columnDefinitions"));
        CHECK(!json_object_get(json_array_get(json_object_get(t, "rows"), 0), "object"));
        json_decref(t);
        json_decref(objs);
}

TEST(status_map)
{
        CHECK_EQ_INT(status_http_code(-ENOENT), 404);
        CHECK_EQ_INT(status_http_code(-ESTALE), 409);
        CHECK_EQ_INT(status_http_code(-EINVAL), 422);
        CHECK_EQ_INT(status_http_code(-ERANGE), 410);
        CHECK_EQ_INT(status_http_code(-EMEDIUMTYPE), 415);
        CHECK_EQ_INT(status_http_code(-EIO), 500);
        CHECK_EQ_STR(status_reason(-EEXIST), "AlreadyExists");
        CHECK_EQ_STR(status_reason(-EPERM), "Unauthorized");
        json_t *s = status_new(-ENOENT, "pods \"x\" not found", status_details("x", "", "pods"));
        char *d = kjson_dump(s);
        CHECK_EQ_STR(
                d,
                "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
                "\"message\":\"pods \\\"x\\\" not found\",\"reason\":\"NotFound\","
                "\"details\":{\"name\":\"x\",\"kind\":\"pods\"},\"code\":404}");
        free(d);
        json_decref(s);
}

int main(void)
{
        RUN(pod_rows);
        RUN(node_rows);
        RUN(other_rows);
        RUN(kind_rows);
        RUN(table_shape);
        RUN(status_map);
        return harness_done();
}
