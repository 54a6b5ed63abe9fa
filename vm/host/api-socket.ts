/**
 * The engine API on the host: a unix socket (mode 0600, in a 0700 folder) whose every connection
 * becomes one tunnel to berthd's socket in the guest. Bytes pass through untouched, so hijacked
 * attach/exec, `logs -f`, `/events` and uploads behave exactly as on berthd's own socket; HTTP/2
 * flow control carries the backpressure, half-close carries `docker run -i`'s end of input.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { GUEST_ENGINE_SOCKET } from '../channel/protocol.js';
import { joinStreams } from '../channel/tunnel.js';
import type { AgentChannel } from './agent-channel.js';
import { socketAnswers } from './provider.js';

export class ApiSocket {
  private server: net.Server | undefined;
  private readonly open = new Set<net.Socket>();

  constructor(
    readonly socketPath: string,
    private readonly channel: () => AgentChannel | undefined,
    private readonly why: () => string,
  ) {}

  async listen(): Promise<void> {
    if (process.platform !== 'win32') {
      fs.mkdirSync(path.dirname(this.socketPath), { recursive: true, mode: 0o700 });
      fs.chmodSync(path.dirname(this.socketPath), 0o700);
      if (fs.existsSync(this.socketPath)) {
        if (await socketAnswers(this.socketPath)) throw new Error(`${this.socketPath} is in use by another process`);
        fs.rmSync(this.socketPath, { force: true });
      }
    }
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (sock) => this.accept(sock));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // Created 0600 from the start (umask), then made sure of it.
      const old = process.umask(0o177);
      try {
        server.listen(this.socketPath, () => resolve());
      } finally {
        process.umask(old);
      }
    });
    if (process.platform !== 'win32') fs.chmodSync(this.socketPath, 0o600);
    this.server = server;
  }

  private accept(sock: net.Socket): void {
    // Every connection is tracked, the refused ones too: close() must not wait on a client that
    // keeps its end open (the server's close waits for every connection).
    this.open.add(sock);
    sock.once('close', () => this.open.delete(sock));
    const ch = this.channel();
    if (!ch) {
      sock.on('error', () => sock.destroy());
      const body = JSON.stringify({ message: this.why() });
      sock.end(`HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
      // Read (and drop) the request, so the client's end is seen and the socket closes; a paused
      // half-open socket would stay forever.
      sock.once('end', () => sock.destroy());
      sock.resume();
      return;
    }
    const stream = ch.openTunnel({ kind: 'unix', path: GUEST_ENGINE_SOCKET });
    stream.once('response', (h) => {
      if (h[':status'] !== 200) sock.destroy();
    });
    joinStreams(sock, stream);
    sock.resume();
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    // No new connections, then none left: the server's close resolves once every one is gone.
    const closed = server ? new Promise<void>((r) => server.close(() => r())) : Promise.resolve();
    for (const s of this.open) s.destroy();
    await closed;
    if (process.platform !== 'win32') fs.rmSync(this.socketPath, { force: true });
  }
}
