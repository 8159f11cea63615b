#!/bin/bash
# bench-api.sh — `make bench`: the API benchmark of issue 4. GET of one object, LIST and CREATE
# latency (p50/p99/max) and throughput at 1, 4, 16 and 64 concurrent clients; GET p99 at a fixed
# 2,000 requests/s (open loop: latency counted from each request's scheduled time); GET and
# LIST with 10,000 objects stored, against Kubernetes' API call latency SLOs (1 s for a single
# object, 30 s for a list). There is no kube-apiserver on this machine to run as a peer, so the
# target is printed beside each figure.
# Client: $BUILD/bench/bench-api (libcurl, TLS with the admin client certificate, HTTP/1.1
# keep-alive, one connection per client thread, as kubectl with HTTP/2 disabled). Server:
# `timonel server --disable-agent` on SQLite, loopback only, data on the disk. Objects are pods
# (~600 B JSON). BENCH_QUICK=1 shrinks the request counts.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
TIMONEL=$BUILD/timonel
B=$BUILD/bench/bench-api
for f in "$TIMONEL" "$B"; do
        [ -x "$f" ] || { echo "bench-api: $f not built (run make bench)" >&2; exit 1; }
done
Q=${BENCH_QUICK:-0}
scale() { if [ "$Q" = 1 ]; then echo $(($1 / 10)); else echo "$1"; fi; }

W=$(mktemp -d /var/tmp/timonel-bench-api.XXXXXX)
D=$W/data
SPID=
cleanup() {
        [ -n "$SPID" ] && kill -TERM "$SPID" 2>/dev/null
        "$TIMONEL" killall --data-dir "$D" >/dev/null 2>&1
        if [ -n "$SPID" ]; then
                for _ in $(seq 50); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$SPID" 2>/dev/null
                wait "$SPID" 2>/dev/null
        fi
        rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "bench-api: $*" >&2; }
free_port() {
        local p
        for _ in $(seq 50); do
                p=$((20000 + RANDOM % 20000))
                [ "$p" = 18080 ] && continue
                ss -Hltn "sport = :$p" | grep -q . || { echo "$p"; return 0; }
        done
        return 1
}
# val "k=v k=v ..." key
val() { local kv; for kv in $1; do [ "${kv%%=*}" = "$2" ] && { echo "${kv#*=}"; return; }; done; echo "-"; }

P=$(free_port); KP=$(free_port)
"$TIMONEL" server --data-dir "$D" --https-listen-port "$P" --kubelet-port "$KP" --disable-agent \
        --write-kubeconfig "$D/kc.yaml" >"$W/server.log" 2>&1 &
SPID=$!
URL=https://127.0.0.1:$P
TLS=$D/server/tls
C=(curl -sf --cacert "$TLS/ca.crt" --cert "$TLS/admin.crt" --key "$TLS/admin.key")
for _ in $(seq 300); do "${C[@]}" -o /dev/null "$URL/readyz" 2>/dev/null && break; sleep 0.1; done
"${C[@]}" -o /dev/null "$URL/readyz" || { log "server did not start"; tail -5 "$W/server.log" >&2; exit 1; }
for ns in bench bench-c bench-10k; do
        "${C[@]}" -o /dev/null -X POST -H 'Content-Type: application/json' \
                -d "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$ns\"}}" \
                "$URL/api/v1/namespaces" || { log "create namespace $ns"; exit 1; }
done

declare -A R
run() {
        local key=$1; shift
        local out
        log "$key: bench-api $*"
        out=$(timeout 600 "$B" "$@" --url "$URL" --tls "$TLS" 2>"$W/err") || log "$key failed: $(cat "$W/err")"
        R[$key]=$out
        log "  $out"
}
g() { val "${R[$1]:-}" "$2"; }

T0=$SECONDS
# 100 pods to GET and LIST
run seed load --op create --ns bench --conns 4 --n 100
START=0
for c in 1 4 16 64; do
        n=$(scale $((c < 16 ? 2000 : 200 * c)))
        run "get$c" load --op get --ns bench --conns $c --n "$n" --objects 100
        run "list$c" load --op list --ns bench --conns $c --n "$(scale $((c < 16 ? 500 : 50 * c)))"
        nc=$(scale $((c < 16 ? 1000 : 100 * c)))
        run "create$c" load --op create --ns bench-c --conns $c --n "$nc" --start $START
        START=$((START + nc))
done
run rate2000 load --op get --ns bench --conns 16 --n "$(scale 20000)" --objects 100 --rate 2000
# 10,000 objects stored
run seed10k load --op create --ns bench-10k --conns 16 --n 10000
run get10k load --op get --ns bench-10k --conns 4 --n "$(scale 4000)" --objects 10000
run page10k load --op list --ns bench-10k --conns 4 --n "$(scale 200)"
run list10k list --ns bench-10k --runs 5
run list10k0 list --ns bench-10k --runs 5 --rv0
ALIVE=yes
kill -0 "$SPID" 2>/dev/null || ALIVE="NO (died during the run)"

verdict() {
        [ "$1" = - ] && { echo "-"; return; }
        if awk -v v="$1" -v l="$2" 'BEGIN { exit !(v < l) }'; then echo "met"; else echo "NOT MET"; fi
}
row() { printf '| %-40s | %11s | %9s | %9s | %9s | %-22s | %-7s |\n' "$@"; }
echo
echo "timonel API benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load average $(cut -d" " -f1-3 /proc/loadavg) at the end"
echo "client: bench-api (libcurl, TLS client cert, HTTP/1.1 keep-alive, 1 connection per client); server: timonel/sqlite --disable-agent; pods ~600 B"
echo "no kube-apiserver on this machine: the target (Kubernetes' SLO or issue 4's) is printed beside each figure"
echo
row "figure" "requests/s" "p50 ms" "p99 ms" "max ms" "target" "verdict"
row "----------------------------------------" "-----------" "---------" "---------" "---------" "----------------------" "-------"
for op in get list create; do
        for c in 1 4 16 64; do
                k=$op$c
                case $op in
                get) what="GET one pod"; tgt="max < 1000 ms (SLO)"; lim=1000 ;;
                list) what="LIST 100 pods (limit=500)"; tgt="max < 30000 ms (SLO)"; lim=30000 ;;
                create) what="CREATE pod"; tgt="max < 1000 ms (SLO)"; lim=1000 ;;
                esac
                row "$what, $c client(s)" "$(g $k rate)" "$(g $k p50_ms)" "$(g $k p99_ms)" "$(g $k max_ms)" "$tgt" "$(verdict "$(g $k max_ms)" $lim)"
        done
done
row "GET one pod at 2,000 req/s (open loop)" "$(g rate2000 rate)" "$(g rate2000 p50_ms)" "$(g rate2000 p99_ms)" "$(g rate2000 max_ms)" "p99 < 2 ms (issue 4)" "$(verdict "$(g rate2000 p99_ms)" 2)"
row "CREATE 10,000 pods, 16 clients" "$(g seed10k rate)" "$(g seed10k p50_ms)" "$(g seed10k p99_ms)" "$(g seed10k max_ms)" "max < 1000 ms (SLO)" "$(verdict "$(g seed10k max_ms)" 1000)"
row "GET one of 10,000 pods, 4 clients" "$(g get10k rate)" "$(g get10k p50_ms)" "$(g get10k p99_ms)" "$(g get10k max_ms)" "max < 1000 ms (SLO)" "$(verdict "$(g get10k max_ms)" 1000)"
row "LIST 10,000 pods, first page of 500" "$(g page10k rate)" "$(g page10k p50_ms)" "$(g page10k p99_ms)" "$(g page10k max_ms)" "max < 30000 ms (SLO)" "$(verdict "$(g page10k max_ms)" 30000)"
row "LIST all $(g list10k items) pods ($(g list10k bytes) B)" "" "$(g list10k p50_ms)" "" "$(g list10k max_ms)" "max < 30000 ms (SLO)" "$(verdict "$(g list10k max_ms)" 30000)"
row "LIST all, resourceVersion=0 (cache)" "" "$(g list10k0 p50_ms)" "" "$(g list10k0 max_ms)" "max < 30000 ms (SLO)" "$(verdict "$(g list10k0 max_ms)" 30000)"
echo
echo "failed requests: $(for k in "${!R[@]}"; do echo "$(g "$k" failed)"; done | awk '$1 != "-" { s += $1 } END { print s + 0 }'); server alive at the end: $ALIVE"
echo "bench-api took $((SECONDS - T0)) s"
