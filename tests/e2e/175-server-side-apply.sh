#!/bin/bash
# 175-server-side-apply.sh — server-side apply and metadata.managedFields through real kubectl
# (issue 4: "apply (client- and server-side, create then change then unchanged)"): a Deployment
# and a ConfigMap applied server-side (create, change, unchanged, pruning), conflicts with a
# `kubectl scale` owner and a client-side-apply owner worded as kube-apiserver words them,
# --force-conflicts, the client-side -> server-side migration (kubectl's csaupgrade), dry run,
# managedFields contents as Kubernetes records them, bogus client managedFields reset, and the
# raw 409/400 Statuses. Runs for each kubectl version in KUBECTL_VERSIONS. No node needed.
. "$(dirname "$0")/lib.sh"
KUBECTL_VERSIONS=${KUBECTL_VERSIONS:-"1.27 1.31 1.33"}

W=$(mktemp -d /tmp/timonel-e2e-ssa.XXXXXX)
D=$W/data
PORT=$(free_port)
KPORT=$(free_port)
KC=$D/kc.yaml
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

"$TIMONEL" server --data-dir "$D" --https-listen-port "$PORT" --kubelet-port "$KPORT" \
        --write-kubeconfig "$KC" --disable-agent >>"$LOG" 2>&1 &
SERVER_PID=$!
check "kubeconfig written" wait_for 15 test -s "$KC"

CA=$D/server/tls/ca.crt CRT=$D/server/tls/admin.crt KEY=$D/server/tls/admin.key
api() { curl -s -o "$W/resp" -w '%{http_code}' --cacert $CA --cert $CRT --key $KEY "$@"; }

# mf OBJ-ARGS MANAGER OPERATION [SUBRESOURCE] — the fieldsV1 of one managedFields entry, keys sorted
mf() {
        local sel='.metadata.managedFields[] | select(.manager == $m and .operation == $o and ((.subresource // "") == $s)) | .fieldsV1'
        $K get $1 -n $NS -o json --show-managed-fields | jq -cS --arg m "$2" --arg o "$3" --arg s "${4:-}" "$sel"
}
managers() { $K get $1 -n $NS -o json --show-managed-fields | jq -r '[.metadata.managedFields[] | .manager + "/" + .operation + (if .subresource then "/" + .subresource else "" end)] | join(",")'; }
rv() { $K get $1 -n $NS -o jsonpath='{.metadata.resourceVersion}'; }
# sorted compact JSON of a literal
J() { jq -cS . <<<"$1"; }

# What Kubernetes records (expected texts from structured-merge-diff's ToFieldSet / Compare):
# the server-side applied Deployment: only the applied fields, no "." for non-empty objects
DEP_APPLY=$(J '{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},
 "f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:containers":{
 "k:{\"name\":\"app\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{
 "k:{\"containerPort\":8080,\"protocol\":\"TCP\"}":{".":{},"f:containerPort":{}}}}}}}}}')
# the client-side applied ConfigMap (an Update: the new data map and annotations map are
# themselves members, ".")
CM_CSA=$(J '{"f:data":{".":{},"f:a":{},"f:b":{}},"f:metadata":{"f:annotations":{".":{},
 "f:kubectl.kubernetes.io/last-applied-configuration":{}}}}')
# a Deployment created by client-side apply: defaults included, rollingUpdate and labels "."
DEP_CSA=$(J '{"f:metadata":{"f:annotations":{".":{},"f:kubectl.kubernetes.io/last-applied-configuration":{}},
 "f:labels":{".":{},"f:app":{}}},"f:spec":{"f:progressDeadlineSeconds":{},"f:replicas":{},
 "f:revisionHistoryLimit":{},"f:selector":{},"f:strategy":{"f:rollingUpdate":{".":{},"f:maxSurge":{},
 "f:maxUnavailable":{}},"f:type":{}},"f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},
 "f:spec":{"f:containers":{"k:{\"name\":\"app\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},
 "f:name":{},"f:ports":{".":{},"k:{\"containerPort\":8080,\"protocol\":\"TCP\"}":{".":{},
 "f:containerPort":{},"f:protocol":{}}},"f:resources":{},"f:terminationMessagePath":{},
 "f:terminationMessagePolicy":{}}},"f:dnsPolicy":{},"f:restartPolicy":{},"f:schedulerName":{},
 "f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}}}')

deployment() { # NAME REPLICAS IMAGE [no-port]
        cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $1
  labels:
    app: $1
spec:
  replicas: $2
  selector:
    matchLabels:
      app: $1
  template:
    metadata:
      labels:
        app: $1
    spec:
      containers:
      - name: app
        image: $3
YAML
        [ "${4:-}" = no-port ] || printf '        ports:\n        - containerPort: 8080\n'
}
configmap() { # NAME then key=value...
        printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\ndata:\n' "$1"
        shift
        for kv in "$@"; do printf '  %s: "%s"\n' "${kv%%=*}" "${kv#*=}"; done
}

for V in $KUBECTL_VERSIONS; do
        KB=/usr/lib/google-cloud-sdk/bin/kubectl.$V
        [ -x $KB ] || { not_ok "[$V] kubectl.$V missing"; continue; }
        K="$KB --kubeconfig $KC --cache-dir $W/cache-$V"
        NS=ssa-${V/./-}
        check "[$V] create namespace" $K create namespace $NS

        # --- server-side apply: create, unchanged, change, prune ---
        deployment web 2 busybox:1.36 >"$W/d1.yaml"
        out=$($K apply --server-side -n $NS -f "$W/d1.yaml" 2>&1)
        check "[$V] apply --server-side creates ($out)" test "$out" = "deployment.apps/web serverside-applied"
        got=$(mf deploy/web kubectl Apply)
        check "[$V] managedFields: kubectl Apply owns exactly the applied fields ($got)" test "$got" = "$DEP_APPLY"
        check "[$V] the Apply entry records apiVersion apps/v1, FieldsV1 and a time" test "$($K get deploy/web -n $NS -o json --show-managed-fields | jq -r '.metadata.managedFields[] | select(.operation=="Apply") | .apiVersion + " " + .fieldsType + " " + (.time | test("^[0-9-]+T[0-9:]+Z$") | tostring)')" = "apps/v1 FieldsV1 true"
        check "[$V] get -o yaml hides managedFields by default" bash -c "! $K get deploy/web -n $NS -o yaml | grep -q managedFields"
        check "[$V] get -o yaml --show-managed-fields shows them" bash -c "$K get deploy/web -n $NS -o yaml --show-managed-fields | grep -q 'manager: kubectl'"
        r1=$(rv deploy/web)
        out=$($K apply --server-side -n $NS -f "$W/d1.yaml" 2>&1)
        check "[$V] unchanged re-apply ($out)" test "$out" = "deployment.apps/web serverside-applied"
        check "[$V] unchanged re-apply writes nothing (rv $r1 -> $(rv deploy/web))" test "$(rv deploy/web)" = "$r1"
        deployment web 2 busybox:1.37 no-port >"$W/d2.yaml"
        out=$($K apply --server-side -n $NS -f "$W/d2.yaml" 2>&1)
        check "[$V] changed apply ($out)" test "$out" = "deployment.apps/web serverside-applied"
        check "[$V] change applied: image busybox:1.37" test "$($K get deploy/web -n $NS -o jsonpath='{.spec.template.spec.containers[0].image}')" = busybox:1.37
        check "[$V] a port no longer applied is pruned" test -z "$($K get deploy/web -n $NS -o jsonpath='{.spec.template.spec.containers[0].ports}')"
        check "[$V] defaults of the container stay (imagePullPolicy)" test "$($K get deploy/web -n $NS -o jsonpath='{.spec.template.spec.containers[0].imagePullPolicy}')" = IfNotPresent
        got=$(mf deploy/web kubectl Apply | jq -c '.["f:spec"]["f:template"]["f:spec"]["f:containers"]')
        check "[$V] the Apply entry no longer lists the port ($got)" test "$got" = '{"k:{\"name\":\"app\"}":{".":{},"f:image":{},"f:name":{}}}'

        # --- conflict with `kubectl scale` (an Update through the scale subresource) ---
        check "[$V] kubectl scale --replicas=5" $K scale deploy/web -n $NS --replicas=5
        got=$(mf deploy/web kubectl.$V Update scale)
        check "[$V] scale recorded as manager kubectl.$V (User-Agent prefix), subresource scale ($got)" test "$got" = '{"f:spec":{"f:replicas":{}}}'
        check "[$V] the scale took .spec.replicas from the applier" bash -c "test \"\$($K get deploy/web -n $NS -o json --show-managed-fields | jq -c '.metadata.managedFields[] | select(.operation==\"Apply\") | .fieldsV1[\"f:spec\"][\"f:replicas\"]')\" = null"
        deployment web 3 busybox:1.37 no-port >"$W/d3.yaml"
        $K apply --server-side -n $NS -f "$W/d3.yaml" >"$W/out" 2>"$W/err"
        rc=$?
        check "[$V] apply of another replicas value fails (rc $rc)" test $rc -ne 0
        want="error: Apply failed with 1 conflict: conflict with \"kubectl.$V\" with subresource \"scale\" using apps/v1: .spec.replicas"
        check "[$V] conflict message as kube-apiserver's ($(head -1 $W/err))" test "$(head -1 $W/err)" = "$want"
        check "[$V] kubectl's conflict help follows" grep -q -- '--force-conflicts' "$W/err"
        check "[$V] nothing written on conflict" test "$($K get deploy/web -n $NS -o jsonpath='{.spec.replicas}')" = 5
        out=$($K apply --server-side -n $NS -f "$W/d3.yaml" --dry-run=server -o jsonpath='{.spec.replicas}' --force-conflicts 2>&1)
        check "[$V] --dry-run=server --force-conflicts answers the result ($out)" test "$out" = 3
        check "[$V] ... and writes nothing" test "$($K get deploy/web -n $NS -o jsonpath='{.spec.replicas}')" = 5
        out=$($K apply --server-side --force-conflicts -n $NS -f "$W/d3.yaml" 2>&1)
        check "[$V] --force-conflicts ($out)" test "$out" = "deployment.apps/web serverside-applied"
        check "[$V] forced: replicas 3" test "$($K get deploy/web -n $NS -o jsonpath='{.spec.replicas}')" = 3
        check "[$V] forced: the scale entry lost its only field and is gone ($(managers deploy/web))" bash -c "! $K get deploy/web -n $NS -o json --show-managed-fields | jq -e '.metadata.managedFields[] | select(.subresource==\"scale\")' >/dev/null"
        got=$(mf deploy/web kubectl Apply | jq -c '.["f:spec"]["f:replicas"]')
        check "[$V] forced: the applier owns .spec.replicas ($got)" test "$got" = '{}'

        # --- co-ownership: a second applier with the same value is no conflict ---
        out=$($K apply --server-side --field-manager=other -n $NS -f "$W/d3.yaml" 2>&1)
        check "[$V] same values by another manager: no conflict ($out)" test "$out" = "deployment.apps/web serverside-applied"
        check "[$V] both appliers listed ($(managers deploy/web))" bash -c "$K get deploy/web -n $NS -o json --show-managed-fields | jq -e '[.metadata.managedFields[] | select(.operation==\"Apply\") | .manager] == [\"kubectl\",\"other\"] or [.metadata.managedFields[] | select(.operation==\"Apply\") | .manager] == [\"other\",\"kubectl\"]' >/dev/null"

        # --- client-side apply: create, change, unchanged; managedFields as Kubernetes records ---
        deployment csa 1 busybox:1.36 >"$W/c1.yaml"
        out=$($K apply -n $NS -f "$W/c1.yaml" 2>&1)
        check "[$V] client-side apply creates ($out)" test "$out" = "deployment.apps/csa created"
        got=$(mf deploy/csa kubectl-client-side-apply Update)
        check "[$V] kubectl-client-side-apply Update entry as Kubernetes records it" test "$got" = "$DEP_CSA"
        [ "$got" = "$DEP_CSA" ] || diag "got  $got" "want $DEP_CSA"
        deployment csa 2 busybox:1.36 >"$W/c2.yaml"
        out=$($K apply -n $NS -f "$W/c2.yaml" 2>&1)
        check "[$V] client-side apply change ($out)" test "$out" = "deployment.apps/csa configured"
        out=$($K apply -n $NS -f "$W/c2.yaml" 2>&1)
        check "[$V] client-side apply unchanged ($out)" test "$out" = "deployment.apps/csa unchanged"
        # a server-side applier that changes a field the client-side applier set conflicts
        deployment csa 4 busybox:1.36 >"$W/c4.yaml"
        $K apply --server-side --field-manager=tool -n $NS -f "$W/c4.yaml" >"$W/out" 2>"$W/err"
        want='error: Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas'
        check "[$V] conflict with the client-side applier ($(head -1 $W/err))" test "$(head -1 $W/err)" = "$want"

        # --- migration: client-side apply, then kubectl apply --server-side takes over ---
        configmap cfg a=1 b=2 >"$W/m1.yaml"
        check "[$V] client-side apply of a ConfigMap" $K apply -n $NS -f "$W/m1.yaml"
        got=$(mf cm/cfg kubectl-client-side-apply Update)
        check "[$V] ConfigMap CSA entry ($got)" test "$got" = "$CM_CSA"
        configmap cfg b=3 >"$W/m2.yaml"
        out=$($K apply --server-side -n $NS -f "$W/m2.yaml" 2>&1)
        check "[$V] server-side apply after client-side: no conflict ($out)" test "$out" = "configmap/cfg serverside-applied"
        check "[$V] data is the applied data (a pruned, b=3)" test "$($K get cm/cfg -n $NS -o json | jq -cS .data)" = '{"b":"3"}'
        check "[$V] the client-side-apply manager is gone ($(managers cm/cfg))" bash -c "! $K get cm/cfg -n $NS -o json --show-managed-fields | jq -e '.metadata.managedFields[] | select(.manager==\"kubectl-client-side-apply\")' >/dev/null"
        got=$(mf cm/cfg kubectl Apply)
        check "[$V] kubectl Apply owns the data ($got)" test "$got" = '{"f:data":{"f:b":{}}}'
        la=$($K get cm/cfg -n $NS -o json | jq -r '.metadata.annotations["kubectl.kubernetes.io/last-applied-configuration"]' | jq -cS .data)
        check "[$V] last-applied-configuration follows the server-side apply ($la)" test "$la" = '{"b":"3"}'
        r1=$(rv cm/cfg)
        out=$($K apply --server-side -n $NS -f "$W/m2.yaml" 2>&1)
        check "[$V] ConfigMap unchanged ($out, rv $r1 -> $(rv cm/cfg))" test "$out" = "configmap/cfg serverside-applied" -a "$(rv cm/cfg)" = "$r1"
        configmap cfg b=9 >"$W/m3.yaml"
        $K apply --server-side --field-manager=bob -n $NS -f "$W/m3.yaml" >"$W/out" 2>"$W/err"
        check "[$V] ConfigMap conflict with an Apply owner names no version ($(head -1 $W/err))" test "$(head -1 $W/err)" = 'error: Apply failed with 1 conflict: conflict with "kubectl": .data.b'

        # --- clients may not write bogus managedFields ---
        before=$(mf cm/cfg kubectl Apply)
        $K get cm/cfg -n $NS -o json --show-managed-fields | jq '.metadata.managedFields = [{"manager":"evil","operation":"Bogus","fieldsType":"FieldsV1","fieldsV1":{"x":1}}] | .data.c = "4"' >"$W/bogus.json"
        check "[$V] replace with bogus managedFields succeeds" $K replace -n $NS -f "$W/bogus.json"
        check "[$V] bogus managedFields were not stored" bash -c "! $K get cm/cfg -n $NS -o json --show-managed-fields | jq -e '.metadata.managedFields[] | select(.manager==\"evil\")' >/dev/null"
        check "[$V] the Apply entry survived ($(managers cm/cfg))" test "$(mf cm/cfg kubectl Apply)" = "$before"
        # kubectl replace also rewrites an existing last-applied annotation: it owns both
        got=$(mf cm/cfg kubectl-replace Update)
        check "[$V] the replace owns what it changed ($got)" test "$got" = '{"f:data":{"f:c":{}},"f:metadata":{"f:annotations":{"f:kubectl.kubernetes.io/last-applied-configuration":{}}}}'

        check "[$V] delete namespace" $K delete namespace $NS --wait=false
done

# --- raw requests: Statuses as kube-apiserver sends them ---
U=https://127.0.0.1:$PORT/api/v1/namespaces/default/configmaps
code=$(api -X PATCH -H 'Content-Type: application/apply-patch+yaml' --data-binary $'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: raw\ndata:\n  k: v\n' "$U/raw")
check "apply without fieldManager -> 422 ($code)" test "$code" = 422
want=$(J '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch","reason":"Invalid","details":{"group":"meta.k8s.io","kind":"PatchOptions","causes":[{"reason":"FieldValueRequired","message":"Required value: is required for apply patch","field":"fieldManager"}]},"code":422}')
got=$(jq -cS . "$W/resp")
check "... Status as ValidatePatchOptions words it ($got)" test "$got" = "$want"
check "... and creates nothing" test "$(api "$U/raw")" = 404
code=$(api -X PATCH -H 'Content-Type: application/apply-patch+yaml' --data-binary $'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: raw\ndata:\n  k: v\n' "$U/raw?fieldManager=one")
check "YAML apply creates -> 201 ($code)" test "$code" = 201
code=$(api -X PATCH -H 'Content-Type: application/apply-patch+yaml' --data-binary '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"raw"},"data":{"k":"w"}}' "$U/raw?fieldManager=two")
check "conflicting apply -> 409 ($code)" test "$code" = 409
want=$(J '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Apply failed with 1 conflict: conflict with \"one\": .data.k","reason":"Conflict","details":{"causes":[{"type":"FieldManagerConflict","message":"conflict with \"one\"","field":".data.k"}]},"code":409}')
got=$(jq -cS . "$W/resp")
check "409 Status: reason Conflict, FieldManagerConflict cause ($got)" test "$got" = "$want"
code=$(api -X PATCH -H 'Content-Type: application/apply-patch+yaml' --data-binary '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"raw"},"data":{"k":"w"}}' "$U/raw?fieldManager=two&dryRun=All&force=true")
check "dryRun=All forced apply -> 200 ($code) with the result" test "$code" = 200 -a "$(jq -r .data.k "$W/resp")" = w
check "... and stores nothing" test "$(api "$U/raw")" = 200 -a "$(jq -r .data.k "$W/resp")" = v
code=$(api -X PATCH -H 'Content-Type: application/apply-patch+yaml' --data-binary '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"raw"},"data":{"k":"w"}}' "$U/raw?fieldManager=two&force=true")
check "force=true takes the field -> 200 ($code)" test "$code" = 200 -a "$(jq -r .data.k "$W/resp")" = w
check "... and the first applier's entry is gone" test "$(jq -r '[.metadata.managedFields[].manager] | join(",")' "$W/resp")" = two
code=$(api -X PATCH -H 'Content-Type: application/apply-patch+yaml' --data-binary '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"raw","managedFields":[{"manager":"x","operation":"Apply"}]}}' "$U/raw?fieldManager=two")
check "apply carrying managedFields -> 400 ($code: $(jq -r .message "$W/resp"))" test "$code" = 400 -a "$(jq -r .message "$W/resp")" = "metadata.managedFields must be nil"
code=$(api -X PATCH -H 'Content-Type: application/merge-patch+json' --data '{"data":{"m":"1"}}' "$U/raw?force=true")
check "force on a merge patch -> 422 ($code: $(jq -r .message "$W/resp"))" test "$code" = 422 -a "$(jq -r .message "$W/resp")" = 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch'
code=$(api -X PATCH -H 'Content-Type: application/merge-patch+json' -H 'User-Agent: curl-tool/1.0 (x)' --data '{"data":{"m":"1"}}' "$U/raw")
check "merge patch without fieldManager -> 200 ($code)" test "$code" = 200
check "... recorded under the User-Agent prefix" test "$(jq -r '.metadata.managedFields[] | select(.manager=="curl-tool") | .operation' "$W/resp")" = Update
code=$(api -X PATCH -H 'Content-Type: application/merge-patch+json' --data '{"metadata":{"managedFields":[{}]}}' "$U/raw?fieldManager=x")
check "managedFields [{}] clears them ($code)" test "$code" = 200 -a "$(jq -r '.metadata.managedFields // [] | length' "$W/resp")" = 0

# apply through the status subresource: only the status changes, the entry names the subresource
SU=https://127.0.0.1:$PORT/api/v1/namespaces/default/services
code=$(api -X PATCH -H 'Content-Type: application/apply-patch+yaml' --data-binary '{"apiVersion":"v1","kind":"Service","metadata":{"name":"s1"},"spec":{"ports":[{"port":80}]}}' "$SU/s1?fieldManager=svc")
check "service applied ($code)" test "$code" = 201
code=$(api -X PATCH -H 'Content-Type: application/apply-patch+yaml' --data-binary '{"apiVersion":"v1","kind":"Service","metadata":{"name":"s1","labels":{"x":"y"}},"spec":{"ports":[{"port":81}]},"status":{"conditions":[{"type":"Ready","status":"True","reason":"R","message":"m","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}' "$SU/s1/status?fieldManager=st")
check "status apply -> 200 ($code)" test "$code" = 200
check "... status written, spec and labels not" test "$(jq -c '[.status.conditions[0].type, .spec.ports[0].port, .metadata.labels]' "$W/resp")" = '["Ready",80,null]'
got=$(jq -cS '.metadata.managedFields[] | select(.manager=="st") | [.operation, .subresource, .fieldsV1]' "$W/resp")
check "... entry: Apply, subresource status, the status fields only ($got)" test "$got" = '["Apply","status",{"f:status":{"f:conditions":{"k:{\"type\":\"Ready\"}":{".":{},"f:lastTransitionTime":{},"f:message":{},"f:reason":{},"f:status":{},"f:type":{}}}}}]'
got=$(jq -cS '.metadata.managedFields[] | select(.manager=="svc") | .fieldsV1' "$W/resp")
check "... the spec applier keeps its port ($got)" test "$got" = '{"f:spec":{"f:ports":{"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:port":{}}}}}'

stop_server
check "server log has no crash" bash -c "! grep -qiE 'segfault|abort|assert' $LOG"
