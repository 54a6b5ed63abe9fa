#!/usr/bin/env bash
# Installs Debian's docker.io (dockerd 20.10 + containerd) for side-by-side
# benchmarks only. Berth never depends on it. The stock docker CLI 28 in
# /usr/local/bin stays first on PATH.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! command -v dockerd >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker.io
fi
dockerd --version
