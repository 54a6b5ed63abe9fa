import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { desktopEntry, setLinuxAutostart } from './autostart.js';

describe('Linux autostart', () => {
  it('writes and removes the XDG autostart entry', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-auto-'));
    const file = path.join(dir, 'autostart', 'berth.desktop');
    setLinuxAutostart(true, '/opt/Berth/berth', file);
    expect(fs.readFileSync(file, 'utf8')).toContain('Exec=/opt/Berth/berth --hidden');
    setLinuxAutostart(false, '/opt/Berth/berth', file);
    expect(fs.existsSync(file)).toBe(false);
    expect(desktopEntry('/home/me/My Apps/Berth.AppImage')).toContain('Exec="/home/me/My Apps/Berth.AppImage" --hidden');
    fs.rmSync(dir, { recursive: true });
  });
});
