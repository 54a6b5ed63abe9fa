/**
 * Registry accounts, search and "pull when Run is pressed", against Debian's
 * docker-registry on 127.0.0.1 (open, and behind htpasswd Basic auth) and a
 * real berthd: credentials are checked by the engine, stored the docker CLI's
 * way (config.json, or a credential helper the CLI runs too), used by the
 * app's pulls, and removed on sign-out.
 */
import crypto from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, expect, uniq, DashboardProcess } from './fixtures.js';
import { FaultProxy, OciLayout, Registry, skopeoPush } from '../support/registry.js';
import { busyboxTar } from '../support/paths.js';
import type { Berthd } from '../support/berthd.js';
import type { Page } from '@playwright/test';

/** An image in the registry with a layer no engine has seen (so a pull moves bytes). */
function pushImage(ref: string, creds?: string, sizeMiB = 2): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-oci-'));
  try {
    const layout = new OciLayout(dir);
    layout.addImage({ layers: [{ tar: busyboxTar, compression: 'gzip' }, { files: { 'payload.bin': crypto.randomBytes(sizeMiB * 1024 * 1024) }, compression: 'gzip' }], cmd: ['sh'] });
    layout.writeIndex('v1', false);
    skopeoPush(dir, 'v1', ref, creds);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The stock docker CLI with the dashboard's docker config (so it sees what Berth stored). */
function cli(berthd: Berthd, dockerConfig: string, args: string[], extraPath?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('docker', args, { env: { ...berthd.env, DOCKER_CONFIG: dockerConfig, ...(extraPath ? { PATH: `${extraPath}:${process.env.PATH}` } : {}) }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? 1 : 0, stdout: String(stdout), stderr: String(stderr) }),
    );
  });
}

async function signIn(page: Page, server: string, user: string, password: string): Promise<void> {
  await page.getByLabel('Registry', { exact: true }).fill(server);
  await page.getByLabel('Username').fill(user);
  await page.getByLabel('Password or token').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function pullInApp(page: Page, ref: string): Promise<void> {
  await page.goto(page.url().replace(/#.*$/, '#/images'));
  await page.getByRole('button', { name: 'Pull…' }).click();
  await page.getByRole('dialog').getByLabel('Image reference').fill(ref);
  await page.getByRole('dialog').getByRole('button', { name: 'Pull', exact: true }).click();
}

test.describe('a registry behind Basic auth', () => {
  let registry: Registry;
  test.beforeAll(async () => {
    registry = await Registry.start({ htpasswd: { alice: 's3cret-pw' } });
  });
  test.afterAll(async () => {
    await registry?.stop();
  });

  test('sign in is checked by the engine and stored in config.json like docker login; the CLI and Berth pulls use it; sign out removes it', async ({ app, berthd, dashboard, page }) => {
    const repo = `${registry.host}/private/${uniq('app')}`;
    pushImage(`${repo}:v1`, 'alice:s3cret-pw');
    const dockerConfig = dashboard.env.DOCKER_CONFIG!;
    const configFile = path.join(dockerConfig, 'config.json');

    await app.open('#/settings');
    await expect(page.getByText('Not signed in to any registry.')).toBeVisible();
    // A wrong password is refused by the registry (through the engine) and nothing is stored.
    await signIn(page, registry.host, 'alice', 'wrong');
    await expect(page.locator('.sign-in [role=alert]')).toContainText(/unauthorized|authentication required|401/i);
    expect(fs.existsSync(configFile) ? JSON.parse(fs.readFileSync(configFile, 'utf8')).auths?.[registry.host] : undefined).toBeUndefined();

    await signIn(page, registry.host, 'alice', 's3cret-pw');
    await expect(page.locator('.toast.success').last()).toContainText('Login Succeeded');
    await expect(page.locator(`[data-registry="${registry.host}"]`)).toContainText('as alice');
    const cfg = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    expect(Buffer.from(cfg.auths[registry.host].auth, 'base64').toString()).toBe('alice:s3cret-pw');
    expect(fs.statSync(configFile).mode & 0o777).toBe(0o600);

    // The docker CLI reads what Berth stored.
    const cliPull = await cli(berthd, dockerConfig, ['pull', `${repo}:v1`]);
    expect(cliPull.code, cliPull.stderr).toBe(0);
    await berthd.dockerOk(['rmi', `${repo}:v1`]);

    // And Berth's own pull sends it.
    await pullInApp(page, `${repo}:v1`);
    await expect(page.getByRole('dialog').locator('.ok')).toContainText('Done', { timeout: 60_000 });
    await page.getByRole('dialog').getByRole('button', { name: 'Close', exact: true }).click();
    await berthd.dockerOk(['rmi', `${repo}:v1`]);

    // Signed out: gone from config.json, and the registry refuses the pull again.
    await app.open('#/settings');
    await page.getByRole('button', { name: `Sign out of ${registry.host}` }).click();
    await expect(page.getByText('Not signed in to any registry.')).toBeVisible();
    expect(JSON.parse(fs.readFileSync(configFile, 'utf8')).auths?.[registry.host]).toBeUndefined();
    await pullInApp(page, `${repo}:v1`);
    await expect(page.getByRole('dialog').getByRole('alert')).toContainText(/unauthorized|authentication required|no basic auth/i, { timeout: 30_000 });
  });

  test('with a credential helper (credsStore), the secret goes to docker-credential-<name> and the CLI finds it there', async ({ berthd, page }) => {
    // A credential helper speaking the docker-credential-helpers protocol, keeping its secrets in a file.
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-credhelper-'));
    const store = path.join(bin, 'secrets.json');
    fs.writeFileSync(
      path.join(bin, 'docker-credential-berthtest'),
      `#!${process.execPath}
const fs = require('fs');
const file = ${JSON.stringify(store)};
const all = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
const input = fs.readFileSync(0, 'utf8').trim();
const verb = process.argv[2];
if (verb === 'store') { const c = JSON.parse(input); all[c.ServerURL] = c; fs.writeFileSync(file, JSON.stringify(all)); }
else if (verb === 'get') { if (!all[input]) { process.stdout.write('credentials not found in native keychain'); process.exit(1); } process.stdout.write(JSON.stringify(all[input])); }
else if (verb === 'erase') { delete all[input]; fs.writeFileSync(file, JSON.stringify(all)); }
else if (verb === 'list') { process.stdout.write(JSON.stringify(Object.fromEntries(Object.values(all).map((c) => [c.ServerURL, c.Username])))); }
`,
      { mode: 0o755 },
    );
    const dockerConfig = path.join(bin, 'docker-config');
    fs.mkdirSync(dockerConfig);
    fs.writeFileSync(path.join(dockerConfig, 'config.json'), JSON.stringify({ credsStore: 'berthtest', experimental: 'disabled' }));
    const dash = await DashboardProcess.start({ DOCKER_HOST: berthd.host, DOCKER_CONFIG: dockerConfig, PATH: `${bin}:${process.env.PATH}` });
    try {
      const repo = `${registry.host}/private/${uniq('helper')}`;
      pushImage(`${repo}:v1`, 'alice:s3cret-pw', 1);
      await page.goto(`${dash.url}#/settings`);
      await expect(page.getByText('secrets in docker-credential-berthtest')).toBeVisible();
      await signIn(page, registry.host, 'alice', 's3cret-pw');
      await expect(page.locator('.toast.success').last()).toContainText('docker-credential-berthtest');
      await expect(page.locator(`[data-registry="${registry.host}"]`)).toContainText('docker-credential-berthtest');
      expect(JSON.parse(fs.readFileSync(store, 'utf8'))[registry.host]).toEqual({ ServerURL: registry.host, Username: 'alice', Secret: 's3cret-pw' });
      const cfg = JSON.parse(fs.readFileSync(path.join(dockerConfig, 'config.json'), 'utf8'));
      // As docker login leaves it: the server listed, no secret in the file, other keys kept.
      expect(cfg.auths[registry.host]).toEqual({});
      expect(cfg.experimental).toBe('disabled');
      const pulled = await cli(berthd, dockerConfig, ['pull', `${repo}:v1`], bin);
      expect(pulled.code, pulled.stderr).toBe(0);
      await berthd.dockerOk(['rmi', `${repo}:v1`]);
      await page.getByRole('button', { name: `Sign out of ${registry.host}` }).click();
      await expect(page.getByText('Not signed in to any registry.')).toBeVisible();
      expect(JSON.parse(fs.readFileSync(store, 'utf8'))[registry.host]).toBeUndefined();
    } finally {
      await dash.stop();
      fs.rmSync(bin, { recursive: true, force: true });
    }
  });
});

test.describe('an open registry', () => {
  let registry: Registry;
  let proxy: FaultProxy;
  test.beforeAll(async () => {
    registry = await Registry.start();
    proxy = new FaultProxy(registry.url);
    await proxy.start();
  });
  test.afterAll(async () => {
    await proxy?.stop();
    await registry?.stop();
  });

  test('Run with an image that is not here pulls it first, with progress, then runs it', async ({ app, berthd, page }) => {
    const ref = `${registry.host}/${uniq('runpull')}:v1`;
    pushImage(ref, undefined, 4);
    expect((await berthd.docker(['image', 'inspect', ref])).code).not.toBe(0);
    const name = uniq('pulled');
    await app.open('#/images');
    await page.getByRole('button', { name: 'Run…', exact: true }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Image', { exact: true }).fill(ref);
    await dialog.getByLabel('Container name').fill(name);
    await dialog.getByLabel('Command').fill('sleep 1000');
    await dialog.getByRole('button', { name: 'Run', exact: true }).click();
    await expect(dialog.locator('.run-pull')).toContainText('locally: pulling it');
    await expect(dialog.locator('.run-pull [data-layer]').first()).toBeVisible();
    await expect(page.getByRole('heading', { name })).toBeVisible({ timeout: 60_000 });
    expect((await berthd.dockerOk(['inspect', '-f', '{{.State.Status}} {{.Config.Image}}', name])).trim()).toBe(`running ${ref}`);
    await berthd.dockerOk(['rm', '-f', name]);
    await berthd.dockerOk(['rmi', ref]);
  });

  test('search a registry from the Pull dialog, pick a result, pull it', async ({ app, berthd, page }) => {
    const tag = uniq('findme');
    for (const n of [`team/${tag}-alpha`, `team/${tag}-beta`, 'team/unrelated']) pushImage(`${registry.host}/${n}:latest`, undefined, 1);
    proxy.descriptions.set(`team/${tag}-beta`, 'the second one');
    await app.open('#/images');
    await page.getByRole('button', { name: 'Pull…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Image reference').fill(`${proxy.host}/${tag}`);
    await dialog.getByRole('button', { name: 'Search', exact: true }).click();
    const results = dialog.getByRole('list', { name: 'Search results' });
    await expect(results.locator('li')).toHaveCount(2);
    await expect(results).toContainText('the second one');
    await results.getByRole('button', { name: `${proxy.host}/team/${tag}-alpha` }).click();
    await expect(dialog.getByLabel('Image reference')).toHaveValue(`${proxy.host}/team/${tag}-alpha`);
    await dialog.getByRole('button', { name: 'Pull', exact: true }).click();
    await expect(dialog.locator('.ok')).toContainText('Done', { timeout: 60_000 });
    expect((await berthd.docker(['image', 'inspect', `${proxy.host}/team/${tag}-alpha:latest`])).code).toBe(0);
    await berthd.dockerOk(['rmi', `${proxy.host}/team/${tag}-alpha:latest`]);
  });
});
