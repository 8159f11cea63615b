#!/bin/bash
# 160-python-client.sh — the official Python client (python3-kubernetes, KUBECTL.md section 10)
# against a timonel server: pods (create, 409, list with a label selector, watch from a
# resourceVersion seeing MODIFIED then DELETED, strategic merge patch, read, delete, 404) and
# deployments (create, 409, list, patch of the scale subresource, patch, delete), once with the
# admin kubeconfig (client certificate) and once with a ServiceAccount token bound to the edit
# ClusterRole in one namespace (403 in another). Custom resources: e2e 170 (python/crd_test.py).
# Server without a node (pods stay Pending).
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
$PY -c 'import kubernetes' 2>/dev/null || skip_all "python3-kubernetes not installed"
KBIN=/usr/lib/google-cloud-sdk/bin

W=$(mktemp -d /tmp/timonel-e2e-py.XXXXXX)
D=$W/data
PORT=$(free_port)
KC=$W/admin.yaml
LOG=$W/server.log
SERVER_PID=
on_exit "rm -rf $W"
on_exit "$TIMONEL killall --data-dir $D"
on_exit 'stop_server'
stop_server() {
        [ -n "$SERVER_PID" ] || return 0
        kill -TERM "$SERVER_PID" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
        SERVER_PID=
}
"$TIMONEL" server --data-dir "$D" --https-listen-port "$PORT" --disable-agent \
        --write-kubeconfig "$KC" >>"$LOG" 2>&1 &
SERVER_PID=$!
check "kubeconfig written" wait_for 15 test -s "$KC"
K="$KBIN/kubectl.1.31 --kubeconfig $KC --cache-dir $W/cache"
check "server answers" wait_for 10 $K get --raw /readyz

# run_py ARGS... — each PASS/FAIL line of the script becomes one TAP line
run_py() {
        local line rc
        $PY "$(dirname "$0")/python/client_test.py" "$@" >"$W/py.out" 2>"$W/py.err"
        rc=$?
        while IFS= read -r line; do
                case $line in
                PASS\ *) ok "python: ${line#PASS }" ;;
                FAIL\ *) not_ok "python: ${line#FAIL }" ;;
                esac
        done <"$W/py.out"
        [ $rc -eq 0 ] || sed 's/^/# /' "$W/py.err" | tail -20
        check "python client exited 0 (${PY_WHAT:-})" test $rc -eq 0
}

check "create namespace py-cert" $K create namespace py-cert
PY_WHAT="client certificate" run_py --kubeconfig "$KC" --namespace py-cert --tag cert

check "create namespace py-token" $K create namespace py-token
check "create serviceaccount" $K create serviceaccount pyclient -n py-token
check "bind edit in py-token" $K create rolebinding pyclient-edit -n py-token --clusterrole=edit \
        --serviceaccount=py-token:pyclient
TOK=$($K create token pyclient -n py-token)
PY_WHAT="ServiceAccount token" run_py --token "$TOK" --server "https://127.0.0.1:$PORT" --ca "$D/server/tls/ca.crt" \
        --namespace py-token --tag token --forbidden-namespace py-cert

# custom resources through the Python client: e2e 170 (python/crd_test.py)
check "server still running" kill -0 "$SERVER_PID"
