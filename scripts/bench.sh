#!/bin/bash
# bench.sh — `make bench`: the datastore/API benchmark of issue 3, printed as ONE table in which
# every timonel figure stands beside its peer measured in the same run, and a target column.
#
# Starts, on loopback only, with temporary directories on the disk (not tmpfs, so fsync is real):
#   - etcd 3.4 (Debian etcd-server), the raw put reference through its JSON gateway,
#   - `timonel server --disable-agent` on the default SQLite backend,
#   - if the binary has the etcd backend (store-etcd.c), a second server with
#     --datastore-endpoint http://127.0.0.1:<etcd port> (on a fresh etcd key space).
# The load generator is $BUILD/bench/bench-api (bench/bench-api.c: libcurl, HTTP/1.1 keep-alive,
# one connection per thread). Not a test: `make test` never runs it. BENCH_QUICK=1 shrinks N.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
TIMONEL=$BUILD/timonel
B=$BUILD/bench/bench-api
for f in "$TIMONEL" "$B"; do
        [ -x "$f" ] || { echo "bench: $f not built (run make bench)" >&2; exit 1; }
done
command -v etcd >/dev/null || { echo "bench: etcd not installed (scripts/deps.sh)" >&2; exit 1; }

Q=${BENCH_QUICK:-0}
scale() { if [ "$Q" = 1 ]; then echo $(($1 / 10)); else echo "$1"; fi; }

W=$(mktemp -d /var/tmp/timonel-bench.XXXXXX)
PIDS=()
DATADIRS=()
cleanup() {
        local p d
        for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
        for d in "${DATADIRS[@]}"; do "$TIMONEL" killall --data-dir "$d" >/dev/null 2>&1; done
        for p in "${PIDS[@]}"; do
                for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
                kill -KILL "$p" 2>/dev/null
                wait "$p" 2>/dev/null
        done
        rm -rf "$W"
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
wait_for() {
        local deadline=$((SECONDS + $1)); shift
        until "$@" >/dev/null 2>&1; do
                [ $SECONDS -ge $deadline ] && return 1
                sleep 0.1
        done
}
log() { echo "bench: $*" >&2; }
# val "k=v k=v ..." key
val() { local kv; for kv in $1; do [ "${kv%%=*}" = "$2" ] && { echo "${kv#*=}"; return; }; done; echo "-"; }

# ---- etcd ----
EP=$(free_port); PP=$(free_port)
ETCD=http://127.0.0.1:$EP
etcd --name bench --data-dir "$W/etcd" --listen-client-urls "$ETCD" --advertise-client-urls "$ETCD" \
        --listen-peer-urls "http://127.0.0.1:$PP" --initial-advertise-peer-urls "http://127.0.0.1:$PP" \
        --initial-cluster "bench=http://127.0.0.1:$PP" >"$W/etcd.log" 2>&1 &
PIDS+=($!)
wait_for 20 curl -sf "$ETCD/health" || { log "etcd did not start"; cat "$W/etcd.log" >&2; exit 1; }

# ---- timonel servers ----
# start_server NAME [--datastore-endpoint URL]; sets URL_<NAME>, TLS_<NAME>
start_server() {
        local name=$1; shift
        local d=$W/$name p kp
        p=$(free_port); kp=$(free_port)
        DATADIRS+=("$d")
        "$TIMONEL" server --data-dir "$d" --https-listen-port "$p" --kubelet-port "$kp" \
                --disable-agent --write-kubeconfig "$d/kc.yaml" "$@" >"$W/$name.log" 2>&1 &
        PIDS+=($!)
        eval "SPID_$name=$!"
        local tls=$d/server/tls
        local c=(curl -sf --cacert "$tls/ca.crt" --cert "$tls/admin.crt" --key "$tls/admin.key")
        if ! wait_for 30 "${c[@]}" "https://127.0.0.1:$p/readyz"; then
                log "server $name did not start"; tail -5 "$W/$name.log" >&2; return 1
        fi
        for ns in bench bench-w; do
                "${c[@]}" -o /dev/null -X POST -H 'Content-Type: application/json' \
                        -d "{\"apiVersion\":\"v1\",\"kind\":\"Namespace\",\"metadata\":{\"name\":\"$ns\"}}" \
                        "https://127.0.0.1:$p/api/v1/namespaces" || { log "create namespace $ns"; return 1; }
        done
        eval "URL_$name=https://127.0.0.1:$p TLS_$name=$tls"
}

declare -A R
# cpu_ticks PID...: user+system clock ticks of the processes so far
cpu_ticks() {
        local p t=0
        for p in "$@"; do
                [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
        done
        echo "$t"
}
# the processes whose CPU a figure costs: raw etcd puts -> etcd; timonel/sqlite -> its server;
# timonel/etcd -> its server and etcd
cpu_pids() {
        case $1 in
        etcd.put*) echo "${PIDS[0]}" ;;
        sqlite.*) echo "${SPID_sqlite:-}" ;;
        etcd.*) echo "${SPID_etcd:-} ${PIDS[0]}" ;;
        esac
}
# run KEY bench-api-args...: store its key=value line in R[KEY], plus cpu_ms_per_op (CPU time
# of the serving processes per operation: what the rate costs, independent of how loaded the
# machine is) for load runs
run() {
        local key=$1; shift
        local out pids c0 c1 n
        log "$key: bench-api $*"
        pids=$(cpu_pids "$key")
        c0=$(cpu_ticks $pids)
        out=$(timeout 240 "$B" "$@" 2>"$W/err") || { log "$key failed: $(cat "$W/err")"; }
        c1=$(cpu_ticks $pids)
        n=$(val "$out" ok)
        if [ "$1" = load ] && [ "$n" != - ] && [ "$n" -gt 0 ]; then
                out="$out cpu_ms_per_op=$(awk -v t=$((c1 - c0)) -v hz="$(getconf CLK_TCK)" -v n="$n" \
                        'BEGIN { printf "%.3f", t * 1000 / hz / n }')"
        fi
        R[$key]=$out
        log "  $out"
}
# median KEY FIELD...: R[KEY] = the median of each FIELD over R[KEY.1], R[KEY.2], R[KEY.3]
median() {
        local key=$1 f line="" i v; shift
        for f in "$@"; do
                v=$(for i in 1 2 3; do val "${R[$key.$i]:-}" "$f"; done | grep -v '^-$' | sort -g |
                        awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "-" }')
                line="$line $f=$v"
        done
        R[$key]=${line# }
}
# paired N1 N8 PREFIX URL TLS: durable creates of timonel and raw etcd puts, each figure measured
# right after its peer, three rounds, medians (a machine whose load changes during the run
# moves both figures of a round alike)
paired() {
        local n1=$1 n8=$2 k=$3 url=$4 tls=$5 i
        local a=(--url "$url" --tls "$tls")
        for i in 1 2 3; do
                run "etcd.put1.$k.$i" load --url "$ETCD" --op etcd-put --conns 1 --n "$n1" --objects 100
                run "$k.create1.$i" load "${a[@]}" --op create --conns 1 --n "$n1" \
                        --start $(((i - 1) * n1))
                run "etcd.put8.$k.$i" load --url "$ETCD" --op etcd-put --conns 8 --n "$n8" --objects 100
                run "$k.create8.$i" load "${a[@]}" --op create --conns 8 --n "$n8" \
                        --start $((3 * n1 + (i - 1) * n8))
        done
        local f
        for f in "etcd.put1.$k" "$k.create1" "etcd.put8.$k" "$k.create8"; do
                median "$f" rate p50_ms p99_ms cpu_ms_per_op
        done
}

# the API figures for one server (prefix = sqlite|etcd)
api_suite() {
        local k=$1 url=$2 tls=$3
        local a=(--url "$url" --tls "$tls")
        # 3 x (600 + 2733) = 9999 pods, + 1 of the watch = the 10,000 of the LIST target
        paired "$(scale 600)" "$(scale 2733)" "$k" "$url" "$tls"
        run "$k.update1" load "${a[@]}" --op update --conns 1 --n "$(scale 1000)" --objects 100
        run "$k.update8" load "${a[@]}" --op update --conns 8 --n "$(scale 4000)" --objects 100
        run "$k.get1" load "${a[@]}" --op get --conns 1 --n "$(scale 3000)" --objects 100
        run "$k.get8" load "${a[@]}" --op get --conns 8 --n "$(scale 10000)" --objects 100
        run "$k.list" list "${a[@]}" --runs 5
        run "$k.list0" list "${a[@]}" --runs 5 --rv0
        run "$k.watch" watch "${a[@]}" --ns bench-w --watchers 100 --events "$(scale 200)"
        local pid_var=SPID_$k
        if ! kill -0 "${!pid_var}" 2>/dev/null; then
                wait "${!pid_var}" 2>/dev/null
                log "server $k DIED during the run (exit $?); its log ends:"
                grep -v ' I apiserver: ' "$W/$k.log" | tail -n 15 >&2
                DIED="$DIED $k"
        fi
}
DIED=""

T0=$SECONDS

start_server sqlite || exit 1
api_suite sqlite "$URL_sqlite" "$TLS_sqlite"
# file size: 100,000 updates of 100 objects through the store library (the server's code path,
# without HTTP), 8 writer threads, on the disk
run sqlite.dbsize store --db "$W/dbsize/state.db" --objects 100 --n "$(scale 100000)" --conns 8
# group commit: durable creates straight into the store, 1 writer thread vs 8 (batches form)
run sqlite.store1 store --db "$W/gc1/state.db" --objects 100000 --n "$(scale 5000)" --conns 1
run sqlite.store8 store --db "$W/gc8/state.db" --objects 100000 --n "$(scale 20000)" --conns 8

HAVE_ETCD_BACKEND=0
if [ -f "$ROOT/src/store/store-etcd.c" ]; then
        HAVE_ETCD_BACKEND=1
        if start_server etcd --datastore-endpoint "$ETCD"; then
                api_suite etcd "$URL_etcd" "$TLS_etcd"
        else
                HAVE_ETCD_BACKEND=0
        fi
fi

# ---- the table ----
# verdict VALUE OP LIMIT: met / not met / -
verdict() {
        [ "$1" = - ] && { echo "-"; return; }
        if awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN { exit !((op == "ge" && v >= l) || (op == "lt" && v < l)) }'; then
                echo "met"
        else
                echo "NOT MET"
        fi
}
g() { val "${R[$1]:-}" "$2"; }
row() { printf '| %-46s | %14s | %12s | %14s | %-22s | %-7s |\n' "$@"; }

P1=$(g etcd.put1.sqlite rate); P8=$(g etcd.put8.sqlite rate)
C1=$(g sqlite.create1 rate); C8=$(g sqlite.create8 rate)
E=$([ $HAVE_ETCD_BACKEND = 1 ] && echo 1 || echo 0)
e() { if [ $E = 1 ]; then g "etcd.$1" "$2"; else echo "n/a"; fi; }
twice() { awk -v p="$1" 'BEGIN { if (p == "-") print "-"; else printf "%.0f", 2 * p }'; }

echo
echo "timonel datastore benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, load average $(cut -d" " -f1-3 /proc/loadavg) at the end, data on $(df -T "$W" | awk 'NR==2 {print $2}')"
echo "client: bench-api (libcurl, HTTP/1.1 keep-alive, 1 connection per thread); pods ~600 B JSON"
echo
row "figure" "timonel/sqlite" "timonel/etcd" "peer: raw etcd" "target" "sqlite"
row "----------------------------------------------" "--------------" "------------" "--------------" "----------------------" "-------"
row "durable creates/s, 1 connection" "$C1" "$(e create1 rate)" "$P1 puts/s" ">= 2x peer ($(twice "$P1"))" "$(verdict "$C1" ge "$(twice "$P1")")"
row "durable creates/s, 8 connections" "$C8" "$(e create8 rate)" "$P8 puts/s" ">= 2x peer ($(twice "$P8"))" "$(verdict "$C8" ge "$(twice "$P8")")"
row "create p50 / p99 ms, 8 connections" "$(g sqlite.create8 p50_ms)/$(g sqlite.create8 p99_ms)" "$(e create8 p50_ms)/$(e create8 p99_ms)" "$(g etcd.put8.sqlite p50_ms)/$(g etcd.put8.sqlite p99_ms)" "" ""
row "server CPU ms per create (put), 1 / 8 conns" "$(g sqlite.create1 cpu_ms_per_op)/$(g sqlite.create8 cpu_ms_per_op)" "$(e create1 cpu_ms_per_op)/$(e create8 cpu_ms_per_op)" "$(g etcd.put1.sqlite cpu_ms_per_op)/$(g etcd.put8.sqlite cpu_ms_per_op)" "" ""
row "updates/s, 1 / 8 connections" "$(g sqlite.update1 rate)/$(g sqlite.update8 rate)" "$(e update1 rate)/$(e update8 rate)" "" "" ""
row "update p50 / p99 ms, 8 connections" "$(g sqlite.update8 p50_ms)/$(g sqlite.update8 p99_ms)" "$(e update8 p50_ms)/$(e update8 p99_ms)" "" "" ""
row "gets/s, 1 / 8 connections" "$(g sqlite.get1 rate)/$(g sqlite.get8 rate)" "$(e get1 rate)/$(e get8 rate)" "" "" ""
row "get p50 / p99 ms, 8 connections" "$(g sqlite.get8 p50_ms)/$(g sqlite.get8 p99_ms)" "$(e get8 p50_ms)/$(e get8 p99_ms)" "" "" ""
L=$(g sqlite.list0 p50_ms)
row "LIST $(g sqlite.list items) pods, ms (p50 of 5)" "$(g sqlite.list p50_ms)" "$(e list p50_ms)" "" "" ""
row "LIST rv=0 (watch cache) $(g sqlite.list0 items) pods, ms" "$L" "$(e list0 p50_ms)" "" "< 100 ms" "$(verdict "$L" lt 100)"
WP=$(g sqlite.watch p99_ms)
row "watch write->watcher p50/p99 ms, 100 watchers" "$(g sqlite.watch p50_ms)/$WP" "$(e watch p50_ms)/$(e watch p99_ms)" "" "p99 < 10 ms" "$(verdict "$WP" lt 10)"
row "  watch events delivered / expected" "$(g sqlite.watch delivered)/$(g sqlite.watch expected)" "$(e watch delivered)/$(e watch expected)" "" "all" ""
DB=$(g sqlite.dbsize open_mb)
row "DB+WAL MB after $(g sqlite.dbsize n) updates of 100 objects" "$DB" "" "" "< 50 MB" "$(verdict "$DB" lt 50)"
row "  (after close: WAL checkpointed)" "$(g sqlite.dbsize total_mb)" "" "" "" ""
row "  (store-level, 8 threads: updates/s)" "$(g sqlite.dbsize rate)" "" "" "" ""
row "store-level durable creates/s, 1 / 8 threads" "$(g sqlite.store1 rate)/$(g sqlite.store8 rate)" "" "$P1/$P8" "(group commit)" ""
echo
[ $HAVE_ETCD_BACKEND = 1 ] || echo "timonel/etcd: n/a (no src/store/store-etcd.c in this tree yet)"
[ -z "$DIED" ] || echo "SERVER DIED during the run:$DIED (figures after that are failures, see stderr)"
echo "creates and their raw etcd peers: 3 rounds, each timonel figure right after its peer, medians;"
echo "  timonel/etcd's creates are paired with their own etcd rounds (etcd.put*.etcd in the log)."
echo "CPU ms per op: user+system time of the serving processes (timonel server; etcd) / operations."
echo "watch latency is measured from just before the PATCH is sent (includes its commit): an upper bound."
echo "bench took $((SECONDS - T0)) s"
