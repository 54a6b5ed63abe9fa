/** Volume routes: list, inspect, create, remove, prune. */
import type { Router } from '../router.js';
import { readJson, sendJson, sendStatus, versionLess, type RequestContext } from '../context.js';
import { boolParam } from '../query.js';
import { Filters } from '../filters.js';
import { volumeFilterKeys } from '../../volumes/service.js';
import type { VolumeJson } from '../../volumes/store.js';

/** What the volume routes need (moby's router/volume/backend.go). */
export interface VolumeBackend {
  list(filters: Filters): VolumeJson[];
  inspect(name: string): VolumeJson;
  create(body: unknown): Promise<VolumeJson>;
  remove(name: string, force: boolean): Promise<void>;
  prune(filters: Filters): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }>;
}

function volumeName(ctx: RequestContext): string {
  return decodeURIComponent(ctx.params.name ?? '');
}

export function registerVolumeRoutes(r: Router, b: VolumeBackend): void {
  r.get('/volumes', (ctx) => {
    const f = Filters.parse(ctx.query.get('filters')).validate(volumeFilterKeys);
    sendJson(ctx, 200, { Volumes: b.list(f), Warnings: [] });
  });

  r.get('/volumes/:name', (ctx) => {
    sendJson(ctx, 200, b.inspect(volumeName(ctx)));
  });

  r.post('/volumes/create', async (ctx) => {
    sendJson(ctx, 201, await b.create(await readJson(ctx)));
  });

  r.delete('/volumes/:name', async (ctx) => {
    await b.remove(volumeName(ctx), boolParam(ctx.query, 'force'));
    sendStatus(ctx, 204);
  });

  r.post('/volumes/prune', async (ctx) => {
    let f = Filters.parse(ctx.query.get('filters')).validate(['label', 'label!', 'all']);
    // API 1.42 made prune remove only anonymous volumes; older clients still get every unused one (moby's rule).
    if (versionLess(ctx.version, '1.42')) f = f.with('all', ['true']);
    sendJson(ctx, 200, await b.prune(f));
  });
}
