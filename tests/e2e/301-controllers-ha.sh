#!/bin/bash
# 301-controllers-ha.sh — two servers on one etcd run the controller manager safely (issue 6
# item 2, leader election): exactly one holds the Lease kube-system/timonel-controller-manager;
# a Deployment applied through the other gets exactly its replicas (no duplicate pods from two
# managers); killing the holder with -9 hands the lease to the survivor after the 15 s lease
# duration (leaseTransitions counts it), which then reconciles a scale-up. No node agents: the
# pods stay Pending, which is all the controllers need. Root only (like the other etcd tests).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
[ -x /usr/bin/etcd ] || skip_all "no /usr/bin/etcd (etcd-server, scripts/deps.sh)"
KV=${KUBECTL_VERSION:-1.31}

W=$(mktemp -d /tmp/timonel-e2e-ha.XXXXXX)
EPORT=$(free_port)
EPEER=$(free_port)
EP=http://127.0.0.1:$EPORT
ETCD_PID=
S1_PID=
S2_PID=
on_exit "rm -rf $W"
on_exit 'stop_etcd'
on_exit 'stop_pid S1_PID; stop_pid S2_PID'

start_etcd() {
        /usr/bin/etcd --name e2e --data-dir "$W/etcd" \
                --listen-client-urls "$EP" --advertise-client-urls "$EP" \
                --listen-peer-urls "http://127.0.0.1:$EPEER" \
                --initial-advertise-peer-urls "http://127.0.0.1:$EPEER" \
                --initial-cluster "e2e=http://127.0.0.1:$EPEER" >>"$W/etcd.log" 2>&1 &
        ETCD_PID=$!
        wait_for 15 curl -sf -X POST -d '{"key":"AA=="}' "$EP/v3/kv/range"
}
stop_etcd() {
        [ -n "$ETCD_PID" ] || return 0
        kill -KILL "$ETCD_PID" 2>/dev/null
        wait "$ETCD_PID" 2>/dev/null
        ETCD_PID=
}
stop_pid() { # stop_pid VAR [SIGNAL]
        local pid=${!1}
        [ -n "$pid" ] || return 0
        kill -"${2:-TERM}" "$pid" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        printf -v "$1" '%s' ''
}
start() { # start N -> S<N>_PID
        "$TIMONEL" server --data-dir "$W/d$1" --https-listen-port "$(free_port)" --disable-agent \
                --write-kubeconfig "$W/kc$1.yaml" --datastore-endpoint "$EP" >>"$W/server$1.log" 2>&1 &
        printf -v "S$1_PID" '%s' $!
}

check "etcd started" start_etcd
start 1
start 2
K1="/usr/lib/google-cloud-sdk/bin/kubectl.$KV --kubeconfig $W/kc1.yaml --cache-dir $W/cache1"
K2="/usr/lib/google-cloud-sdk/bin/kubectl.$KV --kubeconfig $W/kc2.yaml --cache-dir $W/cache2"
check "server 1 API ready" wait_for 20 test -s "$W/kc1.yaml" -a -s "$W/d1/server/controller-manager.id"
check "server 2 API ready" wait_for 20 test -s "$W/kc2.yaml" -a -s "$W/d2/server/controller-manager.id"
wait_for 20 $K1 get --raw /readyz
wait_for 20 $K2 get --raw /readyz
holder() { $K1 get lease -n kube-system timonel-controller-manager -o jsonpath='{.spec.holderIdentity}' 2>/dev/null; }
check "the Lease is held" wait_for 20 bash -c "[ -n \"\$($K1 get lease -n kube-system timonel-controller-manager -o jsonpath='{.spec.holderIdentity}' 2>/dev/null)\" ]"
h=$(holder)
id1=$(cat "$W/d1/server/controller-manager.id")
id2=$(cat "$W/d2/server/controller-manager.id")
diag "holder $h; server 1 ${id1}, server 2 ${id2}"
if [ "${h##*_}" = "$id1" ]; then LEADER=1; OTHER=2; else LEADER=2; OTHER=1; fi
check "the holder is one of the two servers" test "${h##*_}" = "$id1" -o "${h##*_}" = "$id2"
grep -h 'acquired lease' "$W/server1.log" "$W/server2.log" | sed 's/^/# /'
check "only one server acquired it" test "$(grep -h 'acquired lease' "$W/server1.log" "$W/server2.log" | wc -l)" = 1

KO=K$OTHER
KO=${!KO}
cat >"$W/d.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: ha, namespace: default}
spec:
  replicas: 6
  selector: {matchLabels: {app: ha}}
  template:
    metadata: {labels: {app: ha}}
    spec:
      containers: [{name: c, image: busybox:1.36, command: ["sleep", "3600"]}]
YAML
check "apply through the non-leader" $KO apply -f "$W/d.yaml"
six() { [ "$($KO get pods -l app=ha --no-headers | wc -l)" = 6 ]; }
check "6 pods" wait_for 20 six
sleep 5
check "still exactly 6 pods and one RS a while later" bash -c "[ \$($KO get pods -l app=ha --no-headers | wc -l) = 6 ] && [ \$($KO get rs -l app=ha --no-headers | wc -l) = 1 ]"
tr0=$($KO get lease -n kube-system timonel-controller-manager -o jsonpath='{.spec.leaseTransitions}')

t0=$SECONDS
stop_pid S${LEADER}_PID KILL
moved() { h2=$($KO get lease -n kube-system timonel-controller-manager -o jsonpath='{.spec.holderIdentity}'); [ "${h2##*_}" = "$(cat "$W/d$OTHER/server/controller-manager.id")" ]; }
check "the survivor takes the lease over" wait_for 40 moved
took=$((SECONDS - t0))
check "... not before the lease expired (${took}s >= 13)" test "$took" -ge 13
tr1=$($KO get lease -n kube-system timonel-controller-manager -o jsonpath='{.spec.leaseTransitions}')
check "leaseTransitions counted ($tr0 -> $tr1)" test "$tr1" = $((tr0 + 1))
check "scale to 8 through the survivor" $KO scale deploy/ha --replicas=8
eight() { [ "$($KO get pods -l app=ha --no-headers | wc -l)" = 8 ]; }
check "the new leader reconciles: 8 pods" wait_for 20 eight
