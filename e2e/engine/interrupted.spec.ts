/**
 * Interrupted image writes leave nothing behind: a client that disconnects
 * in the middle of `docker import`, and a daemon killed in the middle of one.
 */
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { test, expect } from '../support/fixtures.js';
import type { Berthd } from '../support/berthd.js';
import { busyboxTar } from '../support/paths.js';

/** Starts an import and sends only `fraction` of the tarball, then either hangs up or waits. */
function partialImport(d: Berthd, fraction: number, hangUp: boolean): Promise<void> {
  const data = fs.readFileSync(busyboxTar);
  return new Promise((resolve) => {
    const req = http.request({ socketPath: d.socket, method: 'POST', path: '/images/create?fromSrc=-&repo=half:1', headers: { 'Content-Type': 'application/x-tar', 'Transfer-Encoding': 'chunked' } });
    req.on('error', () => resolve());
    req.write(data.subarray(0, Math.floor(data.length * fraction)), () => {
      setTimeout(() => {
        if (hangUp) req.destroy();
        resolve();
      }, 300);
    });
  });
}

function storeFiles(d: Berthd): { layers: string[]; images: string[]; tmp: string[]; blobTmp: string[] } {
  const ls = (p: string) => (fs.existsSync(p) ? fs.readdirSync(p).sort() : []);
  return {
    layers: ls(path.join(d.dataRoot, 'overlay', 'layers')),
    images: ls(path.join(d.dataRoot, 'image', 'images')),
    tmp: ls(path.join(d.dataRoot, 'overlay', 'tmp')).filter((n) => !n.startsWith('rm-')),
    blobTmp: ls(path.join(d.dataRoot, 'image', 'blobs', 'tmp')),
  };
}

test('a client hanging up mid-import leaves no image, layer or temp file', async ({ freshBerthd: d }) => {
  const before = storeFiles(d);
  await partialImport(d, 0.5, true);
  await expect.poll(() => storeFiles(d), { timeout: 10_000 }).toEqual(before);
  expect(await d.dockerOk(['images', '-q', 'half'])).toBe('');
  expect(await d.ping()).toBe(true);
});

test('kill -9 of berthd mid-import leaves no half image after restart', async ({ freshBerthd: d }) => {
  const before = storeFiles(d);
  await partialImport(d, 0.6, false);
  await d.kill9();
  await d.launch();
  expect(storeFiles(d)).toEqual(before);
  expect(await d.dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}}'])).toBe('busybox:latest\n');
  // The store still works.
  await d.importBusybox('again:1');
  expect(await d.dockerOk(['run', '--rm', 'again:1', 'echo', 'ok'])).toBe('ok\n');
});

test('blobs nothing refers to are swept at startup; referenced ones stay', async ({ freshBerthd: d }) => {
  const blobDir = path.join(d.dataRoot, 'image', 'blobs', 'sha256');
  const before = fs.readdirSync(blobDir).sort();
  // A download that completed just before a crash, never registered.
  const stray = 'ab'.repeat(32);
  fs.writeFileSync(path.join(blobDir, stray), 'orphan');
  await d.kill9();
  await d.launch();
  expect(fs.readdirSync(blobDir).sort()).toEqual(before);
  // The image's config and layer archive survived: it still saves and runs.
  const out = await d.dockerOk(['save', 'busybox:latest'], { timeout: 30_000 });
  expect(out.length).toBeGreaterThan(1_000_000);
  expect(await d.dockerOk(['run', '--rm', 'busybox', 'true'])).toBe('');
});
