/**
 * The Builds page against a real berthd: a folder on the engine's host built with a tag and a
 * build arg (the live log in the terminal, each step listed, the image made and runnable), the
 * identical rebuild all from the cache, a folder uploaded from the browser with .dockerignore
 * applied, a failing RUN with dockerd's message, and the history with Run one click away.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, expect, uniq } from './fixtures.js';

const DOCKERFILE = `FROM busybox
ARG GREETING=hello
WORKDIR /app
COPY . /app/
RUN echo "$GREETING from RUN" > /app/greeting && cat /app/greeting
CMD ["cat", "/app/greeting"]
`;

function contextDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-build-page-'));
  fs.writeFileSync(path.join(dir, 'Dockerfile'), DOCKERFILE);
  fs.writeFileSync(path.join(dir, 'Dockerfile.fail'), 'FROM busybox\nRUN exit 3\n');
  fs.writeFileSync(path.join(dir, 'kept.txt'), 'kept\n');
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'must not be sent\n');
  fs.writeFileSync(path.join(dir, '.dockerignore'), 'secret.txt\n');
  return dir;
}

test('build a folder with tag and build arg, rebuild from the cache, upload a folder, a failing build, Run from the history', async ({ app, berthd, page }) => {
  test.setTimeout(180_000);
  const dir = contextDir();
  const tag = `${uniq('pagebuild')}:v1`;
  const uploadTag = `${uniq('pageupload')}:v1`;
  try {
    await app.open('#/builds');
    const form = page.getByRole('form', { name: 'Build an image' });
    await form.getByLabel('Folder to build').fill(dir);
    await form.getByLabel('Tag', { exact: true }).fill(tag);
    await form.getByLabel('Build args').fill('GREETING=bonjour');
    await form.getByRole('button', { name: 'Build', exact: true }).click();

    const result = page.locator('.build-result');
    await expect(result).toContainText(`Built ${tag}`, { timeout: 90_000 });
    await expect(result).toContainText('(0 of 6 steps cached)');
    const log = await app.terminalText('.build-log');
    expect(log).toContain('Step 1/6 : FROM busybox');
    expect(log).toContain('bonjour from RUN');
    expect(log).toMatch(/Successfully built [0-9a-f]{12}/);
    expect(log).toContain(`Successfully tagged ${tag}`);
    await expect(page.getByRole('list', { name: 'Steps' }).locator('li')).toHaveCount(6);
    await expect(page.locator('.build-steps li[data-step="6"]')).toContainText('CMD ["cat", "/app/greeting"]');
    // The image is the engine's, and does what the Dockerfile says; .dockerignore kept secret.txt out.
    expect((await berthd.dockerOk(['run', '--rm', tag])).trim()).toBe('bonjour from RUN');
    expect((await berthd.dockerOk(['run', '--rm', tag, 'ls', '-A', '/app'])).split('\n').filter(Boolean).sort()).toEqual(['.dockerignore', 'Dockerfile', 'Dockerfile.fail', 'greeting', 'kept.txt']);

    // The same build again: every step from the cache, the same image.
    const firstId = (await berthd.dockerOk(['image', 'inspect', '-f', '{{.Id}}', tag])).trim();
    await form.getByRole('button', { name: 'Build', exact: true }).click();
    await expect(result).toContainText('(5 of 6 steps cached)', { timeout: 60_000 });
    await expect(page.locator('.build-steps li[data-step="2"]')).toContainText('cached');
    expect((await berthd.dockerOk(['image', 'inspect', '-f', '{{.Id}}', tag])).trim()).toBe(firstId);

    // A folder uploaded from the browser (the dashboard's web case): packed in the page, sent in chunks.
    await form.getByLabel('Upload a folder').check();
    await form.getByLabel('Folder to upload').setInputFiles(dir);
    await form.getByLabel('Tag', { exact: true }).fill(uploadTag);
    await form.getByLabel('Build args').fill('GREETING=uploaded');
    await form.getByRole('button', { name: 'Build', exact: true }).click();
    await expect(result).toContainText(`Built ${uploadTag}`, { timeout: 90_000 });
    expect((await berthd.dockerOk(['run', '--rm', uploadTag])).trim()).toBe('uploaded from RUN');
    // The browser sends every file; the engine applies .dockerignore itself.
    expect((await berthd.dockerOk(['run', '--rm', uploadTag, 'ls', '-A', '/app'])).split('\n').filter(Boolean).sort()).toEqual(['.dockerignore', 'Dockerfile', 'Dockerfile.fail', 'greeting', 'kept.txt']);

    // A failing RUN: dockerd's message, a failed record.
    await form.getByLabel('Folder on the engine’s host').check();
    await form.getByLabel('Folder to build').fill(dir);
    await form.getByLabel('Dockerfile', { exact: true }).fill('Dockerfile.fail');
    await form.getByLabel('Tag', { exact: true }).fill('');
    await form.getByLabel('Build args').fill('');
    await form.getByRole('button', { name: 'Build', exact: true }).click();
    await expect(result).toContainText("Build failed: The command '/bin/sh -c exit 3' returned a non-zero code: 3", { timeout: 60_000 });

    // The history: newest first, each with its result; Run opens the Run dialog on the image.
    const history = page.getByLabel('Build history');
    const rows = history.locator('[data-build]');
    await expect(rows).toHaveCount(4);
    await expect(rows.nth(0)).toContainText('failed');
    await expect(rows.nth(1)).toContainText(uploadTag);
    await expect(rows.nth(1)).toContainText('upload: ');
    await expect(rows.nth(3)).toContainText('0/6');
    await expect(rows.nth(2)).toContainText('5/6');
    await history.getByRole('button', { name: `Run ${tag}` }).first().click();
    const dialog = page.getByRole('dialog', { name: `Run ${tag}` });
    await expect(dialog.getByLabel('Image')).toHaveValue(tag);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    // The failed RUN's container stays, as dockerd's classic builder leaves it (without --force-rm).
    const left = (await berthd.dockerOk(['ps', '-aq', '--filter', 'status=exited', '--filter', 'status=created'])).split('\n').filter(Boolean);
    const failed: string[] = [];
    for (const id of left) if ((await berthd.dockerOk(['inspect', '-f', '{{.Config.Cmd}}', id])).includes('exit 3')) failed.push(id);
    if (failed.length) await berthd.docker(['rm', '-f', ...failed]);
    await berthd.docker(['rmi', '-f', tag, uploadTag]);
  }
});
