#!/bin/bash
# 100-skeleton-kubectl.sh — the walking skeleton through real kubectl (issue 2's "Done when"):
# a server on a fresh data dir, a busybox image imported from a `docker save` tarball, a pod
# applied, Running, logs, watch, unchanged re-apply, errors, restart with adoption, delete, and
# bad input that changes nothing. Runs for each kubectl version in KUBECTL_VERSIONS. Root only.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
KUBECTL_VERSIONS=${KUBECTL_VERSIONS:-"1.31 1.32"}

W=$(mktemp -d /tmp/timonel-e2e-skel.XXXXXX)
D=$W/data
PORT=$(free_port)
KPORT=$(free_port)
KC=$D/kc.yaml
LOG=$W/server.log
SERVER_PID=
on_exit "rm -rf $W"
on_exit "$TIMONEL killall --data-dir $D"
on_exit 'stop_server'

start_server() {
        "$TIMONEL" server --data-dir "$D" --https-listen-port "$PORT" --kubelet-port "$KPORT" \
                --write-kubeconfig "$KC" >>"$LOG" 2>&1 &
        SERVER_PID=$!
}
stop_server() {
        [ -n "$SERVER_PID" ] || return 0
        kill -TERM "$SERVER_PID" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
        SERVER_PID=
}

# images: a busybox:1.36 `docker save` tarball built offline from busybox-static
bash "$ROOT/tests/data/images/make-busybox-tars.sh" "$W/img" >"$W/img.log" 2>&1
check "test image tarballs built" test -s "$W/img/busybox-docker.tar"
check "image import of a docker save tarball" "$TIMONEL" image import --data-dir "$D" "$W/img/busybox-docker.tar"

start_server
diag "server pid $SERVER_PID, API port $PORT, kubelet port $KPORT"
check "kubeconfig written" wait_for 10 test -s "$KC"

for V in $KUBECTL_VERSIONS; do
        K="/usr/lib/google-cloud-sdk/bin/kubectl.$V --kubeconfig $KC --cache-dir $W/cache-$V"
        NS=e2e-${V/./-}
        POD=web
        node_ready() { $K get nodes --no-headers | grep -q ' Ready '; }
        check "[$V] node Ready within 10 s" wait_for 10 node_ready
        $K get nodes -o wide | sed 's/^/# /'

        check "[$V] create namespace" $K create namespace $NS
        cat >"$W/pod-$V.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $POD
  namespace: $NS
  labels:
    app: web
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c"]
    args: ["echo hello from \$GREETING; i=0; while true; do i=\$((i+1)); echo tick \$i; sleep 1; done"]
    env:
    - name: GREETING
      value: timonel
YAML
        # a watch running across the pod's life
        $K get pods -n $NS -w >"$W/watch-$V.out" 2>&1 &
        WATCH_PID=$!
        out=$($K apply -f "$W/pod-$V.yaml" 2>&1)
        check "[$V] apply creates the pod ($out)" test "$out" = "pod/$POD created"
        running() { [ "$($K get pod $POD -n $NS -o jsonpath='{.status.phase}')" = Running ]; }
        check "[$V] pod reaches Running" wait_for 30 running
        $K get pods -n $NS -o wide | sed 's/^/# /'
        check "[$V] get pods shows 1/1 Running" bash -c "$K get pods -n $NS --no-headers | grep -E '^$POD +1/1 +Running +0 '"
        has_logs() { $K logs $POD -n $NS | grep -q 'hello from timonel'; }
        check "[$V] logs show the output" wait_for 10 has_logs
        check "[$V] logs --tail=1 shows one line" bash -c "[ \$($K logs $POD -n $NS --tail=1 | wc -l) -eq 1 ]"
        check "[$V] logs --timestamps prefixes RFC3339" bash -c "$K logs $POD -n $NS --tail=1 --timestamps | grep -Eq '^20[0-9-]+T[0-9:.]+Z tick'"
        timeout 3 $K logs -f $POD -n $NS >"$W/follow-$V.out" 2>&1
        n1=$(grep -c tick "$W/follow-$V.out")
        check "[$V] logs -f streams new lines ($n1 ticks)" test "$n1" -ge 2
        out=$($K apply -f "$W/pod-$V.yaml" 2>&1)
        check "[$V] second apply says unchanged ($out)" test "$out" = "pod/$POD unchanged"

        # errors as kubectl prints them for a real cluster
        out=$($K get pod nosuch -n $NS 2>&1)
        check "[$V] NotFound ($out)" test "$out" = 'Error from server (NotFound): pods "nosuch" not found'
        out=$($K create -f "$W/pod-$V.yaml" 2>&1)
        check "[$V] AlreadyExists ($out)" test "$out" = "Error from server (AlreadyExists): error when creating \"$W/pod-$V.yaml\": pods \"$POD\" already exists"
        sed "s/name: $POD\$/name: Bad_Name/" "$W/pod-$V.yaml" >"$W/bad-$V.yaml"
        out=$($K apply -f "$W/bad-$V.yaml" 2>&1)
        printf '%s\n' "$out" >"$W/invalid-$V.out"
        sed 's/^/# /' "$W/invalid-$V.out"
        check "[$V] Invalid: header as kubectl prints it" grep -q 'The Pod "Bad_Name" is invalid:' "$W/invalid-$V.out"
        # one cause prints on the header line, several as "* field: message" lines (kubectl's format)
        check "[$V] Invalid: metadata.name cause" grep -q 'metadata.name: Invalid value: "Bad_Name"' "$W/invalid-$V.out"

        if [ "$V" = "${KUBECTL_VERSIONS##* }" ]; then
                # server restart: objects kept, the running pod adopted (same container, no restart)
                cid1=$($K get pod $POD -n $NS -o jsonpath='{.status.containerStatuses[0].containerID}')
                stop_server
                start_server
                check "[$V] API back after restart" wait_for 20 $K get --raw /readyz
                check "[$V] namespace kept after restart" $K get namespace $NS
                check "[$V] node Ready after restart" wait_for 15 node_ready
                sleep 2
                cid2=$($K get pod $POD -n $NS -o jsonpath='{.status.containerStatuses[0].containerID}')
                rc=$($K get pod $POD -n $NS -o jsonpath='{.status.containerStatuses[0].restartCount}')
                check "[$V] pod adopted, not restarted ($cid1 -> $cid2, restarts $rc)" test -n "$cid1" -a "$cid1" = "$cid2" -a "$rc" = 0
                check "[$V] still Running after restart" running
                # a server restart ends watch streams (kubectl get -w then exits): watch again
                kill $WATCH_PID 2>/dev/null; wait $WATCH_PID 2>/dev/null
                $K get pods -n $NS -w >>"$W/watch-$V.out" 2>&1 &
                WATCH_PID=$!
                sleep 1
        fi

        cid=$($K get pod $POD -n $NS -o jsonpath='{.status.containerStatuses[0].containerID}')
        cid=${cid#*://}
        out=$($K delete pod $POD -n $NS 2>&1)
        check "[$V] delete pod ($out)" test "$out" = "pod \"$POD\" deleted"
        check "[$V] container gone when delete returns" bash -c "! pgrep -f '[c]onmon.*$cid' >/dev/null"
        sleep 1
        kill $WATCH_PID 2>/dev/null; wait $WATCH_PID 2>/dev/null
        sed 's/^/# watch: /' "$W/watch-$V.out"
        check "[$V] get -w streamed Pending/ContainerCreating" grep -Eq "^$POD +0/1 +(Pending|ContainerCreating)" "$W/watch-$V.out"
        check "[$V] get -w streamed Running" grep -Eq "^$POD +1/1 +Running" "$W/watch-$V.out"
        check "[$V] get -w streamed the termination" grep -Eq "^$POD +[01]/1 +(Terminating|Completed|Error)" "$W/watch-$V.out"
        check "[$V] delete namespace" $K delete namespace $NS --wait=false
done

# bad input over raw HTTPS: right 4xx and nothing changes
K="/usr/lib/google-cloud-sdk/bin/kubectl.1.32 --kubeconfig $KC --cache-dir $W/cache-raw"
CA=$D/server/tls/ca.crt CRT=$D/server/tls/admin.crt KEY=$D/server/tls/admin.key
api() { curl -s -o "$W/resp" -w '%{http_code}' --cacert $CA --cert $CRT --key $KEY "$@"; }
before=$($K get configmaps -A -o name | sort | md5sum)
code=$(api -X POST -H 'Content-Type: application/json' --data '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"' https://127.0.0.1:$PORT/api/v1/namespaces/default/configmaps)
check "malformed JSON -> 400 ($code)" test "$code" = 400
code=$(api -X POST -H 'Content-Type: application/yaml' --data-binary $'apiVersion: v1\nkind: ConfigMap\nmetadata: [name: x\n' https://127.0.0.1:$PORT/api/v1/namespaces/default/configmaps)
check "malformed YAML -> 400 ($code)" test "$code" = 400
code=$(api -X POST -H 'Content-Type: application/json' --data '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name"}}' https://127.0.0.1:$PORT/api/v1/namespaces/default/configmaps)
check "invalid name -> 422 ($code)" test "$code" = 422
code=$(api https://127.0.0.1:$PORT/api/v1/namespaces/default/widgets)
check "unknown resource -> 404 ($code)" test "$code" = 404
out=$(printf 'apiVersion: v1\nkind: Widget\nmetadata:\n  name: w\n' | $K apply -f - 2>&1)
check "unknown kind via kubectl fails ($out)" grep -q 'no matches for kind "Widget"' <<<"$out"
head -c $((3 * 1024 * 1024 + 100)) /dev/zero | tr '\0' 'a' >"$W/big"
code=$(api -X POST -H 'Content-Type: application/json' --data-binary @"$W/big" https://127.0.0.1:$PORT/api/v1/namespaces/default/configmaps)
check "oversized body -> 413 ($code)" test "$code" = 413
code=$(curl -s -o /dev/null -w '%{http_code}' --cacert $CA https://127.0.0.1:$PORT/api/v1/pods)
check "anonymous request -> 401 ($code)" test "$code" = 401
after=$($K get configmaps -A -o name | sort | md5sum)
check "bad input changed nothing" test "$before" = "$after"

# bad image tarballs: one clear line, store unchanged
ls -R "$D/agent/images" >"$W/images-before" 2>/dev/null
head -c 100000 "$W/img/busybox-docker.tar" >"$W/trunc.tar"
"$TIMONEL" image import --data-dir "$D" "$W/trunc.tar" >"$W/imp.out" 2>"$W/imp.err"
rc=$?
check "truncated tarball fails with one line (rc $rc: $(head -c 200 $W/imp.err))" test $rc -ne 0 -a "$(wc -l <"$W/imp.err")" -eq 1
head -c 5000 /dev/urandom >"$W/junk.tar"
"$TIMONEL" image import --data-dir "$D" "$W/junk.tar" 2>"$W/imp.err"
rc=$?
check "random bytes fail with one line (rc $rc)" test $rc -ne 0 -a "$(wc -l <"$W/imp.err")" -eq 1
ls -R "$D/agent/images" >"$W/images-after" 2>/dev/null
check "image store unchanged by bad tarballs" cmp -s "$W/images-before" "$W/images-after"

stop_server
"$TIMONEL" killall --data-dir "$D" >/dev/null 2>&1
check "killall leaves no mounts" bash -c "! grep -q '$D' /proc/mounts"
check "killall leaves no conmon" bash -c "! pgrep -f '[c]onmon.*$D' >/dev/null"
