/**
 * System routes: /_ping, /version, /info, /events.
 */
import type { Router } from '../router.js';
import { beginStream, commonHeaders, sendJson, sendText, writeJsonLine } from '../context.js';
import { Filters, parseTimestamp } from '../filters.js';
import { eventFilterKeys, matchEvent, type EngineEvent } from '../../events/bus.js';

/** What the system routes need (moby's router/system/backend.go). */
export interface SystemBackend {
  /** daemon.json's `experimental`. */
  experimental: boolean;
  /** `GET /version`. */
  version(): unknown;
  /** `GET /info`. */
  info(): unknown;
  /** Buffered events with time in [sinceNano, untilNano]. */
  eventHistory(sinceNano: number, untilNano: number): EngineEvent[];
  /** Follows the event log; returns the unsubscribe function. */
  subscribeEvents(listener: (e: EngineEvent) => void): () => void;
}

export function registerSystemRoutes(r: Router, b: SystemBackend): void {
  const ping = (ctx: Parameters<Parameters<Router['get']>[1]>[0]) => {
    const headers = {
      'Cache-Control': 'no-cache, no-store, must-revalidate',
      Pragma: 'no-cache',
      'Builder-Version': '1',
      Swarm: 'inactive',
    };
    if (ctx.req.method === 'HEAD') {
      ctx.res!.writeHead(200, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': '0' });
      ctx.res!.end();
      return;
    }
    sendText(ctx, 200, 'OK', headers);
  };
  // daemon.json's `experimental` (not reloadable, as in dockerd) is announced on every response.
  commonHeaders['Docker-Experimental'] = String(b.experimental);
  r.get('/_ping', ping);
  r.head('/_ping', ping);

  r.get('/version', (ctx) => {
    sendJson(ctx, 200, b.version());
  });

  r.get('/info', (ctx) => {
    sendJson(ctx, 200, b.info());
  });

  r.get('/events', async (ctx) => {
    const filters = Filters.parse(ctx.query.get('filters')).validate(eventFilterKeys);
    const now = Date.now();
    const sinceRaw = ctx.query.get('since');
    const untilRaw = ctx.query.get('until');
    const sinceNano = sinceRaw ? parseTimestamp(sinceRaw, now) * 1e6 : undefined;
    const untilMs = untilRaw ? parseTimestamp(untilRaw, now) : undefined;
    const res = beginStream(ctx, 'application/json');
    const send = (e: EngineEvent) => {
      if (matchEvent(e, filters)) writeJsonLine(res, e);
    };
    const untilNano = untilMs !== undefined ? untilMs * 1e6 : Number.POSITIVE_INFINITY;
    if (sinceNano !== undefined) for (const e of b.eventHistory(sinceNano, untilNano)) send(e);
    if (untilMs !== undefined && untilMs <= Date.now()) {
      res.end();
      return;
    }
    await new Promise<void>((resolve) => {
      const unsubscribe = b.subscribeEvents((e) => {
        if (e.timeNano > untilNano) return;
        send(e);
      });
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        unsubscribe();
        if (timer) clearTimeout(timer);
        resolve();
      };
      if (untilMs !== undefined) timer = setTimeout(done, Math.max(0, untilMs - Date.now()));
      res.once('close', done);
    });
    if (!res.writableEnded) res.end();
  });
}
