/**
 * The Engine API on the wire, through dockerode and raw HTTP on the unix
 * socket: version negotiation, error shape, stream framing, hijacking with
 * and without Upgrade, half-close, wait conditions, events.
 */
import http from 'node:http';
import net from 'node:net';
import { test, expect, uniq } from '../support/fixtures.js';
import type { Berthd } from '../support/berthd.js';
import { Demuxer } from '../../engine/api/streams/multiplex.js';
import { rawHijack } from '../support/hijack.js';

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(d: Berthd, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: d.socket, method, path, headers: { ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...headers } }, (res) => {
      let data = '';
      res.on('data', (c: Buffer) => (data += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}


test('ping, version negotiation, versioned and unversioned routes', async ({ berthd }) => {
  const ping = await request(berthd, 'GET', '/_ping');
  expect(ping.status).toBe(200);
  expect(ping.body).toBe('OK');
  expect(ping.headers['api-version']).toBe('1.51');
  expect(ping.headers['ostype']).toBe('linux');
  expect(ping.headers['docker-experimental']).toBe('false');
  expect(ping.headers['cache-control']).toBe('no-cache, no-store, must-revalidate');
  expect(ping.headers['pragma']).toBe('no-cache');
  const head = await request(berthd, 'HEAD', '/_ping');
  expect(head.status).toBe(200);
  expect(head.headers['content-length']).toBe('0');
  expect((await request(berthd, 'GET', '/v1.44/_ping')).status).toBe(200);
  const v = JSON.parse((await request(berthd, 'GET', '/version')).body);
  expect(v).toMatchObject({ ApiVersion: '1.51', MinAPIVersion: '1.24', Os: 'linux' });
  expect(v.Components[0]).toMatchObject({ Name: 'Engine' });
  const old = await request(berthd, 'GET', '/v1.12/version');
  expect(old.status).toBe(400);
  expect(JSON.parse(old.body).message).toBe('client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version');
  const tooNew = await request(berthd, 'GET', '/v1.99/version');
  expect(tooNew.status).toBe(400);
  expect(JSON.parse(tooNew.body).message).toBe('client version 1.99 is too new. Maximum supported API version is 1.51');
  const info = JSON.parse((await request(berthd, 'GET', '/v1.51/info')).body);
  for (const k of ['ID', 'Name', 'ServerVersion', 'OSType', 'Architecture', 'NCPU', 'MemTotal', 'OperatingSystem', 'Runtimes', 'Labels', 'SecurityOptions', 'DockerRootDir']) expect(info).toHaveProperty(k);
  expect(info.Swarm.LocalNodeState).toBe('inactive');
  expect(info.SecurityOptions).toEqual(['name=seccomp,profile=builtin']);
});

test('errors: JSON shape with exact content type; unknown routes 404; browser origins refused', async ({ berthd }) => {
  const nf = await request(berthd, 'GET', '/containers/nope/json');
  expect(nf.status).toBe(404);
  expect(nf.headers['content-type']).toBe('application/json');
  expect(JSON.parse(nf.body)).toEqual({ message: 'No such container: nope' });
  const route = await request(berthd, 'GET', '/v1.45/no/such/route');
  expect(route.status).toBe(404);
  expect(route.headers['content-type']).toBe('application/json');
  expect(JSON.parse(route.body)).toEqual({ message: 'page not found' });
  const browser = await request(berthd, 'GET', '/containers/json', undefined, { Origin: 'http://evil.example' });
  expect(browser.status).toBe(403);
  const img = await request(berthd, 'GET', '/images/nosuch:tag/json');
  expect(img.status).toBe(404);
  expect(JSON.parse(img.body).message).toBe('No such image: nosuch:tag');
});

test('dockerode: create/start/wait/logs with stream demux', async ({ berthd }) => {
  const docker = berthd.client();
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'echo to-out; echo to-err 1>&2; exit 2'], name: uniq('dockerode') });
  // not-running on a created container answers at once, as Docker does.
  expect(await c.wait()).toEqual({ StatusCode: 0, Error: null });
  const waiting = c.wait({ condition: 'next-exit' });
  await c.start();
  expect(await waiting).toEqual({ StatusCode: 2, Error: null });
  const raw = (await c.logs({ stdout: true, stderr: true })) as unknown as Buffer;
  let out = '';
  let err = '';
  new Demuxer().push(raw, (s, p) => (s === 1 ? (out += p) : (err += p)));
  expect(out).toBe('to-out\n');
  expect(err).toBe('to-err\n');
  const info = await c.inspect();
  expect(info.State.ExitCode).toBe(2);
  // Field casing as dockerode and docker-py read it.
  const list = await docker.listContainers({ all: true, filters: { name: [info.Name.slice(1)] } });
  expect(list).toHaveLength(1);
  expect(list[0]).toMatchObject({ Id: info.Id, Names: [info.Name], Image: 'busybox', State: 'exited', Ports: [], Labels: {} });
  expect(list[0]!.Status).toMatch(/^Exited \(2\) /);
  await c.remove();
});

test('attach hijack with Upgrade: stdin, half-close, output until exit', async ({ berthd }) => {
  const docker = berthd.client();
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'cat; echo after-eof; sleep 0.3; echo end'], OpenStdin: true, StdinOnce: true, AttachStdin: true, AttachStdout: true, AttachStderr: true });
  const { sock, head, rest } = await rawHijack(
    berthd,
    `POST /v1.45/containers/${c.id}/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`,
  );
  expect(head).toMatch(/^HTTP\/1.1 101 UPGRADED/);
  expect(head).toContain('Content-Type: application/vnd.docker.multiplexed-stream');
  let out = '';
  const demux = new Demuxer();
  demux.push(rest, (_s, p) => (out += p));
  sock.on('data', (d: Buffer) => demux.push(d, (_s, p) => (out += p)));
  const closed = new Promise((r) => sock.on('close', r));
  await c.start();
  sock.write('typed line\n');
  await expect.poll(() => out).toBe('typed line\n');
  // Half-close: stdin EOF reaches the container (StdinOnce) and output keeps flowing.
  sock.end();
  await closed;
  expect(out).toBe('typed line\nafter-eof\nend\n');
  await c.remove();
});

test('attach without Upgrade (dockerode hijack:false / testcontainers style)', async ({ berthd }) => {
  const docker = berthd.client();
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sh', '-c', 'sleep 0.3; echo streamed; echo err >&2'] });
  const stream = await c.attach({ stream: true, stdout: true, stderr: true, hijack: false });
  let out = '';
  const chunks: Buffer[] = [];
  stream.on('data', (d: Buffer) => chunks.push(d));
  const ended = new Promise((r) => stream.on('end', r));
  await c.start();
  await ended;
  new Demuxer().push(Buffer.concat(chunks), (s, p) => (out += `${s}:${p}`));
  expect(out).toBe('1:streamed\n2:err\n');
  await c.remove();
});

test('exec start: JSON body inside the upgrade, exit code stored before the socket closes', async ({ berthd }) => {
  const docker = berthd.client();
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['sleep', '60'] });
  await c.start();
  const ex = await c.exec({ Cmd: ['sh', '-c', 'read x; echo got-$x; exit 13'], AttachStdin: true, AttachStdout: true, AttachStderr: true });
  const body = JSON.stringify({ Detach: false, Tty: false });
  const { sock, head, rest } = await rawHijack(
    berthd,
    `POST /v1.45/exec/${ex.id}/start HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n${body}hello\n`,
  );
  expect(head).toMatch(/^HTTP\/1.1 101/);
  let out = '';
  const demux = new Demuxer();
  demux.push(rest, (_s, p) => (out += p));
  sock.on('data', (d: Buffer) => demux.push(d, (_s, p) => (out += p)));
  await new Promise((r) => sock.on('close', r));
  expect(out).toBe('got-hello\n');
  const info = await ex.inspect();
  expect(info).toMatchObject({ Running: false, ExitCode: 13, ContainerID: c.id });
  await c.remove({ force: true });
});

test('events stream: headers flushed at once, filters in both JSON forms', async ({ berthd }) => {
  const docker = berthd.client();
  const name = uniq('evapi');
  const since = Math.floor(Date.now() / 1000) - 1;
  const started = Date.now();
  const stream = await docker.getEvents({ filters: { container: [name], event: ['start'] } });
  // The response (and thus this call) resolved before any event happened.
  expect(Date.now() - started).toBeLessThan(2000);
  const got = new Promise<Record<string, unknown>>((resolve) => stream.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()))));
  const c = await docker.createContainer({ Image: 'busybox', Cmd: ['true'], name });
  await c.start();
  const ev = await got;
  expect(ev).toMatchObject({ Type: 'container', Action: 'start', status: 'start', id: c.id });
  (stream as unknown as { destroy(): void }).destroy();
  // The CLI's map form of filters.
  const until = Math.floor(Date.now() / 1000) + 1;
  const r = await request(berthd, 'GET', `/events?since=${since}&until=${until}&filters=${encodeURIComponent(JSON.stringify({ container: { [name]: true }, event: { create: true } }))}`);
  const lines = r.body.trim().split('\n').map((l) => JSON.parse(l));
  expect(lines.map((l: { Action: string }) => l.Action)).toEqual(['create']);
  await c.remove();
});

test('malformed and mistyped requests get 4xx with a message, and the daemon keeps serving', async ({ berthd }) => {
  const bad = await request(berthd, 'POST', '/containers/create', '{"Image": "busybox", ');
  expect(bad.status).toBe(400);
  expect(JSON.parse(bad.body).message).toMatch(/^invalid JSON: /);
  const wrongType = await request(berthd, 'POST', '/containers/create', JSON.stringify({ Image: 'busybox', Env: 'A=1' }));
  expect(wrongType.status).toBe(400);
  expect(JSON.parse(wrongType.body).message).toBe('json: cannot unmarshal string into Go struct field ContainerConfigWrapper.Env of type []string');
  const empty = await request(berthd, 'POST', '/containers/create', '');
  expect(empty.status).toBe(400);
  expect(JSON.parse(empty.body).message).toBe('config cannot be empty in order to create a container');
  const badName = await request(berthd, 'POST', '/containers/create?name=' + encodeURIComponent('/bad name'), JSON.stringify({ Image: 'busybox' }));
  expect(badName.status).toBe(400);
  expect(JSON.parse(badName.body).message).toContain('Invalid container name (/bad name)');
  const badRef = await request(berthd, 'POST', '/containers/create', JSON.stringify({ Image: 'Busybox' }));
  expect(badRef.status).toBe(400);
  expect(JSON.parse(badRef.body).message).toContain('must be lowercase');
  const noCmd = await request(berthd, 'POST', '/containers/create', JSON.stringify({ Image: 'busybox', Cmd: [], Entrypoint: [] }));
  expect([400]).toContain(noCmd.status);
  const ct = await request(berthd, 'POST', '/containers/create', JSON.stringify({ Image: 'busybox' }), { 'Content-Type': 'text/plain' });
  expect(ct.status).toBe(400);
  expect(JSON.parse(ct.body).message).toContain("unsupported Content-Type header (text/plain): must be 'application/json'");
  const badFilter = await request(berthd, 'GET', '/containers/json?filters=%7Bnot-json');
  expect(badFilter.status).toBe(400);
  const badSignal = await request(berthd, 'POST', '/containers/nope/kill?signal=SIGFOO');
  expect(badSignal.status).toBe(400);
  // A garbage request line does not hurt the daemon.
  await new Promise<void>((resolve) => {
    const s = net.connect(berthd.socket, () => s.end('GARBAGE\r\n\r\n'));
    s.on('close', () => resolve());
    s.on('error', () => resolve());
    s.resume();
  });
  expect((await request(berthd, 'GET', '/_ping')).status).toBe(200);
});

test('system prune, builder prune and system df on a fresh engine (nothing cached to prune yet)', async ({ berthd }) => {
  const prune = await berthd.docker(['system', 'prune', '-f']);
  expect(prune.code).toBe(0);
  expect(prune.stdout).toContain('Total reclaimed space:');
  const builder = await berthd.docker(['builder', 'prune', '-f']);
  expect(builder.code).toBe(0);
  expect(builder.stdout).toContain('Total reclaimed space: 0B');
  const raw = await request(berthd, 'POST', '/v1.51/build/prune?all=1&keep-storage=0');
  expect(raw.status).toBe(200);
  expect(JSON.parse(raw.body)).toEqual({ CachesDeleted: null, SpaceReclaimed: 0 });
  const bad = await request(berthd, 'POST', '/build/prune?filters=%7Bnot-json');
  expect(bad.status).toBe(400);
  const df = await berthd.dockerOk(['system', 'df']);
  expect(df).toMatch(/^Build Cache\s+0\s+0\s+0B\s+0B$/m);
});
