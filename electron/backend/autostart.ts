/**
 * "Start at login" on Linux desktops: an XDG autostart entry
 * (~/.config/autostart/berth.desktop). macOS and Windows use Electron's
 * login items instead.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function autostartFile(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), 'autostart', 'berth.desktop');
}

/** The command that starts this Berth: the AppImage when running from one, else the binary. */
export function desktopEntry(exec: string): string {
  const quoted = /[\s"'\\]/.test(exec) ? `"${exec.replace(/(["\\$`])/g, '\\$1')}"` : exec;
  return ['[Desktop Entry]', 'Type=Application', 'Name=Berth', 'Comment=Container engine and dashboard', `Exec=${quoted} --hidden`, 'Icon=berth', 'X-GNOME-Autostart-enabled=true', 'Terminal=false', ''].join('\n');
}

export function setLinuxAutostart(enabled: boolean, exec: string, file = autostartFile()): void {
  if (!enabled) {
    fs.rmSync(file, { force: true });
    return;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, desktopEntry(exec));
}
