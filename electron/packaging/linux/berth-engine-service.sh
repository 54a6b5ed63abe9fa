#!/bin/sh
# Installs or removes Berth's engine as a system service: the berth.service unit, the launcher
# it runs (/usr/libexec/berth/berthd), a polkit rule letting the berth group start and stop it,
# the berth group itself (which owns the engine's socket), and /etc/berth/daemon.json.
#
# Used by the .deb's postinst/postrm and by `berth engine install|uninstall` (AppImage,
# tarball, a checkout), run as root (pkexec or sudo). With --root DIR everything happens in an
# alternate root without a running systemd (offline `systemctl --root` enable), as dpkg --root
# and the tests use it.
#
#   berth-engine-service.sh install --exec BIN --script JS [--copy-app DIR] [--user NAME]
#                                   [--unit-dir DIR] [--root DIR] [--no-start] [--allow-user-owned]
#   berth-engine-service.sh uninstall [--root DIR] [--remove-group]
set -eu

here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:-}
[ $# -gt 0 ] && shift

root=""
exec_bin=""
script=""
copy_app=""
user=""
unit_dir=/etc/systemd/system
start=1
allow_user_owned=0
remove_group=0
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=${2%/}; shift 2 ;;
    --exec) exec_bin=$2; shift 2 ;;
    --script) script=$2; shift 2 ;;
    --copy-app) copy_app=$2; shift 2 ;;
    --user) user=$2; shift 2 ;;
    --unit-dir) unit_dir=$2; shift 2 ;;
    --no-start) start=0; shift ;;
    --allow-user-owned) allow_user_owned=1; shift ;;
    --remove-group) remove_group=1; shift ;;
    *) echo "berth-engine-service: unknown option $1" >&2; exit 2 ;;
  esac
done

die() {
  echo "berth-engine-service: $*" >&2
  exit 1
}

# Where the installed pieces live (inside $root).
launcher=/usr/libexec/berth/berthd
polkit_rule=/usr/share/polkit-1/rules.d/50-berth.rules
app_copy=/opt/berth-engine
manifest=/var/lib/berth-service/installed
config=/etc/berth/daemon.json

# systemd is only driven live when it runs this machine and no alternate root is given.
live_systemd() {
  [ -z "$root" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1
}

# Offline enable/disable: the alternate root's own systemctl when it has one, else ours with --root.
systemctl_offline() {
  if [ -n "$root" ] && [ -x "$root/usr/bin/systemctl" ] && [ "$(id -u)" = 0 ]; then
    chroot "$root" systemctl "$@"
  elif [ -n "$root" ]; then
    systemctl --root="$root" "$@"
  else
    systemctl --root=/ "$@"
  fi
}

# A root service must not run files another user can change: that would hand them root.
check_owned_by_root() {
  [ "$allow_user_owned" = 1 ] && return 0
  p=$1
  while [ -n "$p" ] && [ "$p" != / ]; do
    [ -e "$root$p" ] || die "$p does not exist"
    owner=$(stat -L -c %u "$root$p")
    perms=$(stat -L -c %a "$root$p")
    [ "$owner" = 0 ] || die "$p is owned by uid $owner, not root: a root service cannot run it safely (use --copy-app, or --allow-user-owned for a development checkout)"
    other=${perms#"${perms%?}"}
    rest=${perms%?}
    group=${rest#"${rest%?}"}
    for digit in "$group" "$other"; do
      case "$digit" in
        2 | 3 | 6 | 7) die "$p is writable by group or others (mode $perms): a root service cannot run it safely" ;;
      esac
    done
    p=$(dirname "$p")
  done
}

write_launcher() {
  mkdir -p "$root$(dirname "$launcher")"
  tmp="$root$launcher.tmp.$$"
  {
    echo '#!/bin/sh'
    echo '# Written by berth-engine-service.sh: berthd of the Berth installed here, for berth.service.'
    echo 'export ELECTRON_RUN_AS_NODE=1'
    printf "exec '%s' --max-semi-space-size=1 '%s' \"\$@\"\n" "$exec_bin" "$script"
  } >"$tmp"
  chmod 0755 "$tmp"
  mv "$tmp" "$root$launcher"
}

record() {
  mkdir -p "$root$(dirname "$manifest")"
  grep -qxF "$1" "$root$manifest" 2>/dev/null || echo "$1" >>"$root$manifest"
}

do_install() {
  [ "$(id -u)" = 0 ] || die "must run as root (pkexec or sudo)"
  if [ -n "$copy_app" ]; then
    [ -d "$copy_app" ] || die "--copy-app $copy_app is not a folder"
    # A copy root owns: an AppImage's files vanish when it exits, and a tarball may sit in a home folder.
    rm -rf "$root$app_copy.new"
    mkdir -p "$root$(dirname "$app_copy")"
    cp -a "$copy_app" "$root$app_copy.new"
    chown -R 0:0 "$root$app_copy.new"
    chmod -R go-w "$root$app_copy.new"
    rm -rf "$root$app_copy"
    mv "$root$app_copy.new" "$root$app_copy"
    record "$app_copy"
    # --exec/--script are given relative to the copied folder.
    exec_bin="$app_copy/${exec_bin#/}"
    script="$app_copy/${script#/}"
  fi
  [ -n "$exec_bin" ] && [ -n "$script" ] || die "install needs --exec and --script"
  [ -x "$root$exec_bin" ] || die "$exec_bin is not an executable"
  [ -f "$root$script" ] || die "$script does not exist"
  check_owned_by_root "$exec_bin"
  check_owned_by_root "$script"

  write_launcher
  record "$launcher"
  mkdir -p "$root$unit_dir"
  install -m 0644 "$here/berth.service" "$root$unit_dir/berth.service"
  record "$unit_dir/berth.service"
  mkdir -p "$root$(dirname "$polkit_rule")"
  install -m 0644 "$here/50-berth.rules" "$root$polkit_rule"
  record "$polkit_rule"
  if [ ! -e "$root$config" ]; then
    mkdir -p "$root$(dirname "$config")"
    echo '{}' >"$root$config"
    chmod 0644 "$root$config"
  fi

  # The group that owns the socket (0660), created once; members use the engine without root.
  if ! grep -q '^berth:' "$root/etc/group"; then
    if [ -n "$root" ]; then groupadd --root "$root" --system berth; else groupadd --system berth; fi
  fi
  if [ -n "$user" ] && [ "$user" != root ]; then
    if grep -q "^$user:" "$root/etc/passwd"; then
      if [ -n "$root" ]; then usermod --root "$root" -a -G berth "$user"; else usermod -a -G berth "$user"; fi
      echo "berth-engine-service: added $user to the berth group (log out and in again for it to apply)"
    else
      echo "berth-engine-service: no user $user; add yourself later with: usermod -aG berth <user>" >&2
    fi
  fi

  if live_systemd; then
    systemctl daemon-reload
    systemctl enable berth.service
    # An upgrade restarts a running engine on the new berthd (containers keep running).
    if systemctl is-active --quiet berth.service; then
      systemctl try-restart berth.service
    elif [ "$start" = 1 ]; then
      systemctl start berth.service
    fi
  else
    systemctl_offline enable berth.service
  fi
  echo "berth-engine-service: berth.service installed ($exec_bin $script)"
}

do_uninstall() {
  [ "$(id -u)" = 0 ] || die "must run as root (pkexec or sudo)"
  if live_systemd; then
    systemctl disable --now berth.service 2>/dev/null || true
  elif [ -e "$root/etc/systemd/system/berth.service" ] || [ -e "$root/usr/lib/systemd/system/berth.service" ] || [ -e "$root/lib/systemd/system/berth.service" ]; then
    systemctl_offline disable berth.service 2>/dev/null || true
  fi
  if [ -f "$root$manifest" ]; then
    while IFS= read -r f; do
      case "$f" in /*) rm -rf "${root:?}$f" ;; esac
    done <"$root$manifest"
    rm -f "$root$manifest"
    rmdir "$root$(dirname "$manifest")" 2>/dev/null || true
  fi
  rmdir "$root$(dirname "$launcher")" 2>/dev/null || true
  if [ "$remove_group" = 1 ] && grep -q '^berth:' "$root/etc/group"; then
    if [ -n "$root" ]; then groupdel --root "$root" berth; else groupdel berth; fi
  fi
  if live_systemd; then systemctl daemon-reload; fi
  # Images, containers and volumes (/var/lib/berth) and /etc/berth stay, as with docker.io's remove.
  echo "berth-engine-service: berth.service removed (engine data in /var/lib/berth kept)"
}

case "$cmd" in
  install) do_install ;;
  uninstall) do_uninstall ;;
  *) echo "usage: $0 install|uninstall [options] (see the top of this file)" >&2; exit 2 ;;
esac
