import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { PassThrough, Readable } from 'node:stream';
import tar from 'tar-stream';
import { afterAll, describe, expect, it } from 'vitest';
import { writeDiffTar } from './diff-tar.js';
import { extractLayer } from './extract.js';
import { excludedFromCommit } from './commit.js';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-difftar-'));
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

async function diffTar(upper: string, exclude?: (rel: string) => boolean): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  await writeDiffTar(upper, out, exclude ? { exclude } : {});
  return Buffer.concat(chunks);
}

async function entries(buf: Buffer): Promise<tar.Header[]> {
  const ex = tar.extract();
  const out: tar.Header[] = [];
  Readable.from([buf]).pipe(ex);
  for await (const e of ex) {
    out.push(e.header);
    e.resume();
  }
  return out;
}

/** An overlay upper dir as the kernel leaves it after changes in a container. */
function makeUpper(): string {
  const upper = fs.mkdtempSync(path.join(base, 'upper-'));
  fs.mkdirSync(path.join(upper, 'etc'));
  fs.writeFileSync(path.join(upper, 'etc', 'app.conf'), 'x=1\n', { mode: 0o640 });
  fs.chownSync(path.join(upper, 'etc', 'app.conf'), 1000, 1001);
  fs.linkSync(path.join(upper, 'etc', 'app.conf'), path.join(upper, 'etc', 'hardlink'));
  fs.symlinkSync('app.conf', path.join(upper, 'etc', 'sym'));
  execFileSync('mknod', ['-m', '0000', path.join(upper, 'etc', 'removed'), 'c', '0', '0']);
  fs.mkdirSync(path.join(upper, 'var', 'cache'), { recursive: true });
  fs.writeFileSync(path.join(upper, 'var', 'cache', 'new'), 'n');
  execFileSync('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', path.join(upper, 'var', 'cache')]);
  execFileSync('setfattr', ['-n', 'trusted.overlay.origin', '-v', '0x00', path.join(upper, 'etc', 'app.conf')]);
  fs.writeFileSync(path.join(upper, 'ping'), 'bin');
  // cap_net_raw+ep (v2 capability xattr)
  execFileSync('setfattr', ['-n', 'security.capability', '-v', '0x0100000200200000000000000000000000000000', path.join(upper, 'ping')]);
  execFileSync('mkfifo', [path.join(upper, 'fifo')]);
  fs.writeFileSync(path.join(upper, 'x'.repeat(120)), 'long');
  // Init-layer paths a container writes to but a commit must leave out.
  fs.writeFileSync(path.join(upper, '.dockerenv'), '');
  fs.writeFileSync(path.join(upper, 'etc', 'hostname'), 'abc\n');
  fs.mkdirSync(path.join(upper, 'proc'));
  fs.mkdirSync(path.join(upper, 'dev', 'pts'), { recursive: true });
  return upper;
}

describe('writeDiffTar (commit: overlay upper dir → layer tar)', () => {
  it('converts whiteouts and opaque dirs back to the layer format and drops overlay xattrs', async () => {
    const upper = makeUpper();
    const hs = await entries(await diffTar(upper, excludedFromCommit));
    const byName = new Map(hs.map((h) => [h.name, h]));
    expect(hs.map((h) => h.name)).toEqual([
      'etc/',
      'etc/app.conf',
      'etc/hardlink',
      'etc/.wh.removed',
      'etc/sym',
      'fifo',
      'ping',
      'var/',
      'var/cache/',
      'var/cache/.wh..wh..opq',
      'var/cache/new',
      'x'.repeat(120),
    ]);
    expect(byName.get('etc/app.conf')).toMatchObject({ type: 'file', size: 4, uid: 1000, gid: 1001, mode: 0o640 });
    expect(byName.get('etc/hardlink')).toMatchObject({ type: 'link', linkname: 'etc/app.conf' });
    expect(byName.get('etc/.wh.removed')).toMatchObject({ type: 'file', size: 0 });
    expect(byName.get('etc/sym')).toMatchObject({ type: 'symlink', linkname: 'app.conf' });
    expect(byName.get('fifo')).toMatchObject({ type: 'fifo' });
    const pax = (byName.get('etc/app.conf')!.pax ?? {}) as Record<string, string>;
    expect(Object.keys(pax).filter((k) => k.includes('trusted.overlay'))).toEqual([]);
  });

  it('round-trips through extractLayer to the same overlay state', async () => {
    const upper = makeUpper();
    const dest = fs.mkdtempSync(path.join(base, 'layer-'));
    await extractLayer(Readable.from([await diffTar(upper, excludedFromCommit)]), dest);
    expect(fs.readFileSync(path.join(dest, 'etc/app.conf'), 'utf8')).toBe('x=1\n');
    const conf = fs.statSync(path.join(dest, 'etc/app.conf'));
    expect([conf.uid, conf.gid, conf.mode & 0o7777, conf.nlink]).toEqual([1000, 1001, 0o640, 2]);
    expect(fs.statSync(path.join(dest, 'etc/hardlink')).ino).toBe(conf.ino);
    const wh = fs.lstatSync(path.join(dest, 'etc/removed'));
    expect(wh.isCharacterDevice() && wh.rdev === 0).toBe(true);
    expect(execFileSync('getfattr', ['--absolute-names', '--only-values', '-n', 'trusted.overlay.opaque', path.join(dest, 'var/cache')], { encoding: 'utf8' })).toBe('y');
    expect(execFileSync('getfattr', ['--absolute-names', '-e', 'hex', '--only-values', '-n', 'security.capability', path.join(dest, 'ping')]).toString('hex')).toBe('0100000200200000000000000000000000000000');
    expect(fs.readFileSync(path.join(dest, 'x'.repeat(120)), 'utf8')).toBe('long');
    for (const gone of ['.dockerenv', 'etc/hostname', 'proc', 'dev']) expect(fs.existsSync(path.join(dest, gone))).toBe(false);
  });

  it('writes an empty tar (the empty-layer DiffID) for an empty upper dir', async () => {
    const upper = fs.mkdtempSync(path.join(base, 'empty-'));
    const buf = await diffTar(upper);
    expect(buf.equals(Buffer.alloc(1024))).toBe(true);
  });
});
