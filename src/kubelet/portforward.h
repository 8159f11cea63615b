/* portforward.h — the kubelet's port-forward endpoint (kubectl port-forward, proxied by the API
 * server): POST|GET /portForward/NS/POD with "Upgrade: SPDY/3.1" and X-Stream-Protocol-Version
 * portforward.k8s.io. For each forwarded connection the client opens an error stream and a data
 * stream (headers streamType, port, requestID); we connect to 127.0.0.1:port inside the pod's
 * network namespace (a short-lived helper thread does setns + socket + connect) and relay the data
 * stream to the socket both ways. A failure is written as text on the error stream.
 * Also the WebSocket protocol (GET ?ports=A,B, Sec-WebSocket-Protocol v4.channel.k8s.io, what the
 * Python client speaks): port i on channels 2i (data) and 2i+1 (errors), each opened with the port
 * as 2 bytes little-endian; one connection per port for the WebSocket's life. */
#pragma once
#include "http/server.h"
#include "kubelet/podsync.h"

/* Serve one request; rest is "NS/POD". Responds. */
void kubelet_portforward_serve(struct http_req *req, struct podsync *ps, const char *rest);

/* Connect to 127.0.0.1:port inside the network namespace at netns_path (NULL = ours). Returns a
 * connected TCP socket (O_CLOEXEC) or negative errno. Blocks for the connect (loopback). */
int kubelet_portforward_connect(const char *netns_path, int port, struct error *err);
