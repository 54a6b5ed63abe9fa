/**
 * The containers table against a real berthd: changes made with the docker
 * CLI show up without a reload (driven by /events), and the row and bulk
 * actions (stop, start, pause, remove, bulk remove) really change the engine.
 */
import { test, expect, uniq } from './fixtures.js';

async function inspectState(berthd: { docker(a: string[]): Promise<{ code: number; stdout: string }> }, name: string): Promise<string | null> {
  const r = await berthd.docker(['inspect', '-f', '{{.State.Status}}', name]);
  return r.code === 0 ? r.stdout.trim() : null;
}

test('a container created, started and removed with the CLI appears, changes and disappears within a second, without a reload', async ({ app, berthd, page }) => {
  await app.open('#/containers');
  await expect(page.getByRole('table', { name: 'Containers' })).toBeVisible();
  await expect(page.locator('[data-engine-state="running"]')).toBeVisible();
  const navigations: string[] = [];
  page.on('framenavigated', (f) => f === page.mainFrame() && navigations.push(f.url()));
  const name = uniq('cli');

  await berthd.dockerOk(['create', '--name', name, 'busybox', 'sleep', '300']);
  let t = Date.now();
  await expect(app.row(name)).toBeVisible({ timeout: 1000 });
  const createdAfter = Date.now() - t;
  await expect(app.row(name).locator('[data-state]')).toHaveAttribute('data-state', 'created');

  await berthd.dockerOk(['start', name]);
  t = Date.now();
  await expect(app.row(name).locator('[data-state]')).toHaveAttribute('data-state', 'running', { timeout: 1000 });
  const startedAfter = Date.now() - t;

  await berthd.dockerOk(['rm', '-f', name]);
  t = Date.now();
  await expect(app.row(name)).toHaveCount(0, { timeout: 1000 });
  const removedAfter = Date.now() - t;

  expect(navigations).toEqual([]);
  test.info().annotations.push({ type: 'latency', description: `create ${createdAfter} ms, start ${startedAfter} ms, rm ${removedAfter} ms` });
});

test('stop, start, pause, unpause and remove from the row; bulk remove with force', async ({ app, berthd, page }) => {
  const prefix = uniq('act');
  const [a, b, c] = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];
  for (const n of [a, b, c]) await berthd.dockerOk(['run', '-d', '--name', n, 'busybox', 'sleep', '1000']);
  await app.open('#/containers');
  await page.getByLabel('Search containers').fill(prefix);
  for (const n of [a, b, c]) await expect(app.row(n).locator('[data-state]')).toHaveAttribute('data-state', 'running');
  await expect(page.locator('.trow[data-name]')).toHaveCount(3);

  await page.getByRole('button', { name: `Stop ${a}`, exact: true }).click();
  await expect(app.row(a).locator('[data-state]')).toHaveAttribute('data-state', 'exited', { timeout: 20_000 });
  expect(await inspectState(berthd, a)).toBe('exited');

  await page.getByRole('button', { name: `Start ${a}`, exact: true }).click();
  await expect(app.row(a).locator('[data-state]')).toHaveAttribute('data-state', 'running');
  expect(await inspectState(berthd, a)).toBe('running');

  await page.getByRole('button', { name: `Pause ${a}`, exact: true }).click();
  await expect(app.row(a).locator('[data-state]')).toHaveAttribute('data-state', 'paused');
  expect(await inspectState(berthd, a)).toBe('paused');
  await page.getByRole('button', { name: `Unpause ${a}`, exact: true }).click();
  await expect(app.row(a).locator('[data-state]')).toHaveAttribute('data-state', 'running');

  // Removing a running container without force is refused by the engine and says why.
  await page.getByRole('button', { name: `Remove ${a}`, exact: true }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(page.locator('.toast.error')).toContainText(/running|stop/i);
  expect(await inspectState(berthd, a)).toBe('running');

  await page.getByRole('button', { name: `Remove ${a}`, exact: true }).click();
  await page.getByRole('dialog').getByLabel('Force (stop running containers first)').check();
  await page.getByRole('dialog').getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(app.row(a)).toHaveCount(0);
  expect(await inspectState(berthd, a)).toBeNull();

  // Bulk: select the other two, remove with force.
  await page.getByLabel(`Select ${b}`).check();
  await page.getByLabel(`Select ${c}`).check();
  await expect(page.locator('.bulkbar')).toContainText('2 selected');
  await page.locator('.bulkbar').getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(page.getByRole('dialog')).toContainText('Remove 2 containers');
  await page.getByRole('dialog').getByLabel('Force (stop running containers first)').check();
  await page.getByRole('dialog').getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(page.locator('.trow[data-name]')).toHaveCount(0);
  expect(await inspectState(berthd, b)).toBeNull();
  expect(await inspectState(berthd, c)).toBeNull();
});

test('bulk stop and start; containers of a compose project are grouped and collapse together', async ({ app, berthd, page }) => {
  const project = uniq('proj');
  const web = `${project}-web-1`;
  const db = `${project}-db-1`;
  const loose = `${project}-loose`;
  await berthd.dockerOk(['run', '-d', '--name', web, '--label', `com.docker.compose.project=${project}`, '--label', 'com.docker.compose.service=web', 'busybox', 'sleep', '1000']);
  await berthd.dockerOk(['run', '-d', '--name', db, '--label', `com.docker.compose.project=${project}`, '--label', 'com.docker.compose.service=db', 'busybox', 'sleep', '1000']);
  await berthd.dockerOk(['run', '-d', '--name', loose, 'busybox', 'sleep', '1000']);
  await app.open('#/containers');
  await page.getByLabel('Search containers').fill(project);
  const group = page.locator(`.trow.group[data-project="${project}"]`);
  await expect(group).toContainText('2/2 running');
  await expect(app.row(web)).toContainText('web');

  // Select the whole project from its group row and stop it in one go.
  await page.getByLabel(`Select project ${project}`).check();
  await page.locator('.bulkbar').getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(group).toContainText('0/2 running', { timeout: 30_000 });
  expect(await inspectState(berthd, web)).toBe('exited');
  expect(await inspectState(berthd, db)).toBe('exited');
  expect(await inspectState(berthd, loose)).toBe('running');
  await page.locator('.bulkbar').getByRole('button', { name: 'Start', exact: true }).click();
  await expect(group).toContainText('2/2 running');

  await group.getByRole('button', { name: `Collapse ${project}` }).click();
  await expect(app.row(web)).toHaveCount(0);
  await expect(app.row(loose)).toBeVisible();

  // Filtering by state.
  await berthd.dockerOk(['stop', '-t', '1', loose]);
  await page.getByLabel('Filter by state').selectOption('stopped');
  await expect(app.row(loose)).toBeVisible();
  await expect(group).toHaveCount(0);
  await page.getByLabel('Filter by state').selectOption('running');
  await expect(app.row(loose)).toHaveCount(0);
  await berthd.dockerOk(['rm', '-f', web, db, loose]);
});

test('the table is usable from the keyboard: palette, search shortcut, arrows, space and Enter', async ({ app, berthd, page }) => {
  const name = uniq('kbd');
  await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '1000']);
  await app.open('#/images');
  await expect(page.getByRole('heading', { name: 'Images', exact: true })).toBeVisible();
  await page.keyboard.press('Control+k');
  await expect(page.getByRole('dialog', { name: 'Command palette' })).toBeVisible();
  await page.keyboard.type('go to containers');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name: 'Containers', exact: true })).toBeVisible();
  await page.keyboard.press('/');
  await expect(page.getByLabel('Search containers')).toBeFocused();
  await page.keyboard.type(name);
  await page.keyboard.press('Tab');
  await page.getByLabel('Container rows').focus();
  await page.keyboard.press(' ');
  await expect(page.locator('.bulkbar')).toContainText('1 selected');
  await page.keyboard.press('Enter');
  await expect(page.getByRole('heading', { name })).toBeVisible();
  await page.keyboard.press('Alt+2');
  await expect(page.getByRole('heading', { name: 'Images', exact: true })).toBeVisible();
  await berthd.dockerOk(['rm', '-f', name]);
});
