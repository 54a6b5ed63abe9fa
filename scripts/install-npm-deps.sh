#!/usr/bin/env bash
# Installs the npm dependencies exactly as package-lock.json pins them.
#
# Why not `npm ci`: some packages list optional per-platform builds (rollup's, node-unix-socket's
# darwin/arm ones) that the reachable registry does not serve, so the lock file cannot record them
# and `npm ci`'s strict "lock in sync" check refuses the lock. `npm install` resolves from the same
# lock; the check below keeps it from silently drifting.
set -euo pipefail
cd "$(dirname "$0")/.."
export ELECTRON_SKIP_BINARY_DOWNLOAD="${ELECTRON_SKIP_BINARY_DOWNLOAD:-1}"
before="$(sha256sum package-lock.json)"
npm install --no-audit --no-fund
if [ "$(sha256sum package-lock.json)" != "$before" ]; then
  echo "install-npm-deps: package-lock.json changed during install; commit an updated lock file" >&2
  git diff --stat -- package-lock.json >&2 || true
  exit 1
fi
