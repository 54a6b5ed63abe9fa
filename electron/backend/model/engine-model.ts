/**
 * One engine's containers, images, volumes and networks, kept current from
 * its /events stream instead of polling: the stream is opened first, then a
 * snapshot is listed, then events refetch only what they touch (coalesced).
 * When the stream breaks, watchers see "unreachable" and the model reconnects
 * with backoff; on reconnect it resyncs with a fresh snapshot.
 */
import type { Readable } from 'node:stream';
import type Docker from 'dockerode';
import type { ContainerRow, ImageRow, ModelEvent, NetworkRow, VolumeRow } from '../../contract/models.js';
import type { Engine } from '../engines/engine.js';
import { describeConnectError } from '../engines/engine.js';
import { containerRow, imageRow, networkRow, volumeRow } from './mappers.js';
import { estimateTimes, timesFromInspect, withTimes, type ContainerTimes } from './container-times.js';
import { HELPER_LABEL } from '../services/files.js';
import { JsonLineDecoder } from '../streams/json-lines.js';

type Kind = 'containers' | 'images' | 'volumes' | 'networks';
type Row = ContainerRow | ImageRow | VolumeRow | NetworkRow;

interface DockerEvent {
  Type?: string;
  Action?: string;
  status?: string;
  id?: string;
  Actor?: { ID?: string; Attributes?: Record<string, string> };
}

/** Container actions that change what the list shows (exec_*, attach, resize, top, archive do not). */
const CONTAINER_ACTIONS = new Set(['create', 'start', 'restart', 'stop', 'die', 'kill', 'pause', 'unpause', 'rename', 'update', 'oom', 'destroy', 'health_status', 'commit']);

const keyOf: Record<Kind, (r: Row) => string> = {
  containers: (r) => (r as ContainerRow).id,
  images: (r) => (r as ImageRow).id,
  volumes: (r) => (r as VolumeRow).name,
  networks: (r) => (r as NetworkRow).id,
};

export interface EngineModelOptions {
  /** First reconnect delay (doubles up to maxRetryMs). */
  retryMs?: number;
  maxRetryMs?: number;
  /** How long events are gathered before refetching (coalesces bursts, e.g. bulk removes). */
  coalesceMs?: number;
}

export class EngineModel {
  private readonly rows: Record<Kind, Map<string, Row>> = { containers: new Map(), images: new Map(), volumes: new Map(), networks: new Map() };
  private readonly listeners = new Set<(e: ModelEvent) => void>();
  private status: Extract<ModelEvent, { type: 'status' }> = { type: 'status', status: 'connecting' };
  private stream: Readable | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private generation = 0;
  private disposed = false;
  private synced = false;
  private readonly pendingContainers = new Set<string>();
  /** Exact start/finish times from inspect, per container, until an event says they may have changed. */
  private readonly exactTimes = new Map<string, ContainerTimes>();
  private enriching = false;
  /** Counts events; a container destroyed after a refetch began must not come back from it. */
  private eventSeq = 0;
  private readonly destroyedAt = new Map<string, number>();
  private readonly pendingKinds = new Set<Kind>();
  private readonly unsubscribeEngine: () => void;

  constructor(
    private readonly engine: Engine,
    private readonly opts: EngineModelOptions = {},
  ) {
    this.unsubscribeEngine = engine.onChange(() => {
      // The engine came up (e.g. started from the tray): reconnect now rather than at the next retry.
      if (engine.state() === 'running' && this.status.status === 'unreachable') this.reconnectNow();
    });
    void this.connect();
  }

  /** Sends the current status and snapshot to the new listener, then every change. */
  subscribe(listener: (e: ModelEvent) => void): () => void {
    this.listeners.add(listener);
    listener(this.status);
    if (this.synced) for (const kind of Object.keys(this.rows) as Kind[]) listener(this.snapshot(kind));
    return () => this.listeners.delete(listener);
  }

  get watcherCount(): number {
    return this.listeners.size;
  }

  containers(): ContainerRow[] {
    return [...this.rows.containers.values()] as ContainerRow[];
  }

  isConnected(): boolean {
    return this.status.status === 'connected';
  }

  dispose(): void {
    this.disposed = true;
    this.generation++;
    this.unsubscribeEngine();
    clearTimeout(this.retryTimer);
    clearTimeout(this.flushTimer);
    this.stream?.destroy();
    this.stream = undefined;
    this.listeners.clear();
  }

  private emit(e: ModelEvent): void {
    for (const l of this.listeners) l(e);
  }

  private setStatus(s: Extract<ModelEvent, { type: 'status' }>): void {
    this.status = s;
    this.emit(s);
  }

  private snapshot(kind: Kind): ModelEvent {
    return { type: kind, reset: true, upsert: [...this.rows[kind].values()], remove: [] } as ModelEvent;
  }

  private reconnectNow(): void {
    clearTimeout(this.retryTimer);
    this.failures = 0;
    void this.connect();
  }

  private docker(): Docker {
    return this.engine.client();
  }

  private async connect(): Promise<void> {
    if (this.disposed) return;
    const gen = ++this.generation;
    this.stream?.destroy();
    this.stream = undefined;
    this.synced = false;
    if (this.status.status !== 'connecting') this.setStatus({ type: 'status', status: 'connecting' });
    const buffered: DockerEvent[] = [];
    let live = false;
    try {
      const stream = (await this.docker().getEvents({})) as Readable;
      if (gen !== this.generation) {
        stream.destroy();
        return;
      }
      this.stream = stream;
      const decoder = new JsonLineDecoder((v) => {
        const ev = v as DockerEvent;
        if (live) this.onEvent(ev);
        else buffered.push(ev);
      });
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => decoder.push(chunk));
      const broken = (err?: Error) => {
        if (gen !== this.generation) return;
        this.lost(err ? describeConnectError(err, this.engine.host) : `the event stream from ${this.engine.host} ended`);
      };
      stream.once('end', () => broken());
      stream.once('error', (err) => broken(err));
      stream.once('close', () => broken());
      await Promise.all((['containers', 'images', 'volumes', 'networks'] as Kind[]).map((k) => this.refetch(k, gen, true)));
      if (gen !== this.generation) return;
      this.synced = true;
      live = true;
      this.failures = 0;
      this.setStatus({ type: 'status', status: 'connected' });
      for (const ev of buffered) this.onEvent(ev);
      this.engine.reportReachable(true);
    } catch (err) {
      if (gen !== this.generation) return;
      this.lost(describeConnectError(err, this.engine.host));
    }
  }

  private lost(error: string): void {
    if (this.disposed) return;
    this.generation++;
    this.stream?.destroy();
    this.stream = undefined;
    this.synced = false;
    const base = this.opts.retryMs ?? 250;
    const delay = Math.min(this.opts.maxRetryMs ?? 5000, base * 2 ** this.failures++);
    this.setStatus({ type: 'status', status: 'unreachable', error, retryInMs: delay });
    this.engine.reportReachable(false, error);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => void this.connect(), delay);
  }

  private onEvent(ev: DockerEvent): void {
    const type = ev.Type;
    const action = (ev.Action ?? ev.status ?? '').split(':')[0]!;
    const id = ev.Actor?.ID ?? ev.id;
    if (type === 'container' && id) {
      if (!CONTAINER_ACTIONS.has(action)) return;
      this.exactTimes.delete(id);
      if (action === 'destroy') {
        this.destroyedAt.set(id, ++this.eventSeq);
        this.pendingContainers.delete(id);
        if (this.rows.containers.delete(id)) this.emit({ type: 'containers', reset: false, upsert: [], remove: [id] });
        return;
      }
      this.pendingContainers.add(id);
    } else if (type === 'image') {
      this.pendingKinds.add('images');
    } else if (type === 'volume') {
      this.pendingKinds.add('volumes');
    } else if (type === 'network') {
      this.pendingKinds.add('networks');
      const container = ev.Actor?.Attributes?.container;
      if ((action === 'connect' || action === 'disconnect') && container) this.pendingContainers.add(container);
    } else {
      return;
    }
    this.flushTimer ??= setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, this.opts.coalesceMs ?? 30);
  }

  private async flush(): Promise<void> {
    const gen = this.generation;
    const ids = [...this.pendingContainers];
    const kinds = [...this.pendingKinds];
    this.pendingContainers.clear();
    this.pendingKinds.clear();
    try {
      const work: Promise<void>[] = kinds.map((k) => this.refetch(k, gen, false));
      if (ids.length > 50) work.push(this.refetch('containers', gen, false));
      else if (ids.length > 0) work.push(this.refetchContainers(ids, gen));
      await Promise.all(work);
    } catch (err) {
      if (gen === this.generation) this.lost(describeConnectError(err, this.engine.host));
    }
  }

  private async refetchContainers(ids: string[], gen: number): Promise<void> {
    const since = this.eventSeq;
    const found = await this.docker().listContainers({ all: true, filters: { id: ids } });
    if (gen !== this.generation) return;
    // The few containers an event touched get their exact times now, so "Up 1 second" is right from the start.
    await this.inspectTimes(found.map((c) => c.Id), gen);
    if (gen !== this.generation) return;
    const upsert: ContainerRow[] = [];
    const byId = new Map(found.filter((c) => !isHelper(c)).map((c) => [c.Id, c]));
    if (this.destroyedAt.size > 1000) for (const [k, v] of this.destroyedAt) if (v <= since) this.destroyedAt.delete(k);
    const remove: string[] = [];
    for (const id of ids) {
      const c = byId.get(id);
      if (c && (this.destroyedAt.get(id) ?? -1) > since) continue;
      if (!c) {
        if (this.rows.containers.delete(id)) remove.push(id);
        continue;
      }
      const row = this.timed(containerRow(c));
      if (!sameRow(this.rows.containers.get(id), row)) {
        this.rows.containers.set(id, row);
        upsert.push(row);
      }
    }
    if (upsert.length || remove.length) this.emit({ type: 'containers', reset: false, upsert, remove });
  }

  private async list(kind: Kind): Promise<Row[]> {
    const docker = this.docker();
    switch (kind) {
      case 'containers':
        return (await docker.listContainers({ all: true })).filter((c) => !isHelper(c)).map((c) => this.timed(containerRow(c)));
      case 'images':
        return (await docker.listImages({ all: false })).map(imageRow);
      case 'volumes':
        return ((await docker.listVolumes()).Volumes ?? []).map(volumeRow);
      case 'networks':
        return (await docker.listNetworks()).map(networkRow);
    }
  }

  /** Lists one kind and emits the difference (or a reset for the initial snapshot). */
  private async refetch(kind: Kind, gen: number, reset: boolean): Promise<void> {
    let rows: Row[];
    const since = this.eventSeq;
    try {
      rows = await this.list(kind);
      if (kind === 'containers') rows = rows.filter((r) => (this.destroyedAt.get(keyOf.containers(r)) ?? -1) <= since);
    } catch (err) {
      // An engine without this endpoint (older berthd, podman quirks) still shows everything else.
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 404 || status === 501) rows = [];
      else throw err;
    }
    if (gen !== this.generation) return;
    const map = this.rows[kind];
    const key = keyOf[kind];
    if (kind === 'containers') queueMicrotask(() => void this.enrichTimes(gen));
    if (reset) {
      map.clear();
      for (const r of rows) map.set(key(r), r);
      if (this.synced || this.listeners.size) this.emit(this.snapshot(kind));
      return;
    }
    const upsert: Row[] = [];
    const seen = new Set<string>();
    for (const r of rows) {
      const k = key(r);
      seen.add(k);
      if (!sameRow(map.get(k), r)) {
        map.set(k, r);
        upsert.push(r);
      }
    }
    const remove = [...map.keys()].filter((k) => !seen.has(k));
    for (const k of remove) map.delete(k);
    if (upsert.length || remove.length) this.emit({ type: kind, reset: false, upsert, remove } as ModelEvent);
  }

  /** A listed row with the best times known: exact ones, else the estimate it already had (estimates do not jitter), else a new estimate. */
  private timed(row: ContainerRow): ContainerRow {
    const exact = this.exactTimes.get(row.id);
    if (exact) return withTimes(row, exact);
    const prev = this.rows.containers.get(row.id) as ContainerRow | undefined;
    if (prev && prev.state === row.state && (prev.startedAt !== undefined || prev.finishedAt !== undefined)) {
      return withTimes(row, { ...(prev.startedAt !== undefined ? { startedAt: prev.startedAt } : {}), ...(prev.finishedAt !== undefined ? { finishedAt: prev.finishedAt } : {}), ...(prev.exitCode !== undefined ? { exitCode: prev.exitCode } : {}), ...estimateHealth(row.status) });
    }
    return withTimes(row, estimateTimes(row.status, Date.now()));
  }

  private async inspectTimes(ids: string[], gen: number, concurrency = 8): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < ids.length && gen === this.generation && !this.disposed) {
        const id = ids[next++]!;
        try {
          this.exactTimes.set(id, timesFromInspect(await this.docker().getContainer(id).inspect()));
        } catch {
          // Gone meanwhile, or the engine refuses: the estimate stays.
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
  }

  /** After a full listing: exact times for every row still on an estimate, a few at a time, emitted in batches. */
  private async enrichTimes(gen: number): Promise<void> {
    if (this.enriching) return;
    this.enriching = true;
    try {
      for (;;) {
        const todo = [...this.rows.containers.keys()].filter((id) => !this.exactTimes.has(id)).slice(0, 100);
        if (todo.length === 0 || gen !== this.generation || this.disposed) return;
        await this.inspectTimes(todo, gen, 4);
        if (gen !== this.generation || this.disposed) return;
        const upsert: ContainerRow[] = [];
        for (const id of todo) {
          const row = this.rows.containers.get(id) as ContainerRow | undefined;
          const exact = this.exactTimes.get(id);
          if (!row) continue;
          // Inspect failed (removed meanwhile): do not ask again until an event brings it back.
          if (!exact) {
            this.exactTimes.set(id, { ...(row.startedAt !== undefined ? { startedAt: row.startedAt } : {}), ...(row.finishedAt !== undefined ? { finishedAt: row.finishedAt } : {}) });
            continue;
          }
          const next = withTimes(row, exact);
          if (!sameRow(row, next)) {
            this.rows.containers.set(id, next);
            upsert.push(next);
          }
        }
        if (upsert.length) this.emit({ type: 'containers', reset: false, upsert, remove: [] });
      }
    } finally {
      this.enriching = false;
    }
  }
}

/** Berth's own short-lived helper containers (volume file access) are plumbing, not the user's containers. */
function isHelper(c: Docker.ContainerInfo): boolean {
  return !!c.Labels?.[HELPER_LABEL];
}

function estimateHealth(status: string): ContainerTimes {
  const h = estimateTimes(status, 0).health;
  return h ? { health: h } : {};
}

function sameRow(a: Row | undefined, b: Row): boolean {
  return !!a && JSON.stringify(a) === JSON.stringify(b);
}
