#!/bin/bash
# 340-scheduler.sh — the default scheduler on three fake nodes (server --fake-nodes 3, no agent):
# nodeSelector, required node affinity with a toleration, pod anti-affinity spreading a
# Deployment, taints, "Insufficient cpu" in kube-scheduler's wording as kubectl describe shows it,
# an unsatisfiable affinity that leaves its pod Pending (FailedScheduling event, PodScheduled
# False/Unschedulable) while other pods schedule, and preemption of a low-priority pod by a pod
# of a PriorityClass. Expected texts are kube-scheduler's (FitError, preemption messages).
. "$(dirname "$0")/lib.sh"

W=$(mktemp -d /tmp/timonel-e2e-sched.XXXXXX)
D=$W/data
PORT=$(free_port)
KC=$W/kc.yaml
LOG=$W/server.log
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

"$TIMONEL" server --data-dir "$D" --https-listen-port "$PORT" --disable-agent --fake-nodes 3 \
        --write-kubeconfig "$KC" >>"$LOG" 2>&1 &
SERVER_PID=$!
K="/usr/lib/google-cloud-sdk/bin/kubectl.1.31 --kubeconfig $KC --cache-dir $W/cache"
check "kubeconfig written" wait_for 15 test -s "$KC"
three_ready() { [ "$($K get nodes --no-headers 2>/dev/null | grep -c ' Ready ')" = 3 ]; }
check "3 fake nodes Ready" wait_for 20 three_ready

$K label node fake-node-0 disktype=ssd topology.kubernetes.io/zone=z1 >/dev/null
$K label node fake-node-1 topology.kubernetes.io/zone=z1 >/dev/null
$K label node fake-node-2 topology.kubernetes.io/zone=z2 >/dev/null
taint() { $K taint node fake-node-2 dedicated=infra:NoSchedule >/dev/null; }
check "taint fake-node-2 dedicated=infra:NoSchedule" taint

node_of() { $K get pod "$1" -o jsonpath='{.spec.nodeName}' 2>/dev/null; }
is_on() { [ "$(node_of "$1")" = "$2" ]; }
running() { [ "$($K get pod "$1" -o jsonpath='{.status.phase}' 2>/dev/null)" = Running ]; }

# nodeSelector
cat >"$W/ssd.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: ssd}
spec:
  nodeSelector: {disktype: ssd}
  containers: [{name: c, image: busybox:1.36}]
YAML
$K apply -f "$W/ssd.yaml" >/dev/null
check "nodeSelector disktype=ssd -> fake-node-0" wait_for 10 is_on ssd fake-node-0
check "pod on a fake node is Running" wait_for 10 running ssd

# required node affinity to the tainted zone, with and without the toleration
cat >"$W/z2.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: z2}
spec:
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - {key: topology.kubernetes.io/zone, operator: In, values: [z2]}
  tolerations: [{key: dedicated, operator: Equal, value: infra, effect: NoSchedule}]
  containers: [{name: c, image: busybox:1.36}]
YAML
$K apply -f "$W/z2.yaml" >/dev/null
check "affinity zone In [z2] + toleration -> fake-node-2" wait_for 10 is_on z2 fake-node-2

sed -e 's/name: z2}/name: z2-untolerated}/' -e '/tolerations:/d' "$W/z2.yaml" >"$W/z2u.yaml"
$K apply -f "$W/z2u.yaml" >/dev/null
MSG_TAINT="0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: infra}, 2 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
has_event() { $K get events --field-selector "involvedObject.name=$1,reason=$2" -o jsonpath='{.items[*].message}' 2>/dev/null | grep -qF -- "$3"; }
check "untolerated taint: FailedScheduling with kube-scheduler's message" \
        wait_for 10 has_event z2-untolerated FailedScheduling "$MSG_TAINT"

# anti-affinity spreads a Deployment over the three nodes (it tolerates the taint)
cat >"$W/spread.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: spread}
spec:
  replicas: 3
  selector: {matchLabels: {app: spread}}
  template:
    metadata: {labels: {app: spread}}
    spec:
      tolerations: [{key: dedicated, operator: Exists}]
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: spread}}
            topologyKey: kubernetes.io/hostname
      containers: [{name: c, image: busybox:1.36}]
YAML
$K apply -f "$W/spread.yaml" >/dev/null
spread_nodes() {
        [ "$($K get pods -l app=spread -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' | grep . | sort -u | wc -l)" = 3 ]
}
check "anti-affinity: 3 replicas on 3 distinct nodes" wait_for 15 spread_nodes
$K scale deployment spread --replicas=4 >/dev/null
pending_spread() {
        local p
        p=$($K get pods -l app=spread --field-selector spec.nodeName= -o jsonpath='{.items[0].metadata.name}' 2>/dev/null)
        [ -n "$p" ] && has_event "$p" FailedScheduling "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules."
}
check "anti-affinity: the 4th replica stays Pending with the anti-affinity reason" wait_for 15 pending_spread

# insufficient cpu, as kubectl describe shows it
cat >"$W/big.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: big}
spec:
  containers:
  - name: c
    image: busybox:1.36
    resources: {requests: {cpu: "40"}}
YAML
$K apply -f "$W/big.yaml" >/dev/null
MSG_CPU="0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: infra}, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."
describe_has() { $K describe pod "$1" 2>/dev/null | tr -s ' ' | grep -qF -- "$2"; }
check "insufficient cpu: FailedScheduling event" wait_for 10 has_event big FailedScheduling "$MSG_CPU"
check "kubectl describe shows the FailedScheduling line" \
        describe_has big "Warning FailedScheduling"
check "kubectl describe shows the message" describe_has big "$MSG_CPU"
cond() { $K get pod "$1" -o jsonpath='{range .status.conditions[?(@.type=="PodScheduled")]}{.status}/{.reason}{end}'; }
check "PodScheduled False/Unschedulable" test "$(cond big)" = "False/Unschedulable"

# unsatisfiable affinity: Pending with the event, and other pods still schedule
cat >"$W/never.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: never}
spec:
  affinity:
    podAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
      - labelSelector: {matchLabels: {app: does-not-exist}}
        topologyKey: kubernetes.io/hostname
  containers: [{name: c, image: busybox:1.36}]
YAML
$K apply -f "$W/never.yaml" >/dev/null
check "unsatisfiable affinity: FailedScheduling event" wait_for 10 has_event never FailedScheduling \
        "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: infra}, 2 node(s) didn't match pod affinity rules. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."
check "unsatisfiable affinity: pod stays Pending" test "$($K get pod never -o jsonpath='{.status.phase}')" = Pending
$K run after --image=busybox:1.36 >/dev/null
check "another pod schedules meanwhile" wait_for 10 running after
check "the unsatisfiable pod is still unbound" test -z "$(node_of never)"

# preemption: a PriorityClass pod evicts a lower-priority pod from the only fitting node
cat >"$W/prio.yaml" <<'YAML'
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000000
description: e2e
---
apiVersion: v1
kind: Pod
metadata: {name: low}
spec:
  nodeSelector: {disktype: ssd}
  containers:
  - name: c
    image: busybox:1.36
    resources: {requests: {cpu: "30"}}
YAML
$K delete pod big --wait=false >/dev/null
$K apply -f "$W/prio.yaml" >/dev/null
check "low-priority pod Running on fake-node-0" wait_for 10 running low
check "priority admission: low has priority 0" test "$($K get pod low -o jsonpath='{.spec.priority}')" = 0
cat >"$W/high.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: high}
spec:
  priorityClassName: high
  nodeSelector: {disktype: ssd}
  containers:
  - name: c
    image: busybox:1.36
    resources: {requests: {cpu: "30"}}
YAML
$K apply -f "$W/high.yaml" >/dev/null
check "priority admission: spec.priority from the PriorityClass" \
        test "$($K get pod high -o jsonpath='{.spec.priority}')" = 1000000
gone() { ! $K get pod "$1" >/dev/null 2>&1; }
check "preemption: the low-priority pod is deleted" wait_for 15 gone low
check "preemption: Preempted event on the victim" wait_for 5 has_event low Preempted "Preempted by pod"
check "preemption: the high-priority pod runs on fake-node-0" wait_for 15 is_on high fake-node-0
out=$($K run bad --image=busybox:1.36 --overrides='{"spec":{"priorityClassName":"nope"}}' 2>&1)
check "unknown PriorityClass is Forbidden" grep -qF 'pods "bad" is forbidden: no PriorityClass with name nope was found' <<<"$out"

check "server still up" kill -0 "$SERVER_PID"
