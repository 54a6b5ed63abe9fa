/**
 * Published ports through the Berth VM, end to end with real QEMU (tcg here): the stock docker CLI
 * through the VM's socket runs containers in the guest, and their ports answer on the host —
 * `-p` on 0.0.0.0 (IPv4 and IPv6 loopback), `-p 127.0.0.1:…` loopback-only, UDP, `-P` with the
 * number the engine reports, Docker Desktop's message for a port taken on the host (the container
 * not started), the listener gone when the container stops, forwards back after a VM restart and
 * after a host sleep (the guest's clock set again), and docker-compose v1 bringing up a two-service
 * project. One VM for the file (restarted twice); tests in order.
 */
import { execFile, execFileSync, type ExecFileException } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { busyboxTar, distDir, repoRoot } from '../support/paths.js';
import { ensurePrivateVmImage, vmUnavailable } from '../support/vm-image.js';

test.describe.configure({ mode: 'serial' });

const berthCli = path.join(distDir, 'electron', 'cli', 'berth.js');
const IMAGE = 'berth-vm-busybox:1';
const UDP_IMAGE = 'berth-vm-udp-echo:1';
let home: string;
let env: NodeJS.ProcessEnv;
let dockerSocket: string;
let runDir: string;
const pids: { qemu?: number; hostAgent?: number } = {};
const blockers: net.Server[] = [];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], o: { timeoutMs?: number; extraEnv?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...env, ...(o.extraEnv ?? {}) }, timeout: o.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, ...(o.cwd ? { cwd: o.cwd } : {}) }, (err: ExecFileException | null, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
const berth = (args: string[], timeoutMs?: number) => run(process.execPath, [berthCli, ...args], timeoutMs ? { timeoutMs } : {});
const docker = (args: string[], timeoutMs?: number) => run('docker', args, { timeoutMs: timeoutMs ?? 300_000, extraEnv: { DOCKER_HOST: `unix://${dockerSocket}` } });

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function readPid(file: string): number | undefined {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}

/** A port free on the host for both TCP and UDP right now (the kernel's pick). */
async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '0.0.0.0', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = dgram.createSocket('udp4');
      u.once('error', () => resolve(false));
      u.bind(port, '0.0.0.0', () => u.close(() => resolve(true)));
    });
    if (udpFree) return port;
  }
}

function httpGet(host: string, port: number, timeoutMs = 10_000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host, port, path: '/', timeout: timeoutMs, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/** The page's body, or the error's text: for polling until a container's server is up. */
async function page(host: string, port: number): Promise<string> {
  try {
    const r = await httpGet(host, port);
    return r.status === 200 ? r.body.trim() : `HTTP ${r.status}`;
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

function tcpConnects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Local addresses listening on a TCP port on this host (from /proc/net/tcp{,6}). */
function listeners(port: number): string[] {
  const out: string[] = [];
  for (const [file, v6] of [
    ['/proc/net/tcp', false],
    ['/proc/net/tcp6', true],
  ] as const) {
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 4 || f[3] !== '0A') continue;
      const [hex = '', p = ''] = f[1]!.split(':');
      if (parseInt(p, 16) !== port) continue;
      if (!v6) out.push(hex.match(/../g)!.reverse().map((b) => parseInt(b, 16)).join('.'));
      else out.push(hex === '00000000000000000000000000000000' ? '::' : hex === '00000000000000000000000001000000' ? '::1' : hex);
    }
  }
  return out.sort();
}

/** One UDP request through the published port; undefined when nothing came back in time. */
function udpAsk(port: number, text: string, host = '127.0.0.1', timeoutMs = 2000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const s = dgram.createSocket(net.isIPv6(host) ? 'udp6' : 'udp4');
    const t = setTimeout(() => {
      s.close();
      resolve(undefined);
    }, timeoutMs);
    s.on('message', (m) => {
      clearTimeout(t);
      s.close();
      resolve(m.toString());
    });
    s.on('error', () => undefined);
    s.send(text, port, host);
  });
}

const httpdCmd = (text: string) => ['sh', '-c', `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`];

test.beforeAll(async () => {
  test.setTimeout(20 * 60_000);
  const why = await vmUnavailable('amd64');
  if (why) {
    console.log(`[vm-ports] e2e/vm is skipped on this machine: ${why} (scripts/install-system-deps.sh installs it)`);
    test.skip(true, why);
  }
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'bvmp-'));
  env = {
    ...process.env,
    BERTH_HOME: home,
    // This run's own build: a restart must not boot another run's guest from the shared store.
    BERTH_VM_IMAGES: path.join(home, 'vm-images'),
    DOCKER_CONFIG: path.join(home, 'docker'),
    BERTH_VM_CPUS: '2',
    BERTH_VM_MEMORY_MIB: '1024',
    BERTH_VM_DISK_GIB: '8',
    BERTH_VM_ARCH: 'amd64',
  };
  runDir = path.join(home, 'run', 'vm-default');
  dockerSocket = path.join(runDir, 'docker.sock');
  const r = await ensurePrivateVmImage(path.join(home, 'vm-images'), 'amd64', (m) => console.log(`[vm-ports] ${m}`));
  console.log(`[vm-ports] image: ${r.summary}`);
  await startVm();
  const imp = await docker(['import', busyboxTar, IMAGE]);
  expect(imp.code, imp.stderr).toBe(0);
  // busybox has no UDP server: a static echo program made here, as its own image.
  const udpDir = path.join(home, 'udp-echo');
  fs.mkdirSync(udpDir);
  execFileSync('gcc', ['-static', '-Os', '-o', path.join(udpDir, 'udp-echo'), path.join(repoRoot, 'e2e', 'support', 'udp-echo.c')]);
  execFileSync('tar', ['-C', udpDir, '-cf', path.join(home, 'udp-echo.tar'), 'udp-echo']);
  const udp = await docker(['import', path.join(home, 'udp-echo.tar'), UDP_IMAGE]);
  expect(udp.code, udp.stderr).toBe(0);
});

// A failed test prints the end of the VM's console (a guest kernel oops or panic shows there).
test.afterEach(async ({}, info) => {
  if (info.status === info.expectedStatus || !home) return;
  const consoleLog = await berth(['vm', 'logs', '--tail', '60']);
  console.log(`[vm-ports] after "${info.title}" failed, the VM console:\n${consoleLog.stdout}`);
});

test.afterAll(async () => {
  for (const b of blockers) b.close();
  if (!home) return;
  // What the host agent said about ports: the first place to look when a test here failed.
  try {
    for (const file of ['vm-default.log', 'vm-default-console.log']) {
      const lines = fs.readFileSync(path.join(home, 'logs', file), 'utf8').split('\n').filter((l) => l.includes('ports:'));
      if (lines.length) console.log(`[vm-ports] ${file}:\n${lines.slice(-40).join('\n')}`);
    }
  } catch {
    // no log
  }
  if (alive(pids.hostAgent) || alive(pids.qemu)) await berth(['vm', 'stop'], 120_000);
  for (const pid of [pids.qemu, pids.hostAgent]) if (alive(pid)) process.kill(pid!, 'SIGKILL');
  fs.rmSync(home, { recursive: true, force: true });
});

async function startVm(): Promise<void> {
  const start = await berth(['vm', 'start'], 10 * 60_000);
  console.log(`[vm-ports] ${start.stdout.trim()}`);
  expect(start.code, `${start.stdout}\n${start.stderr}`).toBe(0);
  pids.qemu = readPid(path.join(runDir, 'qemu.pid'));
  pids.hostAgent = readPid(path.join(runDir, 'host-agent.pid'));
}

let webPort = 0;

test('-p HOST:80 listens on the host when docker run -d returns, on 0.0.0.0 and [::], and serves the page on IPv4 and IPv6 loopback', async () => {
  test.setTimeout(6 * 60_000);
  webPort = await freePort();
  const r = await docker(['run', '-d', '--name', 'web', '-p', `${webPort}:80`, IMAGE, ...httpdCmd('hello-from-the-vm')]);
  const returned = performance.now();
  expect(r.code, r.stderr).toBe(0);
  // The host listener is there as the CLI returns (bound before the container started).
  expect(await tcpConnects('127.0.0.1', webPort)).toBe(true);
  const listenerMs = performance.now() - returned;
  expect(listeners(webPort)).toEqual(['0.0.0.0', '::']);
  await expect.poll(() => page('127.0.0.1', webPort), { timeout: 120_000, intervals: [50] }).toBe('hello-from-the-vm');
  console.log(`[vm-ports] host listener answered ${listenerMs.toFixed(0)} ms after docker run -d returned; the page ${(performance.now() - returned).toFixed(0)} ms after (httpd starting in the guest under tcg)`);
  expect(await page('::1', webPort)).toBe('hello-from-the-vm');
  expect(await page('localhost', webPort)).toBe('hello-from-the-vm');
  const port = await docker(['port', 'web', '80/tcp']);
  expect(port.stdout).toContain(`0.0.0.0:${webPort}`);
});

test('-p 127.0.0.1:HOST:80 stays on the loopback', async () => {
  test.setTimeout(6 * 60_000);
  const p = await freePort();
  const r = await docker(['run', '-d', '--name', 'local-only', '-p', `127.0.0.1:${p}:80`, IMAGE, ...httpdCmd('loopback-only')]);
  expect(r.code, r.stderr).toBe(0);
  expect(listeners(p)).toEqual(['127.0.0.1', '::1']);
  await expect.poll(() => page('127.0.0.1', p), { timeout: 120_000, intervals: [100] }).toBe('loopback-only');
  expect(await page('::1', p)).toBe('loopback-only');
  expect((await docker(['rm', '-f', 'local-only'])).code).toBe(0);
});

test('-p HOST:PORT/udp carries datagrams both ways', async () => {
  test.setTimeout(6 * 60_000);
  const p = await freePort();
  const r = await docker(['run', '-d', '--name', 'udp', '-p', `${p}:9999/udp`, UDP_IMAGE, '/udp-echo', '9999']);
  expect(r.code, r.stderr).toBe(0);
  await expect.poll(() => udpAsk(p, 'ping-1'), { timeout: 120_000, intervals: [200] }).toBe('echo:ping-1');
  // More datagrams on the same flow, and a second client address (a second flow); IPv6 loopback too.
  expect(await udpAsk(p, 'x'.repeat(1200))).toBe(`echo:${'x'.repeat(1200)}`);
  expect(await udpAsk(p, 'ping-v6', '::1')).toBe('echo:ping-v6');
  expect((await docker(['port', 'udp', '9999/udp'])).stdout).toContain(`0.0.0.0:${p}`);
  expect((await docker(['rm', '-f', 'udp'])).code).toBe(0);
});

test('-P publishes on the host the port number the engine reports', async () => {
  test.setTimeout(6 * 60_000);
  const r = await docker(['run', '-d', '--name', 'random', '-P', '--expose', '80', IMAGE, ...httpdCmd('random-port')]);
  expect(r.code, r.stderr).toBe(0);
  const port = await docker(['port', 'random', '80/tcp']);
  const m = /0\.0\.0\.0:(\d+)/.exec(port.stdout);
  expect(m, port.stdout).not.toBeNull();
  const p = Number(m![1]);
  expect(listeners(p)).toContain('0.0.0.0');
  await expect.poll(() => page('127.0.0.1', p), { timeout: 120_000, intervals: [100] }).toBe('random-port');
  expect((await docker(['rm', '-f', 'random'])).code).toBe(0);
});

test("a port taken on the host fails docker run and docker start with Docker Desktop's message, and the container does not start", async () => {
  test.setTimeout(6 * 60_000);
  const p = await freePort();
  const blocker = net.createServer((s) => s.end('not berth\n'));
  blockers.push(blocker);
  await new Promise<void>((resolve) => blocker.listen(p, '0.0.0.0', () => resolve()));
  const message = `Ports are not available: exposing port TCP 0.0.0.0:${p} -> 0.0.0.0:0: listen tcp 0.0.0.0:${p}: bind: address already in use`;
  const r = await docker(['run', '-d', '--name', 'clash', '-p', `${p}:80`, IMAGE, ...httpdCmd('clash')]);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain(`Error response from daemon: ${message}`);
  const state = await docker(['inspect', '--format', '{{.State.Status}} {{.State.Running}}', 'clash']);
  expect(state.stdout.trim()).toBe('created false');
  const start = await docker(['start', 'clash']);
  expect(start.code).not.toBe(0);
  expect(start.stderr).toContain(message);
  expect((await docker(['inspect', '--format', '{{.State.Running}}', 'clash'])).stdout.trim()).toBe('false');
  // Still the other program's port.
  expect(listeners(p)).toEqual(['0.0.0.0']);
  // Once it is free, the same container starts and serves.
  await new Promise<void>((resolve) => blocker.close(() => resolve()));
  const again = await docker(['start', 'clash']);
  expect(again.code, again.stderr).toBe(0);
  await expect.poll(() => page('127.0.0.1', p), { timeout: 120_000, intervals: [100] }).toBe('clash');
  expect((await docker(['rm', '-f', 'clash'])).code).toBe(0);
});

test('docker stop closes the host listener', async () => {
  test.setTimeout(4 * 60_000);
  const stop = await docker(['stop', '-t', '1', 'web']);
  expect(stop.code, stop.stderr).toBe(0);
  await expect.poll(() => listeners(webPort), { timeout: 10_000, intervals: [50] }).toEqual([]);
  expect(await tcpConnects('127.0.0.1', webPort)).toBe(false);
});

test('after a VM restart the forwards of the containers that come back are re-established (from the engine state)', async () => {
  test.setTimeout(15 * 60_000);
  const p = await freePort();
  const r = await docker(['run', '-d', '--name', 'always', '--restart', 'always', '-p', `${p}:80`, IMAGE, ...httpdCmd('back-again')]);
  expect(r.code, r.stderr).toBe(0);
  await expect.poll(() => page('127.0.0.1', p), { timeout: 120_000, intervals: [100] }).toBe('back-again');
  const restart = await berth(['vm', 'restart'], 12 * 60_000);
  expect(restart.code, `${restart.stdout}\n${restart.stderr}`).toBe(0);
  pids.qemu = readPid(path.join(runDir, 'qemu.pid'));
  await expect.poll(() => page('127.0.0.1', p), { timeout: 180_000, intervals: [250] }).toBe('back-again');
  expect(listeners(p)).toEqual(['0.0.0.0', '::']);
  // The stopped `web` container did not come back, nor did its port.
  expect(listeners(webPort)).toEqual([]);
  // And the restarted web container gets its port again.
  expect((await docker(['start', 'web'])).code).toBe(0);
  await expect.poll(() => page('127.0.0.1', webPort), { timeout: 120_000, intervals: [100] }).toBe('hello-from-the-vm');
  expect((await docker(['rm', '-f', 'always', 'web'])).code).toBe(0);
  await expect.poll(() => listeners(p), { timeout: 10_000 }).toEqual([]);
});

/**
 * A host sleep as the host agent lives it: its wall clock jumps ahead while its monotonic clock
 * does not (suspend stops CLOCK_MONOTONIC on Linux and macOS), and the guest, whose clock runs on
 * QEMU's monotonic time, falls behind by the same amount. This machine cannot suspend, so the
 * agent runs under libfaketime (only the wall clock, only for node) with an offset read from a file.
 */
function fakeClockEnv(offsetFile: string): NodeJS.ProcessEnv {
  const lib = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1'].find((f) => fs.existsSync(f));
  if (!lib) throw new Error('libfaketime is not installed (scripts/install-system-deps.sh installs it)');
  fs.writeFileSync(offsetFile, '+0\n');
  return { LD_PRELOAD: lib, FAKETIME_TIMESTAMP_FILE: offsetFile, FAKETIME_DONT_FAKE_MONOTONIC: '1', FAKETIME_CACHE_DURATION: '1', FAKETIME_ONLY_CMDS: 'node' };
}

const hostLog = () => fs.readFileSync(path.join(home, 'logs', 'vm-default.log'), 'utf8');

/** The guest's clock (berthd's SystemTime) minus the host's, in seconds. */
async function guestClockAhead(): Promise<number> {
  const r = await docker(['info', '--format', '{{.SystemTime}}']);
  expect(r.code, r.stderr).toBe(0);
  return (Date.parse(r.stdout.trim()) - Date.now()) / 1000;
}

test('after the host sleeps, the guest clock is set again and a forward that could not open is reconciled from the engine state', async () => {
  test.setTimeout(15 * 60_000);
  const q = await freePort();
  const r = await docker(['run', '-d', '--name', 'sleeper', '--restart', 'always', '-p', `${q}:80`, IMAGE, ...httpdCmd('awake')]);
  expect(r.code, r.stderr).toBe(0);
  await expect.poll(() => page('127.0.0.1', q), { timeout: 120_000, intervals: [100] }).toBe('awake');
  expect((await berth(['vm', 'stop'], 120_000)).code).toBe(0);
  // While the VM is down something else takes the port: the container comes back with the next start, its forward cannot open.
  const blocker = net.createServer();
  blockers.push(blocker);
  await new Promise<void>((resolve) => blocker.listen(q, '0.0.0.0', resolve));
  const offsetFile = path.join(home, 'host-clock-offset');
  const start = await run(process.execPath, [berthCli, 'vm', 'start'], { timeoutMs: 10 * 60_000, extraEnv: fakeClockEnv(offsetFile) });
  expect(start.code, `${start.stdout}\n${start.stderr}`).toBe(0);
  pids.qemu = readPid(path.join(runDir, 'qemu.pid'));
  pids.hostAgent = readPid(path.join(runDir, 'host-agent.pid'));
  await expect.poll(() => hostLog().includes(`failed tcp/0.0.0.0/${q}`), { timeout: 60_000 }).toBe(true);
  await new Promise<void>((resolve) => blocker.close(() => resolve()));
  expect(await tcpConnects('127.0.0.1', q)).toBe(false);
  expect(Math.abs(await guestClockAhead())).toBeLessThan(2);

  // The host sleeps 40 s and wakes: the next 2 s check sees the jump, long before the 30 s periodic reconcile.
  fs.writeFileSync(offsetFile, '+40\n');
  await expect.poll(() => page('127.0.0.1', q), { timeout: 10_000, intervals: [100] }).toBe('awake');
  const log = hostLog();
  expect(log).toMatch(new RegExp(`ports: reconciled \\(the host resumed from sleep\\): opened [^\\n]*tcp/0.0.0.0/${q}`));
  // The guest was set to the agent's (now 40 s ahead) clock: it had been 40 s behind it.
  expect(log).toMatch(/guest clock set \(the host resumed from sleep; it was off by (39|40|41)\d{3} ms\)/);
  expect(Math.abs((await guestClockAhead()) - 40)).toBeLessThan(2);
  const status = await berth(['vm', 'status']);
  expect(status.stdout).toContain('running');

  // The clock steps back (an NTP correction, or here the offset removed): no jump ahead, so the periodic drift check sets the guest.
  fs.writeFileSync(offsetFile, '+0\n');
  await expect.poll(() => guestClockAhead().then((d) => Math.abs(d) < 2), { timeout: 45_000, intervals: [1000] }).toBe(true);
  expect(hostLog()).toMatch(/guest clock set \(drift of (39|40|41)\d{3} ms/);
  expect((await docker(['rm', '-f', 'sleeper'])).code).toBe(0);
  await expect.poll(() => listeners(q), { timeout: 10_000 }).toEqual([]);
});

test('docker-compose v1 brings up a two-service project whose published port answers on the host', async () => {
  test.setTimeout(10 * 60_000);
  const compose = '/usr/bin/docker-compose';
  test.skip(!fs.existsSync(compose), 'docker-compose v1 is not installed (scripts/install-system-deps.sh installs it)');
  const p = await freePort();
  const dir = path.join(home, 'compose-web');
  fs.mkdirSync(dir);
  // TODO(lead): the bind-mounted folder part of this project (issue 12) belongs to the vm-folders branch.
  fs.writeFileSync(
    path.join(dir, 'docker-compose.yml'),
    [
      "version: '2.4'",
      'services:',
      '  backend:',
      `    image: ${IMAGE}`,
      `    command: ["sh", "-c", "mkdir -p /www && echo from-the-backend > /www/index.html && exec httpd -f -p 80 -h /www"]`,
      '  frontend:',
      `    image: ${IMAGE}`,
      '    depends_on: [backend]',
      `    ports: ["${p}:80"]`,
      `    command: ["sh", "-c", "mkdir -p /www; until wget -q -O /www/index.html http://backend/; do sleep 1; done; exec httpd -f -p 80 -h /www"]`,
      '',
    ].join('\n'),
  );
  const cenv = { DOCKER_HOST: `unix://${dockerSocket}`, COMPOSE_PROJECT_NAME: 'bvmports' };
  const up = await run(compose, ['up', '-d'], { cwd: dir, extraEnv: cenv, timeoutMs: 300_000 });
  expect(up.code, `${up.stdout}\n${up.stderr}`).toBe(0);
  // Bound through berthd's hook before the frontend started, not left to a later reconcile.
  expect(listeners(p)).toEqual(['0.0.0.0', '::']);
  await expect.poll(() => page('127.0.0.1', p), { timeout: 180_000, intervals: [250] }).toBe('from-the-backend');
  const down = await run(compose, ['down'], { cwd: dir, extraEnv: cenv, timeoutMs: 300_000 });
  expect(down.code, `${down.stdout}\n${down.stderr}`).toBe(0);
  await expect.poll(() => listeners(p), { timeout: 10_000 }).toEqual([]);
});

test('the VM stops with no forward left behind', async () => {
  test.setTimeout(4 * 60_000);
  const stop = await berth(['vm', 'stop'], 180_000);
  expect(stop.code, stop.stderr).toBe(0);
  await expect.poll(() => alive(pids.hostAgent), { timeout: 30_000 }).toBe(false);
});
