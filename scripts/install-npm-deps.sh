#!/usr/bin/env bash
# Installs the npm dependencies exactly as package-lock.json pins them, with `npm ci`.
#
# The lock is complete: every optional per-platform build that a locked package lists (esbuild's,
# rollup's, koffi's, ...) has its own entry, so `npm ci` accepts it on any machine and never
# re-resolves against whatever the registry serves that day. scripts/check-lock.mjs (run by
# `npm run lint`) refuses a lock that lacks one. A dependency whose platform builds the registry
# cannot serve cannot be locked completely; that is why node-unix-socket was replaced by koffi
# (engine/system/seqpacket.ts).
set -euo pipefail
cd "$(dirname "$0")/.."
export ELECTRON_SKIP_BINARY_DOWNLOAD="${ELECTRON_SKIP_BINARY_DOWNLOAD:-1}"
node scripts/check-lock.mjs
npm ci --no-audit --no-fund
