/**
 * Published ports on the host against a fake guest: the real agent channel (HTTP/2 over a unix
 * socket standing in for the virtio-serial port) to an in-process guest agent with the connect,
 * datagram and ports routes, servers on loopback standing in for the containers. Covers the
 * forwarder (TCP, UDP, Docker Desktop's conflict message, all-or-nothing publish, ownership,
 * reconcile against a list taken at a moment), the sync (berthd's hook through the guest agent and
 * the ports line, reconcile on start, stop closing everything) and berthd's hook client.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import type http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PortUnavailableError as EnginePortUnavailable, SocketPortPublisher } from '../../engine/network/port-publisher.js';
import { ROUTES, type Target } from '../channel/protocol.js';
import { connect } from '../guest/connect.js';
import { datagram } from '../guest/datagram.js';
import { agentServer, serveDuplex } from '../guest/port.js';
import { GuestPorts } from '../guest/ports.js';
import { AgentChannel } from './agent-channel.js';
import { HostPortForwarder, PortUnavailableError, guestTarget, hostAddresses, unavailableMessage, type ForwardedPort } from './port-forward.js';
import { PortForwardSync, publishedPorts, type ContainerSummary } from './port-forward-sync.js';

let dir: string;
const cleanups: Array<() => void | Promise<void>> = [];
let guestPorts: GuestPorts;
let channel: AgentChannel;
/** "Containers": host port → the loopback port of the server standing in for it. */
const backends = new Map<string, number>();

const logs: string[] = [];
const log = (m: string) => logs.push(m);
const fakeLogger = { warn: (m: string, f?: object) => logs.push(`${m} ${JSON.stringify(f ?? {})}`), info: () => undefined, debug: () => undefined, error: () => undefined } as never;

function target(p: ForwardedPort): Target {
  const port = backends.get(`${p.proto}/${p.hostPort}`);
  if (!port) throw new Error(`no backend for ${p.proto}/${p.hostPort}`);
  return { kind: p.proto, host: '127.0.0.1', port };
}

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ports-'));
  guestPorts = new GuestPorts(log, 2000);
  const server = agentServer((stream: http2.ServerHttp2Stream, headers) => {
    if (headers[':path'] === ROUTES.connect) return connect(stream, headers);
    if (headers[':path'] === ROUTES.datagram) return datagram(stream, headers);
    if (headers[':path'] === ROUTES.ports) return guestPorts.attachHost(stream);
    stream.respond({ ':status': 404 });
    stream.end();
  }, () => undefined);
  const portPath = path.join(dir, 'agent.port');
  const s = net.createServer({ allowHalfOpen: false }, (sock) => {
    // The host end goes first at cleanup.
    sock.on('error', () => undefined);
    void serveDuplex(sock, server, () => undefined);
  });
  await new Promise<void>((r) => s.listen(portPath, () => r()));
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
  channel = await AgentChannel.connect({ kind: 'unix', path: portPath }, { timeoutMs: 5000 });
  cleanups.push(() => channel.close());
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  backends.clear();
  logs.length = 0;
  fs.rmSync(dir, { recursive: true, force: true });
});

async function freePort(host = '127.0.0.1'): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, host, () => r()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return p;
}

/** A TCP "container" answering `text` to every connection; registered for host port `hostPort`. */
async function tcpBackend(hostPort: number, text: string): Promise<void> {
  const s = net.createServer((c) => c.end(text));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  backends.set(`tcp/${hostPort}`, (s.address() as net.AddressInfo).port);
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
}

async function udpBackend(hostPort: number): Promise<void> {
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => s.send(Buffer.concat([Buffer.from('echo:'), m]), r.port, r.address));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  backends.set(`udp/${hostPort}`, s.address().port);
  cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
}

function readAll(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect({ host, port });
    let out = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => (out += d));
    c.on('end', () => resolve(out));
    c.on('error', reject);
  });
}

function refused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = net.connect({ host, port });
    c.once('connect', () => {
      c.destroy();
      resolve(false);
    });
    c.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

function udpAsk(port: number, text: string | Buffer, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    const t = setTimeout(() => {
      s.close();
      reject(new Error('no reply'));
    }, 3000);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m.toString());
    });
    s.send(text, port, host);
  });
}

function forwarder(o: { now?: () => number } = {}): HostPortForwarder {
  const f = new HostPortForwarder({ channel: () => channel, log, target, ...o });
  cleanups.push(() => f.closeAll());
  return f;
}

const tcp = (hostPort: number, hostIp = '127.0.0.1') => ({ proto: 'tcp' as const, hostIp, hostPort, containerPort: 80 });

describe('addresses and messages', () => {
  it("says what Docker Desktop says for a taken port, per protocol and family", () => {
    const inUse = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    expect(unavailableMessage({ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8080 }, inUse)).toBe('Ports are not available: exposing port TCP 0.0.0.0:8080 -> 0.0.0.0:0: listen tcp 0.0.0.0:8080: bind: address already in use');
    expect(unavailableMessage({ proto: 'udp', hostIp: '127.0.0.1', hostPort: 53 }, Object.assign(new Error('x'), { code: 'EACCES' }))).toBe('Ports are not available: exposing port UDP 127.0.0.1:53 -> 0.0.0.0:0: listen udp 127.0.0.1:53: bind: permission denied');
    expect(unavailableMessage({ proto: 'tcp', hostIp: '::1', hostPort: 9 }, inUse)).toContain('listen tcp [::1]:9: bind: address already in use');
  });

  it('listens where the container asked, with the IPv6 twin, and reaches the guest on its own address', () => {
    expect(hostAddresses('0.0.0.0')).toEqual({ primary: '0.0.0.0', twin: '::' });
    expect(hostAddresses('127.0.0.1')).toEqual({ primary: '127.0.0.1', twin: '::1' });
    expect(hostAddresses('10.0.2.15')).toEqual({ primary: '10.0.2.15', twin: undefined });
    expect(guestTarget({ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8080 })).toEqual({ kind: 'tcp', host: '127.0.0.1', port: 8080 });
    expect(guestTarget({ proto: 'udp', hostIp: '127.0.0.1', hostPort: 53 })).toEqual({ kind: 'udp', host: '127.0.0.1', port: 53 });
    expect(guestTarget({ proto: 'tcp', hostIp: '::', hostPort: 8080 })).toEqual({ kind: 'tcp', host: '::1', port: 8080 });
  });

  it("reads the engine's list into published ports (unpublished and :: entries handled)", () => {
    const list: ContainerSummary[] = [
      { Id: 'a', Ports: [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }, { PrivatePort: 443, Type: 'tcp' }, { IP: '::', PrivatePort: 80, PublicPort: 8080, Type: 'tcp' }] },
      { Id: 'b', Ports: [{ IP: '127.0.0.1', PrivatePort: 53, PublicPort: 5353, Type: 'udp' }, { IP: '0.0.0.0', PrivatePort: 1, PublicPort: 2, Type: 'sctp' }] },
      { Id: 'c' },
      { Id: 'd', Ports: [{ IP: '::', PrivatePort: 80, PublicPort: 9090, Type: 'tcp' }] },
    ];
    expect(publishedPorts(list)).toEqual([
      { proto: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, container: 'a' },
      { proto: 'udp', hostIp: '127.0.0.1', hostPort: 5353, container: 'b' },
      { proto: 'tcp', hostIp: '::', hostPort: 9090, container: 'd' },
    ]);
  });
});

describe('HostPortForwarder', () => {
  it('forwards TCP connections from the host port to the guest, on 127.0.0.1 and [::1], and closes on unpublish', async () => {
    const p = await freePort();
    await tcpBackend(p, 'from the container');
    const f = forwarder();
    await f.publish('c1', [tcp(p)]);
    expect(await readAll('127.0.0.1', p)).toBe('from the container');
    expect(await readAll('::1', p)).toBe('from the container');
    expect(f.list()).toEqual([{ proto: 'tcp', hostIp: '127.0.0.1', hostPort: p, container: 'c1' }]);
    // Another container's unpublish of the same key is not this one's.
    f.unpublish('other', [tcp(p)]);
    expect(f.list()).toHaveLength(1);
    f.unpublish('c1', [tcp(p)]);
    expect(f.list()).toEqual([]);
    expect(await refused('127.0.0.1', p)).toBe(true);
  });

  it('carries large transfers both ways with half-close', async () => {
    const p = await freePort();
    const s = net.createServer({ allowHalfOpen: true }, (c) => {
      let n = 0;
      c.on('data', (d: Buffer) => (n += d.length));
      c.on('end', () => c.end(`got ${n}`));
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    backends.set(`tcp/${p}`, (s.address() as net.AddressInfo).port);
    cleanups.push(() => new Promise<void>((r) => s.close(() => r())));
    const f = forwarder();
    await f.publish('c1', [tcp(p)]);
    const answer = await new Promise<string>((resolve, reject) => {
      const c = net.connect({ host: '127.0.0.1', port: p, allowHalfOpen: true });
      let out = '';
      c.on('data', (d: Buffer) => (out += d.toString()));
      c.on('end', () => resolve(out));
      c.on('error', reject);
      c.end(Buffer.alloc(8 * 1024 * 1024, 7));
    });
    expect(answer).toBe(`got ${8 * 1024 * 1024}`);
  });

  it("refuses a port another program holds with Docker Desktop's message, and opens nothing of the call", async () => {
    const free = await freePort();
    const taken = await freePort();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(taken, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => blocker.close(() => r())));
    const f = forwarder();
    const err = await f.publish('c1', [tcp(free), tcp(taken)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortUnavailableError);
    expect((err as Error).message).toBe(`Ports are not available: exposing port TCP 127.0.0.1:${taken} -> 0.0.0.0:0: listen tcp 127.0.0.1:${taken}: bind: address already in use`);
    expect(f.list()).toEqual([]);
    expect(await refused('127.0.0.1', free)).toBe(true);
  });

  it('forwards UDP datagrams per client address and back', async () => {
    const p = await freePort();
    await udpBackend(p);
    const f = forwarder();
    await f.publish('u1', [{ proto: 'udp', hostIp: '127.0.0.1', hostPort: p, containerPort: 53 }]);
    expect(await udpAsk(p, 'one')).toBe('echo:one');
    expect(await udpAsk(p, Buffer.alloc(9000, 'z'))).toBe(`echo:${'z'.repeat(9000)}`);
    expect(await udpAsk(p, 'six', '::1')).toBe('echo:six');
    await Promise.all([udpAsk(p, 'a'), udpAsk(p, 'b'), udpAsk(p, 'c')]).then((r) => expect(r.sort()).toEqual(['echo:a', 'echo:b', 'echo:c']));
  });

  it('reconciles against a list taken at a moment: opens what is missing, closes what is gone, leaves newer changes alone', async () => {
    let clock = 1000;
    const f = forwarder({ now: () => clock });
    const [a, b, c, d] = [await freePort(), await freePort(), await freePort(), await freePort()];
    for (const p of [a, b, c, d]) await tcpBackend(p, `port ${p}`);
    await f.publish('x', [tcp(a)]); // since 1000: gone from the list below
    clock = 3000;
    await f.publish('y', [tcp(b)]); // since 3000: newer than the list
    await f.publish('z', [tcp(d)]);
    clock = 3500;
    f.unpublish('z', [tcp(d)]); // given back after the list was taken: not brought back
    const r = await f.reconcile(
      [
        { proto: 'tcp', hostIp: '127.0.0.1', hostPort: c, container: 'w' },
        { proto: 'tcp', hostIp: '127.0.0.1', hostPort: d, container: 'z' },
      ],
      2000,
      0,
    );
    expect(r).toEqual({ opened: [`tcp/127.0.0.1/${c}`], closed: [`tcp/127.0.0.1/${a}`], failed: [] });
    expect(f.list().map((p) => p.hostPort).sort()).toEqual([b, c].sort());
    expect(await readAll('127.0.0.1', c)).toBe(`port ${c}`);
    expect(await refused('127.0.0.1', a)).toBe(true);
    // A later list wins for everything.
    clock = 5000;
    await f.reconcile([], 4000, 0);
    expect(f.list()).toEqual([]);
  });

  it('keeps a port published moments ago that the list does not show yet (its container is still starting)', async () => {
    let clock = 10_000;
    const f = forwarder({ now: () => clock });
    const p = await freePort();
    await tcpBackend(p, 'starting');
    await f.publish('s', [tcp(p)]);
    clock = 20_000;
    expect((await f.reconcile([], 20_000, 60_000)).closed).toEqual([]);
    expect(f.list()).toHaveLength(1);
    // Once the grace is over, a port the engine does not list is stale.
    clock = 100_000;
    expect((await f.reconcile([], 100_000, 60_000)).closed).toEqual([`tcp/127.0.0.1/${p}`]);
    // And one given back moments ago is not brought back by a list that still shows it.
    await f.publish('s', [tcp(p)]);
    f.unpublish('s', [tcp(p)]);
    expect((await f.reconcile([{ proto: 'tcp', hostIp: '127.0.0.1', hostPort: p, container: 's' }], 100_000, 60_000)).opened).toEqual([]);
  });

  it('takes over a stale entry when berthd publishes the same port again', async () => {
    const p = await freePort();
    await tcpBackend(p, 'x');
    const f = forwarder();
    await f.publish('old', [tcp(p)]);
    await f.publish('new', [tcp(p)]);
    expect(f.list()).toEqual([{ proto: 'tcp', hostIp: '127.0.0.1', hostPort: p, container: 'new' }]);
  });
});

describe('PortForwardSync and berthd hook', () => {
  async function setup(list: ContainerSummary[] = []): Promise<{ f: HostPortForwarder; sync: PortForwardSync; publisher: SocketPortPublisher; lists: number }> {
    const sock = path.join(dir, 'publisher.sock');
    await guestPorts.listen(sock);
    cleanups.push(() => guestPorts.close());
    const f = forwarder();
    const state = { lists: 0 };
    const sync = new PortForwardSync({ channel: () => channel, forwarder: f, log, listContainers: async () => (state.lists++, list) });
    cleanups.push(() => sync.stop());
    sync.start();
    // The line is up once the guest has attached it.
    await new Promise((r) => setTimeout(r, 100));
    return { f, sync, publisher: new SocketPortPublisher(sock, fakeLogger, 5000), get lists() {
      return state.lists;
    } };
  }

  it("publishes through berthd's hook, the guest agent and the ports line; a taken port fails the publish with the host's message", async () => {
    const { f, publisher } = await setup();
    const p = await freePort();
    await tcpBackend(p, 'hooked');
    await publisher.publish('c1', [tcp(p)]);
    expect(await readAll('127.0.0.1', p)).toBe('hooked');
    await publisher.unpublish('c1', [tcp(p)]);
    expect(f.list()).toEqual([]);

    const taken = await freePort();
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(taken, '127.0.0.1', () => r()));
    cleanups.push(() => new Promise<void>((r) => blocker.close(() => r())));
    const err = await publisher.publish('c2', [tcp(taken)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnginePortUnavailable);
    expect((err as Error).message).toBe(`Ports are not available: exposing port TCP 127.0.0.1:${taken} -> 0.0.0.0:0: listen tcp 127.0.0.1:${taken}: bind: address already in use`);
  });

  it('reconciles from the engine list when it starts, and closes every listener when it stops', async () => {
    const p = await freePort();
    await tcpBackend(p, 'listed');
    const s = await setup([{ Id: 'k', Ports: [{ IP: '127.0.0.1', PrivatePort: 80, PublicPort: p, Type: 'tcp' }] }]);
    await expect.poll(() => s.f.list().length).toBe(1);
    expect(s.lists).toBeGreaterThanOrEqual(1);
    expect(await readAll('127.0.0.1', p)).toBe('listed');
    s.sync.stop();
    expect(s.f.list()).toEqual([]);
    expect(await refused('127.0.0.1', p)).toBe(true);
    // With no host on the line, berthd's publish is accepted (the host reconciles when it is back).
    await s.publisher.publish('c3', [tcp(await freePort())]);
  });

  it("berthd's hook does not block a start when the guest agent is not there", async () => {
    const publisher = new SocketPortPublisher(path.join(dir, 'nobody.sock'), fakeLogger, 1000);
    await publisher.publish('c', [tcp(1)]);
    expect(logs.join('\n')).toMatch(/port publisher unreachable/);
  });
});
