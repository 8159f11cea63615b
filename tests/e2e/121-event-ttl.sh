#!/bin/bash
# 121-event-ttl.sh — Events expire like Kubernetes' (kube-apiserver --event-ttl, 1 h by default):
# the API server creates them with a lease (store_create_ttl) and the datastore deletes them when
# it ends, on BOTH backends: SQLite (its expiry table and thread) and a real etcd (a lease; Debian's
# etcd started here on loopback, temp data dir). `timonel server --event-ttl 4s` shortens the TTL;
# each backend: two Events created through kubectl are gone 4 s (+ the backend's granularity)
# after their creation, a watcher sees both DELETED events (on etcd they share one lease and are
# deleted in ONE revision), an Event updated meanwhile still expires (an update keeps the lease),
# and a ConfigMap created at the same time stays.
. "$(dirname "$0")/lib.sh"
[ -x /usr/bin/etcd ] || skip_all "no /usr/bin/etcd (etcd-server, scripts/deps.sh)"
KV=${KUBECTL_VERSION:-1.31}
KUBECTL=/usr/lib/google-cloud-sdk/bin/kubectl.$KV
TTL=4

W=$(mktemp -d /tmp/timonel-e2e-evttl.XXXXXX)
EPORT=$(free_port)
EPEER=$(free_port)
EP=http://127.0.0.1:$EPORT
ETCD_PID=
S_PID=
WATCH_PID=
on_exit "rm -rf $W"
on_exit "$TIMONEL killall --data-dir $W/sqlite; $TIMONEL killall --data-dir $W/etcd-server"
on_exit '[ -n "$ETCD_PID" ] && { kill -KILL $ETCD_PID; wait $ETCD_PID; }'
on_exit 'stop_server'
on_exit '[ -n "$WATCH_PID" ] && kill $WATCH_PID'

stop_server() {
        [ -n "$S_PID" ] || return 0
        kill -TERM "$S_PID" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$S_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$S_PID" 2>/dev/null
        wait "$S_PID" 2>/dev/null
        S_PID=
}

start_etcd() {
        /usr/bin/etcd --name e2e --data-dir "$W/etcd" \
                --listen-client-urls "$EP" --advertise-client-urls "$EP" \
                --listen-peer-urls "http://127.0.0.1:$EPEER" \
                --initial-advertise-peer-urls "http://127.0.0.1:$EPEER" \
                --initial-cluster "e2e=http://127.0.0.1:$EPEER" >>"$W/etcd.log" 2>&1 &
        ETCD_PID=$!
        wait_for 15 curl -sf -X POST -d '{"key":"AA=="}' "$EP/v3/kv/range"
}

event_yaml() { # name
        cat <<YAML
apiVersion: v1
kind: Event
metadata:
  name: $1
  namespace: default
involvedObject:
  kind: Pod
  name: web
  namespace: default
reason: Testing
message: expires after the event TTL
type: Normal
YAML
}

# ms since the epoch
now_ms() { date +%s%3N; }

# run_backend NAME [server flags...]
run_backend() {
        local name=$1; shift
        local d=$W/$name port kport
        port=$(free_port)
        kport=$(free_port)
        "$TIMONEL" server --data-dir "$d" --https-listen-port "$port" --kubelet-port "$kport" \
                --disable-agent --write-kubeconfig "$W/$name.yaml" --event-ttl "${TTL}s" "$@" \
                >>"$W/$name.log" 2>&1 &
        S_PID=$!
        local K="$KUBECTL --kubeconfig $W/$name.yaml --cache-dir $W/cache-$name"
        check "[$name] kubeconfig written" wait_for 20 test -s "$W/$name.yaml"
        check "[$name] API ready" wait_for 20 $K get --raw /readyz
        $K get events --watch-only --output-watch-events >"$W/$name.watch" 2>&1 &
        WATCH_PID=$!
        sleep 1
        local t0 out
        t0=$(now_ms)
        out=$(event_yaml ev1 | $K create -f - 2>&1)
        check "[$name] event created ($out)" test "$out" = "event/ev1 created"
        out=$(event_yaml ev2 | $K create -f - 2>&1)
        check "[$name] second event created ($out)" test "$out" = "event/ev2 created"
        check "[$name] configmap created" $K create configmap stays --from-literal=a=b
        check "[$name] event updated (an update keeps the lease)" \
                $K annotate event ev2 touched=yes
        check "[$name] event still there right after" $K get event ev1
        gone() { ! $K get event ev1 >/dev/null 2>&1 && ! $K get event ev2 >/dev/null 2>&1; }
        check "[$name] both events are gone within $((TTL + 6)) s" wait_for $((TTL + 6)) gone
        local ms=$(($(now_ms) - t0))
        diag "[$name] events gone after $ms ms (TTL ${TTL}s)"
        check "[$name] ... not before the TTL ($ms ms >= $((TTL * 1000)) ms)" \
                test "$ms" -ge $((TTL * 1000))
        check "[$name] the configmap stays" $K get configmap stays
        deleted() { [ "$(grep -c '^DELETED' "$W/$name.watch")" -ge 2 ]; }
        check "[$name] the watcher got both DELETED events" wait_for 5 deleted
        diag "[$name] watch:" "$(cat "$W/$name.watch")"
        kill "$WATCH_PID" 2>/dev/null
        wait "$WATCH_PID" 2>/dev/null
        WATCH_PID=
        stop_server
}

run_backend sqlite
check "etcd started on $EP" start_etcd
run_backend etcd-server --datastore-endpoint "$EP"
