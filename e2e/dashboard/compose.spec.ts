/**
 * Compose projects against a real berthd: a project laid out on the engine as
 * docker compose lays it out (containers and a network carrying the
 * com.docker.compose.* labels), started, stopped, restarted and removed as a
 * whole from the dashboard, with its published ports and one merged log view.
 */
import { test, expect, uniq } from './fixtures.js';
import type { Berthd } from '../support/berthd.js';

async function composeUp(berthd: Berthd, project: string): Promise<{ network: string; volume: string }> {
  const network = `${project}_default`;
  const volume = `${project}_data`;
  const labels = (service: string) => ['--label', `com.docker.compose.project=${project}`, '--label', `com.docker.compose.service=${service}`, '--label', 'com.docker.compose.container-number=1', '--label', 'com.docker.compose.oneoff=False'];
  await berthd.dockerOk(['network', 'create', '--label', `com.docker.compose.project=${project}`, '--label', 'com.docker.compose.network=default', network]);
  await berthd.dockerOk(['volume', 'create', '--label', `com.docker.compose.project=${project}`, '--label', 'com.docker.compose.volume=data', volume]);
  await berthd.dockerOk(['run', '-d', '--name', `${project}-web-1`, '--network', network, '-p', '127.0.0.1::8080', ...labels('web'), 'busybox', 'sh', '-c', 'echo "web ready"; mkdir -p /www && echo hello > /www/index.html; httpd -f -p 8080 -h /www & while :; do echo "web tick"; sleep 1; done']);
  await berthd.dockerOk(['run', '-d', '--name', `${project}-db-1`, '--network', network, '-v', `${volume}:/data`, ...labels('db'), 'busybox', 'sh', '-c', 'echo "db ready"; while :; do echo "db tick"; sleep 1; done']);
  return { network, volume };
}

const state = async (berthd: Berthd, name: string) => (await berthd.dockerOk(['inspect', '-f', '{{.State.Status}}', name])).trim();

test('a compose project is started, stopped and restarted as one, from its group row and its page', async ({ app, berthd, page }) => {
  const project = uniq('shop');
  await composeUp(berthd, project);
  await app.open('#/containers');
  await page.getByLabel('Search containers').fill(project);
  const group = page.locator(`.trow.group[data-project="${project}"]`);
  await expect(group).toContainText('2/2 running');

  await group.getByRole('button', { name: `Stop project ${project}`, exact: true }).click();
  await expect(group).toContainText('0/2 running', { timeout: 30_000 });
  expect(await state(berthd, `${project}-web-1`)).toBe('exited');
  expect(await state(berthd, `${project}-db-1`)).toBe('exited');
  await group.getByRole('button', { name: `Start project ${project}`, exact: true }).click();
  await expect(group).toContainText('2/2 running', { timeout: 30_000 });

  // The project's page: its containers, its ports, restart.
  await group.getByRole('link', { name: project }).click();
  await expect(page).toHaveURL(new RegExp(`#/projects/${project}$`));
  await expect(page.getByRole('heading', { name: project })).toBeVisible();
  await expect(page.locator('[data-project-summary]')).toHaveText('2/2 running');
  const before = (await berthd.dockerOk(['inspect', '-f', '{{.State.StartedAt}}', `${project}-db-1`])).trim();
  await page.locator('.project-page .page-head').getByRole('button', { name: `Restart project ${project}` }).click();
  await expect.poll(async () => (await berthd.dockerOk(['inspect', '-f', '{{.State.StartedAt}}', `${project}-db-1`])).trim(), { timeout: 30_000 }).not.toBe(before);
  await expect(page.locator('[data-project-summary]')).toHaveText('2/2 running', { timeout: 30_000 });
  await berthd.dockerOk(['rm', '-f', `${project}-web-1`, `${project}-db-1`]);
  await berthd.docker(['network', 'rm', `${project}_default`]);
  await berthd.docker(['volume', 'rm', `${project}_data`]);
});

test("a project's page shows its published ports as links and one merged log with a service column", async ({ app, berthd, page }) => {
  const project = uniq('site');
  await composeUp(berthd, project);
  const port = (await berthd.dockerOk(['port', `${project}-web-1`, '8080/tcp'])).trim().split(':').pop()!;
  await app.open(`#/projects/${project}`);
  const ports = page.getByLabel('Published ports');
  await expect(ports.locator('[data-service="web"]')).toContainText(`${port}:8080/tcp`);
  const link = ports.getByRole('link', { name: `${port}:8080/tcp` });
  await expect(link).toHaveAttribute('href', `http://127.0.0.1:${port}`);
  // The link really serves the service.
  expect(await (await fetch(`http://127.0.0.1:${port}/index.html`)).text()).toBe('hello\n');
  await expect(page.locator('.trow[data-service="db"]')).toBeVisible();
  await expect(page.locator('.trow[data-service="web"]')).toBeVisible();

  // One view, both services, each line behind its service's column.
  await expect.poll(() => app.terminalText('[data-logs-terminal]'), { timeout: 20_000 }).toMatch(/db-1\s+\| db tick/);
  const text = await app.terminalText('[data-logs-terminal]');
  expect(text).toMatch(/web-1\s+\| web ready/);
  expect(text).toMatch(/db-1 {2,}\| db ready/);
  // Lines keep arriving from both (followed).
  const count = (t: string, s: string) => t.split('\n').filter((l) => l.includes(s)).length;
  const webBefore = count(text, 'web tick');
  await expect.poll(async () => count(await app.terminalText('[data-logs-terminal]'), 'web tick'), { timeout: 15_000 }).toBeGreaterThan(webBefore + 1);
  await berthd.dockerOk(['rm', '-f', `${project}-web-1`, `${project}-db-1`]);
  await berthd.docker(['network', 'rm', `${project}_default`]);
  await berthd.docker(['volume', 'rm', `${project}_data`]);
});

test('removing a project deletes its containers and its network, like compose down; its volume stays unless asked', async ({ app, berthd, page }) => {
  const project = uniq('down');
  const { network, volume } = await composeUp(berthd, project);
  const outsider = uniq('outsider');
  await berthd.dockerOk(['run', '-d', '--name', outsider, 'busybox', 'sleep', '1000']);
  await app.open(`#/projects/${project}`);
  await page.locator('.project-page .page-head').getByRole('button', { name: `Remove project ${project}` }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toContainText('docker compose down');
  await dialog.getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(page).toHaveURL(/#\/containers$/);
  await expect(page.locator('.toast.success').last()).toContainText(`Removed ${project}: 2 containers, 1 network`);
  expect((await berthd.docker(['inspect', `${project}-web-1`])).code).not.toBe(0);
  expect((await berthd.docker(['inspect', `${project}-db-1`])).code).not.toBe(0);
  expect((await berthd.docker(['network', 'inspect', network])).code).not.toBe(0);
  expect((await berthd.docker(['volume', 'inspect', volume])).code).toBe(0);
  expect(await state(berthd, outsider)).toBe('running');

  // With volumes, like compose down -v.
  const again = uniq('downv');
  const second = await composeUp(berthd, again);
  await app.open(`#/projects/${again}`);
  await page.locator('.project-page .page-head').getByRole('button', { name: `Remove project ${again}` }).click();
  await page.getByRole('dialog').getByLabel("Also delete the project's volumes").check();
  await page.getByRole('dialog').getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(page.locator('.toast.success').last()).toContainText('1 volume');
  expect((await berthd.docker(['volume', 'inspect', second.volume])).code).not.toBe(0);
  await berthd.dockerOk(['rm', '-f', outsider]);
  await berthd.docker(['volume', 'rm', volume]);
});
