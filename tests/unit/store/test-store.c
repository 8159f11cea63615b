/* test-store.c — store.c: endpoint parsing, argument checks, prefix ranges. */
#include <ftw.h>
#include <stdio.h>

#include "harness.h"
#include "store/store-internal.h"

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        return remove(p);
}

TEST(prefix_end)
{
        char *end = NULL;
        size_t len = 99;
        CHECK(store_prefix_end("/a/", &end, &len));
        CHECK_EQ_STR(end, "/a0");
        CHECK_EQ_INT(len, 3);
        free(end);
        CHECK(store_prefix_end("/a\xff\xff", &end, &len));
        CHECK_EQ_INT(len, 2);
        CHECK(memcmp(end, "/b", 2) == 0);
        free(end);
        CHECK(!store_prefix_end("", &end, &len));
        CHECK(end == NULL);
        CHECK(!store_prefix_end("\xff\xff", &end, &len));
        CHECK(!store_prefix_end(NULL, &end, &len));
}

TEST(endpoints_and_arguments)
{
        struct store *s = NULL;
        struct error err = {0};
        CHECK_EQ_INT(store_open("etcd://127.0.0.1:2379", &s, &err), -EINVAL);
        CHECK(strstr(err.msg, "etcd://") != NULL);
        CHECK_EQ_INT(store_open("sqlite://relative/x.db", &s, &err), -EINVAL);
        CHECK(s == NULL);

        char dir[] = "/tmp/timonel-store-XXXXXX";
        CHECK(mkdtemp(dir) != NULL);
        char *ep = xasprintf("sqlite://%s/a/b/c/state.db", dir);
        CHECK_EQ_INT(store_open(ep, &s, &err), 0);
        free(ep);
        if (s) {
                int64_t rev = 0;
                char big_key[STORE_KEY_MAX + 2];
                memset(big_key, 'k', sizeof(big_key) - 1);
                big_key[sizeof(big_key) - 1] = 0;
                CHECK_EQ_INT(store_create(s, big_key, "v", 1, &rev, &err), -EINVAL);
                CHECK_EQ_INT(store_create(s, "/k", NULL, 0, &rev, &err), 0);
                CHECK_EQ_INT(store_create(s, "/big", "v", STORE_VALUE_MAX + 1, &rev, &err), -E2BIG);
                CHECK_EQ_INT(store_list(s, "/", NULL, 0, -1, NULL, &err), -EINVAL);
                CHECK_EQ_INT(store_watch(s, "/", 0, NULL, NULL, NULL, &err), -EINVAL);
                CHECK_EQ_INT(store_revision(s), 1);
                store_close(s);
        }
        char *sub = xasprintf("%s/a/b/c", dir);
        struct stat st;
        CHECK(stat(sub, &st) == 0 && (st.st_mode & 0777) == 0700);
        free(sub);
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
        RUN(prefix_end);
        RUN(endpoints_and_arguments);
        return harness_done();
}
