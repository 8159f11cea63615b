/* server.h — the kubelet's HTTPS endpoint (port 10250 by default), served through the h2o
 * adapter (http/server.h) on its own thread:
 *   GET /healthz                                  "ok" (no client certificate needed)
 *   GET /containerLogs/NS/POD/CONTAINER           CRI log of the container, rendered by logs.h;
 *       ?tailLines=N&timestamps=true&limitBytes=N&sinceSeconds=N&sinceTime=RFC3339&previous=true
 *       &follow=true (streams new lines, 100 ms polling, until the container stops)
 *   GET|POST /exec/NS/POD/CONTAINER, /attach/NS/POD/CONTAINER   exec.h (WebSocket or SPDY)
 *   POST /portForward/NS/POD                      portforward.h (SPDY)
 * Everything but /healthz requires a client certificate verified against client_ca_file (the
 * API server presents kubelet-client.crt): 401 otherwise. */
#pragma once
#include "common/error.h"
#include "kubelet/eviction.h"
#include "kubelet/podsync.h"

struct kubelet_server;

struct kubelet_server_config {
        const char *bind_address; /* NULL = all */
        int port;
        const char *cert_file, *key_file; /* NULL cert_file: plain HTTP (tests only) */
        const char *client_ca_file;
        struct podsync *ps;  /* borrowed; must outlive the server */
        struct eviction *ev; /* stats snapshots (borrowed); NULL: /stats answers 503 */
        const char *node_name;
};

/* Start the server thread. If the certificate files do not exist yet, the thread retries every
 * 2 s until they do. Errors: -EINVAL bad config. */
int kubelet_server_start(const struct kubelet_server_config *cfg, struct kubelet_server **ret,
                         struct error *err);
void kubelet_server_stop(struct kubelet_server *s);
