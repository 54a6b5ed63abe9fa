#!/usr/bin/env bash
# Docker Compose v2 for the compose e2e test (e2e/engine/compose.spec.ts): Debian trixie's
# docker-compose package ships the `docker compose` CLI plugin as one static binary. It is unpacked
# under /opt/berth-test (not a folder the docker CLI searches for plugins, so nothing changes for
# the machine's own `docker`); each test copies it into its own DOCKER_CONFIG/cli-plugins.
# Idempotent; run as root.
set -euo pipefail
version=${COMPOSE_DEB_VERSION:-2.26.1-4}
dest=/opt/berth-test/compose-$version
bin=$dest/docker-compose
if [ -x "$bin" ] && "$bin" version >/dev/null 2>&1; then
  echo "$bin"
  exit 0
fi
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$here/debian-download.sh" trixie "$tmp" "docker-compose=$version" >&2
dpkg-deb -x "$tmp"/docker-compose_*.deb "$tmp/root"
mkdir -p "$dest"
install -m 0755 "$tmp/root/usr/libexec/docker/cli-plugins/docker-compose" "$bin.tmp"
mv -f "$bin.tmp" "$bin"
"$bin" version >&2
echo "$bin"
