/* volumes.h — pod volumes of the node agent: emptyDir (disk, or tmpfs for medium Memory with
 * sizeLimit), hostPath (with its type checks), configMap, secret, downwardAPI and projected
 * (configMap + secret + downwardAPI sources), written like the kubelet's atomic writer: the files
 * live in a timestamped directory "..<ts>", "..data" is a symlink to it swapped atomically on a
 * change, and each top-level entry is a symlink through "..data" (live updates without
 * remounting). Volumes live under <pod_dir>/volumes/<name>, inside the sandbox directory, so the
 * runtime's sandbox removal (umount below + rm -rf) cleans them up.
 *
 * The pure part (volumes_projection_build: which files with which content and mode) is
 * unit-tested in tests/unit/kubelet/test-volumes.c; volumes_setup does the I/O. */
#pragma once
#include <jansson.h>
#include <stdbool.h>

#include "common/error.h"
#include "kubelet/runtime.h"
#include "kubelet/status.h"

struct kclient;

/* GET a ConfigMap ("configmap") or Secret ("secret") ns/name and return its data as a new
 * object {key: value} (binaryData and secret values base64-decoded; values may hold NULs, use
 * json_string_length). -ENOENT with the kubelet's message `configmap "name" not found`;
 * other errors from the API. */
int volumes_source_get(struct kclient *kc, const char *ns, const char *kind, const char *name,
                       json_t **ret, struct error *err);

/* Decode standard padded base64 (whitespace ignored). -EINVAL on bad input. *ret NUL-terminated,
 * *ret_len its length. */
int volumes_b64_decode(const char *in, size_t len, char **ret, size_t *ret_len);

/* Pure: the files of a configMap / secret / downwardAPI / projected volume (vol is the
 * pod.spec.volumes entry). *ret is a new object {relative path: {"data": s, "mode": n}}.
 * Returns 0, 1 when the volume is optional and a source is missing (ret holds what exists),
 * or -ENOENT with the kubelet's message (`configmap "y" not found`, `configmap references
 * non-existent config key: k`) / -EINVAL for a bad item path. Non-projection volumes: -ENOTSUP. */
int volumes_projection_build(json_t *pod, json_t *vol, const struct kubelet_env_source *src,
                             const char *pod_ip, const char *host_ip, json_t **ret,
                             struct error *err);

/* Pure: whether a relative item path is acceptable (no "..", not absolute, not empty). */
bool volumes_path_ok(const char *path);

/* Set up (or refresh: projections are rewritten when their content changed) every volume of
 * the pod under <pod_dir>/volumes. Returns 0, or a negative errno with a message naming the
 * volume in the kubelet's FailedMount form: `MountVolume.SetUp failed for volume "x" : ...`. */
int volumes_setup(json_t *pod, const char *pod_dir, const struct kubelet_env_source *src,
                  const char *pod_ip, const char *host_ip, struct error *err);

/* Whether the pod has volumes that change with the API (configMap, secret, projected,
 * downwardAPI): the kubelet refreshes them periodically. */
bool volumes_need_refresh(json_t *pod);

/* The mounts of one container (spec_ctr.volumeMounts, with subPath and readOnly), in order.
 * *ret is an array of *ret_n runtime_mount (strings owned by the array; free with
 * volumes_mounts_free). -EINVAL/-ENOENT with a message for an unknown volume or a bad
 * subPath. */
int volumes_mounts_for(json_t *pod, json_t *spec_ctr, const char *pod_dir,
                       struct runtime_mount **ret, size_t *ret_n, struct error *err);
void volumes_mounts_free(struct runtime_mount *m, size_t n);
