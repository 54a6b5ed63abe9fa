/**
 * Behaviours that depend on the API version a client speaks, or on daemon.json, as dockerd has
 * them: volume prune of named volumes below 1.42, an image's Container/ContainerConfig below 1.45,
 * docker load's errors inside a 200 stream, and `experimental` in info, version and every header.
 */
import { test, expect, uniq } from '../support/fixtures.js';
import { Berthd } from '../support/berthd.js';
import { rawApi } from '../support/registry.js';

const json = async (d: Berthd, method: string, path: string, body?: unknown) => {
  const r = await rawApi(d, method, path, body === undefined ? undefined : JSON.stringify(body), body === undefined ? {} : { 'Content-Type': 'application/json' });
  return { status: r.status, headers: r.headers, body: r.body.length ? JSON.parse(r.body.toString()) : undefined };
};

test('volume prune: below API 1.42 unused named volumes go too; from 1.42 only anonymous ones', async ({ freshBerthd: d }) => {
  const named = uniq('named');
  const kept = uniq('inuse');
  await d.dockerOk(['volume', 'create', named]);
  await d.dockerOk(['volume', 'create', kept]);
  await d.dockerOk(['create', '--name', uniq('holder'), '-v', `${kept}:/k`, 'busybox', 'true']);
  const anon = (await d.dockerOk(['volume', 'create'])).trim();

  // Today's API (the CLI's 1.51, and 1.42 itself): the anonymous volume only.
  const now = await d.dockerOk(['volume', 'prune', '-f']);
  expect(now).toContain(anon);
  expect(now).not.toContain(named);
  const at142 = await json(d, 'POST', '/v1.42/volumes/prune');
  expect(at142.body.VolumesDeleted).toEqual([]);

  // An older client (docker-py at 1.41): every unused volume.
  const r = await json(d, 'POST', '/v1.41/volumes/prune');
  expect(r.status).toBe(200);
  expect(r.body.VolumesDeleted).toEqual([named]);
  const left = (await d.dockerOk(['volume', 'ls', '-q'])).trim().split('\n');
  expect(left).toEqual([kept]);
  // Label filters still apply at the old version.
  const labelled = uniq('lab');
  await d.dockerOk(['volume', 'create', '--label', 'keep=1', labelled]);
  const filtered = await json(d, 'POST', `/v1.41/volumes/prune?filters=${encodeURIComponent(JSON.stringify({ 'label!': ['keep=1'] }))}`);
  expect(filtered.body.VolumesDeleted).toEqual([]);
});

test('image inspect: Container and ContainerConfig below API 1.45 (the commit source), absent from 1.45 on', async ({ berthd }) => {
  const name = uniq('src');
  const id = (await berthd.dockerOk(['create', '--name', name, '-e', 'A=1', 'busybox', 'touch', '/x'])).trim();
  const repo = uniq('committed');
  await berthd.dockerOk(['commit', name, `${repo}:1`]);
  try {
    const old = (await json(berthd, 'GET', `/v1.41/images/${repo}:1/json`)).body;
    expect(old.Container).toBe(id);
    expect(old.ContainerConfig.Image).toBe('busybox');
    expect(old.ContainerConfig.Cmd).toEqual(['touch', '/x']);
    expect(old.ContainerConfig.Env).toContain('A=1');
    expect((await json(berthd, 'GET', `/v1.44/images/${repo}:1/json`)).body.Container).toBe(id);
    for (const v of ['/v1.45', '/v1.51', '']) {
      const now = (await json(berthd, 'GET', `${v}/images/${repo}:1/json`)).body;
      expect(now).not.toHaveProperty('Container');
      expect(now).not.toHaveProperty('ContainerConfig');
    }
    // An image no container made: empty values, as dockerd 20.10 shows.
    const base = (await json(berthd, 'GET', '/v1.41/images/busybox/json')).body;
    expect(base.Container).toBe('');
    expect(base.ContainerConfig).toMatchObject({ Image: '', Cmd: null, Hostname: '' });
  } finally {
    await berthd.docker(['rm', '-f', name]);
    await berthd.docker(['rmi', `${repo}:1`]);
  }
});

test('image inspect: unset Config fields shown as dockerd shows them (all below API 1.50, the non-omitempty ones at 1.50-1.51)', async ({ berthd }) => {
  // busybox here is imported with only CMD set: OnBuild, Entrypoint, Labels… are unset in its config.
  const old = (await json(berthd, 'GET', '/v1.41/images/busybox/json')).body.Config;
  expect(old).toMatchObject({ Cmd: ['sh'], OnBuild: null, Entrypoint: null, Labels: null, Volumes: null, WorkingDir: '', User: '', Hostname: '', Domainname: '', Image: '', Tty: false, AttachStdin: false, OpenStdin: false, StdinOnce: false });
  for (const v of ['/v1.50', '/v1.51', '']) {
    const now = (await json(berthd, 'GET', `${v}/images/busybox/json`)).body.Config;
    expect(now).toMatchObject({ Cmd: ['sh'], OnBuild: null, Entrypoint: null, Labels: null, Volumes: null, WorkingDir: '', User: '' });
    expect(now).not.toHaveProperty('Hostname');
    expect(now).not.toHaveProperty('Tty');
  }
  // Set fields are the image's own.
  const repo = uniq('onbuild');
  await berthd.dockerOk(['commit', '--change', 'ONBUILD RUN true', '--change', 'WORKDIR /w', (await berthd.dockerOk(['create', 'busybox', 'true'])).trim(), `${repo}:1`]);
  try {
    const built = (await json(berthd, 'GET', `/v1.41/images/${repo}:1/json`)).body.Config;
    expect(built.OnBuild).toEqual(['RUN true']);
    expect(built.WorkingDir).toBe('/w');
  } finally {
    await berthd.docker(['rmi', `${repo}:1`]);
  }
});

test('docker load of something that is not an archive: 200 with the error in the JSON stream; the CLI fails with it', async ({ berthd }) => {
  const r = await rawApi(berthd, 'POST', '/v1.41/images/load', 'abc', { 'Content-Type': 'application/x-tar' });
  expect(r.status).toBe(200);
  expect(r.headers['content-type']).toBe('application/json');
  const lines = r.body.toString().trim().split('\n').map((l) => JSON.parse(l) as { error?: string; errorDetail?: { message: string } });
  const err = lines.find((l) => l.error);
  expect(err?.error).toMatch(/invalid archive/);
  expect(err?.errorDetail?.message).toBe(err?.error);
  const cli = await berthd.docker(['load'], { input: 'abc' });
  expect(cli.code).toBe(1);
  expect(cli.stderr).toContain('invalid archive');
});

test('experimental from daemon.json: Info.ExperimentalBuild, version and the Docker-Experimental header follow it', async ({ berthd }) => {
  // Off by default.
  expect((await json(berthd, 'GET', '/info')).body.ExperimentalBuild).toBe(false);
  expect((await rawApi(berthd, 'GET', '/_ping')).headers['docker-experimental']).toBe('false');
  const d = await Berthd.start({ config: { experimental: true }, busybox: false });
  try {
    const info = await json(d, 'GET', '/v1.41/info');
    expect(info.body.ExperimentalBuild).toBe(true);
    expect(info.headers['docker-experimental']).toBe('true');
    expect((await rawApi(d, 'HEAD', '/_ping')).headers['docker-experimental']).toBe('true');
    const v = (await json(d, 'GET', '/version')).body;
    expect(v.Experimental).toBe(true);
    expect(v.Components[0].Details.Experimental).toBe('true');
    expect((await d.dockerOk(['version', '--format', '{{.Server.Experimental}}'])).trim()).toBe('true');
    expect((await d.dockerOk(['info', '--format', '{{.ExperimentalBuild}}'])).trim()).toBe('true');
  } finally {
    await d.destroy();
  }
});

test("rm of a running container: dockerd 20.10's wording below API 1.44, today's from 1.44; an unknown log driver at create", async ({ berthd }) => {
  const name = uniq('rmrunning');
  const id = (await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '60'])).trim();
  try {
    const old = await json(berthd, 'DELETE', `/v1.41/containers/${name}`);
    expect(old.status).toBe(409);
    expect(old.body.message).toBe(`You cannot remove a running container ${id}. Stop the container before attempting removal or force remove`);
    const now = await json(berthd, 'DELETE', `/v1.44/containers/${name}`);
    expect(now.status).toBe(409);
    expect(now.body.message).toBe(`cannot remove container "${name}": container is running: stop the container before removing or force remove`);
  } finally {
    await berthd.docker(['rm', '-f', name]);
  }
  const bad = await json(berthd, 'POST', '/v1.41/containers/create', { Image: 'busybox', HostConfig: { LogConfig: { Type: 'asdf', Config: {} } } });
  expect(bad.status).toBe(400);
  expect(bad.body.message).toBe("logger: no log driver named 'asdf' is registered");
});
