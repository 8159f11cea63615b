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
