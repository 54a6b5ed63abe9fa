/**
 * Where COPY and ADD read from — the build context, another image or stage
 * (`--from`), a downloaded URL or an inline heredoc — behind one interface,
 * with the content hash each contributes to the cache key computed as dockerd
 * does: the uploaded TarSum for the context; for files read from disk (an
 * image, a download) the TarSum of the header Go's archive.FileInfoHeader
 * makes (with file-type bits in the mode and the owner names this host gives
 * the IDs).
 */
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { posix } from 'node:path';
import { resolveComponents, type RootTree } from '../storage/rootpath.js';
import type { FileStat, ImageFS } from './backend.js';
import { byteOrder, type BuildContext, type ContextEntry, type Inode } from './context/build-context.js';
import { tarsumHeader } from './context/tarsum.js';

export interface CopySource {
  readonly kind: 'context' | 'image' | 'remote' | 'inline';
  /** The clean path p names once links are followed inside the source ('.' for the root). */
  resolve(p: string, followFinal?: boolean): string;
  lstat(rel: string): FileStat | undefined;
  /** Names in a directory, in Go's byte order. */
  readdir(rel: string): string[];
  open(rel: string): Readable;
  /** dockerd's Source.Hash of a path. */
  hash(p: string): Promise<string>;
}

const parts = (rel: string) => (rel === '.' || rel === '' ? [] : rel.split('/'));
const join = (comps: string[]) => (comps.length === 0 ? '.' : comps.join('/'));

function treeOf(lstat: (rel: string) => FileStat | undefined, readlink: (rel: string) => string): RootTree {
  return {
    lstat: (p) => {
      const st = lstat(join(p));
      return st ? ({ isSymbolicLink: () => st.type === 'symlink', isDirectory: () => st.type === 'dir' } as fs.Stats) : undefined;
    },
    readlink: (p) => readlink(join(p)),
  };
}

// ---- the build context ---------------------------------------------------------

const inodeIds = new WeakMap<Inode, string>();
let nextInode = 0;
function inodeId(i: Inode): string {
  let id = inodeIds.get(i);
  if (!id) {
    id = `ctx-${++nextInode}`;
    inodeIds.set(i, id);
  }
  return id;
}

export function contextStat(e: ContextEntry): FileStat {
  const xattrs: Record<string, Buffer> = {};
  for (const [k, v] of Object.entries(e.inode.xattrs)) xattrs[k] = Buffer.from(v, 'latin1');
  return {
    type: e.type === 'link' ? 'file' : e.type,
    mode: e.inode.mode,
    uid: e.inode.uid,
    gid: e.inode.gid,
    size: e.inode.size,
    mtime: e.inode.mtime,
    linkname: e.linkname,
    devmajor: e.devmajor,
    devminor: e.devminor,
    xattrs,
    inode: inodeId(e.inode),
  };
}

export class ContextSource implements CopySource {
  readonly kind = 'context';
  constructor(readonly ctx: BuildContext) {}

  resolve(p: string, followFinal = true): string {
    return this.ctx.resolve(p, followFinal);
  }
  lstat(rel: string): FileStat | undefined {
    const e = this.ctx.entry(rel);
    return e ? contextStat(e) : undefined;
  }
  readdir(rel: string): string[] {
    return [...(this.ctx.entry(rel)?.children?.keys() ?? [])].sort(byteOrder);
  }
  open(rel: string): Readable {
    const e = this.ctx.entry(rel);
    if (!e) throw new Error(`${rel}: no such file in the build context`);
    return this.ctx.read(e);
  }
  hash(p: string): Promise<string> {
    return this.ctx.hash(p);
  }
}

// ---- files on disk: an image, a download ------------------------------------------

/** Owner names of this host (Go's os/user lookups that archive/tar does). */
class HostNames {
  private users: Map<number, string> | undefined;
  private groups: Map<number, string> | undefined;
  private load(file: string): Map<number, string> {
    const m = new Map<number, string>();
    try {
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        const f = line.split(':');
        if (f.length < 3 || f[0]!.startsWith('#')) continue;
        const id = Number(f[2]);
        if (Number.isInteger(id) && !m.has(id)) m.set(id, f[0]!);
      }
    } catch {
      /* no names */
    }
    return m;
  }
  user(uid: number): string {
    this.users ??= this.load('/etc/passwd');
    return this.users.get(uid) ?? '';
  }
  group(gid: number): string {
    this.groups ??= this.load('/etc/group');
    return this.groups.get(gid) ?? '';
  }
}
export const hostNames = new HostNames();

const typeBits: Record<FileStat['type'], number> = { file: 0o100000, dir: 0o40000, symlink: 0o120000, char: 0o20000, block: 0o60000, fifo: 0o10000 };
const typeflags: Record<FileStat['type'], string> = { file: '0', dir: '5', symlink: '2', char: '3', block: '4', fifo: '6' };

/** TarSum of a file read from disk, with the header Go's FileInfoHeader would write for it. */
export async function diskFileHash(name: string, st: FileStat, content: () => Readable): Promise<string> {
  const h = createHash('sha256');
  h.update(
    tarsumHeader({
      name: st.type === 'dir' ? name + '/' : name,
      mode: typeBits[st.type] | st.mode,
      uid: st.uid,
      gid: st.gid,
      size: st.type === 'file' ? st.size : 0,
      typeflag: typeflags[st.type],
      linkname: st.type === 'symlink' ? st.linkname : '',
      uname: hostNames.user(st.uid),
      gname: hostNames.group(st.gid),
      devmajor: st.type === 'char' || st.type === 'block' ? st.devmajor : 0,
      devminor: st.type === 'char' || st.type === 'block' ? st.devminor : 0,
      xattrs: {},
    }),
  );
  const cap = st.xattrs['security.capability'];
  if (cap) h.update('security.capability').update(cap);
  if (st.type === 'file' && st.size > 0) for await (const chunk of content()) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** An image's files (COPY --from), hashed lazily like dockerd's lazySource. */
export class ImageSource implements CopySource {
  readonly kind = 'image';
  private readonly sums = new Map<string, string>();
  constructor(
    readonly imageId: string,
    private readonly fs: ImageFS,
  ) {}

  resolve(p: string, followFinal = true): string {
    return join(resolveComponents(treeOf((r) => this.lstat(r), (r) => this.fs.readlink(parts(r))), p, followFinal));
  }
  lstat(rel: string): FileStat | undefined {
    return this.fs.lstat(parts(rel));
  }
  readdir(rel: string): string[] {
    return this.fs.readdir(parts(rel)).sort(byteOrder);
  }
  open(rel: string): Readable {
    return this.fs.open(parts(rel));
  }
  async hash(p: string): Promise<string> {
    const rel = this.resolve(p, true);
    const st = this.lstat(rel);
    // A missing file (a dangling link) hashes as its path, for backwards compatibility.
    if (!st) return rel;
    let sum = this.sums.get(rel);
    if (!sum) {
      sum = await diskFileHash(rel, st, () => this.open(rel));
      this.sums.set(rel, sum);
    }
    return sum;
  }
}

/** One file: an ADD download (spooled to disk) or a COPY heredoc (in memory). */
export class SingleFileSource implements CopySource {
  private readonly st: FileStat;
  constructor(
    readonly kind: 'remote' | 'inline',
    private readonly name: string,
    private readonly data: Buffer | { file: string; size: number },
    opts: { mode: number; mtime: number },
  ) {
    const size = Buffer.isBuffer(data) ? data.length : data.size;
    this.st = { type: 'file', mode: opts.mode, uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0, size, mtime: opts.mtime, linkname: '', devmajor: 0, devminor: 0, xattrs: {}, inode: `single-${name}-${Math.random()}` };
  }
  resolve(p: string): string {
    return posix.normalize(p).replace(/^\/+/, '') || '.';
  }
  lstat(rel: string): FileStat | undefined {
    if (rel === '.') return { ...this.st, type: 'dir', mode: 0o700, size: 0 };
    return rel === this.name ? this.st : undefined;
  }
  readdir(rel: string): string[] {
    return rel === '.' ? [this.name] : [];
  }
  open(): Readable {
    return Buffer.isBuffer(this.data) ? Readable.from([this.data]) : fs.createReadStream(this.data.file, { highWaterMark: 1 << 20 });
  }
  async hash(p: string): Promise<string> {
    const rel = this.resolve(p);
    const st = this.lstat(rel);
    if (!st) return rel;
    return diskFileHash(rel, st, () => this.open());
  }
}

/** Pre-order walk of a source from rel, lexical, not following links (filepath.Walk). */
export function* walkSource(src: CopySource, rel: string): Generator<string> {
  const st = src.lstat(rel);
  if (!st) return;
  yield rel;
  if (st.type !== 'dir') return;
  for (const name of src.readdir(rel)) yield* walkSource(src, rel === '.' ? name : `${rel}/${name}`);
}
