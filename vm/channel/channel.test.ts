/**
 * The agent channel end to end, with a unix socket standing in for the virtio-serial port: the
 * host's AgentChannel and the guest's HTTP/2 server (guest/port.ts, guest/connect.ts), the
 * handshake with junk before it, half-close, large transfers with flow control, many streams.
 */
import fs from 'node:fs';
import type http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentChannel } from '../host/agent-channel.js';
import { agentServer, serveDuplex } from '../guest/port.js';
import { connect } from '../guest/connect.js';
import { GuestHandshake } from './handshake.js';
import { ROUTES } from './protocol.js';

let dir: string;
const servers: net.Server[] = [];
const channels: AgentChannel[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-chan-'));
});
afterEach(async () => {
  for (const c of channels.splice(0)) c.close();
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

function listen(p: string, onConn: (s: net.Socket) => void, allowHalfOpen = true): Promise<void> {
  const s = net.createServer({ allowHalfOpen }, onConn);
  servers.push(s);
  return new Promise((r) => s.listen(p, () => r()));
}

/** A guest: the agent's HTTP/2 server on each connection of `port`, with `junk` written first (a previous session's bytes). */
async function guest(port: string, junk = ''): Promise<void> {
  const server = agentServer((stream: http2.ServerHttp2Stream, headers) => {
    if (headers[':path'] === ROUTES.connect) return connect(stream, headers);
    stream.respond({ ':status': 404 });
    stream.end();
  }, () => undefined);
  await listen(port, (sock) => {
    if (junk) sock.write(junk);
    void serveDuplex(sock, server, () => undefined);
  }, false);
}

async function hostChannel(port: string): Promise<AgentChannel> {
  const c = await AgentChannel.connect({ kind: 'unix', path: port }, { timeoutMs: 5000 });
  channels.push(c);
  return c;
}

function collect(s: NodeJS.ReadableStream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => resolve(Buffer.concat(chunks)));
    s.on('error', reject);
  });
}

describe('GuestHandshake', () => {
  it('answers every hello and starts at the preface after the last one', () => {
    const replies: string[] = [];
    const h = new GuestHandshake((l) => replies.push(l.trim()));
    expect(h.feed(Buffer.from('old bytes\nBERTH-HELLO aa\n'))).toBeUndefined();
    expect(h.feed(Buffer.from('\nBERTH-HELLO bb\nPRI * HTTP/2.0\r\n\r\nSM\r\n\r\nrest'))?.toString()).toBe('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\nrest');
    expect(replies).toEqual(['BERTH-READY aa', 'BERTH-READY bb']);
  });

  it('ignores a preface that comes before any hello', () => {
    const h = new GuestHandshake(() => undefined);
    expect(h.feed(Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'))).toBeUndefined();
  });
});

describe('agent channel', () => {
  it('connects through stale bytes and carries a half-closed exchange (stdin closed, output still read)', async () => {
    const port = path.join(dir, 'port.sock');
    const target = path.join(dir, 'target.sock');
    await guest(port, 'garbage from an earlier session BERTH-READY 0000\n');
    // The target reads to EOF, then answers: only works if the host's end of input arrives as EOF while the stream stays open.
    await listen(target, (s) => {
      let n = 0;
      s.on('data', (c: Buffer) => (n += c.length));
      s.on('end', () => s.end(`got ${n} bytes`));
    });
    const ch = await hostChannel(port);
    const t = ch.openTunnel({ kind: 'unix', path: target });
    t.end(Buffer.alloc(1000, 1));
    expect((await collect(t)).toString()).toBe('got 1000 bytes');
  });

  it('moves 64 MiB each way with flow control and intact bytes', async () => {
    const port = path.join(dir, 'port.sock');
    const target = path.join(dir, 'echo.sock');
    await guest(port);
    await listen(target, (s) => s.pipe(s));
    const ch = await hostChannel(port);
    const t = ch.openTunnel({ kind: 'unix', path: target });
    const chunk = Buffer.alloc(1 << 20);
    for (let i = 0; i < chunk.length; i++) chunk[i] = i % 251;
    const got = collect(t);
    for (let i = 0; i < 64; i++) if (!t.write(chunk)) await new Promise((r) => t.once('drain', r));
    t.end();
    const back = await got;
    expect(back.length).toBe(64 << 20);
    expect(back.subarray(12345, 12355)).toEqual(chunk.subarray(12345, 12355));
  }, 60_000);

  it('carries 50 concurrent tunnels', async () => {
    const port = path.join(dir, 'port.sock');
    const target = path.join(dir, 'upper.sock');
    await guest(port);
    await listen(target, (s) => {
      const parts: Buffer[] = [];
      s.on('data', (c: Buffer) => parts.push(c));
      s.on('end', () => s.end(Buffer.concat(parts).toString().toUpperCase()));
    });
    const ch = await hostChannel(port);
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => {
        const t = ch.openTunnel({ kind: 'unix', path: target });
        t.end(`hello ${i}`);
        return collect(t).then((b) => b.toString());
      }),
    );
    expect(answers).toEqual(Array.from({ length: 50 }, (_, i) => `HELLO ${i}`));
  });

  it('a target that does not exist answers 502 with the reason', async () => {
    const port = path.join(dir, 'port.sock');
    await guest(port);
    const ch = await hostChannel(port);
    const t = ch.openTunnel({ kind: 'unix', path: path.join(dir, 'nothing.sock') });
    const status = await new Promise<http2.IncomingHttpHeaders>((r) => t.once('response', r));
    expect(status[':status']).toBe(502);
    expect(String(status['berth-error'])).toMatch(/ENOENT/);
  });

  it('a reset on the host side closes the guest connection', async () => {
    const port = path.join(dir, 'port.sock');
    const target = path.join(dir, 'hold.sock');
    await guest(port);
    let onClose!: () => void;
    const closed = new Promise<void>((resolve) => (onClose = resolve));
    // A unix socket has no RST: the target sees EOF either way, but after a reset the guest's end
    // is gone, so the target's writes (as `logs -f` output) soon fail and its socket closes; a
    // half-close would keep taking them.
    await listen(target, (s) => {
      s.resume();
      let timer: NodeJS.Timeout | undefined;
      s.on('end', () => (timer = setInterval(() => s.write('output after the reset'), 20)));
      s.on('error', () => undefined);
      s.on('close', () => {
        clearInterval(timer);
        onClose();
      });
    });
    const ch = await hostChannel(port);
    const t = ch.openTunnel({ kind: 'unix', path: target });
    t.write('x');
    const h = await new Promise<http2.IncomingHttpHeaders>((r) => t.once('response', r));
    expect(h[':status']).toBe(200);
    t.close();
    await closed;
    expect(await ch.ping(2000)).toBeGreaterThanOrEqual(0);
  });
});
