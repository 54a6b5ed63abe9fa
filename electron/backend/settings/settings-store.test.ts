import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SettingsStore } from './settings-store.js';
import { DEFAULT_SETTINGS } from '../../contract/models.js';

const dirs: string[] = [];
const tmp = () => {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-settings-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('SettingsStore', () => {
  it('starts from defaults and persists patches without touching other keys', async () => {
    const dir = tmp();
    const s = new SettingsStore(dir);
    expect(s.get()).toEqual(DEFAULT_SETTINGS);
    const seen: string[] = [];
    s.onChange((x) => seen.push(x.theme));
    await s.update({ theme: 'dark' });
    await s.update({ closeToTray: false });
    expect(seen).toEqual(['dark', 'dark']);
    const again = new SettingsStore(dir);
    expect(again.get()).toMatchObject({ theme: 'dark', closeToTray: false, notifications: true });
  });

  it('keeps an unreadable file aside instead of overwriting it', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'settings.json'), '{"theme": "dark",');
    const s = new SettingsStore(dir);
    expect(s.get()).toEqual(DEFAULT_SETTINGS);
    expect(s.loadProblem).toMatch(/not valid JSON/);
    expect(fs.readFileSync(path.join(dir, 'settings.json.invalid'), 'utf8')).toBe('{"theme": "dark",');
  });

  it('keeps the valid keys of a file with one bad value', () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, 'settings.json'), JSON.stringify({ theme: 'dark', closeToTray: 'yes', unknown: 1 }));
    const s = new SettingsStore(dir);
    expect(s.get().theme).toBe('dark');
    expect(s.get().closeToTray).toBe(true);
    expect(s.loadProblem).toBe('ignored invalid settings: closeToTray');
  });

  it('saves window bounds without notifying', async () => {
    const dir = tmp();
    const s = new SettingsStore(dir);
    let n = 0;
    s.onChange(() => n++);
    await s.saveWindow({ width: 1000, height: 700, x: 10, y: 20 });
    expect(n).toBe(0);
    expect(new SettingsStore(dir).get().window).toEqual({ width: 1000, height: 700, x: 10, y: 20 });
  });

  it('flush waits for a write in flight, so a quit right after a change keeps it', async () => {
    const dir = tmp();
    const s = new SettingsStore(dir);
    void s.update({ activeEngineId: 'berth' });
    // Visible at once, on disk only after the write.
    expect(s.get().activeEngineId).toBe('berth');
    await s.flush();
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'settings.json'), 'utf8')).activeEngineId).toBe('berth');
  });
});
