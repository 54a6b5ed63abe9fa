/**
 * "Start Berth when I log in", per platform, starting hidden (in the tray):
 * macOS login items open the app hidden (openAsHidden; macOS 13+ reports
 * wasOpenedAsHidden / wasOpenedAtLogin instead), Windows passes --hidden,
 * Linux writes an XDG autostart entry with --hidden.
 */
import type { App } from 'electron';
import { setLinuxAutostart } from '../backend/autostart.js';

export const HIDDEN_FLAG = '--hidden';

export function applyLoginItem(app: Pick<App, 'setLoginItemSettings'>, platform: NodeJS.Platform, enabled: boolean, exec: string, linuxAutostart: (enabled: boolean, exec: string) => void = setLinuxAutostart): void {
  if (platform === 'linux') linuxAutostart(enabled, exec);
  else if (platform === 'darwin') app.setLoginItemSettings({ openAtLogin: enabled, openAsHidden: true });
  else app.setLoginItemSettings({ openAtLogin: enabled, args: [HIDDEN_FLAG] });
}

/** Whether this launch came from the login item (and so stays in the tray until opened). */
export function startedHidden(app: Pick<App, 'getLoginItemSettings'>, platform: NodeJS.Platform, argv: string[]): boolean {
  if (argv.includes(HIDDEN_FLAG)) return true;
  if (platform !== 'darwin') return false;
  const s = app.getLoginItemSettings() as { wasOpenedAsHidden?: boolean; wasOpenedAtLogin?: boolean; openAsHidden?: boolean };
  return !!(s.wasOpenedAsHidden || (s.wasOpenedAtLogin && s.openAsHidden !== false));
}
