/* test-fs.c — fs_mkdir_p / fs_mkdir_parents. */
#include "common/fs.h"
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static bool is_dir(const char *p)
{
        struct stat st;
        return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

TEST(mkdir_p_creates_every_level)
{
        char tmpl[] = "/tmp/timonel-test-fs.XXXXXX";
        CHECK(mkdtemp(tmpl) != NULL);
        _cleanup_free_ char *deep = xasprintf("%s/a/b/c", tmpl);
        CHECK_EQ_INT(fs_mkdir_p(deep, 0700, NULL), 0);
        CHECK(is_dir(deep));
        CHECK_EQ_INT(fs_mkdir_p(deep, 0700, NULL), 0); /* idempotent */
        _cleanup_free_ char *file = xasprintf("%s/x/y/state.db", tmpl);
        _cleanup_free_ char *xy = xasprintf("%s/x/y", tmpl);
        CHECK_EQ_INT(fs_mkdir_parents(file, 0700, NULL), 0);
        CHECK(is_dir(xy));
        CHECK(!is_dir(file));
        _cleanup_free_ char *cmd = xasprintf("rm -rf %s", tmpl);
        CHECK_EQ_INT(system(cmd), 0);
}

TEST(mkdir_p_names_the_failing_directory)
{
        char tmpl[] = "/tmp/timonel-test-fs.XXXXXX";
        CHECK(mkdtemp(tmpl) != NULL);
        _cleanup_free_ char *f = xasprintf("%s/file", tmpl);
        FILE *fp = fopen(f, "w");
        CHECK(fp != NULL);
        if (fp)
                fclose(fp);
        _cleanup_free_ char *under = xasprintf("%s/file/sub", tmpl);
        struct error err = {0};
        CHECK(fs_mkdir_p(under, 0700, &err) < 0);
        _cleanup_free_ char *want = xasprintf("create directory %s: ", under);
        CHECK(strncmp(err.msg, want, strlen(want)) == 0);
        _cleanup_free_ char *cmd = xasprintf("rm -rf %s", tmpl);
        CHECK_EQ_INT(system(cmd), 0);
}

TEST(write_atomic_then_read_capped)
{
        char tmpl[] = "/tmp/timonel-test-fs.XXXXXX";
        CHECK(mkdtemp(tmpl) != NULL);
        _cleanup_free_ char *p = xasprintf("%s/f", tmpl);
        CHECK_EQ_INT(fs_write_atomic(p, "old", 3, 0600, NULL), 0);
        CHECK_EQ_INT(fs_write_atomic(p, "hello", 5, 0600, NULL), 0); /* replaces */
        struct stat st;
        CHECK(stat(p, &st) == 0 && (st.st_mode & 0777) == 0600);
        _cleanup_free_ char *tmp = xasprintf("%s.tmp", p);
        CHECK(access(tmp, F_OK) < 0); /* renamed away */
        char *buf = NULL;
        size_t len = 0;
        CHECK_EQ_INT(fs_read_file(p, 5, &buf, &len, NULL), 0);
        CHECK_EQ_STR(buf, "hello");
        CHECK_EQ_INT(len, 5);
        free(buf);
        struct error err = {0};
        CHECK_EQ_INT(fs_read_file(p, 4, &buf, NULL, &err), -E2BIG);
        _cleanup_free_ char *missing = xasprintf("%s/none", tmpl);
        CHECK_EQ_INT(fs_read_file(missing, 10, &buf, NULL, &err), -ENOENT);
        _cleanup_free_ char *cmd = xasprintf("rm -rf %s", tmpl);
        CHECK_EQ_INT(system(cmd), 0);
}

int main(void)
{
        RUN(mkdir_p_creates_every_level);
        RUN(mkdir_p_names_the_failing_directory);
        RUN(write_atomic_then_read_capped);
        return harness_done();
}
