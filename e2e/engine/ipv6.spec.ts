/**
 * Dual-stack user networks: `docker network create --ipv6 --subnet <v6>`, containers with an IPv6
 * address next to their IPv4 one (GlobalIPv6Address, IPv6Gateway, --ip6), reachable over IPv6 on
 * the bridge, and the pools released and restored like IPv4 leases.
 */
import { randomInt } from 'node:crypto';

/** A random hex group without leading zeros, so the prefix is written as the engine prints it. */
const group = (min = 0x1000) => randomInt(min, 0x10000).toString(16);
import { test, expect, uniq } from '../support/fixtures.js';
import { rawApi } from '../support/registry.js';

test('--ipv6 --subnet: dual-stack containers with GlobalIPv6Address, --ip6, IPv6 between containers', async ({ freshBerthd: d }) => {
  const prefix = `fd${randomInt(0x10, 0x100).toString(16)}:${group()}:${group()}`;
  const net = uniq('v6net');
  await d.dockerOk(['network', 'create', '--ipv6', '--subnet', `${prefix}::/64`, net]);
  const a = uniq('v6a');
  const b = uniq('v6b');
  try {
    const info = JSON.parse(await d.dockerOk(['network', 'inspect', net]))[0];
    expect(info.EnableIPv6).toBe(true);
    const pools = info.IPAM.Config as Array<{ Subnet: string; Gateway: string }>;
    expect(pools).toHaveLength(2);
    expect(pools[0]!.Subnet).toMatch(/^\d+\.\d+\.\d+\.0\/\d+$/);
    expect(pools[1]).toEqual({ Subnet: `${prefix}::/64`, Gateway: `${prefix}::1` });

    await d.dockerOk(['run', '-d', '--name', a, '--network', net, 'busybox', 'sleep', '120']);
    await d.dockerOk(['run', '-d', '--name', b, '--network', net, '--ip6', `${prefix}::f00d`, 'busybox', 'sleep', '120']);
    const epA = JSON.parse(await d.dockerOk(['inspect', '--format', `{{json (index .NetworkSettings.Networks "${net}")}}`, a]));
    expect(epA.GlobalIPv6Address).toBe(`${prefix}::2`);
    expect(epA.GlobalIPv6PrefixLen).toBe(64);
    expect(epA.IPv6Gateway).toBe(`${prefix}::1`);
    expect(epA.IPAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    const epB = JSON.parse(await d.dockerOk(['inspect', '--format', `{{json (index .NetworkSettings.Networks "${net}")}}`, b]));
    expect(epB.GlobalIPv6Address).toBe(`${prefix}::f00d`);
    expect(epB.IPAMConfig.IPv6Address).toBe(`${prefix}::f00d`);

    expect(await d.dockerOk(['exec', a, 'ip', '-6', 'addr', 'show', 'dev', 'eth0'])).toContain(`${prefix}::2/64`);
    expect(await d.dockerOk(['exec', a, 'ip', '-6', 'route'])).toContain(`default via ${prefix}::1`);
    // IPv6 on the bridge: container to container, and to the gateway.
    expect(await d.dockerOk(['exec', a, 'ping', '-6', '-c', '1', '-W', '3', `${prefix}::f00d`])).toContain('1 packets received');
    expect(await d.dockerOk(['exec', b, 'ping', '-6', '-c', '1', '-W', '3', `${prefix}::1`])).toContain('1 packets received');
    // Both addresses in /etc/hosts.
    const hosts = await d.dockerOk(['exec', b, 'cat', '/etc/hosts']);
    expect(hosts).toContain(`${prefix}::f00d`);
    expect(hosts).toContain(epB.IPAddress);

    // The requested address is taken while b runs; leases come back after a daemon restart.
    const taken = await d.docker(['run', '--rm', '--network', net, '--ip6', `${prefix}::f00d`, 'busybox', 'true']);
    expect(taken.code).not.toBe(0);
    expect(taken.stderr).toContain('Address already in use');
    await d.restart();
    const c = uniq('v6c');
    await d.dockerOk(['run', '-d', '--name', c, '--network', net, 'busybox', 'sleep', '60']);
    const epC = JSON.parse(await d.dockerOk(['inspect', '--format', `{{json (index .NetworkSettings.Networks "${net}")}}`, c]));
    expect([`${prefix}::2`, `${prefix}::f00d`]).not.toContain(epC.GlobalIPv6Address);
    await d.dockerOk(['rm', '-f', c]);
    // A stopped container gives its IPv6 address back.
    await d.dockerOk(['stop', '-t', '0', b]);
    expect(JSON.parse(await d.dockerOk(['inspect', '--format', `{{json (index .NetworkSettings.Networks "${net}")}}`, b])).GlobalIPv6Address).toBe('');
    await d.dockerOk(['run', '--rm', '--network', net, '--ip6', `${prefix}::f00d`, 'busybox', 'true']);
  } finally {
    await d.docker(['rm', '-f', a, b]);
    await d.docker(['network', 'rm', net]);
  }
});

test('IPv6 pools: --ipv6 needs an IPv6 subnet, overlaps refused; an IPv6 pool without --ipv6 is kept and --ip6 accepted', async ({ berthd }) => {
  const noSubnet = await berthd.docker(['network', 'create', '--ipv6', uniq('nov6')]);
  expect(noSubnet.code).toBe(1);
  expect(noSubnet.stderr).toContain('IPv6 address pool');
  const prefix = `fd${randomInt(0x10, 0x100).toString(16)}:${group()}:1`;
  const one = uniq('v6one');
  await berthd.dockerOk(['network', 'create', '--ipv6', '--subnet', `${prefix}::/64`, one]);
  try {
    const overlap = await berthd.docker(['network', 'create', '--ipv6', '--subnet', `${prefix}::/80`, uniq('v6two')]);
    expect(overlap.code).toBe(1);
    expect(overlap.stderr).toContain('Pool overlaps');
  } finally {
    await berthd.docker(['network', 'rm', one]);
  }
  // docker-py's test_create_with_ipv6_address: an IPv6 pool (host bits set) on a network without EnableIPv6.
  const name = uniq('v6pool');
  const created = await rawApi(berthd, 'POST', '/v1.41/networks/create', JSON.stringify({ Name: name, IPAM: { Driver: 'default', Config: [{ Subnet: '2001:389::1/64' }] } }), { 'Content-Type': 'application/json' });
  expect(created.status).toBe(201);
  const ctr = uniq('v6ctr');
  try {
    await berthd.dockerOk(['run', '-d', '--name', ctr, '--network', name, '--ip6', '2001:389::f00d', 'busybox', 'sleep', '60']);
    const ep = JSON.parse(await berthd.dockerOk(['inspect', '--format', `{{json (index .NetworkSettings.Networks "${name}")}}`, ctr]));
    expect(ep.IPAMConfig.IPv6Address).toBe('2001:389::f00d');
    expect(ep.GlobalIPv6Address).toBe('');
    const bad = await berthd.docker(['run', '--rm', '--network', name, '--ip6', 'fd99::1', 'busybox', 'true']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('no configured subnet contains IP address fd99::1');
  } finally {
    await berthd.docker(['rm', '-f', ctr]);
    await berthd.docker(['network', 'rm', name]);
  }
});
