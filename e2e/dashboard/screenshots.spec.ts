/**
 * Screenshots of every screen in the light and the dark theme, kept in
 * e2e/artifacts/dashboard/ (gitignored) for review. Each screen is first
 * checked to show what it should, so a broken screen fails here too.
 */
import { test, expect, uniq, App, DashboardProcess } from './fixtures.js';

for (const theme of ['light', 'dark'] as const) {
  test(`every screen, ${theme} theme`, async ({ app, berthd, page }) => {
    test.setTimeout(120_000);
    await page.setViewportSize({ width: 1360, height: 820 });
    const p = uniq('shop');
    const volume = uniq('data');
    const network = uniq('backend');
    await berthd.dockerOk(['network', 'create', network]);
    for (const svc of ['web', 'api', 'worker'])
      await berthd.dockerOk(['run', '-d', '--name', `${p}-${svc}-1`, '--network', network, '--label', `com.docker.compose.project=${p}`, '--label', `com.docker.compose.service=${svc}`, 'busybox', 'sleep', '1000']);
    const ticker = uniq('ticker');
    const id = (await berthd.dockerOk(['run', '-d', '--name', ticker, '-v', `${volume}:/data`, 'busybox', 'sh', '-c', 'echo seed > /data/seed.txt; i=0; while :; do i=$((i+1)); echo "$(date) request $i handled in $((i % 37)) ms"; sleep 0.3; done'])).trim();
    await berthd.dockerOk(['create', '--name', uniq('stopped'), 'busybox', 'true']);

    await app.setTheme(theme);
    await app.screenshot('settings');

    await app.open('#/containers');
    await expect(page.locator(`.trow.group[data-project="${p}"]`)).toContainText('3/3 running');
    await expect(page.locator('.cell-cpu').first()).toBeVisible();
    await app.screenshot('containers');

    await app.open(`#/containers/${id}/logs`);
    await expect.poll(() => app.terminalText('[data-logs-terminal]')).toContain('request 3 ');
    await app.screenshot('container-logs');
    await page.getByRole('tab', { name: 'Terminal' }).click();
    await expect(page.locator('[data-exec-status="open"]')).toBeVisible();
    await page.locator('[data-exec-terminal] .xterm-helper-textarea').focus();
    await page.keyboard.type('ls -l /data; uname -a\n');
    await expect.poll(() => app.terminalText('[data-exec-terminal]')).toContain('seed.txt');
    await app.screenshot('container-terminal');
    await page.getByRole('tab', { name: 'Inspect' }).click();
    await expect(page.locator('.json-tree')).toBeVisible();
    await page.locator('.jt-toggle').filter({ hasText: 'Config' }).first().click();
    await app.screenshot('container-inspect');
    await page.getByRole('tab', { name: 'Stats' }).click();
    await expect.poll(async () => Number(await page.locator('.stats-view').getAttribute('data-samples')), { timeout: 20_000 }).toBeGreaterThanOrEqual(4);
    await app.screenshot('container-stats');
    await page.getByRole('tab', { name: 'Files' }).click();
    await page.getByLabel('Go to path').fill('/etc');
    await page.getByLabel('Go to path').press('Enter');
    await expect(page.locator('[data-file="passwd"]')).toBeVisible();
    await app.screenshot('container-files');

    await app.open('#/images');
    await expect(page.locator('.trow[data-image="busybox:latest"]')).toBeVisible();
    await app.screenshot('images');
    await page.locator('.trow[data-image="busybox:latest"]').getByRole('link').click();
    await expect(page.getByRole('table', { name: 'Image history' })).toBeVisible();
    await app.screenshot('image-detail');
    await app.open('#/images');
    await page.getByRole('button', { name: 'Pull…' }).click();
    await page.getByRole('dialog').getByLabel('Image reference').fill('registry.example.com:5000/team/app:1.2');
    await app.screenshot('pull-dialog');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Run busybox:latest' }).click();
    await page.getByRole('dialog').getByLabel('Container name').fill('my-web');
    await page.getByRole('dialog').getByLabel('Host port 1', { exact: true }).fill('8080');
    await page.getByRole('dialog').getByLabel('Container port 1').fill('80');
    await app.screenshot('run-dialog');
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

    await app.open('#/volumes');
    await expect(page.locator(`.trow[data-volume="${volume}"]`)).toContainText(ticker);
    await app.screenshot('volumes');
    await page.locator(`.trow[data-volume="${volume}"]`).getByRole('button', { name: 'Browse' }).click();
    await expect(page.locator('[data-file="seed.txt"]')).toBeVisible();
    await app.screenshot('volume-detail');

    await app.open('#/networks');
    await expect(page.locator(`.trow[data-network="${network}"]`)).toContainText(`${p}-web-1`);
    await app.screenshot('networks');
    await page.locator(`.trow[data-network="${network}"]`).getByRole('link', { name: network }).click();
    await expect(page.getByRole('link', { name: `${p}-api-1` })).toBeVisible();
    await app.screenshot('network-detail');

    await app.open('#/engines');
    await expect(page.locator('.trow[data-engine="env-docker-host"]')).toContainText('active');
    await app.screenshot('engines');
    await app.open('#/troubleshoot');
    await expect(page.locator('[data-engine-log]')).toBeVisible();
    await app.screenshot('troubleshoot');

    await app.open('#/containers');
    await page.keyboard.press('Control+k');
    await page.keyboard.type('open');
    await expect(page.getByRole('listbox').getByRole('option').first()).toBeVisible();
    await app.screenshot('command-palette');
    await page.keyboard.press('Escape');

    // The pages for an engine that is not there.
    for (const [screen, env, text] of [
      ['first-run', {}, 'Berth (local) is not running'],
      ['engine-unreachable', { DOCKER_HOST: 'tcp://127.0.0.1:1' }, 'Engine unreachable'],
    ] as const) {
      const dash = await DashboardProcess.start(env);
      try {
        const other = new App(page, dash);
        await other.setTheme(theme);
        await other.open('#/containers');
        await expect(page.locator('.gate')).toContainText(text);
        await other.screenshot(screen);
      } finally {
        await dash.stop();
      }
    }

    const all = (await berthd.dockerOk(['ps', '-aq'])).split('\n').filter(Boolean);
    await berthd.dockerOk(['rm', '-f', '-v', ...all]);
    await berthd.docker(['volume', 'rm', volume]);
    await berthd.docker(['network', 'rm', network]);
  });
}
