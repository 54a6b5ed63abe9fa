import { describe, expect, it } from 'vitest';
import { AddressPool, pickSubnet } from './ipam.js';
import { formatIp, parseCidr, parseIp } from './ipnet.js';
import { answerLocally, parseQuestion, type DnsBackend } from './dns.js';
import { linkEnv, parseLink } from './links.js';
import net from 'node:net';
import { PortReserver, portMap, portRequests, validatePortBindings } from './ports.js';
import { chainNames, jumps, renderRules } from './firewall.js';
import { announcedPorts } from './sandbox.js';
import { hostsContent, resolvConfContent } from './etc-files.js';
import { parseExtraHost } from './sandbox.js';

describe('ipam', () => {
  it('leases round-robin, skipping network, broadcast and gateway, and refuses taken addresses', () => {
    const { subnet } = parseCidr('10.0.0.0/29');
    const pool = new AddressPool(subnet, parseIp('10.0.0.1'));
    const got = [pool.allocate(), pool.allocate(), pool.allocate(), pool.allocate(), pool.allocate()].map(formatIp);
    expect(got).toEqual(['10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
    expect(() => pool.allocate()).toThrow(/no available IPv4 addresses/);
    pool.release(parseIp('10.0.0.4'));
    expect(formatIp(pool.allocate())).toBe('10.0.0.4');
    expect(() => pool.claim(parseIp('10.0.0.1'))).toThrow('Address already in use');
    expect(() => pool.claim(parseIp('10.0.1.9'))).toThrow('no configured subnet contains IP address 10.0.1.9');
  });

  it('picks the first pool subnet that overlaps nothing taken or routed', () => {
    const pools = [{ base: '172.17.0.0/16', size: 16 }, { base: '192.168.0.0/16', size: 20 }];
    expect(pickSubnet(pools, [], [])).toEqual(parseCidr('172.17.0.0/16').subnet);
    expect(pickSubnet(pools, [parseCidr('172.17.5.0/24').subnet], [])).toEqual(parseCidr('192.168.0.0/20').subnet);
    expect(pickSubnet(pools, [], [parseCidr('172.17.0.0/16').subnet, parseCidr('192.168.0.0/24').subnet])).toEqual(parseCidr('192.168.16.0/20').subnet);
    expect(() => pickSubnet([{ base: '10.0.0.0/24', size: 24 }], [parseCidr('10.0.0.0/24').subnet], [])).toThrow('all predefined address pools have been fully subnetted');
  });
});

function query(name: string, type = 1): Buffer {
  const labels = name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
  const q = Buffer.alloc(4);
  q.writeUInt16BE(type, 0);
  q.writeUInt16BE(1, 2);
  return Buffer.concat([Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0]), q]);
}

describe('embedded DNS', () => {
  const backend: DnsBackend = {
    resolve: (_client, name, type) => (type === 'A' && name === 'web' ? { kind: 'a', ips: ['10.1.0.5'] } : type === 'PTR' && name === '5.0.1.10.in-addr.arpa' ? { kind: 'ptr', name: 'web.net' } : undefined),
    upstreams: () => [],
  };

  it('parses the question and answers known names with A records (TTL 600)', () => {
    const q = query('WEB');
    expect(parseQuestion(q)).toMatchObject({ name: 'WEB', type: 1, cls: 1 });
    const r = answerLocally(q, '10.1.0.9', backend)!;
    expect(r.readUInt16BE(0)).toBe(0x1234);
    expect(r[2]! & 0x80).toBe(0x80); // response
    expect(r[3]! & 0x0f).toBe(0); // NOERROR
    expect(r.readUInt16BE(6)).toBe(1); // one answer
    expect([...r.subarray(r.length - 4)]).toEqual([10, 1, 0, 5]);
    expect(r.readUInt32BE(r.length - 10)).toBe(600);
  });

  it('answers AAAA for a known name with no records, PTR with the name, and leaves the rest to forwarding', () => {
    const aaaa = answerLocally(query('web', 28), '', backend)!;
    expect(aaaa.readUInt16BE(6)).toBe(0);
    expect(aaaa[3]! & 0x0f).toBe(0);
    const ptr = answerLocally(query('5.0.1.10.in-addr.arpa', 12), '', backend)!;
    expect(ptr.toString('latin1')).toContain('web');
    expect(answerLocally(query('example.com'), '', backend)).toBeUndefined();
    expect(parseQuestion(Buffer.from([1, 2, 3]))).toBeUndefined();
  });

  it('answers AAAA with the IPv6 addresses of a dual-stack name, A with its IPv4 ones', () => {
    const dual: DnsBackend = { resolve: (_c, name) => (name === 'db' ? { kind: 'a', ips: ['10.1.0.6'], ips6: ['fd12:3456::6'] } : undefined), upstreams: () => [] };
    const aaaa = answerLocally(query('db', 28), '', dual)!;
    expect(aaaa[3]! & 0x0f).toBe(0);
    expect(aaaa.readUInt16BE(6)).toBe(1);
    expect(aaaa.readUInt16BE(aaaa.length - 26)).toBe(28); // type AAAA
    expect(aaaa.readUInt16BE(aaaa.length - 18)).toBe(16); // rdlength
    expect(aaaa.subarray(aaaa.length - 16).toString('hex')).toBe('fd123456000000000000000000000006');
    const a = answerLocally(query('db'), '', dual)!;
    expect(a.readUInt16BE(6)).toBe(1);
    expect([...a.subarray(a.length - 4)]).toEqual([10, 1, 0, 6]);
  });
});

describe('links', () => {
  it('parses link specs', () => {
    expect(parseLink('db:alias')).toEqual({ target: 'db', alias: 'alias' });
    expect(parseLink('db')).toEqual({ target: 'db', alias: 'db' });
    expect(parseLink('/db:/web/alias')).toEqual({ target: 'db', alias: 'alias' });
    expect(() => parseLink(':x')).toThrow();
  });

  it("produces Docker's variables, with port ranges", () => {
    const env = linkEnv('/web/my-db', '10.0.0.3', ['PATH=/bin', 'A=1'], { '80/tcp': {}, '81/tcp': {}, '53/udp': {} });
    expect(env).toEqual([
      'MY_DB_PORT=tcp://10.0.0.3:80',
      'MY_DB_PORT_80_TCP=tcp://10.0.0.3:80',
      'MY_DB_PORT_80_TCP_ADDR=10.0.0.3',
      'MY_DB_PORT_80_TCP_PORT=80',
      'MY_DB_PORT_80_TCP_PROTO=tcp',
      'MY_DB_PORT_81_TCP=tcp://10.0.0.3:81',
      'MY_DB_PORT_81_TCP_ADDR=10.0.0.3',
      'MY_DB_PORT_81_TCP_PORT=81',
      'MY_DB_PORT_81_TCP_PROTO=tcp',
      // As in moby, a range's variables come when the range ends: at the next, non-consecutive port.
      'MY_DB_PORT_53_UDP=udp://10.0.0.3:53',
      'MY_DB_PORT_53_UDP_ADDR=10.0.0.3',
      'MY_DB_PORT_53_UDP_PORT=53',
      'MY_DB_PORT_53_UDP_PROTO=udp',
      'MY_DB_PORT_80_TCP_START=tcp://10.0.0.3:80',
      'MY_DB_PORT_80_TCP_PORT_START=80',
      'MY_DB_PORT_80_TCP_END=tcp://10.0.0.3:81',
      'MY_DB_PORT_80_TCP_PORT_END=81',
      'MY_DB_NAME=/web/my-db',
      'MY_DB_ENV_A=1',
    ]);
  });
});

describe('ports', () => {
  it('expands bindings, ranges and -P into requests', () => {
    const reqs = portRequests({ '80/tcp': {}, '53/udp': {} }, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }], '443/tcp': [{ HostIp: '', HostPort: '9000-9010' }] }, true, false);
    expect(reqs).toEqual(
      expect.arrayContaining([
        { proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPortStart: 8080, hostPortEnd: 8080 },
        { proto: 'tcp', containerPort: 443, hostIp: '0.0.0.0', hostPortStart: 9000, hostPortEnd: 9010 },
        { proto: 'udp', containerPort: 53, hostIp: '0.0.0.0', hostPortStart: 0, hostPortEnd: 0 },
      ]),
    );
    expect(reqs).toHaveLength(3);
    expect(portMap({ '80/tcp': {}, '81/tcp': {} }, {}, [{ proto: 'tcp', hostIp: '0.0.0.0', hostPort: 32768, containerPort: 80 }])).toEqual({ '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '32768' }], '81/tcp': null });
  });

  it('publishes a binding without a host address on 0.0.0.0 and :: (dockerd 20.10+), an IPv6 address on IPv6 only', () => {
    const reqs = portRequests({ '53/udp': {} }, { '80/tcp': [{ HostIp: '', HostPort: '8080' }], '81/tcp': [{ HostIp: '::', HostPort: '8081' }], '82/tcp': [{ HostIp: '0:0::1', HostPort: '' }], '83/tcp': [{ HostIp: '0.0.0.0', HostPort: '8083' }] }, true, true);
    expect(reqs).toEqual([
      { proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPortStart: 8080, hostPortEnd: 8080 },
      { proto: 'tcp', containerPort: 80, hostIp: '::', hostPortStart: 8080, hostPortEnd: 8080, twin: true },
      { proto: 'tcp', containerPort: 81, hostIp: '::', hostPortStart: 8081, hostPortEnd: 8081 },
      { proto: 'tcp', containerPort: 82, hostIp: '::1', hostPortStart: 0, hostPortEnd: 0 },
      { proto: 'tcp', containerPort: 83, hostIp: '0.0.0.0', hostPortStart: 8083, hostPortEnd: 8083 },
      { proto: 'udp', containerPort: 53, hostIp: '0.0.0.0', hostPortStart: 0, hostPortEnd: 0 },
      { proto: 'udp', containerPort: 53, hostIp: '::', hostPortStart: 0, hostPortEnd: 0, twin: true },
    ]);
    // A host without IPv6 (ipv6.disable=1) gets no implicit :: binding.
    expect(portRequests({}, { '80/tcp': [{ HostIp: '', HostPort: '8080' }] }, false, false)).toHaveLength(1);
    validatePortBindings({ '80/tcp': [{ HostIp: 'fd00::5', HostPort: '80' }] });
  });

  it('holds 0.0.0.0 and :: of one port side by side, and relays what reaches a forwarded :: socket', async () => {
    const upstream = net.createServer((c) => c.end('from upstream\n'));
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const ports = new PortReserver();
    try {
      const v4 = await ports.reserve({ proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPortStart: 0, hostPortEnd: 0 });
      const v6 = await ports.reserve({ proto: 'tcp', containerPort: 80, hostIp: '::', hostPortStart: v4.hostPort, hostPortEnd: v4.hostPort });
      expect(v6.hostPort).toBe(v4.hostPort);
      // The same family's wildcard is taken.
      await expect(ports.reserve({ proto: 'tcp', containerPort: 80, hostIp: '::1', hostPortStart: v4.hostPort, hostPortEnd: v4.hostPort })).rejects.toThrow(`failed to bind host port [::1]:${v4.hostPort}/tcp: address already in use`);
      ports.forward(v6, { host: '127.0.0.1', port: (upstream.address() as net.AddressInfo).port });
      const got = await new Promise<string>((resolve, reject) => {
        let buf = '';
        const c = net.connect({ host: '::1', port: v6.hostPort });
        c.on('data', (d) => (buf += d));
        c.on('end', () => resolve(buf));
        c.on('error', reject);
      });
      expect(got).toBe('from upstream\n');
    } finally {
      ports.closeAll();
      upstream.close();
    }
  });

  it('tells the VM host of an implicit :: twin only through its 0.0.0.0 port', () => {
    const p = (hostIp: string, hostPort: number) => ({ proto: 'tcp' as const, hostIp, hostPort, containerPort: 80 });
    expect(announcedPorts([p('0.0.0.0', 8080), p('::', 8080), p('::', 8081), p('::1', 8080)])).toEqual([p('0.0.0.0', 8080), p('::', 8081), p('::1', 8080)]);
  });
});

describe('firewall rules', () => {
  it("live in the daemon's own chains and cover NAT, isolation, internal networks and loopback", () => {
    const c = chainNames('bte7');
    expect(c).toEqual({ dnat: 'BERTH-bte7', post: 'BERTH-bte7-POST', fwd: 'BERTH-bte7-FWD', iso: 'BERTH-bte7-ISO', raw: 'BERTH-bte7-RAW' });
    const rules = renderRules(c, {
      bridges: [
        { name: 'bte7', subnet: '10.64.0.0/24', internal: false },
        { name: 'br-1', subnet: '10.64.1.0/24', internal: true },
      ],
      ports: [{ proto: 'tcp', hostIp: '127.0.0.1', hostPort: 8080, containerIp: '10.64.0.2', containerPort: 80 }],
    });
    expect(rules).toContain('-A BERTH-bte7 -d 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.64.0.2:80');
    expect(rules).toContain('-A BERTH-bte7-POST -s 10.64.0.0/24 ! -o bte7 -j MASQUERADE');
    expect(rules).not.toContain('-s 10.64.1.0/24 ! -o br-1 -j MASQUERADE');
    expect(rules).toContain('-A BERTH-bte7-FWD -i br-1 ! -o br-1 -j DROP');
    expect(rules).toContain('-A BERTH-bte7-RAW -i bte7 -d 127.0.0.0/8 -j DROP');
    expect(rules).toContain('-A BERTH-bte7-ISO -o br-1 -j DROP');
    // Nothing outside our own chains.
    for (const line of rules.split('\n').filter((l) => l.startsWith('-A'))) expect(line).toMatch(/^-A BERTH-bte7/);
  });

  it('write IPv6 rules for dual-stack bridges and ports on IPv6 host addresses, IPv4 ones for the rest', () => {
    const c = chainNames('bte7');
    const state = {
      bridges: [
        { name: 'bte7', subnet: '10.64.0.0/24', internal: false },
        { name: 'br-6', subnet: '10.64.2.0/24', subnet6: 'fd12:3456::/64', internal: false },
      ],
      ports: [
        { proto: 'tcp' as const, hostIp: '0.0.0.0', hostPort: 8080, containerIp: '10.64.2.2', containerPort: 80 },
        { proto: 'tcp' as const, hostIp: '::', hostPort: 8080, containerIp: 'fd12:3456::2', containerPort: 80 },
        { proto: 'udp' as const, hostIp: 'fd00::5', hostPort: 53, containerIp: 'fd12:3456::2', containerPort: 5353 },
      ],
    };
    const v4 = renderRules(c, state, 4);
    const v6 = renderRules(c, state, 6);
    expect(v4).toContain('-A BERTH-bte7 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 10.64.2.2:80');
    expect(v4).not.toContain('fd12');
    expect(v6).toContain('-A BERTH-bte7 -p tcp -m tcp --dport 8080 -j DNAT --to-destination [fd12:3456::2]:80');
    expect(v6).toContain('-A BERTH-bte7 -d fd00::5/128 -p udp -m udp --dport 53 -j DNAT --to-destination [fd12:3456::2]:5353');
    expect(v6).not.toContain('10.64.2.2');
    expect(v6).toContain('-A BERTH-bte7-POST -s fd12:3456::/64 ! -o br-6 -j MASQUERADE');
    expect(v6).toContain('-A BERTH-bte7-RAW -i br-6 -d ::1/128 -j DROP');
    // An IPv4-only bridge has no IPv6 rules.
    expect(v6).not.toMatch(/-[io] bte7\b/);
    // [::1] is never DNAT'ed (no route_localnet for IPv6): the held socket relays it.
    const out6 = jumps(c, 6).find((j) => j.chain === 'OUTPUT')!;
    expect(out6.spec).toEqual(['-m', 'addrtype', '--dst-type', 'LOCAL', '!', '-d', '::1/128', '-j', 'BERTH-bte7']);
    expect(jumps(c, 4).find((j) => j.chain === 'OUTPUT')!.spec).toEqual(['-m', 'addrtype', '--dst-type', 'LOCAL', '-j', 'BERTH-bte7']);
  });
});

describe('etc files', () => {
  it('writes hosts in Docker order and resolv.conf for the embedded DNS', () => {
    const h = hostsContent({ ip: '10.0.0.2', names: ['abc'] }, [{ ip: '1.2.3.4', names: ['x'] }], [{ ip: '10.0.0.3', names: ['db', 'h', 'dbname'] }]);
    expect(h.split('\n').slice(-4)).toEqual(['1.2.3.4\tx', '10.0.0.2\tabc', '10.0.0.3\tdb h dbname', '']);
    const r = resolvConfContent({ dns: [], search: ['corp'], options: [], hostNetwork: false, embeddedDns: '10.0.0.1', hostFile: '/nonexistent' });
    expect(r).toBe('search corp\nnameserver 10.0.0.1\noptions ndots:0\n');
    expect(parseExtraHost('db:10.1.1.1')).toEqual({ host: 'db', ip: '10.1.1.1' });
    expect(parseExtraHost('gw=host-gateway')).toEqual({ host: 'gw', ip: 'host-gateway' });
    expect(parseExtraHost('v6:[::1]')).toEqual({ host: 'v6', ip: '::1' });
    expect(() => parseExtraHost('bad:notanip')).toThrow('invalid IP address in add-host: "notanip"');
  });
});
