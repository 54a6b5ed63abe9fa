/**
 * Disk usage, and the endpoints clients probe
 * that berthd does not provide (answered with Docker's JSON errors).
 */
import type { Router } from '../router.js';
import { sendJson } from '../context.js';
import { InvalidParameterError, NotImplementedError, UnavailableError } from '../../errdefs.js';
import { Filters } from '../filters.js';

/** What the misc routes need. */
export interface MiscBackend {
  /** `docker system df`. */
  diskUsage(): unknown;
}

export function registerMiscRoutes(r: Router, b: MiscBackend): void {
  r.get('/system/df', (ctx) => {
    sendJson(ctx, 200, b.diskUsage());
  });

  r.get('/plugins', (ctx) => sendJson(ctx, 200, []));

  // Nothing is cached until the builder lands: dockerd's answer with nothing to prune. The query
  // is still checked (all, filters, keep-storage and the 1.48 space limits), so bad input says so.
  r.post('/build/prune', (ctx) => {
    Filters.parse(ctx.query.get('filters'));
    for (const k of ['keep-storage', 'reserved-space', 'max-used-space', 'min-free-space']) {
      const v = ctx.query.get(k);
      if (v !== null && v !== '' && !/^\d+$/.test(v)) throw new InvalidParameterError(`invalid value for ${k}: ${v}`);
    }
    sendJson(ctx, 200, { CachesDeleted: null, SpaceReclaimed: 0 });
  });

  r.post('/build', () => {
    throw new NotImplementedError('building images is not supported by this version of berthd');
  });
  r.get('/swarm', () => {
    throw new UnavailableError('This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.');
  });
}
