/**
 * Links and addresses through iproute2: bridges on the host, veth pairs
 * whose container end is created straight inside the container's network
 * namespace (/proc/<pid>/ns/net, which exists between `runc create` and
 * `runc start`). Commands are batched (`ip -batch`) to keep a container
 * start to two short processes.
 */
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { run } from '../system/command.js';
import { formatIp, parseCidr, type Subnet } from './ipnet.js';

export interface LinkInfo {
  ifname: string;
  master?: string;
  link_type?: string;
  linkinfo?: { info_kind?: string };
  operstate?: string;
}

export async function listLinks(): Promise<LinkInfo[]> {
  const r = await run('ip', ['-d', '-j', 'link', 'show']);
  return JSON.parse(r.stdout || '[]') as LinkInfo[];
}

export async function linkExists(name: string): Promise<boolean> {
  return fs.existsSync(`/sys/class/net/${name}`);
}

/** IPv4 routes of the host (to avoid choosing a subnet the host already uses). */
export async function hostRoutes(): Promise<Array<{ subnet: Subnet; dev: string }>> {
  const r = await run('ip', ['-j', '-4', 'route', 'show', 'table', 'all']).catch(() => ({ stdout: '[]' }));
  const out: Array<{ subnet: Subnet; dev: string }> = [];
  for (const route of JSON.parse(r.stdout || '[]') as Array<{ dst?: string; type?: string; dev?: string }>) {
    if (!route.dst || route.dst === 'default' || route.type === 'local' || route.type === 'broadcast') continue;
    if (route.dev === 'lo') continue;
    try {
      out.push({ subnet: parseCidr(route.dst.includes('/') ? route.dst : `${route.dst}/32`).subnet, dev: route.dev ?? '' });
    } catch {
      /* not IPv4 */
    }
  }
  return out;
}

export function writeSysctl(key: string, value: string): void {
  try {
    fs.writeFileSync(`/proc/sys/${key.replace(/\./g, '/')}`, value);
  } catch {
    /* read-only /proc/sys (nested container): best effort */
  }
}

function readSysctl(key: string): string {
  try {
    return fs.readFileSync(`/proc/sys/${key.replace(/\./g, '/')}`, 'utf8').trim();
  } catch {
    return '';
  }
}

/**
 * Creates the bridge if needed and gives it its gateway address. Loopback
 * traffic is DNAT'ed onto it (published ports on 127.0.0.1), which the
 * kernel only routes with route_localnet.
 */
export async function ensureBridge(name: string, gateway: number, subnet: Subnet): Promise<void> {
  if (!(await linkExists(name))) {
    await run('ip', ['link', 'add', 'name', name, 'type', 'bridge']).catch(async (err) => {
      if (!(await linkExists(name))) throw err;
    });
  }
  const addrs = await run('ip', ['-j', '-4', 'addr', 'show', 'dev', name]);
  const cidr = `${formatIp(gateway)}/${subnet.prefix}`;
  const current = (JSON.parse(addrs.stdout || '[]') as Array<{ addr_info?: Array<{ local: string; prefixlen: number }> }>).flatMap((l) => l.addr_info ?? []);
  const batch: string[] = [];
  // A bridge without a MAC of its own takes its lowest port's, so it would change as containers come and
  // go, leaving every container with a stale ARP entry for its gateway (seconds of lost traffic and DNS).
  if (readOr(`/sys/class/net/${name}/addr_assign_type`, '') !== '3') batch.push(`link set dev ${name} address ${bridgeMac(name)}`);
  for (const a of current) if (`${a.local}/${a.prefixlen}` !== cidr) batch.push(`addr del ${a.local}/${a.prefixlen} dev ${name}`);
  if (!current.some((a) => `${a.local}/${a.prefixlen}` === cidr)) batch.push(`addr add ${cidr} dev ${name}`);
  batch.push(`link set dev ${name} up`);
  await ipBatch(batch);
  writeSysctl(`net.ipv4.conf.${name}.route_localnet`, '1');
  // The bridge never carries IPv6 for berthd; no SLAAC or DAD noise on it.
  writeSysctl(`net.ipv6.conf.${name}.disable_ipv6`, '1');
}

/** A stable, locally administered MAC for a bridge, derived from its name. */
export function bridgeMac(name: string): string {
  const h = createHash('sha256').update(`berth-bridge:${name}`).digest();
  return ['02', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

function readOr(file: string, fallback: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return fallback;
  }
}

export async function deleteLink(name: string): Promise<void> {
  if (!(await linkExists(name))) return;
  await run('ip', ['link', 'del', 'dev', name]).catch(async (err) => {
    if (await linkExists(name)) throw err;
  });
}

export function ensureIpForward(): void {
  if (readSysctl('net.ipv4.ip_forward') !== '1') writeSysctl('net.ipv4.ip_forward', '1');
}

async function ipBatch(lines: string[], netnsOfPid?: number): Promise<void> {
  if (lines.length === 0) return;
  const input = lines.join('\n') + '\n';
  if (netnsOfPid === undefined) await run('ip', ['-batch', '-'], { input });
  else await run('nsenter', [`--net=/proc/${netnsOfPid}/ns/net`, 'ip', '-batch', '-'], { input });
}

export interface EndpointPlumbing {
  pid: number;
  hostIf: string;
  ifName: string;
  bridge: string;
  ip: number;
  subnet: Subnet;
  mac: string;
  /** Default route through this gateway (omitted on internal networks). */
  gateway?: number;
  /** Bring up the namespace's loopback (first interface only). */
  setupLoopback: boolean;
}

/** Creates a veth pair with one end inside the container's netns and plugs the other into the bridge. */
export async function plumbEndpoint(p: EndpointPlumbing): Promise<void> {
  await ipBatch([
    `link add name ${p.hostIf} type veth peer name ${p.ifName} address ${p.mac} netns ${p.pid}`,
    `link set dev ${p.hostIf} master ${p.bridge}`,
    // Hairpin: a container reaching its own published port through the host comes back on the same port.
    `link set dev ${p.hostIf} type bridge_slave hairpin on`,
    `link set dev ${p.hostIf} up`,
  ]);
  try {
    const inside: string[] = [];
    if (p.setupLoopback) inside.push('link set dev lo up');
    inside.push(`addr add ${formatIp(p.ip)}/${p.subnet.prefix} dev ${p.ifName}`, `link set dev ${p.ifName} up`);
    if (p.gateway !== undefined) inside.push(`route add default via ${formatIp(p.gateway)} dev ${p.ifName}`);
    await ipBatch(inside, p.pid);
  } catch (err) {
    await deleteLink(p.hostIf).catch(() => undefined);
    throw err;
  }
}

/** Removes the container end of an endpoint from a running container (disconnect). */
export async function unplugEndpoint(pid: number, ifName: string, hostIf: string): Promise<void> {
  if (pid > 0) await ipBatch([`link del dev ${ifName}`], pid).catch(() => undefined);
  await deleteLink(hostIf);
}
