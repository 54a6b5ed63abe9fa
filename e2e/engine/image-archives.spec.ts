/**
 * docker save / docker load: Docker 25+'s archive layout (OCI layout plus
 * manifest.json), round trips into a second daemon, the legacy
 * docker-archive and OCI layouts from other tools, messages, and loads that
 * are interrupted or invalid.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { execFileSync } from 'node:child_process';
import zlib from 'node:zlib';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { test, expect, uniq } from '../support/fixtures.js';
import { Berthd, eventually } from '../support/berthd.js';
import { busyboxTar } from '../support/paths.js';
import { configFor, dockerArchive, hex, imageIdOf, layerTar, ociLayout, rawRequest, sha256, tarBuffer, type TestImage } from './image-archive-kit.js';

test.describe.configure({ mode: 'parallel' });

const lines = (s: string) => s.split('\n').filter(Boolean);
const idOf = async (d: Berthd, ref: string) => (await d.dockerOk(['image', 'inspect', '-f', '{{.Id}}', ref])).trim();

/** Reads a whole tar into name → content. */
async function readTar(buf: Buffer): Promise<Map<string, Buffer>> {
  const ex = tar.extract();
  Readable.from([buf]).pipe(ex);
  const out = new Map<string, Buffer>();
  for await (const e of ex) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    out.set(e.header.name, Buffer.concat(chunks));
  }
  return out;
}

/** State that a load must leave as it was when it fails: layer dirs, blobs, temp dirs. */
function storeState(d: Berthd): { layers: string[]; blobs: string[]; tmp: string[] } {
  const ls = (p: string) => (fs.existsSync(p) ? fs.readdirSync(p).sort() : []);
  return {
    layers: ls(path.join(d.dataRoot, 'overlay', 'layers')),
    blobs: ls(path.join(d.dataRoot, 'image', 'blobs', 'sha256')),
    tmp: [...ls(path.join(d.dataRoot, 'image', 'blobs', 'tmp')), ...ls(path.join(d.dataRoot, 'overlay', 'tmp'))],
  };
}

async function multiLayerImage(tag: string, extra: Record<string, string>): Promise<TestImage> {
  return { layers: [fs.readFileSync(busyboxTar), await layerTar(extra)], tags: [tag], cmd: ['cat', Object.keys(extra)[0]!] };
}

test('save writes an OCI layout with manifest.json and repositories; load into a fresh daemon restores images, tags and parents', async ({ berthd }) => {
  const n = uniq('save');
  // busybox ← child (commit), a second tag of the child, and an untagged image.
  const c = uniq('save-c');
  await berthd.dockerOk(['run', '--name', c, 'busybox', 'sh', '-c', 'echo saved > /saved.txt']);
  const child = (await berthd.dockerOk(['commit', c, `${n}/app:1`])).trim();
  await berthd.dockerOk(['rm', c]);
  await berthd.dockerOk(['tag', `${n}/app:1`, `${n}/app:latest`]);
  const untagged = (await berthd.dockerOk(['import', '-'], { input: await layerTar({ 'u.txt': 'u' }) })).trim();
  const bb = await idOf(berthd, 'busybox');

  const file = path.join(os.tmpdir(), `${uniq('save')}.tar`);
  try {
    // By repository name (all its tags), by name:tag, and by ID; -o file.
    await berthd.dockerOk(['save', '-o', file, `${n}/app`, 'busybox:latest', untagged.slice(7, 19)]);
    const files = await readTar(fs.readFileSync(file));
    expect(files.get('oci-layout')!.toString()).toBe('{"imageLayoutVersion": "1.0.0"}');
    for (const [name, data] of files) {
      if (name.startsWith('blobs/sha256/') && data.length > 0) expect(sha256(data), name).toBe(`sha256:${name.slice('blobs/sha256/'.length)}`);
    }
    const manifest = JSON.parse(files.get('manifest.json')!.toString()) as Array<{ Config: string; RepoTags: string[] | null; Layers: string[]; Parent?: string }>;
    expect(manifest).toHaveLength(3);
    const byConfig = new Map(manifest.map((m) => [m.Config, m]));
    const appItem = byConfig.get(`blobs/sha256/${hex(child)}`)!;
    expect(appItem.RepoTags!.sort()).toEqual([`${n}/app:1`, `${n}/app:latest`]);
    expect(appItem.Parent).toBe(bb);
    expect(byConfig.get(`blobs/sha256/${hex(bb)}`)!.RepoTags).toEqual(['busybox:latest']);
    expect(byConfig.get(`blobs/sha256/${hex(untagged)}`)!.RepoTags).toBeNull();
    // Layers are uncompressed tars named by their DiffID.
    const childConfig = JSON.parse(files.get(appItem.Config)!.toString());
    expect(appItem.Layers).toEqual(childConfig.rootfs.diff_ids.map((d: string) => `blobs/sha256/${hex(d)}`));
    const index = JSON.parse(files.get('index.json')!.toString());
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    const names = index.manifests.map((m: { annotations?: Record<string, string> }) => m.annotations?.['io.containerd.image.name'] ?? '').sort();
    expect(names).toEqual(['', `docker.io/${n}/app:1`, `docker.io/${n}/app:latest`, 'docker.io/library/busybox:latest'].sort());
    const tagged = index.manifests.find((m: { annotations?: Record<string, string> }) => m.annotations?.['io.containerd.image.name'] === 'docker.io/library/busybox:latest');
    expect(tagged.annotations['org.opencontainers.image.ref.name']).toBe('latest');
    const man = JSON.parse(files.get(`blobs/sha256/${hex(tagged.digest)}`)!.toString());
    expect(man).toMatchObject({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { digest: bb, mediaType: 'application/vnd.oci.image.config.v1+json' } });
    expect(man.layers[0].mediaType).toBe('application/vnd.oci.image.layer.v1.tar');
    expect(JSON.parse(files.get('repositories')!.toString())).toEqual({ busybox: { latest: expect.stringMatching(/^[a-f0-9]{64}$/) }, [`${n}/app`]: { '1': expect.any(String), latest: expect.any(String) } });

    // Into a second, fresh daemon.
    const other = await Berthd.start({ busybox: false });
    try {
      const out = lines(await other.dockerOk(['load', '-i', file]));
      expect(out.sort()).toEqual(['Loaded image: busybox:latest', `Loaded image: ${n}/app:1`, `Loaded image: ${n}/app:latest`, `Loaded image ID: ${untagged}`].sort());
      expect(await idOf(other, 'busybox')).toBe(bb);
      expect(await idOf(other, `${n}/app:latest`)).toBe(child);
      expect(await idOf(other, untagged)).toBe(untagged);
      expect((await other.dockerOk(['image', 'inspect', '-f', '{{.Parent}}', child])).trim()).toBe(bb);
      expect(await other.dockerOk(['run', '--rm', `${n}/app:1`, 'cat', '/saved.txt'])).toBe('saved\n');
      // Saving again from the second daemon gives the same layers and configs.
      const again = await readTar((await rawRequest(other.socket, 'GET', `/images/get?names=${n}/app:1`)).body);
      expect([...again.keys()].filter((k) => k.startsWith('blobs/sha256/')).every((k) => files.has(k))).toBe(true);
    } finally {
      await other.destroy();
    }
  } finally {
    fs.rmSync(file, { force: true });
  }
  // To stdout (redirected, as the CLI refuses a terminal).
  const piped = path.join(os.tmpdir(), `${uniq('save-stdout')}.tar`);
  try {
    execFileSync('sh', ['-c', `docker save ${n}/app:latest > "${piped}"`], { env: berthd.env });
    const fromStdout = await readTar(fs.readFileSync(piped));
    expect(JSON.parse(fromStdout.get('manifest.json')!.toString())[0].RepoTags).toEqual([`${n}/app:latest`]);
  } finally {
    fs.rmSync(piped, { force: true });
  }
  // By ID only, through the API; save events.
  const since = (Date.now() / 1000).toFixed(3);
  const viaApi = await rawRequest(berthd.socket, 'GET', `/images/get?names=${encodeURIComponent(child)}`);
  expect(viaApi.status).toBe(200);
  expect(viaApi.headers['content-type']).toBe('application/x-tar');
  const byId = JSON.parse((await readTar(viaApi.body)).get('manifest.json')!.toString());
  expect(byId).toEqual([{ Config: `blobs/sha256/${hex(child)}`, RepoTags: null, Layers: expect.any(Array) }]);
  const single = await rawRequest(berthd.socket, 'GET', `/images/${n}/app:1/get`);
  expect(JSON.parse((await readTar(single.body)).get('manifest.json')!.toString())[0].RepoTags).toEqual([`${n}/app:1`]);
  const ev = lines(await berthd.dockerOk(['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'type=image', '--filter', 'event=save', '--format', '{{.Actor.ID}}']));
  expect(ev).toEqual([child, child]);
  const errFile = path.join(os.tmpdir(), `${uniq('save-err')}.tar`);
  for (const [name, msg] of [
    ['nosuch-save:1', 'No such image: nosuch-save:1'],
    ['Bad/Name', 'invalid reference format'],
  ] as const) {
    const r = await berthd.docker(['save', '-o', errFile, name]);
    expect(r.code, name).toBe(1);
    expect(r.stderr).toContain(msg);
  }
  fs.rmSync(errFile, { force: true });
  await berthd.dockerOk(['rmi', `${n}/app:1`, `${n}/app:latest`, untagged]);
});

test('load: legacy docker-archive with shared and gzip layers, several images, tag moves, quiet and progress output', async ({ freshBerthd: d }) => {
  const a = await multiLayerImage('multi/a:1', { 'a.txt': 'from a\n' });
  const b: TestImage = { ...(await multiLayerImage('multi/b:1', { 'b.txt': 'from b\n' })), tags: ['multi/b:1', 'multi/b:2'] };
  const archive = await dockerArchive([a, b], 'legacy');
  // Raw API: exactly application/json, one JSON object per line.
  const res = await rawRequest(d.socket, 'POST', '/images/load?quiet=1', archive, { 'Content-Type': 'application/x-tar' });
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toBe('application/json');
  expect(res.body.toString().trim().split('\n').map((l) => JSON.parse(l))).toEqual([
    { stream: 'Loaded image: multi/a:1\n' },
    { stream: 'Loaded image: multi/b:1\n' },
    { stream: 'Loaded image: multi/b:2\n' },
  ]);
  expect(await d.dockerOk(['run', '--rm', 'multi/a:1'])).toBe('from a\n');
  expect(await d.dockerOk(['run', '--rm', 'multi/b:2'])).toBe('from b\n');
  // The busybox layer is stored once, shared by both images.
  expect(fs.readdirSync(path.join(d.dataRoot, 'overlay', 'layers'))).toHaveLength(3);

  // Loading a different image under an existing tag moves it, with Docker's message; gzip layers load too.
  const a2: TestImage = { layers: [fs.readFileSync(busyboxTar), await layerTar({ 'a.txt': 'new a\n' })], tags: ['multi/a:1'], cmd: ['cat', 'a.txt'], created: '2024-05-05T00:00:00Z' };
  const oldA = imageIdOf(a);
  const out = await d.dockerOk(['load'], { input: await dockerArchive([a2], 'blobs', 'gzip') });
  expect(lines(out)).toEqual([`The image multi/a:1 already exists, renaming the old one with ID ${oldA} to empty string`, 'Loaded image: multi/a:1']);
  expect(await d.dockerOk(['run', '--rm', 'multi/a:1'])).toBe('new a\n');
  expect(lines(await d.dockerOk(['images', '-q', '--no-trunc', '-f', 'dangling=true']))).toEqual([oldA]);
  // Loading the same archive twice is fine and quiet about tags that stay; a gzipped archive (docker save | gzip) loads too.
  expect(lines(await d.dockerOk(['load'], { input: zlib.gzipSync(await dockerArchive([a2], 'blobs', 'gzip')) }))).toEqual(['Loaded image: multi/a:1']);

  // quiet=0 (a terminal) adds layer progress.
  const c: TestImage = { layers: [await layerTar({ 'c.txt': 'c' })], tags: ['multi/c:1'] };
  const noisy = await rawRequest(d.socket, 'POST', '/images/load?quiet=0', await dockerArchive([c]));
  const msgs = noisy.body.toString().trim().split('\n').map((l) => JSON.parse(l));
  expect(msgs[0]).toMatchObject({ status: 'Loading layer', id: hex(sha256(c.layers[0]!)).slice(0, 12), progressDetail: { current: 0 } });
  expect(msgs.at(-1)).toEqual({ stream: 'Loaded image: multi/c:1\n' });
  const events = lines(await d.dockerOk(['events', '--since', '0', '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'type=image', '--filter', 'event=load', '--format', '{{.Actor.ID}}']));
  expect(events).toEqual(expect.arrayContaining([oldA, imageIdOf(b), imageIdOf(a2), imageIdOf(c)]));
});

test('load: OCI layouts with gzip and zstd layers, nested indexes with other platforms; save decompresses them', async ({ freshBerthd: d }) => {
  const z = await multiLayerImage('oci/zstd:1', { 'z.txt': 'zstd layer\n' });
  const g = await multiLayerImage('localhost:5000/oci/gzip:2', { 'g.txt': 'gzip layer\n' });
  expect(lines(await d.dockerOk(['load'], { input: await ociLayout([z], 'zstd') }))).toEqual(['Loaded image: oci/zstd:1']);
  expect(lines(await d.dockerOk(['load'], { input: await ociLayout([g], 'gzip', { nestedIndex: true }) }))).toEqual(['Loaded image: localhost:5000/oci/gzip:2']);
  const untagged: TestImage = { layers: [await layerTar({ 'n.txt': 'n' })], tags: [] };
  expect(lines(await d.dockerOk(['load'], { input: await ociLayout([untagged], 'none') }))).toEqual([`Loaded image ID: ${imageIdOf(untagged)}`]);
  expect(await d.dockerOk(['run', '--rm', 'oci/zstd:1'])).toBe('zstd layer\n');
  expect(await d.dockerOk(['run', '--rm', 'localhost:5000/oci/gzip:2'])).toBe('gzip layer\n');

  // The stored blobs are compressed; save writes uncompressed tars whose digests are the DiffIDs.
  const saved = await rawRequest(d.socket, 'GET', '/images/get?names=oci/zstd:1&names=localhost:5000/oci/gzip:2');
  const files = await readTar(saved.body);
  for (const img of [z, g]) {
    for (const layer of img.layers) expect(files.get(`blobs/sha256/${hex(sha256(layer))}`)?.equals(layer)).toBe(true);
    expect(files.get(`blobs/sha256/${hex(imageIdOf(img))}`)?.equals(configFor(img))).toBe(true);
  }
  // And that archive loads into yet another daemon.
  const other = await Berthd.start({ busybox: false });
  try {
    await other.dockerOk(['load'], { input: saved.body });
    expect(await other.dockerOk(['run', '--rm', 'localhost:5000/oci/gzip:2'])).toBe('gzip layer\n');
  } finally {
    await other.destroy();
  }
});

test('load: invalid archives fail with a message inside a 200 JSON stream (as dockerd) and change nothing', async ({ freshBerthd: d }) => {
  const before = storeState(d);
  const img = await multiLayerImage('bad/img:1', { 'x.txt': 'x' });
  const good = configFor(img);
  const badConfigDigest = await tarBuffer([
    { header: { name: `blobs/sha256/${hex(sha256(good))}` }, body: good.toString().replace('2024-01-02', '2025-01-02') },
    { header: { name: `blobs/sha256/${hex(sha256(img.layers[1]!))}` }, body: img.layers[1]! },
    { header: { name: 'manifest.json' }, body: JSON.stringify([{ Config: `blobs/sha256/${hex(sha256(good))}`, RepoTags: ['bad/img:1'], Layers: [`blobs/sha256/${hex(sha256(img.layers[1]!))}`] }]) },
  ]);
  // The config claims a DiffID the layer content does not have.
  const lying: TestImage = { layers: [await layerTar({ 'y.txt': 'y' })], tags: ['bad/lie:1'] };
  const lyingConfig = JSON.parse(configFor(lying).toString());
  lyingConfig.rootfs.diff_ids = [sha256('something else')];
  const lyingRaw = Buffer.from(JSON.stringify(lyingConfig));
  const diffMismatch = await tarBuffer([
    { header: { name: 'l/layer.tar' }, body: lying.layers[0]! },
    { header: { name: 'c.json' }, body: lyingRaw },
    { header: { name: 'manifest.json' }, body: JSON.stringify([{ Config: 'c.json', RepoTags: ['bad/lie:1'], Layers: ['l/layer.tar'] }]) },
  ]);
  const countMismatch = await tarBuffer([
    { header: { name: 'c.json' }, body: configFor(lying) },
    { header: { name: 'manifest.json' }, body: JSON.stringify([{ Config: 'c.json', RepoTags: ['bad/count:1'], Layers: [] }]) },
  ]);
  const ociBadBlob = await ociLayout([{ layers: [await layerTar({ q: 'q' })], tags: ['bad/oci:1'] }], 'gzip');
  // Corrupt one layer blob of the OCI layout after the fact (its name keeps the old digest).
  const ociFiles = await readTar(ociBadBlob);
  const corrupted = await tarBuffer(
    [...ociFiles].map(([name, body]) => ({ header: { name }, body: name.startsWith('blobs/') && body.length > 0 && body[0] === 0x1f ? Buffer.concat([body.subarray(0, 20), Buffer.from('garbage')]) : body })),
  );
  const cases: Array<[string, Buffer, string]> = [
    ['not a tar', Buffer.from('this is not an archive at all, just text that goes on and on'.repeat(20)), 'invalid archive'],
    ['an empty tar', await tarBuffer([]), 'invalid archive'],
    ['no manifest', await tarBuffer([{ header: { name: 'hello.txt' }, body: 'hi' }]), 'invalid archive: does not contain a manifest.json'],
    ['a manifest that is not JSON', await tarBuffer([{ header: { name: 'manifest.json' }, body: '{nope' }]), 'invalid archive: failed to decode manifest.json'],
    ['a null manifest', await tarBuffer([{ header: { name: 'manifest.json' }, body: 'null' }]), 'invalid manifest, manifest cannot be null (but can be [])'],
    ['a missing config', await tarBuffer([{ header: { name: 'manifest.json' }, body: JSON.stringify([{ Config: 'nope.json', RepoTags: [], Layers: [] }]) }]), 'invalid archive: image config "nope.json" is missing'],
    ['a config that does not match its digest', badConfigDigest, 'does not match its digest'],
    ['a layer that does not match its DiffID', diffMismatch, 'layer content does not match its DiffID'],
    ['a layer count mismatch', countMismatch, 'invalid manifest, layers length mismatch: expected 0, got 1'],
    ['an OCI blob that does not match its digest', corrupted, 'does not match its digest'],
    ['a bad tag', await dockerArchive([{ layers: [await layerTar({ t: 't' })], tags: ['Bad Tag'] }]), 'invalid reference format'],
  ];
  for (const [what, archive, message] of cases) {
    const r = await rawRequest(d.socket, 'POST', '/images/load?quiet=1', archive);
    expect(r.status, what).toBe(200);
    expect(r.headers['content-type'], what).toBe('application/json');
    const last = JSON.parse(r.body.toString().trim().split('\n').pop()!) as { error: string; errorDetail: { message: string } };
    expect(last.error, what).toContain(message);
    expect(last.errorDetail.message, what).toBe(last.error);
    const cli = await d.docker(['load'], { input: archive });
    expect(cli.code, what).toBe(1);
    expect(cli.stderr, what).toContain(message);
  }
  expect(storeState(d)).toEqual(before);
  expect(lines(await d.dockerOk(['images', '-a', '--format', '{{.Repository}}']))).toEqual(['busybox']);
  expect(await d.dockerOk(['run', '--rm', 'busybox', 'echo', 'still serving'])).toBe('still serving\n');
});

test('save: an image whose layer archive is gone is a clear error before any output', async ({ freshBerthd: d }) => {
  const img: TestImage = { layers: [await layerTar({ 'gone.txt': 'g' })], tags: ['gone/img:1'] };
  await d.dockerOk(['load'], { input: await dockerArchive([img]) });
  const diffID = sha256(img.layers[0]!);
  fs.rmSync(path.join(d.dataRoot, 'image', 'blobs', 'sha256', hex(diffID)));
  const r = await rawRequest(d.socket, 'GET', '/images/get?names=gone/img:1');
  expect(r.status).toBe(404);
  expect(JSON.parse(r.body.toString()).message).toBe(`cannot save image ${imageIdOf(img)}: the archive of its layer ${diffID} is not stored`);
  // Everything else still saves.
  expect((await rawRequest(d.socket, 'GET', '/images/get?names=busybox')).status).toBe(200);
});

test('load: a client that disconnects mid-upload or mid-import leaves nothing behind', async ({ freshBerthd: d }) => {
  const before = storeState(d);
  const imgs = await Promise.all([1, 2, 3].map(async (i) => multiLayerImage(`cut/img:${i}`, { [`f${i}`]: 'x'.repeat(300_000 * i) })));
  const archive = await dockerArchive(imgs, 'legacy');
  for (const cutAt of [Math.floor(archive.length / 3), archive.length - 600]) {
    await new Promise<void>((resolve, reject) => {
      const sock = net.connect(d.socket, () => {
        sock.write(`POST /v1.51/images/load?quiet=1 HTTP/1.1\r\nHost: docker\r\nContent-Type: application/x-tar\r\nContent-Length: ${archive.length}\r\n\r\n`);
        sock.write(archive.subarray(0, cutAt), () => setTimeout(() => {
          sock.destroy();
          resolve();
        }, 300));
      });
      sock.on('error', reject);
    });
    await eventually(() => storeState(d).tmp.length === 0, 10_000);
  }
  expect(storeState(d)).toEqual(before);
  expect(lines(await d.dockerOk(['images', '-a', '--format', '{{.Repository}}']))).toEqual(['busybox']);
});

test('load: kill -9 of berthd mid-load leaves no half image, no orphan layers and no temp files after restart', async ({ freshBerthd: d }) => {
  const before = storeState(d);
  // Enough layers with enough files that registration takes a while.
  const layers: Buffer[] = [fs.readFileSync(busyboxTar)];
  for (let l = 0; l < 6; l++) {
    const files: Record<string, string> = {};
    for (let i = 0; i < 2000; i++) files[`d${l}/f${i}`] = `${l}-${i}`;
    layers.push(await layerTar(files));
  }
  const img: TestImage = { layers, tags: ['crash/img:1'] };
  const archive = await dockerArchive([img], 'legacy');
  const layersDir = path.join(d.dataRoot, 'overlay', 'layers');
  const loading = d.docker(['load'], { input: archive, timeout: 120_000 });
  // Wait until the load has registered some layers (but not all), then crash.
  await eventually(() => fs.readdirSync(layersDir).length >= before.layers.length + 2, 60_000, 5);
  await d.kill9();
  const r = await loading;
  expect(r.code).not.toBe(0);
  await d.launch();
  expect(lines(await d.dockerOk(['images', '-a', '--format', '{{.Repository}}']))).toEqual(['busybox']);
  expect(storeState(d)).toEqual(before);
  // The same archive loads fine afterwards.
  expect(lines(await d.dockerOk(['load'], { input: archive, timeout: 120_000 }))).toEqual(['Loaded image: crash/img:1']);
  expect(await d.dockerOk(['run', '--rm', 'crash/img:1', 'cat', '/d5/f1999'])).toBe('5-1999');
});
