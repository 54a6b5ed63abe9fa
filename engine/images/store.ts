/**
 * Local images: records keyed by image ID (= config digest), the reference
 * store (tags and digests → image ID), lookup by name / ID / ID prefix with
 * Docker's rules, and layer garbage collection when images go away.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError, InvalidParameterError } from '../errdefs.js';
import { Mutex } from '../concurrency/mutex.js';
import { readJsonIfExists, writeJsonAtomic, removeStaleTempFiles } from '../storage/atomic.js';
import type { Logger } from '../daemon/log.js';
import type { BlobStore } from './blobs.js';
import { chainIDs, type LayerStore } from './layers.js';
import { parseImageConfig, type Descriptor, type ImageConfig } from './oci.js';
import { isIdPrefix, parseReference, type Reference } from './reference.js';

export interface ImageRecord {
  id: string;
  /** Local parent (commit/build chains), for "dependent child images" and parent pruning. */
  parent?: string;
  /** When this image was stored or last tagged here (RFC3339). */
  lastTagTime: string;
}

export interface Image {
  id: string;
  config: ImageConfig;
  rawConfig: Buffer;
  record: ImageRecord;
  /** ChainID of the top layer, null for an image without layers. */
  topLayer: string | null;
}

interface RepositoriesFile {
  Repositories: Record<string, Record<string, string>>;
}

const hex = (id: string) => id.replace(/^sha256:/, '');

export class ImageStore {
  private readonly images = new Map<string, Image>();
  /** normalized reference string → image ID */
  private readonly refs = new Map<string, string>();
  private readonly refsMutex = new Mutex();
  private readonly dir: string;
  /** Layers an in-progress operation (load, commit, pull) is building on: chainID → hold count. */
  private readonly held = new Map<string, number>();

  constructor(
    root: string,
    readonly blobs: BlobStore,
    readonly layers: LayerStore,
    private readonly log: Logger,
  ) {
    this.dir = root;
  }

  private recordPath(id: string): string {
    return path.join(this.dir, 'images', `${hex(id)}.json`);
  }

  private layerBlobsPath(diffID: string): string {
    return path.join(this.dir, 'layerblobs', `${hex(diffID)}.json`);
  }

  async init(): Promise<void> {
    await fsp.mkdir(path.join(this.dir, 'images'), { recursive: true });
    await fsp.mkdir(path.join(this.dir, 'layerblobs'), { recursive: true });
    await removeStaleTempFiles(path.join(this.dir, 'images'));
    await removeStaleTempFiles(this.dir);
    for (const name of await fsp.readdir(path.join(this.dir, 'images'))) {
      if (!name.endsWith('.json')) continue;
      try {
        const record = JSON.parse(await fsp.readFile(path.join(this.dir, 'images', name), 'utf8')) as ImageRecord;
        const raw = await this.blobs.read(record.id);
        const config = parseImageConfig(raw);
        const chain = chainIDs(config.rootfs.diff_ids);
        const top = chain.length > 0 ? chain[chain.length - 1]! : null;
        if (top !== null && !this.layers.has(top)) throw new Error(`layer ${top} missing`);
        this.images.set(record.id, { id: record.id, config, rawConfig: raw, record, topLayer: top });
      } catch (err) {
        this.log.warn('ignoring broken image record', { file: name, err: (err as Error).message });
      }
    }
    const repos = await readJsonIfExists<RepositoriesFile>(path.join(this.dir, 'repositories.json'));
    for (const byRepo of Object.values(repos?.Repositories ?? {})) {
      for (const [ref, id] of Object.entries(byRepo)) if (this.images.has(id)) this.refs.set(ref, id);
    }
  }

  /**
   * Layers registered by a load, commit or pull that never became an image
   * (the daemon died in between) are garbage. Called once containers are
   * loaded too, since a container keeps its layers even after its image is deleted.
   */
  async collectOrphanLayers(): Promise<void> {
    const orphans = await this.collectLayers();
    if (orphans.length > 0) this.log.info('removed layers no image uses', { layers: orphans.length });
    await this.sweepBlobs();
  }

  /**
   * Blobs nothing refers to any more — neither an image (its config) nor a
   * local layer (its stored archives) — such as a download that finished just
   * before the daemon died and was never registered.
   */
  private async sweepBlobs(): Promise<void> {
    const referenced = new Set<string>(this.images.keys());
    for (const name of await fsp.readdir(path.join(this.dir, 'layerblobs'))) {
      if (!name.endsWith('.json')) continue;
      for (const d of await this.layerBlobs(`sha256:${name.slice(0, -5)}`)) referenced.add(d.digest);
    }
    let removed = 0;
    for (const digest of await this.blobs.list()) {
      if (referenced.has(digest)) continue;
      await this.blobs.delete(digest);
      removed++;
    }
    if (removed > 0) this.log.info('removed blobs nothing refers to', { blobs: removed });
  }

  private layerUsers: () => Iterable<string | null> = () => [];

  /** Who else keeps layers alive: containers (their top layer; parents follow). */
  setLayerUsers(fn: () => Iterable<string | null>): void {
    this.layerUsers = fn;
  }

  private async saveRefs(): Promise<void> {
    const out: RepositoriesFile = { Repositories: {} };
    for (const [ref, id] of this.refs) {
      const name = ref.replace(/[:@][^/]*$/, '');
      (out.Repositories[name] ??= {})[ref] = id;
    }
    await writeJsonAtomic(path.join(this.dir, 'repositories.json'), out);
  }

  // ---- images ---------------------------------------------------------

  get(id: string): Image | undefined {
    return this.images.get(id);
  }

  all(): Image[] {
    return [...this.images.values()];
  }

  /**
   * Stores an image whose layers are already registered. Idempotent: storing
   * an existing config returns the existing image.
   */
  async create(rawConfig: Buffer, opts: { parent?: string } = {}): Promise<Image> {
    const config = parseImageConfig(rawConfig);
    const chain = chainIDs(config.rootfs.diff_ids);
    const top = chain.length > 0 ? chain[chain.length - 1]! : null;
    if (top !== null && !this.layers.has(top)) throw new InvalidParameterError(`image layers are not all present (missing ${top})`);
    const { digest: id } = await this.blobs.put(rawConfig);
    const existing = this.images.get(id);
    if (existing) return existing;
    const record: ImageRecord = { id, lastTagTime: new Date().toISOString() };
    if (opts.parent && this.images.has(opts.parent)) record.parent = opts.parent;
    await writeJsonAtomic(this.recordPath(id), record);
    const img: Image = { id, config, rawConfig, record, topLayer: top };
    this.images.set(id, img);
    return img;
  }

  /** Records a local parent after the fact (docker load restores commit/build chains). */
  async setParent(id: string, parent: string): Promise<void> {
    const img = this.images.get(id);
    if (!img) throw new NotFoundError(`No such image: ${id}`);
    if (!this.images.has(parent)) throw new NotFoundError(`No such image: ${parent}`);
    if (img.record.parent === parent) return;
    img.record.parent = parent;
    await writeJsonAtomic(this.recordPath(id), img.record);
  }

  children(id: string): Image[] {
    return this.all().filter((i) => i.record.parent === id);
  }

  /** Removes the image record and any layers and blobs nothing else uses. Returns removed layer chain IDs. */
  async delete(id: string): Promise<string[]> {
    const img = this.images.get(id);
    if (!img) throw new NotFoundError(`No such image: ${id}`);
    this.images.delete(id);
    await fsp.rm(this.recordPath(id), { force: true });
    for (const c of this.children(id)) {
      delete c.record.parent;
      await writeJsonAtomic(this.recordPath(c.id), c.record);
    }
    await this.blobs.delete(id);
    return this.collectLayers();
  }

  /**
   * Protects layers (and their parents) from garbage collection until the
   * returned release function is called: an operation that registers layers
   * before it creates the image on them holds them meanwhile.
   */
  holdLayers(chainIDs: Iterable<string | null>): () => void {
    const ids = [...chainIDs].filter((c): c is string => c !== null);
    for (const c of ids) this.held.set(c, (this.held.get(c) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const c of ids) {
        const n = (this.held.get(c) ?? 1) - 1;
        if (n <= 0) this.held.delete(c);
        else this.held.set(c, n);
      }
    };
  }

  /** Removes layers no image uses and nothing holds. Returns their chain IDs. */
  async pruneLayers(): Promise<string[]> {
    return this.collectLayers();
  }

  /**
   * Removes the given layers if no image uses them and nothing holds them:
   * the cleanup of an operation that registered them and then failed.
   */
  async discardLayers(chainIDs: Iterable<string>): Promise<string[]> {
    return this.collectLayers(new Set(chainIDs));
  }

  /** Deletes layers (and their stored blobs) that no image uses; only those in `only` when given. */
  private async collectLayers(only?: Set<string>): Promise<string[]> {
    const used = new Set<string>();
    for (const img of this.images.values()) for (const c of chainIDs(img.config.rootfs.diff_ids)) used.add(c);
    for (const held of [...this.held.keys(), ...this.layerUsers()]) {
      for (let cur: string | null | undefined = held; cur; cur = this.layers.get(cur)?.parent) used.add(cur);
    }
    const removed: string[] = [];
    const goneDiffs = new Set<string>();
    // Children before parents, so a failure part-way never leaves a layer without its parent.
    const depth = (c: string) => {
      let n = 0;
      for (let cur: string | null | undefined = c; cur; cur = this.layers.get(cur)?.parent) n++;
      return n;
    };
    const candidates = this.layers
      .all()
      .filter((l) => !used.has(l.chainID) && (!only || only.has(l.chainID)))
      .sort((a, b) => depth(b.chainID) - depth(a.chainID));
    for (const l of candidates) {
      // A layer that another remaining layer builds on stays.
      if (this.layers.all().some((c) => c.parent === l.chainID)) continue;
      await this.layers.remove(l.chainID);
      removed.push(l.chainID);
      goneDiffs.add(l.diffID);
    }
    // A layer's archives go with the last layer of that content.
    const remaining = new Set(this.layers.all().map((l) => l.diffID));
    for (const diffID of goneDiffs) {
      if (remaining.has(diffID)) continue;
      for (const b of await this.layerBlobs(diffID)) await this.blobs.delete(b.digest);
      await fsp.rm(this.layerBlobsPath(diffID), { force: true });
    }
    return removed;
  }

  // ---- layer blobs (compressed forms of a diffID known locally) --------

  async layerBlobs(diffID: string): Promise<Descriptor[]> {
    return (await readJsonIfExists<Descriptor[]>(this.layerBlobsPath(diffID))) ?? [];
  }

  async addLayerBlob(diffID: string, desc: Descriptor): Promise<void> {
    const list = await this.layerBlobs(diffID);
    if (list.some((d) => d.digest === desc.digest)) return;
    list.push({ mediaType: desc.mediaType, digest: desc.digest, size: desc.size });
    await writeJsonAtomic(this.layerBlobsPath(diffID), list);
  }

  /** Size of an image: its layers' unpacked content. */
  size(img: Image): number {
    if (img.topLayer === null) return 0;
    return this.layers.chain(img.topLayer).reduce((n, l) => n + l.size, 0);
  }

  // ---- references -----------------------------------------------------

  /** All references (normalized strings) to an image. */
  references(id: string): Reference[] {
    const out: Reference[] = [];
    for (const [ref, target] of this.refs) if (target === id) out.push(parseReference(ref));
    return out;
  }

  repoTags(id: string): string[] {
    return this.references(id)
      .filter((r) => r.tag !== undefined)
      .map((r) => r.familiarString());
  }

  repoDigests(id: string): string[] {
    return this.references(id)
      .filter((r) => r.digest !== undefined)
      .map((r) => r.familiarString());
  }

  /** Every reference in repository `name` (a normalized name like docker.io/library/busybox), with its image. */
  referencesByName(name: string): Array<{ ref: Reference; id: string }> {
    const out: Array<{ ref: Reference; id: string }> = [];
    for (const [key, id] of this.refs) {
      const ref = parseReference(key);
      if (ref.name === name) out.push({ ref, id });
    }
    return out.sort((a, b) => (a.ref.toString() < b.ref.toString() ? -1 : 1));
  }

  resolveReference(ref: Reference): string | undefined {
    return this.refs.get(ref.toString());
  }

  /** Points ref at image id; returns the image the ref pointed to before, if another. */
  async addReference(ref: Reference, id: string): Promise<string | undefined> {
    if (!this.images.has(id)) throw new NotFoundError(`No such image: ${id}`);
    return this.refsMutex.run(async () => {
      const key = ref.toString();
      const prev = this.refs.get(key);
      this.refs.set(key, id);
      const img = this.images.get(id)!;
      img.record.lastTagTime = new Date().toISOString();
      await writeJsonAtomic(this.recordPath(id), img.record);
      await this.saveRefs();
      return prev !== id ? prev : undefined;
    });
  }

  async removeReference(ref: Reference): Promise<boolean> {
    return this.refsMutex.run(async () => {
      const removed = this.refs.delete(ref.toString());
      if (removed) await this.saveRefs();
      return removed;
    });
  }

  /**
   * Finds an image by reference, full ID, or ID prefix (moby's GetImage).
   * Throws NotFoundError("No such image: ...") when nothing matches.
   */
  lookup(refOrId: string): Image {
    // Neither a valid reference nor an ID: a 400 with the parser's message, as moby's GetImage.
    if (!isIdPrefix(refOrId) && !refOrId.startsWith('sha256:')) parseReference(refOrId);
    const img = this.find(refOrId);
    if (img) return img;
    let shown = refOrId;
    try {
      if (!isIdPrefix(refOrId) || refOrId.includes(':')) shown = parseReference(refOrId).tagged().familiarString();
    } catch {
      /* keep as given */
    }
    throw new NotFoundError(`No such image: ${shown}`);
  }

  find(refOrId: string): Image | undefined {
    if (refOrId.startsWith('sha256:') && /^sha256:[a-f0-9]{64}$/.test(refOrId)) return this.images.get(refOrId);
    if (/^[a-f0-9]{64}$/.test(refOrId)) {
      const byId = this.images.get('sha256:' + refOrId);
      if (byId) return byId;
    }
    let ref: Reference | undefined;
    try {
      ref = parseReference(refOrId).tagged();
    } catch {
      ref = undefined;
    }
    if (ref) {
      const id = this.refs.get(ref.toString());
      if (id) return this.images.get(id);
    }
    if (isIdPrefix(refOrId)) {
      const prefix = refOrId.startsWith('sha256:') ? refOrId : 'sha256:' + refOrId;
      const matches = [...this.images.keys()].filter((id) => id.startsWith(prefix));
      if (matches.length === 1) return this.images.get(matches[0]!);
    }
    return undefined;
  }
}
