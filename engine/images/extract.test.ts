import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { InvalidParameterError } from '../errdefs.js';
import { extractLayer } from './extract.js';

type Header = Partial<tar.Header> & { name: string };
interface Item {
  header: Header;
  body?: string;
}

/** Builds a tar in memory with tar-stream (no sanitizing of names). */
async function makeTar(items: Item[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c: unknown) => {
      chunks.push(c as Buffer);
    });
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const it of items) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (it.body !== undefined) pack.entry({ mode: 0o644, ...it.header }, it.body, cb);
      else pack.entry({ mode: it.header.type === 'directory' ? 0o755 : 0o644, ...it.header }, cb);
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-extract-'));
const sentinelDir = path.join(base, 'sentinel');
const secret = path.join(sentinelDir, 'secret');
let dest = '';
let n = 0;

function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const name of fs.readdirSync(d).sort()) {
      const p = path.join(d, name);
      const st = fs.lstatSync(p);
      out.push(`${rel}/${name}:${st.mode.toString(8)}:${st.isFile() ? fs.readFileSync(p, 'utf8') : ''}`);
      if (st.isDirectory()) walk(p, `${rel}/${name}`);
    }
  };
  walk(dir, '');
  return out;
}

let sentinelBefore: string[] = [];
let baseBefore: string[] = [];

beforeEach(() => {
  fs.rmSync(sentinelDir, { recursive: true, force: true });
  fs.mkdirSync(sentinelDir);
  fs.writeFileSync(secret, 'untouched');
  dest = path.join(base, `layer-${n++}`);
  fs.mkdirSync(dest);
  sentinelBefore = snapshot(sentinelDir);
  baseBefore = fs.readdirSync(base).sort();
});

afterAll(() => {
  fs.rmSync(base, { recursive: true, force: true });
});

async function extract(items: Item[]): Promise<void> {
  await extractLayer(Readable.from(await makeTar(items)), dest);
}

/** The extraction must fail with a 400 and leave everything outside dest as it was. */
async function expectRejected(items: Item[], message: RegExp): Promise<void> {
  const err = await extract(items).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InvalidParameterError);
  expect((err as Error).message).toMatch(message);
  expect(snapshot(sentinelDir)).toEqual(sentinelBefore);
  expect(fs.readFileSync(secret, 'utf8')).toBe('untouched');
  expect(fs.readdirSync(base).sort()).toEqual(baseBefore);
  expect(fs.existsSync(path.join(base, 'pwned'))).toBe(false);
  expect(fs.existsSync('/pwned')).toBe(false);
}

const relToSentinel = () => path.relative(dest, sentinelDir);

function xattr(p: string, name: string): string | undefined {
  try {
    return execFileSync('getfattr', ['-h', '--only-values', '-n', name, p], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

describe('extractLayer: what a layer may contain', () => {
  it('unpacks files, dirs, symlinks, hard links and metadata', async () => {
    await extract([
      { header: { name: 'etc/', type: 'directory', mode: 0o750, uid: 12, gid: 34 } },
      { header: { name: 'etc/conf', uid: 5, gid: 6, mode: 0o640, mtime: new Date(1_000_000_000) }, body: 'a=b\n' },
      { header: { name: 'etc/link', type: 'symlink', linkname: '/etc/conf' } },
      { header: { name: 'etc/hard', type: 'link', linkname: 'etc/conf' } },
      { header: { name: './bin/tool', mode: 0o755 }, body: '#!/bin/sh\n' },
    ]);
    const conf = fs.lstatSync(path.join(dest, 'etc/conf'));
    expect(fs.readFileSync(path.join(dest, 'etc/conf'), 'utf8')).toBe('a=b\n');
    expect(conf.mode & 0o7777).toBe(0o640);
    expect([conf.uid, conf.gid]).toEqual([5, 6]);
    expect(conf.mtimeMs).toBe(1_000_000_000);
    expect(conf.nlink).toBe(2);
    expect(fs.statSync(path.join(dest, 'etc/hard')).ino).toBe(conf.ino);
    expect(fs.readlinkSync(path.join(dest, 'etc/link'))).toBe('/etc/conf');
    const etc = fs.statSync(path.join(dest, 'etc'));
    expect(etc.mode & 0o7777).toBe(0o750);
    expect([etc.uid, etc.gid]).toEqual([12, 34]);
    expect(fs.statSync(path.join(dest, 'bin/tool')).mode & 0o777).toBe(0o755);
  });

  it('turns whiteouts into what overlayfs reads', async () => {
    await extract([
      { header: { name: 'dir/', type: 'directory' } },
      { header: { name: 'dir/.wh..wh..opq' }, body: '' },
      { header: { name: 'dir/.wh.gone' }, body: '' },
      { header: { name: '.wh.topgone' }, body: '' },
    ]);
    const wh = fs.lstatSync(path.join(dest, 'dir/gone'));
    expect(wh.isCharacterDevice()).toBe(true);
    expect(wh.rdev).toBe(0);
    expect(fs.lstatSync(path.join(dest, 'topgone')).isCharacterDevice()).toBe(true);
    expect(fs.existsSync(path.join(dest, 'dir/.wh..wh..opq'))).toBe(false);
    expect(fs.existsSync(path.join(dest, 'dir/.wh.gone'))).toBe(false);
    expect(xattr(path.join(dest, 'dir'), 'trusted.overlay.opaque')).toBe('y');
  });

  it('strips trusted.overlay.* xattrs a layer carries and keeps others', async () => {
    await extract([
      { header: { name: 'd/', type: 'directory', pax: { 'SCHILY.xattr.trusted.overlay.opaque': 'y', 'SCHILY.xattr.user.note': 'kept' } } },
      { header: { name: 'd/f', pax: { 'SCHILY.xattr.trusted.overlay.redirect': '/elsewhere', 'SCHILY.xattr.trusted.overlay.origin': 'x' } }, body: 'x' },
    ]);
    expect(xattr(path.join(dest, 'd'), 'trusted.overlay.opaque')).toBeUndefined();
    expect(xattr(path.join(dest, 'd/f'), 'trusted.overlay.redirect')).toBeUndefined();
    expect(xattr(path.join(dest, 'd/f'), 'trusted.overlay.origin')).toBeUndefined();
    expect(xattr(path.join(dest, 'd'), 'user.note')).toBe('kept');
  });

  it('replaces a symlink by a file without writing through it', async () => {
    await extract([
      { header: { name: 'x', type: 'symlink', linkname: secret } },
      { header: { name: 'x' }, body: 'inside' },
    ]);
    expect(fs.readFileSync(secret, 'utf8')).toBe('untouched');
    expect(fs.lstatSync(path.join(dest, 'x')).isFile()).toBe(true);
    expect(fs.readFileSync(path.join(dest, 'x'), 'utf8')).toBe('inside');
  });
});

describe('extractLayer: hostile entries are refused and nothing lands outside', () => {
  it('../ names', async () => {
    await expectRejected([{ header: { name: '../pwned' }, body: 'x' }], /path escapes the layer root/);
    await expectRejected([{ header: { name: `${relToSentinel()}/secret` }, body: 'x' }], /path escapes the layer root/);
    await expectRejected([{ header: { name: 'a/../../pwned' }, body: 'x' }], /path escapes the layer root/);
    await expectRejected([{ header: { name: '../pwned-dir/', type: 'directory' } }], /path escapes the layer root/);
    await expectRejected([{ header: { name: '../pwned', type: 'symlink', linkname: '/' } }], /path escapes the layer root/);
  });

  it('absolute names', async () => {
    await expectRejected([{ header: { name: `${secret}` }, body: 'x' }], /absolute paths are not allowed/);
    await expectRejected([{ header: { name: '/pwned' }, body: 'x' }], /absolute paths are not allowed/);
  });

  it('a symlink and then a write through it, in one layer', async () => {
    await expectRejected(
      [
        { header: { name: 'evil', type: 'symlink', linkname: sentinelDir } },
        { header: { name: 'evil/secret' }, body: 'overwritten' },
      ],
      /parent "evil" is a symbolic link/,
    );
    await expectRejected(
      [
        { header: { name: 'evil', type: 'symlink', linkname: relToSentinel() } },
        { header: { name: 'evil/new' }, body: 'x' },
      ],
      /is a symbolic link/,
    );
    await expectRejected(
      [
        { header: { name: 'up', type: 'symlink', linkname: '..' } },
        { header: { name: 'up/pwned' }, body: 'x' },
      ],
      /is a symbolic link/,
    );
    await expectRejected(
      [
        { header: { name: 'evil', type: 'symlink', linkname: sentinelDir } },
        { header: { name: 'evil/sub/', type: 'directory' } },
      ],
      /is a symbolic link/,
    );
    await expectRejected(
      [
        { header: { name: 'evil', type: 'symlink', linkname: sentinelDir } },
        { header: { name: 'evil/.wh.secret' }, body: '' },
      ],
      /is a symbolic link/,
    );
    await expectRejected(
      [
        { header: { name: 'evil', type: 'symlink', linkname: sentinelDir } },
        { header: { name: 'evil/.wh..wh..opq' }, body: '' },
      ],
      /is a symbolic link/,
    );
  });

  it('hard links to ../, to absolute paths and to symlinks', async () => {
    await expectRejected([{ header: { name: 'h', type: 'link', linkname: `${relToSentinel()}/secret` } }], /path escapes the layer root/);
    await expectRejected([{ header: { name: 'h', type: 'link', linkname: secret } }], /absolute paths are not allowed/);
    await expectRejected([{ header: { name: 'h', type: 'link', linkname: '/etc/passwd' } }], /absolute paths are not allowed/);
    await expectRejected(
      [
        { header: { name: 's', type: 'symlink', linkname: secret } },
        { header: { name: 'h', type: 'link', linkname: 's' } },
      ],
      /hard link to a symbolic link/,
    );
    await expectRejected(
      [
        { header: { name: 'd', type: 'symlink', linkname: sentinelDir } },
        { header: { name: 'h', type: 'link', linkname: 'd/secret' } },
      ],
      /is a symbolic link/,
    );
    await expectRejected([{ header: { name: 'h', type: 'link', linkname: 'not-here' } }], /is not in this layer/);
  });

  it('bad whiteouts', async () => {
    await expectRejected([{ header: { name: '.wh.' }, body: '' }], /invalid whiteout/);
    await expectRejected([{ header: { name: 'dir/.wh..' }, body: '' }], /invalid whiteout/);
    await expectRejected([{ header: { name: '.wh...' }, body: '' }], /invalid whiteout/);
    await expectRejected([{ header: { name: '.wh..wh..wh.x' }, body: '' }], /invalid whiteout/);
    await expectRejected([{ header: { name: '.wh../../pwned' }, body: '' }], /path escapes the layer root/);
    await expectRejected([{ header: { name: '.wh..wh..opq' }, body: '' }], /opaque whiteout at the layer root/);
    await expectRejected([{ header: { name: './.wh..wh..opq' }, body: '' }], /opaque whiteout at the layer root/);
  });

  it('NUL bytes in names', async () => {
    // A pax path record can carry a NUL that a ustar name field cannot.
    await expectRejected([{ header: { name: 'a\u0000b', pax: {} }, body: 'x' }], /NUL/);
  });

  it('a symlink entry for the layer root itself is ignored', async () => {
    await extract([
      { header: { name: './', type: 'symlink', linkname: sentinelDir } },
      { header: { name: 'inside' }, body: 'x' },
    ]);
    expect(fs.lstatSync(dest).isDirectory()).toBe(true);
    expect(fs.readFileSync(path.join(dest, 'inside'), 'utf8')).toBe('x');
    expect(snapshot(sentinelDir)).toEqual(sentinelBefore);
  });
});
