#!/bin/bash
# 320-multinode.sh — two nodes on one machine (issue 6, node lifecycle): `timonel server` with its
# node plus a `timonel agent` in its own data dir join one cluster; the node lifecycle controller
# gives each a /24 of --cluster-cidr, each node has its own bridge, pods on the two nodes reach
# each other through the host; a 2-replica Deployment spreads over both; killing the agent turns
# its node NotReady (conditions Unknown/NodeStatusUnknown, unreachable taints) after
# --node-monitor-grace-period, its pod is evicted after the (shortened) default
# unreachable toleration and replaced on the other node; the agent coming back clears the
# taints; pods of a deleted node are garbage-collected; killall of the agent's data dir leaves
# the server's node alone. Expectations from Kubernetes' node lifecycle and taint-eviction
# controllers (NodeStatusUnknown, "Kubelet stopped posting node status.", node.kubernetes.io/
# unreachable NoSchedule+NoExecute, DeletionByTaintManager, TaintManagerEviction). Root only.
# Network: own bridges and a /20 of 10.42/16 (not the default 10.42.0.0/24); everything is
# removed on exit, also on failure.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
KUBECTL_VERSIONS=${KUBECTL_VERSIONS:-"1.31 1.33"}

W=$(mktemp -d /tmp/timonel-e2e-mn.XXXXXX)
D1=$W/d1
D2=$W/d2
PORT=$(free_port)
KPORT=$(free_port)
KPORT2=$(free_port)
KC=$W/kc.yaml
SRV=mn-srv-$$
AGT=mn-agt-$$
BR=tmnls$((RANDOM % 100000))
NET=$((16 * (1 + RANDOM % 14)))
CIDR=10.42.$NET.0/20
SERVER_PID=
AGENT_PID=
on_exit "rm -rf $W"
on_exit "$TIMONEL killall --data-dir $D1"
on_exit "$TIMONEL killall --data-dir $D2"
on_exit 'stop_pid AGENT_PID'
on_exit 'stop_pid SERVER_PID'

stop_pid() { # stop_pid VAR [SIGNAL]
        local pid=${!1}
        [ -n "$pid" ] || return 0
        kill -"${2:-TERM}" "$pid" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        eval "$1="
}
start_agent() { # start_agent [token]: credentials from the kubeconfig, or a static token
        local creds=(--kubeconfig "$KC")
        [ "${1:-}" = token ] && creds=(--server https://127.0.0.1:$PORT --token "$TOKEN" \
                --ca-file "$D1/server/tls/ca.crt")
        "$TIMONEL" agent "${creds[@]}" --data-dir "$D2" --node-name $AGT \
                --kubelet-port $KPORT2 --cluster-ca-dir "$D1/server/tls" \
                --node-label e2e.timonel.io/role=agent >>"$W/agent.log" 2>&1 &
        AGENT_PID=$!
}
TOKEN=node-$RANDOM-$RANDOM
mkdir -p "$W"
echo "$TOKEN,system:node:$AGT,uid-$AGT,\"system:masters\"" >"$W/tokens.csv"

bash "$ROOT/tests/data/images/make-busybox-tars.sh" "$W/img" >"$W/img.log" 2>&1
check "image import into both data dirs" bash -c "'$TIMONEL' image import --data-dir $D1 $W/img/busybox-docker.tar && '$TIMONEL' image import --data-dir $D2 $W/img/busybox-docker.tar"

"$TIMONEL" server --data-dir "$D1" --https-listen-port $PORT --kubelet-port $KPORT \
        --write-kubeconfig "$KC" --node-name $SRV --node-bridge $BR --cluster-cidr $CIDR \
        --node-monitor-grace-period 12s --default-unreachable-toleration-seconds 4 \
        --default-not-ready-toleration-seconds 4 --token-auth-file "$W/tokens.csv" \
        >>"$W/server.log" 2>&1 &
SERVER_PID=$!
diag "server pid $SERVER_PID port $PORT, cluster CIDR $CIDR, bridge $BR"
check "kubeconfig written" wait_for 15 test -s "$KC"
K="/usr/lib/google-cloud-sdk/bin/kubectl.1.31 --kubeconfig $KC --cache-dir $W/cache"
ready() { [ "$($K get node $1 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
check "server node Ready" wait_for 20 ready $SRV

start_agent
diag "agent pid $AGENT_PID kubelet port $KPORT2"
check "agent node joins and turns Ready" wait_for 30 ready $AGT
for V in $KUBECTL_VERSIONS; do
        KV="/usr/lib/google-cloud-sdk/bin/kubectl.$V --kubeconfig $KC --cache-dir $W/cache-$V"
        $KV get nodes -o wide >"$W/nodes-$V" 2>&1
        sed 's/^/# /' "$W/nodes-$V"
        check "[$V] get nodes: both Ready, roles control-plane and <none>" bash -c \
                "grep -Eq '^$SRV +Ready +control-plane ' $W/nodes-$V && grep -Eq '^$AGT +Ready +<none> ' $W/nodes-$V"
done
c1=$($K get node $SRV -o jsonpath='{.spec.podCIDR}')
c2=$($K get node $AGT -o jsonpath='{.spec.podCIDR}')
check "pod CIDRs are the first two /24s of $CIDR ($c1, $c2)" test "$c1" = "10.42.$NET.0/24" -a "$c2" = "10.42.$((NET + 1)).0/24"
check "podCIDRs lists the same" test "$($K get node $AGT -o jsonpath='{.spec.podCIDRs[0]}')" = "$c2"
check "agent node label from --node-label" test "$($K get node $AGT -o jsonpath='{.metadata.labels.e2e\.timonel\.io/role}')" = agent
check "agent node Lease in kube-node-lease" wait_for 15 $K get lease -n kube-node-lease $AGT
check "CIDRAssignmentSucceeded event" bash -c "$K get events -n default --field-selector involvedObject.name=$AGT | grep -q CIDRAssignmentSucceeded"
ABR=$(grep -o 'bridge tmnl[0-9a-f]*' "$W/agent.log" | head -1 | cut -d' ' -f2)
check "each node has its own bridge ($BR, $ABR)" test -n "$ABR" -a "$ABR" != "$BR"

cat >"$W/dep.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 1
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
          - weight: 100
            podAffinityTerm:
              topologyKey: kubernetes.io/hostname
              labelSelector:
                matchLabels: {app: web}
      containers:
      - name: httpd
        image: busybox:1.36
        command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
YAML
check "apply a 2-replica Deployment" $K apply -f "$W/dep.yaml"
running_on() { # node -> count of Running web pods on it
        $K get pods -l app=web -o jsonpath='{range .items[*]}{.spec.nodeName} {.status.phase} {.metadata.deletionTimestamp}{"\n"}{end}' |
                awk -v n="$1" '$1 == n && $2 == "Running" && NF == 2' | wc -l
}
spread() { [ "$(running_on $SRV)" = 1 ] && [ "$(running_on $AGT)" = 1 ]; }
check "one Running replica on each node" wait_for 60 spread
$K get pods -o wide | sed 's/^/# /'
pod_on() { $K get pods -l app=web -o jsonpath="{range .items[?(@.spec.nodeName==\"$1\")]}{.metadata.name}{\"\n\"}{end}" | head -1; }
P1=$(pod_on $SRV)
P2=$(pod_on $AGT)
IP1=$($K get pod $P1 -o jsonpath='{.status.podIP}')
IP2=$($K get pod $P2 -o jsonpath='{.status.podIP}')
check "pod IPs come from each node's CIDR ($IP1, $IP2)" bash -c "[[ $IP1 == 10.42.$NET.* && $IP2 == 10.42.$((NET + 1)).* ]]"
# (busybox-static's wget crashes resolving: plain HTTP over nc)
get() { $K exec $1 -- sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | nc -w 5 $2 8080 | tail -1" 2>&1; }
out=$(get $P1 $IP2)
check "pod on $SRV reaches the pod on $AGT ($out)" test "$out" = "$P2"
out=$(get $P2 $IP1)
check "pod on $AGT reaches the pod on $SRV ($out)" test "$out" = "$P1"
out=$($K logs $P2 2>&1; echo "rc=$?")
check "logs of a pod on the agent's node through the API server ($out)" grep -q 'rc=0' <<<"$out"

# the agent dies: its node turns NotReady, the pod is evicted and replaced on the other node
stop_pid AGENT_PID KILL
t0=$SECONDS
unknown() { [ "$($K get node $AGT -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = Unknown ]; }
check "agent node Ready=Unknown after the grace period" wait_for 45 unknown
diag "NotReady after $((SECONDS - t0)) s"
check "get nodes says NotReady" bash -c "$K get nodes --no-headers | grep -Eq '^$AGT +NotReady '"
check "Ready reason NodeStatusUnknown" test "$($K get node $AGT -o jsonpath='{.status.conditions[?(@.type=="Ready")].reason}')" = NodeStatusUnknown
check "Ready message as Kubernetes words it" test "$($K get node $AGT -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}')" = "Kubelet stopped posting node status."
check "MemoryPressure Unknown too" test "$($K get node $AGT -o jsonpath='{.status.conditions[?(@.type=="MemoryPressure")].status}')" = Unknown
taints() { $K get node $AGT -o jsonpath='{range .spec.taints[*]}{.key}:{.effect}{"\n"}{end}' | sort | tr '\n' ' '; }
has_taints() { [ "$(taints)" = "node.kubernetes.io/unreachable:NoExecute node.kubernetes.io/unreachable:NoSchedule " ]; }
check "unreachable NoSchedule + NoExecute taints" wait_for 5 has_taints
$K describe node $AGT | sed -n '/^Taints/,/^Unschedulable/p' | sed 's/^/# /'
moved() { [ "$(running_on $SRV)" = 2 ]; }
check "the evicted replica is replaced on $SRV" wait_for 60 moved
diag "replaced $((SECONDS - t0)) s after the agent died"
check "the old pod is terminating (deletionTimestamp set)" test -n "$($K get pod $P2 -o jsonpath='{.metadata.deletionTimestamp}' 2>/dev/null)"
check "DisruptionTarget DeletionByTaintManager on the old pod" test "$($K get pod $P2 -o jsonpath='{.status.conditions[?(@.type=="DisruptionTarget")].reason}' 2>/dev/null)" = DeletionByTaintManager
ep_ips() { $K get endpoints web -o jsonpath='{range .subsets[*].addresses[*]}{.ip}{"\n"}{end}' | sort | tr '\n' ' '; }
ep_moved() { ! grep -qw "$IP2" <<<"$(ep_ips)" && [ "$($K get endpoints web -o jsonpath='{range .subsets[*].addresses[*]}{.nodeName}{"\n"}{end}' | grep -c "^$SRV$")" = 2 ]; }
check "Service endpoints: the evicted pod's IP is gone, 2 addresses on $SRV" wait_for 20 ep_moved
slice_p2() { $K get endpointslices -l kubernetes.io/service-name=web -o jsonpath="{range .items[*].endpoints[?(@.targetRef.name==\"$P2\")]}{.conditions.ready}/{.conditions.serving}/{.conditions.terminating}{end}"; }
check "EndpointSlice keeps the terminating pod: ready=false serving=false terminating=true ($(slice_p2))" test "$(slice_p2)" = false/false/true
check "TaintManagerEviction event" bash -c "$K get events --field-selector involvedObject.name=$P2 | grep -q 'TaintManagerEviction.*Marking for deletion Pod default/$P2'"
$K get pods -o wide | sed 's/^/# /'

# the agent comes back (this time with a static token): Ready, taints gone, the old pod
# finishes terminating
start_agent token
check "agent node Ready again (token credentials)" wait_for 40 ready $AGT
check "the agent wrote a token kubeconfig" grep -q "token: \"$TOKEN\"" "$D2/agent/cred/kubeconfig"
no_taints() { [ -z "$(taints)" ]; }
check "taints removed" wait_for 10 no_taints
gone() { ! $K get pod $P2 >/dev/null 2>&1; }
check "the evicted pod is gone once its kubelet is back" wait_for 30 gone

# pod GC: a pod bound to a node that is deleted goes away
stop_pid AGENT_PID KILL
cat >"$W/orphan.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: orphan}
spec:
  nodeName: $AGT
  tolerations: [{operator: Exists}]
  containers: [{name: c, image: busybox:1.36, command: ["sleep", "3600"]}]
YAML
check "create a pod bound to $AGT" $K apply -f "$W/orphan.yaml"
check "delete node $AGT" $K delete node $AGT --wait=false
orphan_gone() { ! $K get pod orphan >/dev/null 2>&1; }
check "pod GC deletes the pod of the deleted node" wait_for 40 orphan_gone

# killall of the agent's data dir touches only that node
"$TIMONEL" killall --data-dir "$D2" >/dev/null 2>&1
check "agent killall removed its bridge $ABR" bash -c "! ip link show $ABR >/dev/null 2>&1"
check "agent killall left the server's bridge $BR" ip link show $BR
check "agent killall left the fence routes" bash -c "ip route show exact 10.42.0.0/16 | grep -q blackhole && ip route show exact 10.43.0.0/16 | grep -q blackhole"
check "agent killall left no mounts of its data dir" bash -c "! grep -q '$D2' /proc/mounts"
check "server pods still Running" test "$(running_on $SRV)" = 2

stop_pid SERVER_PID
"$TIMONEL" killall --data-dir "$D1" >/dev/null 2>&1
check "server killall removed $BR" bash -c "! ip link show $BR >/dev/null 2>&1"
check "no mounts left" bash -c "! grep -q '$W' /proc/mounts"
