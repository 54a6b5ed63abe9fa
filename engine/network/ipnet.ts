/**
 * IPv4 address and subnet arithmetic (addresses as unsigned 32-bit numbers),
 * with the parsing errors Docker reports for bad --subnet/--ip/--bip values.
 */
import { isIPv4 } from 'node:net';
import { InvalidParameterError } from '../errdefs.js';

export interface Subnet {
  /** Network address. */
  base: number;
  prefix: number;
}

export function parseIp(s: string): number {
  if (!isIPv4(s)) throw new InvalidParameterError(`invalid IP address: ${s}`);
  return s.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses "a.b.c.d/n"; returns the address as given and the subnet it lies in. */
export function parseCidr(s: string): { ip: number; subnet: Subnet } {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(s.trim());
  if (!m || !isIPv4(m[1]!) || Number(m[2]) > 32) throw new InvalidParameterError(`invalid CIDR address: ${s}`);
  const ip = parseIp(m[1]!);
  const prefix = Number(m[2]);
  return { ip, subnet: { base: (ip & maskOf(prefix)) >>> 0, prefix } };
}

export function formatSubnet(s: Subnet): string {
  return `${formatIp(s.base)}/${s.prefix}`;
}

export function subnetSize(s: Subnet): number {
  return 2 ** (32 - s.prefix);
}

export function contains(s: Subnet, ip: number): boolean {
  return ((ip & maskOf(s.prefix)) >>> 0) === s.base;
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.base & maskOf(p)) >>> 0) === ((b.base & maskOf(p)) >>> 0);
}

/** The broadcast address of a subnet. */
export function lastAddress(s: Subnet): number {
  return (s.base + subnetSize(s) - 1) >>> 0;
}

/** Docker-style MAC for an IPv4 address: 02:42 followed by the address bytes. */
export function macFor(ip: number): string {
  const b = [0x02, 0x42, ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255];
  return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
}
