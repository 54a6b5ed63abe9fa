/**
 * Disk usage. The builder's routes are in build.ts; the swarm and plugin
 * routes (answered as a dockerd without them) in swarm.ts and plugins.ts.
 */
import type { Router } from '../router.js';
import { sendJson } from '../context.js';

/** What the misc routes need. */
export interface MiscBackend {
  /** `docker system df`. */
  diskUsage(): unknown;
}

export function registerMiscRoutes(r: Router, b: MiscBackend): void {
  r.get('/system/df', (ctx) => {
    sendJson(ctx, 200, b.diskUsage());
  });
}
