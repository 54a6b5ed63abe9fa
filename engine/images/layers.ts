/**
 * Layer store for overlayfs: each distinct layer is unpacked once into
 * layers/<chainID>/diff and shared by every image built on it. A layer is
 * published by renaming a fully extracted temp dir, so an interrupted unpack
 * never shows up as a layer. Short symlinks under l/ keep overlay mount
 * options under the kernel's one-page limit.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { Transform, type Readable } from 'node:stream';
import { InvalidParameterError } from '../errdefs.js';
import { writeJsonAtomic } from '../storage/atomic.js';
import { KeyedMutex } from '../concurrency/mutex.js';
import { extractLayer } from './extract.js';
import type { Logger } from '../daemon/log.js';

export interface LayerMeta {
  chainID: string;
  diffID: string;
  parent: string | null;
  /** Unpacked content size in bytes. */
  size: number;
  /** Name of the short link under l/. */
  short: string;
  created: string;
}

export function chainIDOf(parent: string | null, diffID: string): string {
  if (parent === null) return diffID;
  return 'sha256:' + createHash('sha256').update(`${parent} ${diffID}`).digest('hex');
}

/** ChainIDs for a list of diffIDs, bottom layer first. */
export function chainIDs(diffIDs: readonly string[]): string[] {
  const out: string[] = [];
  let parent: string | null = null;
  for (const d of diffIDs) {
    parent = chainIDOf(parent, d);
    out.push(parent);
  }
  return out;
}

const hex = (digest: string) => digest.replace(/^sha256:/, '');

function shortName(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const bytes = randomBytes(26);
  let s = '';
  for (const b of bytes) s += alphabet[b % alphabet.length];
  return s;
}

export class LayerStore {
  private readonly layers = new Map<string, LayerMeta>();
  private readonly publishing = new KeyedMutex();
  readonly root: string;

  constructor(
    root: string,
    private readonly log: Logger,
  ) {
    this.root = root;
  }

  private dir(chainID: string): string {
    return path.join(this.root, 'layers', hex(chainID));
  }

  diffPath(chainID: string): string {
    return path.join(this.dir(chainID), 'diff');
  }

  async init(): Promise<void> {
    for (const d of ['layers', 'l', 'containers']) await fsp.mkdir(path.join(this.root, d), { recursive: true });
    await fsp.rm(path.join(this.root, 'tmp'), { recursive: true, force: true });
    await fsp.mkdir(path.join(this.root, 'tmp'), { recursive: true });
    for (const name of await fsp.readdir(path.join(this.root, 'layers'))) {
      try {
        const meta = JSON.parse(await fsp.readFile(path.join(this.root, 'layers', name, 'meta.json'), 'utf8')) as LayerMeta;
        this.layers.set(meta.chainID, meta);
        await this.ensureLink(meta);
      } catch (err) {
        this.log.warn('ignoring unreadable layer', { layer: name, err: (err as Error).message });
      }
    }
  }

  private async ensureLink(meta: LayerMeta): Promise<void> {
    const link = path.join(this.root, 'l', meta.short);
    const target = path.join('..', 'layers', hex(meta.chainID), 'diff');
    try {
      if ((await fsp.readlink(link)) === target) return;
      await fsp.rm(link, { force: true });
    } catch {
      /* missing */
    }
    await fsp.symlink(target, link);
  }

  has(chainID: string): boolean {
    return this.layers.has(chainID);
  }

  get(chainID: string): LayerMeta | undefined {
    return this.layers.get(chainID);
  }

  all(): LayerMeta[] {
    return [...this.layers.values()];
  }

  /**
   * Unpacks an uncompressed layer tar on top of parent. When expectedDiffID is
   * given the content must hash to it.
   */
  async register(parent: string | null, tar: Readable, expectedDiffID?: string): Promise<LayerMeta> {
    // Listen before the first await: a tar that fails while the folder is made (a pull whose blob
    // failed verification) would otherwise emit an unhandled error and leave the extraction waiting.
    let failed: Error | undefined;
    let hasher: Transform | undefined;
    tar.on('error', (err) => {
      failed ??= err;
      hasher?.destroy(err);
    });
    if (parent !== null && !this.layers.has(parent)) throw new Error(`parent layer ${parent} does not exist`);
    const tmp = path.join(this.root, 'tmp', randomBytes(8).toString('hex'));
    try {
      await fsp.mkdir(path.join(tmp, 'diff'), { recursive: true, mode: 0o755 });
      if (failed) throw failed;
      if (tar.destroyed) throw new Error('the layer stream was closed before it was read');
      const hash = createHash('sha256');
      hasher = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          hash.update(chunk);
          cb(null, chunk);
        },
      });
      const stats = await extractLayer(tar.pipe(hasher), path.join(tmp, 'diff'));
      const diffID = 'sha256:' + hash.digest('hex');
      if (expectedDiffID !== undefined && expectedDiffID !== diffID) {
        throw new InvalidParameterError(`layer content does not match its DiffID: expected ${expectedDiffID}, got ${diffID}`);
      }
      const chainID = chainIDOf(parent, diffID);
      // Concurrent registrations of the same layer (two loads) publish it once.
      return await this.publishing.run(chainID, async () => {
        const existing = this.layers.get(chainID);
        if (existing) return existing;
        const meta: LayerMeta = { chainID, diffID, parent, size: stats.size, short: shortName(), created: new Date().toISOString() };
        await writeJsonAtomic(path.join(tmp, 'meta.json'), meta);
        await fsp.rename(tmp, this.dir(chainID));
        await this.ensureLink(meta);
        this.layers.set(chainID, meta);
        return meta;
      });
    } finally {
      await fsp.rm(tmp, { recursive: true, force: true });
    }
  }

  /** Removes a layer no image uses any more. */
  async remove(chainID: string): Promise<void> {
    await this.publishing.run(chainID, async () => {
      const meta = this.layers.get(chainID);
      if (!meta) return;
      this.layers.delete(chainID);
      await fsp.rm(path.join(this.root, 'l', meta.short), { force: true });
      const trash = path.join(this.root, 'tmp', `rm-${randomBytes(8).toString('hex')}`);
      await fsp.rename(this.dir(chainID), trash);
      await fsp.rm(trash, { recursive: true, force: true });
    });
  }

  /** Short lowerdir names (relative to root), topmost first, for the overlay mount. */
  lowerDirs(chainID: string | null): string[] {
    const out: string[] = [];
    let cur = chainID;
    while (cur !== null) {
      const meta = this.layers.get(cur);
      if (!meta) throw new Error(`layer ${cur} is missing`);
      out.push(path.join('l', meta.short));
      cur = meta.parent;
    }
    return out;
  }

  /** Layer chain bottom first. */
  chain(chainID: string | null): LayerMeta[] {
    const out: LayerMeta[] = [];
    let cur = chainID;
    while (cur !== null) {
      const meta = this.layers.get(cur);
      if (!meta) throw new Error(`layer ${cur} is missing`);
      out.unshift(meta);
      cur = meta.parent;
    }
    return out;
  }

  existsOnDisk(chainID: string): boolean {
    return fs.existsSync(this.diffPath(chainID));
  }
}
