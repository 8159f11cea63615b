/* client.h — the Kubernetes API client ("kclient"): JSON in and out over HTTPS (http/client.h).
 *
 * Threads: a kclient is NOT thread-safe; create one per thread (they are cheap, each keeps one
 * keep-alive connection).
 *
 * Errors: every call returns 0 on a 2xx answer and otherwise a negative errno decided by the HTTP
 * status and the Status object's `reason`:
 *   404 -> -ENOENT, 409 reason AlreadyExists -> -EEXIST, 409 otherwise (Conflict) -> -ESTALE,
 *   400/422 -> -EINVAL, 401/403 -> -EACCES, 410 -> -ERANGE, 5xx -> -EIO, other 4xx -> -EPROTO,
 *   transport: -ETIMEDOUT, -ECONNREFUSED, -EPROTO (TLS), -EIO;
 * with the Status `message` (or the raw body) in err. A 2xx body that is not JSON is -EPROTO. */
#pragma once
#include <jansson.h>

#include "common/base.h"
#include "common/error.h"

#define KCLIENT_MAX_EVENT (16u << 20) /* cap for one watch event line -> -E2BIG */

struct kclient;

/* User-Agents of the in-process components, shaped as Kubernetes' own: the API server records
 * their writes in managedFields under the part before the first '/'. */
#define KCLIENT_AGENT_SUFFIX "/v1.31.0 (linux/amd64) timonel"
#define KCLIENT_AGENT_CONTROLLERS "kube-controller-manager" KCLIENT_AGENT_SUFFIX
#define KCLIENT_AGENT_SCHEDULER "kube-scheduler" KCLIENT_AGENT_SUFFIX
#define KCLIENT_AGENT_KUBELET "kubelet" KCLIENT_AGENT_SUFFIX
#define KCLIENT_AGENT_FAKE_NODE "timonel-fake-node" KCLIENT_AGENT_SUFFIX

/* Client for the current-context of the kubeconfig at path (client/kubeconfig.h). */
int kclient_from_kubeconfig(const char *path, struct kclient **ret, struct error *err);
/* The same, sending user_agent (NULL: "timonel/0.1"). */
int kclient_from_kubeconfig_as(const char *path, const char *user_agent, struct kclient **ret,
                               struct error *err);
/* Client for server_url ("https://127.0.0.1:6443"); every other argument may be NULL. */
int kclient_new(const char *server_url, const char *ca_file, const char *cert_file,
                const char *key_file, const char *bearer_token, struct kclient **ret,
                struct error *err);
void kclient_free(struct kclient *c);
static inline void kclient_freep(struct kclient **c)
{
        if (*c)
                kclient_free(*c);
}

/* The server URL (borrowed, without trailing slash). */
const char *kclient_server(const struct kclient *c);

/* Cancel hook for long calls (watch): see http_client_set_cancel(); a cancelled call returns
 * -ECANCELED. */
void kclient_set_cancel(struct kclient *c, int (*fn)(void *ud), void *ud);

/* JSON calls; path is absolute ("/api/v1/namespaces/default/pods/x"), may contain a query.
 * Return 0 and *ret (new reference, may be NULL for no body; ret itself may be NULL to discard)
 * on 2xx; errors as above. obj/patch/options are borrowed. */
int kclient_get(struct kclient *c, const char *path, json_t **ret, struct error *err);
int kclient_create(struct kclient *c, const char *path, json_t *obj, json_t **ret,
                   struct error *err);
int kclient_update(struct kclient *c, const char *path, json_t *obj, json_t **ret,
                   struct error *err);
/* patch_type: "merge" | "strategic" | "json" (application/<x>-patch+json), "apply"
 * (apply-patch+yaml, body sent as JSON which is valid YAML). */
int kclient_patch(struct kclient *c, const char *path, const char *patch_type, json_t *patch,
                  json_t **ret, struct error *err);
/* options (DeleteOptions) may be NULL. */
int kclient_delete(struct kclient *c, const char *path, json_t *options, json_t **ret,
                   struct error *err);

/* Blocking watch: GET path (must include ?watch=true&resourceVersion=..); fn per event with type
 * "ADDED"/"MODIFIED"/"DELETED"/"BOOKMARK"/"ERROR" and the object (borrowed: json_incref to keep).
 * Events are newline-delimited JSON, reassembled across chunks; an event over KCLIENT_MAX_EVENT
 * is -E2BIG, an unparsable line -EPROTO. Returns when fn returns non-zero (returns that value),
 * when the server ends the stream (0), or on error (negative errno; a non-2xx answer maps like
 * the JSON calls). */
int kclient_watch(struct kclient *c, const char *path,
                  int (*fn)(const char *type, json_t *obj, void *ud), void *ud, struct error *err);

/* Raw streaming GET (pod logs with follow=true, ...): fn gets body bytes (borrowed) as they
 * arrive; returns like kclient_watch. */
int kclient_stream(struct kclient *c, const char *path,
                   int (*fn)(const char *data, size_t len, void *ud), void *ud, struct error *err);

/* Raw request for callers that need non-JSON bodies or the status itself. body may be NULL.
 * Returns 0 with *ret_status and *ret_body (malloc'd, NUL-terminated) for ANY status; only
 * transport failures are errors. */
int kclient_request(struct kclient *c, const char *method, const char *path,
                    const char *content_type, const char *body, size_t len, long *ret_status,
                    char **ret_body, size_t *ret_len, struct error *err);

/* Map an HTTP status + response body (a Status object or anything) to the errno above, with the
 * message in err. Returns 0 for 2xx. Pure; exposed for tests and for callers of
 * kclient_request. */
int kclient_status_to_errno(long status, const char *body, size_t len, struct error *err);
