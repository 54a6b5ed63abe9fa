/**
 * Disk usage, and the endpoints clients probe
 * that berthd does not provide (answered with Docker's JSON errors).
 */
import type { Router } from '../router.js';
import { sendJson } from '../context.js';
import { NotImplementedError, UnavailableError } from '../../errdefs.js';
import type { Daemon } from '../../daemon/daemon.js';

export function registerMiscRoutes(r: Router, d: Daemon): void {
  r.get('/system/df', (ctx) => {
    sendJson(ctx, 200, d.diskUsage());
  });

  r.get('/plugins', (ctx) => sendJson(ctx, 200, []));

  r.post('/build', () => {
    throw new NotImplementedError('building images is not supported by this version of berthd');
  });
  r.get('/swarm', () => {
    throw new UnavailableError('This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.');
  });
}
