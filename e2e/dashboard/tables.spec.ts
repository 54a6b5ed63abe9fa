/**
 * Tables: sort by any column, filter containers by image, compose project,
 * label and state, and find both choices again after a reload (they are kept
 * in the user's settings.json). A dashboard of its own, so the remembered
 * views do not leak into other tests.
 */
import fs from 'node:fs';
import path from 'node:path';
import { test, expect, uniq, DashboardProcess } from './fixtures.js';

test('sort and filters are remembered across reloads, per table', async ({ berthd, page }) => {
  const dash = await DashboardProcess.start({ DOCKER_HOST: berthd.host });
  const p = uniq('tbl');
  const alias = `${p}-img:1`;
  const names = [`${p}-b`, `${p}-c`, `${p}-a`];
  try {
    await berthd.dockerOk(['tag', 'busybox', alias]);
    // One second apart: Created has a resolution of seconds.
    await berthd.dockerOk(['run', '-d', '--name', names[0]!, '--label', 'tier=web', 'busybox', 'sleep', '1000']);
    await new Promise((r) => setTimeout(r, 1100));
    await berthd.dockerOk(['create', '--name', names[1]!, '--label', 'tier=db', alias, 'true']);
    await new Promise((r) => setTimeout(r, 1100));
    await berthd.dockerOk(['run', '-d', '--name', names[2]!, '--label', `com.docker.compose.project=${p}-proj`, '--label', 'com.docker.compose.service=svc', alias, 'sleep', '1000']);
    await page.goto(`${dash.url}#/containers`);
    await page.getByLabel('Search containers').fill(p);
    await page.getByLabel('Group by project').uncheck();
    const order = () => page.locator('.containers-table .trow[data-name]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name')));
    // Newest first by default.
    await expect.poll(order).toEqual([names[2], names[1], names[0]]);
    await page.getByRole('button', { name: /^Name/ }).click();
    await expect.poll(order).toEqual([`${p}-a`, `${p}-b`, `${p}-c`]);
    await page.getByRole('button', { name: /^Name/ }).click();
    await expect.poll(order).toEqual([`${p}-c`, `${p}-b`, `${p}-a`]);
    await expect(page.getByRole('columnheader', { name: /Name/ })).toHaveAttribute('aria-sort', 'descending');
    await page.getByRole('button', { name: /^Image/ }).click();
    // busybox sorts before the alias; the two on the alias come after it, in either order.
    await expect.poll(async () => (await order())[0]).toBe(`${p}-b`);

    // Filters: image, then label, then project, then state.
    await page.getByLabel('Filter by image').selectOption(alias);
    await expect.poll(async () => (await order()).sort()).toEqual([`${p}-a`, `${p}-c`]);
    await page.getByLabel('Filter by label').fill('tier=db');
    await expect.poll(order).toEqual([`${p}-c`]);
    await page.getByLabel('Filter by label').fill('');
    await page.getByLabel('Filter by compose project').selectOption(`${p}-proj`);
    await expect.poll(order).toEqual([`${p}-a`]);
    await page.getByLabel('Filter by compose project').selectOption('');
    await page.getByLabel('Filter by state').selectOption('stopped');
    await expect.poll(order).toEqual([`${p}-c`]);

    // A reload (or a restart of the app) finds the same view.
    await expect.poll(() => JSON.parse(fs.readFileSync(path.join(dash.home, 'settings.json'), 'utf8')).views?.containers?.filters?.state).toBe('stopped');
    await page.reload();
    await page.getByLabel('Search containers').fill(p);
    await expect(page.getByLabel('Filter by state')).toHaveValue('stopped');
    await expect(page.getByLabel('Filter by image')).toHaveValue(alias);
    await expect(page.getByLabel('Group by project')).not.toBeChecked();
    await expect(page.getByRole('columnheader', { name: /Image/ })).toHaveAttribute('aria-sort', 'ascending');
    await expect.poll(order).toEqual([`${p}-c`]);
    const stored = JSON.parse(fs.readFileSync(path.join(dash.home, 'settings.json'), 'utf8')).views.containers;
    expect(stored).toEqual({ sort: { column: 'image', dir: 'asc' }, filters: { image: alias, state: 'stopped' }, grouped: false });

    // Other tables keep their own sort.
    await page.goto(`${dash.url}#/images`);
    await page.getByRole('button', { name: /^Size/ }).click();
    await expect(page.getByRole('columnheader', { name: /Size/ })).toHaveAttribute('aria-sort', 'descending');
    await page.reload();
    await expect(page.getByRole('columnheader', { name: /Size/ })).toHaveAttribute('aria-sort', 'descending');
    await page.goto(`${dash.url}#/volumes`);
    await expect(page.getByRole('columnheader', { name: /Name/ })).toHaveAttribute('aria-sort', 'ascending');
  } finally {
    await dash.stop();
    await berthd.docker(['rm', '-f', ...names]);
    await berthd.docker(['rmi', alias]);
  }
});
