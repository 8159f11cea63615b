# lib.sh — shared helpers for e2e tests (sourced). TAP output, a final "N passed, N failed"
# line, and cleanup that runs on every exit path.
set -u
E2E_PASS=0
E2E_FAIL=0
E2E_N=0
E2E_CLEANUP=()
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TIMONEL=${TIMONEL:-$ROOT/build/timonel}

ok() { E2E_N=$((E2E_N + 1)); E2E_PASS=$((E2E_PASS + 1)); echo "ok $E2E_N - $*"; }
not_ok() { E2E_N=$((E2E_N + 1)); E2E_FAIL=$((E2E_FAIL + 1)); echo "not ok $E2E_N - $*"; }
# check "description" command...  — runs the command, ok if it exits 0
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
diag() { printf '# %s\n' "$@"; }
skip_all() { echo "1..0 # SKIP $*"; echo "0 passed, 0 failed"; exit 0; }
on_exit() { E2E_CLEANUP+=("$*"); }
e2e_finish() {
        local i
        for ((i = ${#E2E_CLEANUP[@]} - 1; i >= 0; i--)); do eval "${E2E_CLEANUP[$i]}" >/dev/null 2>&1 || true; done
        E2E_CLEANUP=()
        echo "1..$E2E_N"
        echo "$E2E_PASS passed, $E2E_FAIL failed"
}
trap 'e2e_finish' EXIT
trap 'exit 130' INT TERM

# wait_for SECONDS command... — retry every 0.1 s until the command succeeds
wait_for() {
        local deadline=$((SECONDS + $1)); shift
        until "$@" >/dev/null 2>&1; do
                [ $SECONDS -ge $deadline ] && return 1
                sleep 0.1
        done
}

# free_port — a TCP port nobody listens on (never 18080, see PLATFORM.md)
free_port() {
        local p
        for _ in $(seq 50); do
                p=$((20000 + RANDOM % 20000))
                [ "$p" = 18080 ] && continue
                ss -Hltn "sport = :$p" | grep -q . || { echo "$p"; return 0; }
        done
        return 1
}

# node_cluster NAME — a one-node cluster for a test: work dir W (/tmp/timonel-e2e-NAME.*), data
# dir D, free ports PORT (API) and KPORT (kubelet), kubeconfig KC, server log LOG; busybox:1.36
# built and imported, `timonel server` started (start_server/stop_server [SIGNAL] restart it),
# checks "kubeconfig written" and "node Ready"; K0 is kubectl 1.31 on KC, NODE the node's name.
# At exit: the server stopped, killall of D, W removed.
start_server() {
        "$TIMONEL" server --data-dir "$D" --https-listen-port "$PORT" --kubelet-port "$KPORT" \
                --write-kubeconfig "$KC" >>"$LOG" 2>&1 &
        SERVER_PID=$!
}
stop_server() { # stop_server [SIGNAL]
        [ -n "${SERVER_PID:-}" ] || return 0
        kill -"${1:-TERM}" "$SERVER_PID" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
        SERVER_PID=
}
node_ready() { $K0 get nodes --no-headers | grep -q ' Ready '; }
node_cluster() {
        W=$(mktemp -d "/tmp/timonel-e2e-$1.XXXXXX")
        D=$W/data
        PORT=$(free_port)
        KPORT=$(free_port)
        KC=$D/kc.yaml
        LOG=$W/server.log
        SERVER_PID=
        on_exit "rm -rf $W"
        on_exit "$TIMONEL killall --data-dir $D"
        on_exit 'stop_server'
        bash "$ROOT/tests/data/images/make-busybox-tars.sh" "$W/img" >"$W/img.log" 2>&1
        check "test image tarballs built" test -s "$W/img/busybox-docker.tar"
        check "image import" "$TIMONEL" image import --data-dir "$D" "$W/img/busybox-docker.tar"
        start_server
        diag "server pid $SERVER_PID, API port $PORT, kubelet port $KPORT"
        check "kubeconfig written" wait_for 10 test -s "$KC"
        K0="/usr/lib/google-cloud-sdk/bin/kubectl.1.31 --kubeconfig $KC --cache-dir $W/cache-0"
        check "node Ready" wait_for 20 node_ready
        NODE=$($K0 get nodes -o jsonpath='{.items[0].metadata.name}')
}
