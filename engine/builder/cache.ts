/**
 * The classic build cache, decided as dockerd decides it
 * (daemon/internal/image/cache): a step hits when a locally built child of the
 * current image, of the same platform, was committed with an equal container
 * config (its Cmd carries the instruction, so `created_by` is the key); the
 * newest such child wins. The first miss turns the cache off for the rest of
 * the stage; FROM turns it back on. With `cachefrom`, hits must also lie on
 * the history of one of the given images, which can seed the cache (a pulled
 * image's history prefix rebuilt as local images); when none of the given
 * names resolves, nothing hits (dockerd skips unknown names but stays in
 * cache-from mode).
 */
import { isDeepStrictEqual } from 'node:util';
import type { HistoryEntry, ImageConfig, ImageRunConfig, Platform } from '../images/oci.js';
import type { BuildBackend, BuildImage } from './backend.js';

const len = (v: readonly unknown[] | Record<string, unknown> | null | undefined) => (v === null || v === undefined ? 0 : Array.isArray(v) ? v.length : Object.keys(v).length);

function sameList(a: readonly string[] | null | undefined, b: readonly string[] | null | undefined): boolean {
  if (len(a) !== len(b)) return false;
  for (let i = 0; i < len(a); i++) if (a![i] !== b![i]) return false;
  return true;
}

/**
 * moby's compare(): every field a build step can change, but not Image or
 * Hostname (which differ per container).
 */
export function sameConfig(a: ImageRunConfig | undefined, b: ImageRunConfig | undefined): boolean {
  if (!a || !b) return false;
  if (!sameList(a.Env, b.Env) || !sameList(a.Cmd, b.Cmd) || !sameList(a.Entrypoint, b.Entrypoint) || !sameList(a.Shell, b.Shell) || !sameList(a.OnBuild, b.OnBuild)) return false;
  if (len(a.ExposedPorts) !== len(b.ExposedPorts) || len(a.Volumes) !== len(b.Volumes) || len(a.Labels) !== len(b.Labels)) return false;
  for (const k of Object.keys(a.ExposedPorts ?? {})) if (!(k in (b.ExposedPorts ?? {}))) return false;
  for (const k of Object.keys(a.Volumes ?? {})) if (!(k in (b.Volumes ?? {}))) return false;
  for (const [k, v] of Object.entries(a.Labels ?? {})) if ((b.Labels ?? {})[k] !== v) return false;
  const flags = ['AttachStdin', 'AttachStdout', 'AttachStderr', 'Tty', 'OpenStdin', 'StdinOnce', 'ArgsEscaped'] as const;
  for (const f of flags) if (!!a[f] !== !!b[f]) return false;
  if ((a.User ?? '') !== (b.User ?? '') || (a.WorkingDir ?? '') !== (b.WorkingDir ?? '') || (a.StopSignal ?? '') !== (b.StopSignal ?? '')) return false;
  if ((a.StopTimeout ?? null) !== (b.StopTimeout ?? null)) return false;
  const ha = a.Healthcheck ?? null;
  const hb = b.Healthcheck ?? null;
  if ((ha === null) !== (hb === null)) return false;
  if (ha && hb) {
    for (const f of ['Interval', 'Timeout', 'StartPeriod', 'StartInterval', 'Retries'] as const) if ((ha[f] ?? 0) !== (hb[f] ?? 0)) return false;
    if (!sameList(ha.Test, hb.Test)) return false;
  }
  return true;
}

export function samePlatform(want: Platform, cfg: ImageConfig): boolean {
  if (!cfg.os && !cfg.architecture) return false;
  if (cfg.os !== want.os || cfg.architecture !== want.architecture) return false;
  // A variant matters only when both name one (arm64 images often leave it out).
  return !want.variant || !cfg.variant || want.variant === cfg.variant;
}

export interface CacheProbe {
  reset(): void;
  /** The cached image ID for this step on parentId (built for platform), or undefined. */
  probe(parentId: string, cfg: ImageRunConfig, platform: Platform): Promise<string | undefined>;
}

/** `nocache`: never hits. */
export const noCache: CacheProbe = {
  reset: () => undefined,
  probe: async () => undefined,
};

export class ImageProber implements CacheProbe {
  private busted = false;
  private sources: BuildImage[];

  /**
   * cacheFrom: the `cachefrom` images that resolved; restricted: whether the
   * request named any (then only their histories can hit, even if none resolved).
   */
  constructor(
    private readonly backend: BuildBackend,
    private readonly cacheFrom: BuildImage[],
    private readonly restricted = cacheFrom.length > 0,
  ) {
    this.sources = [...cacheFrom];
  }

  reset(): void {
    this.busted = false;
    this.sources = [...this.cacheFrom];
  }

  async probe(parentId: string, cfg: ImageRunConfig, platform: Platform): Promise<string | undefined> {
    if (this.busted) return undefined;
    const id = this.restricted ? await this.fromSources(parentId, cfg, platform) : this.local(parentId, cfg, platform);
    if (!id) {
      this.busted = true;
      return undefined;
    }
    this.backend.noteCacheHit(id);
    return id;
  }

  /** The newest locally built child of parentId with an equal config and platform. */
  private local(parentId: string, cfg: ImageRunConfig, platform: Platform): string | undefined {
    let match: BuildImage | undefined;
    let matchCreated = -Infinity;
    for (const child of this.backend.children(parentId)) {
      if (!samePlatform(platform, child.config)) continue;
      if (!sameConfig(child.config.container_config, cfg)) continue;
      const created = this.backend.created(child.id);
      if (!match || created > matchCreated) {
        match = child;
        matchCreated = created;
      }
    }
    return match?.id;
  }

  private isAncestor(imageId: string, ancestor: string): boolean {
    let cur: string | undefined = imageId;
    const seen = new Set<string>();
    while (cur && !seen.has(cur)) {
      if (cur === ancestor) return true;
      seen.add(cur);
      cur = this.backend.parent(cur);
    }
    return false;
  }

  private async fromSources(parentId: string, cfg: ImageRunConfig, platform: Platform): Promise<string | undefined> {
    const local = this.local(parentId, cfg, platform);
    if (local && this.sources.some((s) => this.isAncestor(s.id, local))) return local;
    const parent = parentId ? this.backend.findImage(parentId) : undefined;
    const parentHistory = parent?.config.history ?? [];
    for (const target of this.sources) {
      const history = target.config.history ?? [];
      if (!validParent(target, parent) || !history[parentHistory.length] || (cfg.Cmd ?? []).join(' ') !== history[parentHistory.length]!.created_by) continue;
      if (history.length - 1 === parentHistory.length) {
        if (parent) await this.backend.setParent(target.id, parent.id);
        return target.id;
      }
      const restored = await this.restore(parent, target, cfg);
      // Stay on this target from now on, as dockerd does.
      this.sources = [target];
      return restored;
    }
    return undefined;
  }

  /** One more history entry (and its layer) of a cache-from image, as a local image on parent. */
  private async restore(parent: BuildImage | undefined, target: BuildImage, cfg: ImageRunConfig): Promise<string> {
    const parentHistory = parent?.config.history ?? [];
    const at = parentHistory.length;
    const entry = target.config.history![at]!;
    const diffIDs = [...(parent?.config.rootfs.diff_ids ?? [])];
    if (!entry.empty_layer) {
      let layer = 0;
      for (let i = 0; i < at; i++) if (!target.config.history![i]!.empty_layer) layer++;
      diffIDs.push(target.config.rootfs.diff_ids[layer]!);
    }
    const config: ImageConfig = {
      architecture: target.config.architecture,
      os: target.config.os,
      ...(target.config.variant ? { variant: target.config.variant } : {}),
      ...(target.config.author ? { author: target.config.author } : {}),
      ...(entry.created ? { created: entry.created } : {}),
      config: cfg,
      rootfs: { type: 'layers', diff_ids: diffIDs },
      history: [...parentHistory, entry],
      ...(target.config['os.version'] ? { 'os.version': target.config['os.version'] } : {}),
    };
    const img = await this.backend.createImage(parent?.id ?? '', undefined, () => config);
    return img.id;
  }
}

/** dockerd's isValidParent: the parent's history and layers are a strict prefix of the image's. */
function validParent(img: BuildImage, parent: BuildImage | undefined): boolean {
  const h = img.config.history ?? [];
  if (h.length === 0) return false;
  if (!parent) return true;
  const ph = parent.config.history ?? [];
  const pd = parent.config.rootfs.diff_ids;
  if (ph.length === 0 && pd.length === 0) return true;
  if (ph.length >= h.length || pd.length > img.config.rootfs.diff_ids.length) return false;
  for (let i = 0; i < ph.length; i++) if (!sameHistory(ph[i]!, h[i]!)) return false;
  for (let i = 0; i < pd.length; i++) if (pd[i] !== img.config.rootfs.diff_ids[i]) return false;
  return true;
}

function sameHistory(a: HistoryEntry, b: HistoryEntry): boolean {
  const norm = (e: HistoryEntry) => ({ created: e.created ?? '', created_by: e.created_by ?? '', author: e.author ?? '', comment: e.comment ?? '', empty_layer: !!e.empty_layer });
  return isDeepStrictEqual(norm(a), norm(b));
}
