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
import { curl, waitHttp } from '../support/http-probe.js';

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

test('-p on IPv6: a dual-stack container is published on 0.0.0.0 and ::, [::]:P alone on IPv6, reached on [::1] and the host\'s IPv6 address, and after a restart', async ({ freshBerthd: d }) => {
  const { freePort } = await import('../support/netns.js');
  const { chainNames } = await import('../../engine/network/firewall.js');
  const { execFileSync } = await import('node:child_process');
  const prefix = `fd${randomInt(0x10, 0x100).toString(16)}:${group()}:${group()}`;
  const net = uniq('v6pub');
  await d.dockerOk(['network', 'create', '--ipv6', '--subnet', `${prefix}::/64`, net]);
  const name = uniq('v6web');
  const [p, p6] = [await freePort(), await freePort()];
  try {
    // /www exists before either httpd starts (a background mkdir raced the second httpd, which exited).
    await d.dockerOk(['run', '-d', '--name', name, '--network', net, '-p', `${p}:80`, '-p', `[::]:${p6}:81`, 'busybox', 'sh', '-c', 'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && httpd -p 80 -h /www && exec httpd -f -p 81 -h /www']);
    const short = (await d.dockerOk(['inspect', '-f', '{{.Config.Hostname}}', name])).trim();
    const hello = `hello from ${short}\n`;
    const ip6 = (await d.dockerOk(['inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").GlobalIPv6Address}}`, name])).trim();
    expect(ip6).toBe(`${prefix}::2`);
    // The shapes dockerd 20.10+ gives: both wildcards for -p P:80, only :: for -p [::]:P:81.
    const [info] = JSON.parse(await d.dockerOk(['inspect', name]));
    expect(info.NetworkSettings.Ports).toEqual({
      '80/tcp': [{ HostIp: '0.0.0.0', HostPort: String(p) }, { HostIp: '::', HostPort: String(p) }],
      '81/tcp': [{ HostIp: '::', HostPort: String(p6) }],
    });
    expect(info.HostConfig.PortBindings['81/tcp']).toEqual([{ HostIp: '::', HostPort: String(p6) }]);
    const ps = (await d.dockerOk(['ps', '--filter', `name=${name}`, '--format', '{{.Ports}}'])).trim();
    expect(ps.split(', ').sort()).toEqual([`0.0.0.0:${p}->80/tcp`, `[::]:${p}->80/tcp`, `[::]:${p6}->81/tcp`].sort());
    const list = JSON.parse((await rawApi(d, 'GET', `/v1.41/containers/json?filters=${encodeURIComponent(JSON.stringify({ name: [name] }))}`)).body.toString())[0];
    expect(list.Ports).toEqual(expect.arrayContaining([{ IP: '::', PrivatePort: 81, PublicPort: p6, Type: 'tcp' }, { IP: '::', PrivatePort: 80, PublicPort: p, Type: 'tcp' }, { IP: '0.0.0.0', PrivatePort: 80, PublicPort: p, Type: 'tcp' }]));

    // The v6 DNAT rules go to the container's IPv6 address (ip6tables), not to its IPv4 one.
    const rules = execFileSync('ip6tables', ['-w', '-t', 'nat', '-S', chainNames(d.net!.bridge).dnat], { encoding: 'utf8' });
    expect(rules).toContain(`--dport ${p} -j DNAT --to-destination [${ip6}]:80`);
    expect(rules).toContain(`--dport ${p6} -j DNAT --to-destination [${ip6}]:81`);
    // [::1] (relayed by the held socket: the kernel cannot DNAT IPv6 loopback) and the host's IPv6 address on the bridge (DNAT).
    for (const url of [`http://[::1]:${p}/`, `http://[::1]:${p6}/`, `http://[${prefix}::1]:${p}/`, `http://[${prefix}::1]:${p6}/`]) expect((await waitHttp(url)).body, url).toBe(hello);
    expect((await curl(`http://127.0.0.1:${p}/`)).body).toBe(hello);
    // [::]:P6 is IPv6 only.
    expect((await curl(`http://127.0.0.1:${p6}/`, 2)).code).not.toBe(0);
    // Another container on the network reaches it through the host's IPv6 address (hairpin).
    expect((await d.dockerOk(['run', '--rm', '--network', net, 'busybox', 'sh', '-c', `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 ${prefix}::1 ${p6} | tail -n 1`])).trim()).toBe(hello.trim());

    // Live restore: the IPv6 ports work after a daemon restart.
    await d.restart();
    for (const url of [`http://[::1]:${p}/`, `http://[${prefix}::1]:${p6}/`]) expect((await waitHttp(url)).body, url).toBe(hello);
    await d.dockerOk(['rm', '-f', name]);
    expect((await curl(`http://[::1]:${p}/`, 2)).code).not.toBe(0);
    // The exit path rewrites the rules in the background (engine/network/sandbox.ts: the held socket
    // is closed at once; the addresses are leased again only once the rules are gone): IPv4 first,
    // then IPv6, so the v6 chain may still hold the port for a moment after rm returns.
    await expect.poll(() => execFileSync('ip6tables', ['-w', '-t', 'nat', '-S', chainNames(d.net!.bridge).dnat], { encoding: 'utf8' }), { timeout: 5_000 }).not.toContain(`--dport ${p} `);
  } finally {
    await d.docker(['rm', '-f', name]);
    await d.docker(['network', 'rm', net]);
  }
});

test('embedded DNS on a dual-stack network: AAAA records for peers\' names and aliases; a name without IPv6 gets an empty NOERROR answer, not NXDOMAIN', async ({ berthd: d }) => {
  const prefix = `fd${randomInt(0x10, 0x100).toString(16)}:${group()}:${group()}`;
  const dual = uniq('v6dns');
  const v4only = uniq('v4dns');
  await d.dockerOk(['network', 'create', '--ipv6', '--subnet', `${prefix}::/64`, dual]);
  await d.dockerOk(['network', 'create', v4only]);
  const db = uniq('db');
  const db4 = uniq('db4');
  try {
    await d.dockerOk(['run', '-d', '--name', db, '--network', dual, '--network-alias', 'store', '--ip6', `${prefix}::d8`, 'busybox', 'sleep', '120']);
    await d.dockerOk(['run', '-d', '--name', db4, '--network', v4only, 'busybox', 'sleep', '120']);
    const ask = (net: string, type: string, name: string) => d.docker(['run', '--rm', '--network', net, 'busybox', 'nslookup', `-type=${type}`, name]);
    for (const name of [db, 'store', `${db}.${dual}`]) {
      const r = await ask(dual, 'aaaa', name);
      expect(r.stdout, name).toContain(`${prefix}::d8`);
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
    const a = await ask(dual, 'a', 'store');
    expect(a.stdout).toMatch(/Address: \d+\.\d+\.\d+\.\d+/);
    expect(a.stdout).not.toContain(prefix);
    // On an IPv4-only network the name exists but has no IPv6 address: no AAAA, and not "can't find" as NXDOMAIN.
    const none = await ask(v4only, 'aaaa', db4);
    expect(none.stdout + none.stderr).not.toMatch(/NXDOMAIN|SERVFAIL/);
    expect(none.stdout).not.toMatch(/Address: .*:/);
  } finally {
    await d.docker(['rm', '-f', db, db4]);
    await d.docker(['network', 'rm', dual, v4only]);
  }
});
