/**
 * An image's files for the builder (COPY destinations, COPY --from sources,
 * --chown lookups): the image's layers as a read-only overlay mount (the
 * kernel applies whiteouts and opaque directories), or the one layer's
 * directory as it is. Every path is given as components the builder
 * resolved inside the image with storage/rootpath (links interpreted in the
 * image), and files are opened with O_NOFOLLOW: nothing in an image can make
 * the daemon read a host file. The mount is released with close().
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { LayerStore } from '../images/layers.js';
import { mount, unmount } from '../system/fsops.js';
import { sysMount } from '../system/syscalls.js';
import type { FileStat, ImageFS } from './backend.js';

export type ClosableImageFS = ImageFS;

function devNumbers(rdev: number): { devmajor: number; devminor: number } {
  const big = BigInt(rdev);
  return { devmajor: Number(((big >> 8n) & 0xfffn) | ((big >> 32n) & ~0xfffn)), devminor: Number((big & 0xffn) | ((big >> 12n) & ~0xffn)) };
}

function statOf(st: fs.Stats): FileStat | undefined {
  const type = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : st.isCharacterDevice() ? 'char' : st.isBlockDevice() ? 'block' : st.isFIFO() ? 'fifo' : undefined;
  // Sockets do not travel in images.
  if (!type) return undefined;
  const dev = type === 'char' || type === 'block' ? devNumbers(st.rdev) : { devmajor: 0, devminor: 0 };
  return { type, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, size: type === 'file' ? st.size : 0, mtime: Math.floor(st.mtimeMs / 1000), linkname: '', ...dev, xattrs: {}, inode: `${st.dev}:${st.ino}` };
}

/** A directory tree read without following links (components come resolved). */
class DirFS implements ClosableImageFS {
  constructor(
    private readonly root: string | undefined,
    private readonly release: () => Promise<void> = async () => undefined,
  ) {}

  private at(parts: readonly string[]): string {
    if (!this.root) throw Object.assign(new Error('no such file or directory'), { code: 'ENOENT' });
    for (const p of parts) if (p === '' || p === '.' || p === '..' || p.includes('/')) throw new Error(`invalid path component ${JSON.stringify(p)}`);
    return path.join(this.root, ...parts);
  }

  lstat(parts: readonly string[]): FileStat | undefined {
    if (!this.root) return parts.length === 0 ? { type: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0, mtime: 0, linkname: '', devmajor: 0, devminor: 0, xattrs: {}, inode: 'scratch' } : undefined;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(this.at(parts));
    } catch {
      return undefined;
    }
    const out = statOf(st);
    if (out?.type === 'symlink') out.linkname = fs.readlinkSync(this.at(parts));
    return out;
  }

  readlink(parts: readonly string[]): string {
    return fs.readlinkSync(this.at(parts));
  }

  readdir(parts: readonly string[]): string[] {
    if (!this.root) return [];
    try {
      return fs.readdirSync(this.at(parts));
    } catch {
      return [];
    }
  }

  open(parts: readonly string[]): Readable {
    // O_NOFOLLOW: the last component must be the file itself, never a link.
    const fd = fs.openSync(this.at(parts), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    return fs.createReadStream('', { fd, highWaterMark: 1 << 20 });
  }

  async readFile(parts: readonly string[], limit = 16 * 1024 * 1024): Promise<Buffer> {
    const fh = await fsp.open(this.at(parts), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw new Error(`/${parts.join('/')} is not a regular file`);
      if (st.size > limit) throw new Error(`/${parts.join('/')} is larger than ${limit} bytes`);
      return await fh.readFile();
    } finally {
      await fh.close();
    }
  }

  close(): Promise<void> {
    return this.release();
  }
}

/** The files of an image whose top layer is topLayer (null: no layers). */
export async function openImageFS(layers: LayerStore, topLayer: string | null, mountRoot: string): Promise<ClosableImageFS> {
  if (topLayer === null) return new DirFS(undefined);
  const lowers = layers.lowerDirs(topLayer);
  if (lowers.length === 1) return new DirFS(layers.diffPath(topLayer));
  await fsp.mkdir(mountRoot, { recursive: true, mode: 0o700 });
  const target = path.join(mountRoot, randomBytes(8).toString('hex'));
  await fsp.mkdir(target, { mode: 0o700 });
  try {
    // Lower directories only: a read-only overlay.
    const abs = `lowerdir=${lowers.map((l) => path.join(path.resolve(layers.root), l)).join(':')}`;
    if (!(await sysMount('overlay', target, 'overlay', abs))) await mount('overlay', target, 'overlay', [`lowerdir=${lowers.join(':')}`], layers.root);
  } catch (err) {
    await fsp.rmdir(target).catch(() => undefined);
    throw err;
  }
  let released = false;
  return new DirFS(target, async () => {
    if (released) return;
    released = true;
    await unmount(target).catch(() => unmount(target, true));
    await fsp.rmdir(target).catch(() => undefined);
  });
}

/** Leftover mounts of a daemon that died mid-build. */
export async function cleanupImageMounts(mountRoot: string): Promise<void> {
  let names: string[];
  try {
    names = await fsp.readdir(mountRoot);
  } catch {
    return;
  }
  for (const n of names) {
    const p = path.join(mountRoot, n);
    await unmount(p, true).catch(() => undefined);
    await fsp.rmdir(p).catch(() => undefined);
  }
}
