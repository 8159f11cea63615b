#!/bin/bash
# bench-scale.sh — the control-plane scale benchmark of issue 6 (`make bench-scale`, also run by
# `make bench`): `timonel server --disable-agent --fake-nodes N` on a temporary data dir on the
# disk (fsync is real), then $BUILD/bench/bench-scale creates Deployments and follows every pod to
# bound and Running through a watch. Prints a table: scheduling throughput (pods/s), time until
# every pod is Running, server RSS (current and peak). Loopback only.
#
# Sizes: default (quick) 100 fake nodes, 2,000 pods. BENCH_SCALE=full: 1,000 fake nodes with a run
# of 10,000 pods and then a run of 30,000 pods (on a fresh server each). Override with
# BENCH_NODES / BENCH_PODS (one run).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
TIMONEL=$BUILD/timonel
B=$BUILD/bench/bench-scale
for f in "$TIMONEL" "$B"; do
        [ -x "$f" ] || { echo "bench-scale: $f not built (run make bench-scale)" >&2; exit 1; }
done

if [ "${BENCH_SCALE:-quick}" = full ]; then
        NODES=${BENCH_NODES:-1000}
        RUNS=${BENCH_PODS:-"10000 30000"}
else
        NODES=${BENCH_NODES:-100}
        RUNS=${BENCH_PODS:-2000}
fi

# backlog run: pods created on a cluster without nodes, then `timonel fake-nodes` starts: the
# scheduler's own rate on a backlog (0 = skip)
if [ "${BENCH_SCALE:-quick}" = full ]; then BACKLOG=${BENCH_BACKLOG:-10000}; else BACKLOG=${BENCH_BACKLOG:-2000}; fi

W=$(mktemp -d /var/tmp/timonel-bench-scale.XXXXXX)
SPID=
D=
cleanup() {
        [ -s "$W/fn.pid" ] && kill -TERM "$(cat "$W/fn.pid")" 2>/dev/null
        if [ -n "$SPID" ]; then
                kill -TERM "$SPID" 2>/dev/null
                for _ in $(seq 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$SPID" 2>/dev/null
                wait "$SPID" 2>/dev/null
        fi
        [ -n "$D" ] && "$TIMONEL" killall --data-dir "$D" >/dev/null 2>&1
        rm -rf "$W"
}
backlog_run() {
        local P=$1
        D=$W/data-backlog
        PORT=$(free_port)
        KC=$W/kc-backlog.yaml
        "$TIMONEL" server --data-dir "$D" --https-listen-port "$PORT" --disable-agent \
                --write-kubeconfig "$KC" >"$W/server-backlog.log" 2>&1 &
        SPID=$!
        local tls=$D/server/tls
        local c=(curl -sf --cacert "$tls/ca.crt" --cert "$tls/admin.crt" --key "$tls/admin.key")
        for _ in $(seq 300); do [ -s "$KC" ] && "${c[@]}" -o /dev/null "https://127.0.0.1:$PORT/readyz" && break; sleep 0.1; done
        local deps=$((P / 1000)); [ "$deps" -lt 1 ] && deps=1
        log "backlog: $P pods in $deps Deployments on no nodes, then $NODES fake nodes"
        R[backlog]=$("$B" --kubeconfig "$KC" --ns bench --pods "$P" --deployments "$deps" --timeout 900 \
                --then "'$TIMONEL' fake-nodes --kubeconfig '$KC' --count $NODES >'$W/fn.log' 2>&1 & echo \$! >'$W/fn.pid'" \
                2>"$W/progress-backlog.log")
        log "  ${R[backlog]}"
        kill -TERM "$(cat "$W/fn.pid" 2>/dev/null)" 2>/dev/null
        rm -f "$W/fn.pid"
        kill -TERM "$SPID" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SPID" 2>/dev/null
        wait "$SPID" 2>/dev/null
        SPID=
        "$TIMONEL" killall --data-dir "$D" >/dev/null 2>&1
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
        local p
        for _ in $(seq 50); do
                p=$((20000 + RANDOM % 20000))
                [ "$p" = 18080 ] && continue
                ss -Hltn "sport = :$p" | grep -q . || { echo "$p"; return 0; }
        done
        return 1
}
log() { echo "bench-scale: $*" >&2; }
val() { local kv; for kv in $1; do [ "${kv%%=*}" = "$2" ] && { echo "${kv#*=}"; return; }; done; echo "-"; }
cpu_s() { awk '{ printf "%.1f", ($14 + $15) / 100 }' "/proc/$1/stat" 2>/dev/null || echo 0; }
rss_mb() { awk -v k="$2:" '$1 == k { printf "%.0f", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo -; }

declare -A R
for P in $RUNS; do
        D=$W/data-$P
        PORT=$(free_port)
        KC=$W/kc-$P.yaml
        "$TIMONEL" server --data-dir "$D" --https-listen-port "$PORT" --disable-agent \
                --fake-nodes "$NODES" --write-kubeconfig "$KC" >"$W/server-$P.log" 2>&1 &
        SPID=$!
        TLS=$D/server/tls
        c=(curl -sf --cacert "$TLS/ca.crt" --cert "$TLS/admin.crt" --key "$TLS/admin.key")
        for _ in $(seq 300); do [ -s "$KC" ] && "${c[@]}" -o /dev/null "https://127.0.0.1:$PORT/readyz" && break; sleep 0.1; done
        t=$SECONDS
        ready=0
        while [ $((SECONDS - t)) -lt 180 ]; do
                ready=$("${c[@]}" "https://127.0.0.1:$PORT/api/v1/nodes" |
                        grep -o '"type":"Ready","status":"True"' | wc -l)
                [ "$ready" -ge "$NODES" ] && break
                sleep 1
        done
        R[$P.nodes_s]=$((SECONDS - t))
        R[$P.rss_idle]=$(rss_mb "$SPID" VmRSS)
        log "$ready/$NODES fake nodes Ready after ${R[$P.nodes_s]} s; RSS ${R[$P.rss_idle]} MB"
        DEPS=$((P / 1000)); [ "$DEPS" -lt 1 ] && DEPS=1
        log "$P pods in $DEPS Deployments"
        cpu0=$(cpu_s "$SPID")
        out=$("$B" --kubeconfig "$KC" --ns bench --pods "$P" --deployments "$DEPS" --timeout 600 \
                2>"$W/progress-$P.log")
        R[$P]=$out
        R[$P.cpu]=$(awk -v a="$cpu0" -v b="$(cpu_s "$SPID")" 'BEGIN { printf "%.0f", b - a }')
        R[$P.load]=$(cut -d' ' -f1 /proc/loadavg)
        sleep 11 # the scheduler logs its cycle statistics every 10 s
        R[$P.algo]=$(grep -o '[0-9]* us per cycle ([0-9]* cycles/s' "$W/server-$P.log" | tail -n 1 |
                awk '{ print $1 " us / " substr($5, 2) }')
        R[$P.rss]=$(rss_mb "$SPID" VmRSS)
        R[$P.hwm]=$(rss_mb "$SPID" VmHWM)
        log "  $out"
        tail -n 3 "$W/progress-$P.log" | sed 's/^/bench-scale:   /' >&2
        if ! kill -0 "$SPID" 2>/dev/null; then
                log "server DIED; its log ends:"; tail -n 15 "$W/server-$P.log" >&2
        fi
        kill -TERM "$SPID" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SPID" 2>/dev/null
        wait "$SPID" 2>/dev/null
        SPID=
        "$TIMONEL" killall --data-dir "$D" >/dev/null 2>&1
done

[ "$BACKLOG" -gt 0 ] && backlog_run "$BACKLOG"

verdict() {
        [ "$1" = - ] && { echo "-"; return; }
        if awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { exit !((op == "ge" && v >= l) || (op == "lt" && v < l)) }'; then
                echo "met"
        else
                echo "NOT MET"
        fi
}
row() { printf '| %-44s | %12s | %-12s | %-7s |\n' "$@"; }
echo
echo "timonel control-plane scale benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, $NODES fake nodes, data on $(df -T "$W" | awk 'NR==2 {print $2}')"
echo "pods through Deployments (1,000 replicas each), requests 10m cpu / 16Mi; times from the first Deployment create"
for P in $RUNS; do
        echo
        row "figure ($P pods)" "value" "target" "verdict"
        row "--------------------------------------------" "------------" "------------" "-------"
        row "fake nodes Ready after, s" "${R[$P.nodes_s]}" "" ""
        SR=$(val "${R[$P]}" sched_rate)
        row "scheduling throughput, pods/s (first..last bind)" "$SR" ">= 1000" "$(verdict "$SR" ge 1000)"
        row "  bound / overall pods/s from t=0" "$(val "${R[$P]}" bound)/$(val "${R[$P]}" sched_rate_all)" "" ""
        row "  scheduler algorithm per pod / pods/s" "${R[$P.algo]:--}" "" ""
        row "last pod object created, s" "$(val "${R[$P]}" created_s)" "" ""
        row "last pod bound, s" "$(val "${R[$P]}" bound_s)" "" ""
        RS=$(val "${R[$P]}" running_s)
        [ "$(val "${R[$P]}" timeout)" = 1 ] && RS="timeout($(val "${R[$P]}" running) Running)"
        row "every pod Running, s" "$RS" "< 60" "$(verdict "$RS" lt 60)"
        row "server CPU s used during the run (load avg)" "${R[$P.cpu]} (${R[$P.load]})" "" ""
        row "server RSS MB: idle / after / peak" "${R[$P.rss_idle]}/${R[$P.rss]}/${R[$P.hwm]}" "" ""
done
if [ "$BACKLOG" -gt 0 ]; then
        echo
        row "figure (backlog of $BACKLOG pods, then nodes)" "value" "target" "verdict"
        row "--------------------------------------------" "------------" "------------" "-------"
        BR=$(val "${R[backlog]:-}" sched_rate)
        row "scheduling throughput on the backlog, pods/s" "$BR" ">= 1000" "$(verdict "$BR" ge 1000)"
        NS_=$(val "${R[backlog]:-}" nodes_s); LB=$(val "${R[backlog]:-}" bound_s); LR=$(val "${R[backlog]:-}" running_s)
        row "nodes started at, s / last bind, s" "$NS_/$LB" "" ""
        row "all Running after the nodes started, s" "$(awk -v a="$LR" -v b="$NS_" 'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%.1f", a - b }')" "" ""
fi
