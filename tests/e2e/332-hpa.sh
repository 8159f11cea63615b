#!/bin/bash
# 332-hpa.sh — the HorizontalPodAutoscaler controller (autoscaling/v2) on the API server's own
# metrics.k8s.io: a busy-loop Deployment (cpu request 50m, limit 100m) autoscaled by `kubectl
# autoscale --cpu-percent=50 --min=1 --max=3` (kubectl 1.33: autoscaling/v2) goes to 3 replicas
# (utilization ~200% -> ceil(4 * 1) = 4, capped at maxReplicas: ScalingLimited TooManyReplicas),
# `kubectl get hpa` shows "cpu: N%/50%", ScalingActive ValidMetricFound, event
# SuccessfulRescale with the Go controller's message; an idle Deployment of 3 under an
# AverageValue target with scaleDown policy Pods 1 per 15 s and no stabilization window steps
# down 3 -> 2 -> 1 (ScaleDownLimit, then TooFewReplicas); with the default 300 s window an idle
# one stays (ScaleDownStabilized). Expectations from pkg/controller/podautoscaler. Root only.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
W=$(mktemp -d /tmp/timonel-e2e-hpa.XXXXXX)
D=$W/data
PORT=$(free_port)
KPORT=$(free_port)
KC=$W/kc.yaml
BR=tmnlh$((RANDOM % 100000))
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
K="/usr/lib/google-cloud-sdk/bin/kubectl.1.33 --kubeconfig $KC --cache-dir $W/cache"
node_ready() { $K get nodes --no-headers | grep -q ' Ready '; }
check "node Ready" wait_for 20 node_ready

deploy() { # name replicas command
        cat <<YAML
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1}
spec:
  replicas: $2
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: c
        image: busybox:1.36
        command: [sh, -c, "$3"]
        resources: {requests: {cpu: 50m}, limits: {cpu: 100m}}
YAML
}
{
        deploy spin 1 'while :; do :; done'
        deploy idle 3 'exec sleep 3600'
        deploy idle2 2 'exec sleep 3600'
        cat <<'YAML'
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: idle}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: idle}
  minReplicas: 1
  maxReplicas: 5
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: AverageValue, averageValue: 50m}}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 0
      policies: [{type: Pods, value: 1, periodSeconds: 15}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: idle2}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: idle2}
  minReplicas: 1
  maxReplicas: 5
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
YAML
} >"$W/apps.yaml"
check "apply deployments spin, idle, idle2 and HPAs idle, idle2" bash -c "$K apply -f $W/apps.yaml >/dev/null"
check "kubectl autoscale (autoscaling/v2)" bash -c "$K autoscale deploy spin --cpu-percent=50 --min=1 --max=3 >/dev/null"
check "hpa spin is autoscaling/v2 with a cpu Utilization 50 target" test "$($K get hpa spin -o jsonpath='{.apiVersion} {.spec.metrics[0].resource.name} {.spec.metrics[0].resource.target.averageUtilization}')" = "autoscaling/v2 cpu 50"
replicas() { [ "$($K get deploy "$1" -o jsonpath='{.spec.replicas}')" = "$2" ]; }
check "spin scaled up to 3 (maxReplicas) within 90 s" wait_for 90 replicas spin 3
cond() { $K get hpa "$1" -o jsonpath="{.status.conditions[?(@.type==\"$2\")].status} {.status.conditions[?(@.type==\"$2\")].reason}"; }
check "spin: ScalingLimited True TooManyReplicas" test "$(cond spin ScalingLimited)" = "True TooManyReplicas"
check "spin: ScalingActive True ValidMetricFound" test "$(cond spin ScalingActive)" = "True ValidMetricFound"
check "spin: condition order AbleToScale, ScalingActive, ScalingLimited" test "$($K get hpa spin -o jsonpath='{.status.conditions[*].type}')" = "AbleToScale ScalingActive ScalingLimited"
check "spin: currentMetrics cpu utilization > 50" test "$($K get hpa spin -o jsonpath='{.status.currentMetrics[0].resource.current.averageUtilization}')" -gt 50
check "spin: lastScaleTime set" test -n "$($K get hpa spin -o jsonpath='{.status.lastScaleTime}')"
check "get hpa: REFERENCE TARGETS MINPODS MAXPODS REPLICAS AGE" bash -c "$K get hpa spin | head -1 | grep -Eq '^NAME +REFERENCE +TARGETS +MINPODS +MAXPODS +REPLICAS +AGE'"
hpa_row() { $K get hpa spin --no-headers | grep -Eq '^spin +Deployment/spin +cpu: [0-9]+%/50% +1 +3 +3 +[0-9]+'; }
check "get hpa spin row: cpu: N%/50% 1 3 3" wait_for 30 hpa_row
ev() { $K get events --field-selector involvedObject.name=spin,reason=SuccessfulRescale -o jsonpath='{.items[*].message}' | grep -q 'New size: 3; reason: cpu resource utilization (percentage of request) above target'; }
check "event SuccessfulRescale 'New size: 3; reason: cpu resource utilization (percentage of request) above target'" wait_for 10 ev

idle_ev() { $K get events --field-selector involvedObject.name=idle,reason=SuccessfulRescale -o jsonpath='{range .items[*]}{.message}{"\n"}{end}' | tr '\n' '|'; }
check "idle reaches minReplicas 1" wait_for 90 replicas idle 1
check "idle stepped 3 -> 2 -> 1 (events 'New size: 2; reason: All metrics below target', then 1)" test "$(idle_ev)" = "New size: 2; reason: All metrics below target|New size: 1; reason: All metrics below target|"
check "idle: ScalingLimited TooFewReplicas" wait_for 30 bash -c "[ \"\$($K get hpa idle -o jsonpath='{.status.conditions[?(@.type==\"ScalingLimited\")].reason}')\" = TooFewReplicas ]"
check "idle: get hpa shows an AverageValue target" bash -c "$K get hpa idle --no-headers | grep -Eq '^idle +Deployment/idle +cpu: [0-9a-z.]+/50m +1 +5 +1 '"
check "idle2 (default 300 s window) stays at 2" replicas idle2 2
check "idle2: AbleToScale ScaleDownStabilized" test "$(cond idle2 AbleToScale)" = "True ScaleDownStabilized"
