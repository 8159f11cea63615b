#!/bin/bash
# 322-namespace.sh — deleting a namespace removes everything in it (issue 6 "Done when"), through
# real kubectl: `kubectl delete namespace` turns it Terminating with Kubernetes' deletion
# conditions (NamespaceContentRemaining "Some resources are remaining: pods. has N resource
# instances"), creates in it are 403 "unable to create new content in namespace X because it is
# being terminated", pods terminate gracefully, an object with a finalizer holds the namespace
# (NamespaceFinalizersRemaining) until the finalizer is removed, then the namespace and all of
# its content (Deployment, ReplicaSet, pods, Service, Endpoints, EndpointSlice, ConfigMap,
# Secret, ServiceAccount) are gone. Root only.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
KUBECTL_VERSIONS=${KUBECTL_VERSIONS:-"1.31 1.33"}

W=$(mktemp -d /tmp/timonel-e2e-ns.XXXXXX)
D=$W/data
PORT=$(free_port)
KPORT=$(free_port)
KC=$W/kc.yaml
BR=tmnlq$((RANDOM % 100000))
NET=$((16 * (1 + RANDOM % 14)))
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
check "image import" "$TIMONEL" image import --data-dir "$D" "$W/img/busybox-docker.tar"
"$TIMONEL" server --data-dir "$D" --https-listen-port $PORT --kubelet-port $KPORT \
        --write-kubeconfig "$KC" --node-bridge $BR --cluster-cidr 10.42.$NET.0/20 \
        >>"$W/server.log" 2>&1 &
SERVER_PID=$!
check "kubeconfig written" wait_for 15 test -s "$KC"
K0="/usr/lib/google-cloud-sdk/bin/kubectl.1.31 --kubeconfig $KC --cache-dir $W/cache"
node_ready() { $K0 get nodes --no-headers | grep -q ' Ready '; }
check "node Ready" wait_for 20 node_ready

for V in $KUBECTL_VERSIONS; do
        K="/usr/lib/google-cloud-sdk/bin/kubectl.$V --kubeconfig $KC --cache-dir $W/cache-$V"
        NS=gone-${V/./-}
        check "[$V] create namespace $NS" $K create namespace $NS
        cat >"$W/content-$V.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: $NS}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 4
      containers:
      - name: c
        image: busybox:1.36
        command: ["sh", "-c", "trap '' TERM; while true; do sleep 1; done"]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: $NS}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm, namespace: $NS}
data: {a: b}
---
apiVersion: v1
kind: Secret
metadata: {name: sec, namespace: $NS}
stringData: {a: b}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: held
  namespace: $NS
  finalizers: [example.com/hold]
data: {a: b}
YAML
        check "[$V] apply content" $K apply -f "$W/content-$V.yaml"
        running() { [ "$($K -n $NS get pods --no-headers 2>/dev/null | grep -c ' Running ')" = 2 ]; }
        check "[$V] 2 pods Running" wait_for 60 running
        has_ep() { $K -n $NS get endpointslices -l kubernetes.io/service-name=web -o name | grep -q .; }
        check "[$V] the Service has its EndpointSlice" wait_for 20 has_ep
        sa() { $K -n $NS get serviceaccount default; }
        check "[$V] default ServiceAccount exists" wait_for 10 sa

        out=$($K delete namespace $NS --wait=false 2>&1)
        check "[$V] delete namespace ($out)" test "$out" = "namespace \"$NS\" deleted"
        check "[$V] phase Terminating" test "$($K get ns $NS -o jsonpath='{.status.phase}')" = Terminating
        $K get ns $NS --no-headers | sed 's/^/# /'
        check "[$V] get ns shows Terminating" bash -c "$K get ns $NS --no-headers | grep -Eq '^$NS +Terminating '"
        cond() { $K get ns $NS -o jsonpath="{.status.conditions[?(@.type==\"$1\")].$2}"; }
        remaining() { cond NamespaceContentRemaining message | grep -Eq '^Some resources are remaining: (configmaps\. has 1 resource instances, )?pods\. has 2 resource instances$'; }
        check "[$V] NamespaceContentRemaining names the pods" wait_for 10 remaining
        diag "[$V] $(cond NamespaceContentRemaining message)"
        check "[$V] NamespaceDeletionDiscoveryFailure False/ResourcesDiscovered" test "$(cond NamespaceDeletionDiscoveryFailure status)/$(cond NamespaceDeletionDiscoveryFailure reason)" = False/ResourcesDiscovered
        check "[$V] NamespaceDeletionContentFailure False/ContentDeleted" test "$(cond NamespaceDeletionContentFailure status)/$(cond NamespaceDeletionContentFailure reason)" = False/ContentDeleted
        check "[$V] NamespaceFinalizersRemaining names example.com/hold" test "$(cond NamespaceFinalizersRemaining message)" = "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances"
        out=$($K -n $NS create configmap late --from-literal=a=b 2>&1)
        check "[$V] create in a terminating namespace is Forbidden ($out)" grep -q "configmaps \"late\" is forbidden: unable to create new content in namespace $NS because it is being terminated" <<<"$out"
        check "[$V] pods terminate gracefully (Terminating)" bash -c "$K -n $NS get pods --no-headers | grep -q Terminating"
        pods_gone() { [ -z "$($K -n $NS get pods -o name 2>/dev/null)" ]; }
        check "[$V] pods gone after their grace period" wait_for 40 pods_gone
        only_held() { [ "$($K -n $NS get configmaps -o name 2>/dev/null)" = configmap/held ]; }
        check "[$V] only the ConfigMap with a finalizer is left" wait_for 20 only_held
        check "[$V] the namespace waits for it" $K get ns $NS
        check "[$V] remove the finalizer" $K -n $NS patch configmap held --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]'
        ns_gone() { ! $K get ns $NS >/dev/null 2>&1; }
        check "[$V] the namespace is gone" wait_for 20 ns_gone
        for r in deployments replicasets pods services endpoints endpointslices configmaps secrets serviceaccounts; do
                n=$($K get --raw "/api/v1/namespaces/$NS/$r" 2>/dev/null | grep -o '"name"' | wc -l)
                [ "$r" = deployments ] || [ "$r" = replicasets ] && n=$($K get --raw "/apis/apps/v1/namespaces/$NS/$r" 2>/dev/null | grep -o '"name"' | wc -l)
                [ "$r" = endpointslices ] && n=$($K get --raw "/apis/discovery.k8s.io/v1/namespaces/$NS/$r" 2>/dev/null | grep -o '"name"' | wc -l)
                check "[$V] no $r left in $NS" test "$n" = 0
        done
done

stop_server
"$TIMONEL" killall --data-dir "$D" >/dev/null 2>&1
check "no mounts left" bash -c "! grep -q '$W' /proc/mounts"
