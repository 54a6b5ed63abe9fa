/**
 * The tar of an overlayfs upper directory as a layer (`docker commit`):
 * overlay's whiteouts become the layer format's again — a 0:0 character
 * device is `.wh.<name>`, a directory marked trusted.overlay.opaque=y gets a
 * `.wh..wh..opq` entry — and overlay's own xattrs are left out. Hard links
 * inside the directory stay hard links. Entries are written in lexical order,
 * as Docker's archiver walks.
 *
 * The directory is the container's to change while we read it (`commit --pause=false`): it is
 * walked and read through storage/confined.ts — no link followed, nothing but regular files opened.
 */
import type fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { openAt, readlinkAt, regularFileStream, walkConfined } from '../storage/confined.js';
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

  const entry = async (st: fs.Stats, p: string, r: string, name: string, rel: string, dirFd: number): Promise<boolean> => {
    const base: Omit<TarEntry, 'name' | 'type'> = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
    const xattrs = caps.get(p);
    if (xattrs) base.xattrs = { 'security.capability': xattrs };
    if (st.isCharacterDevice() && st.rdev === 0) {
      await w.header({ ...base, name: rel === '' ? `${WHITEOUT_PREFIX}${name}` : `${rel}/${WHITEOUT_PREFIX}${name}`, type: 'file', mode: 0o600, size: 0 });
      return false;
    }
    if (st.isDirectory()) {
      await w.header({ ...base, name: r, type: 'directory' });
      if (opaque.has(p)) await w.header({ name: `${r}/${OPAQUE_MARKER}`, type: 'file', mode: st.mode & 0o777, uid: st.uid, gid: st.gid, mtime: base.mtime, size: 0 });
      return true;
    }
    if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? inodes.get(key) : undefined;
      if (first !== undefined) {
        await w.header({ ...base, name: r, type: 'link', linkname: first });
        return false;
      }
      // Opened only if it still is a regular file; otherwise archived as what is there now.
      const opened = openAt(dirFd, name, { label: r });
      if (!opened) return false; // removed meanwhile
      if (opened.kind === 'other') return opened.stat.isFile() ? false : entry(opened.stat, p, r, name, rel, dirFd);
      if (st.nlink > 1) inodes.set(key, r);
      const now = opened.stat;
      await w.header({ ...base, mode: now.mode & 0o7777, uid: now.uid, gid: now.gid, name: r, type: 'file', size: now.size });
      await w.data(regularFileStream(opened.fd, now.size, { label: r }));
      return false;
    }
    if (st.isSymbolicLink()) {
      let target: string;
      try {
        target = readlinkAt(dirFd, name);
      } catch {
        return false; // replaced meanwhile
      }
      await w.header({ ...base, name: r, type: 'symlink', linkname: target });
      return false;
    }
    if (st.isFIFO()) {
      await w.header({ ...base, name: r, type: 'fifo' });
      return false;
    }
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      await w.header({ ...base, name: r, type: st.isCharacterDevice() ? 'character-device' : 'block-device', ...devNumbers(st.rdev) });
      return false;
    }
    // Sockets are not archived (as Docker's archiver).
    return false;
  };
  await walkConfined(upper, async (e) => {
    if (exclude(e.rel)) return false;
    const slash = e.rel.lastIndexOf('/');
    return entry(e.stat, path.join(upper, e.rel), e.rel, e.name, slash < 0 ? '' : e.rel.slice(0, slash), e.dirFd);
  });
  await w.finish();
}
