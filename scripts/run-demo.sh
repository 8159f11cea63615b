#!/bin/bash
# run-demo.sh — `make run`: start a single-node cluster on the embedded datastore (in the
# background), import the example image, deploy examples/, wait until it answers, print how to
# reach it and how to stop. Needs root (containers, network namespaces, mounts).
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "make run: needs root (it runs containers)" >&2; exit 1; }
DATA=${DATA:-/var/lib/timonel}
PORT=${PORT:-6443}
KC=${KUBECONFIG_OUT:-/etc/timonel/timonel.yaml}
RUN=build/run
mkdir -p "$RUN"
K="kubectl --kubeconfig $KC"

if [ -f "$RUN/server.pid" ] && kill -0 "$(cat "$RUN/server.pid")" 2>/dev/null; then
        echo "timonel server already running (pid $(cat "$RUN/server.pid"))"
else
        build/timonel server --data-dir "$DATA" --https-listen-port "$PORT" --write-kubeconfig "$KC" \
                >"$RUN/server.log" 2>&1 &
        echo $! >"$RUN/server.pid"
        echo "timonel server started (pid $!), log in $RUN/server.log"
fi
for _ in $(seq 100); do
        $K get nodes --no-headers 2>/dev/null | grep -q ' Ready ' && break
        sleep 0.1
done
$K get nodes

bash tests/data/images/make-busybox-tars.sh "$RUN/images" >/dev/null
build/timonel image import --data-dir "$DATA" "$RUN/images/busybox-docker.tar"
$K apply -f examples/
$K wait --for=condition=Ready pod/web --timeout=60s
IP=$($K get pod web -o jsonpath='{.status.podIP}')
for _ in $(seq 50); do curl -s --max-time 1 "http://$IP:8080/" >/dev/null && break; sleep 0.1; done
echo
echo "The example answers:  curl http://$IP:8080/"
curl -s "http://$IP:8080/"
echo
echo "Use the cluster:      kubectl --kubeconfig $KC get pods -o wide"
echo "Stop the server:      kill \$(cat $RUN/server.pid)   (containers keep running)"
echo "Remove everything:    build/timonel killall --data-dir $DATA"
