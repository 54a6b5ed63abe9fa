/**
 * Keeps the tray's state current from the backend: the engines (and which is
 * active) from the engine directory, the running containers from the active engine's
 * live model. Plain Node, so the tray's data flow is tested without Electron.
 */
import { EventEmitter } from 'node:events';
import type { ContainerRow, ModelEvent } from '../../contract/models.js';
import type { Backend } from '../backend.js';
import type { TrayState } from './tray-menu.js';

export class TrayStateSource {
  private readonly events = new EventEmitter();
  private readonly containers = new Map<string, ContainerRow>();
  private modelStatus: TrayState['modelStatus'] = 'idle';
  private watchedId: string | null = null;
  private unwatch: (() => void) | undefined;
  private readonly offEngines: () => void;

  constructor(private readonly backend: Backend) {
    this.offEngines = backend.engines.onChange(() => this.sync());
    this.sync();
  }

  state(): TrayState {
    const snap = this.backend.engines.snapshot();
    const running = [...this.containers.values()].filter((c) => c.state === 'running').map((c) => ({ id: c.id, name: c.name }));
    return { engines: snap.engines, activeId: snap.activeId, modelStatus: this.modelStatus, running };
  }

  onChange(listener: () => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  dispose(): void {
    this.offEngines();
    this.unwatch?.();
    this.events.removeAllListeners();
  }

  private sync(): void {
    const active = this.backend.engines.activeId();
    if (active !== this.watchedId) {
      this.unwatch?.();
      this.unwatch = undefined;
      this.containers.clear();
      this.modelStatus = active ? 'connecting' : 'idle';
      this.watchedId = active;
      if (active) this.unwatch = this.backend.watchModel(active, (e) => this.apply(e));
    }
    this.events.emit('change');
  }

  private apply(e: ModelEvent): void {
    if (e.type === 'status') this.modelStatus = e.status;
    else if (e.type === 'containers') {
      if (e.reset) this.containers.clear();
      for (const c of e.upsert) this.containers.set(c.id, c);
      for (const id of e.remove) this.containers.delete(id);
    } else return;
    this.events.emit('change');
  }
}
