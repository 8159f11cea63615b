#!/bin/bash
# 311-statefulset.sh — the StatefulSet controller through real kubectl on the real node (issue 6
# item 2, "a StatefulSet creates web-0 then web-1 with their own PVCs"): OrderedReady creates
# web-1 only once web-0 is Running and Ready; each pod gets its PVC data-web-N from the
# volumeClaimTemplate (bound by the local-path provisioner), hostname/subdomain from serviceName,
# the pod-name and pod-index labels; data survives the pod's deletion; scale-down removes the
# highest ordinal and keeps its PVC, scale-up reuses it; RollingUpdate from the highest ordinal
# with rollout status/history/undo; partition; Parallel creates all pods at once;
# persistentVolumeClaimRetentionPolicy whenScaled Delete removes the PVC; deleting the set keeps
# (Retain) the PVCs; a restarted server creates no duplicates. Runs for each kubectl in
# KUBECTL_VERSIONS (each in its own namespace). Root only.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
KUBECTL_VERSIONS=${KUBECTL_VERSIONS:-"1.31 1.33"}

node_cluster sts

sts_yaml() { # name ns replicas policy [extra spec lines]
        cat <<YAML
apiVersion: v1
kind: Service
metadata: {name: $1, namespace: $2}
spec:
  clusterIP: None
  selector: {app: $1}
  ports: [{port: 80}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: $1, namespace: $2}
spec:
  serviceName: $1
  replicas: $3
  podManagementPolicy: $4
  selector:
    matchLabels: {app: $1}
${5:-}
  template:
    metadata:
      labels: {app: $1}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: c
        image: busybox:1.36
        command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
        volumeMounts: [{name: data, mountPath: /data}]
        readinessProbe:
          exec: {command: ["true"]}
          initialDelaySeconds: 2
          periodSeconds: 1
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
YAML
}
jp() { $K get "$1" -n "$NS" -o jsonpath="$2" 2>/dev/null; }
pod_ready() { [ "$(jp pod/$1 '{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
has() { $K get "$1" -n "$NS" >/dev/null 2>&1; }
gone() { ! $K get "$1" -n "$NS" >/dev/null 2>&1; }
rev_of() { jp pod/$1 '{.metadata.labels.controller-revision-hash}'; }

for V in $KUBECTL_VERSIONS; do
        K="/usr/lib/google-cloud-sdk/bin/kubectl.$V --kubeconfig $KC --cache-dir $W/cache-$V"
        NS=sts-${V/./-}
        check "[$V] create namespace" $K create namespace $NS
        sts_yaml web $NS 2 OrderedReady >"$W/web-$V.yaml"
        check "[$V] apply service + statefulset" $K apply -f "$W/web-$V.yaml"
        check "[$V] web-0 created" wait_for 20 has pod/web-0
        check "[$V] web-1 not created while web-0 is not Ready" \
                eval '! pod_ready web-0 && ! has pod/web-1 || pod_ready web-0'
        check "[$V] web-1 created" wait_for 40 has pod/web-1
        r0=$(jp pod/web-0 '{.status.conditions[?(@.type=="Ready")].lastTransitionTime}')
        c1=$(jp pod/web-1 '{.metadata.creationTimestamp}')
        check "[$V] web-1 created after web-0 turned Ready ($c1 >= $r0)" test -n "$r0" -a ! "$c1" \< "$r0"
        check "[$V] web-1 Ready" wait_for 40 pod_ready web-1
        bound() { [ "$(jp pvc/$1 '{.status.phase}')" = Bound ]; }
        check "[$V] PVC data-web-0 Bound" wait_for 10 bound data-web-0
        check "[$V] PVC data-web-1 Bound" wait_for 10 bound data-web-1
        v0=$(jp pvc/data-web-0 '{.spec.volumeName}')
        v1=$(jp pvc/data-web-1 '{.spec.volumeName}')
        check "[$V] each pod has its own volume ($v0, $v1)" test -n "$v0" -a -n "$v1" -a "$v0" != "$v1"
        check "[$V] web-0 mounts data-web-0" test "$(jp pod/web-0 '{.spec.volumes[?(@.name=="data")].persistentVolumeClaim.claimName}')" = data-web-0
        lbl=$(jp pod/web-1 '{.metadata.labels.statefulset\.kubernetes\.io/pod-name} {.metadata.labels.apps\.kubernetes\.io/pod-index}')
        check "[$V] pod-name and pod-index labels ($lbl)" test "$lbl" = "web-1 1"
        hs=$(jp pod/web-1 '{.spec.hostname}.{.spec.subdomain}')
        check "[$V] hostname.subdomain ($hs)" test "$hs" = "web-1.web"
        h=$($K exec -n $NS web-1 -- hostname 2>&1)
        check "[$V] the container's hostname is web-1 ($h)" test "$h" = web-1
        st=$(jp sts/web '{.status.replicas} {.status.readyReplicas} {.status.currentReplicas} {.status.updatedReplicas}')
        check "[$V] status replicas ready current updated ($st)" test "$st" = "2 2 2 2"

        # data survives the pod
        check "[$V] write into web-0's volume" $K exec -n $NS web-0 -- sh -c 'echo kept > /data/f'
        uid0=$(jp pod/web-0 '{.metadata.uid}')
        check "[$V] delete web-0" $K delete pod -n $NS web-0
        back() { [ "$(jp pod/web-0 '{.metadata.uid}')" != "$uid0" ] && pod_ready web-0; }
        check "[$V] web-0 recreated" wait_for 40 back
        out=$($K exec -n $NS web-0 -- cat /data/f 2>&1)
        check "[$V] the data survived ($out)" test "$out" = kept

        # scale down keeps the PVC, scale up reuses it
        check "[$V] write into web-1's volume" $K exec -n $NS web-1 -- sh -c 'echo one > /data/g'
        check "[$V] scale to 1" $K scale sts/web -n $NS --replicas=1
        check "[$V] web-1 removed" wait_for 30 gone pod/web-1
        check "[$V] web-0 stays" has pod/web-0
        check "[$V] PVC data-web-1 kept (Retain)" has pvc/data-web-1
        check "[$V] scale to 2" $K scale sts/web -n $NS --replicas=2
        check "[$V] web-1 back" wait_for 40 pod_ready web-1
        out=$($K exec -n $NS web-1 -- cat /data/g 2>&1)
        check "[$V] web-1 has its old data again ($out)" test "$out" = one

        # rolling update, highest ordinal first
        old=$(rev_of web-0)
        check "[$V] set env" $K set env sts/web -n $NS VERSION=2
        check "[$V] rollout status" timeout 120 $K rollout status sts/web -n $NS --timeout=110s
        new=$(rev_of web-0)
        check "[$V] both pods at the new revision ($new != $old)" test "$new" != "$old" -a "$(rev_of web-1)" = "$new"
        c0=$(jp pod/web-0 '{.metadata.creationTimestamp}')
        c1=$(jp pod/web-1 '{.metadata.creationTimestamp}')
        check "[$V] web-1 was replaced before web-0 ($c1 <= $c0)" test ! "$c1" \> "$c0"
        st=$(jp sts/web '{.status.currentRevision} {.status.updateRevision}')
        check "[$V] currentRevision = updateRevision = $new ($st)" test "$st" = "$new $new"
        hist=$($K rollout history sts/web -n $NS | awk '$1 ~ /^[0-9]+$/ {print $1}' | tr '\n' ' ')
        check "[$V] rollout history: 1 2 ($hist)" test "$hist" = "1 2 "
        check "[$V] rollout undo" $K rollout undo sts/web -n $NS
        check "[$V] rollout status after undo" timeout 120 $K rollout status sts/web -n $NS --timeout=110s
        check "[$V] back at the first revision" test "$(rev_of web-0) $(rev_of web-1)" = "$old $old"

        # partition: only ordinals >= partition are updated
        $K patch sts web -n $NS --type=merge -p '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":1}}}}' >/dev/null
        check "[$V] set env with partition 1" $K set env sts/web -n $NS VERSION=3
        part() { [ "$(rev_of web-1)" != "$old" ] && pod_ready web-1; }
        check "[$V] partition: web-1 updated" wait_for 60 part
        sleep 2
        check "[$V] partition: web-0 keeps the old revision" test "$(rev_of web-0)" = "$old"
        st=$(jp sts/web '{.status.updatedReplicas} {.status.currentReplicas}')
        check "[$V] partition: updated 1, current 1 ($st)" test "$st" = "1 1"

        # Parallel, whenScaled Delete
        sts_yaml par $NS 3 Parallel "  persistentVolumeClaimRetentionPolicy: {whenScaled: Delete, whenDeleted: Retain}" >"$W/par-$V.yaml"
        check "[$V] apply a Parallel statefulset of 3" $K apply -f "$W/par-$V.yaml"
        all3() { has pod/par-0 && has pod/par-1 && has pod/par-2; }
        check "[$V] Parallel: 3 pods at once" wait_for 10 all3
        check "[$V] Parallel: created before any was Ready" eval '! pod_ready par-0 || ! pod_ready par-2'
        allr() { pod_ready par-0 && pod_ready par-1 && pod_ready par-2; }
        check "[$V] Parallel: all Ready" wait_for 60 allr
        check "[$V] scale par to 1" $K scale sts/par -n $NS --replicas=1
        check "[$V] whenScaled Delete: PVC data-par-2 deleted" wait_for 30 gone pvc/data-par-2
        check "[$V] whenScaled Delete: PVC data-par-1 deleted" wait_for 30 gone pvc/data-par-1
        check "[$V] PVC data-par-0 kept" has pvc/data-par-0

        # deleting the set keeps the claims
        check "[$V] delete statefulset web" $K delete sts web -n $NS
        check "[$V] its pods go" wait_for 30 gone pod/web-0
        check "[$V] PVCs kept after the set is deleted (whenDeleted Retain)" eval 'has pvc/data-web-0 && has pvc/data-web-1'
done

# a restarted server converges without duplicates
K=$K0
before=$($K get pods -A -l app=par -o name | sort | tr '\n' ' ')
stop_server
start_server
check "server restarted" wait_for 20 node_ready
sleep 5
after=$($K get pods -A -l app=par -o name | sort | tr '\n' ' ')
check "no duplicate pods after a restart ($after)" test "$before" = "$after"
