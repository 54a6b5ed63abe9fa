#!/bin/sh
# The .deb's postrm (electron-builder's afterRemove): the engine service and the `berth`
# command go with the package; images, containers and volumes in /var/lib/berth stay, and a
# purge also removes the berth group. DPKG_ROOT as in the postinst.
set -e
ROOT="${DPKG_ROOT:-}"
APP='/opt/${sanitizedProductName}'
case "$1" in
  remove | purge)
    # The package's files (and with them berth-engine-service.sh) are gone by now: undo what
    # the postinst's install recorded, as that script's uninstall does.
    if [ -z "$ROOT" ] && [ -d /run/systemd/system ]; then systemctl disable --now berth.service 2>/dev/null || true; fi
    if [ -f "$ROOT/var/lib/berth-service/installed" ]; then
      while IFS= read -r f; do case "$f" in /*) rm -rf "$ROOT$f" ;; esac; done <"$ROOT/var/lib/berth-service/installed"
      rm -f "$ROOT/var/lib/berth-service/installed"
      rmdir "$ROOT/var/lib/berth-service" 2>/dev/null || true
    fi
    rmdir "$ROOT/usr/libexec/berth" 2>/dev/null || true
    rm -f "$ROOT/etc/systemd/system/multi-user.target.wants/berth.service"
    if [ "$1" = purge ] && grep -q '^berth:' "$ROOT/etc/group"; then
      if [ -n "$ROOT" ]; then groupdel --root "$ROOT" berth; else groupdel berth; fi
    fi
    if [ -z "$ROOT" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
    rm -f "$ROOT/usr/bin/${executable}"
    ;;
esac
