/**
 * BuildBackend over the engine — the one module that knows the engine's services:
 *
 * - images: the image store (lookups, parent links, tags), the layer store
 *   (a planned layer becomes a tar in the blob store and an unpacked layer,
 *   as `docker commit` does), the build cache records;
 * - RUN: containers through the lifecycle's narrow backend (containers/backend.ts):
 *   created, attached to before they start (so no output is missed), started,
 *   waited for and removed; their changes committed from the upper directory;
 * - FROM: a pull through the registry service's plain options.
 */
import path from 'node:path';
import { Readable, type Writable } from 'node:stream';
import type { ImageStore, Image } from '../images/store.js';
import type { LayerStore } from '../images/layers.js';
import { chainIDOf } from '../images/layers.js';
import { MediaTypes, type Platform } from '../images/oci.js';
import { parseReference } from '../images/reference.js';
import { TarWriter } from '../images/tar-writer.js';
import { writeDiffTar } from '../images/diff-tar.js';
import { EMPTY_TAR_DIFF_ID, excludedFromCommit } from '../images/commit.js';
import type { EventBus } from '../events/bus.js';
import type { ContainerLifecycleBackend } from '../containers/backend.js';
import { parseCreateBody } from '../containers/create-request.js';
import { STDOUT } from '../containers/logs.js';
import type { OutputSink } from '../containers/streams.js';
import type { RegistryService } from '../registry/service.js';
import type { JsonLineOutput } from '../progress/jsonmessage.js';
import type { AuthConfig } from '../registry/authconfig.js';
import { NotFoundError } from '../errdefs.js';
import type { BuildBackend, BuildHostConfig, BuildImage, ConfigFactory, ImageFS, LayerEntry, PullOptions, RunIO, StepContainerConfig } from './backend.js';
import type { BuildCacheStore } from './cache-store.js';
import { openImageFS } from './image-fs.js';

export interface EngineBackendDeps {
  images: ImageStore;
  layers: LayerStore;
  containers: ContainerLifecycleBackend;
  /** A container's writable layer (what a RUN step commits). */
  upperDir(containerId: string): string;
  events: EventBus;
  registry: () => Promise<RegistryService>;
  cache: BuildCacheStore;
  /** Where read-only image mounts go (under the exec root: gone at reboot). */
  mountRoot: string;
}

const view = (img: Image): BuildImage => ({ id: img.id, config: img.config });
const NEWLINE = Buffer.from('\n');

/** Registry credentials of X-Registry-Config for the registry of ref (keys as the CLI writes them). */
export function authFor(auth: Record<string, AuthConfig>, ref: string): AuthConfig {
  let domain: string;
  try {
    domain = parseReference(ref).domain;
  } catch {
    return {};
  }
  const norm = (k: string) => {
    const host = k.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
    return host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host;
  };
  for (const [k, v] of Object.entries(auth)) if (norm(k) === domain) return v;
  return {};
}

/** Forwards a pull's progress lines; an error line in the stream (after the pull began) is kept to throw. */
class PullProgress implements JsonLineOutput {
  started = false;
  error: string | undefined;

  constructor(private readonly progress: (line: string) => void) {}

  get buffered(): number {
    return 0;
  }

  write(chunk: string): void {
    this.started = true;
    for (const line of chunk.split(/\r?\n/)) {
      if (!line.trim()) continue;
      try {
        const m = JSON.parse(line) as { error?: string };
        if (m.error) {
          this.error ??= m.error;
          continue;
        }
      } catch {
        /* forwarded as is */
      }
      this.progress(line);
    }
  }

  end(): void {}
}

export class EngineBuildBackend implements BuildBackend {
  constructor(private readonly d: EngineBackendDeps) {}

  findImage(refOrId: string, platform?: Platform): BuildImage | undefined {
    let img: Image | undefined;
    try {
      img = this.d.images.find(refOrId);
    } catch {
      img = undefined;
    }
    if (!img) return undefined;
    if (platform && (img.config.os !== platform.os || img.config.architecture !== platform.architecture || (platform.variant && img.config.variant && platform.variant !== img.config.variant))) return undefined;
    return view(img);
  }

  async pullImage(ref: string, opts: PullOptions): Promise<BuildImage> {
    const registry = await this.d.registry();
    const parsed = parseReference(ref);
    const platform = opts.platform ? [opts.platform.os, opts.platform.architecture, opts.platform.variant].filter(Boolean).join('/') : null;
    const out = new PullProgress(opts.progress);
    await registry.pull({ fromImage: parsed.name, tag: parsed.digest ?? parsed.tag ?? 'latest', platform, auth: authFor(opts.auth, ref), signal: opts.signal }, out);
    if (out.error) throw new Error(out.error);
    const img = this.findImage(parsed.digest ? parsed.toString() : parsed.tagged().toString());
    if (!img) throw new NotFoundError(`No such image: ${parsed.tagged().familiarString()}`);
    return img;
  }

  children(parentId: string): BuildImage[] {
    return this.d.cache.children(parentId).map(view);
  }

  created(imageId: string): number {
    const img = this.d.images.get(imageId);
    const t = Date.parse(img?.config.created ?? img?.record.lastTagTime ?? '');
    return Number.isNaN(t) ? 0 : t;
  }

  parent(imageId: string): string | undefined {
    return this.d.images.get(imageId)?.record.parent;
  }

  async setParent(imageId: string, parentId: string): Promise<void> {
    await this.d.images.setParent(imageId, parentId);
  }

  noteCacheHit(imageId: string): void {
    this.d.cache.hit(imageId);
  }

  async tag(imageId: string, ref: string): Promise<string> {
    const r = parseReference(ref).tagged();
    await this.d.images.addReference(r, imageId);
    this.d.events.publish('image', 'tag', imageId, { name: r.familiarString() });
    return r.familiarString();
  }

  async imageFS(imageId: string): Promise<ImageFS> {
    const top = imageId ? (this.d.images.get(imageId)?.topLayer ?? null) : null;
    return openImageFS(this.d.layers, top, this.d.mountRoot);
  }

  /** Stores the config as a built image on parent, holding the layers meanwhile. */
  private async store(raw: Buffer, parentId: string): Promise<BuildImage> {
    const img = await this.d.images.create(raw, parentId ? { parent: parentId } : {});
    this.d.cache.add(img.id);
    this.d.events.publish('image', 'create', img.id, { name: img.id });
    return view(img);
  }

  /** Registers a layer tar (written by write) on parentTop; null when it holds nothing. */
  private async registerLayer(parentTop: string | null, write: (out: Writable) => Promise<void>): Promise<{ diffID: string | null; release: () => void; registered?: string }> {
    const images = this.d.images;
    const writer = images.blobs.writer();
    let snap: { digest: string; size: number };
    try {
      await write(writer.stream);
      snap = await writer.commit();
    } catch (err) {
      await writer.abort();
      throw err;
    }
    if (snap.digest === EMPTY_TAR_DIFF_ID) {
      await images.blobs.delete(snap.digest).catch(() => undefined);
      return { diffID: null, release: () => undefined };
    }
    const chain = chainIDOf(parentTop, snap.digest);
    const existed = images.layers.has(chain);
    const release = images.holdLayers([chain]);
    try {
      await images.layers.register(parentTop, images.blobs.createReadStream(snap.digest), snap.digest);
      await images.addLayerBlob(snap.digest, { mediaType: MediaTypes.dockerLayer, digest: snap.digest, size: snap.size });
    } catch (err) {
      release();
      if (!images.layers.all().some((l) => l.diffID === snap.digest)) await images.blobs.delete(snap.digest).catch(() => undefined);
      throw err;
    }
    return { diffID: snap.digest, release, ...(existed ? {} : { registered: chain }) };
  }

  private async withLayer(parentId: string, write: ((out: Writable) => Promise<void>) | undefined, config: ConfigFactory): Promise<BuildImage> {
    const parent = parentId ? this.d.images.get(parentId) : undefined;
    if (parentId && !parent) throw new NotFoundError(`No such image: ${parentId}`);
    const parentTop = parent?.topLayer ?? null;
    const holdParent = this.d.images.holdLayers([parentTop]);
    let layer: { diffID: string | null; release: () => void; registered?: string } = { diffID: null, release: () => undefined };
    try {
      if (write) layer = await this.registerLayer(parentTop, write);
      const cfg = config(layer.diffID);
      return await this.store(Buffer.from(JSON.stringify(cfg)), parentId);
    } catch (err) {
      if (layer.registered) {
        layer.release();
        await this.d.images.discardLayers([layer.registered]);
      }
      throw err;
    } finally {
      layer.release();
      holdParent();
    }
  }

  async createImage(parentId: string, entries: Iterable<LayerEntry> | undefined, config: ConfigFactory): Promise<BuildImage> {
    const write = entries
      ? async (out: Writable) => {
          const w = new TarWriter(out);
          for (const e of entries) {
            const entry = {
              name: e.type === 'dir' ? e.path + '/' : e.path,
              type: ({ file: 'file', dir: 'directory', symlink: 'symlink', link: 'link', char: 'character-device', block: 'block-device', fifo: 'fifo' } as const)[e.type],
              mode: e.mode,
              uid: e.uid,
              gid: e.gid,
              size: e.type === 'file' ? e.size : 0,
              mtime: e.mtime,
              ...(e.type === 'symlink' || e.type === 'link' ? { linkname: e.linkname } : {}),
              ...(e.type === 'char' || e.type === 'block' ? { devmajor: e.devmajor, devminor: e.devminor } : {}),
              ...(Object.keys(e.xattrs).length > 0 ? { xattrs: e.xattrs } : {}),
            };
            await w.header(entry);
            if (e.type === 'file' && e.size > 0) await w.streamData(e.content ? e.content() : Readable.from([]), e.size);
          }
          await w.finish();
        }
      : undefined;
    return this.withLayer(parentId, write, config);
  }

  async createContainer(config: StepContainerConfig, host: BuildHostConfig): Promise<{ id: string; warnings: string[] }> {
    const body = {
      ...config,
      HostConfig: {
        NetworkMode: host.NetworkMode || 'default',
        ExtraHosts: host.ExtraHosts,
        ShmSize: host.ShmSize || undefined,
        CgroupParent: host.CgroupParent,
        CpuShares: host.CpuShares,
        CpuPeriod: host.CpuPeriod,
        CpuQuota: host.CpuQuota,
        CpusetCpus: host.CpusetCpus,
        CpusetMems: host.CpusetMems,
        Memory: host.Memory,
        MemorySwap: host.MemorySwap,
        Ulimits: host.Ulimits,
        Binds: host.Binds,
        // The output is followed from the log file: no rotation while a step runs.
        LogConfig: { Type: 'json-file', Config: {} },
      },
    };
    const created = await this.d.containers.create(parseCreateBody(body), null);
    return { id: created.Id, warnings: created.Warnings };
  }

  async runContainer(id: string, io: RunIO, signal: AbortSignal): Promise<{ exitCode: number; error?: string }> {
    const c = this.d.containers;
    if (signal.aborted) throw new Error('build cancelled');
    // Attached and waited for before the start, as moby's builder does, so no output or exit is missed.
    const detach = new AbortController();
    const closed = new Promise<void>((resolve) => detach.signal.addEventListener('abort', () => resolve(), { once: true }));
    const output: OutputSink = {
      // Log entries are lines without their newline (unless partial): put it back.
      writeLine: (stream, content, newline) => {
        const chunk = newline ? Buffer.concat([content, NEWLINE]) : Buffer.from(content);
        if (stream === STDOUT) io.stdout(chunk);
        else io.stderr(chunk);
      },
      write: (stream, ...parts) => {
        const chunk = Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p)));
        if (stream === STDOUT) io.stdout(chunk);
        else io.stderr(chunk);
      },
      flush: async () => undefined,
    };
    const session = c.attach(id, { stdin: false, stdout: true, stderr: true, logs: false, stream: true, detachKeys: Buffer.alloc(0) });
    const exited = c.wait(id, 'next-exit');
    const reading = session.run({ input: Readable.from([]), output, end: () => undefined, closed });
    const cancelled = new Promise<never>((_, reject) => {
      const onAbort = () => reject(new Error('build cancelled'));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    cancelled.catch(() => undefined);
    try {
      await Promise.race([c.start(id), cancelled]);
      const result = await Promise.race([exited, cancelled]);
      await reading;
      return { exitCode: result.StatusCode, ...(result.Error?.Message ? { error: result.Error.Message } : {}) };
    } catch (err) {
      // A cancelled step's container is killed by its removal (the builder removes it next).
      detach.abort();
      await reading.catch(() => undefined);
      throw err;
    } finally {
      exited.catch(() => undefined);
    }
  }

  async commitContainer(id: string, parentId: string, config: ConfigFactory): Promise<BuildImage> {
    const upper = this.d.upperDir(id);
    return this.withLayer(parentId, (out) => writeDiffTar(upper, out, { exclude: excludedFromCommit }), config);
  }

  async removeContainer(id: string): Promise<void> {
    await this.d.containers.remove(id, { force: true, volumes: true });
  }
}

/** Where a daemon's builds keep scratch files and read-only mounts. */
export function builderDirs(dataRoot: string, execRoot: string): { tmpRoot: string; cacheDir: string; mountRoot: string } {
  return { tmpRoot: path.join(dataRoot, 'builder', 'tmp'), cacheDir: path.join(dataRoot, 'builder'), mountRoot: path.join(execRoot, 'builder-mounts') };
}

/** Removes an image the build cache no longer needs; returns the bytes its removed layers held. */
export function cacheImageRemover(images: ImageStore, layers: LayerStore, events: EventBus): (id: string) => Promise<number> {
  return async (id) => {
    const sizes = new Map(layers.all().map((l) => [l.chainID, l.size]));
    const removed = await images.delete(id);
    events.publish('image', 'delete', id, { name: id });
    return removed.reduce((n, c) => n + (sizes.get(c) ?? 0), 0);
  };
}
