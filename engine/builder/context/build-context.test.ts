import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { BuildContext, DEFAULT_LIMITS } from './build-context.js';
import { makeTar } from '../testing/tars.js';
import { tarsumHeader } from './tarsum.js';

const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ctx-test-'));
afterAll(() => fs.rmSync(spoolDir, { recursive: true, force: true }));

const read = (buf: Buffer, limits = {}) => BuildContext.read(Readable.from([buf]), spoolDir, { limits });

async function text(ctx: BuildContext, p: string): Promise<string> {
  return (await ctx.readAll(ctx.stat(p)!)).toString();
}

describe('build context', () => {
  it('indexes files, directories and links, and reads content from the spool', async () => {
    const ctx = await read(
      makeTar([
        { name: 'Dockerfile', content: 'FROM x\n' },
        { name: 'src/', type: '5' },
        { name: 'src/a.txt', content: 'hello' },
        { name: 'src/link', type: '2', linkname: 'a.txt' },
        { name: 'hard', type: '1', linkname: 'src/a.txt', mode: 0o600 },
      ]),
    );
    try {
      expect(await text(ctx, 'Dockerfile')).toBe('FROM x\n');
      expect(await text(ctx, 'src/link')).toBe('hello');
      expect(await text(ctx, 'hard')).toBe('hello');
      // A hard link shares the inode: its header's mode applies to both names.
      expect(ctx.entry('src/a.txt')!.inode.mode).toBe(0o600);
      expect([...ctx.walk()].map((e) => e.path)).toEqual(['.', 'Dockerfile', 'hard', 'src', 'src/a.txt', 'src/link']);
      expect(await (await ctx.dockerfile('Dockerfile')).content.toString()).toBe('FROM x\n');
    } finally {
      await ctx.close();
    }
    expect(fs.readdirSync(spoolDir)).toEqual([]);
  });

  it('spills to a file past the memory limit and reads the same either way', async () => {
    const big = Buffer.alloc(300_000, 3);
    const tarBuf = makeTar([{ name: 'small', content: 'tiny' }, { name: 'big', content: big }]);
    for (const memory of [10 * 1024 * 1024, 4096]) {
      const ctx = await read(tarBuf, { memory });
      expect(fs.readdirSync(spoolDir).length).toBe(memory === 4096 ? 1 : 0);
      expect((await ctx.readAll(ctx.stat('big')!)).equals(big)).toBe(true);
      const chunks: Buffer[] = [];
      for await (const c of ctx.read(ctx.stat('big')!)) chunks.push(c as Buffer);
      expect(Buffer.concat(chunks).equals(big)).toBe(true);
      expect(await text(ctx, 'small')).toBe('tiny');
      await ctx.close();
      expect(fs.readdirSync(spoolDir)).toEqual([]);
    }
  });

  it('hashes files as dockerd does: TarSum v1 of header and content, never the mtime', async () => {
    const a = await read(makeTar([{ name: 'f', content: 'data', mtime: 1 }]));
    const b = await read(makeTar([{ name: 'f', content: 'data', mtime: 2 }]));
    const c = await read(makeTar([{ name: 'f', content: 'data', mode: 0o755 }]));
    const d = await read(makeTar([{ name: 'f', content: 'data', uid: 1000 }]));
    try {
      const expected = createHash('sha256')
        .update(tarsumHeader({ name: 'f', mode: 0o644, uid: 0, gid: 0, size: 4, typeflag: '0', linkname: '', uname: '', gname: '', devmajor: 0, devminor: 0, xattrs: {} }))
        .update('data')
        .digest('hex');
      expect(await a.hash('f')).toBe(expected);
      expect(await b.hash('f')).toBe(expected);
      expect(await c.hash('f')).not.toBe(expected);
      expect(await d.hash('f')).not.toBe(expected);
    } finally {
      for (const x of [a, b, c, d]) await x.close();
    }
  });

  it('hashes a link as what it points to, and implied or missing paths as their name', async () => {
    const ctx = await read(makeTar([{ name: 'dir/f', content: 'x' }, { name: 'ln', type: '2', linkname: 'dir/f' }, { name: 'dangling', type: '2', linkname: 'nowhere' }]));
    try {
      expect(await ctx.hash('ln')).toBe(await ctx.hash('dir/f'));
      expect(await ctx.hash('dir')).toBe('dir');
      expect(await ctx.hash('dangling')).toBe('dangling');
    } finally {
      await ctx.close();
    }
  });

  it('reads gzip, bzip2 and xz uploads', async () => {
    const tar = makeTar([{ name: 'Dockerfile', content: 'FROM y\n' }]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ctx-z-'));
    try {
      fs.writeFileSync(path.join(dir, 'c.tar'), tar);
      execFileSync('bzip2', ['-k', path.join(dir, 'c.tar')]);
      execFileSync('xz', ['-k', path.join(dir, 'c.tar')]);
      for (const body of [zlib.gzipSync(tar), fs.readFileSync(path.join(dir, 'c.tar.bz2')), fs.readFileSync(path.join(dir, 'c.tar.xz'))]) {
        const ctx = await read(body);
        expect(await text(ctx, 'Dockerfile')).toBe('FROM y\n');
        await ctx.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps links that point outside the context inside it', async () => {
    const ctx = await read(makeTar([{ name: 'etc-link', type: '2', linkname: '/etc/passwd' }, { name: 'up', type: '2', linkname: '../../../../etc/shadow' }]));
    try {
      expect(ctx.resolve('etc-link')).toBe('etc/passwd');
      expect(ctx.resolve('up')).toBe('etc/shadow');
      expect(ctx.stat('etc-link')).toBeUndefined();
      expect(ctx.stat('up')).toBeUndefined();
    } finally {
      await ctx.close();
    }
  });

  it('applies .dockerignore but keeps the Dockerfile readable and re-included paths', async () => {
    const ctx = await read(
      makeTar([
        { name: 'Dockerfile', content: 'FROM x\n' },
        { name: '.dockerignore', content: 'Dockerfile\nlogs\n*.tmp\n!logs/keep.txt\n' },
        { name: 'logs/a.log', content: '1' },
        { name: 'logs/keep.txt', content: '2' },
        { name: 'x.tmp', content: '3' },
        { name: 'app.js', content: '4' },
      ]),
    );
    try {
      const df = await ctx.dockerfile('Dockerfile');
      await ctx.applyDockerignore();
      expect(df.content.toString()).toBe('FROM x\n');
      expect([...ctx.walk()].map((e) => e.path)).toEqual(['.', '.dockerignore', 'app.js', 'logs', 'logs/keep.txt']);
    } finally {
      await ctx.close();
    }
  });

  it('hashes while the upload arrives what the Dockerfile chooses, the same sums as lazily', async () => {
    const tar = makeTar([
      { name: 'a.txt', content: 'before the Dockerfile' },
      { name: 'Dockerfile', content: 'FROM x\nCOPY src /s\n' },
      { name: 'src/', type: '5' },
      { name: 'src/b.txt', content: 'b' },
      { name: 'src/hard', type: '1', linkname: 'src/b.txt' },
      { name: 'other.txt', content: 'not copied' },
    ]);
    const seen: string[] = [];
    const eager = await BuildContext.read(Readable.from([tar]), spoolDir, {
      hashing: {
        dockerfile: './Dockerfile',
        choose: (content) => {
          seen.push(content.toString());
          return (p) => p === 'src' || p.startsWith('src/');
        },
      },
    });
    const lazy = await read(tar);
    try {
      expect(seen).toEqual(['FROM x\nCOPY src /s\n']);
      // Everything before the Dockerfile, then only what it chose.
      const hashedEarly = [...eager.walk()].filter((e) => e.sum !== undefined).map((e) => e.path);
      expect(hashedEarly).toEqual(['Dockerfile', 'a.txt', 'src', 'src/b.txt', 'src/hard']);
      for (const p of ['a.txt', 'Dockerfile', 'src', 'src/b.txt', 'src/hard', 'other.txt']) expect(await eager.hash(p)).toBe(await lazy.hash(p));
    } finally {
      await eager.close();
      await lazy.close();
    }
  });

  it('says when the Dockerfile is missing, and finds a lowercase one', async () => {
    const ctx = await read(makeTar([{ name: 'dockerfile', content: 'FROM z\n' }]));
    try {
      expect((await ctx.dockerfile('Dockerfile')).content.toString()).toBe('FROM z\n');
      await expect(ctx.dockerfile('other/Dockerfile.dev')).rejects.toThrow('Cannot locate specified Dockerfile: other/Dockerfile.dev');
    } finally {
      await ctx.close();
    }
  });
});

describe('hostile build contexts', () => {
  const refuse = async (buf: Buffer, message: string | RegExp, limits = {}) => {
    await expect(read(buf, limits)).rejects.toThrow(message);
    expect(fs.readdirSync(spoolDir)).toEqual([]);
  };

  it('refuses names that climb out of the context', async () => {
    await refuse(makeTar([{ name: '../evil', content: 'x' }]), 'is outside of the build context');
    await refuse(makeTar([{ name: 'a/../../evil', content: 'x' }]), 'is outside of the build context');
    await refuse(makeTar([{ name: 'ok', content: 'x' }, { name: 'h', type: '1', linkname: '../../etc/passwd' }]), 'outside of the build context');
  });

  it('accepts an archive that stops right after the last content, as the CLI sends for `build -f -`', async () => {
    const full = makeTar([{ name: 'a', content: 'x'.repeat(47) }], { end: false });
    const ctx = await read(full.subarray(0, 512 + 47));
    expect(await text(ctx, 'a')).toBe('x'.repeat(47));
    await ctx.close();
  });

  it('treats absolute names as relative to the context', async () => {
    const ctx = await read(makeTar([{ name: '/abs/file', content: 'x' }]));
    expect(ctx.entry('abs/file')).toBeDefined();
    await ctx.close();
  });

  it('refuses an entry below a file or a link', async () => {
    await refuse(makeTar([{ name: 'f', content: 'x' }, { name: 'f/child', content: 'y' }]), '"f" is not a directory');
    await refuse(makeTar([{ name: 'l', type: '2', linkname: '/' }, { name: 'l/etc/passwd', content: 'y' }]), '"l" is not a directory');
  });

  it('refuses corrupt and truncated archives', async () => {
    await refuse(makeTar([{ name: 'f', content: 'x', badChecksum: true }]), 'invalid tar header');
    await refuse(makeTar([{ name: 'f', content: 'x'.repeat(2000) }], { end: false }).subarray(0, 1000), 'unexpected EOF');
    await refuse(Buffer.from('this is not a tar archive, just some text that is long enough to fill a header block'.repeat(10)), /invalid tar header/);
  });

  it('caps extension headers and refuses sparse files', async () => {
    await refuse(makeTar([{ name: 'f', content: 'x', pax: { comment: 'y'.repeat(2 * 1024 * 1024) } }]), 'exceeds the 1048576-byte limit');
    await refuse(makeTar([{ name: 'f', content: 'x', pax: { 'GNU.sparse.map': '0,1' } }]), 'sparse files are not supported');
  });

  it('bounds the size, the entry count and a gzip bomb', async () => {
    await refuse(makeTar([{ name: 'big', content: Buffer.alloc(100_000) }]), 'larger than the 50000-byte limit', { maxSize: 50_000 });
    await refuse(makeTar(Array.from({ length: 50 }, (_, i) => ({ name: `f${i}`, content: '' }))), 'more than 10 entries', { maxEntries: 10 });
    // 16 MiB of zeros compress to ~16 KiB: a 1000× expansion.
    const bomb = zlib.gzipSync(makeTar([{ name: 'zeros', content: Buffer.alloc(16 * 1024 * 1024) }]));
    await refuse(bomb, 'decompression bomb', { ratioFloor: 2 * 1024 * 1024, maxRatio: 100 });
  });

  it('refuses a gzip bomb under the default limits before its bytes outgrow the in-memory spool', async () => {
    const bomb = zlib.gzipSync(makeTar([{ name: 'zeros', content: Buffer.alloc(96 * 1024 * 1024) }]));
    const err = (await read(bomb).catch((e: Error) => e)) as Error;
    const held = Number(/became over (\d+)/.exec(err.message)?.[1]);
    expect(held).toBeGreaterThan(DEFAULT_LIMITS.ratioFloor);
    expect(held).toBeLessThan(DEFAULT_LIMITS.memory);
    expect(fs.readdirSync(spoolDir)).toEqual([]);
  });
});
