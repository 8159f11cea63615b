#!/bin/bash
# 120-datastore-faults.sh — the SQLite datastore under faults (issue 3, "Faults and bad input"):
#   1. kill -9 of `timonel server` during a write load of concurrent clients, several rounds:
#      every create that got a 2xx is there after the restart, complete; none appears half-written.
#   2. a corrupt database file (garbage over its pages / over its header): clear one-line error,
#      non-zero exit, no crash, the file left as it was (never silently starting empty).
#   3. a full disk (the data dir on a small tmpfs this test mounts): the server keeps running,
#      writes fail with 500 InternalError (what kube-apiserver answers for a storage error), reads
#      keep working, and writes succeed again once space is freed.
#   4. an unusable data dir (db directory chmod 000 without CAP_DAC_OVERRIDE, a file in place of
#      the db directory, a directory in place of the db file): the same clear failure.
# Root only (tmpfs mount, capability drop). Everything on loopback; all cleaned up on every exit.
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "needs root"
ROUNDS=${FAULT_ROUNDS:-4}
WRITERS=${FAULT_WRITERS:-6}

W=$(mktemp -d /tmp/timonel-e2e-faults.XXXXXX)
D=$W/data
LOG=$W/server.log
SERVER_PID=
PORT=
on_exit "rm -rf $W"
on_exit "umount -l $W/small 2>/dev/null"
on_exit "$TIMONEL killall --data-dir $D; $TIMONEL killall --data-dir $W/small/d"
on_exit 'stop_server KILL'
on_exit 'stop_writers'

# start_server DATA_DIR — the server on fresh ports; waits until /readyz answers
start_server() {
        local dd=$1 try
        for try in 1 2 3; do
                PORT=$(free_port)
                "$TIMONEL" server --data-dir "$dd" --https-listen-port "$PORT" \
                        --kubelet-port "$(free_port)" --disable-agent >>"$LOG" 2>&1 &
                SERVER_PID=$!
                TLS=$dd/server/tls
                API=https://127.0.0.1:$PORT
                wait_for 30 api_q GET /readyz && return 0
                diag "server on $dd did not become ready (try $try); its log ends:" "$(tail -n 5 "$LOG")"
                # another process may have taken the port between free_port and the bind
                kill -0 "$SERVER_PID" 2>/dev/null && return 1
                SERVER_PID=
        done
        return 1
}
# stop_server [TERM|KILL]
stop_server() {
        [ -n "$SERVER_PID" ] || return 0
        kill -"${1:-TERM}" "$SERVER_PID" 2>/dev/null
        for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
        SERVER_PID=
}
# api METHOD PATH [BODY] — fails unless 2xx; the body on stdout
api() {
        curl -sf --max-time 10 --cacert "$TLS/ca.crt" --cert "$TLS/admin.crt" --key "$TLS/admin.key" \
                -X "$1" -H 'Content-Type: application/json' ${3:+-d "$3"} "$API$2"
}
api_q() { api "$@" >/dev/null; }
# api_code METHOD PATH [BODY|@FILE] — prints the HTTP status; the body goes to $W/body
api_code() {
        curl -s --max-time 10 -o "$W/body" -w '%{http_code}' --cacert "$TLS/ca.crt" \
                --cert "$TLS/admin.crt" --key "$TLS/admin.key" -X "$1" \
                -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$API$2"
}
cm() { printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s"},"data":{"v":"%s","pad":"%s"}}' "$1" "$1" "$2"; }

# ---- 1. kill -9 under concurrent writers ----
PAD=$(head -c 3000 /dev/zero | tr '\0' x)
WRITER_PIDS=()
writer() { # writer ROUND_DIR ID: create configmaps until told to stop, record the 2xx ones
        local rd=$1 id=$2 i=0 n code
        while [ ! -e "$rd/stop" ] && [ $i -lt 5000 ]; do
                n=$(basename "$rd")-w$id-$i
                echo "$n" >>"$rd/tried"
                code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' --cacert "$TLS/ca.crt" \
                        --cert "$TLS/admin.crt" --key "$TLS/admin.key" -X POST \
                        -H 'Content-Type: application/json' -d "$(cm "$n" "$PAD")" \
                        "$API/api/v1/namespaces/faults/configmaps")
                case $code in 2??) echo "$n" >>"$rd/acked-$id" ;; esac
                i=$((i + 1))
        done
}
stop_writers() {
        local p
        for p in "${WRITER_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
        WRITER_PIDS=()
}
# every stored configmap of the namespace, complete: "name" lines for data.v == name and the pad
list_complete() {
        api GET /api/v1/namespaces/faults/configmaps | jq -r --arg pad "$PAD" \
                '.items[] | select(.data.v == .metadata.name and .data.pad == $pad) | .metadata.name' | sort
}
list_all() { api GET /api/v1/namespaces/faults/configmaps | jq -r '.items[].metadata.name' | sort; }

check "server starts on a fresh data dir" start_server "$D"
check "namespace created" api_q POST /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"faults"}}'
total_acked=0
for round in $(seq "$ROUNDS"); do
        RD=$W/r$round
        mkdir -p "$RD"
        : >"$RD/tried"
        WRITER_PIDS=()
        for id in $(seq "$WRITERS"); do writer "$RD" "$id" & WRITER_PIDS+=($!); done
        # let the load run (at least 25 acknowledged: on a loaded machine a fixed time may not
        # be enough), then kill -9 the server in the middle of it
        acks() { [ "$(cat "$RD"/acked-* 2>/dev/null | wc -l)" -ge 25 ]; }
        wait_for 60 acks
        sleep "$(awk -v r=$RANDOM 'BEGIN { printf "%.1f", 0.2 + (r % 15) / 10 }')"
        kill -KILL "$SERVER_PID"
        wait "$SERVER_PID" 2>/dev/null
        SERVER_PID=
        touch "$RD/stop"
        for p in "${WRITER_PIDS[@]}"; do wait "$p" 2>/dev/null; done
        WRITER_PIDS=()
        cat "$RD"/acked-* 2>/dev/null | sort >"$RD/acked"
        sort "$RD/tried" >"$RD/tried.sorted"
        n_acked=$(wc -l <"$RD/acked")
        total_acked=$((total_acked + n_acked))
        check "[round $round] server restarts after kill -9" start_server "$D"
        list_all | grep "^r$round-" >"$RD/stored"
        list_complete | grep "^r$round-" >"$RD/complete"
        missing=$(comm -23 "$RD/acked" "$RD/stored" | wc -l)
        half=$(comm -23 "$RD/stored" "$RD/complete" | wc -l)
        unknown=$(comm -23 "$RD/stored" "$RD/tried.sorted" | wc -l)
        diag "round $round: $n_acked acknowledged, $(wc -l <"$RD/stored") stored, $(wc -l <"$RD/tried") tried"
        check "[round $round] the load wrote something before the kill ($n_acked)" test "$n_acked" -gt 20
        check "[round $round] every acknowledged create is there after restart ($missing missing)" test "$missing" -eq 0
        check "[round $round] no stored object is half-written ($half)" test "$half" -eq 0
        check "[round $round] nothing stored that was never sent ($unknown)" test "$unknown" -eq 0
        # GET each acknowledged one individually (the last 30 are the ones the kill was closest to)
        bad=0
        for n in $(tail -n 30 "$RD/acked"); do
                [ "$(api GET "/api/v1/namespaces/faults/configmaps/$n" | jq -r .data.v)" = "$n" ] || bad=$((bad + 1))
        done
        check "[round $round] GET of the last acknowledged creates returns them ($bad bad)" test "$bad" -eq 0
done
diag "kill -9 rounds: $total_acked acknowledged writes in total"
stop_server TERM

# ---- 2. corrupt database file ----
# start_must_fail DATA_DIR NAME [server prefix...] — the server must exit by itself, non-zero,
# not by a signal, with a one-line "timonel server: datastore: ..." error
start_must_fail() {
        local dd=$1 name=$2; shift 2
        local rc
        timeout 30 "$@" "$TIMONEL" server --data-dir "$dd" --https-listen-port "$(free_port)" \
                --kubelet-port "$(free_port)" --disable-agent >"$W/$name.out" 2>"$W/$name.err"
        rc=$?
        diag "$name: exit $rc: $(tail -n 1 "$W/$name.err")"
        check "[$name] server exits non-zero by itself, no crash (exit $rc)" test "$rc" -ge 1 -a "$rc" -lt 124
        check "[$name] one clear datastore error line" \
                grep -qE '^timonel server: datastore: .*(state\.db|/db)' "$W/$name.err"
        check "[$name] no crash report in its output" \
                bash -c "! grep -qiE 'segmentation|assert|abort|AddressSanitizer' '$W/$name.err'"
}
DC=$W/corrupt
cp -a "$D" "$DC"
DB=$DC/server/db/state.db
rm -f "$DB-wal" "$DB-shm"
size=$(stat -c %s "$DB")
pages=$((size / 4096))
diag "database: $size bytes, $pages pages"
check "database has pages to corrupt" test "$pages" -ge 8
# garbage over every page but the header page (deterministic bytes)
head -c $(((pages - 1) * 4096)) /dev/urandom >"$W/garbage"
dd if="$W/garbage" of="$DB" bs=4096 seek=1 conv=notrunc status=none
sum_before=$(md5sum <"$DB")
start_must_fail "$DC" corrupt-pages
check "[corrupt-pages] error says corrupt" grep -qiE 'corrupt|malformed|not a (SQLite )?database' "$W/corrupt-pages.err"
check "[corrupt-pages] the database file is left as it was" test "$(md5sum <"$DB")" = "$sum_before"
# garbage over the header page too
head -c 4096 /dev/urandom | dd of="$DB" bs=4096 conv=notrunc status=none
sum_before=$(md5sum <"$DB")
start_must_fail "$DC" corrupt-header
check "[corrupt-header] error says not a database / corrupt" grep -qiE 'corrupt|not a (SQLite )?database' "$W/corrupt-header.err"
check "[corrupt-header] the database file is left as it was" test "$(md5sum <"$DB")" = "$sum_before"
rm -rf "$DC"

# ---- 3. full disk ----
mkdir -p "$W/small"
if mount -t tmpfs -o size=16m tmpfs "$W/small"; then
        DS=$W/small/d
        check "[disk-full] server starts on a 16 MiB tmpfs" start_server "$DS"
        api POST /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"faults"}}' >/dev/null
        BIG=$(head -c 200000 /dev/zero | tr '\0' y)
        cm before "$BIG" >"$W/big.json"
        check "[disk-full] a write before the disk fills" test "$(api_code POST /api/v1/namespaces/faults/configmaps "@$W/big.json")" = 201
        dd if=/dev/zero of="$W/small/fill" bs=64k status=none 2>/dev/null
        dd if=/dev/zero of="$W/small/fill2" bs=512 status=none 2>/dev/null
        diag "tmpfs: $(df -h --output=avail "$W/small" | tail -1) available"
        # writes until one fails (the WAL may have room left over from earlier commits)
        codes=""
        acked_full=()
        for i in $(seq 40); do
                cm full-$i "$BIG" >"$W/big.json"
                c=$(api_code POST /api/v1/namespaces/faults/configmaps "@$W/big.json")
                codes="$codes $c"
                case $c in 2??) acked_full+=("full-$i") ;; *) break ;; esac
        done
        diag "write codes on the full disk:$codes"
        check "[disk-full] a write on the full disk fails with 500 (last: $c)" test "$c" = 500
        check "[disk-full] ... reason InternalError" test "$(jq -r .reason "$W/body")" = InternalError
        diag "message: $(jq -r .message "$W/body")"
        check "[disk-full] ... and the message says the disk is full" grep -qi 'full' "$W/body"
        check "[disk-full] the server keeps running" kill -0 "$SERVER_PID"
        check "[disk-full] reads still work" api_q GET /api/v1/namespaces/faults/configmaps/before
        check "[disk-full] /readyz still answers" api_q GET /readyz
        rm -f "$W/small/fill" "$W/small/fill2"
        write_again() { [ "$(api_code POST /api/v1/namespaces/faults/configmaps "$(cm after-$RANDOM x)")" = 201 ]; }
        check "[disk-full] writes succeed again once space is freed" wait_for 10 write_again
        stored=$(list_all | tr '\n' ' ')
        lost=0
        for n in before "${acked_full[@]}"; do case " $stored " in *" $n "*) ;; *) lost=$((lost + 1)) ;; esac; done
        check "[disk-full] every acknowledged write is still there ($lost lost)" test "$lost" -eq 0
        stop_server TERM
        check "[disk-full] restart after the episode keeps the data" start_server "$DS"
        check "[disk-full] ... object written before the disk filled" api_q GET /api/v1/namespaces/faults/configmaps/before
        stop_server TERM
        "$TIMONEL" killall --data-dir "$DS" >/dev/null 2>&1
        umount "$W/small" || umount -l "$W/small"
else
        not_ok "[disk-full] mount a tmpfs at $W/small"
fi

# ---- 4. unusable data dir ----
DU=$W/unusable
cp -a "$D" "$DU"
rm -rf "$DU/server/db"
mkdir -m 000 "$DU/server/db"
# root ignores permissions through CAP_DAC_OVERRIDE: run the server without it
start_must_fail "$DU" db-dir-mode-000 setpriv --bounding-set -dac_override,-dac_read_search --
check "[db-dir-mode-000] error names the cause" grep -qiE 'permission denied|unable to open|cannot' "$W/db-dir-mode-000.err"
check "[db-dir-mode-000] no database created" test -z "$(ls -A "$DU/server/db")"
rmdir "$DU/server/db"
echo "not a directory" >"$DU/server/db"
start_must_fail "$DU" db-dir-is-a-file
check "[db-dir-is-a-file] the file is left as it was" test "$(cat "$DU/server/db")" = "not a directory"
rm -f "$DU/server/db"
mkdir -p "$DU/server/db/state.db"
start_must_fail "$DU" db-file-is-a-dir
check "[db-file-is-a-dir] error says it is a directory" grep -q "is a directory" "$W/db-file-is-a-dir.err"
check "[db-file-is-a-dir] still a directory, nothing created in it" test -z "$(ls -A "$DU/server/db/state.db")"

# the original data dir is still intact after all this
check "original data dir: server starts again" start_server "$D"
n_stored=$(list_all | wc -l)
check "original data dir: all $total_acked acknowledged objects still listed ($n_stored stored)" test "$n_stored" -ge "$total_acked"
stop_server TERM
