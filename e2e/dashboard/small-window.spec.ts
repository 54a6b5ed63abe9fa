/**
 * Every page in a 1000×700 window: nothing scrolls sideways (the document or
 * any element in it), and a screenshot of each is kept in
 * e2e/artifacts/dashboard/1000x700/ for review.
 */
import fs from 'node:fs';
import path from 'node:path';
import { test, expect, uniq, DashboardProcess, App, artifactsDir } from './fixtures.js';
import { sidewaysScrollers } from './layout-checks.js';
import type { Page } from '@playwright/test';

const dir = path.join(artifactsDir, '1000x700');

async function shot(page: Page, name: string): Promise<void> {
  // Let layout settle (fonts, the table's measured width) before judging it.
  await page.waitForTimeout(150);
  expect(await sidewaysScrollers(page), `${name} scrolls sideways`).toEqual([]);
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`) });
}

test('every page fits a 1000×700 window without sideways scrolling', async ({ app, berthd, page }) => {
  test.setTimeout(180_000);
  await page.setViewportSize({ width: 1000, height: 700 });
  const p = uniq('small');
  const network = `${p}_default`;
  const volume = uniq('smalldata');
  await berthd.dockerOk(['network', 'create', '--label', `com.docker.compose.project=${p}`, network]);
  for (const svc of ['web', 'api'])
    await berthd.dockerOk([
      'run', '-d', '--name', `${p}-${svc}-1`, '--network', network, '-p', '127.0.0.1::80',
      '--label', `com.docker.compose.project=${p}`, '--label', `com.docker.compose.service=${svc}`, '--label', 'com.docker.compose.container-number=1',
      'busybox', 'sh', '-c', `while :; do echo "${svc} handled a request with a fairly long log line to see wrapping"; sleep 0.5; done`,
    ]);
  const ticker = uniq('ticker-with-a-long-name');
  const id = (await berthd.dockerOk(['run', '-d', '--name', ticker, '-v', `${volume}:/data`, 'busybox', 'sh', '-c', 'echo seed > /data/seed.txt; while :; do echo tick; sleep 1; done'])).trim();
  const stopped = uniq('stopped');
  await berthd.dockerOk(['create', '--name', stopped, 'busybox', 'true']);
  // A container of an image named by its full ID (what a failed build leaves): the palette's longest hint.
  const byId = uniq('by-id');
  await berthd.dockerOk(['create', '--name', byId, (await berthd.dockerOk(['image', 'inspect', '-f', '{{.Id}}', 'busybox'])).trim(), 'true']);
  try {
    await app.open('#/containers');
    await expect(page.locator(`.trow.group[data-project="${p}"]`)).toContainText('2/2 running');
    await shot(page, 'containers');
    await page.getByLabel('Group by project').uncheck();
    await shot(page, 'containers-ungrouped');
    await page.getByLabel('Group by project').check();

    await app.open(`#/projects/${p}`);
    await expect.poll(() => app.terminalText('[data-logs-terminal]')).toContain('handled a request');
    await shot(page, 'project');

    for (const tab of ['logs', 'terminal', 'inspect', 'stats', 'files'] as const) {
      await app.open(`#/containers/${id}/${tab}`);
      if (tab === 'logs') await expect.poll(() => app.terminalText('[data-logs-terminal]')).toContain('tick');
      if (tab === 'terminal') await expect(page.locator('[data-exec-status="open"]')).toBeVisible();
      if (tab === 'inspect') await expect(page.locator('.json-tree')).toBeVisible();
      if (tab === 'stats') await expect.poll(async () => Number(await page.locator('.stats-view').getAttribute('data-samples')), { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
      if (tab === 'files') await expect(page.locator('[data-file="etc"]')).toBeVisible();
      await shot(page, `container-${tab}`);
    }

    await app.open('#/images');
    await expect(page.locator('.trow[data-image="busybox:latest"]')).toBeVisible();
    await shot(page, 'images');
    await page.locator('.trow[data-image="busybox:latest"]').getByRole('link').click();
    await expect(page.getByRole('table', { name: 'Image history' })).toBeVisible();
    await shot(page, 'image-detail');
    await app.open('#/images');
    await page.getByRole('button', { name: 'Run busybox:latest' }).click();
    await expect(page.getByRole('dialog')).toBeVisible();
    await shot(page, 'run-dialog');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Pull…' }).click();
    await shot(page, 'pull-dialog');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

    await app.open('#/volumes');
    await expect(page.locator(`.trow[data-volume="${volume}"]`)).toContainText(ticker);
    await shot(page, 'volumes');
    await app.open(`#/volumes/${volume}`);
    await expect(page.locator('[data-file="seed.txt"]')).toBeVisible();
    await shot(page, 'volume-detail');

    await app.open('#/networks');
    await expect(page.locator(`.trow[data-network="${network}"]`)).toBeVisible();
    await shot(page, 'networks');
    await page.locator(`.trow[data-network="${network}"]`).getByRole('link', { name: network }).click();
    await expect(page.getByRole('heading', { name: network })).toBeVisible();
    await shot(page, 'network-detail');

    await app.open('#/builds');
    await expect(page.getByRole('form', { name: 'Build an image' })).toBeVisible();
    await shot(page, 'builds');

    await app.open('#/disk');
    await expect(page.locator('[data-disk-kind="images"] [data-total]')).not.toHaveText('');
    await shot(page, 'disk-usage');
    await page.getByRole('button', { name: 'Prune containers' }).click();
    await expect(page.locator('[data-prune-preview]')).toBeVisible();
    await shot(page, 'disk-prune-preview');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

    await app.open('#/engines');
    await expect(page.locator('.trow[data-engine="env-docker-host"]')).toContainText('active');
    await shot(page, 'engines');
    await app.open('#/troubleshoot');
    await expect(page.locator('[data-engine-log]')).toBeVisible();
    await shot(page, 'troubleshoot');
    await app.open('#/settings');
    await expect(page.getByText('Registry accounts')).toBeVisible();
    await shot(page, 'settings');
    await page.keyboard.press('Control+k');
    await expect(page.getByRole('dialog', { name: 'Command palette' })).toBeVisible();
    await shot(page, 'command-palette');
    await page.keyboard.press('Escape');

    // The pages shown when an engine is not there, and when Berth itself is gone.
    for (const [screen, env, text] of [
      ['first-run', {}, 'Berth (local) is not running'],
      ['engine-unreachable', { DOCKER_HOST: 'tcp://127.0.0.1:1' }, 'Engine unreachable'],
    ] as const) {
      const dash = await DashboardProcess.start(env);
      try {
        const other = new App(page, dash);
        await other.open('#/containers');
        await expect(page.locator('.gate')).toContainText(text);
        await shot(page, screen);
      } finally {
        await dash.stop();
      }
    }
    const gone = await DashboardProcess.start({ DOCKER_HOST: berthd.host });
    await page.goto(`${gone.url}#/containers`);
    await expect(page.getByRole('heading', { name: 'Containers', exact: true })).toBeVisible();
    await gone.stop();
    await expect(page.locator('.gate.disconnected')).toBeVisible();
    await shot(page, 'disconnected');
  } finally {
    await berthd.docker(['rm', '-f', `${p}-web-1`, `${p}-api-1`, ticker, stopped, byId]);
    await berthd.docker(['network', 'rm', network]);
    await berthd.docker(['volume', 'rm', volume]);
  }
});
