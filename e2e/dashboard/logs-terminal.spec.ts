/**
 * The Logs and Terminal tabs with real containers: new log lines appear
 * live, older lines load on demand without duplicates, search finds text,
 * and the exec terminal runs a shell whose TTY follows the window's size and
 * which survives switching tabs.
 */
import { test, expect, uniq } from './fixtures.js';

const LOGS = '[data-logs-terminal]';
const TERM = '[data-exec-terminal]';

test('log lines appear live while the container writes them; timestamps and search work', async ({ app, berthd, page }) => {
  const name = uniq('ticker');
  const id = (await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.2; done'])).trim();
  await app.open(`#/containers/${id}/logs`);
  await expect(page.locator('[data-log-status="live"]')).toBeVisible();
  await expect.poll(() => app.terminalText(LOGS), { timeout: 10_000 }).toMatch(/tick-3\b/);
  // Lines written after the view opened keep arriving.
  const seen = Math.max(...[...(await app.terminalText(LOGS)).matchAll(/tick-(\d+)/g)].map((m) => Number(m[1])));
  await expect.poll(() => app.terminalText(LOGS), { timeout: 10_000 }).toContain(`tick-${seen + 5}`);
  const text = await app.terminalText(LOGS);
  const ticks = [...text.matchAll(/^tick-(\d+)$/gm)].map((m) => Number(m[1]));
  // In order, no gaps, no duplicates between the tail and the follow.
  expect(ticks).toEqual(Array.from({ length: ticks.length }, (_, i) => ticks[0]! + i));

  await page.getByRole('button', { name: 'Clear' }).click();
  await expect.poll(async () => (await app.terminalText(LOGS)).includes('tick-1\n')).toBe(false);

  await page.getByLabel('Timestamps').check();
  await expect.poll(() => app.terminalText(LOGS)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+Z tick-\d+$/m);

  await page.getByLabel('Search logs').fill('tick-2');
  await page.getByLabel('Search logs').press('Enter');
  await expect
    .poll(() => page.locator(LOGS).evaluate((el) => (el as unknown as { berthTerminal: { getSelection(): string } }).berthTerminal.getSelection()))
    .toBe('tick-2');
  await berthd.dockerOk(['rm', '-f', name]);
});

test('the Logs view shows how much disk the log files take, as docker inspect LogSize, and follows it as the log grows — without disturbing a search match', async ({ app, berthd, page }) => {
  const name = uniq('logsize');
  // About 2 MB at once, then 3 MB more after a pause.
  const id = (await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'yes 0123456789abcdef0123456789abcdef | head -c 2000000; echo; echo NEEDLE; sleep 10; yes 0123456789abcdef | head -c 3000000; sleep 1000'])).trim();
  const logSize = async () => Number((await berthd.dockerOk(['inspect', '-f', '{{.LogSize}}', name])).trim());
  // The view opens on the first burst's tail (the Tail setting), not while it is being written.
  await expect.poll(async () => (await berthd.dockerOk(['logs', '--tail', '1', name])).trim(), { timeout: 15_000 }).toBe('NEEDLE');
  await app.open(`#/containers/${id}/logs`);
  const size = page.locator('[data-log-size]');
  const shown = async () => Number((await size.getAttribute('data-log-size')) ?? 0);
  await expect.poll(shown, { timeout: 15_000 }).toBeGreaterThan(2_000_000);
  await expect.poll(() => app.terminalText(LOGS), { timeout: 15_000 }).toContain('NEEDLE');
  // A search match is selected; the size changing later must not re-lay the view out (xterm clears
  // the selection when the terminal's rows change).
  const term = () =>
    page.locator(LOGS).evaluate((el) => {
      const t = (el as unknown as { berthTerminal: { rows: number; cols: number; getSelection(): string } }).berthTerminal;
      return { rows: t.rows, cols: t.cols, selection: t.getSelection() };
    });
  await page.getByLabel('Search logs').fill('NEEDLE');
  await page.getByLabel('Search logs').press('Enter');
  await expect(page.locator('[data-search-results]')).toHaveText('1 of 1');
  const before = await term();
  expect(before.selection).toBe('NEEDLE');
  const first = await shown();
  await expect.poll(shown, { timeout: 30_000 }).toBeGreaterThan(5_000_000);
  expect(first).toBeLessThan(5_000_000);
  expect(await term()).toEqual(before);
  // The engine's own figure once the container has gone quiet.
  await expect.poll(async () => (await shown()) === (await logSize()), { timeout: 15_000 }).toBe(true);
  await expect(size).toHaveText(/^\d+(\.\d)? MB on disk$/);
  await berthd.dockerOk(['rm', '-f', name]);
});

test('the tail shows the last lines; "Load older" pages in the ones before, once each', async ({ app, berthd, page }) => {
  const name = uniq('history');
  const id = (await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'i=1; while [ $i -le 350 ]; do echo line-$i; i=$((i+1)); done; sleep 1000'])).trim();
  await expect.poll(async () => (await berthd.docker(['logs', '--tail', '1', name])).stdout.trim()).toBe('line-350');
  await app.open(`#/containers/${id}/logs`);
  await page.getByLabel('Lines to show').selectOption('100');
  await expect.poll(() => app.terminalText(LOGS)).toContain('line-350');
  let lines = (await app.terminalText(LOGS)).split('\n').filter((l) => l.startsWith('line-'));
  expect(lines[0]).toBe('line-251');
  expect(lines).toHaveLength(100);

  await page.getByRole('button', { name: 'Load older' }).click();
  await expect.poll(async () => (await app.terminalText(LOGS)).split('\n').filter((l) => l.startsWith('line-'))[0]).toBe('line-151');
  lines = (await app.terminalText(LOGS)).split('\n').filter((l) => l.startsWith('line-'));
  expect(lines).toEqual(Array.from({ length: 200 }, (_, i) => `line-${151 + i}`));

  // Scrolling up at the top loads the next page.
  await page.locator(LOGS).hover();
  await expect
    .poll(
      async () => {
        await page.mouse.wheel(0, -2000);
        return (await app.terminalText(LOGS)).split('\n').filter((l) => l.startsWith('line-'))[0];
      },
      { timeout: 20_000, intervals: [100] },
    )
    .toBe('line-51');
  await page.getByRole('button', { name: 'Load older' }).click();
  await expect(page.getByRole('button', { name: 'No older lines' })).toBeVisible();
  lines = (await app.terminalText(LOGS)).split('\n').filter((l) => l.startsWith('line-'));
  expect(lines).toEqual(Array.from({ length: 350 }, (_, i) => `line-${1 + i}`));
  await berthd.dockerOk(['rm', '-f', name]);
});

test('echo hello in the exec terminal; the TTY follows window resizes; the session survives switching tabs', async ({ app, berthd, page }) => {
  const name = uniq('shell');
  const id = (await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '1000'])).trim();
  await page.setViewportSize({ width: 1280, height: 800 });
  await app.open(`#/containers/${id}/terminal`);
  await expect(page.locator('[data-exec-status="open"]')).toBeVisible();
  await page.locator(`${TERM} .xterm-helper-textarea`).focus();
  await page.keyboard.type('echo hello\n');
  await expect.poll(async () => (await app.terminalText(TERM)).split('\n').map((l) => l.trimEnd())).toContain('hello');

  // The shell's terminal size is the view's size, before and after the window shrinks.
  const before = await app.terminalSize(TERM);
  await page.keyboard.type('stty size\n');
  await expect.poll(() => app.terminalText(TERM)).toContain(`${before.rows} ${before.cols}`);
  await page.setViewportSize({ width: 900, height: 560 });
  await expect.poll(async () => (await app.terminalSize(TERM)).cols).toBeLessThan(before.cols);
  const after = await app.terminalSize(TERM);
  expect(after.rows).toBeLessThan(before.rows);
  await page.keyboard.type('clear; stty size\n');
  await expect.poll(() => app.terminalText(TERM)).toContain(`${after.rows} ${after.cols}`);

  // Same shell after visiting other tabs: a variable set before is still there.
  await page.keyboard.type('KEPT=still-here\n');
  await page.getByRole('tab', { name: 'Logs' }).click();
  await expect(page.locator(LOGS)).toBeVisible();
  await page.getByRole('tab', { name: 'Inspect' }).click();
  await page.getByRole('tab', { name: 'Terminal' }).click();
  await expect(page.locator('[data-exec-status="open"]')).toBeVisible();
  await page.locator(`${TERM} .xterm-helper-textarea`).focus();
  await page.keyboard.type('echo $KEPT\n');
  await expect.poll(async () => (await app.terminalText(TERM)).split('\n').map((l) => l.trimEnd())).toContain('still-here');

  // Leaving the shell ends the session (not the container); Reconnect opens a new one.
  await page.keyboard.type('exit\n');
  await expect(page.locator('[data-exec-status="exited"]')).toBeVisible();
  expect((await berthd.dockerOk(['inspect', '-f', '{{.State.Running}}', name])).trim()).toBe('true');
  await page.getByRole('button', { name: 'Reconnect' }).click();
  await expect(page.locator('[data-exec-status="open"]')).toBeVisible();
  await berthd.dockerOk(['rm', '-f', name]);
});

test('Inspect shows the engine JSON, Stats streams samples, Files lists and walks folders', async ({ app, berthd, page }) => {
  const name = uniq('detail');
  const id = (await berthd.dockerOk(['run', '-d', '--name', name, '-e', 'MARKER=berth-e2e', 'busybox', 'sh', '-c', 'mkdir -p /data/sub && echo content > /data/file.txt && sleep 1000'])).trim();
  await app.open(`#/containers/${id}/inspect`);
  await page.getByRole('radio', { name: 'Raw' }).click();
  await expect(page.locator('[data-raw-json]')).toContainText('MARKER=berth-e2e');
  const raw = JSON.parse((await page.locator('[data-raw-json]').textContent())!);
  expect(raw.Id).toBe(id);

  await page.getByRole('tab', { name: 'Stats' }).click();
  await expect.poll(async () => Number(await page.locator('.stats-view').getAttribute('data-samples')), { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
  await expect(page.getByRole('img', { name: 'CPU chart' })).toBeVisible();

  await page.getByRole('tab', { name: 'Files' }).click();
  await page.getByLabel('Go to path').fill('/data');
  await page.getByLabel('Go to path').press('Enter');
  await expect(page.locator('[data-file="file.txt"]')).toContainText('8 B');
  await page.locator('[data-file="sub"] button.link').click();
  await expect(page.getByRole('button', { name: '..' })).toBeVisible();
  await page.getByRole('button', { name: '..' }).click();
  await expect(page.locator('[data-file="sub"]')).toBeVisible();
  const download = page.waitForEvent('download');
  await page.getByRole('button', { name: 'Download file.txt' }).click();
  const file = await download;
  expect(file.suggestedFilename()).toBe('file.txt');
  const fs = await import('node:fs');
  expect(fs.readFileSync((await file.path())!, 'utf8')).toBe('content\n');
  await berthd.dockerOk(['rm', '-f', name]);
});

test('Files lists the root folder of a running container', async ({ app, berthd, page }) => {
  const name = uniq('root');
  const id = (await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '1000'])).trim();
  await app.open(`#/containers/${id}/files`);
  await expect(page.locator('[data-file="bin"]')).toBeVisible();
  await expect(page.locator('[data-file="etc"]')).toBeVisible();
  await page.locator('[data-file="etc"] button.link').click();
  await expect(page.locator('[data-file="passwd"]')).toBeVisible();
  await berthd.dockerOk(['rm', '-f', name]);
});
