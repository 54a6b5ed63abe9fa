/** Volumes and networks in the dashboard against a real berthd. */
import { test, expect, uniq } from './fixtures.js';

test('create a volume, see who uses it and its files, remove it', async ({ app, berthd, page }) => {
  const name = uniq('vol');
  await app.open('#/volumes');
  await page.getByRole('button', { name: 'Create…' }).click();
  await page.getByRole('dialog').getByLabel('Volume name').fill(name);
  await page.getByRole('dialog').getByRole('button', { name: 'Create', exact: true }).click();
  const row = page.locator(`.trow[data-volume="${name}"]`);
  await expect(row).toBeVisible();
  expect((await berthd.dockerOk(['volume', 'inspect', '-f', '{{.Name}}', name])).trim()).toBe(name);

  // Used by a container (created from the CLI): the list says so, and the files are browsable.
  const user = uniq('user');
  await berthd.dockerOk(['run', '--name', user, '-v', `${name}:/data`, 'busybox', 'sh', '-c', 'mkdir -p /data/dir && echo hi > /data/hello.txt']);
  await expect(row).toContainText(user);
  await row.getByRole('button', { name: 'Browse' }).click();
  await expect(page.locator('[data-file="hello.txt"]')).toContainText('3 B');
  await expect(page.locator('[data-file="dir"]')).toBeVisible();

  // In use: the engine refuses, and the dialog's error says so.
  await app.open('#/volumes');
  await page.getByRole('button', { name: `Remove ${name}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(page.locator('.toast.error')).toContainText(/in use/i);
  await berthd.dockerOk(['rm', user]);
  await expect(row).toContainText('unused');
  await page.getByRole('button', { name: `Remove ${name}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(row).toHaveCount(0);
  expect((await berthd.docker(['volume', 'inspect', name])).code).not.toBe(0);
});

test('a volume created from the CLI appears; bulk remove of selected volumes', async ({ app, berthd, page }) => {
  const [a, b] = [uniq('va'), uniq('vb')];
  await app.open('#/volumes');
  await expect(page.getByRole('heading', { name: 'Volumes', exact: true })).toBeVisible();
  await berthd.dockerOk(['volume', 'create', a]);
  await berthd.dockerOk(['volume', 'create', b]);
  await expect(page.locator(`.trow[data-volume="${a}"]`)).toBeVisible({ timeout: 2000 });
  await page.getByLabel(`Select ${a}`).check();
  await page.getByLabel(`Select ${b}`).check();
  await page.getByRole('toolbar', { name: 'Bulk actions' }).getByRole('button', { name: 'Remove', exact: true }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(page.locator(`.trow[data-volume="${a}"]`)).toHaveCount(0);
  await expect(page.locator(`.trow[data-volume="${b}"]`)).toHaveCount(0);
});

test('create a network, see attached containers, remove it', async ({ app, berthd, page }) => {
  const name = uniq('net');
  await app.open('#/networks');
  await expect(page.locator('.trow[data-network="bridge"]')).toBeVisible();
  await page.getByRole('button', { name: 'Create…' }).click();
  await page.getByRole('dialog').getByLabel('Network name').fill(name);
  await page.getByRole('dialog').getByRole('button', { name: 'Create', exact: true }).click();
  const row = page.locator(`.trow[data-network="${name}"]`);
  await expect(row).toBeVisible();
  expect((await berthd.dockerOk(['network', 'inspect', '-f', '{{.Driver}}', name])).trim()).toBe('bridge');

  const c = uniq('attached');
  await berthd.dockerOk(['run', '-d', '--name', c, '--network', name, 'busybox', 'sleep', '1000']);
  await expect(row).toContainText(c);
  await row.getByRole('link', { name }).click();
  await expect(page.getByRole('link', { name: c })).toBeVisible();
  await berthd.dockerOk(['rm', '-f', c]);

  await app.open('#/networks');
  await page.getByRole('button', { name: `Remove ${name}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(row).toHaveCount(0);
  expect((await berthd.docker(['network', 'inspect', name])).code).not.toBe(0);
});
