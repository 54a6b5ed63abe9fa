/**
 * `docker cp`: stat, read and write paths inside a container through the
 * archive API, for running and stopped containers, without ever leaving the
 * container's root.
 *
 * Paths are resolved the way the container sees them: symbolic links are
 * read and interpreted inside the container (a link to "/" means the
 * container's root), `..` stops at the root, and every step opens the next
 * component relative to the previous directory's file descriptor
 * (/proc/self/fd/N/name with O_NOFOLLOW — Node's stand-in for openat), so a
 * link swapped in by a process in the container while we work makes the
 * operation fail instead of escaping (CVE-2018-15664). A running container
 * is entered through /proc/<pid>/root, which also shows its volumes and bind
 * mounts; for a stopped one its rootfs is mounted and mount points are mapped
 * to their sources. Nothing from the container is ever executed.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import tar from 'tar-stream';
import { pipePack } from '../system/pack-output.js';
import { ConflictError, InvalidParameterError, NotFoundError, SystemError } from '../errdefs.js';
import { rfc3339Nano } from '../system/time.js';
import type { ImageStore } from '../images/store.js';
import type { EventBus } from '../events/bus.js';
import type { Container } from './container.js';
import type { ContainerStore } from './store.js';
import type { RootfsManager } from './rootfs.js';
import { resolveUser } from './user.js';
import { pathComponents, RootPathError } from '../storage/rootpath.js';
import { ConfinedRoot, fdPath, regularFileStream } from '../storage/confined.js';
import { extractTar, sparseInfo, writeSparse } from '../images/tar-sparse.js';

const O = fs.constants;

type Hdr = Partial<tar.Header> & { name: string };

/** Go's os.FileMode bits, which the path-stat header uses. */
const GO_MODE = { dir: 2 ** 31, symlink: 2 ** 27, device: 2 ** 26, pipe: 2 ** 25, socket: 2 ** 24, setuid: 2 ** 23, setgid: 2 ** 22, charDevice: 2 ** 21, sticky: 2 ** 20 };

export interface PathStat {
  name: string;
  size: number;
  mode: number;
  mtime: string;
  linkTarget: string;
}

function goMode(st: fs.Stats): number {
  let m = st.mode & 0o777;
  if (st.isDirectory()) m += GO_MODE.dir;
  else if (st.isSymbolicLink()) m += GO_MODE.symlink;
  else if (st.isFIFO()) m += GO_MODE.pipe;
  else if (st.isSocket()) m += GO_MODE.socket;
  else if (st.isCharacterDevice()) m += GO_MODE.device + GO_MODE.charDevice;
  else if (st.isBlockDevice()) m += GO_MODE.device;
  if (st.mode & 0o4000) m += GO_MODE.setuid;
  if (st.mode & 0o2000) m += GO_MODE.setgid;
  if (st.mode & 0o1000) m += GO_MODE.sticky;
  return m;
}

function notFound(p: string, c: Container): NotFoundError {
  return new NotFoundError(`Could not find the file ${p} in container ${c.name}`);
}

type ContainerTree = ConfinedRoot;

/**
 * Resolves a container path to components free of links (the final one is followed only when
 * asked). With `create`, missing directories on the way are made (mode 0755, root-owned), as tar
 * extraction does.
 */
function resolveIn(t: ContainerTree, p: string, followFinal: boolean, create = false): string[] {
  try {
    return t.resolve(p, followFinal, create);
  } catch (err) {
    if (err instanceof RootPathError) throw new InvalidParameterError(err.message);
    throw err;
  }
}

export interface ArchiveDeps {
  store: ContainerStore;
  rootfs: RootfsManager;
  images: ImageStore;
  events: EventBus;
}

export class ArchiveService {
  constructor(private readonly d: ArchiveDeps) {}

  /**
   * Runs fn with the container's tree open. A stopped container is held
   * locked (it cannot start meanwhile) with its rootfs mounted for the
   * duration, and unmounted again if it was not mounted before.
   */
  private async withTree<T>(c: Container, fn: (t: ContainerTree) => Promise<T>): Promise<T> {
    /** Runs fn inside a running container's view; undefined when it is not (or no longer) running. */
    const inRunning = async (): Promise<{ value: T } | undefined> => {
      if (!c.isRunning()) return undefined;
      let t: ContainerTree;
      try {
        t = ConfinedRoot.open(`/proc/${c.record.state.pid}/root`);
      } catch {
        return undefined; // it just exited: fall back to the stopped path
      }
      try {
        return { value: await fn(t) };
      } finally {
        t.close();
      }
    };
    const running = await inRunning();
    if (running) return running.value;
    return c.lock.run(async () => {
      const again = await inRunning();
      if (again) return again.value;
      if (c.isRunning()) throw new ConflictError(`cannot reach the filesystem of container ${c.id}: its process is gone`);
      const image = this.d.images.get(c.record.imageId);
      if (!image) throw new ConflictError(`image ${c.record.imageId} of container ${c.id} is missing`);
      const wasMounted = this.d.rootfs.isMounted(c.id);
      const merged = await this.d.rootfs.mount(c.id, image.topLayer);
      try {
        const mounts = c.record.mounts.filter((m) => (m.Type === 'bind' || m.Type === 'volume') && m.Source && fs.existsSync(m.Source)).map((m) => ({ dest: m.Destination, source: m.Source }));
        const t = ConfinedRoot.open(merged, mounts);
        try {
          return await fn(t);
        } finally {
          t.close();
        }
      } finally {
        if (!wasMounted && !c.isRunning()) await this.d.rootfs.unmount(c.id).catch(() => undefined);
      }
    });
  }

  private statIn(t: ContainerTree, c: Container, p: string): { stat: PathStat; parts: string[]; st: fs.Stats } {
    // A trailing "/" or "/." asks for what a link points to.
    const follow = p.endsWith('/') || p.endsWith('/.');
    let parts: string[];
    try {
      parts = resolveIn(t, p, follow);
    } catch (err) {
      if (err instanceof InvalidParameterError) throw err;
      throw notFound(p, c);
    }
    const st = t.lstat(parts);
    if (!st) throw notFound(p, c);
    if (follow && !st.isDirectory()) throw new InvalidParameterError(`not a directory: ${p}`);
    let linkTarget = '';
    if (st.isSymbolicLink()) {
      try {
        linkTarget = '/' + resolveIn(t, '/' + parts.join('/'), true).join('/');
      } catch {
        linkTarget = '';
      }
    }
    const name = parts.length === 0 ? '/' : parts[parts.length - 1]!;
    return { stat: { name, size: st.size, mode: goMode(st), mtime: rfc3339Nano(BigInt(Math.round(st.mtimeMs * 1e6))), linkTarget }, parts, st };
  }

  async stat(idOrName: string, p: string): Promise<PathStat> {
    const c = this.d.store.get(idOrName);
    if (!p) throw new InvalidParameterError('bad parameter: path cannot be empty');
    return this.withTree(c, async (t) => this.statIn(t, c, p).stat);
  }

  /**
   * GET archive: stats the path (the header must go out before the body),
   * then streams a tar of it to out, entries named after the path's base.
   */
  async get(idOrName: string, p: string, begin: (stat: PathStat) => Writable): Promise<void> {
    const c = this.d.store.get(idOrName);
    if (!p) throw new InvalidParameterError('bad parameter: path cannot be empty');
    await this.withTree(c, async (t) => {
      const { stat, parts, st } = this.statIn(t, c, p);
      const rebase = p.endsWith('/.') ? '.' : path.posix.basename(path.posix.join('/', p)) || '/';
      const out = begin(stat);
      const pack = tar.pack();
      const piping = pipePack(pack, out);
      try {
        await new Packer(t, pack).add(parts, st, rebase === '/' ? '.' : rebase);
        pack.finalize();
      } catch (err) {
        pack.destroy(err as Error);
        throw err;
      }
      await piping;
    });
    this.d.events.publish('container', 'archive-path', c.id, { ...c.record.config.Labels, image: c.record.config.Image, name: c.name });
  }

  /** PUT archive: extracts a tar into a directory of the container. */
  async put(idOrName: string, p: string, input: Readable, opts: { noOverwriteDirNonDir: boolean; copyUIDGID: boolean }): Promise<void> {
    const c = this.d.store.get(idOrName);
    if (!p) throw new InvalidParameterError('bad parameter: path cannot be empty');
    await this.withTree(c, async (t) => {
      let dest: string[];
      try {
        dest = resolveIn(t, p, true);
      } catch (err) {
        if (err instanceof InvalidParameterError) throw err;
        throw notFound(p, c);
      }
      const st = t.lstat(dest);
      if (!st) throw notFound(p, c);
      if (!st.isDirectory()) throw new InvalidParameterError('extraction point is not a directory');
      this.checkWritable(c, '/' + dest.join('/'));
      let owner: { uid: number; gid: number } | undefined;
      if (opts.copyUIDGID && c.record.config.User) {
        const rootFd = t.openDir([]);
        try {
          const u = await resolveUser(fdPath(rootFd), c.record.config.User, [], { forRuntime: false });
          owner = { uid: u.uid, gid: u.gid };
        } finally {
          fs.closeSync(rootFd);
        }
      }
      await new Extractor(t, dest, opts.noOverwriteDirNonDir, owner).run(input);
    });
    this.d.events.publish('container', 'extract-to-dir', c.id, { ...c.record.config.Labels, image: c.record.config.Image, name: c.name });
  }

  private checkWritable(c: Container, abs: string): void {
    const m = c.record.mounts
      .filter((x) => abs === x.Destination || abs.startsWith(x.Destination.endsWith('/') ? x.Destination : x.Destination + '/'))
      .sort((a, b) => b.Destination.length - a.Destination.length)[0];
    if (m) {
      if (!m.RW) throw new InvalidParameterError('mounted volume is marked read-only');
      return;
    }
    if (c.record.hostConfig.ReadonlyRootfs) throw new InvalidParameterError('container rootfs is marked read-only');
  }
}

/** Writes a tar of a resolved path (recursing into directories, hard links kept as links). */
class Packer {
  private readonly inodes = new Map<string, string>();

  constructor(
    private readonly t: ContainerTree,
    private readonly pack: tar.Pack,
  ) {}

  async add(parts: string[], st: fs.Stats, name: string): Promise<void> {
    const header: Hdr = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime };
    if (st.isDirectory()) {
      await this.entry({ ...header, name: name.endsWith('/') ? name : `${name}/`, type: 'directory' });
      const dir = this.t.openDir(parts);
      let names: string[];
      try {
        // Kernel filesystems a running container has mounted (proc, sysfs, devpts, ...) are archived
        // as empty folders, as dockerd's view of the rootfs shows them.
        names = isKernelFs(fdPath(dir)) ? [] : fs.readdirSync(fdPath(dir)).sort();
      } finally {
        fs.closeSync(dir);
      }
      for (const child of names) {
        const cparts = [...parts, child];
        const cst = this.t.lstat(cparts);
        if (!cst) continue; // vanished meanwhile
        await this.add(cparts, cst, name === '.' ? `./${child}` : `${name}/${child}`);
      }
      return;
    }
    if (st.isSymbolicLink()) {
      await this.entry({ ...header, type: 'symlink', linkname: this.t.readlink(parts) });
      return;
    }
    if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? this.inodes.get(key) : undefined;
      if (first !== undefined) {
        await this.entry({ ...header, type: 'link', linkname: first });
        return;
      }
      // lstat said "file"; what is there now may differ (a FIFO swapped in): it is opened only if it
      // still is a regular file, and archived as whatever fstat says otherwise.
      const opened = this.t.open(parts, { label: '/' + parts.join('/') });
      if (!opened) return; // vanished meanwhile
      if (opened.kind === 'other') {
        if (!opened.stat.isFile()) await this.add(parts, opened.stat, name);
        return;
      }
      if (st.nlink > 1) this.inodes.set(key, name);
      const size = opened.stat.size;
      const header2: Hdr = { ...header, mode: opened.stat.mode & 0o7777, uid: opened.stat.uid, gid: opened.stat.gid, mtime: opened.stat.mtime };
      const stream = regularFileStream(opened.fd, size, { label: '/' + parts.join('/') });
      await new Promise<void>((resolve, reject) => {
        const w = this.pack.entry({ ...header2, type: 'file', size }, (err) => (err ? reject(err) : resolve()));
        if (size === 0) {
          stream.destroy();
          w.end(Buffer.alloc(0));
          return;
        }
        stream.on('error', reject);
        // A listener, so a pack torn down mid-entry (client gone) rejects here instead of throwing from pipe.
        w.on('error', (err) => {
          stream.destroy();
          reject(err);
        });
        stream.pipe(w);
      });
      return;
    }
    if (st.isFIFO()) await this.entry({ ...header, type: 'fifo' });
    else if (st.isCharacterDevice() || st.isBlockDevice()) {
      const rdev = BigInt(st.rdev);
      const devmajor = Number((rdev >> 8n) & 0xfffn);
      const devminor = Number((rdev & 0xffn) | ((rdev >> 12n) & 0xfff00n));
      await this.entry({ ...header, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor, devminor });
    }
    // Sockets cannot be archived; tar skips them too.
  }

  private entry(h: Hdr): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pack.entry(h, (err) => (err ? reject(err) : resolve()));
    });
  }
}

/** statfs f_type magics of filesystems whose contents are the kernel's, not the container's. */
const KERNEL_FS = new Set([
  0x9fa0, // proc
  0x62656572, // sysfs
  0x1cd1, // devpts
  0x19800202, // mqueue
  0x27e0eb, // cgroup
  0x63677270, // cgroup2
  0x73636673, // securityfs
  0x64626720, // debugfs
  0x74726163, // tracefs
  0xcafe4a11, // bpf
]);

function isKernelFs(p: string): boolean {
  try {
    return KERNEL_FS.has(fs.statfsSync(p).type);
  } catch {
    return false;
  }
}

function entryParts(name: string): string[] {
  const parts = pathComponents(name.replace(/\\/g, '/'));
  // Like `tar`, never follow ".." out of the destination: such an archive is refused.
  const out: string[] = [];
  for (const p of parts) {
    if (p === '..') {
      if (out.length === 0) throw new InvalidParameterError(`invalid archive entry ${JSON.stringify(name)}: path escapes the destination directory`);
      out.pop();
    } else out.push(p);
  }
  return out;
}

/** Extracts a tar into a container directory, every path resolved inside the container. */
class Extractor {
  private readonly dirTimes: Array<[string[], Date]> = [];

  constructor(
    private readonly t: ContainerTree,
    private readonly dest: string[],
    private readonly noOverwriteDirNonDir: boolean,
    private readonly owner: { uid: number; gid: number } | undefined,
  ) {}

  async run(input: Readable): Promise<void> {
    const ex = extractTar(input);
    try {
      for await (const entry of ex) {
        try {
          await this.entry(entry.header, entry);
        } finally {
          entry.resume();
        }
      }
    } catch (err) {
      input.unpipe();
      input.resume();
      if ((err as Error).message?.includes('Invalid tar header') || (err as Error).message?.includes('Unexpected end of data')) {
        throw new InvalidParameterError(`invalid tar archive: ${(err as Error).message}`);
      }
      throw err;
    }
    for (const [parts, mtime] of this.dirTimes.reverse()) {
      try {
        const dir = this.t.openDir(parts);
        try {
          fs.futimesSync(dir, mtime, mtime);
        } finally {
          fs.closeSync(dir);
        }
      } catch {
        /* best effort, as tar */
      }
    }
  }

  private async entry(h: Hdr, body: AsyncIterable<unknown>): Promise<void> {
    const sparse = h.type === 'file' || h.type === 'contiguous-file' ? sparseInfo(h as tar.Header) : undefined;
    if (sparse) h = { ...h, name: sparse.name };
    const rel = entryParts(h.name);
    if (h.type === 'link') entryParts(h.linkname ?? '');
    if (rel.length === 0) return; // the destination itself
    // Parents are resolved inside the container: a link among them (even to "/") stays in it.
    const parent = resolveIn(this.t, '/' + [...this.dest, ...rel.slice(0, -1)].join('/'), true, true);
    const name = rel[rel.length - 1]!;
    const dir = this.t.openDir(parent);
    try {
      const target = fdPath(dir, name);
      const existing = lstatOrUndefined(target);
      const isDir = h.type === 'directory';
      if (existing) {
        if (this.noOverwriteDirNonDir && existing.isDirectory() && !isDir) throw new InvalidParameterError(`cannot overwrite directory "${'/' + [...parent, name].join('/')}" with non-directory "${h.name}"`);
        if (this.noOverwriteDirNonDir && !existing.isDirectory() && isDir) throw new InvalidParameterError(`cannot overwrite non-directory "${'/' + [...parent, name].join('/')}" with directory "${h.name}"`);
        if (!(existing.isDirectory() && isDir)) fs.rmSync(target, { recursive: true, force: true });
      }
      const uid = this.owner?.uid ?? h.uid ?? 0;
      const gid = this.owner?.gid ?? h.gid ?? 0;
      const mode = (h.mode ?? (isDir ? 0o755 : 0o644)) & 0o7777;
      switch (h.type) {
        case 'directory': {
          if (!existing?.isDirectory()) fs.mkdirSync(target, { mode: 0o700 });
          const fd = fs.openSync(target, O.O_RDONLY | O.O_DIRECTORY | O.O_NOFOLLOW);
          try {
            fs.fchownSync(fd, uid, gid);
            fs.fchmodSync(fd, mode);
          } finally {
            fs.closeSync(fd);
          }
          if (h.mtime) this.dirTimes.push([[...parent, name], h.mtime]);
          return;
        }
        case 'file':
        case 'contiguous-file':
        case undefined:
        case null: {
          const fd = fs.openSync(target, O.O_WRONLY | O.O_CREAT | O.O_EXCL | O.O_NOFOLLOW, 0o600);
          try {
            if (sparse) await writeSparse(fd, sparse, body, h.size ?? 0);
            else {
              for await (const c of body) {
                const chunk = c as Buffer;
                let off = 0;
                while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
              }
            }
            fs.fchownSync(fd, uid, gid);
            fs.fchmodSync(fd, mode);
            if (h.mtime) fs.futimesSync(fd, h.mtime, h.mtime);
          } finally {
            fs.closeSync(fd);
          }
          return;
        }
        case 'symlink':
          fs.symlinkSync(h.linkname ?? '', target);
          fs.lchownSync(target, uid, gid);
          if (h.mtime) fs.lutimesSync(target, h.mtime, h.mtime);
          return;
        case 'link': {
          const lparts = entryParts(h.linkname ?? '');
          if (lparts.length === 0) throw new InvalidParameterError(`invalid archive entry ${JSON.stringify(h.name)}: hard link to the destination directory`);
          const lparent = resolveIn(this.t, '/' + [...this.dest, ...lparts.slice(0, -1)].join('/'), true);
          const ldir = this.t.openDir(lparent);
          try {
            // link(2) does not follow a link at the source: a hard link to a symlink stays a link to it.
            fs.linkSync(fdPath(ldir, lparts[lparts.length - 1]), target);
          } finally {
            fs.closeSync(ldir);
          }
          return;
        }
        case 'fifo':
        case 'character-device':
        case 'block-device':
          throw new InvalidParameterError(`cannot copy ${h.type} ${JSON.stringify(h.name)} into a container`);
        default:
          return;
      }
    } catch (err) {
      if (err instanceof InvalidParameterError || err instanceof NotFoundError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EROFS') throw new InvalidParameterError('container rootfs is marked read-only');
      throw new SystemError(`extracting ${JSON.stringify(h.name)}: ${(err as Error).message}`, { cause: err });
    } finally {
      fs.closeSync(dir);
    }
  }
}

function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p);
  } catch {
    return undefined;
  }
}
