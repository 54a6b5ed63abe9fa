/**
 * Networking under load and across crashes: 50 containers with published
 * ports started at once (all reachable, no port or address collision) and
 * removed with nothing left behind; address leases given back; after a
 * kill -9 of berthd, a restart reconciles rules, ports and interfaces.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import { test, expect, uniq } from '../support/fixtures.js';
import { hostState } from '../support/netstate.js';
import { freePort } from '../support/netns.js';

const HTTPD = ['sh', '-c', 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www'];

function curl(url: string): Promise<{ code: number; body: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '-m', '5', '--retry', '5', '--retry-delay', '0', '--retry-connrefused', url], { encoding: 'utf8' }, (err, stdout) => resolve({ code: err ? -1 : 0, body: stdout }));
  });
}

function portIsFree(port: number, host = '0.0.0.0'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

test('50 containers publishing ports start concurrently, all reachable, then leave nothing behind', async ({ freshBerthd: berthd }) => {
  test.setTimeout(300_000);
  const before = hostState(berthd);
  const prefix = uniq('load');
  const names = Array.from({ length: 50 }, (_, i) => `${prefix}-${i}`);
  try {
    const runs = await Promise.all(names.map((n) => berthd.docker(['run', '-d', '--name', n, '-p', '80', 'busybox', ...HTTPD], { timeout: 240_000 })));
    for (const [i, r] of runs.entries()) expect(r.code, `${names[i]}: ${r.stderr}`).toBe(0);
    const infos = JSON.parse(await berthd.dockerOk(['inspect', ...names])) as Array<{ Name: string; Config: { Hostname: string }; NetworkSettings: { IPAddress: string; Ports: Record<string, Array<{ HostPort: string }>> } }>;
    const ports = infos.map((c) => Number(c.NetworkSettings.Ports['80/tcp']![0]!.HostPort));
    const ips = infos.map((c) => c.NetworkSettings.IPAddress);
    expect(new Set(ports).size).toBe(50);
    expect(new Set(ips).size).toBe(50);
    // Every port reaches its own container.
    const bodies = await Promise.all(ports.map((p) => curl(`http://127.0.0.1:${p}/`)));
    for (const [i, b] of bodies.entries()) expect(b.body.trim(), `port ${ports[i]}`).toBe(infos[i]!.Config.Hostname);
    const during = hostState(berthd);
    expect(during.links.filter((l) => l.startsWith('veth'))).toHaveLength(50);
    expect(during.rules.filter((l) => l.includes('-j DNAT'))).toHaveLength(50);
    // Each published port is held by a socket inside berthd (no proxy process per port): one per
    // binding, i.e. 0.0.0.0 and, on a host with IPv6, its [::] twin (as dockerd 20.10+ publishes).
    const bindings = infos.reduce((n, c) => n + c.NetworkSettings.Ports['80/tcp']!.length, 0);
    expect(bindings === 50 || bindings === 100, `${bindings} bindings`).toBe(true);
    expect(during.listeners.length).toBe(before.listeners.length + bindings);
    expect(during.monitors).toBe(before.monitors + 50);
    // Remove them all at once.
    await berthd.dockerOk(['rm', '-f', ...names], { timeout: 240_000 });
    // Rules are removed right after the containers (in the background of their exit).
    await expect.poll(() => hostState(berthd), { timeout: 10_000 }).toEqual(before);
    for (const p of ports) expect(await portIsFree(p), `port ${p} still held`).toBe(true);
  } finally {
    await berthd.docker(['rm', '-f', ...names], { timeout: 240_000 });
  }
});

test('addresses are leased back: a /26 network serves more containers over time than it has addresses', async ({ berthd }) => {
  test.setTimeout(240_000);
  const base = berthd.net!.config.bip.split('.').slice(0, 2).join('.');
  const third = Number(berthd.net!.config.bip.split('.')[2]) + 13;
  const netName = uniq('small');
  await berthd.dockerOk(['network', 'create', '--subnet', `${base}.${third}.0/26`, netName]);
  try {
    for (let round = 0; round < 2; round++) {
      const names = Array.from({ length: 35 }, (_, i) => `${netName}-r${round}-${i}`);
      const runs = await Promise.all(names.map((n) => berthd.docker(['run', '-d', '--name', n, '--network', netName, 'busybox', 'sleep', '60'], { timeout: 120_000 })));
      for (const r of runs) expect(r.code, r.stderr).toBe(0);
      const ips = (await berthd.dockerOk(['inspect', '-f', `{{(index .NetworkSettings.Networks "${netName}").IPAddress}}`, ...names])).trim().split('\n');
      expect(new Set(ips).size).toBe(35);
      await berthd.dockerOk(['rm', '-f', ...names], { timeout: 120_000 });
    }
  } finally {
    await berthd.docker(['network', 'rm', netName]);
  }
});

test('after kill -9 of berthd, a restart drops what died and keeps what runs', async ({ freshBerthd: berthd }) => {
  test.setTimeout(120_000);
  const before = hostState(berthd);
  const [p1, p2] = [await freePort(), await freePort()];
  const [keep, die] = [uniq('keep'), uniq('die')];
  await berthd.dockerOk(['run', '-d', '--name', keep, '-p', `${p1}:80`, 'busybox', ...HTTPD]);
  await berthd.dockerOk(['run', '-d', '--name', die, '-p', `${p2}:80`, 'busybox', ...HTTPD]);
  const dieId = (await berthd.dockerOk(['inspect', '-f', '{{.Id}}', die])).trim();
  expect((await curl(`http://127.0.0.1:${p2}/`)).code).toBe(0);
  await berthd.kill9();
  // While berthd is down, one container dies.
  await new Promise<void>((resolve, reject) =>
    execFile('runc', ['--root', `${berthd.execRoot}/runc`, 'kill', dieId, 'KILL'], (err) => (err ? reject(err) : resolve())),
  );
  await new Promise((r) => setTimeout(r, 500));
  await berthd.launch();
  await expect
    .poll(async () => (await berthd.dockerOk(['inspect', '-f', '{{.State.Status}}', die])).trim(), { timeout: 15_000 })
    .toBe('exited');
  // The survivor still serves and still holds its port; the dead one's port, rule and veth are gone.
  expect((await curl(`http://127.0.0.1:${p1}/`)).code).toBe(0);
  expect(await portIsFree(p1)).toBe(false);
  expect(await portIsFree(p2)).toBe(true);
  const mid = hostState(berthd);
  expect(mid.rules.filter((l) => l.includes(`--dport ${p2} `))).toEqual([]);
  expect(mid.rules.filter((l) => l.includes(`--dport ${p1} `))).toHaveLength(1);
  expect(mid.links.filter((l) => l.startsWith('veth'))).toHaveLength(1);
  await berthd.dockerOk(['rm', '-f', keep, die]);
  await expect.poll(() => hostState(berthd), { timeout: 10_000 }).toEqual(before);
});
