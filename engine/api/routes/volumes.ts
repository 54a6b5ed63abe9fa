/** Volume routes: list, inspect, create, remove, prune. */
import type { Router } from '../router.js';
import { readJson, sendJson, sendStatus, type RequestContext } from '../context.js';
import { boolParam, Filters } from '../query.js';
import type { Daemon } from '../../daemon/daemon.js';
import { volumeFilterKeys } from '../../volumes/service.js';

function volumeName(ctx: RequestContext): string {
  return decodeURIComponent(ctx.params.name ?? '');
}

export function registerVolumeRoutes(r: Router, d: Daemon): void {
  r.get('/volumes', (ctx) => {
    const f = Filters.parse(ctx.query.get('filters')).validate(volumeFilterKeys);
    sendJson(ctx, 200, { Volumes: d.volumes.list(f), Warnings: [] });
  });

  r.get('/volumes/:name', (ctx) => {
    sendJson(ctx, 200, d.volumes.inspect(volumeName(ctx)));
  });

  r.post('/volumes/create', async (ctx) => {
    sendJson(ctx, 201, await d.volumes.create(await readJson(ctx)));
  });

  r.delete('/volumes/:name', async (ctx) => {
    await d.volumes.remove(volumeName(ctx), boolParam(ctx.query, 'force'));
    sendStatus(ctx, 204);
  });

  r.post('/volumes/prune', async (ctx) => {
    const f = Filters.parse(ctx.query.get('filters')).validate(['label', 'label!', 'all']);
    sendJson(ctx, 200, await d.volumes.prune(f));
  });
}
