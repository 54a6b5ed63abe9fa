/**
 * Volumes and mounts through the docker CLI and dockerode: named, implicit
 * and anonymous volumes, copy-up from the image, persistence across rm and
 * daemon restarts, bind mounts (read-only enforced), --mount with Docker's
 * validation errors, tmpfs, --volumes-from, the volume commands with their
 * filters and the in-use conflict, and rm -v.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, expect, uniq } from '../support/fixtures.js';
import { busyboxTar } from '../support/paths.js';
import { Berthd } from '../support/berthd.js';

test('data in a named volume survives container removal and a berthd restart', async ({ freshBerthd: berthd }) => {
  const vol = uniq('keep');
  await berthd.dockerOk(['volume', 'create', '--label', 'purpose=test', vol]);
  await berthd.dockerOk(['run', '--rm', '-v', `${vol}:/data`, 'busybox', 'sh', '-c', 'echo persisted > /data/file; mkdir /data/dir']);
  expect(await berthd.dockerOk(['run', '--rm', '-v', `${vol}:/data`, 'busybox', 'cat', '/data/file'])).toBe('persisted\n');
  // Implicit creation by -v name:/path, then a restart (and a crash) of the daemon.
  const implicit = uniq('implicit');
  await berthd.dockerOk(['run', '--rm', '-v', `${implicit}:/d`, 'busybox', 'sh', '-c', 'echo second > /d/f']);
  await berthd.restart();
  await berthd.kill9();
  await berthd.launch();
  expect(await berthd.dockerOk(['run', '--rm', '-v', `${vol}:/data`, 'busybox', 'cat', '/data/file'])).toBe('persisted\n');
  expect(await berthd.dockerOk(['run', '--rm', '-v', `${implicit}:/d:ro`, 'busybox', 'cat', '/d/f'])).toBe('second\n');
  const [info] = JSON.parse(await berthd.dockerOk(['volume', 'inspect', vol]));
  expect(info).toMatchObject({ Name: vol, Driver: 'local', Scope: 'local', Labels: { purpose: 'test' }, Mountpoint: path.join(berthd.dataRoot, 'volumes', vol, '_data') });
  expect(info.CreatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  expect(fs.readFileSync(path.join(info.Mountpoint, 'file'), 'utf8')).toBe('persisted\n');
  const ls = await berthd.dockerOk(['volume', 'ls', '--format', '{{.Driver}} {{.Name}}']);
  expect(ls.split('\n')).toEqual(expect.arrayContaining([`local ${vol}`, `local ${implicit}`]));
  await berthd.dockerOk(['volume', 'rm', vol, implicit]);
  expect(fs.existsSync(path.join(berthd.dataRoot, 'volumes', vol))).toBe(false);
});

test('bind mounts: read-only is enforced, rw writes through, a missing -v source is created', async ({ berthd }) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bind-'));
  try {
    fs.writeFileSync(path.join(dir, 'host.txt'), 'from host\n');
    const ro = await berthd.docker(['run', '--rm', '-v', `${dir}:/h:ro`, 'busybox', 'sh', '-c', 'cat /h/host.txt; echo x > /h/new']);
    expect(ro.stdout).toBe('from host\n');
    expect(ro.stderr).toContain('Read-only file system');
    expect(ro.code).not.toBe(0);
    expect(fs.existsSync(path.join(dir, 'new'))).toBe(false);
    const roMount = await berthd.docker(['run', '--rm', '--mount', `type=bind,source=${dir},target=/h,readonly`, 'busybox', 'touch', '/h/new2']);
    expect(roMount.code).not.toBe(0);
    expect(fs.existsSync(path.join(dir, 'new2'))).toBe(false);
    await berthd.dockerOk(['run', '--rm', '-v', `${dir}:/h:rw,z`, 'busybox', 'sh', '-c', 'echo written > /h/rw.txt']);
    expect(fs.readFileSync(path.join(dir, 'rw.txt'), 'utf8')).toBe('written\n');
    const missing = path.join(dir, 'made', 'by', 'docker');
    await berthd.dockerOk(['run', '--rm', '-v', `${missing}:/m`, 'busybox', 'true']);
    expect(fs.statSync(missing).isDirectory()).toBe(true);
    const name = uniq('bindinspect');
    await berthd.dockerOk(['create', '--name', name, '-v', `${dir}:/h:ro`, '--mount', `type=bind,src=${dir},dst=/h2`, 'busybox']);
    const mounts = JSON.parse(await berthd.dockerOk(['inspect', '-f', '{{json .Mounts}}', name]));
    expect(mounts).toEqual([
      { Type: 'bind', Source: dir, Destination: '/h', Mode: 'ro', RW: false, Propagation: 'rprivate' },
      { Type: 'bind', Source: dir, Destination: '/h2', Mode: '', RW: true, Propagation: 'rprivate' },
    ]);
    await berthd.dockerOk(['rm', name]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('mount specifications are validated with Docker messages', async ({ berthd }) => {
  const cases: Array<[string[], string]> = [
    [['--mount', 'type=bind,source=/definitely/not/here,target=/x'], 'invalid mount config for type "bind": bind source path does not exist: /definitely/not/here'],
    [['-v', '/tmp:relative'], "invalid mount config for type \"bind\": invalid mount path: 'relative' mount path must be absolute"],
    [['-v', 'vol:/data:bogus'], 'invalid mode: bogus'],
    [['-v', '/tmp:/'], "invalid specification: destination can't be '/'"],
    [['-v', 'aa:/x', '-v', 'bb:/x'], 'Duplicate mount point: /x'],
    [['-v', 'bad$name:/data'], '"bad$name" includes invalid characters for a local volume name'],
  ];
  for (const [args, message] of cases) {
    const r = await berthd.docker(['create', ...args, 'busybox']);
    expect(r.code, args.join(' ')).not.toBe(0);
    expect(r.stderr, args.join(' ')).toContain(message);
  }
  // Through the API directly (the CLI validates some shapes itself).
  const docker = berthd.client();
  await expect(docker.createContainer({ Image: 'busybox', HostConfig: { Mounts: [{ Type: 'tmpfs', Source: '/x', Target: '/t' }] } })).rejects.toMatchObject({
    statusCode: 400,
    json: { message: 'invalid mount config for type "tmpfs": field Source must not be specified' },
  });
  await expect(docker.createContainer({ Image: 'busybox', HostConfig: { Mounts: [{ Type: 'bind', Source: '/tmp', Target: '/t', VolumeOptions: {} }] as never } })).rejects.toMatchObject({
    statusCode: 400,
    json: { message: 'invalid mount config for type "bind": field VolumeOptions must not be specified' },
  });
  await expect(docker.createContainer({ Image: 'busybox', HostConfig: { Mounts: [{ Type: 'nfs', Target: '/t' }] as never } })).rejects.toMatchObject({ statusCode: 400 });
  // (The CLI reads "x:/data" as a Windows drive path, so this one goes through the API.)
  await expect(docker.createContainer({ Image: 'busybox', HostConfig: { Binds: ['x:/data'] } })).rejects.toMatchObject({
    statusCode: 400,
    json: { message: 'volume name is too short, names should be at least two alphanumeric characters' },
  });
});

test('anonymous volumes from -v /path and image VOLUME, with copy-up; rm -v removes them', async ({ berthd }) => {
  const image = uniq('withvol').toLowerCase();
  await berthd.dockerOk(['import', '-c', 'VOLUME /etc', '-c', 'CMD ["sh"]', busyboxTar, image]);
  const name = uniq('anon');
  try {
    await berthd.dockerOk(['create', '--name', name, '-v', '/scratch', image, 'sh', '-c', 'cat /etc/passwd | head -1; echo s > /scratch/s']);
    const mounts = JSON.parse(await berthd.dockerOk(['inspect', '-f', '{{json .Mounts}}', name])) as Array<{ Type: string; Name: string; Destination: string; Driver: string; RW: boolean }>;
    expect(mounts.map((m) => m.Destination).sort()).toEqual(['/etc', '/scratch']);
    for (const m of mounts) {
      expect(m).toMatchObject({ Type: 'volume', Driver: 'local', RW: true });
      expect(m.Name).toMatch(/^[a-f0-9]{64}$/);
    }
    // The image's /etc was copied into the new empty volume.
    expect(await berthd.dockerOk(['start', '-a', name])).toBe('root:x:0:0:root:/root:/bin/sh\n');
    const etcVol = mounts.find((m) => m.Destination === '/etc')!.Name;
    const [v] = JSON.parse(await berthd.dockerOk(['volume', 'inspect', etcVol]));
    expect(fs.readFileSync(path.join(v.Mountpoint, 'passwd'), 'utf8')).toContain('root:x:0:0');
    expect(v.Labels).toEqual({ 'com.docker.volume.anonymous': '' });
    // In use by a (stopped) container: 409 with Docker's message.
    const inUse = await berthd.docker(['volume', 'rm', etcVol]);
    expect(inUse.stderr).toContain(`remove ${etcVol}: volume is in use - [`);
    await expect(berthd.client().getVolume(etcVol).remove()).rejects.toMatchObject({ statusCode: 409 });
    await berthd.dockerOk(['rm', '-v', name]);
    for (const m of mounts) expect((await berthd.docker(['volume', 'inspect', m.Name])).code).not.toBe(0);
    // Without -v anonymous volumes stay; --rm removes them.
    const keep = uniq('keepanon');
    await berthd.dockerOk(['run', '--name', keep, '-v', '/x', 'busybox', 'true']);
    const kept = (await berthd.dockerOk(['inspect', '-f', '{{(index .Mounts 0).Name}}', keep])).trim();
    await berthd.dockerOk(['rm', keep]);
    expect((await berthd.docker(['volume', 'inspect', kept])).code).toBe(0);
    await berthd.dockerOk(['volume', 'rm', kept]);
    const out = await berthd.dockerOk(['run', '--rm', '-v', '/y', 'busybox', 'sh', '-c', 'grep " /y " /proc/mounts | cut -d" " -f2']);
    expect(out).toBe('/y\n');
    expect((await berthd.dockerOk(['volume', 'ls', '-q', '--filter', 'dangling=true'])).split('\n')).not.toContain(kept);
  } finally {
    await berthd.docker(['rm', '-f', '-v', name]);
    await berthd.docker(['rmi', image]);
  }
});

test('volume commands: create with options, ls filters, prune, tmpfs and bind-backed local volumes', async ({ berthd }) => {
  const [a, b, tv, bv] = [uniq('va'), uniq('vb'), uniq('tmpfsvol'), uniq('bindvol')];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bindvol-'));
  try {
    await berthd.dockerOk(['volume', 'create', '--label', 'tier=a', a]);
    await berthd.dockerOk(['volume', 'create', '--label', 'tier=b', b]);
    expect((await berthd.dockerOk(['volume', 'ls', '-q', '--filter', 'label=tier=a'])).trim()).toBe(a);
    expect((await berthd.dockerOk(['volume', 'ls', '-q', '--filter', `name=${b}`])).trim()).toBe(b);
    // Creating an existing name returns it unchanged.
    expect((await berthd.dockerOk(['volume', 'create', a])).trim()).toBe(a);
    // tmpfs-backed volume (mounted while used).
    await berthd.dockerOk(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=8m', tv]);
    expect(await berthd.dockerOk(['run', '--rm', '-v', `${tv}:/t`, 'busybox', 'sh', '-c', 'grep " /t " /proc/mounts | cut -d" " -f1,3'])).toBe('tmpfs tmpfs\n');
    const [tinfo] = JSON.parse(await berthd.dockerOk(['volume', 'inspect', tv]));
    expect(tinfo.Options).toEqual({ type: 'tmpfs', device: 'tmpfs', o: 'size=8m' });
    // bind-backed volume: data lands in the host directory.
    await berthd.dockerOk(['volume', 'create', '-o', 'type=none', '-o', `device=${dir}`, '-o', 'o=bind', bv]);
    await berthd.dockerOk(['run', '--rm', '-v', `${bv}:/b`, 'busybox', 'sh', '-c', 'echo via-volume > /b/f']);
    expect(fs.readFileSync(path.join(dir, 'f'), 'utf8')).toBe('via-volume\n');
    // The mount is released when no container uses it.
    expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(path.join(berthd.dataRoot, 'volumes', bv));
    const bad = await berthd.docker(['volume', 'create', '-o', 'bogus=1', uniq('badopt')]);
    expect(bad.stderr).toContain('invalid option: "bogus"');
    const missingDevice = await berthd.docker(['volume', 'create', '-o', 'type=tmpfs', uniq('nodev')]);
    expect(missingDevice.stderr).toContain('missing required option: "device"');
    expect((await berthd.docker(['volume', 'inspect', 'nosuch-volume'])).stderr).toContain('no such volume');
    // prune: anonymous unused volumes by default, named ones with --all.
    const pruned = await berthd.dockerOk(['volume', 'prune', '-f', '--filter', 'label=tier=b']);
    expect(pruned).not.toContain(b);
    const prunedAll = await berthd.dockerOk(['volume', 'prune', '-f', '--all', '--filter', 'label=tier=b']);
    expect(prunedAll).toContain(b);
    expect((await berthd.docker(['volume', 'inspect', b])).code).not.toBe(0);
    expect((await berthd.docker(['volume', 'inspect', a])).code).toBe(0);
  } finally {
    await berthd.docker(['volume', 'rm', '-f', a, b, tv, bv]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--volumes-from shares mounts (read-only with :ro); --mount type=volume and tmpfs', async ({ berthd }) => {
  const [src, vol] = [uniq('datasrc'), uniq('shared')];
  try {
    await berthd.dockerOk(['run', '--name', src, '--mount', `type=volume,source=${vol},target=/shared,volume-label=k=v`, '-v', '/anon', 'busybox', 'sh', '-c', 'echo s > /shared/f; echo a > /anon/g']);
    expect(JSON.parse(await berthd.dockerOk(['volume', 'inspect', '-f', '{{json .Labels}}', vol]))).toEqual({ k: 'v' });
    expect(await berthd.dockerOk(['run', '--rm', '--volumes-from', src, 'busybox', 'cat', '/shared/f', '/anon/g'])).toBe('s\na\n');
    const ro = await berthd.docker(['run', '--rm', '--volumes-from', `${src}:ro`, 'busybox', 'sh', '-c', 'cat /shared/f; touch /shared/x']);
    expect(ro.stdout).toBe('s\n');
    expect(ro.stderr).toContain('Read-only file system');
    const tmp = await berthd.dockerOk(['run', '--rm', '--mount', 'type=tmpfs,target=/fast,tmpfs-size=4194304,tmpfs-mode=1770', 'busybox', 'sh', '-c', 'grep " /fast " /proc/mounts; stat -c %a /fast']);
    expect(tmp).toMatch(/^tmpfs \/fast tmpfs rw,nosuid,nodev,noexec,relatime,size=4096k,mode=1770/);
    expect(tmp.trim().split('\n')[1]).toBe('1770');
    const mounts = JSON.parse(await berthd.dockerOk(['inspect', '-f', '{{json .Mounts}}', src]));
    expect(mounts).toContainEqual({ Type: 'volume', Name: vol, Source: path.join(berthd.dataRoot, 'volumes', vol, '_data'), Destination: '/shared', Driver: 'local', Mode: 'z', RW: true, Propagation: '' });
    const ps = JSON.parse(await berthd.dockerOk(['ps', '-a', '--filter', `name=${src}`, '--format', '{{json .Mounts}}']));
    // The CLI shows volume names cut to 15 characters.
    expect(ps).toContain(vol.slice(0, 14));
    expect((await berthd.dockerOk(['ps', '-a', '-q', '--filter', `volume=${vol}`])).trim()).not.toBe('');
  } finally {
    await berthd.docker(['rm', '-f', '-v', src]);
    await berthd.docker(['volume', 'rm', vol]);
  }
});

test("with shared-host-paths (Berth's VM), a bind from outside them is denied before anything else is checked", async () => {
  const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-shared-'));
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-outside-'));
  const d = await Berthd.start({ config: { 'shared-host-paths': [shared] } });
  try {
    fs.writeFileSync(path.join(shared, 'f'), 'in\n');
    expect(await d.dockerOk(['run', '--rm', '-v', `${shared}:/s:ro`, 'busybox', 'cat', '/s/f'])).toBe('in\n');
    const denied = `Mounts denied: The path ${outside} is not shared from the host and is not known to Berth. You can configure shared paths in Berth's settings: vm.sharedFolders`;
    const bind = await d.docker(['run', '--rm', '-v', `${outside}:/x`, 'busybox', 'true']);
    expect(bind.code).toBe(125);
    expect(bind.stderr).toContain(denied);
    // As dockerd's verifyContainerSettings: the mount is refused before the image's command (none
    // here: an import) is looked at.
    const nocmd = uniq('nocmd');
    await d.dockerOk(['import', busyboxTar, nocmd]);
    const mount = await d.docker(['create', '--mount', `type=bind,source=${outside},target=/x`, nocmd]);
    expect(mount.code).toBe(1);
    expect(mount.stderr).toContain(denied);
    expect((await d.docker(['create', nocmd])).stderr).toContain('no command specified');
    expect(fs.readdirSync(outside)).toEqual([]);
  } finally {
    await d.destroy();
    fs.rmSync(shared, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  }
});
