/**
 * The defects a new user hit (issue 16, items 1–9), each reproduced against a
 * real berthd in Chromium: every test here failed on the dashboard before its
 * fix.
 */
import { test, expect, uniq, DashboardProcess } from './fixtures.js';
import type { Page } from '@playwright/test';
import { labelGap } from './layout-checks.js';

/** "Up 5 seconds" → 5; "Up Less than a second" → 0; otherwise NaN. */
function upSeconds(text: string | null): number {
  const t = (text ?? '').trim();
  if (/^Up Less than a second/.test(t)) return 0;
  const m = /^Up (\d+) seconds?/.exec(t);
  return m ? Number(m[1]) : Number.NaN;
}

test('1: the status text of a running container keeps counting, in the table and on its page', async ({ app, berthd, page }) => {
  const name = uniq('tick');
  await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '1000']);
  await app.open('#/containers');
  await page.getByLabel('Search containers').fill(name);
  const pill = app.status(name);
  await expect(pill).toHaveText(/^Up (Less than a second|\d+ seconds?)$/);
  const first = upSeconds(await pill.textContent());
  // No event happens to this container: only the clock moves.
  await expect.poll(async () => upSeconds(await pill.textContent()), { timeout: 15_000 }).toBeGreaterThanOrEqual(first + 3);
  await app.row(name).getByRole('link', { name }).click();
  const header = page.locator('#container-title [data-state]');
  const onPage = upSeconds(await header.textContent());
  await expect.poll(async () => upSeconds(await header.textContent()), { timeout: 15_000 }).toBeGreaterThanOrEqual(onPage + 2);
  await berthd.dockerOk(['rm', '-f', name]);
});

import { sidewaysScrollers } from './layout-checks.js';

/** True when the element's content fits its box (nothing cut by overflow or ellipsis). */
function fits(page: Page, selector: string): Promise<boolean[]> {
  return page.locator(selector).evaluateAll((els) => els.map((el) => el.scrollWidth <= el.clientWidth + 1));
}

test('2: a 1000×700 window fits: no sideways scrolling, Created and Actions on screen, the engine badge and status pills whole, action cells on their rows', async ({ app, berthd, page }) => {
  await page.setViewportSize({ width: 1000, height: 700 });
  const prefix = uniq('fit');
  await berthd.dockerOk(['run', '-d', '--name', `${prefix}-a`, '-p', '127.0.0.1::80', 'busybox', 'sleep', '1000']);
  await berthd.dockerOk(['create', '--name', `${prefix}-b`, 'busybox', 'true']);
  await app.open('#/containers');
  await page.getByLabel('Search containers').fill(prefix);
  await expect(app.row(`${prefix}-a`)).toBeVisible();
  expect(await sidewaysScrollers(page)).toEqual([]);
  const vw = 1000;
  for (const header of ['Created', 'Status', 'Ports']) {
    const box = (await page.getByRole('columnheader', { name: header }).boundingBox())!;
    expect(box.x + box.width, `${header} header ends inside the window`).toBeLessThanOrEqual(vw);
  }
  const remove = (await page.getByRole('button', { name: `Remove ${prefix}-a`, exact: true }).boundingBox())!;
  expect(remove.x + remove.width).toBeLessThanOrEqual(vw);
  // Action cells sit on their rows.
  for (const n of [`${prefix}-a`, `${prefix}-b`]) {
    const row = (await app.row(n).boundingBox())!;
    const btn = (await page.getByRole('button', { name: `Remove ${n}`, exact: true }).boundingBox())!;
    expect(btn.y).toBeGreaterThanOrEqual(row.y);
    expect(btn.y + btn.height).toBeLessThanOrEqual(row.y + row.height);
  }
  // The engine badge says its whole word; the status pills are not cut.
  await expect(page.getByRole('banner').locator('[data-engine-state]')).toHaveText('running');
  expect(await fits(page, 'header [data-engine-state]')).toEqual([true]);
  expect(await fits(page, `.trow[data-name^="${prefix}"] [data-state]`)).toEqual([true, true]);

  await app.open('#/images');
  const img = page.getByRole('button', { name: 'Remove busybox:latest' });
  await expect(img).toBeVisible();
  const box = (await img.boundingBox())!;
  expect(box.x + box.width).toBeLessThanOrEqual(vw);
  expect(await sidewaysScrollers(page)).toEqual([]);
  await berthd.dockerOk(['rm', '-f', `${prefix}-a`, `${prefix}-b`]);
});

test('3: when berth dashboard stops or restarts, the page says so (not "engine unreachable"), holds its controls, and asks for the new URL', async ({ berthd, page }) => {
  const first = await DashboardProcess.start({ DOCKER_HOST: berthd.host });
  let second: DashboardProcess | undefined;
  try {
    await page.goto(`${first.url}#/containers`);
    await expect(page.getByRole('heading', { name: 'Containers', exact: true })).toBeVisible();
    // Berth's own engine (stopped) is controllable: its Start button is what must not stay clickable.
    await page.locator('#engine-select').selectOption('berth');
    const start = page.getByRole('banner').getByRole('button', { name: 'Start', exact: true });
    await expect(start).toBeEnabled();

    await first.stop({ keepHome: true });
    const gate = page.locator('.gate.disconnected');
    await expect(gate).toContainText('Lost the connection to Berth');
    await expect(gate).toContainText('berth dashboard is not running');
    await expect(page.getByText('Engine unreachable')).toHaveCount(0);
    await expect(start).toBeDisabled();

    // A new berth dashboard on the same port has a new token: this page can never reconnect.
    second = await DashboardProcess.start({ DOCKER_HOST: berthd.host }, ['--port', String(first.port)], first.home);
    await expect(page.locator('.gate.disconnected')).toContainText('no longer signed in', { timeout: 20_000 });
    await expect(page.locator('[data-connection-problem="token-refused"]')).toContainText('open the new URL it printed');
    await expect(start).toBeDisabled();
    // The new URL works (and remembers the engine chosen before).
    await page.goto(`${second.url}#/containers`);
    await expect(page.getByRole('heading', { name: 'Berth (local) is not running' })).toBeVisible();
    await expect(page.getByRole('banner').getByRole('button', { name: 'Start', exact: true })).toBeEnabled();
  } finally {
    await second?.stop();
    await first.stop();
  }
});

test('4: a slow bulk stop shows it is running: the button is busy and every row says Stopping… until the engine answers', async ({ app, berthd, page }) => {
  const prefix = uniq('slow');
  const names = [`${prefix}-a`, `${prefix}-b`, `${prefix}-c`];
  // sleep as PID 1 ignores SIGTERM: each stop waits out its timeout.
  for (const n of names) await berthd.dockerOk(['run', '-d', '--stop-timeout', '4', '--name', n, 'busybox', 'sleep', '1000']);
  await app.open('#/containers');
  await page.getByLabel('Search containers').fill(prefix);
  for (const n of names) await expect(app.status(n)).toHaveAttribute('data-state', 'running');
  await page.getByLabel('Select all').check();
  const bar = page.getByRole('toolbar', { name: 'Bulk actions' });
  await bar.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(bar.getByRole('button', { name: 'Stopping…' })).toHaveAttribute('aria-busy', 'true');
  await expect(bar.getByRole('button', { name: 'Start', exact: true })).toBeDisabled();
  for (const n of names) {
    await expect(app.status(n)).toHaveText('Stopping…');
    await expect(app.status(n)).toHaveAttribute('data-pending', 'stopping');
    await expect(page.getByRole('button', { name: `Restart ${n}`, exact: true })).toBeDisabled();
  }
  for (const n of names) await expect(app.status(n)).toHaveText(/^Exited \(137\)/, { timeout: 30_000 });
  await expect(bar.getByRole('button', { name: 'Stop', exact: true })).toBeEnabled();
  await berthd.dockerOk(['rm', '-f', ...names]);
});

/** The text of the rows on screen in the log view (not the whole buffer). */
function viewport(page: Page): Promise<{ y: number; text: string; selection: string }> {
  return page.locator('[data-logs-terminal]').evaluate((el) => {
    const term = (el as unknown as { berthTerminal: { rows: number; getSelection(): string; buffer: { active: { viewportY: number; getLine(i: number): { translateToString(t: boolean): string } | undefined } } } }).berthTerminal;
    const b = term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < term.rows; i++) lines.push(b.getLine(b.viewportY + i)?.translateToString(true) ?? '');
    return { y: b.viewportY, text: lines.join('\n'), selection: term.getSelection() };
  });
}

test('5: log search with Follow on: the match stays on screen, the count is shown; unticking Follow freezes a view at the bottom', async ({ app, berthd, page }) => {
  const name = uniq('chatty');
  const id = (await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo "warmup $i"; done; echo "NEEDLE here"; while :; do i=$((i+1)); echo "tick $i"; sleep 0.05; done'])).trim();
  await app.open(`#/containers/${id}/logs`);
  await expect.poll(() => app.terminalText('[data-logs-terminal]')).toContain('tick 400');
  await expect(page.getByLabel('Follow')).toBeChecked();
  await page.getByLabel('Search logs').fill('NEEDLE');
  await page.getByLabel('Search logs').press('Enter');
  await expect(page.locator('[data-search-results]')).toHaveText('1 of 1');
  // Searching holds the view: the match is selected and stays where it is while the container keeps writing.
  await expect(page.getByLabel('Follow')).not.toBeChecked();
  const found = await viewport(page);
  expect(found.selection).toBe('NEEDLE');
  expect(found.text).toContain('NEEDLE here');
  await page.waitForTimeout(2000);
  const later = await viewport(page);
  expect(later.y).toBe(found.y);
  expect(later.text).toBe(found.text);
  expect(later.selection).toBe('NEEDLE');
  await page.getByLabel('Search logs').fill('no-such-text');
  await page.getByLabel('Search logs').press('Enter');
  await expect(page.locator('[data-search-results]')).toHaveText('No matches');

  // Follow on again (jumps to the end), then off: the view at the bottom must stand still.
  await page.getByLabel('Follow').check();
  await page.waitForTimeout(500);
  await page.getByLabel('Follow').uncheck();
  const frozen = await viewport(page);
  await page.waitForTimeout(2000);
  const still = await viewport(page);
  expect(still.y).toBe(frozen.y);
  expect(still.text).toBe(frozen.text);
  await expect(page.locator('[data-log-status]')).toHaveText(/paused · \d+ new lines?/);
  // Follow again: the held lines are drawn and the view moves on.
  await page.getByLabel('Follow').check();
  await expect.poll(async () => (await viewport(page)).y).toBeGreaterThan(still.y);
  await expect(page.locator('[data-log-status]')).toHaveText('● live');
  await berthd.dockerOk(['rm', '-f', name]);
});

test('6: the container header keeps the image and its ports apart; removing it from its page returns to the list', async ({ app, berthd, page }) => {
  const name = uniq('hdr');
  const id = (await berthd.dockerOk(['run', '-d', '--name', name, '-p', '127.0.0.1::80', 'busybox', 'sleep', '1000'])).trim();
  const port = (await berthd.dockerOk(['port', name, '80/tcp'])).trim().split(':').pop();
  await app.open(`#/containers/${id}/logs`);
  const facts = page.locator('#container-title + p');
  await expect(facts).toContainText(`${port}:80/tcp`);
  expect(await facts.innerText()).toMatch(new RegExp(`busybox\\s+·\\s+${port}:80/tcp`));
  await page.locator('.container-detail .page-head .toolbar').getByRole('button', { name: 'Remove', exact: true }).click();
  await page.getByRole('dialog').getByLabel('Force (stop running containers first)').check();
  await page.getByRole('dialog').getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(page).toHaveURL(/#\/containers$/);
  await expect(page.getByRole('heading', { name: 'Containers', exact: true })).toBeVisible();
  await expect(page.getByText('No such container')).toHaveCount(0);
  expect((await berthd.docker(['inspect', name])).code).not.toBe(0);
});

test('7: checkboxes sit next to their labels in the Run dialog; Settings › Desktop has one option per line', async ({ app, page }) => {
  await app.open('#/images');
  await page.getByRole('button', { name: 'Run busybox:latest' }).click();
  const dialog = page.getByRole('dialog');
  for (const label of ['Interactive (keep stdin open, allocate a TTY)', 'Remove when it exits', 'Random host port 1']) {
    const box = (await dialog.getByLabel(label).boundingBox())!;
    expect(box.width, `${label}: the checkbox is a checkbox's size`).toBeLessThan(24);
    const gap = await labelGap(dialog.getByLabel(label));
    expect(gap, `${label}: the text starts right after its checkbox`).toBeLessThan(12);
  }
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await app.open('#/settings');
  const tops: number[] = [];
  for (const label of ['Start Berth when I log in', 'Closing the window keeps Berth in the tray', "Start Berth's engine when Berth starts", 'Notifications']) tops.push((await page.getByLabel(label).boundingBox())!.y);
  expect(new Set(tops.map((t) => Math.round(t))).size).toBe(4);
});

test('8: wording: engine errors without transport prefixes, untag names, plural removals, berthd version, a live countdown, a log box that explains, no stale counts', async ({ app, berthd, page }) => {
  // Transport noise: a missing path and a failed pull say what the engine said, nothing more.
  const name = uniq('words');
  const id = (await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '1000'])).trim();
  await app.open(`#/containers/${id}/files`);
  await page.getByLabel('Go to path').fill('/no-such-dir');
  await page.getByLabel('Go to path').press('Enter');
  await expect(page.locator('.files-view .error-box')).toContainText('Could not find the file /no-such-dir');
  await expect(page.locator('.files-view .error-box')).not.toContainText('HTTP code');
  await app.open('#/images');
  await page.getByRole('button', { name: 'Pull…' }).click();
  await page.getByRole('dialog').getByLabel('Image reference').fill('127.0.0.1:1/nothing:1');
  await page.getByRole('dialog').getByRole('button', { name: 'Pull', exact: true }).click();
  await expect(page.getByRole('dialog').getByRole('alert')).toContainText('connection refused');
  await expect(page.getByRole('dialog').getByRole('alert')).not.toContainText('HTTP code');
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

  // "Untagged 1" → the name that went.
  const tag = `${uniq('alias')}:v1`;
  await berthd.dockerOk(['tag', 'busybox', tag]);
  await page.getByRole('button', { name: `Remove ${tag}` }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(page.locator('.toast.success').last()).toContainText(`Untagged ${tag}`);

  // Several containers: "their writable layers".
  await berthd.dockerOk(['create', '--name', `${name}-x`, 'busybox', 'true']);
  await app.open('#/containers');
  await page.getByLabel('Search containers').fill(name);
  // The list learns of the new container from the event stream: wait for both rows before selecting.
  for (const n of [name, `${name}-x`]) await expect(app.status(n)).toBeVisible();
  await page.getByLabel('Select all').check();
  await page.getByRole('toolbar', { name: 'Bulk actions' }).getByRole('button', { name: 'Remove', exact: true }).click();
  await expect(page.getByRole('dialog')).toContainText('will be deleted with their writable layers');
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

  // The engine is berthd: its own version, not the Docker API version it speaks.
  await app.open('#/engines');
  const engine = page.locator('.trow[data-engine="env-docker-host"]');
  await expect(engine).toContainText(/berthd \d+\.\d+\.\d+/);
  await expect(engine).not.toContainText('v28.');

  // Berth's own engine, never started here: its log box says why it is empty.
  await page.locator('#engine-select').selectOption('berth');
  await app.open('#/troubleshoot');
  await expect(page.locator('[data-engine-log]')).toContainText('has not been started by Berth');
  await expect(page.locator('[data-engine-log]')).not.toHaveText('(empty)');
  await page.locator('#engine-select').selectOption('env-docker-host');
  await berthd.dockerOk(['rm', '-f', name, `${name}-x`]);
});

test('8: the reconnect countdown counts down, and the sidebar drops its counts while the engine is gone', async ({ freshBerthd, page }) => {
  const dash = await DashboardProcess.start({ DOCKER_HOST: freshBerthd.host });
  try {
    await freshBerthd.dockerOk(['create', '--name', uniq('counted'), 'busybox', 'true']);
    await page.goto(`${dash.url}#/containers`);
    const containersCount = page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: /Containers/ }).locator('.count');
    await expect(containersCount).toHaveText('0/1');
    await freshBerthd.stop();
    await expect(page.getByRole('alert')).toContainText('Engine unreachable');
    await expect(page.getByRole('navigation', { name: 'Pages' }).locator('.count')).toHaveCount(0);
    // Seen over a few seconds, the "next attempt in N s" number goes down between attempts.
    const seen: number[] = [];
    const deadline = Date.now() + 9000;
    while (Date.now() < deadline) {
      const v = Number(await page.locator('[data-retry-in]').getAttribute('data-retry-in'));
      if (seen.at(-1) !== v) seen.push(v);
      await page.waitForTimeout(250);
    }
    expect(seen.some((v, i) => i > 0 && v > 0 && seen[i - 1]! > v), `countdown values seen: ${seen.join(', ')}`).toBe(true);
    await freshBerthd.launch();
    await expect(containersCount).toHaveText('0/1', { timeout: 15_000 });
  } finally {
    await dash.stop();
  }
});

test('9: the Files mode column keeps the sticky bit, and file icons are the app\'s own SVGs, not emoji', async ({ app, berthd, page }) => {
  const name = uniq('files');
  const id = (await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'ln -s /etc/passwd /root/pw; sleep 1000'])).trim();
  await app.open(`#/containers/${id}/files`);
  await expect(page.locator('[data-file="tmp"] [data-mode]')).toHaveText('drwxrwxrwt');
  await expect(page.locator('[data-file="bin"] [data-mode]')).toHaveText('drwxr-xr-x');
  const names = await page.locator('.files-table td.file-name').allInnerTexts();
  expect(names.join(' ')).not.toMatch(/[\u{1F4C1}\u{1F4C4}\u{1F517}]/u);
  await expect(page.locator('[data-file="tmp"] svg[data-icon="folder"]')).toHaveCount(1);
  await page.getByLabel('Go to path').fill('/root');
  await page.getByLabel('Go to path').press('Enter');
  await expect(page.locator('[data-file="pw"] svg[data-icon="symlink"]')).toHaveCount(1);
  await expect(page.locator('[data-file="pw"] [data-mode]')).toHaveText('lrwxrwxrwx');
  await berthd.dockerOk(['rm', '-f', name]);
});
