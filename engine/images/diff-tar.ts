/**
 * The tar of an overlayfs upper directory as a layer (`docker commit`):
 * overlay's whiteouts become the layer format's again — a 0:0 character
 * device is `.wh.<name>`, a directory marked trusted.overlay.opaque=y gets a
 * `.wh..wh..opq` entry — and overlay's own xattrs are left out. Hard links
 * inside the directory stay hard links. Entries are written in lexical order,
 * as Docker's archiver walks.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { run } from '../system/command.js';
import { findOpaqueDirs } from '../system/fsops.js';
import { OPAQUE_MARKER, WHITEOUT_PREFIX } from './extract.js';
import { TarWriter, type TarEntry } from './tar-writer.js';

export interface DiffTarOptions {
  /** Relative paths ("etc/hosts", "proc") left out, with everything below them. */
  exclude?: (rel: string) => boolean;
}

/** File capabilities travel with layers (as in Docker); other xattrs stay behind. */
async function capabilityXattrs(root: string): Promise<Map<string, Buffer>> {
  const out = await run('getfattr', ['-R', '-P', '--absolute-names', '-e', 'hex', '-m', '^security\\.capability$', '-d', root]).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }));
  const caps = new Map<string, Buffer>();
  let current: string | undefined;
  for (const line of out.stdout.split('\n')) {
    if (line.startsWith('# file: ')) current = line.slice('# file: '.length).replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    else if (current) {
      const m = /^security\.capability=0x([0-9a-f]+)$/.exec(line.trim());
      if (m) caps.set(current, Buffer.from(m[1]!, 'hex'));
    }
  }
  return caps;
}

function devNumbers(rdev: number): { devmajor: number; devminor: number } {
  // glibc's gnu_dev_major/minor on the 64-bit dev_t.
  const big = BigInt(rdev);
  const major = Number(((big >> 8n) & 0xfffn) | ((big >> 32n) & ~0xfffn));
  const minor = Number((big & 0xffn) | ((big >> 12n) & ~0xffn));
  return { devmajor: major, devminor: minor };
}

export async function writeDiffTar(upper: string, out: Writable, opts: DiffTarOptions = {}): Promise<void> {
  const w = new TarWriter(out);
  const opaque = new Set(await findOpaqueDirs(upper));
  const caps = await capabilityXattrs(upper);
  const inodes = new Map<string, string>();
  const exclude = opts.exclude ?? (() => false);

  const walk = async (dir: string, rel: string): Promise<void> => {
    const names = (await fsp.readdir(dir)).sort();
    for (const name of names) {
      const r = rel === '' ? name : `${rel}/${name}`;
      if (exclude(r)) continue;
      const p = path.join(dir, name);
      let st;
      try {
        st = await fsp.lstat(p);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // removed while we walked
        throw err;
      }
      const base: Omit<TarEntry, 'name' | 'type'> = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
      const xattrs = caps.get(p);
      if (xattrs) base.xattrs = { 'security.capability': xattrs };
      if (st.isCharacterDevice() && st.rdev === 0) {
        await w.header({ ...base, name: rel === '' ? `${WHITEOUT_PREFIX}${name}` : `${rel}/${WHITEOUT_PREFIX}${name}`, type: 'file', mode: 0o600, size: 0 });
        continue;
      }
      if (st.isDirectory()) {
        await w.header({ ...base, name: r, type: 'directory' });
        if (opaque.has(p)) await w.header({ name: `${r}/${OPAQUE_MARKER}`, type: 'file', mode: st.mode & 0o777, uid: st.uid, gid: st.gid, mtime: base.mtime, size: 0 });
        await walk(p, r);
        continue;
      }
      if (st.isFile()) {
        const key = `${st.dev}:${st.ino}`;
        const first = st.nlink > 1 ? inodes.get(key) : undefined;
        if (first !== undefined) {
          await w.header({ ...base, name: r, type: 'link', linkname: first });
          continue;
        }
        if (st.nlink > 1) inodes.set(key, r);
        await w.header({ ...base, name: r, type: 'file', size: st.size });
        await w.fileData(p, st.size);
        continue;
      }
      if (st.isSymbolicLink()) {
        await w.header({ ...base, name: r, type: 'symlink', linkname: await fsp.readlink(p) });
        continue;
      }
      if (st.isFIFO()) {
        await w.header({ ...base, name: r, type: 'fifo' });
        continue;
      }
      if (st.isCharacterDevice() || st.isBlockDevice()) {
        await w.header({ ...base, name: r, type: st.isCharacterDevice() ? 'character-device' : 'block-device', ...devNumbers(st.rdev) });
        continue;
      }
      // Sockets are not archived (as Docker's archiver).
    }
  };
  await walk(upper, '');
  await w.finish();
}
