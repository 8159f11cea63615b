/* test-crdsync.c — the CRD controllers on a real (SQLite) store: a stored CRD gets
 * NamesAccepted/Established and its custom resource is served; removing the CRD deletes its
 * custom resources and stops serving them. And the watch cache's entry for custom resources:
 * keys /registry/<group>/<plural>/... (a dot in the group) land there, others do not. */
#include "harness.h"

#include <stdlib.h>

#include "api/crd.h"
#include "apiserver/apiserver-internal.h"
#include "apiserver/cacher.h"
#include "common/kjson.h"
#include "common/log.h"
#include "store/store.h"

static char tmpdir[] = "/tmp/test-crdsync-XXXXXX";

static const char *CRD =
        "{\"apiVersion\":\"apiextensions.k8s.io/v1\",\"kind\":\"CustomResourceDefinition\","
        "\"metadata\":{\"name\":\"widgets.example.com\",\"uid\":\"u1\"},\"spec\":{\"group\":"
        "\"example.com\",\"scope\":\"Namespaced\",\"names\":{\"plural\":\"widgets\",\"singular\":"
        "\"widget\",\"kind\":\"Widget\",\"listKind\":\"WidgetList\"},\"versions\":[{\"name\":"
        "\"v1\",\"served\":true,\"storage\":true,\"schema\":{\"openAPIV3Schema\":{\"type\":"
        "\"object\",\"x-kubernetes-preserve-unknown-fields\":true}}}]}}";

static const char *CR = "{\"apiVersion\":\"example.com/v1\",\"kind\":\"Widget\",\"metadata\":{"
                        "\"name\":\"w\",\"namespace\":\"ns\"},\"spec\":{\"a\":1}}";

static bool exists(struct store *s, const char *key)
{
        struct store_kv kv = {0};
        int r = store_get(s, key, &kv, NULL);
        store_kv_clear(&kv);
        return r == 0;
}

TEST(establish_serve_delete)
{
        char db[256];
        snprintf(db, sizeof(db), "%s/crd.db", tmpdir);
        struct store *s = NULL;
        struct error err = {0};
        CHECK_EQ_INT(store_open(db, &s, &err), 0);
        if (!s)
                return;
        struct apiserver a = {.store = s};
        const char *ck = "/registry/customresourcedefinitions/widgets.example.com";
        const char *wk = "/registry/example.com/widgets/ns/w";
        CHECK_EQ_INT(store_create(s, ck, CRD, strlen(CRD), NULL, &err), 0);
        CHECK_EQ_INT(store_create(s, wk, CR, strlen(CR), NULL, &err), 0);
        crdsync_run(&a);
        struct store_kv kv = {0};
        CHECK_EQ_INT(store_get(s, ck, &kv, &err), 0);
        json_t *crd = NULL;
        CHECK_EQ_INT(kjson_parse(kv.value, kv.value_len, 0, &crd, NULL), 0);
        store_kv_clear(&kv);
        CHECK(crd_is_established(crd));
        CHECK_EQ_STR(kjson_str(crd, "status.acceptedNames.plural"), "widgets");
        json_decref(crd);
        const struct scheme_resource *r = scheme_lookup("example.com", "v1", "widgets");
        CHECK(r && r->custom && r->namespaced);
        /* a second run changes nothing */
        int64_t rev = store_revision(s);
        crdsync_run(&a);
        CHECK_EQ_INT(store_revision(s), rev);
        /* the CRD gone: its instances go, it is not served */
        CHECK_EQ_INT(store_delete(s, ck, 0, NULL, &err), 0);
        CHECK(exists(s, wk));
        crdsync_run(&a);
        CHECK(!exists(s, wk));
        CHECK(scheme_lookup("example.com", "v1", "widgets") == NULL);
        store_close(s);
}

TEST(finalizer)
{
        char db[256];
        snprintf(db, sizeof(db), "%s/fin.db", tmpdir);
        struct store *s = NULL;
        struct error err = {0};
        CHECK_EQ_INT(store_open(db, &s, &err), 0);
        if (!s)
                return;
        struct apiserver a = {.store = s};
        const char *ck = "/registry/customresourcedefinitions/widgets.example.com";
        const char *wk = "/registry/example.com/widgets/ns/w";
        json_t *crd = json_loads(CRD, 0, NULL);
        kjson_set_str(crd, "metadata.deletionTimestamp", "2026-01-01T00:00:00Z");
        kjson_set_path(crd, "metadata.finalizers", json_pack("[s]", CRD_FINALIZER));
        char *v = kjson_dump(crd);
        json_decref(crd);
        CHECK_EQ_INT(store_create(s, ck, v, strlen(v), NULL, &err), 0);
        free(v);
        CHECK_EQ_INT(store_create(s, wk, CR, strlen(CR), NULL, &err), 0);
        crdsync_run(&a);
        CHECK(!exists(s, wk));
        CHECK(!exists(s, ck)); /* the finalizer was the last one */
        store_close(s);
}

static void feed(struct cacher *c, const char *key, const char *value, int64_t rev)
{
        struct store_event ev = {.type = STORE_EVENT_PUT,
                                 .key = key,
                                 .value = value,
                                 .value_len = strlen(value),
                                 .rev = rev};
        cacher_store_event(&ev, c);
}

TEST(cacher_custom_entry)
{
        json_t *crd = json_loads(CRD, 0, NULL);
        crd_status_establish(crd, NULL, "2026-01-01T00:00:00Z");
        json_t *arr = json_pack("[o]", crd);
        crd_registry_install(arr);
        json_decref(arr);
        const struct scheme_resource *r = scheme_lookup("example.com", "v1", "widgets");
        CHECK(r != NULL);
        if (!r)
                return;
        struct cacher *c = NULL;
        struct cacher_config cfg = {0};
        CHECK_EQ_INT(cacher_new(&cfg, &c, NULL), 0);
        feed(c, "/registry/example.com/widgets/ns/w", CR, 10);
        feed(c, "/registry/example.com/gadgets/ns/g", CR, 11);
        feed(c, "/registry/pods/ns/p.with.dots", "{\"metadata\":{\"name\":\"p.with.dots\"}}", 12);
        cacher_drain(c);
        size_t n;
        _cleanup_free_ char *prefix = scheme_prefix(r, "ns");
        CHECK_EQ_STR(prefix, "/registry/example.com/widgets/ns/");
        struct cacher_obj *const *o = cacher_objects(c, r, prefix, NULL, &n);
        CHECK_EQ_INT(n, 1);
        if (n == 1) {
                CHECK_EQ_STR(o[0]->key, "/registry/example.com/widgets/ns/w");
                CHECK(strstr(o[0]->json, "\"apiVersion\":\"example.com/v1\""));
                CHECK(strstr(o[0]->json, "\"resourceVersion\":\"10\""));
        }
        o = cacher_objects(c, scheme_lookup("", "v1", "pods"), "/registry/pods/", NULL, &n);
        CHECK_EQ_INT(n, 1);
        cacher_free(c);
        crd_registry_install(NULL);
        CHECK(scheme_lookup("example.com", "v1", "widgets") == NULL);
}

int main(void)
{
        log_set_level(LOG_WARN);
        if (!mkdtemp(tmpdir))
                return 1;
        RUN(establish_serve_delete);
        RUN(finalizer);
        RUN(cacher_custom_entry);
        char cmd[512];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
        if (system(cmd) != 0)
                printf("# cleanup failed\n");
        return harness_done();
}
