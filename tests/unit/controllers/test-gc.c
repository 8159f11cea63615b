/* test-gc.c — controllers/gc.c: owner references resolved to API paths through the scheme. */
#include "controllers/gc.h"

#include <stdlib.h>

#include "harness.h"

static char *coll(const char *av, const char *kind, const char *ns)
{
        json_t *ref = json_pack("{s:s, s:s}", "apiVersion", av, "kind", kind);
        char *s = gc_owner_collection(ref, ns);
        json_decref(ref);
        return s;
}

TEST(owner_collection)
{
        char *s = coll("apps/v1", "ReplicaSet", "web");
        CHECK_EQ_STR(s, "/apis/apps/v1/namespaces/web/replicasets");
        free(s);
        s = coll("v1", "Node", "web"); /* cluster-scoped: no namespace */
        CHECK_EQ_STR(s, "/api/v1/nodes");
        free(s);
        s = coll("v1", "Pod", "x");
        CHECK_EQ_STR(s, "/api/v1/namespaces/x/pods");
        free(s);
        s = coll("example.com/v1", "Nope", "x");
        CHECK(s == NULL);
        free(s);
}

int main(void)
{
        RUN(owner_collection);
        return harness_done();
}
