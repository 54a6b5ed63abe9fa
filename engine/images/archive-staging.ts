/**
 * An uploaded image archive (`docker load`) staged on disk before anything is
 * trusted. Regular files are written flat, under numbered names in a private
 * directory, and hashed while they are written; the archive's own paths,
 * directories and links live only in memory. Nothing in the archive can
 * therefore write outside the staging directory, and looking a path up
 * resolves the archive's symbolic links inside the archive (moby's
 * FollowSymlinkInScope) without touching the host filesystem.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import tar from 'tar-stream';
import { InvalidParameterError } from '../errdefs.js';
import { entryComponents } from './extract.js';
import { extractTar, sparseInfo } from './tar-sparse.js';

export interface StagedFile {
  /** Where the content is now. */
  file: string;
  size: number;
  digest: string;
}

type TarEntry = tar.ExtractEvents['entry'][1];

type Node = { kind: 'file'; f: StagedFile } | { kind: 'dir' } | { kind: 'symlink'; target: string };

const MAX_ENTRIES = 1_000_000;
const MAX_SYMLINK_HOPS = 255;

export class StagedArchive {
  private readonly nodes = new Map<string, Node>();
  private count = 0;

  private constructor(readonly dir: string) {}

  /** Stages input (an uncompressed tar) into dir, which must not exist yet. */
  static async stage(input: Readable, dir: string): Promise<StagedArchive> {
    await fsp.mkdir(dir, { mode: 0o700 });
    const a = new StagedArchive(dir);
    const ex = extractTar(input);
    let entries = 0;
    try {
      for await (const entry of ex) {
        if (++entries > MAX_ENTRIES) throw new InvalidParameterError(`invalid archive: more than ${MAX_ENTRIES} entries`);
        await a.add(entry);
      }
    } catch (err) {
      input.unpipe(ex);
      ex.destroy();
      if (err instanceof InvalidParameterError) throw err;
      const msg = (err as Error).message;
      // tar-stream's wording for data that is not a tar at all.
      if (/tar header|unexpected end of data|invalid tar|Unexpected end/i.test(msg)) throw new InvalidParameterError(`invalid archive: not a valid tar file (${msg})`);
      throw err;
    }
    if (entries === 0) throw new InvalidParameterError('invalid archive: the archive is empty');
    return a;
  }

  private async add(entry: TarEntry): Promise<void> {
    const h = entry.header;
    const parts = entryComponents(h.name);
    const key = parts.join('/');
    switch (h.type) {
      case 'file':
      case 'contiguous-file': {
        // An image archive's files are layer tars and JSON, never sparse: refused rather than staged wrong.
        if (sparseInfo(h)) throw new InvalidParameterError(`invalid archive: ${JSON.stringify(h.name)} is stored as a sparse file, which an image archive never holds`);
        const file = path.join(this.dir, String(this.count++));
        const hash = createHash('sha256');
        let size = 0;
        const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
        try {
          for await (const chunk of entry as AsyncIterable<Buffer>) {
            hash.update(chunk);
            size += chunk.length;
            let off = 0;
            while (off < chunk.length) off += fs.writeSync(fd, chunk, off, chunk.length - off);
          }
        } finally {
          fs.closeSync(fd);
        }
        this.set(key, { kind: 'file', f: { file, size, digest: 'sha256:' + hash.digest('hex') } });
        return;
      }
      case 'directory':
        if (parts.length > 0) this.set(key, { kind: 'dir' });
        break;
      case 'symlink':
        if (parts.length === 0) throw new InvalidParameterError(`invalid archive: entry ${JSON.stringify(h.name)} replaces the archive root`);
        this.set(key, { kind: 'symlink', target: h.linkname ?? '' });
        break;
      case 'link': {
        const target = this.lookupNoFollow(entryComponents(h.linkname ?? '').join('/'));
        if (!target || target.kind !== 'file') throw new InvalidParameterError(`invalid archive: hard link ${JSON.stringify(h.name)} to ${JSON.stringify(h.linkname)}, which is not a file in the archive`);
        this.set(key, target);
        break;
      }
      default:
        // Devices, fifos and vendor entries carry nothing an image archive needs.
        break;
    }
    entry.resume();
  }

  private set(key: string, node: Node): void {
    if (key === '') throw new InvalidParameterError('invalid archive: entry replaces the archive root');
    this.nodes.set(key, node);
  }

  private lookupNoFollow(key: string): Node | undefined {
    return this.nodes.get(key);
  }

  /** Resolves a path inside the archive, following its symbolic links without ever leaving it. */
  private resolve(name: string): Node | undefined {
    let pending = name.split('/').filter((p) => p !== '' && p !== '.');
    const cur: string[] = [];
    let hops = 0;
    while (pending.length > 0) {
      const part = pending.shift()!;
      if (part === '..') {
        cur.pop();
        continue;
      }
      const key = [...cur, part].join('/');
      const node = this.nodes.get(key);
      if (node?.kind === 'symlink') {
        if (++hops > MAX_SYMLINK_HOPS) throw new InvalidParameterError(`invalid archive: too many levels of symbolic links resolving ${JSON.stringify(name)}`);
        const t = node.target;
        if (t.startsWith('/')) cur.length = 0;
        pending = [...t.split('/').filter((p) => p !== '' && p !== '.'), ...pending];
        continue;
      }
      cur.push(part);
    }
    if (cur.length === 0) return { kind: 'dir' };
    return this.nodes.get(cur.join('/'));
  }

  /** The staged regular file at name (after following links in scope), or undefined. */
  file(name: string): StagedFile | undefined {
    const n = this.resolve(name);
    return n?.kind === 'file' ? n.f : undefined;
  }

  has(name: string): boolean {
    return this.file(name) !== undefined;
  }

  /** Reads a small file (a manifest, a config) with a size cap. */
  async read(name: string, what: string, limit = 8 * 1024 * 1024): Promise<Buffer> {
    const f = this.file(name);
    if (!f) throw new InvalidParameterError(`invalid archive: ${what} ${JSON.stringify(name)} is missing`);
    if (f.size > limit) throw new InvalidParameterError(`invalid archive: ${what} ${JSON.stringify(name)} is too large (${f.size} bytes)`);
    return fsp.readFile(f.file);
  }

  async remove(): Promise<void> {
    await fsp.rm(this.dir, { recursive: true, force: true });
  }
}
