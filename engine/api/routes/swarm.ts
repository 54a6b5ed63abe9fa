/**
 * Swarm mode's routes — /swarm, /nodes, /services, /tasks, /secrets, /configs — answered as a
 * dockerd that is not part of a swarm answers them (moby's daemon/cluster errors, all 503), so
 * clients that probe or clean up swarm state (docker-py's test teardowns, `docker info`, compose)
 * see what they expect. berthd has no swarm mode: a user who outgrows one machine connects Berth to
 * real engines instead, so `swarm init` and `swarm join` say that plainly.
 */
import type { Router } from '../router.js';
import { readJson, type Handler } from '../context.js';
import { UnavailableError } from '../../errdefs.js';

/** moby's errNoManager for a node without a swarm. */
export const NOT_A_SWARM_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';
/** moby's errNoSwarm (leaving a swarm never joined). */
export const NOT_PART_OF_A_SWARM = 'This node is not part of a swarm';
export const SWARM_NOT_SUPPORTED =
  'swarm mode is not supported by berthd: it runs containers on this machine only. To use a swarm, connect to a Docker Engine that is part of one (a docker context)';

/** Decodes the JSON body first, as moby's router does, so malformed input is still a 400. */
function refuse(message: string, withBody = false): Handler {
  return async (ctx) => {
    if (withBody) await readJson(ctx);
    throw new UnavailableError(message);
  };
}

export function registerSwarmRoutes(r: Router): void {
  const noManager = refuse(NOT_A_SWARM_MANAGER);
  const noManagerBody = refuse(NOT_A_SWARM_MANAGER, true);

  r.post('/swarm/init', refuse(SWARM_NOT_SUPPORTED, true));
  r.post('/swarm/join', refuse(SWARM_NOT_SUPPORTED, true));
  r.post('/swarm/leave', refuse(NOT_PART_OF_A_SWARM));
  r.get('/swarm', noManager);
  r.get('/swarm/unlockkey', noManager);
  r.post('/swarm/update', noManagerBody);
  r.post('/swarm/unlock', noManagerBody);

  r.get('/services', noManager);
  r.get('/services/:id', noManager);
  r.post('/services/create', noManagerBody);
  r.post('/services/:id/update', noManagerBody);
  r.delete('/services/:id', noManager);
  r.get('/services/:id/logs', noManager);

  r.get('/nodes', noManager);
  r.get('/nodes/:id', noManager);
  r.delete('/nodes/:id', noManager);
  r.post('/nodes/:id/update', noManagerBody);

  r.get('/tasks', noManager);
  r.get('/tasks/:id', noManager);
  r.get('/tasks/:id/logs', noManager);

  for (const kind of ['secrets', 'configs']) {
    r.get(`/${kind}`, noManager);
    r.post(`/${kind}/create`, noManagerBody);
    r.get(`/${kind}/:id`, noManager);
    r.delete(`/${kind}/:id`, noManager);
    r.post(`/${kind}/:id/update`, noManagerBody);
  }
}
