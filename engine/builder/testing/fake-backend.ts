/**
 * An in-memory BuildBackend for the builder's unit tests (moby's
 * mockbackend_test.go plays this part): images with parent links, layers as
 * maps of files, containers whose "run" is a script the test supplies —
 * output, exit code and the files it writes.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { posix } from 'node:path';
import type { ImageConfig, Platform } from '../../images/oci.js';
import { parseReference } from '../../images/reference.js';
import type { BuildBackend, BuildHostConfig, BuildImage, ConfigFactory, FileStat, ImageFS, LayerEntry, PullOptions, RunIO, StepContainerConfig } from '../backend.js';

export interface FakeFile {
  stat: FileStat;
  content?: Buffer;
}

export type Layer = Map<string, FakeFile>;

export interface RunScript {
  stdout?: string;
  stderr?: string;
  exitCode?: number;
  /** Files the command writes (paths without a leading slash). */
  writes?: Record<string, string>;
  /** Waits for this before exiting (cancellation tests). */
  until?: Promise<void>;
}

export interface FakeContainer {
  id: string;
  config: StepContainerConfig;
  host: BuildHostConfig;
  writes: Layer;
  started: boolean;
  removed: boolean;
}

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');

let clock = 1_700_000_000_000;

export function fileStat(type: FileStat['type'], over: Partial<FileStat> = {}): FileStat {
  return { type, mode: type === 'dir' ? 0o755 : 0o644, uid: 0, gid: 0, size: 0, mtime: 1_600_000_000, linkname: '', devmajor: 0, devminor: 0, xattrs: {}, inode: Math.random().toString(36), ...over };
}

export class FakeBackend implements BuildBackend {
  readonly images = new Map<string, { img: BuildImage; parent: string; created: number; local: boolean }>();
  readonly refs = new Map<string, string>();
  readonly layers = new Map<string, Layer>();
  readonly containers = new Map<string, FakeContainer>();
  /** Images a pull can fetch, by reference. */
  readonly registry = new Map<string, BuildImage>();
  readonly pulls: string[] = [];
  readonly cacheHits: string[] = [];
  /** What RUN does, by the joined command. */
  runner: (cmd: string[], c: FakeContainer) => RunScript = () => ({});
  private seq = 0;

  /** A base image with these files (in one layer), tagged ref. */
  addBase(ref: string, files: Record<string, string | FakeFile>, config: Partial<ImageConfig['config']> = {}, platform: Platform = { os: 'linux', architecture: 'amd64' }): BuildImage {
    const layer: Layer = new Map();
    for (const [p, f] of Object.entries(files)) {
      const parts = p.split('/');
      for (let i = 1; i < parts.length; i++) {
        const dir = parts.slice(0, i).join('/');
        if (!layer.has(dir)) layer.set(dir, { stat: fileStat('dir') });
      }
      if (typeof f === 'string') {
        if (p.endsWith('/')) layer.set(p.slice(0, -1), { stat: fileStat('dir') });
        else layer.set(p, { stat: fileStat('file', { size: Buffer.byteLength(f) }), content: Buffer.from(f) });
      } else layer.set(p, f);
    }
    const diffID = 'sha256:' + sha(JSON.stringify([...layer.keys()]) + ref);
    this.layers.set(diffID, layer);
    const cfg: ImageConfig = { architecture: platform.architecture, os: platform.os, config: { Env: ['PATH=/usr/bin:/bin'], Cmd: ['sh'], ...config }, rootfs: { type: 'layers', diff_ids: [diffID] }, history: [{ created: '2024-01-01T00:00:00Z', created_by: `base ${ref}` }] };
    const img = this.store(cfg, '', false);
    this.refs.set(ref, img.id);
    return img;
  }

  private store(cfg: ImageConfig, parent: string, local: boolean): BuildImage {
    const raw = JSON.stringify(cfg);
    const id = 'sha256:' + sha(raw);
    const existing = this.images.get(id);
    if (existing) return existing.img;
    const img: BuildImage = { id, config: JSON.parse(raw) as ImageConfig };
    this.images.set(id, { img, parent, created: clock++, local });
    return img;
  }

  // ---- BuildBackend ----------------------------------------------------------

  findImage(refOrId: string, platform?: Platform): BuildImage | undefined {
    const id = this.images.has(refOrId) ? refOrId : this.refs.get(refOrId) ?? this.refs.get(refOrId.includes(':') ? refOrId : `${refOrId}:latest`);
    const img = id ? this.images.get(id)?.img : undefined;
    if (img && platform && (img.config.architecture !== platform.architecture || img.config.os !== platform.os)) return undefined;
    return img;
  }

  async pullImage(ref: string, opts: PullOptions): Promise<BuildImage> {
    this.pulls.push(ref);
    const src = this.registry.get(ref);
    if (!src) throw new Error(`pull access denied for ${ref}, repository does not exist or may require 'docker login'`);
    opts.progress(JSON.stringify({ status: `Pulling from ${ref}`, id: 'latest' }));
    const img = this.store(src.config, '', false);
    this.refs.set(ref.includes(':') ? ref : `${ref}:latest`, img.id);
    return img;
  }

  children(parentId: string): BuildImage[] {
    return [...this.images.values()].filter((i) => i.local && i.parent === parentId).map((i) => i.img);
  }

  created(imageId: string): number {
    return this.images.get(imageId)?.created ?? 0;
  }

  parent(imageId: string): string | undefined {
    return this.images.get(imageId)?.parent || undefined;
  }

  async setParent(imageId: string, parentId: string): Promise<void> {
    const rec = this.images.get(imageId);
    if (rec) rec.parent = parentId;
  }

  noteCacheHit(imageId: string): void {
    this.cacheHits.push(imageId);
  }

  async tag(imageId: string, ref: string): Promise<string> {
    const familiar = parseReference(ref).tagged().familiarString();
    this.refs.set(familiar, imageId);
    return familiar;
  }

  async imageFS(imageId: string): Promise<ImageFS> {
    const layers = imageId ? (this.images.get(imageId)?.img.config.rootfs.diff_ids ?? []).map((d) => this.layers.get(d) ?? new Map<string, FakeFile>()) : [];
    return fsOver(layers);
  }

  async createImage(parentId: string, entries: Iterable<LayerEntry> | undefined, config: ConfigFactory): Promise<BuildImage> {
    let diffID: string | null = null;
    if (entries) {
      const layer: Layer = new Map();
      for (const e of entries) {
        const content = e.content ? await readAll(e.content()) : undefined;
        layer.set(e.path, { stat: { type: e.type === 'link' ? 'file' : e.type, mode: e.mode, uid: e.uid, gid: e.gid, size: e.size, mtime: e.mtime, linkname: e.linkname, devmajor: e.devmajor, devminor: e.devminor, xattrs: e.xattrs, inode: e.type === 'link' ? `link:${e.linkname}` : e.path }, ...(content ? { content } : {}) });
      }
      if (layer.size > 0) {
        diffID = 'sha256:' + sha(JSON.stringify([...layer].map(([k, v]) => [k, { ...v.stat, mtime: 0, inode: '' }, v.content?.toString('base64')])));
        this.layers.set(diffID, layer);
      }
    }
    return this.store(config(diffID), parentId, true);
  }

  async createContainer(config: StepContainerConfig, host: BuildHostConfig): Promise<{ id: string; warnings: string[] }> {
    const id = sha(`container-${++this.seq}`);
    this.containers.set(id, { id, config, host, writes: new Map(), started: false, removed: false });
    return { id, warnings: [] };
  }

  async runContainer(id: string, io: RunIO, signal: AbortSignal): Promise<{ exitCode: number; error?: string }> {
    const c = this.containers.get(id)!;
    c.started = true;
    const script = this.runner([...(c.config.Entrypoint ?? []), ...(c.config.Cmd ?? [])], c);
    if (script.stdout) io.stdout(Buffer.from(script.stdout));
    if (script.stderr) io.stderr(Buffer.from(script.stderr));
    if (script.until) {
      await Promise.race([
        script.until,
        new Promise<void>((_, reject) => {
          if (signal.aborted) reject(new Error('aborted'));
          signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
        }),
      ]);
    }
    for (const [p, text] of Object.entries(script.writes ?? {})) {
      const parts = p.split('/');
      for (let i = 1; i < parts.length; i++) if (!c.writes.has(parts.slice(0, i).join('/'))) c.writes.set(parts.slice(0, i).join('/'), { stat: fileStat('dir') });
      c.writes.set(p, { stat: fileStat('file', { size: Buffer.byteLength(text) }), content: Buffer.from(text) });
    }
    return { exitCode: script.exitCode ?? 0 };
  }

  async commitContainer(id: string, parentId: string, config: ConfigFactory): Promise<BuildImage> {
    const c = this.containers.get(id)!;
    let diffID: string | null = null;
    if (c.writes.size > 0) {
      diffID = 'sha256:' + sha(JSON.stringify([...c.writes].map(([k, v]) => [k, v.content?.toString()])));
      this.layers.set(diffID, c.writes);
    }
    return this.store(config(diffID), parentId, true);
  }

  async removeContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (c) c.removed = true;
  }

  liveContainers(): FakeContainer[] {
    return [...this.containers.values()].filter((c) => !c.removed);
  }
}

async function readAll(r: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** The union of layers (top last), as the image's root filesystem. */
export function fsOver(layers: Layer[]): ImageFS {
  const find = (parts: readonly string[]): FakeFile | undefined => {
    const key = parts.join('/');
    if (key === '') return { stat: fileStat('dir', { inode: 'root' }) };
    for (let i = layers.length - 1; i >= 0; i--) {
      const f = layers[i]!.get(key);
      if (f) return f;
    }
    return undefined;
  };
  return {
    lstat: (parts) => find(parts)?.stat,
    readlink: (parts) => find(parts)?.stat.linkname ?? '',
    readdir: (parts) => {
      const prefix = parts.length === 0 ? '' : parts.join('/') + '/';
      const names = new Set<string>();
      for (const l of layers) for (const k of l.keys()) if (k.startsWith(prefix) && k.length > prefix.length && !k.slice(prefix.length).includes('/')) names.add(k.slice(prefix.length));
      return [...names];
    },
    open: (parts) => Readable.from([find(parts)?.content ?? Buffer.alloc(0)]),
    readFile: async (parts) => find(parts)?.content ?? Buffer.alloc(0),
    close: async () => undefined,
  };
}

/** Every file of an image, as "path mode uid:gid [-> link | content]" lines (for assertions). */
export function listing(fs: ImageFS, parts: string[] = []): string[] {
  const out: string[] = [];
  for (const name of fs.readdir(parts).sort()) {
    const p = [...parts, name];
    const st = fs.lstat(p)!;
    const key = posix.join(...p);
    const detail = st.type === 'symlink' ? ` -> ${st.linkname}` : st.type === 'file' ? ` ${st.size}` : '';
    out.push(`${st.type} ${key} ${st.mode.toString(8)} ${st.uid}:${st.gid}${detail}`);
    if (st.type === 'dir') out.push(...listing(fs, p));
  }
  return out;
}
