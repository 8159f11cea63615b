/* events.c — events.k8s.io/v1 <-> core/v1 Event conversion (see events.h). */
#include "api/events.h"

#include "common/base.h"

/* events.k8s.io/v1 field -> core/v1 field; the others keep their names. */
static const char *const renames[][2] = {
        {"regarding", "involvedObject"},
        {"note", "message"},
        {"reportingController", "reportingComponent"},
        {"deprecatedSource", "source"},
        {"deprecatedFirstTimestamp", "firstTimestamp"},
        {"deprecatedLastTimestamp", "lastTimestamp"},
        {"deprecatedCount", "count"},
};

static json_t *convert(const json_t *in, int from, const char *api_version)
{
        json_t *out = json_object();
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)in, k, v)
        {
                const char *name = k;
                for (size_t i = 0; i < ARRAY_SIZE(renames); i++)
                        if (!strcmp(k, renames[i][from]))
                                name = renames[i][!from];
                json_object_set(out, name, v);
        }
        json_object_set_new(out, "kind", json_string("Event"));
        json_object_set_new(out, "apiVersion", json_string(api_version));
        return out;
}

json_t *events_to_core(const json_t *ev)
{
        return convert(ev, 0, "v1");
}

json_t *events_from_core(const json_t *core)
{
        return convert(core, 1, "events.k8s.io/v1");
}
