/* test-history.c — controllers/history.c: the ControllerRevision data (the patch kubectl rollout
 * undo applies: {"spec":{"template":{..., "$patch":"replace"}}}, as the DaemonSet and StatefulSet
 * controllers' getPatch build it), revisions owned by a set in revision order, equal-data lookup
 * (the newest wins), the next revision number, and history pruning that keeps live revisions. */
#include "controllers/history.h"

#include "common/kjson.h"
#include "controllers/util.h"
#include "harness.h"

static json_t *J(const char *s)
{
        json_t *j = NULL;
        kjson_parse(s, strlen(s), 0, &j, NULL);
        return j;
}

static const char *SET = "{\"metadata\":{\"name\":\"web\",\"uid\":\"u1\"},\"spec\":{\"replicas\":3,"
                         "\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
                         "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i:1\"}]}}}}";

static json_t *rev(const char *name, const char *uid, int n, const char *image)
{
        char buf[512];
        snprintf(buf, sizeof(buf),
                 "{\"metadata\":{\"name\":\"%s\",\"ownerReferences\":[{\"uid\":\"%s\","
                 "\"controller\":true,\"kind\":\"StatefulSet\",\"name\":\"web\"}]},"
                 "\"revision\":%d,\"data\":{\"spec\":{\"template\":{\"$patch\":\"replace\","
                 "\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":"
                 "[{\"name\":\"c\",\"image\":\"%s\"}]}}}}}",
                 name, uid, n, image);
        return J(buf);
}

TEST(patch)
{
        json_t *set = J(SET);
        json_t *p = history_patch(set);
        CHECK_EQ_STR(kjson_str(p, "spec.template.$patch"), "replace");
        CHECK_EQ_STR(kjson_str(json_array_get(kjson_get(p, "spec.template.spec.containers"), 0),
                               "image"),
                     "i:1");
        CHECK(kjson_get(p, "spec.replicas") == NULL); /* only the template */
        CHECK_EQ_INT(json_object_size(p), 1);
        /* the template a revision stores */
        json_t *r = rev("web-a", "u1", 1, "i:1");
        CHECK(kjson_get(history_template(r), "spec.containers") != NULL);
        /* equal templates give equal data and hash; another collision count another hash */
        json_t *p2 = history_patch(set);
        char h1[16], h2[16], h3[16];
        controllers_template_hash(p, 0, h1);
        controllers_template_hash(p2, 0, h2);
        controllers_template_hash(p, 1, h3);
        CHECK_EQ_STR(h1, h2);
        CHECK(strcmp(h1, h3) != 0);
        CHECK(kjson_equal(json_object_get(r, "data"), p));
        json_decref(p2);
        json_decref(r);
        json_decref(p);
        json_decref(set);
}

TEST(owned_sorted_find_next)
{
        json_t *set = J(SET);
        json_t *all = json_array();
        json_array_append_new(all, rev("web-c", "u1", 3, "i:3"));
        json_array_append_new(all, rev("web-a", "u1", 1, "i:1"));
        json_array_append_new(all, rev("other-x", "u2", 9, "i:1"));
        json_array_append_new(all, rev("web-b", "u1", 2, "i:2"));
        json_t *owned = history_owned(all, set);
        CHECK_EQ_INT(json_array_size(owned), 3);
        CHECK_EQ_STR(kjson_str(json_array_get(owned, 0), "metadata.name"), "web-a");
        CHECK_EQ_STR(kjson_str(json_array_get(owned, 2), "metadata.name"), "web-c");
        CHECK_EQ_INT(history_next_number(owned), 4);
        json_t *p = history_patch(set); /* image i:1 */
        json_t *eq = history_find_equal(owned, p);
        CHECK(eq != NULL);
        CHECK_EQ_STR(kjson_str(eq, "metadata.name"), "web-a");
        json_t *empty = json_array();
        CHECK_EQ_INT(history_next_number(empty), 1);
        CHECK(history_find_equal(empty, p) == NULL);
        json_decref(empty);
        json_decref(p);
        json_decref(owned);
        json_decref(all);
        json_decref(set);
}

TEST(prune)
{
        json_t *sorted = json_array();
        char name[16];
        for (int i = 1; i <= 6; i++) {
                snprintf(name, sizeof(name), "web-%d", i);
                json_array_append_new(sorted, rev(name, "u1", i, "i"));
        }
        /* live: the newest (update revision) and web-2 (a pod still runs it) */
        json_t *keep = J("{\"web-6\":true,\"web-2\":true}");
        json_t *del = history_prune(sorted, keep, 2);
        /* 4 non-live revisions, limit 2: the 2 oldest non-live go */
        CHECK_EQ_INT(json_array_size(del), 2);
        CHECK_EQ_STR(json_string_value(json_array_get(del, 0)), "web-1");
        CHECK_EQ_STR(json_string_value(json_array_get(del, 1)), "web-3");
        json_decref(del);
        del = history_prune(sorted, keep, 10);
        CHECK_EQ_INT(json_array_size(del), 0);
        json_decref(del);
        del = history_prune(sorted, keep, 0);
        CHECK_EQ_INT(json_array_size(del), 4);
        json_decref(del);
        json_decref(keep);
        json_decref(sorted);
}

int main(void)
{
        RUN(patch);
        RUN(owned_sorted_find_next);
        RUN(prune);
        return harness_done();
}
