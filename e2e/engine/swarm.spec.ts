/**
 * Swarm mode is not part of berthd: every /swarm, /nodes, /services, /tasks, /secrets and
 * /configs route answers as a dockerd outside a swarm (503 with moby's messages), which is what
 * clients' cleanup code tolerates (docker-py's leave_swarm(force=True) accepts 503), and the
 * stock CLI prints dockerd's errors.
 */
import { test, expect } from '../support/fixtures.js';
import { rawApi } from '../support/registry.js';

const NOT_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

test('every swarm-mode route answers 503 as a dockerd outside a swarm, with and without a version prefix', async ({ berthd }) => {
  const routes: Array<[string, string, string]> = [
    ['GET', '/swarm', NOT_MANAGER],
    ['GET', '/swarm/unlockkey', NOT_MANAGER],
    ['POST', '/swarm/update?version=1', NOT_MANAGER],
    ['POST', '/swarm/unlock', NOT_MANAGER],
    ['POST', '/swarm/leave?force=1', 'This node is not part of a swarm'],
    ['POST', '/swarm/leave', 'This node is not part of a swarm'],
    ['GET', '/services', NOT_MANAGER],
    ['GET', '/services/web', NOT_MANAGER],
    ['POST', '/services/create', NOT_MANAGER],
    ['POST', '/services/web/update?version=3', NOT_MANAGER],
    ['DELETE', '/services/web', NOT_MANAGER],
    ['GET', '/services/web/logs?stdout=1', NOT_MANAGER],
    ['GET', '/nodes', NOT_MANAGER],
    ['GET', '/nodes/self', NOT_MANAGER],
    ['DELETE', '/nodes/n1?force=1', NOT_MANAGER],
    ['POST', '/nodes/n1/update?version=2', NOT_MANAGER],
    ['GET', '/tasks', NOT_MANAGER],
    ['GET', '/tasks/t1', NOT_MANAGER],
    ['GET', '/tasks/t1/logs', NOT_MANAGER],
    ['GET', '/secrets', NOT_MANAGER],
    ['POST', '/secrets/create', NOT_MANAGER],
    ['GET', '/secrets/s1', NOT_MANAGER],
    ['DELETE', '/secrets/s1', NOT_MANAGER],
    ['POST', '/secrets/s1/update?version=1', NOT_MANAGER],
    ['GET', '/configs', NOT_MANAGER],
    ['POST', '/configs/create', NOT_MANAGER],
    ['GET', '/configs/c1', NOT_MANAGER],
    ['DELETE', '/configs/c1', NOT_MANAGER],
    ['POST', '/configs/c1/update?version=1', NOT_MANAGER],
  ];
  for (const prefix of ['', '/v1.41', '/v1.51']) {
    for (const [method, path, message] of routes) {
      const needsBody = method === 'POST' && /create|update|unlock$/.test(path);
      const res = await rawApi(berthd, method, prefix + path, needsBody ? '{}' : undefined, needsBody ? { 'Content-Type': 'application/json' } : {});
      expect(res.status, `${method} ${prefix}${path}`).toBe(503);
      expect(res.headers['content-type']).toBe('application/json');
      expect(JSON.parse(res.body.toString()), `${method} ${prefix}${path}`).toEqual({ message });
    }
  }
  // init and join say plainly that there is no swarm mode; a malformed body is still a 400 first.
  for (const path of ['/swarm/init', '/swarm/join']) {
    const res = await rawApi(berthd, 'POST', path, JSON.stringify({ ListenAddr: '127.0.0.1:2377' }), { 'Content-Type': 'application/json' });
    expect(res.status).toBe(503);
    expect(JSON.parse(res.body.toString()).message).toMatch(/^swarm mode is not supported by berthd/);
    const bad = await rawApi(berthd, 'POST', path, '{"ListenAddr":', { 'Content-Type': 'application/json' });
    expect(bad.status).toBe(400);
  }
});

test('the docker CLI: swarm, node, service, secret and config commands fail as on a dockerd outside a swarm; docker info shows Swarm: inactive', async ({ berthd }) => {
  const info = await berthd.dockerOk(['info']);
  expect(info).toMatch(/^ Swarm: inactive$/m);
  expect((await berthd.dockerOk(['info', '--format', '{{.Swarm.LocalNodeState}}'])).trim()).toBe('inactive');

  const init = await berthd.docker(['swarm', 'init', '--advertise-addr', '127.0.0.1']);
  expect(init.code).toBe(1);
  expect(init.stderr).toContain('Error response from daemon: swarm mode is not supported by berthd');

  const leave = await berthd.docker(['swarm', 'leave', '--force']);
  expect(leave.code).toBe(1);
  expect(leave.stderr.trim()).toBe('Error response from daemon: This node is not part of a swarm');

  for (const args of [['node', 'ls'], ['service', 'ls'], ['secret', 'ls'], ['config', 'ls'], ['service', 'ps', 'web'], ['swarm', 'unlock-key']]) {
    const r = await berthd.docker(args);
    expect(r.code, args.join(' ')).toBe(1);
    expect(r.stderr.trim(), args.join(' ')).toMatch(new RegExp(`^(could not fetch unlock key: )?Error response from daemon: ${NOT_MANAGER.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
  }
  // Nothing changed: the engine still works and still is not in a swarm.
  expect((await berthd.dockerOk(['run', '--rm', 'busybox', 'echo', 'ok'])).trim()).toBe('ok');
});
