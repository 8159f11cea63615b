#!/bin/bash
# 310-daemonset.sh — the DaemonSet controller through real kubectl (issue 6 item 2, "a DaemonSet
# follows nodes being added"): one pod on the real node, one more on each node added through the
# API (a Node object made Ready through its status; no agent runs there, so its pod stays
# Pending) and none on a node with an untolerated NoSchedule taint or without the nodeSelector's
# label; daemon pods carry spec.affinity matchFields metadata.name = <node> and the automatic
# tolerations (not-ready/unreachable NoExecute, disk/memory/pid-pressure and unschedulable
# NoSchedule); a removed node drops out of desiredNumberScheduled; RollingUpdate with
# `kubectl rollout status|history|undo` over ControllerRevisions (controller-revision-hash);
# OnDelete replaces a pod only when it is deleted; maxSurge starts the new pod before the old one
# goes; a restarted server creates no duplicate pod.
# Runs for each kubectl in KUBECTL_VERSIONS (each in its own namespace). Root only.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
KUBECTL_VERSIONS=${KUBECTL_VERSIONS:-"1.31 1.33"}

node_cluster ds

ds_yaml() { # name ns [extra spec lines for the pod]
        cat <<YAML
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: $1
  namespace: $2
spec:
  selector:
    matchLabels: {app: $1}
  template:
    metadata:
      labels: {app: $1}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: c
        image: busybox:1.36
        command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
        readinessProbe:
          exec: {command: ["true"]}
${3:-}
YAML
}

# add_node NAME [LABEL [TAINT]] — a Node object through the API, made Ready through its status
# (LABEL "k: v"; TAINT a YAML taint object)
add_node() {
        local now
        now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
        $K apply -f - >/dev/null <<YAML || return 1
apiVersion: v1
kind: Node
metadata:
  name: $1
  labels: {kubernetes.io/hostname: $1${2:+, $2}}
spec:
  taints: [${3:-}]
YAML
        $K patch node "$1" --subresource=status --type=merge -p "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\",\"message\":\"test\",\"lastHeartbeatTime\":\"$now\",\"lastTransitionTime\":\"$now\"}]}}" >/dev/null
}
dsf() { $K get ds "$1" -n "$NS" -o jsonpath="{.status.$2}"; }
pods_on() { $K get pods -n "$NS" -l "app=$1" --field-selector "spec.nodeName=$2" -o name; }
npods() { $K get pods -n "$NS" -l "app=$1" -o name | wc -l; }
eq() { [ "$($1)" = "$2" ]; }

for V in $KUBECTL_VERSIONS; do
        K="/usr/lib/google-cloud-sdk/bin/kubectl.$V --kubeconfig $KC --cache-dir $W/cache-$V"
        NS=ds-${V/./-}
        F1=fake-a-${V/./-}
        F2=fake-b-${V/./-}
        F3=fake-c-${V/./-}
        check "[$V] create namespace" $K create namespace $NS
        ds_yaml agent $NS >"$W/agent-$V.yaml"
        out=$($K apply -f "$W/agent-$V.yaml" 2>&1)
        check "[$V] apply daemonset ($out)" test "$out" = "daemonset.apps/agent created"
        on_real() { pods_on agent "$NODE" | grep -q .; }
        check "[$V] a pod on the real node" wait_for 20 on_real
        ready1() { [ "$(dsf agent numberReady)" = 1 ] && [ "$(dsf agent desiredNumberScheduled)" = 1 ]; }
        check "[$V] status desired 1, ready 1" wait_for 30 ready1
        P=$($K get pods -n $NS -l app=agent -o jsonpath='{.items[0].metadata.name}')
        aff=$($K get pod -n $NS "$P" -o jsonpath='{.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].key}={.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values[0]}')
        check "[$V] pod has node affinity to its node ($aff)" test "$aff" = "metadata.name=$NODE"
        tols=$($K get pod -n $NS "$P" -o jsonpath='{range .spec.tolerations[*]}{.key}:{.effect} {end}')
        ok_tols=true
        for t in node.kubernetes.io/not-ready:NoExecute node.kubernetes.io/unreachable:NoExecute \
                node.kubernetes.io/disk-pressure:NoSchedule node.kubernetes.io/memory-pressure:NoSchedule \
                node.kubernetes.io/pid-pressure:NoSchedule node.kubernetes.io/unschedulable:NoSchedule; do
                case " $tols " in *" $t "*) ;; *) ok_tols=false ;; esac
        done
        check "[$V] automatic daemon tolerations ($tols)" $ok_tols
        hash=$($K get pod -n $NS "$P" -o jsonpath='{.metadata.labels.controller-revision-hash}')
        crs=$($K get controllerrevisions -n $NS -o jsonpath='{range .items[*]}{.metadata.name} {.revision}{end}')
        check "[$V] ControllerRevision agent-$hash revision 1 ($crs)" test "$crs" = "agent-$hash 1"

        # nodes added through the API
        check "[$V] add node $F1" add_node $F1
        on_f1() { pods_on agent $F1 | grep -q .; }
        check "[$V] a pod follows the added node" wait_for 20 on_f1
        d2() { [ "$(dsf agent desiredNumberScheduled)" = 2 ] && [ "$(dsf agent currentNumberScheduled)" = 2 ]; }
        check "[$V] desired/current 2" wait_for 10 d2
        check "[$V] add node $F2 (tainted)" add_node $F2 "disk: ssd" "{key: dedicated, value: db, effect: NoSchedule}"
        on_f2() { pods_on agent $F2 | grep -q .; }
        ds_yaml sel $NS "      nodeSelector: {disk: ssd}
      tolerations: [{key: dedicated, operator: Equal, value: db, effect: NoSchedule}]" >"$W/sel-$V.yaml"
        check "[$V] apply a daemonset with nodeSelector + toleration" $K apply -f "$W/sel-$V.yaml"
        sel_f2() { pods_on sel $F2 | grep -q .; }
        check "[$V] nodeSelector + toleration: a pod on the labelled tainted node" wait_for 20 sel_f2
        d3() { [ "$(dsf agent desiredNumberScheduled)" = 3 ]; }
        check "[$V] add node $F3" add_node $F3
        on_f3() { pods_on agent $F3 | grep -q .; }
        check "[$V] a pod on the third node" wait_for 20 on_f3
        sleep 1
        check "[$V] no pod on the node with an untolerated NoSchedule taint" test -z "$(pods_on agent $F2)"
        check "[$V] nodeSelector: only one pod of sel ($(npods sel))" test "$(npods sel)" = 1
        check "[$V] desired 3 of 4 nodes for agent ($(dsf agent desiredNumberScheduled))" \
                test "$(dsf agent desiredNumberScheduled)" = 3
        check "[$V] the unscheduled pods are Pending" test "$($K get pods -n $NS --field-selector spec.nodeName=$F1 -o jsonpath='{.items[0].status.phase}')" = Pending
        # NoExecute taint: the pod goes
        $K taint node $F3 evict=now:NoExecute >/dev/null
        # no agent runs there to finish a graceful deletion: deleted means terminating here
        off_f3() { [ -z "$($K get pods -n $NS -l app=agent --field-selector spec.nodeName=$F3 -o jsonpath='{.items[?(@.metadata.deletionTimestamp)].metadata.name}{"|"}{.items[*].metadata.name}' | awk -F'|' '$1 != $2')" ]; }
        check "[$V] untolerated NoExecute taint: the pod is deleted" wait_for 20 off_f3
        $K delete node $F1 $F2 $F3 >/dev/null
        d1() { [ "$(dsf agent desiredNumberScheduled)" = 1 ]; }
        check "[$V] removed nodes leave desiredNumberScheduled" wait_for 20 d1
        $K delete ds sel -n $NS >/dev/null
        $K delete pods -n $NS --field-selector spec.nodeName!=$NODE --grace-period=0 --force >/dev/null 2>&1

        # RollingUpdate with rollout status / history / undo
        check "[$V] set env (template change)" $K set env ds/agent -n $NS VERSION=2
        check "[$V] rollout status" timeout 90 $K rollout status ds/agent -n $NS --timeout=80s
        h2=$($K get pods -n $NS -l app=agent --field-selector spec.nodeName=$NODE -o jsonpath='{.items[*].metadata.labels.controller-revision-hash}')
        check "[$V] the pod was replaced with the new revision ($h2 != $hash)" test -n "$h2" -a "$h2" != "$hash"
        check "[$V] updatedNumberScheduled 1" test "$(dsf agent updatedNumberScheduled)" = 1
        hist=$($K rollout history ds/agent -n $NS | awk '$1 ~ /^[0-9]+$/ {print $1}' | tr '\n' ' ')
        check "[$V] rollout history: 1 2 ($hist)" test "$hist" = "1 2 "
        check "[$V] rollout undo" $K rollout undo ds/agent -n $NS
        check "[$V] rollout status after undo" timeout 90 $K rollout status ds/agent -n $NS --timeout=80s
        h3=$($K get pods -n $NS -l app=agent -o jsonpath='{.items[*].metadata.labels.controller-revision-hash}')
        check "[$V] undo returns to the first revision's hash ($h3 = $hash)" test "$h3" = "$hash"
        env=$($K get ds agent -n $NS -o jsonpath='{.spec.template.spec.containers[0].env}')
        check "[$V] undo restored the template (env '$env')" test -z "$env"
        hist=$($K rollout history ds/agent -n $NS | awk '$1 ~ /^[0-9]+$/ {print $1}' | tr '\n' ' ')
        check "[$V] rollout history after undo: 2 3 ($hist)" test "$hist" = "2 3 "

        # OnDelete
        $K patch ds agent -n $NS --type=merge -p '{"spec":{"updateStrategy":{"type":"OnDelete","rollingUpdate":null}}}' >/dev/null
        check "[$V] OnDelete + set env" $K set env ds/agent -n $NS VERSION=3
        sleep 3
        h4=$($K get pods -n $NS -l app=agent -o jsonpath='{.items[*].metadata.labels.controller-revision-hash}')
        check "[$V] OnDelete: pod not replaced by itself ($h4)" test "$h4" = "$hash"
        check "[$V] delete the pod" $K delete pods -n $NS -l app=agent --wait=false
        newp() { h=$($K get pods -n $NS -l app=agent -o jsonpath='{.items[*].metadata.labels.controller-revision-hash}'); [ -n "$h" ] && [ "$h" != "$hash" ] && [ "$(echo $h | wc -w)" = 1 ]; }
        check "[$V] OnDelete: the replacement has the new revision" wait_for 30 newp

        # RollingUpdate with maxSurge 1, maxUnavailable 0: the new pod starts next to the old one.
        # The old pod must be available first: with surge, a node whose pods are all unready keeps
        # only the updated one (daemon controller's podsShouldBeOnNode), so a just-started old
        # pod may go at once. The new one is Ready only after 10 s, so slow polls still see both.
        check "[$V] maxSurge: the current pod is available first" wait_for 30 eq "dsf agent numberAvailable" 1
        $K patch ds agent -n $NS --type=merge -p '{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1,"maxUnavailable":0}}}}' >/dev/null
        check "[$V] maxSurge: a template change (new pods Ready after 10 s)" $K patch ds agent -n $NS --type=json -p '[{"op":"add","path":"/spec/template/spec/containers/0/readinessProbe/initialDelaySeconds","value":10}]'
        both() { [ "$($K get pods -n $NS -l app=agent --field-selector spec.nodeName=$NODE -o name | wc -l)" = 2 ] && [ "$(dsf agent numberAvailable)" = 1 ]; }
        check "[$V] maxSurge: old and new pod side by side, the old one still available" wait_for 20 both
        check "[$V] maxSurge: rollout status" timeout 90 $K rollout status ds/agent -n $NS --timeout=80s
        one() { [ "$(npods agent)" = 1 ]; }
        check "[$V] maxSurge: then the old pod goes" wait_for 20 one
done

# a restarted server converges without duplicates
K=$K0
before=$($K get pods -A -l app=agent -o name | sort | tr '\n' ' ')
stop_server
start_server
check "server restarted" wait_for 20 node_ready
sleep 5
after=$($K get pods -A -l app=agent -o name | sort | tr '\n' ' ')
check "no duplicate daemon pods after a restart ($after)" test "$before" = "$after"
