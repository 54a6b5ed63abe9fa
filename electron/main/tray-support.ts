/**
 * Whether a tray icon will be seen. Windows and macOS always show one; on
 * Linux it needs a StatusNotifier host on the session bus (KDE, most
 * desktops; GNOME only with the AppIndicator extension) — without one the
 * icon is created but invisible, and "close to tray" would leave Berth
 * running with no way back. Then closing the window quits instead.
 */
import { execFile } from 'node:child_process';

export type BusProbe = () => Promise<boolean | undefined>;

/** Asks the session bus whether org.kde.StatusNotifierWatcher has an owner (undefined: could not ask). */
export const statusNotifierProbe: BusProbe = () =>
  new Promise((resolve) => {
    execFile(
      'dbus-send',
      ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.NameHasOwner', 'string:org.kde.StatusNotifierWatcher'],
      { timeout: 3000 },
      (err, stdout) => resolve(err ? undefined : /boolean true/.test(String(stdout))),
    );
  });

export async function traySupported(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, probe: BusProbe = statusNotifierProbe): Promise<boolean> {
  if (platform !== 'linux') return true;
  if (!env.DBUS_SESSION_BUS_ADDRESS && !env.XDG_RUNTIME_DIR) return false;
  const has = await probe();
  // Without dbus-send, only GNOME is known to hide tray icons by default.
  if (has === undefined) return !/gnome/i.test(env.XDG_CURRENT_DESKTOP ?? '');
  return has;
}

/** What closing the window does: hide to the tray only where there is a tray to come back from. */
export function closeAction(closeToTray: boolean, hasTray: boolean, quitting: boolean): 'hide' | 'close' {
  return !quitting && closeToTray && hasTray ? 'hide' : 'close';
}
