#!/bin/bash
# 300-controllers.sh — the controller manager through real kubectl (issue 6 item 2): a 5-replica
# Deployment reaches 5/5 Running on the real node; `kubectl set image` rolls it without dropping
# below replicas - maxUnavailable ready pods (sampled from `get deploy`); rollout status,
# history, undo (back to the previous image) and restart; a deleted pod is replaced; scaling;
# `delete --cascade=orphan` leaves RS and pods, background deletion removes them, foreground
# waits for them; a Job with completions 5 / parallelism 2 completes with at most 2 pods at a
# time, a failing one stops at backoffLimit with Failed/BackoffLimitExceeded, one matching a
# podFailurePolicy FailJob rule fails at once, an Indexed one gives each pod its index;
# Recreate with pause/resume, a ReplicationController, the default ServiceAccount, Job TTL and
# suspend, a CronJob firing in a time zone; a server killed right after a Deployment was
# created converges to exactly its replicas after the restart. Runs the Deployment part for each
# kubectl in KUBECTL_VERSIONS. Root only.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
KUBECTL_VERSIONS=${KUBECTL_VERSIONS:-"1.31 1.32"}

node_cluster ctl
lease_held() { $K0 get lease -n kube-system timonel-controller-manager -o jsonpath='{.spec.holderIdentity}' | grep -q .; }
check "controller manager holds its Lease" wait_for 10 lease_held

# pods that stop at once on SIGTERM and turn Ready 2 s after they start (so that a rollout takes
# long enough to be sampled)
deployment_yaml() { # name ns replicas image
        cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $1
  namespace: $2
spec:
  replicas: $3
  minReadySeconds: 1
  selector:
    matchLabels: {app: $1}
  template:
    metadata:
      labels: {app: $1}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: c
        image: $4
        command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"]
        readinessProbe:
          exec: {command: ["true"]}
          initialDelaySeconds: 2
          periodSeconds: 1
YAML
}
# quiet: run a command, show its output only when it fails
quiet() {
        "$@" >"$W/quiet.out" 2>&1
        local rc=$?
        [ $rc -eq 0 ] || sed 's/^/# /' "$W/quiet.out"
        return $rc
}
# running_pods ns selector — pods Running and not being deleted
running_pods() {
        $K get pods -n "$1" -l "$2" -o jsonpath='{range .items[*]}{.status.phase}{" "}{.metadata.deletionTimestamp}{"\n"}{end}' |
                grep -c '^Running $'
}

for V in $KUBECTL_VERSIONS; do
        K="/usr/lib/google-cloud-sdk/bin/kubectl.$V --kubeconfig $KC --cache-dir $W/cache-$V"
        NS=ctl-${V/./-}
        check "[$V] create namespace" quiet $K create namespace $NS
        deployment_yaml web $NS 5 busybox:1.36 >"$W/web-$V.yaml"
        out=$($K apply -f "$W/web-$V.yaml" 2>&1)
        check "[$V] apply deployment ($out)" test "$out" = "deployment.apps/web created"
        check "[$V] rollout status succeeds" quiet $K rollout status deploy/web -n $NS --timeout=90s
        five() { [ "$(running_pods $NS app=web)" = 5 ] && [ "$($K get deploy web -n $NS -o jsonpath='{.status.readyReplicas}/{.status.availableReplicas}/{.status.updatedReplicas}')" = 5/5/5 ]; }
        check "[$V] 5/5 Running, status ready/available/updated 5" wait_for 30 five
        $K get deploy,rs,pods -n $NS -o wide | sed 's/^/# /'
        rs1=$($K get rs -n $NS -o jsonpath='{.items[0].metadata.name}')
        hash=$($K get rs -n $NS -o jsonpath='{.items[0].metadata.labels.pod-template-hash}')
        check "[$V] ReplicaSet named <deploy>-<pod-template-hash> ($rs1)" test -n "$hash" -a "$rs1" = "web-$hash"
        check "[$V] RS selector carries pod-template-hash" test "$($K get rs $rs1 -n $NS -o jsonpath='{.spec.selector.matchLabels.pod-template-hash}')" = "$hash"
        ref=$($K get pods -n $NS -l app=web -o jsonpath='{.items[0].metadata.ownerReferences[0].kind}/{.items[0].metadata.ownerReferences[0].name}/{.items[0].metadata.ownerReferences[0].controller}/{.items[0].metadata.ownerReferences[0].blockOwnerDeletion}')
        check "[$V] pods owned by the RS ($ref)" test "$ref" = "ReplicaSet/$rs1/true/true"
        # as on a real cluster: the pod's managers are the component that wrote each part
        mgrs=$($K get pods -n $NS -l app=web -o jsonpath='{.items[0].metadata.managedFields[*].manager}')
        check "[$V] pod managedFields: kube-controller-manager and kubelet ($mgrs)" \
                test "$(echo $mgrs | tr ' ' '\n' | sort -u | tr '\n' ' ')" = "kube-controller-manager kubelet "
        check "[$V] revision 1" test "$($K get deploy web -n $NS -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}')" = 1

        # rolling update: sample readyReplicas while it rolls; maxUnavailable 25% of 5 = 1
        $K set image deploy/web c=docker.io/library/busybox:1.36 -n $NS >/dev/null
        : >"$W/samples-$V"
        for _ in $(seq 300); do
                s=$($K get deploy web -n $NS -o jsonpath='{.status.readyReplicas} {.status.updatedReplicas} {.status.replicas} {.status.availableReplicas}' 2>/dev/null)
                echo "$s" >>"$W/samples-$V"
                set -- $s
                [ "${2:-0}" = 5 ] && [ "${3:-0}" = 5 ] && [ "${4:-0}" = 5 ] && break
                sleep 0.2
        done
        min=$(awk '{print $1+0}' "$W/samples-$V" | sort -n | head -1)
        diag "$(wc -l <"$W/samples-$V") samples (ready updated replicas available), min ready $min: $(sort -u "$W/samples-$V" | tr '\n' ';')"
        check "[$V] never below 4 ready replicas while rolling (min $min)" test "$min" -ge 4
        check "[$V] rollout status after set image" quiet $K rollout status deploy/web -n $NS --timeout=90s
        img() { $K get pods -n $NS -l app=web -o jsonpath='{range .items[*]}{.metadata.deletionTimestamp}{" "}{.spec.containers[0].image}{"\n"}{end}' | grep -v '^[0-9]' | sort -u | tr -d ' '; }
        new_img() { [ "$(img)" = docker.io/library/busybox:1.36 ] && [ "$(running_pods $NS app=web)" = 5 ]; }
        check "[$V] 5 pods run the new image" wait_for 30 new_img
        check "[$V] revision 2" test "$($K get deploy web -n $NS -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}')" = 2
        $K rollout history deploy/web -n $NS >"$W/hist-$V" 2>&1
        sed 's/^/# /' "$W/hist-$V"
        check "[$V] rollout history lists revisions 1 and 2" bash -c "grep -Eq '^1 ' $W/hist-$V && grep -Eq '^2 ' $W/hist-$V"
        check "[$V] old RS scaled to 0" test "$($K get rs $rs1 -n $NS -o jsonpath='{.spec.replicas}')" = 0

        out=$($K rollout undo deploy/web -n $NS 2>&1)
        check "[$V] rollout undo ($out)" test "$out" = "deployment.apps/web rolled back"
        check "[$V] rollout status after undo" quiet $K rollout status deploy/web -n $NS --timeout=90s
        old_img() { [ "$(img)" = busybox:1.36 ] && [ "$(running_pods $NS app=web)" = 5 ]; }
        check "[$V] undo returns to the previous image" wait_for 30 old_img
        check "[$V] undo reuses the first RS ($rs1 has 5)" test "$($K get rs $rs1 -n $NS -o jsonpath='{.spec.replicas}')" = 5
        check "[$V] undo makes revision 3" test "$($K get deploy web -n $NS -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}')" = 3

        check "[$V] rollout restart" quiet $K rollout restart deploy/web -n $NS
        check "[$V] rollout status after restart" quiet $K rollout status deploy/web -n $NS --timeout=90s
        nrs() { [ "$($K get rs -n $NS --no-headers | wc -l)" = 3 ]; }
        check "[$V] restart made a third RS" wait_for 10 nrs
        progressing=$($K get deploy web -n $NS -o jsonpath='{.status.conditions[?(@.type=="Progressing")].reason}/{.status.conditions[?(@.type=="Available")].reason}')
        check "[$V] conditions NewReplicaSetAvailable/MinimumReplicasAvailable ($progressing)" test "$progressing" = NewReplicaSetAvailable/MinimumReplicasAvailable

        # a deleted pod is replaced
        check "[$V] settled at 5 pods" wait_for 30 bash -c "[ \$($K get pods -n $NS -l app=web --no-headers | wc -l) = 5 ]"
        victim=$($K get pods -n $NS -l app=web -o jsonpath='{.items[0].metadata.name}')
        $K delete pod "$victim" -n $NS --wait=false >/dev/null
        replaced() { [ "$(running_pods $NS app=web)" = 5 ] && ! $K get pods -n $NS --no-headers | grep -q "^$victim .*Running"; }
        check "[$V] deleted pod $victim replaced" wait_for 30 replaced

        # scale down
        $K scale deploy/web -n $NS --replicas=3 >/dev/null
        three() { [ "$(running_pods $NS app=web)" = 3 ] && [ "$($K get deploy web -n $NS -o jsonpath='{.status.readyReplicas}')" = 3 ]; }
        check "[$V] scaled to 3" wait_for 30 three

        # --cascade=orphan keeps the RS and the pods, without ownerReferences to the deployment
        check "[$V] delete --cascade=orphan" quiet $K delete deploy web -n $NS --cascade=orphan --timeout=30s
        sleep 3
        check "[$V] orphaned pods keep running" test "$(running_pods $NS app=web)" = 3
        cur=$($K get rs -n $NS -o jsonpath='{range .items[?(@.spec.replicas==3)]}{.metadata.name}{end}')
        check "[$V] orphaned RS $cur left without owner" test -n "$cur" -a -z "$($K get rs "$cur" -n $NS -o jsonpath='{.metadata.ownerReferences}')"
        # background: deleting the RS deletes its pods
        $K delete rs --all -n $NS >/dev/null
        gone() { [ "$($K get pods -n $NS -l app=web --no-headers 2>/dev/null | wc -l)" = 0 ]; }
        check "[$V] background deletion removes the pods" wait_for 40 gone

        # foreground: delete returns once RS and pods are gone
        deployment_yaml fg $NS 2 busybox:1.36 | $K apply -f - >/dev/null
        check "[$V] second deployment rolled out" quiet $K rollout status deploy/fg -n $NS --timeout=90s
        check "[$V] delete --cascade=foreground" quiet $K delete deploy fg -n $NS --cascade=foreground --timeout=60s
        check "[$V] foreground deletion left no RS" test -z "$($K get rs -n $NS -l app=fg -o name)"
        check "[$V] foreground deletion left no pods" test -z "$($K get pods -n $NS -l app=fg -o name)"
done

K=$K0
NS=jobs
check "create namespace $NS" quiet $K create namespace $NS
cat >"$W/jobs.yaml" <<YAML
apiVersion: batch/v1
kind: Job
metadata:
  name: ok
  namespace: $NS
spec:
  completions: 5
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: c
        image: busybox:1.36
        command: ["sh", "-c", "sleep 2"]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: bad
  namespace: $NS
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: c
        image: busybox:1.36
        command: ["sh", "-c", "exit 3"]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: pfp
  namespace: $NS
spec:
  backoffLimit: 5
  podFailurePolicy:
    rules:
    - action: FailJob
      onExitCodes: {containerName: main, operator: In, values: [42]}
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: main
        image: busybox:1.36
        command: ["sh", "-c", "exit 42"]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: idx
  namespace: $NS
spec:
  completions: 3
  parallelism: 3
  completionMode: Indexed
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: c
        image: busybox:1.36
        command: ["sh", "-c", "echo index=\$JOB_COMPLETION_INDEX"]
YAML
check "apply jobs" quiet $K apply -f "$W/jobs.yaml"
: >"$W/active"
for _ in $(seq 150); do
        a=$($K get pods -n $NS -l job-name=ok -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' | grep -c -E '^(Pending|Running)$')
        echo "$a" >>"$W/active"
        [ "$($K get job ok -n $NS -o jsonpath='{.status.succeeded}')" = 5 ] && break
        sleep 0.2
done
check "job ok: Complete" quiet $K wait --for=condition=complete job/ok -n $NS --timeout=60s
st=$($K get job ok -n $NS -o jsonpath='{.status.succeeded}/{.status.failed}/{.status.active}')
check "job ok: succeeded 5, failed 0, active 0 ($st)" test "$st" = 5/0/0
maxa=$(sort -n "$W/active" | tail -1)
check "job ok: at most parallelism 2 pods at a time (max $maxa)" test "$maxa" -le 2
check "job ok: 5 pods, all Succeeded" test "$($K get pods -n $NS -l job-name=ok -o jsonpath='{range .items[*]}{.status.phase}{"\n"}{end}' | grep -c Succeeded)" = 5
check "job ok: SuccessCriteriaMet CompletionsReached" test "$($K get job ok -n $NS -o jsonpath='{.status.conditions[?(@.type=="SuccessCriteriaMet")].reason}')" = CompletionsReached
check "job ok: completionTime set" test -n "$($K get job ok -n $NS -o jsonpath='{.status.completionTime}')"
check "job pods lose the tracking finalizer" test -z "$($K get pods -n $NS -l job-name=ok -o jsonpath='{.items[*].metadata.finalizers}')"

check "job bad: Failed" quiet $K wait --for=condition=failed job/bad -n $NS --timeout=90s
reason=$($K get job bad -n $NS -o jsonpath='{.status.conditions[?(@.type=="Failed")].reason}')
check "job bad: reason BackoffLimitExceeded ($reason)" test "$reason" = BackoffLimitExceeded
check "job bad: FailureTarget recorded first" test "$($K get job bad -n $NS -o jsonpath='{.status.conditions[0].type}')" = FailureTarget
st=$($K get job bad -n $NS -o jsonpath='{.status.failed}')
check "job bad: failed = backoffLimit + 1 ($st)" test "$st" = 2
# backoffLimit 1 with restartPolicy Never: exactly two pods, never a third one created from a
# cached Job older than the controller's own status write
nbad=$($K get pods -n $NS -l job-name=bad --no-headers | wc -l)
check "job bad: exactly backoffLimit + 1 pods ($nbad)" test "$nbad" = 2

check "job pfp: Failed at the first failure" quiet $K wait --for=condition=failed job/pfp -n $NS --timeout=60s
pfp=$($K get job pfp -n $NS -o jsonpath='{.status.failed} {.status.conditions[?(@.type=="Failed")].reason}')
check "job pfp: reason PodFailurePolicy, 1 failure ($pfp)" test "$pfp" = "1 PodFailurePolicy"
msg=$($K get job pfp -n $NS -o jsonpath='{.status.conditions[?(@.type=="Failed")].message}')
check "job pfp: message names the rule ($msg)" grep -Eq '^Container main for pod jobs/pfp-[a-z0-9]+ failed with exit code 42 matching FailJob rule at index 0$' <<<"$msg"
check "job idx: Complete" quiet $K wait --for=condition=complete job/idx -n $NS --timeout=60s
check "job idx: completedIndexes 0-2" test "$($K get job idx -n $NS -o jsonpath='{.status.completedIndexes}')" = 0-2
for i in 0 1 2; do
        p=$($K get pods -n $NS -l job-name=idx,batch.kubernetes.io/job-completion-index=$i -o jsonpath='{.items[0].metadata.name}')
        check "job idx: pod $p prints index=$i" bash -c "$K logs $p -n $NS | grep -qx index=$i"
done

# Recreate with pause/resume: nothing rolls while paused; old pods go before new ones start
NS=more
check "create namespace $NS" quiet $K create namespace $NS
sa() { $K get serviceaccount default -n $NS >/dev/null 2>&1; }
check "a new namespace gets its default ServiceAccount" wait_for 10 sa
deployment_yaml rec $NS 2 busybox:1.36 | sed 's/^spec:$/spec:\n  strategy: {type: Recreate}/' >"$W/rec.yaml"
check "Recreate deployment" quiet $K apply -f "$W/rec.yaml"
check "Recreate rolled out" quiet $K rollout status deploy/rec -n $NS --timeout=60s
check "rollout pause" quiet $K rollout pause deploy/rec -n $NS
check "set image while paused" quiet $K set image deploy/rec c=docker.io/library/busybox:1.36 -n $NS
sleep 2
check "paused: no new ReplicaSet" test "$($K get rs -n $NS -l app=rec --no-headers | wc -l)" = 1
check "paused: Progressing reason DeploymentPaused" test "$($K get deploy rec -n $NS -o jsonpath='{.status.conditions[?(@.type=="Progressing")].reason}')" = DeploymentPaused
: >"$W/rec-samples"
$K rollout resume deploy/rec -n $NS >/dev/null
for _ in $(seq 200); do
        $K get pods -n $NS -l app=rec -o jsonpath='{range .items[*]}{.spec.containers[0].image}{" "}{.status.phase}{"\n"}{end}' | sort -u | tr '\n' ';' >>"$W/rec-samples"
        echo >>"$W/rec-samples"
        [ "$($K get deploy rec -n $NS -o jsonpath='{.status.updatedReplicas}/{.status.availableReplicas}/{.status.replicas}')" = 2/2/2 ] && break
        sleep 0.2
done
check "resumed Recreate rolled out" quiet $K rollout status deploy/rec -n $NS --timeout=60s
mixed=$(grep -c 'busybox:1.36 Running.*docker.io/library/busybox:1.36 Running\|docker.io/library/busybox:1.36 Running.*busybox:1.36 Running' "$W/rec-samples")
check "Recreate never ran old and new pods together ($mixed mixed samples)" test "$mixed" = 0
# a ReplicationController keeps its pods (selector defaulted from the template labels)
cat >"$W/rc.yaml" <<YAML
apiVersion: v1
kind: ReplicationController
metadata: {name: rc, namespace: $NS}
spec:
  replicas: 2
  template:
    metadata: {labels: {app: rc}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: c, image: busybox:1.36, command: ["sleep", "3600"]}]
YAML
check "apply ReplicationController" quiet $K apply -f "$W/rc.yaml"
rc_two() { [ "$(running_pods $NS app=rc)" = 2 ]; }
check "ReplicationController runs 2 pods" wait_for 30 rc_two
check "... owned by it" test "$($K get pods -n $NS -l app=rc -o jsonpath='{.items[0].metadata.ownerReferences[0].kind}')" = ReplicationController
check "delete the ReplicationController" quiet $K delete rc rc -n $NS
rc_gone() { [ -z "$($K get pods -n $NS -l app=rc -o name)" ]; }
check "its pods are collected" wait_for 30 rc_gone
# a Job with ttlSecondsAfterFinished goes away with its pods; a suspended Job starts on resume
cat >"$W/more-jobs.yaml" <<YAML
apiVersion: batch/v1
kind: Job
metadata: {name: ttl, namespace: $NS}
spec:
  ttlSecondsAfterFinished: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox:1.36, command: ["true"]}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: sus, namespace: $NS}
spec:
  suspend: true
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox:1.36, command: ["true"]}]
YAML
check "apply ttl and suspended jobs" quiet $K apply -f "$W/more-jobs.yaml"
ttl_gone() { ! $K get job ttl -n $NS >/dev/null 2>&1 && [ -z "$($K get pods -n $NS -l job-name=ttl -o name)" ]; }
check "finished job deleted after ttlSecondsAfterFinished, pods too" wait_for 30 ttl_gone
check "suspended job: Suspended condition" test "$($K get job sus -n $NS -o jsonpath='{.status.conditions[?(@.type=="Suspended")].status}')" = True
check "suspended job: no pods" test -z "$($K get pods -n $NS -l job-name=sus -o name)"
check "resume the job" quiet $K patch job sus -n $NS -p '{"spec":{"suspend":false}}'
check "resumed job completes" quiet $K wait --for=condition=complete job/sus -n $NS --timeout=60s
# deleting a running Job: its tracked pods lose the finalizer and go (background) or stay (orphan)
for mode in background orphan; do
        cat <<YAML | quiet $K apply -f -
apiVersion: batch/v1
kind: Job
metadata: {name: long-$mode, namespace: $NS}
spec:
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers: [{name: c, image: busybox:1.36, command: ["sleep", "3600"]}]
YAML
        up() { [ "$(running_pods $NS job-name=long-$mode)" = 1 ]; }
        check "running job ($mode) has its pod" wait_for 30 up
        check "delete the running job --cascade=$mode" quiet $K delete job long-$mode -n $NS --cascade=$mode
done
bg_gone() { [ -z "$($K get pods -n $NS -l job-name=long-background -o name)" ]; }
check "background: the job's pod is gone" wait_for 30 bg_gone
orphan_free() { [ "$(running_pods $NS job-name=long-orphan)" = 1 ] && [ -z "$($K get pods -n $NS -l job-name=long-orphan -o jsonpath='{.items[0].metadata.finalizers}')" ]; }
check "orphan: the pod keeps running without the tracking finalizer" wait_for 30 orphan_free
# a CronJob fires (every 5 s, on Berlin's wall clock), names its job <cronjob>-<minutes>
cat >"$W/cron.yaml" <<YAML
apiVersion: batch/v1
kind: CronJob
metadata: {name: tick, namespace: $NS}
spec:
  schedule: "@every 5s"
  timeZone: Europe/Berlin
  successfulJobsHistoryLimit: 1
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: Never
          containers: [{name: c, image: busybox:1.36, command: ["true"]}]
YAML
check "apply cronjob" quiet $K apply -f "$W/cron.yaml"
fired() { $K get jobs -n $NS -o name | grep -q '^job.batch/tick-[0-9]*$'; }
check "CronJob fired a Job" wait_for 30 fired
check "CronJob lastScheduleTime set" wait_for 10 bash -c "[ -n \"\$($K get cronjob tick -n $NS -o jsonpath='{.status.lastScheduleTime}')\" ]"
tsa=$($K get jobs -n $NS -o jsonpath='{.items[?(@.metadata.ownerReferences[0].kind=="CronJob")].metadata.annotations.batch\.kubernetes\.io/cronjob-scheduled-timestamp}')
check "scheduled-timestamp annotation in Berlin time ($tsa)" grep -Eq '\+0[12]:00' <<<"$tsa"
check "suspend the CronJob" quiet $K patch cronjob tick -n $NS -p '{"spec":{"suspend":true}}'

# kill -9 right after a Deployment is created: after the restart exactly 4 pods, one RS
NS=crash
check "create namespace $NS" quiet $K create namespace $NS
deployment_yaml crash $NS 4 busybox:1.36 | $K apply -f - >/dev/null
sleep 0.3
stop_server KILL
start_server
check "API back after kill -9" wait_for 20 $K get --raw /readyz
check "Deployment converges after the restart" quiet $K rollout status deploy/crash -n $NS --timeout=90s
sleep 3
n=$($K get pods -n $NS -l app=crash --no-headers | wc -l)
check "exactly 4 pods after the restart ($n)" test "$n" = 4
check "one ReplicaSet after the restart" test "$($K get rs -n $NS --no-headers | wc -l)" = 1

grep -E ' [EW] (controller-manager|replicaset|deployment|job|garbage)' "$LOG" | tail -5 | sed 's/^/# /'
stop_server
"$TIMONEL" killall --data-dir "$D" >/dev/null 2>&1
check "killall leaves no conmon" bash -c "! pgrep -f '[c]onmon.*$D' >/dev/null"
