/**
 * Local images through the stock docker CLI: import, images (filters and
 * flags), inspect, history, tag, rmi, image prune and commit — with
 * Docker's output and messages.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { test, expect, uniq } from '../support/fixtures.js';
import type { Berthd } from '../support/berthd.js';
import { busyboxTar } from '../support/paths.js';
import { dockerArchive, entriesOfLayer, layerTar, rawRequest, sha256 } from './image-archive-kit.js';

test.describe.configure({ mode: 'parallel' });

const lines = (s: string) => s.split('\n').filter(Boolean);
const idOf = async (d: Berthd, ref: string) => (await d.dockerOk(['image', 'inspect', '-f', '{{.Id}}', ref])).trim();
const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);

test('import from stdin and from a file, compressed, with --change and -m', async ({ berthd }) => {
  const a = uniq('imp-stdin');
  const out = await berthd.dockerOk(['import', '-', `${a}:v1`], { input: fs.readFileSync(busyboxTar) });
  expect(out.trim()).toMatch(/^sha256:[a-f0-9]{64}$/);
  expect(await idOf(berthd, `${a}:v1`)).toBe(out.trim());

  const b = uniq('imp-file');
  const gz = path.join(os.tmpdir(), `${uniq('rootfs')}.tar.gz`);
  fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(busyboxTar)));
  try {
    await berthd.dockerOk(['import', '-m', 'from a gzip file', '-c', 'ENV GREETING=hello', '-c', 'CMD ["sh","-c","echo $GREETING from $0"]', '-c', 'LABEL team=qa', '-c', 'WORKDIR /tmp', gz, b]);
  } finally {
    fs.rmSync(gz, { force: true });
  }
  expect(await berthd.dockerOk(['run', '--rm', b])).toBe('hello from sh\n');
  const cfg = JSON.parse(await berthd.dockerOk(['image', 'inspect', '-f', '{{json .Config}}', b]));
  expect(cfg).toMatchObject({ Env: ['GREETING=hello'], Cmd: ['sh', '-c', 'echo $GREETING from $0'], Labels: { team: 'qa' }, WorkingDir: '/tmp' });
  const hist = lines(await berthd.dockerOk(['history', '--format', '{{.CreatedBy}}|{{.Comment}}', b]));
  expect(hist).toEqual(['|from a gzip file']);
  // The repository may carry the tag.
  expect(lines(await berthd.dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}}', b]))).toEqual([`${b}:latest`]);

  const digestRepo = await berthd.docker(['import', '-', `${a}@sha256:${'b'.repeat(64)}`], { input: await layerTar({ d: 'd' }) });
  expect(digestRepo.code).toBe(1);
  expect(digestRepo.stderr).toContain('cannot import digest reference');
  // A bad --change fails before anything is stored.
  const before = await berthd.dockerOk(['images', '-aq', '--no-trunc']);
  const bad = await berthd.docker(['import', '-c', 'FROM scratch', '-', uniq('imp-bad')], { input: fs.readFileSync(busyboxTar) });
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain('from is not a valid change command');
  expect(await berthd.dockerOk(['images', '-aq', '--no-trunc'])).toBe(before);
  await berthd.dockerOk(['rmi', `${a}:v1`, b]);
});

test('images: -q, --no-trunc, --digests, -a and every filter', async ({ freshBerthd: d }) => {
  const base = await idOf(d, 'busybox');
  // labelled image, a commit chain with an untagged intermediate, a dangling image.
  await d.dockerOk(['import', '-c', 'LABEL tier=web', '-c', 'LABEL owner=ann', '-', 'web/app:1.0'], { input: fs.readFileSync(busyboxTar) });
  await new Promise((r) => setTimeout(r, 1100));
  const c1 = uniq('c1');
  await d.dockerOk(['run', '--name', c1, 'busybox', 'sh', '-c', 'echo 1 > /one']);
  const mid = (await d.dockerOk(['commit', c1])).trim();
  const c2 = uniq('c2');
  await d.dockerOk(['run', '--name', c2, mid, 'sh', '-c', 'echo 2 > /two']);
  await d.dockerOk(['commit', c2, 'chain:top']);
  await d.dockerOk(['rm', c1, c2]);
  await d.dockerOk(['import', '-', 'dang:x'], { input: (await layerTar({ 'f.txt': 'x' })) });
  const dang = await idOf(d, 'dang:x');
  await d.dockerOk(['import', '-', 'dang:x'], { input: (await layerTar({ 'g.txt': 'y' })) });
  const top = await idOf(d, 'chain:top');
  const web = await idOf(d, 'web/app:1.0');

  const fmt = (args: string[]) => d.dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}}', ...args]).then(lines);
  expect((await fmt([])).sort()).toEqual(['<none>:<none>', 'busybox:latest', 'chain:top', 'dang:x', 'web/app:1.0'].sort());
  // -a adds the untagged parent of chain:top.
  expect((await fmt(['-a'])).filter((l) => l === '<none>:<none>')).toHaveLength(2);
  expect(lines(await d.dockerOk(['images', '-aq', '--no-trunc']))).toEqual(expect.arrayContaining([mid, top, dang, base, web]));
  expect(lines(await d.dockerOk(['images', '-q']))).not.toContain(short(mid));
  expect(lines(await d.dockerOk(['images', '-q'])).every((l) => /^[a-f0-9]{12}$/.test(l))).toBe(true);
  // --digests adds the column; local images have none.
  const digests = lines(await d.dockerOk(['images', '--digests', 'busybox']));
  expect(digests[0]).toMatch(/^REPOSITORY\s+TAG\s+DIGEST\s+IMAGE ID\s+CREATED\s+SIZE$/);
  expect(digests[1]).toMatch(/^busybox\s+latest\s+<none>\s+[a-f0-9]{12}\s+/);

  // dangling: only untagged images nothing builds on.
  expect(lines(await d.dockerOk(['images', '-q', '--no-trunc', '-f', 'dangling=true']))).toEqual([dang]);
  expect(await fmt(['-f', 'dangling=false'])).not.toContain('<none>:<none>');
  // reference: names, tags and globs, familiar or full.
  expect(await fmt(['-f', 'reference=busybox'])).toEqual(['busybox:latest']);
  expect(await fmt(['-f', 'reference=docker.io/library/busybox:latest'])).toEqual(['busybox:latest']);
  expect(await fmt(['-f', 'reference=web/*'])).toEqual(['web/app:1.0']);
  expect(await fmt(['-f', 'reference=*/app:1.*'])).toEqual(['web/app:1.0']);
  // '*' never crosses a '/': web/app only matches through its tag-less name patterns above.
  expect((await fmt(['-f', 'reference=*a*'])).sort()).toEqual(['busybox:latest', 'chain:top', 'dang:x']);
  expect(await fmt(['-f', 'reference=c?ain:t[a-z]p'])).toEqual(['chain:top']);
  expect(await fmt(['chain'])).toEqual(['chain:top']);
  // label
  expect(await fmt(['-f', 'label=tier=web'])).toEqual(['web/app:1.0']);
  expect(await fmt(['-f', 'label=owner'])).toEqual(['web/app:1.0']);
  expect(await fmt(['-f', 'label=tier=db'])).toEqual([]);
  // before / since / until (creation time)
  expect(await fmt(['-f', 'before=web/app:1.0'])).toEqual(['busybox:latest']);
  expect((await fmt(['-f', `since=${web}`])).sort()).toEqual(['<none>:<none>', 'chain:top', 'dang:x'].sort());
  const webCreated = (await d.dockerOk(['image', 'inspect', '-f', '{{.Created}}', web])).trim();
  expect(await fmt(['-f', `until=${webCreated}`])).toEqual(['busybox:latest']);
  // bad filters are the client's error
  for (const [args, msg] of [
    [['-f', 'bogus=1'], "invalid filter 'bogus'"],
    [['-f', 'dangling=maybe'], "invalid filter 'dangling=maybe'"],
    [['-f', 'before=nosuch:1'], 'No such image: nosuch:1'],
    [['-f', 'until=not-a-time'], 'invalid value for \'until\' filter'],
    [['-f', 'reference=[x'], 'syntax error in pattern'],
  ] as const) {
    const r = await d.docker(['images', ...args]);
    expect(r.code, args.join(' ')).toBe(1);
    expect(r.stderr).toContain(msg);
  }
});

test('image inspect and history (with <missing> entries and a commit chain)', async ({ berthd }) => {
  // A loaded two-layer image without local parents: history shows <missing> below the top.
  const name = uniq('hist');
  const layers = [fs.readFileSync(busyboxTar), await layerTar({ 'etc/motd': 'hi\n' })];
  const archive = await dockerArchive([{ layers, tags: [`${name}:1`], createdBy: ['/bin/sh -c #(nop) ADD file:rootfs in /', '/bin/sh -c echo hi > /etc/motd'] }]);
  await berthd.dockerOk(['load'], { input: archive });
  const id = await idOf(berthd, `${name}:1`);
  const rows = lines(await berthd.dockerOk(['history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Size}}|{{.Comment}}', `${name}:1`]));
  expect(rows).toEqual([`${id}|/bin/sh -c echo hi > /etc/motd|3B|`, expect.stringMatching(/^<missing>\|\/bin\/sh -c #\(nop\) ADD file:rootfs in \/\|[0-9.]+MB\|$/)]);
  const table = lines(await berthd.dockerOk(['history', `${name}:1`]));
  expect(table[0]).toMatch(/^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/);
  expect(table[1]).toMatch(new RegExp(`^${short(id)}\\s+`));
  expect(table[2]).toMatch(/^<missing>\s+/);

  const inspect = JSON.parse(await berthd.dockerOk(['image', 'inspect', `${name}:1`]))[0];
  expect(inspect).toMatchObject({
    Id: id,
    RepoTags: [`${name}:1`],
    RepoDigests: [],
    Parent: '',
    Created: '2024-01-02T03:04:05Z',
    Os: 'linux',
    Config: { Cmd: ['sh'], Env: ['PATH=/bin'] },
    RootFS: { Type: 'layers', Layers: layers.map((l) => sha256(l)) },
  });
  expect(inspect.Size).toBeGreaterThan(1_000_000);
  expect(inspect.GraphDriver.Name).toBe('overlay2');
  expect(await berthd.dockerOk(['run', '--rm', `${name}:1`, 'cat', '/etc/motd'])).toBe('hi\n');

  // A commit's history names the local parent's entry with the parent's ID.
  const c = uniq('histc');
  await berthd.dockerOk(['run', '--name', c, `${name}:1`, 'sh', '-c', 'echo x > /x']);
  const child = (await berthd.dockerOk(['commit', '-m', 'my change', c, `${name}:2`])).trim();
  const rows2 = lines(await berthd.dockerOk(['history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}|{{.Comment}}', `${name}:2`]));
  expect(rows2).toEqual([`${child}|sh -c echo x > /x|my change`, `${id}|/bin/sh -c echo hi > /etc/motd|`, expect.stringMatching(/^<missing>\|/)]);
  expect((await berthd.dockerOk(['image', 'inspect', '-f', '{{.Parent}}', `${name}:2`])).trim()).toBe(id);
  const missing = await berthd.docker(['history', 'nosuch-image:9']);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('No such image: nosuch-image:9');
  await berthd.dockerOk(['rm', c]);
  await berthd.dockerOk(['rmi', `${name}:2`, `${name}:1`]);
});

test('tag: names, IDs, errors; tagging moves a tag between images', async ({ berthd }) => {
  const n = uniq('tag');
  const bb = await idOf(berthd, 'busybox');
  await berthd.dockerOk(['tag', 'busybox', `${n}/a:1`]);
  await berthd.dockerOk(['tag', short(bb), `localhost:5000/${n}:2`]);
  expect(JSON.parse(await berthd.dockerOk(['image', 'inspect', '-f', '{{json .RepoTags}}', bb]))).toEqual(expect.arrayContaining([`${n}/a:1`, `localhost:5000/${n}:2`, 'busybox:latest']));
  const bad = await berthd.docker(['tag', 'busybox', `${n}:bad tag`]);
  expect(bad.code).not.toBe(0);
  const none = await berthd.docker(['tag', 'nosuch-src:1', `${n}:x`]);
  expect(none.code).toBe(1);
  expect(none.stderr).toContain('No such image: nosuch-src:1');
  // Moving the tag to another image leaves the first untouched otherwise.
  await berthd.dockerOk(['import', '-', `${n}/a:1`], { input: await layerTar({ z: 'z' }) });
  expect(await idOf(berthd, `${n}/a:1`)).not.toBe(bb);
  await berthd.dockerOk(['rmi', `${n}/a:1`, `localhost:5000/${n}:2`]);
  expect(await idOf(berthd, 'busybox')).toBe(bb);
});

test('rmi: untag vs delete, conflicts with containers, -f, dependent children, dangling parents', async ({ berthd }) => {
  const n = uniq('rmi');
  await berthd.dockerOk(['import', '-', `${n}:a`], { input: fs.readFileSync(busyboxTar) });
  const id = await idOf(berthd, `${n}:a`);
  await berthd.dockerOk(['tag', `${n}:a`, `${n}:b`]);
  expect(lines(await berthd.dockerOk(['rmi', `${n}:a`]))).toEqual([`Untagged: ${n}:a`]);
  // A running container: untag needs -f, delete by ID is impossible even with -f.
  const run = uniq('rmi-run');
  await berthd.dockerOk(['run', '-d', '--name', run, `${n}:b`, 'sleep', '300']);
  const runId = (await berthd.dockerOk(['inspect', '-f', '{{.Id}}', run])).trim();
  let r = await berthd.docker(['rmi', `${n}:b`]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`conflict: unable to remove repository reference "${n}:b" (must force) - container ${runId.slice(0, 12)} is using its referenced image ${short(id)}`);
  r = await berthd.docker(['rmi', '-f', short(id)]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`conflict: unable to delete ${short(id)} (cannot be forced) - image is being used by running container ${runId.slice(0, 12)}`);
  await berthd.dockerOk(['rm', '-f', run]);
  // A stopped container: must force.
  const stopped = uniq('rmi-stopped');
  await berthd.dockerOk(['create', '--name', stopped, `${n}:b`, 'true']);
  const stoppedId = (await berthd.dockerOk(['inspect', '-f', '{{.Id}}', stopped])).trim();
  r = await berthd.docker(['rmi', short(id)]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`conflict: unable to delete ${short(id)} (must be forced) - image is being used by stopped container ${stoppedId.slice(0, 12)}`);
  await berthd.dockerOk(['rm', stopped]);
  const del = lines(await berthd.dockerOk(['rmi', `${n}:b`]));
  expect(del[0]).toBe(`Untagged: ${n}:b`);
  expect(del[1]).toBe(`Deleted: ${id}`);
  expect((await berthd.docker(['image', 'inspect', id])).code).toBe(1);

  // Commit chain: busybox ← mid (untagged) ← top. Deleting top prunes mid, not busybox.
  const c1 = uniq('rmi-c1');
  await berthd.dockerOk(['run', '--name', c1, 'busybox', 'sh', '-c', 'echo 1 > /one']);
  const mid = (await berthd.dockerOk(['commit', c1])).trim();
  const c2 = uniq('rmi-c2');
  await berthd.dockerOk(['run', '--name', c2, mid, 'sh', '-c', 'echo 2 > /two']);
  const top = (await berthd.dockerOk(['commit', c2, `${n}:top`])).trim();
  await berthd.dockerOk(['rm', c1, c2]);
  r = await berthd.docker(['rmi', mid]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`conflict: unable to delete ${short(mid)} (cannot be forced) - image has dependent child images`);
  const out = lines(await berthd.dockerOk(['rmi', `${n}:top`]));
  expect(out).toEqual(expect.arrayContaining([`Untagged: ${n}:top`, `Deleted: ${top}`, `Deleted: ${mid}`]));
  expect((await berthd.docker(['image', 'inspect', mid])).code).toBe(1);
  expect((await berthd.docker(['image', 'inspect', 'busybox'])).code).toBe(0);
  // --no-prune keeps the parent.
  const c3 = uniq('rmi-c3');
  await berthd.dockerOk(['run', '--name', c3, 'busybox', 'sh', '-c', 'echo 3 > /three']);
  const mid2 = (await berthd.dockerOk(['commit', c3])).trim();
  const c4 = uniq('rmi-c4');
  await berthd.dockerOk(['run', '--name', c4, mid2, 'true']);
  await berthd.dockerOk(['commit', c4, `${n}:top2`]);
  await berthd.dockerOk(['rm', c3, c4]);
  await berthd.dockerOk(['rmi', '--no-prune', `${n}:top2`]);
  expect((await berthd.docker(['image', 'inspect', mid2])).code).toBe(0);
  await berthd.dockerOk(['rmi', mid2]);
  r = await berthd.docker(['rmi', 'nosuch-rmi:1']);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain('No such image: nosuch-rmi:1');
});

test('image prune: dangling by default, -a, filters, space reclaimed, event', async ({ freshBerthd: d }) => {
  // Two dangling images (a tag that moved), one labelled, one in use by a container.
  await d.dockerOk(['import', '-', 'p:1'], { input: await layerTar({ a: 'a'.repeat(1000) }) });
  const dangling = await idOf(d, 'p:1');
  await d.dockerOk(['import', '-', 'p:1'], { input: await layerTar({ b: 'b' }) });
  await d.dockerOk(['import', '-c', 'LABEL keep=yes', '-', 'lab:1'], { input: await layerTar({ c: 'c' }) });
  await d.dockerOk(['import', '-c', 'LABEL keep=no', '-', 'lab:2'], { input: await layerTar({ d: 'd' }) });
  await d.dockerOk(['create', '--name', 'user', 'busybox', 'true']);
  const since = Math.floor(Date.now() / 1000) - 1;

  let out = await d.dockerOk(['image', 'prune', '-f']);
  expect(out).toContain('Deleted Images:');
  expect(out).toContain(`deleted: ${dangling}`);
  expect(out).toMatch(/Total reclaimed space: 1(\.\d+)?kB/);
  expect((await d.docker(['image', 'inspect', dangling])).code).toBe(1);
  // Nothing left to prune.
  expect((await d.dockerOk(['image', 'prune', '-f'])).trim()).toBe('Total reclaimed space: 0B');

  // -a with label!: removes unused images except those labelled keep=yes; busybox is in use.
  out = await d.dockerOk(['image', 'prune', '-a', '-f', '--filter', 'label!=keep=yes']);
  expect(out).toContain('untagged: p:1');
  expect(out).toContain('untagged: lab:2');
  expect(out).not.toContain('lab:1');
  expect(out).not.toContain('busybox');
  expect(lines(await d.dockerOk(['images', '--format', '{{.Repository}}:{{.Tag}}'])).sort()).toEqual(['busybox:latest', 'lab:1']);
  // label and until filters
  out = await d.dockerOk(['image', 'prune', '-a', '-f', '--filter', 'until=2000-01-01T00:00:00Z']);
  expect(out.trim()).toBe('Total reclaimed space: 0B');
  out = await d.dockerOk(['image', 'prune', '-a', '-f', '--filter', 'label=keep=yes']);
  expect(out).toContain('untagged: lab:1');
  const bad = await d.docker(['image', 'prune', '-f', '--filter', 'color=red']);
  expect(bad.code).toBe(1);
  expect(bad.stderr).toContain("invalid filter 'color'");
  // The API report and the prune event.
  const api = await rawRequest(d.socket, 'POST', '/images/prune?filters=' + encodeURIComponent('{"dangling":["false"]}'));
  expect(api.status).toBe(200);
  expect(JSON.parse(api.body.toString())).toEqual({ ImagesDeleted: [], SpaceReclaimed: 0 });
  const events = lines(await d.dockerOk(['events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'type=image', '--filter', 'event=prune', '--format', '{{.Action}} {{.Actor.Attributes.reclaimed}}']));
  expect(events.length).toBeGreaterThanOrEqual(4);
  expect(events[0]).toMatch(/^prune [1-9]\d*$/);
  await d.dockerOk(['rm', 'user']);
});

test('commit: changes, --change, author and message, pause, parent; committed images run', async ({ berthd }) => {
  const n = uniq('commit');
  const c = uniq('commit-c');
  await berthd.dockerOk(['run', '--name', c, '-e', 'FROMRUN=1', 'busybox', 'sh', '-c', 'mkdir -p /data/sub && echo payload > /data/sub/f && rm /bin/vi && ln /data/sub/f /data/hard && ln -s /data/sub/f /data/soft']);
  const id = (await berthd.dockerOk(['commit', '-a', 'Ann <ann@example.com>', '-m', 'add data', '-c', 'ENV MODE=prod', '-c', 'CMD ["cat","/data/sub/f"]', '-c', 'EXPOSE 8080', '-c', 'LABEL v=2', c, `${n}:1`])).trim();
  expect(id).toMatch(/^sha256:[a-f0-9]{64}$/);
  expect(await berthd.dockerOk(['run', '--rm', `${n}:1`])).toBe('payload\n');
  expect(await berthd.dockerOk(['run', '--rm', `${n}:1`, 'sh', '-c', 'test -e /bin/vi && echo vi; stat -c %h /data/hard; readlink /data/soft; echo $MODE $FROMRUN'])).toBe('2\n/data/sub/f\nprod 1\n');
  const inspect = JSON.parse(await berthd.dockerOk(['image', 'inspect', `${n}:1`]))[0];
  const bb = await idOf(berthd, 'busybox');
  expect(inspect).toMatchObject({ Id: id, Parent: bb, Author: 'Ann <ann@example.com>', Comment: 'add data', Config: { Env: ['FROMRUN=1', 'MODE=prod'], Cmd: ['cat', '/data/sub/f'], ExposedPorts: { '8080/tcp': {} }, Labels: { v: '2' } } });
  expect(inspect.RootFS.Layers).toHaveLength(2);
  // The new layer holds exactly the container's changes (whiteout included), none of the init layer's files.
  const saved = await berthd.client().getImage(`${n}:1`).get();
  const layerEntries = await entriesOfLayer(saved, inspect.RootFS.Layers[1]);
  expect(layerEntries).toEqual(['bin/', 'bin/.wh.vi', 'data/', 'data/hard', 'data/soft', 'data/sub/', 'data/sub/f']);
  const hist = lines(await berthd.dockerOk(['history', '--no-trunc', '--format', '{{.CreatedBy}}|{{.Comment}}', `${n}:1`]));
  expect(hist[0]).toBe('sh -c mkdir -p /data/sub && echo payload > /data/sub/f && rm /bin/vi && ln /data/sub/f /data/hard && ln -s /data/sub/f /data/soft|add data');

  // A running container is paused for the commit and keeps running; --pause=false does not pause.
  const r = uniq('commit-run');
  await berthd.dockerOk(['run', '-d', '--name', r, 'busybox', 'sh', '-c', 'echo live > /live; sleep 300']);
  await new Promise((res) => setTimeout(res, 50));
  const since = (Date.now() / 1000).toFixed(3);
  await berthd.dockerOk(['commit', r, `${n}:2`]);
  await berthd.dockerOk(['commit', '--pause=false', r, `${n}:3`]);
  expect((await berthd.dockerOk(['inspect', '-f', '{{.State.Status}}', r])).trim()).toBe('running');
  expect(await berthd.dockerOk(['run', '--rm', `${n}:3`, 'cat', '/live'])).toBe('live\n');
  const ev = lines(await berthd.dockerOk(['events', '--since', since, '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', `container=${r}`, '--format', '{{.Action}} {{index .Actor.Attributes "imageRef"}}']));
  expect(ev.map((l) => l.trim())).toEqual(['pause', 'unpause', `commit ${n}:2`, `commit ${n}:3`]);
  await berthd.dockerOk(['rm', '-f', r]);

  // No changes: an empty layer, same RootFS as the parent, history says so.
  const e = uniq('commit-empty');
  await berthd.dockerOk(['create', '--name', e, 'busybox', 'true']);
  await berthd.dockerOk(['commit', e, `${n}:empty`]);
  expect(JSON.parse(await berthd.dockerOk(['image', 'inspect', '-f', '{{json .RootFS.Layers}}', `${n}:empty`]))).toHaveLength(1);
  expect(lines(await berthd.dockerOk(['history', '--format', '{{.Size}}', `${n}:empty`]))[0]).toBe('0B');

  // API: 201 {"Id"}, a Config body overrides; errors.
  const res = await rawRequest(berthd.socket, 'POST', `/commit?container=${e}&repo=${n}&tag=api&comment=c1`, JSON.stringify({ Cmd: ['echo', 'api'], Labels: { via: 'api' } }), { 'Content-Type': 'application/json' });
  expect(res.status).toBe(201);
  const body = JSON.parse(res.body.toString());
  expect(Object.keys(body)).toEqual(['Id']);
  expect(await berthd.dockerOk(['run', '--rm', `${n}:api`])).toBe('api\n');
  const docker = berthd.client();
  const viaDockerode = await docker.getContainer(e).commit({ repo: n, tag: 'dockerode', changes: 'ENV X=1' });
  expect(viaDockerode.Id).toMatch(/^sha256:/);
  const digestRef = await rawRequest(berthd.socket, 'POST', `/commit?container=${e}&repo=${n}@sha256:${'a'.repeat(64)}`);
  expect(digestRef.status).toBe(400);
  expect(JSON.parse(digestRef.body.toString()).message).toBe('cannot import digest reference');
  for (const [args, msg] of [
    [['commit', 'nosuch-container'], 'No such container: nosuch-container'],
    [['commit', '-c', 'RUN echo', e], 'run is not a valid change command'],
    [['commit', e, 'Bad:Name'], 'invalid reference format'],
  ] as const) {
    const x = await berthd.docker([...args]);
    expect(x.code, args.join(' ')).toBe(1);
    expect(x.stderr).toContain(msg);
  }
  await berthd.dockerOk(['rm', c, e]);
  await berthd.dockerOk(['rmi', `${n}:1`, `${n}:2`, `${n}:3`, `${n}:empty`, `${n}:api`, `${n}:dockerode`]);
});
