#!/bin/bash
# 331-metrics-top.sh — metrics.k8s.io/v1beta1 served by the API server from the node agent's
# /stats/summary (as metrics-server serves it): discovery lists the group (kubectl top needs
# it), NodeMetrics/PodMetrics get and list (all namespaces, one namespace, labelSelector, 404
# for an unknown pod), and `kubectl top nodes`, `top pods`, `top pods -A`, `top pods
# --containers` print kubectl's columns with a busy-loop pod's CPU visible. kubectl 1.31/1.33.
# Also pods/eviction of an unready pod (a failing readiness probe needs the real agent): refused
# under the default IfHealthyBudget with an unmet budget, allowed with AlwaysAllow; an evicted
# pod carries the DisruptionTarget condition through its grace period.
# Root only (a real container).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
W=$(mktemp -d /tmp/timonel-e2e-top.XXXXXX)
D=$W/data
PORT=$(free_port)
KPORT=$(free_port)
KC=$W/kc.yaml
BR=tmnlt$((RANDOM % 100000))
NET=$((16 * (1 + RANDOM % 14)))
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

bash "$ROOT/tests/data/images/make-busybox-tars.sh" "$W/img" >"$W/img.log" 2>&1
check "image import" "$TIMONEL" image import --data-dir "$D" "$W/img/busybox-docker.tar"
"$TIMONEL" server --data-dir "$D" --https-listen-port $PORT --kubelet-port $KPORT \
        --write-kubeconfig "$KC" --node-bridge $BR --cluster-cidr 10.42.$NET.0/20 \
        >>"$W/server.log" 2>&1 &
SERVER_PID=$!
check "kubeconfig written" wait_for 15 test -s "$KC"
K="/usr/lib/google-cloud-sdk/bin/kubectl.1.31 --kubeconfig $KC --cache-dir $W/cache"
node_ready() { $K get nodes --no-headers | grep -q ' Ready '; }
check "node Ready" wait_for 20 node_ready
NODE=$($K get nodes -o jsonpath='{.items[0].metadata.name}')

check "discovery: /apis lists metrics.k8s.io v1beta1" bash -c "$K get --raw /apis | jq -e '.groups[] | select(.name==\"metrics.k8s.io\") | .preferredVersion.groupVersion==\"metrics.k8s.io/v1beta1\"' >/dev/null"
check "discovery: api-resources shows nodes and pods metrics" bash -c "$K api-resources --api-group metrics.k8s.io --no-headers | awk '{print \$1, \$NF}' | tr '\n' ' ' | grep -q 'nodes NodeMetrics pods PodMetrics'"

cat >"$W/busy.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: busy, labels: {app: busy}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: spin, image: busybox:1.36, command: [sh, -c, "while :; do :; done"]}
  - {name: idle, image: busybox:1.36, command: [sleep, "3600"]}
YAML
$K apply -f "$W/busy.yaml" >/dev/null
running() { [ "$($K get pod busy -o jsonpath='{.status.phase}')" = Running ]; }
check "busy pod Running" wait_for 60 running
has_pod_metrics() { $K get --raw /apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy >"$W/pm.json" 2>/dev/null; }
check "PodMetrics for busy within 30 s" wait_for 30 has_pod_metrics
check "PodMetrics: kind, labels, 2 containers" test "$(jq -r '[.kind,.metadata.labels.app,(.containers|length)]|join(" ")' "$W/pm.json")" = "PodMetrics busy 2"
check "PodMetrics: window is a duration" bash -c "jq -r .window $W/pm.json | grep -Eq '^[0-9]+(\.[0-9]+)?s$'"
cpu_nano() { # quantity -> nanocores
        case $1 in *n) echo "${1%n}" ;; *u) echo $((${1%u} * 1000)) ;; *m) echo $((${1%m} * 1000000)) ;; *) echo $(($1 * 1000000000)) ;; esac
}
spin=$(cpu_nano "$(jq -r '.containers[]|select(.name=="spin")|.usage.cpu' "$W/pm.json")")
check "busy-loop container uses >= 50m cpu ($spin n)" test "$spin" -ge 50000000
check "NodeMetrics get: usage cpu and memory" bash -c "$K get --raw /apis/metrics.k8s.io/v1beta1/nodes/$NODE | jq -e '.kind==\"NodeMetrics\" and (.usage.cpu|length>0) and (.usage.memory|length>0)' >/dev/null"
check "PodMetrics list -A includes busy" bash -c "$K get --raw /apis/metrics.k8s.io/v1beta1/pods | jq -e '.kind==\"PodMetricsList\" and ([.items[].metadata.name]|index(\"busy\")!=null)' >/dev/null"
check "PodMetrics labelSelector app=none: empty" bash -c "$K get --raw '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods?labelSelector=app%3Dnone' | jq -e '.items==[]' >/dev/null"
check "PodMetrics unknown pod: 404" bash -c "! $K get --raw /apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope 2>&1 | grep -q . || $K get --raw /apis/metrics.k8s.io/v1beta1/namespaces/default/pods/nope 2>&1 | grep -q NotFound"

# ---- eviction of an unready pod (pods/eviction, unhealthyPodEvictionPolicy) ----
cat >"$W/unready.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: unready, labels: {app: unready}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: c
    image: busybox:1.36
    command: [sleep, "3600"]
    readinessProbe: {exec: {command: ["false"]}, periodSeconds: 1}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: unready}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: unready}}
YAML
$K apply -f "$W/unready.yaml" >/dev/null
pdb_unready() { [ "$($K get pdb unready -o jsonpath='{.status.expectedPods}/{.status.desiredHealthy}/{.status.currentHealthy}/{.status.disruptionsAllowed}')" = 1/1/0/0 ] && [ "$($K get pod unready -o jsonpath='{.status.phase}')" = Running ]; }
check "unready pod Running, pdb 1/1/0/0" wait_for 60 pdb_unready
printf '{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"unready","namespace":"default"}}' >"$W/evu.json"
out=$($K create --raw /api/v1/namespaces/default/pods/unready/eviction -f "$W/evu.json" 2>&1)
check "IfHealthyBudget (default): an unready pod under an unmet budget is not evicted" bash -c "echo \"\$1\" | grep -q \"Cannot evict pod as it would violate the pod's disruption budget\"" _ "$out"
$K patch pdb unready --type merge -p '{"spec":{"unhealthyPodEvictionPolicy":"AlwaysAllow"}}' >/dev/null
observed() { [ "$($K get pdb unready -o jsonpath='{.status.observedGeneration}')" = "$($K get pdb unready -o jsonpath='{.metadata.generation}')" ]; }
check "pdb unready: new generation observed" wait_for 20 observed
out=$($K create --raw /api/v1/namespaces/default/pods/unready/eviction -f "$W/evu.json" 2>&1)
check "AlwaysAllow: the unready pod is evicted" bash -c "echo \"\$1\" | jq -e '.status==\"Success\"' >/dev/null" _ "$out"
check "unready pod gone" wait_for 30 bash -c "! $K get pod unready >/dev/null 2>&1"

# an evicted pod in its grace period carries DisruptionTarget (reason EvictionByEvictionAPI)
cat >"$W/victim.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: victim}
spec:
  terminationGracePeriodSeconds: 30
  containers: [{name: c, image: busybox:1.36, command: [sleep, "3600"]}]
YAML
$K apply -f "$W/victim.yaml" >/dev/null
vrun() { [ "$($K get pod victim -o jsonpath='{.status.phase}')" = Running ]; }
check "victim Running" wait_for 60 vrun
printf '{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"victim","namespace":"default"}}' >"$W/evv.json"
$K create --raw /api/v1/namespaces/default/pods/victim/eviction -f "$W/evv.json" >/dev/null 2>&1
check "evicted pod: DisruptionTarget True EvictionByEvictionAPI 'Eviction API: evicting'" test "$($K get pod victim -o jsonpath='{.status.conditions[?(@.type=="DisruptionTarget")].status}|{.status.conditions[?(@.type=="DisruptionTarget")].reason}|{.status.conditions[?(@.type=="DisruptionTarget")].message}')" = "True|EvictionByEvictionAPI|Eviction API: evicting"
check "evicted pod: terminating with its grace period" test -n "$($K get pod victim -o jsonpath='{.metadata.deletionTimestamp}')"
$K delete pod victim --grace-period=0 --force >/dev/null 2>&1

for v in 1.31 1.33; do
        KV="/usr/lib/google-cloud-sdk/bin/kubectl.$v --kubeconfig $KC --cache-dir $W/cache$v"
        out=$($KV top nodes 2>&1)
        check "kubectl $v top nodes: header" bash -c "echo \"\$1\" | head -1 | grep -Eq '^NAME +CPU\(cores\) +CPU\(?%\)? +MEMORY\(bytes\) +MEMORY\(?%\)?'" _ "$out"
        check "kubectl $v top nodes: $NODE row" bash -c "echo \"\$1\" | grep -Eq '^$NODE +[0-9]+m +[0-9]+% +[0-9]+Mi +[0-9]+%'" _ "$out"
        out=$($KV top pods 2>&1)
        check "kubectl $v top pods" bash -c "echo \"\$1\" | head -1 | grep -Eq '^NAME +CPU\(cores\) +MEMORY\(bytes\)' && echo \"\$1\" | grep -Eq '^busy +[0-9]+m +[0-9]+Mi'" _ "$out"
        out=$($KV top pods -A 2>&1)
        check "kubectl $v top pods -A" bash -c "echo \"\$1\" | head -1 | grep -Eq '^NAMESPACE +NAME +CPU\(cores\)' && echo \"\$1\" | grep -Eq '^default +busy +[0-9]+m'" _ "$out"
        out=$($KV top pods --containers 2>&1)
        check "kubectl $v top pods --containers" bash -c "echo \"\$1\" | head -1 | grep -Eq '^POD +NAME +CPU\(cores\) +MEMORY\(bytes\)' && echo \"\$1\" | grep -Eq '^busy +spin +[0-9]+m' && echo \"\$1\" | grep -Eq '^busy +idle +[0-9]+m'" _ "$out"
done
