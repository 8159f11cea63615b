/* test-client.c — kclient: Status mapping, JSON verbs, watch stream parsing. */
#include "client/client.h"

#include "client/test-server.h"
#include "harness.h"

static struct ts_server srv;

static const char ev_a[] = "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":"
                           "{\"name\":\"a\",\"resourceVersion\":\"5\"}}}\n";
static const char ev_b[] = "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Pod\",\"metadata\":"
                           "{\"name\":\"b\",\"resourceVersion\":\"6\"}}}\n";
static const char ev_c[] = "{\"type\":\"DELETED\",\"object\":{\"kind\":\"Pod\",\"metadata\":"
                           "{\"name\":\"c\",\"resourceVersion\":\"7\"}}}\n";

static bool handler(struct ts_server *s, struct ts_req *r)
{
        char out[8192];

        if (strncmp(r->path, "/api/v1/namespaces/default/pods", 31) == 0 &&
            !strstr(r->path, "watch")) {
                /* Echo the request so the test can check method, path, type and body. */
                json_t *j = json_pack("{s:s,s:s,s:s,s:s%}", "method", r->method, "path", r->path,
                                      "ct", r->content_type, "body", r->body, r->body_len);
                char *d = json_dumps(j, JSON_COMPACT);
                ts_respond(r, strcmp(r->method, "POST") == 0 ? 201 : 200, d);
                free(d);
                json_decref(j);
                return true;
        }
        if (strcmp(r->path, "/empty") == 0) {
                ts_respond(r, 200, "");
                return true;
        }
        if (strcmp(r->path, "/notjson") == 0) {
                ts_respond(r, 200, "<html>");
                return true;
        }
        if (strcmp(r->path, "/exists") == 0) {
                ts_respond(r, 409,
                           "{\"kind\":\"Status\",\"status\":\"Failure\",\"message\":"
                           "\"pods \\\"x\\\" already exists\",\"reason\":"
                           "\"AlreadyExists\",\"code\":409}");
                return true;
        }
        if (strcmp(r->path, "/watch-split?watch=true") == 0) {
                /* Events split at awkward places: mid-token, right before the newline, and
                 * two events plus half a third in one chunk. */
                size_t la = strlen(ev_a), lb = strlen(ev_b);
                ts_chunk_start(r, 200);
                ts_chunk_n(r, ev_a, 10);
                ts_sleep(s, 20);
                ts_chunk_n(r, ev_a + 10, la - 11);
                ts_sleep(s, 20);
                ts_chunk_n(r, ev_a + la - 1, 1);
                snprintf(out, sizeof(out), "%s%.*s", ev_b, 30, ev_c);
                ts_chunk(r, out);
                ts_chunk(r, ev_c + 30);
                ts_chunk(r, "\n");
                (void)lb;
                ts_chunk_end(r);
                return true;
        }
        if (strcmp(r->path, "/watch-gone?watch=true") == 0) {
                ts_chunk_start(r, 200);
                ts_chunk(
                        r,
                        "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\","
                        "\"status\":\"Failure\",\"message\":\"too old resource version: 1 "
                        "(5)\",\"reason\":\"Expired\",\"code\":410}}\n");
                ts_chunk_end(r);
                return true;
        }
        if (strcmp(r->path, "/watch-garbage?watch=true") == 0) {
                ts_chunk_start(r, 200);
                ts_chunk(r, ev_a);
                ts_chunk(r, "{not json\n");
                ts_chunk_end(r);
                return true;
        }
        if (strcmp(r->path, "/watch-huge?watch=true") == 0) {
                /* 17 MiB without a newline: over the per-event cap. */
                static char blob[1 << 20];
                memset(blob, ' ', sizeof(blob));
                ts_chunk_start(r, 200);
                for (int k = 0; k < 17 && !atomic_load(&s->stop); k++)
                        ts_chunk_n(r, blob, sizeof(blob));
                return false;
        }
        if (strcmp(r->path, "/watch-noeol?watch=true") == 0) {
                ts_chunk_start(r, 200);
                ts_chunk_n(r, ev_a, strlen(ev_a) - 1);
                ts_chunk_end(r);
                return true;
        }
        if (strcmp(r->path, "/watch-forbidden?watch=true") == 0) {
                ts_respond(r, 403,
                           "{\"kind\":\"Status\",\"message\":\"pods is forbidden: "
                           "User \\\"x\\\" cannot watch\",\"reason\":\"Forbidden\","
                           "\"code\":403}");
                return true;
        }
        if (strcmp(r->path, "/logs") == 0) {
                ts_chunk_start(r, 200);
                ts_chunk(r, "line 1\n");
                ts_chunk(r, "line 2\n");
                ts_chunk_end(r);
                return true;
        }
        ts_respond(r, 404,
                   "{\"kind\":\"Status\",\"message\":\"the server could not find the "
                   "requested resource\",\"reason\":\"NotFound\",\"code\":404}");
        return true;
}

static struct kclient *client(void)
{
        struct kclient *c = NULL;
        struct error err = {};
        char *u = ts_url(&srv, "/");

        kclient_new(u, NULL, NULL, NULL, NULL, &c, &err);
        free(u);
        return c;
}

TEST(status_mapping)
{
        static const struct {
                long status;
                const char *body;
                int code;
                const char *msg;
        } cases[] = {
                {200, "{}", 0, NULL},
                {201, "", 0, NULL},
                {404,
                 "{\"kind\":\"Status\",\"message\":\"pods \\\"x\\\" not "
                 "found\",\"reason\":\"NotFound\"}",
                 -ENOENT, "pods \"x\" not found"},
                {409,
                 "{\"message\":\"pods \\\"x\\\" already exists\",\"reason\":\"AlreadyExists\"}",
                 -EEXIST, "pods \"x\" already exists"},
                {409, "{\"message\":\"the object has been modified\",\"reason\":\"Conflict\"}",
                 -ESTALE, "the object has been modified"},
                {409, "{}", -ESTALE, "HTTP 409"},
                {400, "{\"message\":\"bad\"}", -EINVAL, "bad"},
                {422, "{\"message\":\"Pod \\\"X\\\" is invalid\",\"reason\":\"Invalid\"}", -EINVAL,
                 "Pod \"X\" is invalid"},
                {401, "{\"message\":\"Unauthorized\"}", -EACCES, "Unauthorized"},
                {403, "{\"message\":\"forbidden\"}", -EACCES, "forbidden"},
                {410, "{\"message\":\"too old\",\"reason\":\"Expired\"}", -ERANGE, "too old"},
                {500, "{\"message\":\"boom\"}", -EIO, "boom"},
                {503, "upstream down\nmore", -EIO, "HTTP 503: upstream down"},
                {405, "", -EPROTO, "HTTP 405"},
        };
        for (size_t k = 0; k < ARRAY_SIZE(cases); k++) {
                struct error err = {};
                int r = kclient_status_to_errno(cases[k].status, cases[k].body,
                                                strlen(cases[k].body), &err);
                CHECK_EQ_INT(r, cases[k].code);
                if (cases[k].msg)
                        CHECK_EQ_STR(err.msg, cases[k].msg);
        }
}

TEST(json_verbs)
{
        _cleanup_(kclient_freep) struct kclient *c = client();
        _cleanup_(json_decrefp) json_t *obj = json_pack("{s:s}", "kind", "Pod");
        struct error err = {};
        json_t *ret = NULL;

        CHECK(c != NULL);
        CHECK_EQ_INT(kclient_get(c, "/api/v1/namespaces/default/pods/x", &ret, &err), 0);
        CHECK_EQ_STR(json_string_value(json_object_get(ret, "method")), "GET");
        CHECK_EQ_STR(json_string_value(json_object_get(ret, "path")),
                     "/api/v1/namespaces/default/pods/x");
        json_decref(ret);

        CHECK_EQ_INT(kclient_create(c, "/api/v1/namespaces/default/pods", obj, &ret, &err), 0);
        CHECK_EQ_STR(json_string_value(json_object_get(ret, "method")), "POST");
        CHECK_EQ_STR(json_string_value(json_object_get(ret, "ct")), "application/json");
        CHECK_EQ_STR(json_string_value(json_object_get(ret, "body")), "{\"kind\":\"Pod\"}");
        json_decref(ret);

        CHECK_EQ_INT(kclient_update(c, "/api/v1/namespaces/default/pods/x", obj, &ret, &err), 0);
        CHECK_EQ_STR(json_string_value(json_object_get(ret, "method")), "PUT");
        json_decref(ret);

        CHECK_EQ_INT(kclient_patch(c, "/api/v1/namespaces/default/pods/x/status", "strategic", obj,
                                   &ret, &err),
                     0);
        CHECK_EQ_STR(json_string_value(json_object_get(ret, "method")), "PATCH");
        CHECK_EQ_STR(json_string_value(json_object_get(ret, "ct")),
                     "application/strategic-merge-patch+json");
        json_decref(ret);
        CHECK_EQ_INT(kclient_patch(c, "/api/v1/namespaces/default/pods/x", "json", obj, &ret, &err),
                     0);
        CHECK_EQ_STR(json_string_value(json_object_get(ret, "ct")), "application/json-patch+json");
        json_decref(ret);
        CHECK_EQ_INT(kclient_patch(c, "/x", "bogus", obj, NULL, &err), -EINVAL);

        CHECK_EQ_INT(kclient_delete(c, "/api/v1/namespaces/default/pods/x", NULL, &ret, &err), 0);
        CHECK_EQ_STR(json_string_value(json_object_get(ret, "method")), "DELETE");
        CHECK_EQ_STR(json_string_value(json_object_get(ret, "body")), "");
        json_decref(ret);

        /* ret may be NULL to discard; an empty body gives NULL. */
        CHECK_EQ_INT(kclient_get(c, "/api/v1/namespaces/default/pods/x", NULL, &err), 0);
        ret = (json_t *)1;
        CHECK_EQ_INT(kclient_get(c, "/empty", &ret, &err), 0);
        CHECK(ret == NULL);
        CHECK_EQ_INT(kclient_get(c, "/notjson", &ret, &err), -EPROTO);
}

TEST(errors_from_server)
{
        _cleanup_(kclient_freep) struct kclient *c = client();
        _cleanup_(json_decrefp) json_t *obj = json_object();
        struct error err = {};

        CHECK_EQ_INT(kclient_get(c, "/nope", NULL, &err), -ENOENT);
        CHECK_EQ_STR(err.msg, "the server could not find the requested resource");
        CHECK_EQ_INT(kclient_create(c, "/exists", obj, NULL, &err), -EEXIST);
        CHECK_EQ_STR(err.msg, "pods \"x\" already exists");
}

TEST(bad_server_url)
{
        struct kclient *c = NULL;
        struct error err = {};

        CHECK_EQ_INT(kclient_new("ftp://x", NULL, NULL, NULL, NULL, &c, &err), -EINVAL);
        CHECK_EQ_INT(kclient_new(NULL, NULL, NULL, NULL, NULL, &c, &err), -EINVAL);
        CHECK(c == NULL);
}

struct events {
        char types[8][16];
        char names[8][16];
        int n;
        int stop_after;
};

static int ev_cb(const char *type, json_t *obj, void *ud)
{
        struct events *e = ud;
        const char *name =
                json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));

        if (e->n < 8) {
                snprintf(e->types[e->n], 16, "%s", type);
                snprintf(e->names[e->n], 16, "%s", name ? name : "");
        }
        e->n++;
        if (e->stop_after && e->n >= e->stop_after)
                return 7;
        return 0;
}

TEST(watch_split_chunks)
{
        _cleanup_(kclient_freep) struct kclient *c = client();
        struct events e = {};
        struct error err = {};

        CHECK_EQ_INT(kclient_watch(c, "/watch-split?watch=true", ev_cb, &e, &err), 0);
        CHECK_EQ_INT(e.n, 3);
        CHECK_EQ_STR(e.types[0], "ADDED");
        CHECK_EQ_STR(e.names[0], "a");
        CHECK_EQ_STR(e.types[1], "MODIFIED");
        CHECK_EQ_STR(e.names[1], "b");
        CHECK_EQ_STR(e.types[2], "DELETED");
        CHECK_EQ_STR(e.names[2], "c");

        /* fn's non-zero return stops the watch and is returned. */
        e = (struct events){.stop_after = 2};
        CHECK_EQ_INT(kclient_watch(c, "/watch-split?watch=true", ev_cb, &e, &err), 7);
        CHECK_EQ_INT(e.n, 2);

        /* An unterminated last line still counts when the stream ends cleanly. */
        e = (struct events){};
        CHECK_EQ_INT(kclient_watch(c, "/watch-noeol?watch=true", ev_cb, &e, &err), 0);
        CHECK_EQ_INT(e.n, 1);
}

TEST(watch_error_event)
{
        _cleanup_(kclient_freep) struct kclient *c = client();
        struct events e = {};
        struct error err = {};

        CHECK_EQ_INT(kclient_watch(c, "/watch-gone?watch=true", ev_cb, &e, &err), 0);
        CHECK_EQ_INT(e.n, 1);
        CHECK_EQ_STR(e.types[0], "ERROR");
}

TEST(watch_bad_streams)
{
        _cleanup_(kclient_freep) struct kclient *c = client();
        struct events e = {};
        struct error err = {};

        CHECK_EQ_INT(kclient_watch(c, "/watch-garbage?watch=true", ev_cb, &e, &err), -EPROTO);
        CHECK_EQ_INT(e.n, 1);
        e = (struct events){};
        CHECK_EQ_INT(kclient_watch(c, "/watch-huge?watch=true", ev_cb, &e, &err), -E2BIG);
        CHECK_EQ_INT(e.n, 0);
        CHECK_EQ_INT(kclient_watch(c, "/watch-forbidden?watch=true", ev_cb, &e, &err), -EACCES);
        CHECK(strstr(err.msg, "cannot watch") != NULL);
}

static int log_cb(const char *data, size_t len, void *ud)
{
        char *buf = ud;
        size_t have = strlen(buf);

        if (have + len < 64) {
                memcpy(buf + have, data, len);
                buf[have + len] = 0;
        }
        return 0;
}

TEST(raw_stream)
{
        _cleanup_(kclient_freep) struct kclient *c = client();
        struct error err = {};
        char buf[64] = "";

        CHECK_EQ_INT(kclient_stream(c, "/logs", log_cb, buf, &err), 0);
        CHECK_EQ_STR(buf, "line 1\nline 2\n");
        CHECK_EQ_INT(kclient_stream(c, "/missing", log_cb, buf, &err), -ENOENT);
}

int main(void)
{
        if (ts_start(&srv, handler, NULL) < 0) {
                printf("Bail out! cannot start test server\n");
                return 1;
        }
        RUN(status_mapping);
        RUN(json_verbs);
        RUN(errors_from_server);
        RUN(bad_server_url);
        RUN(watch_split_chunks);
        RUN(watch_error_event);
        RUN(watch_bad_streams);
        RUN(raw_stream);
        ts_stop(&srv);
        return harness_done();
}
