/**
 * Network namespaces and links: namespaces berthd makes itself and bind-mounts
 * under <exec-root>/netns (so a container's network is plumbed while runc
 * creates the container, not after), bridges on the host, and veth pairs
 * whose container end is created straight inside a namespace, through
 * iproute2. Commands are batched (`ip -batch`): two short processes per endpoint.
 */
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { run } from '../system/command.js';
import { MNT_DETACH, SyscallError, sysCreateNetns, sysUnmount } from '../system/syscalls.js';
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

/** Gives a bridge its IPv6 gateway address too (dual-stack networks); without DAD, so it is usable at once. */
export async function ensureBridgeV6(name: string, gateway: string, prefix: number): Promise<void> {
  writeSysctl(`net.ipv6.conf.${name}.disable_ipv6`, '0');
  const addrs = await run('ip', ['-j', '-6', 'addr', 'show', 'dev', name, 'scope', 'global']);
  const current = (JSON.parse(addrs.stdout || '[]') as Array<{ addr_info?: Array<{ local: string; prefixlen: number }> }>).flatMap((l) => l.addr_info ?? []);
  const cidr = `${gateway}/${prefix}`;
  const batch: string[] = [];
  for (const a of current) if (`${a.local}/${a.prefixlen}` !== cidr) batch.push(`addr del ${a.local}/${a.prefixlen} dev ${name}`);
  if (!current.some((a) => `${a.local}/${a.prefixlen}` === cidr)) batch.push(`addr add ${cidr} dev ${name} nodad`);
  await ipBatch(batch);
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

async function ipBatch(lines: string[], netns?: string): Promise<void> {
  if (lines.length === 0) return;
  const input = lines.join('\n') + '\n';
  if (netns === undefined) await run('ip', ['-batch', '-'], { input });
  else await run('nsenter', [`--net=${netns}`, 'ip', '-batch', '-'], { input });
}

/** Creates a network namespace bind-mounted on `file` (its loopback still down). */
export async function createNetns(file: string): Promise<void> {
  fs.writeFileSync(file, '', { mode: 0o444 });
  try {
    if (!(await sysCreateNetns(file))) await run('unshare', [`--net=${file}`, 'true']);
  } catch (err) {
    fs.rmSync(file, { force: true });
    throw err;
  }
}

/** Drops our hold on a namespace (the kernel frees it, and its veth ends, once no process is in it). */
export async function removeNetns(file: string): Promise<void> {
  try {
    if (!(await sysUnmount(file, MNT_DETACH))) await run('umount', ['-l', file]);
  } catch (err) {
    // EINVAL: not mounted (a start that failed half-way); ENOENT: gone already.
    if (!(err instanceof SyscallError && (err.errno === 22 || err.errno === 2)) && fs.existsSync(file)) throw err;
  }
  fs.rmSync(file, { force: true });
}

export interface EndpointPlumbing {
  /** The namespace: a bind-mounted file or /proc/<pid>/ns/net. */
  netns: string;
  hostIf: string;
  ifName: string;
  bridge: string;
  ip: number;
  subnet: Subnet;
  mac: string;
  /** Default route through this gateway (omitted on internal networks). */
  gateway?: number;
  /** The IPv6 address of a dual-stack endpoint, and its default route. */
  ip6?: { address: string; prefix: number; gateway?: string };
  /** Bring up the namespace's loopback (first interface only). */
  setupLoopback: boolean;
}

/**
 * Creates a veth pair with one end inside the container's netns, plugs the other into the bridge,
 * and configures the inside: one forked process (forking the daemon costs ~3 ms of event loop),
 * whose shell runs both `ip -batch`es — the host's, then the namespace's through nsenter.
 */
export async function plumbEndpoint(p: EndpointPlumbing): Promise<void> {
  const host = [
    `link add name ${p.hostIf} type veth peer name ${p.ifName} address ${p.mac} netns ${p.netns}`,
    `link set dev ${p.hostIf} master ${p.bridge}`,
    // Hairpin: a container reaching its own published port through the host comes back on the same port.
    `link set dev ${p.hostIf} type bridge_slave hairpin on`,
    `link set dev ${p.hostIf} up`,
  ];
  const inside: string[] = [];
  if (p.setupLoopback) inside.push('link set dev lo up');
  inside.push(`addr add ${formatIp(p.ip)}/${p.subnet.prefix} dev ${p.ifName}`, `link set dev ${p.ifName} up`);
  if (p.gateway !== undefined) inside.push(`route add default via ${formatIp(p.gateway)} dev ${p.ifName}`);
  if (p.ip6) {
    inside.push(`addr add ${p.ip6.address}/${p.ip6.prefix} dev ${p.ifName} nodad`);
    if (p.ip6.gateway !== undefined) inside.push(`route add default via ${p.ip6.gateway} dev ${p.ifName}`);
  }
  // Quoted here-documents: nothing in the batches is expanded; the namespace path is an argument.
  const script = `ip -batch - <<'HOST'\n${host.join('\n')}\nHOST\nnsenter --net="$1" ip -batch - <<'INSIDE'\n${inside.join('\n')}\nINSIDE\n`;
  try {
    await run('sh', ['-ec', script, 'plumb', p.netns]);
  } catch (err) {
    await deleteLink(p.hostIf).catch(() => undefined);
    throw err;
  }
}
