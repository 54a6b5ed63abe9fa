/**
 * Published ports on the host: the one owner of the host listeners for containers in the VM. A
 * TCP port is a listener whose every connection becomes a tunnel over the agent channel to the
 * same port in the guest (berthd's DNAT there takes it to the container); a UDP port is a socket
 * whose every client address becomes a datagram stream (one flow, closed when idle).
 *
 * Addresses follow the container's `-p`, as Docker Desktop does: 0.0.0.0 listens on the host's
 * 0.0.0.0 (and [::]), 127.0.0.1 on the loopback only (127.0.0.1 and [::1], so `localhost` works
 * whichever family it resolves to). The IPv6 twin is best effort (a host without IPv6 still works).
 * Binding the IPv4 address is what decides: its error is the user's answer, in Docker Desktop's words.
 */
import dgram from 'node:dgram';
import http2 from 'node:http2';
import net from 'node:net';
import { FrameDecoder, encodeFrame } from '../channel/datagram-frames.js';
import { HEADERS, ROUTES, formatTarget, type LinePort, type Target } from '../channel/protocol.js';
import { joinStreams } from '../channel/tunnel.js';
import type { AgentChannel } from './agent-channel.js';

export interface ForwardedPort {
  proto: 'tcp' | 'udp';
  hostIp: string;
  hostPort: number;
  /** The container that published it (for logs and ownership). */
  container: string;
}

/** The host refused a port: the message is Docker Desktop's, for the user. */
export class PortUnavailableError extends Error {}

export function portKey(p: { proto: string; hostIp: string; hostPort: number }): string {
  return `${p.proto}/${p.hostIp}/${p.hostPort}`;
}

const hostPort = (ip: string, port: number) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

const REASONS: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied',
  EADDRNOTAVAIL: 'cannot assign requested address',
};

/** Docker Desktop's wording for a port the host cannot give (for-mac#6461). */
export function unavailableMessage(p: { proto: string; hostIp: string; hostPort: number }, err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  const reason = REASONS[code] ?? (err as Error).message;
  const addr = hostPort(p.hostIp, p.hostPort);
  return `Ports are not available: exposing port ${p.proto.toUpperCase()} ${addr} -> 0.0.0.0:0: listen ${p.proto} ${addr}: bind: ${reason}`;
}

/** The host addresses for a published address: the one asked for, plus its IPv6 twin. */
export function hostAddresses(hostIp: string): { primary: string; twin: string | undefined } {
  if (hostIp === '0.0.0.0') return { primary: '0.0.0.0', twin: '::' };
  if (hostIp === '127.0.0.1') return { primary: '127.0.0.1', twin: '::1' };
  return { primary: hostIp, twin: undefined };
}

/** Where the tunnel connects inside the guest: the published port on the guest's own address. */
export function guestTarget(p: { proto: 'tcp' | 'udp'; hostIp: string; hostPort: number }): Target {
  // A port published on "::" alone is IPv6-only in the guest too: berthd serves it on [::1].
  const host = p.hostIp === '0.0.0.0' ? '127.0.0.1' : p.hostIp === '::' ? '::1' : p.hostIp;
  return { kind: p.proto, host, port: p.hostPort };
}

interface Closer {
  close(): void;
}

interface Forward {
  port: ForwardedPort;
  closers: Closer[];
  since: number;
}

export interface ForwarderOptions {
  channel: () => AgentChannel | undefined;
  log: (m: string) => void;
  /** A UDP flow without traffic for this long is closed (conntrack's UDP stream timeout is 120 s). */
  udpIdleMs?: number;
  now?: () => number;
  /** How long a change through the hook outranks the engine's list (default 120 s: a tcg start is slow). */
  reconcileGraceMs?: number;
  /** Where in the guest a port's traffic goes (default guestTarget; tests point it elsewhere). */
  target?: (p: ForwardedPort) => Target;
}

export class HostPortForwarder {
  private readonly forwards = new Map<string, Forward>();
  /** When each key was last given back (a reconcile from an older list must not bring it back). */
  private readonly released = new Map<string, number>();
  private readonly conns = new Set<net.Socket>();
  private readonly now: () => number;

  constructor(private readonly o: ForwarderOptions) {
    // Monotonic: these are durations and an order of events, which a wall-clock step (sleep, NTP) must not bend.
    this.now = o.now ?? (() => performance.now());
  }

  list(): ForwardedPort[] {
    return [...this.forwards.values()].map((f) => ({ ...f.port }));
  }

  /** Binds every port or none: the first refusal closes what this call opened and rejects with PortUnavailableError. */
  async publish(container: string, ports: LinePort[]): Promise<void> {
    const opened: string[] = [];
    try {
      for (const lp of ports) {
        const p: ForwardedPort = { proto: lp.proto, hostIp: lp.hostIp, hostPort: lp.hostPort, container };
        const key = portKey(p);
        const had = this.forwards.get(key);
        if (had) {
          // berthd reserved it in the guest, so whoever held it here is gone (a stale entry): it is this container's now.
          had.port.container = container;
          had.since = this.now();
          continue;
        }
        await this.open(p);
        opened.push(key);
      }
    } catch (err) {
      for (const key of opened) this.closeKey(key);
      throw err;
    }
  }

  unpublish(container: string, ports: Array<Pick<LinePort, 'proto' | 'hostIp' | 'hostPort'>>): void {
    for (const p of ports) {
      const key = portKey(p);
      const f = this.forwards.get(key);
      if (f && f.port.container !== container) continue;
      this.closeKey(key);
    }
  }

  /**
   * Makes the listeners match the engine's list of published ports, taken at `asOf`. What changed
   * through publish/unpublish less than `graceMs` before that moment is left alone: a port is
   * published before its container runs (and the list shows running containers only), and given
   * back a moment before the engine records the exit; the hook keeps those in step.
   */
  async reconcile(desired: ForwardedPort[], asOf: number, graceMs = this.o.reconcileGraceMs ?? 120_000): Promise<{ opened: string[]; closed: string[]; failed: string[] }> {
    const want = new Map(desired.map((p) => [portKey(p), p]));
    const out = { opened: [] as string[], closed: [] as string[], failed: [] as string[] };
    const settled = asOf - graceMs;
    for (const [key, f] of this.forwards) {
      if (!want.has(key) && f.since < settled) {
        this.closeKey(key);
        out.closed.push(key);
      }
    }
    for (const [key, p] of want) {
      const f = this.forwards.get(key);
      if (f) {
        f.port.container = p.container;
        continue;
      }
      if ((this.released.get(key) ?? -Infinity) >= settled) continue;
      try {
        await this.open(p, asOf);
        out.opened.push(key);
      } catch (err) {
        out.failed.push(key);
        this.o.log(`ports: ${(err as Error).message} (container ${p.container.slice(0, 12)})`);
      }
    }
    for (const [key, t] of this.released) if (t < settled) this.released.delete(key);
    return out;
  }

  /** Every listener and connection closed (the VM stopped; a new run reconciles from the engine). */
  closeAll(): void {
    for (const key of [...this.forwards.keys()]) this.closeKey(key);
    for (const s of this.conns) s.destroy();
    this.conns.clear();
    this.released.clear();
  }

  private closeKey(key: string): void {
    const f = this.forwards.get(key);
    if (!f) return;
    this.forwards.delete(key);
    this.released.set(key, this.now());
    for (const c of f.closers) {
      try {
        c.close();
      } catch {
        // already closed
      }
    }
  }

  private async open(p: ForwardedPort, since = this.now()): Promise<void> {
    const { primary, twin } = hostAddresses(p.hostIp);
    const closers: Closer[] = [];
    try {
      closers.push(p.proto === 'tcp' ? await this.listenTcp(p, primary, false) : await this.bindUdp(p, primary, false));
    } catch (err) {
      throw new PortUnavailableError(unavailableMessage(p, err));
    }
    if (twin) {
      try {
        closers.push(p.proto === 'tcp' ? await this.listenTcp(p, twin, true) : await this.bindUdp(p, twin, true));
      } catch (err) {
        this.o.log(`ports: ${hostPort(twin, p.hostPort)}/${p.proto} not forwarded: ${(err as Error).message}`);
      }
    }
    this.forwards.set(portKey(p), { port: p, closers, since });
    this.released.delete(portKey(p));
  }

  private listenTcp(p: ForwardedPort, host: string, v6only: boolean): Promise<Closer> {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (sock) => this.acceptTcp(p, sock));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port: p.hostPort, exclusive: true, ...(v6only ? { ipv6Only: true } : {}) }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.o.log(`ports: listener ${hostPort(host, p.hostPort)}: ${err.message}`));
        resolve({ close: () => server.close() });
      });
    });
  }

  private acceptTcp(p: ForwardedPort, sock: net.Socket): void {
    const ch = this.o.channel();
    if (!ch) {
      sock.destroy();
      return;
    }
    sock.setNoDelay(true);
    this.conns.add(sock);
    sock.once('close', () => this.conns.delete(sock));
    const stream = ch.openTunnel((this.o.target ?? guestTarget)(p));
    stream.once('response', (h) => {
      if (h[':status'] !== 200) sock.destroy();
    });
    joinStreams(sock, stream);
    sock.resume();
  }

  private bindUdp(p: ForwardedPort, host: string, v6only: boolean): Promise<Closer> {
    const sock = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4', ...(v6only ? { ipv6Only: true } : {}) });
    const flows = new Map<string, UdpFlow>();
    return new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.bind({ address: host, port: p.hostPort, exclusive: true }, () => {
        sock.off('error', reject);
        sock.on('error', (err) => this.o.log(`ports: udp ${hostPort(host, p.hostPort)}: ${err.message}`));
        sock.on('message', (msg, rinfo) => {
          const id = `${rinfo.address}|${rinfo.port}`;
          let flow = flows.get(id);
          if (!flow || flow.closed) {
            const ch = this.o.channel();
            if (!ch) return;
            flow = new UdpFlow(ch, (this.o.target ?? guestTarget)(p), (reply) => sock.send(reply, rinfo.port, rinfo.address), this.o.udpIdleMs ?? 60_000, () => flows.delete(id));
            flows.set(id, flow);
          }
          flow.send(msg);
        });
        resolve({
          close: () => {
            for (const f of flows.values()) f.close();
            flows.clear();
            sock.close();
          },
        });
      });
    });
  }
}

/** One client address on a published UDP port: a datagram stream to the guest, ended when idle. */
class UdpFlow {
  closed = false;
  private readonly stream: http2.ClientHttp2Stream;
  private idle: NodeJS.Timeout;

  constructor(
    ch: AgentChannel,
    target: Target,
    reply: (payload: Buffer) => void,
    idleMs: number,
    private readonly onClose: () => void,
  ) {
    this.stream = ch.stream(ROUTES.datagram, { [HEADERS.target]: formatTarget(target) });
    const decoder = new FrameDecoder((payload) => {
      this.touch();
      reply(Buffer.from(payload));
    });
    this.stream.on('data', (c: Buffer) => decoder.push(c));
    this.stream.on('error', () => this.close());
    this.stream.once('close', () => this.close());
    this.idle = setTimeout(() => this.close(), idleMs);
    this.idle.unref();
  }

  private touch(): void {
    this.idle.refresh();
  }

  send(payload: Buffer): void {
    if (this.closed) return;
    this.touch();
    this.stream.write(encodeFrame(payload));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.idle);
    if (!this.stream.destroyed) this.stream.close(http2.constants.NGHTTP2_NO_ERROR);
    this.onClose();
  }
}
