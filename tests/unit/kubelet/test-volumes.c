/* test-volumes.c — configMap/secret/downwardAPI/projected file sets, item paths, the atomic
 * writer's ..data layout and live update, volume mounts with subPath, base64. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/kjson.h"
#include "harness.h"
#include "kubelet/rootfs.h"
#include "kubelet/volumes.h"

static json_t *cm_data;

static int lookup(void *ud, const char *kind, const char *name, json_t **ret, struct error *err)
{
        if (!strcmp(kind, "serviceaccounttoken")) {
                /* "<sa>\n<audience>\n<expirationSeconds>" */
                if (strcmp(name, "default\nvault\n3600"))
                        return error_set(err, -EACCES, "unexpected token request %s", name);
                *ret = json_pack("{s:s}", "token", "eyJ.tok.sig");
                return 0;
        }
        json_t *o = json_object_get(cm_data, name);
        if (!o || strcmp(kind, json_string_value(json_object_get(o, "kind"))))
                return error_set(err, -ENOENT, "%s \"%s\" not found", kind, name);
        *ret = json_deep_copy(json_object_get(o, "data"));
        return 0;
}

static const struct kubelet_env_source src = {.lookup = lookup};

static json_t *pod_new(void)
{
        return json_pack("{s:{s:s, s:s, s:s, s:{s:s, s:s}}, s:{s:[{s:s, s:{s:{s:s}}}]}}",
                         "metadata", "name", "p", "namespace", "ns1", "uid", "u-1", "labels", "b",
                         "2", "a", "1", "spec", "containers", "name", "app", "resources", "limits",
                         "memory", "64Mi");
}

static const char *file_data(json_t *files, const char *path)
{
        return json_string_value(json_object_get(json_object_get(files, path), "data"));
}

static int file_mode(json_t *files, const char *path)
{
        return (int)json_integer_value(json_object_get(json_object_get(files, path), "mode"));
}

TEST(paths)
{
        CHECK(volumes_path_ok("a"));
        CHECK(volumes_path_ok("a/b.txt"));
        CHECK(volumes_path_ok("a..b"));
        CHECK(!volumes_path_ok(""));
        CHECK(!volumes_path_ok("/etc/passwd"));
        CHECK(!volumes_path_ok("../x"));
        CHECK(!volumes_path_ok("a/../../x"));
        CHECK(!volumes_path_ok("..data"));
}

TEST(b64)
{
        char *d;
        size_t n;
        CHECK_EQ_INT(volumes_b64_decode("aHVudGVyMg==", 12, &d, &n), 0);
        CHECK_EQ_STR(d, "hunter2");
        CHECK_EQ_INT(n, 7);
        free(d);
        CHECK_EQ_INT(volumes_b64_decode("YQ", 2, &d, &n), 0); /* unpadded */
        CHECK_EQ_STR(d, "a");
        free(d);
        CHECK_EQ_INT(volumes_b64_decode("a*b", 3, &d, &n), -EINVAL);
}

TEST(configmap_all_keys_and_items)
{
        json_t *pod = pod_new();
        json_t *vol = json_pack("{s:s, s:{s:s}}", "name", "c", "configMap", "name", "cfg");
        json_t *files = NULL;
        struct error err = {0};
        CHECK_EQ_INT(volumes_projection_build(pod, vol, &src, NULL, NULL, &files, &err), 0);
        CHECK_EQ_STR(file_data(files, "color"), "blue");
        CHECK_EQ_INT(file_mode(files, "color"), 0644);
        CHECK_EQ_INT(json_object_size(files), 2);
        json_decref(files);
        json_decref(vol);

        vol = json_pack("{s:s, s:{s:s, s:i, s:[{s:s, s:s, s:i}]}}", "name", "c", "configMap",
                        "name", "cfg", "defaultMode", 0400, "items", "key", "size", "path",
                        "conf/size.txt", "mode", 0600);
        CHECK_EQ_INT(volumes_projection_build(pod, vol, &src, NULL, NULL, &files, &err), 0);
        CHECK_EQ_INT(json_object_size(files), 1);
        CHECK_EQ_STR(file_data(files, "conf/size.txt"), "3");
        CHECK_EQ_INT(file_mode(files, "conf/size.txt"), 0600);
        json_decref(files);
        json_decref(vol);

        /* a missing key: the kubelet's message */
        vol = json_pack("{s:s, s:{s:s, s:[{s:s, s:s}]}}", "name", "c", "configMap", "name", "cfg",
                        "items", "key", "nokey", "path", "x");
        CHECK_EQ_INT(volumes_projection_build(pod, vol, &src, NULL, NULL, &files, &err), -ENOENT);
        CHECK_EQ_STR(error_msg(&err), "configmap references non-existent config key: nokey");
        json_decref(vol);

        /* missing configmap, then optional */
        vol = json_pack("{s:s, s:{s:s}}", "name", "c", "configMap", "name", "missing");
        CHECK_EQ_INT(volumes_projection_build(pod, vol, &src, NULL, NULL, &files, &err), -ENOENT);
        CHECK_EQ_STR(error_msg(&err), "configmap \"missing\" not found");
        json_object_set_new(json_object_get(vol, "configMap"), "optional", json_true());
        CHECK_EQ_INT(volumes_projection_build(pod, vol, &src, NULL, NULL, &files, &err), 1);
        CHECK_EQ_INT(json_object_size(files), 0);
        json_decref(files);
        json_decref(vol);

        /* item path escaping the volume */
        vol = json_pack("{s:s, s:{s:s, s:[{s:s, s:s}]}}", "name", "c", "configMap", "name", "cfg",
                        "items", "key", "color", "path", "../x");
        CHECK_EQ_INT(volumes_projection_build(pod, vol, &src, NULL, NULL, &files, &err), -EINVAL);
        json_decref(vol);
        json_decref(pod);
}

TEST(secret_downward_projected)
{
        json_t *pod = pod_new();
        json_t *vol = json_pack("{s:s, s:{s:s}}", "name", "s", "secret", "secretName", "sec");
        json_t *files = NULL;
        struct error err = {0};
        CHECK_EQ_INT(volumes_projection_build(pod, vol, &src, NULL, NULL, &files, &err), 0);
        CHECK_EQ_STR(file_data(files, "password"), "hunter2");
        json_decref(files);
        json_decref(vol);

        vol = json_pack("{s:s, s:{s:[{s:s, s:{s:s}}, {s:s, s:{s:s}}, {s:s, s:{s:s, s:s}}]}}",
                        "name", "d", "downwardAPI", "items", "path", "labels", "fieldRef",
                        "fieldPath", "metadata.labels", "path", "name", "fieldRef", "fieldPath",
                        "metadata.name", "path", "mem", "resourceFieldRef", "resource",
                        "limits.memory", "containerName", "app");
        CHECK_EQ_INT(
                volumes_projection_build(pod, vol, &src, "10.42.0.9", "10.0.0.1", &files, &err), 0);
        CHECK_EQ_STR(file_data(files, "labels"), "a=\"1\"\nb=\"2\"");
        CHECK_EQ_STR(file_data(files, "name"), "p");
        CHECK_EQ_STR(file_data(files, "mem"), "67108864");
        json_decref(files);
        json_decref(vol);

        vol = json_pack("{s:s, s:{s:i, s:[{s:{s:s}}, {s:{s:s, s:[{s:s, s:s}]}}, {s:{s:s, s:s}}]}}",
                        "name", "pr", "projected", "defaultMode", 0440, "sources", "configMap",
                        "name", "cfg", "secret", "name", "sec", "items", "key", "password", "path",
                        "pw", "serviceAccountToken", "audience", "vault", "path", "token");
        CHECK_EQ_INT(volumes_projection_build(pod, vol, &src, NULL, NULL, &files, &err), 0);
        CHECK_EQ_STR(file_data(files, "color"), "blue");
        CHECK_EQ_STR(file_data(files, "pw"), "hunter2");
        CHECK_EQ_INT(file_mode(files, "pw"), 0440);
        /* serviceAccountToken: the token of the pod's service account (default) */
        CHECK_EQ_STR(file_data(files, "token"), "eyJ.tok.sig");
        CHECK_EQ_INT(file_mode(files, "token"), 0440);
        json_decref(files);
        json_decref(vol);
        json_decref(pod);
}

static char *read_all(const char *path)
{
        FILE *f = fopen(path, "r");
        if (!f)
                return NULL;
        char buf[256];
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[n] = '\0';
        return strdup(buf);
}

TEST(setup_atomic_writer_and_mounts)
{
        char tmpl[] = "/tmp/timonel-test-volumes.XXXXXX";
        char *dir = mkdtemp(tmpl);
        CHECK(dir != NULL);
        json_t *pod = pod_new();
        json_object_set_new(json_object_get(pod, "spec"), "volumes",
                            json_pack("[{s:s, s:{s:s}}, {s:s, s:{}}, {s:s, s:{s:s, s:s}}]", "name",
                                      "c", "configMap", "name", "cfg", "name", "scratch",
                                      "emptyDir", "name", "hp", "hostPath", "path",
                                      "/nonexistent-timonel-test", "type", "Directory"));
        struct error err = {0};
        CHECK_EQ_INT(volumes_setup(pod, dir, &src, NULL, NULL, &err), -ENOENT);
        CHECK_EQ_STR(error_msg(&err), "MountVolume.SetUp failed for volume \"hp\" : hostPath type "
                                      "check failed: /nonexistent-timonel-test is not a directory");
        json_array_remove(json_object_get(json_object_get(pod, "spec"), "volumes"), 2);
        CHECK_EQ_INT(volumes_setup(pod, dir, &src, NULL, NULL, &err), 0);

        char path[512];
        snprintf(path, sizeof(path), "%s/volumes/c/color", dir);
        char *v = read_all(path);
        CHECK_EQ_STR(v, "blue");
        free(v);
        char link[256] = "";
        snprintf(path, sizeof(path), "%s/volumes/c/color", dir);
        ssize_t l = readlink(path, link, sizeof(link) - 1);
        CHECK(l > 0);
        link[l > 0 ? l : 0] = '\0';
        CHECK_EQ_STR(link, "..data/color");
        snprintf(path, sizeof(path), "%s/volumes/c/..data", dir);
        l = readlink(path, link, sizeof(link) - 1);
        CHECK(l > 2 && !strncmp(link, "..20", 4));
        char first[256];
        snprintf(first, sizeof(first), "%.*s", (int)(l > 0 ? l : 0), link);

        /* unchanged content: no new ..data */
        CHECK_EQ_INT(volumes_setup(pod, dir, &src, NULL, NULL, &err), 0);
        l = readlink(path, link, sizeof(link) - 1);
        link[l > 0 ? l : 0] = '\0';
        CHECK_EQ_STR(link, first);

        /* live update: a changed value, a removed key, a new key */
        json_t *d = json_object_get(json_object_get(cm_data, "cfg"), "data");
        json_object_set_new(d, "color", json_string("red"));
        json_object_del(d, "size");
        json_object_set_new(d, "shape", json_string("round"));
        CHECK_EQ_INT(volumes_setup(pod, dir, &src, NULL, NULL, &err), 0);
        snprintf(path, sizeof(path), "%s/volumes/c/color", dir);
        v = read_all(path);
        CHECK_EQ_STR(v, "red");
        free(v);
        snprintf(path, sizeof(path), "%s/volumes/c/size", dir);
        CHECK(access(path, F_OK) != 0);
        snprintf(path, sizeof(path), "%s/volumes/c/shape", dir);
        v = read_all(path);
        CHECK_EQ_STR(v, "round");
        free(v);
        snprintf(path, sizeof(path), "%s/volumes/c/%s", dir, first);
        CHECK(access(path, F_OK) != 0); /* the old timestamped dir is gone */

        struct stat st;
        snprintf(path, sizeof(path), "%s/volumes/scratch", dir);
        CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0777);

        /* mounts: subPath, readOnly, configMap always read-only */
        json_t *ctr = json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s, s:s}, {s:s, s:s, s:b}]}", "name",
                                "app", "volumeMounts", "name", "c", "mountPath", "/etc/cfg", "name",
                                "scratch", "mountPath", "/data", "subPath", "sub/dir", "name",
                                "scratch", "mountPath", "/ro", "readOnly", 1);
        struct runtime_mount *m = NULL;
        size_t n = 0;
        CHECK_EQ_INT(volumes_mounts_for(pod, ctr, dir, &m, &n, &err), 0);
        CHECK_EQ_INT(n, 3);
        if (n == 3) {
                snprintf(path, sizeof(path), "%s/volumes/c", dir);
                CHECK_EQ_STR(m[0].host_path, path);
                CHECK(m[0].read_only);
                snprintf(path, sizeof(path), "%s/volumes/scratch/sub/dir", dir);
                CHECK_EQ_STR(m[1].host_path, path);
                CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode)); /* created */
                CHECK(!m[1].read_only);
                CHECK(m[2].read_only);
        }
        volumes_mounts_free(m, n);
        /* a symlink planted in the volume does not lead a subPath out of it */
        snprintf(path, sizeof(path), "%s/volumes/scratch/evil", dir);
        CHECK(symlink("/etc", path) == 0);
        json_t *evil = json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "name", "app", "volumeMounts",
                                 "name", "scratch", "mountPath", "/x", "subPath", "evil");
        CHECK_EQ_INT(volumes_mounts_for(pod, evil, dir, &m, &n, &err), -EINVAL);
        CHECK_EQ_STR(error_msg(&err),
                     "subpath \"evil\" of volume scratch resolves outside the volume");
        json_decref(evil);
        evil = json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "name", "app", "volumeMounts", "name",
                         "scratch", "mountPath", "/x", "subPath", "evil/timonel-test-subpath");
        CHECK_EQ_INT(volumes_mounts_for(pod, evil, dir, &m, &n, &err), -EINVAL);
        CHECK(access("/etc/timonel-test-subpath", F_OK) != 0); /* nothing created outside */
        json_decref(evil);
        /* a configMap key (a symlink through ..data) is fine */
        json_t *key = json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "name", "app", "volumeMounts", "name",
                                "c", "mountPath", "/etc/color", "subPath", "color");
        CHECK_EQ_INT(volumes_mounts_for(pod, key, dir, &m, &n, &err), 0);
        volumes_mounts_free(m, n);
        json_decref(key);
        json_t *bad = json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "name", "app", "volumeMounts", "name",
                                "scratch", "mountPath", "/x", "subPath", "../../etc");
        CHECK_EQ_INT(volumes_mounts_for(pod, bad, dir, &m, &n, &err), -EINVAL);
        json_decref(bad);
        json_decref(ctr);
        json_decref(pod);
        rootfs_rm_rf(dir);
}

int main(void)
{
        cm_data = json_pack("{s:{s:s, s:{s:s, s:s}}, s:{s:s, s:{s:s}}}", "cfg", "kind", "configmap",
                            "data", "color", "blue", "size", "3", "sec", "kind", "secret", "data",
                            "password", "hunter2");
        RUN(paths);
        RUN(b64);
        RUN(configmap_all_keys_and_items);
        RUN(secret_downward_projected);
        RUN(setup_atomic_writer_and_mounts);
        json_decref(cm_data);
        return harness_done();
}
