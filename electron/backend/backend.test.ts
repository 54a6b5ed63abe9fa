import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Backend } from './backend.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('Backend.dispose', () => {
  // CI run of stop 23: the engine chosen just before `berth dashboard` was stopped came back as the default.
  it('waits for a settings write in flight, so a choice made just before quitting is kept', async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-backend-'));
    dirs.push(home);
    const backend = new Backend({ paths: { configDir: home, runDir: path.join(home, 'run'), logDir: path.join(home, 'logs') }, host: { capabilities: () => ({ desktop: false, pickFolder: false, startAtLogin: false, closeToTray: false, platform: 'linux' }) }, ownEngine: null, discover: () => [] });
    void backend.settings.update({ theme: 'dark', activeEngineId: 'berth' });
    await backend.dispose();
    expect(JSON.parse(fs.readFileSync(path.join(home, 'settings.json'), 'utf8'))).toMatchObject({ theme: 'dark', activeEngineId: 'berth' });
  });
});
