/**
 * The plugins API: berthd has no plugin runtime, but `docker plugin create` stores a plugin (kept
 * across a restart), `ls` lists it disabled, `inspect` shows it as dockerd does, `enable` says
 * why it cannot be, `rm` removes it; lookups of other names are dockerd's 404s and installing
 * from a registry is refused clearly.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, expect } from '../support/fixtures.js';
import { rawApi } from '../support/registry.js';

test('plugins: empty list, privileges, not found for any name, install from a registry refused clearly', async ({ berthd }) => {
  for (const prefix of ['', '/v1.41']) {
    const list = await rawApi(berthd, 'GET', `${prefix}/plugins?filters=${encodeURIComponent(JSON.stringify({ capability: ['nosuchcap'] }))}`);
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
    const pull = await rawApi(berthd, 'POST', `${prefix}/plugins/pull?remote=vieux/sshfs`, '[]', { 'Content-Type': 'application/json' });
    expect(pull.status).toBe(501);
    expect(JSON.parse(pull.body.toString()).message).toMatch(/^installing plugins from a registry is not supported by berthd/);
    // A create body that is no plugin context: a clear 400, nothing stored.
    const bad = await rawApi(berthd, 'POST', `${prefix}/plugins/create?name=berth/bad`, 'not a tar', { 'Content-Type': 'application/x-tar' });
    expect(bad.status).toBe(400);
  }
  expect((await berthd.dockerOk(['plugin', 'ls', '--format', '{{.Name}}'])).trim()).toBe('');
  const inspect = await berthd.docker(['plugin', 'inspect', 'vieux/sshfs']);
  expect(inspect.code).toBe(1);
  expect(inspect.stderr).toContain('not found');
});

test('docker plugin create / ls / inspect / enable / rm: a plugin that is installed but cannot be enabled, kept across a restart', async ({ freshBerthd: d }) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-plugin-'));
  const name = 'berth-e2e/dummy';
  try {
    fs.mkdirSync(path.join(dir, 'rootfs', 'dummy'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'rootfs', 'dummy', 'file.txt'), 'hi\n');
    // docker-py's tests/integration/testdata/dummy-plugin/config.json.
    fs.writeFileSync(
      path.join(dir, 'config.json'),
      JSON.stringify({ description: 'Dummy test plugin', documentation: 'https://github.com/docker/docker-py', entrypoint: ['/dummy'], network: { type: 'host' }, interface: { types: ['docker.volumedriver/1.0'], socket: 'dummy.sock' }, env: [{ name: 'DEBUG', settable: ['value'], value: '0' }] }),
    );
    expect((await d.dockerOk(['plugin', 'create', name, dir])).trim()).toBe(name);
    const again = await d.docker(['plugin', 'create', name, dir]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(`plugin "${name}:latest" already exists`);

    const ls = (await d.dockerOk(['plugin', 'ls', '--format', '{{.Name}} {{.Description}} {{.Enabled}}'])).trim();
    expect(ls).toBe(`${name}:latest Dummy test plugin false`);
    const [info] = JSON.parse(await d.dockerOk(['plugin', 'inspect', name]));
    expect(info.Name).toBe(`${name}:latest`);
    expect(info.Enabled).toBe(false);
    expect(info.Id).toMatch(/^[0-9a-f]{64}$/);
    expect(info.Config.Entrypoint).toEqual(['/dummy']);
    expect(info.Config.Interface).toEqual({ Socket: 'dummy.sock', Types: ['docker.volumedriver/1.0'] });
    expect(info.Config.Env).toEqual([{ Name: 'DEBUG', Description: '', Settable: ['value'], Value: '0' }]);
    expect(info.Settings.Env).toEqual(['DEBUG=0']);
    expect(info.Config.rootfs.type).toBe('layers');
    // By ID prefix too; the filters of plugin ls.
    expect((await d.dockerOk(['plugin', 'inspect', '-f', '{{.Name}}', info.Id.slice(0, 12)])).trim()).toBe(`${name}:latest`);
    expect((await d.dockerOk(['plugin', 'ls', '-q', '--filter', 'enabled=false'])).trim()).toBe(info.Id.slice(0, 12));
    expect((await d.dockerOk(['plugin', 'ls', '-q', '--filter', 'enabled=true'])).trim()).toBe('');
    expect((await d.dockerOk(['plugin', 'ls', '-q', '--filter', 'capability=volumedriver'])).trim()).toBe(info.Id.slice(0, 12));

    const enable = await d.docker(['plugin', 'enable', name]);
    expect(enable.code).toBe(1);
    expect(enable.stderr).toContain('berthd has no plugin runtime');
    const disable = await d.docker(['plugin', 'disable', name]);
    expect(disable.code).toBe(1);
    expect(disable.stderr).toContain('plugin is already disabled');

    // Stored under the data root, atomically: it survives a restart.
    expect(fs.existsSync(path.join(d.dataRoot, 'plugins', info.Id, 'rootfs.tar.gz'))).toBe(true);
    await d.restart();
    expect((await d.dockerOk(['plugin', 'ls', '--format', '{{.Name}} {{.Enabled}}'])).trim()).toBe(`${name}:latest false`);

    expect((await d.dockerOk(['plugin', 'rm', name])).trim()).toBe(name);
    expect((await d.dockerOk(['plugin', 'ls', '-q'])).trim()).toBe('');
    expect(fs.readdirSync(path.join(d.dataRoot, 'plugins'))).toEqual([]);
    const gone = await d.docker(['plugin', 'inspect', name]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('not found');
  } finally {
    await d.docker(['plugin', 'rm', '-f', name]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
