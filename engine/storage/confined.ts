/**
 * The one way berthd reads files that someone else controls: a container's root filesystem
 * (running or stopped), its upper directory, an image's layers, a build context. Such a tree can
 * hold a FIFO where a file is expected (opening it blocks until a writer comes — on the main
 * thread that froze the whole daemon), a device node (opening it reads, rewinds or arms a host
 * device the container itself may not touch), a file of any size, or links swapped in while we
 * look. Every read through this module:
 *
 *  - resolves the path itself, inside the root (storage/rootpath.ts: links are read relative to
 *    the root, `..` stops there), then walks it component by component from the root's descriptor,
 *    each step opened relative to the previous one with O_NOFOLLOW — a link swapped in meanwhile
 *    makes the step fail, it never leads out (/proc/self/fd/N/name is Node's stand-in for openat);
 *  - opens the final name with O_PATH, which opens nothing: no FIFO wait, no device open;
 *  - fstats that handle and goes on only for a regular file within the size cap, reopening it
 *    through /proc/self/fd/N — the very inode just checked, whatever is renamed meanwhile — with
 *    O_RDONLY | O_NONBLOCK | O_NOCTTY;
 *  - reads on libuv's thread pool, never on the main thread, under a timeout.
 *
 * Use it for every such read (and add new ones here rather than beside it):
 *
 *   await readConfinedFile(rootfs, '/etc/passwd', { maxBytes: MiB })    // Buffer, or undefined if absent
 *   const root = ConfinedRoot.open(dir);                                // a tree, for several operations
 *   try {
 *     const parts = root.resolve('/app/src', true);
 *     const o = root.open(parts);                                       // { kind: 'file', fd, stat } | { kind: 'other', stat }
 *     if (o?.kind === 'file') regularFileStream(o.fd, o.stat.size).pipe(out);
 *   } finally { root.close(); }
 *   await walkConfined(upperDir, async (e) => { ... openAt(e.dirFd, e.name) ... })  // commit, diff
 *
 * Name lookups (open with O_PATH, lstat, readlink) stay synchronous: they never wait on a FIFO or a
 * device. A FUSE filesystem mounted by a privileged container could still stall them; default
 * containers cannot mount one.
 */
import fs from 'node:fs';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { InvalidParameterError } from '../errdefs.js';
import { resolveComponents, type RootTree } from './rootpath.js';

const O = fs.constants;

/** Linux's O_PATH (Node does not export it): a handle on a name that opens nothing. */
export const O_PATH = 0o10000000;

const PEEK = O_PATH | O.O_NOFOLLOW;
/** Directories are really opened (readdir, futimes need it); O_DIRECTORY refuses anything else before any open. */
const DIR = O.O_RDONLY | O.O_DIRECTORY | O.O_NOFOLLOW | O.O_NONBLOCK;
const READ = O.O_RDONLY | O.O_NONBLOCK | O.O_NOCTTY;

export const MiB = 1024 * 1024;
/** Default cap for a whole-file read (passwd, group, hosts...). */
export const DEFAULT_MAX_BYTES = MiB;
/** Default bound on one read of a regular file: local filesystems answer in microseconds. */
export const DEFAULT_TIMEOUT_MS = 5_000;

export type UntrustedReason = 'not-regular' | 'too-large' | 'timeout';

/** A file that is not what a reader may safely read. A 400: the request named (or met) a file it cannot have. */
export class UntrustedFileError extends InvalidParameterError {
  constructor(
    readonly reason: UntrustedReason,
    readonly file: string,
    message: string,
  ) {
    super(message);
  }
}

export function fdPath(fd: number, name?: string): string {
  return name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`;
}

/** What a non-regular file is, in words for messages. */
export function kindOf(st: fs.Stats): string {
  if (st.isFIFO()) return 'a named pipe';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a directory';
  return 'not a regular file';
}

function notRegular(file: string, st: fs.Stats): UntrustedFileError {
  return new UntrustedFileError('not-regular', file, `${file} is ${kindOf(st)}, not a regular file`);
}

function tooLarge(file: string, size: number, max: number): UntrustedFileError {
  return new UntrustedFileError('too-large', file, `${file} is too large (${size} bytes; at most ${max} are read)`);
}

function closeQuietly(fd: number): void {
  try {
    fs.closeSync(fd);
  } catch {
    /* already closed */
  }
}

const isMissing = (err: unknown) => {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
};

/** The result of opening a name: a readable regular file, or what was there instead (never opened). */
export type Opened = { kind: 'file'; fd: number; stat: fs.Stats } | { kind: 'other'; stat: fs.Stats };

export interface OpenOptions {
  /** Refuse regular files larger than this (UntrustedFileError 'too-large'). */
  maxBytes?: number;
  /** For messages: the path as its owner sees it. */
  label?: string;
}

/**
 * Turns an O_PATH handle (closed here) into what it names: a readable descriptor if fstat says
 * regular file, else just the stat. The reopen goes through the handle, so it opens that inode.
 */
function fromHandle(handle: number, opts: OpenOptions, label: string): Opened {
  try {
    const stat = fs.fstatSync(handle);
    if (!stat.isFile()) return { kind: 'other', stat };
    if (opts.maxBytes !== undefined && stat.size > opts.maxBytes) throw tooLarge(label, stat.size, opts.maxBytes);
    const fd = fs.openSync(fdPath(handle), READ);
    return { kind: 'file', fd, stat };
  } finally {
    closeQuietly(handle);
  }
}

/**
 * Opens `name` inside the directory descriptor dirFd without following a link and without opening
 * anything but a regular file. undefined when nothing is there.
 */
export function openAt(dirFd: number, name: string, opts: OpenOptions = {}): Opened | undefined {
  if (name.includes('/') || name === '' || name === '.' || name === '..') throw new InvalidParameterError(`invalid file name ${JSON.stringify(name)}`);
  let handle: number;
  try {
    handle = fs.openSync(fdPath(dirFd, name), PEEK);
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
  return fromHandle(handle, opts, opts.label ?? name);
}

/**
 * Opens a file at a host path whose directories are ours (the daemon's data root) but whose content
 * someone else writes — the hosts file a container has mounted, say: not followed if it is a link,
 * and opened only if it is a regular file.
 */
export function openUntrustedPath(file: string, opts: OpenOptions = {}): Opened | undefined {
  let handle: number;
  try {
    handle = fs.openSync(file, PEEK);
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
  return fromHandle(handle, opts, opts.label ?? file);
}

function readAsync(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<number> {
  return new Promise((resolve, reject) => fs.read(fd, buf, off, len, pos, (err, n) => (err ? reject(err) : resolve(n))));
}

/**
 * One read on the thread pool, bounded in time. The descriptor stays the caller's; `settled` is the
 * read itself, which may outlive a timeout: close the descriptor only after it (closing earlier could
 * let the pending read hit another file that reused the number).
 */
function readBounded(fd: number, buf: Buffer, off: number, len: number, pos: number, timeoutMs: number, label: string): { result: Promise<number>; settled: Promise<unknown> } {
  const reading = readAsync(fd, buf, off, len, pos);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new UntrustedFileError('timeout', label, `reading ${label} timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  const result = Promise.race([reading, timeout]).finally(() => clearTimeout(timer));
  return { result, settled: reading.catch(() => undefined) };
}

export interface ReadOptions {
  /** At most this many bytes are read (a file that grew past it after the check is cut). */
  maxBytes?: number;
  timeoutMs?: number;
  label?: string;
}

/** Reads an opened regular file whole (up to maxBytes) off the main thread. Closes fd. */
export async function readOpened(fd: number, size: number, opts: ReadOptions = {}): Promise<Buffer> {
  const max = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const label = opts.label ?? `fd ${fd}`;
  const chunks: Buffer[] = [];
  let total = 0;
  let last: Promise<unknown> = Promise.resolve();
  try {
    // Sized by fstat, then read to EOF: a file that changed meanwhile is read as it is now, never past max.
    let want = Math.min(Math.max(size, 4096), max);
    while (total < max) {
      const buf = Buffer.allocUnsafe(Math.min(want, max - total));
      const r = readBounded(fd, buf, 0, buf.length, total, timeoutMs, label);
      last = r.settled;
      const n = await r.result;
      if (n === 0) break;
      chunks.push(n === buf.length ? buf : buf.subarray(0, n));
      total += n;
      want = 64 * 1024;
    }
  } finally {
    void last.finally(() => closeQuietly(fd));
  }
  return Buffer.concat(chunks, total);
}

export interface StreamOptions {
  /** Bound on each read. */
  timeoutMs?: number;
  label?: string;
  chunkSize?: number;
}

/**
 * A stream of exactly `size` bytes of an opened regular file, read on the thread pool: a file that
 * shrank meanwhile is padded with zeros, one that grew is cut, so a tar entry sized by fstat stays
 * well-formed. Closes fd when done or destroyed.
 */
export function regularFileStream(fd: number, size: number, opts: StreamOptions = {}): Readable {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const label = opts.label ?? `fd ${fd}`;
  const chunk = opts.chunkSize ?? 256 * 1024;
  let pos = 0;
  let eof = false;
  let inFlight: Promise<unknown> = Promise.resolve();
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    // After any read still on the pool has returned (see readOpened).
    void inFlight.finally(() => closeQuietly(fd));
  };
  return new Readable({
    highWaterMark: chunk,
    read() {
      if (pos >= size) {
        this.push(null);
        close();
        return;
      }
      const len = Math.min(chunk, size - pos);
      if (eof) {
        pos += len;
        this.push(Buffer.alloc(len));
        return;
      }
      const buf = Buffer.allocUnsafe(len);
      const r = readBounded(fd, buf, 0, len, pos, timeoutMs, label);
      inFlight = r.settled;
      r.result.then(
        (n) => {
          if (n === 0) {
            eof = true;
            buf.fill(0);
            n = len;
          }
          pos += n;
          this.push(n === len ? buf : buf.subarray(0, n));
        },
        (err: Error) => this.destroy(err),
      );
    },
    destroy(err, cb) {
      close();
      cb(err);
    },
  });
}

export interface MountMap {
  /** Container path of the mount point ("/data"). */
  dest: string;
  /** Host directory mounted there (a volume or bind source the API user chose). */
  source: string;
}

/**
 * A directory tree opened at its root, its paths resolved inside it (RootTree, for
 * storage/rootpath.resolveComponents). Mount points can be mapped by hand for a stopped
 * container's rootfs, where its volumes are not mounted.
 */
export class ConfinedRoot implements RootTree {
  private constructor(
    private readonly rootFd: number,
    private readonly mounts: readonly MountMap[],
  ) {}

  /** Opens the root itself; `dir` is the daemon's own path (a rootfs, /proc/<pid>/root) and may be followed. */
  static open(dir: string, mounts: readonly MountMap[] = []): ConfinedRoot {
    return new ConfinedRoot(fs.openSync(dir, O_PATH | O.O_DIRECTORY), mounts);
  }

  close(): void {
    closeQuietly(this.rootFd);
  }

  private mountAt(parts: string[]): MountMap | undefined {
    if (this.mounts.length === 0) return undefined;
    const p = '/' + parts.join('/');
    return this.mounts.find((m) => m.dest === p);
  }

  /** Opens the directory at resolved components (none of them a link); the caller closes it. */
  openDir(parts: string[]): number {
    let fd = fs.openSync(fdPath(this.rootFd), O.O_RDONLY | O.O_DIRECTORY);
    try {
      for (let i = 0; i < parts.length; i++) {
        const mount = this.mountAt(parts.slice(0, i + 1));
        const next = mount ? fs.openSync(mount.source, O.O_RDONLY | O.O_DIRECTORY) : fs.openSync(fdPath(fd, parts[i]), DIR);
        fs.closeSync(fd);
        fd = next;
      }
      return fd;
    } catch (err) {
      closeQuietly(fd);
      throw err;
    }
  }

  /** Runs fn with the parent directory of parts open (parts must not be empty). */
  private inParent<T>(parts: string[], fn: (dirFd: number, name: string) => T): T {
    const dir = this.openDir(parts.slice(0, -1));
    try {
      return fn(dir, parts[parts.length - 1]!);
    } finally {
      closeQuietly(dir);
    }
  }

  lstat(parts: string[]): fs.Stats | undefined {
    if (parts.length === 0) return fs.fstatSync(this.rootFd);
    const mount = this.mountAt(parts);
    if (mount) return fs.statSync(mount.source);
    try {
      return this.inParent(parts, (dir, name) => fs.lstatSync(fdPath(dir, name)));
    } catch {
      return undefined;
    }
  }

  readlink(parts: string[]): string {
    return this.inParent(parts, (dir, name) => fs.readlinkSync(fdPath(dir, name)));
  }

  /** Makes a missing directory (mode 0755, root-owned), as tar extraction does. */
  mkdir(parts: string[]): void {
    this.inParent(parts, (dir, name) => {
      try {
        fs.mkdirSync(fdPath(dir, name), { mode: 0o755 });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    });
  }

  /** Resolves a path to components free of links (RootPathError on a loop). */
  resolve(p: string, followFinal: boolean, create = false): string[] {
    return resolveComponents(this, p, followFinal, create);
  }

  /** Opens resolved components: a readable regular file or what is there instead; undefined if nothing is. */
  open(parts: string[], opts: OpenOptions = {}): Opened | undefined {
    if (parts.length === 0) return { kind: 'other', stat: fs.fstatSync(this.rootFd) };
    const label = opts.label ?? '/' + parts.join('/');
    let dir: number;
    try {
      dir = this.openDir(parts.slice(0, -1));
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
    try {
      return openAt(dir, parts[parts.length - 1]!, { ...opts, label });
    } finally {
      closeQuietly(dir);
    }
  }

  /**
   * Reads a whole small file by its path as the tree's owner sees it (links followed inside the
   * root). undefined if it does not exist; UntrustedFileError if it is not a regular file, is larger
   * than maxBytes or does not answer in time.
   */
  async readFile(p: string, opts: ReadOptions = {}): Promise<Buffer | undefined> {
    const max = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    let parts: string[];
    try {
      parts = this.resolve(p, true);
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
    const label = opts.label ?? p;
    const o = this.open(parts, { maxBytes: max, label });
    if (!o) return undefined;
    if (o.kind === 'other') throw notRegular(label, o.stat);
    return readOpened(o.fd, o.stat.size, { ...opts, maxBytes: max, label });
  }
}

/** Reads one small file inside a root (see ConfinedRoot.readFile). */
export async function readConfinedFile(root: string, p: string, opts: ReadOptions = {}): Promise<Buffer | undefined> {
  const tree = ConfinedRoot.open(root);
  try {
    return await tree.readFile(p, opts);
  } finally {
    tree.close();
  }
}

/** Reads a small file at a host path whose content someone else controls (see openUntrustedPath). */
export async function readUntrustedFile(file: string, opts: ReadOptions = {}): Promise<Buffer | undefined> {
  const max = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const label = opts.label ?? file;
  const o = openUntrustedPath(file, { maxBytes: max, label });
  if (!o) return undefined;
  if (o.kind === 'other') throw notRegular(label, o.stat);
  return readOpened(o.fd, o.stat.size, { ...opts, maxBytes: max, label });
}

export interface WalkEntry {
  /** Path relative to the walked root ("etc/passwd"). */
  rel: string;
  name: string;
  /** lstat of the entry when it was listed. */
  stat: fs.Stats;
  /** The parent directory, open during the visit: openAt(dirFd, name), readlinkAt(dirFd, name). */
  dirFd: number;
}

const openAsync = promisify(fs.open) as (p: string, flags: number) => Promise<number>;
const lstatAsync = promisify(fs.lstat);
const readdirAsync = promisify(fs.readdir) as (p: string) => Promise<string[]>;

export function readlinkAt(dirFd: number, name: string): string {
  return fs.readlinkSync(fdPath(dirFd, name));
}

/**
 * Walks a tree someone else may be changing (an upper directory of a running container) in lexical
 * order, depth first, each directory opened from its parent's descriptor with O_NOFOLLOW — a
 * directory swapped for a link is skipped, never followed. The visitor returns false to skip a
 * directory's contents. Listing and stats run on the thread pool.
 */
export async function walkConfined(root: string, visit: (e: WalkEntry) => Promise<boolean | void> | boolean | void): Promise<void> {
  const rootFd = await openAsync(root, O.O_RDONLY | O.O_DIRECTORY);
  const walk = async (dirFd: number, rel: string): Promise<void> => {
    const names = (await readdirAsync(fdPath(dirFd))).sort();
    for (const name of names) {
      let stat: fs.Stats;
      try {
        stat = await lstatAsync(fdPath(dirFd, name));
      } catch (err) {
        if (isMissing(err)) continue; // removed while we walked
        throw err;
      }
      const r = rel === '' ? name : `${rel}/${name}`;
      const descend = (await visit({ rel: r, name, stat, dirFd })) !== false;
      if (!descend || !stat.isDirectory()) continue;
      let child: number;
      try {
        child = await openAsync(fdPath(dirFd, name), DIR);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') continue; // replaced meanwhile
        throw err;
      }
      try {
        await walk(child, r);
      } finally {
        closeQuietly(child);
      }
    }
  };
  try {
    await walk(rootFd, '');
  } finally {
    closeQuietly(rootFd);
  }
}

/**
 * walkConfined on the calling thread, for quick metadata-only walks (sizes): the same rule — each
 * directory opened from its parent with O_NOFOLLOW, so a directory swapped for a link to the host's
 * `/` is skipped instead of walked.
 */
export function walkConfinedSync(root: string, visit: (e: WalkEntry) => boolean | void): void {
  let rootFd: number;
  try {
    rootFd = fs.openSync(root, O.O_RDONLY | O.O_DIRECTORY);
  } catch (err) {
    if (isMissing(err)) return;
    throw err;
  }
  const walk = (dirFd: number, rel: string): void => {
    let names: string[];
    try {
      names = fs.readdirSync(fdPath(dirFd));
    } catch {
      return;
    }
    for (const name of names) {
      let stat: fs.Stats;
      try {
        stat = fs.lstatSync(fdPath(dirFd, name));
      } catch {
        continue;
      }
      const r = rel === '' ? name : `${rel}/${name}`;
      if (visit({ rel: r, name, stat, dirFd }) === false || !stat.isDirectory()) continue;
      let child: number;
      try {
        child = fs.openSync(fdPath(dirFd, name), DIR);
      } catch {
        continue; // replaced meanwhile
      }
      try {
        walk(child, r);
      } finally {
        closeQuietly(child);
      }
    }
  };
  try {
    walk(rootFd, '');
  } finally {
    closeQuietly(rootFd);
  }
}
