/* test-manager.c — controllers/manager.c: the leader-election decision (client-go semantics:
 * expiry measured from when this process observed the record, transitions counted). */
#include "controllers/manager.h"

#include "common/kjson.h"
#include "harness.h"

TEST(create_when_absent)
{
        json_t *l = manager_lease_next(NULL, "me", 100, 100);
        CHECK_EQ_STR(kjson_str(l, "metadata.name"), MANAGER_LEASE_NAME);
        CHECK_EQ_STR(kjson_str(l, "metadata.namespace"), MANAGER_LEASE_NAMESPACE);
        CHECK_EQ_STR(kjson_str(l, "spec.holderIdentity"), "me");
        CHECK_EQ_INT(kjson_int(l, "spec.leaseDurationSeconds", 0), 15);
        CHECK_EQ_INT(kjson_int(l, "spec.leaseTransitions", -1), 0);
        CHECK(kjson_str(l, "spec.renewTime") != NULL);
        json_decref(l);
}

TEST(other_holder)
{
        json_t *cur = json_pack(
                "{s:{s:s, s:s}, s:{s:s, s:i, s:i, s:s}}", "metadata", "name", MANAGER_LEASE_NAME,
                "resourceVersion", "7", "spec", "holderIdentity", "other", "leaseDurationSeconds",
                15, "leaseTransitions", 3, "acquireTime", "2026-01-01T00:00:00.000000Z");
        /* observed 10 s ago: not expired */
        CHECK(manager_lease_next(cur, "me", 110, 100) == NULL);
        /* observed 16 s ago: take over, keep the resourceVersion, count a transition */
        json_t *l = manager_lease_next(cur, "me", 116, 100);
        CHECK(l != NULL);
        CHECK_EQ_STR(kjson_str(l, "spec.holderIdentity"), "me");
        CHECK_EQ_STR(kjson_str(l, "metadata.resourceVersion"), "7");
        CHECK_EQ_INT(kjson_int(l, "spec.leaseTransitions", -1), 4);
        CHECK(strcmp(kjson_str(l, "spec.acquireTime"), "2026-01-01T00:00:00.000000Z") != 0);
        json_decref(l);
        /* renewing our own lease keeps acquireTime and transitions */
        json_t *mine = manager_lease_next(cur, "other", 101, 100);
        CHECK_EQ_STR(kjson_str(mine, "spec.acquireTime"), "2026-01-01T00:00:00.000000Z");
        CHECK_EQ_INT(kjson_int(mine, "spec.leaseTransitions", -1), 3);
        json_decref(mine);
        /* a released lease (no holder) is free at once */
        json_object_set_new(json_object_get(cur, "spec"), "holderIdentity", json_null());
        l = manager_lease_next(cur, "me", 100, 100);
        CHECK(l != NULL);
        json_decref(l);
        json_decref(cur);
}

int main(void)
{
        RUN(create_when_absent);
        RUN(other_holder);
        return harness_done();
}
