/**
 * Pull and push against a real registry (Debian's docker-registry on
 * loopback) with the stock docker CLI: round trips of imported, pulled and
 * Debian-built images, OCI/Docker manifests, gzip/zstd/plain layers,
 * multi-platform indexes, -a, digests, RepoDigests, the rendered output
 * line by line and the raw JSON progress stream.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, expect, uniq } from '../support/fixtures.js';
import { Berthd } from '../support/berthd.js';
import { busyboxTar } from '../support/paths.js';
import { Registry, OciLayout, skopeoPush, getJson, debianRootfsTar, type BuiltImage } from '../support/registry.js';
import { rawApi, jsonLines, layerSequences } from '../support/registry.js';

let registry: Registry;

test.beforeAll(async () => {
  registry = await Registry.start();
});
test.afterAll(async () => {
  await registry?.stop();
});

const lines = (s: string) => s.split('\n').filter(Boolean);
const shortId = (d: string) => d.replace(/^sha256:/, '').slice(0, 12);

/** Builds an OCI image (from the busybox rootfs plus small layers) and copies it into the registry with skopeo. */
function publish(repo: string, tag: string, extra: Array<{ files: Record<string, string>; compression: 'gzip' | 'zstd' | 'none' }>, opts: { base?: 'gzip' | 'zstd' | 'none' } = {}): BuiltImage {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-oci-'));
  try {
    const layout = new OciLayout(dir);
    const img = layout.addImage({ layers: [{ tar: busyboxTar, compression: opts.base ?? 'gzip' }, ...extra], cmd: ['sh'] });
    layout.writeIndex(tag, false);
    skopeoPush(dir, tag, `${registry.host}/${repo}:${tag}`);
    return img;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function inspect(d: Berthd, ref: string): Promise<Record<string, unknown>> {
  return JSON.parse(await d.dockerOk(['image', 'inspect', ref]))[0];
}

test('push an imported image, delete it, pull it back and run it', async ({ freshBerthd: berthd }) => {
  const ref = `${registry.host}/${uniq('roundtrip')}:1`;
  await berthd.dockerOk(['tag', 'busybox', ref]);
  const push = await berthd.dockerOk(['push', ref]);
  const diffID = (await inspect(berthd, ref)) as { RootFS: { Layers: string[] } };
  const pushLines = lines(push);
  const repo = ref.slice(0, ref.lastIndexOf(':'));
  expect(pushLines[0]).toBe(`The push refers to repository [${repo}]`);
  expect(pushLines[1]).toBe(`${shortId(diffID.RootFS.Layers[0]!)}: Preparing`);
  expect(pushLines[2]).toBe(`${shortId(diffID.RootFS.Layers[0]!)}: Pushed`);
  const m = /^1: digest: (sha256:[a-f0-9]{64}) size: (\d+)$/.exec(pushLines[3]!);
  expect(m).not.toBeNull();
  // What the registry stores is what berthd reported.
  const manifest = await getJson(`${registry.url}/v2/${repo.slice(registry.host.length + 1)}/manifests/1`);
  expect(manifest.headers['docker-content-digest']).toBe(m![1]);
  expect(manifest.body).toMatchObject({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', layers: [{ mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' }] });
  expect(Number(manifest.headers['content-length'])).toBe(Number(m![2]));

  // A second push uploads nothing.
  const again = lines(await berthd.dockerOk(['push', ref]));
  expect(again[2]).toBe(`${shortId(diffID.RootFS.Layers[0]!)}: Layer already exists`);

  await berthd.dockerOk(['rmi', ref, 'busybox']);
  expect(await berthd.dockerOk(['images', '-q'])).toBe('');
  const pull = lines(await berthd.dockerOk(['pull', ref]));
  expect(pull[0]).toBe(`1: Pulling from ${repo.slice(registry.host.length + 1)}`);
  expect(pull).toContain(`${shortId((manifest.body as { layers: Array<{ digest: string }> }).layers[0]!.digest)}: Pull complete`);
  expect(pull.slice(-3)).toEqual([`Digest: ${m![1]}`, `Status: Downloaded newer image for ${ref}`, ref]);
  expect(await berthd.dockerOk(['run', '--rm', ref, 'echo', 'pulled'])).toBe('pulled\n');
  const info = (await inspect(berthd, ref)) as { RepoDigests: string[]; RepoTags: string[] };
  expect(info.RepoDigests).toEqual([`${repo}@${m![1]}`]);
  expect(info.RepoTags).toContain(ref);

  const upToDate = lines(await berthd.dockerOk(['pull', ref]));
  expect(upToDate).toEqual([`1: Pulling from ${repo.slice(registry.host.length + 1)}`, `Digest: ${m![1]}`, `Status: Image is up to date for ${ref}`, ref]);
});

test('the rendered pull output follows Docker status by status, layer by layer', async ({ freshBerthd: d }) => {
  const repo = uniq('render');
  const img = publish(repo, 'v1', [
    { files: { 'etc/one.txt': 'one\n'.repeat(50_000) }, compression: 'gzip' },
    { files: { 'etc/two.txt': 'two\n'.repeat(80_000) }, compression: 'gzip' },
  ]);
  const ref = `${registry.host}/${repo}:v1`;
  const out = lines(await d.dockerOk(['pull', ref]));
  const ids = img.layerDigests.map(shortId);
  expect(out[0]).toBe(`v1: Pulling from ${repo}`);
  // busybox:latest holds the first layer: only the prefix of existing layers is skipped.
  expect(out[1]).toBe(`${ids[0]}: Already exists`);
  expect(out.slice(2, 4)).toEqual([`${ids[1]}: Pulling fs layer`, `${ids[2]}: Pulling fs layer`]);
  for (const id of ids.slice(1)) {
    const mine = out.filter((l) => l.startsWith(`${id}: `)).map((l) => l.slice(id.length + 2));
    expect(mine.filter((s) => s !== 'Waiting')).toEqual(['Pulling fs layer', 'Verifying Checksum', 'Download complete', 'Pull complete']);
  }
  // Layers complete in order.
  expect(out.indexOf(`${ids[1]}: Pull complete`)).toBeLessThan(out.indexOf(`${ids[2]}: Pull complete`));
  expect(out.slice(-3)).toEqual([`Digest: ${img.manifestDigest}`, `Status: Downloaded newer image for ${ref}`, ref]);

  // --quiet prints only the reference.
  await d.dockerOk(['rmi', ref]);
  expect(await d.dockerOk(['pull', '-q', ref])).toBe(`${ref}\n`);
});

test('max-concurrent-downloads queues layers behind each other ("Waiting")', async () => {
  const d = await Berthd.start({ config: { 'max-concurrent-downloads': 1 } });
  try {
    const repo = uniq('queued');
    const img = publish(repo, 'v1', [
      { files: { 'etc/a': 'a\n'.repeat(100_000) }, compression: 'gzip' },
      { files: { 'etc/b': 'b\n'.repeat(100_000) }, compression: 'gzip' },
    ]);
    await d.dockerOk(['rmi', 'busybox']);
    const out = lines(await d.dockerOk(['pull', `${registry.host}/${repo}:v1`]));
    const ids = img.layerDigests.map(shortId);
    expect(out.slice(1, 4)).toEqual(ids.map((id) => `${id}: Pulling fs layer`));
    expect(out.filter((l) => l.endsWith(': Waiting'))).toEqual([`${ids[1]}: Waiting`, `${ids[2]}: Waiting`]);
    // One at a time: each download completes before the next one is verified.
    const complete = ids.map((id) => out.indexOf(`${id}: Download complete`));
    expect([...complete].sort((x, y) => x - y)).toEqual(complete);
  } finally {
    await d.destroy();
  }
});

test('the JSON progress stream has Docker shape: statuses, progress bars, ids, CRLF lines', async ({ freshBerthd: d }) => {
  const repo = uniq('json');
  const big = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
  const img = publish(repo, 'v1', [{ files: { 'data.bin': big.toString('latin1') }, compression: 'gzip' }], { base: 'zstd' });
  await d.dockerOk(['rmi', 'busybox']);
  const res = await rawApi(d, 'POST', `/v1.51/images/create?fromImage=${encodeURIComponent(`${registry.host}/${repo}`)}&tag=v1`, undefined, { 'X-Registry-Auth': 'e30=' });
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toBe('application/json');
  const text = res.body.toString();
  expect(text.endsWith('\r\n')).toBe(true);
  expect(text.split('\r\n').filter(Boolean).every((l) => !l.includes('\n'))).toBe(true);
  const msgs = jsonLines(text);
  expect(msgs[0]).toEqual({ status: `Pulling from ${repo}`, id: 'v1' });
  const seqs = layerSequences(msgs);
  for (const digest of img.layerDigests) {
    const seq = seqs.get(shortId(digest))!;
    const statuses = seq.map((m) => m.status).filter((s, i, a) => s !== a[i - 1]);
    expect(statuses.filter((s) => s !== 'Waiting')).toEqual(['Pulling fs layer', 'Downloading', 'Verifying Checksum', 'Download complete', 'Extracting', 'Pull complete']);
    expect(seq[0]).toEqual({ status: 'Pulling fs layer', progressDetail: {}, id: shortId(digest) });
    const downloads = seq.filter((m) => m.status === 'Downloading');
    const last = downloads[downloads.length - 1]!;
    const size = (last.progressDetail as { total: number }).total;
    expect(last.progressDetail).toEqual({ current: size, total: size });
    expect(last.progress).toMatch(/^\[==================================================>\] +[\d.]+[kM]?B\/[\d.]+[kM]?B$/);
    for (const m of downloads) expect(Object.keys(m)).toEqual(['status', 'progressDetail', 'progress', 'id']);
    const extracting = seq.filter((m) => m.status === 'Extracting');
    expect((extracting[extracting.length - 1]!.progressDetail as { current: number }).current).toBe(size);
  }
  expect(msgs[msgs.length - 2]).toEqual({ status: `Digest: ${img.manifestDigest}` });
  expect(msgs[msgs.length - 1]).toEqual({ status: `Status: Downloaded newer image for ${registry.host}/${repo}:v1` });
});

test('OCI image with gzip, zstd and uncompressed layers: pulled, run, pushed elsewhere and pulled again', async ({ berthd }) => {
  const repo = uniq('mixed');
  const img = publish(
    repo,
    '1',
    [
      { files: { 'etc/zstd.txt': 'from a zstd layer\n' }, compression: 'zstd' },
      { files: { 'etc/plain.txt': 'from a plain layer\n' }, compression: 'none' },
    ],
    { base: 'zstd' },
  );
  const ref = `${registry.host}/${repo}:1`;
  await berthd.dockerOk(['pull', ref]);
  expect(await berthd.dockerOk(['run', '--rm', ref, 'cat', '/etc/zstd.txt', '/etc/plain.txt'])).toBe('from a zstd layer\nfrom a plain layer\n');
  const info = (await inspect(berthd, ref)) as { Id: string; RootFS: { Layers: string[] } };
  expect(info.Id).toBe(img.configDigest);
  expect(info.RootFS.Layers).toEqual(img.diffIDs);

  // Push to another repository: stored blobs are reused or mounted, the plain layer is gzipped.
  const copy = `${registry.host}/${uniq('mixed-copy')}:2`;
  await berthd.dockerOk(['tag', ref, copy]);
  const out = lines(await berthd.dockerOk(['push', copy]));
  expect(out.filter((l) => l.endsWith(': Mounted from ' + repo)).length).toBeGreaterThanOrEqual(1);
  const copyPath = copy.slice(registry.host.length + 1, copy.lastIndexOf(':'));
  const manifest = (await getJson(`${registry.url}/v2/${copyPath}/manifests/2`)).body as { mediaType: string; config: { digest: string }; layers: Array<{ mediaType: string; digest: string }> };
  expect(manifest.mediaType).toBe('application/vnd.oci.image.manifest.v1+json');
  expect(manifest.config.digest).toBe(img.configDigest);
  // The zstd layer goes as stored; the plain one is gzipped (the base may reuse a gzip form busybox has).
  expect(manifest.layers[1]).toMatchObject({ mediaType: 'application/vnd.oci.image.layer.v1.tar+zstd', digest: img.layerDigests[1] });
  expect(manifest.layers[2]!.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip');

  await berthd.dockerOk(['rmi', ref, copy]);
  await berthd.dockerOk(['pull', copy]);
  expect(await berthd.dockerOk(['run', '--rm', copy, 'cat', '/etc/plain.txt'])).toBe('from a plain layer\n');
});

test('multi-platform index: the host platform is chosen, --platform picks another, attestations are skipped', async ({ freshBerthd: d }) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-oci-'));
  const repo = uniq('multi');
  let amd: BuiltImage, arm: BuiltImage;
  try {
    const layout = new OciLayout(dir);
    const hostArch = process.arch === 'arm64' ? 'arm64' : 'amd64';
    const otherArch = hostArch === 'amd64' ? 'arm64' : 'amd64';
    arm = layout.addImage({ layers: [{ files: { 'etc/arch': `${otherArch}\n` }, compression: 'gzip' }], architecture: otherArch, ...(otherArch === 'arm64' ? { variant: 'v8' } : {}) });
    amd = layout.addImage({ layers: [{ tar: busyboxTar, compression: 'gzip' }, { files: { 'etc/arch': `${hostArch}\n` }, compression: 'gzip' }], architecture: hostArch });
    layout.addAttestation(amd.manifestDigest);
    layout.writeIndex('1', true);
    skopeoPush(dir, '1', `${registry.host}/${repo}:1`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const ref = `${registry.host}/${repo}:1`;
  await d.dockerOk(['pull', ref]);
  expect(await d.dockerOk(['run', '--rm', ref, 'cat', '/etc/arch'])).toBe(`${process.arch === 'arm64' ? 'arm64' : 'amd64'}\n`);
  expect((await inspect(d, ref)).Id).toBe(amd!.configDigest);
  const indexDigest = (await inspect(d, ref)).RepoDigests as string[];
  expect(indexDigest).toHaveLength(1);
  // The RepoDigest is the index's digest, as with Docker.
  const idx = await getJson(`${registry.url}/v2/${repo}/manifests/1`, 'application/vnd.oci.image.index.v1+json');
  expect(indexDigest[0]).toBe(`${registry.host}/${repo}@${idx.headers['docker-content-digest']}`);

  const other = process.arch === 'arm64' ? 'linux/amd64' : 'linux/arm64';
  const out = lines(await d.dockerOk(['pull', '--platform', other, ref]));
  expect(out).toContain(`${shortId(arm!.layerDigests[0]!)}: Pull complete`);
  const info = await inspect(d, ref);
  expect(info.Id).toBe(arm!.configDigest);
  expect(`${info.Os}/${info.Architecture}`).toBe(other);

  const none = await d.docker(['pull', '--platform', 'linux/s390x', ref]);
  expect(none.code).toBe(1);
  expect(none.stderr).toContain('no matching manifest for linux/s390x in the manifest list entries');
  const bad = await d.docker(['pull', '--platform', 'linux/arm64/v8/x', ref]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain('Error response from daemon');

  // Distribution inspect lists the index's platforms (attestation included, as moby does).
  const dist = await rawApi(d, 'GET', `/v1.51/distribution/${ref}/json`);
  expect(dist.status).toBe(200);
  const body = JSON.parse(dist.body.toString()) as { Descriptor: { mediaType: string; digest: string; size: number }; Platforms: Array<{ architecture: string; os: string }> };
  expect(body.Descriptor.mediaType).toBe('application/vnd.oci.image.index.v1+json');
  expect(body.Descriptor.digest).toBe(idx.headers['docker-content-digest']);
  expect(body.Platforms.map((p) => `${p.os}/${p.architecture}`).sort()).toEqual(['linux/amd64', 'linux/arm64', 'unknown/unknown']);
});

test('pull -a pulls every tag; pull by digest sets only the digest reference', async ({ freshBerthd: d }) => {
  const repo = uniq('alltags');
  const a = publish(repo, 'a', [{ files: { 'etc/tag': 'a\n' }, compression: 'gzip' }]);
  const b = publish(repo, 'b', [{ files: { 'etc/tag': 'b\n' }, compression: 'gzip' }]);
  const name = `${registry.host}/${repo}`;
  const out = lines(await d.dockerOk(['pull', '-a', name]));
  expect(out.filter((l) => / Pulling from /.test(l)).sort()).toEqual([`a: Pulling from ${repo}`, `b: Pulling from ${repo}`]);
  expect(out).toContain(`Status: Downloaded newer image for ${name}`);
  expect(await d.dockerOk(['run', '--rm', `${name}:b`, 'cat', '/etc/tag'])).toBe('b\n');
  expect((await inspect(d, `${name}:a`)).Id).toBe(a.configDigest);
  const again = lines(await d.dockerOk(['pull', '-a', name]));
  expect(again).toContain(`Status: Image is up to date for ${name}`);

  await d.dockerOk(['rmi', `${name}:b`]);
  const byDigest = lines(await d.dockerOk(['pull', `${name}@${b.manifestDigest}`]));
  expect(byDigest[0]).toBe(`${b.manifestDigest}: Pulling from ${repo}`);
  expect(byDigest).toContain(`Status: Downloaded newer image for ${name}@${b.manifestDigest}`);
  const info = (await inspect(d, `${name}@${b.manifestDigest}`)) as { RepoTags: string[]; RepoDigests: string[]; Id: string };
  expect(info.Id).toBe(b.configDigest);
  expect(info.RepoTags).toEqual([]);
  expect(info.RepoDigests).toEqual([`${name}@${b.manifestDigest}`]);
});

test('docker run of an image that is not local pulls it; unknown tags and repositories fail with Docker messages', async ({ berthd }) => {
  const repo = uniq('runpull');
  publish(repo, 'latest', [{ files: { 'etc/msg': 'auto-pulled\n' }, compression: 'gzip' }]);
  const ref = `${registry.host}/${repo}`;
  const run = await berthd.docker(['run', '--rm', ref, 'cat', '/etc/msg']);
  expect(run.code).toBe(0);
  expect(run.stdout).toBe('auto-pulled\n');
  expect(run.stderr).toContain(`Unable to find image '${ref}:latest' locally`);
  expect(run.stderr).toContain(`latest: Pulling from ${repo}`);

  const missingTag = await berthd.docker(['pull', `${ref}:nope`]);
  expect(missingTag.code).toBe(1);
  expect(missingTag.stderr.trim()).toBe(`Error response from daemon: manifest for ${ref}:nope not found: manifest unknown: manifest unknown`);
  const runMissing = await berthd.docker(['run', '--rm', `${ref}:nope`]);
  expect(runMissing.code).toBe(125);
  expect(runMissing.stderr).toContain(`Unable to find image '${ref}:nope' locally`);
  expect(runMissing.stderr).toContain(`manifest for ${ref}:nope not found: manifest unknown: manifest unknown`);
  const bad = await berthd.docker(['pull', `${registry.host}/UPPER`]);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain('invalid reference format: repository name (UPPER) must be lowercase');
  const scratch = await berthd.docker(['pull', 'scratch']);
  expect(scratch.stderr).toContain("'scratch' is a reserved name");
});

test('a Debian image built with mmdebstrap: push, delete, pull, run', async ({ freshBerthd: d }) => {
  test.setTimeout(600_000);
  const rootfs = debianRootfsTar();
  const name = `${registry.host}/${uniq('debian')}:bookworm`;
  await d.dockerOk(['import', '-c', 'CMD ["bash"]', rootfs, name], { timeout: 300_000 });
  const out = lines(await d.dockerOk(['push', name], { timeout: 300_000 }));
  expect(out[out.length - 1]).toMatch(/^bookworm: digest: sha256:[a-f0-9]{64} size: \d+$/);
  await d.dockerOk(['rmi', name]);
  await d.dockerOk(['pull', name], { timeout: 300_000 });
  expect((await d.dockerOk(['run', '--rm', name, 'cat', '/etc/debian_version'])).trim()).toMatch(/^12\./);
  expect(await d.dockerOk(['run', '--rm', name, 'dpkg-query', '-W', '-f', '${Package}\\n', 'bash'])).toBe('bash\n');
});

test('push --all-tags, push of a loaded image, and push errors for missing tags', async ({ freshBerthd: d }) => {
  const name = `${registry.host}/${uniq('alltags-push')}`;
  await d.dockerOk(['tag', 'busybox', `${name}:one`]);
  await d.dockerOk(['tag', 'busybox', `${name}:two`]);
  const out = lines(await d.dockerOk(['image', 'push', '--all-tags', name]));
  expect(out[0]).toBe(`The push refers to repository [${name}]`);
  expect(out.filter((l) => /^(one|two): digest: sha256:[a-f0-9]{64} size: \d+$/.test(l))).toHaveLength(2);
  expect(out.filter((l) => l.endsWith(': Layer already exists'))).toHaveLength(1);
  const tags = await getJson(`${registry.url}/v2/${name.slice(registry.host.length + 1)}/tags/list`);
  expect((tags.body as { tags: string[] }).tags.sort()).toEqual(['one', 'two']);

  // save → rmi → load → push: a loaded image pushes like any other.
  const saved = path.join(os.tmpdir(), `${uniq('saved')}.tar`);
  try {
    await d.dockerOk(['save', '-o', saved, `${name}:one`]);
    await d.dockerOk(['rmi', `${name}:one`, `${name}:two`]);
    await d.dockerOk(['load', '-i', saved]);
  } finally {
    fs.rmSync(saved, { force: true });
  }
  const loaded = `${registry.host}/${uniq('loaded')}:1`;
  await d.dockerOk(['tag', `${name}:one`, loaded]);
  const pushed = lines(await d.dockerOk(['push', loaded]));
  expect(pushed[pushed.length - 1]).toMatch(/^1: digest: sha256:[a-f0-9]{64} size: \d+$/);

  const none = await d.docker(['push', `${registry.host}/${uniq('never-tagged')}:x`]);
  expect(none.code).toBe(1);
  expect(none.stdout).toContain('The push refers to repository');
  expect(none.stderr.trim()).toMatch(/^An image does not exist locally with the tag: 127\.0\.0\.1:\d+\/never-tagged-/);
  const wrongTag = await d.docker(['push', `${name}:three`]);
  expect(wrongTag.code).toBe(1);
  expect(wrongTag.stderr.trim()).toBe(`tag does not exist: ${name}:three`);
});

test('push stream: Preparing, Waiting behind max-concurrent-uploads, Pushing bars, Pushed, digest line and aux', async () => {
  const d = await Berthd.start({ config: { 'max-concurrent-uploads': 1 } });
  try {
    const repo = uniq('pushjson');
    const img = publish(repo, 'v1', [
      { files: { 'etc/p1': 'p1\n'.repeat(200_000) }, compression: 'gzip' },
      { files: { 'etc/p2': 'p2\n'.repeat(200_000) }, compression: 'gzip' },
    ]);
    const src = `${registry.host}/${repo}:v1`;
    await d.dockerOk(['pull', src]);
    const other = await Registry.start();
    try {
      const dest = `${other.host}/${repo}`;
      await d.dockerOk(['tag', src, `${dest}:v1`]);
      const res = await rawApi(d, 'POST', `/v1.51/images/${dest}/push?tag=v1`, undefined, { 'X-Registry-Auth': 'e30=' });
      expect(res.status).toBe(200);
      const msgs = jsonLines(res.body.toString());
      expect(msgs[0]).toEqual({ status: `The push refers to repository [${dest}]` });
      const ids = [...img.diffIDs].reverse().map(shortId);
      expect(msgs.slice(1, 4)).toEqual(ids.map((id) => ({ status: 'Preparing', progressDetail: {}, id })));
      expect(msgs.filter((m) => m.status === 'Waiting').map((m) => m.id).sort()).toEqual(ids.slice(1).sort());
      const seqs = layerSequences(msgs);
      for (const id of ids) {
        const statuses = seqs.get(id)!.map((m) => m.status).filter((x, i, a) => x !== a[i - 1]);
        expect(statuses.filter((x) => x !== 'Waiting')).toEqual(['Preparing', 'Pushing', 'Pushed']);
        const bars = seqs.get(id)!.filter((m) => m.status === 'Pushing');
        expect(bars[bars.length - 1]!.progress).toMatch(/^\[=+>\]/);
      }
      const digestLine = msgs[msgs.length - 2]!;
      const m = /^v1: digest: (sha256:[a-f0-9]{64}) size: (\d+)$/.exec(digestLine.status ?? '');
      expect(m).not.toBeNull();
      expect(msgs[msgs.length - 1]).toEqual({ progressDetail: {}, aux: { Tag: 'v1', Digest: m![1], Size: Number(m![2]) } });
      // Pulled layers go up as the very blobs pulled; the base (present before, from busybox) was gzipped here.
      const manifest = (await getJson(`${other.url}/v2/${repo}/manifests/v1`)).body as { layers: Array<{ digest: string }> };
      expect(manifest.layers.slice(1).map((l) => l.digest)).toEqual(img.layerDigests.slice(1));
    } finally {
      await other.stop();
    }
  } finally {
    await d.destroy();
  }
});

test('push of a committed container', async ({ berthd }) => {
  const c = uniq('tocommit');
  await berthd.dockerOk(['run', '--name', c, 'busybox', 'sh', '-c', 'echo committed > /greeting']);
  const ref = `${registry.host}/${uniq('committed')}:1`;
  try {
    await berthd.dockerOk(['commit', c, ref]);
  } finally {
    await berthd.docker(['rm', '-f', c]);
  }
  const layers = ((await inspect(berthd, ref)) as { RootFS: { Layers: string[] } }).RootFS.Layers;
  expect(layers).toHaveLength(2);
  const out = lines(await berthd.dockerOk(['push', ref]));
  // Top layer first, as Docker lists them.
  expect(out.slice(1, 3)).toEqual([`${shortId(layers[1]!)}: Preparing`, `${shortId(layers[0]!)}: Preparing`]);
  expect(out).toContain(`${shortId(layers[1]!)}: Pushed`);
  expect(out[out.length - 1]).toMatch(/^1: digest: sha256:[a-f0-9]{64} size: \d+$/);
  await berthd.dockerOk(['rmi', ref]);
  expect(await berthd.dockerOk(['run', '--rm', ref, 'cat', '/greeting'])).toBe('committed\n');
});

test('pull and push events', async ({ berthd }) => {
  const since = Math.floor(Date.now() / 1000) - 1;
  const ref = `${registry.host}/${uniq('events')}:1`;
  await berthd.dockerOk(['tag', 'busybox', ref]);
  await berthd.dockerOk(['push', ref]);
  await berthd.dockerOk(['rmi', ref]);
  await berthd.dockerOk(['pull', ref]);
  const until = Math.floor(Date.now() / 1000) + 1;
  const evs = lines(await berthd.dockerOk(['events', '--since', String(since), '--until', String(until), '--filter', 'type=image', '--format', '{{.Action}} {{.Actor.ID}} {{index .Actor.Attributes "name"}}']));
  const name = ref.slice(0, ref.lastIndexOf(':'));
  expect(evs).toContain(`push ${ref} ${name}`);
  expect(evs).toContain(`pull ${ref} ${name}`);
  expect(evs.some((e) => e.startsWith('tag sha256:') && e.endsWith(ref))).toBe(true);
});
