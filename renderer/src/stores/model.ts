/**
 * The active engine's containers, images, volumes and networks, fed by the
 * backend's model stream (a snapshot, then deltas from the engine's /events).
 * `applyModelEvent` is a pure reducer so it is tested without a backend.
 */
import { create } from 'zustand';
import type { ContainerRow, ImageRow, ModelEvent, NetworkRow, VolumeRow } from '../../../electron/contract/models.js';

export type ModelStatus = 'idle' | 'connecting' | 'connected' | 'unreachable';

export interface ModelState {
  engineId: string | null;
  status: ModelStatus;
  error: string | undefined;
  retryInMs: number | undefined;
  /** When the next reconnect attempt happens (ms since the epoch), for a countdown. */
  retryAt: number | undefined;
  /** Each kind has been listed at least once since the engine was selected. */
  loaded: { containers: boolean; images: boolean; volumes: boolean; networks: boolean };
  containers: Map<string, ContainerRow>;
  images: Map<string, ImageRow>;
  volumes: Map<string, VolumeRow>;
  networks: Map<string, NetworkRow>;
}

export const emptyModel = (engineId: string | null): ModelState => ({
  engineId,
  status: engineId ? 'connecting' : 'idle',
  error: undefined,
  retryInMs: undefined,
  retryAt: undefined,
  loaded: { containers: false, images: false, volumes: false, networks: false },
  containers: new Map(),
  images: new Map(),
  volumes: new Map(),
  networks: new Map(),
});

const keyOf = {
  containers: (r: ContainerRow) => r.id,
  images: (r: ImageRow) => r.id,
  volumes: (r: VolumeRow) => r.name,
  networks: (r: NetworkRow) => r.id,
};

function applyDelta<T>(current: Map<string, T>, e: { reset: boolean; upsert: T[]; remove: string[] }, key: (r: T) => string): Map<string, T> {
  const next = e.reset ? new Map<string, T>() : new Map(current);
  for (const r of e.upsert) next.set(key(r), r);
  for (const k of e.remove) next.delete(k);
  return next;
}

export function applyModelEvent(s: ModelState, e: ModelEvent): Partial<ModelState> {
  switch (e.type) {
    case 'status':
      return { status: e.status, error: e.error, retryInMs: e.retryInMs, retryAt: e.retryInMs !== undefined ? now() + e.retryInMs : undefined };
    case 'containers':
      return { containers: applyDelta(s.containers, e, keyOf.containers), loaded: { ...s.loaded, containers: s.loaded.containers || e.reset } };
    case 'images':
      return { images: applyDelta(s.images, e, keyOf.images), loaded: { ...s.loaded, images: s.loaded.images || e.reset } };
    case 'volumes':
      return { volumes: applyDelta(s.volumes, e, keyOf.volumes), loaded: { ...s.loaded, volumes: s.loaded.volumes || e.reset } };
    case 'networks':
      return { networks: applyDelta(s.networks, e, keyOf.networks), loaded: { ...s.loaded, networks: s.loaded.networks || e.reset } };
  }
}

let now = () => Date.now();
/** For tests: a fixed clock. */
export function setModelClock(f: () => number): void {
  now = f;
}

export const useModel = create<ModelState>()(() => emptyModel(null));

export function dispatchModelEvent(engineId: string, e: ModelEvent): void {
  useModel.setState((s) => (s.engineId === engineId ? applyModelEvent(s, e) : {}));
}

export function resetModel(engineId: string | null): void {
  useModel.setState(emptyModel(engineId), true);
}
