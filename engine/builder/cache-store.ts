/**
 * The build cache's bookkeeping: which images builds made (only those are
 * cache candidates, as moby's IsBuiltLocally — a loaded or pulled image
 * never is), when each was made and last hit, how often. Kept in
 * <data-root>/builder/cache.json (atomic writes, debounced), pruned of images
 * that are gone. The entries that are cache, their sizes, `docker builder
 * prune` and the BuildCache of `docker system df` are worked out here from
 * the image store.
 */
import path from 'node:path';
import { readJsonIfExists, writeJsonAtomic } from '../storage/atomic.js';
import type { ImageStore, Image } from '../images/store.js';
import { Filters, parseTimestamp } from '../api/filters.js';
import { InvalidParameterError } from '../errdefs.js';

export interface CacheRecord {
  createdAt: string;
  lastUsedAt: string;
  usageCount: number;
}

interface CacheFile {
  version: 1;
  images: Record<string, CacheRecord>;
}

/** One item of the BuildCache list of /system/df (API below 1.52). */
export interface BuildCacheItem {
  ID: string;
  Parent: string;
  Parents: string[];
  Type: string;
  Description: string;
  InUse: boolean;
  Shared: boolean;
  Size: number;
  CreatedAt: string;
  LastUsedAt: string;
  UsageCount: number;
}

/** POST /build/prune's answer. */
export interface BuildCachePruneReport {
  CachesDeleted: string[] | null;
  SpaceReclaimed: number;
}

export interface PruneOptions {
  all: boolean;
  filters: Filters;
  /** Keep at most this many bytes of cache (0: no limit). */
  keepStorage: number;
  /** Prune until the disk has this many bytes free (0: no such goal). */
  minFreeSpace?: number;
  /** Free bytes on the disk (for minFreeSpace). */
  freeBytes?: number;
}

const PRUNE_FILTERS = ['until', 'id', 'parent', 'type', 'description', 'inuse', 'shared', 'private'];

export class BuildCacheStore {
  private records = new Map<string, CacheRecord>();
  private saveTimer: NodeJS.Timeout | undefined;
  private saving: Promise<void> = Promise.resolve();
  private readonly file: string;

  constructor(
    dir: string,
    private readonly images: ImageStore,
    /** Images running containers (or a build) use right now. */
    private readonly inUse: () => Set<string>,
  ) {
    this.file = path.join(dir, 'cache.json');
  }

  async init(): Promise<void> {
    const f = await readJsonIfExists<CacheFile>(this.file);
    for (const [id, r] of Object.entries(f?.images ?? {})) if (this.images.get(id)) this.records.set(id, r);
  }

  private scheduleSave(): void {
    if (this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      void this.flush();
    }, 200);
    this.saveTimer.unref();
  }

  /** Writes the records now (also at shutdown). */
  async flush(): Promise<void> {
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
    }
    const out: CacheFile = { version: 1, images: Object.fromEntries(this.records) };
    this.saving = this.saving.then(() => writeJsonAtomic(this.file, out)).catch(() => undefined);
    await this.saving;
  }

  /** A build made this image. */
  add(id: string): void {
    if (this.records.has(id)) return;
    const now = new Date().toISOString();
    this.records.set(id, { createdAt: now, lastUsedAt: now, usageCount: 0 });
    this.scheduleSave();
  }

  builtLocally(id: string): boolean {
    return this.records.has(id) && this.images.get(id) !== undefined;
  }

  hit(id: string): void {
    const r = this.records.get(id);
    if (!r) return;
    r.lastUsedAt = new Date().toISOString();
    r.usageCount++;
    this.scheduleSave();
  }

  /** Locally built children of parentId ('' for images without a parent). */
  children(parentId: string): Image[] {
    const out: Image[] = [];
    for (const id of this.records.keys()) {
      const img = this.images.get(id);
      if (img && (img.record.parent ?? '') === parentId) out.push(img);
    }
    return out;
  }

  private forget(): void {
    let changed = false;
    for (const id of this.records.keys()) {
      if (!this.images.get(id)) {
        this.records.delete(id);
        changed = true;
      }
    }
    if (changed) this.scheduleSave();
  }

  /**
   * The cache: images builds made that carry no tag (the intermediate images, and
   * results whose tag moved on). Size is the layer each added, counted when no other
   * image (a tagged one, a container's) still needs it.
   */
  items(): BuildCacheItem[] {
    this.forget();
    const used = this.inUse();
    const tagged = this.images.all().filter((i) => this.images.references(i.id).length > 0 || used.has(i.id));
    const neededLayers = new Set<string>();
    for (const img of tagged) for (let c = img.topLayer; c; c = this.images.layers.get(c)?.parent ?? null) neededLayers.add(c);
    const out: BuildCacheItem[] = [];
    for (const [id, r] of this.records) {
      const img = this.images.get(id);
      if (!img || this.images.references(id).length > 0) continue;
      const parent = img.record.parent ? this.images.get(img.record.parent) : undefined;
      const ownLayer = img.topLayer !== null && img.topLayer !== (parent?.topLayer ?? null) ? img.topLayer : null;
      const size = ownLayer ? (this.images.layers.get(ownLayer)?.size ?? 0) : 0;
      const history = img.config.history ?? [];
      const hex = id.replace(/^sha256:/, '');
      out.push({
        ID: hex.slice(0, 25),
        Parent: img.record.parent ? img.record.parent.replace(/^sha256:/, '').slice(0, 25) : '',
        Parents: img.record.parent ? [img.record.parent.replace(/^sha256:/, '').slice(0, 25)] : [],
        Type: 'regular',
        Description: history[history.length - 1]?.created_by ?? '',
        InUse: used.has(id),
        Shared: ownLayer !== null && neededLayers.has(ownLayer),
        Size: size,
        CreatedAt: r.createdAt,
        LastUsedAt: r.lastUsedAt,
        UsageCount: r.usageCount,
      });
    }
    return out.sort((a, b) => (a.LastUsedAt < b.LastUsedAt ? -1 : 1));
  }

  private idOf(item: BuildCacheItem): string | undefined {
    for (const id of this.records.keys()) if (id.replace(/^sha256:/, '').startsWith(item.ID)) return id;
    return undefined;
  }

  /** `docker builder prune`: unused cache (without `all`, only what no tagged image builds on). */
  async prune(opts: PruneOptions, remove: (imageId: string) => Promise<number>): Promise<BuildCachePruneReport> {
    const f = opts.filters;
    for (const k of f.keys()) if (!PRUNE_FILTERS.includes(k)) throw new InvalidParameterError(`invalid filter '${k}'`);
    const until = f.get('until').map((u) => parseTimestamp(u));
    const ancestorsOfTagged = new Set<string>();
    for (const img of this.images.all()) {
      if (this.images.references(img.id).length === 0) continue;
      for (let p = img.record.parent; p && !ancestorsOfTagged.has(p); p = this.images.get(p)?.record.parent) ancestorsOfTagged.add(p);
    }
    let items = this.items().filter((i) => !i.InUse);
    items = items.filter((i) => {
      const id = this.idOf(i);
      if (!id) return false;
      if (!opts.all && ancestorsOfTagged.has(id)) return false;
      if (until.length > 0 && !until.every((t) => Date.parse(i.LastUsedAt) < t)) return false;
      if (f.has('id') && !f.get('id').some((v) => id.replace(/^sha256:/, '').startsWith(v.replace(/^sha256:/, '')))) return false;
      if (f.has('parent') && !f.get('parent').some((v) => i.Parent.startsWith(v.replace(/^sha256:/, '')))) return false;
      if (f.has('type') && !f.get('type').includes(i.Type)) return false;
      if (f.has('description') && !f.get('description').some((v) => i.Description.includes(v))) return false;
      if (f.has('shared') && (f.bool('shared') ?? false) !== i.Shared) return false;
      if (f.has('private') && (f.bool('private') ?? false) === i.Shared) return false;
      return true;
    });
    if (f.has('inuse') && f.bool('inuse') === true) items = [];
    // With a storage goal, the least recently used go first until what is left fits.
    const total = this.items().reduce((n, i) => n + i.Size, 0);
    let goal: number | undefined = opts.keepStorage > 0 ? opts.keepStorage : undefined;
    if (opts.minFreeSpace) {
      const need = opts.minFreeSpace - (opts.freeBytes ?? Infinity);
      const g = need > 0 ? Math.max(0, total - need) : total;
      goal = goal === undefined ? g : Math.min(goal, g);
    }
    if (goal !== undefined) {
      let left = total;
      const pick: BuildCacheItem[] = [];
      for (const i of items) {
        if (left <= goal) break;
        pick.push(i);
        left -= i.Size;
      }
      items = pick;
    }
    const deleted: string[] = [];
    let reclaimed = 0;
    // Children before parents, so a chain goes in one pass.
    const ids = items.map((i) => this.idOf(i)!).filter(Boolean);
    const depth = (id: string) => {
      let n = 0;
      for (let p = this.images.get(id)?.record.parent; p; p = this.images.get(p)?.record.parent) n++;
      return n;
    };
    ids.sort((a, b) => depth(b) - depth(a));
    for (const id of ids) {
      if (!this.images.get(id)) continue;
      try {
        reclaimed += await remove(id);
        this.records.delete(id);
        deleted.push(id.replace(/^sha256:/, '').slice(0, 25));
      } catch {
        /* in use after all: kept */
      }
    }
    this.scheduleSave();
    return { CachesDeleted: deleted.length > 0 ? deleted : null, SpaceReclaimed: reclaimed };
  }
}
