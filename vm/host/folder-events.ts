/**
 * Host file changes → inotify in the guest. 9p carries no change notifications, so dev servers in
 * containers would never see a host edit. The host agent asks the guest which shared-folder paths
 * running containers bind (`/v1/binds`, a long poll the guest answers when the list changes:
 * guest/binds-watch.ts), watches those on the host (fs.watch: inotify on Linux, FSEvents on
 * macOS; folders recursively), and sends the changed paths to the guest (`/v1/fs-events`), which
 * re-sets their mode so inotify fires there.
 * The guest's setattr reaches the host as a ctime change, which would echo back: a path is sent
 * again only when its mtime, size or existence differ from what was last sent.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ROUTES } from '../channel/protocol.js';
import type { AgentChannel } from './agent-channel.js';

/** How long one /v1/binds request waits in the guest for the list to change. */
export const LONG_POLL_MS = 25_000;

export interface FolderEventsOptions {
  /** The pause before asking again when the guest had no news at once or did not answer. */
  refreshMs?: number;
  /** How long one request for the list waits in the guest for a change. */
  longPollMs?: number;
  /** Changes are batched for this long before one replay. */
  batchMs?: number;
}

/** What identifies a version of a path for the echo check: a replayed touch changes none of it. */
export function versionOf(p: string): string {
  const st = fs.statSync(p, { throwIfNoEntry: false, bigint: true });
  return st ? `${st.mtimeNs}:${st.size}:${st.ino}` : 'gone';
}

interface Watch {
  watcher: fs.FSWatcher;
}

export class FolderEvents {
  private readonly watches = new Map<string, Watch>();
  private readonly lastSent = new Map<string, string>();
  private pending = new Set<string>();
  private refreshTimer: NodeJS.Timeout | undefined;
  private batchTimer: NodeJS.Timeout | undefined;
  private running = false;
  /** The version of the guest's list we watch (guest/binds-watch.ts); undefined until the first answer. */
  private version: number | undefined;
  /** Replays sent and paths in them (status and tests). */
  readonly stats = { replays: 0, paths: 0, watched: 0 };

  constructor(
    private readonly channel: () => AgentChannel | undefined,
    private readonly log: (m: string) => void,
    private readonly o: FolderEventsOptions = {},
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.version = undefined;
    const tick = () => {
      void this.refresh().then((pause) => {
        if (this.running) this.refreshTimer = setTimeout(tick, pause);
      });
    };
    tick();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.refreshTimer);
    clearTimeout(this.batchTimer);
    for (const w of this.watches.values()) w.watcher.close();
    this.watches.clear();
    this.pending.clear();
    this.stats.watched = 0;
  }

  /** Watches exactly the given bind sources (reconciling with what is watched now). */
  watch(sources: readonly string[]): void {
    const want = new Set(sources);
    for (const [src, w] of this.watches) {
      if (!want.has(src)) {
        w.watcher.close();
        this.watches.delete(src);
      }
    }
    for (const src of want) {
      if (this.watches.has(src)) continue;
      const st = fs.statSync(src, { throwIfNoEntry: false });
      if (!st) continue;
      try {
        // A bound file: its folder, filtered by name (editors replace files by renaming over them).
        const dir = st.isDirectory() ? src : path.dirname(src);
        const only = st.isDirectory() ? undefined : path.basename(src);
        const watcher = fs.watch(dir, { recursive: st.isDirectory(), persistent: false }, (_event, name) => {
          const rel = name === null ? '' : String(name);
          if (only !== undefined && rel !== only) return;
          this.changed(path.join(dir, rel));
        });
        watcher.on('error', () => {
          watcher.close();
          this.watches.delete(src);
        });
        this.watches.set(src, { watcher });
      } catch (err) {
        this.log(`file events: cannot watch ${src}: ${(err as Error).message}`);
      }
    }
    this.stats.watched = this.watches.size;
  }

  /**
   * One long poll of the guest's list: answered when it differs from the version we hold, else after
   * LONG_POLL_MS. Resolves with how long to wait before the next: none after a real answer, refreshMs
   * when the guest answered at once without news (its list is not followed yet, or an older guest
   * that does not long-poll) or the request failed (the guest is busy or restarting).
   */
  private async refresh(): Promise<number> {
    const pause = this.o.refreshMs ?? 2000;
    const ch = this.channel();
    if (!ch) return pause;
    const wait = this.o.longPollMs ?? LONG_POLL_MS;
    const q = this.version === undefined ? '' : `?after=${this.version}&waitMs=${wait}`;
    const t0 = Date.now();
    try {
      const r = await ch.request(`${ROUTES.binds}${q}`, { timeoutMs: wait + 15_000 });
      if (!this.running || r.status !== 200) return pause;
      const { binds, version } = JSON.parse(r.body) as { binds?: string[]; version?: number };
      const news = typeof version === 'number' && version !== this.version;
      this.version = typeof version === 'number' ? version : undefined;
      this.watch(Array.isArray(binds) ? binds.filter((b) => typeof b === 'string') : []);
      return news || Date.now() - t0 >= 1000 ? 0 : pause;
    } catch {
      return pause;
    }
  }

  private changed(p: string): void {
    this.pending.add(p);
    if (!this.batchTimer) this.batchTimer = setTimeout(() => void this.flush(), this.o.batchMs ?? 20);
  }

  private async flush(): Promise<void> {
    this.batchTimer = undefined;
    const batch = [...this.pending];
    this.pending = new Set();
    const paths = batch.filter((p) => {
      const v = versionOf(p);
      if (this.lastSent.get(p) === v) return false;
      this.lastSent.set(p, v);
      return true;
    });
    if (this.lastSent.size > 100_000) this.lastSent.clear();
    const ch = this.channel();
    if (!paths.length || !ch) return;
    // A big operation (an untar, a checkout, a container writing): its folders, not every file.
    if (paths.length > 256) paths.splice(0, paths.length, ...new Set(paths.map((p) => path.dirname(p))));
    try {
      await ch.request(ROUTES.fsEvents, { method: 'POST', body: JSON.stringify({ paths }), timeoutMs: 10_000 });
      this.stats.replays++;
      this.stats.paths += paths.length;
    } catch (err) {
      this.log(`file events: replay failed: ${(err as Error).message}`);
    }
  }
}
