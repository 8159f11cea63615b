/* test-apiserver.c — the API server over HTTP (plain, loopback, ephemeral port) with a temporary
 * SQLite store, driven by libcurl: CRUD, conflicts, patches, errors, Table, watch from a
 * resourceVersion, 410 after compaction, graceful pod deletion, namespaces. */
#include "harness.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "apiserver/apiserver-internal.h"
#include "common/kjson.h"
#include "common/log.h"
#include "store/store.h"

static struct apiserver *srv;
static struct store *st;
static int port;
static char tmpdir[] = "/tmp/test-apiserver-XXXXXX";

struct buf {
        char *p;
        size_t n;
};

static size_t on_write(char *d, size_t s, size_t n, void *ud)
{
        struct buf *b = ud;
        b->p = realloc(b->p, b->n + s * n + 1);
        memcpy(b->p + b->n, d, s * n);
        b->n += s * n;
        b->p[b->n] = 0;
        return s * n;
}

/* Returns the body (caller frees), *code = HTTP status. */
static char *req(const char *method, const char *path, const char *ctype, const char *accept,
                 const char *body, long *code)
{
        CURL *h = curl_easy_init();
        char url[1024];
        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
        struct buf b = {calloc(1, 1), 0};
        struct curl_slist *hdrs = NULL;
        char hb[256];
        if (ctype) {
                snprintf(hb, sizeof(hb), "Content-Type: %s", ctype);
                hdrs = curl_slist_append(hdrs, hb);
        }
        if (accept) {
                snprintf(hb, sizeof(hb), "Accept: %s", accept);
                hdrs = curl_slist_append(hdrs, hb);
        }
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, 10L);
        if (body)
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        *code = 0;
        if (curl_easy_perform(h) == CURLE_OK)
                curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
        curl_slist_free_all(hdrs);
        curl_easy_cleanup(h);
        return b.p;
}

static json_t *reqj(const char *method, const char *path, const char *ctype, const char *body,
                    long *code)
{
        char *s = req(method, path, ctype, NULL, body, code);
        json_t *j = NULL;
        if (kjson_parse(s, strlen(s), 0, &j, NULL) < 0) {
                printf("# not JSON: %s\n", s);
                j = json_object();
        }
        free(s);
        return j;
}

static void *run(void *ud)
{
        apiserver_run(srv);
        return NULL;
}

static const char *POD = "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p1\","
                         "\"labels\":{\"app\":\"a\"}},"
                         "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]},"
                         "\"status\":{\"podIP\":\"1.2.3.4\"}}";

TEST(basics)
{
        long code;
        char *s = req("GET", "/version", NULL, NULL, NULL, &code);
        CHECK_EQ_INT(code, 200);
        CHECK(strstr(s, "\"minor\":\"31\""));
        free(s);
        s = req("GET", "/healthz", NULL, NULL, NULL, &code);
        CHECK_EQ_INT(code, 200);
        CHECK_EQ_STR(s, "ok");
        free(s);
        json_t *j = reqj("GET", "/api/v1/foos", NULL, NULL, &code);
        CHECK_EQ_INT(code, 404);
        CHECK_EQ_STR(kjson_str(j, "message"), "the server could not find the requested resource");
        json_decref(j);
        s = req("GET", "/api", NULL,
                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/"
                "json",
                NULL, &code);
        CHECK_EQ_INT(code, 200);
        CHECK(strstr(s, "\"shortNames\":[\"po\"]"));
        free(s);
        j = reqj("GET", "/openapi/v3/api/v1", NULL, NULL, &code);
        CHECK_EQ_INT(code, 200);
        CHECK(kjson_get(json_object_get(json_object_get(j, "paths"),
                                        "/api/v1/namespaces/{namespace}/pods/{name}"),
                        "patch.x-kubernetes-group-version-kind"));
        json_decref(j);
        s = req("GET", "/openapi/v2", NULL, NULL, NULL, &code);
        CHECK_EQ_INT(code, 200);
        CHECK_EQ_STR(s, ""); /* an empty protobuf Document */
        free(s);
        j = reqj("GET", "/api/v1/namespaces", NULL, NULL, &code);
        CHECK_EQ_INT(json_array_size(json_object_get(j, "items")), 4);
        json_decref(j);
}

TEST(crud)
{
        long code;
        json_t *j = reqj("POST", "/api/v1/namespaces/default/pods", "application/json", POD, &code);
        CHECK_EQ_INT(code, 201);
        CHECK_EQ_STR(kjson_str(j, "status.phase"), "Pending");
        CHECK_EQ_STR(kjson_str(j, "spec.restartPolicy"), "Always");
        CHECK_EQ_STR(kjson_str(j, "status.qosClass"), "BestEffort");
        CHECK(!kjson_get(j, "status.podIP")); /* status in the body is ignored on create */
        const char *rv = kjson_str(j, "metadata.resourceVersion");
        CHECK(rv && atoll(rv) > 0);
        char *stale = xstrdup(rv ? rv : "1");
        json_decref(j);

        j = reqj("POST", "/api/v1/namespaces/default/pods", "application/json", POD, &code);
        CHECK_EQ_INT(code, 409);
        CHECK_EQ_STR(kjson_str(j, "reason"), "AlreadyExists");
        CHECK_EQ_STR(kjson_str(j, "message"), "pods \"p1\" already exists");
        json_decref(j);

        j = reqj("POST", "/api/v1/namespaces/zz/pods", "application/json", POD, &code);
        CHECK_EQ_INT(code, 404);
        CHECK_EQ_STR(kjson_str(j, "message"), "namespaces \"zz\" not found");
        json_decref(j);

        j = reqj("GET", "/api/v1/namespaces/default/pods/nope", NULL, NULL, &code);
        CHECK_EQ_INT(code, 404);
        CHECK_EQ_STR(kjson_str(j, "message"), "pods \"nope\" not found");
        CHECK_EQ_STR(kjson_str(j, "details.kind"), "pods");
        json_decref(j);

        /* merge patch, then a PUT with the stale resourceVersion -> 409 Conflict */
        j = reqj("PATCH", "/api/v1/namespaces/default/pods/p1", "application/merge-patch+json",
                 "{\"metadata\":{\"labels\":{\"x\":\"y\"}}}", &code);
        CHECK_EQ_INT(code, 200);
        CHECK_EQ_STR(kjson_str(j, "metadata.labels.x"), "y");
        json_decref(j);
        char body[1024];
        snprintf(body, sizeof(body),
                 "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p1\","
                 "\"resourceVersion\":\"%s\"},"
                 "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}]}}",
                 stale);
        j = reqj("PUT", "/api/v1/namespaces/default/pods/p1", "application/json", body, &code);
        CHECK_EQ_INT(code, 409);
        CHECK_EQ_STR(kjson_str(j, "message"),
                     "Operation cannot be fulfilled on pods \"p1\": the object has been modified; "
                     "please apply your changes to the latest version and try again");
        json_decref(j);
        free(stale);

        /* json patch changing the image is allowed; changing restartPolicy is not */
        j = reqj("PATCH", "/api/v1/namespaces/default/pods/p1", "application/json-patch+json",
                 "[{\"op\":\"replace\",\"path\":\"/spec/containers/0/"
                 "image\",\"value\":\"busybox:2\"}]",
                 &code);
        CHECK_EQ_INT(code, 200);
        CHECK_EQ_STR(kjson_str(json_array_get(kjson_get(j, "spec.containers"), 0), "image"),
                     "busybox:2");
        json_decref(j);
        j = reqj("PATCH", "/api/v1/namespaces/default/pods/p1",
                 "application/strategic-merge-patch+json",
                 "{\"spec\":{\"restartPolicy\":\"Never\"}}", &code);
        CHECK_EQ_INT(code, 422);
        CHECK_EQ_STR(kjson_str(j, "reason"), "Invalid");
        json_decref(j);

        /* status subresource only touches status; main PUT ignores status */
        j = reqj("PATCH", "/api/v1/namespaces/default/pods/p1/status",
                 "application/merge-patch+json",
                 "{\"status\":{\"phase\":\"Running\"},\"metadata\":{\"labels\":{\"q\":\"1\"}}}",
                 &code);
        CHECK_EQ_INT(code, 200);
        CHECK_EQ_STR(kjson_str(j, "status.phase"), "Running");
        CHECK(!kjson_str(j, "metadata.labels.q"));
        json_decref(j);
        j = reqj("PATCH", "/api/v1/namespaces/default/pods/p1", "application/merge-patch+json",
                 "{\"status\":{\"phase\":\"Failed\"}}", &code);
        CHECK_EQ_STR(kjson_str(j, "status.phase"), "Running");
        json_decref(j);

        /* errors: bad JSON, protobuf, strict fields, invalid name */
        j = reqj("POST", "/api/v1/namespaces/default/pods", "application/json", "{nope", &code);
        CHECK_EQ_INT(code, 400);
        json_decref(j);
        j = reqj("POST", "/api/v1/namespaces/default/pods", "application/vnd.kubernetes.protobuf",
                 "k8s", &code);
        CHECK_EQ_INT(code, 400); /* not a protobuf envelope */
        json_decref(j);
        j = reqj("POST", "/api/v1/namespaces/default/configmaps?fieldValidation=Strict",
                 "application/json", "{\"metadata\":{\"name\":\"c\"},\"foo\":1}", &code);
        CHECK_EQ_INT(code, 400);
        CHECK(strstr(kjson_str(j, "message") ? kjson_str(j, "message") : "",
                     "strict decoding error: unknown field \"foo\""));
        json_decref(j);
        j = reqj("POST", "/api/v1/namespaces/default/configmaps", "application/yaml",
                 "metadata:\n  name: Bad_Name\ndata:\n  a: b\n", &code);
        CHECK_EQ_INT(code, 422);
        CHECK_EQ_STR(kjson_str(j, "details.kind"), "ConfigMap");
        CHECK(json_array_size(kjson_get(j, "details.causes")) == 1);
        json_decref(j);
        j = reqj("POST", "/api/v1/namespaces/default/configmaps", "application/json",
                 "{\"metadata\":{\"name\":\"k\"},\"data\":{\"bad key\":\"x\"}}", &code);
        CHECK_EQ_INT(code, 422);
        CHECK_EQ_STR(kjson_str(json_array_get(kjson_get(j, "details.causes"), 0), "field"),
                     "data[bad key]");
        json_decref(j);
        j = reqj("POST", "/api/v1/namespaces/default/configmaps", "application/yaml",
                 "metadata:\n  generateName: gen-\ndata:\n  a: b\n", &code);
        CHECK_EQ_INT(code, 201);
        CHECK(!strncmp(kjson_str(j, "metadata.name") ? kjson_str(j, "metadata.name") : "", "gen-",
                       4));
        json_decref(j);

        j = reqj("POST", "/api/v1/namespaces/default/secrets", "application/json",
                 "{\"metadata\":{\"name\":\"s\"},\"stringData\":{\"k\":\"hello\"}}", &code);
        CHECK_EQ_INT(code, 201);
        CHECK_EQ_STR(kjson_str(j, "data.k"), "aGVsbG8=");
        CHECK_EQ_STR(kjson_str(j, "type"), "Opaque");
        CHECK(!json_object_get(j, "stringData"));
        json_decref(j);

        /* list with selectors and a Table */
        j = reqj("GET", "/api/v1/pods?labelSelector=app%3Da&fieldSelector=metadata.name%3Dp1", NULL,
                 NULL, &code);
        CHECK_EQ_INT(code, 200);
        CHECK_EQ_INT(json_array_size(json_object_get(j, "items")), 1);
        json_decref(j);
        j = reqj("GET", "/api/v1/pods?labelSelector=app%3Db", NULL, NULL, &code);
        CHECK_EQ_INT(json_array_size(json_object_get(j, "items")), 0);
        json_decref(j);
        j = reqj("GET", "/api/v1/pods?fieldSelector=spec.foo%3Db", NULL, NULL, &code);
        CHECK_EQ_INT(code, 400);
        json_decref(j);
        char *s = req("GET", "/api/v1/namespaces/default/pods", NULL,
                      "application/json;as=Table;v=v1;g=meta.k8s.io,application/json", NULL, &code);
        json_t *t = NULL;
        CHECK(kjson_parse(s, strlen(s), 0, &t, NULL) == 0);
        free(s);
        CHECK_EQ_STR(kjson_str(t, "kind"), "Table");
        json_t *row = json_array_get(json_object_get(t, "rows"), 0);
        CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(row, "cells"), 0)), "p1");
        CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(row, "cells"), 2)),
                     "Running");
        json_decref(t);

        /* pagination */
        for (int i = 0; i < 5; i++) {
                char b[256];
                snprintf(b, sizeof(b), "{\"metadata\":{\"name\":\"cm%d\"}}", i);
                json_decref(reqj("POST", "/api/v1/namespaces/default/configmaps",
                                 "application/json", b, &code));
        }
        j = reqj("GET", "/api/v1/namespaces/default/configmaps?limit=4", NULL, NULL, &code);
        CHECK_EQ_INT(json_array_size(json_object_get(j, "items")), 4);
        const char *cont = kjson_str(j, "metadata.continue");
        CHECK(cont != NULL);
        char path[512];
        snprintf(path, sizeof(path), "/api/v1/namespaces/default/configmaps?limit=4&continue=%s",
                 cont ? cont : "");
        json_t *j2 = reqj("GET", path, NULL, NULL, &code);
        CHECK_EQ_INT(json_array_size(json_object_get(j2, "items")), 2);
        CHECK(!kjson_str(j2, "metadata.continue"));
        json_decref(j2);
        json_decref(j);
}

TEST(watch)
{
        long code;
        json_t *j = reqj("GET", "/api/v1/namespaces/default/configmaps", NULL, NULL, &code);
        char rv[32];
        snprintf(rv, sizeof(rv), "%s", kjson_str(j, "metadata.resourceVersion"));
        json_decref(j);
        json_decref(reqj("POST", "/api/v1/namespaces/default/configmaps", "application/json",
                         "{\"metadata\":{\"name\":\"w1\"}}", &code));
        json_decref(reqj("PATCH", "/api/v1/namespaces/default/configmaps/w1",
                         "application/merge-patch+json", "{\"data\":{\"a\":\"b\"}}", &code));
        json_decref(reqj("DELETE", "/api/v1/namespaces/default/configmaps/w1", NULL, NULL, &code));
        CHECK_EQ_INT(code, 200);
        char path[256];
        snprintf(path, sizeof(path),
                 "/api/v1/namespaces/default/"
                 "configmaps?watch=true&resourceVersion=%s&timeoutSeconds=1",
                 rv);
        char *s = req("GET", path, NULL, NULL, NULL, &code);
        CHECK_EQ_INT(code, 200);
        /* exactly ADDED, MODIFIED, DELETED of w1, one per line */
        char *l1 = strstr(s, "{\"type\":\"ADDED\"");
        char *l2 = strstr(s, "{\"type\":\"MODIFIED\"");
        char *l3 = strstr(s, "{\"type\":\"DELETED\"");
        CHECK(l1 == s && l2 > l1 && l3 > l2);
        int lines = 0;
        for (char *p = s; *p; p++)
                lines += *p == '\n';
        CHECK_EQ_INT(lines, 3);
        free(s);

        /* resourceVersion=0: synthetic ADDED for current objects; field selector filters */
        s = req("GET",
                "/api/v1/namespaces/default/"
                "configmaps?watch=1&resourceVersion=0&timeoutSeconds=1&fieldSelector=metadata.name%"
                "3Dcm1",
                NULL, NULL, NULL, &code);
        CHECK(strstr(s, "\"ADDED\"") && strstr(s, "\"cm1\"") && !strstr(s, "\"cm2\""));
        free(s);

        /* Table watch */
        s = req("GET",
                "/api/v1/namespaces/default/"
                "configmaps?watch=1&resourceVersion=0&timeoutSeconds=1&fieldSelector=metadata.name%"
                "3Dcm1",
                NULL, "application/json;as=Table;v=v1;g=meta.k8s.io", NULL, &code);
        CHECK(strstr(s, "\"kind\":\"Table\"") && strstr(s, "\"columnDefinitions\""));
        free(s);

        /* bookmarks (interval set to 200 ms in main) */
        s = req("GET",
                "/api/v1/namespaces/default/"
                "configmaps?watch=1&resourceVersion=0&timeoutSeconds=1&allowWatchBookmarks=true&"
                "fieldSelector=metadata.name%3Dnone",
                NULL, NULL, NULL, &code);
        CHECK(strstr(s, "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"ConfigMap\",\"apiVersion\":"
                        "\"v1\",\"metadata\":{\"resourceVersion\":\"") == s);
        free(s);

        /* list at an exact revision: w1 did not exist yet at rv */
        snprintf(path, sizeof(path),
                 "/api/v1/namespaces/default/"
                 "configmaps?resourceVersion=%s&resourceVersionMatch=Exact&fieldSelector=metadata."
                 "name%%3Dw1",
                 rv);
        j = reqj("GET", path, NULL, NULL, &code);
        CHECK_EQ_INT(code, 200);
        CHECK_EQ_INT(json_array_size(json_object_get(j, "items")), 0);
        CHECK_EQ_STR(kjson_str(j, "metadata.resourceVersion"), rv);
        json_decref(j);

        /* too old -> one ERROR 410 event, then the stream ends. Watches are served from the
         * watch cache, whose window starts at the server's initial listing (after the default
         * namespaces were created), independent of the store's compaction, as in Kubernetes. */
        struct error err = {0};
        CHECK(store_compact(st, store_revision(st), &err) == 0);
        s = req("GET", "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=1", NULL,
                NULL, NULL, &code);
        CHECK(strstr(s, "{\"type\":\"ERROR\"") == s);
        CHECK(strstr(s, "\"code\":410"));
        CHECK(strstr(s, "\"reason\":\"Expired\""));
        free(s);
        snprintf(path, sizeof(path),
                 "/api/v1/namespaces/default/"
                 "configmaps?resourceVersion=%s&resourceVersionMatch=Exact",
                 rv);
        j = reqj("GET", path, NULL, NULL, &code);
        CHECK_EQ_INT(code, 410);
        json_decref(j);
}

TEST(graceful_delete)
{
        long code;
        json_decref(reqj("POST", "/api/v1/nodes", "application/json",
                         "{\"metadata\":{\"name\":\"n1\"}}", &code));
        CHECK_EQ_INT(code, 201);
        char pod[512];
        snprintf(pod, sizeof(pod), "%s", POD);
        char *p = strstr(pod, "\"p1\"");
        p[2] = '2';
        json_decref(
                reqj("POST", "/api/v1/namespaces/default/pods", "application/json", pod, &code));
        json_decref(reqj(
                "POST", "/api/v1/namespaces/default/pods/p2/binding", "application/json",
                "{\"metadata\":{\"name\":\"p2\"},\"target\":{\"kind\":\"Node\",\"name\":\"n1\"}}",
                &code));
        CHECK_EQ_INT(code, 201);
        json_t *j = reqj(
                "POST", "/api/v1/namespaces/default/pods/p2/binding", "application/json",
                "{\"metadata\":{\"name\":\"p2\"},\"target\":{\"kind\":\"Node\",\"name\":\"n1\"}}",
                &code);
        CHECK_EQ_INT(code, 409);
        json_decref(j);
        j = reqj("DELETE", "/api/v1/namespaces/default/pods/p2", "application/json",
                 "{\"propagationPolicy\":\"Background\"}", &code);
        CHECK_EQ_INT(code, 200);
        CHECK(kjson_str(j, "metadata.deletionTimestamp") != NULL);
        CHECK_EQ_INT(kjson_int(j, "metadata.deletionGracePeriodSeconds", -1), 30);
        json_decref(j);
        j = reqj("GET", "/api/v1/namespaces/default/pods/p2", NULL, NULL, &code);
        CHECK_EQ_INT(code, 200);
        json_decref(j);
        j = reqj("DELETE", "/api/v1/namespaces/default/pods/p2", "application/json",
                 "{\"gracePeriodSeconds\":0}", &code);
        CHECK_EQ_INT(code, 200);
        json_decref(j);
        j = reqj("GET", "/api/v1/namespaces/default/pods/p2", NULL, NULL, &code);
        CHECK_EQ_INT(code, 404);
        json_decref(j);
        /* an unbound pod goes at once */
        j = reqj("DELETE", "/api/v1/namespaces/default/pods/p1", NULL, NULL, &code);
        CHECK_EQ_INT(code, 200);
        json_decref(j);
        j = reqj("GET", "/api/v1/namespaces/default/pods/p1", NULL, NULL, &code);
        CHECK_EQ_INT(code, 404);
        json_decref(j);
}

TEST(namespaces)
{
        long code;
        json_decref(reqj("POST", "/api/v1/namespaces", "application/json",
                         "{\"metadata\":{\"name\":\"t1\"}}", &code));
        CHECK_EQ_INT(code, 201);
        json_decref(reqj("POST", "/api/v1/namespaces/t1/configmaps", "application/json",
                         "{\"metadata\":{\"name\":\"c\"}}", &code));
        CHECK_EQ_INT(code, 201);
        json_t *j = reqj("DELETE", "/api/v1/namespaces/t1", NULL, NULL, &code);
        CHECK_EQ_INT(code, 200);
        json_decref(j);
        j = reqj("GET", "/api/v1/namespaces/t1", NULL, NULL, &code);
        CHECK_EQ_INT(code, 404);
        json_decref(j);
        j = reqj("GET", "/api/v1/namespaces/t1/configmaps/c", NULL, NULL, &code);
        CHECK_EQ_INT(code, 404);
        json_decref(j);
        j = reqj("DELETE", "/api/v1/namespaces/default", NULL, NULL, &code);
        CHECK_EQ_INT(code, 403);
        json_decref(j);
        j = reqj("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
                 "application/json",
                 "{\"metadata\":{\"name\":\"n1\"},\"spec\":{\"holderIdentity\":\"n1\"}}", &code);
        CHECK_EQ_INT(code, 201);
        CHECK_EQ_STR(kjson_str(j, "apiVersion"), "coordination.k8s.io/v1");
        json_decref(j);
}

TEST(finalizers)
{
        long code;
        json_t *j =
                reqj("POST", "/api/v1/namespaces/default/configmaps", "application/json",
                     "{\"metadata\":{\"name\":\"fin\",\"finalizers\":[\"example.com/x\"]}}", &code);
        CHECK_EQ_INT(code, 201);
        json_decref(j);
        j = reqj("DELETE", "/api/v1/namespaces/default/configmaps/fin", NULL, NULL, &code);
        CHECK_EQ_INT(code, 200);
        CHECK(kjson_str(j, "metadata.deletionTimestamp") != NULL);
        json_decref(j);
        j = reqj("GET", "/api/v1/namespaces/default/configmaps/fin", NULL, NULL, &code);
        CHECK_EQ_INT(code, 200);
        json_decref(j);
        /* removing the last finalizer completes the deletion */
        j = reqj("PATCH", "/api/v1/namespaces/default/configmaps/fin",
                 "application/merge-patch+json", "{\"metadata\":{\"finalizers\":null}}", &code);
        CHECK_EQ_INT(code, 200);
        json_decref(j);
        j = reqj("GET", "/api/v1/namespaces/default/configmaps/fin", NULL, NULL, &code);
        CHECK_EQ_INT(code, 404);
        json_decref(j);

        /* a namespace with a bound pod stays Terminating until the pod is gone */
        json_decref(reqj("POST", "/api/v1/namespaces", "application/json",
                         "{\"metadata\":{\"name\":\"t2\"}}", &code));
        json_decref(reqj("POST", "/api/v1/namespaces/t2/pods", "application/json",
                         "{\"metadata\":{\"name\":\"p\"},\"spec\":{\"nodeName\":\"n1\","
                         "\"containers\":[{\"name\":\"c\",\"image\":\"x\"}]}}",
                         &code));
        CHECK_EQ_INT(code, 201);
        j = reqj("DELETE", "/api/v1/namespaces/t2", NULL, NULL, &code);
        CHECK_EQ_INT(code, 200);
        CHECK_EQ_STR(kjson_str(j, "status.phase"), "Terminating");
        json_decref(j);
        j = reqj("POST", "/api/v1/namespaces/t2/configmaps", "application/json",
                 "{\"metadata\":{\"name\":\"c\"}}", &code);
        CHECK_EQ_INT(code, 403);
        json_decref(j);
        j = reqj("GET", "/api/v1/namespaces/t2/pods/p", NULL, NULL, &code);
        CHECK(kjson_str(j, "metadata.deletionTimestamp") != NULL);
        json_decref(j);
        json_decref(reqj("DELETE", "/api/v1/namespaces/t2/pods/p?gracePeriodSeconds=0", NULL, NULL,
                         &code));
        CHECK_EQ_INT(code, 200);
        j = reqj("GET", "/api/v1/namespaces/t2", NULL, NULL, &code);
        CHECK_EQ_INT(code, 404);
        json_decref(j);

        /* deletecollection with a label selector */
        json_decref(reqj("POST", "/api/v1/namespaces/default/configmaps", "application/json",
                         "{\"metadata\":{\"name\":\"dc1\",\"labels\":{\"dc\":\"1\"}}}", &code));
        json_decref(reqj("POST", "/api/v1/namespaces/default/configmaps", "application/json",
                         "{\"metadata\":{\"name\":\"dc2\"}}", &code));
        json_decref(reqj("DELETE", "/api/v1/namespaces/default/configmaps?labelSelector=dc%3D1",
                         NULL, NULL, &code));
        CHECK_EQ_INT(code, 200);
        j = reqj("GET", "/api/v1/namespaces/default/configmaps/dc1", NULL, NULL, &code);
        CHECK_EQ_INT(code, 404);
        json_decref(j);
        j = reqj("GET", "/api/v1/namespaces/default/configmaps/dc2", NULL, NULL, &code);
        CHECK_EQ_INT(code, 200);
        json_decref(j);
}

static volatile int housekeeping_done;
static void run_housekeeping(void *ud)
{
        apiserver_housekeeping(ud);
        housekeeping_done = 1;
}

TEST(event_ttl)
{
        long code;
        json_decref(reqj("POST", "/api/v1/namespaces/default/events", "application/json",
                         "{\"metadata\":{\"name\":\"new\"},\"involvedObject\":{\"kind\":\"Pod\"},"
                         "\"reason\":\"R\"}",
                         &code));
        CHECK_EQ_INT(code, 201);
        const char *old = "{\"metadata\":{\"name\":\"old\",\"namespace\":\"default\","
                          "\"creationTimestamp\":\"2020-01-01T00:00:00Z\"},\"reason\":\"R\"}";
        struct error err = {0};
        CHECK(store_create(st, "/registry/events/default/old", old, strlen(old), NULL, &err) == 0);
        json_t *j = reqj("GET", "/api/v1/namespaces/default/events/old", NULL, NULL, &code);
        CHECK_EQ_INT(code, 200);
        json_decref(j);
        housekeeping_done = 0;
        http_server_post(srv->http, run_housekeeping, srv);
        for (int i = 0; i < 500 && !housekeeping_done; i++)
                usleep(10000);
        CHECK(housekeeping_done);
        j = reqj("GET", "/api/v1/namespaces/default/events/old", NULL, NULL, &code);
        CHECK_EQ_INT(code, 404);
        json_decref(j);
        j = reqj("GET", "/api/v1/namespaces/default/events/new", NULL, NULL, &code);
        CHECK_EQ_INT(code, 200);
        json_decref(j);
}

/* A fake kubelet: one plain-HTTP exchange on loopback, records the request line. */
static int kubelet_fd = -1;
static char kubelet_req[512];

static void *fake_kubelet(void *ud)
{
        int c = accept(kubelet_fd, NULL, NULL);
        if (c < 0)
                return NULL;
        char buf[2048];
        size_t n = 0;
        while (n < sizeof(buf) - 1) {
                ssize_t r = read(c, buf + n, sizeof(buf) - 1 - n);
                if (r <= 0)
                        break;
                n += (size_t)r;
                buf[n] = 0;
                if (strstr(buf, "\r\n\r\n"))
                        break;
        }
        buf[n] = 0;
        char *eol = strstr(buf, "\r\n");
        if (eol)
                *eol = 0;
        snprintf(kubelet_req, sizeof(kubelet_req), "%.500s", buf);
        const char *resp = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n"
                           "Connection: close\r\n\r\nhello\nworld\n";
        if (write(c, resp, strlen(resp)) < 0)
                kubelet_req[0] = 0;
        close(c);
        return NULL;
}

TEST(logs)
{
        long code;
        kubelet_fd = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t sl = sizeof(sa);
        CHECK(bind(kubelet_fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
        CHECK(listen(kubelet_fd, 4) == 0);
        getsockname(kubelet_fd, (struct sockaddr *)&sa, &sl);
        char body[1024];
        snprintf(body, sizeof(body),
                 "{\"metadata\":{\"name\":\"kn\"},\"status\":{\"addresses\":[{\"type\":"
                 "\"InternalIP\","
                 "\"address\":\"127.0.0.1\"}],\"daemonEndpoints\":{\"kubeletEndpoint\":{\"Port\":%"
                 "d}}}}",
                 ntohs(sa.sin_port));
        json_decref(reqj("POST", "/api/v1/nodes", "application/json", body, &code));
        CHECK_EQ_INT(code, 201);
        json_decref(reqj(
                "POST", "/api/v1/namespaces/default/pods", "application/json",
                "{\"metadata\":{\"name\":\"lp\"},\"spec\":{\"nodeName\":\"kn\",\"containers\":["
                "{\"name\":\"a\",\"image\":\"x\"},{\"name\":\"b\",\"image\":\"x\"}]}}",
                &code));
        CHECK_EQ_INT(code, 201);
        json_t *j = reqj("GET", "/api/v1/namespaces/default/pods/lp/log", NULL, NULL, &code);
        CHECK_EQ_INT(code, 400);
        CHECK_EQ_STR(kjson_str(j, "message"),
                     "a container name must be specified for pod lp, choose one of: [a b]");
        json_decref(j);
        j = reqj("GET", "/api/v1/namespaces/default/pods/lp/log?container=b", NULL, NULL, &code);
        CHECK_EQ_INT(code, 400);
        CHECK_EQ_STR(kjson_str(j, "message"),
                     "container \"b\" in pod \"lp\" is waiting to start: ContainerCreating");
        json_decref(j);
        json_decref(reqj("PATCH", "/api/v1/namespaces/default/pods/lp/status",
                         "application/merge-patch+json",
                         "{\"status\":{\"containerStatuses\":[{\"name\":\"b\",\"state\":{"
                         "\"running\":{}}}]}}",
                         &code));
        CHECK_EQ_INT(code, 200);
        pthread_t t;
        pthread_create(&t, NULL, fake_kubelet, NULL);
        char *s = req("GET",
                      "/api/v1/namespaces/default/pods/lp/log?container=b&tailLines=2&follow=true",
                      NULL, NULL, NULL, &code);
        pthread_join(t, NULL);
        CHECK_EQ_INT(code, 200);
        CHECK_EQ_STR(s, "hello\nworld\n");
        CHECK_EQ_STR(kubelet_req,
                     "GET /containerLogs/default/lp/b?follow=true&tailLines=2 HTTP/1.1");
        free(s);
        close(kubelet_fd);
}

int main(void)
{
        log_set_level(LOG_WARN);
        curl_global_init(CURL_GLOBAL_DEFAULT);
        if (!mkdtemp(tmpdir))
                return 1;
        char db[256];
        snprintf(db, sizeof(db), "%s/state.db", tmpdir);
        struct error err = {0};
        if (store_open(db, &st, &err) < 0) {
                printf("# store: %s\n", err.msg);
                return 1;
        }
        struct apiserver_config cfg = {.bind_address = "127.0.0.1", .port = 0, .store = st};
        if (apiserver_new(&cfg, &srv, &err) < 0) {
                printf("# apiserver: %s\n", err.msg);
                return 1;
        }
        port = apiserver_port(srv);
        apiserver_set_bookmark_interval(srv, 200);
        pthread_t t;
        pthread_create(&t, NULL, run, NULL);
        RUN(basics);
        RUN(crud);
        RUN(watch);
        RUN(graceful_delete);
        RUN(namespaces);
        RUN(finalizers);
        RUN(event_ttl);
        RUN(logs);
        apiserver_stop(srv);
        pthread_join(t, NULL);
        apiserver_free(srv);
        store_close(st);
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
        if (system(cmd) != 0)
                printf("# cleanup failed\n");
        curl_global_cleanup();
        return harness_done();
}
