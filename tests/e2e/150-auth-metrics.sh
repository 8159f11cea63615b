#!/bin/bash
# 150-auth-metrics.sh — authentication, RBAC authorization, /metrics and audit lines through real
# kubectl and curl (issue 4 items 7 and 8): anonymous requests (public paths only, 401 otherwise),
# a --token-auth-file user, ServiceAccount tokens from `kubectl create token` (valid while the
# ServiceAccount exists), Forbidden messages worded as kube-apiserver's, RoleBindings and
# ClusterRoleBindings taking effect, `auth whoami`, `auth can-i` (also --as impersonation),
# /metrics counters and histograms, one audit line per request. Server without a node.
. "$(dirname "$0")/lib.sh"
KUBECTL_VERSIONS=${KUBECTL_VERSIONS:-"1.27 1.31 1.33"}
KBIN=/usr/lib/google-cloud-sdk/bin

W=$(mktemp -d /tmp/timonel-e2e-auth.XXXXXX)
D=$W/data
PORT=$(free_port)
KC=$W/admin.yaml
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

cat >"$W/tokens.csv" <<'CSV'
alice-token,alice,1001,"dev,qa"
bob-token,bob,1002
prom-token,prometheus,1003,system:monitoring
CSV
"$TIMONEL" server --data-dir "$D" --https-listen-port "$PORT" --disable-agent \
        --write-kubeconfig "$KC" --token-auth-file "$W/tokens.csv" >>"$LOG" 2>&1 &
SERVER_PID=$!
check "kubeconfig written" wait_for 15 test -s "$KC"
URL=https://127.0.0.1:$PORT
CA=$D/server/tls/ca.crt
K="$KBIN/kubectl.1.31 --kubeconfig $KC --cache-dir $W/cache-admin"
check "server answers" wait_for 10 $K get --raw /readyz

# kubeconfig with only a bearer token (no client certificate)
token_kc() { # file token
        cat >"$1" <<EOF
apiVersion: v1
kind: Config
clusters:
- cluster: {certificate-authority: $CA, server: "$URL"}
  name: c
users:
- name: u
  user: {token: "$2"}
contexts:
- context: {cluster: c, user: u, namespace: default}
  name: c
current-context: c
EOF
}
# code METHOD PATH [curl args...] — the HTTP status
code() { local m=$1 p=$2; shift 2; curl -s -o "$W/body" -w '%{http_code}' --cacert "$CA" -X "$m" "$@" "$URL$p"; }

# ---- anonymous: system:public-info-viewer paths only ----
for p in /healthz /livez /readyz /version; do
        check "anonymous GET $p is 200" test "$(code GET $p)" = 200
done
for p in /api /apis /api/v1/namespaces/default/pods /metrics /openapi/v3; do
        check "anonymous GET $p is 401" test "$(code GET $p)" = 401
done
check "401 body is an Unauthorized Status" grep -q '"reason":"Unauthorized"' "$W/body"
check "a wrong bearer token is 401 even on /healthz" \
        test "$(code GET /healthz -H 'Authorization: Bearer nope')" = 401

# ---- a token-file user ----
token_kc "$W/alice.yaml" alice-token
KA="$KBIN/kubectl.1.31 --kubeconfig $W/alice.yaml --cache-dir $W/cache-alice"
out=$($KA auth whoami 2>&1)
want=$'ATTRIBUTE   VALUE\nUsername    alice\nUID         1001\nGroups      [dev qa system:authenticated]'
check "whoami as alice ($out)" test "$out" = "$want"
out=$($KA get pods 2>&1)
check "alice cannot list pods ($out)" test "$out" = 'Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "default"'
out=$($KA get pod p1 2>&1)
check "alice cannot get a pod ($out)" test "$out" = 'Error from server (Forbidden): pods "p1" is forbidden: User "alice" cannot get resource "pods" in API group "" in the namespace "default"'
out=$($KA get nodes 2>&1)
check "alice cannot list nodes ($out)" test "$out" = 'Error from server (Forbidden): nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope'
out=$($KA get --raw /metrics 2>&1)
check "alice cannot read /metrics ($out)" test "$out" = 'Error from server (Forbidden): forbidden: User "alice" cannot get path "/metrics"'
check "alice: can-i list pods is no" test "$($KA auth can-i list pods 2>&1)" = no

check "admin creates a Role" $K create role pod-reader --verb=get,list,watch --resource=pods
check "admin binds it to group dev" $K create rolebinding dev-read --role=pod-reader --group=dev
check "alice can list pods now" wait_for 5 $KA get pods
check "alice: can-i list pods is yes" test "$($KA auth can-i list pods 2>&1)" = yes
check "alice: can-i delete pods is no" test "$($KA auth can-i delete pods 2>&1)" = no
check "alice: can-i list pods -n kube-system is no" test "$($KA auth can-i list pods -n kube-system 2>&1)" = no
out=$($KA get pods -n kube-system 2>&1)
check "the RoleBinding is namespaced ($out)" test "$out" = 'Error from server (Forbidden): pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "kube-system"'
cat >"$W/p1.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: p1, namespace: default}
spec:
  containers: [{name: c, image: busybox:1.36}]
YAML
check "admin creates pod p1" $K apply -f "$W/p1.yaml"
out=$($KA logs p1 2>&1)
check "pods/log needs its own rule ($out)" test "$out" = 'Error from server (Forbidden): pods "p1" is forbidden: User "alice" cannot get resource "pods/log" in API group "" in the namespace "default"'
check "can-i --list shows the pods rule" bash -c "$KA auth can-i --list | grep -Eq '^pods +\[\] +\[\] +\[get list watch\]'"
check "admin deletes the RoleBinding" $K delete rolebinding dev-read
out=$($KA get pods 2>&1)
check "alice is forbidden again" test "${out#Error from server (Forbidden)}" != "$out"

# ---- no escalation: alice as admin of namespace team ----
check "create namespace team" $K create namespace team
check "alice is admin in team" $K create rolebinding alice-admin -n team --clusterrole=admin --user=alice
check "alice may create a Role within her rights" wait_for 5 $KA -n team create role r1 --verb=get --resource=pods
out=$($KA -n team create role r2 --verb=get --resource=nodes 2>&1)
check "but not one granting more ($out)" test "$out" = 'Error from server (Forbidden): roles.rbac.authorization.k8s.io "r2" is forbidden: user "alice" (groups=["dev" "qa" "system:authenticated"]) is attempting to grant RBAC permissions not currently held:
{APIGroups:[""], Resources:["nodes"], Verbs:["get"]}'
check "alice may bind view in team" $KA -n team create rolebinding b1 --clusterrole=view --user=bob
out=$($KA -n team create rolebinding b2 --clusterrole=cluster-admin --user=bob 2>&1)
check "but not cluster-admin" bash -c "grep -q 'is attempting to grant RBAC permissions not currently held' <<<'$out'"

# ---- ServiceAccount tokens ----
check "create serviceaccount robot" $K create serviceaccount robot
TOK=$($K create token robot 2>"$W/err")
check "create token prints a JWT" bash -c "[[ '$TOK' =~ ^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$ ]]"
token_kc "$W/robot.yaml" "$TOK"
KR="$KBIN/kubectl.1.31 --kubeconfig $W/robot.yaml --cache-dir $W/cache-robot"
$KR auth whoami >"$W/whoami" 2>&1
check "whoami as the ServiceAccount: user" grep -Eq '^Username +system:serviceaccount:default:robot$' "$W/whoami"
check "whoami as the ServiceAccount: groups" grep -Eq '^Groups +\[system:serviceaccounts system:serviceaccounts:default system:authenticated\]$' "$W/whoami"
cat "$W/whoami" | sed "s/^/# /"
check "whoami as the ServiceAccount: credential id" grep -Eq '^Extra: authentication.kubernetes.io/credential-id +\[JTI=[0-9a-f-]{36}\]$' "$W/whoami"
out=$($KR get configmaps 2>&1)
check "robot cannot list configmaps ($out)" test "$out" = 'Error from server (Forbidden): configmaps is forbidden: User "system:serviceaccount:default:robot" cannot list resource "configmaps" in API group "" in the namespace "default"'
check "bind view to robot cluster-wide" $K create clusterrolebinding robot-view --clusterrole=view --serviceaccount=default:robot
check "robot lists configmaps in any namespace" wait_for 5 $KR get configmaps -n kube-system
out=$($KR get secrets 2>&1)
check "view does not include secrets" test "${out#Error from server (Forbidden): secrets is forbidden}" != "$out"
out=$($K create token robot --duration=5m 2>&1)
check "a duration under 10 minutes is invalid ($out)" bash -c "grep -q 'spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes' <<<'$out'"
out=$($K create token nobody 2>&1)
check "token for a missing ServiceAccount ($out)" test "$out" = 'error: failed to create token: serviceaccounts "nobody" not found'
# a token bound to a pod lives as long as the pod
cat >"$W/bp.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: bp, namespace: default}
spec:
  serviceAccountName: robot
  containers: [{name: c, image: busybox:1.36}]
YAML
check "create pod bp running as robot" $K apply -f "$W/bp.yaml"
BT=$($K create token robot --bound-object-kind=Pod --bound-object-name=bp 2>&1)
check "a pod-bound token authenticates" test "$(code GET /api -H "Authorization: Bearer $BT")" = 200
out=$($K create token robot --bound-object-kind=Pod --bound-object-name=bp --bound-object-uid=123 2>&1)
check "a wrong bound uid is a Conflict ($out)" test "$out" = 'error: failed to create token: Operation cannot be fulfilled on Pod "bp": the UID in the bound object reference (123) does not match the UID in record. The object might have been deleted and then recreated'
out=$($K create token robot --bound-object-kind=Pod --bound-object-name=nope 2>&1)
check "binding to a missing pod ($out)" test "$out" = 'error: failed to create token: pods "nope" not found'
check "delete pod bp" $K delete pod bp --grace-period=0 --force
check "the pod-bound token dies with the pod" test "$(code GET /api -H "Authorization: Bearer $BT")" = 401
check "delete serviceaccount robot" $K delete serviceaccount robot
out=$($KR get configmaps 2>&1)
check "the token dies with its ServiceAccount ($out)" test "$out" = 'error: You must be logged in to the server (Unauthorized)'
check "recreate robot (new uid)" $K create serviceaccount robot
check "the old token stays invalid" test "$(code GET /api -H "Authorization: Bearer $TOK")" = 401

# ---- TokenReview and SubjectAccessReview (as a webhook or an aggregated server would call) ----
T2=$($K create token robot)
ADMIN_CERT="--cert $D/server/tls/admin.crt --key $D/server/tls/admin.key"
printf '{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","spec":{"token":"%s"}}' "$T2" >"$W/tr.json"
check "TokenReview is 201" test "$(code POST /apis/authentication.k8s.io/v1/tokenreviews $ADMIN_CERT -H 'Content-Type: application/json' --data-binary @$W/tr.json)" = 201
check "TokenReview authenticates the ServiceAccount" jq -e '.status.authenticated == true and .status.user.username == "system:serviceaccount:default:robot" and (.status.user.groups | index("system:serviceaccounts:default"))' "$W/body"
echo '{"kind":"TokenReview","apiVersion":"authentication.k8s.io/v1","spec":{"token":"garbage"}}' >"$W/tr2.json"
code POST /apis/authentication.k8s.io/v1/tokenreviews $ADMIN_CERT -H 'Content-Type: application/json' --data-binary @"$W/tr2.json" >/dev/null
check "TokenReview of garbage is not authenticated" jq -e '(.status.authenticated // false) == false' "$W/body"
echo '{"kind":"SubjectAccessReview","apiVersion":"authorization.k8s.io/v1","spec":{"user":"alice","groups":["dev"],"resourceAttributes":{"namespace":"team","verb":"list","resource":"pods"}}}' >"$W/sar.json"
code POST /apis/authorization.k8s.io/v1/subjectaccessreviews $ADMIN_CERT -H 'Content-Type: application/json' --data-binary @"$W/sar.json" >/dev/null
check "SubjectAccessReview: alice may list pods in team" jq -e '.status.allowed == true' "$W/body"
echo '{"kind":"SubjectAccessReview","apiVersion":"authorization.k8s.io/v1","spec":{"user":"bob","nonResourceAttributes":{"path":"/metrics","verb":"get"}}}' >"$W/sar2.json"
code POST /apis/authorization.k8s.io/v1/subjectaccessreviews $ADMIN_CERT -H 'Content-Type: application/json' --data-binary @"$W/sar2.json" >/dev/null
check "SubjectAccessReview: bob may not get /metrics" jq -e '.status.allowed == false' "$W/body"
check "alice may not create a SubjectAccessReview" test "$(code POST /apis/authorization.k8s.io/v1/subjectaccessreviews -H 'Authorization: Bearer alice-token' -H 'Content-Type: application/json' --data-binary @$W/sar.json)" = 403

# ---- legacy token Secrets (type kubernetes.io/service-account-token) ----
check "create serviceaccount legacy" $K create serviceaccount legacy
cat >"$W/legacy.yaml" <<'YAML'
apiVersion: v1
kind: Secret
metadata:
  name: legacy-token
  annotations: {kubernetes.io/service-account.name: legacy}
type: kubernetes.io/service-account-token
YAML
check "create a service-account-token Secret" $K apply -f "$W/legacy.yaml"
check "the Secret gets token, ca.crt and namespace" bash -c "$K get secret legacy-token --no-headers | grep -Eq '^legacy-token +kubernetes.io/service-account-token +3 '"
check "its ca.crt is the cluster CA" bash -c "$K get secret legacy-token -o jsonpath='{.data.ca\.crt}' | base64 -d | cmp -s - $CA"
LT=$($K get secret legacy-token -o jsonpath='{.data.token}' | base64 -d)
code POST /apis/authentication.k8s.io/v1/selfsubjectreviews -H "Authorization: Bearer $LT" -H 'Content-Type: application/json' -d '{"kind":"SelfSubjectReview","apiVersion":"authentication.k8s.io/v1"}' >/dev/null
check "the legacy token authenticates as the ServiceAccount" jq -e '.status.userInfo.username == "system:serviceaccount:default:legacy"' "$W/body"
check "delete the Secret" $K delete secret legacy-token
check "the legacy token dies with its Secret" test "$(code GET /api -H "Authorization: Bearer $LT")" = 401

# ---- impersonation ----
check "admin: can-i list pods --as=bob is no" test "$($K auth can-i list pods --as=bob 2>&1)" = no
$K auth whoami --as=bob --as-group=qa >"$W/whoami" 2>&1
check "whoami --as=bob --as-group=qa: user" grep -q '^Username    bob$' "$W/whoami"
check "whoami --as=bob --as-group=qa: groups" grep -q '^Groups      \[qa system:authenticated\]$' "$W/whoami"
check "bob may not impersonate" test "$(code GET /api/v1/namespaces/default/pods -H 'Authorization: Bearer bob-token' -H 'Impersonate-User: alice')" = 403
check "impersonation Forbidden message" grep -qF '"message":"users \"alice\" is forbidden: User \"bob\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope"' "$W/body"

# ---- every kubectl version: whoami, create token (protobuf from 1.32), can-i ----
for V in $KUBECTL_VERSIONS; do
        KV="$KBIN/kubectl.$V --kubeconfig $KC --cache-dir $W/cache-$V"
        check "[$V] whoami as admin" bash -c "$KV auth whoami | grep -q '^Username    system:admin$'"
        T=$($KV create token robot --audience=https://kubernetes.default.svc.cluster.local 2>&1)
        check "[$V] create token" test "$(code GET /version -H "Authorization: Bearer $T")" = 200
        check "[$V] the token authenticates" test "$(code GET /api -H "Authorization: Bearer $T")" = 200
        check "[$V] can-i create deployments is yes" test "$($KV auth can-i create deployments 2>&1)" = yes
        check "[$V] can-i --as=bob create pods is no" test "$($KV auth can-i create pods --as=bob 2>&1)" = no
done
T=$($K create token robot --audience=vault 2>&1)
check "a token for another audience is rejected" test "$(code GET /api -H "Authorization: Bearer $T")" = 401

# ---- /metrics ----
metric() { # name-and-labels-prefix — the value of the first matching sample
        $K get --raw /metrics | awk -v p="$1" 'index($0, p) == 1 { print $2; exit }'
}
LIST_CM='apiserver_request_total{code="200",component="apiserver",dry_run="",group="",resource="configmaps",scope="namespace",subresource="",verb="LIST",version="v1"}'
before=$(metric "$LIST_CM")
for _ in 1 2 3; do $K get configmaps -n kube-public >/dev/null 2>&1; done
after=$(metric "$LIST_CM")
check "LIST configmaps counted 3 times (${before:-0} -> $after)" test "$((after - ${before:-0}))" = 3
check "403s are counted" test -n "$(metric 'apiserver_request_total{code="403",component="apiserver",dry_run="",group="",resource="pods",scope="namespace",subresource="",verb="LIST",version="v1"}')"
$K get --raw /metrics >"$W/metrics.txt"
check "histogram with kube-apiserver's buckets" bash -c "grep -c '^apiserver_request_duration_seconds_bucket{component=\"apiserver\",dry_run=\"\",group=\"\",resource=\"configmaps\",scope=\"namespace\",subresource=\"\",verb=\"LIST\",version=\"v1\",le=' $W/metrics.txt | grep -qx 24"
check "+Inf bucket equals _count" bash -c "a=\$(grep '^apiserver_request_duration_seconds_bucket{.*resource=\"configmaps\",scope=\"namespace\".*verb=\"LIST\".*le=\"+Inf\"}' $W/metrics.txt | cut -d' ' -f2); b=\$(grep '^apiserver_request_duration_seconds_count{.*resource=\"configmaps\",scope=\"namespace\".*verb=\"LIST\"' $W/metrics.txt | cut -d' ' -f2); [ -n \"\$a\" ] && [ \"\$a\" = \"\$b\" ]"
check "POST serviceaccounts/token counted" grep -q '^apiserver_request_total{code="201",component="apiserver",dry_run="",group="",resource="serviceaccounts",scope="resource",subresource="token",verb="POST",version="v1"}' "$W/metrics.txt"
check "inflight gauge" grep -q '^apiserver_current_inflight_requests{request_kind="readOnly"} 1$' "$W/metrics.txt"
check "process_resident_memory_bytes > 1 MiB" bash -c "awk '/^process_resident_memory_bytes / { exit !(\$2 > 1048576) }' $W/metrics.txt"
check "every sample line parses" bash -c "! grep -Ev '^(#.*|[a-z_]+(\{[^}]*\})? [-+0-9.eE]+(Inf)?)$' $W/metrics.txt | grep -q ."
WATCH_G='apiserver_longrunning_requests{component="apiserver",group="",resource="configmaps",scope="namespace",subresource="",verb="WATCH",version="v1"}'
$K get configmaps -n kube-public -w >/dev/null 2>&1 &
WPID=$!
on_exit "kill $WPID"
gauge_is() { [ "$(metric "$WATCH_G")" = "$1" ]; }
check "an open watch shows in apiserver_longrunning_requests" wait_for 5 gauge_is 1
kill $WPID
check "and leaves it when it ends" wait_for 5 gauge_is 0
token_kc "$W/prom.yaml" prom-token
check "group system:monitoring may read /metrics" \
        bash -c "$KBIN/kubectl.1.31 --kubeconfig $W/prom.yaml --cache-dir $W/cache-prom get --raw /metrics >/dev/null"

# ---- audit lines ----
check "audit line for alice's forbidden list" grep -Eq 'audit: ts=[0-9T:.-]+Z user=alice uid=1001 groups=dev,qa,system:authenticated verb=list resource=pods subresource=- ns=default name=- code=403 latency=[0-9.]+ms method=GET uri="?/api/v1/namespaces/default/pods' "$LOG"
check "audit line for the token request" grep -Eq 'audit: .*user=system:admin .*verb=create resource=serviceaccounts subresource=token ns=default name=robot code=201' "$LOG"
check "audit line for an anonymous 401" grep -Eq 'audit: .*user=system:anonymous uid=- groups=system:unauthenticated verb=get resource=- .*code=401 .*uri=/metrics' "$LOG"
check "server still running" kill -0 "$SERVER_PID"
