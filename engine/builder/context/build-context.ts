/**
 * The build context: the uploaded tar (plain, gzip, bzip2 or xz), written to
 * one spool file in a single sequential pass while an index of its entries is
 * built in memory — with each file's TarSum, as dockerd computes it while
 * extracting. Nothing is extracted: COPY reads content from the spool by
 * offset, and every path is resolved inside the index (links interpreted
 * relative to the context root, `..` stopping there), so a hostile context
 * can never make the daemon read a host file.
 *
 * Limits make a hostile upload fail cleanly: names that climb out of the
 * context, sparse files and oversized extension headers are refused; the
 * uncompressed size, the entry count and the expansion ratio of compressed
 * uploads (a gzip bomb) are bounded.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path, { posix } from 'node:path';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import { decompress, detectCompression, peek } from '../../images/compression.js';
import { resolveComponents, type RootTree } from '../../storage/rootpath.js';
import { TarFormatError, TarParser, type TarHeader, type TarType } from './tar-parser.js';
import { startTarsum, type TarsumFields } from './tarsum.js';
import type { Hash } from 'node:crypto';
import { Spool } from './spool.js';
import { PatternMatcher, readIgnoreFile } from '../dockerignore.js';

export interface ContextLimits {
  /** Uncompressed bytes accepted. */
  maxSize: number;
  /** Bytes held in memory before the context is spooled to disk. */
  memory: number;
  /** Entries accepted. */
  maxEntries: number;
  /** A compressed upload may expand this many times once it is past ratioFloor bytes. */
  maxRatio: number;
  /** Below `memory`, so a bomb is refused while its bytes are still in memory: it never holds more than this, nor touches the disk. */
  ratioFloor: number;
}

export const DEFAULT_LIMITS: ContextLimits = {
  maxSize: 32 * 1024 ** 3,
  memory: 160 * 1024 ** 2,
  maxEntries: 2_000_000,
  maxRatio: 200,
  ratioFloor: 64 * 1024 ** 2,
};

export class BuildContextError extends Error {
  /** Entries read before the error (an ADD source that is no archive at all fails at the first). */
  entriesRead = 0;
}

/** What the files of the context share when hard-linked: content and metadata. */
export interface Inode {
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  dataOffset: number;
  xattrs: Record<string, string>;
}

export interface ContextEntry {
  /** Clean path relative to the context ("." for the root). */
  path: string;
  type: TarType;
  inode: Inode;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** What the entry's TarSum covers: its header as uploaded and its own content; undefined for implied directories. */
  hashed: { fields: TarsumFields; offset: number; size: number } | undefined;
  /** The TarSum, once computed (lazily: only what COPY and ADD use is ever hashed). */
  sum?: string;
  /** Hard link: path of the entry it shares its inode with. */
  linkTarget?: string;
  /** Children by name (directories). */
  children?: Map<string, ContextEntry>;
}

/**
 * TarSums computed while the upload arrives (the client packing the context is the slow
 * side, so hashing then costs no time); what is not chosen is hashed lazily if a step asks.
 */
export interface EagerHashing {
  /** The Dockerfile's path in the context: until it has arrived, every entry is hashed. */
  dockerfile: string;
  /** Which entries to hash from then on, given the Dockerfile's content. */
  choose(dockerfile: Buffer): (path: string) => boolean;
}

/** The Dockerfile is read for choose() only up to this size (it is parsed again later). */
const EAGER_DOCKERFILE_LIMIT = 1024 * 1024;

export interface ContextProgress {
  /** Bytes received (as uploaded, before decompression). */
  received: number;
}

/** Go's path.Clean of an archive name, relative to the context; undefined for the root. */
export function cleanEntryName(name: string): string | undefined {
  const clean = posix.normalize('/' + name).replace(/\/+$/, '');
  return clean === '' ? undefined : clean.slice(1);
}

function climbsOut(name: string): boolean {
  const parts: string[] = [];
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (parts.length === 0) return true;
      parts.pop();
    } else parts.push(p);
  }
  return false;
}

const rootInode = (): Inode => ({ mode: 0o755, uid: 0, gid: 0, mtime: Math.floor(Date.now() / 1000), size: 0, dataOffset: 0, xattrs: {} });

export class BuildContext {
  readonly root: ContextEntry = { path: '.', type: 'dir', inode: rootInode(), linkname: '', devmajor: 0, devminor: 0, hashed: undefined, children: new Map() };
  /** Entries indexed so far. */
  entryCount = 0;
  /** Bytes of the uncompressed tar. */
  size = 0;
  /** Bytes as uploaded. */
  received = 0;

  private constructor(
    private readonly spool: Spool | undefined,
    private readonly limits: ContextLimits,
  ) {}

  /** An empty context (builds from a remote Dockerfile have none). */
  static empty(): BuildContext {
    return new BuildContext(undefined, DEFAULT_LIMITS);
  }

  /**
   * Reads an upload into a spool file under spoolDir and indexes it.
   * Throws BuildContextError for anything it refuses.
   */
  static async read(input: Readable, spoolDir: string, opts: { limits?: Partial<ContextLimits>; signal?: AbortSignal; onProgress?: (p: ContextProgress) => void; hashing?: EagerHashing } = {}): Promise<BuildContext> {
    const limits = { ...DEFAULT_LIMITS, ...opts.limits };
    await fsp.mkdir(spoolDir, { recursive: true, mode: 0o700 });
    const spool = new Spool(path.join(spoolDir, `context-${randomBytes(8).toString('hex')}.tar`), limits.memory);
    const ctx = new BuildContext(spool, limits);
    let received = 0;
    const indexer = new Indexer(ctx, spool, limits, () => received, opts.hashing);
    try {
      const compressed = detectCompression(await peek(input)) !== 'none';
      let source: Readable = input;
      if (compressed) {
        // Compressed bytes are counted for the expansion-ratio limit (plain tars skip this stage).
        const counter = new Transform({
          transform(chunk: Buffer, _enc, cb) {
            received += chunk.length;
            cb(null, chunk);
          },
        });
        input.on('error', (err) => counter.destroy(err));
        source = (await decompress(input.pipe(counter))).stream;
      }
      indexer.compressed = compressed;
      await pipeline(source, indexer.writable(), ...(opts.signal ? [{ signal: opts.signal }] : []));
      ctx.received = compressed ? received : indexer.parser.position;
      indexer.finish();
      ctx.size = indexer.parser.position;
      return ctx;
    } catch (err) {
      // Stops the upload and any decompressor process reading it.
      input.destroy(err as Error);
      await spool.close();
      const fail = (message: string) => Object.assign(new BuildContextError(message), { entriesRead: ctx.entryCount });
      if (err instanceof TarFormatError) throw fail(`Error processing tar file: ${err.message}`);
      if (err instanceof BuildContextError) throw Object.assign(err, { entriesRead: ctx.entryCount });
      if ((err as Error).name === 'AbortError') throw err;
      const msg = (err as Error).message;
      if (/incorrect header check|unexpected end of file|invalid|corrupt|decompressing/i.test(msg)) throw fail(`Error processing tar file: ${msg}`);
      throw err;
    }
  }

  /** Drops the spooled bytes (and the spool file). */
  async close(): Promise<void> {
    await this.spool?.close();
  }

  // ---- index -----------------------------------------------------------------

  /** @internal the indexer's way in */
  addEntry(name: string, h: TarHeader, dataOffset: number): ContextEntry {
    if (++this.entryCount > this.limits.maxEntries) throw new BuildContextError(`the build context has more than ${this.limits.maxEntries} entries`);
    if (climbsOut(name)) throw new BuildContextError(`Error processing tar file: ${JSON.stringify(h.name)} is outside of the build context`);
    const clean = cleanEntryName(name);
    const mode = h.mode & 0o7777;
    if (clean === undefined) {
      // The context root's own entry: only its metadata matters.
      if (h.type === 'dir') Object.assign(this.root.inode, { mode, uid: h.uid, gid: h.gid, mtime: h.mtime, xattrs: h.xattrs });
      return this.root;
    }
    const parts = clean.split('/');
    const parent = this.ensureParents(parts.slice(0, -1), clean);
    const base = parts[parts.length - 1]!;
    const existing = parent.children!.get(base);
    let inode: Inode = { mode, uid: h.uid, gid: h.gid, mtime: h.mtime, size: h.type === 'file' ? h.size : 0, dataOffset, xattrs: h.xattrs };
    let linkTarget: string | undefined;
    if (h.type === 'link') {
      if (climbsOut(h.linkname)) throw new BuildContextError(`Error processing tar file: invalid hardlink ${JSON.stringify(h.linkname)} outside of the build context`);
      const target = this.entry(cleanEntryName(h.linkname) ?? '.');
      if (!target || target.type === 'dir') throw new BuildContextError(`Error processing tar file: hardlink ${JSON.stringify(h.name)} -> ${JSON.stringify(h.linkname)}: no such file in the archive before it`);
      // A hard link shares the inode: the link's header metadata is applied to it, as extraction would.
      Object.assign(target.inode, { mode, uid: h.uid, gid: h.gid, mtime: h.mtime });
      inode = target.inode;
      linkTarget = target.linkTarget ?? target.path;
    }
    const entry: ContextEntry = {
      path: clean,
      type: h.type === 'link' ? this.entry(linkTarget!)!.type : h.type,
      inode,
      linkname: h.type === 'symlink' ? h.linkname : '',
      devmajor: h.devmajor,
      devminor: h.devminor,
      // uname and gname never count for an uploaded context (dockerd's tarsum blanks them).
      hashed: { fields: { ...h, uname: '', gname: '' }, offset: dataOffset, size: h.type === 'file' ? h.size : 0 },
      ...(linkTarget ? { linkTarget } : {}),
    };
    if (h.type === 'dir') entry.children = existing?.type === 'dir' && existing.children ? existing.children : new Map();
    parent.children!.set(base, entry);
    return entry;
  }

  private ensureParents(parts: string[], forName: string): ContextEntry {
    let cur = this.root;
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i]!;
      let next = cur.children!.get(name);
      if (!next) {
        next = { path: parts.slice(0, i + 1).join('/'), type: 'dir', inode: rootInode(), linkname: '', devmajor: 0, devminor: 0, hashed: undefined, children: new Map() };
        cur.children!.set(name, next);
        this.entryCount++;
      } else if (next.type !== 'dir') {
        throw new BuildContextError(`Error processing tar file: ${JSON.stringify(forName)}: ${JSON.stringify(next.path)} is not a directory`);
      }
      cur = next;
    }
    return cur;
  }

  /** The entry at a clean path (no link resolution). */
  entry(p: string): ContextEntry | undefined {
    if (p === '.' || p === '') return this.root;
    let cur: ContextEntry | undefined = this.root;
    for (const part of p.split('/')) {
      if (part === '' || part === '.') continue;
      cur = cur?.children?.get(part);
      if (!cur) return undefined;
    }
    return cur;
  }

  /** Removes an entry (and what is below it). */
  remove(p: string): void {
    const clean = cleanEntryName(p);
    if (!clean) return;
    const parent = this.entry(posix.dirname(clean));
    parent?.children?.delete(posix.basename(clean));
  }

  /** The context as a tree for rootpath's resolver: links are followed inside the context only. */
  tree(): RootTree {
    const fake = (e: ContextEntry) => ({ isSymbolicLink: () => e.type === 'symlink', isDirectory: () => e.type === 'dir' }) as fs.Stats;
    return {
      lstat: (parts) => {
        const e = this.entry(parts.join('/'));
        return e ? fake(e) : undefined;
      },
      readlink: (parts) => this.entry(parts.join('/'))?.linkname ?? '',
    };
  }

  /** Resolves a path the way dockerd's ResolveScopedPath does: links followed, never leaving the context. */
  resolve(p: string, followFinal = true): string {
    const parts = resolveComponents(this.tree(), p, followFinal);
    return parts.length === 0 ? '.' : parts.join('/');
  }

  /** Stat through links: the entry a path finally names. */
  stat(p: string): ContextEntry | undefined {
    return this.entry(this.resolve(p, true));
  }

  /**
   * dockerd's archive-context Hash: the TarSum of the path a name resolves to,
   * or the name itself when the archive holds no sum for it (an implied
   * directory, a dangling link).
   */
  async hash(p: string): Promise<string> {
    const resolved = this.resolve(p, true);
    const e = this.entry(resolved);
    if (!e || !e.hashed || e === this.root) return cleanEntryName(p) ?? '.';
    return this.sumOf(e);
  }

  /** The TarSum of an entry: sha256 of its header fields and content. */
  private async sumOf(e: ContextEntry): Promise<string> {
    if (e.sum) return e.sum;
    const h = startTarsum(e.hashed!.fields);
    if (e.hashed!.size > 0 && this.spool) await this.spool.feed(e.hashed!.offset, e.hashed!.size, (c) => h.update(c));
    e.sum = h.digest('hex');
    return e.sum;
  }

  /** Pre-order walk in lexical order, not following links (filepath.Walk). */
  *walk(from: ContextEntry = this.root): Generator<ContextEntry> {
    yield from;
    if (from.type !== 'dir' || !from.children) return;
    for (const name of [...from.children.keys()].sort(byteOrder)) yield* this.walk(from.children.get(name)!);
  }

  /** A file's content from the spool. */
  read(e: ContextEntry): Readable {
    if (!this.spool || e.inode.size === 0) return Readable.from([]);
    return this.spool.read(e.inode.dataOffset, e.inode.size);
  }

  async readAll(e: ContextEntry, limit = 16 * 1024 * 1024): Promise<Buffer> {
    if (e.inode.size > limit) throw new BuildContextError(`${e.path} is larger than ${limit} bytes`);
    if (e.inode.size === 0 || !this.spool) return Buffer.alloc(0);
    return this.spool.readAll(e.inode.dataOffset, e.inode.size);
  }

  // ---- Dockerfile and .dockerignore ---------------------------------------------

  /**
   * Reads the Dockerfile (followed through links inside the context), falling back
   * to `dockerfile` for the default name, as dockerd does.
   */
  async dockerfile(name: string): Promise<{ name: string; content: Buffer }> {
    const e = this.stat(name);
    if (!e || e.type !== 'file') {
      if (name === 'Dockerfile') {
        const lower = this.stat('dockerfile');
        if (lower && lower.type === 'file') return { name: 'dockerfile', content: await this.readAll(lower) };
      }
      throw new BuildContextError(`Cannot locate specified Dockerfile: ${name}`);
    }
    return { name, content: await this.readAll(e) };
  }

  /**
   * Applies .dockerignore to the context (the CLI already did; raw API clients may
   * not have). The Dockerfile was read before, so ignoring it only keeps it out of COPY.
   */
  async applyDockerignore(): Promise<string[]> {
    const e = this.stat('.dockerignore');
    if (!e || e.type !== 'file') return [];
    const patterns = readIgnoreFile(await this.readAll(e));
    let matcher: PatternMatcher;
    try {
      matcher = new PatternMatcher(patterns);
    } catch (err) {
      throw new BuildContextError(`invalid .dockerignore: ${(err as Error).message}`);
    }
    if (matcher.empty) return patterns;
    const drop: string[] = [];
    for (const entry of this.walk()) {
      if (entry === this.root) continue;
      if (matcher.matches(entry.path)) drop.push(entry.path);
    }
    // A dropped directory may still hold re-included paths: keep those (and their parents, implied).
    for (const p of drop) {
      const entry = this.entry(p);
      if (!entry) continue;
      if (entry.type === 'dir' && matcher.hasExclusions && matcher.mayReinclude(p)) {
        entry.hashed = undefined;
        delete entry.sum;
        Object.assign(entry.inode, rootInode());
        continue;
      }
      this.remove(p);
    }
    return patterns;
  }
}

/** Go's string order (bytes), not locale order. */
export function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** One stage: limits, the tar parser building the index, the spool keeping the bytes. */
class Indexer {
  readonly parser: TarParser;
  compressed = false;
  private total = 0;

  /** Entries hashed as they arrive (all until the Dockerfile is seen); undefined: none. */
  private wanted: ((path: string) => boolean) | undefined;
  /** The entry being hashed, and the Dockerfile's bytes while they arrive. */
  private hashing: { entry: ContextEntry; hash: Hash } | undefined;
  private dockerfile: Buffer[] | undefined;

  constructor(
    ctx: BuildContext,
    private readonly spool: Spool,
    private readonly limits: ContextLimits,
    private readonly compressedBytes: () => number,
    eager?: EagerHashing,
  ) {
    const dockerfileName = eager ? cleanEntryName(eager.dockerfile) : undefined;
    if (eager) this.wanted = () => true;
    this.parser = new TarParser({
      entry: (h, offset) => {
        if (h.type === 'file' && h.size > limits.maxSize) throw new BuildContextError(`build context entry ${JSON.stringify(h.name)} is larger than the ${limits.maxSize}-byte limit`);
        const e = ctx.addEntry(h.name, h, offset);
        if (e === ctx.root || !e.hashed) return;
        if (eager && e.path === dockerfileName && h.type === 'file' && h.size <= EAGER_DOCKERFILE_LIMIT) this.dockerfile = [];
        if (this.wanted?.(e.path)) this.hashing = { entry: e, hash: startTarsum(e.hashed.fields) };
      },
      data: (chunk) => {
        this.hashing?.hash.update(chunk);
        this.dockerfile?.push(chunk);
      },
      entryEnd: () => {
        if (this.hashing) {
          this.hashing.entry.sum = this.hashing.hash.digest('hex');
          this.hashing = undefined;
        }
        if (this.dockerfile) {
          this.wanted = eager!.choose(Buffer.concat(this.dockerfile));
          this.dockerfile = undefined;
        }
      },
    });
  }

  private check(chunk: Buffer): void {
    this.total += chunk.length;
    const limits = this.limits;
    if (this.total > limits.maxSize) throw new BuildContextError(`the build context is larger than the ${limits.maxSize}-byte limit`);
    if (!this.compressed) return;
    const packed = this.compressedBytes();
    if (packed > 0 && this.total > limits.ratioFloor && this.total > packed * limits.maxRatio) {
      throw new BuildContextError(`the build context expands more than ${limits.maxRatio} times (${packed} compressed bytes became over ${this.total}): refusing what looks like a decompression bomb`);
    }
  }

  writable(): Writable {
    const take = (chunk: Buffer): Promise<void> | void => {
      this.check(chunk);
      // After the end-of-archive blocks, nothing more is read (or spooled).
      if (this.parser.finished) return;
      this.parser.push(chunk);
      return this.spool.append(chunk);
    };
    return new Writable({
      highWaterMark: 1 << 20,
      write: (chunk: Buffer, _enc, cb) => {
        try {
          const p = take(chunk);
          if (p) p.then(() => cb(), cb);
          else cb();
        } catch (err) {
          cb(err as Error);
        }
      },
      writev: (list, cb) => {
        void (async () => {
          for (const { chunk } of list) await take(chunk as Buffer);
        })().then(() => cb(), cb);
      },
    });
  }

  finish(): void {
    this.parser.end();
  }
}
