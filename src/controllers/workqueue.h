/* workqueue.h — a keyed work queue with delays and per-key rate-limited requeue, in the spirit of
 * client-go's workqueue: a key is queued at most once (adding a queued key keeps the earlier due
 * time), a key handed out by workqueue_get is "processing" and is not handed out again until
 * workqueue_done (adds during processing are remembered and queued on done).
 *
 * Threads: every function is thread-safe. */
#pragma once
#include <stdint.h>

#include "common/base.h"

#define WORKQUEUE_BACKOFF_MIN_MS 100
#define WORKQUEUE_BACKOFF_MAX_MS 60000

struct workqueue;

struct workqueue *workqueue_new(void);
/* Frees everything; no call may be running. NULL is a no-op. */
void workqueue_free(struct workqueue *q);

/* Queue key now / after delay_ms. */
void workqueue_add(struct workqueue *q, const char *key);
void workqueue_add_after(struct workqueue *q, const char *key, int64_t delay_ms);
/* Queue key after its backoff (100 ms doubling per failure to 60 s). */
void workqueue_add_rate_limited(struct workqueue *q, const char *key);
/* Reset key's failure count (a successful sync). */
void workqueue_forget(struct workqueue *q, const char *key);
/* Failures recorded for key since the last forget. */
int workqueue_failures(struct workqueue *q, const char *key);

/* Wait up to timeout_ms for a due key; returns it (caller frees, then calls workqueue_done) or
 * NULL on timeout or shutdown. */
char *workqueue_get(struct workqueue *q, int timeout_ms);
void workqueue_done(struct workqueue *q, const char *key);
/* Wake every waiter; later gets return NULL at once. */
void workqueue_shutdown(struct workqueue *q);
/* Keys queued (due or not), for tests. */
size_t workqueue_len(struct workqueue *q);

/* Monotonic milliseconds. */
int64_t workqueue_now_ms(void);
