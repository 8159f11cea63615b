/* spdyconn.h — the kubelet's side of a SPDY/3.1 connection (http/spdy.h codec over an upgraded
 * http/upgrade.h connection) for exec/attach/port-forward: the client opens streams, we reply,
 * then both sides send DATA. Loop thread only. PINGs are answered here. */
#pragma once
#include "http/server.h"
#include "http/spdy.h"

struct kspdy;

struct kspdy_ops {
        /* A new stream from the client (syn's headers borrowed for the call). Reply with
         * kspdy_reply() (or kspdy_rst()). */
        void (*on_stream)(void *ud, uint32_t id, const struct spdy_frame *syn);
        void (*on_data)(void *ud, uint32_t id, const uint8_t *data, size_t len);
        /* The client half-closed stream id (FIN). */
        void (*on_fin)(void *ud, uint32_t id);
        /* The client reset stream id. */
        void (*on_reset)(void *ud, uint32_t id);
        /* The connection is gone (peer closed, protocol error, kspdy_close done, server stop);
         * called once, never inside a kspdy_* call. The struct kspdy is gone after it. */
        void (*on_close)(void *ud);
};

/* Answer r with 101 (Upgrade: SPDY/3.1, X-Stream-Protocol-Version: version if not NULL) and
 * run the connection. NULL if r cannot be upgraded (h2): respond yourself. */
struct kspdy *kspdy_upgrade(struct http_req *r, const char *version, const struct kspdy_ops *ops,
                            void *ud);
void kspdy_reply(struct kspdy *k, uint32_t id, bool fin);
void kspdy_data(struct kspdy *k, uint32_t id, const void *data, size_t len, bool fin);
void kspdy_rst(struct kspdy *k, uint32_t id, uint32_t status);
/* Bytes queued for the client and not yet written. */
size_t kspdy_pending(struct kspdy *k);
/* Stop/resume reading from the client (back-pressure). */
void kspdy_pause(struct kspdy *k, bool paused);
/* GOAWAY, then close once everything queued is written. */
void kspdy_close(struct kspdy *k);

/* Pick from a client's X-Stream-Protocol-Version list (comma-separated, possibly repeated) the
 * first of ours (NULL-terminated, in preference order) it offers; NULL if none. Pure. */
const char *kspdy_pick_version(const char *offered, const char *const *ours);
