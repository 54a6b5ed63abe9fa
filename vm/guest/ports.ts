/**
 * Published ports, the guest's part: berthd's port-publishing hook (engine/network/port-publisher.ts)
 * connects to a unix socket here with one JSON line per call; the agent passes it to the host over
 * the ports line (a stream the host agent opens on the channel) and answers with the host's reply,
 * so a port taken on the host fails `docker start` before the container runs. With no host on the
 * line (booting, between channels) the answer is yes: the host reconciles from berthd's container
 * list once it connects.
 */
import fs from 'node:fs';
import type http2 from 'node:http2';
import net from 'node:net';
import type { LinePort, PortLineReply, PortLineRequest } from '../channel/protocol.js';

interface Pending {
  resolve: (r: PortLineReply) => void;
  timer: NodeJS.Timeout;
}

export class GuestPorts {
  private line: http2.ServerHttp2Stream | undefined;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private server: net.Server | undefined;

  constructor(
    private readonly log: (m: string) => void,
    private readonly timeoutMs = 10_000,
  ) {}

  /** The socket berthd's hook connects to (0600: only root in the guest). */
  listen(socketPath: string): Promise<void> {
    fs.mkdirSync(socketPath.slice(0, socketPath.lastIndexOf('/')) || '/', { recursive: true });
    fs.rmSync(socketPath, { force: true });
    const server = net.createServer((sock) => this.serveCall(sock));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      const old = process.umask(0o177);
      try {
        server.listen(socketPath, () => resolve());
      } finally {
        process.umask(old);
      }
    });
  }

  close(): void {
    this.server?.close();
  }

  private serveCall(sock: net.Socket): void {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', () => undefined);
    sock.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > 1 << 20) sock.destroy();
        return;
      }
      let req: { op?: unknown; container?: unknown; ports?: unknown };
      try {
        req = JSON.parse(buf.slice(0, nl)) as typeof req;
      } catch {
        sock.end(JSON.stringify({ error: 'invalid request' }) + '\n');
        return;
      }
      buf = '';
      const op = req.op === 'publish' || req.op === 'unpublish' ? req.op : undefined;
      if (!op || !Array.isArray(req.ports)) {
        sock.end(JSON.stringify({ error: 'invalid request' }) + '\n');
        return;
      }
      void this.ask(op, String(req.container ?? ''), req.ports as LinePort[]).then((r) => sock.end(JSON.stringify({ ok: !r.unavailable && !r.error, ...(r.unavailable ? { unavailable: r.unavailable } : {}), ...(r.error ? { error: r.error } : {}) }) + '\n'));
    });
  }

  /** Passes a call to the host; answers yes when no host is on the line or it does not answer in time. */
  ask(op: PortLineRequest['op'], container: string, ports: LinePort[]): Promise<PortLineReply> {
    const line = this.line;
    const id = ++this.seq;
    if (!line || line.destroyed) {
      this.log(`ports: no host on the ports line; ${op} of ${ports.map((p) => `${p.hostIp}:${p.hostPort}/${p.proto}`).join(' ')} accepted (the host reconciles)`);
      return Promise.resolve({ id });
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.log(`ports: the host did not answer ${op} within ${this.timeoutMs} ms; it reconciles later`);
        resolve({ id });
      }, this.timeoutMs);
      this.pending.set(id, { resolve, timer });
      line.write(JSON.stringify({ id, op, container, ports } satisfies PortLineRequest) + '\n');
    });
  }

  /** The host opened the ports line (a new channel replaces the old line). */
  attachHost(stream: http2.ServerHttp2Stream): void {
    this.detach();
    this.line = stream;
    stream.on('error', () => undefined);
    stream.respond({ ':status': 200 });
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const text = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        let reply: PortLineReply;
        try {
          reply = JSON.parse(text) as PortLineReply;
        } catch {
          continue;
        }
        const p = this.pending.get(reply.id);
        if (!p) continue;
        this.pending.delete(reply.id);
        clearTimeout(p.timer);
        p.resolve(reply);
      }
    });
    stream.once('close', () => {
      if (this.line === stream) this.detach();
    });
  }

  private detach(): void {
    const old = this.line;
    this.line = undefined;
    if (old && !old.destroyed) old.close();
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.resolve({ id });
    }
    this.pending.clear();
  }
}
