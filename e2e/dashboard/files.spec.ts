/**
 * Files through the archive API against a real berthd: in a container,
 * upload (chunked, several MiB), new folder, edit a text file (mode and owner
 * kept), rename and delete (running containers only); in a volume, export to
 * a tar, import a tar, clone.
 */
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, expect, uniq } from './fixtures.js';

test('in a running container: new folder, uploads, edit, rename and delete, each checked inside the container', async ({ app, berthd, page }) => {
  const name = uniq('files');
  const id = (await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sh', '-c', 'mkdir -p /work && printf "first line\\n" > /work/note.txt && chmod 640 /work/note.txt && chown 1000:1000 /work/note.txt && sleep 1000'])).trim();
  const exec = (cmd: string) => berthd.dockerOk(['exec', name, 'sh', '-c', cmd]);
  await app.open(`#/containers/${id}/files`);
  await page.getByLabel('Go to path').fill('/work');
  await page.getByLabel('Go to path').press('Enter');
  await expect(page.locator('[data-file="note.txt"]')).toBeVisible();

  await page.getByRole('button', { name: 'New folder' }).click();
  await page.getByRole('dialog').getByLabel('Folder name').fill('made');
  await page.getByRole('dialog').getByRole('button', { name: 'Create', exact: true }).click();
  await expect(page.locator('[data-file="made"]')).toBeVisible();
  expect((await exec('stat -c %F /work/made')).trim()).toBe('directory');
  // The same name again is refused, not merged silently.
  await page.getByRole('button', { name: 'New folder' }).click();
  await page.getByRole('dialog').getByLabel('Folder name').fill('made');
  await page.getByRole('dialog').getByRole('button', { name: 'Create', exact: true }).click();
  await expect(page.getByRole('dialog').locator('.error-box')).toContainText('/work/made already exists');
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

  // Two uploads: a small text file and 3 MiB of random bytes (several acknowledged chunks).
  const big = crypto.randomBytes(3 * 1024 * 1024 + 123);
  await page.getByLabel('Files to upload').setInputFiles([
    { name: 'hello.txt', mimeType: 'text/plain', buffer: Buffer.from('hello from the dashboard\n') },
    { name: 'blob.bin', mimeType: 'application/octet-stream', buffer: big },
  ]);
  await expect(page.locator('.toast.success').filter({ hasText: 'Uploaded blob.bin' })).toBeVisible({ timeout: 60_000 });
  await expect(page.locator('[data-file="blob.bin"]')).toBeVisible();
  expect(await exec('cat /work/hello.txt')).toBe('hello from the dashboard\n');
  expect((await exec('sha256sum /work/blob.bin')).split(' ')[0]).toBe(crypto.createHash('sha256').update(big).digest('hex'));

  // Edit a text file: the new content is written, its mode and owner stay.
  await page.getByRole('button', { name: 'Edit note.txt' }).click();
  const editor = page.getByRole('dialog').getByLabel('File content');
  await expect(editor).toHaveValue('first line\n');
  await editor.fill('second version\nwith two lines\n');
  await page.getByRole('dialog').getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.locator('.toast.success').filter({ hasText: 'Saved /work/note.txt' })).toBeVisible();
  expect(await exec('cat /work/note.txt')).toBe('second version\nwith two lines\n');
  expect((await exec('stat -c "%a %u %g" /work/note.txt')).trim()).toBe('640 1000 1000');

  await page.getByRole('button', { name: 'Rename hello.txt' }).click();
  await page.getByRole('dialog').getByLabel('New name').fill('greeting.txt');
  await page.getByRole('dialog').getByRole('button', { name: 'Rename', exact: true }).click();
  await expect(page.locator('[data-file="greeting.txt"]')).toBeVisible();
  await expect(page.locator('[data-file="hello.txt"]')).toHaveCount(0);
  expect(await exec('cat /work/greeting.txt')).toBe('hello from the dashboard\n');

  await page.getByRole('button', { name: 'Delete made' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
  await expect(page.locator('[data-file="made"]')).toHaveCount(0);
  expect((await berthd.docker(['exec', name, 'ls', '/work/made'])).code).not.toBe(0);

  // Stopped: the archive API still adds files, but nothing can be removed; the buttons say why.
  await berthd.dockerOk(['stop', '-t', '0', name]);
  await expect(page.locator('#container-title [data-state]')).toHaveAttribute('data-state', 'exited');
  await expect(page.getByRole('button', { name: 'Delete greeting.txt' })).toBeDisabled();
  await expect(page.getByRole('button', { name: 'Rename greeting.txt' })).toHaveAttribute('title', /Start the container/);
  await page.getByLabel('Files to upload').setInputFiles([{ name: 'while-stopped.txt', mimeType: 'text/plain', buffer: Buffer.from('added while stopped\n') }]);
  await expect(page.locator('[data-file="while-stopped.txt"]')).toBeVisible();
  const out = execFileSync('docker', ['cp', `${name}:/work/while-stopped.txt`, '-'], { env: berthd.env });
  expect(out.toString()).toContain('added while stopped');
  await berthd.dockerOk(['rm', '-f', name]);
});

test('a volume: export to a tar, import a tar, clone; the files are really there', async ({ app, berthd, page }) => {
  const vol = uniq('vol');
  await berthd.dockerOk(['run', '--rm', '-v', `${vol}:/data`, 'busybox', 'sh', '-c', 'echo alpha > /data/a.txt; mkdir /data/d; echo beta > /data/d/b.txt']);
  await app.open(`#/volumes/${vol}`);
  await expect(page.locator('[data-file="a.txt"]')).toBeVisible();

  // Export: the volume's content at the top of the archive.
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export…' }).click()]);
  expect(download.suggestedFilename()).toBe(`${vol}.tar`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-volexport-'));
  try {
    const tarFile = path.join(tmp, 'export.tar');
    await download.saveAs(tarFile);
    const entries = execFileSync('tar', ['-tf', tarFile], { encoding: 'utf8' }).split('\n').filter(Boolean).map((e) => e.replace(/^\.\//, ''));
    expect(entries).toEqual(expect.arrayContaining(['a.txt', 'd/', 'd/b.txt']));
    expect(entries.some((e) => e.startsWith('berth-volume'))).toBe(false);
    expect(execFileSync('tar', ['-xOf', tarFile, 'd/b.txt'], { encoding: 'utf8' })).toBe('beta\n');

    // Import a tar made outside: its files land in the volume.
    const src = path.join(tmp, 'src');
    fs.mkdirSync(path.join(src, 'imported'), { recursive: true });
    fs.writeFileSync(path.join(src, 'imported', 'c.txt'), 'gamma\n');
    execFileSync('tar', ['-C', src, '-cf', path.join(tmp, 'import.tar'), 'imported']);
    await page.getByLabel('Tar archive to import').setInputFiles(path.join(tmp, 'import.tar'));
    await expect(page.locator('.toast.success').filter({ hasText: 'Imported import.tar' })).toBeVisible();
    await expect(page.locator('[data-file="imported"]')).toBeVisible();
    expect(await berthd.dockerOk(['run', '--rm', '-v', `${vol}:/data`, 'busybox', 'cat', '/data/imported/c.txt'])).toBe('gamma\n');

    // Re-importing what Export gave restores it in place (no nested folder).
    await berthd.dockerOk(['run', '--rm', '-v', `${vol}:/data`, 'busybox', 'rm', '/data/a.txt']);
    await page.getByLabel('Tar archive to import').setInputFiles(tarFile);
    await expect(page.locator('.toast.success').filter({ hasText: 'Imported export.tar' })).toBeVisible();
    expect(await berthd.dockerOk(['run', '--rm', '-v', `${vol}:/data`, 'busybox', 'cat', '/data/a.txt'])).toBe('alpha\n');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }

  // Clone: a new volume with the same content; the original is untouched.
  const clone = `${vol}-copy`;
  await page.getByRole('button', { name: 'Clone…' }).click();
  await expect(page.getByRole('dialog').getByLabel('New volume name')).toHaveValue(clone);
  await page.getByRole('dialog').getByRole('button', { name: 'Clone', exact: true }).click();
  await expect(page.locator('.toast.success').filter({ hasText: `Cloned ${vol} to ${clone}` })).toBeVisible({ timeout: 30_000 });
  expect(await berthd.dockerOk(['run', '--rm', '-v', `${clone}:/c`, 'busybox', 'sh', '-c', 'cat /c/a.txt /c/d/b.txt /c/imported/c.txt'])).toBe('alpha\nbeta\ngamma\n');
  // Cloning onto an existing name is refused.
  await page.getByRole('button', { name: 'Clone…' }).click();
  await page.getByRole('dialog').getByLabel('New volume name').fill(clone);
  await page.getByRole('dialog').getByRole('button', { name: 'Clone', exact: true }).click();
  await expect(page.getByRole('dialog').locator('.error-box')).toContainText(`a volume named ${clone} already exists`);
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
  await berthd.dockerOk(['volume', 'rm', vol, clone]);
});
