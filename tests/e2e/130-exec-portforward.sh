#!/bin/bash
# 130-exec-portforward.sh — kubectl exec / attach / cp / port-forward through the API server to
# the kubelet (issue 4 item 6, issue 5 item 6), for each kubectl version in KUBECTL_VERSIONS:
# 1.27-1.29 speak SPDY/3.1 for exec, 1.30+ WebSocket v5.channel.k8s.io; port-forward is plain
# SPDY/3.1 up to 1.30 and SPDY tunnelled in WebSocket from 1.31. Expectations from Kubernetes'
# documented behaviour: `command terminated with exit code N` and exit status N, stdin/stdout
# byte-exact, the tty's window size as the client's, one forwarded connection per TCP client.
# Root only; loopback and the cluster's own pod network only.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
KUBECTL_VERSIONS=${KUBECTL_VERSIONS:-"1.27 1.29 1.31 1.32 1.33"}

W=$(mktemp -d /tmp/timonel-e2e-exec.XXXXXX)
D=$W/data
PORT=$(free_port)
KPORT=$(free_port)
KC=$D/kc.yaml
LOG=$W/server.log
SERVER_PID=
PF_PID=
on_exit "rm -rf $W"
on_exit "$TIMONEL killall --data-dir $D"
on_exit 'stop_server'
on_exit '[ -n "$PF_PID" ] && kill $PF_PID'

stop_server() {
        [ -n "$SERVER_PID" ] || return 0
        kill -TERM "$SERVER_PID" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
        SERVER_PID=
}

bash "$ROOT/tests/data/images/make-busybox-tars.sh" "$W/img" >"$W/img.log" 2>&1
check "test image tarballs built" test -s "$W/img/busybox-docker.tar"
check "image import" "$TIMONEL" image import --data-dir "$D" "$W/img/busybox-docker.tar"

"$TIMONEL" server --data-dir "$D" --https-listen-port "$PORT" --kubelet-port "$KPORT" \
        --write-kubeconfig "$KC" >>"$LOG" 2>&1 &
SERVER_PID=$!
diag "server pid $SERVER_PID, API port $PORT, kubelet port $KPORT"
check "kubeconfig written" wait_for 10 test -s "$KC"

K0="/usr/lib/google-cloud-sdk/bin/kubectl.1.32 --kubeconfig $KC --cache-dir $W/cache-0"
node_ready() { $K0 get nodes --no-headers | grep -q ' Ready '; }
check "node Ready" wait_for 15 node_ready
NS=e2e-exec
$K0 create namespace $NS >/dev/null
cat >"$W/pods.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: web
  namespace: $NS
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: httpd
    image: busybox:1.36
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-web > /www/index.html && exec httpd -f -p 8080 -h /www"]
---
apiVersion: v1
kind: Pod
metadata:
  name: ticker
  namespace: $NS
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh", "-c", "i=0; while true; do i=\$((i+1)); echo tick \$i; sleep 0.2; done"]
---
apiVersion: v1
kind: Pod
metadata:
  name: interactive
  namespace: $NS
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox:1.36
    command: ["sh"]
    stdin: true
    tty: true
YAML
check "pods created" $K0 apply -f "$W/pods.yaml"
running() { [ "$($K0 get pod "$1" -n $NS -o jsonpath='{.status.phase}')" = Running ]; }
check "pod web Running" wait_for 30 running web
check "pod ticker Running" wait_for 30 running ticker
check "pod interactive Running" wait_for 30 running interactive
# kubectl cp needs tar in the container: busybox has the applet, the test image no link for it
$K0 exec -n $NS web -- ln -sf /bin/busybox /bin/tar
head -c 4194304 /dev/urandom >"$W/in4m"
head -c 67108864 /dev/urandom >"$W/in64m"
head -c 300000 /dev/urandom >"$W/cpfile"

for V in $KUBECTL_VERSIONS; do
        K="/usr/lib/google-cloud-sdk/bin/kubectl.$V --kubeconfig $KC --cache-dir $W/cache-$V -n $NS"
        out=$(timeout 20 $K exec web -- echo hi 2>&1)
        check "[$V] exec echo hi prints hi ($out)" test "$out" = hi

        out=$(timeout 20 $K exec web -- sh -c 'echo to-out; echo to-err >&2; exit 3' 2>"$W/err-$V")
        rc=$?
        check "[$V] exec exits 3 (rc $rc)" test $rc = 3
        check "[$V] stdout of the failing command" test "$out" = to-out
        check "[$V] stderr has the command's output" grep -qx to-err "$W/err-$V"
        check "[$V] 'command terminated with exit code 3'" \
                grep -qx 'command terminated with exit code 3' "$W/err-$V"

        t0=$(date +%s%N)
        timeout 60 $K exec -i web -- cat <"$W/in4m" >"$W/out4m-$V" 2>"$W/cat-err-$V"
        rc=$?
        t1=$(date +%s%N)
        check "[$V] exec -i cat of 4 MiB exits 0 (rc $rc)" test $rc = 0
        check "[$V] 4 MiB through stdin/stdout byte-identical" cmp -s "$W/in4m" "$W/out4m-$V"
        ms=$(((t1 - t0) / 1000000))
        diag "[$V] exec -i cat 4 MiB: $ms ms ($(awk "BEGIN{printf \"%.1f\", 4 / ($ms / 1000)}") MB/s incl. kubectl start)"
        # 64 MiB: long enough for every back-pressure path (kubelet stdin pause, relay queues)
        t0=$(date +%s%N)
        timeout 120 $K exec -i web -- cat <"$W/in64m" | cmp -s - "$W/in64m"
        rc=$?
        t1=$(date +%s%N)
        ms=$(((t1 - t0) / 1000000))
        check "[$V] 64 MiB through exec -i cat byte-identical" test $rc = 0
        diag "[$V] exec -i cat 64 MiB: $ms ms ($(awk "BEGIN{printf \"%.1f\", 64 / ($ms / 1000)}") MB/s)"

        out=$(timeout 20 script -qec "stty cols 123 rows 45; $K exec -it web -- busybox stty size" /dev/null </dev/null | tr -d '\r' | tr -d '^@')
        check "[$V] exec -it: the pty has the client's window size ($out)" test "$out" = "45 123"

        # an interactive shell: keystrokes in, output and the exit code out
        (sleep 2; printf 'echo A$((40+2))B\r'; sleep 1; printf 'exit 7\r'; sleep 1) |
                timeout 20 script -qec "$K exec -it web -- sh" /dev/null >"$W/tty-$V" 2>&1
        check "[$V] exec -it sh runs typed commands" grep -q 'A42B' "$W/tty-$V"
        check "[$V] exec -it sh reports exit code 7" grep -q 'command terminated with exit code 7' "$W/tty-$V"

        check "[$V] cp a file into the pod" timeout 30 $K cp "$W/cpfile" web:/tmp/cpfile-$V
        rm -f "$W/cpback-$V"
        timeout 30 $K cp web:/tmp/cpfile-$V "$W/cpback-$V" >/dev/null 2>&1
        check "[$V] cp it back out, identical" cmp -s "$W/cpfile" "$W/cpback-$V"

        out=$(timeout 3 $K attach ticker 2>/dev/null | grep -c '^tick ')
        check "[$V] attach streams the container's output ($out lines)" test "${out:-0}" -ge 3

        # attach -it to a stdin+tty container: keystrokes reach its shell, the pty has our size;
        # the input pipe stays open past the timeout (an EOF would type ^D and end the shell)
        (sleep 2; printf 'echo B$((40+3))C\r'; sleep 1; printf 'busybox stty size\r'; sleep 10) |
                timeout 6 script -qc "stty cols 99 rows 33; $K attach -it interactive" /dev/null \
                        >"$W/attach-$V" 2>&1
        check "[$V] attach -it: typed command runs in the container" grep -qa 'B43C' "$W/attach-$V"
        check "[$V] attach -it: the container's pty has the client's size" \
                grep -qa '^33 99' "$W/attach-$V"

        LP=$(free_port)
        $K port-forward pod/web "$LP:8080" >"$W/pf-$V.log" 2>&1 &
        PF_PID=$!
        pf_up() { grep -q "Forwarding from 127.0.0.1:$LP" "$W/pf-$V.log"; }
        check "[$V] port-forward listening" wait_for 10 pf_up
        curl -s --max-time 10 "http://127.0.0.1:$LP/" >"$W/c1-$V" &
        C1=$!
        curl -s --max-time 10 "http://127.0.0.1:$LP/" >"$W/c2-$V" &
        C2=$!
        wait $C1 $C2
        check "[$V] port-forward: first of two concurrent curls gets the page" grep -qx hello-from-web "$W/c1-$V"
        check "[$V] port-forward: second concurrent curl gets the page" grep -qx hello-from-web "$W/c2-$V"
        out=$(curl -s --max-time 10 "http://127.0.0.1:$LP/")
        check "[$V] port-forward: a third, later connection works" test "$out" = hello-from-web
        kill $PF_PID 2>/dev/null
        wait $PF_PID 2>/dev/null
        PF_PID=

        # errors come back as Kubernetes reports them
        out=$(timeout 20 $K exec web -c nope -- true 2>&1)
        check "[$V] exec into an unknown container: 400 message ($out)" \
                grep -q 'container nope is not valid for pod web' <<<"$out"
        out=$(timeout 20 $K exec missing -- true 2>&1)
        check "[$V] exec into a missing pod: NotFound ($out)" grep -q 'pods "missing" not found' <<<"$out"
done

# the official Python client (python3-kubernetes): exec over WebSocket v4.channel.k8s.io, and
# port-forward over its WebSocket protocol (?ports=, channel 2i data / 2i+1 errors)
if /usr/bin/python3 -c 'import kubernetes' 2>/dev/null; then
        cat >"$W/pyclient.py" <<PY
import sys
from kubernetes import client, config
from kubernetes.stream import stream, portforward
config.load_kube_config("$KC")
api = client.CoreV1Api()
out = stream(api.connect_get_namespaced_pod_exec, "web", "$NS", command=["sh", "-c", "echo py-out"],
             stderr=True, stdin=False, stdout=True, tty=False)
print("exec:" + out.strip())
r = stream(api.connect_get_namespaced_pod_exec, "web", "$NS", command=["sh", "-c", "exit 4"],
           stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
r.run_forever(timeout=10)
print("rc:%s" % r.returncode)
pf = portforward(api.connect_get_namespaced_pod_portforward, "web", "$NS", ports="8080")
s = pf.socket(8080)
s.setblocking(True)
s.sendall(b"GET / HTTP/1.0\\r\\n\\r\\n")
data = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    data += d
s.close()
print("pf:" + data.decode().split("\\r\\n\\r\\n", 1)[-1].strip())
PY
        timeout 60 /usr/bin/python3 "$W/pyclient.py" >"$W/py.out" 2>&1
        check "python client: exec output" grep -qx 'exec:py-out' "$W/py.out"
        check "python client: exec exit code 4" grep -qx 'rc:4' "$W/py.out"
        check "python client: port-forward gets the page" grep -qx 'pf:hello-from-web' "$W/py.out"
        grep -v '^exec:\|^rc:\|^pf:' "$W/py.out" | head -5 | sed 's/^/# /'
else
        diag "python3-kubernetes not installed: Python client checks skipped"
fi

check "server still up" kill -0 "$SERVER_PID"
check "no leftover runtime exec processes" bash -c "! pgrep -f -- '$D/agent/run/.* [e]xec ' >/dev/null"
