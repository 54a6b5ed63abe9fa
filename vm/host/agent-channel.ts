/**
 * The host end of the agent channel: QEMU's chardev socket for the virtio-serial port, the
 * handshake (channel/handshake.ts), then one HTTP/2 client session. Every Docker API connection
 * becomes a stream (`openTunnel`), control calls are small requests (`request`), and `ping`
 * (HTTP/2 PING) tells a live guest from a hung one.
 */
import { EventEmitter } from 'node:events';
import http2 from 'node:http2';
import net from 'node:net';
import { EagerDuplex } from '../channel/eager-duplex.js';
import { hostHandshake } from '../channel/handshake.js';
import { HEADERS, HTTP2_SETTINGS, MAX_SESSION_MEMORY_MIB, ROUTES, SESSION_WINDOW, formatTarget, type Target } from '../channel/protocol.js';
import type { LocalEndpoint } from './qemu-args.js';

export interface AgentResponse {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

export function endpointPath(e: LocalEndpoint): string {
  return e.kind === 'unix' ? e.path : `\\\\.\\pipe\\${e.name}`;
}

export class AgentChannel extends EventEmitter {
  private closed = false;

  private constructor(private readonly session: http2.ClientHttp2Session) {
    super();
    session.on('close', () => this.onClose());
    session.on('error', () => this.onClose());
    session.on('goaway', () => this.onClose());
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }

  get isClosed(): boolean {
    return this.closed || this.session.destroyed || this.session.closed;
  }

  /** Connects to the chardev, completes the handshake (the guest may still be booting) and starts HTTP/2. */
  static async connect(e: LocalEndpoint, o: { timeoutMs: number; signal?: AbortSignal }): Promise<AgentChannel> {
    const sock = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(endpointPath(e));
      s.once('connect', () => resolve(s));
      s.once('error', reject);
    });
    sock.setNoDelay(true);
    let rest: Buffer;
    try {
      rest = await hostHandshake(sock, { timeoutMs: o.timeoutMs, ...(o.signal ? { signal: o.signal } : {}) });
    } catch (err) {
      sock.destroy();
      throw err;
    }
    const conn = new EagerDuplex(sock, rest);
    const session = http2.connect('http://berth-agent', { createConnection: () => conn, settings: HTTP2_SETTINGS, maxSessionMemory: MAX_SESSION_MEMORY_MIB });
    session.on('error', () => undefined);
    session.setLocalWindowSize(SESSION_WINDOW);
    await new Promise<void>((resolve, reject) => {
      session.once('connect', () => resolve());
      session.once('error', reject);
      session.once('close', () => reject(new Error('the agent channel closed while connecting')));
    });
    return new AgentChannel(session);
  }

  /** A byte stream to a target inside the guest. Data may be written at once (the guest holds it until connected). */
  openTunnel(target: Target): http2.ClientHttp2Stream {
    return this.session.request({ ':method': 'POST', ':path': ROUTES.connect, [HEADERS.target]: formatTarget(target) }, { endStream: false });
  }

  /** A request/response exchange with a small body. */
  request(path: string, o: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs?: number } = {}): Promise<AgentResponse> {
    return new Promise((resolve, reject) => {
      if (this.isClosed) return reject(new Error('the agent channel is closed'));
      const req = this.session.request({ ':method': o.method ?? 'GET', ':path': path, ...(o.headers ?? {}) }, { endStream: o.body === undefined });
      const timer = setTimeout(() => {
        req.close(http2.constants.NGHTTP2_CANCEL);
        reject(new Error(`the guest agent did not answer ${path} within ${o.timeoutMs ?? 10_000} ms`));
      }, o.timeoutMs ?? 10_000);
      let headers: http2.IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      req.on('response', (h) => (headers = h));
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        clearTimeout(timer);
        resolve({ status: Number(headers[':status'] ?? 0), headers, body: Buffer.concat(chunks).toString('utf8') });
      });
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      if (o.body !== undefined) req.end(o.body);
    });
  }

  /** A raw stream to an agent route (shell), for callers that pipe it. */
  stream(path: string, headers: Record<string, string>): http2.ClientHttp2Stream {
    return this.session.request({ ':method': 'POST', ':path': path, ...headers }, { endStream: false });
  }

  /** Round trip in ms (HTTP/2 PING), rejected after `timeoutMs`. */
  ping(timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no answer to a ping within ${timeoutMs} ms`)), timeoutMs);
      const ok = this.session.ping((err, duration) => {
        clearTimeout(t);
        if (err) reject(err);
        else resolve(duration);
      });
      if (!ok) {
        clearTimeout(t);
        reject(new Error('too many pings in flight'));
      }
    });
  }

  /** berthd answers /_ping through a tunnel: the whole path the docker CLI takes works. */
  async enginePing(timeoutMs: number): Promise<boolean> {
    const s = this.openTunnel({ kind: 'unix', path: '/run/berth/docker.sock' });
    return new Promise<boolean>((resolve) => {
      let data = '';
      const done = (v: boolean) => {
        clearTimeout(t);
        if (!s.destroyed) s.close(http2.constants.NGHTTP2_CANCEL);
        resolve(v);
      };
      const t = setTimeout(() => done(false), timeoutMs);
      s.on('response', (h) => {
        if (h[':status'] !== 200) done(false);
      });
      s.on('data', (c: Buffer) => {
        data += c.toString('latin1');
        if (/^HTTP\/1\.[01] \d{3}/.test(data)) done(/^HTTP\/1\.[01] 200/.test(data));
      });
      s.on('error', () => done(false));
      s.on('close', () => done(false));
      s.end('GET /_ping HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n\r\n');
    });
  }

  close(): void {
    if (!this.session.destroyed) this.session.destroy();
    this.onClose();
  }
}
