/**
 * The per-container /etc/hosts, /etc/hostname and /etc/resolv.conf that are
 * bind-mounted into the container, generated like Docker does.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../storage/atomic.js';

export interface EtcFiles {
  hosts: string;
  hostname: string;
  resolvConf: string;
}

export function etcPaths(containerDir: string): EtcFiles {
  return {
    hosts: path.join(containerDir, 'hosts'),
    hostname: path.join(containerDir, 'hostname'),
    resolvConf: path.join(containerDir, 'resolv.conf'),
  };
}

const defaultHosts = `127.0.0.1\tlocalhost
::1\tlocalhost ip6-localhost ip6-loopback
fe00::0\tip6-localnet
ff00::0\tip6-mcastprefix
ff02::1\tip6-allnodes
ff02::2\tip6-allrouters
`;

export interface HostsEntry {
  ip: string;
  names: string[];
}

/** /etc/hosts as Docker writes it: defaults, --add-host entries, the container's own addresses, then legacy links. */
export function hostsContent(own: HostsEntry | HostsEntry[] | undefined, extra: HostsEntry[], links: HostsEntry[] = []): string {
  let s = defaultHosts;
  for (const e of extra) s += `${e.ip}\t${e.names.join(' ')}\n`;
  for (const e of own === undefined ? [] : Array.isArray(own) ? own : [own]) s += `${e.ip}\t${e.names.join(' ')}\n`;
  for (const e of links) s += `${e.ip}\t${e.names.join(' ')}\n`;
  return s;
}

/**
 * Rewrites a file that is bind-mounted into a running container. It must
 * keep its inode (a rename would leave the container seeing the old file),
 * so it is truncated and written in place.
 */
export async function rewriteInPlace(file: string, content: string): Promise<void> {
  await fsp.writeFile(file, content, { flag: 'w' });
}

/** The host's resolver config, minus loopback servers a container cannot reach. */
export function resolvConfContent(opts: { dns: string[]; search: string[]; options: string[]; hostNetwork: boolean; hostFile?: string; embeddedDns?: string }): string {
  let host = '';
  try {
    host = fs.readFileSync(opts.hostFile ?? '/etc/resolv.conf', 'utf8');
  } catch {
    host = '';
  }
  if (opts.hostNetwork && opts.dns.length === 0 && opts.search.length === 0 && opts.options.length === 0) return host;
  const lines = host.split('\n');
  let servers = lines.filter((l) => /^\s*nameserver\s/.test(l)).map((l) => l.trim().split(/\s+/)[1]!);
  let search = lines.filter((l) => /^\s*(search|domain)\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  let options = lines.filter((l) => /^\s*options\s/.test(l)).flatMap((l) => l.trim().split(/\s+/).slice(1));
  if (!opts.hostNetwork) servers = servers.filter((s) => !/^127\./.test(s) && s !== '::1');
  if (opts.dns.length > 0) servers = opts.dns;
  if (opts.search.length > 0) search = opts.search;
  if (opts.options.length > 0) options = opts.options;
  if (opts.embeddedDns) {
    // User-defined networks: the network's own DNS server answers container names and forwards the rest.
    servers = [opts.embeddedDns];
    if (opts.options.length === 0) options = ['ndots:0', ...options.filter((o) => !o.startsWith('ndots:'))];
  }
  // Docker falls back to public resolvers when the host has only local ones.
  if (servers.length === 0) servers = ['8.8.8.8', '8.8.4.4'];
  let out = '';
  if (search.length > 0 && !(search.length === 1 && search[0] === '.')) out += `search ${search.join(' ')}\n`;
  for (const s of servers) out += `nameserver ${s}\n`;
  if (options.length > 0) out += `options ${options.join(' ')}\n`;
  return out;
}

export async function writeEtcFiles(files: EtcFiles, content: { hosts: string; hostname: string; resolvConf: string }): Promise<void> {
  await Promise.all([
    writeFileAtomic(files.hosts, content.hosts, { mode: 0o644, durable: false }),
    writeFileAtomic(files.hostname, content.hostname, { mode: 0o644, durable: false }),
    writeFileAtomic(files.resolvConf, content.resolvConf, { mode: 0o644, durable: false }),
  ]);
}

/** The host's nameservers (loopback ones included: berthd's DNS forwarder runs on the host). */
export function hostNameservers(file = '/etc/resolv.conf'): string[] {
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => /^\s*nameserver\s/.test(l))
    .map((l) => l.trim().split(/\s+/)[1]!)
    .filter(Boolean);
}
