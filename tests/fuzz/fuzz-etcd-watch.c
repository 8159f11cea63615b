/* fuzz-etcd-watch.c — the etcd backend's /v3/watch stream decoder (store-etcd.c): base64 keys and
 * values, int64-as-string revisions, created/canceled/progress responses. Checks the contract
 * the watchers rely on: revisions never decrease (one transaction may give several events of
 * one revision) and start after from_rev, keys match the prefix, an ERROR event is the last one.
 * Input: the stream body, fed in pieces of (first byte + 1) bytes. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-internal.h"

struct seen {
        int64_t last_rev;
        bool ended;
};

static void on_event(const struct store_event *ev, void *ud)
{
        struct seen *s = ud;
        assert(!s->ended);
        assert(ev->key && ev->value);
        if (ev->type == STORE_EVENT_ERROR) {
                assert(ev->error == -ERANGE);
                s->ended = true;
                return;
        }
        assert(ev->type == STORE_EVENT_PUT || ev->type == STORE_EVENT_DELETE);
        assert(ev->rev > 5 && ev->rev >= s->last_rev);
        assert(strncmp(ev->key, "/r/", 3) == 0);
        assert(ev->prev_value || ev->prev_len == 0);
        s->last_rev = ev->rev;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 1 << 20)
                return 0;
        struct seen s = {.last_rev = 5};
        size_t chunk = size ? (size_t)data[0] + 1 : 0;
        int r = store_etcd_watch_feed("/r/", 5, (const char *)data, size, chunk, on_event, &s);
        assert(r == 0 || r == 1 || r == -EAGAIN || r == -E2BIG);
        assert(!s.ended || r == 1);
        return 0;
}
