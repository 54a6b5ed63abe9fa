#!/usr/bin/env bash
# Downloads Debian binary packages from another suite than the machine's (e.g. trixie on a bookworm
# host) into a folder, without touching the system's apt sources, lists or installed packages:
# a private sources list, lists and cache in a temporary folder, the same archive mirror and
# signing keyring the system's own sources use.
#
#   scripts/debian-download.sh SUITE OUT_DIR PACKAGE[=VERSION]...
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 SUITE OUT_DIR PACKAGE[=VERSION]..." >&2
  exit 2
fi
suite=$1
out=$2
shift 2

# The Debian archive this machine is configured for (deb822 .sources or one-line sources.list).
mirror=$( (grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}'; \
  grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | sed -E 's/\[[^]]*\]//' | awk '{print $2}') \
  | grep -v -- '-security' | grep -i debian | head -1) || true
if [ -z "$mirror" ]; then
  echo "$0: no Debian archive found in the system's apt sources" >&2
  exit 1
fi
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial"
echo "deb [signed-by=$keyring] $mirror $suite main" >"$tmp/sources.list"
opts=(-o "Dir::Etc::SourceList=$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache" -o APT::Sandbox::User=root)
apt-get "${opts[@]}" update -qq
mkdir -p "$out"
(cd "$out" && apt-get "${opts[@]}" download "$@")
