/**
 * The desktop app itself, launched with Playwright's _electron: the window
 * (sandboxed, context-isolated, loaded from app://), the preload's API and
 * the contract over IPC, the dashboard driven by a real berthd, and the tray
 * menu. Runs where the Electron binary exists; elsewhere it is skipped with
 * the reason.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { _electron as electron, type ElectronApplication } from '@playwright/test';
import { test, expect, uniq } from '../support/fixtures.js';
import { distDir } from '../support/paths.js';
import { electronBinary } from '../support/electron-binary.js';

const bin = electronBinary();
test.skip(!bin.path, `Electron e2e skipped: ${bin.reason}`);

let app: ElectronApplication;
let home: string;

test.beforeEach(async ({ berthd }) => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-electron-'));
  fs.writeFileSync(path.join(home, 'settings.json'), JSON.stringify({ startEngineOnLaunch: false, closeToTray: false, notifications: false }));
  app = await electron.launch({
    executablePath: bin.path!,
    args: [path.join(distDir, 'electron', 'main', 'main.js'), '--no-sandbox'],
    env: {
      ...process.env,
      BERTH_HOME: home,
      BERTH_TEST_HOOKS: '1',
      BERTH_ENGINE_SOCKET: path.join(home, 'own.sock'),
      BERTH_ENGINE_CONFIG: path.join(home, 'daemon.json'),
      DOCKER_HOST: berthd.host,
      DOCKER_CONFIG: berthd.dockerConfig,
    },
  });
});

test.afterEach(async () => {
  await app?.close();
  fs.rmSync(home, { recursive: true, force: true });
});

test('the window loads the dashboard from app://, has no Node, and exposes only window.berth', async ({ berthd }) => {
  const win = await app.firstWindow();
  await expect(win).toHaveTitle('Berth');
  expect(win.url()).toMatch(/^app:\/\/berth\/index\.html#\/containers/);
  const globals = await win.evaluate(() => ({
    require: typeof (globalThis as unknown as { require?: unknown }).require,
    process: typeof (globalThis as unknown as { process?: unknown }).process,
    berth: Object.keys((globalThis as unknown as { berth: object }).berth).sort(),
  }));
  expect(globals).toEqual({ require: 'undefined', process: 'undefined', berth: ['onMessage', 'platform', 'send', 'versions'] });

  // The preload's API carries the contract: a call and its validated answer, and a refused bad call.
  const answers = await win.evaluate(async () => {
    const api = (globalThis as unknown as { berth: { send(m: unknown): void; onMessage(l: (m: { id: number }) => void): () => void } }).berth;
    const replies = new Map<number, unknown>();
    const off = api.onMessage((m) => replies.set(m.id, m));
    api.send({ kind: 'call', id: 9001, method: 'engines.list', params: {} });
    api.send({ kind: 'call', id: 9002, method: 'containers.remove', params: { engineId: 'x', ids: [] } });
    let threw = '';
    try {
      api.send({ kind: 'eval', id: 1 });
    } catch (e) {
      threw = (e as Error).message;
    }
    for (let i = 0; i < 100 && replies.size < 2; i++) await new Promise((r) => setTimeout(r, 20));
    off();
    return { list: replies.get(9001), bad: replies.get(9002), threw };
  });
  expect((answers.list as { value: { activeId: string } }).value.activeId).toBe('env-docker-host');
  expect(answers.bad).toMatchObject({ kind: 'error', error: { status: 400 } });
  expect(answers.threw).toContain('unknown message kind');

  // The dashboard works in the window against the real engine.
  const name = uniq('electron');
  await berthd.dockerOk(['create', '--name', name, 'busybox', 'true']);
  await expect(win.locator(`.trow[data-name="${name}"]`)).toBeVisible();
  // Navigation away from the app is refused.
  await win.evaluate(() => ((globalThis as unknown as { location: { href: string } }).location.href = 'https://example.com/'));
  await expect.poll(() => win.url()).toMatch(/^app:\/\/berth\//);
});

test('the tray menu shows the engine state and running containers, and its quick stop works', async ({ berthd }) => {
  const name = uniq('tray');
  await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '1000']);
  await app.firstWindow();
  type Hooks = { tray(): { icon: string; items: Array<{ type: string; id?: string; label?: string; submenu?: Array<{ id: string; label: string; action?: unknown }> }> } | null; runTrayAction(a: unknown): void };
  const trayNow = () => app.evaluate(() => (globalThis as unknown as { berthTestHooks: Hooks }).berthTestHooks.tray());
  await expect.poll(async () => (await trayNow())?.icon, { timeout: 15_000 }).toBe('running');
  const t = (await trayNow())!;
  const labels = t.items.filter((i) => i.type === 'item').map((i) => i.label);
  expect(labels[0]).toMatch(/^DOCKER_HOST: running · \d+ containers?$/);
  expect(labels).toEqual(expect.arrayContaining(['Open Dashboard', name, 'Settings…', 'Troubleshoot…', 'Quit Berth']));
  const entry = t.items.find((i) => i.label === name)!;
  const stop = entry.submenu!.find((s) => s.label === 'Stop')!;
  await app.evaluate((_e, action) => (globalThis as unknown as { berthTestHooks: Hooks }).berthTestHooks.runTrayAction(action), stop.action);
  await expect.poll(async () => (await berthd.dockerOk(['inspect', '-f', '{{.State.Running}}', name])).trim(), { timeout: 20_000 }).toBe('false');
  await expect.poll(async () => (await trayNow())!.items.some((i) => i.label === name)).toBe(false);
});
