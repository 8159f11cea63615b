#!/bin/bash
# 321-endpoints.sh — the Endpoints and EndpointSlice controllers through real kubectl (issue 6):
# a Service over a 3-replica Deployment whose named targetPort is resolved per pod; `get
# endpoints`, `get endpointslices` and `describe svc` as on a real cluster; a pod turning
# unready moves to notReadyAddresses and its slice endpoint to ready=false; a headless Service
# with publishNotReadyAddresses lists it anyway; scaling to 0 empties both (placeholder slice);
# a Service without selector gets no managed Endpoints; deleting the Service removes both; the
# `kubernetes` Service points at the API server. Expectations from Kubernetes' endpoint and
# endpointslice controllers and the API server's endpoint reconciler. Root only.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
KUBECTL_VERSIONS=${KUBECTL_VERSIONS:-"1.31 1.33"}

W=$(mktemp -d /tmp/timonel-e2e-ep.XXXXXX)
D=$W/data
PORT=$(free_port)
KPORT=$(free_port)
KC=$W/kc.yaml
BR=tmnle$((RANDOM % 100000))
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
K="/usr/lib/google-cloud-sdk/bin/kubectl.1.31 --kubeconfig $KC --cache-dir $W/cache"
node_ready() { $K get nodes --no-headers | grep -q ' Ready '; }
check "node Ready" wait_for 20 node_ready
NODE=$($K get nodes -o jsonpath='{.items[0].metadata.name}')
NODEIP=$($K get nodes -o jsonpath='{.items[0].status.addresses[?(@.type=="InternalIP")].address}')

# the API server's own Service
kube_ep() { [ "$($K get endpoints kubernetes -o jsonpath='{.subsets[0].addresses[0].ip}:{.subsets[0].ports[0].port}')" = "$NODEIP:$PORT" ]; }
check "endpoints/kubernetes = the API server ($NODEIP:$PORT)" wait_for 15 kube_ep
check "service/kubernetes: 10.43.0.1 port 443 https" test "$($K get svc kubernetes -o jsonpath='{.spec.clusterIP} {.spec.ports[0].port} {.spec.ports[0].name}')" = "10.43.0.1 443 https"
check "endpointslice/kubernetes" test "$($K get endpointslice kubernetes -o jsonpath='{.endpoints[0].addresses[0]} {.ports[0].port}')" = "$NODEIP $PORT"

cat >"$W/web.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: busybox:1.36
        command: ["sh", "-c", "touch /tmp/ready; mkdir -p /www; hostname > /www/index.html; exec httpd -f -p 8080 -h /www"]
        ports:
        - {name: http, containerPort: 8080}
        readinessProbe:
          exec: {command: ["cat", "/tmp/ready"]}
          periodSeconds: 1
          failureThreshold: 1
---
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {team: blue}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: http}
  - {name: alt, port: 81, targetPort: 8080}
---
apiVersion: v1
kind: Service
metadata:
  name: web-headless
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  selector: {app: web}
  ports:
  - {name: http, port: 8080}
---
apiVersion: v1
kind: Service
metadata:
  name: nosel
spec:
  ports:
  - {port: 80}
YAML
check "apply Deployment + Services" $K apply -f "$W/web.yaml"
n_addr() { $K get endpoints $1 -o jsonpath='{range .subsets[*].addresses[*]}{.ip}{"\n"}{end}' | grep -c .; }
three() { [ "$(n_addr web)" = 3 ]; }
check "endpoints/web has the 3 ready pods" wait_for 60 three
$K get endpoints web -o yaml | sed 's/^/# /'
check "ports resolved: http -> 8080 by name, alt -> 8080" test "$($K get endpoints web -o jsonpath='{range .subsets[0].ports[*]}{.name}={.port}/{.protocol} {end}')" = "alt=8080/TCP http=8080/TCP "
check "addresses carry nodeName and a Pod targetRef" test "$($K get endpoints web -o jsonpath='{.subsets[0].addresses[0].nodeName} {.subsets[0].addresses[0].targetRef.kind}')" = "$NODE Pod"
check "endpoints copy the Service labels" test "$($K get endpoints web -o jsonpath='{.metadata.labels.team}')" = blue
check "last-change-trigger-time annotation" bash -c "$K get endpoints web -o jsonpath='{.metadata.annotations.endpoints\.kubernetes\.io/last-change-trigger-time}' | grep -Eq '^20[0-9-]+T[0-9:]+Z$'"
SL="-l kubernetes.io/service-name=web"
check "one EndpointSlice for web" test "$($K get endpointslices $SL -o name | wc -l)" = 1
check "slice labels: managed-by endpointslice-controller.k8s.io" test "$($K get endpointslices $SL -o jsonpath='{.items[0].metadata.labels.endpointslice\.kubernetes\.io/managed-by}')" = endpointslice-controller.k8s.io
check "slice owned by the Service" test "$($K get endpointslices $SL -o jsonpath='{.items[0].metadata.ownerReferences[0].kind}/{.items[0].metadata.ownerReferences[0].name}')" = Service/web
check "slice name generated from the Service" bash -c "$K get endpointslices $SL -o name | grep -q '/web-'"
check "slice: IPv4, 3 ready endpoints" test "$($K get endpointslices $SL -o jsonpath='{.items[0].addressType} {range .items[0].endpoints[*]}{.conditions.ready}{end}')" = "IPv4 truetruetrue"
for V in $KUBECTL_VERSIONS; do
        KV="/usr/lib/google-cloud-sdk/bin/kubectl.$V --kubeconfig $KC --cache-dir $W/cache-$V"
        $KV get endpoints web >"$W/ep-$V" 2>&1
        $KV get endpointslices $SL >"$W/eps-$V" 2>&1
        $KV describe svc web >"$W/desc-$V" 2>&1
        sed 's/^/# /' "$W/ep-$V" "$W/eps-$V"
        check "[$V] get endpoints: NAME ENDPOINTS AGE with ip:8080 entries" bash -c "head -1 $W/ep-$V | grep -Eq '^NAME +ENDPOINTS +AGE' && grep -Eq '^web +10\.42\.[0-9.]+:8080,' $W/ep-$V"
        check "[$V] get endpointslices: IPv4, port 8080, 3 addresses" bash -c "head -1 $W/eps-$V | grep -Eq '^NAME +ADDRESSTYPE +PORTS +ENDPOINTS +AGE' && grep -Eq '^web-[a-z0-9]+ +IPv4 +8080,8080 +10\.42\.[0-9.]+,10\.42\.[0-9.]+,10\.42\.[0-9.]+ ' $W/eps-$V"
        check "[$V] describe svc lists the endpoints per port" bash -c "grep -Eq '^Endpoints: +10\.42\.[0-9.]+:8080,10\.42\.[0-9.]+:8080,10\.42\.[0-9.]+:8080' $W/desc-$V"
done

# one pod turns unready
P=$($K get pods -l app=web -o jsonpath='{.items[0].metadata.name}')
PIP=$($K get pod $P -o jsonpath='{.status.podIP}')
check "make $P unready" $K exec $P -- rm /tmp/ready
unready() { [ "$($K get endpoints web -o jsonpath='{.subsets[0].notReadyAddresses[0].ip}')" = "$PIP" ]; }
check "endpoints: $P moves to notReadyAddresses" wait_for 20 unready
check "endpoints: 2 addresses left" test "$(n_addr web)" = 2
slice_cond() { $K get endpointslices $SL -o jsonpath="{range .items[0].endpoints[?(@.targetRef.name==\"$P\")]}{.conditions.ready}/{.conditions.serving}/{.conditions.terminating}{end}"; }
sc() { [ "$(slice_cond)" = "false/false/false" ]; }
check "slice: $P ready=false serving=false terminating=false" wait_for 10 sc
check "headless + publishNotReadyAddresses: all 3 are addresses" test "$(n_addr web-headless)" = 3
check "headless label on its endpoints" bash -c "$K get endpoints web-headless -o jsonpath='{.metadata.labels}' | grep -q 'service.kubernetes.io/headless'"
check "a Service without selector gets no managed Endpoints" bash -c "! $K get endpoints nosel >/dev/null 2>&1"
check "make $P ready again" $K exec $P -- touch /tmp/ready
check "endpoints: back to 3 ready" wait_for 20 three

# scale to 0: no addresses, one empty slice
check "scale to 0" $K scale deploy web --replicas=0
empty() { [ -z "$($K get endpoints web -o jsonpath='{.subsets}')" ] && [ "$($K get endpointslices $SL -o jsonpath='{.items[0].endpoints}')" = null ] && [ "$($K get endpointslices $SL -o name | wc -l)" = 1 ]; }
check "scaled to 0: endpoints without subsets, one slice with endpoints null" wait_for 60 empty
check "get endpoints shows <none>" bash -c "$K get endpoints web --no-headers | grep -Eq '^web +<none> '"
check "get endpointslices shows <unset> ports and endpoints" bash -c "$K get endpointslices $SL --no-headers | grep -Eq '^web-[a-z0-9]+ +IPv4 +<unset> +<unset> '"

check "delete service web" $K delete svc web
gone() { ! $K get endpoints web >/dev/null 2>&1 && [ "$($K get endpointslices $SL -o name | wc -l)" = 0 ]; }
check "its Endpoints and EndpointSlices are gone" wait_for 20 gone

stop_server
"$TIMONEL" killall --data-dir "$D" >/dev/null 2>&1
check "no mounts left" bash -c "! grep -q '$W' /proc/mounts"
check "bridge removed" bash -c "! ip link show $BR >/dev/null 2>&1"
