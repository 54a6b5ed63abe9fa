/**
 * Keeps the host's listeners (port-forward.ts) following the engine in the VM. Two paths:
 * - the ports line: a stream the host opens on the agent channel, on which the guest agent passes
 *   berthd's port-publishing hook (publish before a container starts, unpublish when its ports are
 *   given back); the host's answer decides the start, so a taken port fails `docker run`.
 * - reconciling from the engine's own state (GET /containers/json): when the VM becomes ready
 *   (a restart brought containers back), when the line is reopened, after the host resumes from
 *   sleep, and every `intervalMs` — so nothing depends on having heard every event.
 * It stops (every listener closed) when the VM leaves `running`.
 */
import type http2 from 'node:http2';
import { CoalescedRun } from '../../engine/concurrency/coalesced-run.js';
import { GUEST_ENGINE_SOCKET, ROUTES, type PortLineReply, type PortLineRequest } from '../channel/protocol.js';
import type { AgentChannel } from './agent-channel.js';
import { detectJump } from './guest-sync.js';
import { PortUnavailableError, type ForwardedPort, type HostPortForwarder } from './port-forward.js';

/** What the engine lists (the fields of /containers/json this needs). */
export interface ContainerSummary {
  Id: string;
  Ports?: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }>;
}

/** The published ports of the engine's running containers. */
export function publishedPorts(list: ContainerSummary[]): ForwardedPort[] {
  const out: ForwardedPort[] = [];
  for (const c of list) {
    const ports = c.Ports ?? [];
    for (const p of ports) {
      if (!p.PublicPort || (p.Type !== 'tcp' && p.Type !== 'udp')) continue;
      // The "::" twin of a 0.0.0.0 port (dockerd 20.10+ publishes both) is covered by that port's forward, which listens on both families.
      if (p.IP === '::' && ports.some((q) => q.IP === '0.0.0.0' && q.Type === p.Type && q.PublicPort === p.PublicPort)) continue;
      out.push({ proto: p.Type, hostIp: p.IP || '0.0.0.0', hostPort: p.PublicPort, container: c.Id });
    }
  }
  return out;
}

/** GET an engine path through a tunnel to berthd's socket (HTTP/1.0: one response, then close). */
export function engineGet(ch: AgentChannel, path: string, timeoutMs = 15_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const s = ch.openTunnel({ kind: 'unix', path: GUEST_ENGINE_SOCKET });
    const chunks: Buffer[] = [];
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`the engine did not answer ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', (err) => {
      clearTimeout(t);
      reject(err);
    });
    s.on('end', () => {
      clearTimeout(t);
      const text = Buffer.concat(chunks).toString('utf8');
      const at = text.indexOf('\r\n\r\n');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (at < 0 || !m) return reject(new Error(`no HTTP response from the engine for ${path}`));
      resolve({ status: Number(m[1]), body: text.slice(at + 4) });
    });
    s.end(`GET ${path} HTTP/1.0\r\nHost: berth\r\n\r\n`);
  });
}

export interface PortForwardSyncOptions {
  channel: () => AgentChannel | undefined;
  forwarder: HostPortForwarder;
  log: (m: string) => void;
  /** The engine's running containers (default: /containers/json through the channel). */
  listContainers?: (ch: AgentChannel) => Promise<ContainerSummary[]>;
  intervalMs?: number;
  now?: () => number;
}

export class PortForwardSync {
  private ch: AgentChannel | undefined;
  private line: http2.ClientHttp2Stream | undefined;
  private timers: NodeJS.Timeout[] = [];
  private readonly reconciling = new CoalescedRun(() => this.reconcileOnce(this.why));
  /** The latest reason asked for, for the log line. */
  private why = '';
  private readonly now: () => number;

  constructor(private readonly o: PortForwardSyncOptions) {
    // Monotonic: these are durations and an order of events, which a wall-clock step (sleep, NTP) must not bend.
    this.now = o.now ?? (() => performance.now());
  }

  get running(): boolean {
    return this.ch !== undefined;
  }

  /** The VM is running: open the ports line and reconcile. Idempotent for the same channel. */
  start(): void {
    const ch = this.o.channel();
    if (!ch || ch === this.ch) return;
    this.stop();
    this.ch = ch;
    this.openLine(ch);
    void this.reconcile('the VM is ready');
    let wall = Date.now();
    let mono = performance.now();
    this.timers.push(
      setInterval(() => {
        const w = Date.now();
        const m = performance.now();
        if (detectJump(wall, mono, w, m)) void this.reconcile('the host resumed from sleep');
        wall = w;
        mono = m;
      }, 2000),
      setInterval(() => void this.reconcile('periodic check'), this.o.intervalMs ?? 30_000),
    );
    for (const t of this.timers) t.unref();
  }

  /** The VM is not running: every host listener goes (its containers are gone with it). */
  stop(): void {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    const line = this.line;
    this.line = undefined;
    this.ch = undefined;
    if (line && !line.destroyed) line.close();
    this.o.forwarder.closeAll();
  }

  private openLine(ch: AgentChannel): void {
    const line = ch.stream(ROUTES.ports, {});
    this.line = line;
    let buf = '';
    line.setEncoding('utf8');
    line.on('response', (h) => {
      if (h[':status'] !== 200) this.o.log(`ports: the guest agent refused the ports line (${String(h[':status'])})`);
    });
    line.on('data', (d: string) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const text = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          void this.handle(line, JSON.parse(text) as PortLineRequest);
        } catch {
          this.o.log('ports: an unreadable request on the ports line');
        }
      }
    });
    line.on('error', () => undefined);
    line.once('close', () => {
      if (this.line !== line) return;
      this.line = undefined;
      // The guest agent restarted or the stream was reset: reopen while the VM runs, and catch up.
      const t = setTimeout(() => {
        if (this.ch === ch && !ch.isClosed) {
          this.openLine(ch);
          void this.reconcile('the ports line was reopened');
        }
      }, 1000);
      t.unref();
    });
  }

  private async handle(line: http2.ClientHttp2Stream, req: PortLineRequest): Promise<void> {
    const reply: PortLineReply = { id: req.id };
    try {
      if (req.op === 'publish') await this.o.forwarder.publish(req.container, req.ports);
      else this.o.forwarder.unpublish(req.container, req.ports);
    } catch (err) {
      if (err instanceof PortUnavailableError) reply.unavailable = err.message;
      else reply.error = (err as Error).message;
    }
    if (!line.destroyed) line.write(JSON.stringify(reply) + '\n');
  }

  /** One reconcile at a time; a request during one runs once more after it. */
  reconcile(why: string): Promise<void> {
    this.why = why;
    return this.reconciling.run();
  }

  private async reconcileOnce(why: string): Promise<void> {
    const ch = this.ch;
    if (!ch) return;
    const asOf = this.now();
    let list: ContainerSummary[];
    try {
      list = this.o.listContainers ? await this.o.listContainers(ch) : await listRunning(ch);
    } catch (err) {
      this.o.log(`ports: could not list the engine's containers (${why}): ${(err as Error).message}`);
      return;
    }
    if (this.ch !== ch) return;
    const r = await this.o.forwarder.reconcile(publishedPorts(list), asOf);
    if (r.opened.length || r.closed.length || r.failed.length) this.o.log(`ports: reconciled (${why}): opened ${r.opened.join(' ') || '-'}, closed ${r.closed.join(' ') || '-'}, failed ${r.failed.join(' ') || '-'}`);
  }
}

async function listRunning(ch: AgentChannel): Promise<ContainerSummary[]> {
  const r = await engineGet(ch, '/containers/json');
  if (r.status !== 200) throw new Error(`GET /containers/json: ${r.status} ${r.body.slice(0, 200)}`);
  return JSON.parse(r.body) as ContainerSummary[];
}
