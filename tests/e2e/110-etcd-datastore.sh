#!/bin/bash
# 110-etcd-datastore.sh — timonel on a real etcd (issue 3 item 5): Debian's etcd started here on
# loopback (free ports, temp data dir); `timonel server --datastore-endpoint http://127.0.0.1:P`
# runs the skeleton flow (apply a pod, Running, delete); a second server on the same etcd sees
# the same objects and its `kubectl get -w` sees changes made through the first; etcd stopped and
# restarted under both servers: requests fail meanwhile, then everything recovers, watches too.
# A dead endpoint makes the server fail fast. Root only (the pod runs real containers).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
[ -x /usr/bin/etcd ] || skip_all "no /usr/bin/etcd (etcd-server, scripts/deps.sh)"
KV=${KUBECTL_VERSION:-1.31}

W=$(mktemp -d /tmp/timonel-e2e-etcd.XXXXXX)
D1=$W/data1
D2=$W/data2
EPORT=$(free_port)
EPEER=$(free_port)
PORT1=$(free_port)
KPORT1=$(free_port)
PORT2=$(free_port)
KPORT2=$(free_port)
EP=http://127.0.0.1:$EPORT
ETCD_PID=
S1_PID=
S2_PID=
WATCH_PID=
on_exit "rm -rf $W"
on_exit "$TIMONEL killall --data-dir $D2"
on_exit "$TIMONEL killall --data-dir $D1"
on_exit 'stop_etcd'
on_exit 'stop_pid S1_PID; stop_pid S2_PID'
on_exit '[ -n "$WATCH_PID" ] && kill $WATCH_PID'

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
# stop_pid VAR — TERM, then KILL, the process whose pid is in $VAR
stop_pid() {
        local pid=${!1}
        [ -n "$pid" ] || return 0
        kill -TERM "$pid" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        printf -v "$1" '%s' ''
}

check "etcd started on $EP" start_etcd

# a dead endpoint: clear error, non-zero exit, quickly
DEAD=http://127.0.0.1:$(free_port)
t0=$SECONDS
out=$("$TIMONEL" server --data-dir "$W/dead" --https-listen-port "$(free_port)" --disable-agent \
        --write-kubeconfig "$W/dead.yaml" --datastore-endpoint "$DEAD" 2>&1)
rc=$?
diag "dead endpoint: rc $rc: $out"
check "server on a dead etcd exits non-zero" test "$rc" -ne 0
check "... naming the endpoint" grep -q "127.0.0.1" <<<"$out"
check "... within 15 s" test $((SECONDS - t0)) -le 15

# server 1: the whole skeleton flow, with the node agent
bash "$ROOT/tests/data/images/make-busybox-tars.sh" "$W/img" >"$W/img.log" 2>&1
check "image import" "$TIMONEL" image import --data-dir "$D1" "$W/img/busybox-docker.tar"
"$TIMONEL" server --data-dir "$D1" --https-listen-port "$PORT1" --kubelet-port "$KPORT1" \
        --write-kubeconfig "$W/kc1.yaml" --datastore-endpoint "$EP" >>"$W/server1.log" 2>&1 &
S1_PID=$!
K1="/usr/lib/google-cloud-sdk/bin/kubectl.$KV --kubeconfig $W/kc1.yaml --cache-dir $W/cache1"
check "server 1 kubeconfig written" wait_for 15 test -s "$W/kc1.yaml"
check "server 1 API ready" wait_for 20 $K1 get --raw /readyz
node_ready() { $K1 get nodes --no-headers | grep -q ' Ready '; }
check "node Ready within 15 s" wait_for 15 node_ready
check "objects are in etcd (default namespace key)" bash -c \
        "curl -sf -X POST -d '{\"key\":\"$(printf /registry/namespaces/default | base64 -w0)\"}' $EP/v3/kv/range | grep -q '\"count\":\"1\"'"

cat >"$W/pod.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: default
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "echo hello from etcd; while true; do sleep 1; done"]
YAML
out=$($K1 apply -f "$W/pod.yaml" 2>&1)
check "apply creates the pod ($out)" test "$out" = "pod/web created"
running() { [ "$($K1 get pod web -o jsonpath='{.status.phase}')" = Running ]; }
check "pod reaches Running" wait_for 30 running
has_logs() { $K1 logs web | grep -q 'hello from etcd'; }
check "logs" wait_for 10 has_logs

# server 2: same etcd, no agent, its own data dir (and CA): sees the same objects
"$TIMONEL" server --data-dir "$D2" --https-listen-port "$PORT2" --kubelet-port "$KPORT2" \
        --write-kubeconfig "$W/kc2.yaml" --datastore-endpoint "$EP" --disable-agent \
        >>"$W/server2.log" 2>&1 &
S2_PID=$!
K2="/usr/lib/google-cloud-sdk/bin/kubectl.$KV --kubeconfig $W/kc2.yaml --cache-dir $W/cache2"
check "server 2 kubeconfig written" wait_for 15 test -s "$W/kc2.yaml"
check "server 2 API ready" wait_for 20 $K2 get --raw /readyz
check "server 2 sees the pod Running" bash -c \
        "[ \"\$($K2 get pod web -o jsonpath='{.status.phase}')\" = Running ]"
check "server 2 sees server 1's node" bash -c "$K2 get nodes --no-headers | grep -q ' Ready '"
rv1=$($K1 get pod web -o jsonpath='{.metadata.resourceVersion}')
rv2=$($K2 get pod web -o jsonpath='{.metadata.resourceVersion}')
check "same resourceVersion through both ($rv1, $rv2)" test -n "$rv1" -a "$rv1" = "$rv2"

# a watch on server 2 sees changes made through server 1
$K2 get configmaps -w --output-watch-events >"$W/watch2.out" 2>&1 &
WATCH_PID=$!
sleep 1
check "create a configmap through server 1" $K1 create configmap shared --from-literal=k=v1
in_watch() { grep -Eq "$1" "$W/watch2.out"; }
check "server 2's watch sees ADDED within 3 s" wait_for 3 in_watch "^ADDED +shared"
check "update through server 1" $K1 patch configmap shared -p '{"data":{"k":"v2"}}'
check "server 2's watch sees MODIFIED within 3 s" wait_for 3 in_watch "^MODIFIED +shared"
check "server 2 reads the update" bash -c "[ \"\$($K2 get cm shared -o jsonpath='{.data.k}')\" = v2 ]"
check "create through server 2 is visible on server 1" bash -c \
        "$K2 create configmap other --from-literal=a=b && $K1 get configmap other"
out=$($K1 create configmap shared --from-literal=k=x 2>&1)
check "AlreadyExists across servers ($out)" grep -q 'configmaps "shared" already exists' <<<"$out"

# etcd stopped and restarted under both servers
stop_etcd
out=$($K2 get configmap shared --request-timeout=15s 2>&1)
rc=$?
diag "while etcd is down: rc $rc: $out"
check "requests fail while etcd is down" test "$rc" -ne 0
check "etcd restarted" start_etcd
check "server 1 recovers" wait_for 20 $K1 get configmap shared
check "server 2 recovers" wait_for 20 $K2 get configmap shared
check "update through server 1 after the restart" $K1 patch configmap shared -p '{"data":{"k":"v3"}}'
n_mod() { [ "$(grep -Ec '^MODIFIED +shared' "$W/watch2.out")" -ge 2 ]; }
check "server 2's watch (from before the restart) sees it" wait_for 20 n_mod
kill $WATCH_PID 2>/dev/null
wait $WATCH_PID 2>/dev/null
WATCH_PID=
sed 's/^/# watch2: /' "$W/watch2.out"
check "server 2's watch: each event once, in order" bash -c \
        "[ \"\$(awk '\$2 == \"shared\" {printf \"%s \", \$1}' $W/watch2.out)\" = 'ADDED MODIFIED MODIFIED ' ]"

# delete the pod through server 1: the node stops it, the store emits DELETED
cid=$($K1 get pod web -o jsonpath='{.status.containerStatuses[0].containerID}')
cid=${cid#*://}
out=$($K1 delete pod web 2>&1)
check "delete pod ($out)" test "$out" = 'pod "web" deleted'
check "container gone" bash -c "! pgrep -f '[c]onmon.*$cid' >/dev/null"
out=$($K2 get pod web 2>&1)
check "server 2: pod gone ($out)" grep -q NotFound <<<"$out"

stop_pid S2_PID
stop_pid S1_PID
check "server 1 exited" test -z "$S1_PID"
if [ "$E2E_FAIL" -gt 0 ]; then
        tail -20 "$W/server1.log" | sed 's/^/# server1: /'
        tail -20 "$W/server2.log" | sed 's/^/# server2: /'
fi
