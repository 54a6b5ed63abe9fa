/**
 * docker cp through the archive API: files and directories both ways,
 * running and stopped containers, -a ownership, the path-stat header, and
 * the container root as a hard boundary whatever links the container holds
 * (a parent that links to "/" writes inside; `..` in an uploaded tar is a
 * 400; reading through a link to "/" reads the container's files).
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import tar from 'tar-stream';
import { test, expect, uniq } from '../support/fixtures.js';
import type { Berthd } from '../support/berthd.js';
import { rawRequest, tarBuffer, type RawResponse } from './image-archive-kit.js';

function tmpdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'cp-'));
}

/** A raw request to berthd; a body is sent as a tar. */
function request(berthd: Berthd, method: string, p: string, body?: Buffer): Promise<RawResponse> {
  return rawRequest(berthd.socket, method, p, body, body ? { 'Content-Type': 'application/x-tar', 'Content-Length': String(body.length) } : {});
}

function tarOf(entries: Array<{ name: string; type?: 'file' | 'directory' | 'symlink' | 'link'; content?: string; linkname?: string }>): Promise<Buffer> {
  return tarBuffer(
    entries.map((e) => {
      const type = e.type ?? 'file';
      return { header: { name: e.name, type, ...(e.linkname ? { linkname: e.linkname } : {}) }, ...(type === 'file' ? { body: e.content ?? '' } : {}) };
    }),
  );
}

test('copies files and directories in and out of running and stopped containers', async ({ berthd }) => {
  const name = uniq('cp');
  const dir = tmpdir();
  try {
    await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '300']);
    await berthd.dockerOk(['exec', name, 'sh', '-c', 'mkdir -p /data/sub && echo one > /data/a && echo two > /data/sub/b && ln -s a /data/link && chmod 640 /data/a']);
    // Out: a directory, recursively, with modes and links.
    await berthd.dockerOk(['cp', `${name}:/data`, dir]);
    expect(fs.readFileSync(path.join(dir, 'data', 'a'), 'utf8')).toBe('one\n');
    expect(fs.readFileSync(path.join(dir, 'data', 'sub', 'b'), 'utf8')).toBe('two\n');
    expect(fs.readlinkSync(path.join(dir, 'data', 'link'))).toBe('a');
    expect(fs.statSync(path.join(dir, 'data', 'a')).mode & 0o777).toBe(0o640);
    // Out: a single file to a new name, and to stdout as a tar.
    await berthd.dockerOk(['cp', `${name}:/data/sub/b`, path.join(dir, 'renamed')]);
    expect(fs.readFileSync(path.join(dir, 'renamed'), 'utf8')).toBe('two\n');
    // In: a file into a directory, a directory to a new path.
    fs.writeFileSync(path.join(dir, 'in.txt'), 'incoming\n');
    fs.mkdirSync(path.join(dir, 'tree', 'deep'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'tree', 'deep', 'f'), 'deep\n');
    await berthd.dockerOk(['cp', path.join(dir, 'in.txt'), `${name}:/data/`]);
    await berthd.dockerOk(['cp', path.join(dir, 'tree'), `${name}:/newtree`]);
    expect(await berthd.dockerOk(['exec', name, 'cat', '/data/in.txt', '/newtree/deep/f'])).toBe('incoming\ndeep\n');
    // Stopped container: both directions still work, and the container sees the result when it starts.
    await berthd.dockerOk(['stop', '-t', '0', name]);
    fs.writeFileSync(path.join(dir, 'while-stopped'), 'later\n');
    await berthd.dockerOk(['cp', path.join(dir, 'while-stopped'), `${name}:/data/`]);
    await berthd.dockerOk(['cp', `${name}:/data/a`, path.join(dir, 'a-from-stopped')]);
    expect(fs.readFileSync(path.join(dir, 'a-from-stopped'), 'utf8')).toBe('one\n');
    await berthd.dockerOk(['start', name]);
    expect(await berthd.dockerOk(['exec', name, 'cat', '/data/while-stopped'])).toBe('later\n');
    // Errors.
    const missing = await berthd.docker(['cp', `${name}:/nope`, dir]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain(`Could not find the file /nope in container ${name}`);
    const notDir = await request(berthd, 'PUT', `/containers/${name}/archive?path=/data/a`, await tarOf([{ name: 'x', content: 'x' }]));
    expect(notDir.status).toBe(400);
    expect(JSON.parse(notDir.body.toString()).message).toBe('extraction point is not a directory');
  } finally {
    await berthd.docker(['rm', '-f', name]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the path-stat header and HEAD; cp -a gives files to the container user', async ({ berthd }) => {
  const name = uniq('cpstat');
  const dir = tmpdir();
  try {
    await berthd.dockerOk(['run', '-d', '--name', name, '-u', '1000:1000', 'busybox', 'sleep', '300']);
    await berthd.dockerOk(['exec', name, 'sh', '-c', 'mkdir -p /tmp/d && echo 12345 > /tmp/d/f && ln -s /tmp/d /tmp/l']);
    const head = await request(berthd, 'HEAD', `/containers/${name}/archive?path=/tmp/d/f`);
    expect(head.status).toBe(200);
    const stat = JSON.parse(Buffer.from(String(head.headers['x-docker-container-path-stat']), 'base64').toString());
    expect(stat).toMatchObject({ name: 'f', size: 6, mode: 0o644, linkTarget: '' });
    expect(stat.mtime).toMatch(/^\d{4}-\d\d-\d\dT/);
    const dstat = JSON.parse(Buffer.from(String((await request(berthd, 'HEAD', `/containers/${name}/archive?path=/tmp/d`)).headers['x-docker-container-path-stat']), 'base64').toString());
    expect(dstat.mode).toBe(2 ** 31 + 0o755);
    const lstat = JSON.parse(Buffer.from(String((await request(berthd, 'HEAD', `/containers/${name}/archive?path=/tmp/l`)).headers['x-docker-container-path-stat']), 'base64').toString());
    expect(lstat).toMatchObject({ name: 'l', mode: 2 ** 27 + 0o777, linkTarget: '/tmp/d' });
    expect((await request(berthd, 'HEAD', `/containers/${name}/archive?path=/nope`)).status).toBe(404);
    // -L follows the link; without it the link itself is copied.
    await berthd.dockerOk(['cp', `${name}:/tmp/l`, path.join(dir, 'asis')]);
    expect(fs.lstatSync(path.join(dir, 'asis')).isSymbolicLink()).toBe(true);
    await berthd.dockerOk(['cp', '-L', `${name}:/tmp/l`, path.join(dir, 'followed')]);
    expect(fs.readFileSync(path.join(dir, 'followed', 'f'), 'utf8')).toBe('12345\n');
    // Ownership: from the archive by default (root here), the container's user with -a.
    fs.writeFileSync(path.join(dir, 'owned'), 'x');
    await berthd.dockerOk(['cp', path.join(dir, 'owned'), `${name}:/tmp/plain`]);
    await berthd.dockerOk(['cp', '-a', path.join(dir, 'owned'), `${name}:/tmp/archived`]);
    expect(await berthd.dockerOk(['exec', name, 'stat', '-c', '%u:%g', '/tmp/plain', '/tmp/archived'])).toBe('0:0\n1000:1000\n');
  } finally {
    await berthd.docker(['rm', '-f', name]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('cp never leaves the container root, whatever links it holds', async ({ berthd }) => {
  const name = uniq('cpjail');
  const dir = tmpdir();
  const marker = `berth-cp-escape-${process.pid}-${Date.now()}`;
  try {
    await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '300']);
    await berthd.dockerOk(['exec', name, 'sh', '-c', `mkdir -p /w && ln -s / /w/root && ln -s ../../../../../../ /w/up && ln -s /etc/hostname /w/hn && echo inside > /${marker}.secret`]);
    fs.writeFileSync(path.join(dir, `${marker}`), 'payload\n');
    // Into a path whose parent links to "/": lands in the container's root, not the host's.
    await berthd.dockerOk(['cp', path.join(dir, marker), `${name}:/w/root/tmp/`]);
    await berthd.dockerOk(['cp', path.join(dir, marker), `${name}:/w/up/`]);
    expect(fs.existsSync(`/tmp/${marker}`)).toBe(false);
    expect(fs.existsSync(`/${marker}`)).toBe(false);
    expect(await berthd.dockerOk(['exec', name, 'cat', `/tmp/${marker}`, `/${marker}`])).toBe('payload\npayload\n');
    // Reading through such links reads the container's files.
    const ctrHostname = await berthd.dockerOk(['exec', name, 'cat', '/etc/hostname']);
    await berthd.dockerOk(['cp', '-L', `${name}:/w/hn`, path.join(dir, 'hn')]);
    expect(fs.readFileSync(path.join(dir, 'hn'), 'utf8')).toBe(ctrHostname);
    await berthd.dockerOk(['cp', `${name}:/w/root/${marker}.secret`, path.join(dir, 'secret')]);
    expect(fs.readFileSync(path.join(dir, 'secret'), 'utf8')).toBe('inside\n');
    await berthd.dockerOk(['cp', `${name}:/w/up/etc/passwd`, path.join(dir, 'passwd')]);
    expect(fs.readFileSync(path.join(dir, 'passwd'), 'utf8')).toBe(await berthd.dockerOk(['exec', name, 'cat', '/etc/passwd']));
    // A tar with ".." entries, or a hard link out of the destination, is refused with 400.
    for (const entries of [
      [{ name: `../../../../tmp/${marker}-dotdot`, content: 'evil' }],
      [{ name: `a/../../${marker}-dotdot`, content: 'evil' }],
      [{ name: `${marker}-hl`, type: 'link' as const, linkname: '../../etc/passwd' }],
    ]) {
      const r = await request(berthd, 'PUT', `/containers/${name}/archive?path=/w`, await tarOf(entries));
      expect(r.status, entries[0]!.name).toBe(400);
      expect(JSON.parse(r.body.toString()).message).toMatch(/escapes the destination|invalid archive entry/);
    }
    expect(fs.existsSync(`/tmp/${marker}-dotdot`)).toBe(false);
    // A tar that plants a link to "/" and then writes through it stays inside too.
    const r = await request(berthd, 'PUT', `/containers/${name}/archive?path=/w`, await tarOf([
      { name: 'evil', type: 'symlink', linkname: '/' },
      { name: `evil/tmp/${marker}-through-link`, content: 'through\n' },
    ]));
    expect(r.status).toBe(200);
    expect(fs.existsSync(`/tmp/${marker}-through-link`)).toBe(false);
    expect(await berthd.dockerOk(['exec', name, 'cat', `/tmp/${marker}-through-link`])).toBe('through\n');
    // The same on a stopped container (its rootfs is mounted on the host for the copy).
    await berthd.dockerOk(['stop', '-t', '0', name]);
    await berthd.dockerOk(['cp', path.join(dir, marker), `${name}:/w/root/var/`]);
    expect(fs.existsSync(`/var/${marker}`)).toBe(false);
    await berthd.dockerOk(['start', name]);
    expect(await berthd.dockerOk(['exec', name, 'cat', `/var/${marker}`])).toBe('payload\n');
  } finally {
    await berthd.docker(['rm', '-f', name]);
    fs.rmSync(dir, { recursive: true, force: true });
    for (const p of [`/tmp/${marker}`, `/${marker}`, `/var/${marker}`, `/tmp/${marker}-dotdot`, `/tmp/${marker}-through-link`]) fs.rmSync(p, { force: true });
  }
});

test('cp into volumes and read-only places', async ({ berthd }) => {
  const name = uniq('cpvol');
  const vol = uniq('cpvolume');
  const dir = tmpdir();
  try {
    await berthd.dockerOk(['create', '--name', name, '-v', `${vol}:/vol`, '-v', `${dir}:/ro:ro`, '--read-only', 'busybox', 'sleep', '300']);
    fs.writeFileSync(path.join(dir, 'f'), 'data\n');
    // Stopped: the volume is written, not the directory under it in the rootfs.
    await berthd.dockerOk(['cp', path.join(dir, 'f'), `${name}:/vol/`]);
    const [v] = JSON.parse(await berthd.dockerOk(['volume', 'inspect', vol]));
    expect(fs.readFileSync(path.join(v.Mountpoint, 'f'), 'utf8')).toBe('data\n');
    const ro = await berthd.docker(['cp', path.join(dir, 'f'), `${name}:/ro/`]);
    expect(ro.stderr).toContain('mounted volume is marked read-only');
    const rootRo = await berthd.docker(['cp', path.join(dir, 'f'), `${name}:/tmp/`]);
    expect(rootRo.stderr).toContain('container rootfs is marked read-only');
    await berthd.dockerOk(['start', name]);
    expect(await berthd.dockerOk(['exec', name, 'cat', '/vol/f'])).toBe('data\n');
    await berthd.dockerOk(['cp', `${name}:/ro/f`, path.join(dir, 'back')]);
    expect(fs.readFileSync(path.join(dir, 'back'), 'utf8')).toBe('data\n');
  } finally {
    await berthd.docker(['rm', '-f', '-v', name]);
    await berthd.docker(['volume', 'rm', vol]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the root of a running container archives without the kernel filesystems it has mounted (proc, sys, devpts are empty folders)', async ({ berthd }) => {
  const name = uniq('cproot');
  try {
    await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '300']);
    const res = await request(berthd, 'GET', `/containers/${name}/archive?path=/`);
    expect(res.status).toBe(200);
    const names: string[] = [];
    const extract = tar.extract();
    extract.on('entry', (h, body, next) => {
      names.push(h.name);
      body.on('end', next);
      body.resume();
    });
    await new Promise<void>((resolve, reject) => {
      extract.on('finish', resolve);
      extract.on('error', reject);
      extract.end(res.body);
    });
    expect(names).toContain('./bin/busybox');
    expect(names).toContain('./etc/passwd');
    for (const d of ['./proc/', './sys/', './dev/pts/']) expect(names).toContain(d);
    expect(names.filter((n) => n.startsWith('./proc/') || n.startsWith('./sys/') || n.startsWith('./dev/pts/')).sort()).toEqual(['./dev/pts/', './proc/', './sys/']);
    // The daemon is still serving after the whole tree went out.
    expect((await berthd.dockerOk(['inspect', '-f', '{{.State.Running}}', name])).trim()).toBe('true');
  } finally {
    await berthd.docker(['rm', '-f', name]);
  }
});

test('a client that goes away in the middle of an archive or a save ends the work cleanly', async ({ berthd }) => {
  const name = uniq('cpgone');
  try {
    await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '300']);
    const before = berthd.log.length;
    for (const p of [`/containers/${name}/archive?path=/bin`, '/images/get?names=busybox']) {
      await new Promise<void>((resolve, reject) => {
        const req = http.request({ socketPath: berthd.socket, method: 'GET', path: p }, (res) => {
          expect(res.statusCode).toBe(200);
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', (e) => (req.destroyed ? resolve() : reject(e)));
        req.end();
      });
    }
    await expect.poll(() => berthd.log.slice(before)).toMatch(/docker save failed after the archive began|handler failed/);
    expect(berthd.log.slice(before)).not.toContain('uncaught');
    expect((await berthd.dockerOk(['exec', name, 'echo', 'still-serving'])).trim()).toBe('still-serving');
  } finally {
    await berthd.docker(['rm', '-f', name]);
  }
});
