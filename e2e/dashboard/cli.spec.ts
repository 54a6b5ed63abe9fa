/**
 * The `berth` command: engine start/status/logs/stop of Berth's own berthd
 * (in temp folders, never the machine's), `berth up` reusing a running
 * engine and serving the dashboard, version, and usage errors.
 */
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, expect } from './fixtures.js';
import { berthCli } from './fixtures.js';
import { cleanupRuntime } from '../support/berthd.js';

let home: string;
let env: NodeJS.ProcessEnv;
let counter = 0;

test.beforeEach(() => {
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cli-'));
  env = {
    PATH: process.env.PATH,
    HOME: home,
    BERTH_HOME: home,
    BERTH_ENGINE_SOCKET: path.join(home, 'engine.sock'),
    BERTH_ENGINE_DATA_ROOT: path.join(home, 'data'),
    BERTH_ENGINE_CONFIG: path.join(home, 'daemon.json'),
    BERTH_ENGINE_EXEC_ROOT: `/run/bcli${process.pid % 100000}-${++counter}`,
    DOCKER_CONFIG: path.join(home, 'docker-config'),
  };
});

test.afterEach(async () => {
  await berth(['engine', 'stop']);
  await cleanupRuntime(env.BERTH_ENGINE_EXEC_ROOT!, env.BERTH_ENGINE_DATA_ROOT!);
  fs.rmSync(home, { recursive: true, force: true });
});

function berth(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [berthCli, ...args], { env, timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

test('berth engine start, status, logs and stop control Berth\'s own berthd', async () => {
  let r = await berth(['engine', 'status']);
  expect(r.code).toBe(1);
  expect(r.stdout).toMatch(/^stopped, unix:\/\//);

  r = await berth(['engine', 'start']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toBe(`berthd is running on unix://${env.BERTH_ENGINE_SOCKET}\n`);
  r = await berth(['engine', 'status']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^running \(berthd [\w.-]+\), pid \d+, unix:\/\//);
  // Starting again is a no-op.
  expect((await berth(['engine', 'start'])).code).toBe(0);

  r = await berth(['engine', 'logs', '-n', '50']);
  expect(r.stdout).toContain('berthd is ready');
  expect((await berth(['engine', 'logs', '-n', 'x'])).code).toBe(125);

  r = await berth(['engine', 'stop']);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toBe('berthd stopped (containers keep running)\n');
  expect((await berth(['engine', 'status'])).stdout).toMatch(/^stopped/);
});

test('berth up reuses a running engine, serves the dashboard for it, and leaves it running', async ({ page }) => {
  expect((await berth(['engine', 'start'])).code).toBe(0);
  const up = spawn(process.execPath, [berthCli, 'up'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  up.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  up.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await expect.poll(() => out, { timeout: 20_000 }).toContain('Berth dashboard: http://127.0.0.1:');
    expect(out).not.toContain('Starting berthd');
    expect(out).toContain(`berthd is running on unix://${env.BERTH_ENGINE_SOCKET}`);
    const url = /Berth dashboard: (\S+)/.exec(out)![1]!;
    await page.goto(`${url}#/containers`);
    await expect(page.getByRole('heading', { name: 'Containers', exact: true })).toBeVisible();
    await expect(page.getByRole('banner').locator('[data-engine-state="running"]')).toBeVisible();
  } finally {
    const exited = new Promise((r) => up.once('exit', r));
    up.kill('SIGTERM');
    await exited;
  }
  // It did not start the engine, so it leaves it running.
  expect((await berth(['engine', 'status'])).code).toBe(0);
});

test('berth up starts a stopped engine and stops it again when it exits', async () => {
  const up = spawn(process.execPath, [berthCli, 'up'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  up.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  up.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await expect.poll(() => out, { timeout: 40_000 }).toContain('Berth dashboard: http://127.0.0.1:');
    expect(out).toContain(`Starting berthd on unix://${env.BERTH_ENGINE_SOCKET}`);
    expect((await berth(['engine', 'status'])).code).toBe(0);
  } finally {
    const exited = new Promise((r) => up.once('exit', r));
    up.kill('SIGTERM');
    await exited;
  }
  expect((await berth(['engine', 'status'])).stdout).toMatch(/^stopped/);
});

test('berth version, help and usage errors', async () => {
  expect((await berth(['version'])).stdout).toMatch(/^Berth \d+\.\d+\.\d+ \(node /);
  expect((await berth(['--help'])).stdout).toContain('dashboard [--port N]');
  const bad = await berth(['frobnicate']);
  expect(bad.code).toBe(125);
  expect(bad.stderr).toContain('unknown command "frobnicate"');
  expect((await berth(['dashboard', '--port', 'abc'])).code).toBe(125);
});
