/**
 * Disk usage, and the endpoints clients probe
 * that berthd does not provide (answered with Docker's JSON errors).
 * The builder's routes are in build.ts.
 */
import type { Router } from '../router.js';
import { sendJson } from '../context.js';
import { UnavailableError } from '../../errdefs.js';

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

  r.get('/swarm', () => {
    throw new UnavailableError('This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.');
  });
}
