/**
 * The builder as the API sees it: run a build (with a way to cancel it by
 * its `buildid`), prune the build cache, list it for `docker system df`.
 * Builds share the daemon's image store and cache records; each keeps its
 * scratch files in its own folder under <data-root>/builder/tmp, which
 * startup empties (as it unmounts image views a crash left).
 */
import fsp from 'node:fs/promises';
import type { EventBus } from '../events/bus.js';
import type { Logger } from '../daemon/log.js';
import type { BuildBackend } from './backend.js';
import { runBuild, type BuildOutcome, type BuildRequest } from './build.js';
import type { BuildCacheItem, BuildCachePruneReport, BuildCacheStore, PruneOptions } from './cache-store.js';
import { cleanupImageMounts } from './image-fs.js';
import type { ContextLimits } from './context/build-context.js';

export interface BuildServiceDeps {
  backend: BuildBackend;
  cache: BuildCacheStore;
  events: EventBus;
  log: Logger;
  tmpRoot: string;
  mountRoot: string;
  /** Removes an image the cache no longer needs; returns the bytes freed. */
  removeImage(id: string): Promise<number>;
  limits?: Partial<ContextLimits>;
}

export class BuildService {
  private readonly running = new Map<string, AbortController>();

  constructor(private readonly d: BuildServiceDeps) {}

  async init(): Promise<void> {
    await cleanupImageMounts(this.d.mountRoot);
    await fsp.rm(this.d.tmpRoot, { recursive: true, force: true });
    await fsp.mkdir(this.d.tmpRoot, { recursive: true, mode: 0o700 });
    await this.d.cache.init();
  }

  async shutdown(): Promise<void> {
    for (const c of this.running.values()) c.abort(new Error('the daemon is shutting down'));
    await this.d.cache.flush();
  }

  /** Runs a build; `buildId` (the API's buildid) lets POST /build/cancel stop it. */
  async build(req: BuildRequest, sink: (data: string) => void, signal: AbortSignal, buildId = ''): Promise<BuildOutcome> {
    const ctl = new AbortController();
    const onAbort = () => ctl.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    if (buildId) this.running.set(buildId, ctl);
    const started = Date.now();
    try {
      const outcome = await runBuild({ backend: this.d.backend, tmpRoot: this.d.tmpRoot, ...(this.d.limits ? { limits: this.d.limits } : {}) }, req, sink, ctl.signal);
      this.d.log.info('build finished', { image: outcome.imageId?.slice(7, 19), error: outcome.error?.message, ms: Date.now() - started, contextMs: outcome.timings?.context, contextBytes: outcome.timings?.contextBytes });
      return outcome;
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (buildId) this.running.delete(buildId);
    }
  }

  cancel(buildId: string): boolean {
    const c = this.running.get(buildId);
    c?.abort(new Error('build cancelled'));
    return c !== undefined;
  }

  cacheItems(): BuildCacheItem[] {
    return this.d.cache.items();
  }

  async prune(opts: PruneOptions): Promise<BuildCachePruneReport> {
    if (opts.minFreeSpace) {
      const st = await fsp.statfs(this.d.tmpRoot);
      opts = { ...opts, freeBytes: st.bavail * st.bsize };
    }
    const report = await this.d.cache.prune(opts, (id) => this.d.removeImage(id));
    this.d.events.publish('builder', 'prune', '', { reclaimed: String(report.SpaceReclaimed) });
    return report;
  }
}
