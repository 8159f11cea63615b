/* table.c — Table printers (see table.h). */
#include "apiserver/table.h"

#include <stdio.h>

#include "api/crd.h"
#include "api/labels.h"
#include "api/quantity.h"
#include "common/kjson.h"
#include "common/timefmt.h"

struct col {
        const char *name, *type, *format, *description;
        int priority;
};

#define NAME_COL                                                                                   \
        {                                                                                          \
                "Name", "string", "name", "Name must be unique within a namespace.", 0             \
        }
#define AGE_COL                                                                                    \
        {                                                                                          \
                "Age", "string", "",                                                               \
                        "CreationTimestamp is a timestamp representing the server time when this " \
                        "object was "                                                              \
                        "created.",                                                                \
                        0                                                                          \
        }

static const struct col cols_pod[] = {
        NAME_COL,
        {"Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic.",
         0},
        {"Status", "string", "", "The aggregate status of the containers in this pod.", 0},
        {"Restarts", "string", "",
         "The number of times the containers in this pod have been restarted and when the last "
         "container in this pod has restarted.",
         0},
        AGE_COL,
        {"IP", "string", "",
         "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet "
         "allocated.",
         1},
        {"Node", "string", "", "NodeName is a request to schedule this pod onto a specific node.",
         1},
        {"Nominated Node", "string", "",
         "nominatedNodeName is set only when this pod preempts other pods on the node.", 1},
        {"Readiness Gates", "string", "",
         "If specified, all readiness gates will be evaluated for pod readiness.", 1},
        {NULL, NULL, NULL, NULL, 0},
};
static const struct col cols_node[] = {
        NAME_COL,
        {"Status", "string", "", "The status of the node", 0},
        {"Roles", "string", "", "The roles of the node", 0},
        AGE_COL,
        {"Version", "string", "", "Kubelet Version reported by the node.", 0},
        {"Internal-IP", "string", "",
         "List of addresses reachable to the node. Queried from cloud provider, if available.", 1},
        {"External-IP", "string", "",
         "List of addresses reachable to the node. Queried from cloud provider, if available.", 1},
        {"OS-Image", "string", "",
         "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
         1},
        {"Kernel-Version", "string", "",
         "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1},
        {"Container-Runtime", "string", "",
         "ContainerRuntime Version reported by the node through runtime remote API (e.g. "
         "containerd://1.4.2).",
         1},
        {NULL, NULL, NULL, NULL, 0},
};
static const struct col cols_ns[] = {
        NAME_COL,
        {"Status", "string", "", "The status of the namespace", 0},
        AGE_COL,
        {NULL, NULL, NULL, NULL, 0},
};
static const struct col cols_event[] = {
        {"Last Seen", "string", "", "", 0},
        {"Type", "string", "",
         "Type of this event (Normal, Warning), new types could be added in the future", 0},
        {"Reason", "string", "",
         "This should be a short, machine understandable string that gives the reason for the "
         "transition into the object's current status.",
         0},
        {"Object", "string", "", "The object that this event is about.", 0},
        {"Subobject", "string", "", "", 1},
        {"Source", "string", "",
         "The component reporting this event. Should be a short machine understandable string.", 1},
        {"Message", "string", "", "A human-readable description of the status of this operation.",
         0},
        {"First Seen", "string", "",
         "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)",
         1},
        {"Count", "string", "", "The number of times this event has occurred.", 1},
        {"Name", "string", "name", "Name must be unique within a namespace.", 1},
        {NULL, NULL, NULL, NULL, 0},
};
static const struct col cols_cm[] = {
        NAME_COL,
        {"Data", "integer", "", "Data contains the configuration data.", 0},
        AGE_COL,
        {NULL, NULL, NULL, NULL, 0},
};
static const struct col cols_secret[] = {
        NAME_COL,
        {"Type", "string", "", "Used to facilitate programmatic handling of secret data.", 0},
        {"Data", "integer", "", "Data contains the secret data.", 0},
        AGE_COL,
        {NULL, NULL, NULL, NULL, 0},
};
static const struct col cols_sa[] = {
        NAME_COL,
        {"Secrets", "integer", "",
         "Secrets is a list of the secrets in the same namespace that pods running using this "
         "ServiceAccount are allowed to use.",
         0},
        AGE_COL,
        {NULL, NULL, NULL, NULL, 0},
};
static const struct col cols_svc[] = {
        NAME_COL,
        {"Type", "string", "", "type determines how the Service is exposed.", 0},
        {"Cluster-IP", "string", "", "clusterIP is the IP address of the service.", 0},
        {"External-IP", "string", "",
         "externalIPs is a list of IP addresses for which nodes in the cluster will also accept "
         "traffic for this service.",
         0},
        {"Port(s)", "string", "", "The list of ports that are exposed by this service.", 0},
        AGE_COL,
        {"Selector", "string", "",
         "Route service traffic to pods with label keys and values matching this selector.", 1},
        {NULL, NULL, NULL, NULL, 0},
};
static const struct col cols_ep[] = {
        NAME_COL,
        {"Endpoints", "string", "", "Endpoints is the list of endpoints.", 0},
        AGE_COL,
        {NULL, NULL, NULL, NULL, 0},
};
static const struct col cols_lease[] = {
        NAME_COL,
        {"Holder", "string", "", "The holder of the lease.", 0},
        AGE_COL,
        {NULL, NULL, NULL, NULL, 0},
};
#define CONTAINERS_COL                                                                             \
        {                                                                                          \
                "Containers", "string", "", "Names of each container in the template.", 1          \
        }
#define IMAGES_COL                                                                                 \
        {                                                                                          \
                "Images", "string", "", "Images referenced by each container in the template.", 1  \
        }
#define SELECTOR_COL(d)                                                                            \
        {                                                                                          \
                "Selector", "string", "", d, 1                                                     \
        }
#define END_COL                                                                                    \
        {                                                                                          \
                NULL, NULL, NULL, NULL, 0                                                          \
        }
#define LABEL_SELECTOR_DESC                                                                        \
        "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be "   \
        "the ones affected by this deployment. It must match the pod template's labels."

static const struct col cols_deploy[] = {
        NAME_COL,
        {"Ready", "string", "", "Number of the pod with ready state", 0},
        {"Up-to-date", "string", "",
         "Total number of non-terminated pods targeted by this deployment that have the desired "
         "template spec.",
         0},
        {"Available", "string", "",
         "Total number of available pods (ready for at least minReadySeconds) targeted by this "
         "deployment.",
         0},
        AGE_COL,
        CONTAINERS_COL,
        IMAGES_COL,
        SELECTOR_COL(LABEL_SELECTOR_DESC),
        END_COL,
};
static const struct col cols_rs[] = {
        NAME_COL,
        {"Desired", "integer", "",
         "Replicas is the number of desired replicas. This is a pointer to distinguish between "
         "explicit zero and unspecified. Defaults to 1.",
         0},
        {"Current", "integer", "", "Replicas is the most recently observed number of replicas.", 0},
        {"Ready", "integer", "", "The number of ready replicas for this replica set.", 0},
        AGE_COL,
        CONTAINERS_COL,
        IMAGES_COL,
        SELECTOR_COL("Selector is a label query over pods that should match the replica count."),
        END_COL,
};
static const struct col cols_rc[] = {
        NAME_COL,
        {"Desired", "integer", "",
         "Replicas is the number of desired replicas. This is a pointer to distinguish between "
         "explicit zero and unspecified. Defaults to 1.",
         0},
        {"Current", "integer", "", "Replicas is the most recently observed number of replicas.", 0},
        {"Ready", "integer", "", "The number of ready replicas for this replication controller.",
         0},
        AGE_COL,
        CONTAINERS_COL,
        IMAGES_COL,
        SELECTOR_COL("Selector is a label query over pods that should match the Replicas count."),
        END_COL,
};
static const struct col cols_sts[] = {
        NAME_COL,   {"Ready", "string", "", "Number of the pod with ready state", 0},
        AGE_COL,    CONTAINERS_COL,
        IMAGES_COL, END_COL,
};
static const struct col cols_ds[] = {
        NAME_COL,
        {"Desired", "integer", "",
         "The total number of nodes that should be running the daemon pod (including nodes "
         "correctly running the daemon pod).",
         0},
        {"Current", "integer", "",
         "The number of nodes that are running at least 1 daemon pod and are supposed to run "
         "the daemon pod.",
         0},
        {"Ready", "integer", "",
         "The number of nodes that should be running the daemon pod and have one or more of the "
         "daemon pod running and ready.",
         0},
        {"Up-to-date", "integer", "",
         "The total number of nodes that are running updated daemon pod", 0},
        {"Available", "integer", "",
         "The number of nodes that should be running the daemon pod and have one or more of the "
         "daemon pod running and available (ready for at least spec.minReadySeconds)",
         0},
        {"Node Selector", "string", "",
         "NodeSelector is a selector which must be true for the pod to fit on a node.", 0},
        AGE_COL,
        CONTAINERS_COL,
        IMAGES_COL,
        SELECTOR_COL("A label query over pods that are managed by the daemon set."),
        END_COL,
};
static const struct col cols_job[] = {
        NAME_COL,
        {"Status", "string", "", "Status of the job.", 0},
        {"Completions", "string", "", "The number of pods which reached phase Succeeded.", 0},
        {"Duration", "string", "", "Time required to complete the job.", 0},
        AGE_COL,
        CONTAINERS_COL,
        IMAGES_COL,
        SELECTOR_COL("A label query over pods that should match the pod count."),
        END_COL,
};
static const struct col cols_cj[] = {
        NAME_COL,
        {"Schedule", "string", "",
         "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.", 0},
        {"Timezone", "string", "", "The time zone name for the given schedule.", 0},
        {"Suspend", "boolean", "",
         "This flag tells the controller to suspend subsequent executions, it does not apply to "
         "already started executions.  Defaults to false.",
         0},
        {"Active", "integer", "", "A list of pointers to currently running jobs.", 0},
        {"Last Schedule", "string", "",
         "Information when was the last time the job was successfully scheduled.", 0},
        AGE_COL,
        CONTAINERS_COL,
        IMAGES_COL,
        SELECTOR_COL("A label query over pods that should match the pod count."),
        END_COL,
};
static const struct col cols_podtemplate[] = {
        NAME_COL,
        {"Containers", "string", "", "Names of each container in the template.", 0},
        {"Images", "string", "", "Images referenced by each container in the template.", 0},
        {"Pod Labels", "string", "", "The labels for the pod template.", 0},
        END_COL,
};
static const struct col cols_pdb[] = {
        NAME_COL,
        {"Min Available", "string", "", "The minimum number of pods that must be available.", 0},
        {"Max Unavailable", "string", "", "The maximum number of pods that may be unavailable.", 0},
        {"Allowed Disruptions", "integer", "",
         "Calculated number of pods that may be disrupted at this time.", 0},
        AGE_COL,
        END_COL,
};
static const struct col cols_ing[] = {
        NAME_COL,
        {"Class", "string", "",
         "The name of the IngressClass resource that should be used for additional "
         "configuration",
         0},
        {"Hosts", "string", "",
         "Hosts that incoming requests are matched against before the ingress rule", 0},
        {"Address", "string", "",
         "Address is a list containing ingress points for the load-balancer", 0},
        {"Ports", "string", "", "Ports of TLS configurations that open", 0},
        AGE_COL,
        END_COL,
};
static const struct col cols_ingclass[] = {
        NAME_COL,
        {"Controller", "string", "", "Controller that is responsible for handling this class", 0},
        {"Parameters", "string", "", "A reference to a resource with additional parameters", 0},
        AGE_COL,
        END_COL,
};
static const struct col cols_netpol[] = {
        NAME_COL,
        {"Pod-Selector", "string", "",
         "podSelector selects the pods to which this NetworkPolicy object applies.", 0},
        AGE_COL,
        END_COL,
};
static const struct col cols_eps[] = {
        NAME_COL,
        {"AddressType", "string", "",
         "addressType specifies the type of address carried by this EndpointSlice.", 0},
        {"Ports", "string", "",
         "ports specifies the list of network ports exposed by each "
         "endpoint in this slice.",
         0},
        {"Endpoints", "string", "", "endpoints is a list of unique endpoints in this slice.", 0},
        AGE_COL,
        END_COL,
};
static const struct col cols_pv[] = {
        NAME_COL,
        {"Capacity", "string", "",
         "capacity is the description of the persistent volume's resources and capacity.", 0},
        {"Access Modes", "string", "", "accessModes contains all ways the volume can be mounted.",
         0},
        {"Reclaim Policy", "string", "",
         "persistentVolumeReclaimPolicy defines what happens to a persistent volume when "
         "released from its claim.",
         0},
        {"Status", "string", "",
         "phase indicates if a volume is available, bound to a claim, or released by a claim.", 0},
        {"Claim", "string", "",
         "claimRef is part of a bi-directional binding between PersistentVolume and "
         "PersistentVolumeClaim.",
         0},
        {"StorageClass", "string", "", "StorageClass of the pv", 0},
        {"VolumeAttributesClass", "string", "", "VolumeAttributesClass of the pv", 0},
        {"Reason", "string", "",
         "reason is a brief CamelCase string that describes any failure and is meant for "
         "machine parsing and tidy display in the CLI.",
         0},
        AGE_COL,
        {"VolumeMode", "string", "",
         "volumeMode defines if a volume is intended to be used with a formatted filesystem or "
         "to remain in raw block state.",
         1},
        END_COL,
};
static const struct col cols_pvc[] = {
        NAME_COL,
        {"Status", "string", "", "phase represents the current phase of PersistentVolumeClaim.", 0},
        {"Volume", "string", "",
         "volumeName is the binding reference to the PersistentVolume backing this claim.", 0},
        {"Capacity", "string", "",
         "capacity represents the actual resources of the underlying volume.", 0},
        {"Access Modes", "string", "",
         "accessModes contains the actual access modes the volume backing the PVC has.", 0},
        {"StorageClass", "string", "", "StorageClass of the pvc", 0},
        {"VolumeAttributesClass", "string", "", "VolumeAttributesClass of the pvc", 0},
        AGE_COL,
        {"VolumeMode", "string", "",
         "volumeMode defines what type of volume is required by the claim.", 1},
        END_COL,
};
static const struct col cols_quota[] = {
        NAME_COL,
        AGE_COL,
        {"Request", "string", "",
         "Request represents a minimum amount of cpu/memory that a container may consume.", 0},
        {"Limit", "string", "",
         "Limits control the maximum amount of cpu/memory that a container may use independent "
         "of contention on the node.",
         0},
        END_COL,
};
#define BINDING_COLS(what)                                                                         \
        NAME_COL,                                                                                  \
                {"Role", "string", "",                                                             \
                 "RoleRef can reference a Role in the current namespace "                          \
                 "or a ClusterRole in the global namespace.",                                      \
                 0},                                                                               \
                AGE_COL, {"Users", "string", "", "Users in the " what, 1},                         \
                {"Groups", "string", "", "Groups in the " what, 1},                                \
                {"ServiceAccounts", "string", "", "ServiceAccounts in the " what, 1}, END_COL
static const struct col cols_rb[] = {BINDING_COLS("roleBinding")};
static const struct col cols_crb[] = {BINDING_COLS("clusterRoleBinding")};
static const struct col cols_sc[] = {
        NAME_COL,
        {"Provisioner", "string", "", "provisioner indicates the type of the provisioner.", 0},
        {"ReclaimPolicy", "string", "",
         "reclaimPolicy controls the reclaimPolicy for dynamically provisioned "
         "PersistentVolumes of this storage class. Defaults to Delete.",
         0},
        {"VolumeBindingMode", "string", "",
         "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and "
         "bound.  When unset, VolumeBindingImmediate is used.",
         0},
        {"AllowVolumeExpansion", "string", "",
         "allowVolumeExpansion shows whether the storage class allow volume expand.", 0},
        AGE_COL,
        END_COL,
};
static const struct col cols_hpa[] = {
        NAME_COL,
        {"Reference", "string", "",
         "scaleTargetRef points to the target resource to scale, and is used to the pods for "
         "which metrics should be collected, as well as to actually change the replica count.",
         0},
        {"Targets", "string", "",
         "metrics contains the specifications for which to use to calculate the desired "
         "replica count.",
         0},
        {"MinPods", "string", "",
         "minReplicas is the lower limit for the number of replicas to which the autoscaler can "
         "scale down.",
         0},
        {"MaxPods", "string", "",
         "maxReplicas is the upper limit for the number of replicas to which the autoscaler can "
         "scale up.",
         0},
        {"Replicas", "string", "",
         "currentReplicas is current number of replicas of pods managed by this autoscaler, as "
         "last seen by the autoscaler.",
         0},
        AGE_COL,
        END_COL,
};
static const struct col cols_pc[] = {
        NAME_COL,
        {"Value", "integer", "",
         "value represents the integer value of this priority class. This is the actual "
         "priority that pods receive when they have the name of this class in their pod spec.",
         0},
        {"Global-Default", "boolean", "",
         "globalDefault specifies whether this PriorityClass should be considered as the "
         "default priority for pods that do not have any priority class.",
         0},
        AGE_COL,
        {"PreemptionPolicy", "string", "",
         "preemptionPolicy is the Policy for preempting pods with lower priority.", 0},
        END_COL,
};
static const struct col cols_cr[] = {
        NAME_COL,
        {"Controller", "string", "", "Controller of the object", 0},
        {"Revision", "string", "",
         "Revision indicates the revision of the state represented by "
         "Data.",
         0},
        AGE_COL,
        END_COL,
};
/* The default TableConvertor (kinds without a printer: Role, ClusterRole, LimitRange). */
static const struct col cols_created[] = {
        NAME_COL,
        {"Created At", "date", "",
         "CreationTimestamp is a timestamp representing the server time when this object was "
         "created. It is not guaranteed to be set in happens-before order across separate "
         "operations. Clients may not set this value. It is represented in RFC3339 form and is "
         "in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: "
         "https://git.k8s.io/community/contributors/devel/sig-architecture/"
         "api-conventions.md#metadata",
         0},
        END_COL,
};

static const struct col cols_default[] = {
        NAME_COL,
        AGE_COL,
        {NULL, NULL, NULL, NULL, 0},
};

static const struct col *columns_for(const struct scheme_resource *r)
{
        if (*r->group == 0) {
                if (!strcmp(r->resource, "pods"))
                        return cols_pod;
                if (!strcmp(r->resource, "nodes"))
                        return cols_node;
                if (!strcmp(r->resource, "namespaces"))
                        return cols_ns;
                if (!strcmp(r->resource, "events"))
                        return cols_event;
                if (!strcmp(r->resource, "configmaps"))
                        return cols_cm;
                if (!strcmp(r->resource, "secrets"))
                        return cols_secret;
                if (!strcmp(r->resource, "serviceaccounts"))
                        return cols_sa;
                if (!strcmp(r->resource, "services"))
                        return cols_svc;
                if (!strcmp(r->resource, "endpoints"))
                        return cols_ep;
        }
        static const struct {
                const char *group, *resource;
                const struct col *cols;
        } more[] = {
                {"", "replicationcontrollers", cols_rc},
                {"", "podtemplates", cols_podtemplate},
                {"", "persistentvolumes", cols_pv},
                {"", "persistentvolumeclaims", cols_pvc},
                {"", "resourcequotas", cols_quota},
                {"", "limitranges", cols_created},
                {"apiextensions.k8s.io", "customresourcedefinitions", cols_created},
                {"apps", "deployments", cols_deploy},
                {"apps", "replicasets", cols_rs},
                {"apps", "statefulsets", cols_sts},
                {"apps", "daemonsets", cols_ds},
                {"apps", "controllerrevisions", cols_cr},
                {"batch", "jobs", cols_job},
                {"batch", "cronjobs", cols_cj},
                {"autoscaling", "horizontalpodautoscalers", cols_hpa},
                {"coordination.k8s.io", "leases", cols_lease},
                {"discovery.k8s.io", "endpointslices", cols_eps},
                {"events.k8s.io", "events", cols_event},
                {"networking.k8s.io", "networkpolicies", cols_netpol},
                {"networking.k8s.io", "ingresses", cols_ing},
                {"networking.k8s.io", "ingressclasses", cols_ingclass},
                {"policy", "poddisruptionbudgets", cols_pdb},
                {"rbac.authorization.k8s.io", "roles", cols_created},
                {"rbac.authorization.k8s.io", "clusterroles", cols_created},
                {"rbac.authorization.k8s.io", "rolebindings", cols_rb},
                {"rbac.authorization.k8s.io", "clusterrolebindings", cols_crb},
                {"scheduling.k8s.io", "priorityclasses", cols_pc},
                {"storage.k8s.io", "storageclasses", cols_sc},
        };
        for (size_t i = 0; i < ARRAY_SIZE(more); i++)
                if (!strcmp(more[i].group, r->group) && !strcmp(more[i].resource, r->resource))
                        return more[i].cols;
        return cols_default;
}

json_t *table_columns(const struct scheme_resource *r)
{
        if (r->custom)
                return crd_table_columns(r);
        json_t *a = json_array();
        for (const struct col *c = columns_for(r); c->name; c++)
                json_array_append_new(a, json_pack("{s:s,s:s,s:s,s:s,s:i}", "name", c->name, "type",
                                                   c->type, "format", c->format, "description",
                                                   c->description, "priority", c->priority));
        return a;
}

/* translateTimestampSince: "<unknown>" for a missing/zero time. */
static json_t *age_of(const char *ts, time_t now)
{
        struct timespec t;
        if (!ts || timefmt_parse_rfc3339(ts, &t) < 0 || t.tv_sec <= 0)
                return json_string("<unknown>");
        char buf[16];
        timefmt_age(buf, (int64_t)now - (int64_t)t.tv_sec);
        return json_string(buf);
}

static const char *str_or(const char *s, const char *dflt)
{
        return s && *s ? s : dflt;
}

static bool state_has(const json_t *cs, const char *state)
{
        return json_is_object(kjson_get(cs, state));
}

static json_t *pod_cells(const json_t *pod, time_t now)
{
        const json_t *spec = json_object_get(pod, "spec");
        const json_t *status = json_object_get(pod, "status");
        int64_t restarts = 0, ready = 0;
        int64_t total = (int64_t)json_array_size(json_object_get(spec, "containers"));
        time_t last_restart = 0;
        const char *phase = kjson_str(status, "phase");
        _cleanup_free_ char *reason =
                xstrdup(str_or(kjson_str(status, "reason"), phase ? phase : ""));
        size_t i;
        json_t *c;

        json_array_foreach(json_object_get(status, "conditions"), i, c)
        {
                if (!strcmp(str_or(kjson_str(c, "type"), ""), "PodScheduled") &&
                    !strcmp(str_or(kjson_str(c, "reason"), ""), "SchedulingGated")) {
                        free(reason);
                        reason = xstrdup("SchedulingGated");
                }
        }
        /* Restartable (sidecar) init containers count as containers. */
        const json_t *inits = json_object_get(spec, "initContainers");
        json_array_foreach(inits, i, c)
        {
                if (!strcmp(str_or(kjson_str(c, "restartPolicy"), ""), "Always"))
                        total++;
        }
        bool initializing = false;
        int64_t sidecar_restarts = 0;
        time_t sidecar_last = 0;
        json_array_foreach(json_object_get(status, "initContainerStatuses"), i, c)
        {
                restarts += kjson_int(c, "restartCount", 0);
                struct timespec ft;
                const char *fin = kjson_str(c, "lastState.terminated.finishedAt");
                time_t fint = fin && !timefmt_parse_rfc3339(fin, &ft) ? ft.tv_sec : 0;
                if (fint > last_restart)
                        last_restart = fint;
                bool sidecar = false;
                size_t j;
                json_t *ic;
                json_array_foreach(inits, j, ic)
                {
                        if (!strcmp(str_or(kjson_str(ic, "name"), ""),
                                    str_or(kjson_str(c, "name"), "")) &&
                            !strcmp(str_or(kjson_str(ic, "restartPolicy"), ""), "Always"))
                                sidecar = true;
                }
                if (sidecar) {
                        sidecar_restarts += kjson_int(c, "restartCount", 0);
                        if (fint > sidecar_last)
                                sidecar_last = fint;
                }
                const char *treason = kjson_str(c, "state.terminated.reason");
                const char *wreason = kjson_str(c, "state.waiting.reason");
                if (state_has(c, "state.terminated") &&
                    kjson_int(c, "state.terminated.exitCode", 0) == 0)
                        continue;
                if (sidecar && kjson_bool(c, "started", false)) {
                        if (kjson_bool(c, "ready", false))
                                ready++;
                        continue;
                }
                free(reason);
                if (state_has(c, "state.terminated")) {
                        if (treason && *treason)
                                reason = xasprintf("Init:%s", treason);
                        else if (kjson_int(c, "state.terminated.signal", 0))
                                reason = xasprintf(
                                        "Init:Signal:%lld",
                                        (long long)kjson_int(c, "state.terminated.signal", 0));
                        else
                                reason = xasprintf(
                                        "Init:ExitCode:%lld",
                                        (long long)kjson_int(c, "state.terminated.exitCode", 0));
                } else if (wreason && *wreason && strcmp(wreason, "PodInitializing")) {
                        reason = xasprintf("Init:%s", wreason);
                } else {
                        reason = xasprintf("Init:%zu/%zu", i, json_array_size(inits));
                }
                initializing = true;
                break;
        }
        bool initialized = false;
        json_array_foreach(json_object_get(status, "conditions"), i, c)
        {
                if (!strcmp(str_or(kjson_str(c, "type"), ""), "Initialized") &&
                    !strcmp(str_or(kjson_str(c, "status"), ""), "True"))
                        initialized = true;
        }
        if (!initializing || initialized) {
                restarts = sidecar_restarts;
                last_restart = sidecar_last;
                bool has_running = false;
                const json_t *css = json_object_get(status, "containerStatuses");
                for (size_t k = json_array_size(css); k-- > 0;) {
                        c = json_array_get(css, k);
                        restarts += kjson_int(c, "restartCount", 0);
                        struct timespec ft;
                        const char *fin = kjson_str(c, "lastState.terminated.finishedAt");
                        if (fin && !timefmt_parse_rfc3339(fin, &ft) && ft.tv_sec > last_restart)
                                last_restart = ft.tv_sec;
                        const char *wreason = kjson_str(c, "state.waiting.reason");
                        const char *treason = kjson_str(c, "state.terminated.reason");
                        if (state_has(c, "state.waiting") && wreason && *wreason) {
                                free(reason);
                                reason = xstrdup(wreason);
                        } else if (state_has(c, "state.terminated") && treason && *treason) {
                                free(reason);
                                reason = xstrdup(treason);
                        } else if (state_has(c, "state.terminated")) {
                                free(reason);
                                if (kjson_int(c, "state.terminated.signal", 0))
                                        reason =
                                                xasprintf("Signal:%lld",
                                                          (long long)kjson_int(
                                                                  c, "state.terminated.signal", 0));
                                else
                                        reason = xasprintf(
                                                "ExitCode:%lld",
                                                (long long)kjson_int(c, "state.terminated.exitCode",
                                                                     0));
                        } else if (kjson_bool(c, "ready", false) && state_has(c, "state.running")) {
                                has_running = true;
                                ready++;
                        }
                }
                if (!strcmp(reason, "Completed") && has_running) {
                        bool pod_ready = false;
                        json_array_foreach(json_object_get(status, "conditions"), i, c)
                        {
                                if (!strcmp(str_or(kjson_str(c, "type"), ""), "Ready") &&
                                    !strcmp(str_or(kjson_str(c, "status"), ""), "True"))
                                        pod_ready = true;
                        }
                        free(reason);
                        reason = xstrdup(pod_ready ? "Running" : "NotReady");
                }
        }
        bool terminal = phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"));
        if (kjson_str(pod, "metadata.deletionTimestamp")) {
                if (!strcmp(str_or(kjson_str(status, "reason"), ""), "NodeLost")) {
                        free(reason);
                        reason = xstrdup("Unknown");
                } else if (!terminal) {
                        free(reason);
                        reason = xstrdup("Terminating");
                }
        }
        char rbuf[64];
        if (restarts && last_restart) {
                char age[16];
                timefmt_age(age, (int64_t)now - (int64_t)last_restart);
                snprintf(rbuf, sizeof(rbuf), "%lld (%s ago)", (long long)restarts, age);
        } else {
                snprintf(rbuf, sizeof(rbuf), "%lld", (long long)restarts);
        }
        char readybuf[48];
        snprintf(readybuf, sizeof(readybuf), "%lld/%lld", (long long)ready, (long long)total);

        const char *ip = kjson_str(json_array_get(json_object_get(status, "podIPs"), 0), "ip");
        if (!ip)
                ip = kjson_str(status, "podIP");
        _cleanup_free_ char *gates = NULL;
        const json_t *rg = json_object_get(spec, "readinessGates");
        if (json_array_size(rg)) {
                size_t n_true = 0, j;
                json_t *g;
                json_array_foreach(rg, j, g)
                {
                        json_array_foreach(json_object_get(status, "conditions"), i, c)
                        {
                                if (!strcmp(str_or(kjson_str(c, "type"), ""),
                                            str_or(kjson_str(g, "conditionType"), "-"))) {
                                        if (!strcmp(str_or(kjson_str(c, "status"), ""), "True"))
                                                n_true++;
                                        break;
                                }
                        }
                }
                gates = xasprintf("%zu/%zu", n_true, json_array_size(rg));
        }
        return json_pack(
                "[s,s,s,s,o,s,s,s,s]", str_or(kjson_str(pod, "metadata.name"), ""), readybuf,
                reason, rbuf, age_of(kjson_str(pod, "metadata.creationTimestamp"), now),
                str_or(ip, "<none>"), str_or(kjson_str(spec, "nodeName"), "<none>"),
                str_or(kjson_str(status, "nominatedNodeName"), "<none>"), gates ? gates : "<none>");
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *node_cells(const json_t *node, time_t now)
{
        char status[128] = "";
        size_t i;
        json_t *c;
        json_array_foreach(kjson_get(node, "status.conditions"), i, c)
        {
                if (!strcmp(str_or(kjson_str(c, "type"), ""), "Ready"))
                        snprintf(status, sizeof(status), "%s",
                                 !strcmp(str_or(kjson_str(c, "status"), ""), "True") ? "Ready"
                                                                                     : "NotReady");
        }
        if (!status[0])
                snprintf(status, sizeof(status), "Unknown");
        if (kjson_bool(node, "spec.unschedulable", false)) {
                size_t l = strlen(status);
                snprintf(status + l, sizeof(status) - l, ",SchedulingDisabled");
        }
        /* Roles: node-role.kubernetes.io/<role> labels and kubernetes.io/role, sorted, unique. */
        const char *roles[64];
        size_t n_roles = 0;
        const char *k;
        json_t *v;
        json_object_foreach(kjson_get(node, "metadata.labels"), k, v)
        {
                const char *role = NULL;
                if (!strncmp(k, "node-role.kubernetes.io/", 24) && k[24])
                        role = k + 24;
                else if (!strcmp(k, "kubernetes.io/role") && json_string_value(v) &&
                         *json_string_value(v))
                        role = json_string_value(v);
                if (!role || n_roles >= ARRAY_SIZE(roles))
                        continue;
                bool dup = false;
                for (size_t j = 0; j < n_roles; j++)
                        dup |= !strcmp(roles[j], role);
                if (!dup)
                        roles[n_roles++] = role;
        }
        qsort(roles, n_roles, sizeof(roles[0]), cmp_str);
        char rolebuf[512] = "";
        size_t off = 0;
        for (size_t j = 0; j < n_roles && off < sizeof(rolebuf); j++)
                off += (size_t)snprintf(rolebuf + off, sizeof(rolebuf) - off, "%s%s", j ? "," : "",
                                        roles[j]);
        const char *internal = NULL, *external = NULL;
        json_array_foreach(kjson_get(node, "status.addresses"), i, c)
        {
                const char *t = str_or(kjson_str(c, "type"), "");
                if (!strcmp(t, "InternalIP") && !internal)
                        internal = kjson_str(c, "address");
                if (!strcmp(t, "ExternalIP") && !external)
                        external = kjson_str(c, "address");
        }
        return json_pack(
                "[s,s,s,o,s,s,s,s,s,s]", str_or(kjson_str(node, "metadata.name"), ""), status,
                n_roles ? rolebuf : "<none>",
                age_of(kjson_str(node, "metadata.creationTimestamp"), now),
                str_or(kjson_str(node, "status.nodeInfo.kubeletVersion"), ""),
                str_or(internal, "<none>"), str_or(external, "<none>"),
                str_or(kjson_str(node, "status.nodeInfo.osImage"), "<unknown>"),
                str_or(kjson_str(node, "status.nodeInfo.kernelVersion"), "<unknown>"),
                str_or(kjson_str(node, "status.nodeInfo.containerRuntimeVersion"), "<unknown>"));
}

static char *trim_dup(const char *s)
{
        s = str_or(s, "");
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
                s++;
        size_t n = strlen(s);
        while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\n' || s[n - 1] == '\r'))
                n--;
        return xstrndup(s, n);
}

static json_t *event_cells(const json_t *ev, time_t now)
{
        json_t *first = NULL, *last = NULL;
        const char *ft = kjson_str(ev, "firstTimestamp");
        first = age_of(ft ? ft : kjson_str(ev, "eventTime"), now);
        const char *lt = kjson_str(ev, "lastTimestamp");
        int64_t count = kjson_int(ev, "count", 0);
        if (json_is_object(json_object_get(ev, "series"))) {
                last = age_of(kjson_str(ev, "series.lastObservedTime"), now);
                count = kjson_int(ev, "series.count", 0);
        } else {
                last = lt ? age_of(lt, now) : json_incref(first);
                if (!count)
                        count = 1;
        }
        const char *kind = str_or(kjson_str(ev, "involvedObject.kind"), "");
        const char *name = kjson_str(ev, "involvedObject.name");
        _cleanup_free_ char *lower = xstrdup(kind);
        for (char *p = lower; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p - 'A' + 'a');
        _cleanup_free_ char *target =
                name && *name ? xasprintf("%s/%s", lower, name) : xstrdup(lower);
        /* formatEventSource */
        const char *comp = kjson_str(ev, "source.component");
        const char *host = kjson_str(ev, "source.host");
        if (!comp || !*comp) {
                comp = kjson_str(ev, "reportingComponent");
                host = kjson_str(ev, "reportingInstance");
        }
        _cleanup_free_ char *source = host && *host ? xasprintf("%s, %s", str_or(comp, ""), host)
                                                    : xstrdup(str_or(comp, ""));
        _cleanup_free_ char *msg = trim_dup(kjson_str(ev, "message"));
        return json_pack("[o,s,s,s,s,s,s,o,I,s]", last, str_or(kjson_str(ev, "type"), ""),
                         str_or(kjson_str(ev, "reason"), ""), target,
                         str_or(kjson_str(ev, "involvedObject.fieldPath"), ""), source, msg, first,
                         (json_int_t)count, str_or(kjson_str(ev, "metadata.name"), ""));
}

static json_t *svc_cells(const json_t *svc, time_t now)
{
        const char *type = str_or(kjson_str(svc, "spec.type"), "ClusterIP");
        const char *cip = str_or(kjson_str(svc, "spec.clusterIP"), "<none>");
        char ports[512] = "";
        size_t off = 0, i;
        json_t *p;
        json_array_foreach(kjson_get(svc, "spec.ports"), i, p)
        {
                if (off >= sizeof(ports))
                        break;
                int64_t np = kjson_int(p, "nodePort", 0);
                const char *proto = str_or(kjson_str(p, "protocol"), "TCP");
                if (np)
                        off += (size_t)snprintf(ports + off, sizeof(ports) - off, "%s%lld:%lld/%s",
                                                i ? "," : "", (long long)kjson_int(p, "port", 0),
                                                (long long)np, proto);
                else
                        off += (size_t)snprintf(ports + off, sizeof(ports) - off, "%s%lld/%s",
                                                i ? "," : "", (long long)kjson_int(p, "port", 0),
                                                proto);
        }
        _cleanup_free_ char *ext = NULL;
        const json_t *eips = kjson_get(svc, "spec.externalIPs");
        json_t *lbi = kjson_get(svc, "status.loadBalancer.ingress");
        if (json_array_size(eips)) {
                ext = xstrdup("");
                json_array_foreach(eips, i, p)
                {
                        char *n = xasprintf("%s%s%s", ext, i ? "," : "",
                                            str_or(json_string_value(p), ""));
                        free(ext);
                        ext = n;
                }
        } else if (!strcmp(type, "LoadBalancer")) {
                ext = xstrdup(json_array_size(lbi)
                                      ? str_or(kjson_str(json_array_get(lbi, 0), "ip"), "<pending>")
                                      : "<pending>");
        } else if (!strcmp(type, "ExternalName")) {
                ext = xstrdup(str_or(kjson_str(svc, "spec.externalName"), "<none>"));
        }
        /* Selector: sorted "k=v" joined by ','. */
        const char *keys[64];
        size_t nk = 0;
        const char *k;
        json_t *v;
        json_object_foreach(kjson_get(svc, "spec.selector"), k, v)
        {
                if (nk < ARRAY_SIZE(keys))
                        keys[nk++] = k;
        }
        qsort(keys, nk, sizeof(keys[0]), cmp_str);
        char sel[1024] = "";
        size_t so = 0;
        for (size_t j = 0; j < nk && so < sizeof(sel); j++)
                so += (size_t)snprintf(
                        sel + so, sizeof(sel) - so, "%s%s=%s", j ? "," : "", keys[j],
                        str_or(json_string_value(
                                       kjson_get(svc, "spec.selector")
                                               ? json_object_get(kjson_get(svc, "spec.selector"),
                                                                 keys[j])
                                               : NULL),
                               ""));
        return json_pack("[s,s,s,s,s,o,s]", str_or(kjson_str(svc, "metadata.name"), ""), type, cip,
                         ext ? ext : "<none>", off ? ports : "<none>",
                         age_of(kjson_str(svc, "metadata.creationTimestamp"), now),
                         nk ? sel : "<none>");
}

static json_t *ep_cells(const json_t *ep, time_t now)
{
        char buf[512] = "";
        size_t off = 0, n = 0, i, j, k;
        json_t *s, *a, *p;
        json_array_foreach(json_object_get(ep, "subsets"), i, s)
        {
                json_array_foreach(json_object_get(s, "addresses"), j, a)
                {
                        const json_t *ports = json_object_get(s, "ports");
                        if (!json_array_size(ports)) {
                                if (n < 3 && off < sizeof(buf))
                                        off += (size_t)snprintf(buf + off, sizeof(buf) - off,
                                                                "%s%s", n ? "," : "",
                                                                str_or(kjson_str(a, "ip"), ""));
                                n++;
                                continue;
                        }
                        json_array_foreach(ports, k, p)
                        {
                                if (n < 3 && off < sizeof(buf))
                                        off += (size_t)snprintf(buf + off, sizeof(buf) - off,
                                                                "%s%s:%lld", n ? "," : "",
                                                                str_or(kjson_str(a, "ip"), ""),
                                                                (long long)kjson_int(p, "port", 0));
                                n++;
                        }
                }
        }
        _cleanup_free_ char *text =
                n > 3 ? xasprintf("%s + %zu more...", buf, n - 3) : xstrdup(n ? buf : "<none>");
        return json_pack("[s,s,o]", str_or(kjson_str(ep, "metadata.name"), ""), text,
                         age_of(kjson_str(ep, "metadata.creationTimestamp"), now));
}

/* ---- workload and cluster kinds ---- */

/* A JSON string taking ownership of s (freed). */
static json_t *own_str(char *s)
{
        json_t *j = json_string(s ? s : "");
        free(s);
        return j ? j : json_string("");
}

/* "a,b" of the template's container names (or images); "" when none. */
static char *template_join(const json_t *podspec, const char *key)
{
        char *out = xstrdup("");
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(podspec, "containers"), i, c)
        {
                char *n = xasprintf("%s%s%s", out, i ? "," : "", str_or(kjson_str(c, key), ""));
                free(out);
                out = n;
        }
        return out;
}

/* metav1.FormatLabelSelector: "<none>" for nil/empty. */
static char *label_selector_str(const json_t *sel)
{
        if (!json_is_object(sel) || (!json_object_size(json_object_get(sel, "matchLabels")) &&
                                     !json_array_size(json_object_get(sel, "matchExpressions"))))
                return xstrdup("<none>");
        struct labels_selector *ls = NULL;
        if (labels_selector_from_json(sel, &ls, NULL) < 0)
                return xstrdup("<error>");
        char *out = labels_selector_format(ls);
        labels_selector_free(ls);
        if (!out || !*out) {
                free(out);
                return xstrdup("<none>");
        }
        return out;
}

/* labels.FormatLabels of a map: sorted "k=v" joined by ','; "<none>" when empty. */
static char *labels_str(const json_t *m)
{
        const char *keys[128];
        size_t nk = 0;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)m, k, v)
        {
                if (nk < ARRAY_SIZE(keys))
                        keys[nk++] = k;
        }
        if (!nk)
                return xstrdup("<none>");
        qsort(keys, nk, sizeof(keys[0]), cmp_str);
        char *out = xstrdup("");
        for (size_t i = 0; i < nk; i++) {
                char *n = xasprintf("%s%s%s=%s", out, i ? "," : "", keys[i],
                                    str_or(json_string_value(json_object_get(m, keys[i])), ""));
                free(out);
                out = n;
        }
        return out;
}

/* Containers, Images, Selector cells of a template-based workload appended to row. */
static void add_template_cells(json_t *row, const json_t *podspec, const char *selector,
                               bool with_selector)
{
        json_array_append_new(row, own_str(template_join(podspec, "name")));
        json_array_append_new(row, own_str(template_join(podspec, "image")));
        if (with_selector)
                json_array_append_new(row, json_string(selector));
}

static json_t *integer(const json_t *obj, const char *path)
{
        return json_integer(kjson_int(obj, path, 0));
}

static json_t *deploy_cells(const json_t *o, time_t now)
{
        char ready[48];
        snprintf(ready, sizeof(ready), "%lld/%lld",
                 (long long)kjson_int(o, "status.readyReplicas", 0),
                 (long long)kjson_int(o, "spec.replicas", 0));
        json_t *row = json_pack("[s,s,o,o,o]", str_or(kjson_str(o, "metadata.name"), ""), ready,
                                integer(o, "status.updatedReplicas"),
                                integer(o, "status.availableReplicas"),
                                age_of(kjson_str(o, "metadata.creationTimestamp"), now));
        _cleanup_free_ char *sel = label_selector_str(kjson_get(o, "spec.selector"));
        add_template_cells(row, kjson_get(o, "spec.template.spec"), sel, true);
        return row;
}

static json_t *rs_cells(const json_t *o, time_t now, bool map_selector)
{
        json_t *row = json_pack("[s,o,o,o,o]", str_or(kjson_str(o, "metadata.name"), ""),
                                integer(o, "spec.replicas"), integer(o, "status.replicas"),
                                integer(o, "status.readyReplicas"),
                                age_of(kjson_str(o, "metadata.creationTimestamp"), now));
        _cleanup_free_ char *sel = map_selector ? labels_str(kjson_get(o, "spec.selector"))
                                                : label_selector_str(kjson_get(o, "spec.selector"));
        add_template_cells(row, kjson_get(o, "spec.template.spec"), sel, true);
        return row;
}

static json_t *sts_cells(const json_t *o, time_t now)
{
        char ready[48];
        snprintf(ready, sizeof(ready), "%lld/%lld",
                 (long long)kjson_int(o, "status.readyReplicas", 0),
                 (long long)kjson_int(o, "spec.replicas", 0));
        json_t *row = json_pack("[s,s,o]", str_or(kjson_str(o, "metadata.name"), ""), ready,
                                age_of(kjson_str(o, "metadata.creationTimestamp"), now));
        add_template_cells(row, kjson_get(o, "spec.template.spec"), NULL, false);
        return row;
}

static json_t *ds_cells(const json_t *o, time_t now)
{
        _cleanup_free_ char *ns = labels_str(kjson_get(o, "spec.template.spec.nodeSelector"));
        json_t *row = json_pack(
                "[s,o,o,o,o,o,s,o]", str_or(kjson_str(o, "metadata.name"), ""),
                integer(o, "status.desiredNumberScheduled"),
                integer(o, "status.currentNumberScheduled"), integer(o, "status.numberReady"),
                integer(o, "status.updatedNumberScheduled"), integer(o, "status.numberAvailable"),
                ns, age_of(kjson_str(o, "metadata.creationTimestamp"), now));
        _cleanup_free_ char *sel = label_selector_str(kjson_get(o, "spec.selector"));
        add_template_cells(row, kjson_get(o, "spec.template.spec"), sel, true);
        return row;
}

static bool has_condition(const json_t *o, const char *type)
{
        size_t i;
        json_t *c;
        json_array_foreach(kjson_get(o, "status.conditions"), i, c)
        {
                if (!strcmp(str_or(kjson_str(c, "type"), ""), type) &&
                    !strcmp(str_or(kjson_str(c, "status"), ""), "True"))
                        return true;
        }
        return false;
}

static json_t *job_cells(const json_t *o, time_t now)
{
        char completions[64];
        int64_t succeeded = kjson_int(o, "status.succeeded", 0);
        const json_t *c = kjson_get(o, "spec.completions");
        int64_t par = kjson_int(o, "spec.parallelism", 0);
        if (json_is_integer(c))
                snprintf(completions, sizeof(completions), "%lld/%lld", (long long)succeeded,
                         (long long)json_integer_value(c));
        else if (par > 1)
                snprintf(completions, sizeof(completions), "%lld/1 of %lld", (long long)succeeded,
                         (long long)par);
        else
                snprintf(completions, sizeof(completions), "%lld/1", (long long)succeeded);
        char dur[16] = "";
        struct timespec st, ct;
        const char *start = kjson_str(o, "status.startTime");
        const char *done = kjson_str(o, "status.completionTime");
        if (start && !timefmt_parse_rfc3339(start, &st)) {
                if (done && !timefmt_parse_rfc3339(done, &ct))
                        timefmt_age(dur, (int64_t)ct.tv_sec - (int64_t)st.tv_sec);
                else
                        timefmt_age(dur, (int64_t)now - (int64_t)st.tv_sec);
        }
        const char *status = has_condition(o, "Complete")                 ? "Complete"
                             : has_condition(o, "Failed")                 ? "Failed"
                             : kjson_str(o, "metadata.deletionTimestamp") ? "Terminating"
                             : has_condition(o, "Suspended")              ? "Suspended"
                             : has_condition(o, "FailureTarget")          ? "FailureTarget"
                             : has_condition(o, "SuccessCriteriaMet")     ? "SuccessCriteriaMet"
                                                                          : "Running";
        json_t *row = json_pack("[s,s,s,s,o]", str_or(kjson_str(o, "metadata.name"), ""), status,
                                completions, dur,
                                age_of(kjson_str(o, "metadata.creationTimestamp"), now));
        _cleanup_free_ char *sel = label_selector_str(kjson_get(o, "spec.selector"));
        add_template_cells(row, kjson_get(o, "spec.template.spec"), sel, true);
        return row;
}

static json_t *cj_cells(const json_t *o, time_t now)
{
        const json_t *susp = kjson_get(o, "spec.suspend");
        const char *last = kjson_str(o, "status.lastScheduleTime");
        json_t *row = json_pack("[s,s,s,s,I,o,o]", str_or(kjson_str(o, "metadata.name"), ""),
                                str_or(kjson_str(o, "spec.schedule"), ""),
                                str_or(kjson_str(o, "spec.timeZone"), "<none>"),
                                json_is_boolean(susp) ? (json_is_true(susp) ? "True" : "False")
                                                      : "<unset>",
                                (json_int_t)json_array_size(kjson_get(o, "status.active")),
                                last ? age_of(last, now) : json_string("<none>"),
                                age_of(kjson_str(o, "metadata.creationTimestamp"), now));
        _cleanup_free_ char *sel =
                label_selector_str(kjson_get(o, "spec.jobTemplate.spec.selector"));
        add_template_cells(row, kjson_get(o, "spec.jobTemplate.spec.template.spec"), sel, true);
        return row;
}

static json_t *podtemplate_cells(const json_t *o)
{
        const json_t *spec = kjson_get(o, "template.spec");
        _cleanup_free_ char *labels = labels_str(kjson_get(o, "template.metadata.labels"));
        return json_pack("[s,o,o,s]", str_or(kjson_str(o, "metadata.name"), ""),
                         own_str(template_join(spec, "name")),
                         own_str(template_join(spec, "image")), labels);
}

/* GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order, each once. */
static char *access_modes_str(const json_t *modes)
{
        static const char *const names[][2] = {{"ReadWriteOnce", "RWO"},
                                               {"ReadOnlyMany", "ROX"},
                                               {"ReadWriteMany", "RWX"},
                                               {"ReadWriteOncePod", "RWOP"}};
        char buf[64] = "";
        size_t off = 0;
        for (size_t n = 0; n < ARRAY_SIZE(names); n++) {
                size_t i;
                json_t *m;
                json_array_foreach(modes, i, m)
                {
                        if (!strcmp(str_or(json_string_value(m), ""), names[n][0])) {
                                off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%s",
                                                        off ? "," : "", names[n][1]);
                                break;
                        }
                }
        }
        return xstrdup(buf);
}

static char *quantity_str(const json_t *v)
{
        const char *s = json_string_value(v);
        char buf[64];
        if (!s && json_is_integer(v)) {
                snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
                s = buf;
        }
        if (!s)
                return xstrdup("0");
        char canon[QUANTITY_STR_MAX];
        if (quantity_canonicalize(s, canon, NULL) < 0)
                return xstrdup(s);
        return xstrdup(canon);
}

static json_t *pv_cells(const json_t *o, time_t now)
{
        const json_t *spec = json_object_get(o, "spec");
        _cleanup_free_ char *cap = json_object_get(kjson_get(spec, "capacity"), "storage")
                                           ? quantity_str(kjson_get(spec, "capacity.storage"))
                                           : xstrdup("");
        _cleanup_free_ char *modes = access_modes_str(json_object_get(spec, "accessModes"));
        const char *cns = kjson_str(spec, "claimRef.namespace");
        const char *cn = kjson_str(spec, "claimRef.name");
        _cleanup_free_ char *claim = cn ? xasprintf("%s/%s", str_or(cns, ""), cn) : xstrdup("");
        const char *phase = kjson_str(o, "metadata.deletionTimestamp")
                                    ? "Terminating"
                                    : str_or(kjson_str(o, "status.phase"), "");
        return json_pack("[s,s,s,s,s,s,s,s,s,o,s]", str_or(kjson_str(o, "metadata.name"), ""), cap,
                         modes, str_or(kjson_str(spec, "persistentVolumeReclaimPolicy"), ""), phase,
                         claim, str_or(kjson_str(spec, "storageClassName"), ""),
                         str_or(kjson_str(spec, "volumeAttributesClassName"), "<unset>"),
                         str_or(kjson_str(o, "status.reason"), ""),
                         age_of(kjson_str(o, "metadata.creationTimestamp"), now),
                         str_or(kjson_str(spec, "volumeMode"), "<unset>"));
}

static json_t *pvc_cells(const json_t *o, time_t now)
{
        const json_t *spec = json_object_get(o, "spec");
        const char *vol = kjson_str(spec, "volumeName");
        _cleanup_free_ char *cap = NULL, *modes = NULL;
        if (vol && *vol) {
                const json_t *st = kjson_get(o, "status.capacity.storage");
                cap = st ? quantity_str(st) : xstrdup("");
                modes = access_modes_str(kjson_get(o, "status.accessModes"));
        } else {
                cap = xstrdup("");
                modes = xstrdup("");
        }
        const char *phase = kjson_str(o, "metadata.deletionTimestamp")
                                    ? "Terminating"
                                    : str_or(kjson_str(o, "status.phase"), "");
        return json_pack("[s,s,s,s,s,s,s,o,s]", str_or(kjson_str(o, "metadata.name"), ""), phase,
                         str_or(vol, ""), cap, modes,
                         str_or(kjson_str(spec, "storageClassName"), ""),
                         str_or(kjson_str(spec, "volumeAttributesClassName"), "<unset>"),
                         age_of(kjson_str(o, "metadata.creationTimestamp"), now),
                         str_or(kjson_str(spec, "volumeMode"), "<unset>"));
}

static json_t *quota_cells(const json_t *o, time_t now)
{
        const json_t *hard = kjson_get(o, "spec.hard");
        const json_t *used = kjson_get(o, "status.used");
        const char *keys[128];
        size_t nk = 0;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)hard, k, v)
        {
                if (nk < ARRAY_SIZE(keys))
                        keys[nk++] = k;
        }
        qsort(keys, nk, sizeof(keys[0]), cmp_str);
        char *req = xstrdup(""), *lim = xstrdup("");
        for (size_t i = 0; i < nk; i++) {
                char **w = !strncmp(keys[i], "limits.", 7) ? &lim : &req;
                _cleanup_free_ char *u = quantity_str(json_object_get(used, keys[i]));
                _cleanup_free_ char *h = quantity_str(json_object_get(hard, keys[i]));
                char *n = xasprintf("%s%s%s: %s/%s", *w, **w ? ", " : "", keys[i], u, h);
                free(*w);
                *w = n;
        }
        return json_pack("[s,o,o,o]", str_or(kjson_str(o, "metadata.name"), ""),
                         age_of(kjson_str(o, "metadata.creationTimestamp"), now), own_str(req),
                         own_str(lim));
}

static char *list_more(char *list, size_t count, size_t max)
{
        if (count > max) {
                char *n = xasprintf("%s + %zu more...", list, count - max);
                free(list);
                return n;
        }
        if (!*list) {
                free(list);
                return xstrdup("<unset>");
        }
        return list;
}

static json_t *eps_cells(const json_t *o, time_t now)
{
        char *ports = xstrdup("");
        size_t n = 0, i;
        json_t *p;
        json_array_foreach(json_object_get(o, "ports"), i, p)
        {
                if (n < 3) {
                        const json_t *num = json_object_get(p, "port");
                        char *one = json_is_integer(num)
                                            ? xasprintf("%lld", (long long)json_integer_value(num))
                                            : xstrdup(str_or(kjson_str(p, "name"), "*"));
                        char *nn = xasprintf("%s%s%s", ports, n ? "," : "", one);
                        free(one);
                        free(ports);
                        ports = nn;
                }
                n++;
        }
        ports = list_more(ports, n, 3);
        char *eps = xstrdup("");
        n = 0;
        json_t *e;
        json_array_foreach(json_object_get(o, "endpoints"), i, e)
        {
                size_t j;
                json_t *a;
                json_array_foreach(json_object_get(e, "addresses"), j, a)
                {
                        if (n < 3) {
                                char *nn = xasprintf("%s%s%s", eps, n ? "," : "",
                                                     str_or(json_string_value(a), ""));
                                free(eps);
                                eps = nn;
                        }
                        n++;
                }
        }
        eps = list_more(eps, n, 3);
        return json_pack("[s,s,o,o,o]", str_or(kjson_str(o, "metadata.name"), ""),
                         str_or(kjson_str(o, "addressType"), ""), own_str(ports), own_str(eps),
                         age_of(kjson_str(o, "metadata.creationTimestamp"), now));
}

static json_t *ing_cells(const json_t *o, time_t now)
{
        const json_t *rules = kjson_get(o, "spec.rules");
        char *hosts = xstrdup("");
        size_t n = 0, i;
        bool more = false;
        json_t *r;
        json_array_foreach(rules, i, r)
        {
                if (n == 3)
                        more = true;
                const char *h = kjson_str(r, "host");
                if (!more && h && *h) {
                        char *nn = xasprintf("%s%s%s", hosts, n ? "," : "", h);
                        free(hosts);
                        hosts = nn;
                        n++;
                }
        }
        if (!n) {
                free(hosts);
                hosts = xstrdup("*");
        } else if (more) {
                char *nn = xasprintf("%s + %zu more...", hosts, json_array_size(rules) - 3);
                free(hosts);
                hosts = nn;
        }
        char addr[512] = "";
        size_t off = 0;
        json_array_foreach(kjson_get(o, "status.loadBalancer.ingress"), i, r)
        {
                const char *a = kjson_str(r, "ip");
                if (!a || !*a)
                        a = kjson_str(r, "hostname");
                if (a && *a && off < sizeof(addr))
                        off += (size_t)snprintf(addr + off, sizeof(addr) - off, "%s%s",
                                                off ? "," : "", a);
        }
        return json_pack("[s,s,o,s,s,o]", str_or(kjson_str(o, "metadata.name"), ""),
                         str_or(kjson_str(o, "spec.ingressClassName"), "<none>"), own_str(hosts),
                         addr, json_array_size(kjson_get(o, "spec.tls")) ? "80, 443" : "80",
                         age_of(kjson_str(o, "metadata.creationTimestamp"), now));
}

static json_t *ingclass_cells(const json_t *o, time_t now)
{
        const json_t *p = kjson_get(o, "spec.parameters");
        char *params;
        if (json_is_object(p)) {
                const char *g = kjson_str(p, "apiGroup");
                params = g ? xasprintf("%s.%s/%s", str_or(kjson_str(p, "kind"), ""), g,
                                       str_or(kjson_str(p, "name"), ""))
                           : xasprintf("%s/%s", str_or(kjson_str(p, "kind"), ""),
                                       str_or(kjson_str(p, "name"), ""));
        } else {
                params = xstrdup("<none>");
        }
        return json_pack("[s,s,o,o]", str_or(kjson_str(o, "metadata.name"), ""),
                         str_or(kjson_str(o, "spec.controller"), ""), own_str(params),
                         age_of(kjson_str(o, "metadata.creationTimestamp"), now));
}

static char *int_or_string(const json_t *v)
{
        if (json_is_integer(v))
                return xasprintf("%lld", (long long)json_integer_value(v));
        if (json_is_string(v))
                return xstrdup(json_string_value(v));
        return xstrdup("N/A");
}

static json_t *pdb_cells(const json_t *o, time_t now)
{
        return json_pack("[s,o,o,o,o]", str_or(kjson_str(o, "metadata.name"), ""),
                         own_str(int_or_string(kjson_get(o, "spec.minAvailable"))),
                         own_str(int_or_string(kjson_get(o, "spec.maxUnavailable"))),
                         integer(o, "status.disruptionsAllowed"),
                         age_of(kjson_str(o, "metadata.creationTimestamp"), now));
}

static json_t *binding_cells(const json_t *o, time_t now)
{
        _cleanup_free_ char *role = xasprintf("%s/%s", str_or(kjson_str(o, "roleRef.kind"), ""),
                                              str_or(kjson_str(o, "roleRef.name"), ""));
        char *lists[3] = {xstrdup(""), xstrdup(""), xstrdup("")};
        size_t i;
        json_t *sub;
        json_array_foreach(json_object_get(o, "subjects"), i, sub)
        {
                const char *kind = str_or(kjson_str(sub, "kind"), "");
                const char *name = str_or(kjson_str(sub, "name"), "");
                int which = !strcmp(kind, "User")             ? 0
                            : !strcmp(kind, "Group")          ? 1
                            : !strcmp(kind, "ServiceAccount") ? 2
                                                              : -1;
                if (which < 0)
                        continue;
                char *n = which == 2 ? xasprintf("%s%s%s/%s", lists[2], *lists[2] ? ", " : "",
                                                 str_or(kjson_str(sub, "namespace"), ""), name)
                                     : xasprintf("%s%s%s", lists[which], *lists[which] ? ", " : "",
                                                 name);
                free(lists[which]);
                lists[which] = n;
        }
        return json_pack("[s,s,o,o,o,o]", str_or(kjson_str(o, "metadata.name"), ""), role,
                         age_of(kjson_str(o, "metadata.creationTimestamp"), now), own_str(lists[0]),
                         own_str(lists[1]), own_str(lists[2]));
}

static json_t *sc_cells(const json_t *o, time_t now)
{
        const json_t *ann = kjson_get(o, "metadata.annotations");
        const char *d = json_string_value(
                json_object_get(ann, "storageclass.kubernetes.io/is-default-class"));
        const char *bd = json_string_value(
                json_object_get(ann, "storageclass.beta.kubernetes.io/is-default-class"));
        bool def = (d && !strcmp(d, "true")) || (bd && !strcmp(bd, "true"));
        const char *name = str_or(kjson_str(o, "metadata.name"), "");
        const json_t *ave = json_object_get(o, "allowVolumeExpansion");
        return json_pack("[s+,s,s,s,b,o]", name, def ? " (default)" : "",
                         str_or(kjson_str(o, "provisioner"), ""),
                         str_or(kjson_str(o, "reclaimPolicy"), "Delete"),
                         str_or(kjson_str(o, "volumeBindingMode"), "Immediate"), json_is_true(ave),
                         age_of(kjson_str(o, "metadata.creationTimestamp"), now));
}

/* formatHPAMetrics for Resource/ContainerResource utilization and value targets. */
static char *hpa_targets(const json_t *o)
{
        const json_t *metrics = kjson_get(o, "spec.metrics");
        if (!json_array_size(metrics))
                return xstrdup("<none>");
        char *out = xstrdup("");
        size_t i;
        json_t *m;
        json_array_foreach(metrics, i, m)
        {
                const char *type = str_or(kjson_str(m, "type"), "");
                const json_t *src = !strcmp(type, "Resource") ? json_object_get(m, "resource")
                                    : !strcmp(type, "ContainerResource")
                                            ? json_object_get(m, "containerResource")
                                    : !strcmp(type, "Pods")   ? json_object_get(m, "pods")
                                    : !strcmp(type, "Object") ? json_object_get(m, "object")
                                                              : json_object_get(m, "external");
                const json_t *t = json_object_get(src, "target");
                char *one;
                const json_t *au = json_object_get(t, "averageUtilization");
                const char *name = kjson_str(src, "name");
                if (!name)
                        name = kjson_str(src, "metric.name");
                /* the current value: statuses[i] (Resource metrics) */
                const json_t *cur =
                        kjson_get(json_array_get(kjson_get(o, "status.currentMetrics"), i),
                                  "resource.current");
                const json_t *cu = json_object_get(cur, "averageUtilization");
                if (json_is_integer(au)) {
                        char c[32] = "<unknown>";
                        if (json_is_integer(cu))
                                snprintf(c, sizeof(c), "%lld%%", (long long)json_integer_value(cu));
                        one = xasprintf("%s: %s/%lld%%", str_or(name, ""), c,
                                        (long long)json_integer_value(au));
                } else {
                        const char *val = kjson_str(t, "averageValue");
                        if (!val)
                                val = kjson_str(t, "value");
                        one = xasprintf("%s: %s/%s", str_or(name, ""),
                                        str_or(kjson_str(cur, "averageValue"), "<unknown>"),
                                        str_or(val, ""));
                }
                char *n = xasprintf("%s%s%s", out, i ? ", " : "", one);
                free(one);
                free(out);
                out = n;
        }
        return out;
}

static json_t *hpa_cells(const json_t *o, time_t now)
{
        _cleanup_free_ char *ref =
                xasprintf("%s/%s", str_or(kjson_str(o, "spec.scaleTargetRef.kind"), ""),
                          str_or(kjson_str(o, "spec.scaleTargetRef.name"), ""));
        const json_t *minr = kjson_get(o, "spec.minReplicas");
        return json_pack("[s,s,o,o,o,o,o]", str_or(kjson_str(o, "metadata.name"), ""), ref,
                         own_str(hpa_targets(o)),
                         json_is_integer(minr) ? json_integer(json_integer_value(minr))
                                               : json_string("<unset>"),
                         integer(o, "spec.maxReplicas"), integer(o, "status.currentReplicas"),
                         age_of(kjson_str(o, "metadata.creationTimestamp"), now));
}

static json_t *pc_cells(const json_t *o, time_t now)
{
        return json_pack("[s,o,b,o,s]", str_or(kjson_str(o, "metadata.name"), ""),
                         integer(o, "value"), kjson_bool(o, "globalDefault", false),
                         age_of(kjson_str(o, "metadata.creationTimestamp"), now),
                         str_or(kjson_str(o, "preemptionPolicy"), "<unset>"));
}

static json_t *cr_cells(const json_t *o, time_t now)
{
        char *ctrl = xstrdup("<none>");
        size_t i;
        json_t *ref;
        json_array_foreach(kjson_get(o, "metadata.ownerReferences"), i, ref)
        {
                if (!kjson_bool(ref, "controller", false))
                        continue;
                const char *av = str_or(kjson_str(ref, "apiVersion"), "");
                const char *slash = strchr(av, '/');
                _cleanup_free_ char *kind = xstrdup(str_or(kjson_str(ref, "kind"), ""));
                for (char *p = kind; *p; p++)
                        if (*p >= 'A' && *p <= 'Z')
                                *p = (char)(*p - 'A' + 'a');
                free(ctrl);
                ctrl = slash ? xasprintf("%s.%.*s/%s", kind, (int)(slash - av), av,
                                         str_or(kjson_str(ref, "name"), ""))
                             : xasprintf("%s/%s", kind, str_or(kjson_str(ref, "name"), ""));
                break;
        }
        return json_pack("[s,o,o,o]", str_or(kjson_str(o, "metadata.name"), ""), own_str(ctrl),
                         integer(o, "revision"),
                         age_of(kjson_str(o, "metadata.creationTimestamp"), now));
}

/* Default TableConvertor: the name and creationTimestamp in RFC 3339. */
static json_t *created_cells(const json_t *o)
{
        const char *ts = kjson_str(o, "metadata.creationTimestamp");
        return json_pack("[s,s]", str_or(kjson_str(o, "metadata.name"), ""), str_or(ts, ""));
}

/* The cells of the kinds above; NULL for the others. */
static json_t *more_cells(const struct col *cols, const json_t *o, time_t now)
{
        if (cols == cols_deploy)
                return deploy_cells(o, now);
        if (cols == cols_rs)
                return rs_cells(o, now, false);
        if (cols == cols_rc)
                return rs_cells(o, now, true);
        if (cols == cols_sts)
                return sts_cells(o, now);
        if (cols == cols_ds)
                return ds_cells(o, now);
        if (cols == cols_job)
                return job_cells(o, now);
        if (cols == cols_cj)
                return cj_cells(o, now);
        if (cols == cols_podtemplate)
                return podtemplate_cells(o);
        if (cols == cols_pv)
                return pv_cells(o, now);
        if (cols == cols_pvc)
                return pvc_cells(o, now);
        if (cols == cols_quota)
                return quota_cells(o, now);
        if (cols == cols_eps)
                return eps_cells(o, now);
        if (cols == cols_ing)
                return ing_cells(o, now);
        if (cols == cols_ingclass)
                return ingclass_cells(o, now);
        if (cols == cols_netpol)
                return json_pack("[s,o,o]", str_or(kjson_str(o, "metadata.name"), ""),
                                 own_str(label_selector_str(kjson_get(o, "spec.podSelector"))),
                                 age_of(kjson_str(o, "metadata.creationTimestamp"), now));
        if (cols == cols_pdb)
                return pdb_cells(o, now);
        if (cols == cols_rb || cols == cols_crb)
                return binding_cells(o, now);
        if (cols == cols_sc)
                return sc_cells(o, now);
        if (cols == cols_hpa)
                return hpa_cells(o, now);
        if (cols == cols_pc)
                return pc_cells(o, now);
        if (cols == cols_cr)
                return cr_cells(o, now);
        if (cols == cols_created)
                return created_cells(o);
        return NULL;
}

json_t *table_row_cells(const struct scheme_resource *r, const json_t *obj, time_t now)
{
        if (r->custom)
                return crd_table_cells(r, obj, now);
        const struct col *cols = columns_for(r);
        const char *name = str_or(kjson_str(obj, "metadata.name"), "");
        json_t *more = more_cells(cols, obj, now);
        if (more)
                return more;
        json_t *age = age_of(kjson_str(obj, "metadata.creationTimestamp"), now);
        if (cols == cols_pod) {
                json_decref(age);
                return pod_cells(obj, now);
        }
        if (cols == cols_node) {
                json_decref(age);
                return node_cells(obj, now);
        }
        if (cols == cols_event) {
                json_decref(age);
                return event_cells(obj, now);
        }
        if (cols == cols_svc) {
                json_decref(age);
                return svc_cells(obj, now);
        }
        if (cols == cols_ep) {
                json_decref(age);
                return ep_cells(obj, now);
        }
        if (cols == cols_ns)
                return json_pack("[s,s,o]", name, str_or(kjson_str(obj, "status.phase"), ""), age);
        if (cols == cols_cm)
                return json_pack("[s,I,o]", name,
                                 (json_int_t)(json_object_size(json_object_get(obj, "data")) +
                                              json_object_size(json_object_get(obj, "binaryData"))),
                                 age);
        if (cols == cols_secret)
                return json_pack("[s,s,I,o]", name, str_or(kjson_str(obj, "type"), ""),
                                 (json_int_t)json_object_size(json_object_get(obj, "data")), age);
        if (cols == cols_sa)
                return json_pack("[s,I,o]", name,
                                 (json_int_t)json_array_size(json_object_get(obj, "secrets")), age);
        if (cols == cols_lease)
                return json_pack("[s,s,o]", name, str_or(kjson_str(obj, "spec.holderIdentity"), ""),
                                 age);
        return json_pack("[s,o]", name, age);
}

static json_t *partial_meta(const json_t *obj)
{
        json_t *meta = json_deep_copy(json_object_get(obj, "metadata"));
        if (!meta)
                meta = json_object();
        json_object_del(meta, "managedFields");
        return json_pack("{s:s,s:s,s:o}", "kind", "PartialObjectMetadata", "apiVersion",
                         "meta.k8s.io/v1", "metadata", meta);
}

json_t *table_new(const struct scheme_resource *r, const json_t *objs, enum table_include inc,
                  bool with_columns, time_t now)
{
        json_t *t = json_pack("{s:s,s:s,s:{}}", "kind", "Table", "apiVersion", "meta.k8s.io/v1",
                              "metadata");
        if (with_columns)
                json_object_set_new(t, "columnDefinitions", table_columns(r));
        json_t *rows = json_array();
        size_t i;
        json_t *o;
        json_array_foreach(objs, i, o)
        {
                json_t *row = json_pack("{s:o}", "cells", table_row_cells(r, o, now));
                if (inc == TABLE_INCLUDE_METADATA)
                        json_object_set_new(row, "object", partial_meta(o));
                else if (inc == TABLE_INCLUDE_OBJECT)
                        json_object_set(row, "object", o);
                json_array_append_new(rows, row);
        }
        json_object_set_new(t, "rows", rows);
        return t;
}
