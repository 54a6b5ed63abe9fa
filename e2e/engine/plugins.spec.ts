/**
 * The plugins API of a daemon without managed plugins: lookups answer as a dockerd with none
 * installed; installing or creating one says it is not supported (berthd's drivers are built in).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, expect } from '../support/fixtures.js';
import { rawApi } from '../support/registry.js';

test('plugins: empty list, privileges, not found for any name, install/create refused clearly', async ({ berthd }) => {
  for (const prefix of ['', '/v1.41']) {
    const list = await rawApi(berthd, 'GET', `${prefix}/plugins`);
    expect(list.status).toBe(200);
    expect(JSON.parse(list.body.toString())).toEqual([]);
    const priv = await rawApi(berthd, 'GET', `${prefix}/plugins/privileges?remote=vieux%2Fsshfs%3Alatest`);
    expect(priv.status).toBe(200);
    expect(JSON.parse(priv.body.toString())).toEqual([]);
    for (const [method, p, name] of [
      ['GET', '/plugins/foo/json', 'foo'],
      ['GET', '/plugins/vieux/sshfs:latest/json', 'vieux/sshfs:latest'],
      ['POST', '/plugins/vieux/sshfs:latest/enable', 'vieux/sshfs:latest'],
      ['POST', '/plugins/vieux/sshfs:latest/disable', 'vieux/sshfs:latest'],
      ['POST', '/plugins/vieux/sshfs:latest/set', 'vieux/sshfs:latest'],
      ['DELETE', '/plugins/vieux/sshfs:latest?force=1', 'vieux/sshfs:latest'],
    ] as const) {
      const r = await rawApi(berthd, method, prefix + p, method === 'POST' && p.endsWith('/set') ? '[]' : undefined, { 'Content-Type': 'application/json' });
      expect(r.status, `${method} ${p}`).toBe(404);
      expect(JSON.parse(r.body.toString())).toEqual({ message: `plugin "${name}" not found` });
    }
    for (const p of ['/plugins/pull?remote=vieux/sshfs', '/plugins/create?name=docker-sdk-py/dummy']) {
      const r = await rawApi(berthd, 'POST', prefix + p, '[]', { 'Content-Type': 'application/json' });
      expect(r.status).toBe(501);
      expect(JSON.parse(r.body.toString()).message).toMatch(/^managed plugins are not supported by berthd/);
    }
  }
  expect((await berthd.dockerOk(['plugin', 'ls', '--format', '{{.Name}}'])).trim()).toBe('');
  const inspect = await berthd.docker(['plugin', 'inspect', 'vieux/sshfs']);
  expect(inspect.code).toBe(1);
  expect(inspect.stderr).toContain('not found');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-plugin-'));
  try {
    fs.mkdirSync(path.join(dir, 'rootfs'));
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ description: 'x', entrypoint: ['/x'], interface: { types: ['docker.volumedriver/1.0'], socket: 'x.sock' } }));
    const create = await berthd.docker(['plugin', 'create', 'berth/dummy', dir]);
    expect(create.code).toBe(1);
    expect(create.stderr).toContain('managed plugins are not supported by berthd');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
