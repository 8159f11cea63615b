#!/bin/bash
# 010-image-import.sh — `timonel image import|ls|rm` end to end: docker-save and OCI (gzip)
# archives of busybox:1.36 built offline by tests/data/images/make-busybox-tars.sh, the ls table,
# bad files (one line on stderr, non-zero exit, store unchanged), rm + layer GC, and the layers
# stacked as an overlay actually run busybox. Prints TAP and "N passed, N failed".
# TIMONEL=path/to/timonel overrides the binary (default: ${BUILD:-build}/timonel).
set -u
cd "$(dirname "$0")/../.."
bin=${TIMONEL:-${BUILD:-build}/timonel}
tmp=$(mktemp -d /tmp/e2e-image-import.XXXXXX)
mnt=""
cleanup() {
        [ -n "$mnt" ] && umount "$mnt" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT
n=0 pass=0 fail=0
ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; [ $# -gt 1 ] && echo "# $2"; }
check() { local d=$1; shift; if "$@" >/dev/null; then ok "$d"; else notok "$d" "command: $*"; fi; }
finish() { echo "1..$n"; echo "$pass passed, $fail failed"; [ "$fail" -eq 0 ]; exit; }

if [ ! -x "$bin" ]; then notok "binary $bin exists"; finish; fi
data=$tmp/data
store=$data/agent/images
img() { "$bin" image "$@"; }
snapshot() { (cd "$store" 2>/dev/null && find . -path ./tmp -prune -o -printf '%p %y %s %m\n' | sort); }

if tests/data/images/make-busybox-tars.sh "$tmp/tars" >"$tmp/fixture.log" 2>&1; then
        ok "fixture tarballs built"
else
        notok "fixture tarballs built" "$(tail -n 3 "$tmp/fixture.log")"; finish
fi

# --help
for sub in import ls rm; do
        check "image $sub --help exits 0 and prints usage" bash -c \
                "'$bin' image $sub --help | grep -q '^usage: timonel image $sub'"
done

# empty store
out=$(img ls --data-dir "$data" 2>&1); rc=$?
check "ls on an empty store prints only the header" test "$rc" -eq 0 -a "$(echo "$out" | wc -l)" -eq 1
check "ls header is IMAGE TAG IMAGE ID SIZE" bash -c "echo '$out' | grep -Eq '^IMAGE +TAG +IMAGE ID +SIZE$'"

# docker save tarball
out=$(img import --data-dir "$data" "$tmp/tars/busybox-docker.tar" 2>"$tmp/err"); rc=$?
check "import docker archive exits 0" test "$rc" -eq 0
check "import reports the name" test "$out" = "imported docker.io/library/busybox:1.36"
check "import is silent on stderr" test ! -s "$tmp/err"
out=$(img ls --data-dir "$data")
row=$(echo "$out" | sed -n 2p)
check "ls lists busybox 1.36" bash -c "echo '$row' | grep -Eq '^docker.io/library/busybox +1.36 +[0-9a-f]{13} +[0-9.]+(kB|MB)$'"
check "ls has exactly one image" test "$(echo "$out" | wc -l)" -eq 2
id=$(img ls -q --data-dir "$data")
check "ls -q prints the full id" bash -c "echo '$id' | grep -Eq '^sha256:[0-9a-f]{64}$'"

# OCI archive, gzip: same image -> same id, layers not duplicated
layers_before=$(ls "$store/layers" | wc -l)
check "import OCI archive (gzip) exits 0" img import --data-dir "$data" "$tmp/tars/busybox-oci.tar.gz"
check "import OCI archive (plain) exits 0" img import --data-dir "$data" "$tmp/tars/busybox-oci.tar"
check "same image, still one row" test "$(img ls --data-dir "$data" | wc -l)" -eq 2
check "layers stored once (2 layers)" test "$(ls "$store/layers" | wc -l)" -eq "$layers_before" -a "$layers_before" -eq 2
dig=$(img ls --digests --data-dir "$data" | sed -n 2p | grep -Eo 'sha256:[0-9a-f]{64}')
check "ls --digests shows the manifest digest" test -n "$dig"

# bad files: one line on stderr, non-zero exit, store unchanged
head -c 1000000 "$tmp/tars/busybox-docker.tar" >"$tmp/truncated.tar"
head -c 400000 "$tmp/tars/busybox-oci.tar.gz" >"$tmp/truncated.tar.gz"
head -c 8192 /dev/urandom >"$tmp/random.bin"
tar cf "$tmp/notimage.tar" -C tests/data/images make-busybox-tars.sh
: >"$tmp/empty.tar"
before=$(snapshot)
for f in truncated.tar truncated.tar.gz random.bin notimage.tar empty.tar missing.tar; do
        img import --data-dir "$data" "$tmp/$f" >"$tmp/out" 2>"$tmp/err"; rc=$?
        lines=$(wc -l <"$tmp/err")
        if [ "$rc" -ne 0 ] && [ "$lines" -eq 1 ] && [ ! -s "$tmp/out" ] &&
           grep -q "^timonel image import: $tmp/$f: " "$tmp/err"; then
                ok "bad file $f: one error line, exit $rc ($(cut -c1-100 "$tmp/err" | sed "s|$tmp/||"))"
        else
                notok "bad file $f: one error line" "rc=$rc lines=$lines: $(cat "$tmp/err")"
        fi
done
check "bad files left the store unchanged" test -n "$before" -a "$before" = "$(snapshot)"
check "no temp dirs left" test ! -e "$store/tmp"

# layers stacked as overlay lowerdirs run busybox (whiteout of /etc/issue honoured)
if [ "$(id -u)" -eq 0 ]; then
        lower=$(jq -r '.images[].layers | reverse | map("'"$store"'/layers/" + .) | join(":")' "$store/index.json")
        mnt=$tmp/rootfs; mkdir -p "$mnt"
        if mount -t overlay overlay -o "lowerdir=$lower" "$mnt" 2>"$tmp/err"; then
                check "overlay rootfs runs busybox" test "$(chroot "$mnt" /bin/echo hello 2>&1)" = hello
                check "whiteout hides /etc/issue" test ! -e "$mnt/etc/issue"
                check "upper layer file visible" test "$(cat "$mnt/etc/motd")" = "layer two"
                umount "$mnt"; mnt=""
        else
                notok "overlay mount of the layers" "$(cat "$tmp/err")"
        fi
fi

# rm
img rm --data-dir "$data" nosuch:1 >/dev/null 2>"$tmp/err"; rc=$?
check "rm of an unknown image fails with one line" test "$rc" -ne 0 -a "$(wc -l <"$tmp/err")" -eq 1
check "rm by digest form" img rm --data-dir "$data" "busybox@$dig"
check "ls is empty after rm" test "$(img ls --data-dir "$data" | wc -l)" -eq 1
check "layers removed" test -d "$store/layers" -a "$(ls "$store/layers" | wc -l)" -eq 0
check "blobs removed" test -d "$store/blobs/sha256" -a "$(ls "$store/blobs/sha256" | wc -l)" -eq 0

# usage errors
img bogus >/dev/null 2>&1; rc=$?
check "unknown subcommand exits 2" test "$rc" -eq 2
img import --data-dir "$data" >/dev/null 2>&1; rc=$?
check "import without FILE exits 2" test "$rc" -eq 2
finish
