/**
 * The Docker Engine API server: HTTP on unix and TCP sockets (TLS and mutual TLS as dockerd:
 * api/listeners.ts), version prefixes, browser-origin refusal, Docker's error shape, and
 * Upgrade requests routed to the same handlers for hijacking.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import { listenTcp, listenUnix, loadTls, parseTcpHost, plainTcpWarnings, socketGid, somaxconn, ListenerError, type TcpAddress, type TlsFiles, type TlsMaterial } from './listeners.js';
import { messageOf, statusOf } from '../errdefs.js';
import type { Logger } from '../daemon/log.js';
import { commonHeaders, versionLess, type RequestContext } from './context.js';
import type { Router } from './router.js';
import { API_VERSION, MIN_API_VERSION } from '../version.js';

const versionPrefix = /^\/v(\d+\.\d+)(\/.*)?$/;

export interface ListenPlan {
  backlog: number;
  entries: Array<
    | { host: string; kind: 'unix'; sock: string; gid: number }
    | { host: string; kind: 'tcp'; addr: TcpAddress; tls?: TlsMaterial; verify: boolean; warnings: string[] }
  >;
}

function statusText(status: number): string {
  return http.STATUS_CODES[status] ?? 'Unknown';
}

export class ApiServer {
  private readonly servers: http.Server[] = [];
  private readonly sockets = new Set<Duplex>();

  constructor(
    private readonly router: Router,
    private readonly log: Logger,
  ) {}

  private createServer(tls?: TlsMaterial): http.Server {
    // keepAliveTimeout 0: an idle keep-alive connection stays open until the client closes it, as
    // dockerd's (Go's server has no idle timeout). Node's 5 s default closed connections that
    // docker-py's pool was about to reuse, and under load the request met a reset.
    const options = { requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 0 };
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      void this.dispatch(req, res, undefined);
    };
    // allowHalfOpen on TLS too: the CLI half-closes the TCP connection under TLS at stdin EOF and still reads the output.
    const server: http.Server = tls ? https.createServer({ ...options, ...tls, allowHalfOpen: true }, handler) : http.createServer(options, handler);
    if (tls) {
      // No certificate, one from another CA, or plain HTTP: the handshake fails and the connection closes.
      server.on('tlsClientError', (err: Error) => this.log.debug('TLS handshake refused', { err: err.message }));
    }
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.dispatch(req, undefined, { socket, head });
    });
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    server.on('clientError', (err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      this.log.debug('client error', { err: err.message });
    });
    return server;
  }

  /**
   * Checks every host and loads what serving it needs — TLS files (api/listeners.ts), the socket
   * group — before the daemon touches anything, so a bad flag fails the start at once.
   */
  prepare(hosts: string[], opts: { tls?: TlsFiles; tlsExplicitlyOff?: boolean; socketGroup?: string } = {}): ListenPlan {
    const tls = opts.tls && hosts.some((h) => h.startsWith('tcp://')) ? loadTls(opts.tls) : undefined;
    const entries = hosts.map((host): ListenPlan['entries'][number] => {
      if (host.startsWith('unix://')) return { host, kind: 'unix', sock: host.slice('unix://'.length), gid: socketGid(opts.socketGroup, this.log) };
      if (host.startsWith('tcp://')) {
        const addr = parseTcpHost(host, tls !== undefined);
        const warnings = opts.tls?.verify ? [] : plainTcpWarnings(addr.host, opts.tlsExplicitlyOff === true);
        return { host, kind: 'tcp', addr, ...(tls ? { tls } : {}), verify: opts.tls?.verify === true, warnings };
      }
      throw new ListenerError(`invalid host: ${host}: only unix:// and tcp:// are supported`);
    });
    return { backlog: somaxconn(), entries };
  }

  /** Serves a prepared plan (see prepare). */
  async listen(plan: ListenPlan): Promise<void> {
    for (const e of plan.entries) {
      const server = this.createServer(e.kind === 'tcp' ? e.tls : undefined);
      if (e.kind === 'unix') {
        await listenUnix(server, e.sock, { gid: e.gid, backlog: plan.backlog });
      } else {
        for (const w of e.warnings) this.log.warn(w, { host: e.host });
        await listenTcp(server, e.addr, plan.backlog);
      }
      this.servers.push(server);
      this.log.info('API listen', { addr: e.host, ...(e.kind === 'tcp' ? { tls: e.tls ? (e.verify ? 'verify' : 'on') : 'off' } : {}) });
    }
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  private async dispatch(req: IncomingMessage, res: ServerResponse | undefined, upgrade: { socket: Duplex; head: Buffer } | undefined): Promise<void> {
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://berthd');
    let pathname = url.pathname;
    let version = API_VERSION;
    if (res) for (const [k, v] of Object.entries(commonHeaders)) res.setHeader(k, v);

    const fail = (status: number, message: string) => {
      if (res) {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        const body = JSON.stringify({ message }) + '\n';
        res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
        res.end(method === 'HEAD' ? undefined : body);
      } else if (upgrade) {
        const body = JSON.stringify({ message }) + '\n';
        if (upgrade.socket.writable) {
          upgrade.socket.end(
            `HTTP/1.1 ${status} ${statusText(status)}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
          );
        }
      }
    };

    // A page in a browser must never drive the engine (the socket is root on the host).
    if (req.headers.origin !== undefined) {
      this.log.warn('refused request with an Origin header', { origin: req.headers.origin, path: pathname });
      fail(403, 'requests from browsers are not allowed: the request carried an Origin header');
      return;
    }

    const m = versionPrefix.exec(pathname);
    if (m) {
      version = m[1]!;
      pathname = m[2] ?? '/';
      if (versionLess(version, MIN_API_VERSION)) {
        fail(400, `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
        return;
      }
      if (versionLess(API_VERSION, version)) {
        fail(400, `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
        return;
      }
    }

    const route = this.router.find(method, pathname);
    if (!route) {
      fail(404, 'page not found');
      return;
    }
    const ctx: RequestContext = { req, res, upgrade, params: route.params, query: url.searchParams, version, path: pathname };
    const started = performance.now();
    try {
      await route.handler(ctx);
    } catch (err) {
      const status = statusOf(err);
      // 501/503 are answers (no builder yet, no swarm mode, no plugins), not failures of berthd.
      if (status >= 500 && status !== 501 && status !== 503) this.log.error('handler failed', { method, path: pathname, err: messageOf(err) });
      else this.log.debug('request rejected', { method, path: pathname, status, err: messageOf(err) });
      if (status === 304 && res && !res.headersSent) {
        res.writeHead(304);
        res.end();
        return;
      }
      fail(status, messageOf(err));
    } finally {
      if (this.log.enabled('debug')) this.log.debug('request', { method, path: url.pathname + url.search, ms: (performance.now() - started).toFixed(1) });
    }
  }
}
