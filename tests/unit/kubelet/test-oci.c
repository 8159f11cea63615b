/* test-oci.c — OCI config.json generation and the conmon/runtime message parsers (pure). */
#include "harness.h"

#include "kubelet/oci.h"

static const char *const args[] = {"sh", "-c", "echo hi", NULL};

static struct oci_params base(void)
{
        struct oci_params p = {
                .rootfs = "/d/rootfs",
                .hostname = "web-0",
                .netns_path = "/d/netns/u1",
                .cgroups_path = "/kubepods/besteffort/podu1/c1",
                .args = args,
                .hosts_file = "/d/etc-hosts",
                .resolv_file = "/d/resolv.conf",
                .hostname_file = "/d/hostname",
                .nofile_hard = 20000,
        };
        return p;
}

static bool array_has(json_t *a, const char *s)
{
        size_t i;
        json_t *v;
        json_array_foreach(a, i, v) if (json_is_string(v) &&
                                        !strcmp(json_string_value(v), s)) return true;
        return false;
}

static json_t *find_mount(json_t *spec, const char *dst)
{
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(spec, "mounts"), i, m)
        {
                if (!strcmp(json_string_value(json_object_get(m, "destination")), dst))
                        return m;
        }
        return NULL;
}

TEST(defaults)
{
        struct oci_params p = base();
        json_t *s = NULL;
        struct error err = {0};
        CHECK_EQ_INT(oci_config_build(&p, &s, &err), 0);
        if (!s)
                return;
        json_t *proc = json_object_get(s, "process");
        CHECK_EQ_STR(json_string_value(json_object_get(s, "ociVersion")), "1.0.2");
        CHECK(json_is_false(json_object_get(proc, "terminal")));
        CHECK_EQ_STR(json_string_value(json_array_get(json_object_get(proc, "args"), 2)),
                     "echo hi");
        CHECK_EQ_STR(json_string_value(json_object_get(proc, "cwd")), "/");
        json_t *env = json_object_get(proc, "env");
        CHECK(array_has(env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"));
        CHECK(array_has(env, "HOSTNAME=web-0"));
        json_t *rl = json_array_get(json_object_get(proc, "rlimits"), 0);
        CHECK_EQ_INT(json_integer_value(json_object_get(rl, "hard")), 20000);
        CHECK_EQ_INT(json_integer_value(json_object_get(rl, "soft")), 1024);
        CHECK(json_is_true(json_object_get(proc, "noNewPrivileges")));
        CHECK(array_has(json_object_get(json_object_get(proc, "capabilities"), "bounding"),
                        "CAP_NET_BIND_SERVICE"));
        CHECK(!array_has(json_object_get(json_object_get(proc, "capabilities"), "bounding"),
                         "CAP_SYS_ADMIN"));
        CHECK_EQ_STR(json_string_value(json_object_get(s, "hostname")), "web-0");
        json_t *lx = json_object_get(s, "linux");
        CHECK_EQ_STR(json_string_value(json_object_get(lx, "cgroupsPath")),
                     "/kubepods/besteffort/podu1/c1");
        json_t *ns = json_object_get(lx, "namespaces");
        CHECK_EQ_INT(json_array_size(ns), 5);
        CHECK_EQ_STR(json_string_value(json_object_get(json_array_get(ns, 4), "path")),
                     "/d/netns/u1");
        CHECK(json_object_get(json_object_get(lx, "resources"), "memory") == NULL);
        json_t *h = find_mount(s, "/etc/hosts");
        CHECK(h && !strcmp(json_string_value(json_object_get(h, "source")), "/d/etc-hosts"));
        CHECK(h && array_has(json_object_get(h, "options"), "ro"));
        CHECK(find_mount(s, "/etc/resolv.conf") && find_mount(s, "/proc") &&
              find_mount(s, "/dev/pts"));
        CHECK(json_array_size(json_object_get(lx, "maskedPaths")) > 0);
        json_decref(s);
}

TEST(user_env_limits_mounts)
{
        struct oci_params p = base();
        const char *env[] = {"PATH=/bin", "HOSTNAME=custom", "A=b=c", NULL};
        struct oci_mount m[] = {{"/v/data", "/data", false}, {"/v/cfg", "/etc/cfg", true}};
        p.env = env;
        p.cwd = "/srv";
        p.uid = 1000;
        p.gid = 2000;
        p.memory_limit = 32 << 20;
        p.cpu_quota_us = 50000;
        p.cpu_shares = 512;
        p.mounts = m;
        p.n_mounts = 2;
        p.netns_path = NULL; /* host network */
        json_t *s = NULL;
        struct error err = {0};
        CHECK_EQ_INT(oci_config_build(&p, &s, &err), 0);
        if (!s)
                return;
        json_t *proc = json_object_get(s, "process");
        json_t *envj = json_object_get(proc, "env");
        CHECK_EQ_INT(json_array_size(envj), 3); /* no defaults added */
        CHECK(array_has(envj, "A=b=c"));
        CHECK_EQ_STR(json_string_value(json_object_get(proc, "cwd")), "/srv");
        CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(proc, "user"), "uid")),
                     1000);
        CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(proc, "user"), "gid")),
                     2000);
        json_t *res = json_object_get(json_object_get(s, "linux"), "resources");
        CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(res, "memory"), "limit")),
                     32 << 20);
        CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(res, "cpu"), "quota")),
                     50000);
        CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(res, "cpu"), "shares")),
                     512);
        CHECK_EQ_INT(json_array_size(json_object_get(json_object_get(s, "linux"), "namespaces")),
                     4);
        json_t *d = find_mount(s, "/data"), *c = find_mount(s, "/etc/cfg");
        CHECK(d && array_has(json_object_get(d, "options"), "rw"));
        CHECK(c && array_has(json_object_get(c, "options"), "ro"));
        json_decref(s);
}

TEST(privileged)
{
        struct oci_params p = base();
        p.privileged = true;
        json_t *s = NULL;
        struct error err = {0};
        CHECK_EQ_INT(oci_config_build(&p, &s, &err), 0);
        if (!s)
                return;
        json_t *proc = json_object_get(s, "process");
        CHECK(array_has(json_object_get(json_object_get(proc, "capabilities"), "bounding"),
                        "CAP_SYS_ADMIN"));
        CHECK(json_object_get(json_object_get(s, "linux"), "maskedPaths") == NULL);
        json_decref(s);
}

TEST(invalid)
{
        struct error err = {0};
        json_t *s = NULL;
        struct oci_params p = base();
        p.cwd = "relative";
        CHECK_EQ_INT(oci_config_build(&p, &s, &err), -EINVAL);
        p = base();
        const char *none[] = {NULL};
        p.args = none;
        CHECK_EQ_INT(oci_config_build(&p, &s, &err), -EINVAL);
        p = base();
        p.cgroups_path = "kubepods/x";
        CHECK_EQ_INT(oci_config_build(&p, &s, &err), -EINVAL);
        p = base();
        const char *badenv[] = {"NOEQUALS", NULL};
        p.env = badenv;
        CHECK_EQ_INT(oci_config_build(&p, &s, &err), -EINVAL);
        p = base();
        const char *badutf[] = {"sh", "\xff\xfe", NULL};
        p.args = badutf;
        CHECK_EQ_INT(oci_config_build(&p, &s, &err), -EINVAL);
        p = base();
        struct oci_mount m = {"rel", "/x", false};
        p.mounts = &m;
        p.n_mounts = 1;
        CHECK_EQ_INT(oci_config_build(&p, &s, &err), -EINVAL);
        CHECK(s == NULL);
}

TEST(sync_and_state)
{
        int pid = 0;
        struct error err = {0};
        const char *ok = "{\"data\": 4242}\n";
        CHECK_EQ_INT(oci_sync_parse(ok, strlen(ok), &pid, &err), 0);
        CHECK_EQ_INT(pid, 4242);
        const char *bad = "{\"data\": -1, \"message\": \"executable file not found\"}";
        CHECK_EQ_INT(oci_sync_parse(bad, strlen(bad), &pid, &err), -EIO);
        CHECK(strstr(err.msg, "executable file not found") != NULL);
        CHECK_EQ_INT(oci_sync_parse("{\"da", 4, &pid, &err), -EPROTO);
        CHECK_EQ_INT(oci_sync_parse("[]", 2, &pid, &err), -EPROTO);
        char st[16];
        const char *state =
                "{\"ociVersion\":\"1.0.0\",\"id\":\"x\",\"pid\":77,\"status\":\"running\"}";
        CHECK_EQ_INT(oci_state_parse(state, strlen(state), st, sizeof(st), &pid, &err), 0);
        CHECK_EQ_STR(st, "running");
        CHECK_EQ_INT(pid, 77);
        CHECK_EQ_INT(oci_state_parse("{}", 2, st, sizeof(st), &pid, &err), -EPROTO);
}

int main(void)
{
        RUN(defaults);
        RUN(user_env_limits_mounts);
        RUN(privileged);
        RUN(invalid);
        RUN(sync_and_state);
        return harness_done();
}
