/* test-images.c — the image store: reference normalization, import of docker-save and OCI
 * archives (plain and gzip), resolve by every name form, shared layers, whiteouts, path
 * traversal, bad archives leaving the store unchanged, remove + GC.
 * Real-format archives come from tests/data/images/make-busybox-tars.sh (skopeo/umoci, offline);
 * the rest are built here with libarchive. Needs root (whiteouts are char devices). */
#include "harness.h"
#include "kubelet/images.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>

static char tmp_root[] = "/tmp/test-images-XXXXXX";
static char *tars; /* dir with the script's tarballs, NULL if the script failed */

/* ---- helpers ---- */

static void hex_of(const void *p, size_t n, char out[65])
{
        unsigned char md[32];
        unsigned int l;
        EVP_Digest(p, n, md, &l, EVP_sha256(), NULL);
        for (int i = 0; i < 32; i++)
                snprintf(out + 2 * i, 3, "%02x", md[i]);
}

struct tb {
        struct archive *a;
        char *buf;
        size_t used;
};

#define TB_CAP (8u * 1024 * 1024)

static void tb_open(struct tb *t, bool gz)
{
        t->a = archive_write_new();
        archive_write_set_format_pax_restricted(t->a);
        if (gz)
                archive_write_add_filter_gzip(t->a);
        archive_write_set_bytes_in_last_block(t->a, 1);
        t->buf = malloc(TB_CAP);
        t->used = 0;
        archive_write_open_memory(t->a, t->buf, TB_CAP, &t->used);
}

static void tb_add(struct tb *t, const char *path, mode_t type, const char *data, size_t len,
                   const char *link)
{
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, path);
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, type == AE_IFDIR ? 0755 : 0644);
        if (type == AE_IFLNK)
                archive_entry_set_symlink(e, link);
        if (type == AE_IFREG)
                archive_entry_set_size(e, (la_int64_t)len);
        archive_write_header(t->a, e);
        if (type == AE_IFREG && len)
                archive_write_data(t->a, data, len);
        archive_entry_free(e);
}

static void tb_file(struct tb *t, const char *path, const char *data)
{
        tb_add(t, path, AE_IFREG, data, strlen(data), NULL);
}

static char *tb_close(struct tb *t, size_t *len)
{
        archive_write_close(t->a);
        archive_write_free(t->a);
        *len = t->used;
        return t->buf;
}

struct blob {
        char *data;
        size_t len;
};

/* An OCI archive with one image per names[i] (NULL = no annotation); image i has layers
 * layers[i][0..] (NULL-terminated). If nested, the index points to a nested index holding an
 * arm64 manifest first and the amd64 one second. */
static char *make_oci(int n_images, const char *const *names, struct blob *const *layers,
                      bool nested, bool gz, size_t *ret_len)
{
        struct tb t;
        tb_open(&t, gz);
        tb_file(&t, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}");
        json_t *index = json_pack("{s:i, s:[]}", "schemaVersion", 2, "manifests");
        json_t *added = json_object();
        for (int i = 0; i < n_images; i++) {
                json_t *diffids = json_array(), *ldescs = json_array();
                for (struct blob *b = layers[i]; b->data; b++) {
                        char h[65], bn[80];
                        hex_of(b->data, b->len, h);
                        json_array_append_new(diffids, json_pack("s+", "sha256:", h));
                        json_array_append_new(ldescs,
                                              json_pack("{s:s, s:s+, s:I}", "mediaType",
                                                        "application/vnd.oci.image.layer.v1.tar",
                                                        "digest", "sha256:", h, "size",
                                                        (json_int_t)b->len));
                        snprintf(bn, sizeof(bn), "blobs/sha256/%s", h);
                        if (!json_object_get(added, h)) {
                                tb_add(&t, bn, AE_IFREG, b->data, b->len, NULL);
                                json_object_set_new(added, h, json_true());
                        }
                }
                json_t *cfg = json_pack("{s:s, s:s, s:{s:[s], s:[s], s:s}, s:{s:s, s:o}}",
                                        "architecture", "amd64", "os", "linux", "config", "Env",
                                        "PATH=/bin", "Cmd", "sh", "WorkingDir", "/w", "rootfs",
                                        "type", "layers", "diff_ids", diffids);
                json_object_set_new(cfg, "created", json_sprintf("2026-01-0%dT00:00:00Z", i + 1));
                char *cs = json_dumps(cfg, JSON_COMPACT);
                char ch[65], mh[65], p[80];
                hex_of(cs, strlen(cs), ch);
                snprintf(p, sizeof(p), "blobs/sha256/%s", ch);
                tb_file(&t, p, cs);
                json_t *m = json_pack(
                        "{s:i, s:s, s:{s:s, s:s+, s:I}, s:o}", "schemaVersion", 2, "mediaType",
                        "application/vnd.oci.image.manifest.v1+json", "config", "mediaType",
                        "application/vnd.oci.image.config.v1+json", "digest", "sha256:", ch, "size",
                        (json_int_t)strlen(cs), "layers", ldescs);
                char *ms = json_dumps(m, JSON_COMPACT);
                hex_of(ms, strlen(ms), mh);
                snprintf(p, sizeof(p), "blobs/sha256/%s", mh);
                tb_file(&t, p, ms);
                json_t *desc = json_pack("{s:s, s:s+, s:I}", "mediaType",
                                         "application/vnd.oci.image.manifest.v1+json", "digest",
                                         "sha256:", mh, "size", (json_int_t)strlen(ms));
                if (nested) {
                        json_object_set_new(
                                desc, "platform",
                                json_pack("{s:s, s:s}", "os", "linux", "architecture", "amd64"));
                        json_t *nidx = json_pack(
                                "{s:i, s:s, s:[{s:s, s:s, s:I, s:{s:s, s:s}}, o]}", "schemaVersion",
                                2, "mediaType", "application/vnd.oci.image.index.v1+json",
                                "manifests", "mediaType",
                                "application/vnd.oci.image.manifest.v1+json", "digest",
                                "sha256:"
                                "0000000000000000000000000000000000000000000000000000000000000000",
                                "size", (json_int_t)10, "platform", "os", "linux", "architecture",
                                "arm64", desc);
                        char *ns = json_dumps(nidx, JSON_COMPACT);
                        char nh[65];
                        hex_of(ns, strlen(ns), nh);
                        snprintf(p, sizeof(p), "blobs/sha256/%s", nh);
                        tb_file(&t, p, ns);
                        desc = json_pack("{s:s, s:s+, s:I}", "mediaType",
                                         "application/vnd.oci.image.index.v1+json", "digest",
                                         "sha256:", nh, "size", (json_int_t)strlen(ns));
                        free(ns);
                        json_decref(nidx);
                }
                if (names[i])
                        json_object_set_new(
                                desc, "annotations",
                                json_pack("{s:s}", "org.opencontainers.image.ref.name", names[i]));
                json_array_append_new(json_object_get(index, "manifests"), desc);
                free(cs);
                free(ms);
                json_decref(cfg);
                json_decref(m);
        }
        char *is = json_dumps(index, JSON_COMPACT);
        tb_file(&t, "index.json", is);
        free(is);
        json_decref(index);
        json_decref(added);
        return tb_close(&t, ret_len);
}

/* A layer tar from (type, path, data-or-link) triples, ended by type 0. */
static struct blob layer(mode_t type, ...)
{
        struct tb t;
        tb_open(&t, false);
        va_list ap;
        va_start(ap, type);
        while (type) {
                const char *path = va_arg(ap, const char *);
                const char *x = va_arg(ap, const char *);
                if (type == AE_IFREG)
                        tb_file(&t, path, x);
                else
                        tb_add(&t, path, type, NULL, 0, x);
                type = va_arg(ap, mode_t);
        }
        va_end(ap);
        struct blob b;
        b.data = tb_close(&t, &b.len);
        return b;
}

/* A docker-save archive: one image, layers stored as <diffid>.tar; if via_link, manifest.json
 * names "<n>/layer.tar" symlinks to them (old docker save). tag may be NULL (no RepoTags). */
static char *make_docker(struct blob *layers, const char *tag, bool via_link,
                         const char *link_target, size_t *ret_len)
{
        struct tb t;
        tb_open(&t, false);
        json_t *diffids = json_array(), *paths = json_array();
        int i = 0;
        for (struct blob *b = layers; b->data; b++, i++) {
                char h[65], p[100], lp[100], lt[120];
                hex_of(b->data, b->len, h);
                json_array_append_new(diffids, json_pack("s+", "sha256:", h));
                snprintf(p, sizeof(p), "%s.tar", h);
                tb_add(&t, p, AE_IFREG, b->data, b->len, NULL);
                if (via_link) {
                        snprintf(lp, sizeof(lp), "l%d/layer.tar", i);
                        snprintf(lt, sizeof(lt), "../%s", link_target ? link_target : p);
                        tb_add(&t, lp, AE_IFLNK, NULL, 0, lt);
                        json_array_append_new(paths, json_string(lp));
                } else {
                        json_array_append_new(paths, json_string(p));
                }
        }
        json_t *cfg = json_pack("{s:s, s:s, s:{s:[s]}, s:{s:s, s:o}}", "architecture", "amd64",
                                "os", "linux", "config", "Entrypoint", "/bin/app", "rootfs", "type",
                                "layers", "diff_ids", diffids);
        char *cs = json_dumps(cfg, JSON_COMPACT);
        char ch[65], cp[100];
        hex_of(cs, strlen(cs), ch);
        snprintf(cp, sizeof(cp), "%s.json", ch);
        tb_file(&t, cp, cs);
        json_t *m = json_pack("[{s:s, s:o, s:o}]", "Config", cp, "Layers", paths, "RepoTags",
                              tag ? json_pack("[s]", tag) : json_null());
        char *ms = json_dumps(m, JSON_COMPACT);
        tb_file(&t, "manifest.json", ms);
        free(cs);
        free(ms);
        json_decref(cfg);
        json_decref(m);
        return tb_close(&t, ret_len);
}

static char *store_dir(const char *name)
{
        char *d = malloc(4096);
        snprintf(d, 4096, "%s/%s", tmp_root, name);
        return d;
}

/* A recursive listing with types, sizes and modes: "unchanged" compares two of these. */
static void listing_rec(const char *path, const char *rel, char **out, size_t *len)
{
        DIR *d = opendir(path);
        if (!d)
                return;
        struct dirent *de;
        char **names = NULL;
        size_t n = 0;
        while ((de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                names = realloc(names, (n + 1) * sizeof(char *));
                names[n++] = strdup(de->d_name);
        }
        closedir(d);
        for (size_t i = 0; i < n; i++)
                for (size_t j = i + 1; j < n; j++)
                        if (strcmp(names[i], names[j]) > 0) {
                                char *x = names[i];
                                names[i] = names[j];
                                names[j] = x;
                        }
        for (size_t i = 0; i < n; i++) {
                char p[4096], r[4096];
                snprintf(p, sizeof(p), "%s/%s", path, names[i]);
                snprintf(r, sizeof(r), "%s/%s", rel, names[i]);
                struct stat st;
                if (lstat(p, &st) == 0) {
                        char line[4400];
                        int l = snprintf(line, sizeof(line), "%s %o %lld\n", r, st.st_mode,
                                         S_ISDIR(st.st_mode) ? 0LL : (long long)st.st_size);
                        *out = realloc(*out, *len + (size_t)l + 1);
                        memcpy(*out + *len, line, (size_t)l + 1);
                        *len += (size_t)l;
                        if (S_ISDIR(st.st_mode))
                                listing_rec(p, r, out, len);
                }
                free(names[i]);
        }
        free(names);
}

static char *listing(const char *dir)
{
        char *out = strdup("");
        size_t len = 0;
        listing_rec(dir, "", &out, &len);
        return out;
}

static size_t count_dir(const char *dir)
{
        DIR *d = opendir(dir);
        size_t n = 0;
        struct dirent *de;
        if (!d)
                return 0;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

static int import_buf(const char *dir, const char *data, size_t len, struct error *err)
{
        char **names = NULL;
        int r = images_import_buffer(dir, data, len, "example.com/base", &names, err);
        images_strv_free(names);
        return r;
}

static char *tar_path(const char *name)
{
        char *p = malloc(4096);
        snprintf(p, 4096, "%s/%s", tars, name);
        return p;
}

/* ---- tests ---- */

TEST(ref_parse)
{
        static const char *ok[][2] = {
                {"busybox", "docker.io/library/busybox:latest"},
                {"busybox:1.36", "docker.io/library/busybox:1.36"},
                {"library/busybox:1.36", "docker.io/library/busybox:1.36"},
                {"docker.io/library/busybox:1.36", "docker.io/library/busybox:1.36"},
                {"index.docker.io/library/busybox", "docker.io/library/busybox:latest"},
                {"docker.io/busybox:1", "docker.io/library/busybox:1"},
                {"user/app", "docker.io/user/app:latest"},
                {"localhost:5000/x/y:tag", "localhost:5000/x/y:tag"},
                {"localhost/x", "localhost/x:latest"},
                {"quay.io/a_b/c-d.e__f:v1.2-3_x", "quay.io/a_b/c-d.e__f:v1.2-3_x"},
                {"busybox@sha256:"
                 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                 "docker.io/library/busybox@sha256:"
                 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"},
        };
        for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
                struct image_ref r;
                struct error err = {0};
                CHECK_EQ_INT(images_ref_parse(ok[i][0], &r, &err), 0);
                if (err.code)
                        continue;
                char *s = images_ref_format(&r);
                CHECK_EQ_STR(s, ok[i][1]);
                free(s);
                image_ref_clear(&r);
        }
        static const char *bad[] = {
                "",           "Busybox", "busybox:", ":tag", "a//b",           "busybox@sha256:12",
                "busybox:-x", "a b",     "-a",       "a-",   "busybox@md5:00", "localhost:x/y",
                "/abs"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct image_ref r;
                struct error err = {0};
                int rc = images_ref_parse(bad[i], &r, &err);
                if (rc != -EINVAL)
                        printf("# accepted \"%s\"\n", bad[i]);
                CHECK_EQ_INT(rc, -EINVAL);
                CHECK(err.msg[0] != 0);
        }
        struct image_ref r;
        struct error err = {0};
        images_ref_parse("BusyBox:1", &r, &err);
        CHECK(strstr(err.msg, "lowercase") != NULL);
}

static char manifest_digest[80];

TEST(import_docker_and_resolve)
{
        if (!tars) {
                CHECK(!"fixtures missing");
                return;
        }
        char *dir = store_dir("docker");
        char *tar = tar_path("busybox-docker.tar");
        struct error err = {0};
        char **names = NULL;
        CHECK_EQ_INT(images_import(dir, tar, NULL, &names, &err), 0);
        if (err.code)
                printf("# %s\n", err.msg);
        CHECK(names && names[0]);
        if (names && names[0])
                CHECK_EQ_STR(names[0], "docker.io/library/busybox:1.36");
        images_strv_free(names);

        struct image_info info;
        CHECK_EQ_INT(images_resolve(dir, "busybox:1.36", &info, &err), 0);
        if (!err.code) {
                CHECK(!strncmp(info.id, "sha256:", 7));
                CHECK_EQ_STR(info.name, "docker.io/library/busybox:1.36");
                CHECK(info.layer_dirs[0] && info.layer_dirs[1] && !info.layer_dirs[2]);
                CHECK(info.layer_dirs[0][0] == '/');
                char p[4200];
                snprintf(p, sizeof(p), "%s/bin/busybox", info.layer_dirs[0]);
                struct stat st;
                CHECK(stat(p, &st) == 0 && (st.st_mode & 0111));
                snprintf(p, sizeof(p), "%s/bin/sh", info.layer_dirs[0]);
                CHECK(lstat(p, &st) == 0 && S_ISLNK(st.st_mode));
                snprintf(p, sizeof(p), "%s/etc/issue", info.layer_dirs[1]);
                CHECK(lstat(p, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0));
                CHECK(info.env && info.env[0]);
                if (info.env && info.env[0])
                        CHECK_EQ_STR(info.env[0], "PATH=/bin:/usr/bin");
                CHECK(info.cmd && info.cmd[0] && !strcmp(info.cmd[0], "sh"));
                CHECK(info.entrypoint == NULL);
                CHECK_EQ_STR(info.working_dir, "/");
                char *id = strdup(info.id);
                image_info_clear(&info);

                static const char *forms[] = {"docker.io/library/busybox:1.36",
                                              "library/busybox:1.36",
                                              "index.docker.io/library/busybox:1.36"};
                for (size_t i = 0; i < 3; i++) {
                        CHECK_EQ_INT(images_resolve(dir, forms[i], &info, &err), 0);
                        if (!err.code) {
                                CHECK_EQ_STR(info.id, id);
                                image_info_clear(&info);
                        }
                }
                /* by id, id prefix, busybox@<config digest> */
                char ref[200];
                CHECK_EQ_INT(images_resolve(dir, id, &info, &err), 0);
                image_info_clear(&info);
                snprintf(ref, sizeof(ref), "%.19s", id + 7);
                CHECK_EQ_INT(images_resolve(dir, ref, &info, &err), 0);
                image_info_clear(&info);
                snprintf(ref, sizeof(ref), "busybox@%s", id);
                CHECK_EQ_INT(images_resolve(dir, ref, &info, &err), 0);
                image_info_clear(&info);
                free(id);
        }
        /* the manifest digest (synthesized for docker archives) resolves */
        struct image_entry *list;
        size_t n;
        CHECK_EQ_INT(images_list(dir, &list, &n, &err), 0);
        CHECK_EQ_INT(n, 1);
        if (n == 1) {
                char ref[200];
                snprintf(ref, sizeof(ref), "docker.io/library/busybox:1.36@%s", list[0].digest);
                CHECK_EQ_INT(images_resolve(dir, ref, &info, &err), 0);
                image_info_clear(&info);
                CHECK(list[0].size > 1000000);
        }
        images_list_free(list, n);

        CHECK_EQ_INT(images_resolve(dir, "busybox", &info, &err), -ENOENT);
        CHECK(strstr(err.msg, "busybox") != NULL);
        CHECK_EQ_INT(images_resolve(dir, "busybox:1.37", &info, &err), -ENOENT);
        CHECK_EQ_INT(images_resolve(dir, "Busy:1", &info, &err), -EINVAL);
        free(tar);
        free(dir);
}

TEST(import_oci_plain_and_gzip)
{
        if (!tars) {
                CHECK(!"fixtures missing");
                return;
        }
        char *dir = store_dir("oci");
        struct error err = {0};
        char *tar = tar_path("busybox-oci.tar"), *tgz = tar_path("busybox-oci.tar.gz");
        CHECK_EQ_INT(images_import(dir, tgz, NULL, NULL, &err), 0);
        if (err.code)
                printf("# %s\n", err.msg);
        struct image_entry *list;
        size_t n;
        CHECK_EQ_INT(images_list(dir, &list, &n, &err), 0);
        CHECK_EQ_INT(n, 1);
        if (n == 1) {
                CHECK_EQ_STR(list[0].name, "docker.io/library/busybox:1.36");
                snprintf(manifest_digest, sizeof(manifest_digest), "%s", list[0].digest);
        }
        images_list_free(list, n);
        char *before = listing(dir);
        /* importing the same image again (plain tar) changes nothing but the index */
        CHECK_EQ_INT(images_import(dir, tar, NULL, NULL, &err), 0);
        char *after = listing(dir);
        CHECK_EQ_STR(after, before);
        free(before);
        free(after);
        /* real OCI manifest digest */
        struct image_info info;
        char ref[200];
        snprintf(ref, sizeof(ref), "busybox@%s", manifest_digest);
        CHECK_EQ_INT(images_resolve(dir, ref, &info, &err), 0);
        if (!err.code) {
                CHECK_EQ_STR(info.name, ref);
                image_info_clear(&info);
        }
        /* and the docker archive of the same image lands on the same id */
        char *dtar = tar_path("busybox-docker.tar");
        CHECK_EQ_INT(images_import(dir, dtar, NULL, NULL, &err), 0);
        CHECK_EQ_INT(images_list(dir, &list, &n, &err), 0);
        CHECK_EQ_INT(n, 1);
        images_list_free(list, n);
        /* the OCI digest still resolves after the docker import */
        CHECK_EQ_INT(images_resolve(dir, ref, &info, &err), 0);
        image_info_clear(&info);
        char p[4200];
        snprintf(p, sizeof(p), "%s/layers", dir);
        CHECK_EQ_INT(count_dir(p), 2);
        free(dtar);
        free(tar);
        free(tgz);
        free(dir);
}

TEST(shared_layers_stored_once)
{
        char *dir = store_dir("shared");
        struct error err = {0};
        struct blob base = layer(AE_IFDIR, "bin", "", AE_IFREG, "bin/tool", "base tool\n", 0);
        struct blob top1 = layer(AE_IFREG, "one.txt", "one\n", 0);
        struct blob top2 = layer(AE_IFREG, "two.txt", "two\n", 0);
        struct blob end = {0};
        struct blob l1[] = {base, top1, end}, l2[] = {base, top2, end};
        struct blob *ls[] = {l1, l2};
        const char *names[] = {"example.com/app:one", "two"}; /* "two": a bare tag */
        size_t len;
        char *oci = make_oci(2, names, ls, false, false, &len);
        CHECK_EQ_INT(import_buf(dir, oci, len, &err), 0);
        if (err.code)
                printf("# %s\n", err.msg);
        char p[4200];
        snprintf(p, sizeof(p), "%s/layers", dir);
        CHECK_EQ_INT(count_dir(p), 3);
        snprintf(p, sizeof(p), "%s/blobs/sha256", dir);
        CHECK_EQ_INT(count_dir(p), 3 + 2 + 2); /* layers + configs + manifests */
        struct image_info a, b;
        CHECK_EQ_INT(images_resolve(dir, "example.com/app:one", &a, &err), 0);
        CHECK_EQ_INT(images_resolve(dir, "example.com/base:two", &b, &err), 0);
        if (a.layer_dirs && b.layer_dirs) {
                CHECK_EQ_STR(a.layer_dirs[0], b.layer_dirs[0]);
                CHECK(strcmp(a.layer_dirs[1], b.layer_dirs[1]) != 0);
                CHECK_EQ_STR(a.working_dir, "/w");
        }
        image_info_clear(&a);
        image_info_clear(&b);

        /* rm: the shared base stays while image two uses it */
        CHECK_EQ_INT(images_remove(dir, "example.com/app:one", &err), 0);
        snprintf(p, sizeof(p), "%s/layers", dir);
        CHECK_EQ_INT(count_dir(p), 2);
        CHECK_EQ_INT(images_resolve(dir, "example.com/app:one", &a, &err), -ENOENT);
        CHECK_EQ_INT(images_resolve(dir, "example.com/base:two", &b, &err), 0);
        char id[100];
        snprintf(id, sizeof(id), "%.20s", b.id + 7);
        image_info_clear(&b);
        CHECK_EQ_INT(images_remove(dir, id, &err), 0);
        CHECK_EQ_INT(count_dir(p), 0);
        snprintf(p, sizeof(p), "%s/blobs/sha256", dir);
        CHECK_EQ_INT(count_dir(p), 0);
        CHECK_EQ_INT(images_remove(dir, "example.com/base:two", &err), -ENOENT);
        free(base.data);
        free(top1.data);
        free(top2.data);
        free(oci);
        free(dir);
}

TEST(nested_index_picks_amd64_and_gzip)
{
        char *dir = store_dir("nested");
        struct error err = {0};
        struct blob l = layer(AE_IFREG, "hello", "hi\n", 0);
        struct blob l1[] = {l, {0}};
        struct blob *ls[] = {l1};
        const char *names[] = {"docker.io/library/multi:1"};
        size_t len;
        char *oci = make_oci(1, names, ls, true, true, &len);
        CHECK_EQ_INT(import_buf(dir, oci, len, &err), 0);
        if (err.code)
                printf("# %s\n", err.msg);
        struct image_info info;
        CHECK_EQ_INT(images_resolve(dir, "multi:1", &info, &err), 0);
        image_info_clear(&info);
        free(l.data);
        free(oci);
        free(dir);
}

TEST(whiteouts)
{
        char *dir = store_dir("wh");
        struct error err = {0};
        struct blob lo = layer(AE_IFDIR, "d", "", AE_IFREG, "d/old", "x", AE_IFREG, "gone", "y", 0);
        struct blob up = layer(AE_IFDIR, "d", "", AE_IFREG, "d/.wh..wh..opq", "", AE_IFREG, "d/new",
                               "n", AE_IFREG, ".wh.gone", "", 0);
        struct blob l1[] = {lo, up, {0}};
        struct blob *ls[] = {l1};
        const char *names[] = {"wh:1"};
        size_t len;
        char *oci = make_oci(1, names, ls, false, false, &len);
        CHECK_EQ_INT(import_buf(dir, oci, len, &err), 0);
        if (err.code)
                printf("# %s\n", err.msg);
        struct image_info info;
        CHECK_EQ_INT(images_resolve(dir, "wh:1", &info, &err), 0);
        if (!err.code) {
                char p[4200], v[8] = {0};
                struct stat st;
                snprintf(p, sizeof(p), "%s/gone", info.layer_dirs[1]);
                CHECK(lstat(p, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == 0);
                snprintf(p, sizeof(p), "%s/d", info.layer_dirs[1]);
                CHECK_EQ_INT(getxattr(p, "trusted.overlay.opaque", v, sizeof(v) - 1), 1);
                CHECK_EQ_STR(v, "y");
                snprintf(p, sizeof(p), "%s/d/.wh..wh..opq", info.layer_dirs[1]);
                CHECK(lstat(p, &st) < 0);
                snprintf(p, sizeof(p), "%s/.wh.gone", info.layer_dirs[1]);
                CHECK(lstat(p, &st) < 0);
                snprintf(p, sizeof(p), "%s/gone", info.layer_dirs[0]);
                CHECK(lstat(p, &st) == 0 && S_ISREG(st.st_mode));
                image_info_clear(&info);
        }
        free(lo.data);
        free(up.data);
        free(oci);
        free(dir);
}

/* Import must fail with want, leave the store as it was, and say something. */
static void expect_fail(const char *dir, const char *data, size_t len, int want, const char *what)
{
        char *before = listing(dir);
        struct error err = {0};
        int r = import_buf(dir, data, len, &err);
        if (r != want)
                printf("# %s: got %d (%s), want %d\n", what, r, err.msg, want);
        CHECK_EQ_INT(r, want);
        CHECK(err.msg[0] != 0 && !strchr(err.msg, '\n'));
        char *after = listing(dir);
        if (strcmp(before, after))
                printf("# %s: store changed:\n# before:\n%s# after:\n%s", what, before, after);
        CHECK_EQ_STR(after, before);
        free(before);
        free(after);
}

TEST(bad_archives_leave_store_unchanged)
{
        char *dir = store_dir("bad");
        struct error err = {0};
        /* start from a store with one image, so "unchanged" means something */
        struct blob l = layer(AE_IFREG, "f", "base\n", 0);
        struct blob l1[] = {l, {0}};
        struct blob *ls[] = {l1};
        const char *names[] = {"good:1"};
        size_t len;
        char *good = make_oci(1, names, ls, false, false, &len);
        CHECK_EQ_INT(import_buf(dir, good, len, &err), 0);

        /* a different image so that the bad imports would add something */
        struct blob l2 = layer(AE_IFREG, "g", "other\n", 0);
        struct blob l21[] = {l2, {0}};
        struct blob *ls2[] = {l21};
        const char *names2[] = {"other:1"};
        size_t len2;
        char *other = make_oci(1, names2, ls2, false, false, &len2);

        expect_fail(dir, other, len2 / 2, -EPROTO, "truncated oci");
        expect_fail(dir, other, len2 - 1200, -EPROTO, "truncated tail");
        char rnd[4096];
        for (size_t i = 0; i < sizeof(rnd); i++)
                rnd[i] = (char)(i * 7919 + 13);
        expect_fail(dir, rnd, sizeof(rnd), -EPROTO, "random bytes");
        expect_fail(dir, "", 0, -EPROTO, "empty");
        struct tb t;
        tb_open(&t, false);
        tb_file(&t, "hello.txt", "not an image\n");
        size_t nl;
        char *nomani = tb_close(&t, &nl);
        expect_fail(dir, nomani, nl, -EPROTO, "no manifest");
        free(nomani);
        tb_open(&t, false);
        tb_file(&t, "manifest.json", "{not json");
        char *badjson = tb_close(&t, &nl);
        expect_fail(dir, badjson, nl, -EPROTO, "bad manifest.json");
        free(badjson);
        tb_open(&t, false);
        tb_file(&t, "index.json",
                "{\"manifests\":[{\"digest\":\"sha256:"
                "1111111111111111111111111111111111111111111111111111111111111111"
                "\"}]}");
        char *missing = tb_close(&t, &nl);
        expect_fail(dir, missing, nl, -EPROTO, "missing blob");
        free(missing);
        /* a blob whose content does not match its name */
        tb_open(&t, false);
        tb_file(&t,
                "blobs/sha256/"
                "2222222222222222222222222222222222222222222222222222222222222222",
                "tampered");
        tb_file(&t, "index.json", "{\"manifests\":[]}");
        char *tampered = tb_close(&t, &nl);
        expect_fail(dir, tampered, nl, -EPROTO, "digest mismatch");
        free(tampered);
        /* outer path traversal */
        tb_open(&t, false);
        tb_file(&t, "../escape", "x");
        char *trav = tb_close(&t, &nl);
        expect_fail(dir, trav, nl, -EPROTO, "outer ../");
        free(trav);
        tb_open(&t, false);
        tb_file(&t, "/abs", "x");
        char *absf = tb_close(&t, &nl);
        expect_fail(dir, absf, nl, -EPROTO, "outer absolute");
        free(absf);

        /* diffid mismatch: edit a config's diff_id (re-digested, so only the diffid is wrong) */
        char *store_before = listing(dir);
        CHECK(strlen(store_before) > 0);
        free(store_before);

        struct image_info info;
        CHECK_EQ_INT(images_resolve(dir, "good:1", &info, &err), 0);
        image_info_clear(&info);
        CHECK_EQ_INT(images_resolve(dir, "other:1", &info, &err), -ENOENT);
        free(l.data);
        free(l2.data);
        free(good);
        free(other);
        free(dir);
}

TEST(layer_path_traversal_rejected)
{
        char *dir = store_dir("trav");
        char outside[4200];
        snprintf(outside, sizeof(outside), "%s/outside", tmp_root);
        mkdir(outside, 0755);
        struct {
                struct blob l;
                const char *what;
        } cases[4];
        cases[0].l = layer(AE_IFREG, "../../escaped", "x", 0);
        cases[0].what = "layer ../";
        cases[1].l = layer(AE_IFREG, "/escaped", "x", 0);
        cases[1].what = "layer absolute";
        cases[2].l = layer(AE_IFLNK, "link", outside, AE_IFREG, "link/escaped", "x", 0);
        cases[2].what = "through a symlink";
        cases[3].l = layer(AE_IFLNK, "link", outside, AE_IFREG, "link/../x", "x", 0);
        cases[3].what = "symlink + ..";
        for (int i = 0; i < 4; i++) {
                struct blob l1[] = {cases[i].l, {0}};
                struct blob *ls[] = {l1};
                const char *names[] = {"trav:1"};
                size_t len;
                char *oci = make_oci(1, names, ls, false, false, &len);
                expect_fail(dir, oci, len, -EPROTO, cases[i].what);
                free(oci);
                free(cases[i].l.data);
        }
        CHECK_EQ_INT(count_dir(outside), 0);
        char p[4200];
        snprintf(p, sizeof(p), "%s/escaped", tmp_root);
        CHECK(access(p, F_OK) < 0);
        CHECK(access("/escaped", F_OK) < 0);
        free(dir);
}

TEST(missing_file_and_empty_store)
{
        char *dir = store_dir("empty");
        struct error err = {0};
        CHECK_EQ_INT(images_import(dir, "/nonexistent/x.tar", NULL, NULL, &err), -ENOENT);
        struct image_entry *list;
        size_t n = 9;
        CHECK_EQ_INT(images_list(dir, &list, &n, &err), 0);
        CHECK_EQ_INT(n, 0);
        images_list_free(list, n);
        struct image_info info;
        CHECK_EQ_INT(images_resolve(dir, "busybox", &info, &err), -ENOENT);
        CHECK_EQ_INT(images_remove(dir, "busybox", &err), -ENOENT);
        /* a failed import into a fresh store leaves no directory behind */
        CHECK_EQ_INT(import_buf(dir, "garbage", 7, &err), -EPROTO);
        CHECK(access(dir, F_OK) < 0);
        free(dir);
}

TEST(docker_symlinked_layers_and_unnamed)
{
        char *dir = store_dir("dsym");
        struct error err = {0};
        struct blob l = layer(AE_IFREG, "app", "bin\n", 0);
        struct blob ls[] = {l, {0}};
        size_t len;
        char *d = make_docker(ls, "example.com/a/b:2", true, NULL, &len);
        CHECK_EQ_INT(import_buf(dir, d, len, &err), 0);
        if (err.code)
                printf("# %s\n", err.msg);
        struct image_info info;
        CHECK_EQ_INT(images_resolve(dir, "example.com/a/b:2", &info, &err), 0);
        if (!err.code) {
                CHECK(info.entrypoint && !strcmp(info.entrypoint[0], "/bin/app"));
                CHECK(info.cmd == NULL);
                CHECK(info.env && info.env[0] == NULL);
                CHECK(info.working_dir == NULL && info.user == NULL);
                image_info_clear(&info);
        }
        free(d);
        /* a layer symlink pointing out of the archive is refused */
        d = make_docker(ls, "x:1", true, "../../etc/passwd", &len);
        expect_fail(dir, d, len, -EPROTO, "layer symlink out of the archive");
        free(d);
        /* no RepoTags: stored, reachable by id, listed as unnamed */
        struct blob l2 = layer(AE_IFREG, "other", "o\n", 0);
        struct blob ls2[] = {l2, {0}};
        d = make_docker(ls2, NULL, false, NULL, &len);
        char **names = NULL;
        CHECK_EQ_INT(images_import_buffer(dir, d, len, NULL, &names, &err), 0);
        CHECK(names && names[0] && !strncmp(names[0], "sha256:", 7));
        if (names && names[0]) {
                CHECK_EQ_INT(images_resolve(dir, names[0], &info, &err), 0);
                image_info_clear(&info);
        }
        images_strv_free(names);
        struct image_entry *list;
        size_t n;
        CHECK_EQ_INT(images_list(dir, &list, &n, &err), 0);
        CHECK_EQ_INT(n, 2);
        if (n == 2) {
                CHECK_EQ_STR(list[0].name, "example.com/a/b:2");
                CHECK(list[1].name == NULL);
        }
        images_list_free(list, n);
        free(d);
        free(l.data);
        free(l2.data);
        free(dir);
}

/* Two processes importing different images into one store at once: both land. */
TEST(concurrent_imports)
{
        char *dir = store_dir("conc");
        pid_t pids[2];
        for (int k = 0; k < 2; k++) {
                pids[k] = fork();
                if (pids[k] == 0) {
                        int bad = 0;
                        for (int i = 0; i < 10; i++) {
                                char tag[64], content[64];
                                snprintf(tag, sizeof(tag), "proc%d:%d", k, i);
                                snprintf(content, sizeof(content), "%d-%d", k, i);
                                struct blob base = layer(AE_IFREG, "shared", "same\n", 0);
                                struct blob top = layer(AE_IFREG, "f", content, 0);
                                struct blob ls[] = {base, top, {0}};
                                size_t len;
                                char *d = make_docker(ls, tag, false, NULL, &len);
                                struct error err = {0};
                                if (import_buf(dir, d, len, &err) < 0) {
                                        printf("# child %d: %s\n", k, err.msg);
                                        bad = 1;
                                }
                                free(d);
                                free(base.data);
                                free(top.data);
                        }
                        fflush(stdout);
                        _exit(bad);
                }
        }
        for (int k = 0; k < 2; k++) {
                int st = 0;
                waitpid(pids[k], &st, 0);
                CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        }
        struct image_entry *list;
        size_t n;
        struct error err = {0};
        CHECK_EQ_INT(images_list(dir, &list, &n, &err), 0);
        CHECK_EQ_INT(n, 20);
        images_list_free(list, n);
        /* the temp dir of an import that died is removed by the next import */
        char stale[4200];
        snprintf(stale, sizeof(stale), "%s/tmp/import-dead/layers", dir);
        char cmd[8600];
        snprintf(cmd, sizeof(cmd), "mkdir -p %s && touch -d '2 hours ago' %s/..", stale, stale);
        CHECK_EQ_INT(system(cmd), 0);
        struct blob l = layer(AE_IFREG, "x", "x", 0);
        struct blob ls[] = {l, {0}};
        size_t len;
        char *d = make_docker(ls, "after:1", false, NULL, &len);
        CHECK_EQ_INT(import_buf(dir, d, len, &err), 0);
        free(d);
        free(l.data);
        char p[4200];
        snprintf(p, sizeof(p), "%s/layers", dir);
        CHECK_EQ_INT(count_dir(p), 22);
        snprintf(p, sizeof(p), "%s/tmp", dir);
        CHECK(access(p, F_OK) < 0);
        free(dir);
}

static void rm_tree(const char *p)
{
        char cmd[4200];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", p);
        if (system(cmd) != 0)
                printf("# cleanup of %s failed\n", p);
}

int main(void)
{
        if (!mkdtemp(tmp_root)) {
                perror("mkdtemp");
                return 1;
        }
        const char *script = getenv("IMAGES_FIXTURE_SCRIPT");
        if (!script)
                script = "tests/data/images/make-busybox-tars.sh";
        char cmd[4300];
        snprintf(cmd, sizeof(cmd), "%s %s/tars >/dev/null", script, tmp_root);
        if (system(cmd) == 0) {
                tars = malloc(4200);
                snprintf(tars, 4200, "%s/tars", tmp_root);
        } else {
                printf("# fixture script %s failed\n", script);
        }
        RUN(ref_parse);
        RUN(import_docker_and_resolve);
        RUN(import_oci_plain_and_gzip);
        RUN(shared_layers_stored_once);
        RUN(nested_index_picks_amd64_and_gzip);
        RUN(whiteouts);
        RUN(bad_archives_leave_store_unchanged);
        RUN(layer_path_traversal_rejected);
        RUN(missing_file_and_empty_store);
        RUN(docker_symlinked_layers_and_unnamed);
        RUN(concurrent_imports);
        rm_tree(tmp_root);
        free(tars);
        return harness_done();
}
