#!/usr/bin/env bash
# 211-node-agent.sh — issue 5 items 7 and 9 through real kubectl on a real server: --node-label /
# --node-taint, allocatable = capacity - kube/system reserved - the hard eviction threshold,
# --pod-max-pids, the Summary API and Prometheus endpoints through the API server's node proxy,
# image garbage collection above --image-gc-high-threshold (an unused image removed, the used one
# kept), DiskPressure measured on the agent's data dir (a 64 MiB tmpfs the test fills) with the
# eviction of the pod using the most disk (Failed / Evicted, the kubelet's message, event), and
# MemoryPressure (a threshold above the host's available memory) evicting the BestEffort pod
# before the Burstable one within its request. Root; runs in a network namespace of its own.
if [ "$(id -u)" -eq 0 ] && [ -z "${E2E_PRIVATE_NET:-}" ]; then
        exec env E2E_PRIVATE_NET=1 unshare --net -- bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
ip link set lo up

W=$(mktemp -d /tmp/timonel-e2e-node.XXXXXX)
D=$W/data
D2=$W/data2
PORT=$(free_port)
KPORT=$(free_port)
LOG=$W/server.log
SERVER_PID=
on_exit "${KEEP:+: }rm -rf $W"
on_exit "umount -l $D/agent"
on_exit "$TIMONEL killall --data-dir $D"
on_exit "$TIMONEL killall --data-dir $D2"
on_exit 'stop_server'
stop_server() {
        [ -n "$SERVER_PID" ] || return 0
        kill -TERM "$SERVER_PID" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
        SERVER_PID=
}
# start_server DATA-DIR FLAGS...
start_server() {
        local d=$1; shift
        "$TIMONEL" server --data-dir "$d" --https-listen-port "$PORT" --kubelet-port "$KPORT" \
                --write-kubeconfig "$d/kc.yaml" --housekeeping-interval 1s "$@" >>"$LOG" 2>&1 &
        SERVER_PID=$!
        KC=$d/kc.yaml
        K="/usr/lib/google-cloud-sdk/bin/kubectl.1.31 --kubeconfig $KC --cache-dir $W/cache"
}
node_ready() { $K get nodes --no-headers | grep -q ' Ready '; }
jp() { $K get pod "$1" -o jsonpath="$2" 2>/dev/null; }
is() { [ "$(jp "$1" "$2")" = "$3" ]; }
expect() {
        local d=$1 t=$2 p=$3 f=$4 v=$5
        if wait_for "$t" is "$p" "$f" "$v"; then ok "$d"; else not_ok "$d (got '$(jp "$p" "$f")', want '$v')"; fi
}
ncond() { $K get node "$NODE" -o jsonpath="{.status.conditions[?(@.type==\"$1\")].status} {.status.conditions[?(@.type==\"$1\")].reason}"; }
ncond_is() { [ "$(ncond "$1")" = "$2" ]; }
has_event() { $K get events --field-selector "involvedObject.name=$1,reason=$2" -o jsonpath='{range .items[*]}{.type} {.message}{"\n"}{end}' | grep -Eq "$3"; }

# images: busybox (used) and a second image with a 4 MiB layer of its own (never used)
bash "$ROOT/tests/data/images/make-busybox-tars.sh" "$W/img" >"$W/img.log" 2>&1
(
        set -e
        cp -r "$W/img/layout" "$W/unused"
        umoci unpack --image "$W/unused:1.36" "$W/ubundle" >/dev/null
        head -c 4194304 /dev/urandom >"$W/ubundle/rootfs/blob"
        umoci repack --image "$W/unused:1.36" "$W/ubundle" >/dev/null
        umoci config --image "$W/unused:1.36" --config.env UNUSED=1 >/dev/null
        skopeo --insecure-policy copy -q "oci:$W/unused:1.36" "docker-archive:$W/unused.tar:example.com/unused:1"
        rm -rf "$W/ubundle"
) >>"$W/img.log" 2>&1
check "unused image built" test -s "$W/unused.tar"

# ---- server 1: the agent's data dir on a 64 MiB tmpfs ----
mkdir -p "$D/agent"
check "tmpfs data dir" mount -t tmpfs -o size=64m tmpfs "$D/agent"
check "image import" "$TIMONEL" image import --data-dir "$D" "$W/img/busybox-docker.tar"
check "import the unused image" "$TIMONEL" image import --data-dir "$D" "$W/unused.tar"
start_server "$D" --node-label tier=edge --node-label zone=z1,rack=r7 \
        --node-taint dedicated=infra:PreferNoSchedule \
        --kube-reserved cpu=100m,memory=100Mi,ephemeral-storage=1Mi --system-reserved cpu=200m,memory=28Mi \
        --eviction-hard 'memory.available<100Mi,nodefs.available<10%' \
        --image-gc-high-threshold 85 --image-gc-low-threshold 80 --pod-max-pids 200
check "kubeconfig written" wait_for 10 test -s "$KC"
check "node Ready" wait_for 20 node_ready
NODE=$($K get nodes -o jsonpath='{.items[0].metadata.name}')
nj() { $K get node "$NODE" -o jsonpath="$1"; }

# ---- labels, taints ----
check "node labels from --node-label" test "$(nj '{.metadata.labels.tier} {.metadata.labels.zone} {.metadata.labels.rack}')" = "edge z1 r7"
check "kubernetes.io/hostname kept" test "$(nj '{.metadata.labels.kubernetes\.io/hostname}')" = "$NODE"
check "taint from --node-taint" test "$(nj '{.spec.taints[0].key}={.spec.taints[0].value}:{.spec.taints[0].effect}')" = "dedicated=infra:PreferNoSchedule"

# ---- allocatable = capacity - kube-reserved - system-reserved - hard threshold ----
ki() { local v=$1; case $v in *Ki) echo $((${v%Ki} * 1024));; *Mi) echo $((${v%Mi} * 1048576));; *Gi) echo $((${v%Gi} * 1073741824));; *) echo "$v";; esac; }
millis() { local v=$1; case $v in *m) echo "${v%m}";; *) echo $((v * 1000));; esac; }
cap_cpu=$(millis "$(nj '{.status.capacity.cpu}')"); al_cpu=$(millis "$(nj '{.status.allocatable.cpu}')")
check "allocatable cpu = capacity - 300m ($cap_cpu -> $al_cpu)" test $((cap_cpu - 300)) -eq "$al_cpu"
cap_mem=$(ki "$(nj '{.status.capacity.memory}')"); al_mem=$(ki "$(nj '{.status.allocatable.memory}')")
check "allocatable memory = capacity - 128Mi - 100Mi ($cap_mem -> $al_mem)" test $((cap_mem - 228 * 1048576)) -eq "$al_mem"
cap_eph=$(ki "$(nj '{.status.capacity.ephemeral-storage}')"); al_eph=$(ki "$(nj '{.status.allocatable.ephemeral-storage}')")
check "ephemeral-storage capacity is the 64Mi data dir" test "$cap_eph" -eq 67108864
check "allocatable ephemeral-storage = 64Mi - 1Mi - 10% ($al_eph)" test "$al_eph" -eq $((67108864 - 1048576 - 6710886))
node_event() { $K get events -A --field-selector "involvedObject.kind=Node,involvedObject.name=$NODE,reason=$1" -o jsonpath='{range .items[*]}{.type} {.message}{"\n"}{end}' | grep -qx "Normal Node $NODE status is now: $1"; }
check "node event NodeHasSufficientMemory at start" wait_for 15 node_event NodeHasSufficientMemory
check "node event NodeReady at start" wait_for 15 node_event NodeReady
check "conditions: no pressure" bash -c "[ \"\$($K get node $NODE -o jsonpath='{range .status.conditions[*]}{.type}={.status} {end}')\" = 'MemoryPressure=False DiskPressure=False PIDPressure=False Ready=True ' ]"

cat >"$W/pods.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: busybox:1.36
    imagePullPolicy: Never
    command: [sh, -c, "echo hello > /tmp/x; exec httpd -f -p 8080"]
    resources: {requests: {cpu: 100m, memory: 16Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: writer}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: writer
    image: busybox:1.36
    imagePullPolicy: Never
    command: [sh, -c, "head -c 3145728 /dev/zero > /fill; sleep 3600"]
YAML
check "apply pods" $K apply -f "$W/pods.yaml"
expect "web Running" 30 web '{.status.phase}' Running
expect "writer Running" 30 writer '{.status.phase}' Running
UID_WEB=$(jp web '{.metadata.uid}')
check "pod pids.max from --pod-max-pids" bash -c "[ \"\$(cat /sys/fs/cgroup/pids/kubepods/burstable/pod$UID_WEB/pids.max 2>/dev/null || cat /sys/fs/cgroup/kubepods/burstable/pod$UID_WEB/pids.max)\" = 200 ]"

# ---- stats through the API server's node proxy ----
summary() { $K get --raw "/api/v1/nodes/$NODE/proxy/stats/summary"; }
have_web_stats() { summary | jq -e '.pods[] | select(.podRef.name=="web") | .containers[0].cpu.usageNanoCores != null and .memory.workingSetBytes > 0 and .network.rxBytes != null' >/dev/null; }
check "stats/summary has the pod (cpu, memory, network)" wait_for 10 have_web_stats
S=$(summary)
check "summary: node name and memory" bash -c "jq -e --arg n '$NODE' '.node.nodeName == \$n and .node.memory.availableBytes > 0 and .node.fs.capacityBytes == 67108864' <<<'$S' >/dev/null"
check "summary: process_count of web >= 1" bash -c "jq -e '.pods[] | select(.podRef.name==\"web\") | .process_stats.process_count >= 1' <<<'$S' >/dev/null"
check "summary: podRef uid and container name" bash -c "jq -e --arg u '$UID_WEB' '.pods[] | select(.podRef.uid == \$u) | .podRef.namespace == \"default\" and .containers[0].name == \"app\"' <<<'$S' >/dev/null"
check "summary: ephemeral-storage and rootfs usage of writer >= 3Mi" wait_for 10 bash -c "$K get --raw /api/v1/nodes/$NODE/proxy/stats/summary | jq -e '.pods[] | select(.podRef.name==\"writer\") | .containers[0].rootfs.usedBytes >= 3145728 and .[\"ephemeral-storage\"].usedBytes >= 3145728' >/dev/null"
MR=$($K get --raw "/api/v1/nodes/$NODE/proxy/metrics/resource")
check "metrics/resource: container_cpu_usage_seconds_total of web/app" grep -Eq '^container_cpu_usage_seconds_total\{container="app",namespace="default",pod="web"\} [0-9.]+ [0-9]+$' <<<"$MR"
check "metrics/resource: container_memory_working_set_bytes" grep -Eq '^container_memory_working_set_bytes\{container="app",namespace="default",pod="web"\} [1-9][0-9]* [0-9]+$' <<<"$MR"
check "metrics/resource: node_memory_working_set_bytes" grep -Eq '^node_memory_working_set_bytes [1-9][0-9]* [0-9]+$' <<<"$MR"
MC=$($K get --raw "/api/v1/nodes/$NODE/proxy/metrics/cadvisor")
check "metrics/cadvisor: container_memory_working_set_bytes with the cgroup id" grep -Eq "^container_memory_working_set_bytes\{container=\"app\",id=\"/kubepods/burstable/pod$UID_WEB/[^\"]+\",image=\"\",name=\"[^\"]+\",namespace=\"default\",pod=\"web\"\} [0-9]+ [0-9]+$" <<<"$MC"
check "stats need authentication (anonymous: 401/403)" bash -c "! curl -sk -f https://127.0.0.1:$KPORT/stats/summary >/dev/null"

# ---- static pods from DATA/agent/pod-manifests, mirror pods ----
MF=$D/agent/pod-manifests
check "manifest dir created by the agent" test -d "$MF"
cat >"$MF/.hidden.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: hidden}
spec: {containers: [{name: a, image: busybox:1.36}]}
YAML
cat >"$MF/static.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: static-web, labels: {role: static}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: web, image: busybox:1.36, imagePullPolicy: Never, command: [sleep, "3600"]}
YAML
SP=static-web-$NODE
expect "static pod runs as mirror pod $SP" 30 "$SP" '{.status.phase}' Running
check "mirror annotations (config.mirror = config.hash, source file)" bash -c "$K get pod $SP -o json | jq -e '.metadata.annotations as \$a | \$a[\"kubernetes.io/config.mirror\"] == \$a[\"kubernetes.io/config.hash\"] and \$a[\"kubernetes.io/config.source\"] == \"file\" and (\$a[\"kubernetes.io/config.seen\"] | length > 0)' >/dev/null"
check "mirror pod owned by the Node" is "$SP" '{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].controller}' "Node/$NODE/true"
check "mirror pod: spec.nodeName and labels from the manifest" is "$SP" '{.spec.nodeName} {.metadata.labels.role}' "$NODE static"
check "dotfiles are not manifests" bash -c "! $K get pod hidden-$NODE >/dev/null 2>&1"
H1=$(jp "$SP" '{.metadata.annotations.kubernetes\.io/config\.hash}')
sed -i 's/"3600"/"3601"/' "$MF/static.yaml"
new_hash() { h=$(jp "$SP" '{.metadata.annotations.kubernetes\.io/config\.hash}'); [ -n "$h" ] && [ "$h" != "$H1" ] && is "$SP" '{.status.phase}' Running; }
check "a changed manifest replaces the mirror pod (new hash, Running)" wait_for 30 new_hash
check "the new pod runs the new command" is "$SP" '{.spec.containers[0].command[1]}' 3601
rm -f "$MF/static.yaml" "$MF/.hidden.yaml"
no_mirror() { ! $K get pod "$SP" >/dev/null 2>&1; }
check "a removed manifest deletes the mirror pod" wait_for 30 no_mirror

# ---- image GC: fill the data dir to ~87% ----
has_image() { $K get node "$NODE" -o jsonpath='{.status.images[*].names}' | grep -q "$1"; }
check "unused image listed on the node" wait_for 15 has_image example.com/unused:1
avail_kib() { df -k --output=avail "$D/agent" | tail -1 | tr -d ' '; }
fill_to() { # fill_to PERCENT-USED
        local target=$(( 65536 * $1 / 100 )) used
        used=$(( 65536 - $(avail_kib) ))
        [ $target -gt $used ] && head -c $(( (target - used) * 1024 )) /dev/zero >>"$D/agent/filler"
        return 0
}
fill_to 87
gone_image() { ! has_image example.com/unused:1; }
check "image GC removed the unused image" wait_for 20 gone_image
check "image GC kept the image in use" has_image busybox:1.36
check "image GC logged" grep -q "image gc: removed" "$LOG"
check "web untouched by image GC" is web '{.status.phase}' Running

# ---- disk pressure: fill to 95% (nodefs.available<10%) ----
fill_to 95
check "DiskPressure True, KubeletHasDiskPressure" wait_for 20 ncond_is DiskPressure "True KubeletHasDiskPressure"
check "node event NodeHasDiskPressure" wait_for 15 node_event NodeHasDiskPressure
expect "writer (most disk) evicted: phase Failed" 20 writer '{.status.phase}' Failed
check "writer: reason Evicted" is writer '{.status.reason}' Evicted
msg=$(jp writer '{.status.message}')
check "writer: the kubelet's message ($msg)" grep -Eq '^The node was low on resource: ephemeral-storage\. Threshold quantity: [0-9]+(Ki|Mi)?, available: [0-9]+(Ki|Mi)?\. Container writer was using [0-9]+(Ki|Mi)?, request is 0, has larger consumption of ephemeral-storage\. $' <<<"$msg"
check "writer: condition DisruptionTarget True, TerminationByKubelet" is writer '{.status.conditions[?(@.type=="DisruptionTarget")].status} {.status.conditions[?(@.type=="DisruptionTarget")].reason}' "True TerminationByKubelet"
check "event Evicted (Warning) on writer" wait_for 10 has_event writer Evicted '^Warning The node was low on resource: ephemeral-storage'
$K run late-disk --image=busybox:1.36 --image-pull-policy=Never --restart=Never -- sleep 60 >/dev/null
expect "a pod arriving under DiskPressure is rejected: Failed" 20 late-disk '{.status.phase}' Failed
check "late-disk: Evicted, The node had condition: [DiskPressure]." is late-disk '{.status.reason}/{.status.message}' "Evicted/The node had condition: [DiskPressure]. "
rm -f "$D/agent/filler"
check "DiskPressure back to False" wait_for 20 ncond_is DiskPressure "False KubeletHasNoDiskPressure"
check "node event NodeHasNoDiskPressure after the pressure" bash -c "[ \$($K get events -A --field-selector involvedObject.kind=Node,reason=NodeHasNoDiskPressure --no-headers | wc -l) -ge 2 ]"
check "web still Running after the pressure" is web '{.status.phase} {.status.containerStatuses[0].restartCount}' "Running 0"
check "node Ready" node_ready
$K delete pods --all --wait=false >/dev/null 2>&1
stop_server
"$TIMONEL" killall --data-dir "$D" >/dev/null 2>&1

# ---- server 2: memory pressure (a threshold 1 GiB above what the host has available now, the
# kubelet's memory.available = MemTotal - working set = MemFree + Inactive(file)) ----
check "image import (2)" "$TIMONEL" image import --data-dir "$D2" "$W/img/busybox-docker.tar"
AVAIL_MI=$(awk '/^MemFree:/ {f=$2} /^Inactive\(file\):/ {i=$2} END {print int((f + i) / 1024)}' /proc/meminfo)
[ $(( (AVAIL_MI + 1024) % 1024 )) -eq 0 ] && AVAIL_MI=$((AVAIL_MI + 1)) # keep it printed in Mi
THR=$((AVAIL_MI + 1024))Mi
start_server "$D2" --eviction-hard "memory.available<$THR"
check "kubeconfig written (2)" wait_for 10 test -s "$KC"
check "node Ready (2)" wait_for 20 node_ready
NODE=$($K get nodes -o jsonpath='{.items[0].metadata.name}')
check "MemoryPressure True, KubeletHasInsufficientMemory" wait_for 20 ncond_is MemoryPressure "True KubeletHasInsufficientMemory"
cat >"$W/mem.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: burst}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: a, image: busybox:1.36, imagePullPolicy: Never, command: [sleep, "3600"], resources: {requests: {memory: 100Mi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: over}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: a, image: busybox:1.36, imagePullPolicy: Never, command: [sleep, "3600"], resources: {requests: {memory: "1"}}}
YAML
check "apply pods (2)" $K apply -f "$W/mem.yaml"
expect "over (Burstable, over its request) evicted first" 40 over '{.status.reason}' Evicted
order_ok() { grep -Eo 'evicting pod default/(over|burst)' "$LOG" | head -1 | grep -qx 'evicting pod default/over'; }
check "over evicted before burst (the kubelet's order: usage over request first)" order_ok
msg=$(jp over '{.status.message}')
check "over: message ($msg)" grep -Eq "^The node was low on resource: memory\\. Threshold quantity: $THR, available: [0-9]+(Ki|Mi)?\\. Container a was using [0-9]+(Ki|Mi)?, request is 1, has larger consumption of memory\\. \$" <<<"$msg"
# (a pod can be evicted before its container started: then there is no exit code)
expect "over: phase Failed, container not running" 10 over '{.status.phase} {.status.containerStatuses[0].state.running}' "Failed "
check "over: DisruptionTarget True" is over '{.status.conditions[?(@.type=="DisruptionTarget")].status}' True
expect "burst evicted next (the pressure stays)" 20 burst '{.status.reason}' Evicted
check "burst: message names no container (within its request)" is burst '{.status.message}' "$(jp burst '{.status.message}' | grep -Eo "^The node was low on resource: memory\\. Threshold quantity: $THR, available: [0-9]+(Ki|Mi)?\\. \$")"
$K run late-best --image=busybox:1.36 --image-pull-policy=Never --restart=Never -- sleep 60 >/dev/null
expect "a BestEffort pod arriving under MemoryPressure is rejected: Failed" 20 late-best '{.status.phase}' Failed
check "late-best: Evicted, The node had condition: [MemoryPressure]." is late-best '{.status.reason}/{.status.message}' "Evicted/The node had condition: [MemoryPressure]. "
check "late-best: no container was started" bash -c "! grep -q 'late-best: started container' '$LOG'"
check "node Ready under memory pressure" node_ready
$K delete pods --all --wait=false >/dev/null 2>&1
