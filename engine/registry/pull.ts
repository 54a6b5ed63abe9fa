/**
 * `docker pull`: resolve the reference to a manifest (choosing the platform
 * from an index), fetch and verify the image config, skip the layers already
 * present, download the rest concurrently and extract them in order while
 * they arrive, then create the image and point the tag and digest at it.
 *
 * The progress stream follows moby's message sequence exactly: "Pulling from",
 * per layer "Already exists" or "Pulling fs layer" → "Waiting" →
 * "Downloading" → "Verifying Checksum" → "Download complete" → "Extracting"
 * → "Pull complete", then "Digest:" and "Status:". Layer IDs are the first 12
 * hex digits of the blob digest.
 */
import fs from 'node:fs';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { decompress } from '../images/compression.js';
import { chainIDOf, chainIDs, type LayerMeta } from '../images/layers.js';
import { parseImageConfig, hostPlatform, type Descriptor, type Manifest, type Platform, type ImageConfig } from '../images/oci.js';
import type { Reference } from '../images/reference.js';
import type { Image } from '../images/store.js';
import { InvalidParameterError } from '../errdefs.js';
import type { Repository } from './client.js';
import { checkConfigMediaType, checkSupportedMediaType, CONFIG_LIMIT, formatPlatform, parseManifest, platformMatches, selectManifests } from './manifest.js';
import { BarThrottle, type ProgressSink } from './progress.js';
import type { BlobDownload } from './download.js';
import type { RegistryContext } from './context.js';
import { DoNotRetryError, isRetryable } from './errors.js';
import { sha256Digest } from '../images/blobs.js';

export function shortId(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12);
}

export class RootFsMismatchError extends InvalidParameterError {
  constructor() {
    super("layers from manifest don't match image configuration");
  }
}

export class NoMatchingManifestError extends InvalidParameterError {}

/** moby's imageConfigPullError. */
export class ConfigPullError extends Error {
  constructor(message: string, cause?: Error) {
    super(`error pulling image configuration: ${message}`, { cause });
    this.name = 'ConfigPullError';
  }
}

/** What a pull made, for cleanup if it fails. */
interface PullWork {
  /** Chain IDs this pull registered. */
  registered: string[];
  /** Blobs this pull uses (counted in blobUsers until released). */
  blobs: Array<{ digest: string; diffID: string }>;
  released: Array<{ digest: string; diffID: string }>;
}

export interface PullOptions {
  /** --platform, when given. */
  platform: Platform | undefined;
  sink: ProgressSink;
  signal: AbortSignal;
}

/** Where one layer's compressed bytes come from during a pull. */
interface LayerInput {
  /** The shared download, or undefined when the blob is already in the blob store. */
  download: BlobDownload | undefined;
  reader(): Readable;
  /** Settles when the blob is verified and stored. */
  done: Promise<void>;
}

/** Pulls one repository (one tag, one digest, or every tag) from one endpoint. */
export class Puller {
  /** Did any tag get a new or changed image? */
  private updated = false;
  private readonly releases: Array<() => void> = [];

  constructor(
    private readonly rc: RegistryContext,
    private readonly repo: Repository,
    /** Full repository name, e.g. docker.io/library/busybox. */
    private readonly repoName: string,
    private readonly opts: PullOptions,
  ) {}

  /** Pulls `ref` (tag, digest or name-only for all tags); returns whether anything was updated. */
  async pull(ref: Reference): Promise<{ updated: boolean; images: Image[] }> {
    const images: Image[] = [];
    // A cancelled pull lets go of its downloads at once (they stop unless another pull shares them).
    const onAbort = () => {
      for (const r of this.releases.splice(0)) r();
    };
    this.opts.signal.addEventListener('abort', onAbort, { once: true });
    try {
      if (ref.tag !== undefined || ref.digest !== undefined) {
        images.push(await this.pullTag(ref));
      } else {
        const tags = await this.repo.tags(this.opts.signal);
        for (const tag of tags) images.push(await this.pullTag(ref.withTag(tag)));
      }
    } finally {
      this.opts.signal.removeEventListener('abort', onAbort);
      for (const r of this.releases.splice(0)) r();
    }
    return { updated: this.updated, images };
  }

  private async pullTag(ref: Reference): Promise<Image> {
    const { signal, sink } = this.opts;
    const tagOrDigest = ref.digest ?? ref.tag!;
    const fetched = await this.repo.manifest(tagOrDigest, signal);
    if (ref.digest && fetched.digest !== ref.digest) throw new InvalidParameterError(`manifest verification failed for digest ${ref.digest}`);
    const parsed = parseManifest(fetched.raw, fetched.mediaType, ref.toString());
    if (parsed.kind === 'image') checkConfigMediaType(parsed.manifest.config.mediaType);
    // Docker names the repository by its path within the registry here.
    sink.message(tagOrDigest, `Pulling from ${this.repo.path}`);

    let image: Image;
    if (parsed.kind === 'index') image = await this.pullIndex(ref, parsed.index.manifests, 0);
    else image = await this.pullManifest(parsed.manifest);
    sink.message(undefined, `Digest: ${fetched.digest}`);
    await this.tag(ref, fetched.digest, image);
    return image;
  }

  private async pullIndex(ref: Reference, manifests: Descriptor[], depth: number): Promise<Image> {
    const want = this.opts.platform ?? hostPlatform();
    if (depth > 4) throw new InvalidParameterError('manifest lists are nested too deeply');
    for (const match of selectManifests(manifests, want)) {
      checkSupportedMediaType(match.mediaType);
      const fetched = await this.repo.manifest(match.digest, this.opts.signal);
      const parsed = parseManifest(fetched.raw, fetched.mediaType, ref.toString());
      if (parsed.kind === 'image') {
        checkConfigMediaType(parsed.manifest.config.mediaType);
        return this.pullManifest(parsed.manifest);
      }
      try {
        return await this.pullIndex(ref, parsed.index.manifests, depth + 1);
      } catch (err) {
        if (!(err instanceof NoMatchingManifestError)) throw err;
      }
    }
    throw new NoMatchingManifestError(`no matching manifest for ${formatPlatform(want)} in the manifest list entries`);
  }

  /** Points the tag (and the repo@digest reference) at the image: moby's pullTag bookkeeping. */
  private async tag(ref: Reference, manifestDigest: string, image: Image): Promise<void> {
    const { images, events } = this.rc;
    if (images.resolveReference(ref) === image.id) {
      await this.addDigestReference(ref.withDigest(manifestDigest), image.id);
      return;
    }
    if (ref.digest !== undefined) {
      await images.addReference(ref, image.id);
    } else {
      await this.addDigestReference(ref.withDigest(manifestDigest), image.id);
      await images.addReference(ref, image.id);
      events.publish('image', 'tag', image.id, { name: ref.familiarString() });
    }
    this.updated = true;
  }

  /** A digest reference, once set, keeps its image (moby cannot update digests either). */
  private async addDigestReference(digestRef: Reference, id: string): Promise<void> {
    const old = this.rc.images.resolveReference(digestRef);
    if (old === undefined) await this.rc.images.addReference(digestRef, id);
    else if (old !== id) this.rc.log.error('image ID for digest changed, cannot update', { digest: digestRef.toString(), old, new: id });
  }

  /** Pulls the image a manifest describes; returns the local image. */
  private async pullManifest(manifest: Manifest): Promise<Image> {
    const { images } = this.rc;
    const configDigest = manifest.config.digest;
    const existing = images.get(configDigest);
    if (existing) return existing;
    for (const l of manifest.layers) checkSupportedMediaType(l.mediaType);
    const rawConfig = await this.fetchConfig(configDigest);
    let config: ImageConfig;
    try {
      config = parseImageConfig(rawConfig);
    } catch (err) {
      throw new InvalidParameterError(`error pulling image configuration: ${(err as Error).message}`);
    }
    if (config.rootfs.diff_ids.length !== manifest.layers.length) throw new RootFsMismatchError();
    // Held from the start: a concurrent `docker rmi` must not collect what we register.
    const release = images.holdLayers(chainIDs(config.rootfs.diff_ids));
    const work: PullWork = { registered: [], blobs: [], released: [] };
    try {
      await this.pullLayers(manifest.layers, config.rootfs.diff_ids, work);
      return await images.create(rawConfig);
    } catch (err) {
      release();
      this.releaseBlobs(work);
      await this.cleanup(work).catch((e: Error) => this.rc.log.warn('cleanup after failed pull', { err: e.message }));
      throw err;
    } finally {
      release();
      this.releaseBlobs(work);
    }
  }

  private releaseBlobs(work: PullWork): void {
    for (const b of work.blobs.splice(0)) {
      const n = (this.rc.blobUsers.get(b.digest) ?? 1) - 1;
      if (n <= 0) this.rc.blobUsers.delete(b.digest);
      else this.rc.blobUsers.set(b.digest, n);
      work.released.push(b);
    }
  }

  /** After a failure: remove the layers and blobs only this pull made. */
  private async cleanup(work: PullWork): Promise<void> {
    const { images, blobs, layers } = this.rc;
    await images.discardLayers(work.registered);
    for (const { digest, diffID } of work.released) {
      if (this.rc.blobUsers.has(digest) || !blobs.has(digest)) continue;
      const kept = layers.all().some((l) => l.diffID === diffID) && (await images.layerBlobs(diffID)).some((d) => d.digest === digest);
      if (!kept) await blobs.delete(digest);
    }
  }

  /** The image config, retried like moby's pullSchema2Config (5 attempts, 250 ms doubling). */
  private async fetchConfig(digest: string): Promise<Buffer> {
    const signal = this.opts.signal;
    let raw: Buffer | undefined;
    let delay = 250;
    for (let attempt = 1; ; attempt++) {
      try {
        raw = await this.repo.blob(digest, CONFIG_LIMIT, signal);
        break;
      } catch (err) {
        if (signal.aborted) throw signal.reason ?? err;
        const e = err instanceof DoNotRetryError ? err.inner : (err as Error);
        if (!isRetryable(err) || attempt >= 5) throw new ConfigPullError(`download failed after attempts=${attempt}: ${e.message}`, e);
        await new Promise((r) => setTimeout(r, delay));
        delay *= 2;
      }
    }
    if (sha256Digest(raw) !== digest) throw new ConfigPullError(`image config verification failed for digest ${digest}`);
    return raw;
  }

  private async pullLayers(layers: Descriptor[], diffIDs: string[], work: PullWork): Promise<void> {
    const { layers: layerStore, sink } = { ...this.rc, sink: this.opts.sink };
    const chain = chainIDs(diffIDs);

    let first = 0;
    while (first < layers.length && layerStore.has(chain[first]!)) {
      sink.update(shortId(layers[first]!.digest), 'Already exists');
      void this.rc.sources.add(layers[first]!.digest, this.repoName).catch(() => undefined);
      first++;
    }
    if (first === layers.length) return;

    const shown = new Set<string>();
    for (let i = first; i < layers.length; i++) {
      const id = shortId(layers[i]!.digest);
      if (shown.has(id)) continue;
      shown.add(id);
      sink.update(id, 'Pulling fs layer');
    }
    const inputs = new Map<string, LayerInput>();
    for (let i = first; i < layers.length; i++) {
      const desc = layers[i]!;
      if (inputs.has(desc.digest)) continue;
      this.rc.blobUsers.set(desc.digest, (this.rc.blobUsers.get(desc.digest) ?? 0) + 1);
      work.blobs.push({ digest: desc.digest, diffID: diffIDs[i]! });
      inputs.set(desc.digest, this.startDownload(desc));
    }
    // Layer i is extracted as soon as layer i-1 is registered; "Pull complete" lines follow in
    // order once each blob is also stored (its fsync is off the extraction path).
    const metas: Array<Promise<LayerMeta>> = [];
    const completions: Array<Promise<void>> = [];
    let parent: Promise<string | null> = Promise.resolve(first > 0 ? chain[first - 1]! : null);
    let previous: Promise<void> = Promise.resolve();
    for (let i = first; i < layers.length; i++) {
      const desc = layers[i]!;
      const input = inputs.get(desc.digest)!;
      const repeat = layers.slice(first, i).some((l) => l.digest === desc.digest);
      const progress = new ExtractProgress(shortId(desc.digest), desc.size, this.opts.sink, repeat);
      const meta = parent.then((p) => this.register(input, p, diffIDs[i]!, progress));
      const prev = previous;
      const done = meta.then(async () => {
        await prev;
        await input.done;
        await this.rc.images.addLayerBlob(diffIDs[i]!, { mediaType: desc.mediaType, digest: desc.digest, size: desc.size });
        void this.rc.sources.add(desc.digest, this.repoName).catch(() => undefined);
        progress.finish();
        if (!repeat) this.opts.sink.update(shortId(desc.digest), 'Pull complete');
      });
      metas.push(meta);
      completions.push(done);
      parent = meta.then((m) => m.chainID);
      previous = done;
    }
    const settled = await Promise.allSettled([...metas, ...completions]);
    for (const r of settled.slice(0, metas.length)) if (r.status === 'fulfilled') work.registered.push((r.value as LayerMeta).chainID);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      // Let the downloads we started settle before the caller cleans up.
      await Promise.all([...inputs.values()].map((x) => x.done.catch(() => undefined)));
      throw failed.reason;
    }
  }

  private startDownload(desc: Descriptor): LayerInput {
    const { blobs, downloads } = this.rc;
    const id = shortId(desc.digest);
    const sink = this.opts.sink;
    if (blobs.has(desc.digest)) {
      sink.update(id, 'Download complete');
      return { download: undefined, reader: () => fs.createReadStream(blobs.path(desc.digest)), done: Promise.resolve() };
    }
    const { download } = downloads.get(desc, this.repo);
    this.releases.push(download.attach());
    if (download.state === 'queued' && download.queuedBehindOthers) sink.update(id, 'Waiting');
    const bar = new BarThrottle(desc.size);
    const onProgress = (current: number, total: number) => {
      if (bar.shouldEmit(current)) sink.update(id, 'Downloading', { current, total });
    };
    const onStatus = (action: string) => sink.update(id, action);
    download.on('progress', onProgress);
    download.on('status', onStatus);
    const done = download.done.finally(() => {
      download.off('progress', onProgress);
      download.off('status', onStatus);
    });
    done.catch(() => undefined);
    return { download, reader: () => download.reader(), done };
  }

  /**
   * Registers one layer on its parent, extracting while the blob downloads.
   * A registration of the same chain by another pull is awaited, not repeated.
   */
  private async register(input: LayerInput, parent: string | null, diffID: string, progress: ExtractProgress): Promise<LayerMeta> {
    const { layers, registering } = this.rc;
    const chainID = chainIDOf(parent, diffID);
    const existing = layers.get(chainID);
    if (existing) return existing;
    let pending = registering.get(chainID);
    if (!pending) {
      pending = this.extract(input, parent, diffID, progress);
      registering.set(chainID, pending);
      const forget = () => {
        if (registering.get(chainID) === pending) registering.delete(chainID);
      };
      pending.then(forget, forget);
    }
    return pending;
  }

  private async extract(input: LayerInput, parent: string | null, diffID: string, progress: ExtractProgress): Promise<LayerMeta> {
    // Extraction runs while the blob downloads, but is shown after "Download complete", as Docker orders it.
    if (input.download === undefined || input.download.state === 'done') progress.downloaded();
    void input.done.then(
      () => progress.downloaded(),
      () => undefined,
    );
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        progress.consumed(chunk.length);
        cb(null, chunk);
      },
    });
    const source = input.reader();
    source.on('error', (err) => counter.destroy(err));
    const compressed = source.pipe(counter);
    try {
      const { stream } = await decompress(compressed);
      const buffered = stream.pipe(new PassThrough({ highWaterMark: 1024 * 1024 }));
      stream.on('error', (err) => buffered.destroy(err));
      return await this.rc.layers.register(parent, buffered, diffID);
    } catch (err) {
      source.destroy();
      // A corrupt download usually breaks decompression first; report the download's verdict.
      const dlErr = await input.done.then(
        () => undefined,
        (e: unknown) => e,
      );
      if (dlErr) throw dlErr;
      if (this.opts.signal.aborted) throw this.opts.signal.reason;
      if (/does not match its DiffID/.test((err as Error).message)) throw new RootFsMismatchError();
      throw new InvalidParameterError(`failed to register layer: ${(err as Error).message}`, { cause: err });
    }
  }
}

/** The "Extracting" bar of one layer: silent until its download completed, then throttled, ending at 100%. */
class ExtractProgress {
  private bytes = 0;
  private reported = -1;
  private shown = false;
  private readonly bar: BarThrottle;

  constructor(
    private readonly id: string,
    private readonly total: number,
    private readonly sink: ProgressSink,
    private readonly quiet: boolean,
  ) {
    this.bar = new BarThrottle(total);
  }

  private report(current: number): void {
    if (this.quiet || current === this.reported) return;
    this.reported = current;
    this.sink.update(this.id, 'Extracting', { current, total: this.total });
  }

  downloaded(): void {
    if (this.shown) return;
    this.shown = true;
    if (this.bytes > 0) this.report(this.bytes);
  }

  consumed(n: number): void {
    this.bytes += n;
    if (this.shown && this.bar.shouldEmit(this.bytes)) this.report(this.bytes);
  }

  finish(): void {
    this.shown = true;
    this.report(this.total);
  }
}

/** moby's warning when --platform was given and a single-platform image does not match it. */
export function platformWarning(refString: string, config: ImageConfig, want: Platform): string | undefined {
  const have: Platform = { os: config.os, architecture: config.architecture, ...(config.variant ? { variant: config.variant } : {}) };
  if (platformMatches(have, want)) return undefined;
  return `WARNING: image with reference ${refString} was found but its platform (${formatPlatform(have)}) does not match the specified platform (${formatPlatform(want)})`;
}
