#!/usr/bin/env bash
# Sets up a fresh Linux machine and runs Berth: system packages, npm
# dependencies, build, then berthd on /var/run/berth/docker.sock.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then echo "dev-up: run as root (berthd manages namespaces, mounts and cgroups)" >&2; exit 1; fi
export ELECTRON_SKIP_BINARY_DOWNLOAD=${ELECTRON_SKIP_BINARY_DOWNLOAD:-1}
scripts/install-system-deps.sh
scripts/install-npm-deps.sh
npm run build
exec node dist/electron/cli/berth.js up
