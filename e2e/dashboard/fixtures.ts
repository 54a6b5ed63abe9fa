/**
 * Dashboard e2e fixtures: a real `berth dashboard` (from the build under
 * test) pointed at the worker's berthd through DOCKER_HOST, isolated from the
 * machine's own Berth (BERTH_HOME, BERTH_ENGINE_SOCKET in a temp folder), and
 * Debian's Chromium driving it. `App` is the page object the specs use.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LaunchOptions, Locator, Page } from '@playwright/test';
import WebSocket from 'ws';
import { test as base, expect, uniq } from '../support/fixtures.js';
import { distDir, repoRoot } from '../support/paths.js';

export const berthCli = path.join(distDir, 'electron', 'cli', 'berth.js');
export const artifactsDir = path.join(repoRoot, 'e2e', 'artifacts', 'dashboard');

export const chromiumLaunch: LaunchOptions = {
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
};

let started = 0;

export class DashboardProcess {
  private constructor(
    readonly proc: ChildProcess,
    readonly url: string,
    readonly home: string,
    private readonly output: { text: string },
    readonly env: NodeJS.ProcessEnv,
  ) {}

  get origin(): string {
    return new URL(this.url).origin;
  }
  get token(): string {
    return new URL(this.url).searchParams.get('token')!;
  }
  /** Where Berth's own engine would keep its state if this dashboard started it. */
  get ownEngine(): { socket: string; dataRoot: string; execRoot: string; configFile: string } {
    return { socket: this.env.BERTH_ENGINE_SOCKET!, dataRoot: this.env.BERTH_ENGINE_DATA_ROOT!, execRoot: this.env.BERTH_ENGINE_EXEC_ROOT!, configFile: this.env.BERTH_ENGINE_CONFIG! };
  }
  get log(): string {
    return this.output.text;
  }

  /** Starts `berth dashboard` with the given engine environment (and extra flags, e.g. --port) and waits for its URL. */
  static async start(env: NodeJS.ProcessEnv, args: string[] = [], existingHome?: string): Promise<DashboardProcess> {
    if (!fs.existsSync(berthCli)) throw new Error(`${berthCli} is missing: run "npm run build" first`);
    const home = existingHome ?? fs.mkdtempSync(path.join(os.tmpdir(), 'berth-dash-'));
    const fullEnv: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: home,
        BERTH_HOME: home,
        // Never touch the machine's own berthd: Berth's engine points at a socket nobody serves.
        BERTH_ENGINE_SOCKET: path.join(home, 'own-engine.sock'),
        BERTH_ENGINE_DATA_ROOT: path.join(home, 'own-engine-data'),
        BERTH_ENGINE_CONFIG: path.join(home, 'own-engine-daemon.json'),
        // Short: berthd puts monitor sockets under it (108-byte limit on socket paths).
        BERTH_ENGINE_EXEC_ROOT: `/run/bdash${process.pid % 100000}-${++started}`,
        DOCKER_CONFIG: path.join(home, 'docker-config'),
        ...env,
    };
    const proc = spawn(process.execPath, [berthCli, 'dashboard', ...args], { env: fullEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const output = { text: '' };
    proc.stdout!.on('data', (d: Buffer) => (output.text += d.toString()));
    proc.stderr!.on('data', (d: Buffer) => (output.text += d.toString()));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const m = /Berth dashboard: (http:\/\/\S+)/.exec(output.text);
      if (m) return new DashboardProcess(proc, m[1]!, home, output, fullEnv);
      if (proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    proc.kill('SIGKILL');
    throw new Error(`berth dashboard did not print its URL:\n${output.text}`);
  }

  /** Stops the server; its home folder goes too unless kept (to start another on it). */
  async stop(opts: { keepHome?: boolean } = {}): Promise<void> {
    if (this.proc.exitCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r));
      this.proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
    }
    if (!opts.keepHome) fs.rmSync(this.home, { recursive: true, force: true });
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  /** One contract call over the dashboard's own RPC socket, as the page makes it. */
  async call(method: string, params: unknown): Promise<unknown> {
    const ws = new WebSocket(`ws://${new URL(this.url).host}/rpc?token=${this.token}`, { headers: { Origin: this.origin } });
    try {
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
      ws.on('error', () => undefined); // a late error ends in the close handler below
      const reply = new Promise<Record<string, unknown>>((resolve, reject) => {
        ws.on('message', (d) => {
          const m = JSON.parse(String(d)) as Record<string, unknown>;
          if (m.id === 1) resolve(m);
        });
        ws.once('close', () => reject(new Error(`${method}: the dashboard closed the connection`)));
      });
      ws.send(JSON.stringify({ kind: 'call', id: 1, method, params }));
      const m = await reply;
      if (m.kind !== 'result') throw new Error(`${method}: ${JSON.stringify(m.error ?? m)}`);
      return m.value;
    } finally {
      ws.close();
    }
  }
}

/** The dashboard as a user sees it. */
export class App {
  constructor(
    readonly page: Page,
    readonly dashboard: DashboardProcess,
  ) {}

  async open(hash = '#/containers'): Promise<void> {
    await this.page.goto(`${this.dashboard.url}${hash}`);
  }

  row(name: string): Locator {
    return this.page.locator(`.trow[data-name="${name}"]`);
  }

  /** Every line of an xterm.js buffer (the Logs view or an exec terminal), read from the terminal itself. */
  terminalText(selector: string): Promise<string> {
    return this.page.locator(selector).first().evaluate((el) => {
      const term = (el as unknown as { berthTerminal: { buffer: { active: { length: number; getLine(i: number): { translateToString(trim: boolean): string } | undefined } } } }).berthTerminal;
      const b = term.buffer.active;
      const out: string[] = [];
      for (let i = 0; i < b.length; i++) out.push(b.getLine(i)?.translateToString(true) ?? '');
      return out.join('\n');
    });
  }

  terminalSize(selector: string): Promise<{ cols: number; rows: number }> {
    return this.page.locator(selector).first().evaluate((el) => {
      const t = (el as unknown as { berthTerminal: { cols: number; rows: number } }).berthTerminal;
      return { cols: t.cols, rows: t.rows };
    });
  }

  async setTheme(theme: 'light' | 'dark'): Promise<void> {
    await this.open('#/settings');
    await this.page.getByRole('radio', { name: theme === 'light' ? 'Light' : 'Dark' }).check();
    await expect(this.page.locator('html')).toHaveAttribute('data-theme', theme);
  }

  /** The container's status pill text. */
  status(name: string): Locator {
    return this.row(name).locator('[data-state]');
  }

  async screenshot(name: string): Promise<void> {
    fs.mkdirSync(artifactsDir, { recursive: true });
    const theme = await this.page.locator('html').getAttribute('data-theme');
    await this.page.screenshot({ path: path.join(artifactsDir, `${name}-${theme}.png`) });
  }
}

export const test = base.extend<{ app: App }, { dashboard: DashboardProcess }>({
  launchOptions: [chromiumLaunch, { scope: 'worker' }],
  dashboard: [
    async ({ berthd }, use) => {
      const d = await DashboardProcess.start({ DOCKER_HOST: berthd.host });
      await use(d);
      await d.stop();
    },
    { scope: 'worker', timeout: 60_000 },
  ],
  app: async ({ page, dashboard }, use) => {
    // Table views (sort, filters) are remembered in the worker's shared settings: each test starts from none,
    // so a filter one test leaves (containers.spec's "running") never hides another test's rows.
    await dashboard.call('settings.update', { views: {} });
    await use(new App(page, dashboard));
  },
});

export { expect, uniq };
