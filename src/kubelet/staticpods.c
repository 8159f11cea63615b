/* staticpods.c — static pods from a manifest directory and their mirror pods (staticpods.h). */
#include "kubelet/staticpods.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>

#include "client/client.h"
#include "common/fs.h"
#include "common/kjson.h"
#include "common/kyaml.h"
#include "common/log.h"
#include "common/timefmt.h"

#define COMP "kubelet"
#define SCAN_MS 2000
#define MANIFEST_MAX (1u << 20)
#define MANIFESTS_MAX 256

struct staticpods {
        char *kubeconfig, *dir, *node;
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool stopping;       /* protected by lock */
        char bad_seen[4096]; /* thread-only: hashes of invalid manifests already logged */
};

int staticpods_mirror(json_t *manifest, const char *node, const char *node_uid, const char *hash,
                      const char *seen, json_t **ret, struct error *err)
{
        const char *kind = kjson_str(manifest, "kind");
        const char *name = kjson_str(manifest, "metadata.name");
        if (!json_is_object(manifest) || !kind || strcmp(kind, "Pod"))
                return error_set(err, -EINVAL, "not a Pod manifest (kind %s)", kind ?: "missing");
        if (!name || !*name)
                return error_set(err, -EINVAL, "the Pod manifest has no metadata.name");
        json_t *pod = json_deep_copy(manifest);
        json_t *meta = kjson_obj_ensure(pod, "metadata");
        _cleanup_free_ char *full = xasprintf("%s-%s", name, node);
        json_object_set_new(meta, "name", json_string(full));
        if (!kjson_str(meta, "namespace"))
                json_object_set_new(meta, "namespace", json_string("default"));
        json_object_del(meta, "uid");
        json_object_del(meta, "resourceVersion");
        json_t *ann = kjson_obj_ensure(meta, "annotations");
        json_object_set_new(ann, "kubernetes.io/config.hash", json_string(hash));
        json_object_set_new(ann, "kubernetes.io/config.mirror", json_string(hash));
        json_object_set_new(ann, "kubernetes.io/config.seen", json_string(seen));
        json_object_set_new(ann, "kubernetes.io/config.source", json_string("file"));
        if (node_uid)
                json_object_set_new(meta, "ownerReferences",
                                    json_pack("[{s:s, s:s, s:s, s:s, s:b}]", "apiVersion", "v1",
                                              "kind", "Node", "name", node, "uid", node_uid,
                                              "controller", true));
        json_t *spec = kjson_obj_ensure(pod, "spec");
        json_object_set_new(spec, "nodeName", json_string(node));
        /* the kubelet's static pods tolerate every NoExecute taint */
        json_t *tol = json_object_get(spec, "tolerations");
        if (!json_is_array(tol)) {
                tol = json_array();
                json_object_set_new(spec, "tolerations", tol);
        }
        json_array_append_new(tol,
                              json_pack("{s:s, s:s}", "operator", "Exists", "effect", "NoExecute"));
        json_object_del(pod, "status");
        *ret = pod;
        return 0;
}

/* FNV-1a 64 of the text, 16 hex digits (the kubelet uses an md5 of the object; any stable
 * content hash serves: it only tells whether the manifest changed). */
static void hash_text(const char *s, size_t n, char out[17])
{
        uint64_t h = 1469598103934665603ULL;
        for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char)s[i];
                h *= 1099511628211ULL;
        }
        snprintf(out, 17, "%016llx", (unsigned long long)h);
}

static char *slurp(int dirfd, const char *name, size_t *ret_len)
{
        int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return NULL;
        char *buf = xmalloc(MANIFEST_MAX + 1);
        size_t len = 0;
        ssize_t n;
        while (len < MANIFEST_MAX && (n = read(fd, buf + len, MANIFEST_MAX - len)) > 0)
                len += (size_t)n;
        close(fd);
        buf[len] = 0;
        *ret_len = len;
        return buf;
}

static bool manifest_name(const char *n)
{
        size_t l = strlen(n);
        if (n[0] == '.')
                return false;
        return (l > 5 && !strcmp(n + l - 5, ".yaml")) || (l > 4 && !strcmp(n + l - 4, ".yml")) ||
               (l > 5 && !strcmp(n + l - 5, ".json"));
}

/* Desired mirror pods: {"ns/name": pod}. Bad manifests are logged once per content. */
static json_t *read_manifests(struct staticpods *sp, const char *node_uid, char *bad_seen,
                              size_t bad_size)
{
        json_t *want = json_object();
        DIR *d = opendir(sp->dir);
        if (!d)
                return want;
        char seen[32];
        timefmt_rfc3339(seen, time(NULL));
        struct dirent *de;
        size_t count = 0;
        while ((de = readdir(d)) && count < MANIFESTS_MAX) {
                if (!manifest_name(de->d_name))
                        continue;
                count++;
                size_t len = 0;
                _cleanup_free_ char *text = slurp(dirfd(d), de->d_name, &len);
                if (!text)
                        continue;
                char hash[17];
                hash_text(text, len, hash);
                json_t *obj = NULL;
                struct error err = {0};
                json_t *pod = NULL;
                int r = kyaml_parse_one(text, len, &obj, &err);
                if (r >= 0)
                        r = staticpods_mirror(obj, sp->node, node_uid, hash, seen, &pod, &err);
                json_decref(obj);
                if (r < 0) {
                        if (!strstr(bad_seen, hash)) {
                                log_warn(COMP, "static pod %s/%s: %s", sp->dir, de->d_name,
                                         error_msg(&err));
                                size_t l = strlen(bad_seen);
                                if (l + 18 < bad_size)
                                        snprintf(bad_seen + l, bad_size - l, "%s,", hash);
                        }
                        continue;
                }
                _cleanup_free_ char *key = xasprintf("%s/%s", kjson_str(pod, "metadata.namespace"),
                                                     kjson_str(pod, "metadata.name"));
                json_object_set_new(want, key, pod);
        }
        closedir(d);
        return want;
}

static const char *mirror_hash(json_t *pod)
{
        return json_string_value(json_object_get(kjson_get(pod, "metadata.annotations"),
                                                 "kubernetes.io/config.mirror"));
}

static void reconcile(struct staticpods *sp, struct kclient *c)
{
        struct error err = {0};
        json_t *node = NULL;
        _cleanup_free_ char *npath = xasprintf("/api/v1/nodes/%s", sp->node);
        if (kclient_get(c, npath, &node, &err) < 0)
                return; /* not registered yet */
        _cleanup_(json_decrefp) json_t *want = read_manifests(sp, kjson_str(node, "metadata.uid"),
                                                              sp->bad_seen, sizeof(sp->bad_seen));
        json_decref(node);
        _cleanup_free_ char *lpath =
                xasprintf("/api/v1/pods?fieldSelector=spec.nodeName%%3D%s", sp->node);
        _cleanup_(json_decrefp) json_t *list = NULL;
        if (kclient_get(c, lpath, &list, &err) < 0)
                return;
        json_t *have = json_object(); /* mirror pods now: key -> hash */
        json_t *p;
        size_t i;
        json_array_foreach(json_object_get(list, "items"), i, p)
        {
                const char *h = mirror_hash(p);
                if (!h || kjson_get(p, "metadata.deletionTimestamp"))
                        continue;
                _cleanup_free_ char *key = xasprintf("%s/%s", kjson_str(p, "metadata.namespace"),
                                                     kjson_str(p, "metadata.name"));
                json_object_set_new(have, key, json_string(h));
        }
        const char *key;
        json_t *v;
        json_object_foreach(have, key, v)
        {
                json_t *w = json_object_get(want, key);
                const char *wh = w ? mirror_hash(w) : NULL;
                if (wh && !strcmp(wh, json_string_value(v)))
                        continue;
                /* removed or changed manifest: delete the mirror pod */
                _cleanup_free_ char *ns = xstrndup(key, strcspn(key, "/"));
                _cleanup_free_ char *path =
                        xasprintf("/api/v1/namespaces/%s/pods/%s", ns, key + strlen(ns) + 1);
                if (kclient_delete(c, path, NULL, NULL, &err) == 0)
                        log_info(COMP, "static pod %s: mirror pod deleted (%s)", key,
                                 w ? "manifest changed" : "manifest removed");
        }
        json_object_foreach(want, key, v)
        {
                json_t *h = json_object_get(have, key);
                if (h)
                        continue; /* up to date, or being replaced: created on the next scan */
                _cleanup_free_ char *path =
                        xasprintf("/api/v1/namespaces/%s/pods", kjson_str(v, "metadata.namespace"));
                int r = kclient_create(c, path, v, NULL, &err);
                if (r == 0)
                        log_info(COMP, "static pod %s: mirror pod created", key);
                else if (r != -EEXIST)
                        log_warn(COMP, "static pod %s: %s", key, error_msg(&err));
        }
        json_decref(have);
}

static void *staticpods_main(void *ud)
{
        struct staticpods *sp = ud;
        struct kclient *c = NULL;
        pthread_mutex_lock(&sp->lock);
        while (!sp->stopping) {
                pthread_mutex_unlock(&sp->lock);
                struct error err = {0};
                if (!c &&
                    kclient_from_kubeconfig_as(sp->kubeconfig, KCLIENT_AGENT_KUBELET, &c, &err) < 0)
                        c = NULL;
                if (c)
                        reconcile(sp, c);
                pthread_mutex_lock(&sp->lock);
                if (sp->stopping)
                        break;
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += SCAN_MS / 1000;
                pthread_cond_timedwait(&sp->cond, &sp->lock, &ts);
        }
        pthread_mutex_unlock(&sp->lock);
        if (c)
                kclient_free(c);
        return NULL;
}

int staticpods_start(const struct staticpods_config *cfg, struct staticpods **ret,
                     struct error *err)
{
        if (!cfg || !cfg->kubeconfig || !cfg->dir || !cfg->node_name)
                return error_set(err, -EINVAL, "static pods: incomplete config");
        int r = fs_mkdir_p(cfg->dir, 0755, err);
        if (r < 0)
                return error_wrap(err, r, "static pods: %s", cfg->dir);
        struct staticpods *sp = xcalloc(1, sizeof(*sp));
        sp->kubeconfig = xstrdup(cfg->kubeconfig);
        sp->dir = xstrdup(cfg->dir);
        sp->node = xstrdup(cfg->node_name);
        pthread_mutex_init(&sp->lock, NULL);
        pthread_cond_init(&sp->cond, NULL);
        r = -pthread_create(&sp->thread, NULL, staticpods_main, sp);
        if (r < 0) {
                free(sp->kubeconfig);
                free(sp->dir);
                free(sp->node);
                free(sp);
                return error_set(err, r, "static pods: thread");
        }
        *ret = sp;
        return 0;
}

void staticpods_stop(struct staticpods *sp)
{
        if (!sp)
                return;
        pthread_mutex_lock(&sp->lock);
        sp->stopping = true;
        pthread_cond_broadcast(&sp->cond);
        pthread_mutex_unlock(&sp->lock);
        pthread_join(sp->thread, NULL);
        pthread_mutex_destroy(&sp->lock);
        pthread_cond_destroy(&sp->cond);
        free(sp->kubeconfig);
        free(sp->dir);
        free(sp->node);
        free(sp);
}
