#!/bin/bash
# 020-runtime-killall.sh — `timonel killall` cleans up after a crashed agent: leftovers made with
# the real tools the way the runtime makes them (runc container with its --root under DATA, overlay
# rootfs, pinned netns, bridge, blackhole fence route, pod cgroups, runtime.json) are all removed;
# images, logs and server state stay; a second run is a no-op. Own names only (bridge tmnle2e0,
# route 10.197.0.0/16, cgroup /tmnle2e); everything is removed on exit, also on failure.
# Prints TAP and "N passed, N failed". TIMONEL=path overrides the binary.
set -u
cd "$(dirname "$0")/../.."
bin=${TIMONEL:-${BUILD:-build}/timonel}
n=0 pass=0 fail=0
ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; [ $# -gt 1 ] && echo "# $2"; }
check() { local d=$1; shift; if "$@" >/dev/null 2>&1; then ok "$d"; else notok "$d" "command: $*"; fi; }
finish() { echo "1..$n"; echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit; }
if [ "$(id -u)" != 0 ]; then echo "ok 1 # SKIP not root"; echo "1..1"; echo "1 passed, 0 failed"; exit 0; fi
if [ ! -x "$bin" ]; then notok "binary $bin exists"; finish; fi
RUNC=/usr/sbin/runc
BR=tmnle2e0 FENCE=10.197.0.0/16 CG=tmnle2e U=e2e00000-0000-4000-8000-000000000001 C=e2e000000000-app-0
tmp=$(mktemp -d /tmp/e2e-killall.XXXXXX)
data=$tmp/data A=$tmp/data/agent
P=$A/pods/$U CD=$P/containers/$C NS=$A/run/netns/$U
cleanup() {
        $RUNC --root "$A/run/runc" delete --force $C >/dev/null 2>&1
        grep -o " $tmp[^ ]*" /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
        ip link del $BR >/dev/null 2>&1
        ip route del blackhole $FENCE >/dev/null 2>&1
        for d in /sys/fs/cgroup/*/$CG; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; ; done
        rm -rf "$tmp"
}
trap cleanup EXIT

# --- leftovers of a "crashed" agent ---
mkdir -p "$tmp/layer/bin" "$CD/upper" "$CD/work" "$CD/rootfs" "$A/run/netns" "$A/run/runc" \
        "$A/images/blobs" "$data/server/db" "$A/logs/default_p_$U/app"
cp /bin/busybox "$tmp/layer/bin/" && ln -s busybox "$tmp/layer/bin/sleep"
echo keep >"$A/images/blobs/marker"; echo keep >"$data/server/db/state.db"
echo keep >"$A/logs/default_p_$U/app/0.log"
mount -t overlay overlay -o "lowerdir=$tmp/layer,upperdir=$CD/upper,workdir=$CD/work" "$CD/rootfs"
touch "$NS" && unshare --net="$NS" true
ip link add $BR type bridge
ip route replace blackhole $FENCE
(cd "$CD" && $RUNC spec) && jq --arg r "$CD/rootfs" --arg ns "$NS" --arg cg "/$CG/besteffort/pod$U/$C" '
        .process.terminal = false | .process.args = ["sleep", "1037"] | .root.path = $r |
        .root.readonly = false | .linux.cgroupsPath = $cg |
        .linux.namespaces |= (map(select(.type != "network")) + [{type: "network", path: $ns}])' \
        "$CD/config.json" >"$CD/c.json" && mv "$CD/c.json" "$CD/config.json"
$RUNC --root "$A/run/runc" run -d --bundle "$CD" $C </dev/null >/dev/null 2>&1
jq -n --arg rt $RUNC --arg root "$A/run/runc" --arg br $BR --arg f $FENCE --arg cg /$CG \
        '{runtime: $rt, runtime_name: "runc", runtime_root: $root, bridge: $br, fences: [$f],
          cgroup_root: $cg, cni_bin_dir: "/usr/lib/cni",
          cni_conf: ({cniVersion: "1.0.0", name: "timonel", type: "bridge", bridge: $br,
                      ipam: {type: "host-local", ranges: [[{subnet: "10.197.7.0/24"}]],
                             dataDir: "'"$A"'/run/cni/networks"}} | tojson)}' >"$A/run/runtime.json"
check "setup: container running" bash -c "pgrep -f '^sleep 1037' "
check "setup: overlay + netns mounted" bash -c "grep -q '$CD/rootfs' /proc/mounts && grep -q '$NS' /proc/mounts"
check "setup: cgroup exists" bash -c "ls -d /sys/fs/cgroup/*/$CG/besteffort/pod$U/$C"

# --- killall ---
out=$("$bin" killall --data-dir "$data" -v 2>&1); rc=$?
if [ $rc = 0 ]; then ok "killall exits 0"; else notok "killall exits 0" "rc=$rc: $out"; fi
echo "$out" | sed 's/^/# /'
check "container process gone" bash -c "! pgrep -f '^sleep 1037'"
check "runc has no container" bash -c "[ -z \"\$($RUNC --root '$A/run/runc' list -q 2>/dev/null)\" ]"
check "no mounts under the data dir" bash -c "! grep -q ' $data' /proc/mounts"
check "netns file gone" test ! -e "$NS"
check "bridge gone" bash -c "! ip link show $BR"
check "fence route gone" bash -c "[ -z \"\$(ip route show exact $FENCE)\" ]"
check "pod cgroups gone" bash -c "! ls -d /sys/fs/cgroup/*/$CG"
check "pod dirs gone" test ! -e "$A/pods"
check "images kept" test -f "$A/images/blobs/marker"
check "server state kept" test -f "$data/server/db/state.db"
check "logs kept" test -f "$A/logs/default_p_$U/app/0.log"
check "verbose output names the bridge" bash -c "echo '$out' | grep -q 'removed bridge $BR'"
check "second killall is a no-op" "$bin" killall --data-dir "$data"
check "killall on an empty dir" "$bin" killall --data-dir "$tmp/nothing"
check "killall with an unknown flag fails" bash -c "! '$bin' killall --bogus"
finish
