/* images.h — the node's local image store: import `docker save` / OCI archive tarballs, list,
 * remove, and resolve a reference to unpacked layer directories for the runtime.
 *
 * Store layout (images_dir is DATA/agent/images):
 *   images_dir/blobs/sha256/<hex>    content-addressed blobs (config, manifest, layer tarballs
 *                                    compressed or not as given), shared between images
 *   images_dir/layers/<diffid-hex>/  each layer unpacked on its own, with OCI whiteouts turned
 *                                    into overlayfs whiteouts (char device 0:0, and the xattr
 *                                    trusted.overlay.opaque="y"), usable as an overlay lowerdir
 *   images_dir/index.json            {"version":1,
 *                                     "images":{"sha256:<config>":{"manifest":"sha256:..",
 *                                        "manifests":["sha256:..",..],
 *                                        "layers":["<diffid hex>",..],"blobs":["<hex>",..],
 *                                        "size":N,"created":".."}},
 *                                     "names":{"docker.io/library/busybox:1.36":"sha256:<config>"}}
 *   images_dir/.lock                 flock()ed while the index is read-modified-written
 *   images_dir/tmp/                  per-import temp dirs (renamed into place, removed on error)
 *
 * Writers (import, remove) take the lock; readers (resolve, list) read index.json, which is
 * replaced atomically (write temp + rename), so they never see a half-written index. Layers and
 * blobs are written to tmp/ and renamed into place before the index names them.
 *
 * All functions are thread-safe (no global state, no chdir). They return 0 or a negative errno
 * with a message in err (caller-owned, may be NULL):
 *   -EINVAL  invalid reference / bad argument
 *   -ENOENT  image (or file) not found
 *   -EPROTO  the archive is not an image, is truncated, or a digest does not match
 *   -E2BIG   the archive exceeds a cap (entries, manifest/config size)
 *   -EIO and other errno   the filesystem failed */
#pragma once
#include "common/error.h"

#include <stddef.h>
#include <stdint.h>

/* ---- references ---- */

/* A normalized reference, as Docker/containerd do it:
 *   "busybox"                      -> name "docker.io/library/busybox", tag "latest"
 *   "busybox:1.36", "library/busybox:1.36", "docker.io/library/busybox:1.36"
 *                                  -> name "docker.io/library/busybox", tag "1.36"
 *   "localhost:5000/x/y:tag"       -> name "localhost:5000/x/y", tag "tag"
 *   "busybox@sha256:<64 hex>"      -> name "docker.io/library/busybox", tag NULL, digest set
 *   "busybox:1.36@sha256:<hex>"    -> both tag and digest set */
struct image_ref {
        char *name;   /* registry/path, always with a registry domain */
        char *tag;    /* NULL when only a digest was given */
        char *digest; /* "sha256:<64 lowercase hex>" or NULL */
};

/* Parse and normalize ref into *ret (fields owned by ret; free with image_ref_clear).
 * -EINVAL with a message for an invalid reference (upper case in the path, empty components,
 * bad tag, bad digest, longer than 255 characters for the name). */
int images_ref_parse(const char *ref, struct image_ref *ret, struct error *err);
void image_ref_clear(struct image_ref *r);
/* "name:tag" (tag defaults to latest when neither tag nor digest) or "name@digest"; new string. */
char *images_ref_format(const struct image_ref *r);

/* ---- resolve (used by the kubelet) ---- */

struct image_info {
        char *id;          /* "sha256:<config digest hex>" */
        char *name;        /* the normalized name the ref resolved through ("repo:tag"), or the
                              ref as given when it was resolved by digest/id */
        char **layer_dirs; /* NULL-terminated, lowest layer first, absolute paths of unpacked
                              directories usable as overlay lowerdirs (overlay wants them
                              highest first: reverse when building lowerdir=) */
        char **env;        /* config Env, NULL-terminated ("K=V"); never NULL */
        char **entrypoint; /* config Entrypoint, NULL-terminated, or NULL if unset */
        char **cmd;        /* config Cmd, NULL-terminated, or NULL if unset */
        char *working_dir; /* config WorkingDir or NULL */
        char *user;        /* config User or NULL */
};

/* Resolve ref (any form accepted by images_ref_parse; also "sha256:<hex>" or a >= 12-character
 * hex prefix of an image id) in the store at images_dir. On success fills *ret (owned by the
 * caller; free with image_info_clear). -ENOENT if no such image (message names the ref),
 * -EINVAL for an invalid ref, -EPROTO if the store is corrupt (config blob unreadable). */
int images_resolve(const char *images_dir, const char *ref, struct image_info *ret,
                   struct error *err);
void image_info_clear(struct image_info *info);

/* ---- import / list / remove (used by `timonel image`) ---- */

/* Caps enforced on every archive. */
#define IMAGES_MAX_ENTRIES 100000          /* entries in the outer archive and in each layer */
#define IMAGES_MAX_JSON (4u * 1024 * 1024) /* manifest.json, index.json, manifests, configs */
#define IMAGES_MAX_IMAGES 256              /* images in one archive */

/* Import the docker-save or OCI archive at path (plain tar, or gzip/zstd/xz compressed; the
 * format is detected). Every blob is checked against its sha256 name and every layer's diffid
 * against the config. Names found in the archive (docker: RepoTags; OCI: annotations
 * io.containerd.image.name, or org.opencontainers.image.ref.name — a bare tag like "1.36" is
 * completed with default_name's repository if given) are normalized and point to the image,
 * replacing older mappings. An image without any name is stored and reachable by id/digest.
 * On success *ret_names (if not NULL) is a NULL-terminated list of the "name:tag" strings (or
 * "sha256:<config>" for unnamed images) imported; free with images_strv_free.
 * On any error, the store is left exactly as it was (no new blobs, layers, names). */
int images_import(const char *images_dir, const char *path, const char *default_name,
                  char ***ret_names, struct error *err);
/* The same from memory (fuzzing, tests). */
int images_import_buffer(const char *images_dir, const void *data, size_t len,
                         const char *default_name, char ***ret_names, struct error *err);

struct image_entry {
        char *name;    /* "docker.io/library/busybox:1.36", or NULL for an unnamed image */
        char *id;      /* "sha256:<config hex>" */
        char *digest;  /* manifest digest "sha256:<hex>" */
        uint64_t size; /* bytes of the image's blobs (config + manifest + layer blobs as stored) */
};

/* List the store: one entry per name (plus one per unnamed image), sorted by name. *ret is an
 * array of *ret_n entries (free with images_list_free). An absent store is an empty list. */
int images_list(const char *images_dir, struct image_entry **ret, size_t *ret_n, struct error *err);
void images_list_free(struct image_entry *list, size_t n);

/* Remove ref: a name removes that name; a digest or id removes the image with all its names.
 * Blobs and layer directories no image references any more are deleted. The caller must make
 * sure no container still uses those layers. -ENOENT if nothing matches. */
int images_remove(const char *images_dir, const char *ref, struct error *err);

void images_strv_free(char **v);
