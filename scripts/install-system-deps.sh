#!/usr/bin/env bash
# Installs the Debian packages Berth runs on and tests with. Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

packages=(
  # engine: OCI runtime, per-container monitor, init, filesystem and process tools
  runc conmon tini attr zstd xz-utils bzip2 procps util-linux iproute2 iptables
  # test images and registries
  busybox-static mmdebstrap docker-registry skopeo umoci apache2-utils curl
  # build conformance: docker-compose v1's `build:` (docker-py under it)
  docker-compose
  # the Berth VM (vm/): QEMU and qemu-img to run it, mksquashfs, cpio and depmod (kmod) to build its image
  qemu-system-x86 qemu-utils squashfs-tools cpio kmod
  # the arm64 image (npm run vm:build -- --arch arm64): mmdebstrap runs its maintainer scripts
  # through qemu-user-static (binfmt); qemu-system-aarch64 boots it (a manual check under tcg)
  qemu-user-static binfmt-support qemu-system-arm
  # networking benchmarks (bench/networking.ts, bench/vm-ports.ts)
  wrk
  # a static UDP echo server for the VM ports e2e test (busybox has no UDP server)
  gcc libc6-dev
  # the VM ports e2e's host sleep: the host agent's wall clock jumps ahead of its monotonic clock
  libfaketime
  # dashboard e2e in a real browser
  chromium
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  # Another apt run on this machine (a parallel job) holds the lock for a while: wait for it.
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}"
fi

# Docker Compose v2 for the compose e2e test (a trixie package, unpacked under /opt/berth-test).
"$(dirname "$0")/install-compose-plugin.sh" >/dev/null
