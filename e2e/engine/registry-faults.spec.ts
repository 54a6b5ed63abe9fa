/**
 * Pulls through a fault-injecting proxy in front of a real registry: a
 * connection dropped mid-blob is resumed with Range; a corrupted byte, a
 * registry that keeps failing, an oversized manifest, a manifest or config
 * whose bytes do not match their digest all end with Docker's message,
 * leave no image, blob, layer or temp file behind, and the daemon keeps
 * serving. Two concurrent pulls sharing layers fetch each blob once, and a
 * client that goes away cancels its download.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { test, expect, uniq } from '../support/fixtures.js';
import { Berthd, eventually } from '../support/berthd.js';
import { busyboxTar } from '../support/paths.js';
import { Registry, FaultProxy, OciLayout, skopeoPush, rawApi, jsonLines, type BuiltImage } from '../support/registry.js';

let registry: Registry;
let proxy: FaultProxy;

test.beforeAll(async () => {
  registry = await Registry.start();
  proxy = new FaultProxy(registry.url);
  await proxy.start();
});
test.afterAll(async () => {
  await proxy?.stop();
  await registry?.stop();
});
test.beforeEach(() => {
  proxy.faults = [];
});

/** Pseudo-random bytes that gzip cannot shrink much, so blobs are several MB. */
function noise(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = x & 0xff;
  }
  return b;
}

function publish(repo: string, layers: Array<Record<string, string | Buffer>>, base = true): BuiltImage {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-oci-'));
  try {
    const layout = new OciLayout(dir);
    const img = layout.addImage({ layers: [...(base ? [{ tar: busyboxTar, compression: 'gzip' as const }] : []), ...layers.map((files) => ({ files, compression: 'gzip' as const }))] });
    layout.writeIndex('1', false);
    skopeoPush(dir, '1', `${registry.host}/${repo}:1`);
    return img;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Files in the daemon's image state that a failed pull must not leave behind. */
function stateSnapshot(d: Berthd): { blobs: string[]; layers: string[]; tmp: string[] } {
  const ls = (p: string) => {
    try {
      return fs.readdirSync(path.join(d.dataRoot, p)).sort();
    } catch {
      return [];
    }
  };
  return { blobs: ls('image/blobs/sha256'), layers: ls('overlay/layers'), tmp: [...ls('image/blobs/tmp'), ...ls('overlay/tmp')] };
}

const pullPath = (ref: string) => `/v1.51/images/create?fromImage=${encodeURIComponent(ref.slice(0, ref.lastIndexOf(':')))}&tag=${ref.slice(ref.lastIndexOf(':') + 1)}`;

test('a connection dropped mid-blob is resumed with a Range request', async ({ freshBerthd: d }) => {
  const repo = uniq('drop');
  const data = noise(6 * 1024 * 1024, 1);
  const img = publish(repo, [{ 'data.bin': data }]);
  const big = img.layerDigests[1]!;
  proxy.faults = [{ kind: 'drop', digest: big, afterBytes: 2 * 1024 * 1024, times: 1 }];
  const ref = `${proxy.host}/${repo}:1`;
  const res = await rawApi(d, 'POST', pullPath(ref));
  expect(res.status).toBe(200);
  const msgs = jsonLines(res.body.toString());
  expect(msgs.some((m) => m.error)).toBe(false);
  const id = big.slice(7, 19);
  const mine = msgs.filter((m) => m.id === id).map((m) => m.status);
  expect(mine).toContain('Retrying in 5 seconds');
  expect(mine.indexOf('Retrying in 1 second')).toBeLessThan(mine.indexOf('Verifying Checksum'));
  const gets = proxy.blobGets(big);
  expect(gets).toHaveLength(2);
  expect(gets[0]!.range).toBeUndefined();
  const m = /^bytes=(\d+)-$/.exec(gets[1]!.range ?? '');
  expect(m).not.toBeNull();
  expect(Number(m![1])).toBeGreaterThan(0);
  expect(await d.dockerOk(['run', '--rm', ref, 'sh', '-c', 'wc -c < /data.bin'])).toBe(`${data.length}\n`);
});

test('a corrupted byte fails the pull with Docker message and leaves nothing behind', async ({ freshBerthd: d }) => {
  const repo = uniq('corrupt');
  const img = publish(repo, [{ 'a.bin': noise(2 * 1024 * 1024, 2) }, { 'b.bin': noise(3 * 1024 * 1024, 3) }]);
  const bad = img.layerDigests[2]!;
  const before = stateSnapshot(d);
  const imagesBefore = await d.dockerOk(['images', '-q', '--no-trunc']);
  proxy.faults = [{ kind: 'corrupt', digest: bad, offset: 1024 * 1024, times: 10 }];
  const ref = `${proxy.host}/${repo}:1`;
  const r = await d.docker(['pull', ref]);
  expect(r.code).toBe(1);
  expect(r.stderr.trim()).toBe(`filesystem layer verification failed for digest ${bad}`);
  // Not retried: a digest mismatch is final.
  expect(proxy.blobGets(bad)).toHaveLength(1);
  expect(await d.dockerOk(['images', '-q', '--no-trunc'])).toBe(imagesBefore);
  await eventually(() => JSON.stringify(stateSnapshot(d)) === JSON.stringify(before), 5000).catch(() => undefined);
  expect(stateSnapshot(d)).toEqual(before);
  expect(stateSnapshot(d).blobs).not.toContain(bad.slice(7));

  // The daemon is healthy and the same pull works once the registry behaves.
  proxy.faults = [];
  await d.dockerOk(['pull', ref]);
  expect(await d.dockerOk(['run', '--rm', ref, 'sh', '-c', 'wc -c < /b.bin'])).toBe(`${3 * 1024 * 1024}\n`);
});

test('a 500 for one blob is retried; a registry that keeps failing ends the pull after max-download-attempts', async () => {
  const d = await Berthd.start({ config: { 'max-download-attempts': 2 } });
  try {
    const repo = uniq('status');
    const img = publish(repo, [{ 'x.bin': noise(512 * 1024, 4) }]);
    const layer = img.layerDigests[1]!;
    const ref = `${proxy.host}/${repo}:1`;
    proxy.faults = [{ kind: 'status', digest: layer, status: 500, times: 1 }];
    const ok = await d.docker(['pull', ref]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`${layer.slice(7, 19)}: Retrying in 5 seconds`);
    expect(proxy.blobGets(layer).map((g) => g.status)).toEqual([500, 200]);

    await d.dockerOk(['rmi', ref]);
    const before = stateSnapshot(d);
    proxy.faults = [{ kind: 'status', digest: layer, status: 500, times: 100 }];
    const failed = await d.docker(['pull', ref]);
    expect(failed.code).toBe(1);
    expect(failed.stderr.trim()).toBe('received unexpected HTTP status: 500 Internal Server Error');
    expect(proxy.blobGets(layer).filter((g) => g.status === 500)).toHaveLength(1 + 2);
    await eventually(() => JSON.stringify(stateSnapshot(d)) === JSON.stringify(before), 5000);

    // The config blob is retried quickly (moby: 5 attempts) and then reported as such.
    proxy.faults = [{ kind: 'status', digest: img.configDigest, status: 500, times: 100 }];
    const cfg = await d.docker(['pull', ref]);
    expect(cfg.code).toBe(1);
    expect(cfg.stderr.trim()).toBe('error pulling image configuration: download failed after attempts=5: received unexpected HTTP status: 500 Internal Server Error');
    expect((await d.docker(['version'])).code).toBe(0);
  } finally {
    await d.destroy();
  }
});

test('manifests: over 4 MB, or bytes not matching the digest, are refused; config digests are checked', async ({ berthd: d }) => {
  const repo = uniq('manifest');
  const img = publish(repo, [{ 'm.txt': 'manifest test\n' }]);
  const ref = `${proxy.host}/${repo}:1`;
  proxy.faults = [{ kind: 'huge-manifest', reference: img.manifestDigest, times: 1 }];
  const huge = await d.docker(['pull', ref]);
  expect(huge.code).toBe(1);
  expect(huge.stderr.trim()).toBe(`Error response from daemon: manifest ${img.manifestDigest} is larger than the 4 MiB limit`);

  proxy.faults = [{ kind: 'corrupt', digest: img.manifestDigest, offset: 20, times: 1 }];
  const wrong = await d.docker(['pull', ref]);
  expect(wrong.code).toBe(1);
  expect(wrong.stderr.trim()).toBe(`Error response from daemon: manifest verification failed for digest ${img.manifestDigest}`);

  proxy.faults = [{ kind: 'corrupt', digest: img.configDigest, offset: 5, times: 1 }];
  const cfg = await d.docker(['pull', ref]);
  expect(cfg.code).toBe(1);
  expect(cfg.stderr.trim()).toBe(`error pulling image configuration: image config verification failed for digest ${img.configDigest}`);

  const unknownDigest = await d.docker(['pull', `${proxy.host}/${repo}@sha256:${'0'.repeat(64)}`]);
  expect(unknownDigest.code).toBe(1);
  expect(unknownDigest.stderr).toContain('manifest unknown');
  expect((await d.docker(['images', '-q', `${proxy.host}/${repo}`])).stdout).toBe('');
  proxy.faults = [];
  await d.dockerOk(['pull', ref]);
});

test('two concurrent pulls of images sharing layers download each shared blob once', async ({ freshBerthd: d }) => {
  const shared1 = { 'shared/one.bin': noise(4 * 1024 * 1024, 5) };
  const shared2 = { 'shared/two.bin': noise(4 * 1024 * 1024, 6) };
  const repoA = uniq('share-a');
  const a = publish(repoA, [shared1, shared2, { 'only-a': 'a\n' }]);
  const repoB = uniq('share-b');
  const b = publish(repoB, [shared1, shared2, { 'only-b': 'b\n' }]);
  expect(b.layerDigests.slice(0, 3)).toEqual(a.layerDigests.slice(0, 3));
  await d.dockerOk(['rmi', 'busybox']);
  const refA = `${proxy.host}/${repoA}:1`;
  const refB = `${proxy.host}/${repoB}:1`;
  // Slow the shared blobs down so the second pull arrives while they are in flight.
  proxy.faults = a.layerDigests.slice(0, 3).map((digest) => ({ kind: 'slow' as const, digest, delayMs: 5, times: 1 }));
  const [ra, rb] = await Promise.all([d.docker(['pull', refA]), d.docker(['pull', refB])]);
  expect(ra.code).toBe(0);
  expect(rb.code).toBe(0);
  for (const digest of a.layerDigests.slice(0, 3)) expect(proxy.blobGets(digest)).toHaveLength(1);
  expect(await d.dockerOk(['run', '--rm', refA, 'cat', '/only-a'])).toBe('a\n');
  expect(await d.dockerOk(['run', '--rm', refB, 'sh', '-c', 'cat /only-b; wc -c < /shared/two.bin'])).toBe(`b\n${4 * 1024 * 1024}\n`);
});

test('a client that disconnects mid-pull cancels the download and leaves nothing behind', async ({ freshBerthd: d }) => {
  const repo = uniq('cancel');
  const img = publish(repo, [{ 'big.bin': noise(8 * 1024 * 1024, 7) }]);
  const layer = img.layerDigests[1]!;
  proxy.faults = [{ kind: 'slow', digest: layer, delayMs: 20, times: 1 }];
  const before = stateSnapshot(d);
  const ref = `${proxy.host}/${repo}:1`;
  await new Promise<void>((resolve, reject) => {
    const req = http.request({ socketPath: d.socket, method: 'POST', path: pullPath(ref) }, (res) => {
      res.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('"Downloading"')) {
          req.destroy();
          resolve();
        }
      });
      res.on('error', () => undefined);
    });
    req.on('error', () => undefined);
    req.on('close', () => resolve());
    setTimeout(() => reject(new Error('no download progress seen')), 30_000);
    req.end();
  });
  // The daemon drops the registry connection and cleans up its temp file.
  await eventually(() => JSON.stringify(stateSnapshot(d)) === JSON.stringify(before), 10_000);
  expect((await d.docker(['images', '-q', ref])).stdout).toBe('');
  proxy.faults = [];
  await d.dockerOk(['pull', ref]);
});
