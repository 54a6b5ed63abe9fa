/**
 * Images in the dashboard against a real berthd and a real registry on
 * loopback: run a container from the Run dialog with a published port and
 * open its link; pull with per-layer progress; tag, push with progress,
 * history, remove (untag vs delete).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, expect, uniq } from './fixtures.js';
import { busyboxTar } from '../support/paths.js';
import { Registry, OciLayout, skopeoPush, freePort } from '../support/registry.js';

test('Run dialog: a container with a published port starts, its detail opens, and its port link serves the page', async ({ app, berthd, page }) => {
  const name = uniq('web');
  const hostPort = await freePort();
  await app.open('#/images');
  await page.getByRole('button', { name: 'Run busybox:latest' }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog.getByLabel('Image', { exact: true })).toHaveValue('busybox:latest');
  await dialog.getByLabel('Container name').fill(name);
  await dialog.getByLabel('Host port 1', { exact: true }).fill(String(hostPort));
  await dialog.getByLabel('Container port 1').fill('80');
  await dialog.getByRole('button', { name: '+ Variable' }).click();
  await dialog.getByLabel('Variable 1', { exact: true }).fill('GREETING');
  await dialog.getByLabel('Value 1', { exact: true }).fill('hello from berth');
  await dialog.getByLabel('Command').fill(`sh -c 'mkdir -p /www && echo "$GREETING" > /www/index.html && echo serving && httpd -f -v -p 80 -h /www'`);
  await dialog.getByLabel('Restart policy').selectOption('unless-stopped');
  await dialog.getByRole('button', { name: 'Run', exact: true }).click();

  // The new container's detail opens, with its logs.
  await expect(page.getByRole('heading', { name })).toBeVisible();
  await expect.poll(() => app.terminalText('[data-logs-terminal]')).toContain('serving');
  const inspect = JSON.parse(await berthd.dockerOk(['inspect', name]))[0];
  expect(inspect.HostConfig.PortBindings['80/tcp'][0].HostPort).toBe(String(hostPort));
  expect(inspect.HostConfig.RestartPolicy.Name).toBe('unless-stopped');
  expect(inspect.Config.Env).toContain('GREETING=hello from berth');

  // The port is a link in the table; opening it reaches the container.
  await app.open('#/containers');
  await page.getByLabel('Search containers').fill(name);
  const link = app.row(name).getByRole('link', { name: `${hostPort}:80/tcp` });
  await expect(link).toHaveAttribute('href', `http://localhost:${hostPort}`);
  const [popup] = await Promise.all([page.waitForEvent('popup'), link.click()]);
  await expect(popup.locator('body')).toHaveText('hello from berth');
  await popup.close();
  await berthd.dockerOk(['rm', '-f', name]);
});

test('Run dialog: a random host port, a named volume, and validation errors that keep the form', async ({ app, berthd, page }) => {
  const name = uniq('rnd');
  const volume = uniq('vol');
  await app.open('#/images');
  await page.getByRole('button', { name: 'Run busybox:latest' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Container name').fill(name);
  await dialog.getByLabel('Container port 1').fill('99999');
  await dialog.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(dialog.getByRole('alert')).toContainText('container port must be a number from 1 to 65535');
  await expect(dialog.getByLabel('Container name')).toHaveValue(name);

  await dialog.getByLabel('Container port 1').fill('8080');
  await dialog.getByLabel('Random host port 1').check();
  await dialog.getByRole('button', { name: '+ Volume' }).click();
  await dialog.getByLabel('Volume source 1').fill(volume);
  await dialog.getByLabel('Container path 1').fill('/data');
  await dialog.getByLabel('Command').fill('sleep 1000');
  await dialog.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(page.getByRole('heading', { name })).toBeVisible();
  const inspect = JSON.parse(await berthd.dockerOk(['inspect', name]))[0];
  expect(inspect.HostConfig.PortBindings['8080/tcp'][0].HostPort).toBe('');
  expect(inspect.Mounts.find((m: { Destination: string }) => m.Destination === '/data').Name).toBe(volume);
  const published = (await berthd.dockerOk(['port', name, '8080/tcp'])).trim();
  expect(published).toMatch(/:\d+$/);
  const port = published.split('\n')[0]!.split(':').pop();
  await expect(page.locator('.container-detail .port').first()).toHaveText(`${port}:8080/tcp`);
  await berthd.dockerOk(['rm', '-f', '-v', name]);
  await berthd.docker(['volume', 'rm', volume]);
});

test.describe('with a registry on loopback', () => {
  let registry: Registry;
  test.beforeAll(async () => {
    registry = await Registry.start();
  });
  test.afterAll(async () => {
    await registry?.stop();
  });

  test('pull shows per-layer progress and the image appears; tag, push with progress, history and remove', async ({ app, berthd, page }) => {
    // An image with a layer this engine has never seen (random content), so bytes really move.
    const repo = `${registry.host}/${uniq('dash')}`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-oci-'));
    try {
      const layout = new OciLayout(dir);
      layout.addImage({ layers: [{ tar: busyboxTar, compression: 'gzip' }, { files: { 'payload.bin': crypto.randomBytes(3 * 1024 * 1024) }, compression: 'gzip' }], cmd: ['sh'] });
      layout.writeIndex('v1', false);
      skopeoPush(dir, 'v1', `${repo}:v1`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }

    await app.open('#/images');
    await page.getByRole('button', { name: 'Pull…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Image reference').fill(`${repo}:v1`);
    await dialog.getByRole('button', { name: 'Pull', exact: true }).click();
    await expect(dialog.locator('.ok')).toContainText('Done', { timeout: 60_000 });
    await expect(dialog.locator('[data-layer]')).toHaveCount(2);
    for (const bar of await dialog.locator('[data-layer] progress').all()) await expect(bar).toHaveAttribute('value', '100');
    await expect(dialog.locator('.ok')).toContainText('sha256:');
    await dialog.getByRole('button', { name: 'Close', exact: true }).click();
    const row = page.locator(`.trow[data-image="${repo}:v1"]`);
    await expect(row).toBeVisible();
    expect((await berthd.dockerOk(['images', '-q', `${repo}:v1`])).trim()).not.toBe('');

    // A failing pull says why.
    await page.getByRole('button', { name: 'Pull…' }).click();
    await dialog.getByLabel('Image reference').fill(`${registry.host}/does-not-exist:v1`);
    await dialog.getByRole('button', { name: 'Pull', exact: true }).click();
    await expect(dialog.getByRole('alert')).toContainText(/not found|unknown|does not exist|manifest/i, { timeout: 30_000 });
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    // Tag, then push the new name with progress.
    await page.getByRole('button', { name: `Tag ${repo}:v1` }).click();
    await page.getByRole('dialog').getByLabel('New image name').fill(`${repo}-copy:v2`);
    await page.getByRole('dialog').getByRole('button', { name: 'Tag', exact: true }).click();
    await expect(page.locator(`.trow[data-image="${repo}-copy:v2"]`)).toBeVisible();
    await page.getByRole('button', { name: `Push ${repo}-copy:v2` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Push', exact: true }).click();
    await expect(page.getByRole('dialog').locator('.ok')).toContainText('Done', { timeout: 60_000 });
    await expect(page.getByRole('dialog').locator('[data-layer]')).toHaveCount(2);
    await page.getByRole('dialog').getByRole('button', { name: 'Close', exact: true }).click();
    const pushed = (await fetch(`http://${registry.host}/v2/${repo.split('/')[1]}-copy/tags/list`).then((r) => r.json())) as { tags: string[] };
    expect(pushed.tags).toEqual(['v2']);

    // History of the image.
    await row.getByRole('link').click();
    await expect(page.getByRole('table', { name: 'Image history' }).locator('tbody tr')).toHaveCount(2);

    // Remove with two tags: untag only, then delete.
    await app.open('#/images');
    await page.getByRole('button', { name: `Remove ${repo}-copy:v2` }).click();
    await page.getByRole('dialog').getByLabel(/Untag/).check();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove', exact: true }).click();
    await expect(page.locator(`.trow[data-image="${repo}-copy:v2"]`)).toHaveCount(0);
    await expect(row).toBeVisible();
    await page.getByRole('button', { name: `Remove ${repo}:v1` }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Remove', exact: true }).click();
    await expect(row).toHaveCount(0);
    expect((await berthd.docker(['image', 'inspect', `${repo}:v1`])).code).not.toBe(0);
  });
});
