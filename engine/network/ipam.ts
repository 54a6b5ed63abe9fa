/**
 * IP address management: one address pool per network (leases for
 * endpoints, the gateway reserved) and the daemon's default address pools
 * from which networks without --subnet get theirs.
 */
import { ConflictError, ForbiddenError, InvalidParameterError } from '../errdefs.js';
import { contains, formatIp, formatSubnet, lastAddress, overlaps, parseCidr, subnetSize, type Subnet } from './ipnet.js';

/** Leases of one network's subnet. Addresses are handed out round-robin so a freed one is not reused at once. */
export class AddressPool {
  private readonly leased = new Set<number>();
  private cursor: number;

  /** Dynamic addresses come from `range` (--ip-range) when given; --ip may use the whole subnet. */
  private readonly range: Subnet;

  constructor(
    readonly subnet: Subnet,
    readonly gateway: number,
    range?: Subnet,
  ) {
    this.range = range ?? subnet;
    this.cursor = contains(this.range, gateway) ? gateway : this.range.base;
  }

  /** Takes a specific address (--ip, or a lease restored after a restart). */
  claim(ip: number): void {
    if (!contains(this.subnet, ip)) throw new InvalidParameterError(`no configured subnet contains IP address ${formatIp(ip)}`);
    if (ip === this.subnet.base || ip === lastAddress(this.subnet) || ip === this.gateway || this.leased.has(ip)) {
      throw new ForbiddenError('Address already in use');
    }
    this.leased.add(ip);
  }

  allocate(): number {
    const r = this.range;
    const size = subnetSize(r);
    for (let i = 1; i <= size; i++) {
      const offset = (this.cursor - r.base + i) % size;
      const ip = (r.base + offset) >>> 0;
      if (ip === this.subnet.base || ip === lastAddress(this.subnet) || ip === this.gateway || this.leased.has(ip)) continue;
      this.leased.add(ip);
      this.cursor = ip;
      return ip;
    }
    throw new ConflictError(`no available IPv4 addresses on this network's address pools: ${formatSubnet(this.subnet)}${r !== this.subnet ? ` (range ${formatSubnet(r)})` : ''}`);
  }

  release(ip: number): void {
    this.leased.delete(ip);
  }

  inUse(): number {
    return this.leased.size;
  }
}

export interface PoolConfig {
  base: string;
  size: number;
}

/** Picks a free subnet for a new network from the daemon's default-address-pools. */
export function pickSubnet(pools: readonly PoolConfig[], taken: readonly Subnet[], hostRoutes: readonly Subnet[]): Subnet {
  for (const p of pools) {
    const { subnet: base } = parseCidr(p.base);
    if (p.size < base.prefix) continue;
    const step = subnetSize({ base: 0, prefix: p.size });
    const count = subnetSize(base) / step;
    for (let i = 0; i < count; i++) {
      const candidate: Subnet = { base: (base.base + i * step) >>> 0, prefix: p.size };
      if (taken.some((t) => overlaps(t, candidate))) continue;
      // Never shadow a network the host already routes (another engine's bridge, the LAN).
      if (hostRoutes.some((r) => overlaps(r, candidate))) continue;
      return candidate;
    }
  }
  throw new InvalidParameterError('all predefined address pools have been fully subnetted');
}
