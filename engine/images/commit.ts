/**
 * `docker commit`: the container's writable layer becomes a new layer on top
 * of its image. The container is paused while its upper directory is read
 * (unless asked not to), the tar is kept as the layer's blob (for save and
 * push) and unpacked as a layer, and the new image config is the container's
 * config merged with `--change` instructions, with a history entry for the
 * container's command. The image records its local parent, as Docker does.
 */
import fsp from 'node:fs/promises';
import { ConflictError, InvalidParameterError, NotFoundError } from '../errdefs.js';
import type { ContainerConfig } from '../api/types.js';
import type { Container } from '../containers/container.js';
import type { EventBus } from '../events/bus.js';
import type { Logger } from '../daemon/log.js';
import type { ImageStore, Image } from './store.js';
import { applyChanges } from './dockerfile.js';
import { chainIDOf } from './layers.js';
import { writeDiffTar } from './diff-tar.js';
import { MediaTypes, type HistoryEntry, type ImageConfig, type ImageRunConfig } from './oci.js';
import type { Reference } from './reference.js';

/** sha256 of an empty tar (1024 zero bytes): a commit that changed nothing adds no layer. */
export const EMPTY_TAR_DIFF_ID = 'sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef';

/** What Docker's init layer provides: mount points and engine-managed files that never belong to a commit. */
const INIT_FILES = new Set(['.dockerenv', 'etc/hosts', 'etc/hostname', 'etc/resolv.conf', 'dev/console', 'etc/mtab']);
const INIT_TREES = ['proc', 'sys', 'dev'];

export function excludedFromCommit(rel: string): boolean {
  if (INIT_FILES.has(rel)) return true;
  return INIT_TREES.some((t) => rel === t || rel.startsWith(`${t}/`));
}

export interface CommitDeps {
  images: ImageStore;
  events: EventBus;
  log: Logger;
  containers: {
    store: { get(idOrName: string): Container };
    pause(idOrName: string): Promise<void>;
    unpause(idOrName: string): Promise<void>;
    event(c: Container, action: string, extra?: Record<string, string>): void;
  };
  rootfs: { upperDir(id: string): string };
}

export interface CommitOptions {
  container: string;
  ref?: Reference;
  author: string;
  comment: string;
  changes: string[];
  /** A Config from the request body (overrides the container's), if any. */
  config?: ImageRunConfig;
  pause: boolean;
}

const runConfigKeys: Array<keyof ImageRunConfig> = [
  'Hostname',
  'Domainname',
  'User',
  'AttachStdin',
  'AttachStdout',
  'AttachStderr',
  'ExposedPorts',
  'Tty',
  'OpenStdin',
  'StdinOnce',
  'Env',
  'Cmd',
  'Healthcheck',
  'ArgsEscaped',
  'Image',
  'Volumes',
  'WorkingDir',
  'Entrypoint',
  'OnBuild',
  'Labels',
  'StopSignal',
  'StopTimeout',
  'Shell',
];

/** The image-config view of a container config. */
export function runConfigOf(c: ContainerConfig | ImageRunConfig): ImageRunConfig {
  const out: Record<string, unknown> = {};
  for (const k of runConfigKeys) if (c[k] !== undefined) out[k] = structuredClone(c[k]);
  return out as ImageRunConfig;
}

/** moby's merge: fills what the commit config leaves unset from the container's config. */
export function mergeCommitConfig(user: ImageRunConfig, container: ImageRunConfig): ImageRunConfig {
  const u = structuredClone(user);
  const c = container;
  if (!u.User) u.User = c.User ?? '';
  if (!u.ExposedPorts || Object.keys(u.ExposedPorts).length === 0) {
    // Omitted when empty, as Docker's omitempty does.
    if (c.ExposedPorts && Object.keys(c.ExposedPorts).length > 0) u.ExposedPorts = c.ExposedPorts;
    else delete u.ExposedPorts;
  }
  else for (const p of Object.keys(c.ExposedPorts ?? {})) u.ExposedPorts[p] ??= {};
  if (!u.Env || u.Env.length === 0) u.Env = c.Env ?? null;
  else {
    const keys = new Set(u.Env.map((e) => e.split('=', 1)[0]));
    for (const e of c.Env ?? []) if (!keys.has(e.split('=', 1)[0])) u.Env.push(e);
  }
  u.Labels ??= {};
  for (const [k, v] of Object.entries(c.Labels ?? {})) if (!(k in u.Labels)) u.Labels[k] = v;
  if (!u.Entrypoint || u.Entrypoint.length === 0) {
    if (!u.Cmd || u.Cmd.length === 0) u.Cmd = c.Cmd ?? null;
    if (u.Entrypoint === undefined || u.Entrypoint === null) u.Entrypoint = c.Entrypoint ?? null;
  }
  if (c.Healthcheck) {
    if (!u.Healthcheck) u.Healthcheck = c.Healthcheck;
    else {
      const h = u.Healthcheck;
      if (!h.Test || h.Test.length === 0) h.Test = c.Healthcheck.Test ?? null;
      h.Interval ||= c.Healthcheck.Interval ?? 0;
      h.Timeout ||= c.Healthcheck.Timeout ?? 0;
      h.StartPeriod ||= c.Healthcheck.StartPeriod ?? 0;
      h.StartInterval ||= c.Healthcheck.StartInterval ?? 0;
      h.Retries ||= c.Healthcheck.Retries ?? 0;
    }
  }
  if (!u.WorkingDir) u.WorkingDir = c.WorkingDir ?? '';
  if (!u.Volumes || Object.keys(u.Volumes).length === 0) u.Volumes = c.Volumes ?? null;
  else Object.assign(u.Volumes, c.Volumes ?? {});
  if (!u.StopSignal && c.StopSignal) u.StopSignal = c.StopSignal;
  return u;
}

/** Tars the container's upper dir into a blob; returns its digest (the DiffID) and size. */
async function snapshotUpperDir(d: CommitDeps, c: Container): Promise<{ digest: string; size: number }> {
  const upper = d.rootfs.upperDir(c.id);
  try {
    await fsp.access(upper);
  } catch {
    throw new ConflictError(`container ${c.id} has no writable layer to commit`);
  }
  const writer = d.images.blobs.writer();
  try {
    await writeDiffTar(upper, writer.stream, { exclude: excludedFromCommit });
    return await writer.commit();
  } catch (err) {
    await writer.abort();
    throw err;
  }
}

export async function commitContainer(d: CommitDeps, opts: CommitOptions): Promise<Image> {
  const c = d.containers.store.get(opts.container);
  if (c.status === 'dead') throw new ConflictError(`You cannot commit container ${c.id} which is Dead`);
  if (c.status === 'removing') throw new ConflictError(`You cannot commit container ${c.id} which is being removed`);
  const containerConfig = runConfigOf(c.record.config);
  // Bad --change lines fail before the container is touched.
  const newConfig = mergeCommitConfig(applyChanges(opts.config ?? containerConfig, opts.changes), containerConfig);
  const base = d.images.get(c.record.imageId);
  if (!base) throw new NotFoundError(`No such image: ${c.record.imageId} (the image of container ${c.id} was removed)`);
  const release = d.images.holdLayers([base.topLayer]);
  let registered: string | undefined;
  try {
    let snap: { digest: string; size: number };
    const pause = opts.pause && c.isRunning() && !c.isPaused();
    if (pause) await d.containers.pause(c.id).catch((err: Error) => d.log.warn('commit: could not pause the container', { container: c.id, err: err.message }));
    try {
      snap = await snapshotUpperDir(d, c);
    } finally {
      if (pause && c.isPaused()) await d.containers.unpause(c.id).catch((err: Error) => d.log.warn('commit: could not unpause the container', { container: c.id, err: err.message }));
    }
    const empty = snap.digest === EMPTY_TAR_DIFF_ID;
    if (empty) {
      await d.images.blobs.delete(snap.digest);
    } else {
      const chain = chainIDOf(base.topLayer, snap.digest);
      const existed = d.images.layers.has(chain);
      const releaseNew = d.images.holdLayers([chain]);
      try {
        await d.images.layers.register(base.topLayer, d.images.blobs.createReadStream(snap.digest), snap.digest);
        if (!existed) registered = chain;
        await d.images.addLayerBlob(snap.digest, { mediaType: MediaTypes.dockerLayer, digest: snap.digest, size: snap.size });
      } catch (err) {
        // The tar blob is ours unless some layer already has this content.
        if (!d.images.layers.all().some((l) => l.diffID === snap.digest)) await d.images.blobs.delete(snap.digest);
        throw err;
      } finally {
        releaseNew();
      }
    }
    const created = new Date().toISOString();
    const history: HistoryEntry = { created, created_by: (c.record.config.Cmd ?? []).join(' ') };
    if (opts.author) history.author = opts.author;
    if (opts.comment) history.comment = opts.comment;
    if (empty) history.empty_layer = true;
    const pc = base.config;
    const config: ImageConfig = {
      architecture: pc.architecture,
      ...(pc.variant ? { variant: pc.variant } : {}),
      os: pc.os,
      ...(pc['os.version'] ? { 'os.version': pc['os.version'] } : {}),
      created,
      ...(opts.author ? { author: opts.author } : {}),
      config: newConfig,
      container: c.id,
      container_config: containerConfig,
      rootfs: { type: 'layers', diff_ids: empty ? [...pc.rootfs.diff_ids] : [...pc.rootfs.diff_ids, snap.digest] },
      history: [...(pc.history ?? []), history],
    };
    const image = await d.images.create(Buffer.from(JSON.stringify(config)), { parent: base.id });
    registered = undefined;
    d.events.publish('image', 'create', image.id, { name: image.id });
    if (opts.ref) {
      await d.images.addReference(opts.ref, image.id);
      d.events.publish('image', 'tag', image.id, { name: opts.ref.familiarString() });
    }
    d.containers.event(c, 'commit', { comment: opts.comment, imageID: image.id, imageRef: opts.ref ? opts.ref.familiarString() : '' });
    return image;
  } finally {
    release();
    if (registered) await d.images.discardLayers([registered]);
  }
}

/** Validates the optional Config body of POST /commit. */
export function commitBodyConfig(body: unknown): ImageRunConfig | undefined {
  if (body === undefined || body === null) return undefined;
  if (typeof body !== 'object' || Array.isArray(body)) throw new InvalidParameterError('invalid commit config: expected a JSON object');
  const cfg = body as Record<string, unknown>;
  for (const k of ['Cmd', 'Entrypoint', 'Env', 'OnBuild', 'Shell'] as const) {
    const v = cfg[k];
    if (v !== undefined && v !== null && !(Array.isArray(v) && v.every((x) => typeof x === 'string'))) {
      // The CLI's strslice also accepts a single string.
      if (typeof v === 'string' && (k === 'Cmd' || k === 'Entrypoint')) cfg[k] = [v];
      else throw new InvalidParameterError(`invalid commit config: ${k} must be a list of strings`);
    }
  }
  if (cfg.Labels !== undefined && cfg.Labels !== null && (typeof cfg.Labels !== 'object' || Array.isArray(cfg.Labels))) throw new InvalidParameterError('invalid commit config: Labels must be an object');
  return runConfigOf(cfg as ImageRunConfig);
}
