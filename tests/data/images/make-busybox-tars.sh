#!/bin/bash
# make-busybox-tars.sh OUTDIR — build busybox:1.36 test images offline, in a few seconds:
#   OUTDIR/busybox-docker.tar   `docker save` format (skopeo docker-archive), tag busybox:1.36
#   OUTDIR/busybox-oci.tar      OCI archive (skopeo oci-archive), name busybox:1.36
#   OUTDIR/busybox-oci.tar.gz   the OCI archive gzip-compressed
#   OUTDIR/layout/              the OCI layout they were made from (umoci), tag 1.36
# The rootfs is /bin/busybox (busybox-static) plus applet symlinks; a second layer adds
# /etc/motd and whiteouts /etc/issue so that images have more than one layer.
set -euo pipefail
out=${1:?usage: make-busybox-tars.sh OUTDIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
bb=$(command -v busybox)
file -L "$bb" 2>/dev/null | grep -q 'statically linked' || [ -x /bin/busybox ] || { echo "need busybox-static" >&2; exit 1; }
work=$(mktemp -d "$out/.work.XXXXXX")
trap 'rm -rf "$work"' EXIT
layout=$out/layout
rm -rf "$layout"
umoci init --layout "$layout" >/dev/null
umoci new --image "$layout:1.36" >/dev/null
umoci unpack --image "$layout:1.36" "$work/bundle" >/dev/null
rootfs=$work/bundle/rootfs
mkdir -p "$rootfs"/{bin,etc,tmp,var/www,root,proc,sys,dev}
cp "$bb" "$rootfs/bin/busybox"
for a in sh echo sleep cat ls httpd true false env id hostname wget nc ps mkdir rm cp mv \
         grep sed head tail wc date uname printf test top kill touch chmod ln pwd nslookup; do
        ln -sf busybox "$rootfs/bin/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' >"$rootfs/etc/group"
echo "timonel test busybox" >"$rootfs/etc/issue"
echo "hello from busybox" >"$rootfs/var/www/index.html"
umoci repack --image "$layout:1.36" "$work/bundle" >/dev/null
rm -rf "$work/bundle"
umoci unpack --image "$layout:1.36" "$work/bundle" >/dev/null
# second layer: add a file, delete another (becomes a .wh. whiteout)
echo "layer two" >"$rootfs/etc/motd"
rm "$rootfs/etc/issue"
umoci repack --image "$layout:1.36" "$work/bundle" >/dev/null
umoci config --image "$layout:1.36" --config.cmd sh --config.env PATH=/bin:/usr/bin \
        --config.workingdir / >/dev/null
umoci gc --layout "$layout" >/dev/null
rm -f "$out/busybox-docker.tar" "$out/busybox-oci.tar" "$out/busybox-oci.tar.gz"
skopeo --insecure-policy copy -q "oci:$layout:1.36" "docker-archive:$out/busybox-docker.tar:busybox:1.36"
skopeo --insecure-policy copy -q "oci:$layout:1.36" "oci-archive:$out/busybox-oci.tar:busybox:1.36"
gzip -c "$out/busybox-oci.tar" >"$out/busybox-oci.tar.gz"
