#!/bin/bash
# 330-pdb-drain.sh — PodDisruptionBudgets through real kubectl (issue 6): the disruption
# controller's status (expectedPods, desiredHealthy from minAvailable/maxUnavailable as integer
# or percent against the owning controllers' scale, currentHealthy, disruptionsAllowed,
# observedGeneration, the DisruptionAllowed condition), the pods/eviction subresource (a
# disruption taken, then 429 TooManyRequests with the DisruptionBudget cause, a Pending pod
# evicted freely, dry-run takes nothing, two PDBs over a pod refused), and `kubectl drain`
# (cordon + evictions respecting the PDB, --ignore-daemonsets, --delete-emptydir-data,
# DaemonSet pods left in place; a drain blocked by a PDB times out). Expectations from
# pkg/registry/core/pod/storage/eviction.go and pkg/controller/disruption. Simulated nodes
# (--fake-nodes) run the pods, so no containers are needed.
. "$(dirname "$0")/lib.sh"
W=$(mktemp -d /tmp/timonel-e2e-pdb.XXXXXX)
D=$W/data
PORT=$(free_port)
KPORT=$(free_port)
KC=$W/kc.yaml
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

"$TIMONEL" server --data-dir "$D" --https-listen-port $PORT --kubelet-port $KPORT \
        --write-kubeconfig "$KC" --disable-agent --fake-nodes 2 >>"$W/server.log" 2>&1 &
SERVER_PID=$!
check "kubeconfig written" wait_for 15 test -s "$KC"
K="/usr/lib/google-cloud-sdk/bin/kubectl.1.31 --kubeconfig $KC --cache-dir $W/cache"
K33="/usr/lib/google-cloud-sdk/bin/kubectl.1.33 --kubeconfig $KC --cache-dir $W/cache33"
nodes_ready() { [ "$($K get nodes --no-headers | grep -c ' Ready ')" = 2 ]; }
check "2 fake nodes Ready" wait_for 30 nodes_ready

# discovery: pods/eviction is policy/v1 Eviction (kubectl drain checks this)
check "discovery lists pods/eviction as policy/v1 Eviction" \
        test "$($K get --raw /api/v1 | jq -c '.resources[] | select(.name=="pods/eviction") | [.group,.version,.kind,.verbs]')" = '["policy","v1","Eviction",["create"]]'

# ---- unmanaged pods, minAvailable as an integer ----
for p in s1 s2 s3; do
        cat <<YAML
---
apiVersion: v1
kind: Pod
metadata: {name: $p, labels: {app: solo}}
spec:
  terminationGracePeriodSeconds: 0
  containers: [{name: c, image: busybox:1.36}]
YAML
done >"$W/solo.yaml"
cat >>"$W/solo.yaml" <<'YAML'
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: solo}
spec:
  minAvailable: 2
  selector: {matchLabels: {app: solo}}
YAML
check "apply 3 pods + pdb solo" bash -c "$K apply -f $W/solo.yaml >/dev/null"
pdb_is() { [ "$($K get pdb "$1" -o jsonpath='{.status.expectedPods}/{.status.desiredHealthy}/{.status.currentHealthy}/{.status.disruptionsAllowed}')" = "$2" ]; }
check "pdb solo: expected 3 desired 2 healthy 3 allowed 1" wait_for 30 pdb_is solo 3/2/3/1
check "pdb solo: observedGeneration = generation" test "$($K get pdb solo -o jsonpath='{.status.observedGeneration}')" = "$($K get pdb solo -o jsonpath='{.metadata.generation}')"
check "pdb solo: DisruptionAllowed True SufficientPods" test "$($K get pdb solo -o jsonpath='{.status.conditions[?(@.type=="DisruptionAllowed")].status} {.status.conditions[?(@.type=="DisruptionAllowed")].reason}')" = "True SufficientPods"
check "get pdb columns" bash -c "$K get pdb solo | grep -Eq '^solo +2 +N/A +1 +[0-9]+s'"

evict() { # evict POD [kubectl] — prints the response, exit status of kubectl
        printf '{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"%s","namespace":"default"}}' "$1" >"$W/ev.json"
        ${2:-$K} create --raw "/api/v1/namespaces/default/pods/$1/eviction" -f "$W/ev.json" 2>&1
}
# a dry-run eviction takes nothing and deletes nothing
printf '{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"s3","namespace":"default"},"deleteOptions":{"dryRun":["All"]}}' >"$W/evd.json"
out=$($K create --raw /api/v1/namespaces/default/pods/s3/eviction -f "$W/evd.json" 2>&1)
check "dry-run eviction of s3: Success" bash -c "echo '$out' | jq -e '.status==\"Success\"' >/dev/null"
check "dry-run: s3 still there, not terminating" test "$($K get pod s3 -o jsonpath='{.metadata.name}:{.metadata.deletionTimestamp}')" = "s3:"
check "dry-run: pdb solo unchanged (allowed 1, no disruptedPods)" test "$($K get pdb solo -o jsonpath='{.status.disruptionsAllowed}:{.status.disruptedPods}')" = "1:"
# two budgets over one pod: kube-apiserver refuses with a 500
printf 'apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: solo2}\nspec:\n  maxUnavailable: 1\n  selector: {matchLabels: {app: solo}}\n' >"$W/solo2.yaml"
$K apply -f "$W/solo2.yaml" >/dev/null
out=$(evict s3)
check "eviction with two PDBs: refused (more than one PodDisruptionBudget)" bash -c "echo \"\$1\" | grep -q 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.'" _ "$out"
$K delete pdb solo2 >/dev/null
check "s3 still there" bash -c "$K get pod s3 >/dev/null"
out=$(evict s1)
check "evict s1: allowed (Status Success)" bash -c "echo '$out' | jq -e '.status==\"Success\"' >/dev/null"
check "s1 deleted" wait_for 20 bash -c "! $K get pod s1 2>/dev/null"
check "pdb solo after s1: expected 2 desired 2 healthy 2 allowed 0" wait_for 30 pdb_is solo 2/2/2/0
check "pdb solo: DisruptionAllowed False InsufficientPods" test "$($K get pdb solo -o jsonpath='{.status.conditions[?(@.type=="DisruptionAllowed")].status} {.status.conditions[?(@.type=="DisruptionAllowed")].reason}')" = "False InsufficientPods"
# the 429 itself, through curl to see the Status
CA=$W/ca.crt
yq -r '.clusters[0].cluster."certificate-authority-data"' "$KC" | base64 -d >"$CA"
yq -r '.users[0].user."client-certificate-data"' "$KC" | base64 -d >"$W/cl.crt"
yq -r '.users[0].user."client-key-data"' "$KC" | base64 -d >"$W/cl.key"
curl_k() { curl -s --cacert "$CA" --cert "$W/cl.crt" --key "$W/cl.key" "$@"; }
printf '{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"s2","namespace":"default"}}' >"$W/ev2.json"
code=$(curl_k -o "$W/429.json" -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        --data @"$W/ev2.json" "https://127.0.0.1:$PORT/api/v1/namespaces/default/pods/s2/eviction")
check "evict s2: 429" test "$code" = 429
check "evict s2: TooManyRequests, kube-apiserver's message" test "$(jq -r '.reason+"|"+.message' "$W/429.json")" = "TooManyRequests|Cannot evict pod as it would violate the pod's disruption budget."
check "evict s2: DisruptionBudget cause" test "$(jq -r '.details.causes[0].reason+"|"+.details.causes[0].message' "$W/429.json")" = "DisruptionBudget|The disruption budget solo needs 2 healthy pods and has 2 currently"
check "s2 still there" bash -c "$K get pod s2 >/dev/null"
# a Pending pod (no node fits) is evicted freely even at 0 allowed
cat >"$W/pend.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: pend, labels: {app: solo}}
spec:
  nodeSelector: {nowhere: "true"}
  containers: [{name: c, image: busybox:1.36}]
YAML
$K apply -f "$W/pend.yaml" >/dev/null
out=$(evict pend)
check "evict Pending pod at 0 allowed: Success" bash -c "echo '$out' | jq -e '.status==\"Success\"' >/dev/null"
check "pend gone" wait_for 10 bash -c "! $K get pod pend 2>/dev/null"
# a drain of s2's node is blocked by the PDB and times out
N2=$($K get pod s2 -o jsonpath='{.spec.nodeName}')
out=$($K33 drain "$N2" --force --timeout=8s 2>&1)
rc=$?
check "drain blocked by pdb fails (1.33)" test $rc -ne 0
check "drain reports the disruption budget" bash -c "echo \"\$1\" | grep -q \"Cannot evict pod as it would violate the pod's disruption budget\"" _ "$out"
check "node $N2 cordoned" test "$($K get node "$N2" -o jsonpath='{.spec.unschedulable}')" = true
check "s2 still there after the blocked drain" bash -c "$K get pod s2 >/dev/null"
$K uncordon "$N2" >/dev/null
$K delete pdb solo >/dev/null
$K delete pod s2 s3 --wait=false >/dev/null

# ---- a Deployment, maxUnavailable / minAvailable as percent of the scale ----
cat >"$W/web.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 0
      containers: [{name: c, image: busybox:1.36}]
      volumes: [{name: scratch, emptyDir: {}}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      terminationGracePeriodSeconds: 0
      containers: [{name: c, image: busybox:1.36}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec:
  maxUnavailable: 25%
  selector: {matchLabels: {app: web}}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web-min}
spec:
  minAvailable: 60%
  selector: {matchLabels: {tier: none}}
YAML
check "apply deployment web (4) + pdbs" bash -c "$K apply -f $W/web.yaml >/dev/null"
ds_ready() { [ "$($K get ds agent -o jsonpath='{.status.numberReady}')" = 2 ]; }
check "daemonset agent: 2 pods ready" wait_for 30 ds_ready
check "pdb web maxUnavailable 25%: expected 4 desired 3 healthy 4 allowed 1" wait_for 30 pdb_is web 4/3/4/1
check "pdb web-min matching nothing: 0/0/0/0" wait_for 30 pdb_is web-min 0/0/0/0
$K patch pdb web-min --type json -p '[{"op":"replace","path":"/spec/selector","value":{"matchLabels":{"app":"web"}}}]' >/dev/null
check "pdb web-min minAvailable 60% of 4 (rounded up): desired 3 allowed 1" wait_for 30 pdb_is web-min 4/3/4/1
$K delete pdb web-min >/dev/null
$K scale deploy web --replicas 2 >/dev/null
check "scale 2: pdb web desired 2-1 = 1, allowed 1" wait_for 30 pdb_is web 2/1/2/1
$K scale deploy web --replicas 3 >/dev/null
check "scale 3: pdb web 3/2/3/1" wait_for 30 pdb_is web 3/2/3/1

# drain each node in turn: one eviction at a time, never below the budget
for v in 1.31 1.33; do
        KV="/usr/lib/google-cloud-sdk/bin/kubectl.$v --kubeconfig $KC --cache-dir $W/cache$v"
        N=$($K get pods -l app=web -o jsonpath='{.items[0].spec.nodeName}')
        OTHER=$($K get nodes -o name | sed 's|node/||' | grep -vx "$N")
        $K uncordon "$OTHER" >/dev/null
        out=$($KV drain "$N" --ignore-daemonsets --delete-emptydir-data --timeout=90s 2>&1)
        rc=$?
        check "kubectl $v drain $N succeeds" test $rc = 0
        [ $rc = 0 ] || diag "$out"
        check "kubectl $v drain: node drained" bash -c "echo \"\$1\" | grep -q 'node/$N drained'" _ "$out"
        check "kubectl $v drain: evicted pods" bash -c "echo \"\$1\" | grep -q 'evicting pod default/web-'" _ "$out"
        check "kubectl $v drain: DaemonSet pods ignored" bash -c "echo \"\$1\" | grep -q 'Warning: ignoring DaemonSet-managed Pods: default/agent-'" _ "$out"
        check "the agent pod of $N stays" test "$($K get pods -l app=agent --field-selector spec.nodeName="$N" --no-headers | wc -l)" = 1
        on_node() { [ "$($K get pods -l app=web --field-selector spec.nodeName="$N" --no-headers 2>/dev/null | wc -l)" = 0 ]; }
        check "no web pod left on $N" wait_for 20 on_node
        check "web back to 3 ready on $OTHER" wait_for 30 pdb_is web 3/2/3/1
done
