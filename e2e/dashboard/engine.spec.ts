/**
 * Engines in the dashboard: the "engine unreachable" state when berthd goes
 * away and the automatic recovery when it returns; first run with Berth's
 * own engine stopped, then started, configured (registry mirrors written to
 * its daemon.json and reloaded), inspected in Troubleshoot and stopped from
 * the header; and the dashboard's access checks (token, origin, host).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import WebSocket from 'ws';
import { test, expect, uniq, DashboardProcess } from './fixtures.js';
import { cleanupRuntime, sleep } from '../support/berthd.js';

test('the engine going away shows "Engine unreachable"; when it is back the list returns by itself', async ({ freshBerthd, page }) => {
  const dash = await DashboardProcess.start({ DOCKER_HOST: freshBerthd.host });
  try {
    const before = uniq('before');
    await freshBerthd.dockerOk(['create', '--name', before, 'busybox', 'true']);
    await page.goto(`${dash.url}#/containers`);
    await expect(page.locator(`.trow[data-name="${before}"]`)).toBeVisible();

    await freshBerthd.stop();
    const alert = page.getByRole('alert');
    await expect(alert).toContainText('Engine unreachable');
    await expect(alert).toContainText(freshBerthd.host);
    await expect(alert).toContainText(/Retrying automatically/);
    await expect(page.locator('[data-engine-state="unreachable"]')).toBeVisible();

    await freshBerthd.launch();
    await expect(page.locator(`.trow[data-name="${before}"]`)).toBeVisible({ timeout: 15_000 });
    await expect(page.locator('[data-engine-state="running"]')).toBeVisible();
    // Live again: a change from the CLI shows up.
    const after = uniq('after');
    await freshBerthd.dockerOk(['create', '--name', after, 'busybox', 'true']);
    await expect(page.locator(`.trow[data-name="${after}"]`)).toBeVisible({ timeout: 2000 });
  } finally {
    await dash.stop();
  }
});

test('an engine that cannot be reached says where and why', async ({ page }) => {
  const dash = await DashboardProcess.start({ DOCKER_HOST: 'unix:///nonexistent/berth-e2e.sock' });
  try {
    await page.goto(`${dash.url}#/containers`);
    const alert = page.getByRole('alert');
    await expect(alert).toContainText('Engine unreachable');
    await expect(alert).toContainText('unix:///nonexistent/berth-e2e.sock');
    await expect(alert).toContainText('no engine is listening');
    // Other engines are one click away.
    await expect(alert.getByRole('combobox')).toContainText('Berth (local)');
  } finally {
    await dash.stop();
  }
});

function ownDocker(socket: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('docker', args, { env: { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: path.join(path.dirname(socket), 'docker-config') } }, (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}

test("first run: Berth's own engine is stopped; Start runs berthd, settings write its mirrors, Troubleshoot shows its log and resets its data, Stop stops it", async ({ page }) => {
  test.setTimeout(120_000);
  const dash = await DashboardProcess.start({});
  const own = dash.ownEngine;
  try {
    await page.goto(`${dash.url}#/containers`);
    await expect(page.getByRole('heading', { name: 'Berth (local) is not running' })).toBeVisible();
    await page.getByRole('button', { name: 'Start engine' }).click();
    await expect(page.getByRole('heading', { name: 'Containers', exact: true })).toBeVisible({ timeout: 40_000 });
    await expect(page.locator('[data-engine-state="running"]')).toBeVisible();
    const v = await ownDocker(own.socket, ['version', '--format', '{{.Server.Version}}']);
    expect(v.code, v.stderr).toBe(0);

    // The palette offers what applies now: Stop and Restart while it runs, not Start.
    await page.keyboard.press('Control+k');
    await page.keyboard.type('Berth (local)');
    const options = page.getByRole('dialog', { name: 'Command palette' }).getByRole('option');
    await expect(options.filter({ hasText: /^Stop Berth \(local\)$/ })).toHaveCount(1);
    await expect(options.filter({ hasText: /^Restart Berth \(local\)$/ })).toHaveCount(1);
    await expect(options.filter({ hasText: /^Start Berth \(local\)$/ })).toHaveCount(0);
    await page.keyboard.press('Escape');

    // Registry settings go to the engine's daemon.json and are applied with a reload.
    await page.goto(`${dash.url}#/settings`);
    await page.getByLabel('Registry mirrors').fill('https://mirror.example.com');
    await page.getByLabel('Insecure registries').fill('127.0.0.1:5999');
    await page.getByRole('button', { name: 'Save engine configuration' }).click();
    await expect(page.locator('.toast.success').filter({ hasText: 'Saved to' })).toContainText('the engine reloaded it');
    const written = JSON.parse(fs.readFileSync(own.configFile, 'utf8'));
    expect(written['registry-mirrors']).toEqual(['https://mirror.example.com']);
    expect(written['insecure-registries']).toEqual(['127.0.0.1:5999']);
    await expect
      .poll(async () => (await ownDocker(own.socket, ['info', '--format', '{{json .RegistryConfig.Mirrors}}'])).stdout.trim(), { timeout: 10_000 })
      .toBe('["https://mirror.example.com/"]');
    // Invalid input is refused with the field's message and nothing is written.
    await page.getByLabel('Registry mirrors').fill('ftp://nope');
    await page.getByRole('button', { name: 'Save engine configuration' }).click();
    await expect(page.locator('.engine-config .error-box')).toContainText('http:// or https://');
    expect(JSON.parse(fs.readFileSync(own.configFile, 'utf8'))['registry-mirrors']).toEqual(['https://mirror.example.com']);

    await page.goto(`${dash.url}#/troubleshoot`);
    await expect(page.locator('[data-engine-log]')).toContainText('berthd is ready');

    // Reset data: refused until confirmed by typing, then everything is gone and the engine is back.
    const imported = await ownDocker(own.socket, ['volume', 'create', 'keepme']);
    expect(imported.code, imported.stderr).toBe(0);
    await page.getByRole('button', { name: 'Reset data…' }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog.getByRole('button', { name: 'Delete everything' })).toBeDisabled();
    await dialog.getByLabel('Type reset to confirm').fill('reset');
    await dialog.getByRole('button', { name: 'Delete everything' }).click();
    await expect(page.locator('.toast.success').filter({ hasText: 'all data deleted' })).toBeVisible({ timeout: 60_000 });
    expect((await ownDocker(own.socket, ['volume', 'ls', '-q'])).stdout.trim()).toBe('');

    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await expect(page.getByRole('banner').locator('[data-engine-state="stopped"]')).toBeVisible({ timeout: 30_000 });
    expect((await ownDocker(own.socket, ['version'])).code).not.toBe(0);
  } finally {
    await dash.stop().catch(() => undefined);
    // If the test failed half way, make sure the berthd it started is gone.
    const pidFile = path.join(dash.home, 'run', 'berthd.pid');
    if (fs.existsSync(pidFile)) {
      const pid = Number(fs.readFileSync(pidFile, 'utf8'));
      try {
        process.kill(pid, 'SIGTERM');
        for (let i = 0; i < 100; i++) {
          process.kill(pid, 0);
          await sleep(100);
        }
      } catch {
        // Gone.
      }
    }
    await cleanupRuntime(own.execRoot, own.dataRoot);
    fs.rmSync(dash.home, { recursive: true, force: true });
  }
});

function upgrade(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => resolve(-1));
  });
}

function get(url: string, host: string): Promise<number> {
  return new Promise((resolve) => {
    http.get(url, { headers: { Host: host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
  });
}

test('the dashboard refuses wrong tokens, other origins and other Host names; serves a strict CSP', async ({ dashboard }) => {
  const u = new URL(dashboard.url);
  const rpc = `ws://${u.host}/rpc?token=${dashboard.token}`;
  expect(await upgrade(rpc, { Origin: dashboard.origin })).toBe(101);
  expect(await upgrade(`ws://${u.host}/rpc?token=wrong${dashboard.token}`, { Origin: dashboard.origin })).toBe(401);
  expect(await upgrade(`ws://${u.host}/rpc`, { Origin: dashboard.origin })).toBe(401);
  expect(await upgrade(rpc, { Origin: 'http://evil.example' })).toBe(403);
  expect(await upgrade(rpc, {})).toBe(403);
  expect(await get(`${dashboard.origin}/`, u.host)).toBe(200);
  expect(await get(`${dashboard.origin}/`, `attacker.example:${u.port}`)).toBe(403);
  const res = await fetch(dashboard.url);
  const csp = res.headers.get('content-security-policy')!;
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain('unsafe-eval');
  expect(dashboard.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{32}$/);
});

test('malformed and invalid messages are answered with errors and do not break the connection', async ({ dashboard }) => {
  const u = new URL(dashboard.url);
  const ws = new WebSocket(`ws://${u.host}/rpc?token=${dashboard.token}`, { headers: { Origin: dashboard.origin } });
  await new Promise((r) => ws.once('open', r));
  const replies: Array<Record<string, unknown>> = [];
  ws.on('message', (d) => replies.push(JSON.parse(String(d))));
  ws.send('not json');
  ws.send(JSON.stringify({ kind: 'call', id: 1, method: 'no.such.method', params: {} }));
  ws.send(JSON.stringify({ kind: 'call', id: 2, method: 'containers.remove', params: { engineId: 'x', ids: [] } }));
  ws.send(JSON.stringify({ kind: 'call', id: 3, method: 'settings.update', params: { theme: 'purple' } }));
  ws.send(JSON.stringify({ kind: 'call', id: 4, method: 'engines.list', params: {}, extra: true }));
  ws.send(JSON.stringify({ kind: 'call', id: 5, method: 'engines.list', params: {} }));
  await expect.poll(() => replies.length).toBe(5);
  const byId = Object.fromEntries(replies.map((r) => [r.id, r]));
  expect((byId[1]!.error as { status: number }).status).toBe(404);
  expect((byId[2]!.error as { message: string }).message).toContain('ids');
  expect((byId[3]!.error as { message: string }).message).toContain('theme');
  expect(byId[4]!.kind).toBe('error');
  expect(byId[5]!.kind).toBe('result');
  ws.close();
});
