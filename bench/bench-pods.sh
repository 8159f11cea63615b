#!/bin/bash
# bench-pods.sh — `make bench`, issue 5: pod startup latency of the node agent beside the raw
# runtime stack, measured in the same run, on one node, in a network namespace of its own:
#   raw     `crun run -d` of the busybox bundle + CNI bridge ADD into a fresh netns (what a pod
#           needs at least), N times: p50/p90
#   podman  `podman run -d` of the same image, if podman is installed (else "not installed")
#   1 pod   POST a pod to `timonel server --disable-agent` + `timonel agent`, time until a watch
#           (the API's watch stream, timestamped as each event arrives) sees it Running: p50/p90
#   burst   100 pods POSTed at once: time until the watch saw the last one Running
#   RSS     the agent process's VmRSS with the 100 pods running (VmHWM too)
# Targets (issue 5): 1-pod p50 <= 2x raw p50; burst < 10 s; agent RSS < 15 MB.
# BENCH_QUICK=1: 3 single-pod runs and a burst of 20. Root; not a test.
set -u
if [ -z "${BENCH_PRIVATE_NET:-}" ]; then
        exec env BENCH_PRIVATE_NET=1 unshare --net -- bash "$0" "$@"
fi
ip link set lo up
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
TIMONEL=$BUILD/timonel
[ -x "$TIMONEL" ] || { echo "bench-pods: $TIMONEL not built" >&2; exit 1; }
Q=${BENCH_QUICK:-0}
N1=10
NB=100
[ "$Q" = 1 ] && N1=3 && NB=20

W=$(mktemp -d /var/tmp/timonel-bench-pods.XXXXXX)
SERVER_PID= AGENT_PID= WATCH_PID=
cleanup() {
        [ -n "$WATCH_PID" ] && kill "$WATCH_PID" 2>/dev/null
        for p in $AGENT_PID $SERVER_PID; do kill -TERM "$p" 2>/dev/null; done
        for p in $AGENT_PID $SERVER_PID; do
                for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$p" 2>/dev/null
        done
        "$TIMONEL" killall --data-dir "$W/agent" >/dev/null 2>&1
        "$TIMONEL" killall --data-dir "$W/server" >/dev/null 2>&1
        for n in $(ip netns list 2>/dev/null | awk '/^benchraw/ {print $1}'); do ip netns del "$n"; done
        ip link del benchbr0 2>/dev/null
        for c in /sys/fs/cgroup/*/benchraw; do [ -d "$c" ] && find "$c" -depth -type d -exec rmdir {} + 2>/dev/null; done
        grep -o " $W[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
        [ -n "${BENCH_KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "bench-pods: $*" >&2; }
now_ns() { date +%s%N; }
free_port() {
        local p
        for _ in $(seq 50); do
                p=$((20000 + RANDOM % 20000))
                [ "$p" = 18080 ] && continue
                ss -Hltn "sport = :$p" | grep -q . || { echo "$p"; return 0; }
        done
        return 1
}
wait_for() {
        local deadline=$((SECONDS + $1)); shift
        until "$@" >/dev/null 2>&1; do
                [ $SECONDS -ge $deadline ] && return 1
                sleep 0.05
        done
}
# pct P values... (ms, integers) -> the P-th percentile (nearest rank)
pct() {
        local p=$1; shift
        printf '%s\n' "$@" | sort -n | awk -v p="$p" '{a[NR]=$1} END {i=int((p*NR+99)/100); if (i<1) i=1; print a[i]}'
}

bash "$ROOT/tests/data/images/make-busybox-tars.sh" "$W/img" >"$W/img.log" 2>&1 ||
        { log "cannot build the busybox image"; exit 1; }

# ---- raw: crun run + CNI ADD ----
RT=$(command -v crun || command -v runc)
umoci unpack --image "$W/img/layout:1.36" "$W/bundle" >/dev/null 2>&1 || { log "umoci unpack failed"; exit 1; }
mkdir -p "$W/cni"
cat >"$W/cni/bench.conf" <<EOF
{"cniVersion":"0.4.0","name":"benchraw","type":"bridge","bridge":"benchbr0","isGateway":true,
 "ipMasq":false,"ipam":{"type":"host-local","subnet":"10.99.0.0/24","dataDir":"$W/cni/ipam"}}
EOF
cni() { # cni ADD|DEL ID NETNS
        CNI_COMMAND=$1 CNI_CONTAINERID=$2 CNI_NETNS=$3 CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni \
                /usr/lib/cni/bridge <"$W/cni/bench.conf"
}
raw=()
for i in $(seq "$N1"); do
        id=benchraw$i
        jq --arg ns "/var/run/netns/$id" --arg cg "/benchraw/$id" \
                '.process.args = ["sleep", "600"] | .process.terminal = false | .linux.cgroupsPath = $cg |
                 .linux.namespaces = [.linux.namespaces[] | if .type == "network" then .path = $ns else . end] |
                 .linux.resources = {}' "$W/bundle/config.json" >"$W/bundle/config.json.new" &&
                mv "$W/bundle/config.json.new" "$W/bundle/config.json"
        t0=$(now_ns)
        ip netns add "$id" && cni ADD "$id" "/var/run/netns/$id" >/dev/null &&
                "$RT" run -d --bundle "$W/bundle" "$id" >/dev/null 2>"$W/raw.err" </dev/null
        rc=$?
        t1=$(now_ns)
        [ $rc -eq 0 ] && raw+=($(((t1 - t0) / 1000000))) || log "raw run $i failed: $(cat "$W/raw.err")"
        "$RT" delete -f "$id" >/dev/null 2>&1
        cni DEL "$id" "/var/run/netns/$id" >/dev/null 2>&1
        ip netns del "$id"
done
ip link del benchbr0 2>/dev/null

# ---- podman ----
if command -v podman >/dev/null; then
        PODMAN="measured"
        pm=()
        podman load -q -i "$W/img/busybox-docker.tar" >/dev/null 2>&1
        for i in $(seq "$N1"); do
                t0=$(now_ns)
                podman run -d --name "benchpm$i" busybox:1.36 sleep 600 >/dev/null 2>&1 && pm+=($((($(now_ns) - t0) / 1000000)))
                podman rm -f "benchpm$i" >/dev/null 2>&1
        done
else
        PODMAN="not installed"
fi

# ---- timonel: server without a node + one agent ----
PORT=$(free_port) KPORT=$(free_port)
"$TIMONEL" server --data-dir "$W/server" --https-listen-port "$PORT" --disable-agent \
        --write-kubeconfig "$W/kc.yaml" >"$W/server.log" 2>&1 &
SERVER_PID=$!
wait_for 20 test -s "$W/kc.yaml" || { log "server did not start"; exit 1; }
"$TIMONEL" image import --data-dir "$W/agent" "$W/img/busybox-docker.tar" >/dev/null || exit 1
${BENCH_AGENT_ENV:-} "$TIMONEL" agent --kubeconfig "$W/kc.yaml" --data-dir "$W/agent" --node-name bench-node \
        --node-ip 127.0.0.1 --kubelet-port "$KPORT" --cluster-ca-dir "$W/server/server/tls" \
        >"$W/agent.log" 2>&1 &
AGENT_PID=$!
K="/usr/lib/google-cloud-sdk/bin/kubectl.1.33 --kubeconfig $W/kc.yaml --cache-dir $W/cache"
node_ready() { $K get node bench-node --no-headers | grep -q ' Ready'; }
wait_for 60 node_ready || { log "agent node not Ready"; tail -5 "$W/agent.log" >&2; exit 1; }
sleep 1
RSS0=$(awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' /proc/$AGENT_PID/status)
ANON0=$(awk '/^RssAnon/ {printf "%.1f", $2 / 1024}' /proc/$AGENT_PID/status)
# client credentials for curl
jq -r '.users[0].user["client-certificate-data"]' < <($K config view --raw -o json) | base64 -d >"$W/c.crt"
jq -r '.users[0].user["client-key-data"]' < <($K config view --raw -o json) | base64 -d >"$W/c.key"
jq -r '.clusters[0].cluster["certificate-authority-data"]' < <($K config view --raw -o json) | base64 -d >"$W/ca.crt"
API=https://127.0.0.1:$PORT
C="curl -s --cert $W/c.crt --key $W/c.key --cacert $W/ca.crt"
# the watch: every event line timestamped on arrival (one process: no per-event forks)
$C -N "$API/api/v1/namespaces/default/pods?watch=1" | python3 -u -c '
import json, sys, time
for line in sys.stdin:
    t = time.time_ns()
    try:
        o = json.loads(line)["object"]
        print(t, o["metadata"]["name"], o.get("status", {}).get("phase", ""), flush=True)
    except Exception:
        pass
' >"$W/events" &
WATCH_PID=$!
sleep 0.5
podjson() {
        printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s"},"spec":{"terminationGracePeriodSeconds":0,"containers":[{"name":"c","image":"busybox:1.36","imagePullPolicy":"Never","command":["sleep","600"]}]}}' "$1"
}
create() { podjson "$1" | $C -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary @- "$API/api/v1/namespaces/default/pods"; }
running_at() { awk -v n="$1" '$2 == n && $3 == "Running" {print $1; exit}' "$W/events"; }
is_running() { [ -n "$(running_at "$1")" ]; }

one=()
for i in $(seq "$N1"); do
        t0=$(now_ns)
        create "single-$i"
        if wait_for 30 is_running "single-$i"; then
                one+=($((($(running_at "single-$i") - t0) / 1000000)))
        else
                log "single-$i not Running in 30 s"
        fi
        $K delete pod "single-$i" --wait=true --timeout=60s >/dev/null 2>&1
done

t0=$(now_ns)
for i in $(seq "$NB"); do create "burst-$i" & done
wait_burst() {
        local n
        n=$(awk '$2 ~ /^burst-/ && $3 == "Running" && !s[$2]++' "$W/events" | wc -l)
        [ "$n" -ge "$NB" ]
}
if wait_for 120 wait_burst; then
        last=$(awk '$2 ~ /^burst-/ && $3 == "Running" && !s[$2]++ {t=$1} END {print t}' "$W/events")
        BURST=$(awk -v a="$last" -v b="$t0" 'BEGIN {printf "%.2f", (a - b) / 1e9}')
else
        BURST="> 120 (only $(awk '$2 ~ /^burst-/ && $3 == "Running" && !s[$2]++' "$W/events" | wc -l) Running)"
fi
sleep 2
RSS=$(awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' /proc/$AGENT_PID/status)
HWM=$(awk '/^VmHWM/ {printf "%.1f", $2 / 1024}' /proc/$AGENT_PID/status)
ANON=$(awk '/^RssAnon/ {printf "%.1f", $2 / 1024}' /proc/$AGENT_PID/status)
THREADS=$(awk '/^Threads/ {print $2}' /proc/$AGENT_PID/status)
NRUN=$(grep -c . <(awk '$2 ~ /^burst-/ && $3 == "Running" && !s[$2]++' "$W/events"))

RAW50=$(pct 50 "${raw[@]}") ONE50=$(pct 50 "${one[@]}")
printf '\n%-44s %-16s %-16s %s\n' "pod startup, create -> Running (ms)" "p50" "p90" "target"
printf '%-44s %-16s %-16s %s\n' "raw crun run -d + CNI bridge ADD (n=${#raw[@]})" "$RAW50" "$(pct 90 "${raw[@]}")" "reference"
if [ "$PODMAN" = measured ]; then
        printf '%-44s %-16s %-16s %s\n' "podman run -d (n=${#pm[@]})" "$(pct 50 "${pm[@]}")" "$(pct 90 "${pm[@]}")" "reference"
else
        printf '%-44s %-16s %-16s %s\n' "podman run -d" "not installed" "-" "reference"
fi
printf '%-44s %-16s %-16s %s\n' "timonel 1 pod, seen by a watch (n=${#one[@]})" "$ONE50" "$(pct 90 "${one[@]}")" "p50 <= 2x raw ($((RAW50 * 2)))"
printf '%-44s %-33s %s\n' "timonel burst of $NB pods, last Running (s)" "$BURST" "< 10 s"
printf '%-44s %-33s %s\n' "agent RSS, no pods (MB)" "$RSS0 (anon $ANON0)" ""
printf '%-44s %-33s %s\n' "agent RSS with $NRUN pods running (MB)" "$RSS (anon $ANON, peak $HWM)" "< 15 MB"
echo "(agent threads: $THREADS)"
echo "(host: $(nproc) cpus, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end of the run)"
