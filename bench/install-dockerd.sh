#!/usr/bin/env bash
# Installs Debian's docker.io (dockerd 20.10 + containerd) and podman (4.3) for side-by-side
# benchmarks only. Berth never depends on either. The stock docker CLI 28 in
# /usr/local/bin stays first on PATH. `--no-podman` skips podman.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
want_podman=1
[ "${1:-}" = "--no-podman" ] && want_podman=0
missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
[ "$want_podman" = 1 ] && ! command -v podman >/dev/null 2>&1 && missing+=(podman)
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
dockerd --version
[ "$want_podman" = 1 ] && podman --version
exit 0
