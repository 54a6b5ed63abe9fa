/**
 * The engine's event log: every state change is published here, kept in a
 * bounded ring for `since` replays, and fanned out to `/events` subscribers
 * (and to internal listeners such as the restart manager).
 */
import type { Filters } from '../api/filters.js';

export type EventType = 'container' | 'image' | 'volume' | 'network' | 'daemon' | 'plugin' | 'builder';

export interface EngineEvent {
  status?: string;
  id?: string;
  from?: string;
  Type: EventType;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
}

type Listener = (ev: EngineEvent) => void;

const RING_SIZE = 1024;

export class EventBus {
  private readonly ring: EngineEvent[] = [];
  private readonly listeners = new Set<Listener>();
  private lastNano = 0;

  publish(type: EventType, action: string, actorId: string, attributes: Record<string, string> = {}): EngineEvent {
    // Strictly increasing timestamps keep since/until replays unambiguous.
    let nano = Date.now() * 1_000_000;
    if (nano <= this.lastNano) nano = this.lastNano + 1;
    this.lastNano = nano;
    const ev: EngineEvent = {
      Type: type,
      Action: action,
      Actor: { ID: actorId, Attributes: attributes },
      scope: 'local',
      time: Math.floor(nano / 1e9),
      timeNano: nano,
    };
    // Legacy fields that docker-compose v1 and old clients read.
    if (type === 'container' || type === 'image') {
      ev.status = action;
      ev.id = actorId;
      if (type === 'container' && attributes.image) ev.from = attributes.image;
    }
    this.ring.push(ev);
    if (this.ring.length > RING_SIZE) this.ring.shift();
    for (const l of this.listeners) {
      try {
        l(ev);
      } catch {
        /* a listener's failure must not stop the others */
      }
    }
    return ev;
  }

  /** Listeners following the log (`docker events` clients: NEventsListener in /info). */
  get subscriberCount(): number {
    return this.listeners.size;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Buffered events with time in [sinceNano, untilNano]. */
  history(sinceNano: number, untilNano = Number.POSITIVE_INFINITY): EngineEvent[] {
    return this.ring.filter((e) => e.timeNano >= sinceNano && e.timeNano <= untilNano);
  }
}

export const eventFilterKeys = ['container', 'event', 'image', 'label', 'type', 'volume', 'network', 'daemon', 'scope', 'plugin', 'node', 'service', 'secret', 'config'] as const;

/** moby's event filter semantics. */
export function matchEvent(ev: EngineEvent, f: Filters): boolean {
  const attrs = ev.Actor.Attributes;
  const action = ev.Action.includes(':') ? ev.Action.slice(0, ev.Action.indexOf(':')) : ev.Action;
  if (!f.matchAny('event', (v) => v === ev.Action || v === action)) return false;
  if (!f.matchAny('type', (v) => v === ev.Type)) return false;
  if (!f.matchAny('scope', (v) => v === 'local')) return false;
  if (!f.matchLabels('label', attrs)) return false;
  const actorMatches = (type: EventType, key: string) =>
    !f.has(key) || (ev.Type === type && f.get(key).some((v) => v === ev.Actor.ID || v === attrs.name || (v.length >= 1 && ev.Actor.ID.startsWith(v) && type === 'container')));
  if (f.has('container') && !actorMatches('container', 'container')) return false;
  if (f.has('volume') && !actorMatches('volume', 'volume')) return false;
  if (f.has('network') && !actorMatches('network', 'network')) return false;
  if (f.has('daemon') && !actorMatches('daemon', 'daemon')) return false;
  if (f.has('image')) {
    const img = ev.Type === 'image' ? ev.Actor.ID : (attrs.image ?? '');
    const name = ev.Type === 'image' ? (attrs.name ?? '') : '';
    const stripTag = (s: string) => s.replace(/:[\w][\w.-]*$/, '');
    const ok = f.get('image').some((v) => v === img || v === name || stripTag(img) === v || stripTag(name) === v || (v.includes(':') ? false : stripTag(img) === stripTag(v)));
    if (!ok) return false;
  }
  return true;
}
