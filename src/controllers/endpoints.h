/* endpoints.h — pure parts of the Endpoints (endpoints.c) and EndpointSlice (endpointslice.c)
 * controllers: which pods back a Service, their ports (a named targetPort resolved per pod, as
 * podutil.FindPort), Endpoints subsets (repacked by port set) and EndpointSlice contents
 * (ready/serving/terminating, at most max endpoints per slice). JSON in, new JSON out.
 * Unit-tested in tests/unit/controllers/test-endpoints.c. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define ENDPOINTS_MANAGED_BY "endpointslice-controller.k8s.io"
#define ENDPOINTS_LABEL_SERVICE_NAME "kubernetes.io/service-name"
#define ENDPOINTS_LABEL_MANAGED_BY "endpointslice.kubernetes.io/managed-by"
#define ENDPOINTS_LABEL_HEADLESS "service.kubernetes.io/headless"
#define ENDPOINTS_ANN_TRIGGER "endpoints.kubernetes.io/last-change-trigger-time"
#define ENDPOINTSLICE_MAX 100

/* Whether svc selects pods at all (a non-empty spec.selector; services without one have
 * user-managed endpoints). */
bool endpoints_service_has_selector(const json_t *svc);
/* Whether pod belongs in svc's endpoints: same namespace, labels match spec.selector, has a
 * podIP, not in a terminal phase; with include_terminating false also not being deleted unless
 * svc publishes not-ready addresses (ShouldPodBeInEndpoints). */
bool endpoints_pod_selected(const json_t *svc, const json_t *pod, bool include_terminating);
/* The container port of pod that service port sp targets (targetPort number, or the named
 * container port with sp's protocol, or sp.port when targetPort is unset); -1 if a named port
 * is not found. */
int endpoints_port_resolve(const json_t *pod, const json_t *sp);

/* Endpoints.subsets for svc over pods (any array; the selected ones are used): addresses of
 * ready pods (or all, with publishNotReadyAddresses) and notReadyAddresses, grouped by their
 * resolved port sets, sorted by IP; a headless service without ports gets port-less subsets.
 * Empty array when nothing is selected. */
json_t *endpoints_subsets_build(const json_t *svc, const json_t *pods);

/* EndpointSlice contents for svc: an array of {"ports": [...], "endpoints": [...]} with at
 * most max endpoints each, grouped by port set, endpoints in pod-name order; each endpoint has
 * addresses [ip], conditions {ready, serving, terminating}, nodeName, targetRef and hostname
 * (when the pod sets hostname and its subdomain is the service). Terminating pods are
 * included (ready false). One empty group (endpoints [], ports null) when nothing is selected:
 * the controller keeps a placeholder slice, as Kubernetes does. */
json_t *endpoints_slices_build(const json_t *svc, const json_t *pods, size_t max);

/* The newest time a selected pod or svc changed (creationTimestamp, Ready transition,
 * deletionTimestamp) as RFC 3339, for the last-change-trigger-time annotation; NULL if none
 * (caller frees). */
char *endpoints_trigger_time(const json_t *svc, const json_t *pods);
