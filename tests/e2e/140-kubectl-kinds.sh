#!/bin/bash
# 140-kubectl-kinds.sh — every served built-in kind through real kubectl 1.27 ... 1.33 (issue 4
# items 1, 2, 4): client-side apply of a manifest holding one object of each kind (created,
# configured, unchanged), the Table columns of printers.go (-o wide), -o yaml/json/name/jsonpath/
# custom-columns, the `create <kind>` generators (protobuf bodies from 1.32), scale through the
# scale subresource, metadata.generation, label/annotate, patch (merge, json, strategic), replace,
# 422 Invalid causes, delete -l / --all, and api-resources against a real 1.31 cluster's list.
# Expected texts are Kubernetes' (printers.go column names, kubectl's messages), not ours.
# The server runs without a node (--disable-agent); controllers may create pods that stay
# Pending, which no check depends on.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
KUBECTL_VERSIONS=${KUBECTL_VERSIONS:-"1.27 1.29 1.31 1.32 1.33"}

W=$(mktemp -d /tmp/timonel-e2e-kinds.XXXXXX)
D=$W/data
PORT=$(free_port)
KPORT=$(free_port)
KC=$D/kc.yaml
SERVER_PID=
on_exit "rm -rf $W"
on_exit "$TIMONEL killall --data-dir $D"
on_exit 'stop_server'
stop_server() {
        [ -n "$SERVER_PID" ] || return 0
        kill -TERM "$SERVER_PID" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
        SERVER_PID=
}

"$TIMONEL" server --data-dir "$D" --https-listen-port "$PORT" --kubelet-port "$KPORT" \
        --write-kubeconfig "$KC" --disable-agent >>"$W/server.log" 2>&1 &
SERVER_PID=$!
check "kubeconfig written" wait_for 10 test -s "$KC"

# same_lines FILE EXPECTED-TEXT — sorted line sets equal (kubectl prints apply results in
# manifest order, but we compare as sets so a reordered manifest does not matter)
same_lines() {
        local got want
        got=$(sort "$1")
        want=$(sort <<<"$2")
        [ "$got" = "$want" ] || { diff <(echo "$want") <(echo "$got") | sed 's/^/# /'; return 1; }
}
# header KUBECTL-ARGS... — the header line of a -o wide listing, single-spaced
header() { $K get "$@" -o wide 2>&1 | head -1 | tr -s ' ' | sed 's/ $//'; }

# manifest NS SFX REPLICAS CMVALUE VERBS — one object of each kind; cluster-scoped names end in
# SFX so the versions do not collide
manifest() {
        local ns=$1 sfx=$2 replicas=$3 cmval=$4 verbs=$5
        cat <<YAML
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: $ns}
data: {mode: "$cmval"}
---
apiVersion: v1
kind: Secret
metadata: {name: creds, namespace: $ns}
stringData: {password: s3cret}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: $ns}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: $ns, labels: {app: web}}
spec:
  replicas: $replicas
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: nginx, image: "nginx:1.27"}]}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs1, namespace: $ns}
spec:
  replicas: 0
  selector: {matchLabels: {app: rs1}}
  template:
    metadata: {labels: {app: rs1}}
    spec: {containers: [{name: c, image: "busybox:1.36"}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: $ns}
spec:
  serviceName: db
  replicas: 0
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, image: "busybox:1.36"}]}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: $ns}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec: {nodeSelector: {role: none}, containers: [{name: c, image: "busybox:1.36"}]}
---
apiVersion: apps/v1
kind: ControllerRevision
metadata: {name: agent-1, namespace: $ns}
revision: 1
data: {spec: {x: 1}}
---
apiVersion: batch/v1
kind: Job
metadata: {name: once, namespace: $ns}
spec:
  suspend: true
  template:
    spec: {restartPolicy: Never, containers: [{name: c, image: "busybox:1.36", command: [echo, hi]}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick, namespace: $ns}
spec:
  schedule: "*/5 * * * *"
  suspend: true
  jobTemplate:
    spec:
      template:
        spec: {restartPolicy: OnFailure, containers: [{name: c, image: "busybox:1.36"}]}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-$sfx}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  hostPath: {path: /tmp/nonexistent-pv-$sfx}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: $ns}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: v1
kind: LimitRange
metadata: {name: limits, namespace: $ns}
spec:
  limits: [{type: Container, max: {cpu: "1"}, min: {cpu: 100m}}]
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: quota, namespace: $ns}
spec: {hard: {pods: "10", requests.cpu: "4", limits.cpu: "8"}}
---
apiVersion: v1
kind: ReplicationController
metadata: {name: rc1, namespace: $ns}
spec:
  replicas: 0
  template:
    metadata: {labels: {app: rc1}}
    spec: {containers: [{name: c, image: "busybox:1.36"}]}
---
apiVersion: v1
kind: PodTemplate
metadata: {name: tmpl, namespace: $ns}
template:
  metadata: {labels: {app: tmpl}}
  spec: {containers: [{name: c, image: "busybox:1.36"}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-abc, namespace: $ns, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: http, port: 80, protocol: TCP}]
endpoints: [{addresses: ["10.42.0.5"]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: $ns}
spec: {podSelector: {matchLabels: {app: web}}, policyTypes: [Ingress]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: $ns}
spec:
  ingressClassName: nginx-$sfx
  rules:
  - host: web.example.com
    http:
      paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx-$sfx}
spec: {controller: k8s.io/ingress-nginx}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web, namespace: $ns}
spec: {maxUnavailable: 1}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: $ns}
rules: [{apiGroups: [""], resources: [pods], verbs: [$verbs]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: $ns}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: jane}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "kinds:view-$sfx"}
rules: [{apiGroups: [apps], resources: [deployments], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: "kinds:view-$sfx"}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "kinds:view-$sfx"}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: Group, name: devs}]
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: fast-$sfx}
provisioner: example.com/fast
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: $ns}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 5
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 80}}}]
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high-$sfx}
value: 1000
description: high priority
---
apiVersion: events.k8s.io/v1
kind: Event
metadata: {name: web.1, namespace: $ns}
eventTime: "2024-01-01T00:00:00.000000Z"
reportingController: kinds/test
reportingInstance: kinds-1
action: Testing
reason: Tested
type: Normal
note: hello
regarding: {kind: Deployment, name: web, namespace: $ns, apiVersion: apps/v1}
YAML
}

# results NS SFX WORD — the line kubectl apply prints for each object of the manifest
results() {
        local ns=$1 sfx=$2 w=$3
        cat <<EOF
configmap/settings $w
secret/creds $w
service/web $w
deployment.apps/web $w
replicaset.apps/rs1 $w
statefulset.apps/db $w
daemonset.apps/agent $w
controllerrevision.apps/agent-1 $w
job.batch/once $w
cronjob.batch/tick $w
persistentvolume/pv-$sfx $w
persistentvolumeclaim/data $w
limitrange/limits $w
resourcequota/quota $w
replicationcontroller/rc1 $w
podtemplate/tmpl $w
endpointslice.discovery.k8s.io/web-abc $w
networkpolicy.networking.k8s.io/deny $w
ingress.networking.k8s.io/web $w
ingressclass.networking.k8s.io/nginx-$sfx $w
poddisruptionbudget.policy/web $w
role.rbac.authorization.k8s.io/reader $w
rolebinding.rbac.authorization.k8s.io/reader $w
clusterrole.rbac.authorization.k8s.io/kinds:view-$sfx $w
clusterrolebinding.rbac.authorization.k8s.io/kinds:view-$sfx $w
storageclass.storage.k8s.io/fast-$sfx $w
horizontalpodautoscaler.autoscaling/web $w
priorityclass.scheduling.k8s.io/high-$sfx $w
event.events.k8s.io/web.1 $w
EOF
}

for V in $KUBECTL_VERSIONS; do
        K="/usr/lib/google-cloud-sdk/bin/kubectl.$V --kubeconfig $KC --cache-dir $W/cache-$V"
        SFX=${V/./}
        NS=kinds-$SFX
        check "[$V] create namespace" bash -c "$K create namespace $NS >/dev/null"

        # ---- apply: create, change, unchanged ----
        manifest $NS $SFX 2 a "get, list" >"$W/m1-$V.yaml"
        $K apply -f "$W/m1-$V.yaml" >"$W/apply1-$V.out" 2>&1
        check "[$V] apply creates one object of each of 29 kinds" same_lines "$W/apply1-$V.out" "$(results $NS $SFX created)"
        manifest $NS $SFX 3 b "get, list, watch" >"$W/m2-$V.yaml"
        $K apply -f "$W/m2-$V.yaml" >"$W/apply2-$V.out" 2>&1
        for l in "configmap/settings configured" "deployment.apps/web configured" \
                "role.rbac.authorization.k8s.io/reader configured" "job.batch/once unchanged" \
                "cronjob.batch/tick unchanged" "statefulset.apps/db unchanged" \
                "daemonset.apps/agent unchanged" "persistentvolume/pv-$SFX unchanged" \
                "ingress.networking.k8s.io/web unchanged" "priorityclass.scheduling.k8s.io/high-$SFX unchanged" \
                "storageclass.storage.k8s.io/fast-$SFX unchanged" "horizontalpodautoscaler.autoscaling/web unchanged" \
                "networkpolicy.networking.k8s.io/deny unchanged" "replicationcontroller/rc1 unchanged" \
                "podtemplate/tmpl unchanged" "service/web unchanged" "persistentvolumeclaim/data unchanged"; do
                check "[$V] second apply: $l" grep -qx "$l" "$W/apply2-$V.out"
        done
        $K apply -f "$W/m2-$V.yaml" >"$W/apply3-$V.out" 2>&1
        for l in "configmap/settings unchanged" "deployment.apps/web unchanged" \
                "role.rbac.authorization.k8s.io/reader unchanged"; do
                check "[$V] third apply: $l" grep -qx "$l" "$W/apply3-$V.out"
        done
        # Same values take the fields over from the client-side applier (kube-apiserver's
        # lastAppliedManager allows kubectl's conflicts on the last-applied fields whose live
        # values match), except the LimitRange's atomic .spec.limits, which the server's
        # defaults (default, defaultRequest) made differ from what was applied: a conflict there.
        out=$($K apply --server-side -f "$W/m2-$V.yaml" 2>&1 | grep -v 'serverside-applied$' | head -1)
        check "[$V] server-side apply of every kind, same values: only the defaulted atomic list conflicts ($out)" \
                test "$out" = 'error: Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using v1: .spec.limits'
        check "[$V] configmap changed by apply" test "$($K get cm settings -n $NS -o jsonpath='{.data.mode}')" = b
        check "[$V] role verbs changed by apply" test "$($K get role reader -n $NS -o jsonpath='{.rules[0].verbs}')" = '["get","list","watch"]'

        # ---- metadata.generation: spec changes only; none on ConfigMaps and Namespaces ----
        check "[$V] deployment generation 2 after the replicas change" test "$($K get deploy web -n $NS -o jsonpath='{.metadata.generation}')" = 2
        check "[$V] configmap has no generation" test -z "$($K get cm settings -n $NS -o jsonpath='{.metadata.generation}')"
        check "[$V] namespace has no generation" test -z "$($K get ns $NS -o jsonpath='{.metadata.generation}')"
        check "[$V] statefulset generation 1" test "$($K get sts db -n $NS -o jsonpath='{.metadata.generation}')" = 1

        # ---- defaults (as `kubectl get -o yaml` shows them on a real cluster) ----
        $K get deploy web -n $NS -o yaml >"$W/deploy-$V.yaml"
        for l in "  progressDeadlineSeconds: 600" "  revisionHistoryLimit: 10" "      maxSurge: 25%" \
                "      maxUnavailable: 25%" "    type: RollingUpdate" "      creationTimestamp: null" \
                "      dnsPolicy: ClusterFirst" "      restartPolicy: Always" \
                "      schedulerName: default-scheduler" "      terminationGracePeriodSeconds: 30" \
                "        terminationMessagePath: /dev/termination-log" "        imagePullPolicy: IfNotPresent"; do
                check "[$V] deployment default '$l'" grep -qxF -- "$l" "$W/deploy-$V.yaml"
        done
        check "[$V] template has no Pod-only defaults" bash -c "! grep -Eq 'enableServiceLinks|tolerations|priority:' $W/deploy-$V.yaml"
        check "[$V] job: generated selector and labels" bash -c "$K get job once -n $NS -o yaml | grep -q 'batch.kubernetes.io/controller-uid:'"
        check "[$V] job: backoffLimit 6, completionMode NonIndexed" bash -c "$K get job once -n $NS -o jsonpath='{.spec.backoffLimit} {.spec.completionMode} {.spec.completions} {.spec.parallelism}' | grep -qx '6 NonIndexed 1 1'"
        check "[$V] cronjob defaults" bash -c "$K get cj tick -n $NS -o jsonpath='{.spec.concurrencyPolicy} {.spec.successfulJobsHistoryLimit} {.spec.failedJobsHistoryLimit}' | grep -qx 'Allow 3 1'"
        check "[$V] secret stringData -> data" test "$($K get secret creds -n $NS -o jsonpath='{.data.password}')" = czNjcmV0
        # the PV binder makes a new volume Available; a claim without a class gets the default
        # StorageClass (local-path, WaitForFirstConsumer: it stays Pending without a pod)
        pv_avail() { [ "$($K get pv pv-$SFX -o jsonpath='{.status.phase} {.spec.persistentVolumeReclaimPolicy}')" = "Available Retain" ]; }
        check "[$V] pv status Available, reclaim Retain" wait_for 10 pv_avail
        check "[$V] limitrange defaults from max/min" test "$($K get limits limits -n $NS -o jsonpath='{.spec.limits[0].default.cpu} {.spec.limits[0].defaultRequest.cpu}')" = "1 1"
        check "[$V] storageclass defaults" test "$($K get sc fast-$SFX -o jsonpath='{.reclaimPolicy} {.volumeBindingMode}')" = "Delete Immediate"
        check "[$V] priorityclass preemptionPolicy" test "$($K get pc high-$SFX -o jsonpath='{.preemptionPolicy}')" = PreemptLowerPriority
        check "[$V] events.k8s.io Event readable as a core Event" test "$($K get events.v1. web.1 -n $NS -o jsonpath='{.involvedObject.kind} {.message}' 2>/dev/null)" = "Deployment hello"

        # ---- Table columns (-o wide), printers.go ----
        while IFS='|' read -r res want; do
                got=$(header $res -n $NS)
                check "[$V] columns of $res ($got)" test "$got" = "$want"
        done <<EOF
deployments|NAME READY UP-TO-DATE AVAILABLE AGE CONTAINERS IMAGES SELECTOR
replicasets|NAME DESIRED CURRENT READY AGE CONTAINERS IMAGES SELECTOR
statefulsets|NAME READY AGE CONTAINERS IMAGES
daemonsets|NAME DESIRED CURRENT READY UP-TO-DATE AVAILABLE NODE SELECTOR AGE CONTAINERS IMAGES SELECTOR
controllerrevisions|NAME CONTROLLER REVISION AGE
jobs|NAME STATUS COMPLETIONS DURATION AGE CONTAINERS IMAGES SELECTOR
cronjobs|NAME SCHEDULE TIMEZONE SUSPEND ACTIVE LAST SCHEDULE AGE CONTAINERS IMAGES SELECTOR
persistentvolumeclaims|NAME STATUS VOLUME CAPACITY ACCESS MODES STORAGECLASS VOLUMEATTRIBUTESCLASS AGE VOLUMEMODE
limitranges|NAME CREATED AT
resourcequotas|NAME AGE REQUEST LIMIT
replicationcontrollers|NAME DESIRED CURRENT READY AGE CONTAINERS IMAGES SELECTOR
podtemplates|NAME CONTAINERS IMAGES POD LABELS
endpointslices|NAME ADDRESSTYPE PORTS ENDPOINTS AGE
networkpolicies|NAME POD-SELECTOR AGE
ingresses|NAME CLASS HOSTS ADDRESS PORTS AGE
poddisruptionbudgets|NAME MIN AVAILABLE MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE
roles|NAME CREATED AT
rolebindings|NAME ROLE AGE USERS GROUPS SERVICEACCOUNTS
horizontalpodautoscalers|NAME REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE
EOF
        while IFS='|' read -r res want; do
                got=$($K get $res -o wide 2>&1 | head -1 | tr -s ' ' | sed 's/ $//')
                check "[$V] columns of $res ($got)" test "$got" = "$want"
        done <<EOF
persistentvolumes|NAME CAPACITY ACCESS MODES RECLAIM POLICY STATUS CLAIM STORAGECLASS VOLUMEATTRIBUTESCLASS REASON AGE VOLUMEMODE
ingressclasses|NAME CONTROLLER PARAMETERS AGE
clusterroles|NAME CREATED AT
clusterrolebindings|NAME ROLE AGE USERS GROUPS SERVICEACCOUNTS
storageclasses|NAME PROVISIONER RECLAIMPOLICY VOLUMEBINDINGMODE ALLOWVOLUMEEXPANSION AGE
priorityclasses|NAME VALUE GLOBAL-DEFAULT AGE PREEMPTIONPOLICY
EOF
        # rows (cells as printers.go computes them; AGE and the controller-managed counts aside)
        row() { $K get "$@" --no-headers -o wide 2>&1 | tr -s ' ' | sed 's/ $//'; }
        check "[$V] statefulset row" test "$(row sts db -n $NS | cut -d' ' -f1,2,4,5)" = "db 0/0 c busybox:1.36"
        check "[$V] daemonset row" test "$(row ds agent -n $NS | cut -d' ' -f1,7,9-)" = "agent role=none c busybox:1.36 app=agent"
        check "[$V] job row" test "$(row job once -n $NS | cut -d' ' -f1,3,5,6)" = "once 0/1 c busybox:1.36"
        check "[$V] cronjob row" test "$(row cj tick -n $NS | cut -d' ' -f1-10,12-)" = "tick */5 * * * * <none> True 0 <none> c busybox:1.36 <none>"
        check "[$V] pv row" test "$(row pv pv-$SFX | cut -d' ' -f1-6,8)" = "pv-$SFX 1Gi RWO Retain Available <unset> Filesystem"
        check "[$V] pvc row" test "$(row pvc data -n $NS | cut -d' ' -f1,2,3,4,6)" = "data Pending local-path <unset> Filesystem"
        # used pods: whatever the controllers created by then (the quota counts them)
        check "[$V] quota row" grep -Eqx "quota pods: [0-9]+/10, requests.cpu: [0-9]+m?/4 limits.cpu: [0-9]+m?/8" <<<"$(row quota quota -n $NS | cut -d' ' -f1,3-)"
        check "[$V] rc row" test "$(row rc rc1 -n $NS | cut -d' ' -f1-4,6-)" = "rc1 0 0 0 c busybox:1.36 app=rc1"
        check "[$V] podtemplate row" test "$(row podtemplate tmpl -n $NS)" = "tmpl c busybox:1.36 app=tmpl"
        check "[$V] endpointslice row" test "$(row endpointslice web-abc -n $NS | cut -d' ' -f1-4)" = "web-abc IPv4 80 10.42.0.5"
        check "[$V] networkpolicy row" test "$(row netpol deny -n $NS | cut -d' ' -f1,2)" = "deny app=web"
        check "[$V] ingress row" test "$(row ing web -n $NS | cut -d' ' -f1-3,4)" = "web nginx-$SFX web.example.com 80"
        check "[$V] ingressclass row" test "$(row ingressclass nginx-$SFX | cut -d' ' -f1-3)" = "nginx-$SFX k8s.io/ingress-nginx <none>"
        check "[$V] pdb row" test "$(row pdb web -n $NS | cut -d' ' -f1-3)" = "web N/A 1"
        check "[$V] rolebinding row" test "$(row rolebinding reader -n $NS | cut -d' ' -f1,2,4)" = "reader Role/reader jane"
        check "[$V] storageclass row" test "$(row sc fast-$SFX | cut -d' ' -f1-5)" = "fast-$SFX example.com/fast Delete Immediate false"
        check "[$V] hpa row" test "$(row hpa web -n $NS | cut -d' ' -f1-6)" = "web Deployment/web cpu: <unknown>/80% 1 5"
        check "[$V] priorityclass row" test "$(row pc high-$SFX | cut -d' ' -f1,2,3,5)" = "high-$SFX 1000 false PreemptLowerPriority"
        check "[$V] role row: CREATED AT is RFC 3339" bash -c "$K get role reader -n $NS --no-headers | grep -Eq '^reader +20[0-9-]+T[0-9:]+Z$'"
        $K annotate sc fast-$SFX storageclass.kubernetes.io/is-default-class=true >/dev/null
        check "[$V] default storageclass row" test "$(row sc fast-$SFX | cut -d' ' -f1,2)" = "fast-$SFX (default)"
        $K annotate sc fast-$SFX storageclass.kubernetes.io/is-default-class- >/dev/null

        # ---- explain (OpenAPI v3 schemas from the struct tags; no descriptions) ----
        out=$($K explain deployment.spec.replicas 2>&1 | tr -s ' ' | tr '\n' '|')
        check "[$V] explain deployment.spec.replicas (${out})" grep -qF 'GROUP: apps|KIND: Deployment|VERSION: v1||FIELD: replicas <integer>|' <<<"$out"
        out=$($K explain cronjob.spec.jobTemplate.spec.template.spec.containers.image 2>&1 | grep FIELD)
        check "[$V] explain a deep field (${out})" test "$out" = "FIELD: image <string>"

        out=$($K explain storageclass.provisioner 2>&1 | grep FIELD)
        check "[$V] explain a storage.k8s.io field (${out})" test "$out" = "FIELD: provisioner <string>"

        # ---- output modes ----
        check "[$V] -o name" test "$($K get deploy,sts,cj -n $NS -o name | tr '\n' ' ')" = "deployment.apps/web statefulset.apps/db cronjob.batch/tick "
        check "[$V] -o json" bash -c "$K get deploy web -n $NS -o json | jq -e '.kind == \"Deployment\" and .apiVersion == \"apps/v1\" and .spec.replicas == 3' >/dev/null"
        check "[$V] -o json list kind" bash -c "$K get cj -n $NS -o json | jq -e '.kind == \"List\" and (.items | length) == 1 and .items[0].kind == \"CronJob\"' >/dev/null"
        check "[$V] -o jsonpath" test "$($K get sts db -n $NS -o jsonpath='{.spec.podManagementPolicy}/{.spec.updateStrategy.type}/{.spec.updateStrategy.rollingUpdate.partition}')" = "OrderedReady/RollingUpdate/0"
        out=$($K get deploy web -n $NS -o custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas,STRATEGY:.spec.strategy.type | tr -s ' ' | tr '\n' '|')
        check "[$V] -o custom-columns (${out//$'\n'/ })" test "$out" = "NAME REPLICAS STRATEGY|web 3 RollingUpdate|"

        # `get all`: the "all" category, kinds in a real server's discovery order (pods, which the
        # controllers may or may not have created, left out)
        out=$($K get all -n $NS -o name 2>&1 | sed 's|/.*||' | uniq | grep -vx pod | tr '\n' ' ')
        check "[$V] get all ($out)" test "$out" = "replicationcontroller service daemonset.apps deployment.apps replicaset.apps statefulset.apps horizontalpodautoscaler.autoscaling cronjob.batch job.batch "

        # ---- scale subresource ----
        out=$($K scale deploy web -n $NS --replicas=4 2>&1)
        check "[$V] scale deployment (${out//$'\n'/ })" test "$out" = "deployment.apps/web scaled"
        check "[$V] scaled to 4, generation 3" test "$($K get deploy web -n $NS -o jsonpath='{.spec.replicas} {.metadata.generation}')" = "4 3"
        out=$($K scale sts/db rc/rc1 -n $NS --replicas=0 2>&1 | tr '\n' ' ')
        check "[$V] scale statefulset and rc (${out//$'\n'/ })" test "$out" = "statefulset.apps/db scaled replicationcontroller/rc1 scaled "
        check "[$V] GET .../scale is an autoscaling/v1 Scale" bash -c "$K get --raw /apis/apps/v1/namespaces/$NS/deployments/web/scale | jq -e '.kind == \"Scale\" and .apiVersion == \"autoscaling/v1\" and .spec.replicas == 4 and .status.selector == \"app=web\"' >/dev/null"
        out=$($K scale ds agent -n $NS --replicas=2 2>&1)
        check "[$V] no scale on daemonsets (${out//$'\n'/ })" grep -q 'the server could not find the requested resource' <<<"$out"
        out=$($K scale deploy web -n $NS --replicas=-1 2>&1)
        check "[$V] negative replicas refused by kubectl (${out//$'\n'/ })" grep -q 'replicas' <<<"$out"

        # ---- label, annotate, patch, replace ----
        out=$($K label deploy web -n $NS tier=front 2>&1)
        check "[$V] label (${out//$'\n'/ })" test "$out" = "deployment.apps/web labeled"
        out=$($K annotate deploy web -n $NS note=x 2>&1)
        # kubectl 1.27 prints "annotate" (its own wording, no server involvement)
        check "[$V] annotate (${out//$'\n'/ })" grep -Eqx "deployment.apps/web annotated?" <<<"$out"
        check "[$V] label/annotate keep the generation" test "$($K get deploy web -n $NS -o jsonpath='{.metadata.generation}')" = 3
        out=$($K patch deploy web -n $NS --type=merge -p '{"spec":{"minReadySeconds":5}}' 2>&1)
        check "[$V] merge patch (${out//$'\n'/ })" test "$out" = "deployment.apps/web patched"
        out=$($K patch deploy web -n $NS --type=json -p '[{"op":"replace","path":"/spec/revisionHistoryLimit","value":3}]' 2>&1)
        check "[$V] json patch (${out//$'\n'/ })" test "$out" = "deployment.apps/web patched"
        out=$($K patch deploy web -n $NS -p '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.28"}]}}}}' 2>&1)
        check "[$V] strategic merge patch (${out//$'\n'/ })" test "$out" = "deployment.apps/web patched"
        check "[$V] patches applied, container kept its defaults" test "$($K get deploy web -n $NS -o jsonpath='{.spec.minReadySeconds} {.spec.revisionHistoryLimit} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].terminationMessagePolicy} {.metadata.generation}')" = "5 3 nginx:1.28 File 6"
        out=$($K patch deploy web -n $NS --type=merge -p '{"spec":{"minReadySeconds":5}}' 2>&1)
        check "[$V] no-op patch (${out//$'\n'/ })" test "$out" = "deployment.apps/web patched (no change)"
        $K get cj tick -n $NS -o yaml | sed 's|\*/5 \* \* \* \*|0 3 * * *|' >"$W/cj-$V.yaml"
        out=$($K replace -f "$W/cj-$V.yaml" 2>&1)
        check "[$V] replace (${out//$'\n'/ })" test "$out" = "cronjob.batch/tick replaced"
        check "[$V] replaced schedule" test "$($K get cj tick -n $NS -o jsonpath='{.spec.schedule}')" = "0 3 * * *"

        # ---- 422 Invalid, worded as Kubernetes does ----
        cat >"$W/bad-$V.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: bad, namespace: $NS}
spec:
  selector: {matchLabels: {app: front}}
  template:
    metadata: {labels: {app: back}}
    spec: {restartPolicy: Never, containers: [{name: c, image: busybox}]}
YAML
        $K apply -f "$W/bad-$V.yaml" >"$W/bad-$V.out" 2>&1
        check "[$V] invalid deployment: header" grep -q 'The Deployment "bad" is invalid:' "$W/bad-$V.out"
        check "[$V] invalid deployment: selector cause" grep -qF '* spec.template.metadata.labels: Invalid value: map[string]string{"app":"back"}: `selector` does not match template `labels`' "$W/bad-$V.out"
        check "[$V] invalid deployment: restartPolicy cause" grep -qF '* spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"' "$W/bad-$V.out"
        out=$($K create job bad -n $NS --image=busybox --dry-run=client -o yaml | sed 's/restartPolicy: Never/restartPolicy: Always/' | $K apply -f - 2>&1)
        check "[$V] invalid job restartPolicy (${out//$'\n'/ })" grep -qF 'spec.template.spec.restartPolicy: Required value: valid values: "OnFailure", "Never"' <<<"$out"
        out=$($K create cronjob bad -n $NS --image=busybox --schedule='61 * * * *' 2>&1)
        check "[$V] invalid cron schedule (${out//$'\n'/ })" grep -qF 'spec.schedule: Invalid value: "61 * * * *"' <<<"$out"
        out=$($K patch deploy web -n $NS --type=merge -p '{"spec":{"selector":{"matchLabels":{"app":"other"}}}}' 2>&1)
        check "[$V] selector is immutable (${out//$'\n'/ })" grep -q 'spec.selector: Invalid value: .*field is immutable' <<<"$out"
        out=$($K patch rolebinding reader -n $NS --type=merge -p '{"roleRef":{"name":"other"}}' 2>&1)
        check "[$V] roleRef cannot change (${out//$'\n'/ })" grep -q 'roleRef: Invalid value: .*cannot change roleRef' <<<"$out"
        out=$($K create -f - 2>&1 <<YAML
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: broken, namespace: $NS}
rules: [{resources: [pods]}]
YAML
)
        check "[$V] invalid role: verbs" grep -qF 'rules[0].verbs: Required value: verbs must contain at least one value' <<<"$out"
        check "[$V] invalid role: apiGroups" grep -qF 'rules[0].apiGroups: Required value: resource rules must supply at least one api group' <<<"$out"
        out=$($K create priorityclass system-bad --value=2000000000 2>&1)
        check "[$V] invalid priorityclass (${out//$'\n'/ })" grep -qF "value: Forbidden: maximum allowed value of a user defined priority is 1000000000" <<<"$out"
        # unknown fields at any depth: 400 under Strict (kubectl's default), nothing stored
        out=$($K apply -f - 2>&1 <<YAML
apiVersion: batch/v1
kind: CronJob
metadata: {name: typo, namespace: $NS}
spec:
  schedule: "@hourly"
  jobTemplate:
    spec:
      backoffLimt: 2
      template:
        spec: {restartPolicy: Never, containers: [{name: c, image: busybox, imagePolicy: Always}]}
YAML
)
        check "[$V] unknown fields under Strict (${out//$'\n'/ })" grep -qF 'CronJob in version "v1" cannot be handled as a CronJob: strict decoding error: unknown field "spec.jobTemplate.spec.backoffLimt", unknown field "spec.jobTemplate.spec.template.spec.containers[0].imagePolicy"' <<<"$out"
        # wrong JSON types: 400 even with --validate=false (fieldValidation=Ignore)
        out=$($K create --validate=false -f - 2>&1 <<YAML
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: typed, namespace: $NS}
spec:
  replicas: "two"
  selector: {matchLabels: {app: typed}}
  template:
    metadata: {labels: {app: typed}}
    spec: {containers: [{name: c, image: busybox}]}
YAML
)
        check "[$V] wrong type (${out//$'\n'/ })" grep -qF 'StatefulSet in version "v1" cannot be handled as a StatefulSet: json: cannot unmarshal string into Go struct field StatefulSetSpec.spec.replicas of type int32' <<<"$out"
        # Warn (and Ignore): unknown fields are dropped, never stored
        out=$($K apply --validate=warn -f - 2>&1 <<YAML
apiVersion: v1
kind: ConfigMap
metadata: {name: warned, namespace: $NS, bogusMeta: 1}
data: {a: b}
bogus: {x: 1}
YAML
)
        check "[$V] Warn: warnings for unknown fields (${out//$'\n'/ })" grep -qF 'unknown field "bogus"' <<<"$out"
        check "[$V] Warn: unknown fields not stored" test "$($K get cm warned -n $NS -o json | jq -c '[has("bogus"), (.metadata | has("bogusMeta")), .data.a]')" = '[false,false,"b"]'
        check "[$V] nothing invalid was stored" bash -c "! $K get deploy/bad job/bad cj/bad cj/typo sts/typed role/broken -n $NS 2>/dev/null | grep -q ."

        # ---- create generators (1.32+ send protobuf bodies) ----
        G=gen-$SFX
        $K create namespace $G >/dev/null
        while IFS='|' read -r want cmd; do
                out=$(eval "$K -n $G create $cmd" 2>&1)
                check "[$V] create $cmd (${out//$'\n'/ })" test "$out" = "$want"
        done <<EOF
deployment.apps/web created|deployment web --image=nginx:1.27 --replicas=2
job.batch/pi created|job pi --image=perl:5.34 -- perl -e 'print 1'
cronjob.batch/tick created|cronjob tick --image=busybox --schedule='*/1 * * * *' -- date
role.rbac.authorization.k8s.io/pod-reader created|role pod-reader --verb=get,list --resource=pods
rolebinding.rbac.authorization.k8s.io/pod-reader created|rolebinding pod-reader --role=pod-reader --user=jane --serviceaccount=$G:default
clusterrole.rbac.authorization.k8s.io/gen-$SFX-reader created|clusterrole gen-$SFX-reader --verb=get --resource=nodes
service/web created|service clusterip web --tcp=80:8080
configmap/cfg created|configmap cfg --from-literal=a=1 --from-literal=b=2
secret/pw created|secret generic pw --from-literal=password=x
resourcequota/q created|quota q --hard=pods=5,requests.cpu=2
poddisruptionbudget.policy/web created|pdb web --selector=app=web --min-available=1
priorityclass.scheduling.k8s.io/gen-$SFX created|priorityclass gen-$SFX --value=100 --description=gen
ingress.networking.k8s.io/web created|ingress web --rule=foo.example.com/bar=web:80
EOF
        check "[$V] generated deployment defaults" test "$($K get deploy web -n $G -o jsonpath='{.spec.replicas} {.spec.strategy.type} {.spec.template.spec.restartPolicy}')" = "2 RollingUpdate Always"
        check "[$V] generated job: restartPolicy Never, generated selector" test "$($K get job pi -n $G -o jsonpath='{.spec.template.spec.restartPolicy} {.spec.template.metadata.labels.job-name}')" = "Never pi"
        check "[$V] generated rolebinding subjects" test "$($K get rolebinding pod-reader -n $G -o jsonpath='{.subjects[*].kind}')" = "User ServiceAccount"
        check "[$V] generated quota row" grep -Eqx "q pods: [0-9]+/5, requests.cpu: 0/2" <<<"$($K get quota q -n $G --no-headers | tr -s ' ' | sed 's/ $//' | cut -d' ' -f1,3-)"
        check "[$V] generated ingress row" test "$($K get ing web -n $G --no-headers | tr -s ' ' | cut -d' ' -f1-4)" = "web <none> foo.example.com 80"

        # ---- delete -l, delete --all ----
        $K label cm/cfg secret/pw -n $G tier=gone >/dev/null
        out=$($K delete cm,secret -n $G -l tier=gone 2>&1 | sort | tr '\n' '|')
        check "[$V] delete -l (${out//$'\n'/ })" test "$out" = 'configmap "cfg" deleted|secret "pw" deleted|'
        out=$($K delete roles,rolebindings,pdb,quota -n $G --all 2>&1 | sort | tr '\n' '|')
        check "[$V] delete --all (${out//$'\n'/ })" test "$out" = 'poddisruptionbudget.policy "web" deleted|resourcequota "q" deleted|role.rbac.authorization.k8s.io "pod-reader" deleted|rolebinding.rbac.authorization.k8s.io "pod-reader" deleted|'
        check "[$V] nothing left after delete --all" bash -c "[ -z \"\$($K get roles,rolebindings,pdb,quota -n $G -o name 2>/dev/null)\" ]"
        out=$($K delete -f "$W/m2-$V.yaml" --wait=false 2>&1 | grep -c deleted)
        check "[$V] delete -f of the manifest ($out objects)" test "$out" = 29
        $K delete clusterrole gen-$SFX-reader priorityclass gen-$SFX >/dev/null 2>&1
        $K delete namespace $G $NS --wait=false >/dev/null 2>&1
done

# ---- api-resources: the kinds served, as `kubectl api-resources` prints them for a real 1.31
# cluster (columns NAME SHORTNAMES APIVERSION NAMESPACED KIND) ----
K="/usr/lib/google-cloud-sdk/bin/kubectl.1.31 --kubeconfig $KC --cache-dir $W/cache-ar"
$K api-resources --no-headers 2>&1 | tr -s ' ' >"$W/api-resources.out"
while read -r line; do
        check "api-resources: $line" grep -qxF "$line" "$W/api-resources.out"
done <<'EOF'
configmaps cm v1 true ConfigMap
endpoints ep v1 true Endpoints
events ev v1 true Event
limitranges limits v1 true LimitRange
namespaces ns v1 false Namespace
nodes no v1 false Node
persistentvolumeclaims pvc v1 true PersistentVolumeClaim
persistentvolumes pv v1 false PersistentVolume
pods po v1 true Pod
podtemplates v1 true PodTemplate
replicationcontrollers rc v1 true ReplicationController
resourcequotas quota v1 true ResourceQuota
secrets v1 true Secret
serviceaccounts sa v1 true ServiceAccount
services svc v1 true Service
controllerrevisions apps/v1 true ControllerRevision
daemonsets ds apps/v1 true DaemonSet
deployments deploy apps/v1 true Deployment
replicasets rs apps/v1 true ReplicaSet
statefulsets sts apps/v1 true StatefulSet
horizontalpodautoscalers hpa autoscaling/v2 true HorizontalPodAutoscaler
cronjobs cj batch/v1 true CronJob
jobs batch/v1 true Job
leases coordination.k8s.io/v1 true Lease
endpointslices discovery.k8s.io/v1 true EndpointSlice
events ev events.k8s.io/v1 true Event
ingressclasses networking.k8s.io/v1 false IngressClass
ingresses ing networking.k8s.io/v1 true Ingress
networkpolicies netpol networking.k8s.io/v1 true NetworkPolicy
poddisruptionbudgets pdb policy/v1 true PodDisruptionBudget
clusterrolebindings rbac.authorization.k8s.io/v1 false ClusterRoleBinding
clusterroles rbac.authorization.k8s.io/v1 false ClusterRole
rolebindings rbac.authorization.k8s.io/v1 true RoleBinding
roles rbac.authorization.k8s.io/v1 true Role
priorityclasses pc scheduling.k8s.io/v1 false PriorityClass
storageclasses sc storage.k8s.io/v1 false StorageClass
EOF
out=$($K api-resources --api-group=apps -o name 2>&1 | tr '\n' ' ')
check "api-resources --api-group=apps -o name (${out//$'\n'/ })" test "$out" = "controllerrevisions.apps daemonsets.apps deployments.apps replicasets.apps statefulsets.apps "
out=$($K api-resources --namespaced=false --api-group=storage.k8s.io --no-headers 2>&1 | tr -s ' ')
check "api-resources --namespaced=false (${out//$'\n'/ })" test "$out" = "storageclasses sc storage.k8s.io/v1 false StorageClass"

check "server still up" $K get --raw /readyz
exit 0
