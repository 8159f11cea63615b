/* exec.h — the kubelet's exec and attach endpoints (kubectl exec / attach / cp, proxied by the
 * API server):
 *   GET|POST /exec/NS/POD/CONTAINER?command=X&command=Y&input=1&output=1&error=1&tty=1
 *   GET|POST /attach/NS/POD/CONTAINER?input=1&output=1&error=1&tty=1
 * Either protocol kubectl speaks:
 *   - WebSocket, Sec-WebSocket-Protocol v5.channel.k8s.io / v4.channel.k8s.io (channel byte:
 *     0 stdin, 1 stdout, 2 stderr, 3 status JSON, 4 resize JSON, 255 close (v5));
 *   - SPDY/3.1 upgrade, X-Stream-Protocol-Version v4.channel.k8s.io (streams with a streamType
 *     header: error, stdin, stdout, stderr, resize).
 * exec runs "<runtime> exec [ID] cmd..." with pipes, or with a pty whose slave becomes the
 * process's controlling terminal for tty (resize -> TIOCSWINSZ on the master). The exit code is
 * reported as Kubernetes does: Status Success, or Failure/NonZeroExitCode with an ExitCode cause.
 * attach connects to conmon's attach socket of the container (see exec.c). */
#pragma once
#include "http/server.h"
#include "kubelet/podsync.h"

/* Serve one request; rest is "NS/POD/CONTAINER" (after "/exec/" or "/attach/"). Responds. */
void kubelet_exec_serve(struct http_req *req, struct podsync *ps, const char *rest, bool attach);

/* ---- pure helpers (unit-tested) ---- */

/* The Status JSON written on the status/error channel for an exit code (0: Success). Caller
 * frees. cmd (NULL-terminated, may be NULL) appears in the message. */
char *kubelet_exec_status_json(int exit_code, const char *const *cmd);
/* Parse a resize message {"Width":W,"Height":H}. -EINVAL if malformed. */
int kubelet_exec_parse_resize(const char *data, size_t len, unsigned *ret_w, unsigned *ret_h);
/* Every value of query parameter name in a raw query string, decoded, NULL-terminated (caller
 * frees with strv_free). */
char **kubelet_query_all(const char *raw_query, const char *name);
/* Split "NS/POD/CONTAINER" (ctr may be NULL: then "NS/POD"); false if malformed. */
bool kubelet_split_target(const char *rest, char *ns, size_t ns_size, char *pod, size_t pod_size,
                          char *ctr, size_t ctr_size);
