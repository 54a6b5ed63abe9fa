/**
 * User-defined bridge networks through the docker CLI: name and alias
 * resolution by the embedded DNS server, isolation between networks,
 * internal networks (no way out, no DNS forwarding), static addresses,
 * connect/disconnect of running containers, the network commands with their
 * errors, and network events.
 */
import fs from 'node:fs';
import { test, expect, uniq } from '../support/fixtures.js';
import type { Berthd } from '../support/berthd.js';
import { FakeUpstreamDns, OutsideHost } from '../support/netns.js';

async function rmAll(berthd: Berthd, containers: string[], networks: string[]): Promise<void> {
  if (containers.length > 0) await berthd.docker(['rm', '-f', ...containers]);
  for (const n of networks) await berthd.docker(['network', 'rm', n]);
}

test('containers on a user network reach each other by name and alias, not across networks', async ({ berthd }) => {
  const [netA, netB] = [uniq('neta'), uniq('netb')];
  const [a1, a2, b1] = [uniq('a1'), uniq('a2'), uniq('b1')];
  try {
    await berthd.dockerOk(['network', 'create', netA]);
    await berthd.dockerOk(['network', 'create', netB]);
    await berthd.dockerOk(['run', '-d', '--name', a1, '--network', netA, '--network-alias', 'db-alias', 'busybox', 'sleep', '120']);
    await berthd.dockerOk(['run', '-d', '--name', a2, '--network', netA, 'busybox', 'sleep', '120']);
    // Unknown names would go to this upstream: a closed port on the host, so nothing leaves the machine.
    await berthd.dockerOk(['run', '-d', '--name', b1, '--network', netB, '--dns', '127.0.0.1', 'busybox', 'sleep', '120']);
    const a1Ip = (await berthd.dockerOk(['inspect', '-f', `{{(index .NetworkSettings.Networks "${netA}").IPAddress}}`, a1])).trim();
    const gwA = (await berthd.dockerOk(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', netA])).trim();
    // resolv.conf points at the network's DNS server; names and aliases resolve to the container.
    const resolv = await berthd.dockerOk(['exec', a2, 'cat', '/etc/resolv.conf']);
    expect(resolv).toContain(`nameserver ${gwA}\n`);
    const a1Id = (await berthd.dockerOk(['inspect', '-f', '{{.Id}}', a1])).trim();
    for (const n of [a1, 'db-alias', a1Id.slice(0, 12)]) {
      const out = await berthd.dockerOk(['exec', a2, 'nslookup', n]);
      expect(out, n).toContain(`Address: ${a1Ip}`);
    }
    expect((await berthd.docker(['exec', a2, 'ping', '-c', '1', '-W', '2', a1])).code).toBe(0);
    expect((await berthd.docker(['exec', a2, 'ping', '-c', '1', '-W', '2', 'db-alias'])).code).toBe(0);
    // Another network: the name does not resolve and the address is not reachable.
    expect((await berthd.docker(['exec', b1, 'nslookup', a1])).code).not.toBe(0);
    expect((await berthd.docker(['exec', b1, 'ping', '-c', '1', '-W', '1', a1Ip])).code).not.toBe(0);
    // Nor from the default bridge.
    expect((await berthd.docker(['run', '--rm', 'busybox', 'ping', '-c', '1', '-W', '1', a1Ip])).code).not.toBe(0);
    // Inspect shows the endpoint; DNSNames lists what resolves.
    const [info] = JSON.parse(await berthd.dockerOk(['inspect', a1]));
    const ep = info.NetworkSettings.Networks[netA];
    expect(ep).toMatchObject({ IPAddress: a1Ip, Gateway: gwA, IPPrefixLen: 24, Aliases: ['db-alias'] });
    expect(ep.DNSNames).toEqual(expect.arrayContaining([a1, 'db-alias', info.Id.slice(0, 12)]));
    expect(info.NetworkSettings.IPAddress).toBe('');
    const [net] = JSON.parse(await berthd.dockerOk(['network', 'inspect', netA]));
    expect(Object.values(net.Containers).map((c) => (c as { Name: string }).Name).sort()).toEqual([a1, a2].sort());
  } finally {
    await rmAll(berthd, [a1, a2, b1], [netA, netB]);
  }
});

test('an internal network has no outside access and does not forward DNS; a normal one forwards', async ({ berthd }) => {
  const outside = OutsideHost.create(berthd.net!.index);
  const dns = new FakeUpstreamDns(outside.hostIp, 'outside.test', outside.ip);
  await dns.start();
  const [pub, internal] = [uniq('pubnet'), uniq('intnet')];
  const [p1, i1, i2] = [uniq('p1'), uniq('i1'), uniq('i2')];
  try {
    await berthd.dockerOk(['network', 'create', pub]);
    await berthd.dockerOk(['network', 'create', '--internal', internal]);
    expect((await berthd.dockerOk(['network', 'inspect', '-f', '{{.Internal}}', internal])).trim()).toBe('true');
    // Normal network: unknown names go to the upstream resolver, and the outside host is reachable.
    await berthd.dockerOk(['run', '-d', '--name', p1, '--network', pub, '--dns', outside.hostIp, 'busybox', 'sleep', '120']);
    const fwd = await berthd.dockerOk(['exec', p1, 'nslookup', 'www.outside.test']);
    expect(fwd).toContain(`Address: ${outside.ip}`);
    expect(dns.queries).toContain('www.outside.test');
    expect((await berthd.docker(['exec', p1, 'ping', '-c', '1', '-W', '2', outside.ip])).code).toBe(0);
    // Internal network: names of its containers resolve, nothing is forwarded, nothing gets out.
    await berthd.dockerOk(['run', '-d', '--name', i1, '--network', internal, '--dns', outside.hostIp, 'busybox', 'sleep', '120']);
    await berthd.dockerOk(['run', '-d', '--name', i2, '--network', internal, 'busybox', 'sleep', '120']);
    const i2Ip = (await berthd.dockerOk(['inspect', '-f', `{{(index .NetworkSettings.Networks "${internal}").IPAddress}}`, i2])).trim();
    expect(await berthd.dockerOk(['exec', i1, 'nslookup', i2])).toContain(`Address: ${i2Ip}`);
    expect((await berthd.docker(['exec', i1, 'ping', '-c', '1', '-W', '2', i2])).code).toBe(0);
    dns.queries = [];
    const leak = await berthd.docker(['exec', i1, 'nslookup', 'secret.outside.test']);
    expect(leak.code).not.toBe(0);
    expect(dns.queries).toEqual([]);
    expect((await berthd.docker(['exec', i1, 'ping', '-c', '1', '-W', '2', outside.ip])).code).not.toBe(0);
    expect((await berthd.docker(['exec', i1, 'sh', '-c', 'ip route | grep default'])).code).not.toBe(0);
    expect((await berthd.dockerOk(['inspect', '-f', `{{(index .NetworkSettings.Networks "${internal}").Gateway}}`, i1])).trim()).toBe('');
  } finally {
    dns.stop();
    outside.destroy();
    await rmAll(berthd, [p1, i1, i2], [pub, internal]);
  }
});

test('network create/ls/inspect/rm/prune with subnets, gateways, labels and Docker errors', async ({ berthd }) => {
  const base = berthd.net!.config.bip.split('.').slice(0, 2).join('.');
  const third = Number(berthd.net!.config.bip.split('.')[2]) + 14;
  const subnet = `${base}.${third}.0/24`;
  const [n1, n2, n3] = [uniq('cnet'), uniq('cnet'), uniq('prunable')];
  try {
    const id = (await berthd.dockerOk(['network', 'create', '--subnet', subnet, '--gateway', `${base}.${third}.254`, '--label', 'team=blue', n1])).trim();
    expect(id).toMatch(/^[a-f0-9]{64}$/);
    const [net] = JSON.parse(await berthd.dockerOk(['network', 'inspect', n1]));
    expect(net).toMatchObject({ Name: n1, Id: id, Driver: 'bridge', Scope: 'local', Internal: false, Labels: { team: 'blue' }, IPAM: { Driver: 'default', Config: [{ Subnet: subnet, Gateway: `${base}.${third}.254` }] } });
    expect(net.Berth).toBeUndefined();
    const ls = await berthd.dockerOk(['network', 'ls', '--format', '{{.Name}} {{.Driver}} {{.Scope}}']);
    for (const l of ['bridge bridge local', 'host host local', 'none null local', `${n1} bridge local`]) expect(ls.split('\n')).toContain(l);
    expect((await berthd.dockerOk(['network', 'ls', '-q', '--filter', 'label=team=blue'])).trim()).toBe(id.slice(0, 12));
    expect((await berthd.dockerOk(['network', 'ls', '--filter', 'type=builtin', '--format', '{{.Name}}'])).trim().split('\n').sort()).toEqual(['bridge', 'host', 'none']);
    // Errors, with dockerd's wording.
    const dup = await berthd.docker(['network', 'create', n1]);
    expect(dup.stderr).toContain(`network with name ${n1} already exists`);
    const overlap = await berthd.docker(['network', 'create', '--subnet', subnet, n2]);
    expect(overlap.stderr).toContain('Pool overlaps with other one on this address space');
    const badSubnet = await berthd.docker(['network', 'create', '--subnet', `${base}.${third + 1}.7/24`, n2]);
    expect(badSubnet.stderr).toContain(`invalid subnet ${base}.${third + 1}.7/24: it should be ${base}.${third + 1}.0/24`);
    const predefined = await berthd.docker(['network', 'rm', 'bridge']);
    expect(predefined.stderr).toContain('bridge is a pre-defined network and cannot be removed');
    expect((await berthd.docker(['network', 'inspect', 'nosuch-net'])).stderr).toContain('network nosuch-net not found');
    // --ip from the user subnet; the same address twice is refused.
    const c1 = uniq('ipc');
    await berthd.dockerOk(['run', '-d', '--name', c1, '--network', n1, '--ip', `${base}.${third}.10`, 'busybox', 'sleep', '60']);
    expect(await berthd.dockerOk(['exec', c1, 'ip', 'addr', 'show', 'eth0'])).toContain(`inet ${base}.${third}.10/24`);
    expect((await berthd.dockerOk(['exec', c1, 'ip', 'route'])).split('\n')[0]).toBe(`default via ${base}.${third}.254 dev eth0 `);
    const taken = await berthd.docker(['run', '--rm', '--network', n1, '--ip', `${base}.${third}.10`, 'busybox', 'true']);
    expect(taken.code).toBe(125);
    expect(taken.stderr).toContain('Address already in use');
    // A network with a running container cannot go.
    const busy = await berthd.docker(['network', 'rm', n1]);
    expect(busy.code).not.toBe(0);
    expect(busy.stderr).toContain(`network ${n1} has active endpoints (name:"${c1}"`);
    await berthd.dockerOk(['rm', '-f', c1]);
    // prune removes unused user networks only.
    await berthd.dockerOk(['network', 'create', '--label', 'prune=me', n3]);
    const pruned = await berthd.dockerOk(['network', 'prune', '-f', '--filter', 'label=prune=me']);
    expect(pruned).toContain(n3);
    expect(pruned).not.toContain(n1);
    expect((await berthd.docker(['network', 'inspect', n3])).code).not.toBe(0);
    const bridgeName = `br-${id.slice(0, 12)}`;
    expect((await berthd.dockerOk(['run', '--rm', '--network', 'host', 'busybox', 'ls', '/sys/class/net'])).split('\n')).toContain(bridgeName);
    await berthd.dockerOk(['network', 'rm', n1]);
    expect((await berthd.dockerOk(['run', '--rm', '--network', 'host', 'busybox', 'ls', '/sys/class/net'])).split('\n')).not.toContain(bridgeName);
  } finally {
    await rmAll(berthd, [], [n1, n2, n3]);
  }
});

test('connect and disconnect a running container; network events', async ({ berthd }) => {
  const [n1, n2] = [uniq('evnet'), uniq('evnet2')];
  const [c, peer] = [uniq('roamer'), uniq('peer')];
  const since = Math.floor(Date.now() / 1000) - 1;
  try {
    await berthd.dockerOk(['network', 'create', n1]);
    await berthd.dockerOk(['network', 'create', n2]);
    await berthd.dockerOk(['run', '-d', '--name', c, '--network', n1, '--dns', '127.0.0.1', 'busybox', 'sleep', '120']);
    await berthd.dockerOk(['run', '-d', '--name', peer, '--network', n2, '--dns', '127.0.0.1', 'busybox', 'sleep', '120']);
    expect((await berthd.docker(['exec', c, 'nslookup', peer])).code).not.toBe(0);
    const n2Bridge = `br-${(await berthd.dockerOk(['network', 'inspect', '-f', '{{.Id}}', n2])).trim().slice(0, 12)}`;
    const bridgeMac = () => fs.readFileSync(`/sys/class/net/${n2Bridge}/address`, 'utf8');
    const macBefore = bridgeMac();
    await berthd.dockerOk(['network', 'connect', '--alias', 'roamy', n2, c]);
    const ifs = await berthd.dockerOk(['exec', c, 'ls', '/sys/class/net']);
    expect(ifs.split('\n')).toEqual(expect.arrayContaining(['eth0', 'eth1', 'lo']));
    const peerIp = (await berthd.dockerOk(['inspect', '-f', `{{(index .NetworkSettings.Networks "${n2}").IPAddress}}`, peer])).trim();
    expect(await berthd.dockerOk(['exec', c, 'nslookup', peer])).toContain(`Address: ${peerIp}`);
    expect((await berthd.docker(['exec', peer, 'ping', '-c', '1', '-W', '2', 'roamy'])).code).toBe(0);
    const again = await berthd.docker(['network', 'connect', n2, c]);
    expect(again.stderr).toContain(`endpoint with name ${c} already exists in network ${n2}`);
    await berthd.dockerOk(['network', 'disconnect', n2, c]);
    // The bridge keeps its MAC as ports come and go (else the others' ARP entry for the gateway goes stale).
    expect(bridgeMac()).toBe(macBefore);
    expect(fs.readFileSync(`/sys/class/net/${n2Bridge}/addr_assign_type`, 'utf8')).toBe('3\n'); // set, not borrowed from a port
    const t0 = Date.now();
    expect((await berthd.dockerOk(['exec', c, 'ls', '/sys/class/net'])).split('\n')).not.toContain('eth1');
    expect((await berthd.docker(['exec', peer, 'ping', '-c', '1', '-W', '1', 'roamy'])).code).not.toBe(0);
    expect(Date.now() - t0).toBeLessThan(4000);
    // A stopped container keeps its configuration and joins at start.
    await berthd.dockerOk(['stop', '-t', '0', c]);
    await berthd.dockerOk(['network', 'connect', n2, c]);
    await berthd.dockerOk(['start', c]);
    expect((await berthd.dockerOk(['exec', c, 'ls', '/sys/class/net'])).split('\n')).toEqual(expect.arrayContaining(['eth0', 'eth1']));
    await berthd.dockerOk(['rm', '-f', c, peer]);
    await berthd.dockerOk(['network', 'rm', n1, n2]);
    const until = Math.floor(Date.now() / 1000) + 1;
    const ev = await berthd.dockerOk(['events', '--since', String(since), '--until', String(until), '--filter', 'type=network', '--format', '{{.Action}} {{.Actor.Attributes.name}}']);
    const lines = ev.trim().split('\n');
    expect(lines).toContain(`create ${n1}`);
    expect(lines.filter((l) => l === `connect ${n2}`).length).toBeGreaterThanOrEqual(3);
    expect(lines.filter((l) => l === `disconnect ${n2}`).length).toBeGreaterThanOrEqual(2);
    expect(lines).toContain(`destroy ${n1}`);
    expect(lines).toContain(`destroy ${n2}`);
  } finally {
    await rmAll(berthd, [c, peer], [n1, n2]);
  }
});
