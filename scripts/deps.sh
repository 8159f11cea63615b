#!/bin/sh
# deps.sh — install the Debian packages timonel needs to build, run and test; idempotent,
# non-interactive, silent when nothing is missing.
set -eu
PKGS="make gcc pkg-config libh2o-evloop-dev libwslay-dev libssl-dev libcurl4-openssl-dev
libyaml-dev libjansson-dev zlib1g-dev libsqlite3-dev libarchive-dev libseccomp-dev libcap-dev
libnftables-dev crun runc conmon containernetworking-plugins nftables iptables iproute2
busybox-static etcd-server etcd-client skopeo umoci jq curl dnsutils python3-kubernetes
clang procps psmisc util-linux"
missing=""
for p in $PKGS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q >/dev/null || true
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing >/dev/null
