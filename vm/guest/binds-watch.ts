/**
 * Which shared-folder paths running containers bind (what the host agent watches for file-change
 * events), kept current from berthd's event stream instead of being listed on every request. The
 * host waits on `/v1/binds?after=<version>` (a long poll) and is answered when the list changes,
 * so an idle VM does no work for it: listing containers every 2 s was most of an idle guest's CPU
 * under tcg (the agent and berthd, each a node process under emulation).
 */
import http from 'node:http';
import { CoalescedRun } from '../../engine/concurrency/coalesced-run.js';
import { GUEST_ENGINE_SOCKET } from '../channel/protocol.js';

/** The container events after which the set of running containers (and so their binds) may differ. */
export const BIND_EVENTS = ['start', 'die', 'destroy'] as const;

export interface EventSubscription {
  close(): void;
}

/** Subscribes to berthd's events: `onOpen` once the stream is answered, `onEvent` per event, `onEnd` once when it ends or fails. */
export type Subscribe = (h: { onOpen: () => void; onEvent: () => void; onEnd: (err?: Error) => void }) => EventSubscription;

export interface BindsSnapshot {
  version: number;
  binds: string[];
}

export interface BindsWatchOptions {
  /** Lists the bind sources now (rejects when berthd does not answer: the last list is kept). */
  list: () => Promise<string[]>;
  subscribe?: Subscribe;
  log?: (m: string) => void;
  /** Events are coalesced for this long before one listing (a compose up starts several containers). */
  debounceMs?: number;
  /** Wait before subscribing again after the stream ended (berthd restarting). */
  retryMs?: number;
}

export class BindsWatch {
  private snapshot: BindsSnapshot = { version: 0, binds: [] };
  private readonly waiters = new Set<() => void>();
  private sub: EventSubscription | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private readonly listing = new CoalescedRun(() => this.listOnce());
  private running = false;

  constructor(private readonly o: BindsWatchOptions) {}

  get current(): BindsSnapshot {
    return this.snapshot;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.subscribe();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.debounce);
    clearTimeout(this.retry);
    this.sub?.close();
    this.sub = undefined;
    this.wake();
  }

  /** The list as soon as its version differs from `after` (at once when it already does), or the same list after `timeoutMs`. */
  wait(after: number | undefined, timeoutMs: number): Promise<BindsSnapshot> {
    if (after === undefined || after !== this.snapshot.version || !this.running) return Promise.resolve(this.snapshot);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.waiters.delete(done);
        resolve(this.snapshot);
      };
      const t = setTimeout(done, timeoutMs);
      this.waiters.add(done);
    });
  }

  /** Lists again (after an event, or when the stream (re)opens); one listing at a time, the last request wins. */
  refresh(): Promise<void> {
    return this.listing.run();
  }

  private async listOnce(): Promise<void> {
    try {
      const binds = [...(await this.o.list())].sort();
      if (binds.join('\0') !== this.snapshot.binds.join('\0') || this.snapshot.version === 0) {
        this.snapshot = { version: this.snapshot.version + 1, binds };
        this.wake();
      }
    } catch (err) {
      this.o.log?.(`binds: ${(err as Error).message}`);
    }
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private subscribe(): void {
    if (!this.running) return;
    let ended = false;
    this.sub = (this.o.subscribe ?? subscribeEngineEvents)({
      onOpen: () => void this.refresh(),
      onEvent: () => {
        clearTimeout(this.debounce);
        this.debounce = setTimeout(() => void this.refresh(), this.o.debounceMs ?? 100);
      },
      onEnd: () => {
        if (ended) return;
        ended = true;
        this.sub = undefined;
        if (!this.running) return;
        // berthd went away (a restart): what ran may have changed, and the stream is opened again.
        void this.refresh();
        this.retry = setTimeout(() => this.subscribe(), this.o.retryMs ?? 1000);
      },
    });
  }
}

/** berthd's `/events` for the container events in BIND_EVENTS, on its socket in the guest. */
export function subscribeEngineEvents(h: Parameters<Subscribe>[0], socketPath = GUEST_ENGINE_SOCKET): EventSubscription {
  const filters = encodeURIComponent(JSON.stringify({ type: ['container'], event: BIND_EVENTS }));
  const req = http.get({ socketPath, path: `/events?filters=${filters}` }, (res) => {
    if (res.statusCode !== 200) {
      res.resume();
      return h.onEnd(new Error(`/events answered ${res.statusCode}`));
    }
    h.onOpen();
    // One JSON object per line; only that something happened matters.
    res.on('data', (c: Buffer) => {
      if (c.includes(10)) h.onEvent();
    });
    res.on('end', () => h.onEnd());
    res.on('error', (err) => h.onEnd(err));
  });
  req.on('error', (err) => h.onEnd(err));
  return { close: () => req.destroy() };
}
