#!/usr/bin/env bash
# The fresh-machine check: runs README.md's two commands, exactly as the README writes them, in a
# new clone with every cache empty, and prints the wall time of each and the test counts.
#
# CI runs on the developer's own machine, where node_modules, the npm cache and fixture caches in
# /tmp survive between runs and can hide what a new machine does. This script gives each of them
# an empty folder of its own:
#   - a `git clone` of the committed HEAD (uncommitted changes are not part of the check);
#   - npm's cache (npm_config_cache), TMPDIR (so os.tmpdir() and everything under it) and the e2e
#     fixture cache (BERTH_E2E_CACHE) under a new temporary folder;
#   - the engine `berth up` starts: its data root, exec root, socket, config (with a bridge and
#     subnet of its own, so it cannot clash with an engine already running here) and BERTH_HOME.
# What it cannot undo are Debian packages installed earlier: only a new machine checks those.
#
# Usage: scripts/fresh-check.sh [--keep]   (as root; --keep leaves the temporary folder for reading)
set -euo pipefail
[ "$(id -u)" = 0 ] || { echo "fresh-check: run as root (the README's commands are root's)" >&2; exit 1; }
keep=false
[ "${1:-}" = "--keep" ] && keep=true

src="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d /tmp/berth-fresh.XXXXXX)"
exec_root="/run/bfresh$$"
up_pid=""
cleanup() {
  local rc=$?
  set +e
  [ -n "$up_pid" ] && kill -INT "$up_pid" 2>/dev/null && wait "$up_pid" 2>/dev/null || true
  # The engine's bridge and chains stay after it stops (live restore); these were ours. The
  # e2e support code knows every chain and jump a berthd makes.
  if [ -x "$work/berth/node_modules/.bin/tsx" ]; then
    (cd "$work/berth" && FRESH_DATA="$work/engine-data" node_modules/.bin/tsx -e \
      "import('./e2e/support/network.ts').then((m) => m.cleanupDaemonNetwork('bfresh0', process.env.FRESH_DATA))")
  fi
  umount -R "$work/engine-data" 2>/dev/null || true
  rm -rf "$exec_root"
  if $keep; then echo "fresh-check: left $work"; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT

# Seconds since a `date +%s%N` stamp, with one decimal.
elapsed() { local ms=$(( ($(date +%s%N) - $1) / 1000000 )); printf '%d.%d' $((ms / 1000)) $(((ms % 1000) / 100)); }

# The README's commands: the first line of the sh block after each marker comment.
command_after() {
  awk -v marker="<!-- fresh-check:$1 -->" '
    $0 == marker { found = 1; next }
    found && /^```/ { if (inblock) exit; inblock = 1; next }
    found && inblock { print; exit }
  ' "$src/README.md"
}
setup_cmd="$(command_after setup)"
test_cmd="$(command_after test)"
[ -n "$setup_cmd" ] && [ -n "$test_cmd" ] || { echo "fresh-check: README.md lacks the fresh-check:setup/test markers" >&2; exit 1; }

git clone -q "$src" "$work/berth"
mkdir -p "$work/tmp" "$work/npm-cache" "$work/e2e-cache" "$work/home"
export TMPDIR="$work/tmp" npm_config_cache="$work/npm-cache" BERTH_E2E_CACHE="$work/e2e-cache"
export BERTH_HOME="$work/home" BERTH_ENGINE_DATA_ROOT="$work/engine-data" BERTH_ENGINE_EXEC_ROOT="$exec_root"
export BERTH_ENGINE_SOCKET="$work/engine.sock" BERTH_ENGINE_CONFIG="$work/daemon.json"
cat >"$BERTH_ENGINE_CONFIG" <<'JSON'
{ "bridge": "bfresh0", "bip": "10.250.0.1/24", "default-address-pools": [{ "base": "10.250.16.0/20", "size": 24 }] }
JSON
cd "$work/berth"
echo "fresh-check: $(git log --oneline -1) in $work/berth"

# 1. Set up and run: the command serves until stopped; it has done its job when berthd answers and
#    the dashboard URL it printed serves the app.
echo "fresh-check: [1/2] $setup_cmd"
t0=$(date +%s%N)
bash -c "$setup_cmd" >"$work/setup.log" 2>&1 &
up_pid=$!
url=""
while kill -0 "$up_pid" 2>/dev/null; do
  url="$(grep -o 'http://127\.0\.0\.1:[0-9]*/?token=[A-Za-z0-9_-]*' "$work/setup.log" | head -1 || true)"
  [ -n "$url" ] && break
  sleep 0.5
done
setup_s=$(elapsed "$t0")
if [ -z "$url" ]; then
  tail -40 "$work/setup.log"
  echo "fresh-check: FAILED: the set-up command ended without printing the dashboard URL" >&2
  exit 1
fi
status=$(curl -s -o "$work/dashboard.html" -w '%{http_code}' "$url")
grep -q '<div id="root">' "$work/dashboard.html" || status="$status (not the dashboard)"
engine=$(DOCKER_HOST="unix://$BERTH_ENGINE_SOCKET" docker version -f '{{.Server.Platform.Name}}' 2>&1 || true)
echo "fresh-check: set-up ran in ${setup_s}s; dashboard $url -> HTTP $status; engine: $engine"
if [ "$status" != 200 ] || [[ "$engine" != Berth* ]]; then
  tail -40 "$work/setup.log"
  echo "fresh-check: FAILED: set-up did not leave berthd and the dashboard running" >&2
  exit 1
fi
kill -INT "$up_pid"
wait "$up_pid" 2>/dev/null || true
up_pid=""

# 2. Every test, in the same clone (node_modules from step 1 stay, as on a new machine that ran step 1).
echo "fresh-check: [2/2] $test_cmd"
t0=$(date +%s%N)
set +e
# No "|| true" here: with pipefail a failing pipeline would run it, and PIPESTATUS would then be
# true's (0) — a failed suite reported as exit 0, as happened once.
bash -c "$test_cmd" 2>&1 | tee "$work/test.log" | grep -E '^\s+(Test Files|Tests) |^\s+[0-9]+ (passed|failed|skipped|flaky)|✘'
statuses=("${PIPESTATUS[@]}")
test_rc=${statuses[0]}
# Failures in the counts fail the check even if a command in the chain swallowed the exit status.
if [ "$test_rc" -eq 0 ] && grep -qE '^\s+[0-9]+ failed|^\s+Tests\s+.*[0-9]+ failed' "$work/test.log"; then test_rc=1; fi
set -e
test_s=$(elapsed "$t0")
unit=$(grep -E '^\s+Tests\s+' "$work/test.log" | tail -1 | sed 's/^ *//')
e2e=$(grep -E '^\s+[0-9]+ (passed|failed|skipped|flaky)' "$work/test.log" | sed 's/^ *//' | tr '\n' ',' | sed 's/,$//; s/,/, /g')
echo "fresh-check: tests ran in ${test_s}s, exit $test_rc; unit: ${unit:-?}; e2e: ${e2e:-?}"
echo "fresh-check: $(date -u +%Y-%m-%dT%H:%MZ) $(git log --format=%h -1) setup ${setup_s%.*}s test ${test_s%.*}s rc=$test_rc"
exit "$test_rc"
