#!/usr/bin/env bash
# Reruns docker-py 5.0.3's integration suite against berthd and dockerd 20.10 (bench/docker-py-suite.ts).
# Installs what the measurement needs — Debian's python3-docker 5.0.3 and the suite's test tools —
# and dockerd for the comparison (bench/install-dockerd.sh); none of them is a dependency of Berth.
#
#   bench/docker-py-suite.sh --git /path/to/docker-py/.git [--engine berthd|dockerd|both] [-k EXPR]
#
# The suite's source is docker/docker-py at tag 5.0.3 (a clone of the public repository; Debian does
# not ship the tests). Run after `npm run build`, as root.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
here=$(cd "$(dirname "$0")" && pwd)
pkgs=(python3-docker python3-pytest python3-paramiko python3-pytest-timeout skopeo docker-registry busybox-static)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
fi
"$here/install-dockerd.sh" >/dev/null
cd "$here/.."
exec npx tsx bench/docker-py-suite.ts "$@"
