/**
 * Published ports: which host ports a container asks for (PortBindings,
 * -P over the exposed ports, host port ranges), and holding them. A host
 * port is reserved by binding a socket to it inside berthd — that detects a
 * port already taken and keeps other programs off it — while the traffic
 * itself is DNAT'ed by the kernel and never reaches that socket. No process
 * per port.
 */
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import { InvalidParameterError } from '../errdefs.js';
import type { PortBinding, PortMap } from '../api/types.js';

export type Proto = 'tcp' | 'udp';

export interface PortRequest {
  proto: Proto;
  containerPort: number;
  hostIp: string;
  /** 0 = any ephemeral port. */
  hostPortStart: number;
  hostPortEnd: number;
  /** The implicit "::" sibling of a 0.0.0.0 request: same host port, and the VM's host already forwards both families for it. */
  twin?: boolean;
}

/** "80/tcp" → [80, 'tcp'] with Docker's validation. */
export function parsePortKey(key: string): { port: number; proto: Proto | 'sctp' } {
  const [num = '', proto = 'tcp'] = key.split('/');
  const n = Number(num);
  if (!/^\d+$/.test(num) || n < 1 || n > 65535) throw new InvalidParameterError(`invalid port specification: "${key}"`);
  if (proto !== 'tcp' && proto !== 'udp' && proto !== 'sctp') throw new InvalidParameterError(`invalid proto: ${proto}`);
  return { port: n, proto };
}

function parseHostPort(s: string): [number, number] {
  if (s === '' || s === '0') return [0, 0];
  const m = /^(\d+)(?:-(\d+))?$/.exec(s);
  if (!m) throw new InvalidParameterError(`invalid port specification: "${s}"`);
  const a = Number(m[1]);
  const b = m[2] !== undefined ? Number(m[2]) : a;
  if (a < 1 || a > 65535 || b < 1 || b > 65535) throw new InvalidParameterError(`invalid port specification: "${s}"`);
  if (b < a) throw new InvalidParameterError(`invalid port range: ${s}`);
  return [a, b];
}

/** Validates PortBindings at create time (bad host ports, IPs and protocols are 400s). */
export function validatePortBindings(bindings: PortMap | null | undefined): void {
  for (const [key, list] of Object.entries(bindings ?? {})) {
    const { proto } = parsePortKey(key);
    if (proto === 'sctp') throw new InvalidParameterError('sctp port mappings are not supported by berthd');
    for (const b of list ?? []) {
      parseHostPort(b.HostPort ?? '');
      if (b.HostIp && !net.isIPv4(b.HostIp) && !net.isIPv6(b.HostIp)) throw new InvalidParameterError(`invalid host IP address: ${b.HostIp}`);
    }
  }
}

/**
 * Whether this host can listen on IPv6 at all (moby's IsV6Listenable): a kernel booted with
 * ipv6.disable=1 has no /proc/net/if_inet6, and then no implicit "::" binding is made.
 */
export function v6Listenable(): boolean {
  return fs.existsSync('/proc/net/if_inet6');
}

/**
 * The port requests of a container: explicit bindings plus, with -P, every other exposed port.
 * As dockerd 20.10+ does, a binding without a host address is published on both wildcards,
 * 0.0.0.0 and "::" (the "::" one marked `twin`: it takes the port its IPv4 sibling got); "::"
 * or another IPv6 address publishes on IPv6 only.
 */
export function portRequests(exposed: Record<string, object> | undefined, bindings: PortMap, publishAll: boolean, v6 = v6Listenable()): PortRequest[] {
  const out: PortRequest[] = [];
  const both = (proto: Proto, port: number, start: number, end: number): void => {
    out.push({ proto, containerPort: port, hostIp: '0.0.0.0', hostPortStart: start, hostPortEnd: end });
    if (v6) out.push({ proto, containerPort: port, hostIp: '::', hostPortStart: start, hostPortEnd: end, twin: true });
  };
  const keys = new Set([...Object.keys(bindings ?? {}), ...Object.keys(exposed ?? {})]);
  for (const key of keys) {
    const { port, proto } = parsePortKey(key);
    if (proto === 'sctp') continue;
    const list = bindings?.[key] ?? [];
    for (const b of list) {
      const [start, end] = parseHostPort(b.HostPort ?? '');
      if (!b.HostIp) both(proto, port, start, end);
      else out.push({ proto, containerPort: port, hostIp: normalizeHostIp(b.HostIp), hostPortStart: start, hostPortEnd: end });
    }
    if (publishAll && list.length === 0) both(proto, port, 0, 0);
  }
  return out;
}

/** "0:0::0" → "::", as dockerd prints a parsed address. */
function normalizeHostIp(ip: string): string {
  if (!net.isIPv6(ip)) return ip;
  return new net.SocketAddress({ address: ip, family: 'ipv6' }).address;
}

export function isV6Address(ip: string): boolean {
  return net.isIPv6(ip);
}

/** The NetworkSettings.Ports map: every exposed or bound port, null when not published. */
export function portMap(exposed: Record<string, object> | undefined, bindings: PortMap, held: HeldPort[]): PortMap {
  const out: PortMap = {};
  for (const key of [...Object.keys(exposed ?? {}), ...Object.keys(bindings ?? {})]) {
    const { port, proto } = parsePortKey(key);
    out[`${port}/${proto}`] = null;
  }
  for (const h of held) {
    const key = `${h.containerPort}/${h.proto}`;
    const list: PortBinding[] = out[key] ?? [];
    list.push({ HostIp: h.hostIp, HostPort: String(h.hostPort) });
    out[key] = list;
  }
  return out;
}

export interface HeldPort {
  proto: Proto;
  hostIp: string;
  hostPort: number;
  containerPort: number;
}

interface Socketish {
  close(): void;
}

/** Where the held socket sends what reaches it (see PortReserver.forward). */
export interface ProxyTarget {
  host: string;
  port: number;
}

interface Held {
  sock: Socketish;
  target?: ProxyTarget;
}

const isV6 = (ip: string): boolean => net.isIPv6(ip);
const wildcardOf = (ip: string): string => (isV6(ip) ? '::' : '0.0.0.0');

/** Errors for a host port that cannot be had, in moby's wording. */
export class PortInUseError extends Error {}

function ephemeralRange(): [number, number] {
  try {
    const [lo, hi] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (lo && hi && lo <= hi) return [lo, hi];
  } catch {
    /* default below */
  }
  return [32768, 60999];
}

/** Holds host ports by keeping a bound socket on each. */
export class PortReserver {
  private readonly held = new Map<string, Held>();
  private cursor = 0;

  private key(proto: Proto, ip: string, port: number): string {
    return `${proto}/${ip}/${port}`;
  }

  /** Binds one port; rejects with PortInUseError when it is taken. */
  private async bindOne(proto: Proto, ip: string, port: number): Promise<void> {
    const key = this.key(proto, ip, port);
    // A port this daemon holds, or the same family's wildcard of it, is taken without asking the
    // kernel; the IPv4 and IPv6 wildcards are separate (the IPv6 socket is IPV6_V6ONLY).
    const wild = wildcardOf(ip);
    const sameFamily = (k: string): boolean => {
      const [p, addr = '', n] = [k.slice(0, k.indexOf('/')), k.slice(k.indexOf('/') + 1, k.lastIndexOf('/')), k.slice(k.lastIndexOf('/') + 1)];
      return p === proto && n === String(port) && isV6(addr) === isV6(ip);
    };
    if (this.held.has(key) || this.held.has(this.key(proto, wild, port)) || (ip === wild && [...this.held.keys()].some(sameFamily))) {
      throw new PortInUseError(`failed to bind host port ${hostPortText(ip, port, proto)}: address already in use`);
    }
    const entry: Held = { sock: { close: () => undefined } };
    entry.sock = proto === 'tcp' ? await listenTcp(ip, port, () => entry.target) : await bindUdp(ip, port);
    this.held.set(key, entry);
  }

  /**
   * What reaches a held TCP socket instead of being DNAT'ed is relayed to the container, as
   * docker-proxy does: the kernel has no IPv6 counterpart of route_localnet, so [::1]:port can only
   * be served this way, and a container without an IPv6 address is reached over IPv4 from "::".
   */
  forward(h: HeldPort, target: ProxyTarget | undefined): void {
    const e = this.held.get(this.key(h.proto, h.hostIp, h.hostPort));
    if (e) e.target = target;
  }

  /** Reserves a port for a request: the exact port, the first free one of a range, or an ephemeral one. */
  async reserve(r: PortRequest): Promise<HeldPort> {
    const ip = r.hostIp;
    if (r.hostPortStart !== 0 && r.hostPortStart === r.hostPortEnd) {
      try {
        await this.bindOne(r.proto, ip, r.hostPortStart);
      } catch (err) {
        throw asPortError(err, ip, r.hostPortStart, r.proto);
      }
      return { proto: r.proto, hostIp: ip, hostPort: r.hostPortStart, containerPort: r.containerPort };
    }
    const [lo, hi] = r.hostPortStart === 0 ? ephemeralRange() : [r.hostPortStart, r.hostPortEnd];
    const span = hi - lo + 1;
    if (this.cursor < lo || this.cursor > hi) this.cursor = lo + Math.floor(Math.random() * span);
    for (let i = 0; i < span; i++) {
      const port = lo + ((this.cursor - lo + i) % span);
      try {
        await this.bindOne(r.proto, ip, port);
        this.cursor = port + 1;
        return { proto: r.proto, hostIp: ip, hostPort: port, containerPort: r.containerPort };
      } catch (err) {
        if (!(err instanceof PortInUseError) && !isInUse(err)) throw err;
      }
    }
    throw new PortInUseError(`failed to bind host port ${hostPortText(ip, `${lo}-${hi}`, r.proto)}: all ports are allocated`);
  }

  /** Takes back a port a container held before a daemon restart. */
  async restore(h: HeldPort): Promise<void> {
    if (this.held.has(this.key(h.proto, h.hostIp, h.hostPort))) return;
    await this.bindOne(h.proto, h.hostIp, h.hostPort);
  }

  release(h: HeldPort): void {
    const key = this.key(h.proto, h.hostIp, h.hostPort);
    const e = this.held.get(key);
    if (!e) return;
    this.held.delete(key);
    try {
      e.sock.close();
    } catch {
      /* already closed */
    }
  }

  count(): number {
    return this.held.size;
  }

  closeAll(): void {
    for (const e of this.held.values()) {
      try {
        e.sock.close();
      } catch {
        /* ignore */
      }
    }
    this.held.clear();
  }
}

function isInUse(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EADDRINUSE' || code === 'EACCES';
}

/** "0.0.0.0:80/tcp", "[::]:80/tcp" (moby's wording). */
function hostPortText(ip: string, port: number | string, proto: Proto): string {
  return `${isV6(ip) ? `[${ip}]` : ip}:${port}/${proto}`;
}

function asPortError(err: unknown, ip: string, port: number, proto: Proto): Error {
  if (err instanceof PortInUseError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const where = hostPortText(ip, port, proto);
  if (code === 'EADDRINUSE') return new PortInUseError(`failed to bind host port ${where}: address already in use`);
  if (code === 'EADDRNOTAVAIL') return new PortInUseError(`failed to bind host port ${where}: cannot assign requested address`);
  return new PortInUseError(`failed to bind host port ${where}: ${(err as Error).message}`);
}

/** A connection relayed to `t`, both halves ending together. */
function relay(client: net.Socket, t: ProxyTarget): void {
  const upstream = net.connect({ host: t.host, port: t.port });
  const end = (): void => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', end);
  upstream.on('error', end);
  client.on('close', end);
  upstream.on('close', end);
  client.pipe(upstream);
  upstream.pipe(client);
}

function listenTcp(host: string, port: number, target: () => ProxyTarget | undefined): Promise<Socketish> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer((s) => {
      const t = target();
      if (t) relay(s, t);
      else s.destroy();
    });
    srv.once('error', reject);
    // ipv6Only: "::" must not take the IPv4 wildcard too, which its 0.0.0.0 sibling holds.
    srv.listen({ host, port, exclusive: true, backlog: 511, ipv6Only: isV6(host) }, () => {
      srv.off('error', reject);
      srv.on('error', () => undefined);
      srv.unref();
      resolve({ close: () => srv.close() });
    });
  });
}

function bindUdp(host: string, port: number): Promise<Socketish> {
  return new Promise((resolve, reject) => {
    const s = isV6(host) ? dgram.createSocket({ type: 'udp6', ipv6Only: true }) : dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind({ address: host, port, exclusive: true }, () => {
      s.off('error', reject);
      s.on('error', () => undefined);
      // Datagrams are DNAT'ed before they could arrive; drop anything that does.
      s.on('message', () => undefined);
      s.unref();
      resolve({ close: () => s.close() });
    });
  });
}
