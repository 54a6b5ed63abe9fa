/**
 * IPv6 address and subnet arithmetic (addresses as 128-bit bigints), for dual-stack bridge
 * networks (`--ipv6 --subnet fd00::/64`). Formatting follows RFC 5952 (what dockerd prints).
 */
import { isIPv6 } from 'node:net';
import { InvalidParameterError } from '../errdefs.js';

export interface Subnet6 {
  base: bigint;
  prefix: number;
}

const ALL = (1n << 128n) - 1n;

export function parseIp6(s: string): bigint {
  if (!isIPv6(s)) throw new InvalidParameterError(`invalid IPv6 address: ${s}`);
  let text = s;
  // An embedded IPv4 tail (::ffff:1.2.3.4) as two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, v4.index) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16);
  }
  const [head = '', tail] = text.split('::') as [string, string | undefined];
  const hs = head ? head.split(':') : [];
  const ts = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? hs : [...hs, ...Array(8 - hs.length - ts.length).fill('0'), ...ts];
  return groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
}

export function formatIp6(n: bigint): string {
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((n >> BigInt(i * 16)) & 0xffffn));
  // The longest run of two or more zero groups becomes "::" (the first one on a tie).
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

export function mask6(prefix: number): bigint {
  return prefix === 0 ? 0n : (ALL << BigInt(128 - prefix)) & ALL;
}

/** "a::b/n": the address as given and the subnet it lies in (host bits are dropped, as dockerd 20.10 does). */
export function parseCidr6(s: string): { ip: bigint; subnet: Subnet6 } {
  const m = /^([0-9a-fA-F:.]+)\/(\d{1,3})$/.exec(s.trim());
  if (!m || !isIPv6(m[1]!) || Number(m[2]) > 128) throw new InvalidParameterError(`invalid CIDR address: ${s}`);
  const ip = parseIp6(m[1]!);
  const prefix = Number(m[2]);
  return { ip, subnet: { base: ip & mask6(prefix), prefix } };
}

export function formatSubnet6(s: Subnet6): string {
  return `${formatIp6(s.base)}/${s.prefix}`;
}

export function contains6(s: Subnet6, ip: bigint): boolean {
  return (ip & mask6(s.prefix)) === s.base;
}

export function overlaps6(a: Subnet6, b: Subnet6): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return (a.base & mask6(p)) === (b.base & mask6(p));
}

/** Leases of an IPv6 subnet (or its --ip-range): sequential from the range start, never the subnet address or the gateway. */
export class AddressPool6 {
  private readonly leased = new Set<bigint>();
  private cursor: bigint;
  private readonly range: Subnet6;

  constructor(
    readonly subnet: Subnet6,
    readonly gateway: bigint,
    range?: Subnet6,
  ) {
    this.range = range ?? subnet;
    this.cursor = this.range.base;
  }

  claim(ip: bigint): void {
    if (!contains6(this.subnet, ip)) throw new InvalidParameterError(`no configured subnet contains IP address ${formatIp6(ip)}`);
    if (ip === this.subnet.base || ip === this.gateway || this.leased.has(ip)) throw new InvalidParameterError('Address already in use');
    this.leased.add(ip);
  }

  allocate(): bigint {
    const size = 1n << BigInt(128 - this.range.prefix);
    // Bounded: a pool this daemon fills would have millions of containers first.
    for (let i = 1n; i <= size && i <= 1_000_000n; i++) {
      const ip = this.range.base + ((this.cursor - this.range.base + i) % size);
      if (ip === this.subnet.base || ip === this.gateway || this.leased.has(ip)) continue;
      this.leased.add(ip);
      this.cursor = ip;
      return ip;
    }
    throw new InvalidParameterError(`no available IPv6 addresses on this network's address pools: ${formatSubnet6(this.subnet)}`);
  }

  release(ip: bigint): void {
    this.leased.delete(ip);
  }
}
