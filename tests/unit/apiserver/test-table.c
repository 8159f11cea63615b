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
        RUN(table_shape);
        RUN(status_map);
        return harness_done();
}
