import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractLayer } from './extract.js';
import { sparseNormalizer } from './tar-sparse.js';

/** A sparse file with `regions` data runs scattered over 64 MiB (its last byte written, as a real one often is). */
function makeSparse(file: string, regions: number): Buffer {
  const size = 64 * 1024 * 1024;
  const fd = fs.openSync(file, 'w');
  try {
    fs.ftruncateSync(fd, size);
    for (let i = 0; i < regions; i++) {
      const data = Buffer.from(`region-${i}-`.repeat(300 + i));
      fs.writeSync(fd, data, 0, data.length, Math.floor((i * (size - 65536)) / regions) + 4096 * i);
    }
    fs.writeSync(fd, Buffer.from('Z'), 0, 1, size - 1);
  } finally {
    fs.closeSync(fd);
  }
  return fs.readFileSync(file);
}

async function normalized(tarFile: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const n = sparseNormalizer();
  n.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((r) => n.on('end', r));
  // Small chunks, to cross every block boundary.
  const raw = fs.readFileSync(tarFile);
  for (let i = 0; i < raw.length; i += 777) n.write(raw.subarray(i, i + 777));
  n.end();
  await done;
  return Buffer.concat(chunks);
}

describe('sparse files in layer tars (GNU tar --sparse)', () => {
  let dir: string;
  let src: string;
  const content = new Map<string, Buffer>();
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sparse-'));
    src = path.join(dir, 'src');
    fs.mkdirSync(path.join(src, 'a-directory-with-a-rather-long-name-'.repeat(3)), { recursive: true });
    content.set('few', makeSparse(path.join(src, 'few'), 3));
    // More than the 4 regions an old GNU header holds: extension blocks follow it.
    content.set('many', makeSparse(path.join(src, 'many'), 60));
    const longName = path.join('a-directory-with-a-rather-long-name-'.repeat(3), 'sparse-with-a-long-name');
    content.set(longName, makeSparse(path.join(src, longName), 7));
    fs.writeFileSync(path.join(src, 'plain'), 'plain file after the sparse ones\n');
    content.set('plain', fs.readFileSync(path.join(src, 'plain')));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [label, args] of [
    ['old GNU format (type S)', ['--format=gnu']],
    ['PAX 1.0 (GNU tar\'s default for posix)', ['--format=posix']],
    ['PAX 0.1', ['--format=posix', '--sparse-version=0.1']],
    ['PAX 0.0', ['--format=posix', '--sparse-version=0.0']],
  ] as const) {
    it(`${label}: same size and bytes, holes kept`, async () => {
      const tarFile = path.join(dir, `${label.replace(/\W+/g, '_')}.tar`);
      execFileSync('tar', ['--sparse', ...args, '-C', src, '-cf', tarFile, '.']);
      const dest = fs.mkdtempSync(path.join(dir, 'out-'));
      const stats = await extractLayer(Readable.from([fs.readFileSync(tarFile)]), dest);
      for (const [name, want] of content) {
        const got = path.join(dest, name);
        const st = fs.statSync(got);
        expect(st.size, name).toBe(want.length);
        expect(fs.readFileSync(got).equals(want), name).toBe(true);
        if (name !== 'plain') expect(st.blocks * 512, `${name} keeps its holes`).toBeLessThan(want.length / 4);
      }
      // No GNUSparseFile.* leftovers, nothing else either.
      expect(execFileSync('find', [dest, '-name', 'GNUSparseFile*'], { encoding: 'utf8' })).toBe('');
      expect(stats.size).toBeGreaterThanOrEqual([...content.values()].reduce((n, b) => n + b.length, 0));
    });
  }

  it('an archive without sparse entries passes through the normalizer byte for byte', async () => {
    const plain = path.join(dir, 'plain-src');
    const long = path.join('d'.repeat(90), 'e'.repeat(90));
    fs.mkdirSync(path.join(plain, long), { recursive: true });
    fs.writeFileSync(path.join(plain, long, 'f'.repeat(120)), 'x'.repeat(5000));
    fs.writeFileSync(path.join(plain, 'small'), 'small\n');
    fs.symlinkSync('l'.repeat(150), path.join(plain, 'longlink'));
    for (const format of ['posix', 'gnu', 'ustar']) {
      const tarFile = path.join(dir, `plain-${format}.tar`);
      const members = format === 'ustar' ? ['small'] : ['.'];
      execFileSync('tar', [`--format=${format}`, '-C', plain, '-cf', tarFile, ...members]);
      expect((await normalized(tarFile)).equals(fs.readFileSync(tarFile)), format).toBe(true);
    }
  });

  it('a sparse map that does not fit its data is refused, never extracted wrong', async () => {
    const tarFile = path.join(dir, 'evil.tar');
    execFileSync('tar', ['--sparse', '--format=posix', '--sparse-version=0.1', '-C', src, '-cf', tarFile, 'few']);
    const raw = fs.readFileSync(tarFile);
    // Grow one region's length in the pax map (same width keeps the record lengths valid).
    const text = raw.toString('latin1');
    const m = /GNU\.sparse\.map=(\d+),(\d+)/.exec(text)!;
    const grown = String(Number(m[2]) + 1).padStart(m[2]!.length, '0').slice(-m[2]!.length);
    const evil = Buffer.from(text.replace(`GNU.sparse.map=${m[1]},${m[2]}`, `GNU.sparse.map=${m[1]},${grown}`), 'latin1');
    const dest = fs.mkdtempSync(path.join(dir, 'evil-'));
    await expect(extractLayer(Readable.from([evil]), dest)).rejects.toThrow(/invalid sparse file in archive: the map describes \d+ bytes of data but the entry holds \d+/);
    const major = Buffer.from(fs.readFileSync(path.join(dir, 'PAX_1_0_GNU_tar_s_default_for_posix_.tar')).toString('latin1').replace('GNU.sparse.major=1', 'GNU.sparse.major=2'), 'latin1');
    await expect(extractLayer(Readable.from([major]), fs.mkdtempSync(path.join(dir, 'evil-')))).rejects.toThrow('unsupported sparse format 2.0');
  });
});
