#!/bin/sh
# The .deb's postinst (electron-builder's afterInstall; it fills in the ${...} macros): what
# electron-builder's own script does (the `berth` command, the sandbox helper, desktop
# databases), then Berth's engine as a system service with the berth group owning its socket.
# Under `dpkg --root`, DPKG_ROOT names the alternate root and everything happens inside it.
set -e
ROOT="${DPKG_ROOT:-}"
APP='/opt/${sanitizedProductName}'

# `berth` on PATH: the CLI for its commands (engine, dashboard, up, version), the app otherwise.
mkdir -p "$ROOT/usr/bin"
cat >"$ROOT/usr/bin/${executable}.tmp" <<WRAPPER
#!/bin/sh
case "\$1" in
  up | dashboard | engine | version | help | -h | --help | -v | --version)
    ELECTRON_RUN_AS_NODE=1 BERTH_RENDERER_DIR='$APP/resources/app.asar/dist/renderer' exec '$APP/${executable}' --max-semi-space-size=1 '$APP/resources/app.asar.unpacked/dist/electron/cli/berth.js' "\$@" ;;
esac
exec '$APP/${executable}' "\$@"
WRAPPER
chmod 0755 "$ROOT/usr/bin/${executable}.tmp"
mv "$ROOT/usr/bin/${executable}.tmp" "$ROOT/usr/bin/${executable}"

if [ -z "$ROOT" ]; then
  # Chromium's sandbox helper needs setuid only where user namespaces do not work.
  if [ -L /proc/self/ns/user ] && unshare --user true 2>/dev/null; then
    chmod 0755 "$APP/chrome-sandbox" || true
  else
    chmod 4755 "$APP/chrome-sandbox" || true
  fi
  if command -v update-mime-database >/dev/null 2>&1; then update-mime-database /usr/share/mime || true; fi
  if command -v update-desktop-database >/dev/null 2>&1; then update-desktop-database /usr/share/applications || true; fi
fi

# The engine service: the unit, its launcher running the berthd this package ships, the berth
# group (members use the socket and may start/stop the unit), enabled and started.
"$ROOT$APP/resources/packaging/linux/berth-engine-service.sh" install \
  ${ROOT:+--root "$ROOT"} \
  --unit-dir /usr/lib/systemd/system \
  --exec "$APP/${executable}" \
  --script "$APP/resources/app.asar.unpacked/dist/engine/daemon/main.js"

if [ -z "$ROOT" ]; then
  echo "Berth's engine runs as berth.service. To use it without root, join the berth group: sudo usermod -aG berth \$USER (then log in again)."
fi
