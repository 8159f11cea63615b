#!/bin/bash
# 145-kubectl-compat.sh — the kubectl compatibility suite (issue 4 "Done when", first bullet),
# for what 140 (kinds, apply, columns, generators with protobuf bodies) does not cover: get in
# every output mode on live pods (table, wide, yaml, json, jsonpath, name, custom-columns,
# --show-labels, -L, --sort-by, -A, -w over HTTP/1.1 and HTTP/2), describe (pod, deployment,
# service, node, namespace, configmap: kubectl's describe.go section layout, Events: from the
# involvedObject.* field selectors), the remaining `create <kind>` generators, replace --force,
# label/annotate --overwrite and key-, scale --current-replicas, delete (--cascade background/
# foreground/orphan, --grace-period, --now, --wait), wait (condition, delete, jsonpath),
# api-resources -o wide, api-versions, explain --recursive and field descriptions, auth whoami,
# version. kubectl 1.27, 1.29, 1.31, 1.32 and 1.33. Expected text is what kubectl prints for a
# real cluster (kubectl's describe.go/printers, Kubernetes' API docs), not our output.
# Runs a node (pods really start: busybox:1.36 imported from tests/data/images).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
KUBECTL_VERSIONS=${KUBECTL_VERSIONS:-"1.27 1.29 1.31 1.32 1.33"}

W=$(mktemp -d /tmp/timonel-e2e-compat.XXXXXX)
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

bash "$ROOT/tests/data/images/make-busybox-tars.sh" "$W/img" >"$W/img.log" 2>&1
check "test image tarballs built" test -s "$W/img/busybox-docker.tar"
check "image import" "$TIMONEL" image import --data-dir "$D" "$W/img/busybox-docker.tar"
"$TIMONEL" server --data-dir "$D" --https-listen-port "$PORT" --kubelet-port "$KPORT" \
        --write-kubeconfig "$KC" >>"$W/server.log" 2>&1 &
SERVER_PID=$!
check "kubeconfig written" wait_for 10 test -s "$KC"
K0="/usr/lib/google-cloud-sdk/bin/kubectl.1.31 --kubeconfig $KC --cache-dir $W/cache-0"
node_ready() { $K0 get nodes --no-headers | grep -q ' Ready '; }
check "node Ready" wait_for 20 node_ready
NODE=$($K0 get nodes -o jsonpath='{.items[0].metadata.name}')
TLS=$D/server/tls
CURL=(curl -sS --cacert "$TLS/ca.crt" --cert "$TLS/admin.crt" --key "$TLS/admin.key")
API=https://127.0.0.1:$PORT

# ---- watch over HTTP/1.1: the response headers come at once, not with the first event ----
$K0 create namespace quiet >/dev/null
for proto in --http1.1 --http2; do
        rm -f "$W/hdr"
        timeout 5 "${CURL[@]}" $proto -D "$W/hdr" -o /dev/null -m 2 "$API/api/v1/namespaces/quiet/configmaps?watch=1" 2>/dev/null
        check "watch ${proto#--}: status line before any event" grep -q '^HTTP/[12.]* 200' "$W/hdr"
done
# a chunked HTTP/1.1 watch still frames events and ends cleanly at timeoutSeconds
$K0 create configmap -n quiet one --from-literal=a=b >/dev/null
out=$(timeout 10 "${CURL[@]}" --http1.1 "$API/api/v1/namespaces/quiet/configmaps?watch=1&timeoutSeconds=1" | jq -r '.type + " " + .object.metadata.name')
check "watch http1.1: ADDED event, stream ended by timeoutSeconds ($out)" test "$out" = "ADDED one"

# ---- bad input: each gets its Status, nothing is written, the server stays up ----
code() { "${CURL[@]}" -o "$W/body" -w '%{http_code}' "$@"; }
$K0 create namespace bad >/dev/null
# 10,000 nested arrays: 400 from the depth check, no deep recursion
python3 -c 'print("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"deep\"},\"data\":" + "[" * 10000 + "]" * 10000 + "}")' >"$W/deep.json"
c=$(code -X POST -H 'Content-Type: application/json' --data-binary @"$W/deep.json" "$API/api/v1/namespaces/bad/configmaps")
check "10,000 nested '[': 400 ($c $(jq -r .message "$W/body" 2>/dev/null | cut -c1-80))" bash -c "[ $c = 400 ] && jq -e '.kind == \"Status\" and .reason == \"BadRequest\"' $W/body >/dev/null"
head -c $((3 * 1024 * 1024 + 10)) /dev/zero | tr '\0' 'a' | python3 -c 'import sys; v=sys.stdin.read(); print("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"big\"},\"data\":{\"a\":\"" + v + "\"}}")' >"$W/big.json"
c=$(code -X POST -H 'Content-Type: application/json' --data-binary @"$W/big.json" "$API/api/v1/namespaces/bad/configmaps")
check "3 MiB+ body: 413 ($c)" test "$c" = 413
printf 'k8s\000\012\377\377garbage' >"$W/garbage.pb"
c=$(code -X POST -H 'Content-Type: application/vnd.kubernetes.protobuf' --data-binary @"$W/garbage.pb" "$API/api/v1/namespaces/bad/configmaps")
check "malformed protobuf: 400 ($c)" test "$c" = 400
c=$(code -X POST -H 'Content-Type: application/json' --data-binary '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","resourceVersion":"1"}}' "$API/api/v1/namespaces/bad/configmaps")
check "create with a resourceVersion: 500 as etcd3's store refuses it ($c)" bash -c "[ $c = 500 ] && jq -e '.message == \"resourceVersion should not be set on objects to be created\"' $W/body >/dev/null"
$K0 -n bad create configmap stale >/dev/null
c=$(code -X PUT -H 'Content-Type: application/json' --data-binary '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"stale","namespace":"bad","resourceVersion":"1"},"data":{"a":"b"}}' "$API/api/v1/namespaces/bad/configmaps/stale")
check "stale resourceVersion: 409 Conflict ($c $(jq -r .reason "$W/body"))" bash -c "[ $c = 409 ] && jq -e '.reason == \"Conflict\"' $W/body >/dev/null"
c=$(code "$API/api/v1/namespaces/bad/pods?labelSelector=a%20in%20(b")
check "bad label selector: 400 ($c)" test "$c" = 400
c=$(code "$API/api/v1/namespaces/bad/pods?fieldSelector=spec.bogus%3Dx")
check "unsupported field selector: 400 ($c)" test "$c" = 400
c=$(code -X POST -H 'Content-Type: application/json' --data-binary '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"nocont"},"spec":{}}' "$API/api/v1/namespaces/bad/pods")
check "missing required field: 422 with its cause ($c $(jq -r .message "$W/body"))" bash -c "[ $c = 422 ] && jq -e '.message == \"Pod \\\"nocont\\\" is invalid: spec.containers: Required value\" and .details.causes[0].field == \"spec.containers\" and .details.causes[0].reason == \"FieldValueRequired\"' $W/body >/dev/null"
c=$(code -X POST -H 'Content-Type: application/json' --data-binary '{"apiVersion":"v1","kind":"ConfigMap","metadata":{}}' "$API/api/v1/namespaces/bad/configmaps")
check "no name: 422 ($c $(jq -r .message "$W/body"))" bash -c "[ $c = 422 ] && jq -e '.message | endswith(\"metadata.name: Required value: name or generateName is required\")' $W/body >/dev/null"
check "nothing written by the bad requests" test "$($K0 get cm -n bad -o name | grep -v kube-root-ca | tr '\n' ' ')" = "configmap/stale "
# DeleteOptions as protobuf (client-go typed clients with ContentType protobuf): a runtime.Unknown
pb_delete_options() {
        python3 - "$1" "$2" <<'PY'
import sys
def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])
def fld(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload
grace, policy = int(sys.argv[1]), sys.argv[2].encode()
raw = varint(1 << 3 | 0) + varint(grace) + fld(4, policy)
tm = fld(1, b"meta.k8s.io/v1") + fld(2, b"DeleteOptions")
sys.stdout.buffer.write(b"k8s\0" + fld(1, tm) + fld(2, raw) + fld(4, b"application/vnd.kubernetes.protobuf"))
PY
}
$K0 -n bad run pbdel --image=busybox:1.36 -- sleep 3600 >/dev/null
$K0 -n bad wait --for=condition=Ready pod/pbdel --timeout=60s >/dev/null 2>&1
pb_delete_options 7 Background >"$W/delopts.pb"
c=$(code -X DELETE -H 'Content-Type: application/vnd.kubernetes.protobuf' --data-binary @"$W/delopts.pb" "$API/api/v1/namespaces/bad/pods/pbdel")
check "protobuf DeleteOptions: 200 ($c)" test "$c" = 200
check "protobuf DeleteOptions: gracePeriodSeconds 7 applied" test "$(jq -r .metadata.deletionGracePeriodSeconds "$W/body")" = 7
$K0 -n bad create deployment pbdep --image=busybox:1.36 --replicas=0 >/dev/null
wait_for 20 bash -c "$K0 -n bad get rs -l app=pbdep -o name | grep -q ."
pb_delete_options 0 Orphan >"$W/delopts.pb"
c=$(code -X DELETE -H 'Content-Type: application/vnd.kubernetes.protobuf' --data-binary @"$W/delopts.pb" "$API/apis/apps/v1/namespaces/bad/deployments/pbdep")
check "protobuf DeleteOptions Orphan: 200 ($c)" test "$c" = 200
check "protobuf DeleteOptions Orphan: the replicaset stays, unowned" wait_for 10 bash -c "[ \"\$($K0 -n bad get rs -l app=pbdep -o jsonpath='{.items[0].metadata.ownerReferences}')\" = '' ] && ! $K0 -n bad get deploy pbdep >/dev/null 2>&1"
c=$(code -X DELETE -H 'Content-Type: application/vnd.kubernetes.protobuf' --data-binary @"$W/garbage.pb" "$API/api/v1/namespaces/bad/configmaps/stale")
check "malformed protobuf DeleteOptions: 400, nothing deleted ($c)" bash -c "[ $c = 400 ] && $K0 -n bad get cm stale >/dev/null"

# ResourceQuota: status.hard/used kept from the namespace's objects, creates over a hard limit
# and pods without the tracked compute resources are Forbidden (kube-apiserver's messages)
$K0 create namespace quota >/dev/null
$K0 -n quota create quota q1 --hard=pods=2,requests.cpu=1,limits.memory=1Gi,count/deployments.apps=1 >/dev/null
check "quota: status.hard mirrors spec.hard" wait_for 5 bash -c "[ \"\$($K0 -n quota get quota q1 -o jsonpath='{.status.hard.pods} {.status.used.pods}')\" = '2 0' ]"
out=$($K0 -n quota run nores --image=busybox:1.36 -- sleep 3600 2>&1)
check "quota: a pod without the tracked resources ($out)" test "$out" = 'Error from server (Forbidden): pods "nores" is forbidden: failed quota: q1: must specify limits.memory for: nores; requests.cpu for: nores'
podres() { echo "{\"spec\":{\"containers\":[{\"name\":\"$1\",\"image\":\"busybox:1.36\",\"args\":[\"sleep\",\"3600\"],\"resources\":{\"requests\":{\"cpu\":\"$2\"},\"limits\":{\"memory\":\"64Mi\"}}}]}}"; }
$K0 -n quota run small --image=busybox:1.36 --overrides="$(podres small 300m)" >/dev/null
out=$($K0 -n quota run big --image=busybox:1.36 --overrides="$(podres big 800m)" 2>&1)
check "quota: exceeded ($out)" test "$out" = 'Error from server (Forbidden): pods "big" is forbidden: exceeded quota: q1, requested: requests.cpu=800m, used: requests.cpu=300m, limited: requests.cpu=1'
$K0 -n quota create deployment one --image=busybox:1.36 --replicas=0 >/dev/null
out=$($K0 -n quota create deployment two --image=busybox:1.36 --replicas=0 2>&1)
check "quota: count/deployments.apps ($out)" test "$out" = 'error: failed to create deployment: deployments.apps "two" is forbidden: exceeded quota: q1, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1'
out=$($K0 -n quota describe quota q1 | tr -s ' ' | tr '\n' '|')
check "quota: describe ($out)" wait_for 5 bash -c "$K0 -n quota describe quota q1 | tr -s ' ' | tr '\n' '|' | grep -qx 'Name: q1|Namespace: quota|Resource Used Hard|-------- ---- ----|count/deployments.apps 1 1|limits.memory 64Mi 1Gi|pods 1 2|requests.cpu 300m 1|'"
$K0 -n quota delete pod small --grace-period=0 --force >/dev/null 2>&1
check "quota: usage drops after the delete" wait_for 10 bash -c "[ \"\$($K0 -n quota get quota q1 -o jsonpath='{.status.used.pods} {.status.used.requests\.cpu}')\" = '0 0' ]"
# a controller's generated pods are named by their generateName in the Forbidden message (as
# admission.NewForbidden does: the name is made after admission), so the ReplicaSet's
# ReplicaFailure condition stays put and its retries back off instead of spinning
$K0 -n quota scale deploy one --replicas=1 >/dev/null
fc() { $K0 -n quota get events --field-selector reason=FailedCreate -o jsonpath='{range .items[*]}{.message}{"\n"}{end}'; }
check "quota: FailedCreate names the generateName" wait_for 10 bash -c "$(declare -f fc); K0='$K0'; fc | grep -Eqx 'Error creating: pods \"one-[a-z0-9]+-\" is forbidden: failed quota: q1: must specify limits.memory for: busybox; requests.cpu for: busybox'"
sleep 4
n=$(fc | wc -l)
check "quota: the ReplicaSet backs off ($n FailedCreate events in ~5 s)" test "$n" -le 10
check "quota: nothing over quota was created" bash -c "! $K0 -n quota get pod big nores deploy/two >/dev/null 2>&1"

# LimitRange defaults (the LimitRanger admission plugin) fill what containers leave unset
$K0 create namespace limits >/dev/null
$K0 apply -f - >/dev/null <<YAML
apiVersion: v1
kind: LimitRange
metadata: {name: lr, namespace: limits}
spec:
  limits: [{type: Container, default: {cpu: 500m, memory: 64Mi}, defaultRequest: {cpu: 200m}}]
YAML
$K0 -n limits run lim --image=busybox:1.36 --overrides='{"spec":{"containers":[{"name":"lim","image":"busybox:1.36","args":["sleep","3600"],"resources":{"requests":{"memory":"32Mi"}}}]}}' >/dev/null
out=$($K0 -n limits get pod lim -o jsonpath='{.spec.containers[0].resources.requests.cpu} {.spec.containers[0].resources.requests.memory} {.spec.containers[0].resources.limits.cpu} {.spec.containers[0].resources.limits.memory} {.status.qosClass}')
check "LimitRange defaults applied ($out)" test "$out" = "200m 32Mi 500m 64Mi Burstable"
out=$($K0 -n limits get pod lim -o jsonpath='{.metadata.annotations.kubernetes\.io/limit-ranger}')
check "LimitRanger annotation ($out)" test "$out" = "LimitRanger plugin set: cpu request for container lim; cpu, memory limit for container lim"

# a watcher that stops reading is dropped after its bounded queue; another watcher gets every
# event and the server keeps serving
python3 - "$PORT" "$TLS" "$W/flood-done" >"$W/slow.out" 2>&1 <<'PY' &
import os, socket, ssl, sys, time
port, tls, done = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=tls + "/ca.crt")
ctx.load_cert_chain(tls + "/admin.crt", tls + "/admin.key")
ctx.set_alpn_protocols(["http/1.1"])
raw = socket.socket()
raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
raw.connect(("127.0.0.1", port))
s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
s.sendall(b"GET /api/v1/namespaces/bad/configmaps?watch=1&fieldSelector=metadata.name%3Dflood HTTP/1.1\r\nHost: x\r\n\r\n")
print("connected", flush=True)
for _ in range(1800):  # not reading until the writer is done (at most 3 minutes)
    if os.path.exists(done):
        break
    time.sleep(0.1)
time.sleep(2)
n = 0
s.settimeout(20)
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        n += len(d)
    print("closed by the server after", n, "bytes", flush=True)
except socket.timeout:
    print("still open after", n, "bytes", flush=True)
PY
SLOW_PID=$!
on_exit "kill $SLOW_PID"
wait_for 10 grep -q connected "$W/slow.out"
timeout 120 "${CURL[@]}" -N "$API/api/v1/namespaces/bad/configmaps?watch=1&fieldSelector=metadata.name%3Dflood" >"$W/fast.out" 2>/dev/null &
FAST_PID=$!
on_exit "kill $FAST_PID"
sleep 1
python3 -c 'import json; print(json.dumps({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"flood"},"data":{"v":"x" * 900000}}))' >"$W/flood.json"
"${CURL[@]}" -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary @"$W/flood.json" "$API/api/v1/namespaces/bad/configmaps"
for i in $(seq 1 40); do
        python3 -c "import json; print(json.dumps({'data':{'v':chr(97 + $i % 26) * 900000}}))" >"$W/patch.json"
        "${CURL[@]}" -o /dev/null -X PATCH -H 'Content-Type: application/merge-patch+json' --data-binary @"$W/patch.json" "$API/api/v1/namespaces/bad/configmaps/flood"
done
touch "$W/flood-done"
check "the reading watcher got all 41 events" wait_for 30 bash -c "[ \$(grep -c '^{\"type\":\"\(ADDED\|MODIFIED\)\"' $W/fast.out) = 41 ]"
check "the server logged the slow watcher" grep -q 'watch client too slow' "$W/server.log"
check "server answers while the slow client sits" bash -c "$K0 get --raw /readyz | grep -qx ok"
wait $SLOW_PID
check "the slow watcher's connection was closed by the server ($(cat "$W/slow.out" | tail -1))" grep -q 'closed by the server' "$W/slow.out"
kill $FAST_PID 2>/dev/null

# section-label sequence of a describe output: the lines "Label:" at column 0
sections() { grep -oE '^[A-Z][A-Za-z -]*:' | tr -d ':' | tr '\n' '|'; }

for V in $KUBECTL_VERSIONS; do
        K="/usr/lib/google-cloud-sdk/bin/kubectl.$V --kubeconfig $KC --cache-dir $W/cache-$V"
        SFX=${V/./}
        NS=compat-$SFX
        check "[$V] create namespace" bash -c "$K create namespace $NS >/dev/null"
        check "[$V] version: server v1.31" bash -c "$K version -o json | jq -e '.serverVersion.major == \"1\" and .serverVersion.minor == \"31\"' >/dev/null"
        out=$($K auth whoami -o jsonpath='{.status.userInfo.username}' 2>&1)
        check "[$V] auth whoami ($out)" test "$out" = "system:admin"
        out=$($K auth whoami 2>&1 | tr -s ' ' | head -2 | tr '\n' '|')
        check "[$V] auth whoami table ($out)" test "$out" = "ATTRIBUTE VALUE|Username system:admin|"

        # ---- pods to look at ----
        out=$($K -n $NS run web --image=busybox:1.36 --labels=app=web,tier=front -- sleep 3600 2>&1)
        check "[$V] run ($out)" test "$out" = "pod/web created"
        $K -n $NS run side --image=busybox:1.36 --labels=app=side -- sleep 3600 >/dev/null
        out=$($K -n $NS wait --for=condition=Ready pod/web pod/side --timeout=60s 2>&1 | tr '\n' '|')
        check "[$V] wait --for=condition=Ready ($out)" test "$out" = "pod/web condition met|pod/side condition met|"
        out=$($K -n $NS wait --for=jsonpath='{.status.phase}'=Running pod/web --timeout=10s 2>&1)
        check "[$V] wait --for=jsonpath ($out)" test "$out" = "pod/web condition met"

        # ---- get, every output mode ----
        out=$($K -n $NS get pods 2>&1 | tr -s ' ' | sed 's/ $//')
        check "[$V] table header" test "$(head -1 <<<"$out")" = "NAME READY STATUS RESTARTS AGE"
        check "[$V] table rows" test "$(sed 1d <<<"$out" | cut -d' ' -f1-4 | tr '\n' '|')" = "side 1/1 Running 0|web 1/1 Running 0|"
        IP=$($K -n $NS get pod web -o jsonpath='{.status.podIP}')
        out=$($K -n $NS get pod web -o wide 2>&1 | tr -s ' ' | sed 's/ $//')
        check "[$V] wide header" test "$(head -1 <<<"$out")" = "NAME READY STATUS RESTARTS AGE IP NODE NOMINATED NODE READINESS GATES"
        check "[$V] wide row" test "$(sed 1d <<<"$out" | cut -d' ' -f1-4,6-)" = "web 1/1 Running 0 $IP $NODE <none> <none>"
        check "[$V] -o yaml" bash -c "$K -n $NS get pod web -o yaml | head -2 | tr '\n' '|' | grep -qx 'apiVersion: v1|kind: Pod|'"
        check "[$V] -o json" bash -c "$K -n $NS get pod web -o json | jq -e '.kind == \"Pod\" and .metadata.name == \"web\" and .status.phase == \"Running\"' >/dev/null"
        check "[$V] -o json of a list is a v1 List" bash -c "$K -n $NS get pods -o json | jq -e '.kind == \"List\" and .apiVersion == \"v1\" and (.items | length) == 2' >/dev/null"
        out=$($K -n $NS get pods -o name 2>&1 | tr '\n' ' ')
        check "[$V] -o name ($out)" test "$out" = "pod/side pod/web "
        out=$($K -n $NS get pods -o jsonpath='{range .items[*]}{.metadata.name}={.spec.containers[0].image};{end}' 2>&1)
        check "[$V] -o jsonpath range ($out)" test "$out" = "side=busybox:1.36;web=busybox:1.36;"
        out=$($K -n $NS get pods -o custom-columns='NAME:.metadata.name,NODE:.spec.nodeName,APP:.metadata.labels.app' 2>&1 | tr -s ' ' | sed 's/ $//' | tr '\n' '|')
        check "[$V] -o custom-columns ($out)" test "$out" = "NAME NODE APP|side $NODE side|web $NODE web|"
        out=$($K -n $NS get pod web --show-labels 2>&1 | tr -s ' ' | sed 's/ $//' | tr '\n' '|')
        check "[$V] --show-labels ($out)" grep -Eqx 'NAME READY STATUS RESTARTS AGE LABELS\|web 1/1 Running 0 [0-9a-z]+ app=web,tier=front\|' <<<"$out"
        out=$($K -n $NS get pods -L tier -L app 2>&1 | tr -s ' ' | sed 's/ $//' | tr '\n' '|')
        check "[$V] -L ($out)" grep -Eqx 'NAME READY STATUS RESTARTS AGE TIER APP\|side 1/1 Running 0 [0-9a-z]+ side\|web 1/1 Running 0 [0-9a-z]+ front web\|' <<<"$out"
        out=$($K -n $NS get pods -l app=web --no-headers 2>&1 | cut -d' ' -f1)
        check "[$V] -l selector, --no-headers ($out)" test "$out" = "web"
        out=$($K -n $NS get pods --field-selector=metadata.name=side -o name 2>&1)
        check "[$V] --field-selector ($out)" test "$out" = "pod/side"
        for c in zz aa mm; do $K -n $NS create configmap "s-$c" --from-literal=k=$c >/dev/null; done
        out=$($K -n $NS get cm --sort-by=.data.k -o name 2>&1 | grep /s- | tr '\n' ' ')
        check "[$V] --sort-by ($out)" test "$out" = "configmap/s-aa configmap/s-mm configmap/s-zz "
        out=$($K get pods -A 2>&1 | tr -s ' ' | sed 's/ $//' | head -1)
        check "[$V] -A header ($out)" test "$out" = "NAMESPACE NAME READY STATUS RESTARTS AGE"
        check "[$V] -A rows span namespaces" bash -c "$K get pods -A --no-headers | awk '{print \$1\"/\"\$2}' | grep -qx $NS/web"
        out=$($K get cm -A -l missing=label 2>&1)
        check "[$V] empty -A list ($out)" test "$out" = "No resources found"
        out=$($K get cm -n $NS -l missing=label 2>&1)
        check "[$V] empty list ($out)" test "$out" = "No resources found in $NS namespace."
        out=$($K get pod nothere -n $NS 2>&1)
        check "[$V] NotFound ($out)" test "$out" = 'Error from server (NotFound): pods "nothere" not found'

        # get -w over HTTP/1.1 (DISABLE_HTTP2, client-go) and HTTP/2
        for h2 in 1 0; do
                rm -f "$W/w.out"
                if [ $h2 = 1 ]; then
                        timeout 8 env DISABLE_HTTP2=1 $K get cm -n $NS -w --output-watch-events -l w=x >"$W/w.out" 2>&1 &
                else
                        timeout 8 $K get cm -n $NS -w --output-watch-events -l w=x >"$W/w.out" 2>&1 &
                fi
                wpid=$!
                sleep 1.5
                $K -n $NS create configmap w$h2 >/dev/null
                $K -n $NS label configmap w$h2 w=x >/dev/null
                $K -n $NS delete configmap w$h2 >/dev/null
                wait_for 5 grep -q DELETED "$W/w.out"
                kill $wpid 2>/dev/null
                wait $wpid 2>/dev/null
                out=$(grep -v '^I[0-9]' "$W/w.out" | awk '{print $1, $2}' | tr '\n' '|')
                check "[$V] get -w (DISABLE_HTTP2=$h2) events ($out)" test "$out" = "EVENT NAME|ADDED w$h2|DELETED w$h2|"
        done

        # ---- describe (describe.go layouts) ----
        $K -n $NS describe pod web >"$W/dp-$V" 2>&1
        out=$(sections <"$W/dp-$V")
        check "[$V] describe pod sections ($out)" test "$out" = "Name|Namespace|Priority|Service Account|Node|Start Time|Labels|Annotations|Status|IP|IPs|Containers|Conditions|Volumes|QoS Class|Node-Selectors|Tolerations|Events|"
        check "[$V] describe pod: Node is name/hostIP" grep -Eq "^Node: +$NODE/[0-9.]+$" "$W/dp-$V"
        check "[$V] describe pod: container state" bash -c "grep -A12 '^  web:' $W/dp-$V | grep -Eq '^    State: +Running$'"
        check "[$V] describe pod: Ready True" grep -Eq '^    Ready: +True$' "$W/dp-$V"
        check "[$V] describe pod: args" bash -c "grep -A2 '^    Args:' $W/dp-$V | tr -s ' ' | tr '\n' '|' | grep -qx ' Args:| sleep| 3600|'"
        check "[$V] describe pod: QoS BestEffort" grep -Eq '^QoS Class: +BestEffort$' "$W/dp-$V"
        check "[$V] describe pod: default tolerations" grep -Eq '^Tolerations: +node.kubernetes.io/not-ready:NoExecute op=Exists for 300s$' "$W/dp-$V"
        check "[$V] describe pod: events header" grep -Eq '^  Type +Reason +Age +From +Message$' "$W/dp-$V"
        check "[$V] describe pod: Scheduled event" grep -Eq "^  Normal +Scheduled +[0-9a-z]+ +default-scheduler +Successfully assigned $NS/web to $NODE$" "$W/dp-$V"
        check "[$V] describe pod: Started event" grep -Eq '^  Normal +Started +[0-9a-z]+ +kubelet +Started container web$' "$W/dp-$V"
        check "[$V] describe pod: conditions" bash -c "sed -n '/^Conditions:/,/^Volumes:/p' $W/dp-$V | tr -s ' ' | grep -qx ' Ready True '"

        $K -n $NS create deployment app --image=busybox:1.36 --replicas=2 -- sleep 3600 >/dev/null
        $K -n $NS rollout status deploy/app --timeout=60s >/dev/null 2>&1
        $K -n $NS describe deploy app >"$W/dd-$V" 2>&1
        out=$(sections <"$W/dd-$V")
        check "[$V] describe deployment sections ($out)" test "$out" = "Name|Namespace|CreationTimestamp|Labels|Annotations|Selector|Replicas|StrategyType|MinReadySeconds|RollingUpdateStrategy|Pod Template|Conditions|OldReplicaSets|NewReplicaSet|Events|"
        check "[$V] describe deployment: replicas line" grep -Eq '^Replicas: +2 desired \| 2 updated \| 2 total \| 2 available \| 0 unavailable$' "$W/dd-$V"
        check "[$V] describe deployment: strategy" grep -Eq '^RollingUpdateStrategy: +25% max unavailable, 25% max surge$' "$W/dd-$V"
        check "[$V] describe deployment: ScalingReplicaSet event" grep -Eq '^  Normal +ScalingReplicaSet +[0-9a-z]+ +deployment-controller +Scaled up replica set app-[a-z0-9]+ (from 0 )?to [12]$' "$W/dd-$V"
        check "[$V] describe deployment: NewReplicaSet" grep -Eq '^NewReplicaSet: +app-[a-z0-9]+ \(2/2 replicas created\)$' "$W/dd-$V"

        $K -n $NS expose pod web --port=80 --target-port=8080 --name=websvc >/dev/null
        $K -n $NS describe service websvc >"$W/ds-$V" 2>&1
        out=$(sections <"$W/ds-$V" | sed 's/Internal Traffic Policy|//')
        check "[$V] describe service sections ($out)" test "$out" = "Name|Namespace|Labels|Annotations|Selector|Type|IP Family Policy|IP Families|IP|IPs|Port|TargetPort|Endpoints|Session Affinity|Events|"
        check "[$V] describe service: selector" grep -Eq '^Selector: +app=web,tier=front$' "$W/ds-$V"
        check "[$V] describe service: the pod is the endpoint" wait_for 10 bash -c "$K -n $NS describe service websvc | grep -Eq '^Endpoints: +$IP:8080$'"

        $K describe node "$NODE" >"$W/dn-$V" 2>&1
        out=$(sections <"$W/dn-$V")
        check "[$V] describe node sections ($out)" test "$out" = "Name|Roles|Labels|Annotations|CreationTimestamp|Taints|Unschedulable|Lease|Conditions|Addresses|Capacity|Allocatable|System Info|PodCIDR|PodCIDRs|Non-terminated Pods|Allocated resources|Events|"
        check "[$V] describe node: Ready condition" grep -Eq '^  Ready +True .* KubeletReady +kubelet is posting ready status' "$W/dn-$V"
        check "[$V] describe node: our pod listed" grep -Eq "^  $NS +web +0 \(0%\) +0 \(0%\) +0 \(0%\) +0 \(0%\) +[0-9a-z]+$" "$W/dn-$V"

        $K describe namespace $NS >"$W/dns-$V" 2>&1
        out=$(tr -s ' ' <"$W/dns-$V" | tr '\n' '|')
        check "[$V] describe namespace ($out)" test "$out" = "Name: $NS|Labels: kubernetes.io/metadata.name=$NS|Annotations: <none>|Status: Active||No resource quota.||No LimitRange resource.|"
        $K -n $NS create quota q1 --hard=pods=10 >/dev/null
        out=$($K describe namespace $NS | tr -s ' ' | grep -A4 '^Resource Quotas' | tr '\n' '|')
        check "[$V] describe namespace with a quota: used by the 4 pods ($out)" test "$out" = "Resource Quotas| Name: q1| Resource Used Hard| -------- --- ---| pods 4 10|"

        printf 'line1\nline2\n' >"$W/f.txt"
        $K -n $NS create configmap files --from-file=f.txt="$W/f.txt" --from-literal=k=v >/dev/null
        # (blank lines between the values differ between kubectl versions: not compared)
        out=$($K -n $NS describe configmap files 2>&1 | grep . | tr '\n' '|' | tr -s ' ')
        # (kubectl prints the keys in Go map order: either way round)
        check "[$V] describe configmap ($out)" bash -c 'case "$1" in "$2f.txt:|----|line1|line2|k:|----|v|$3" | "$2k:|----|v|f.txt:|----|line1|line2|$3") ;; *) exit 1 ;; esac' _ "$out" "Name: files|Namespace: $NS|Labels: <none>|Annotations: <none>|Data|====|" "BinaryData|====|Events: <none>|"
        ev=$($K get events -n $NS --field-selector involvedObject.kind=Pod,involvedObject.name=web,reason=Started -o jsonpath='{.items[*].message}')
        check "[$V] events by involvedObject field selectors ($ev)" test "$ev" = "Started container web"

        # ---- create generators not in 140 ----
        openssl req -x509 -newkey rsa:2048 -nodes -keyout "$W/tls.key" -out "$W/tls.crt" -days 1 -subj /CN=compat >/dev/null 2>&1
        while IFS='|' read -r want cmd; do
                out=$(eval "$K -n $NS create $cmd" 2>&1)
                check "[$V] create $cmd (${out//$'\n'/ })" test "$out" = "$want"
        done <<EOF
configmap/fromfile created|configmap fromfile --from-file=$W/f.txt
secret/tls1 created|secret tls tls1 --cert=$W/tls.crt --key=$W/tls.key
secret/reg created|secret docker-registry reg --docker-server=r.example.com --docker-username=u --docker-password=p
service/np created|service nodeport np --tcp=80:8080
service/lb created|service loadbalancer lb --tcp=80:8080
service/ext created|service externalname ext --external-name=example.com
serviceaccount/robot created|serviceaccount robot
clusterrolebinding.rbac.authorization.k8s.io/compat-$SFX created|clusterrolebinding compat-$SFX --clusterrole=view --serviceaccount=$NS:robot
EOF
        check "[$V] tls secret type and keys" test "$($K -n $NS get secret tls1 -o json | jq -r '.type + " " + (.data | keys | join(","))')" = "kubernetes.io/tls tls.crt,tls.key"
        check "[$V] docker-registry secret" bash -c "$K -n $NS get secret reg -o jsonpath='{.data.\.dockerconfigjson}' | base64 -d | jq -e '.auths[\"r.example.com\"].username == \"u\"' >/dev/null"
        out=$($K -n $NS get svc np lb ext --no-headers 2>&1 | tr -s ' ' | cut -d' ' -f1,2,4,5 | tr '\n' '|')
        check "[$V] service types ($out)" grep -Eqx 'np NodePort <none> 80:3[0-9]{4}/TCP\|lb LoadBalancer <pending> 80:3[0-9]{4}/TCP\|ext ExternalName example.com <none>\|' <<<"$out"
        check "[$V] externalname has no cluster IP" test "$($K -n $NS get svc ext -o jsonpath='{.spec.clusterIP}')" = ""
        tok=$($K -n $NS create token robot --duration=10m 2>&1)
        check "[$V] create token: a JWT" grep -Eq '^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' <<<"$tok"
        out=$(/usr/lib/google-cloud-sdk/bin/kubectl.$V --server "$API" --certificate-authority "$TLS/ca.crt" --token "$tok" --cache-dir "$W/cache-$V" auth whoami -o jsonpath='{.status.userInfo.username}' 2>&1)
        check "[$V] the token authenticates as the SA ($out)" test "$out" = "system:serviceaccount:$NS:robot"
        out=$(/usr/lib/google-cloud-sdk/bin/kubectl.$V --server "$API" --certificate-authority "$TLS/ca.crt" --token "$tok" --cache-dir "$W/cache-$V" -n $NS get pods -o name 2>&1 | grep -c '^pod/web$')
        check "[$V] bound to view: can list pods" test "$out" = 1
        out=$(/usr/lib/google-cloud-sdk/bin/kubectl.$V --server "$API" --certificate-authority "$TLS/ca.crt" --token "$tok" --cache-dir "$W/cache-$V" -n $NS delete pod side 2>&1)
        check "[$V] view cannot delete ($out)" grep -qF "Error from server (Forbidden): pods \"side\" is forbidden: User \"system:serviceaccount:$NS:robot\" cannot delete resource \"pods\" in API group \"\" in the namespace \"$NS\"" <<<"$out"

        # ---- label / annotate ----
        out=$($K -n $NS label pod web tier=back 2>&1)
        check "[$V] label without --overwrite refused ($out)" test "$out" = "error: 'tier' already has a value (front), and --overwrite is false"
        out=$($K -n $NS label pod web tier=back --overwrite 2>&1)
        check "[$V] label --overwrite ($out)" test "$out" = "pod/web labeled"
        out=$($K -n $NS label pod web tier- 2>&1)
        check "[$V] label removal ($out)" test "$out" = "pod/web unlabeled"
        check "[$V] labels now" test "$($K -n $NS get pod web -o jsonpath='{.metadata.labels}')" = '{"app":"web"}'
        $K -n $NS annotate pod web note=one >/dev/null
        out=$($K -n $NS annotate pod web note=two 2>&1)
        check "[$V] annotate without --overwrite refused ($out)" test "$out" = "error: --overwrite is false but found the following declared annotation(s): 'note' already has a value (one)"
        $K -n $NS annotate pod web note=two --overwrite >/dev/null
        check "[$V] annotate --overwrite" test "$($K -n $NS get pod web -o jsonpath='{.metadata.annotations.note}')" = two
        $K -n $NS annotate pod web note- >/dev/null
        check "[$V] annotation removed" test -z "$($K -n $NS get pod web -o jsonpath='{.metadata.annotations.note}')"
        out=$($K -n $NS label pods -l app=side gen=x 2>&1)
        check "[$V] label -l ($out)" test "$out" = "pod/side labeled"

        # ---- patch (the three types) on a pod and a configmap ----
        out=$($K -n $NS patch pod web -p '{"spec":{"containers":[{"name":"web","image":"busybox:1.36.1"}]}}' 2>&1)
        check "[$V] strategic patch of a pod image ($out)" test "$out" = "pod/web patched"
        check "[$V] image patched, list merged by name" test "$($K -n $NS get pod web -o jsonpath='{.spec.containers[*].name}={.spec.containers[0].image}')" = "web=busybox:1.36.1"
        $K -n $NS patch pod web -p '{"spec":{"containers":[{"name":"web","image":"busybox:1.36"}]}}' >/dev/null
        out=$($K -n $NS patch cm s-aa --type=json -p '[{"op":"add","path":"/data/x","value":"1"},{"op":"remove","path":"/data/k"}]' 2>&1)
        check "[$V] json patch ($out)" test "$out" = "configmap/s-aa patched"
        check "[$V] json patch result" test "$($K -n $NS get cm s-aa -o jsonpath='{.data}')" = '{"x":"1"}'
        out=$($K -n $NS patch cm s-aa --type=json -p '[{"op":"test","path":"/data/x","value":"2"}]' 2>&1)
        check "[$V] failed json patch test op is 422 ($out)" grep -q '^The request is invalid' <<<"$out"
        out=$($K -n $NS patch cm s-aa --type=merge -p '{"data":{"x":null,"y":"2"}}' 2>&1)
        check "[$V] merge patch ($out)" test "$out" = "configmap/s-aa patched"
        check "[$V] merge patch null deletes" test "$($K -n $NS get cm s-aa -o jsonpath='{.data}')" = '{"y":"2"}'
        out=$($K -n $NS patch pod web --type=merge -p '{"spec":{"nodeName":"elsewhere"}}' 2>&1)
        check "[$V] forbidden pod spec change ($out)" grep -qF 'spec: Forbidden: pod updates may not change fields other than' <<<"$out"

        # ---- scale --current-replicas ----
        out=$($K -n $NS scale deploy app --current-replicas=3 --replicas=1 2>&1)
        check "[$V] scale precondition fails ($out)" test "$out" = "error: Expected replicas to be 3, was 2"
        out=$($K -n $NS scale deploy app --current-replicas=2 --replicas=1 2>&1)
        check "[$V] scale precondition holds ($out)" test "$out" = "deployment.apps/app scaled"
        check "[$V] scaled down to 1 pod" wait_for 30 bash -c "[ \$($K -n $NS get pods -l app=app --no-headers 2>/dev/null | grep -c Running) = 1 ]"

        # ---- replace, replace --force ----
        $K -n $NS get cm s-mm -o yaml | sed 's/k: mm/k: m2/' >"$W/cm-$V.yaml"
        out=$($K replace -f "$W/cm-$V.yaml" 2>&1)
        check "[$V] replace ($out)" test "$out" = "configmap/s-mm replaced"
        out=$($K replace -f "$W/cm-$V.yaml" 2>&1)
        check "[$V] replace with a stale resourceVersion is a Conflict ($out)" grep -qF 'Error from server (Conflict): error when replacing' <<<"$out"
        uid1=$($K -n $NS get pod side -o jsonpath='{.metadata.uid}')
        $K -n $NS get pod side -o yaml | sed 's/gen: x/gen: x2/' >"$W/pod-$V.yaml"
        out=$($K replace --force --grace-period=1 -f "$W/pod-$V.yaml" 2>&1 | tr '\n' '|')
        check "[$V] replace --force ($out)" test "$out" = 'pod "side" deleted|pod/side replaced|'
        uid2=$($K -n $NS get pod side -o jsonpath='{.metadata.uid} {.metadata.labels.gen}')
        check "[$V] replace --force made a new pod" bash -c "[ '$uid2' != '$uid1 x2' ] && [ '${uid2#* }' = x2 ]"

        # ---- delete modes ----
        out=$($K -n $NS delete pod side --now 2>&1)
        check "[$V] delete --now waits for the pod to go ($out)" test "$out" = 'pod "side" deleted'
        check "[$V] pod gone after delete --now" bash -c "! $K -n $NS get pod side >/dev/null 2>&1"
        $K -n $NS run quick --image=busybox:1.36 -- sleep 3600 >/dev/null
        out=$($K -n $NS delete pod quick --grace-period=0 --force 2>&1 | tr '\n' '|')
        check "[$V] delete --grace-period=0 --force ($out)" test "$out" = 'Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.|pod "quick" force deleted|'
        $K -n $NS run later --image=busybox:1.36 -- sleep 3600 >/dev/null
        $K -n $NS wait --for=condition=Ready pod/later --timeout=60s >/dev/null 2>&1
        out=$($K -n $NS delete pod later --wait=false --grace-period=3 2>&1)
        check "[$V] delete --wait=false ($out)" test "$out" = 'pod "later" deleted'
        check "[$V] graceful: deletionGracePeriodSeconds 3" test "$($K -n $NS get pod later -o jsonpath='{.metadata.deletionGracePeriodSeconds}' 2>&1)" = 3
        out=$($K -n $NS wait --for=delete pod/later --timeout=60s 2>&1)
        check "[$V] wait --for=delete ($out)" test "$out" = "pod/later condition met"

        for mode in orphan background foreground; do
                $K -n $NS create deployment c-$mode --image=busybox:1.36 --replicas=0 >/dev/null
                wait_for 20 bash -c "$K -n $NS get rs -l app=c-$mode -o name | grep -q ."
                rs=$($K -n $NS get rs -l app=c-$mode -o name)
                out=$($K -n $NS delete deploy c-$mode --cascade=$mode 2>&1)
                check "[$V] delete --cascade=$mode ($out)" test "$out" = "deployment.apps \"c-$mode\" deleted"
                if [ $mode = orphan ]; then
                        check "[$V] orphan: replicaset kept, ownerReference removed" wait_for 10 bash -c "[ \"\$($K -n $NS get $rs -o jsonpath='{.metadata.ownerReferences}')\" = '' ]"
                else
                        check "[$V] $mode: replicaset collected" wait_for 20 bash -c "! $K -n $NS get $rs >/dev/null 2>&1"
                fi
        done
        check "[$V] foreground: deployment gone when delete returned" bash -c "! $K -n $NS get deploy c-foreground >/dev/null 2>&1"
        $K -n $NS create deployment fg --image=busybox:1.36 --replicas=0 >/dev/null
        wait_for 20 bash -c "$K -n $NS get rs -l app=fg -o name | grep -q ."
        $K -n $NS patch $($K -n $NS get rs -l app=fg -o name) --type=merge -p '{"metadata":{"finalizers":["compat.test/hold"]}}' >/dev/null
        $K -n $NS delete deploy fg --cascade=foreground --wait=false >/dev/null 2>&1
        out=$($K -n $NS get deploy fg -o jsonpath='{.metadata.finalizers} {.metadata.deletionTimestamp}' 2>&1)
        check "[$V] foreground: the owner waits with foregroundDeletion ($out)" grep -Eq '^\["foregroundDeletion"\] 20' <<<"$out"
        $K -n $NS patch $($K -n $NS get rs -l app=fg -o name) --type=merge -p '{"metadata":{"finalizers":null}}' >/dev/null
        check "[$V] foreground: owner deleted once its dependent is" wait_for 20 bash -c "! $K -n $NS get deploy fg >/dev/null 2>&1"
        $K -n $NS label cm s-zz s-mm del=yes >/dev/null
        out=$($K -n $NS delete cm -l del=yes 2>&1 | tr '\n' '|')
        check "[$V] delete -l ($out)" test "$out" = 'configmap "s-mm" deleted|configmap "s-zz" deleted|'
        cat >"$W/del-$V.yaml" <<YAML
apiVersion: v1
kind: ConfigMap
metadata: {name: byfile, namespace: $NS}
---
apiVersion: v1
kind: Secret
metadata: {name: byfile, namespace: $NS}
YAML
        $K create -f "$W/del-$V.yaml" >/dev/null
        out=$($K delete -f "$W/del-$V.yaml" 2>&1 | tr '\n' '|')
        check "[$V] delete -f ($out)" test "$out" = 'configmap "byfile" deleted|secret "byfile" deleted|'
        out=$($K delete -f "$W/del-$V.yaml" 2>&1 | tr '\n' '|')
        check "[$V] delete -f again: NotFound ($out)" grep -qF 'Error from server (NotFound): error when deleting' <<<"$out"
        out=$($K delete -f "$W/del-$V.yaml" --ignore-not-found 2>&1)
        check "[$V] delete --ignore-not-found ($out)" test -z "$out"
        out=$($K -n $NS delete secret --all 2>&1 | sort | tr '\n' '|')
        check "[$V] delete --all ($out)" test "$out" = 'secret "reg" deleted|secret "tls1" deleted|'

        # ---- api-resources, api-versions, explain ----
        out=$($K api-resources -o wide 2>&1 | grep -E '^pods +po +v1 ' | tr -s ' ' | tr -d '[]' | tr ', ' '\n\n' | sort | tr '\n' ' ')
        check "[$V] api-resources -o wide: pods ($out)" test "$out" = "Pod all create delete deletecollection get list patch po pods true update v1 watch "
        out=$($K api-resources --namespaced=true -o name 2>&1 | grep -cE '^(namespaces|nodes|persistentvolumes|clusterroles)$')
        check "[$V] --namespaced=true excludes cluster kinds ($out)" test "$out" = 0
        out=$($K api-resources --api-group=batch -o name 2>&1 | tr '\n' ' ')
        check "[$V] --api-group=batch ($out)" test "$out" = "cronjobs.batch jobs.batch "
        $K api-versions >"$W/av-$V" 2>&1
        for gv in v1 apps/v1 batch/v1 authentication.k8s.io/v1 authorization.k8s.io/v1 autoscaling/v2 coordination.k8s.io/v1 discovery.k8s.io/v1 events.k8s.io/v1 networking.k8s.io/v1 policy/v1 rbac.authorization.k8s.io/v1 scheduling.k8s.io/v1 storage.k8s.io/v1; do
                check "[$V] api-versions lists $gv" grep -qx "$gv" "$W/av-$V"
        done
        out=$($K explain pods 2>&1 | sed -n '/^DESCRIPTION:/,/^FIELDS:/p' | tr -s ' \n' ' ')
        check "[$V] explain pods: description ($out)" grep -qF "DESCRIPTION: Pod is a collection of containers that can run on a host. This resource is created by clients and scheduled onto hosts." <<<"$out"
        out=$($K explain pod.spec.restartPolicy 2>&1 | tr -s ' \n' ' ')
        check "[$V] explain pod.spec.restartPolicy ($out)" grep -qF "FIELD: restartPolicy <string> DESCRIPTION: Restart policy for all containers within the pod. One of Always, OnFailure, Never." <<<"$out"
        out=$($K explain deployment.spec.replicas 2>&1 | tr -s ' \n' ' ')
        check "[$V] explain deployment.spec.replicas ($out)" grep -qF "DESCRIPTION: Number of desired pods. This is a pointer to distinguish between explicit zero and not specified. Defaults to 1." <<<"$out"
        out=$($K explain configmap.data 2>&1 | tr -s ' \n' ' ')
        check "[$V] explain configmap.data ($out)" grep -qF "DESCRIPTION: Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'." <<<"$out"
        out=$($K explain service.spec.type 2>&1 | tr -s ' \n' ' ')
        check "[$V] explain service.spec.type" grep -qF 'type determines how the Service is exposed. Defaults to ClusterIP.' <<<"$out"
        out=$($K explain deploy.spec.strategy.rollingUpdate.maxSurge 2>&1 | grep '^FIELD')
        check "[$V] explain: IntOrString fields ($out)" test "$out" = "FIELD: maxSurge <IntOrString>"
        out=$($K explain pod.spec.containers.resources.limits 2>&1 | grep '^FIELD')
        check "[$V] explain: Quantity maps ($out)" test "$out" = "FIELD: limits <map[string]Quantity>"
        $K explain deployment --recursive >"$W/er-$V" 2>&1
        check "[$V] explain --recursive: nested fields" bash -c "grep -oE '^ +(replicas|strategy|rollingUpdate|maxSurge|containers|image)[[:space:]]' $W/er-$V | tr -d ' \t' | sort -u | wc -l | grep -qx 6"
        check "[$V] explain --recursive: types" bash -c "tr -s ' \t' ' ' <$W/er-$V | grep -qx ' replicas <integer>'"
        out=$($K explain pods.nosuchfield 2>&1)
        check "[$V] explain unknown field (${out//$'\n'/ })" grep -qF 'field "nosuchfield" does not exist' <<<"$out"

        $K delete clusterrolebinding compat-$SFX >/dev/null 2>&1
        $K delete namespace $NS --wait=false >/dev/null 2>&1
done

check "server still up" $K0 get --raw /readyz
exit 0
