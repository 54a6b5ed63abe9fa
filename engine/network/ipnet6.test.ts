import { describe, expect, it } from 'vitest';
import { AddressPool6, contains6, formatIp6, overlaps6, parseCidr6, parseIp6 } from './ipnet6.js';

describe('ipnet6', () => {
  it('parses and formats as RFC 5952', () => {
    for (const [inp, out] of [
      ['fd00::1', 'fd00::1'],
      ['2001:0389:0000:0000:0000:0000:0000:f00d', '2001:389::f00d'],
      ['::', '::'],
      ['::1', '::1'],
      ['1:0:0:2:0:0:0:3', '1:0:0:2::3'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['::ffff:10.0.0.1', '::ffff:a00:1'],
    ]) expect(formatIp6(parseIp6(inp!))).toBe(out);
    expect(() => parseIp6('fd00::g')).toThrow('invalid IPv6 address');
  });
  it('subnets: host bits dropped, containment, overlap', () => {
    const { ip, subnet } = parseCidr6('2001:389::1/64');
    expect(formatIp6(ip)).toBe('2001:389::1');
    expect(formatIp6(subnet.base)).toBe('2001:389::');
    expect(contains6(subnet, parseIp6('2001:389::f00d'))).toBe(true);
    expect(contains6(subnet, parseIp6('2001:38a::1'))).toBe(false);
    expect(overlaps6(subnet, parseCidr6('2001:389::/96').subnet)).toBe(true);
    expect(overlaps6(subnet, parseCidr6('fd00::/64').subnet)).toBe(false);
  });
  it('leases skip the subnet address and the gateway, honour claims and the range', () => {
    const { subnet } = parseCidr6('fd00::/64');
    const pool = new AddressPool6(subnet, parseIp6('fd00::1'));
    expect(formatIp6(pool.allocate())).toBe('fd00::2');
    pool.claim(parseIp6('fd00::3'));
    expect(formatIp6(pool.allocate())).toBe('fd00::4');
    expect(() => pool.claim(parseIp6('fd00::1'))).toThrow('Address already in use');
    const ranged = new AddressPool6(subnet, parseIp6('fd00::ffff'), parseCidr6('fd00::1:0/112').subnet);
    expect(formatIp6(ranged.allocate())).toBe('fd00::1:1');
  });
});
