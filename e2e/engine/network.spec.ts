/**
 * Networking through the docker CLI: the default bridge, published ports
 * (loopback, the host's other address, hairpin, other hosts), -P and
 * EXPOSE, port conflicts, legacy links, host/none/container modes and the
 * per-container settings (--ip, --dns, --add-host, --hostname).
 * Other machines are network namespaces the tests create.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test, expect, uniq } from '../support/fixtures.js';
import type { Berthd } from '../support/berthd.js';
import { OutsideHost, freePort, hostAddress } from '../support/netns.js';
import { busyboxTar } from '../support/paths.js';
import { curl, waitHttp } from '../support/http-probe.js';

const HTTPD = ['sh', '-c', 'mkdir -p /www && echo "hello from $(hostname)" > /www/index.html && exec httpd -f -p 80 -h /www'];

/** GET through busybox nc from inside a container (busybox wget crashes in this busybox build). */
function ncGet(host: string, port: number, timeout = 3): string {
  return `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w ${timeout} ${host} ${port} | tail -n 1`;
}

async function runHttpd(berthd: Berthd, args: string[]): Promise<string> {
  const name = uniq('web');
  await berthd.dockerOk(['run', '-d', '--name', name, ...args, 'busybox', ...HTTPD]);
  return name;
}

test('a published port serves on 127.0.0.1, the host address and to other containers (hairpin)', async ({ berthd }) => {
  const port = await freePort();
  const name = await runHttpd(berthd, ['-p', `${port}:80`]);
  try {
    const short = (await berthd.dockerOk(['inspect', '-f', '{{.Config.Hostname}}', name])).trim();
    expect((await waitHttp(`http://127.0.0.1:${port}/`)).body).toBe(`hello from ${short}\n`);
    const addr = hostAddress();
    if (addr) expect((await curl(`http://${addr}:${port}/`)).body).toBe(`hello from ${short}\n`);
    // The gateway address is the host too.
    const gw = (await berthd.dockerOk(['inspect', '-f', '{{.NetworkSettings.Gateway}}', name])).trim();
    expect((await curl(`http://${gw}:${port}/`)).body).toBe(`hello from ${short}\n`);
    // Another container through the host's address, and the container itself (hairpin).
    const via = addr ?? gw;
    expect((await berthd.dockerOk(['run', '--rm', 'busybox', 'sh', '-c', ncGet(via, port)])).trim()).toBe(`hello from ${short}`);
    expect((await berthd.dockerOk(['exec', name, 'sh', '-c', ncGet(via, port)])).trim()).toBe(`hello from ${short}`);
    // How the CLI shows it.
    // As dockerd 20.10+: a port without a host address is published on 0.0.0.0 and on ::.
    expect((await berthd.dockerOk(['port', name])).trim()).toBe(`80/tcp -> 0.0.0.0:${port}\n80/tcp -> [::]:${port}`);
    expect((await berthd.dockerOk(['port', name, '80'])).trim()).toBe(`0.0.0.0:${port}\n[::]:${port}`);
    expect((await berthd.dockerOk(['ps', '--filter', `name=${name}`, '--format', '{{.Ports}}'])).trim()).toBe(`0.0.0.0:${port}->80/tcp, [::]:${port}->80/tcp`);
    const [info] = JSON.parse(await berthd.dockerOk(['inspect', name]));
    expect(info.NetworkSettings.Ports).toEqual({ '80/tcp': [{ HostIp: '0.0.0.0', HostPort: String(port) }, { HostIp: '::', HostPort: String(port) }] });
    // The IPv6 side: [::1] through the held socket's relay (this container has no IPv6 address, as with dockerd's userland proxy).
    expect((await curl(`http://[::1]:${port}/`)).body).toBe(`hello from ${short}\n`);
    expect(info.HostConfig.PortBindings).toEqual({ '80/tcp': [{ HostIp: '', HostPort: String(port) }] });
    expect(info.NetworkSettings.Networks.bridge.IPAddress).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(info.NetworkSettings.IPAddress).toBe(info.NetworkSettings.Networks.bridge.IPAddress);
  } finally {
    await berthd.docker(['rm', '-f', name]);
  }
  // Gone with the container.
  expect((await curl(`http://127.0.0.1:${port}/`, 2)).code).not.toBe(0);
});

test('-P publishes EXPOSEd ports on free ephemeral ports that docker port reports; ps shows ranges like Docker', async ({ berthd }) => {
  const image = uniq('exposed').toLowerCase();
  await berthd.dockerOk(['import', '-c', 'EXPOSE 80', '-c', 'EXPOSE 81/udp', '-c', 'CMD ["sh"]', busyboxTar, image]);
  const name = uniq('pall');
  await berthd.dockerOk(['run', '-d', '--name', name, '-P', '--expose', '82', image, ...HTTPD]);
  const other = uniq('ranges');
  const [lo] = [await freePort()];
  try {
    const all = (await berthd.dockerOk(['port', name])).trim().split('\n').sort();
    expect(all).toHaveLength(6);
    // Each IPv4 port has its IPv6 twin on the same number.
    const out = all.filter((l) => !l.includes('[::]'));
    expect(all.filter((l) => l.includes('[::]')).sort()).toEqual(out.map((l) => l.replace('0.0.0.0', '[::]')).sort());
    const [lowEnd, highEnd] = (await berthd.dockerOk(['run', '--rm', 'busybox', 'cat', '/proc/sys/net/ipv4/ip_local_port_range'])).trim().split(/\s+/).map(Number);
    const ports: Record<string, number> = {};
    for (const line of out) {
      const m = /^(\d+\/(?:tcp|udp)) -> 0\.0\.0\.0:(\d+)$/.exec(line);
      expect(m, line).not.toBeNull();
      ports[m![1]!] = Number(m![2]);
      expect(Number(m![2])).toBeGreaterThanOrEqual(lowEnd!);
      expect(Number(m![2])).toBeLessThanOrEqual(highEnd!);
    }
    expect(Object.keys(ports).sort()).toEqual(['80/tcp', '81/udp', '82/tcp']);
    expect(new Set(Object.values(ports)).size).toBe(3);
    expect((await waitHttp(`http://127.0.0.1:${ports['80/tcp']}/`)).body).toMatch(/^hello from /);
    // Exposed but unpublished ports show without a host side; the CLI compacts ranges mapped to the same numbers.
    let ranged = true;
    await berthd.dockerOk(['run', '-d', '--name', other, '--expose', '9000', '-p', `${lo}-${lo + 1}:${lo}-${lo + 1}`, '-p', `${lo + 2}:7000`, 'busybox', 'sleep', '60']).catch(async () => {
      // A neighbouring port was taken meanwhile: use a single one.
      ranged = false;
      await berthd.docker(['rm', '-f', other]);
      await berthd.dockerOk(['run', '-d', '--name', other, '--expose', '9000', '-p', `${lo}:7000`, 'busybox', 'sleep', '60']);
    });
    const ps = (await berthd.dockerOk(['ps', '--filter', `name=${other}`, '--format', '{{.Ports}}'])).trim();
    expect(ps).toBe(ranged ? `9000/tcp, 0.0.0.0:${lo}-${lo + 1}->${lo}-${lo + 1}/tcp, [::]:${lo}-${lo + 1}->${lo}-${lo + 1}/tcp, 0.0.0.0:${lo + 2}->7000/tcp, [::]:${lo + 2}->7000/tcp` : `9000/tcp, 0.0.0.0:${lo}->7000/tcp, [::]:${lo}->7000/tcp`);
    const [info] = JSON.parse(await berthd.dockerOk(['inspect', other]));
    expect(info.NetworkSettings.Ports['9000/tcp']).toBeNull();
    // A stopped container publishes nothing.
    await berthd.dockerOk(['stop', '-t', '0', other]);
    expect((await berthd.dockerOk(['ps', '-a', '--filter', `name=${other}`, '--format', '{{.Ports}}'])).trim()).toBe('');
    expect(JSON.parse(await berthd.dockerOk(['inspect', '-f', '{{json .NetworkSettings.Ports}}', other]))).toEqual({});
  } finally {
    await berthd.docker(['rm', '-f', name, other]);
    await berthd.docker(['rmi', image]);
  }
});

test('a host port already in use is a clear error at start', async ({ berthd }) => {
  const net = await import('node:net');
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as import('node:net').AddressInfo).port;
  const name = uniq('busy');
  const first = uniq('holder');
  try {
    const r = await berthd.docker(['run', '-d', '--name', name, '-p', `${port}:80`, 'busybox', 'sleep', '30']);
    expect(r.code).toBe(125);
    expect(r.stderr).toContain(`failed to bind host port 0.0.0.0:${port}/tcp: address already in use`);
    expect(r.stderr).toContain('driver failed programming external connectivity on endpoint');
    expect((await berthd.dockerOk(['inspect', '-f', '{{.State.Status}}', name])).trim()).toBe('created');
    srv.close();
    // The same port held by another container of this engine.
    const p2 = await freePort();
    await berthd.dockerOk(['run', '-d', '--name', first, '-p', `${p2}:80`, 'busybox', 'sleep', '30']);
    const r2 = await berthd.docker(['run', '--rm', '-p', `${p2}:80`, 'busybox', 'true']);
    expect(r2.code).toBe(125);
    expect(r2.stderr).toContain(`failed to bind host port 0.0.0.0:${p2}/tcp: address already in use`);
    // Nothing leaked by the failed starts: the port still works for its holder, and is free once it is gone.
    await berthd.dockerOk(['rm', '-f', first]);
    await berthd.dockerOk(['run', '--rm', '-p', `${p2}:80`, 'busybox', 'true']);
  } finally {
    srv.close();
    await berthd.docker(['rm', '-f', name, first]);
  }
});

test('-p 127.0.0.1:... is not reachable from another host, a 0.0.0.0 port is', async ({ berthd }) => {
  const outside = OutsideHost.create(berthd.net!.index);
  const [pLocal, pAll] = [await freePort(), await freePort()];
  const name = await runHttpd(berthd, ['-p', `127.0.0.1:${pLocal}:80`, '-p', `${pAll}:80`]);
  try {
    expect((await waitHttp(`http://127.0.0.1:${pLocal}/`)).body).toMatch(/^hello from /);
    expect((await berthd.dockerOk(['port', name])).trim().split('\n').sort()).toEqual([`80/tcp -> 0.0.0.0:${pAll}`, `80/tcp -> [::]:${pAll}`, `80/tcp -> 127.0.0.1:${pLocal}`].sort());
    // From the other host: the wildcard port answers on the host's address, the loopback one does not.
    const ok = await outside.curl(`http://${outside.hostIp}:${pAll}/`);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^hello from /);
    expect((await outside.curl(`http://${outside.hostIp}:${pLocal}/`, 2)).code).not.toBe(0);
    // Even when it addresses 127.0.0.1 to the host directly (a neighbour on the link can).
    outside.routeLoopbackToHost();
    expect((await outside.curl(`http://127.0.0.1:${pLocal}/`, 2)).code).not.toBe(0);
  } finally {
    outside.destroy();
    await berthd.docker(['rm', '-f', name]);
  }
});

test('containers reach the outside through NAT; unpublished ports are not routable from outside', async ({ berthd }) => {
  const outside = OutsideHost.create(berthd.net!.index);
  const srvPort = 8000 + Math.floor(Math.random() * 1000);
  const www = fs.mkdtempSync(path.join(os.tmpdir(), 'bto-www-'));
  fs.writeFileSync(path.join(www, 'index.html'), 'from outside\n');
  outside.spawn(['busybox', 'httpd', '-f', '-p', `${outside.ip}:${srvPort}`, '-h', www]);
  const name = uniq('natc');
  try {
    await new Promise((r) => setTimeout(r, 300));
    const out = await berthd.dockerOk(['run', '--rm', 'busybox', 'sh', '-c', ncGet(outside.ip, srvPort)]);
    expect(out.trim()).toBe('from outside');
    // The other host routes to the container's address: an unpublished port must not answer.
    await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', ...HTTPD]);
    const ip = (await berthd.dockerOk(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', name])).trim();
    const subnet = (await berthd.dockerOk(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Subnet}}', 'bridge'])).trim();
    await outside.exec(['ip', 'route', 'add', subnet, 'via', outside.hostIp]);
    expect((await outside.curl(`http://${ip}/`, 2)).code).not.toBe(0);
  } finally {
    outside.destroy();
    fs.rmSync(www, { recursive: true, force: true });
    await berthd.docker(['rm', '-f', name]);
  }
});

test('legacy links: hosts entry and Docker environment variables', async ({ berthd }) => {
  const db = uniq('db');
  const web = uniq('web');
  await berthd.dockerOk(['run', '-d', '--name', db, '-e', 'PASSWORD=secret', '--expose', '5432', '--expose', '6000/udp', 'busybox', 'sleep', '60']);
  try {
    const dbIp = (await berthd.dockerOk(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', db])).trim();
    const dbHost = (await berthd.dockerOk(['inspect', '-f', '{{.Config.Hostname}}', db])).trim();
    await berthd.dockerOk(['create', '--name', web, '--link', `${db}:my-db`, 'busybox', 'sh', '-c', 'env | sort; echo ---; cat /etc/hosts']);
    const out = await berthd.dockerOk(['start', '-a', web]);
    const [env, hosts] = out.split('---\n');
    const vars = env!.split('\n').filter((l) => l.startsWith('MY_DB_'));
    expect(vars).toEqual(
      [
        `MY_DB_ENV_PASSWORD=secret`,
        `MY_DB_NAME=/${web}/my-db`,
        `MY_DB_PORT=tcp://${dbIp}:5432`,
        `MY_DB_PORT_5432_TCP=tcp://${dbIp}:5432`,
        `MY_DB_PORT_5432_TCP_ADDR=${dbIp}`,
        `MY_DB_PORT_5432_TCP_PORT=5432`,
        `MY_DB_PORT_5432_TCP_PROTO=tcp`,
        `MY_DB_PORT_6000_UDP=udp://${dbIp}:6000`,
        `MY_DB_PORT_6000_UDP_ADDR=${dbIp}`,
        `MY_DB_PORT_6000_UDP_PORT=6000`,
        `MY_DB_PORT_6000_UDP_PROTO=udp`,
      ].sort(),
    );
    expect(hosts).toContain(`${dbIp}\tmy-db ${dbHost} ${db}\n`);
    expect((await berthd.dockerOk(['inspect', '-f', '{{json .HostConfig.Links}}', web])).trim()).toBe(JSON.stringify([`/${db}:/${web}/my-db`]));
    // A link to a stopped container cannot start; to a missing one cannot be created.
    await berthd.dockerOk(['stop', '-t', '0', db]);
    const r = await berthd.docker(['start', web]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`Cannot link to a non running container: /${db} AS /${web}/my-db`);
    const missing = await berthd.docker(['create', '--link', 'nosuch-ctr:x', 'busybox']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('could not get container for nosuch-ctr');
  } finally {
    await berthd.docker(['rm', '-f', web, db]);
  }
});

test('--network host, none and container:<id>; --hostname, --dns, --add-host incl. host-gateway', async ({ berthd }) => {
  const host = await berthd.dockerOk(['run', '--rm', '--network', 'host', 'busybox', 'sh', '-c', 'hostname; ls /sys/class/net']);
  const [hn, ...ifs] = host.trim().split('\n');
  expect(hn).toBe(os.hostname());
  expect(ifs).toContain(berthd.net!.bridge);
  const none = await berthd.dockerOk(['run', '--rm', '--network', 'none', 'busybox', 'sh', '-c', 'ls /sys/class/net; cat /sys/class/net/lo/operstate; ip route']);
  expect(none.trim().split('\n').slice(0, 1)).toEqual(['lo']);
  expect(none).not.toContain('eth0');
  expect(none).not.toContain('default');
  const owner = uniq('nsowner');
  await berthd.dockerOk(['run', '-d', '--name', owner, 'busybox', 'sleep', '60']);
  try {
    const ip = (await berthd.dockerOk(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', owner])).trim();
    const joined = await berthd.dockerOk(['run', '--rm', '--network', `container:${owner}`, 'busybox', 'ip', 'addr', 'show', 'eth0']);
    expect(joined).toContain(`inet ${ip}/`);
  } finally {
    await berthd.docker(['rm', '-f', owner]);
  }
  const gw = (await berthd.dockerOk(['network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'bridge'])).trim();
  const out = await berthd.dockerOk(['run', '--rm', '-h', 'myhost.example', '--dns', '10.9.8.7', '--dns-search', 'corp.test', '--add-host', 'db.local:10.1.2.3', '--add-host', 'hostgw:host-gateway', 'busybox', 'sh', '-c', 'hostname; cat /etc/resolv.conf /etc/hosts']);
  expect(out).toMatch(/^myhost\.example\n/);
  expect(out).toContain('nameserver 10.9.8.7\n');
  expect(out).toContain('search corp.test\n');
  expect(out).toContain('10.1.2.3\tdb.local\n');
  expect(out).toContain(`${gw}\thostgw\n`);
  expect(out).toMatch(/\d+\.\d+\.\d+\.\d+\tmyhost\.example\n/);
  const bad = await berthd.docker(['run', '--rm', '--ip', '10.1.1.1', 'busybox', 'true']);
  expect(bad.code).toBe(125);
  expect(bad.stderr).toContain('user-specified IP address is supported on user-defined networks only');
});

test('an unknown network or container:<x> fails the start, not the create (no pull attempt)', async ({ berthd }) => {
  const [a, b] = [uniq('nonet'), uniq('noctr')];
  try {
    const r = await berthd.docker(['run', '--name', a, '--network', 'no-such-network', 'busybox', 'true']);
    expect(r.code).toBe(125);
    expect(r.stderr).not.toContain('Unable to find image');
    expect(r.stderr).toContain('network no-such-network not found');
    expect((await berthd.dockerOk(['inspect', '-f', '{{.State.Status}}', a])).trim()).toBe('created');
    const r2 = await berthd.docker(['run', '--name', b, '--network', 'container:no-such-container', 'busybox', 'true']);
    expect(r2.code).toBe(125);
    expect(r2.stderr).not.toContain('Unable to find image');
    expect(r2.stderr).toContain('joining network namespace of container: No such container: no-such-container');
  } finally {
    await berthd.docker(['rm', '-f', a, b]);
  }
});

test('the network namespace is made by berthd (SandboxKey, as Docker) and goes with the container', async ({ berthd }) => {
  const name = uniq('nsbox');
  const id = (await berthd.dockerOk(['run', '-d', '--name', name, 'busybox', 'sleep', '60'])).trim();
  const key = (await berthd.dockerOk(['inspect', '-f', '{{.NetworkSettings.SandboxKey}}', name])).trim();
  expect(key).toBe(path.join(berthd.execRoot, 'netns', id));
  const pid = (await berthd.dockerOk(['inspect', '-f', '{{.State.Pid}}', name])).trim();
  // The container runs in that namespace: same inode as its process's.
  expect(fs.statSync(key).ino).toBe(fs.statSync(`/proc/${pid}/ns/net`).ino);
  // Its eth0 was configured before the process ran: the first command already sees the address.
  expect(await berthd.dockerOk(['run', '--rm', 'busybox', 'sh', '-c', 'ip -4 -o addr show eth0 | wc -l; ip route | grep -c default'])).toBe('1\n1\n');
  await berthd.dockerOk(['stop', '-t', '0', name]);
  expect(fs.existsSync(key)).toBe(false);
  expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(key);
  await berthd.dockerOk(['rm', name]);
});
