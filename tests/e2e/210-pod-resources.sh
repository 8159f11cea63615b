#!/usr/bin/env bash
# 210-pod-resources.sh — issue 5 item 4 through real kubectl on a real server: requests/limits
# in the pod and container cgroups (cpu.shares, CFS quota, memory limit) under the kubepods /
# burstable / besteffort hierarchy, status.qosClass for each QoS class, OOMKilled (exit 137) for a
# container allocating over its limit, and a memory limit of 1 byte failing to start. Values are
# the kubelet's: shares = milliCPU * 1024 / 1000 (min 2), quota = milliCPU * 100 per 100 ms
# period, the pod's memory limit the sum of its containers' when all have one. Root; runs in a
# network namespace of its own.
if [ "$(id -u)" -eq 0 ] && [ -z "${E2E_PRIVATE_NET:-}" ]; then
        exec env E2E_PRIVATE_NET=1 unshare --net -- bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
ip link set lo up

W=$(mktemp -d /tmp/timonel-e2e-res.XXXXXX)
D=$W/data
PORT=$(free_port)
KPORT=$(free_port)
KC=$D/kc.yaml
LOG=$W/server.log
SERVER_PID=
on_exit "${KEEP:+: }rm -rf $W"
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

# a grpc.health.v1 server on loopback for the grpc probes of hostNetwork pods
GP=$(free_port)
python3 "$ROOT/tests/e2e/helpers/grpc-health-server.py" "$GP" >"$W/grpc.log" 2>&1 &
GRPC_PID=$!
on_exit "kill $GRPC_PID"
NP=$(free_port)

bash "$ROOT/tests/data/images/make-busybox-tars.sh" "$W/img" >"$W/img.log" 2>&1
check "image import" "$TIMONEL" image import --data-dir "$D" "$W/img/busybox-docker.tar"
"$TIMONEL" server --data-dir "$D" --https-listen-port "$PORT" --kubelet-port "$KPORT" \
        --write-kubeconfig "$KC" >>"$LOG" 2>&1 &
SERVER_PID=$!
check "kubeconfig written" wait_for 10 test -s "$KC"
K="/usr/lib/google-cloud-sdk/bin/kubectl.1.33 --kubeconfig $KC --cache-dir $W/cache"
node_ready() { $K get nodes --no-headers | grep -q ' Ready '; }
check "node Ready" wait_for 15 node_ready

jp() { $K get pod "$1" -o jsonpath="$2" 2>/dev/null; }
is() { [ "$(jp "$1" "$2")" = "$3" ]; }
expect() {
        local d=$1 t=$2 p=$3 f=$4 v=$5
        if wait_for "$t" is "$p" "$f" "$v"; then ok "$d"; else not_ok "$d (got '$(jp "$p" "$f")', want '$v')"; fi
}

cat >"$W/pods.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: guaranteed}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: a
    image: busybox:1.36
    command: [sleep, "3600"]
    resources: {limits: {cpu: 250m, memory: 64Mi}}
  - name: b
    image: busybox:1.36
    command: [sleep, "3600"]
    resources: {requests: {cpu: 500m, memory: 32Mi}, limits: {cpu: 500m, memory: 32Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: burstable}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: a
    image: busybox:1.36
    command: [sleep, "3600"]
    resources: {requests: {cpu: 100m, memory: 16Mi}, limits: {memory: 48Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: besteffort}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: a, image: busybox:1.36, command: [sleep, "3600"]}
---
apiVersion: v1
kind: Pod
metadata: {name: oom}
spec:
  restartPolicy: Never
  containers:
  - name: hog
    image: busybox:1.36
    command: [sh, -c, "echo start; tail /dev/zero"]
    resources: {limits: {memory: 24Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: onebyte}
spec:
  restartPolicy: Never
  containers:
  - name: a
    image: busybox:1.36
    command: [sleep, "3600"]
    resources: {limits: {memory: "1"}}
---
apiVersion: v1
kind: Pod
metadata: {name: hostns}
spec:
  restartPolicy: Never
  hostPID: true
  hostIPC: true
  containers:
  - {name: a, image: busybox:1.36, command: [sh, -c, "readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc"]}
---
apiVersion: v1
kind: Pod
metadata: {name: ownns}
spec:
  restartPolicy: Never
  containers:
  - {name: a, image: busybox:1.36, command: [sh, -c, "readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc"]}
---
apiVersion: v1
kind: Pod
metadata: {name: sharepid}
spec:
  terminationGracePeriodSeconds: 1
  shareProcessNamespace: true
  containers:
  - {name: a, image: busybox:1.36, command: [sleep, "3601"]}
  - {name: b, image: busybox:1.36, command: [sh, -c, "sleep 2; ps -o args; sleep 3600"]}
---
apiVersion: v1
kind: Pod
metadata: {name: satoken}
spec:
  restartPolicy: Never
  containers:
  - name: a
    image: busybox:1.36
    command: [sh, -c, "cat /var/run/secrets/tokens/vault-token"]
    volumeMounts: [{name: tok, mountPath: /var/run/secrets/tokens, readOnly: true}]
  volumes:
  - name: tok
    projected:
      sources:
      - serviceAccountToken: {audience: vault, expirationSeconds: 600, path: vault-token}
---
apiVersion: v1
kind: Pod
metadata: {name: grpc}
spec:
  hostNetwork: true
  terminationGracePeriodSeconds: 1
  containers:
  - name: ok
    image: busybox:1.36
    command: [sleep, "3600"]
    readinessProbe: {grpc: {port: $GP}, periodSeconds: 1}
  - name: down
    image: busybox:1.36
    command: [sleep, "3600"]
    readinessProbe: {grpc: {port: $GP, service: down}, periodSeconds: 1}
  - name: unknown
    image: busybox:1.36
    command: [sleep, "3600"]
    readinessProbe: {grpc: {port: $GP, service: nosuch}, periodSeconds: 1}
  - name: noserver
    image: busybox:1.36
    command: [sleep, "3600"]
    readinessProbe: {grpc: {port: $NP}, periodSeconds: 1}
YAML
check "apply the pods" $K apply -f "$W/pods.yaml"

# ---- QoS classes ----
expect "guaranteed: Running" 30 guaranteed '{.status.phase}' Running
check "guaranteed: qosClass Guaranteed" is guaranteed '{.status.qosClass}' Guaranteed
check "requests defaulted from limits" is guaranteed '{.spec.containers[0].resources.requests.cpu} {.spec.containers[0].resources.requests.memory}' "250m 64Mi"
expect "burstable: Running" 20 burstable '{.status.phase}' Running
check "burstable: qosClass Burstable" is burstable '{.status.qosClass}' Burstable
expect "besteffort: Running" 20 besteffort '{.status.phase}' Running
check "besteffort: qosClass BestEffort" is besteffort '{.status.qosClass}' BestEffort

# ---- cgroups: the hierarchy and the values ----
uid() { jp "$1" '{.metadata.uid}'; }
# cg CONTROLLER RELPATH FILE — a cgroup v1 file (this host is v1/hybrid; v2 hosts: skipped)
CG=/sys/fs/cgroup
if [ -f $CG/cgroup.controllers ]; then V2=1; else V2=; fi
cgv() { cat "$CG/$1/$2/$3" 2>/dev/null; }
# cgeq DESC CONTROLLER PATH FILE(v1) FILE(v2) WANT(v1) WANT(v2)
cgeq() {
        local got
        if [ -n "$V2" ]; then got=$(cat "$CG/$3/$5" 2>/dev/null); want=$7; else got=$(cgv "$2" "$3" "$4"); want=$6; fi
        if [ "$got" = "$want" ]; then ok "$1"; else not_ok "$1 (got '$got', want '$want')"; fi
}
GU=kubepods/pod$(uid guaranteed)
BU=kubepods/burstable/pod$(uid burstable)
BE=kubepods/besteffort/pod$(uid besteffort)
if [ -n "$V2" ]; then DIRS="$CG/$GU $CG/$BU $CG/$BE"; else DIRS="$CG/memory/$GU $CG/cpu/$BU $CG/pids/$BE"; fi
check "pod cgroups at kubepods/pod<uid>, kubepods/burstable/pod<uid>, kubepods/besteffort/pod<uid>" bash -c "for d in $DIRS; do [ -d \$d ] || exit 1; done"
# guaranteed pod: requests 250m + 500m = 750m -> 768 shares; quota 75000/100000; 64Mi + 32Mi
cgeq "guaranteed pod: cpu.shares 768" cpu "$GU" cpu.shares cpu.weight 768 30
cgeq "guaranteed pod: CFS quota 75000 us" cpu "$GU" cpu.cfs_quota_us cpu.max 75000 "75000 100000"
cgeq "guaranteed pod: memory limit 96Mi" memory "$GU" memory.limit_in_bytes memory.max 100663296 100663296
# container leaves: a = 250m/64Mi
ca=$(ls -d $CG/memory/$GU/*/ 2>/dev/null | wc -l)
check "guaranteed: one container cgroup per container ($ca)" test "$ca" -eq 2 -o -n "$V2"
leaf() { local l; for l in "$CG/$1/$2"/*/; do [ "$(cat "$l/$3" 2>/dev/null)" = "$4" ] && return 0; done; return 1; }
if [ -z "$V2" ]; then
        check "container a: cpu.shares 256, quota 25000" bash -c "$(declare -f leaf); CG=$CG; leaf cpu $GU cpu.shares 256 && leaf cpu $GU cpu.cfs_quota_us 25000"
        check "container a: memory limit 64Mi" leaf memory "$GU" memory.limit_in_bytes 67108864
        check "container b: cpu.shares 512, quota 50000, memory 32Mi" bash -c "$(declare -f leaf); CG=$CG; leaf cpu $GU cpu.shares 512 && leaf cpu $GU cpu.cfs_quota_us 50000 && leaf memory $GU memory.limit_in_bytes 33554432"
fi
# burstable: 100m -> 102 shares, no quota (a container without a cpu limit), memory 48Mi
cgeq "burstable pod: cpu.shares 102" cpu "$BU" cpu.shares cpu.weight 102 4
cgeq "burstable pod: no CFS quota" cpu "$BU" cpu.cfs_quota_us cpu.max -1 "max 100000"
cgeq "burstable pod: memory limit 48Mi" memory "$BU" memory.limit_in_bytes memory.max 50331648 50331648
# besteffort: minimum shares for the pod and the QoS level
cgeq "besteffort pod: cpu.shares 2" cpu "$BE" cpu.shares cpu.weight 2 1
cgeq "besteffort level: cpu.shares 2" cpu kubepods/besteffort cpu.shares cpu.weight 2 1
check "besteffort: the container's memory is unlimited" bash -c "[ -n '$V2' ] || [ \$(cat $CG/memory/$BE/memory.limit_in_bytes) -gt 1000000000000 ]"

# ---- OOM ----
expect "oom: terminated reason OOMKilled" 30 oom '{.status.containerStatuses[0].state.terminated.reason}' OOMKilled
check "oom: exit code 137" is oom '{.status.containerStatuses[0].state.terminated.exitCode}' 137
check "oom: phase Failed" is oom '{.status.phase}' Failed
check "oom: get pods shows OOMKilled" bash -c "$K get pod oom --no-headers | awk '{print \$3}' | grep -qx OOMKilled"

# ---- memory limit of 1 byte ----
# The runtime cannot start a process within 1 byte: Kubernetes reports the container as not
# started (StartError, exit 128, the runtime's message) and the pod Failed with restartPolicy Never.
expect "onebyte: terminated reason StartError" 30 onebyte '{.status.containerStatuses[0].state.terminated.reason}' StartError
check "onebyte: exit code 128" is onebyte '{.status.containerStatuses[0].state.terminated.exitCode}' 128
check "onebyte: message from the runtime" bash -c "[ -n \"\$($K get pod onebyte -o jsonpath='{.status.containerStatuses[0].state.terminated.message}')\" ]"
check "onebyte: phase Failed" is onebyte '{.status.phase}' Failed

# ---- hostPID / hostIPC / shareProcessNamespace ----
expect "hostns: Succeeded" 30 hostns '{.status.phase}' Succeeded
check "hostns: the host's pid and ipc namespaces" bash -c "[ \"\$($K logs hostns | tr '\n' ' ')\" = \"\$({ readlink /proc/self/ns/pid; readlink /proc/self/ns/ipc; } | tr '\n' ' ')\" ]"
expect "ownns: Succeeded" 30 ownns '{.status.phase}' Succeeded
check "ownns: pid and ipc namespaces of its own" bash -c "$K logs ownns | grep -v -e \"\$(readlink /proc/self/ns/pid)\" -e \"\$(readlink /proc/self/ns/ipc)\" | wc -l | grep -qx 2"
expect "sharepid: Running" 30 sharepid '{.status.phase}' Running
sees_a() { $K logs sharepid -c b | grep -qx 'sleep 3601'; }
check "sharepid: container b sees container a's process" wait_for 15 sees_a

# ---- projected serviceAccountToken ----
expect "satoken: Succeeded" 40 satoken '{.status.phase}' Succeeded
claims() { $K logs satoken | cut -d. -f2 | tr '_-' '/+' | { read -r p; while [ $((${#p} % 4)) -ne 0 ]; do p="$p="; done; echo "$p"; } | base64 -d 2>/dev/null; }
check "satoken: a JWT for audience vault" bash -c "$(declare -f claims); K='$K'; claims | jq -e '.aud == [\"vault\"]' >/dev/null"
check "satoken: lifetime expirationSeconds (600 s)" bash -c "$(declare -f claims); K='$K'; claims | jq -e '.exp - .iat == 600' >/dev/null"
check "satoken: subject the pod's service account, bound to the pod" bash -c "$(declare -f claims); K='$K'; claims | jq -e '.sub == \"system:serviceaccount:default:default\" and .[\"kubernetes.io\"].pod.name == \"satoken\"' >/dev/null"

# ---- grpc probes (grpc.health.v1 over h2c) ----
cready() { jp grpc "{.status.containerStatuses[?(@.name==\"$1\")].ready}"; }
cready_is() { [ "$(cready "$1")" = "$2" ]; }
check "grpc: SERVING makes the container ready" wait_for 30 cready_is ok true
has_event() { $K get events --field-selector "involvedObject.name=$1,reason=$2" -o jsonpath='{range .items[*]}{.message}{"\n"}{end}' | grep -Eq "$3"; }
check "grpc: NOT_SERVING: not ready, the kubelet's message" wait_for 15 has_event grpc Unhealthy '^Readiness probe failed: service unhealthy \(responded with "NOT_SERVING"\)$'
check "grpc: unknown service: rpc error NotFound" wait_for 15 has_event grpc Unhealthy '^Readiness probe failed: error: health rpc probe failed: rpc error: code = NotFound desc = unknown service$'
check "grpc: nothing listening: failed to connect" wait_for 15 has_event grpc Unhealthy "^Readiness probe failed: timeout: failed to connect service \"127\\.0\\.0\\.1:$NP\" within 1s"
grpc_ready() { $K get pod grpc -o jsonpath='{range .status.containerStatuses[*]}{.name}={.ready}{"\n"}{end}' | sort | paste -sd' '; }
r=$(grpc_ready)
check "grpc: only the SERVING container is ready ($r)" test "$r" = 'down=false noserver=false ok=true unknown=false'

# ---- other pods untouched, node healthy ----
check "guaranteed still Running without restarts" is guaranteed '{.status.phase} {.status.containerStatuses[*].restartCount}' "Running 0 0"
check "node still Ready" node_ready

# ---- delete removes the pod cgroups ----
$K delete pod guaranteed burstable besteffort sharepid grpc --wait=true --timeout=30s >/dev/null 2>&1
check "pod cgroups removed after delete" bash -c "for d in $DIRS; do [ ! -d \$d ] || exit 1; done"


