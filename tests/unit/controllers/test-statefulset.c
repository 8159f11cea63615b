/* test-statefulset.c — controllers/statefulset.c: ordinals of <set>-<n> names
 * (getParentNameAndOrdinal), the pod of an ordinal from a revision's template (name, hostname,
 * subdomain from serviceName, the pod-name/pod-index/controller-revision-hash labels, claim
 * volumes replacing same-named template volumes) and its PVCs <template>-<set>-<n> (labels from
 * the selector, ownerReference only for whenDeleted Delete). */
#include "controllers/statefulset.h"

#include "common/kjson.h"
#include "controllers/history.h"
#include "harness.h"

static json_t *J(const char *s)
{
        json_t *j = NULL;
        kjson_parse(s, strlen(s), 0, &j, NULL);
        return j;
}

TEST(ordinal)
{
        CHECK_EQ_INT(statefulset_ordinal("web", "web-0"), 0);
        CHECK_EQ_INT(statefulset_ordinal("web", "web-12"), 12);
        CHECK_EQ_INT(statefulset_ordinal("web", "web-"), -1);
        CHECK_EQ_INT(statefulset_ordinal("web", "web-01"), -1);
        CHECK_EQ_INT(statefulset_ordinal("web", "web-1a"), -1);
        CHECK_EQ_INT(statefulset_ordinal("web", "webx-1"), -1);
        CHECK_EQ_INT(statefulset_ordinal("web", "web-x-1"), -1);
        CHECK_EQ_INT(statefulset_ordinal("web", "other-1"), -1);
        CHECK_EQ_INT(statefulset_ordinal("web-a", "web-a-3"), 3);
}

static const char *SET =
        "{\"metadata\":{\"name\":\"web\",\"namespace\":\"ns\",\"uid\":\"u1\"},"
        "\"spec\":{\"serviceName\":\"svc\",\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
        "\"persistentVolumeClaimRetentionPolicy\":{\"whenDeleted\":\"Retain\"},"
        "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{"
        "\"name\":\"c\",\"image\":\"i:1\"}],\"volumes\":[{\"name\":\"data\",\"emptyDir\":{}},"
        "{\"name\":\"cfg\",\"emptyDir\":{}}]}},"
        "\"volumeClaimTemplates\":[{\"metadata\":{\"name\":\"data\",\"labels\":{\"t\":\"x\"}},"
        "\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],\"resources\":{\"requests\":{"
        "\"storage\":\"1Gi\"}}}}]}}";

TEST(pod)
{
        json_t *set = J(SET);
        json_t *rev = json_pack("{s:{s:s}, s:o}", "metadata", "name", "web-abc", "data",
                                history_patch(set));
        json_t *pod = statefulset_pod_new(set, rev, 2);
        CHECK_EQ_STR(kjson_str(pod, "metadata.name"), "web-2");
        CHECK(kjson_get(pod, "metadata.generateName") == NULL);
        json_t *l = kjson_get(pod, "metadata.labels");
        CHECK_EQ_STR(json_string_value(json_object_get(l, "statefulset.kubernetes.io/pod-name")),
                     "web-2");
        CHECK_EQ_STR(json_string_value(json_object_get(l, "apps.kubernetes.io/pod-index")), "2");
        CHECK_EQ_STR(json_string_value(json_object_get(l, "controller-revision-hash")), "web-abc");
        CHECK_EQ_STR(json_string_value(json_object_get(l, "app")), "web");
        CHECK_EQ_STR(kjson_str(pod, "spec.hostname"), "web-2");
        CHECK_EQ_STR(kjson_str(pod, "spec.subdomain"), "svc");
        CHECK(kjson_get(pod, "spec.$patch") == NULL);
        CHECK(kjson_get(pod, "$patch") == NULL);
        json_t *vols = kjson_get(pod, "spec.volumes");
        CHECK_EQ_INT(json_array_size(vols), 2);
        CHECK_EQ_STR(kjson_str(json_array_get(vols, 0), "name"), "cfg");
        CHECK_EQ_STR(kjson_str(json_array_get(vols, 1), "persistentVolumeClaim.claimName"),
                     "data-web-2");
        json_t *ref = json_array_get(kjson_get(pod, "metadata.ownerReferences"), 0);
        CHECK_EQ_STR(kjson_str(ref, "kind"), "StatefulSet");
        CHECK(json_is_true(json_object_get(ref, "controller")));
        json_decref(pod);
        json_decref(rev);
        json_decref(set);
}

TEST(claims)
{
        json_t *set = J(SET);
        json_t *c = statefulset_claims_new(set, 1);
        CHECK_EQ_INT(json_array_size(c), 1);
        json_t *pvc = json_array_get(c, 0);
        CHECK_EQ_STR(kjson_str(pvc, "metadata.name"), "data-web-1");
        CHECK_EQ_STR(kjson_str(pvc, "metadata.namespace"), "ns");
        CHECK_EQ_STR(kjson_str(pvc, "metadata.labels.app"), "web");
        CHECK_EQ_STR(kjson_str(pvc, "metadata.labels.t"), "x");
        CHECK_EQ_STR(kjson_str(pvc, "spec.resources.requests.storage"), "1Gi");
        CHECK(kjson_get(pvc, "metadata.ownerReferences") == NULL); /* Retain */
        json_decref(c);
        kjson_set_str(set, "spec.persistentVolumeClaimRetentionPolicy.whenDeleted", "Delete");
        c = statefulset_claims_new(set, 1);
        json_t *ref =
                json_array_get(kjson_get(json_array_get(c, 0), "metadata.ownerReferences"), 0);
        CHECK_EQ_STR(kjson_str(ref, "uid"), "u1");
        CHECK(json_object_get(ref, "controller") == NULL);
        json_decref(c);
        json_decref(set);
}

int main(void)
{
        RUN(ordinal);
        RUN(pod);
        RUN(claims);
        return harness_done();
}
