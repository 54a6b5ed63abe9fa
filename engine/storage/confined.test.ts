import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfinedRoot, openAt, readConfinedFile, readOpened, readUntrustedFile, regularFileStream, UntrustedFileError, walkConfined } from './confined.js';

async function collect(s: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of s) parts.push(c);
  return Buffer.concat(parts);
}

describe('storage/confined: reading files someone else controls', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'confined-'));
    fs.mkdirSync(path.join(root, 'etc'));
    fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'root:x:0:0::/root:/bin/sh\n');
    execFileSync('mkfifo', [path.join(root, 'etc', 'fifo')]);
    // /dev/zero's numbers: reading it would never end; it must never be opened.
    execFileSync('mknod', [path.join(root, 'etc', 'zero'), 'c', '1', '5']);
    fs.symlinkSync('/etc', path.join(root, 'etclink'));
    fs.symlinkSync('/etc/passwd', path.join(root, 'abs'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  it('reads a regular file, links interpreted inside the root', async () => {
    expect((await readConfinedFile(root, '/etc/passwd'))?.toString()).toContain('root:x:0:0');
    expect((await readConfinedFile(root, '/etclink/passwd'))?.toString()).toContain('root:x:0:0');
    expect((await readConfinedFile(root, '/abs'))?.toString()).toContain('/root:/bin/sh');
    expect(await readConfinedFile(root, '/etc/missing')).toBeUndefined();
    expect(await readConfinedFile(root, '/nodir/missing')).toBeUndefined();
  });

  it('refuses a FIFO at once instead of waiting for a writer', async () => {
    const t0 = Date.now();
    const err = await readConfinedFile(root, '/etc/fifo').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UntrustedFileError);
    expect((err as UntrustedFileError).reason).toBe('not-regular');
    expect((err as Error).message).toBe('/etc/fifo is a named pipe, not a regular file');
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('never opens a device node', async () => {
    const err = await readConfinedFile(root, '/etc/zero').catch((e: unknown) => e);
    expect((err as Error).message).toBe('/etc/zero is a character device, not a regular file');
  });

  it('refuses files over the cap', async () => {
    fs.writeFileSync(path.join(root, 'etc', 'big'), Buffer.alloc(2048, 0x61));
    const err = await readConfinedFile(root, '/etc/big', { maxBytes: 1024 }).catch((e: unknown) => e);
    expect((err as UntrustedFileError).reason).toBe('too-large');
    expect((await readConfinedFile(root, '/etc/big', { maxBytes: 4096 }))?.length).toBe(2048);
  });

  it('opens a name without following it, whatever it is', () => {
    const tree = ConfinedRoot.open(root);
    try {
      const dir = tree.openDir(['etc']);
      try {
        expect(openAt(dir, 'fifo')).toMatchObject({ kind: 'other' });
        const f = openAt(dir, 'passwd');
        expect(f?.kind).toBe('file');
        if (f?.kind === 'file') fs.closeSync(f.fd);
        expect(openAt(dir, 'nothing')).toBeUndefined();
      } finally {
        fs.closeSync(dir);
      }
      // A link as the final component is what is there: never followed to the host's /etc/passwd.
      const o = tree.open(['abs']);
      expect(o?.kind).toBe('other');
      expect(o?.stat.isSymbolicLink()).toBe(true);
      // A link among the directories (swapped in after resolving) is never followed either: nothing there.
      expect(tree.open(['etclink', 'passwd'])).toBeUndefined();
    } finally {
      tree.close();
    }
  });

  it('a host path whose file someone else writes: regular files only, links not followed', async () => {
    expect((await readUntrustedFile(path.join(root, 'etc', 'passwd')))?.toString()).toContain('root');
    await expect(readUntrustedFile(path.join(root, 'etc', 'fifo'))).rejects.toThrow(/named pipe/);
    await expect(readUntrustedFile(path.join(root, 'abs'))).rejects.toThrow(/symbolic link/);
    expect(await readUntrustedFile(path.join(root, 'none'))).toBeUndefined();
  });

  it('reads whole files up to maxBytes, cut if they grew after the check', async () => {
    const file = path.join(root, 'grow');
    fs.writeFileSync(file, 'abc');
    const fd = fs.openSync(file, 'r');
    fs.appendFileSync(file, 'defgh');
    expect((await readOpened(fd, 3, { maxBytes: 5 })).toString()).toBe('abcde');
  });

  it('streams exactly the checked size: a file that shrank is padded, one that grew is cut', async () => {
    const file = path.join(root, 'data');
    fs.writeFileSync(file, 'hello world');
    let fd = fs.openSync(file, 'r');
    expect((await collect(regularFileStream(fd, 5))).toString()).toBe('hello');
    fd = fs.openSync(file, 'r');
    const padded = await collect(regularFileStream(fd, 16, { chunkSize: 4 }));
    expect(padded.length).toBe(16);
    expect(padded.subarray(0, 11).toString()).toBe('hello world');
    expect(padded.subarray(11).every((b) => b === 0)).toBe(true);
    // Descriptors are closed when the stream ends.
    expect(() => fs.fstatSync(fd)).toThrow();
  });

  it('walks a tree without following a directory swapped for a link', async () => {
    const tree = path.join(root, 'tree');
    fs.mkdirSync(path.join(tree, 'a', 'b'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'a', 'b', 'f'), 'x');
    fs.symlinkSync('/etc', path.join(tree, 'host'));
    const seen: string[] = [];
    await walkConfined(tree, (e) => {
      seen.push(e.rel);
      // Swap "a" for a link to the host's /etc after it was listed as a directory.
      if (e.rel === 'a') {
        fs.renameSync(path.join(tree, 'a'), path.join(tree, 'a.moved'));
        fs.symlinkSync('/etc', path.join(tree, 'a'));
      }
    });
    expect(seen).toEqual(['a', 'host']);
  });
});
