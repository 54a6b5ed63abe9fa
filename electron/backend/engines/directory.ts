/**
 * All the engines Berth knows about — its own berthd, DOCKER_HOST, docker
 * contexts, and endpoints added in settings — and which one is active. The
 * active engine is the user's choice when made; otherwise the one the docker
 * CLI would use (DOCKER_HOST, the current context), else Berth's own.
 */
import { EventEmitter } from 'node:events';
import { randomBytes } from 'node:crypto';
import type { CustomEndpoint, EnginesSnapshot } from '../../contract/models.js';
import type { SettingsStore } from '../settings/settings-store.js';
import type { Engine } from './engine.js';
import { BackendError } from '../errors.js';
import { EndpointEngine } from './endpoint-engine.js';
import type { DiscoveredEndpoint } from './discovery.js';

export interface EngineSources {
  /** Berth's own engine (berthd here, the VM on macOS/Windows), if this platform has one. */
  own?: Engine;
  /** Berth's other engines (the VM on Linux, beside native berthd): listed, never the default. */
  offered?: Engine[];
  discover(): DiscoveredEndpoint[];
}

export class EngineDirectory {
  private readonly engines = new Map<string, Engine>();
  private readonly unsubscribers = new Map<string, () => void>();
  private readonly events = new EventEmitter();
  private preferredId: string | null = null;

  constructor(
    private readonly settings: SettingsStore,
    private readonly sources: EngineSources,
  ) {
    this.events.setMaxListeners(0);
    this.reload();
  }

  /** Re-reads DOCKER_HOST, contexts and settings; keeps engines that are still there (and their connections). */
  reload(): void {
    const wanted = new Map<string, () => Engine>();
    if (this.sources.own) {
      const own = this.sources.own;
      wanted.set(own.id, () => own);
    }
    for (const o of this.sources.offered ?? []) wanted.set(o.id, () => o);
    const berths = [...(this.sources.own ? [this.sources.own] : []), ...(this.sources.offered ?? [])];
    const seenHosts = new Set(berths.map((b) => b.host));
    let preferred: string | null = null;
    for (const d of this.sources.discover()) {
      if (seenHosts.has(d.host)) {
        const berth = berths.find((b) => b.host === d.host);
        if (d.current && berth) preferred ??= berth.id;
        continue;
      }
      seenHosts.add(d.host);
      const spec = { id: d.id, name: d.name, host: d.host, source: d.source, ...(d.tls ? { tls: d.tls } : {}) };
      wanted.set(d.id, () => new EndpointEngine(spec));
      if (d.current && d.id !== 'context-default') preferred ??= d.id;
    }
    for (const e of this.settings.get().endpoints) {
      if (seenHosts.has(e.host) || wanted.has(e.id)) continue;
      seenHosts.add(e.host);
      wanted.set(e.id, () => endpointFromSettings(e));
    }
    this.preferredId = preferred;
    for (const [id, engine] of this.engines) {
      if (wanted.has(id) && (engine.kind !== 'endpoint' || this.sameSpec(engine, id))) continue;
      this.drop(id);
    }
    for (const [id, make] of wanted) {
      if (this.engines.has(id)) continue;
      const engine = make();
      this.engines.set(id, engine);
      this.unsubscribers.set(id, engine.onChange(() => this.events.emit('change')));
    }
    this.events.emit('change');
  }

  private sameSpec(engine: Engine, id: string): boolean {
    const fromSettings = this.settings.get().endpoints.find((e) => e.id === id);
    if (fromSettings) return fromSettings.host === engine.host;
    return this.sources.discover().some((d) => d.id === id && d.host === engine.host);
  }

  private drop(id: string): void {
    const engine = this.engines.get(id);
    if (!engine) return;
    this.unsubscribers.get(id)?.();
    this.unsubscribers.delete(id);
    this.engines.delete(id);
    if (engine !== this.sources.own && !this.sources.offered?.includes(engine)) engine.dispose();
  }

  list(): Engine[] {
    return [...this.engines.values()];
  }

  get(id: string): Engine {
    const e = this.engines.get(id);
    if (!e) throw new BackendError(`no engine with id "${id}"`, 404);
    return e;
  }

  activeId(): string | null {
    const chosen = this.settings.get().activeEngineId;
    if (chosen && this.engines.has(chosen)) return chosen;
    if (this.preferredId && this.engines.has(this.preferredId)) return this.preferredId;
    if (this.sources.own) return this.sources.own.id;
    return this.engines.keys().next().value ?? null;
  }

  active(): Engine | undefined {
    const id = this.activeId();
    return id ? this.engines.get(id) : undefined;
  }

  async setActive(id: string): Promise<void> {
    this.get(id);
    await this.settings.update({ activeEngineId: id });
    this.events.emit('change');
  }

  async add(endpoint: Omit<CustomEndpoint, 'id'>): Promise<Engine> {
    const current = this.settings.get().endpoints;
    if (this.list().some((e) => e.host === endpoint.host)) throw new BackendError(`an engine at ${endpoint.host} is already listed`, 409);
    const id = `endpoint-${randomBytes(4).toString('hex')}`;
    await this.settings.update({ endpoints: [...current, { ...endpoint, id }] });
    this.reload();
    const engine = this.get(id);
    void engine.probe();
    return engine;
  }

  async remove(id: string): Promise<void> {
    const engine = this.get(id);
    if (engine.source !== 'settings') throw new BackendError(`${engine.name} comes from ${engine.source === 'berth' ? 'Berth itself' : engine.source === 'env' ? 'DOCKER_HOST' : 'your docker contexts'} and cannot be removed here`, 409);
    const s = this.settings.get();
    await this.settings.update({ endpoints: s.endpoints.filter((e) => e.id !== id), ...(s.activeEngineId === id ? { activeEngineId: null } : {}) });
    this.reload();
  }

  snapshot(): EnginesSnapshot {
    return { engines: this.list().map((e) => e.info()), activeId: this.activeId() };
  }

  probeAll(): Promise<unknown> {
    return Promise.allSettled(this.list().map((e) => e.probe()));
  }

  onChange(listener: () => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  dispose(): void {
    for (const id of [...this.engines.keys()]) this.drop(id);
    this.events.removeAllListeners();
  }
}

function endpointFromSettings(e: CustomEndpoint): EndpointEngine {
  const tls = e.tlsCertPath
    ? { ca: `${e.tlsCertPath}/ca.pem`, cert: `${e.tlsCertPath}/cert.pem`, key: `${e.tlsCertPath}/key.pem`, verify: e.tlsVerify !== false }
    : undefined;
  return new EndpointEngine({ id: e.id, name: e.name, host: e.host, source: 'settings', ...(tls ? { tls } : {}) });
}
