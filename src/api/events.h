/* events.h — events.k8s.io/v1 Event <-> core/v1 Event (one storage, the core form), as
 * k8s.io/kubernetes pkg/apis/events/v1 conversion does. Pure. */
#pragma once
#include <jansson.h>

/* core/v1 form of an events.k8s.io/v1 Event (new reference; kind/apiVersion core). */
json_t *events_to_core(const json_t *ev);
/* events.k8s.io/v1 form of a stored core/v1 Event (new reference). */
json_t *events_from_core(const json_t *core);
