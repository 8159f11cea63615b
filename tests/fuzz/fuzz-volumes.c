/* fuzz-volumes.c — the kubelet's parsers of user input for volumes and env: the first byte picks
 * the target. 0: base64 (secret data); 1: item/subPath validation; 2: a JSON document
 * {"pod": {...}, "volume": {...}, "sources": {"configmap/x": {...}, "secret/y": {...}}} built
 * into projection files and mounts; 3: the same document's pod.spec.containers[0] env resolved
 * with those sources. Contract: no crash, and every projected path passes volumes_path_ok. */
#include <stdint.h>

#include "kubelet/status.h"
#include "kubelet/volumes.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int lookup(void *ud, const char *kind, const char *name, json_t **ret, struct error *err)
{
        json_t *sources = ud;
        char key[600];
        snprintf(key, sizeof(key), "%s/%.512s", kind, name);
        json_t *o = json_object_get(sources, key);
        if (!json_is_object(o))
                return error_set(err, -ENOENT, "%s \"%s\" not found", kind, name);
        json_t *d = json_object(), *v;
        const char *k;
        json_object_foreach(o, k, v)
        {
                if (json_is_string(v))
                        json_object_set(d, k, v);
        }
        *ret = d;
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1 || size > 65536)
                return 0;
        uint8_t sel = data[0] & 3;
        const char *buf = (const char *)data + 1;
        size_t len = size - 1;
        if (sel == 0) {
                char *out;
                size_t n;
                if (volumes_b64_decode(buf, len, &out, &n) == 0) {
                        if (n > len)
                                __builtin_trap();
                        free(out);
                }
                return 0;
        }
        if (sel == 1) {
                char *s = strndup(buf, len);
                if (s && volumes_path_ok(s) && (s[0] == '/' || strstr(s, "/../")))
                        __builtin_trap();
                free(s);
                return 0;
        }
        json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
        if (!doc)
                return 0;
        json_t *pod = json_object_get(doc, "pod");
        json_t *sources = json_object_get(doc, "sources");
        struct kubelet_env_source src = {.lookup = lookup, .ud = sources};
        struct error err = {0};
        if (sel == 2) {
                json_t *files = NULL;
                if (volumes_projection_build(pod, json_object_get(doc, "volume"), &src, "10.0.0.2",
                                             "10.0.0.1", &files, &err) >= 0) {
                        const char *path;
                        json_t *f;
                        json_object_foreach(files, path, f)
                        {
                                if (!volumes_path_ok(path))
                                        __builtin_trap();
                        }
                        json_decref(files);
                }
        } else {
                json_t *ctr = json_array_get(
                        json_object_get(json_object_get(pod, "spec"), "containers"), 0);
                char **env = NULL;
                if (kubelet_container_env_resolve(pod, ctr, NULL, "10.0.0.2", "10.0.0.1", &src,
                                                  &env, &err) == 0)
                        kubelet_strv_free(env);
        }
        json_decref(doc);
        return 0;
}
