#!/bin/bash
# 312-pvc.sh — PersistentVolumes and claims through real kubectl (issue 5 item 5, issue 6 item 2):
# the default StorageClass local-path (rancher.io/local-path, WaitForFirstConsumer, Delete) exists
# at start; a claim without a class gets the default one and waits for its first consumer; a pod
# using it is scheduled, the claim gets volume.kubernetes.io/selected-node, a PV pvc-<uid> is
# provisioned under <data-dir>/storage/<pv>_<ns>_<claim> with node affinity to that node and
# bound; the pod writes into the directory; a claim deleted under a running pod stays
# Terminating (kubernetes.io/pvc-protection) until the pod is gone, then the PV is deleted with
# its directory. A static PV (class "manual", label selector, larger capacity) binds to a
# matching claim (claimRef, phases Available -> Bound -> Released, Retain keeps it); a claim no
# volume fits stays Pending; a pod naming a missing claim or an unbound immediate claim gets
# FailedScheduling with Kubernetes' messages. Runs for each kubectl in KUBECTL_VERSIONS. Root only.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
KUBECTL_VERSIONS=${KUBECTL_VERSIONS:-"1.31 1.33"}

node_cluster pvc
DABS=$(cd "$D" && pwd -P)

sc() { $K0 get sc local-path -o jsonpath='{.provisioner} {.volumeBindingMode} {.reclaimPolicy} {.metadata.annotations.storageclass\.kubernetes\.io/is-default-class}'; }
has_sc() { [ "$(sc)" = "rancher.io/local-path WaitForFirstConsumer Delete true" ]; }
check "default StorageClass local-path ($(sc))" wait_for 10 has_sc
check "kubectl shows it as (default)" eval "$K0 get sc | grep -q 'local-path (default)'"

jp() { $K get "$1" -n "$NS" -o jsonpath="$2" 2>/dev/null; }
has() { $K get "$1" -n "$NS" >/dev/null 2>&1; }
gone() { ! $K get "$1" -n "$NS" >/dev/null 2>&1; }
phase_is() { [ "$(jp "$1" '{.status.phase}')" = "$2" ]; }
pod_yaml() { # name ns claim
        cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: $2}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.36
    command: ["sh", "-c", "echo from-pod > /data/hello; trap 'exit 0' TERM; while true; do sleep 1; done"]
    volumeMounts: [{name: v, mountPath: /data}]
  volumes:
  - name: v
    persistentVolumeClaim: {claimName: $3}
YAML
}
pvc_yaml() { # name ns size [class-line] [selector-line]
        cat <<YAML
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: $1, namespace: $2}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: $3}}
${4:-}
${5:-}
YAML
}
event_for() { # object message-part
        $K get events -n "$NS" --field-selector "involvedObject.name=$1" -o jsonpath='{range .items[*]}{.message}{"\n"}{end}' | grep -qF "$2"
}

for V in $KUBECTL_VERSIONS; do
        K="/usr/lib/google-cloud-sdk/bin/kubectl.$V --kubeconfig $KC --cache-dir $W/cache-$V"
        NS=pvc-${V/./-}
        check "[$V] create namespace" $K create namespace $NS

        # dynamic provisioning, WaitForFirstConsumer
        pvc_yaml claim $NS 64Mi | $K apply -f - >/dev/null
        cls() { [ "$(jp pvc/claim '{.spec.storageClassName}')" = local-path ]; }
        check "[$V] a claim without a class gets the default class" wait_for 10 cls
        sleep 1
        check "[$V] ... and stays Pending without a consumer" phase_is pvc/claim Pending
        check "[$V] ... not yet handed to a node" test -z "$(jp pvc/claim '{.metadata.annotations.volume\.kubernetes\.io/selected-node}')"
        pod_yaml user $NS claim | $K apply -f - >/dev/null
        running() { phase_is pod/user Running; }
        check "[$V] the pod using it runs" wait_for 40 running
        check "[$V] the claim is Bound" phase_is pvc/claim Bound
        sel=$(jp pvc/claim '{.metadata.annotations.volume\.kubernetes\.io/selected-node}')
        check "[$V] selected-node annotation ($sel)" test "$sel" = "$NODE"
        uid=$(jp pvc/claim '{.metadata.uid}')
        pv=$(jp pvc/claim '{.spec.volumeName}')
        check "[$V] the PV is pvc-<claim uid> ($pv)" test "$pv" = "pvc-$uid"
        path=$($K get pv "$pv" -o jsonpath='{.spec.hostPath.path}')
        check "[$V] its directory is <data-dir>/storage/<pv>_<ns>_<claim> ($path)" test "$path" = "$DABS/storage/${pv}_${NS}_claim"
        pvinfo=$($K get pv "$pv" -o jsonpath='{.status.phase} {.spec.claimRef.name} {.spec.claimRef.uid} {.spec.persistentVolumeReclaimPolicy} {.spec.storageClassName} {.spec.capacity.storage}')
        check "[$V] PV Bound to the claim, Delete, local-path, 64Mi ($pvinfo)" test "$pvinfo" = "Bound claim $uid Delete local-path 64Mi"
        aff=$($K get pv "$pv" -o jsonpath='{.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].key}={.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]}')
        check "[$V] PV node affinity to the node ($aff)" test "$aff" = "kubernetes.io/hostname=$NODE"
        cap=$(jp pvc/claim '{.status.capacity.storage} {.status.accessModes[0]}')
        check "[$V] claim status capacity/accessModes ($cap)" test "$cap" = "64Mi ReadWriteOnce"
        written() { [ "$(cat "$path/hello" 2>/dev/null)" = from-pod ]; }
        check "[$V] the pod wrote into the directory" wait_for 10 written
        echo from-host >"$path/host"
        out=$($K exec -n $NS user -- cat /data/host 2>&1)
        check "[$V] the pod sees the host's file ($out)" test "$out" = from-host
        $K apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: {name: reader, namespace: $NS}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:1.36
    command: ["sh", "-c", "cat /data/hello; touch /data/ro 2>/dev/null && echo writable || echo readonly; sleep 3600"]
    volumeMounts: [{name: v, mountPath: /data}]
  volumes:
  - name: v
    persistentVolumeClaim: {claimName: claim, readOnly: true}
YAML
        rlog() { [ "$($K logs -n $NS reader 2>/dev/null | tr '\n' ' ')" = "from-pod readonly " ]; }
        check "[$V] a second pod mounts the claim readOnly" wait_for 40 rlog
        $K delete pod reader -n $NS --wait=false >/dev/null
        fin=$(jp pvc/claim '{.metadata.finalizers}')
        check "[$V] the claim carries kubernetes.io/pvc-protection ($fin)" test "$fin" = '["kubernetes.io/pvc-protection"]'
        check "[$V] delete the claim while the pod runs" $K delete pvc claim -n $NS --wait=false
        sleep 2
        check "[$V] the claim stays Terminating while a pod uses it" test -n "$(jp pvc/claim '{.metadata.deletionTimestamp}')"
        check "[$V] ... its PV stays Bound" test "$($K get pv "$pv" -o jsonpath='{.status.phase}')" = Bound
        check "[$V] ... the directory stays" test -d "$path"
        check "[$V] delete the pod" $K delete pod user -n $NS --wait=true
        check "[$V] then the claim goes" wait_for 20 gone pvc/claim
        pvgone() { ! $K get pv "$pv" >/dev/null 2>&1; }
        check "[$V] reclaim Delete: the PV goes" wait_for 20 pvgone
        check "[$V] ... and its directory" test ! -e "$path"

        # a static PV with a class, a selector and more room
        mkdir -p "$W/static-$V"
        $K apply -f - >/dev/null <<YAML
apiVersion: v1
kind: PersistentVolume
metadata: {name: static-$V, labels: {tier: gold}}
spec:
  capacity: {storage: 2Gi}
  accessModes: [ReadWriteOnce, ReadOnlyMany]
  storageClassName: manual
  hostPath: {path: $W/static-$V}
YAML
        avail() { [ "$($K get pv static-$V -o jsonpath='{.status.phase}')" = Available ]; }
        check "[$V] static PV Available" wait_for 10 avail
        pvc_yaml big $NS 5Gi "  storageClassName: manual" | $K apply -f - >/dev/null
        pvc_yaml pick $NS 1Gi "  storageClassName: manual" "  selector: {matchLabels: {tier: gold}}" | $K apply -f - >/dev/null
        bound() { phase_is pvc/pick Bound; }
        check "[$V] a claim with selector binds to the static PV" wait_for 20 bound
        check "[$V] ... volumeName" test "$(jp pvc/pick '{.spec.volumeName}')" = static-$V
        check "[$V] ... capacity is the volume's (2Gi)" test "$(jp pvc/pick '{.status.capacity.storage}')" = 2Gi
        ref=$($K get pv static-$V -o jsonpath='{.status.phase} {.spec.claimRef.namespace}/{.spec.claimRef.name}')
        check "[$V] PV Bound with claimRef ($ref)" test "$ref" = "Bound $NS/pick"
        check "[$V] a claim no volume fits stays Pending" phase_is pvc/big Pending
        check "[$V] a bound claim's volumeName is immutable" eval "! $K patch pvc pick -n $NS --type=merge -p '{\"spec\":{\"volumeName\":\"other\"}}' >/dev/null 2>&1"
        check "[$V] delete the bound claim" $K delete pvc pick -n $NS
        rel() { [ "$($K get pv static-$V -o jsonpath='{.status.phase}')" = Released ]; }
        check "[$V] Retain: the PV is Released and stays" wait_for 20 rel
        check "[$V] the static directory stays" test -d "$W/static-$V"
        $K delete pv static-$V >/dev/null

        # scheduling: missing claim, unbound immediate claim
        pod_yaml lost $NS nope | $K apply -f - >/dev/null
        check "[$V] missing claim: FailedScheduling" wait_for 20 event_for lost 'persistentvolumeclaim "nope" not found'
        pvc_yaml imm $NS 1Gi "  storageClassName: manual" | $K apply -f - >/dev/null
        pod_yaml waiting $NS imm | $K apply -f - >/dev/null
        check "[$V] unbound immediate claim: FailedScheduling" wait_for 20 event_for waiting 'pod has unbound immediate PersistentVolumeClaims'
        check "[$V] ... the pod stays unbound" test -z "$(jp pod/waiting '{.spec.nodeName}')"
        # a matching volume appears: the claim binds and the pod runs
        mkdir -p "$W/late-$V"
        $K apply -f - >/dev/null <<YAML
apiVersion: v1
kind: PersistentVolume
metadata: {name: late-$V}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: manual
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: $W/late-$V}
YAML
        wrun() { phase_is pod/waiting Running; }
        check "[$V] a volume created later binds and the pod runs" wait_for 60 wrun
        $K delete pod waiting lost -n $NS --wait=false >/dev/null 2>&1
done
