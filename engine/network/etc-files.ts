/**
 * The per-container /etc/hosts, /etc/hostname and /etc/resolv.conf that are
 * bind-mounted into the container, generated like Docker does.
 */
import fs from 'node:fs';
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

export function hostsContent(own: HostsEntry | undefined, extra: HostsEntry[]): string {
  let s = defaultHosts;
  for (const e of extra) s += `${e.ip}\t${e.names.join(' ')}\n`;
  if (own) s += `${own.ip}\t${own.names.join(' ')}\n`;
  return s;
}

/** The host's resolver config, minus loopback servers a container cannot reach. */
export function resolvConfContent(opts: { dns: string[]; search: string[]; options: string[]; hostNetwork: boolean; hostFile?: string }): string {
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
