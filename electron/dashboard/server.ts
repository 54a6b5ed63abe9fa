/**
 * `berth dashboard`: serves the built renderer and the contract over a
 * WebSocket on 127.0.0.1, for headless Linux hosts and for tests. Access needs
 * the random token printed in the URL; requests with another Host (DNS
 * rebinding) or WebSocket upgrades from another Origin are refused.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { MAX_MESSAGE_BYTES, type ServerMessage } from '../contract/protocol.js';
import { RpcSession, type Handlers } from '../backend/rpc/session.js';
import { contentTypeOf, rendererCsp } from '../renderer-assets.js';

export interface DashboardOptions {
  handlers: Handlers;
  /** The built renderer (index.html and assets). */
  rendererDir: string;
  /** 0 picks a free port. */
  port?: number;
  token?: string;
  log?: (msg: string) => void;
}

export const RPC_PATH = '/rpc';
/** GET with ?token=: 204 if the token is this server's, 401 if not. Lets a page tell "server restarted" (new token) from "server gone". */
export const SESSION_PATH = '/session';

export function contentSecurityPolicy(port: number): string {
  return rendererCsp([`ws://127.0.0.1:${port}`, `ws://localhost:${port}`]);
}

export class DashboardServer {
  readonly token: string;
  private readonly server: http.Server;
  private readonly wss: WebSocketServer;
  private readonly sessions = new Set<RpcSession>();
  private boundPort = 0;
  private readonly log: (msg: string) => void;

  constructor(private readonly opts: DashboardOptions) {
    this.token = opts.token ?? randomBytes(24).toString('base64url');
    this.log = opts.log ?? (() => undefined);
    this.server = http.createServer((req, res) => this.serveHttp(req, res));
    this.wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });
    this.server.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port ?? 0, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.boundPort = (this.server.address() as { port: number }).port;
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `http://127.0.0.1:${this.boundPort}/?token=${this.token}`;
  }

  get connections(): number {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.dispose();
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private allowedHost(host: string | undefined): boolean {
    return host === `127.0.0.1:${this.boundPort}` || host === `localhost:${this.boundPort}`;
  }

  private allowedOrigin(origin: string | undefined): boolean {
    return origin === `http://127.0.0.1:${this.boundPort}` || origin === `http://localhost:${this.boundPort}`;
  }

  private tokenMatches(given: string | null): boolean {
    if (!given) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  private serveHttp(req: http.IncomingMessage, res: http.ServerResponse): void {
    const deny = (status: number, message: string) => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end(`${message}\n`);
    };
    if (!this.allowedHost(req.headers.host)) return deny(403, 'forbidden: unexpected Host header');
    if (req.method !== 'GET' && req.method !== 'HEAD') return deny(405, 'method not allowed');
    let pathname: string;
    try {
      pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return deny(400, 'bad request');
    }
    if (pathname === RPC_PATH) return deny(426, 'upgrade required');
    if (pathname === SESSION_PATH) {
      const token = new URL(req.url ?? '/', 'http://x').searchParams.get('token');
      if (!this.tokenMatches(token)) return deny(401, 'this access token is not valid for this berth dashboard');
      res.writeHead(204, { 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
      return void res.end();
    }
    const root = path.resolve(this.opts.rendererDir);
    let file = path.resolve(root, '.' + (pathname === '/' ? '/index.html' : pathname));
    if (file !== root && !file.startsWith(root + path.sep)) return deny(404, 'not found');
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(file);
    } catch {
      stat = undefined;
    }
    if (!stat?.isFile()) {
      // Client-side routes fall back to the app; missing assets are 404s.
      if (path.extname(pathname)) return deny(404, 'not found');
      file = path.join(root, 'index.html');
      if (!fs.existsSync(file)) return deny(500, `the dashboard is not built (${file} is missing): run "npm run build"`);
    }
    const isIndex = path.basename(file) === 'index.html';
    res.writeHead(200, {
      'Content-Type': contentTypeOf(file),
      'Content-Security-Policy': contentSecurityPolicy(this.boundPort),
      'X-Content-Type-Options': 'nosniff',
      'X-Frame-Options': 'DENY',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cache-Control': isIndex ? 'no-store' : 'public, max-age=31536000, immutable',
    });
    if (req.method === 'HEAD') return void res.end();
    fs.createReadStream(file).pipe(res);
  }

  private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const reject = (status: number, reason: string) => {
      this.log(`refused a dashboard connection: ${reason}`);
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: text/plain\r\n\r\n${reason}\n`);
      socket.destroy();
    };
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== RPC_PATH) return reject(404, 'not found');
    if (!this.allowedHost(req.headers.host)) return reject(403, 'unexpected Host header');
    if (!this.allowedOrigin(req.headers.origin)) return reject(403, `origin ${req.headers.origin ?? '(none)'} is not allowed`);
    if (!this.tokenMatches(url.searchParams.get('token'))) return reject(401, 'wrong or missing token');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.attach(ws));
  }

  private attach(ws: WebSocket): void {
    const session = new RpcSession(
      this.opts.handlers,
      (m: ServerMessage) => {
        if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
      },
      this.log,
    );
    this.sessions.add(session);
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let msg: unknown;
      try {
        msg = JSON.parse(data.toString());
      } catch {
        this.log('dropped a dashboard message that is not JSON');
        return;
      }
      session.receive(msg);
    });
    ws.on('close', () => {
      session.dispose();
      this.sessions.delete(session);
    });
    ws.on('error', () => ws.terminate());
  }
}
